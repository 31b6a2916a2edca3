/**
 * Float32 helpers of diffusers' schedulers that only diffusers needs: torch's float32
 * `cumprod`, the 0-dim √(σ² + 1), and numpy's SIMD float32 `log` (diffusers'
 * `_sigma_to_t` is the only numpy float32 log among the ported originals). The shared torch
 * float32 numerics (fused multiply-add, `torch.linspace`, SLEEF exp/log) live in
 * @edmkit/core.
 *
 * `torch.cumprod` on CPU accumulates in the accumulation type of the dtype, which is double
 * for float32: each output is the running double product rounded to float32. Established by
 * reproducing the `alphas_cumprod` tables of every diffusers fixture bit for bit.
 */
import { fma32 } from "@edmkit/core";

const f = Math.fround;

/** torch.cumprod of a float32 vector on CPU: double running product, float32 outputs. */
export function cumprodF32(a: ArrayLike<number>): Float32Array {
  const out = new Float32Array(a.length);
  let acc = 1;
  for (let i = 0; i < a.length; i++) {
    acc *= a[i];
    out[i] = acc;
  }
  return out;
}

/** √(σ² + 1) on a 0-dim float32 tensor: every operation rounded to float32. */
export function sqrtSigmaSqPlusOneF32(sigma: number): number {
  return f(Math.sqrt(f(f(sigma * sigma) + 1)));
}

/* numpy's float32 log: the AVX2-FMA3 / AVX512F kernel (`simd_log_FLOAT`) */
const LOG_P = [
  0, 9.999999999999998702752e-1, 2.112677543073053063722, 1.480000633576506585156, 3.808837741388407920751e-1,
  2.589979117907922693523e-2,
].map(f);
const LOG_Q = [
  1, 2.612677543073109236779, 2.453006071784736363091, 9.864942958519418960339e-1, 1.546476374983906719538e-1,
  5.87509540312457434295e-3,
].map(f);
const LN2_F32 = f(0.693147180559945309417232121458176568);
const SQRT1_2_F32 = f(0.707106781186547524400844362104849039);
const F32BUF = new Float32Array(1);
const I32BUF = new Int32Array(F32BUF.buffer);

/**
 * `np.log` of a float32 value as numpy (1.x, x86-64 with AVX2+FMA3 or AVX512F) computes it:
 * x = m 2^e with m in [0.5, 1), moved to (sqrt(1/2), sqrt(2)]; log(1 + y), y = m - 1, from a
 * degree-5 / degree-5 rational minimax approximation evaluated with fused multiply-adds, plus
 * e ln2 (fused). Not correctly rounded (up to ~3.8 ulp), which is why diffusers' `_sigma_to_t`
 * timesteps depend on it. Zero, negative, infinite and NaN inputs give -inf / NaN / inf / NaN;
 * subnormals are scaled by 2^100 first, as the kernel does.
 */
export function numpyLogF32(value: number): number {
  let x = f(value);
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let expAdjust = 0;
  if (x < 1.1754943508222875e-38) {
    x = f(x * 1.2676506002282294e30); // 2^100
    expAdjust = 100;
  }
  F32BUF[0] = x;
  const bits = I32BUF[0];
  let e = ((bits >>> 23) & 0xff) - 126 - expAdjust;
  I32BUF[0] = (bits & 0x7fffff) | (126 << 23);
  let m = F32BUF[0];
  if (m <= SQRT1_2_F32) {
    m = m + m;
    e -= 1;
  }
  const y = f(m - 1);
  let num = fma32(LOG_P[5], y, LOG_P[4]);
  num = fma32(num, y, LOG_P[3]);
  num = fma32(num, y, LOG_P[2]);
  num = fma32(num, y, LOG_P[1]);
  num = fma32(num, y, LOG_P[0]);
  let den = fma32(LOG_Q[5], y, LOG_Q[4]);
  den = fma32(den, y, LOG_Q[3]);
  den = fma32(den, y, LOG_Q[2]);
  den = fma32(den, y, LOG_Q[1]);
  den = fma32(den, y, LOG_Q[0]);
  return fma32(e, LN2_F32, f(num / den));
}
