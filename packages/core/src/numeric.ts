/**
 * Numeric helpers with the exact semantics of the torch / numpy functions the originals
 * call. Schedules built with the "same" formula differ in the last bit when these differ,
 * and a last-bit difference can flip a floor() or an argmin downstream.
 */
import { fma32, fma64 } from "./fma.js";
import type { DType } from "./tensor.js";

export const fround = Math.fround;

/** Round every element to float32 (returns a new Float64Array holding float32 values). */
export function roundToFloat32(a: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.fround(a[i]);
  return out;
}

/** Round to `dtype` (identity for float64). */
export function roundTo(dtype: DType, x: number): number {
  return dtype === "float32" ? Math.fround(x) : x;
}

/**
 * Round half to even, as `numpy.round` / `np.rint` / `torch.round` round a double (and as
 * SLEEF's `rint` does inside its vector kernels): the nearest integer, ties to the even one;
 * the sign of zero is kept (`-0.4` and `-0.5` give `-0`), non-finite values pass through.
 * Confirmed against numpy's `round` in diffusers' "trailing" timestep spacing fixtures and
 * NVlabs' iDDPM step indices (edm-reference fixtures).
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x); // nearest, ties up (towards +∞); keeps -0 for x in [-0.5, -0]
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/**
 * `torch.linspace(start, end, steps, dtype=dtype)` on an x86-64 CPU (ATen `linspace_kernel`,
 * AVX2 build), bit for bit. Returns a Float64Array holding values of `dtype`.
 *
 * What ATen does: start and end are converted to the dtype, `step = (end − start) / (steps − 1)`
 * is computed in it, and the range is split at `halfway = floor(steps / 2)`: a point below
 * it is `start + step·i`, one at or above it `end − step·(steps − 1 − i)` (so the second half
 * is counted back from the end and `end` is hit exactly). The contiguous fill runs in chunks
 * of two SIMD vectors (AVX2: 4 doubles or 8 floats each): each vector takes its first element
 * by that rule and fills its lanes with `Vectorized::arange(base, step)`, i.e.
 * `base + lane·step`, even when the vector straddles `halfway`; fewer than two vectors left
 * are filled point by point by the rule.
 *
 * Roundings, as the AVX2 build (compiled with FMA contraction) performs them:
 * - the per-point rule (vector bases and the scalar tail) is one fused multiply-add,
 *   rounded once (`fma32` / `fma64`);
 * - the lanes are not fused: `lane·step` is rounded, then the sum.
 *
 * How this was confirmed, against the reference fixtures (all 8 fused/unfused combinations of
 * base, lanes and tail were tried; this is the only one that reproduces every case):
 * - float32: diffusers' `scaled_linear` alphas_cumprod (1000 points; an unfused base is off
 *   from index 273), every `log_linear` sigma schedule (N + 1 = 2…51 points; fused lanes are
 *   off at N = 20 and 50, an unfused tail at N = 7, 10, 13, 25), k-diffusion's float32
 *   `get_sigmas_karras(10, …)` (an unfused tail moves sigma[6] by 15 float32 ulps);
 * - float64: k-diffusion's `get_sigmas_vp` (n = 10, 12; fused lanes are off at index 3) and
 *   `get_sigmas_karras(10, …, rho=3)` schedules, bit for bit.
 * Ranges of more than 32768 points are split across threads by ATen (`GRAIN_SIZE`), which
 * moves the chunk boundaries with the thread count; this follows the single-thread layout.
 */
export function torchLinspace(
  start: number,
  end: number,
  steps: number,
  dtype: DType = "float64",
): Float64Array {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`torchLinspace: steps must be a non-negative integer, got ${steps}`);
  }
  const out = new Float64Array(steps);
  if (steps === 0) return out;
  const f32 = dtype === "float32";
  const r = f32 ? Math.fround : (x: number) => x;
  const fma = f32 ? fma32 : fma64;
  const s0 = r(start),
    e0 = r(end);
  if (steps === 1) {
    out[0] = s0;
    return out;
  }
  // integer operands are converted to the dtype, as C++ does (exact below 2^24 in float32)
  const step = r(r(e0 - s0) / r(steps - 1));
  const halfway = Math.floor(steps / 2);
  const at = (idx: number): number =>
    idx < halfway ? fma(step, r(idx), s0) : fma(-step, r(steps - idx - 1), e0);
  const vec = f32 ? 8 : 4;
  let i = 0;
  for (; i <= steps - 2 * vec; i += 2 * vec) {
    for (let v = 0; v < 2; v++) {
      const idx = i + v * vec;
      const base = at(idx);
      for (let lane = 0; lane < vec; lane++) out[idx + lane] = r(base + r(lane * step));
    }
  }
  for (; i < steps; i++) out[i] = at(i);
  return out;
}

/**
 * numpy.linspace(start, stop, num, endpoint): `i * step + start` with
 * `step = (stop - start) / div`, and the last point set to `stop` exactly when `endpoint`.
 * (When step is 0 numpy computes `i / div * delta + start` instead.)
 */
export function numpyLinspace(start: number, stop: number, num: number, endpoint = true): Float64Array {
  if (!Number.isInteger(num) || num < 0) {
    throw new RangeError(`numpyLinspace: num must be a non-negative integer, got ${num}`);
  }
  const out = new Float64Array(num);
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  if (div > 0) {
    const step = delta / div;
    if (step === 0) for (let i = 0; i < num; i++) out[i] = (i / div) * delta + start;
    else for (let i = 0; i < num; i++) out[i] = i * step + start;
  } else {
    // num == 1 with endpoint: numpy gives [start] (step NaN is never used)
    for (let i = 0; i < num; i++) out[i] = i * delta + start;
  }
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/**
 * numpy.interp(x, xp, fp) for increasing xp: left/right values outside the range, exact
 * fp[j] at x == xp[j], else `slope * (x - xp[j]) + fp[j]` with
 * `slope = (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])`, as numpy's C loop computes it.
 */
export function numpyInterp(
  x: ArrayLike<number>,
  xp: ArrayLike<number>,
  fp: ArrayLike<number>,
): Float64Array {
  const n = xp.length;
  if (n === 0 || fp.length !== n) {
    throw new RangeError(`numpyInterp: xp (${n}) and fp (${fp.length}) must be non-empty and equal length`);
  }
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) {
      out[i] = v;
      continue;
    }
    if (v < xp[0]) {
      out[i] = fp[0];
      continue;
    }
    if (v > xp[n - 1]) {
      out[i] = fp[n - 1];
      continue;
    }
    if (v === xp[n - 1]) {
      out[i] = fp[n - 1];
      continue;
    }
    // largest j with xp[j] <= v
    let lo = 0,
      hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xp[mid] <= v) lo = mid;
      else hi = mid;
    }
    const j = lo;
    const slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let r = slope * (v - xp[j]) + fp[j];
    if (Number.isNaN(r)) {
      r = slope * (v - xp[j + 1]) + fp[j + 1];
      if (Number.isNaN(r) && fp[j] === fp[j + 1]) r = fp[j];
    }
    out[i] = r;
  }
  return out;
}

/** Distance in units in the last place between two doubles (0 when bit-identical). */
export function ulpDistance(a: number, b: number): number {
  if (a === b) return 0;
  if (Number.isNaN(a) || Number.isNaN(b)) return Infinity;
  const buf = new DataView(new ArrayBuffer(16));
  buf.setFloat64(0, a);
  buf.setFloat64(8, b);
  const ia = ordered(buf.getBigInt64(0)),
    ib = ordered(buf.getBigInt64(8));
  const d = ia > ib ? ia - ib : ib - ia;
  return Number(d);
}

/** Distance in float32 units in the last place between two float32 values (0 when equal). */
export function ulpDistance32(a: number, b: number): number {
  if (a === b) return 0;
  if (Number.isNaN(a) || Number.isNaN(b)) return Infinity;
  F32[0] = a;
  F32[1] = b;
  const ord = (i: number): number => (i < 0 ? -(i & 0x7fffffff) : i);
  return Math.abs(ord(I32[0]) - ord(I32[1]));
}

const F32 = new Float32Array(2);
const I32 = new Int32Array(F32.buffer);

function ordered(i: bigint): bigint {
  return i < 0n ? -(i & 0x7fffffffffffffffn) : i;
}
