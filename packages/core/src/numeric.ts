/**
 * Numeric helpers with the exact semantics of the torch / numpy functions the originals
 * call. Schedules built with the "same" formula differ in the last bit when these differ,
 * and a last-bit difference can flip a floor() or an argmin downstream.
 */
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
 * torch.linspace(start, end, steps) on CPU.
 *
 * ATen computes `step = (end - start) / (steps - 1)` in the output dtype and splits the
 * range at `halfway = floor(steps / 2)`: an index below it is `start + step * idx`, one at or
 * above it is `end - step * (steps - 1 - idx)`. The contiguous fill is vectorized: chunks of
 * two SIMD vectors (AVX2: 4 doubles or 8 floats per vector) take a base value by that rule at
 * the vector's first index and then add `lane * step` to it, so inside a vector that
 * straddles `halfway` the later lanes are still counted from the start. The scalar tail
 * (fewer than two vectors left) uses the per-index rule.
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
  const r = dtype === "float32" ? Math.fround : (x: number) => x;
  const s0 = r(start), e0 = r(end);
  if (steps === 1) {
    out[0] = s0;
    return out;
  }
  const step = r(r(e0 - s0) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const at = (idx: number): number =>
    idx < halfway ? r(s0 + r(step * idx)) : r(e0 - r(step * (steps - idx - 1)));
  const vec = dtype === "float32" ? 8 : 4;
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
export function numpyLinspace(
  start: number,
  stop: number,
  num: number,
  endpoint = true,
): Float64Array {
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
    if (Number.isNaN(v)) { out[i] = v; continue; }
    if (v < xp[0]) { out[i] = fp[0]; continue; }
    if (v > xp[n - 1]) { out[i] = fp[n - 1]; continue; }
    if (v === xp[n - 1]) { out[i] = fp[n - 1]; continue; }
    // largest j with xp[j] <= v
    let lo = 0, hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xp[mid] <= v) lo = mid; else hi = mid;
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
  const ia = ordered(buf.getBigInt64(0)), ib = ordered(buf.getBigInt64(8));
  const d = ia > ib ? ia - ib : ib - ia;
  return Number(d);
}

function ordered(i: bigint): bigint {
  return i < 0n ? -(i & 0x7fffffffffffffffn) : i;
}
