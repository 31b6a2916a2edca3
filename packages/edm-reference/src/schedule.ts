/**
 * Noise schedules sigma(t) and scalings s(t) (Karras et al. 2022, eq. 4 and Table 1).
 *
 * The sampled process is x(t) = s(t) (y + sigma(t) n), y ~ data, n ~ N(0, I), and its
 * probability-flow ODE is
 *
 *   dx/dt = (sigma'(t)/sigma(t) + s'(t)/s(t)) x - sigma'(t) s(t)/sigma(t) D(x/s(t); sigma(t)).
 *
 * A schedule is an object holding sigma, s, their time derivatives and (optionally) the
 * inverse of sigma. `defineSchedule` builds one from sigma(t) and s(t) alone: derivatives
 * not given come from forward-mode automatic differentiation (dual.ts); derivatives given
 * are used as given. The inverse is needed only where a sampler must turn a noise level
 * back into a time (churn, discretizations defined in sigma); it is never approximated.
 */
import { ArgumentError, libm } from "@edmkit/core";
import { derivative, numberMath, type ScalarFunction } from "./dual.js";

export interface Schedule {
  readonly name: string;
  sigma(t: number): number;
  sigmaDeriv(t: number): number;
  /** t such that sigma(t) = sigma; absent when the schedule has none. */
  readonly sigmaInv?: (sigma: number) => number;
  s(t: number): number;
  sDeriv(t: number): number;
  /**
   * True when sigma(t) = t and s(t) = 1 exactly (the EDM / iDDPM schedule). The ODE is then
   * dx/dt = (x - D(x; t)) / t and samplers use that form directly.
   */
  readonly identity?: boolean;
}

/** A function of t on plain numbers (allowed where its derivative is given). */
export type NumberFunction = (t: number) => number;

export interface ScheduleSpec {
  name?: string;
  /** sigma(t), written over the numeric interface unless `sigmaDeriv` is given. */
  sigma: ScalarFunction | NumberFunction;
  /** s(t); default 1. Written over the numeric interface unless `sDeriv` is given. */
  s?: ScalarFunction | NumberFunction;
  sigmaDeriv?: NumberFunction;
  sDeriv?: NumberFunction;
  sigmaInv?: NumberFunction;
}

/**
 * A schedule from sigma(t), s(t) and whatever derivatives / inverse the caller has.
 * Missing derivatives are computed by automatic differentiation at each call.
 */
export function defineSchedule(spec: ScheduleSpec): Schedule {
  const name = spec.name ?? "custom";
  if (typeof spec.sigma !== "function") {
    throw new ArgumentError(`defineSchedule: sigma must be a function of t, got ${typeof spec.sigma}`);
  }
  if (spec.s !== undefined && typeof spec.s !== "function") {
    throw new ArgumentError(`defineSchedule: s must be a function of t or absent, got ${typeof spec.s}`);
  }
  const sigmaF = spec.sigma as ScalarFunction;
  const sigma = (t: number): number => sigmaF(t, numberMath);
  const sigmaDeriv = spec.sigmaDeriv ?? ((t: number) => derivative(sigmaF, t));
  let s: (t: number) => number, sDeriv: (t: number) => number;
  if (spec.s === undefined) {
    if (spec.sDeriv !== undefined) throw new ArgumentError("defineSchedule: sDeriv given without s");
    s = () => 1;
    sDeriv = () => 0;
  } else {
    const sF = spec.s as ScalarFunction;
    s = (t) => sF(t, numberMath);
    sDeriv = spec.sDeriv ?? ((t: number) => derivative(sF, t));
  }
  return { name, sigma, sigmaDeriv, sigmaInv: spec.sigmaInv, s, sDeriv };
}

/** The schedule's inverse, or a clear error naming who needs it and why. */
export function requireInverse(schedule: Schedule, who: string, why: string): (sigma: number) => number {
  if (!schedule.sigmaInv) {
    throw new ArgumentError(
      `${who}: schedule '${schedule.name}' has no sigmaInv (inverse of sigma(t)), which ${why} requires; give sigmaInv in defineSchedule`,
    );
  }
  return schedule.sigmaInv;
}

/** sigma(t) = t, s(t) = 1: the EDM schedule (also iDDPM's). */
export function linearSchedule(name = "edm"): Schedule {
  return {
    name,
    identity: true,
    sigma: (t) => t,
    sigmaDeriv: () => 1,
    sigmaInv: (sigma) => sigma,
    s: () => 1,
    sDeriv: () => 0,
  };
}

export interface VpParams {
  /** beta_d, default 19.9 */
  beta_d?: number;
  /** beta_min, default 0.1 */
  beta_min?: number;
}

/**
 * The VP schedule: sigma(t) = sqrt(e^(beta_d t^2 / 2 + beta_min t) - 1),
 * s(t) = 1 / sqrt(e^(beta_d t^2 / 2 + beta_min t)) = 1 / sqrt(1 + sigma^2), with analytic
 * derivatives sigma' = (beta_d t + beta_min)(sigma + 1/sigma)/2, s' = -sigma sigma' s^3 and
 * inverse t = (sqrt(beta_min^2 + 2 beta_d log(1 + sigma^2)) - beta_min) / beta_d.
 * expm1 / log1p (core's correctly rounded ones) keep small t accurate.
 */
export function vpSchedule(params: VpParams = {}): Schedule {
  const beta_d = params.beta_d ?? 19.9,
    beta_min = params.beta_min ?? 0.1;
  if (!(beta_d > 0) || !Number.isFinite(beta_d))
    throw new ArgumentError(`vpSchedule: beta_d must be a positive number, got ${beta_d}`);
  if (!Number.isFinite(beta_min))
    throw new ArgumentError(`vpSchedule: beta_min must be a finite number, got ${beta_min}`);
  const sigma = (t: number) => Math.sqrt(libm.expm1(0.5 * beta_d * t * t + beta_min * t));
  const sigmaDeriv = (t: number) => {
    const sg = sigma(t);
    return 0.5 * (beta_min + beta_d * t) * (sg + 1 / sg);
  };
  const s = (t: number) => {
    const sg = sigma(t);
    return 1 / Math.sqrt(1 + sg * sg);
  };
  return {
    name: "vp",
    sigma,
    sigmaDeriv,
    sigmaInv: (sg) => (Math.sqrt(beta_min * beta_min + 2 * beta_d * libm.log1p(sg * sg)) - beta_min) / beta_d,
    s,
    sDeriv: (t) => {
      const st = s(t);
      return -sigma(t) * sigmaDeriv(t) * (st * st * st);
    },
  };
}

/** The VP schedule's sigma(t) over the numeric interface (for automatic derivatives). */
export function vpSigmaFunction(params: VpParams = {}): ScalarFunction {
  const beta_d = params.beta_d ?? 19.9,
    beta_min = params.beta_min ?? 0.1;
  return (t, m) => m.sqrt(m.expm1(m.add(m.mul(0.5 * beta_d, m.square(t)), m.mul(beta_min, t))));
}

/** The VP scaling s(t) = e^(-(beta_d t^2/2 + beta_min t)/2) over the numeric interface. */
export function vpScaleFunction(params: VpParams = {}): ScalarFunction {
  const beta_d = params.beta_d ?? 19.9,
    beta_min = params.beta_min ?? 0.1;
  return (t, m) => m.exp(m.mul(-0.5, m.add(m.mul(0.5 * beta_d, m.square(t)), m.mul(beta_min, t))));
}

/** The VE schedule: sigma(t) = sqrt(t), s(t) = 1; sigma' = 1/(2 sqrt t), inverse t = sigma^2. */
export function veSchedule(): Schedule {
  return {
    name: "ve",
    sigma: (t) => Math.sqrt(t),
    sigmaDeriv: (t) => 0.5 / Math.sqrt(t),
    sigmaInv: (sg) => sg * sg,
    s: () => 1,
    sDeriv: () => 0,
  };
}
