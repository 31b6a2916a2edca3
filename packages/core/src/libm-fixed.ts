/**
 * The parts of core's correctly rounded libm (libm.ts) computed in BigInt fixed point (288
 * fraction bits): exp, expm1, log1p, atan, pow, tan, and sin/cos of large arguments. Slow
 * (tens of microseconds a call) but exact enough that rounding the fixed-point result once
 * gives the correctly rounded double.
 */
import { decomposeDouble } from "./float-bits.js";

// ---- BigInt fixed point: exp, pow, and sin/cos of large arguments -------------------------

/** Fractional bits of the fixed-point representation. */
const P = 288n;
const ONE = 1n << P;
/** x in fixed point (truncated toward zero below 2^-P; exact for |x| ≥ 2^-236). */
function toFixed(x: number): bigint {
  if (x === 0) return 0n;
  const { neg, m, e } = decomposeDouble(x);
  const shift = BigInt(e) + P;
  const v = shift >= 0n ? m << shift : m >> -shift;
  return neg ? -v : v;
}

/** Nearest double to v·2^(k − P): BigInt → Number rounds correctly, the power of two is exact. */
function fromFixed(v: bigint, k = 0): number {
  let r = Number(v);
  let s = k - Number(P);
  // scale in exact power-of-two steps so no intermediate overflows or underflows
  while (s > 1000) {
    r *= 2 ** 1000;
    s -= 1000;
  }
  while (s < -1000) {
    r *= 2 ** -1000;
    s += 1000;
  }
  return r * 2 ** s;
}

const mulF = (a: bigint, b: bigint): bigint => (a * b) >> P;

/** atanh(s) = s + s³/3 + s⁵/5 + … for |s| < 1/2, fixed point. */
function atanhSeries(s: bigint): bigint {
  const s2 = mulF(s, s);
  let pow = s,
    sum = s;
  for (let k = 3n; ; k += 2n) {
    pow = mulF(pow, s2);
    const term = pow / k;
    if (term === 0n) break;
    sum += term;
  }
  return sum;
}

/** atan(1/n) for an integer n ≥ 2, fixed point. */
function atanInv(n: bigint): bigint {
  const n2 = n * n;
  let pow = ONE / n,
    sum = pow,
    sign = -1n;
  for (let k = 3n; ; k += 2n) {
    pow /= n2;
    const term = pow / k;
    if (term === 0n) break;
    sum += sign * term;
    sign = -sign;
  }
  return sum;
}

/** ln 2 = 2·atanh(1/3) and π/2 (Machin), fixed point; computed on first use. */
let LN2_FIXED = 0n;
let PIO2_FIXED = 0n;
function constants(): void {
  if (LN2_FIXED !== 0n) return;
  LN2_FIXED = 2n * atanhSeries(ONE / 3n);
  PIO2_FIXED = (16n * atanInv(5n) - 4n * atanInv(239n)) >> 1n;
}

/** floor(√2·2^52): mantissas above it are halved so that log's argument lies in [√½, √2). */
const SQRT2_M = 0x16a09e667f3bcdn;

/** ln(x) in fixed point for a finite x > 0. */
function logFixed(x: number): bigint {
  constants();
  let { m, e } = decomposeDouble(x);
  while (m < 1n << 52n) {
    m <<= 1n;
    e -= 1;
  } // normalize subnormals
  // x = (m / 2^52)·2^(e + 52); bring the mantissa into [√½, √2)
  let k = e + 52;
  let base = 1n << 52n;
  if (m > SQRT2_M) {
    base <<= 1n;
    k += 1;
  }
  const s = ((m - base) << P) / (m + base);
  return BigInt(k) * LN2_FIXED + 2n * atanhSeries(s);
}

/** e^y = sum·2^(k − P) for y in fixed point (|y| ≤ ~750): sum in [2^P·e^-0.35, 2^P·e^0.35]. */
function expParts(y: bigint): { sum: bigint; k: number } {
  constants();
  const k = Math.round(Number(y >> (P - 40n)) / 2 ** 40 / Math.LN2);
  const r = y - BigInt(k) * LN2_FIXED; // |r| ≤ ~0.35
  let term = ONE,
    sum = ONE;
  for (let n = 1n; ; n++) {
    term = mulF(term, r) / n;
    if (term === 0n) break;
    sum += term;
  }
  return { sum, k };
}

/** e^y for y in fixed point (|y| ≤ ~750), returned as the nearest double. */
function expFixedToDouble(y: bigint): number {
  const approx = Number(y >> (P - 40n)) / 2 ** 40;
  if (approx > 709.8) return Infinity;
  if (approx < -745.2) return 0;
  const { sum, k } = expParts(y);
  return fromFixed(sum, k);
}

/** e^x, correctly rounded. exp(±∞) = ∞ / 0, exp(NaN) = NaN. */
export function exp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x === -Infinity) return 0;
  if (Math.abs(x) < 2 ** -60) return 1;
  return expFixedToDouble(toFixed(x));
}

/**
 * e^x − 1, correctly rounded (full relative accuracy near 0, where e^x − 1 would cancel).
 * expm1(±0) = ±0, expm1(+∞) = +∞, expm1(−∞) = −1, expm1(NaN) = NaN.
 */
export function expm1(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x < -40) return -1; // e^x < 2^-57: −1 + e^x rounds to −1
  if (Math.abs(x) < 2 ** -60) return x; // x + x²/2 rounds to x (keeps −0)
  if (x > 709.8) return Infinity;
  const { sum, k } = expParts(toFixed(x));
  // e^x − 1 = 2^k·(sum − 2^-k) (in units of 2^-P)
  return k >= 0 ? fromFixed(sum - (ONE >> BigInt(k)), k) : fromFixed((sum >> BigInt(-k)) - ONE);
}

/** Bit length of a positive BigInt. */
function bitLength(v: bigint): number {
  return v.toString(2).length;
}

/**
 * log(1 + x), correctly rounded (1 + x is formed exactly, so small x keeps full relative
 * accuracy). log1p(±0) = ±0, log1p(−1) = −∞, log1p(x < −1) = NaN, log1p(+∞) = +∞.
 */
export function log1p(x: number): number {
  if (Number.isNaN(x) || x < -1) return NaN;
  if (x === -1) return -Infinity;
  if (x === Infinity) return Infinity;
  if (Math.abs(x) < 2 ** -60) return x; // x − x²/2 rounds to x (keeps −0)
  constants();
  const v = ONE + toFixed(x); // 1 + x, exact
  // v = 2^k · w with w in [√½, √2) (fixed point)
  let k = bitLength(v) - 1 - Number(P);
  let w = k >= 0 ? v >> BigInt(k) : v << BigInt(-k);
  if (2n * w * w > 4n * ONE * ONE) {
    w >>= 1n;
    k += 1;
  }
  const s = ((w - ONE) << P) / (w + ONE);
  return fromFixed(BigInt(k) * LN2_FIXED + 2n * atanhSeries(s));
}

/** floor(√v) for a BigInt v ≥ 0 (Newton's iteration from above). */
function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt(Math.ceil(bitLength(v) / 2));
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** atan(s) = s − s³/3 + s⁵/5 − … for |s| ≤ 0.1, fixed point. */
function atanSeries(s: bigint): bigint {
  const s2 = mulF(s, s);
  let pow = s,
    sum = s,
    sign = -1n;
  for (let k = 3n; ; k += 2n) {
    pow = mulF(pow, s2);
    const term = pow / k;
    if (term === 0n) break;
    sum += sign * term;
    sign = -sign;
  }
  return sum;
}

/**
 * Arc tangent, correctly rounded: |x| > 1 through atan(x) = π/2 − atan(1/x), then three
 * angle halvings y → y / (1 + √(1 + y²)) and the series, all in fixed point.
 * atan(±0) = ±0, atan(±∞) = ±π/2 (rounded), atan(NaN) = NaN.
 */
export function atan(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < 2 ** -27) return x; // x − x³/3 rounds to x (keeps −0)
  constants();
  const neg = x < 0;
  let y = x === Infinity || x === -Infinity ? 0n : toFixed(Math.abs(x));
  const invert = y > ONE || y === 0n;
  if (invert && y !== 0n) y = (ONE << P) / y; // 1/|x|
  for (let i = 0; i < 3; i++) y = (y << P) / (ONE + isqrt(ONE * ONE + y * y));
  let a = atanSeries(y) << 3n;
  if (invert) a = PIO2_FIXED - a;
  const r = fromFixed(a);
  return neg ? -r : r;
}

function isOddInteger(b: number): boolean {
  return Number.isInteger(b) && Math.abs(b) < 2 ** 53 && Math.abs(b % 2) === 1;
}

/**
 * a^b, correctly rounded, with C `pow`'s special cases: pow(x, 0) = pow(1, y) = 1, negative
 * bases only with integer exponents (NaN otherwise), zero and infinite operands as C does
 * (through `Math.pow`, which follows the same rules there).
 */
export function pow(a: number, b: number): number {
  if (b === 0 || a === 1) return 1;
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return Math.pow(a, b);
  if (b === 1) return a;
  if (b === 2) return a * a; // the exact square rounded once
  if (b === 0.5 && a > 0) return Math.sqrt(a);
  if (a < 0) {
    if (!Number.isInteger(b)) return NaN;
    const r = pow(-a, b);
    return isOddInteger(b) ? -r : r;
  }
  const { neg, m, e } = decomposeDouble(b);
  let y = logFixed(a) * m;
  y = e >= 0 ? y << BigInt(e) : y >> BigInt(-e);
  return expFixedToDouble(neg ? -y : y);
}

/** sin and cos of r in fixed point, |r| ≤ π/4 (Taylor series). */
function sinCosFixed(r: bigint): [bigint, bigint] {
  const r2 = mulF(r, r);
  let term = r,
    sn = r;
  for (let n = 2n; ; n += 2n) {
    term = -mulF(term, r2) / (n * (n + 1n));
    if (term === 0n) break;
    sn += term;
  }
  term = ONE;
  let cs = ONE;
  for (let n = 1n; ; n += 2n) {
    term = -mulF(term, r2) / (n * (n + 1n));
    if (term === 0n) break;
    cs += term;
  }
  return [sn, cs];
}

/**
 * Tangent, correctly rounded (fixed point: x − q·π/2 exactly enough, then sin/cos series and
 * one division). tan(±0) = ±0; tan(±∞) = tan(NaN) = NaN.
 */
export function tan(x: number): number {
  if (x - x !== 0) return NaN;
  if (Math.abs(x) < 2 ** -27) return x; // x + x³/3 rounds to x (keeps −0)
  constants();
  const q = Math.round(x / (Math.PI / 2));
  const [sn, cs] = sinCosFixed(toFixed(x) - BigInt(q) * PIO2_FIXED);
  // tan(r + qπ/2) = tan r for even q, −cot r for odd q
  return fromFixed(q % 2 === 0 ? (sn << P) / cs : -((cs << P) / sn));
}

/** sincos for 2^20·π/2 < |x|: fixed-point reduction below 2^30, `Math.sin/cos` beyond. */
export function sincosLarge(x: number, out: Float64Array): void {
  if (Math.abs(x) >= 2 ** 30) {
    out[0] = Math.sin(x);
    out[1] = Math.cos(x);
    return;
  }
  constants();
  const q = Math.round(x / (Math.PI / 2));
  const [sn, cs] = sinCosFixed(toFixed(x) - BigInt(q) * PIO2_FIXED);
  const quadrant = ((q % 4) + 4) % 4;
  out[0] = fromFixed(quadrant === 0 ? sn : quadrant === 1 ? cs : quadrant === 2 ? -sn : -cs);
  out[1] = fromFixed(quadrant === 0 ? cs : quadrant === 1 ? -sn : quadrant === 2 ? -cs : sn);
}
