/**
 * Correctly rounded fused multiply-add `round(a * b + c)` in float64 and float32.
 *
 * Why: the reference machine's ATen is compiled with FMA contraction for its AVX2 kernels,
 * so expressions like `start + step * idx` inside `torch.linspace` are evaluated with one
 * rounding instead of two (see linspace.ts). JavaScript has no fma, so it is computed
 * exactly with BigInt arithmetic and rounded once (round-half-even, subnormals included).
 * It is only used on schedule-sized arrays, where its cost (a few microseconds) is irrelevant.
 *
 * (Candidate for @edmkit/core: core's `torchLinspace` needs it to match the fixtures.)
 */

const view = new DataView(new ArrayBuffer(8));

/** x = m * 2^e exactly, with m a BigInt (x finite). */
function decompose(x: number): { m: bigint; e: number } {
  view.setFloat64(0, x);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  return { m: sign * mant, e };
}

function bitLength(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

/** Round m * 2^e (exact) to `precision` significant bits with minimum exponent `minExp`. */
function roundToFloat(m: bigint, e: number, precision: number, minExp: number): number {
  if (m === 0n) return 0;
  const neg = m < 0n;
  let a = neg ? -m : m;
  let shift = Math.max(bitLength(a) - precision, minExp - e);
  if (shift > 0) {
    const big = BigInt(shift);
    const q = a >> big;
    const rem = a - (q << big);
    const half = 1n << (big - 1n);
    let r = q;
    if (rem > half || (rem === half && (q & 1n) === 1n)) r = q + 1n;
    a = r;
    e += shift;
    shift = 0;
  }
  // a has at most `precision` (+1 after a carry) bits: exact in a double.
  const v = Number(a) * 2 ** e;
  return neg ? -v : v;
}

function fmaExact(a: number, b: number, c: number, precision: number, minExp: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a * b + c;
  // The exact product of finite numbers is finite: an infinite (or NaN) c decides.
  if (!Number.isFinite(c)) return c;
  const A = decompose(a), B = decompose(b), C = decompose(c);
  let pm = A.m * B.m, pe = A.e + B.e;
  let cm = C.m, ce = C.e;
  if (pm === 0n) return precision === 24 ? Math.fround(c) : c + a * b;
  const e = Math.min(pe, ce);
  pm <<= BigInt(pe - e);
  cm <<= BigInt(ce - e);
  pe = ce = e;
  const sum = pm + cm;
  if (sum === 0n) return a * b + c; // signed zero as IEEE gives it
  return roundToFloat(sum, e, precision, minExp);
}

/** round64(a * b + c) with a single rounding. */
export function fma64(a: number, b: number, c: number): number {
  return fmaExact(a, b, c, 53, -1074);
}

/** round32(a * b + c) with a single rounding (a, b, c float32 values). */
export function fma32(a: number, b: number, c: number): number {
  return fmaExact(a, b, c, 24, -149);
}
