/**
 * Timestep spacing and sigma schedules of diffusers' discrete schedulers (`set_timesteps`),
 * with numpy's and torch's arithmetic reproduced: numpy builds timesteps in float64 and casts
 * them to float32, np.interp works in float64, `_sigma_to_t` mixes float32 and float64 under
 * numpy 1.x promotion rules, Karras / exponential / beta sigmas are float64 numpy arrays.
 */
import {
  ArgumentError,
  numpyInterp,
  numpyLinspace,
  roundHalfEven,
  torchExpF32,
  torchLinspace,
  libcMath,
} from "@edmkit/core";
import { numpyLogF32 } from "./float32.js";
import { betaPpf } from "./incomplete-beta.js";

const f = Math.fround;

export type TimestepSpacing = "linspace" | "leading" | "trailing";

/**
 * numpy.arange(start, stop, step) for a float step (numpy 1.x `PyArray_ArangeObj`):
 * length ceil((stop - start) / step); element 0 is start, element 1 is start + step, and the
 * rest are `start + i * delta` with delta re-derived as `(start + step) - start`, which can
 * differ from step in the last bits.
 */
export function numpyArange(start: number, stop: number, step: number): Float64Array {
  if (step === 0 || !Number.isFinite(step))
    throw new ArgumentError(`numpyArange: step must be finite and non-zero, got ${step}`);
  const lenF = (stop - start) / step;
  const len = lenF <= 0 ? 0 : Math.ceil(lenF);
  const out = new Float64Array(len);
  if (len === 0) return out;
  out[0] = start;
  if (len === 1) return out;
  const next = start + step;
  out[1] = next;
  const delta = next - start;
  for (let i = 2; i < len; i++) out[i] = start + i * delta;
  return out;
}

/**
 * The timesteps `set_timesteps` builds from `timestep_spacing` (float32 values, descending):
 * - linspace: `np.linspace(0, T-1, N, dtype=float32)[::-1]` (float64 then float32: N = 3
 *   gives 499.5 in the middle, N = 1 gives [0]);
 * - leading: `(arange(N) * (T // N)).round()[::-1]` as float32, plus steps_offset (with
 *   steps_offset = 1 and N = T the first timestep is T itself);
 * - trailing: `arange(T, 0, -T/N).round() - 1` (numpy's float arange, so a ratio that does
 *   not divide T evenly can produce N + 1 entries).
 * Anything else raises diffusers' ValueError. N = 0 with leading/trailing is Python's
 * ZeroDivisionError in diffusers.
 */
export function spacedTimesteps(
  who: string,
  spacing: string,
  numInferenceSteps: number,
  numTrainTimesteps: number,
  stepsOffset: number,
): Float32Array {
  const N = numInferenceSteps,
    T = numTrainTimesteps;
  switch (spacing) {
    case "linspace": {
      const lin = numpyLinspace(0, T - 1, N);
      const out = new Float32Array(N);
      for (let i = 0; i < N; i++) out[i] = lin[N - 1 - i];
      return out;
    }
    case "leading": {
      if (N === 0)
        throw new ArgumentError(
          `${who}: num_inference_steps must be positive with timestep_spacing "leading" (diffusers divides by it)`,
        );
      const ratio = Math.floor(T / N);
      const out = new Float32Array(N);
      for (let i = 0; i < N; i++) out[i] = f((N - 1 - i) * ratio + f(stepsOffset));
      return out;
    }
    case "trailing": {
      if (N === 0)
        throw new ArgumentError(
          `${who}: num_inference_steps must be positive with timestep_spacing "trailing" (diffusers divides by it)`,
        );
      const ratio = T / N;
      const ar = numpyArange(T, 0, -ratio);
      const out = new Float32Array(ar.length);
      for (let i = 0; i < ar.length; i++) out[i] = f(f(roundHalfEven(ar[i])) - 1);
      return out;
    }
    default:
      throw new ArgumentError(
        `${who}: timestep_spacing ${JSON.stringify(spacing)} is not supported; choose one of "linspace", "leading" or "trailing"`,
      );
  }
}

/** `np.interp(timesteps, np.arange(T), sigma_table)` in float64. */
export function interpolateSigmas(timesteps: ArrayLike<number>, table: Float32Array): Float64Array {
  const xp = new Float64Array(table.length);
  for (let j = 0; j < xp.length; j++) xp[j] = j;
  return numpyInterp(timesteps, xp, table);
}

/**
 * EulerDiscreteScheduler `interpolation_type="log_linear"`:
 * `torch.linspace(log(table[-1]), log(table[0]), N + 1).exp()` in float32 (note N + 1
 * sigmas for N timesteps). The logs are numpy float32 logs of the float32 table.
 */
export function logLinearSigmas(table: Float32Array, numInferenceSteps: number): Float32Array {
  const hi = numpyLogF32(table[table.length - 1]);
  const lo = numpyLogF32(table[0]);
  return torchExpF32(torchLinspace(hi, lo, numInferenceSteps + 1, "float32"));
}

/** numpy float32 `np.log` of the float32 sigma table (the `log_sigmas` of `_sigma_to_t`). */
export function logSigmaTable(table: Float32Array): Float32Array {
  const out = new Float32Array(table.length);
  for (let j = 0; j < out.length; j++) out[j] = numpyLogF32(table[j]);
  return out;
}

/**
 * Port of diffusers `_sigma_to_t(sigma, log_sigmas)` for one scalar sigma, with numpy 1.x
 * promotion: log(max(sigma, 1e-10)) in float64; the bracket is found by comparing its
 * float32 rounding with the float32 table (low index = last entry <= it, clipped to T-2);
 * `w = (low - log_sigma) / (low - high)` is float32 (the scalar is rounded to float32 to meet
 * the float32 arrays), clipped to [0, 1]; `t = (1 - w) * low + w * high` in float64.
 */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const n = logSigmas.length;
  const logSigma = libcMath.log(Math.max(sigma, 1e-10));
  const ls32 = f(logSigma);
  // argmax of the cumulative count of `log_sigma >= log_sigmas[j]`: the last such j, 0 when none
  let lowIdx = 0;
  for (let j = 0; j < n; j++) if (logSigmas[j] <= ls32) lowIdx = j;
  lowIdx = Math.min(lowIdx, n - 2);
  const highIdx = lowIdx + 1;
  const low = logSigmas[lowIdx],
    high = logSigmas[highIdx];
  let w = f(f(low - ls32) / f(low - high));
  w = Math.min(Math.max(w, 0), 1);
  return f(1 - w) * lowIdx + w * highIdx;
}

/**
 * Port of diffusers `_convert_to_karras` (k-diffusion's get_sigmas_karras, rho = 7) on numpy
 * float64: ramp = linspace(0, 1, N); sigma = (max^(1/rho) + ramp (min^(1/rho) - max^(1/rho)))^rho.
 * sigma_min / sigma_max default to the last / first input sigma.
 */
export function karrasSigmas(
  inSigmas: ArrayLike<number>,
  numInferenceSteps: number,
  sigmaMin: number | null,
  sigmaMax: number | null,
): Float64Array {
  const sMin = sigmaMin ?? inSigmas[inSigmas.length - 1];
  const sMax = sigmaMax ?? inSigmas[0];
  const rho = 7.0;
  const ramp = numpyLinspace(0, 1, numInferenceSteps);
  const minInv = libcMath.pow(sMin, 1 / rho),
    maxInv = libcMath.pow(sMax, 1 / rho);
  const out = new Float64Array(numInferenceSteps);
  for (let i = 0; i < out.length; i++) out[i] = libcMath.pow(maxInv + ramp[i] * (minInv - maxInv), rho);
  return out;
}

/** Port of diffusers `_convert_to_exponential`: exp(linspace(log max, log min, N)) in float64. */
export function exponentialSigmas(
  inSigmas: ArrayLike<number>,
  numInferenceSteps: number,
  sigmaMin: number | null,
  sigmaMax: number | null,
): Float64Array {
  const sMin = sigmaMin ?? inSigmas[inSigmas.length - 1];
  const sMax = sigmaMax ?? inSigmas[0];
  const lin = numpyLinspace(libcMath.log(sMax), libcMath.log(sMin), numInferenceSteps);
  return lin.map((v) => libcMath.exp(v));
}

/**
 * Port of diffusers `_convert_to_beta` ("Beta Sampling is All You Need"): sigma_i =
 * min + ppf_i (max - min) with ppf_i = scipy.stats.beta.ppf(1 - linspace(0, 1, N)[i],
 * alpha, beta), alpha = beta = 0.6.
 */
export function betaSigmas(
  inSigmas: ArrayLike<number>,
  numInferenceSteps: number,
  sigmaMin: number | null,
  sigmaMax: number | null,
  alpha = 0.6,
  beta = 0.6,
): Float64Array {
  const sMin = sigmaMin ?? inSigmas[inSigmas.length - 1];
  const sMax = sigmaMax ?? inSigmas[0];
  const lin = numpyLinspace(0, 1, numInferenceSteps);
  const out = new Float64Array(numInferenceSteps);
  for (let i = 0; i < out.length; i++) out[i] = sMin + betaPpf(1 - lin[i], alpha, beta) * (sMax - sMin);
  return out;
}
