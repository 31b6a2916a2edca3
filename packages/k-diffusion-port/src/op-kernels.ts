/**
 * The single-op tensor kernels of k-diffusion's samplers (they used to be in core's `ops.ts`;
 * only this package uses them): the noise additions `addScaled2/3`, the multistep
 * differences `addScaledDiff(Div)`, Heun's corrector, DPM++ 3M SDE's third-order correction
 * and the LMS sum, each one torch expression of the original. The samplers run the fused step
 * kernels of kernels.ts / sde-kernels.ts instead (one pass per step); these stay as the
 * unfused reference the fused ones are tested against (test/fused-kernels.test.ts), for the
 * churn noise, and for LMS above order 4. The generic ones (`axpy`, `axpby`, `subDiv`, `sub`,
 * `allFinite`) are in core's `ops.ts`.
 *
 * Same contract as core: every kernel writes into a caller-owned `out` (which may alias an
 * input), allocates nothing, and follows torch CPU semantics for `out`'s dtype. In float32
 * each scalar is rounded to float32 and each torch op of the original expression is rounded
 * to float32 in the original's order (the doc comment gives that expression); in float64 the
 * same order of operations is kept, so results match the original to the last bit whenever
 * the scalars do.
 */
import { checkOperands, type Tensor } from "@edmkit/core";

const f = Math.fround;

/**
 * out = x + (n * a) * b, e.g. k-diffusion's `x + noise * s_noise * sigma_up`
 * (float32: round n·a, then ·b, then the sum — three torch ops, left to right).
 */
export function addScaled2(out: Tensor, x: Tensor, n: Tensor, a: number, b: number): Tensor {
  checkOperands("addScaled2", out, x, n);
  const o = out.data,
    xs = x.data,
    ns = n.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const a32 = f(a),
      b32 = f(b);
    for (let k = 0; k < len; k++) o[k] = xs[k] + f(f(ns[k] * a32) * b32);
  } else {
    for (let k = 0; k < len; k++) o[k] = xs[k] + ns[k] * a * b;
  }
  return out;
}

/**
 * out = x + ((n * a) * b) * c, e.g. the noise term of k-diffusion's SDE samplers (noise times
 * σ_next times √(−expm1(−2ηh)) times s_noise)
 * (float32: each product rounded left to right, then the sum)
 */
export function addScaled3(out: Tensor, x: Tensor, n: Tensor, a: number, b: number, c: number): Tensor {
  checkOperands("addScaled3", out, x, n);
  const o = out.data,
    xs = x.data,
    ns = n.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const a32 = f(a),
      b32 = f(b),
      c32 = f(c);
    for (let k = 0; k < len; k++) o[k] = xs[k] + f(f(f(ns[k] * a32) * b32) * c32);
  } else {
    for (let k = 0; k < len; k++) o[k] = xs[k] + ns[k] * a * b * c;
  }
  return out;
}

/** out = x + c * (a - b)   (float32: round the difference, the product, then the sum) */
export function addScaledDiff(out: Tensor, x: Tensor, c: number, a: Tensor, b: Tensor): Tensor {
  checkOperands("addScaledDiff", out, x, a, b);
  const o = out.data,
    xs = x.data,
    as = a.data,
    bs = b.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const c32 = f(c);
    for (let k = 0; k < len; k++) o[k] = xs[k] + f(c32 * f(as[k] - bs[k]));
  } else {
    for (let k = 0; k < len; k++) o[k] = xs[k] + c * (as[k] - bs[k]);
  }
  return out;
}

/** out = x + c * ((a - b) / s)   (float32: difference, quotient, product, sum, each rounded) */
export function addScaledDiffDiv(out: Tensor, x: Tensor, c: number, a: Tensor, b: Tensor, s: number): Tensor {
  checkOperands("addScaledDiffDiv", out, x, a, b);
  const o = out.data,
    xs = x.data,
    as = a.data,
    bs = b.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const c32 = f(c),
      s32 = f(s);
    for (let k = 0; k < len; k++) o[k] = xs[k] + f(c32 * f(f(as[k] - bs[k]) / s32));
  } else {
    for (let k = 0; k < len; k++) o[k] = xs[k] + c * ((as[k] - bs[k]) / s);
  }
  return out;
}

/**
 * Heun's corrector in place: with d_2 = (x_2 - denoised_2) / sigma_next,
 * `x = x + ((d + d_2) / 2) * dt` (k-diffusion's `sample_heun`), rounded per torch op in
 * float32. Returns x.
 */
export function heunCorrector(
  x: Tensor,
  d: Tensor,
  x2: Tensor,
  denoised2: Tensor,
  sigmaNext: number,
  dt: number,
): Tensor {
  checkOperands("heunCorrector", x, d, x2, denoised2);
  const o = x.data,
    ds = d.data,
    xs2 = x2.data,
    dn = denoised2.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const s32 = f(sigmaNext),
      dt32 = f(dt);
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

/**
 * The third-order correction of `sample_dpmpp_3m_sde`, from d1_0 and d1_1 (the two scaled
 * first differences): with q = d1_0 - d1_1,
 * d₁ = d1_0 + q·r₀/(r₀ + r₁), d₂ = q/(r₀ + r₁), and x ← x + φ₂·d₁ − φ₃·d₂.
 * `rsum` is the 0-d tensor `r0 + r1`. The original computes q twice; both give the same value.
 */
export function dpmpp3mCorrection(
  x: Tensor,
  d10: Tensor,
  d11: Tensor,
  r0: number,
  rsum: number,
  phi2: number,
  phi3: number,
): Tensor {
  checkOperands("dpmpp3mCorrection", x, d10, d11);
  const o = x.data,
    p = d10.data,
    q = d11.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const r032 = f(r0),
      rs32 = f(rsum),
      p232 = f(phi2),
      p332 = f(phi3);
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
export function lmsUpdate(
  x: Tensor,
  coeffs: ArrayLike<number>,
  ds: readonly Tensor[],
  order: number,
): Tensor {
  for (let j = 0; j < order; j++) checkOperands("lmsUpdate", x, ds[j]);
  const o = x.data,
    len = o.length;
  if (o instanceof Float32Array) {
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

/** out = (a − b) / s, float32: the difference rounded, then the quotient (core's subDiv). */
export function subDivInto(out: Tensor, a: Tensor, b: Tensor, s: number): void {
  const o = out.data,
    as = a.data,
    bs = b.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const s32 = f(s);
    for (let k = 0; k < len; k++) o[k] = f(as[k] - bs[k]) / s32;
  } else {
    for (let k = 0; k < len; k++) o[k] = (as[k] - bs[k]) / s;
  }
}
