/**
 * Correctly rounded float64 `exp`, `log`, `pow`, `sin` and `cos`, computed in BigInt fixed
 * point (288 fractional bits) and rounded once to the nearest double.
 *
 * Why: NVlabs' samplers build their schedules with C-library / torch transcendental
 * functions (`np.e ** x`, `x ** (1/rho)`, `t ** rho`, `.log()`, `.sin()`). On the reference
 * machine those return the correctly rounded result in practically every case, whereas
 * V8's `Math.pow` / `Math.exp` (fdlibm ports) are off by one unit in the last place for a
 * few percent of inputs: `Math.pow(Math.E, 10.05)` is 23155.786845395414, the correctly
 * rounded value (and the one NVlabs computes for the VP default sigma_max) is
 * 23155.78684539541. The NVlabs reproduction (nvlabs.ts) therefore evaluates its scalar
 * schedule arithmetic with these functions.
 *
 * Speed: tens of microseconds a call. They are meant for per-call setup (schedules, a few
 * hundred scalars), never for per-element work.
 *
 * Candidate for @edmkit/core (numeric.ts): any port that must match C-library results bit
 * for bit needs the same functions.
 */

const P = 288n; // fractional bits of the fixed-point representation
const ONE = 1n << P;

/** Exact decomposition of a finite nonzero double: |x| = m * 2^e, m a 53-bit (or smaller) integer. */
function decompose(x: number): { neg: boolean; m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const neg = (hi >>> 31) === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (biased === 0) e = -1074; // subnormal
  else {
    m |= 1n << 52n;
    e = biased - 1075;
  }
  return { neg, m, e };
}

/** x in fixed point (truncated toward zero below 2^-P; exact for |x| >= 2^-236). */
function toFixed(x: number): bigint {
  if (x === 0) return 0n;
  const { neg, m, e } = decompose(x);
  const shift = BigInt(e) + P;
  const v = shift >= 0n ? m << shift : m >> -shift;
  return neg ? -v : v;
}

/** Nearest double to v * 2^(k - P): BigInt -> Number rounds correctly, the power of two is exact. */
function fromFixed(v: bigint, k = 0): number {
  let r = Number(v);
  let s = k - Number(P);
  // scale in exact power-of-two steps so no intermediate overflows or underflows
  while (s > 1000) { r *= 2 ** 1000; s -= 1000; }
  while (s < -1000) { r *= 2 ** -1000; s += 1000; }
  return r * 2 ** s;
}

const mulF = (a: bigint, b: bigint): bigint => (a * b) >> P;

/** atanh(s) = s + s^3/3 + s^5/5 + ... for |s| < 1/2, fixed point. */
function atanhSeries(s: bigint): bigint {
  const s2 = mulF(s, s);
  let pow = s, sum = s;
  for (let k = 3n; ; k += 2n) {
    pow = mulF(pow, s2);
    const term = pow / k;
    if (term === 0n) break;
    sum += term;
  }
  return sum;
}

/** atan(1/n) for an integer n >= 2, fixed point. */
function atanInv(n: bigint): bigint {
  const n2 = n * n;
  let pow = ONE / n, sum = pow, sign = -1n;
  for (let k = 3n; ; k += 2n) {
    pow /= n2;
    const term = pow / k;
    if (term === 0n) break;
    sum += sign * term;
    sign = -sign;
  }
  return sum;
}

const LN2 = 2n * atanhSeries(ONE / 3n); // ln 2 = 2 atanh(1/3)
const PI = 16n * atanInv(5n) - 4n * atanInv(239n); // Machin
const PI_2 = PI >> 1n;
const SQRT2_M = 0x16a09e667f3bcdn; // floor(sqrt(2) * 2^52), mantissa threshold for m > sqrt 2

/** ln(x) in fixed point for a finite x > 0. */
function logFixed(x: number): bigint {
  let { m, e } = decompose(x);
  while (m < 1n << 52n) { m <<= 1n; e -= 1; } // normalize subnormals
  // x = (m / 2^52) * 2^(e + 52); bring the mantissa into [sqrt(1/2), sqrt(2))
  let k = e + 52;
  let base = 1n << 52n;
  if (m > SQRT2_M) { base <<= 1n; k += 1; }
  const s = ((m - base) << P) / (m + base);
  return BigInt(k) * LN2 + 2n * atanhSeries(s);
}

/** e^(y) for y in fixed point (|y| <= ~750), returned as the nearest double. */
function expFixedToDouble(y: bigint): number {
  const approx = Number(y >> (P - 40n)) / 2 ** 40;
  if (approx > 709.8) return Infinity;
  if (approx < -745.2) return 0;
  const k = Math.round(approx / Math.LN2);
  const r = y - BigInt(k) * LN2; // |r| <= ~0.35
  let term = ONE, sum = ONE;
  for (let n = 1n; ; n++) {
    term = mulF(term, r) / n;
    if (term === 0n) break;
    sum += term;
  }
  return fromFixed(sum, k);
}

/** Correctly rounded e^x. */
export function crExp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x === -Infinity) return 0;
  if (Math.abs(x) < 2 ** -60) return 1;
  return expFixedToDouble(toFixed(x));
}

/** Correctly rounded natural logarithm. */
export function crLog(x: number): number {
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  if (x === 1) return 0;
  return fromFixed(logFixed(x));
}

function isOddInteger(b: number): boolean {
  return Number.isInteger(b) && Math.abs(b) < 2 ** 53 && Math.abs(b % 2) === 1;
}

/**
 * Correctly rounded a^b (C `pow` semantics for the special cases: pow(x, 0) = 1,
 * pow(1, y) = 1, negative bases only with integer exponents).
 */
export function crPow(a: number, b: number): number {
  if (b === 0 || a === 1) return 1;
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return Math.pow(a, b);
  if (b === 1) return a;
  if (b === 2) return a * a; // the exact square rounded once
  if (b === 0.5 && a > 0) return Math.sqrt(a);
  if (a < 0) {
    if (!Number.isInteger(b)) return NaN;
    const r = crPow(-a, b);
    return isOddInteger(b) ? -r : r;
  }
  const { neg, m, e } = decompose(b);
  let y = logFixed(a) * m;
  y = e >= 0 ? y << BigInt(e) : y >> BigInt(-e);
  return expFixedToDouble(neg ? -y : y);
}

/** sin and cos of r in fixed point, |r| <= pi/4 (Taylor series). */
function sinCosFixed(r: bigint): [bigint, bigint] {
  const r2 = mulF(r, r);
  let term = r, sin = r;
  for (let n = 2n; ; n += 2n) {
    term = -mulF(term, r2) / (n * (n + 1n));
    if (term === 0n) break;
    sin += term;
  }
  term = ONE;
  let cos = ONE;
  for (let n = 1n; ; n += 2n) {
    term = -mulF(term, r2) / (n * (n + 1n));
    if (term === 0n) break;
    cos += term;
  }
  return [sin, cos];
}

function sinCosReduced(x: number): { q: number; s: bigint; c: bigint } {
  const X = toFixed(x);
  const q = Math.round(x / (Math.PI / 2));
  const r = X - BigInt(q) * PI_2;
  const [s, c] = sinCosFixed(r);
  return { q: ((q % 4) + 4) % 4, s, c };
}

/** Correctly rounded sin(x) for |x| < 2^30 (Math.sin beyond). */
export function crSin(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  if (x === 0 || Math.abs(x) < 2 ** -30) return x; // sin x rounds to x there
  if (Math.abs(x) >= 2 ** 30) return Math.sin(x);
  const { q, s, c } = sinCosReduced(x);
  return fromFixed(q === 0 ? s : q === 1 ? c : q === 2 ? -s : -c);
}

/** Correctly rounded cos(x) for |x| < 2^30 (Math.cos beyond). */
export function crCos(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  if (x === 0) return 1;
  if (Math.abs(x) >= 2 ** 30) return Math.cos(x);
  const { q, s, c } = sinCosReduced(x);
  return fromFixed(q === 0 ? c : q === 1 ? -s : q === 2 ? -c : s);
}

/**
 * The scalar functions a schedule or discretization is computed with. `exp(x)` is the
 * natural exponential in the formula; a caller that wants NVlabs' `np.e ** x` passes
 * `x => pow(Math.E, x)`.
 */
export interface ScalarMath {
  exp(x: number): number;
  log(x: number): number;
  pow(a: number, b: number): number;
  sin(x: number): number;
  sqrt(x: number): number;
}

/** JavaScript's own functions (fast; within an ulp). */
export const jsMath: ScalarMath = {
  exp: Math.exp,
  log: Math.log,
  pow: Math.pow,
  sin: Math.sin,
  sqrt: Math.sqrt,
};

/** Correctly rounded functions (what glibc / torch CPU return in practice). */
export const correctlyRoundedMath: ScalarMath = {
  exp: crExp,
  log: crLog,
  pow: crPow,
  sin: crSin,
  sqrt: Math.sqrt,
};
