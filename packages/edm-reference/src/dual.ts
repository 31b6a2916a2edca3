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
 */

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
  pow: (a, b) => Math.pow(a, b),
  neg: (a) => -a,
  recip: (a) => 1 / a,
  square: (a) => a * a,
  sqrt: Math.sqrt,
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  atan: Math.atan,
  asin: Math.asin,
  acos: Math.acos,
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
    const v = Math.pow(x.re, y.re);
    let du = 0;
    // d(x^y) = y x^(y-1) dx + x^y ln(x) dy; each term only when its tangent is nonzero,
    // so that 0^2 or (-2)^3 with a constant exponent stays finite.
    if (x.du !== 0) du += y.re * Math.pow(x.re, y.re - 1) * x.du;
    if (y.du !== 0) du += v * Math.log(x.re) * y.du;
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
  exp: unary(Math.exp, (_x, fx) => fx),
  expm1: unary(Math.expm1, (_x, fx) => fx + 1),
  log: unary(Math.log, (x) => 1 / x),
  log1p: unary(Math.log1p, (x) => 1 / (1 + x)),
  sin: unary(Math.sin, (x) => Math.cos(x)),
  cos: unary(Math.cos, (x) => -Math.sin(x)),
  tan: unary(Math.tan, (_x, fx) => 1 + fx * fx),
  sinh: unary(Math.sinh, (x) => Math.cosh(x)),
  cosh: unary(Math.cosh, (x) => Math.sinh(x)),
  tanh: unary(Math.tanh, (_x, fx) => 1 - fx * fx),
  atan: unary(Math.atan, (x) => 1 / (1 + x * x)),
  asin: unary(Math.asin, (x) => 1 / Math.sqrt(1 - x * x)),
  acos: unary(Math.acos, (x) => -1 / Math.sqrt(1 - x * x)),
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
