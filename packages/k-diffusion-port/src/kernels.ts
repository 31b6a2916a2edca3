/**
 * The tensor update kernels of k-diffusion's samplers (they used to be in core's `ops.ts`;
 * only this package uses them): the noise additions `addScaled2/3`, the multistep
 * differences `addScaledDiff(Div)`, the Euler step and Heun's corrector, DPM++ 3M SDE's
 * third-order correction and the LMS sum. The generic ones (`axpy`, `axpby`, `subDiv`, `sub`,
 * `allFinite`) stay in core's `ops.ts`.
 *
 * Same contract as core: every kernel writes into a caller-owned `out` (which may alias an
 * input), allocates nothing, and follows torch CPU semantics for `out`'s dtype. In float32
 * each scalar is rounded to float32 and each torch op of the original expression is rounded
 * to float32 in the original's order (the doc comment gives that expression); in float64 the
 * same order of operations is kept, so results match the original to the last bit whenever
 * the scalars do. With these kernels every model input of k-diffusion's float32 reference
 * fixtures is reproduced bit for bit (test/sampler-arithmetic.test.ts), and Euler, Heun,
 * Euler-ancestral and LMS are bit-exact in float64.
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
 * The Euler step of the probability-flow ODE in place, `x = x + d * dt` with
 * d = (x - denoised) / sigma (k-diffusion's `to_d`): x + ((x - denoised) / sigma) * dt,
 * rounded per op like the three torch ops in float32. Returns x.
 */
export function eulerStep(x: Tensor, denoised: Tensor, sigma: number, dt: number): Tensor {
  checkOperands("eulerStep", x, denoised);
  const o = x.data,
    d = denoised.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const s32 = f(sigma),
      dt32 = f(dt);
    for (let k = 0; k < len; k++) o[k] = o[k] + f(f(f(o[k] - d[k]) / s32) * dt32);
  } else {
    for (let k = 0; k < len; k++) o[k] = o[k] + ((o[k] - d[k]) / sigma) * dt;
  }
  return x;
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

/*
 * Fused step kernels (issue 16): one pass over memory for what the original computes as a
 * chain of torch ops (each its own pass). Every element goes through exactly the operations of
 * the chain, in its order, each rounded to float32 where the chain's op would be (a chain
 * value that torch would store in a float32 tensor is rounded with `f` before its next use),
 * so the results are bit-identical to running the separate kernels one after another.
 */

/**
 * The Euler-type step `out = y + ((a − b) / sigma) · dt` (k-diffusion's `to_d` then
 * `y + d · dt`, three torch ops), followed, when `z` is given, by the noise term
 * `+ (z · na) · nb` (addScaled2). With a = y = x, b = denoised it is the Euler step; with
 * out = x2 the predictor of Heun / DPM-2; with a = x2, b = denoised2 DPM-2's full step.
 * `out` may alias `y` and `a`.
 */
export function derivStep(
  out: Tensor,
  y: Tensor,
  a: Tensor,
  b: Tensor,
  sigma: number,
  dt: number,
  z: Tensor | null = null,
  na = 0,
  nb = 0,
): Tensor {
  checkOperands("derivStep", out, y, a, b);
  if (z) checkOperands("derivStep", out, z);
  const o = out.data,
    ys = y.data,
    as = a.data,
    bs = b.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const s32 = f(sigma),
      dt32 = f(dt);
    if (z) {
      const zs = z.data,
        na32 = f(na),
        nb32 = f(nb);
      for (let k = 0; k < len; k++) {
        const t = f(ys[k] + f(dt32 * f(f(as[k] - bs[k]) / s32)));
        o[k] = t + f(f(zs[k] * na32) * nb32);
      }
    } else {
      for (let k = 0; k < len; k++) o[k] = ys[k] + f(dt32 * f(f(as[k] - bs[k]) / s32));
    }
  } else if (z) {
    const zs = z.data;
    for (let k = 0; k < len; k++) {
      const t = ys[k] + dt * ((as[k] - bs[k]) / sigma);
      o[k] = t + zs[k] * na * nb;
    }
  } else {
    for (let k = 0; k < len; k++) o[k] = ys[k] + dt * ((as[k] - bs[k]) / sigma);
  }
  return out;
}

/**
 * Heun's corrector from the stored inputs, in place: d = (x − denoised) / sigmaHat (recomputed,
 * bit for bit what the predictor used), d₂ = (x₂ − denoised₂) / sigmaNext,
 * x ← x + ((d + d₂) / 2) · dt. Returns x.
 */
export function heunStep(
  x: Tensor,
  denoised: Tensor,
  sigmaHat: number,
  x2: Tensor,
  denoised2: Tensor,
  sigmaNext: number,
  dt: number,
): Tensor {
  checkOperands("heunStep", x, denoised, x2, denoised2);
  const o = x.data,
    dn = denoised.data,
    xs2 = x2.data,
    dn2 = denoised2.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const sh32 = f(sigmaHat),
      sn32 = f(sigmaNext),
      dt32 = f(dt);
    for (let k = 0; k < len; k++) {
      const xk = o[k];
      const d = f(f(xk - dn[k]) / sh32);
      const d2 = f(f(xs2[k] - dn2[k]) / sn32);
      o[k] = xk + f(f(f(d + d2) / 2) * dt32);
    }
  } else {
    for (let k = 0; k < len; k++) {
      const xk = o[k];
      const d = (xk - dn[k]) / sigmaHat;
      const d2 = (xs2[k] - dn2[k]) / sigmaNext;
      o[k] = xk + ((d + d2) / 2) * dt;
    }
  }
  return x;
}

/**
 * out = a·x + b·y, then, when `z` is given, + (z · na) · nb: axpby followed by addScaled2
 * (DPM++(2S) ancestral's steps, DPM++ SDE's first substep). `out` may alias `x`.
 */
export function axpbyNoise(
  out: Tensor,
  a: number,
  x: Tensor,
  b: number,
  y: Tensor,
  z: Tensor | null,
  na: number,
  nb: number,
): Tensor {
  checkOperands("axpbyNoise", out, x, y);
  if (z) checkOperands("axpbyNoise", out, z);
  const o = out.data,
    xs = x.data,
    ys = y.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const a32 = f(a),
      b32 = f(b);
    if (z) {
      const zs = z.data,
        na32 = f(na),
        nb32 = f(nb);
      for (let k = 0; k < len; k++) o[k] = f(f(a32 * xs[k]) + f(b32 * ys[k])) + f(f(zs[k] * na32) * nb32);
    } else {
      for (let k = 0; k < len; k++) o[k] = f(a32 * xs[k]) + f(b32 * ys[k]);
    }
  } else if (z) {
    const zs = z.data;
    for (let k = 0; k < len; k++) o[k] = a * xs[k] + b * ys[k] + zs[k] * na * nb;
  } else {
    for (let k = 0; k < len; k++) o[k] = a * xs[k] + b * ys[k];
  }
  return out;
}

/**
 * x ← r·x + e·(c1·p + c2·q), then, when `z` is given, + (z · na) · nb: the combined output
 * `c1·p + c2·q` (an axpby into a temporary) fed to the data-prediction update (a second axpby),
 * then addScaled2. DPM++(2M) (p = D, q = D_prev) and DPM++ SDE's full step (p = D, q = D₂).
 */
export function combineStep(
  x: Tensor,
  r: number,
  e: number,
  c1: number,
  p: Tensor,
  c2: number,
  q: Tensor,
  z: Tensor | null = null,
  na = 0,
  nb = 0,
): Tensor {
  checkOperands("combineStep", x, p, q);
  if (z) checkOperands("combineStep", x, z);
  const o = x.data,
    ps = p.data,
    qs = q.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const r32 = f(r),
      e32 = f(e),
      c132 = f(c1),
      c232 = f(c2);
    if (z) {
      const zs = z.data,
        na32 = f(na),
        nb32 = f(nb);
      for (let k = 0; k < len; k++) {
        const dd = f(f(c132 * ps[k]) + f(c232 * qs[k]));
        o[k] = f(f(r32 * o[k]) + f(e32 * dd)) + f(f(zs[k] * na32) * nb32);
      }
    } else {
      for (let k = 0; k < len; k++) {
        const dd = f(f(c132 * ps[k]) + f(c232 * qs[k]));
        o[k] = f(r32 * o[k]) + f(e32 * dd);
      }
    }
  } else if (z) {
    const zs = z.data;
    for (let k = 0; k < len; k++) {
      const dd = c1 * ps[k] + c2 * qs[k];
      o[k] = r * o[k] + e * dd + zs[k] * na * nb;
    }
  } else {
    for (let k = 0; k < len; k++) {
      const dd = c1 * ps[k] + c2 * qs[k];
      o[k] = r * o[k] + e * dd;
    }
  }
  return x;
}

/**
 * One LMS step: d₀ = (x − denoised) / sigma written into `ds[0]` (the history the next steps
 * read), then x ← x + Σ_j coeffs[j]·ds[j] (lmsUpdate's sum, from 0, left to right).
 */
export function lmsStep(
  x: Tensor,
  denoised: Tensor,
  sigma: number,
  coeffs: ArrayLike<number>,
  ds: readonly Tensor[],
  order: number,
): Tensor {
  checkOperands("lmsStep", x, denoised);
  for (let j = 0; j < order; j++) checkOperands("lmsStep", x, ds[j]);
  if (order > 4) {
    subDivInto(ds[0], x, denoised, sigma);
    return lmsUpdate(x, coeffs, ds, order);
  }
  const o = x.data,
    dn = denoised.data,
    d0 = ds[0].data,
    // unused slots point at d0 and are multiplied by nothing (the loops below stop at `order`)
    d1 = (order > 1 ? ds[1] : ds[0]).data,
    d2 = (order > 2 ? ds[2] : ds[0]).data,
    d3 = (order > 3 ? ds[3] : ds[0]).data,
    len = o.length;
  if (o instanceof Float32Array) {
    const s32 = f(sigma),
      c0 = f(coeffs[0]),
      c1 = f(order > 1 ? coeffs[1] : 0),
      c2 = f(order > 2 ? coeffs[2] : 0),
      c3 = f(order > 3 ? coeffs[3] : 0);
    for (let k = 0; k < len; k++) {
      const xk = o[k];
      const d = f(f(xk - dn[k]) / s32);
      d0[k] = d;
      let acc = f(c0 * d);
      if (order > 1) acc = f(acc + f(c1 * d1[k]));
      if (order > 2) acc = f(acc + f(c2 * d2[k]));
      if (order > 3) acc = f(acc + f(c3 * d3[k]));
      o[k] = xk + acc;
    }
  } else {
    const c0 = coeffs[0],
      c1 = order > 1 ? coeffs[1] : 0,
      c2 = order > 2 ? coeffs[2] : 0,
      c3 = order > 3 ? coeffs[3] : 0;
    for (let k = 0; k < len; k++) {
      const xk = o[k];
      const d = (xk - dn[k]) / sigma;
      d0[k] = d;
      let acc = c0 * d;
      if (order > 1) acc = acc + c1 * d1[k];
      if (order > 2) acc = acc + c2 * d2[k];
      if (order > 3) acc = acc + c3 * d3[k];
      o[k] = xk + acc;
    }
  }
  return x;
}

/** out = (a − b) / s, float32: the difference rounded, then the quotient (core's subDiv). */
function subDivInto(out: Tensor, a: Tensor, b: Tensor, s: number): void {
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

/**
 * DPM++(2M) SDE's update in place: x ← a·x + e·D (axpby), then, when `old` is given,
 * + c·(D − D_prev) (addScaledDiff), then, when `z` is given, + ((z·n1)·n2)·n3 (addScaled3).
 */
export function sde2mStep(
  x: Tensor,
  a: number,
  e: number,
  denoised: Tensor,
  old: Tensor | null,
  c: number,
  z: Tensor | null,
  n1: number,
  n2: number,
  n3: number,
): Tensor {
  checkOperands("sde2mStep", x, denoised);
  if (old) checkOperands("sde2mStep", x, old);
  if (z) checkOperands("sde2mStep", x, z);
  const o = x.data,
    dn = denoised.data,
    len = o.length;
  // absent operands read D and are not used (the flags below skip their terms)
  const hasOld = old !== null,
    hasZ = z !== null;
  const ol = (old ?? denoised).data,
    zs = (z ?? denoised).data;
  if (o instanceof Float32Array) {
    const a32 = f(a),
      e32 = f(e),
      c32 = f(c),
      n132 = f(n1),
      n232 = f(n2),
      n332 = f(n3);
    for (let k = 0; k < len; k++) {
      const dk = dn[k];
      let t = f(f(a32 * o[k]) + f(e32 * dk));
      if (hasOld) t = f(t + f(c32 * f(dk - ol[k])));
      if (hasZ) t = f(t + f(f(f(zs[k] * n132) * n232) * n332));
      o[k] = t;
    }
  } else {
    for (let k = 0; k < len; k++) {
      const dk = dn[k];
      let t = a * o[k] + e * dk;
      if (hasOld) t = t + c * (dk - ol[k]);
      if (hasZ) t = t + zs[k] * n1 * n2 * n3;
      o[k] = t;
    }
  }
  return x;
}

/**
 * DPM++(3M) SDE's update in place: x ← a·x + e·D (axpby); then the correction of the order
 * reached: third (den1 and den2 given): δ₀ = (D − D₁)/r0, δ₁ = (D₁ − D₂)/r1 (subDiv each) and
 * dpmpp3mCorrection(r0, rsum, phi2, phi3); second (den1 only): + phi2·((D − D₁)/r0)
 * (addScaledDiffDiv); then, when `z` is given, + ((z·n1)·n2)·n3 (addScaled3).
 */
export function sde3mStep(
  x: Tensor,
  a: number,
  e: number,
  denoised: Tensor,
  den1: Tensor | null,
  den2: Tensor | null,
  r0: number,
  r1: number,
  rsum: number,
  phi2: number,
  phi3: number,
  z: Tensor | null,
  n1: number,
  n2: number,
  n3: number,
): Tensor {
  checkOperands("sde3mStep", x, denoised);
  if (den1) checkOperands("sde3mStep", x, den1);
  if (den2) checkOperands("sde3mStep", x, den2);
  if (z) checkOperands("sde3mStep", x, z);
  const o = x.data,
    dn = denoised.data,
    len = o.length;
  const order = den1 === null ? 1 : den2 === null ? 2 : 3,
    hasZ = z !== null;
  const p1 = (den1 ?? denoised).data,
    p2 = (den2 ?? denoised).data,
    zs = (z ?? denoised).data;
  // one loop per order (the order is fixed for a call), so each loop's body is straight-line
  if (o instanceof Float32Array) {
    const a32 = f(a),
      e32 = f(e),
      r032 = f(r0),
      r132 = f(r1),
      rs32 = f(rsum),
      p232 = f(phi2),
      p332 = f(phi3),
      n132 = f(n1),
      n232 = f(n2),
      n332 = f(n3);
    if (order === 3) {
      for (let k = 0; k < len; k++) {
        const dk = dn[k],
          d1k = p1[k];
        const p = f(f(dk - d1k) / r032),
          q = f(f(d1k - p2[k]) / r132);
        const diff = f(p - q);
        const d1 = f(p + f(f(diff * r032) / rs32));
        const d2 = f(diff / rs32);
        let t = f(f(a32 * o[k]) + f(e32 * dk));
        t = f(f(t + f(p232 * d1)) - f(p332 * d2));
        o[k] = hasZ ? t + f(f(f(zs[k] * n132) * n232) * n332) : t;
      }
    } else if (order === 2) {
      for (let k = 0; k < len; k++) {
        const dk = dn[k];
        let t = f(f(a32 * o[k]) + f(e32 * dk));
        t = f(t + f(p232 * f(f(dk - p1[k]) / r032)));
        o[k] = hasZ ? t + f(f(f(zs[k] * n132) * n232) * n332) : t;
      }
    } else {
      for (let k = 0; k < len; k++) {
        const t = f(f(a32 * o[k]) + f(e32 * dn[k]));
        o[k] = hasZ ? t + f(f(f(zs[k] * n132) * n232) * n332) : t;
      }
    }
  } else if (order === 3) {
    for (let k = 0; k < len; k++) {
      const dk = dn[k],
        d1k = p1[k];
      const p = (dk - d1k) / r0,
        q = (d1k - p2[k]) / r1;
      const diff = p - q;
      const d1 = p + (diff * r0) / rsum;
      const d2 = diff / rsum;
      const t = a * o[k] + e * dk + phi2 * d1 - phi3 * d2;
      o[k] = hasZ ? t + zs[k] * n1 * n2 * n3 : t;
    }
  } else if (order === 2) {
    for (let k = 0; k < len; k++) {
      const dk = dn[k];
      const t = a * o[k] + e * dk + phi2 * ((dk - p1[k]) / r0);
      o[k] = hasZ ? t + zs[k] * n1 * n2 * n3 : t;
    }
  } else {
    for (let k = 0; k < len; k++) {
      const t = a * o[k] + e * dn[k];
      o[k] = hasZ ? t + zs[k] * n1 * n2 * n3 : t;
    }
  }
  return x;
}
