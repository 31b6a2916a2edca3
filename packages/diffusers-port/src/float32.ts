/**
 * Float32 arithmetic exactly as torch's CPU kernels (x86-64, AVX2 build) perform it on the
 * small tensors diffusers builds its schedules from. Candidate for core: any port of code
 * that calls `torch.linspace(..., dtype=torch.float32)` or `torch.cumprod` on float32 needs
 * the same two facts.
 *
 * - The AVX2 build of ATen is compiled with FMA contraction, so `start + step * idx` in the
 *   linspace kernel is one fused multiply-add rounded once to float32, not two roundings.
 * - `torch.cumprod` on CPU accumulates in the accumulation type of the dtype, which is
 *   double for float32: each output is the running double product rounded to float32.
 *
 * Both were established by reproducing the `alphas_cumprod` tables of every diffusers
 * fixture bit for bit (the plain-rounding linspace misses hundreds of entries).
 */

const f = Math.fround;

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Index of the 32-bit word holding the low mantissa bits of a double. */
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/**
 * `a * b + c` rounded once to float32, for float32 `a` and `b` (their product is exact in
 * double). The sum is formed in double with its exact rounding error; rounding that double
 * to float32 is only wrong when it lands exactly on a float32 midpoint, which the error
 * term then breaks in the right direction.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  // TwoSum: the exact error of s = p + c
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb);
  const r = f(s);
  if (err === 0 || !Number.isFinite(s)) return r;
  // Rounding to float32 drops the low 29 of the 52 mantissa bits; s is a float32 midpoint
  // exactly when they read 1 followed by 28 zeros (all 29 bits sit in the low word).
  F64[0] = s;
  if ((U32[LO] & 0x1fffffff) !== 0x10000000) return r;
  // A tie in double: the exact value lies on the side of err. Step off the midpoint by a
  // few double ulps (far less than half a float32 ulp) toward it and round again.
  const up = s + Math.sign(err) * Math.abs(s) * 2 ** -50;
  return f(up);
}

/**
 * torch.linspace(start, end, steps, dtype=torch.float32) on CPU (ATen `linspace_kernel`,
 * AVX2 capability). start and end are rounded to float32, `step = (end - start) / (steps - 1)`
 * in float32. Indices below `steps / 2` are `start + step * idx`, the others
 * `end - step * (steps - idx - 1)`, each a fused multiply-add. The contiguous fill runs in
 * chunks of two 8-lane vectors: each vector takes its first element by that rule and adds
 * `lane * step` to it (product and sum each rounded: `Vectorized::arange` is not fused),
 * even when the vector straddles the halfway point; fewer than 16 remaining elements are
 * filled one by one by the rule. Verified against every diffusers fixture's betas and
 * log_linear sigmas.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`torchLinspaceF32: steps must be a non-negative integer, got ${steps}`);
  }
  const out = new Float32Array(steps);
  if (steps === 0) return out;
  const s0 = f(start), e0 = f(end);
  if (steps === 1) {
    out[0] = s0;
    return out;
  }
  const step = f(f(e0 - s0) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const at = (idx: number): number =>
    idx < halfway ? fmaF32(step, idx, s0) : fmaF32(-step, steps - idx - 1, e0);
  const VEC = 8;
  let i = 0;
  for (; i <= steps - 2 * VEC; i += 2 * VEC) {
    for (let v = 0; v < 2; v++) {
      const idx = i + v * VEC;
      const base = at(idx);
      for (let lane = 0; lane < VEC; lane++) out[idx + lane] = f(base + f(lane * step));
    }
  }
  for (; i < steps; i++) out[i] = at(i);
  return out;
}

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

/** `(x**2 + 1) ** 0.5` on a 0-dim float32 tensor: every operation rounded to float32. */
export function sqrtSigmaSqPlusOneF32(sigma: number): number {
  return f(Math.sqrt(f(f(sigma * sigma) + 1)));
}

/* numpy's float32 log: the AVX2-FMA3 / AVX512F kernel (`simd_log_FLOAT`) */
const LOG_P = [0, 9.999999999999998702752e-1, 2.112677543073053063722, 1.480000633576506585156, 3.808837741388407920751e-1, 2.589979117907922693523e-2].map(f);
const LOG_Q = [1, 2.612677543073109236779, 2.453006071784736363091, 9.864942958519418960339e-1, 1.546476374983906719538e-1, 5.875095403124574342950e-3].map(f);
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
  let num = fmaF32(LOG_P[5], y, LOG_P[4]);
  num = fmaF32(num, y, LOG_P[3]);
  num = fmaF32(num, y, LOG_P[2]);
  num = fmaF32(num, y, LOG_P[1]);
  num = fmaF32(num, y, LOG_P[0]);
  let den = fmaF32(LOG_Q[5], y, LOG_Q[4]);
  den = fmaF32(den, y, LOG_Q[3]);
  den = fmaF32(den, y, LOG_Q[2]);
  den = fmaF32(den, y, LOG_Q[1]);
  den = fmaF32(den, y, LOG_Q[0]);
  return fmaF32(e, LN2_F32, f(num / den));
}
