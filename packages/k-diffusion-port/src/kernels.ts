/**
 * Elementwise kernels for the sampler updates that core's `ops.ts` does not cover.
 *
 * Same contract as core: every kernel writes into a caller-owned `out` (which may alias an
 * input), allocates nothing, and follows torch CPU semantics for `out`'s dtype. In float32
 * each scalar is rounded to float32 and each torch op of the original expression is rounded
 * to float32 in the original's order (the doc comment gives that expression); in float64 the
 * same order of operations is kept, so results match the original to the last bit whenever
 * the scalars do.
 */
import type { Tensor, TypedArray } from "@edmkit/core";

const f = Math.fround;
const is32 = (a: TypedArray): boolean => a instanceof Float32Array;

function check(name: string, out: Tensor, ...ins: Tensor[]): void {
  const n = out.data.length;
  for (const t of ins) {
    if (t.data.length !== n) {
      throw new RangeError(`${name}: operand of ${t.data.length} elements does not match out of ${n} elements`);
    }
  }
}

/** out = x + (n * a) * b   (e.g. `x + noise * s_noise * sigma_up`) */
export function addScaled2(out: Tensor, x: Tensor, n: Tensor, a: number, b: number): Tensor {
  check("addScaled2", out, x, n);
  const o = out.data, xs = x.data, ns = n.data, len = o.length;
  if (is32(o)) {
    const a32 = f(a), b32 = f(b);
    for (let k = 0; k < len; k++) o[k] = xs[k] + f(f(ns[k] * a32) * b32);
  } else {
    for (let k = 0; k < len; k++) o[k] = xs[k] + ns[k] * a * b;
  }
  return out;
}

/** out = x + ((n * a) * b) * c   (e.g. `x + noise * sigma_next * sqrt(...) * s_noise`) */
export function addScaled3(out: Tensor, x: Tensor, n: Tensor, a: number, b: number, c: number): Tensor {
  check("addScaled3", out, x, n);
  const o = out.data, xs = x.data, ns = n.data, len = o.length;
  if (is32(o)) {
    const a32 = f(a), b32 = f(b), c32 = f(c);
    for (let k = 0; k < len; k++) o[k] = xs[k] + f(f(f(ns[k] * a32) * b32) * c32);
  } else {
    for (let k = 0; k < len; k++) o[k] = xs[k] + ns[k] * a * b * c;
  }
  return out;
}

/** out = x + c * (a - b) */
export function addScaledDiff(out: Tensor, x: Tensor, c: number, a: Tensor, b: Tensor): Tensor {
  check("addScaledDiff", out, x, a, b);
  const o = out.data, xs = x.data, as = a.data, bs = b.data, len = o.length;
  if (is32(o)) {
    const c32 = f(c);
    for (let k = 0; k < len; k++) o[k] = xs[k] + f(c32 * f(as[k] - bs[k]));
  } else {
    for (let k = 0; k < len; k++) o[k] = xs[k] + c * (as[k] - bs[k]);
  }
  return out;
}

/** out = x + c * ((a - b) / s) */
export function addScaledDiffDiv(out: Tensor, x: Tensor, c: number, a: Tensor, b: Tensor, s: number): Tensor {
  check("addScaledDiffDiv", out, x, a, b);
  const o = out.data, xs = x.data, as = a.data, bs = b.data, len = o.length;
  if (is32(o)) {
    const c32 = f(c), s32 = f(s);
    for (let k = 0; k < len; k++) o[k] = xs[k] + f(c32 * f(f(as[k] - bs[k]) / s32));
  } else {
    for (let k = 0; k < len; k++) o[k] = xs[k] + c * ((as[k] - bs[k]) / s);
  }
  return out;
}

/**
 * The third-order correction of `sample_dpmpp_3m_sde`, from d1_0 and d1_1 (the two scaled
 * first differences): with q = d1_0 - d1_1,
 * `d1 = d1_0 + q * r0 / (r0 + r1)`, `d2 = q / (r0 + r1)`, `x = x + phi_2 * d1 - phi_3 * d2`.
 * `rsum` is the 0-d tensor `r0 + r1`. The original computes q twice; both give the same value.
 */
export function dpmpp3mCorrection(
  x: Tensor, d10: Tensor, d11: Tensor, r0: number, rsum: number, phi2: number, phi3: number,
): Tensor {
  check("dpmpp3mCorrection", x, d10, d11);
  const o = x.data, p = d10.data, q = d11.data, len = o.length;
  if (is32(o)) {
    const r032 = f(r0), rs32 = f(rsum), p232 = f(phi2), p332 = f(phi3);
    for (let k = 0; k < len; k++) {
      const diff = f(p[k] - q[k]);
      const d1 = f(p[k] + f(f(diff * r032) / rs32));
      const d2 = f(diff / rs32);
      o[k] = f(o[k] + f(p232 * d1)) - f(p332 * d2);
    }
  } else {
    for (let k = 0; k < len; k++) {
      const diff = p[k] - q[k];
      const d1 = p[k] + (diff * r0) / rsum;
      const d2 = diff / rsum;
      o[k] = o[k] + phi2 * d1 - phi3 * d2;
    }
  }
  return x;
}

/**
 * The LMS update `x = x + sum(coeff * d for coeff, d in zip(coeffs, reversed(ds)))`:
 * Python's `sum` starts from 0 and adds the products left to right; `ds[0]` here is the
 * newest derivative (the original's `ds[-1]`).
 */
export function lmsUpdate(x: Tensor, coeffs: ArrayLike<number>, ds: readonly Tensor[], order: number): Tensor {
  for (let j = 0; j < order; j++) check("lmsUpdate", x, ds[j]);
  const o = x.data, len = o.length;
  if (is32(o)) {
    for (let k = 0; k < len; k++) {
      let acc = f(f(coeffs[0]) * ds[0].data[k]);
      for (let j = 1; j < order; j++) acc = f(acc + f(f(coeffs[j]) * ds[j].data[k]));
      o[k] = o[k] + acc;
    }
  } else {
    for (let k = 0; k < len; k++) {
      let acc = coeffs[0] * ds[0].data[k];
      for (let j = 1; j < order; j++) acc = acc + coeffs[j] * ds[j].data[k];
      o[k] = o[k] + acc;
    }
  }
  return x;
}

/**
 * The Euler update `x = x + to_d(x, sigma, denoised) * dt` in one pass:
 * x + ((x - denoised) / sigma) * dt, rounded per op like the three torch ops.
 */
export function eulerStep(x: Tensor, denoised: Tensor, sigma: number, dt: number): Tensor {
  check("eulerStep", x, denoised);
  const o = x.data, d = denoised.data, len = o.length;
  if (is32(o)) {
    const s32 = f(sigma), dt32 = f(dt);
    for (let k = 0; k < len; k++) o[k] = o[k] + f(f(f(o[k] - d[k]) / s32) * dt32);
  } else {
    for (let k = 0; k < len; k++) o[k] = o[k] + ((o[k] - d[k]) / sigma) * dt;
  }
  return x;
}

/** True when every element is finite (one monomorphic loop per array type). */
export function isAllFinite(a: TypedArray): boolean {
  if (a instanceof Float32Array) {
    for (let k = 0, len = a.length; k < len; k++) if (a[k] - a[k] !== 0) return false;
  } else {
    for (let k = 0, len = a.length; k < len; k++) if (a[k] - a[k] !== 0) return false;
  }
  return true;
}

/**
 * Heun's corrector in one pass: with d_2 = (x_2 - denoised_2) / sigma_next,
 * `x = x + ((d + d_2) / 2) * dt`, rounded per op like the original's torch ops.
 */
export function heunCorrector(x: Tensor, d: Tensor, x2: Tensor, denoised2: Tensor, sigmaNext: number, dt: number): Tensor {
  check("heunCorrector", x, d, x2, denoised2);
  const o = x.data, ds = d.data, xs2 = x2.data, dn = denoised2.data, len = o.length;
  if (is32(o)) {
    const s32 = f(sigmaNext), dt32 = f(dt);
    for (let k = 0; k < len; k++) {
      const d2 = f(f(xs2[k] - dn[k]) / s32);
      o[k] = o[k] + f(f(f(ds[k] + d2) / 2) * dt32);
    }
  } else {
    for (let k = 0; k < len; k++) {
      const d2 = (xs2[k] - dn[k]) / sigmaNext;
      o[k] = o[k] + ((ds[k] + d2) / 2) * dt;
    }
  }
  return x;
}
