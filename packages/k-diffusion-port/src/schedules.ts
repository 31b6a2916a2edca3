/**
 * Ports of the noise schedules of k-diffusion's `sampling.py`.
 *
 * Every schedule is built the way the original builds it: a `torch.linspace` ramp in torch's
 * default dtype (core `torchLinspace`, which reproduces ATen's AVX2 fill bit for bit: the
 * second half of the points counted back from the end, fused multiply-adds for the per-point
 * rule), then elementwise tensor ops in that dtype,
 * then `append_zero`. `dtype: "float32"` reproduces a run with `torch.set_default_dtype`
 * left at float32 (every op rounded to float32; Python-float constants rounded to float32
 * where they meet the tensor). Results are Float64Arrays holding values of that dtype,
 * with the trailing 0.
 */
import { type DType, torchLinspace, torchMath, libcMath, powTensor } from "@edmkit/core";
import { fail, integer, nonNegative, num, positive } from "./validate.js";

export interface ScheduleOptions {
  /** torch's default dtype while the schedule is built (default "float64"). */
  dtype?: DType;
}

/** Port of `append_zero`: the schedule followed by a 0. */
export function appendZero(sigmas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(sigmas.length + 1);
  for (let i = 0; i < sigmas.length; i++) out[i] = sigmas[i];
  return out;
}

function checkDtype(fn: string, dtype: unknown): DType {
  if (dtype === undefined) return "float64";
  if (dtype !== "float32" && dtype !== "float64")
    fail(fn, `dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`);
  return dtype;
}

function checkRange(fn: string, sigmaMin: number, sigmaMax: number): void {
  if (!(sigmaMax >= sigmaMin)) fail(fn, `sigma_max (${sigmaMax}) must be >= sigma_min (${sigmaMin})`);
}

export interface KarrasOptions extends ScheduleOptions {
  rho?: number;
}

/**
 * Port of `get_sigmas_karras(n, sigma_min, sigma_max, rho=7.)`: the schedule of Karras et
 * al. (2022), `(max^(1/rho) + ramp * (min^(1/rho) - max^(1/rho)))^rho` on
 * `ramp = linspace(0, 1, n)`. The two roots are Python floats (double precision even in a
 * float32 run); the sum and the power are tensor ops (ATen's `pow` takes x*x*x for rho = 3).
 */
export function getSigmasKarras(
  n: number,
  sigmaMin: number,
  sigmaMax: number,
  options: KarrasOptions = {},
): Float64Array {
  const fn = "get_sigmas_karras";
  integer(fn, "n", n, 1);
  nonNegative(fn, "sigma_min", sigmaMin);
  positive(fn, "sigma_max", sigmaMax);
  checkRange(fn, sigmaMin, sigmaMax);
  const rho = positive(fn, "rho", options.rho ?? 7);
  const m = torchMath(checkDtype(fn, options.dtype));
  const ramp = torchLinspace(0, 1, n, m.dtype);
  const minInvRho = libcMath.pow(sigmaMin, 1 / rho);
  const maxInvRho = libcMath.pow(sigmaMax, 1 / rho);
  const span = m.r(minInvRho - maxInvRho);
  const base = m.r(maxInvRho);
  const out = new Float64Array(n + 1);
  const bases = new Float64Array(n);
  for (let k = 0; k < n; k++) bases[k] = m.mulAdd(ramp[k], span, base);
  out.set(powTensor(bases, rho, m.dtype));
  return out;
}

/**
 * Port of `get_sigmas_exponential(n, sigma_min, sigma_max)`:
 * `exp(linspace(log sigma_max, log sigma_min, n))` (the logs are Python floats).
 */
export function getSigmasExponential(
  n: number,
  sigmaMin: number,
  sigmaMax: number,
  options: ScheduleOptions = {},
): Float64Array {
  const fn = "get_sigmas_exponential";
  integer(fn, "n", n, 1);
  positive(fn, "sigma_min", sigmaMin);
  positive(fn, "sigma_max", sigmaMax);
  checkRange(fn, sigmaMin, sigmaMax);
  const m = torchMath(checkDtype(fn, options.dtype));
  const ramp = torchLinspace(libcMath.log(sigmaMax), libcMath.log(sigmaMin), n, m.dtype);
  const out = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) out[k] = m.exp(ramp[k]);
  return out;
}

export interface PolyexponentialOptions extends ScheduleOptions {
  rho?: number;
}

/**
 * Port of `get_sigmas_polyexponential(n, sigma_min, sigma_max, rho=1.)`: a polynomial in
 * log sigma, `exp(linspace(1, 0, n)^rho * (log sigma_max - log sigma_min) + log sigma_min)`.
 */
export function getSigmasPolyexponential(
  n: number,
  sigmaMin: number,
  sigmaMax: number,
  options: PolyexponentialOptions = {},
): Float64Array {
  const fn = "get_sigmas_polyexponential";
  integer(fn, "n", n, 1);
  positive(fn, "sigma_min", sigmaMin);
  positive(fn, "sigma_max", sigmaMax);
  checkRange(fn, sigmaMin, sigmaMax);
  const rho = positive(fn, "rho", options.rho ?? 1);
  const m = torchMath(checkDtype(fn, options.dtype));
  const ramp = torchLinspace(1, 0, n, m.dtype);
  const logMin = libcMath.log(sigmaMin);
  const scale = m.r(libcMath.log(sigmaMax) - logMin);
  const shift = m.r(logMin);
  const powered = powTensor(ramp, rho, m.dtype);
  const out = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) out[k] = m.exp(m.mulAdd(powered[k], scale, shift));
  return out;
}

export interface VpOptions extends ScheduleOptions {
  betaD?: number;
  betaMin?: number;
  epsS?: number;
}

/**
 * Port of `get_sigmas_vp(n, beta_d=19.9, beta_min=0.1, eps_s=1e-3)`: the continuous VP
 * schedule `sqrt(exp(beta_d t^2 / 2 + beta_min t) - 1)` at `t = linspace(1, eps_s, n)`,
 * evaluated in the original's order ((beta_d * t^2) / 2, plus beta_min * t).
 */
export function getSigmasVp(n: number, options: VpOptions = {}): Float64Array {
  const fn = "get_sigmas_vp";
  integer(fn, "n", n, 1);
  const betaD = num(fn, "beta_d", options.betaD ?? 19.9);
  const betaMin = num(fn, "beta_min", options.betaMin ?? 0.1);
  const epsS = positive(fn, "eps_s", options.epsS ?? 1e-3);
  if (!(epsS <= 1)) fail(fn, `eps_s must be <= 1, got ${epsS}`);
  const m = torchMath(checkDtype(fn, options.dtype));
  const { r } = m;
  const t = torchLinspace(1, epsS, n, m.dtype);
  const bd = r(betaD),
    bm = r(betaMin);
  const out = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) {
    const tk = t[k];
    const quad = r(r(bd * r(tk * tk)) / 2);
    out[k] = m.sqrt(r(m.exp(r(quad + r(bm * tk))) - 1));
  }
  return out;
}
