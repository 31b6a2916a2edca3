/**
 * The float32 "fill16" Box-Muller kernel of torch's CPU `normal_` on x86-64 builds whose
 * ATen CPU capability is AVX2 or AVX512 (practically every x86-64 machine).
 *
 * There torch transforms each block of 16 float32 uniforms with an 8-lane AVX2 routine
 * that does not call libm: the logarithm, sine and cosine are the Cephes single-precision
 * polynomials (as popularised by "avx_mathfun"), all in float32, and the compiler fuses
 * several multiply-add pairs into FMA instructions. Since the kernel only uses + − × sqrt
 * and FMA, every step can be replayed exactly here: `Math.fround` after each float32
 * operation and `fma32` (../fma.ts) for the fused ones. The placement of the fused operations
 * is the one that reproduces torch's output bit for bit (see fixtures/rng/TORCH_RNG.md §3d).
 *
 * Builds without AVX2 (ARM, Apple Silicon, `ATEN_CPU_CAPABILITY=default`) use float32
 * libm calls instead and differ from this in the last bit for many elements; that variant
 * is not implemented.
 */

import { fma32 } from "../fma.js";

const f = Math.fround;

// ---- constants (float32 roundings of the Cephes decimals) ------------------------------

const TWO_PI_F = f(2 * Math.PI); // 6.2831855f
const SQRTHF = f(0.707106781186547524);
/** log: the degree-8 polynomial, highest coefficient first (Horner order). */
const LOG_P = Float64Array.from(
  [
    7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
    2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
  ],
  f,
);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const FOPI = f(1.27323954473516); // 4/π
/** −π/4 in three parts (Cody-Waite reduction). */
const DP = Float64Array.from([-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8], f);
const COS_P = Float64Array.from([2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2], f);
const SIN_P = Float64Array.from([-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1], f);

/** Bit access to the log argument (float32 view for the mantissa/exponent split). */
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/**
 * Transform the 16 float32 uniforms `x[o..o+15]` in place into normals, pairing element k
 * with k + 8 (one AVX2 lane each): u1 = 1 − x[k], u2 = x[k+8], r = √(−2·log u1), θ = 2π·u2,
 * x[k] = r·cos θ, x[k+8] = r·sin θ, everything in float32 as the module comment describes:
 *
 * - log u1 (u1 in (0, 1]): u1 = m·2^e with m in [½, 1), moved to [√½, √2) (t = m − 1, or
 *   2m − 1 computed as (m − 1) + m with e − 1); y = Horner of LOG_P in t (fused);
 *   y = fma(y·t, t², e·Q1); y = fma(−t², ½, y); log = fma(e, Q2, t + y). In the last two
 *   the product is exact in float32 (t²/2; e·Q2 with |e| ≤ 25 and Q2 = 355/512), so the
 *   fused result equals the plain float32 one (a sum of two float32 values rounded once,
 *   which `Math.fround` of the double sum gives exactly) and is computed that way.
 * - sin/cos θ (θ ≥ 0): j = trunc(θ·4/π) rounded up to even; x = θ + j·DP[0] + j·DP[1] +
 *   j·DP[2] (each fused); z = x²; cos = fma(Horner(COS_P, z)·z, z, −z·½) + 1;
 *   sin = fma(Horner(SIN_P, z)·z, x, x); j selects and signs them by octant.
 * - The final `+ 0` mirrors torch's `x·std + mean` with std = 1, mean = 0 (−0 becomes +0).
 *
 * Performance: this function is the randn hot loop. The Horner steps run in loops and the
 * two exact products above are not routed through `fma32`, so that it has seven `fma32` call
 * sites, few enough for V8 to inline them all within its inlining budget (a call that is not
 * inlined boxes its double arguments and result: an allocation per operation).
 */
export function normalFill16F32(x: Float32Array, o: number): void {
  for (let k = o; k < o + 8; k++) {
    // ---- r = sqrt(-2 log u1)
    F32[0] = f(1 - x[k]);
    const bits = I32[0];
    let e = ((bits >>> 23) & 0xff) - 126;
    I32[0] = (bits & ~0x7f800000) | 0x3f000000;
    const mant = F32[0];
    let t: number;
    if (mant < SQRTHF) {
      e -= 1;
      t = f(f(mant - 1) + mant);
    } else {
      t = f(mant - 1);
    }
    const t2 = f(t * t);
    let y = LOG_P[0];
    for (let i = 1; i < 9; i++) y = fma32(y, t, LOG_P[i]);
    y = fma32(f(y * t), t2, f(e * LOG_Q1));
    y = f(y - t2 * 0.5); // = fma(−t², ½, y): the product is exact
    const r = f(Math.sqrt(f(-2 * f(e * LOG_Q2 + f(t + y))))); // = fma(e, Q2, t + y), e·Q2 exact

    // ---- sin and cos of theta = 2 pi u2
    const theta = f(TWO_PI_F * x[k + 8]);
    const j = (Math.trunc(f(theta * FOPI)) + 1) & ~1;
    let xr = theta;
    for (let i = 0; i < 3; i++) xr = fma32(j, DP[i], xr);
    const z = f(xr * xr);
    let pc = COS_P[0];
    for (let i = 1; i < 3; i++) pc = fma32(pc, z, COS_P[i]);
    pc = f(fma32(f(pc * z), z, -f(z * 0.5)) + 1);
    let ps = SIN_P[0];
    for (let i = 1; i < 3; i++) ps = fma32(ps, z, SIN_P[i]);
    ps = fma32(f(ps * z), xr, xr);
    let sn = (j & 2) === 0 ? ps : pc;
    let cs = (j & 2) === 0 ? pc : ps;
    if ((j & 4) !== 0) sn = -sn;
    if (((j - 2) & 4) === 0) cs = -cs;

    x[k] = f(r * cs) + 0;
    x[k + 8] = f(r * sn) + 0;
  }
}
