/**
 * The fused kernels of k-diffusion's DPM-Solver samplers (issue 16): `DPMSolver.eps` and the
 * single steps' tensor updates, which the original runs as a chain of torch ops (each its own
 * pass), in one pass per model call. Same rules as ./kernels.ts: every element goes through the
 * chain's operations in its order, each rounded to float32 where the chain's op would be, so the
 * results are bit-identical to the op-by-op chain of core's `subDiv`, `sub` and `axpy`
 * (test/fused-kernels.test.ts); a WebAssembly SIMD kernel from the same expression for large
 * tensors (float32 and float64: the kernels divide), JS loops per dtype otherwise.
 *
 * The chain pieces, as the solver core writes them:
 * - eps = (x − D) / σ (`subDiv`), then stage inputs and first order results
 *   y = x + α·eps (`axpy` with α = −σ(s₁)·expm1(r₁h) and the like);
 * - the stage after a model call at s: e = (u − D) / σ(s), then
 *   y = (x + α·eps) + γ·(e − eps) (`subDiv`, `sub`, then two `axpy`: the second and third order
 *   updates and the third order's stage input u₂), optionally + c·z (the noise `axpy`).
 */
import {
  checkOperands,
  SimdKernel,
  simdAbs as abs,
  simdAdd as add,
  simdDiv as div,
  type SimdExpr,
  simdIn as inp,
  simdMul as mul,
  simdPar as par,
  simdPmax as pmax,
  simdSub as sub,
  type Tensor,
} from "@edmkit/core";

const f = Math.fround;

/** eps = (x − D) / s: operands x, D; scalar s */
const epsExpr = div(sub(inp(0), inp(1)), par(0));
/** eps, then 1 to 3 outputs x + a_j·eps (scalars a_j) */
const SIMD_EPS = [1, 2, 3].map(
  (n) =>
    new SimdKernel({
      inputs: 2,
      params: 1 + n,
      outputs: [epsExpr, ...Array.from({ length: n }, (_, j) => add(inp(0), mul(par(1 + j), epsExpr)))],
    }),
);

/**
 * `DPMSolver.eps` and what the step takes from it in the same pass: eps = (x − D) / sigma, and
 * y_j = x + a_j·eps for each given (y_j, a_j) (one to three: a stage input, a first order result,
 * the callback's denoised). No y may alias x, D or eps. Returns eps.
 */
export function epsStep(
  eps: Tensor,
  x: Tensor,
  d: Tensor,
  sigma: number,
  ys: readonly Tensor[],
  as: readonly number[],
): Tensor {
  const n = ys.length;
  if (n < 1 || n > 3 || as.length !== n) throw new RangeError("epsStep: one to three outputs");
  checkOperands("epsStep", eps, x, d);
  for (const y of ys) checkOperands("epsStep", eps, y);
  const o = eps.data;
  const k = SIMD_EPS[n - 1];
  if (k.accepts(o, true)) {
    const ops = k.ops;
    ops[0] = o;
    for (let j = 0; j < n; j++) ops[1 + j] = ys[j].data;
    ops[n + 1] = x.data;
    ops[n + 2] = d.data;
    k.run(sigma, as[0], as[1] ?? 0, as[2] ?? 0);
  } else if (o instanceof Float32Array) {
    const y = ys.map((t) => t.data as Float32Array);
    eps32(o, x.data as Float32Array, d.data as Float32Array, f(sigma), y, as.map(f));
  } else {
    const y = ys.map((t) => t.data as Float64Array);
    eps64(o, x.data as Float64Array, d.data as Float64Array, sigma, y, as);
  }
  return eps;
}

function eps32(
  e: Float32Array,
  xs: Float32Array,
  ds: Float32Array,
  s: number,
  ys: Float32Array[],
  as: readonly number[],
): void {
  const n = ys.length,
    y0 = ys[0],
    a0 = as[0];
  for (let k = 0; k < e.length; k++) {
    const xk = xs[k];
    const v = f(f(xk - ds[k]) / s);
    e[k] = v;
    y0[k] = xk + f(a0 * v);
    for (let j = 1; j < n; j++) ys[j][k] = xk + f(as[j] * v);
  }
}

function eps64(
  e: Float64Array,
  xs: Float64Array,
  ds: Float64Array,
  s: number,
  ys: Float64Array[],
  as: readonly number[],
): void {
  const n = ys.length,
    y0 = ys[0],
    a0 = as[0];
  for (let k = 0; k < e.length; k++) {
    const xk = xs[k];
    const v = (xk - ds[k]) / s;
    e[k] = v;
    y0[k] = xk + a0 * v;
    for (let j = 1; j < n; j++) ys[j][k] = xk + as[j] * v;
  }
}

/** operands u, D, x, eps (then z); scalars s, then (α, γ) per output (then c) */
const stageDiff = sub(div(sub(inp(0), inp(1)), par(0)), inp(3));
const stageExpr = (a: number): SimdExpr => add(add(inp(2), mul(par(a), inp(3))), mul(par(a + 1), stageDiff));
const SIMD_STAGE = new SimdKernel({ inputs: 4, params: 3, outputs: [stageExpr(1)] });
const SIMD_STAGE_Z = new SimdKernel({
  inputs: 5,
  params: 4,
  outputs: [add(stageExpr(1), mul(par(3), inp(4)))],
});
const SIMD_STAGE_2 = new SimdKernel({ inputs: 4, params: 5, outputs: [stageExpr(1), stageExpr(3)] });

/**
 * The update after a model call at s: with e = (u − D) / sigma (that call's eps),
 * out = (x + alpha·eps) + gamma·(e − eps), then, when `z` is given, + c·z; and, when `out2` is
 * given, out2 = (x + alpha2·eps) + gamma2·(e − eps) from the same e (DPM-Solver-23's second
 * order result and third order stage input). `out` (or `out2`, not both) may alias u.
 * Returns out.
 */
export function stageStep(
  out: Tensor,
  alpha: number,
  gamma: number,
  u: Tensor,
  d: Tensor,
  sigma: number,
  x: Tensor,
  eps: Tensor,
  z: Tensor | null = null,
  c = 0,
  out2: Tensor | null = null,
  alpha2 = 0,
  gamma2 = 0,
): Tensor {
  if (z && out2) throw new RangeError("stageStep: noise with one output only");
  checkOperands("stageStep", out, u, d, x, eps);
  if (z) checkOperands("stageStep", out, z);
  if (out2) checkOperands("stageStep", out, out2);
  const o = out.data;
  const k = z ? SIMD_STAGE_Z : out2 ? SIMD_STAGE_2 : SIMD_STAGE;
  if (k.accepts(o, true)) {
    const ops = k.ops;
    let i = 0;
    ops[i++] = o;
    if (out2) ops[i++] = out2.data;
    ops[i++] = u.data;
    ops[i++] = d.data;
    ops[i++] = x.data;
    ops[i++] = eps.data;
    if (z) ops[i++] = z.data;
    if (z) k.run(sigma, alpha, gamma, c);
    else k.run(sigma, alpha, gamma, alpha2, gamma2);
  } else if (o instanceof Float32Array) {
    stage32(
      o,
      f(alpha),
      f(gamma),
      u.data as Float32Array,
      d.data as Float32Array,
      f(sigma),
      x.data as Float32Array,
      eps.data as Float32Array,
      z ? (z.data as Float32Array) : null,
      f(c),
      out2 ? (out2.data as Float32Array) : null,
      f(alpha2),
      f(gamma2),
    );
  } else {
    stage64(
      o,
      alpha,
      gamma,
      u.data as Float64Array,
      d.data as Float64Array,
      sigma,
      x.data as Float64Array,
      eps.data as Float64Array,
      z ? (z.data as Float64Array) : null,
      c,
      out2 ? (out2.data as Float64Array) : null,
      alpha2,
      gamma2,
    );
  }
  return out;
}

function stage32(
  o: Float32Array,
  a: number,
  g: number,
  us: Float32Array,
  ds: Float32Array,
  s: number,
  xs: Float32Array,
  es: Float32Array,
  zs: Float32Array | null,
  c: number,
  o2: Float32Array | null,
  a2: number,
  g2: number,
): void {
  for (let k = 0; k < o.length; k++) {
    // every operand read before an output (which may alias u) is written
    const xk = xs[k],
      ek = es[k];
    const diff = f(f(f(us[k] - ds[k]) / s) - ek);
    const y = f(f(xk + f(a * ek)) + f(g * diff));
    if (o2 !== null) o2[k] = f(xk + f(a2 * ek)) + f(g2 * diff);
    o[k] = zs === null ? y : y + f(c * zs[k]);
  }
}

function stage64(
  o: Float64Array,
  a: number,
  g: number,
  us: Float64Array,
  ds: Float64Array,
  s: number,
  xs: Float64Array,
  es: Float64Array,
  zs: Float64Array | null,
  c: number,
  o2: Float64Array | null,
  a2: number,
  g2: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = xs[k],
      ek = es[k];
    const diff = (us[k] - ds[k]) / s - ek;
    const y = xk + a * ek + g * diff;
    if (o2 !== null) o2[k] = xk + a2 * ek + g2 * diff;
    o[k] = zs === null ? y : y + c * zs[k];
  }
}

/**
 * q = (low − high)/δ, δ = max(atol, rtol·max(|low|, |prev|)), each max written as the loops'
 * `x > y ? x : y` (pmax(y, x), NaN and zeros as in JS): operands low, high, prev; scalars atol,
 * rtol
 */
const SIMD_ERROR_Q = new SimdKernel({
  inputs: 3,
  params: 2,
  outputs: [div(sub(inp(0), inp(1)), pmax(mul(par(1), pmax(abs(inp(2)), abs(inp(0)))), par(0)))],
});

/**
 * The error norm of DPM-Solver-12/23: the 2-norm of (low − high)/δ with
 * δ = max(atol, rtol·max(|low|, |prev|)) elementwise, each elementwise op in the tensors' dtype,
 * the squares summed in float64 in element order. With `scratch` (a tensor like low) and a large
 * tensor, the quotients are computed by a SIMD kernel into it (their divisions in lanes) and only
 * the sum, which must stay in element order, runs in JS.
 */
export function errorNorm(
  low: Tensor,
  high: Tensor,
  prev: Tensor,
  atol: number,
  rtol: number,
  scratch: Tensor | null = null,
): number {
  checkOperands("errorNorm", low, high, prev);
  const l = low.data;
  if (scratch !== null && SIMD_ERROR_Q.accepts(scratch.data, true)) {
    checkOperands("errorNorm", low, scratch);
    const ops = SIMD_ERROR_Q.ops,
      q = scratch.data;
    ops[0] = q;
    ops[1] = l;
    ops[2] = high.data;
    ops[3] = prev.data;
    SIMD_ERROR_Q.run(atol, rtol);
    let sum = 0;
    for (let k = 0; k < q.length; k++) sum += q[k] * q[k];
    return q instanceof Float32Array ? f(Math.sqrt(sum)) : Math.sqrt(sum);
  }
  return l instanceof Float32Array
    ? norm32(l, high.data as Float32Array, prev.data as Float32Array, f(atol), f(rtol))
    : norm64(l as Float64Array, high.data as Float64Array, prev.data as Float64Array, atol, rtol);
}

function norm32(ls: Float32Array, hs: Float32Array, ps: Float32Array, atol: number, rtol: number): number {
  let sum = 0;
  for (let k = 0; k < ls.length; k++) {
    const lk = ls[k],
      a = Math.abs(lk),
      b = Math.abs(ps[k]);
    const rm = f(rtol * (a > b ? a : b));
    const delta = atol > rm ? atol : rm;
    const q = f(f(lk - hs[k]) / delta);
    sum += q * q;
  }
  return f(Math.sqrt(sum));
}

function norm64(ls: Float64Array, hs: Float64Array, ps: Float64Array, atol: number, rtol: number): number {
  let sum = 0;
  for (let k = 0; k < ls.length; k++) {
    const lk = ls[k],
      a = Math.abs(lk),
      b = Math.abs(ps[k]);
    const rm = rtol * (a > b ? a : b);
    const delta = atol > rm ? atol : rm;
    const q = (lk - hs[k]) / delta;
    sum += q * q;
  }
  return Math.sqrt(sum);
}
