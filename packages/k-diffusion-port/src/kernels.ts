/**
 * The fused step kernels of k-diffusion's samplers (issue 16): one pass over memory for what
 * the original computes as a chain of torch ops (each its own pass). Every element goes through
 * exactly the operations of the chain, in its order, each rounded to float32 where the chain's
 * op would be (a chain value that torch would store in a float32 tensor is rounded with `f`
 * before its next use), so the results are bit-identical to running the single-op kernels of
 * op-kernels.ts one after another (test/fused-kernels.test.ts). The SDE and LMS steps are in
 * sde-kernels.ts.
 *
 * Each kernel checks its operands and dispatches to one loop per dtype (so every loop sees one
 * array type), or, for large tensors, to a WebAssembly SIMD kernel compiled from the same
 * expression (core's `SimdKernel`; the `SIMD_*` specs below, written in the loops' order):
 * float32 always (four lanes and no float64 round trips: several times the JS loop), float64
 * where measured to win (the kernels with a division, where a JS loop waits on the scalar
 * divider).
 * IEEE add, sub, mul and div per lane give the JS loops' results bit for bit, NaN payloads
 * aside (test/simd-kernels.test.ts compares the two on random data with NaN, infinities,
 * subnormals and signed zeros).
 *
 * Same contract as core: every kernel writes into a caller-owned `out` (which may alias an
 * input), allocates nothing, and follows torch CPU semantics for `out`'s dtype.
 */
import {
  checkOperands,
  SimdKernel,
  simdAdd as add,
  simdConst as cst,
  simdDiv as div,
  type SimdExpr,
  simdIn as inp,
  simdMul as mul,
  simdPar as par,
  simdSub as sub,
  type Tensor,
} from "@edmkit/core";

export * from "./op-kernels.js";
import { heunCorrector } from "./op-kernels.js";
export { lmsStep, sde2mStep, sde3mStep } from "./sde-kernels.js";

const f = Math.fround;

/** `(z · na) · nb` with z the operand j and the scalars i, i + 1. */
const noiseTerm = (j: number, i: number): SimdExpr => mul(mul(inp(j), par(i)), par(i + 1));

/** operands: x, denoised; scalars: sigma, dt */
const SIMD_EULER = new SimdKernel({
  inputs: 2,
  params: 2,
  outputs: [add(inp(0), mul(div(sub(inp(0), inp(1)), par(0)), par(1)))],
});

/**
 * The Euler step of the probability-flow ODE in place, `x = x + d * dt` with
 * d = (x - denoised) / sigma (k-diffusion's `to_d`): x + ((x - denoised) / sigma) * dt,
 * rounded per op like the three torch ops in float32. Returns x.
 */
export function eulerStep(x: Tensor, denoised: Tensor, sigma: number, dt: number): Tensor {
  checkOperands("eulerStep", x, denoised);
  const o = x.data;
  if (SIMD_EULER.accepts(o, true)) {
    const ops = SIMD_EULER.ops;
    ops[0] = o;
    ops[1] = o;
    ops[2] = denoised.data;
    SIMD_EULER.run(sigma, dt);
  } else if (o instanceof Float32Array) euler32(o, denoised.data as Float32Array, f(sigma), f(dt));
  else euler64(o, denoised.data as Float64Array, sigma, dt);
  return x;
}

function euler32(o: Float32Array, d: Float32Array, s: number, dt: number): void {
  for (let k = 0; k < o.length; k++) o[k] = o[k] + f(f(f(o[k] - d[k]) / s) * dt);
}

function euler64(o: Float64Array, d: Float64Array, s: number, dt: number): void {
  for (let k = 0; k < o.length; k++) o[k] = o[k] + ((o[k] - d[k]) / s) * dt;
}

/** y + dt·((a − b) / sigma): operands y, a, b; scalars sigma, dt */
const derivExpr = add(inp(0), mul(par(1), div(sub(inp(1), inp(2)), par(0))));
const SIMD_DERIV = new SimdKernel({ inputs: 3, params: 2, outputs: [derivExpr] });
/** the same + (z·na)·nb: operand z, scalars na, nb */
const SIMD_DERIV_Z = new SimdKernel({ inputs: 4, params: 4, outputs: [add(derivExpr, noiseTerm(3, 2))] });

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
  const o = out.data;
  const k = z ? SIMD_DERIV_Z : SIMD_DERIV;
  if (k.accepts(o, true)) {
    const ops = k.ops;
    ops[0] = o;
    ops[1] = y.data;
    ops[2] = a.data;
    ops[3] = b.data;
    if (z) ops[4] = z.data;
    k.run(sigma, dt, na, nb);
  } else if (o instanceof Float32Array) {
    const zs = z ? (z.data as Float32Array) : null;
    deriv32(
      o,
      y.data as Float32Array,
      a.data as Float32Array,
      b.data as Float32Array,
      f(sigma),
      f(dt),
      zs,
      f(na),
      f(nb),
    );
  } else {
    const zs = z ? (z.data as Float64Array) : null;
    deriv64(o, y.data as Float64Array, a.data as Float64Array, b.data as Float64Array, sigma, dt, zs, na, nb);
  }
  return out;
}

function deriv32(
  o: Float32Array,
  ys: Float32Array,
  as: Float32Array,
  bs: Float32Array,
  s: number,
  dt: number,
  zs: Float32Array | null,
  na: number,
  nb: number,
): void {
  const len = o.length;
  if (zs) {
    for (let k = 0; k < len; k++) {
      const t = f(ys[k] + f(dt * f(f(as[k] - bs[k]) / s)));
      o[k] = t + f(f(zs[k] * na) * nb);
    }
  } else {
    for (let k = 0; k < len; k++) o[k] = ys[k] + f(dt * f(f(as[k] - bs[k]) / s));
  }
}

function deriv64(
  o: Float64Array,
  ys: Float64Array,
  as: Float64Array,
  bs: Float64Array,
  s: number,
  dt: number,
  zs: Float64Array | null,
  na: number,
  nb: number,
): void {
  const len = o.length;
  if (zs) {
    for (let k = 0; k < len; k++) {
      const t = ys[k] + dt * ((as[k] - bs[k]) / s);
      o[k] = t + zs[k] * na * nb;
    }
  } else {
    for (let k = 0; k < len; k++) o[k] = ys[k] + dt * ((as[k] - bs[k]) / s);
  }
}

/** operands x, denoised; scalars sigma, dt; outputs d = (x − D)/sigma, x + d·dt */
const heunD = div(sub(inp(0), inp(1)), par(0));
const SIMD_HEUN_PREDICT = new SimdKernel({
  inputs: 2,
  params: 2,
  outputs: [heunD, add(inp(0), mul(heunD, par(1)))],
});

/**
 * Heun's predictor: d = (x − denoised) / sigma (k-diffusion's `to_d`) into `d`, and the Euler
 * step x₂ = x + d·dt into `x2` (one pass; d is kept for the corrector, as the original keeps
 * it, so the corrector need not divide again). Returns x2.
 */
export function heunPredict(
  x2: Tensor,
  d: Tensor,
  x: Tensor,
  denoised: Tensor,
  sigma: number,
  dt: number,
): Tensor {
  checkOperands("heunPredict", x2, d, x, denoised);
  const o = x2.data;
  if (SIMD_HEUN_PREDICT.accepts(o, true)) {
    const ops = SIMD_HEUN_PREDICT.ops;
    ops[0] = d.data;
    ops[1] = o;
    ops[2] = x.data;
    ops[3] = denoised.data;
    SIMD_HEUN_PREDICT.run(sigma, dt);
  } else if (o instanceof Float32Array) {
    const ds = d.data as Float32Array,
      xs = x.data as Float32Array,
      dn = denoised.data as Float32Array,
      s = f(sigma),
      h = f(dt);
    for (let k = 0; k < o.length; k++) {
      const dk = f(f(xs[k] - dn[k]) / s);
      ds[k] = dk;
      o[k] = xs[k] + f(dk * h);
    }
  } else {
    const ds = d.data as Float64Array,
      xs = x.data as Float64Array,
      dn = denoised.data as Float64Array;
    for (let k = 0; k < o.length; k++) {
      const dk = (xs[k] - dn[k]) / sigma;
      ds[k] = dk;
      o[k] = xs[k] + dk * dt;
    }
  }
  return x2;
}

/** operands x, d, x2, denoised2; scalars sigmaNext, dt */
const SIMD_HEUN = new SimdKernel({
  inputs: 4,
  params: 2,
  outputs: [add(inp(0), mul(div(add(inp(1), div(sub(inp(2), inp(3)), par(0))), cst(2)), par(1)))],
});

/**
 * Heun's corrector in place (heunCorrector fused, and in SIMD for large tensors): with the
 * predictor's d, d₂ = (x₂ − denoised₂) / sigmaNext, x ← x + ((d + d₂) / 2) · dt. Returns x.
 */
export function heunStep(
  x: Tensor,
  d: Tensor,
  x2: Tensor,
  denoised2: Tensor,
  sigmaNext: number,
  dt: number,
): Tensor {
  checkOperands("heunStep", x, d, x2, denoised2);
  const o = x.data;
  if (!SIMD_HEUN.accepts(o, true)) return heunCorrector(x, d, x2, denoised2, sigmaNext, dt);
  const ops = SIMD_HEUN.ops;
  ops[0] = o;
  ops[1] = o;
  ops[2] = d.data;
  ops[3] = x2.data;
  ops[4] = denoised2.data;
  SIMD_HEUN.run(sigmaNext, dt);
  return x;
}

/** a·x + b·y: operands x, y; scalars a, b */
const axpbyExpr = add(mul(par(0), inp(0)), mul(par(1), inp(1)));
const SIMD_AXPBY = new SimdKernel({ inputs: 2, params: 2, outputs: [axpbyExpr] });
/** the same + (z·na)·nb: operand z, scalars na, nb */
const SIMD_AXPBY_Z = new SimdKernel({ inputs: 3, params: 4, outputs: [add(axpbyExpr, noiseTerm(2, 2))] });

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
  const o = out.data;
  const k = z ? SIMD_AXPBY_Z : SIMD_AXPBY;
  if (k.accepts(o)) {
    const ops = k.ops;
    ops[0] = o;
    ops[1] = x.data;
    ops[2] = y.data;
    if (z) ops[3] = z.data;
    k.run(a, b, na, nb);
  } else if (o instanceof Float32Array) {
    const zs = z ? (z.data as Float32Array) : null;
    axpbyNoise32(o, f(a), x.data as Float32Array, f(b), y.data as Float32Array, zs, f(na), f(nb));
  } else {
    const zs = z ? (z.data as Float64Array) : null;
    axpbyNoise64(o, a, x.data as Float64Array, b, y.data as Float64Array, zs, na, nb);
  }
  return out;
}

function axpbyNoise32(
  o: Float32Array,
  a: number,
  xs: Float32Array,
  b: number,
  ys: Float32Array,
  zs: Float32Array | null,
  na: number,
  nb: number,
): void {
  const len = o.length;
  if (zs) {
    for (let k = 0; k < len; k++) o[k] = f(f(a * xs[k]) + f(b * ys[k])) + f(f(zs[k] * na) * nb);
  } else {
    for (let k = 0; k < len; k++) o[k] = f(a * xs[k]) + f(b * ys[k]);
  }
}

function axpbyNoise64(
  o: Float64Array,
  a: number,
  xs: Float64Array,
  b: number,
  ys: Float64Array,
  zs: Float64Array | null,
  na: number,
  nb: number,
): void {
  const len = o.length;
  if (zs) {
    for (let k = 0; k < len; k++) o[k] = a * xs[k] + b * ys[k] + zs[k] * na * nb;
  } else {
    for (let k = 0; k < len; k++) o[k] = a * xs[k] + b * ys[k];
  }
}

/** r·x + e·(c1·p + c2·q): operands x, p, q; scalars r, e, c1, c2 */
const combineExpr = add(mul(par(0), inp(0)), mul(par(1), add(mul(par(2), inp(1)), mul(par(3), inp(2)))));
const SIMD_COMBINE = new SimdKernel({ inputs: 3, params: 4, outputs: [combineExpr] });
/** the same + (z·na)·nb: operand z, scalars na, nb */
const SIMD_COMBINE_Z = new SimdKernel({ inputs: 4, params: 6, outputs: [add(combineExpr, noiseTerm(3, 4))] });

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
  const o = x.data;
  const k = z ? SIMD_COMBINE_Z : SIMD_COMBINE;
  if (k.accepts(o)) {
    const ops = k.ops;
    ops[0] = o;
    ops[1] = o;
    ops[2] = p.data;
    ops[3] = q.data;
    if (z) ops[4] = z.data;
    k.run(r, e, c1, c2, na, nb);
  } else if (o instanceof Float32Array) {
    const zs = z ? (z.data as Float32Array) : null;
    combine32(o, f(r), f(e), f(c1), p.data as Float32Array, f(c2), q.data as Float32Array, zs, f(na), f(nb));
  } else {
    const zs = z ? (z.data as Float64Array) : null;
    combine64(o, r, e, c1, p.data as Float64Array, c2, q.data as Float64Array, zs, na, nb);
  }
  return x;
}

function combine32(
  o: Float32Array,
  r: number,
  e: number,
  c1: number,
  ps: Float32Array,
  c2: number,
  qs: Float32Array,
  zs: Float32Array | null,
  na: number,
  nb: number,
): void {
  const len = o.length;
  if (zs) {
    for (let k = 0; k < len; k++) {
      const dd = f(f(c1 * ps[k]) + f(c2 * qs[k]));
      o[k] = f(f(r * o[k]) + f(e * dd)) + f(f(zs[k] * na) * nb);
    }
  } else {
    for (let k = 0; k < len; k++) {
      const dd = f(f(c1 * ps[k]) + f(c2 * qs[k]));
      o[k] = f(r * o[k]) + f(e * dd);
    }
  }
}

function combine64(
  o: Float64Array,
  r: number,
  e: number,
  c1: number,
  ps: Float64Array,
  c2: number,
  qs: Float64Array,
  zs: Float64Array | null,
  na: number,
  nb: number,
): void {
  const len = o.length;
  if (zs) {
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
}
