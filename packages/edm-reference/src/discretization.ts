/**
 * Time discretizations t_0 > t_1 > ... > t_{N-1} > t_N = 0 (Karras et al. 2022, Table 1).
 *
 * A sampler runs on a time grid. Users give any strictly decreasing grid ending in 0
 * (`validateTimeSteps`), or a list of noise levels that the schedule's inverse turns into
 * times (`timeStepsFromSigmas`), or use the paper's four discretizations:
 *
 * - VP:    t_i = 1 + i/(N-1) (epsilon_s - 1)                          (in VP time)
 * - VE:    t_i = sigma_max^2 (sigma_min^2 / sigma_max^2)^(i/(N-1))     (in VE time, sigma = sqrt t)
 * - iDDPM: sigma_i = u_{j(i)} from the DDPM table u_M = 0,
 *          u_{j-1} = sqrt((u_j^2 + 1) / max(abar_{j-1}/abar_j, C_1) - 1), abar_j = sin^2(pi j / (2 M (C_2 + 1)))
 * - EDM:   sigma_i = (sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho
 *
 * The formulas take a `ScalarMath` so the NVlabs reproduction can evaluate the very same
 * arithmetic with correctly rounded functions.
 */
import { ArgumentError, roundHalfEven, torchMath } from "@edmkit/core";
import { type ScalarMath, correctlyRoundedMath } from "./scalar-math.js";
import type { Schedule } from "./schedule.js";
import { requireInverse } from "./schedule.js";

function checkSteps(who: string, n: number, min = 2): void {
  if (!Number.isInteger(n) || n < min) {
    throw new ArgumentError(`${who}: numSteps must be an integer >= ${min}, got ${n}`);
  }
}

/**
 * Check a user grid t_0..t_N: at least two points, finite, strictly decreasing (or, with
 * `allowRepeated`, non-increasing), t_N = 0. Returns a Float64Array copy.
 */
export function validateTimeSteps(
  t: ArrayLike<number>,
  who = "validateTimeSteps",
  allowRepeated = false,
): Float64Array {
  if (!t || typeof t.length !== "number" || t.length < 2) {
    throw new ArgumentError(
      `${who}: timeSteps must hold at least two times t_0 > ... > t_N = 0, got ${t?.length ?? 0}`,
    );
  }
  const out = Float64Array.from(t);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]))
      throw new ArgumentError(`${who}: timeSteps must be finite, got t[${i}]=${out[i]}`);
    if (i > 0 && !(out[i] < out[i - 1] || (allowRepeated && out[i] === out[i - 1]))) {
      const what = allowRepeated ? "non-increasing" : "strictly decreasing";
      throw new ArgumentError(
        `${who}: timeSteps must be ${what}, got t[${i}]=${out[i]} ${allowRepeated ? ">" : ">="} t[${i - 1}]=${out[i - 1]}`,
      );
    }
  }
  const last = out[out.length - 1];
  if (last !== 0)
    throw new ArgumentError(`${who}: timeSteps must end in t_N = 0, got t[${out.length - 1}]=${last}`);
  return out;
}

/** Append t_N = 0 to N times. */
export function withFinalZero(t: ArrayLike<number>): Float64Array {
  const out = new Float64Array(t.length + 1);
  out.set(Array.from(t));
  return out;
}

/**
 * Noise levels sigma_0 > ... > sigma_{N-1} > 0 to times t_i = sigmaInv(round(sigma_i)),
 * followed by t_N = 0. Needs the schedule's inverse.
 */
export function timeStepsFromSigmas(
  schedule: Schedule,
  sigmas: ArrayLike<number>,
  roundSigma: (sigma: number) => number = (s) => s,
  who = "timeStepsFromSigmas",
  allowRepeated = false,
): Float64Array {
  if (sigmas.length < 1) throw new ArgumentError(`${who}: sigmaSteps must hold at least one noise level`);
  const inv = requireInverse(schedule, who, "a discretization given in noise levels");
  const t = new Float64Array(sigmas.length + 1);
  for (let i = 0; i < sigmas.length; i++) {
    if (!(sigmas[i] > 0) || !Number.isFinite(sigmas[i])) {
      throw new ArgumentError(`${who}: sigmaSteps must be positive and finite, got sigma[${i}]=${sigmas[i]}`);
    }
    t[i] = inv(roundSigma(sigmas[i]));
  }
  return validateTimeSteps(t, who, allowRepeated);
}

export interface VpDiscretizationParams {
  /** epsilon_s, the last time before 0; default 1e-3 */
  epsilon_s?: number;
}

/** VP: t_i = 1 + i/(N-1) (epsilon_s - 1), i = 0..N-1 (N values, without the final 0). */
export function vpTimes(numSteps: number, params: VpDiscretizationParams = {}): Float64Array {
  checkSteps("vpTimes", numSteps);
  const eps = params.epsilon_s ?? 1e-3;
  if (!(eps > 0 && eps < 1)) throw new ArgumentError(`vpTimes: epsilon_s must lie in (0, 1), got ${eps}`);
  const t = new Float64Array(numSteps);
  for (let i = 0; i < numSteps; i++) t[i] = 1 + (i / (numSteps - 1)) * (eps - 1);
  return t;
}

export interface SigmaRange {
  sigma_min: number;
  sigma_max: number;
}

function checkRange(who: string, r: SigmaRange): void {
  if (!(r.sigma_min > 0) || !(r.sigma_max > r.sigma_min) || !Number.isFinite(r.sigma_max)) {
    throw new ArgumentError(
      `${who}: need 0 < sigma_min < sigma_max < inf, got sigma_min=${r.sigma_min}, sigma_max=${r.sigma_max}`,
    );
  }
}

/** VE: t_i = sigma_max^2 (sigma_min^2 / sigma_max^2)^(i/(N-1)) (VE time; sigma_i = sqrt t_i). */
export function veTimes(
  numSteps: number,
  range: SigmaRange = { sigma_min: 0.02, sigma_max: 100 },
  math: ScalarMath = correctlyRoundedMath,
): Float64Array {
  checkSteps("veTimes", numSteps);
  checkRange("veTimes", range);
  const { sigma_min, sigma_max } = range;
  const t = new Float64Array(numSteps);
  for (let i = 0; i < numSteps; i++) {
    t[i] =
      sigma_max * sigma_max * math.pow((sigma_min * sigma_min) / (sigma_max * sigma_max), i / (numSteps - 1));
  }
  return t;
}

/** VE noise levels sigma_i = sqrt(veTimes_i). */
export function veSigmas(
  numSteps: number,
  range: SigmaRange = { sigma_min: 0.02, sigma_max: 100 },
  math: ScalarMath = correctlyRoundedMath,
): Float64Array {
  return veTimes(numSteps, range, math).map(Math.sqrt);
}

export interface EdmDiscretizationParams extends SigmaRange {
  /** rho, default 7 */
  rho?: number;
}

/** EDM: sigma_i = (sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho. */
export function edmSigmas(
  numSteps: number,
  params: EdmDiscretizationParams = { sigma_min: 0.002, sigma_max: 80 },
  math: ScalarMath = correctlyRoundedMath,
): Float64Array {
  checkSteps("edmSigmas", numSteps);
  checkRange("edmSigmas", params);
  const rho = params.rho ?? 7;
  if (!(rho > 0) || !Number.isFinite(rho))
    throw new ArgumentError(`edmSigmas: rho must be a positive number, got ${rho}`);
  const hi = math.pow(params.sigma_max, 1 / rho),
    lo = math.pow(params.sigma_min, 1 / rho);
  const out = new Float64Array(numSteps);
  for (let i = 0; i < numSteps; i++) out[i] = math.pow(hi + (i / (numSteps - 1)) * (lo - hi), rho);
  return out;
}

export interface IddpmParams {
  C_1?: number;
  C_2?: number;
  M?: number;
}

export interface IddpmTableOptions {
  math?: ScalarMath;
  /**
   * Precision of abar_j. "float64" is the math; "float32" reproduces NVlabs' ablation
   * sampler under torch default dtype float32, where abar is evaluated on an integer arange
   * and so comes out in float32 (PROVENANCE quirk 16).
   */
  alphaBarDtype?: "float64" | "float32";
}

const tableCache = new WeakMap<ScalarMath, Map<string, Float64Array>>();

/**
 * The iDDPM noise-level table u_0 > u_1 > ... > u_M = 0 (M + 1 values):
 * u_{j-1} = sqrt((u_j^2 + 1) / max(abar_{j-1} / abar_j, C_1) - 1),
 * abar_j = sin(pi/2 · j / M / (C_2 + 1))^2. Cached; the returned array must not be modified.
 */
export function iddpmTable(params: IddpmParams = {}, opts: IddpmTableOptions = {}): Float64Array {
  const C_1 = params.C_1 ?? 0.001,
    C_2 = params.C_2 ?? 0.008,
    M = params.M ?? 1000;
  if (!Number.isInteger(M) || M < 1)
    throw new ArgumentError(`iddpmTable: M must be a positive integer, got ${M}`);
  if (!(C_1 > 0)) throw new ArgumentError(`iddpmTable: C_1 must be positive, got ${C_1}`);
  if (!(C_2 >= 0)) throw new ArgumentError(`iddpmTable: C_2 must be non-negative, got ${C_2}`);
  const math = opts.math ?? correctlyRoundedMath;
  const f32 = opts.alphaBarDtype === "float32";
  let cache = tableCache.get(math);
  if (!cache) tableCache.set(math, (cache = new Map()));
  const key = `${C_1}/${C_2}/${M}/${f32}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const halfPi = 0.5 * Math.PI;
  let alphaBar: (j: number) => number;
  if (f32) {
    // every operation in float32: the Python float constants are rounded to float32 first
    const r = Math.fround,
      hp = r(halfPi),
      c2 = r(C_2 + 1);
    alphaBar = (j) => {
      // torch's float32 `.sin()` is SLEEF's sinf (core's torch arithmetic)
      const s = torchMath("float32").sin(r(r(r(hp * j) / M) / c2));
      return r(s * s);
    };
  } else {
    alphaBar = (j) => {
      const s = math.sin((halfPi * j) / M / (C_2 + 1));
      return s * s;
    };
  }
  const c1 = f32 ? Math.fround(C_1) : C_1;
  const u = new Float64Array(M + 1);
  let abarJ = alphaBar(M);
  for (let j = M; j > 0; j--) {
    const abarPrev = alphaBar(j - 1);
    let ratio = abarPrev / abarJ;
    if (f32) ratio = Math.fround(ratio);
    if (ratio < c1) ratio = c1;
    u[j - 1] = Math.sqrt((u[j] * u[j] + 1) / ratio - 1);
    abarJ = abarPrev;
  }
  if (cache.size < 32) cache.set(key, u);
  return u;
}

export interface IddpmDiscretizationParams extends IddpmParams, SigmaRange {}

/**
 * iDDPM: the table entries within [sigma_min, sigma_max] (in table order), of which N are
 * picked at indices round((K - 1)/(N - 1) · i), round half to even, K the number kept.
 * With sigma_max = 81 the first kept entry is u_8, matching the paper's j_0 = 8 and its
 * index rule floor(j_0 + (M - 1 - j_0)/(N - 1) · i + 1/2) (the two differ only on exact
 * ties, which the paper rounds up and NVlabs rounds to even).
 */
export function iddpmSigmas(
  numSteps: number,
  params: IddpmDiscretizationParams = { sigma_min: 0.002, sigma_max: 81 },
  opts: IddpmTableOptions = {},
): Float64Array {
  checkSteps("iddpmSigmas", numSteps);
  checkRange("iddpmSigmas", params);
  const u = iddpmTable(params, opts);
  const kept: number[] = [];
  for (let j = 0; j < u.length; j++)
    if (u[j] >= params.sigma_min && u[j] <= params.sigma_max) kept.push(u[j]);
  if (kept.length === 0) {
    throw new ArgumentError(
      `iddpmSigmas: no table entry lies in [sigma_min=${params.sigma_min}, sigma_max=${params.sigma_max}]`,
    );
  }
  const out = new Float64Array(numSteps);
  const scale = (kept.length - 1) / (numSteps - 1);
  for (let i = 0; i < numSteps; i++) out[i] = kept[roundHalfEven(scale * i)];
  return out;
}
