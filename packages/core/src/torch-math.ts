/**
 * One arithmetic vocabulary: how the originals compute each scalar operation, said once.
 *
 * `torchMath(dtype)` is PyTorch on the CPU (x86-64, AVX2 build, as the reference fixtures
 * were recorded) for values held in tensors of `dtype`, 0-d tensors included:
 * - `+ − × ÷` and `sqrt` are IEEE operations rounded to the dtype (`r` rounds a value to it,
 *   as a Python float meeting a tensor or the result of one op is rounded);
 * - `exp`, `log`, `expm1` and `sin` are SLEEF's 1-ulp kernels in both dtypes: ATen maps
 *   every element through the vectorized function, the tail of the loop and 0-d tensors
 *   included (a partial vector load), so a scalar gets SLEEF's result, never the C library's.
 *   float32: `Sleef_expf8_u10`, `Sleef_logf8_u10`, `Sleef_sinf8_u10` (sleef-f32.ts);
 *   float64: `Sleef_expd4_u10`, `Sleef_logd4_u10`, `Sleef_expm1d4_u10` (torch/sleef-f64.ts).
 * - `pow(x, e)` with a Python-number exponent: ATen's special cases first (2: x·x, 3: x·x·x,
 *   −2: 1/(x·x), 0.5: sqrt, −0.5: 1/sqrt, −1: 1/x, 1: x, 0: 1); otherwise the vectorized
 *   kernel runs over whole double vectors (two AVX registers, 8 doubles / 16 floats per
 *   iteration) with `Sleef_powd4_u10` and the remaining tail with the C library's `pow`. A
 *   0-d tensor is all tail, so `pow` here is the C library's (correctly rounded in practice,
 *   core's `libm.pow`); `powTensor` applies the vector/tail split to a whole 1-d tensor.
 *
 * `libcMath` is the other original: Python's `math`, numpy's float64 functions and C's libm,
 * which return the correctly rounded value in practically every case (core's `libm`).
 *
 * Everything is plain JavaScript with fused multiply-adds emulated (`fma32`, `fma64`), so the
 * results are the same on every JavaScript engine; V8's `Math.exp/log/pow/expm1/sin` are never
 * used for a value that reaches a sampler result. Known gaps: float32 `expm1` is SLEEF's
 * float64 kernel rounded to float32 (within one float32 ulp of `Sleef_expm1f8_u10`), float32
 * `sin` covers |x| < 125 only, and float32 vector `pow` uses the C library's on every element.
 */
import * as libm from "./libm.js";
import { lerpScalar, lerpScalar32 } from "./ops.js";
import { sleefExpf, sleefLogf, sleefSinf } from "./sleef-f32.js";
import type { DType } from "./tensor.js";
import { sleefExp, sleefExpm1, sleefLog, sleefPow } from "./torch/sleef-f64.js";

/** The scalar functions a formula is evaluated with (one original's libm). */
export interface ScalarFunctions {
  exp(x: number): number;
  log(x: number): number;
  pow(a: number, b: number): number;
  sin(x: number): number;
  sqrt(x: number): number;
}

/** Python `math` / numpy float64 / C libm: correctly rounded (core's `libm`). */
export const libcMath: ScalarFunctions = {
  exp: libm.exp,
  log: libm.log,
  pow: libm.pow,
  sin: libm.sin,
  sqrt: Math.sqrt,
};

export type Rounder = (v: number) => number;

/** PyTorch CPU arithmetic on values held in tensors of one dtype (see the module comment). */
export interface TorchMath extends ScalarFunctions {
  readonly dtype: DType;
  /** Round to the dtype: a Python float meeting a tensor, or the result of one op. */
  readonly r: Rounder;
  add(a: number, b: number): number;
  sub(a: number, b: number): number;
  mul(a: number, b: number): number;
  div(a: number, b: number): number;
  expm1(x: number): number;
  /**
   * `a * b + c` as torch evaluates the expression on tensors: the product rounded, then the
   * sum rounded (two ops, no fusion).
   */
  mulAdd(a: number, b: number, c: number): number;
  /** `a * b + c * d` as torch evaluates it: both products rounded, then the sum. */
  dot2(a: number, b: number, c: number, d: number): number;
  /** `a * b * c`, left to right, each product rounded. */
  mul3(a: number, b: number, c: number): number;
  /** `torch.lerp(start, end, w)` for w < 0.5 (`start + w·(end − start)`) and above (`end − (1 − w)·(end − start)`). */
  lerp(start: number, end: number, w: number): number;
}

const identity: Rounder = (v) => v;

function make(dtype: DType): TorchMath {
  const f32 = dtype === "float32";
  const r: Rounder = f32 ? Math.fround : identity;
  const pow = (v: number, e: number): number => powScalar(v, e, r);
  return {
    dtype,
    r,
    add: (a, b) => r(a + b),
    sub: (a, b) => r(a - b),
    mul: (a, b) => r(a * b),
    div: (a, b) => r(a / b),
    sqrt: (v) => r(Math.sqrt(v)),
    exp: f32 ? sleefExpf : sleefExp,
    log: f32 ? sleefLogf : sleefLog,
    expm1: f32 ? (v) => Math.fround(sleefExpm1(Math.fround(v))) : sleefExpm1,
    sin: f32 ? sleefSinf : (v) => libm.sin(v),
    pow,
    mulAdd: (a, b, c) => r(r(a * b) + c),
    dot2: (a, b, c, d) => r(r(a * b) + r(c * d)),
    mul3: (a, b, c) => r(r(a * b) * c),
    lerp: f32 ? (start, end, w) => lerpScalar32(start, end, Math.fround(w)) : lerpScalar,
  };
}

const F32 = make("float32");
const F64 = make("float64");

/** PyTorch CPU arithmetic for values held in tensors of `dtype`. */
export function torchMath(dtype: DType): TorchMath {
  return dtype === "float32" ? F32 : F64;
}

/** The rounding a value gets when stored in a tensor of `dtype`. */
export function rounderFor(dtype: DType): Rounder {
  return torchMath(dtype).r;
}

/** `tensor ** e` for one element held alone (a 0-d tensor, or the tail of the vector loop). */
function powScalar(v: number, e: number, r: Rounder): number {
  if (e === 0) return 1;
  if (e === 1) return v;
  if (e === 2) return r(v * v);
  if (e === 3) return r(r(v * v) * v);
  if (e === -2) return r(1 / r(v * v));
  if (e === 0.5) return r(Math.sqrt(v));
  if (e === -0.5) return r(1 / r(Math.sqrt(v)));
  if (e === -1) return r(1 / v);
  // C's pow (float32: powf, correctly rounded like the double result rounded to float32)
  return r(libm.pow(v, r(e)));
}

/**
 * `tensor ** e` on a whole contiguous 1-d tensor of `dtype` (values already of that dtype):
 * the special exponents as `TorchMath.pow`; otherwise, in float64, SLEEF's pow on the first
 * ⌊n/8⌋·8 elements (the vector loop) and the C library's on the rest.
 */
export function powTensor(values: ArrayLike<number>, e: number, dtype: DType): Float64Array {
  const m = torchMath(dtype);
  const n = values.length;
  const out = new Float64Array(n);
  const special = [0, 1, 2, 3, -2, 0.5, -0.5, -1].includes(e);
  const vectorEnd = special || dtype === "float32" ? 0 : n - (n % 8);
  for (let i = 0; i < n; i++) out[i] = i < vectorEnd ? sleefPow(values[i], e) : m.pow(values[i], e);
  return out;
}

export { sleefExp, sleefExpm1, sleefLog, sleefPow };
