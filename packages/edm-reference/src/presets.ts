/**
 * The four columns of Karras et al. 2022, Table 1, each complete: schedule sigma(t) and
 * scaling s(t), time discretization, ODE solver, preconditioning, training noise
 * distribution and loss weight lambda(sigma).
 *
 * | preset | sigma(t)                       | s(t)                 | t_i                                   | solver | training sigma                    | lambda(sigma)                |
 * | VP     | sqrt(e^(bd t^2/2 + bmin t)-1)  | 1/sqrt(1+sigma^2)    | 1 + i/(N-1)(eps_s - 1)                | Euler  | sigma^-1(sigma) ~ U(eps_t, 1)     | 1/sigma^2                    |
 * | VE     | sqrt(t)                        | 1                    | smax^2 (smin^2/smax^2)^(i/(N-1))      | Euler  | ln sigma ~ U(ln smin, ln smax)    | 1/sigma^2                    |
 * | iDDPM  | t                              | 1                    | u_j(i), j_0 = 8                       | Euler  | sigma = u_j, j ~ U{0..M-1}        | 1/sigma^2                    |
 * | EDM    | t                              | 1                    | (smax^(1/rho) + i/(N-1)(smin^(1/rho) - smax^(1/rho)))^rho | Heun | ln sigma ~ N(P_mean, P_std^2) | (sigma^2+sd^2)/(sigma sd)^2 |
 *
 * Parameters default to the paper's: VP beta_d 19.9, beta_min 0.1, epsilon_s 1e-3,
 * epsilon_t 1e-5, M 1000; VE sigma 0.02..100; iDDPM C_1 0.001, C_2 0.008, M 1000; EDM
 * sigma 0.002..80, rho 7, sigma_data 0.5, P_mean -1.2, P_std 1.2.
 */
import { ArgumentError, libm, fastExp } from "@edmkit/core";
import type { Denoiser } from "@edmkit/core";
import { edmSigmas, iddpmSigmas, iddpmTable, veTimes, vpTimes, withFinalZero } from "./discretization.js";
import {
  edmPreconditioning,
  iddpmPreconditioning,
  preconditionedDenoiser,
  type Preconditioning,
  type RawNetwork,
  vePreconditioning,
  vpPreconditioning,
} from "./precond.js";
import { linearSchedule, type Schedule, veSchedule, vpSchedule } from "./schedule.js";

export type PresetName = "vp" | "ve" | "iddpm" | "edm";
/** The solvers of the general sampler: Euler, Heun (alpha = 1) and the midpoint rule (alpha = 1/2). */
export const solvers = ["euler", "heun", "midpoint"] as const;
export type Solver = (typeof solvers)[number];

/** Where training noise levels come from: one uniform [0,1) and one unit normal per draw. */
export interface UniformNormalSource {
  uniform(): number;
  normal(): number;
}

export interface TrainingSpec {
  /** The distribution in words (Table 1). */
  readonly distribution: string;
  /** Draw a training noise level. */
  sampleSigma(rng: UniformNormalSource): number;
  /** The loss weight lambda(sigma). */
  lossWeight(sigma: number): number;
}

export interface RangeOptions {
  sigmaMin?: number;
  sigmaMax?: number;
}

export interface Preset {
  readonly name: PresetName;
  readonly params: Readonly<Record<string, number>>;
  readonly schedule: Schedule;
  /** The paper's ODE solver for this column. */
  readonly solver: Solver;
  /** Default sampling range. */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  /** The discretization as noise levels sigma_0 > ... > sigma_{N-1} (N values). */
  sigmaSteps(numSteps: number, range?: RangeOptions): Float64Array;
  /** The discretization in this preset's own time: t_0 > ... > t_{N-1} > t_N = 0 (N + 1 values). */
  timeSteps(numSteps: number, range?: RangeOptions): Float64Array;
  readonly precond: Preconditioning;
  /** Wrap a raw network F with this preset's preconditioning. */
  denoiserFromNetwork(F: RawNetwork): Denoiser;
  readonly training: TrainingSpec;
}

function range(p: { sigmaMin: number; sigmaMax: number }, r: RangeOptions = {}) {
  return { sigma_min: r.sigmaMin ?? p.sigmaMin, sigma_max: r.sigmaMax ?? p.sigmaMax };
}

export interface VpPresetParams {
  beta_d?: number;
  beta_min?: number;
  epsilon_s?: number;
  epsilon_t?: number;
  M?: number;
}

/**
 * VP (Song et al. 2021). Its discretization is defined in time (linear from 1 to
 * epsilon_s); a custom range `{sigmaMin, sigmaMax}` is honoured by choosing the VP
 * time range [sigma^-1(sigmaMin), sigma^-1(sigmaMax)] instead of [epsilon_s, 1].
 */
export function vpPreset(p: VpPresetParams = {}): Preset {
  const params = {
    beta_d: p.beta_d ?? 19.9,
    beta_min: p.beta_min ?? 0.1,
    epsilon_s: p.epsilon_s ?? 1e-3,
    epsilon_t: p.epsilon_t ?? 1e-5,
    M: p.M ?? 1000,
  };
  const schedule = vpSchedule(params);
  const precond = vpPreconditioning(params);
  const inv = schedule.sigmaInv!;
  const base = { sigmaMin: schedule.sigma(params.epsilon_s), sigmaMax: schedule.sigma(1) };
  const times = (n: number, r: RangeOptions = {}) => {
    const tMax = r.sigmaMax !== undefined ? inv(r.sigmaMax) : 1;
    const tMin = r.sigmaMin !== undefined ? inv(r.sigmaMin) : params.epsilon_s;
    const unit = vpTimes(n, { epsilon_s: params.epsilon_s });
    if (tMax === 1 && tMin === params.epsilon_s) return unit;
    return unit.map((_, i) => tMax + (i / (n - 1)) * (tMin - tMax));
  };
  return {
    name: "vp",
    params,
    schedule,
    solver: "euler",
    ...base,
    sigmaSteps: (n, r) => times(n, r).map(schedule.sigma),
    timeSteps: (n, r) => withFinalZero(times(n, r)),
    precond,
    denoiserFromNetwork: (F) => preconditionedDenoiser(F, precond),
    training: {
      distribution: `sigma^-1(sigma) ~ U(epsilon_t=${params.epsilon_t}, 1)`,
      sampleSigma: (rng) => schedule.sigma(1 + rng.uniform() * (params.epsilon_t - 1)),
      lossWeight: (s) => 1 / (s * s),
    },
  };
}

export interface VePresetParams {
  sigma_min?: number;
  sigma_max?: number;
}

/** VE (Song et al. 2021): sigma(t) = sqrt t, geometric noise levels. */
export function vePreset(p: VePresetParams = {}): Preset {
  const params = { sigma_min: p.sigma_min ?? 0.02, sigma_max: p.sigma_max ?? 100 };
  const schedule = veSchedule();
  const precond = vePreconditioning(params);
  const base = { sigmaMin: params.sigma_min, sigmaMax: params.sigma_max };
  const times = (n: number, r?: RangeOptions) => veTimes(n, range(base, r));
  const lnMin = libm.log(params.sigma_min),
    lnMax = libm.log(params.sigma_max);
  return {
    name: "ve",
    params,
    schedule,
    solver: "euler",
    ...base,
    sigmaSteps: (n, r) => times(n, r).map(Math.sqrt),
    timeSteps: (n, r) => withFinalZero(times(n, r)),
    precond,
    denoiserFromNetwork: (F) => preconditionedDenoiser(F, precond),
    training: {
      distribution: `ln(sigma) ~ U(ln ${params.sigma_min}, ln ${params.sigma_max})`,
      sampleSigma: (rng) => fastExp(lnMin + rng.uniform() * (lnMax - lnMin)),
      lossWeight: (s) => 1 / (s * s),
    },
  };
}

export interface IddpmPresetParams {
  C_1?: number;
  C_2?: number;
  M?: number;
}

/** iDDPM (Nichol & Dhariwal 2021): sigma(t) = t over the u_j table; sampling range 0.002..81 (j_0 = 8). */
export function iddpmPreset(p: IddpmPresetParams = {}): Preset {
  const params = { C_1: p.C_1 ?? 0.001, C_2: p.C_2 ?? 0.008, M: p.M ?? 1000 };
  const schedule = linearSchedule("iddpm");
  const precond = iddpmPreconditioning(params);
  const u = iddpmTable(params);
  const base = { sigmaMin: 0.002, sigmaMax: 81 };
  const sigmas = (n: number, r?: RangeOptions) => iddpmSigmas(n, { ...params, ...range(base, r) });
  return {
    name: "iddpm",
    params,
    schedule,
    solver: "euler",
    ...base,
    sigmaSteps: sigmas,
    timeSteps: (n, r) => withFinalZero(sigmas(n, r)),
    precond,
    denoiserFromNetwork: (F) => preconditionedDenoiser(F, precond),
    training: {
      distribution: `sigma = u_j, j ~ U{0, ..., ${params.M - 1}}`,
      sampleSigma: (rng) => u[Math.min(params.M - 1, Math.floor(rng.uniform() * params.M))],
      lossWeight: (s) => 1 / (s * s),
    },
  };
}

export interface EdmPresetParams {
  sigma_min?: number;
  sigma_max?: number;
  rho?: number;
  sigma_data?: number;
  P_mean?: number;
  P_std?: number;
}

/** EDM (Karras et al. 2022): sigma(t) = t, s = 1, rho-spaced levels, Heun. */
export function edmPreset(p: EdmPresetParams = {}): Preset {
  const params = {
    sigma_min: p.sigma_min ?? 0.002,
    sigma_max: p.sigma_max ?? 80,
    rho: p.rho ?? 7,
    sigma_data: p.sigma_data ?? 0.5,
    P_mean: p.P_mean ?? -1.2,
    P_std: p.P_std ?? 1.2,
  };
  const schedule = linearSchedule("edm");
  const precond = edmPreconditioning({ sigma_data: params.sigma_data });
  const base = { sigmaMin: params.sigma_min, sigmaMax: params.sigma_max };
  const sigmas = (n: number, r?: RangeOptions) => edmSigmas(n, { ...range(base, r), rho: params.rho });
  const sd2 = params.sigma_data * params.sigma_data;
  return {
    name: "edm",
    params,
    schedule,
    solver: "heun",
    ...base,
    sigmaSteps: sigmas,
    timeSteps: (n, r) => withFinalZero(sigmas(n, r)),
    precond,
    denoiserFromNetwork: (F) => preconditionedDenoiser(F, precond),
    training: {
      distribution: `ln(sigma) ~ N(P_mean=${params.P_mean}, P_std=${params.P_std}^2)`,
      sampleSigma: (rng) => fastExp(params.P_mean + params.P_std * rng.normal()),
      lossWeight: (s) => (s * s + sd2) / (s * params.sigma_data) ** 2,
    },
  };
}

/** The four presets with the paper's parameters. */
export const presets: Readonly<Record<PresetName, Preset>> = Object.freeze({
  vp: vpPreset(),
  ve: vePreset(),
  iddpm: iddpmPreset(),
  edm: edmPreset(),
});

/** A preset by name (error listing the names) or as given. */
export function resolvePreset(p: PresetName | Preset, who = "resolvePreset"): Preset {
  if (typeof p !== "string") return p;
  const found = (presets as Record<string, Preset>)[p];
  if (!found)
    throw new ArgumentError(
      `${who}: unknown preset '${p}', expected one of ${Object.keys(presets).join(", ")}`,
    );
  return found;
}
