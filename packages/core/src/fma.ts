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
 * randn hot loop); {@link fma64} is exact for all doubles but slow (BigInt arithmetic, a few
 * microseconds a call), which is fine for schedule-sized arrays.
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

/**
 * `fma(a, b, c)` on doubles, rounded once to double (round to nearest, ties to even;
 * subnormal results, signed zeros, infinities and NaN as IEEE 754 specifies).
 *
 * The exact value `a·b + c` is formed as a BigInt times a power of two and rounded once.
 * Slow (microseconds): meant for per-call setup such as schedules, never for per-element
 * work in a sampler loop.
 */
export function fma64(a: number, b: number, c: number): number {
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
