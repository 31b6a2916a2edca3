/**
 * The float32 "fill16" Box-Muller kernel of torch's CPU `normal_` on x86-64 builds whose
 * ATen CPU capability is AVX2 or AVX512 (practically every x86-64 machine).
 *
 * There torch transforms each block of 16 float32 uniforms with an 8-lane AVX2 routine
 * that does not call libm: the logarithm, sine and cosine are the Cephes single-precision
 * polynomials (as popularised by "avx_mathfun"), all in float32, and the compiler fuses
 * several multiply-add pairs into FMA instructions. Since the kernel only uses + − × sqrt
 * and FMA, every step can be replayed exactly here: `Math.fround` after each float32
 * operation and {@link fma32} for the fused ones. The placement of the fused operations
 * is the one that reproduces torch's output bit for bit (see fixtures/rng/TORCH_RNG.md §3d).
 *
 * Builds without AVX2 (ARM, Apple Silicon, `ATEN_CPU_CAPABILITY=default`) use float32
 * libm calls instead and differ from this in the last bit for many elements; that variant
 * is not implemented.
 */

const f = Math.fround;

// ---- exact float32 fused multiply-add ------------------------------------------------

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE ? 0 : 1;
const HI = LITTLE ? 1 : 0;

/**
 * `fma(a, b, c)` for float32 operands, rounded once to float32 (round to nearest even).
 *
 * `a·b` of two float32 values is exact in double. `a·b + c` rounded to double and then to
 * float32 could round twice, so the double sum is first rounded to odd: when the addition
 * was inexact (TwoSum error ≠ 0) and the last bit of the double sum is even, the sum is
 * moved one double ulp towards the exact value. Rounding a round-to-odd result with at least
 * two extra bits to float32 gives the correctly rounded float32 of the exact value.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err !== 0) {
    F64[0] = s;
    const lo = U32[LO];
    if ((lo & 1) === 0) {
      if (err > 0 === s > 0) {
        U32[LO] = lo + 1; // one ulp away from zero (no carry: lo is even)
      } else if (lo !== 0) {
        U32[LO] = lo - 1; // one ulp towards zero
      } else {
        U32[LO] = 0xffffffff;
        U32[HI] -= 1;
      }
      return f(F64[0]);
    }
  }
  return f(s);
}

// ---- constants (float32 roundings of the Cephes decimals) ------------------------------

const TWO_PI_F = f(2 * Math.PI); // 6.2831855f
const SQRTHF = f(0.707106781186547524);
const LOG_P0 = f(7.0376836292e-2);
const LOG_P1 = f(-1.151461031e-1);
const LOG_P2 = f(1.167699874e-1);
const LOG_P3 = f(-1.2420140846e-1);
const LOG_P4 = f(1.4249322787e-1);
const LOG_P5 = f(-1.6668057665e-1);
const LOG_P6 = f(2.0000714765e-1);
const LOG_P7 = f(-2.4999993993e-1);
const LOG_P8 = f(3.3333331174e-1);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const FOPI = f(1.27323954473516); // 4/π
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const COS_P0 = f(2.443315711809948e-5);
const COS_P1 = f(-1.388731625493765e-3);
const COS_P2 = f(4.166664568298827e-2);
const SIN_P0 = f(-1.9515295891e-4);
const SIN_P1 = f(8.3321608736e-3);
const SIN_P2 = f(-1.6666654611e-1);

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** Cephes float32 log for v in (0, 1] (the only inputs the kernel sees). */
export function logf32(v: number): number {
  F32[0] = v;
  const bits = I32[0];
  let e = ((bits >>> 23) & 0xff) - 127 + 1; // v = m·2^e, m in [0.5, 1)
  I32[0] = (bits & ~0x7f800000) | 0x3f000000;
  const m = F32[0];
  let t: number;
  if (m < SQRTHF) {
    e -= 1;
    t = f(f(m - 1) + m);
  } else {
    t = f(m - 1);
  }
  const z = f(t * t);
  let y = LOG_P0;
  y = fma32(y, t, LOG_P1);
  y = fma32(y, t, LOG_P2);
  y = fma32(y, t, LOG_P3);
  y = fma32(y, t, LOG_P4);
  y = fma32(y, t, LOG_P5);
  y = fma32(y, t, LOG_P6);
  y = fma32(y, t, LOG_P7);
  y = fma32(y, t, LOG_P8);
  y = f(y * t);
  y = fma32(y, z, f(e * LOG_Q1));
  y = fma32(-z, 0.5, y);
  return fma32(e, LOG_Q2, f(t + y));
}

/** Result slots of {@link sincosf32}: [sin, cos]. */
const SC = new Float64Array(2);

/** Cephes float32 sin and cos for θ ≥ 0, written to `out[0]` and `out[1]`. */
export function sincosf32(theta: number, out: Float64Array): void {
  let j = Math.trunc(f(theta * FOPI));
  j = (j + 1) & ~1;
  const y = j;
  let x = fma32(y, DP1, theta);
  x = fma32(y, DP2, x);
  x = fma32(y, DP3, x);
  const z = f(x * x);

  let p = COS_P0;
  p = fma32(p, z, COS_P1);
  p = fma32(p, z, COS_P2);
  p = f(p * z);
  p = fma32(p, z, -f(z * 0.5));
  p = f(p + 1);

  let q = SIN_P0;
  q = fma32(q, z, SIN_P1);
  q = fma32(q, z, SIN_P2);
  q = f(q * z);
  q = fma32(q, x, x);

  let s: number;
  let c: number;
  if ((j & 2) === 0) {
    s = q;
    c = p;
  } else {
    s = p;
    c = q;
  }
  if ((j & 4) !== 0) s = -s;
  if (((j - 2) & 4) === 0) c = -c;
  out[0] = s;
  out[1] = c;
}

/**
 * Transform the 16 float32 uniforms `x[o..o+15]` in place into normals, pairing element k
 * with k + 8: u1 = 1 − x[k], u2 = x[k+8], r = √(−2·log u1), θ = 2π·u2,
 * x[k] = r·cos θ, x[k+8] = r·sin θ (all float32 as described in the module comment).
 * The final `+ 0` mirrors torch's `x·std + mean` with std = 1, mean = 0 (turns −0 into +0).
 */
export function normalFill16F32(x: Float32Array, o: number): void {
  for (let k = o; k < o + 8; k++) {
    const u1 = f(1 - x[k]);
    const u2 = x[k + 8];
    const r = f(Math.sqrt(f(-2 * logf32(u1))));
    sincosf32(f(TWO_PI_F * u2), SC);
    x[k] = f(r * SC[1]) + 0;
    x[k + 8] = f(r * SC[0]) + 0;
  }
}
