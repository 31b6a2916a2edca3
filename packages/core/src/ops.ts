/**
 * Elementwise kernels for sampler updates.
 *
 * Every kernel writes into a caller-owned `out` (which may alias an input), so a sampler
 * allocates its buffers once and its step loop allocates nothing.
 *
 * Precision follows PyTorch CPU semantics for the dtype of `out`: in float64 everything is
 * plain double arithmetic; in float32 each scalar argument is first rounded to float32 and
 * every primitive operation is rounded to float32, in the order the kernel's doc comment
 * states (one torch op per rounding). That is what makes float32 runs of the originals
 * reproducible: `y + a * x` in torch float32 is two rounded ops, not one fused one.
 */
import { SIMD_MIN, SimdKernel, simdAllFinite } from "./simd.js";
import { add as vAdd, div as vDiv, inp, mul as vMul, par, sub as vSub } from "./simd-emit.js";
import type { Tensor, TypedArray } from "./tensor.js";

const f = Math.fround;

/**
 * The operand check of every kernel here, for packages that write kernels of their own:
 * throws a RangeError naming `name` unless each input has as many elements as `out`.
 */
export function checkOperands(name: string, out: Tensor, ...ins: Tensor[]): void {
  const n = out.data.length;
  for (const t of ins) {
    if (t.data.length !== n) {
      throw new RangeError(
        `${name}: operand of ${t.data.length} elements does not match out of ${n} elements`,
      );
    }
  }
}

const is32 = (a: TypedArray): boolean => a instanceof Float32Array;

/**
 * The SIMD versions of axpy, axpby and subDiv (simd.ts), for large tensors whose operands all
 * have out's type: the same IEEE ops in the same order, so the same results as the loops.
 * Float64 only for subDiv (its division is where a float64 loop is slow).
 */
const SIMD_AXPY = new SimdKernel({ inputs: 2, params: 1, outputs: [vAdd(inp(1), vMul(par(0), inp(0)))] });
const SIMD_AXPBY = new SimdKernel({
  inputs: 2,
  params: 2,
  outputs: [vAdd(vMul(par(0), inp(0)), vMul(par(1), inp(1)))],
});
const SIMD_SUBDIV = new SimdKernel({ inputs: 2, params: 1, outputs: [vDiv(vSub(inp(0), inp(1)), par(0))] });

/** Whether `k` takes out = op(a, b): large, a and b of out's type, WebAssembly SIMD present. */
function simd2(k: SimdKernel, o: TypedArray, a: TypedArray, b: TypedArray, float64 = false): boolean {
  const w = is32(o);
  return is32(a) === w && is32(b) === w && k.accepts(o, float64);
}

function runSimd2(k: SimdKernel, o: TypedArray, a: TypedArray, b: TypedArray, p0: number, p1 = 0): void {
  const ops = k.ops;
  ops[0] = o;
  ops[1] = a;
  ops[2] = b;
  k.run(p0, p1);
}

/** out = a */
export function copyInto(out: Tensor, a: Tensor): Tensor {
  checkOperands("copyInto", out, a);
  if (out.data !== a.data) out.data.set(a.data);
  return out;
}

/** out = value everywhere */
export function fill(out: Tensor, value: number): Tensor {
  out.data.fill(value);
  return out;
}

/** out = a * s */
export function scale(out: Tensor, a: Tensor, s: number): Tensor {
  checkOperands("scale", out, a);
  const o = out.data,
    x = a.data,
    n = o.length;
  if (is32(o)) s = f(s);
  for (let i = 0; i < n; i++) o[i] = x[i] * s;
  return out;
}

/** out = a + b */
export function add(out: Tensor, a: Tensor, b: Tensor): Tensor {
  checkOperands("add", out, a, b);
  const o = out.data,
    x = a.data,
    y = b.data,
    n = o.length;
  for (let i = 0; i < n; i++) o[i] = x[i] + y[i];
  return out;
}

/** out = a - b */
export function sub(out: Tensor, a: Tensor, b: Tensor): Tensor {
  checkOperands("sub", out, a, b);
  const o = out.data,
    x = a.data,
    y = b.data,
    n = o.length;
  for (let i = 0; i < n; i++) o[i] = x[i] - y[i];
  return out;
}

/** out = y + alpha * x   (float32: round(alpha*x), then round the sum) */
export function axpy(out: Tensor, alpha: number, x: Tensor, y: Tensor): Tensor {
  checkOperands("axpy", out, x, y);
  const o = out.data,
    xs = x.data,
    ys = y.data,
    n = o.length;
  if (simd2(SIMD_AXPY, o, xs, ys)) runSimd2(SIMD_AXPY, o, xs, ys, alpha);
  else if (is32(o)) {
    const a = f(alpha);
    for (let i = 0; i < n; i++) o[i] = ys[i] + f(a * xs[i]);
  } else {
    for (let i = 0; i < n; i++) o[i] = ys[i] + alpha * xs[i];
  }
  return out;
}

/** out = a * x + b * y   (float32: each product rounded, then the sum) */
export function axpby(out: Tensor, a: number, x: Tensor, b: number, y: Tensor): Tensor {
  checkOperands("axpby", out, x, y);
  const o = out.data,
    xs = x.data,
    ys = y.data,
    n = o.length;
  if (simd2(SIMD_AXPBY, o, xs, ys)) runSimd2(SIMD_AXPBY, o, xs, ys, a, b);
  else if (is32(o)) {
    const a32 = f(a),
      b32 = f(b);
    for (let i = 0; i < n; i++) o[i] = f(a32 * xs[i]) + f(b32 * ys[i]);
  } else {
    for (let i = 0; i < n; i++) o[i] = a * xs[i] + b * ys[i];
  }
  return out;
}

/**
 * out = a / s   (a true division, as torch's `x / s`, not a multiplication by 1/s; float32:
 * s rounded first, one rounding per element). NVlabs' `x / s(t)` model inputs go through it
 * (edm-reference fixtures replay within 1e-12).
 */
export function divScalar(out: Tensor, a: Tensor, s: number): Tensor {
  checkOperands("divScalar", out, a);
  const o = out.data,
    x = a.data,
    n = o.length;
  const d = is32(o) ? f(s) : s;
  for (let i = 0; i < n; i++) o[i] = x[i] / d;
  return out;
}

/** out = (a - b) / s   (float32: round the difference, then the quotient) */
export function subDiv(out: Tensor, a: Tensor, b: Tensor, s: number): Tensor {
  checkOperands("subDiv", out, a, b);
  const o = out.data,
    x = a.data,
    y = b.data,
    n = o.length;
  if (simd2(SIMD_SUBDIV, o, x, y, true)) runSimd2(SIMD_SUBDIV, o, x, y, s);
  else if (is32(o)) {
    const s32 = f(s);
    for (let i = 0; i < n; i++) o[i] = f(x[i] - y[i]) / s32;
  } else {
    for (let i = 0; i < n; i++) o[i] = (x[i] - y[i]) / s;
  }
  return out;
}

/**
 * out = lerp(start, end, w) with torch.lerp's formula: for |w| < 0.5 it is
 * start + w (end - start), otherwise end - (end - start)(1 - w). The two forms round
 * differently, so a port of code that calls torch.lerp must use this one.
 */
export function lerp(out: Tensor, start: Tensor, end: Tensor, w: number): Tensor {
  checkOperands("lerp", out, start, end);
  const o = out.data,
    s = start.data,
    e = end.data,
    n = o.length;
  if (is32(o)) {
    const w32 = f(w);
    for (let i = 0; i < n; i++) o[i] = lerpScalar32(s[i], e[i], w32);
  } else {
    for (let i = 0; i < n; i++) o[i] = lerpScalar(s[i], e[i], w);
  }
  return out;
}

/** torch.lerp on scalars in float64. */
export function lerpScalar(start: number, end: number, w: number): number {
  const diff = end - start;
  return Math.abs(w) < 0.5 ? start + w * diff : end - diff * (1 - w);
}

/** torch.lerp on scalars in float32 (every operation rounded). */
export function lerpScalar32(start: number, end: number, w: number): number {
  const diff = f(end - start);
  return Math.abs(w) < 0.5 ? f(start + f(w * diff)) : f(end - f(diff * f(1 - w)));
}

/**
 * Per-sample broadcasting of a per-row scalar (sigma of shape [B] against x of shape
 * [B, ...]): out[b, :] = a[b, :] * s[b].
 */
export function scaleRows(out: Tensor, a: Tensor, s: ArrayLike<number>): Tensor {
  checkOperands("scaleRows", out, a);
  const o = out.data,
    x = a.data;
  const rows = s.length;
  if (rows === 0) return out;
  const per = o.length / rows;
  if (!Number.isInteger(per)) {
    throw new RangeError(`scaleRows: ${o.length} elements do not split into ${rows} rows`);
  }
  const r32 = is32(o);
  for (let b = 0, k = 0; b < rows; b++) {
    const sb = r32 ? f(s[b]) : s[b];
    for (let j = 0; j < per; j++, k++) o[k] = x[k] * sb;
  }
  return out;
}

/** Largest |a - b| over all elements (NaN if any operand is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  }
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // also propagates NaN
  }
  return m;
}

/**
 * True when every element is finite. Typed arrays get one monomorphic loop each, cheap enough
 * for a per-step check in a sampler loop: `v · 0` is ±0 for finite v and NaN for ±∞ and NaN,
 * summed into four running sums (no branch per element) checked once per block of 4,096.
 * Large float arrays take the same sums in WebAssembly SIMD lanes (simd.ts), several times
 * faster; the answer is the same.
 */
export function allFinite(a: ArrayLike<number>): boolean {
  if (a.length >= SIMD_MIN && (a instanceof Float32Array || a instanceof Float64Array)) {
    const r = simdAllFinite(a);
    if (r !== null) return r;
  }
  if (a instanceof Float64Array) return allFinite64(a);
  if (a instanceof Float32Array) return allFinite32(a);
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) return false;
  return true;
}

function allFinite64(a: Float64Array): boolean {
  const len = a.length;
  let k = 0;
  while (k < len) {
    const end = Math.min(len, k + 4096);
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (; k + 4 <= end; k += 4) {
      s0 += a[k] * 0;
      s1 += a[k + 1] * 0;
      s2 += a[k + 2] * 0;
      s3 += a[k + 3] * 0;
    }
    for (; k < end; k++) s0 += a[k] * 0;
    if (s0 + s1 + s2 + s3 !== 0) return false;
  }
  return true;
}

function allFinite32(a: Float32Array): boolean {
  const len = a.length;
  let k = 0;
  while (k < len) {
    const end = Math.min(len, k + 4096);
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (; k + 4 <= end; k += 4) {
      s0 += a[k] * 0;
      s1 += a[k + 1] * 0;
      s2 += a[k + 2] * 0;
      s3 += a[k + 3] * 0;
    }
    for (; k < end; k++) s0 += a[k] * 0;
    if (s0 + s1 + s2 + s3 !== 0) return false;
  }
  return true;
}
