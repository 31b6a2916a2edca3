/**
 * A fast exp that gives the same bits on every JavaScript runtime.
 *
 * V8's `Math.exp` has changed between versions, and core's correctly rounded `libm.exp`
 * (double-double arithmetic) costs about 10 µs a call — too slow for a denoiser that takes
 * millions of exponentials per call. This one uses only IEEE-754 +, -, *, / (each correctly
 * rounded everywhere), so its result is a pure function of its input, within 1 ulp of e^x.
 *
 * Method (the classic one of Sun's fdlibm): x = k ln2 + r with |r| <= ln2 / 2, ln2 split in a
 * high part with trailing zero bits (so k·ln2_hi is exact) and a low part; e^r from a degree-10
 * minimax approximation of r (e^r + 1) / (e^r - 1) written as the rational form
 * 1 + 2r / (R(r) - r); the result scaled by 2^k built from the exponent bits.
 */

const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.442695040888963387;
// Minimax coefficients of R(r) = r·(e^r + 1)/(e^r - 1) = 2 + r²/6 - r⁴/360 + ... on [0, ln2/2]
const P1 = 1.66666666666666019037e-1;
const P2 = -2.77777777770155933842e-3;
const P3 = 6.61375632143793436117e-5;
const P4 = -1.6533902205465251539e-6;
const P5 = 4.13813679705723846039e-8;

const OVERFLOW = 7.09782712893383973096e2;
const UNDERFLOW = -7.4513321910194110842e2;

/** The constants, for the WebAssembly SIMD copy of `fastExp` (denoisers/empirical-simd.ts). */
export const FAST_EXP = { LN2_HI, LN2_LO, INV_LN2, P: [P1, P2, P3, P4, P5], UNDERFLOW } as const;

/** 2^k for the integers k in [-1022, 1023], built from their exponent bits once. */
const POW2 = (() => {
  const t = new Float64Array(2046);
  const v = new DataView(new ArrayBuffer(8));
  for (let k = -1022; k <= 1023; k++) {
    v.setUint32(0, (k + 1023) << 20);
    v.setUint32(4, 0);
    t[k + 1022] = v.getFloat64(0);
  }
  return t;
})();

/** e^x, deterministic on every runtime, within 1 ulp. */
export function fastExp(x: number): number {
  if (!(x <= OVERFLOW)) return Number.isNaN(x) ? x : Infinity; // NaN, or too large
  if (x < UNDERFLOW) return 0;
  const k = Math.floor(x * INV_LN2 + 0.5);
  const hi = x - k * LN2_HI;
  const lo = k * LN2_LO;
  const r = hi - lo;
  const t = r * r;
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  const y = 1 - (lo - (r * c) / (2 - c) - hi);
  // k is an integer in [-1075, 1024]: as an int32 it indexes POW2 (2^k = POW2[k + 1022])
  // without a float-to-index conversion (the hot path of the exact denoisers)
  const ki = k | 0;
  if (ki >= -1021) return ki === 1024 ? y * 2 * POW2[2045] : y * POW2[ki + 1022];
  // subnormal results: scale in two steps (2^(k+1000), then 2^-1000) so the rounding happens
  // once, at the end
  return y * POW2[ki + 2022] * POW2[22];
}
