/**
 * Fused multiply-add `a·b + c` rounded once, in float32 and in float64.
 *
 * Why ports need it: torch's x86-64 CPU kernels are built for AVX2 with floating-point
 * contraction, so wherever the C++ source writes `x + y * z` the compiled kernel may use one
 * FMA instruction (one rounding) instead of a multiply and an add (two roundings). Where
 * that happens a faithful port has to round once too. Confirmed so far:
 * - `torch.linspace` (ATen `linspace_kernel`): the per-point formulas `start + step·i` and
 *   `end − step·(steps − 1 − i)` are fused, in float32 and in float64 (see `torchLinspace`
 *   in numeric.ts; reproduces the k-diffusion and diffusers schedule fixtures bit for bit);
 * - the float32 Box-Muller kernel of `torch.randn` (rng/fill16-f32.ts; reproduces the
 *   torch 1.13 randn vectors of fixtures/rng bit for bit);
 * - SLEEF's float32 `expf`/`logf` behind `Tensor.exp()`/`.log()` (sleef-f32.ts) and numpy's
 *   float32 SIMD `log` (diffusers' `numpyLogF32`), which are written with FMA.
 *
 * JavaScript has no FMA. {@link fma32} is exact and fast for float32 operands (it runs in the
 * randn hot loop); {@link fma64} is exact for all doubles: a few double operations for operands
 * well inside the normal range, exact BigInt arithmetic (microseconds) otherwise.
 */

import { decomposeDouble } from "./float-bits.js";

const f = Math.fround;

/**
 * `fma(a, b, c)` on float32 values, rounded once to float32 (round to nearest, ties to
 * even), as an FMA instruction on float32 registers computes it.
 *
 * Precondition: `a` and `b` are float32 values (anything `Math.fround` returns, including
 * integers of magnitude ≤ 2^24), so that `p = a·b` (at most 48 significant bits) is exact in
 * double; `c` may be any double.
 *
 * Method: `s = p + c` rounded to double, then `r = fround(s)`. Rounding twice can only differ
 * from rounding the exact `p + c` once when s lands exactly on a midpoint between two float32
 * values (every float32 value and midpoint is a double, and rounding is monotonic). That is
 * detected with `m = 2s − r`, which is exact and, when s ≠ r, is a float32 value only when s is
 * such a midpoint (m is then the neighbour on the other side). An exact sum (`s − p = c` and
 * `s − c = p`) keeps fround's ties-to-even; otherwise (rare) the sign of the rounding error
 * of `p + c` (TwoSum) picks r or m. Subnormal float32 results, overflow to ±∞, NaN and
 * infinities follow IEEE 754.
 *
 * Written for the randn hot loop: the common path is a few operations and small enough for
 * V8 to inline at every call site, so no number is boxed. Checked against exact BigInt
 * arithmetic on random operands and on constructed midpoint cases (test/fma.test.ts).
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  const m = 2 * s - r;
  // s is a float32 (m = r) or not a midpoint, or the sum is exact: r is the answer
  if (m === r || f(m) !== m || (s - p === c && s - c === p)) return r;
  return inexactMidpoint(a, b, c);
}

/** float32's overflow threshold: the midpoint between FLT_MAX and 2^128. */
const FLT_OVERFLOW = 2 ** 128 - 2 ** 103;

/**
 * fma32 when `s = fl(a·b + c)` is a float32 midpoint between r = fround(s) and m but the sum
 * is not exact: the exact value lies on the side of the rounding error. When r overflowed
 * (|s| ≥ FLT_OVERFLOW), only an exact value below the threshold rounds to ±FLT_MAX.
 * (Recomputes from a, b, c so that the call in fma32 stays small.)
 */
function inexactMidpoint(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  const m = 2 * s - r;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (r - r !== 0) {
    return Math.abs(s) === FLT_OVERFLOW && err > 0 !== s > 0 ? f(s - Math.sign(s) * 2 ** 103) : r;
  }
  return err !== 0 && err > 0 === m > r ? m : r;
}

/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLIT = 134217729;
const BIG = 2 ** 900,
  SMALL = 2 ** -900;
/** One double and its two 32-bit words, for the last-bit work of `addRoundOdd`. */
const F64 = new Float64Array(1),
  U32 = new Uint32Array(F64.buffer);
/** Index of the low word (the platform's byte order). */
const LO = (() => {
  F64[0] = 1; // 0x3ff00000_00000000: the low word is the zero one
  return U32[0] === 0 ? 0 : 1;
})();

/**
 * `fma(a, b, c)` on doubles, rounded once to double (round to nearest, ties to even;
 * subnormal results, signed zeros, infinities and NaN as IEEE 754 specifies).
 *
 * Where a, b, c, a·b are well inside the normal range (magnitudes between 2^-900 and 2^900,
 * c nonzero): Boldo and Melquiond's emulation with rounding to odd ("Emulation of FMA and
 * correctly rounded sums: proved algorithms using rounding to odd", IEEE TC 2008). The product
 * is split exactly, a·b = uh + ul (Dekker's product with Veltkamp's splitting), then
 * c + uh = th + tl exactly (Knuth's TwoSum), and the result is th + RO(tl + ul), the inner sum
 * rounded to odd and the outer to nearest: the correctly rounded a·b + c (no intermediate can
 * overflow or underflow there); a zero c gives the rounded product. Elsewhere: the exact value
 * as a BigInt times a power of two, rounded once (`fma64Exact`). Checked against `fma64Exact` on random and
 * constructed near-tie operands (test/fma.test.ts).
 */
export function fma64(a: number, b: number, c: number): number {
  const p = a * b;
  const ap = Math.abs(p),
    ac = Math.abs(c);
  // a zero factor: the product is exactly the signed zero p (c decides, as IEEE's fma)
  if (
    (a === 0 && Math.abs(b) < Number.POSITIVE_INFINITY) ||
    (b === 0 && Math.abs(a) < Number.POSITIVE_INFINITY)
  ) {
    return c + p;
  }
  if (!(ap < BIG && ap > SMALL && ac < BIG && Math.abs(a) < BIG && Math.abs(b) < BIG))
    return fma64Exact(a, b, c);
  // a zero c adds nothing to a rounded product that is neither zero nor subnormal
  if (c === 0) return p + c;
  if (ac < SMALL) return fma64Exact(a, b, c);
  // a·b = p + ul exactly
  let t = SPLIT * a;
  const ah = t - (t - a),
    al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b),
    bl = b - bh;
  const ul = ah * bh - p + ah * bl + al * bh + al * bl;
  // c + p = th + tl exactly
  const th = c + p,
    bb = th - c,
    tl = c - (th - bb) + (p - bb);
  return th + addRoundOdd(tl, ul);
}

/** x + y rounded to odd: the exact sum if representable, else its neighbour with an odd last bit. */
function addRoundOdd(x: number, y: number): number {
  const s = x + y,
    bb = s - x,
    e = x - (s - bb) + (y - bb);
  if (e === 0) return s;
  F64[0] = s;
  if ((U32[LO] & 1) === 1) return s;
  // s even and inexact: one ulp toward the exact value (s ≠ 0: a rounded sum is 0 only exactly)
  if (e > 0 === s > 0) {
    U32[LO] = (U32[LO] + 1) >>> 0;
    if (U32[LO] === 0) U32[1 - LO] += 1;
  } else {
    if (U32[LO] === 0) U32[1 - LO] -= 1;
    U32[LO] = (U32[LO] - 1) >>> 0;
  }
  return F64[0];
}

/** `fma64` by exact BigInt arithmetic: the exact a·b + c rounded once (slow, microseconds). */
export function fma64Exact(a: number, b: number, c: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a * b + c;
  // The exact product of finite numbers is finite: an infinite (or NaN) c decides.
  if (!Number.isFinite(c)) return c;
  const A = signed(a),
    B = signed(b),
    C = signed(c);
  const pm = A.m * B.m,
    pe = A.e + B.e;
  // A zero product: c + (±0) gives c, or the IEEE signed zero when c is zero too.
  if (pm === 0n) return c + a * b;
  const e = Math.min(pe, C.e);
  const sum = (pm << BigInt(pe - e)) + (C.m << BigInt(C.e - e));
  if (sum === 0n) return 0; // exact cancellation: +0 in round-to-nearest, as IEEE fma gives
  return roundScaled(sum, e, 53, -1074);
}

/** x = m·2^e exactly, m a signed BigInt (x finite). */
function signed(x: number): { m: bigint; e: number } {
  const { neg, m, e } = decomposeDouble(x);
  return { m: neg ? -m : m, e };
}

function bitLength(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

/**
 * m · 2^e (exact, m ≠ 0) rounded to nearest-even with `precision` significant bits and
 * smallest exponent `minExp` (the subnormal spacing); overflows to ±∞ through `Number`.
 */
function roundScaled(m: bigint, e: number, precision: number, minExp: number): number {
  const neg = m < 0n;
  let a = neg ? -m : m;
  const shift = Math.max(bitLength(a) - precision, minExp - e);
  if (shift > 0) {
    const big = BigInt(shift);
    const q = a >> big;
    const rem = a - (q << big);
    const half = 1n << (big - 1n);
    a = rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q;
    e += shift;
  }
  // a has at most `precision` (+1 after a carry) bits and e ≥ minExp: a · 2^e is exact
  // (or overflows to ∞, as the rounded value does).
  const v = Number(a) * 2 ** e;
  return neg ? -v : v;
}
