/**
 * Forward-mode automatic differentiation with dual numbers a + b·ε (ε² = 0).
 *
 * A schedule is written once over the small numeric interface `Num<T>` and then runs on
 * plain numbers (its value) and on duals (value and exact derivative, no finite
 * differences):
 *
 *   const sigma: ScalarFunction = (t, m) => m.sqrt(m.expm1(m.add(m.mul(9.95, m.square(t)), m.mul(0.1, t))));
 *   derivative(sigma, 0.5)  // sigma'(0.5), exact to rounding
 *
 * Every operation applies the chain rule to the ε part: f(a + bε) = f(a) + f'(a)·b·ε.
 *
 * The elementary functions are deterministic (`det` below: core's correctly rounded `libm`
 * and compositions of it), never V8's `Math.exp/log/...`, so a schedule written over `Num`
 * gives the same bits on every JavaScript engine.
 */
import { libm } from "@edmkit/core";

/**
 * Deterministic elementary functions: `exp`, `expm1`, `log`, `log1p`, `sin`, `cos`, `tan`,
 * `atan`, `pow` correctly rounded (core's `libm`); the hyperbolic and inverse trigonometric
 * ones composed from them with IEEE arithmetic (within a few ulp, same bits everywhere).
 */
const det = {
  exp: libm.exp,
  expm1: libm.expm1,
  log: libm.log,
  log1p: libm.log1p,
  sin: libm.sin,
  cos: libm.cos,
  tan: libm.tan,
  atan: libm.atan,
  pow: libm.pow,
  /** sinh x = (E + E / (E + 1)) / 2 with E = e^|x| − 1 (no cancellation near 0), signed. */
  sinh(x: number): number {
    const a = Math.abs(x);
    const e = libm.expm1(a);
    const v = a > 20 ? 0.5 * (e + 1) : 0.5 * (e + e / (e + 1));
    return x < 0 ? -v : v;
  },
  /** cosh x = (e^|x| + e^-|x|) / 2. */
  cosh(x: number): number {
    const e = libm.exp(Math.abs(x));
    return 0.5 * e + 0.5 / e;
  },
  /** tanh x = E / (E + 2) with E = e^(2|x|) − 1, signed. */
  tanh(x: number): number {
    const a = Math.abs(x);
    const e = a > 22 ? Infinity : libm.expm1(2 * a);
    const v = a > 22 ? 1 : e / (e + 2);
    return x < 0 ? -v : v;
  },
  /** asin x = atan(x / √((1 − x)(1 + x))). */
  asin: (x: number): number => libm.atan(x / Math.sqrt((1 - x) * (1 + x))),
  /** acos x = 2 atan(√((1 − x) / (1 + x))). */
  acos: (x: number): number => 2 * libm.atan(Math.sqrt((1 - x) / (1 + x))),
};

/** a dual number re + du·ε */
export class Dual {
  constructor(
    readonly re: number,
    readonly du: number = 0,
  ) {}

  toString(): string {
    return `${this.re} + ${this.du}ε`;
  }
}

/**
 * The arithmetic a schedule may use. Binary operations accept plain numbers for either
 * operand (constants).
 */
export interface Num<T> {
  /** a constant */
  c(v: number): T;
  /** the value (real part) */
  value(a: T | number): number;
  add(a: T | number, b: T | number): T;
  sub(a: T | number, b: T | number): T;
  mul(a: T | number, b: T | number): T;
  div(a: T | number, b: T | number): T;
  /** a^b */
  pow(a: T | number, b: T | number): T;
  neg(a: T | number): T;
  recip(a: T | number): T;
  square(a: T | number): T;
  sqrt(a: T | number): T;
  exp(a: T | number): T;
  /** e^a - 1, accurate near 0 */
  expm1(a: T | number): T;
  log(a: T | number): T;
  /** log(1 + a), accurate near 0 */
  log1p(a: T | number): T;
  sin(a: T | number): T;
  cos(a: T | number): T;
  tan(a: T | number): T;
  sinh(a: T | number): T;
  cosh(a: T | number): T;
  tanh(a: T | number): T;
  atan(a: T | number): T;
  asin(a: T | number): T;
  acos(a: T | number): T;
  abs(a: T | number): T;
}

/**
 * A scalar function of time written over `Num`, so it runs on numbers and on duals:
 * `(t, m) => m.mul(t, t)`.
 */
export type ScalarFunction = <T>(t: T, m: Num<T>) => T;

/** Num on plain numbers. */
export const numberMath: Num<number> = {
  c: (v) => v,
  value: (a) => a,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => det.pow(a, b),
  neg: (a) => -a,
  recip: (a) => 1 / a,
  square: (a) => a * a,
  sqrt: Math.sqrt,
  exp: det.exp,
  expm1: det.expm1,
  log: det.log,
  log1p: det.log1p,
  sin: det.sin,
  cos: det.cos,
  tan: det.tan,
  sinh: det.sinh,
  cosh: det.cosh,
  tanh: det.tanh,
  atan: det.atan,
  asin: det.asin,
  acos: det.acos,
  abs: Math.abs,
};

const lift = (a: Dual | number): Dual => (typeof a === "number" ? new Dual(a, 0) : a);

/** A unary function f with derivative df applied to a dual. */
function unary(f: (x: number) => number, df: (x: number, fx: number) => number) {
  return (a: Dual | number): Dual => {
    const d = lift(a);
    const fx = f(d.re);
    return new Dual(fx, d.du === 0 ? 0 : df(d.re, fx) * d.du);
  };
}

/** Num on dual numbers: value and first derivative. */
export const dualMath: Num<Dual> = {
  c: (v) => new Dual(v, 0),
  value: (a) => (typeof a === "number" ? a : a.re),
  add: (a, b) => {
    const x = lift(a),
      y = lift(b);
    return new Dual(x.re + y.re, x.du + y.du);
  },
  sub: (a, b) => {
    const x = lift(a),
      y = lift(b);
    return new Dual(x.re - y.re, x.du - y.du);
  },
  mul: (a, b) => {
    const x = lift(a),
      y = lift(b);
    return new Dual(x.re * y.re, x.du * y.re + x.re * y.du);
  },
  div: (a, b) => {
    const x = lift(a),
      y = lift(b);
    const q = x.re / y.re;
    return new Dual(q, (x.du - q * y.du) / y.re);
  },
  pow: (a, b) => {
    const x = lift(a),
      y = lift(b);
    const v = det.pow(x.re, y.re);
    let du = 0;
    // d(x^y) = y x^(y-1) dx + x^y ln(x) dy; each term only when its tangent is nonzero,
    // so that 0^2 or (-2)^3 with a constant exponent stays finite.
    if (x.du !== 0) du += y.re * det.pow(x.re, y.re - 1) * x.du;
    if (y.du !== 0) du += v * det.log(x.re) * y.du;
    return new Dual(v, du);
  },
  neg: (a) => {
    const x = lift(a);
    return new Dual(-x.re, -x.du);
  },
  recip: unary(
    (x) => 1 / x,
    (_x, fx) => -fx * fx,
  ),
  square: unary(
    (x) => x * x,
    (x) => 2 * x,
  ),
  sqrt: unary(Math.sqrt, (_x, fx) => 0.5 / fx),
  exp: unary(det.exp, (_x, fx) => fx),
  expm1: unary(det.expm1, (_x, fx) => fx + 1),
  log: unary(det.log, (x) => 1 / x),
  log1p: unary(det.log1p, (x) => 1 / (1 + x)),
  sin: unary(det.sin, (x) => det.cos(x)),
  cos: unary(det.cos, (x) => -det.sin(x)),
  tan: unary(det.tan, (_x, fx) => 1 + fx * fx),
  sinh: unary(det.sinh, (x) => det.cosh(x)),
  cosh: unary(det.cosh, (x) => det.sinh(x)),
  tanh: unary(det.tanh, (_x, fx) => 1 - fx * fx),
  atan: unary(det.atan, (x) => 1 / (1 + x * x)),
  asin: unary(det.asin, (x) => 1 / Math.sqrt(1 - x * x)),
  acos: unary(det.acos, (x) => -1 / Math.sqrt(1 - x * x)),
  abs: unary(Math.abs, (x) => (x > 0 ? 1 : x < 0 ? -1 : 0)),
};

/** f(t) and f'(t) by one evaluation on the dual t + ε. */
export function valueAndDerivative(f: ScalarFunction, t: number): [number, number] {
  const r: unknown = f(new Dual(t, 1), dualMath);
  if (!(r instanceof Dual)) {
    throw new TypeError(
      `valueAndDerivative: the function returned ${typeof r} for a dual input; write it over the numeric interface, e.g. (t, m) => m.mul(t, t), using only m's operations`,
    );
  }
  return [r.re, r.du];
}

/** f'(t), exact up to rounding (forward-mode AD). */
export function derivative(f: ScalarFunction, t: number): number {
  return valueAndDerivative(f, t)[1];
}
