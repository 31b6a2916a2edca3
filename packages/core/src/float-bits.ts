/** Exact bit-level views of doubles shared by the exact-arithmetic code (fma.ts, libm.ts). */

const view = new DataView(new ArrayBuffer(8));

/**
 * Exact decomposition of a finite double: |x| = m·2^e with m a BigInt below 2^53 (the
 * significand, with its implicit bit; subnormals have e = −1074). Zero gives m = 0.
 */
export function decomposeDouble(x: number): { neg: boolean; m: bigint; e: number } {
  view.setFloat64(0, x);
  const hi = view.getUint32(0),
    lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = -1074;
  if (biased !== 0) {
    m |= 1n << 52n;
    e = biased - 1075;
  }
  return { neg: hi >>> 31 === 1, m, e };
}
