/**
 * The sampler's per-element passes (issue 16), each one pass over memory for what would be a
 * chain of core kernels: the derivative (core's `subDiv`, or `axpby` with −b) then `axpy`; for
 * the second-order correction also the blend `axpby`; the churn point (`axpby` or `scale`); and
 * the model's input x / s(t) (`divScalar`), computed in the pass that makes the point it scales.
 * Each element goes through the same operations in the same order, every float32 op rounded
 * where the core kernel would round it (a value a kernel would store in a float32 buffer is
 * rounded with `f` before its next use), so results are bit-identical to the kernel chain.
 *
 * The derivative d = f(x, t) is (x − D)/σ when the schedule is the identity, else a·x − b·D.
 *
 * Each pass checks its operands and dispatches to one loop per dtype (each loop sees one array
 * type), or, for large tensors, to a WebAssembly SIMD kernel compiled from the same expression
 * (core's `SimdKernel`; the `*Kernel` specs below, written in the loops' order): float32
 * always, float64 where the output lies in a `SimdArena` (the sampler's working buffers for
 * large tensors; with no chunk copies float64 SIMD wins too). A model output of the other
 * dtype keeps the JS loop (the loop reads it unrounded; SIMD would convert it). IEEE add, sub,
 * mul and div per lane give the JS loops' results bit for bit, NaN payloads aside.
 *
 * Outputs may alias an input exactly (a model that returns its input): each loop reads all of
 * an element's inputs before it writes any output.
 */
import {
  checkOperands,
  SIMD_MIN,
  SimdKernel,
  simdAdd as add,
  simdDiv as div,
  type SimdExpr,
  simdIn as inp,
  simdMul as mul,
  simdPar as par,
  simdSub as sub,
  type Tensor,
} from "@edmkit/core";

const f = Math.fround;

type Data = Float32Array | Float64Array;

export interface Deriv {
  identity: boolean;
  sigma: number;
  a: number;
  b: number;
}

/** d of operands x, D: (x − D)/σ (scalar p: σ) or a·x + (−b)·D (scalars p, p + 1: a, −b). */
const derivExpr = (identity: boolean, x: SimdExpr, D: SimdExpr, p = 0): SimdExpr =>
  identity ? div(sub(x, D), par(p)) : add(mul(par(p), x), mul(par(p + 1), D));

/**
 * derivStep's kernel: operands x, D; scalars of d, then step (2), sNext (3). Outputs
 * out = x + step·d, then d when `keep`, then out / sNext when `scaled`.
 */
function derivKernel(identity: boolean, keep: boolean, scaled: boolean): SimdKernel {
  const d = derivExpr(identity, inp(0), inp(1));
  const o = add(inp(0), mul(par(2), d));
  const outputs = [o];
  if (keep) outputs.push(d);
  if (scaled) outputs.push(div(o, par(3)));
  return new SimdKernel({ inputs: 2, params: 4, outputs });
}

/**
 * correctStep's kernel: operands x, d (or, with `recompute`, D: d = f(x, D) again, scalars 6, 7),
 * x′, D′; scalars of d′, then c1 (2), c2 (3), step (4), sNext (5). Outputs
 * out = x + step·(c1·d + c2·d′), then out / sNext when `scaled`.
 */
function correctKernel(identity: boolean, scaled: boolean, recompute: boolean): SimdKernel {
  const d = recompute ? derivExpr(identity, inp(0), inp(1), 6) : inp(1);
  const dp = derivExpr(identity, inp(2), inp(3));
  const o = add(inp(0), mul(par(4), add(mul(par(2), d), mul(par(3), dp))));
  return new SimdKernel({ inputs: 4, params: 8, outputs: scaled ? [o, div(o, par(5))] : [o] });
}

/**
 * prepare's kernels: operands x (and eps); scalars ratio (0), coef (1), s (2). `point`:
 * x̂ = ratio·x + coef·eps (with eps) or x·ratio, then x̂ / s when `scaled`; no point: x / s.
 */
function prepareKernel(point: boolean, noise: boolean, scaled: boolean): SimdKernel {
  if (!point) return new SimdKernel({ inputs: 1, params: 3, outputs: [div(inp(0), par(2))] });
  const xh = noise ? add(mul(par(0), inp(0)), mul(par(1), inp(1))) : mul(inp(0), par(0));
  return new SimdKernel({ inputs: noise ? 2 : 1, params: 3, outputs: scaled ? [xh, div(xh, par(2))] : [xh] });
}

/** Indexed by identity·4 + keep·2 + scaled. */
const DERIV = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => derivKernel(k >= 4, (k & 2) !== 0, (k & 1) !== 0));
/** Indexed by identity·4 + recompute·2 + scaled. */
const CORRECT = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => correctKernel(k >= 4, (k & 1) !== 0, (k & 2) !== 0));
/** Indexed by noise·2 + scaled (point), and the x / s kernel. */
const PREPARE = [0, 1, 2, 3].map((k) => prepareKernel(true, k >= 2, (k & 1) !== 0));
const SCALE_IN = prepareKernel(false, false, true);

/** Whether `k` takes a pass writing `o` that reads the model output `m` (of o's dtype). */
const simd = (k: SimdKernel, o: Data, m: Data | null): boolean =>
  o.length >= SIMD_MIN && (m === null || m.constructor === o.constructor) && k.accepts(o);

/**
 * d = f(x, D) (written into `dOut` when given, for a later correction), then
 * out = x + step·d (core's `axpy`), and when `scaledOut` is given, scaledOut = out / sNext
 * (core's `divScalar`: the model's input at the next point).
 */
export function derivStep(
  out: Tensor,
  dOut: Tensor | null,
  x: Tensor,
  D: Tensor,
  g: Deriv,
  step: number,
  scaledOut: Tensor | null = null,
  sNext = 1,
): void {
  checkOperands("derivStep", out, x, D);
  if (dOut) checkOperands("derivStep", out, dOut);
  if (scaledOut) checkOperands("derivStep", out, scaledOut);
  const o = out.data,
    ds = D.data;
  const p0 = g.identity ? g.sigma : g.a,
    p1 = -g.b;
  const k = DERIV[(g.identity ? 4 : 0) + (dOut ? 2 : 0) + (scaledOut ? 1 : 0)];
  if (simd(k, o, ds)) {
    const ops = k.ops;
    let j = 0;
    ops[j++] = o;
    if (dOut) ops[j++] = dOut.data;
    if (scaledOut) ops[j++] = scaledOut.data;
    ops[j++] = x.data;
    ops[j++] = ds;
    k.run(p0, p1, step, sNext);
  } else if (o instanceof Float32Array) {
    const dd = dOut ? (dOut.data as Float32Array) : null,
      sc = scaledOut ? (scaledOut.data as Float32Array) : null;
    deriv32(o, dd, sc, x.data as Float32Array, ds, g.identity, f(p0), f(p1), f(step), f(sNext));
  } else {
    const dd = dOut ? (dOut.data as Float64Array) : null,
      sc = scaledOut ? (scaledOut.data as Float64Array) : null;
    deriv64(o, dd, sc, x.data as Float64Array, ds, g.identity, p0, p1, step, sNext);
  }
}

function deriv32(
  o: Float32Array,
  dd: Float32Array | null,
  sc: Float32Array | null,
  xs: Float32Array,
  ds: Data,
  identity: boolean,
  p0: number,
  p1: number,
  h: number,
  sN: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = xs[k];
    const d = identity ? f(f(xk - ds[k]) / p0) : f(f(p0 * xk) + f(p1 * ds[k]));
    const xn = f(xk + f(h * d));
    o[k] = xn;
    if (dd !== null) dd[k] = d;
    if (sc !== null) sc[k] = xn / sN;
  }
}

function deriv64(
  o: Float64Array,
  dd: Float64Array | null,
  sc: Float64Array | null,
  xs: Float64Array,
  ds: Data,
  identity: boolean,
  p0: number,
  p1: number,
  h: number,
  sN: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = xs[k];
    const d = identity ? (xk - ds[k]) / p0 : p0 * xk + p1 * ds[k];
    const xn = xk + h * d;
    o[k] = xn;
    if (dd !== null) dd[k] = d;
    if (sc !== null) sc[k] = xn / sN;
  }
}

/**
 * The second-order correction: d′ = f(x′, D′), the blend c1·d + c2·d′ (core's `axpby`), then
 * out = x + step·blend (core's `axpy`), and when `scaledOut` is given, scaledOut = out / sNext.
 * With `gHat`, the operand `d` is the model output D at x and d = f(x, D) is computed again
 * (bit for bit derivStep's d) instead of read from a stored copy.
 */
export function correctStep(
  out: Tensor,
  x: Tensor,
  d: Tensor,
  xPrime: Tensor,
  D2: Tensor,
  g: Deriv,
  c1: number,
  c2: number,
  step: number,
  scaledOut: Tensor | null = null,
  sNext = 1,
  gHat: Deriv | null = null,
): void {
  checkOperands("correctStep", out, x, d, xPrime, D2);
  if (scaledOut) checkOperands("correctStep", out, scaledOut);
  const o = out.data,
    ds = d.data,
    d2 = D2.data;
  const p0 = g.identity ? g.sigma : g.a,
    p1 = -g.b;
  const q0 = gHat === null ? 0 : gHat.identity ? gHat.sigma : gHat.a,
    q1 = gHat === null ? 0 : -gHat.b;
  const k = CORRECT[(g.identity ? 4 : 0) + (gHat ? 2 : 0) + (scaledOut ? 1 : 0)];
  if (simd(k, o, d2) && (gHat === null || ds.constructor === o.constructor)) {
    const ops = k.ops;
    let j = 0;
    ops[j++] = o;
    if (scaledOut) ops[j++] = scaledOut.data;
    ops[j++] = x.data;
    ops[j++] = ds;
    ops[j++] = xPrime.data;
    ops[j++] = d2;
    k.run(p0, p1, c1, c2, step, sNext, q0, q1);
  } else if (o instanceof Float32Array) {
    const sc = scaledOut ? (scaledOut.data as Float32Array) : null;
    const xs = x.data as Float32Array,
      xp = xPrime.data as Float32Array;
    correct32(
      o,
      sc,
      xs,
      ds,
      xp,
      d2,
      g.identity,
      f(p0),
      f(p1),
      f(c1),
      f(c2),
      f(step),
      f(sNext),
      gHat !== null,
      f(q0),
      f(q1),
    );
  } else {
    const sc = scaledOut ? (scaledOut.data as Float64Array) : null;
    const xs = x.data as Float64Array,
      xp = xPrime.data as Float64Array;
    correct64(o, sc, xs, ds, xp, d2, g.identity, p0, p1, c1, c2, step, sNext, gHat !== null, q0, q1);
  }
}

function correct32(
  o: Float32Array,
  sc: Float32Array | null,
  xs: Float32Array,
  ds: Data,
  xp: Float32Array,
  d2: Data,
  identity: boolean,
  p0: number,
  p1: number,
  c1: number,
  c2: number,
  h: number,
  sN: number,
  again: boolean,
  q0: number,
  q1: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = xs[k],
      xpk = xp[k];
    const d = !again ? ds[k] : identity ? f(f(xk - ds[k]) / q0) : f(f(q0 * xk) + f(q1 * ds[k]));
    const dp = identity ? f(f(xpk - d2[k]) / p0) : f(f(p0 * xpk) + f(p1 * d2[k]));
    const blend = f(f(c1 * d) + f(c2 * dp));
    const xn = f(xk + f(h * blend));
    o[k] = xn;
    if (sc !== null) sc[k] = xn / sN;
  }
}

function correct64(
  o: Float64Array,
  sc: Float64Array | null,
  xs: Float64Array,
  ds: Data,
  xp: Float64Array,
  d2: Data,
  identity: boolean,
  p0: number,
  p1: number,
  c1: number,
  c2: number,
  h: number,
  sN: number,
  again: boolean,
  q0: number,
  q1: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = xs[k],
      xpk = xp[k];
    const d = !again ? ds[k] : identity ? (xk - ds[k]) / q0 : q0 * xk + q1 * ds[k];
    const dp = identity ? (xpk - d2[k]) / p0 : p0 * xpk + p1 * d2[k];
    const blend = c1 * d + c2 * dp;
    const xn = xk + h * blend;
    o[k] = xn;
    if (sc !== null) sc[k] = xn / sN;
  }
}

/**
 * The point the model sees. With `out`: out = ratio·x + coef·eps (core's `axpby`: the churn
 * point x̂) or, without eps, out = x·ratio (core's `scale`); then, when `scaledOut` is given,
 * scaledOut = out / s (core's `divScalar`). Without `out`: scaledOut = x / s.
 */
export function prepare(
  out: Tensor | null,
  scaledOut: Tensor | null,
  x: Tensor,
  ratio: number,
  eps: Tensor | null,
  coef: number,
  s: number,
): void {
  const first = (out ?? scaledOut) as Tensor;
  checkOperands("prepare", first, x);
  if (scaledOut) checkOperands("prepare", first, scaledOut);
  if (eps) checkOperands("prepare", first, eps);
  const k = out ? PREPARE[(eps ? 2 : 0) + (scaledOut ? 1 : 0)] : SCALE_IN;
  const o = first.data;
  if (simd(k, o, null)) {
    const ops = k.ops;
    let j = 0;
    ops[j++] = o;
    if (out && scaledOut) ops[j++] = scaledOut.data;
    ops[j++] = x.data;
    if (eps) ops[j++] = eps.data;
    k.run(ratio, coef, s);
  } else if (o instanceof Float32Array) {
    const sc = out && scaledOut ? (scaledOut.data as Float32Array) : null;
    const es = eps ? (eps.data as Float32Array) : null;
    prepare32(out !== null, o, sc, x.data as Float32Array, es, f(ratio), f(coef), f(s));
  } else {
    const sc = out && scaledOut ? (scaledOut.data as Float64Array) : null;
    const es = eps ? (eps.data as Float64Array) : null;
    prepare64(out !== null, o, sc, x.data as Float64Array, es, ratio, coef, s);
  }
}

function prepare32(
  point: boolean,
  o: Float32Array,
  sc: Float32Array | null,
  xs: Float32Array,
  es: Float32Array | null,
  ratio: number,
  coef: number,
  s: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = xs[k];
    if (!point) {
      o[k] = xk / s;
      continue;
    }
    const xh = es !== null ? f(f(ratio * xk) + f(coef * es[k])) : f(xk * ratio);
    o[k] = xh;
    if (sc !== null) sc[k] = xh / s;
  }
}

function prepare64(
  point: boolean,
  o: Float64Array,
  sc: Float64Array | null,
  xs: Float64Array,
  es: Float64Array | null,
  ratio: number,
  coef: number,
  s: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = xs[k];
    if (!point) {
      o[k] = xk / s;
      continue;
    }
    const xh = es !== null ? ratio * xk + coef * es[k] : xk * ratio;
    o[k] = xh;
    if (sc !== null) sc[k] = xh / s;
  }
}
