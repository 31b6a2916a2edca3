/**
 * The float32 `exp` and `log` of torch's CPU kernels, bit for bit: SLEEF's AVX2 functions.
 *
 * torch (x86-64 AVX2 build, without MKL) evaluates `Tensor.exp()` / `Tensor.log()` on float32
 * tensors with `vec::map` over SLEEF's `Sleef_expf8_u10` / `Sleef_logf8_u10` for every
 * element, including the tail of a vector loop and 0-dim tensors (a partial vector load).
 * Both are float32 algorithms with fused multiply-adds, replayed here with `Math.fround` after
 * each float32 operation and `fma32` for the fused ones:
 * - exp: Cody-Waite reduction by ln 2 (two-part constant), degree-6 polynomial, scaling by 2^q;
 * - log: x = m·2^e with m near 1 (e from the exponent of 4x/3), log m from the odd series
 *   of (m − 1)/(m + 1) carried in "double-float" (pairs of float32) arithmetic.
 * So any port of float32 torch code that calls `.exp()` / `.log()` on a tensor and must match
 * it bit for bit needs these rather than `Math.fround(Math.exp(x))` (which differs in the last
 * bit for some inputs).
 *
 * Confirmed bit for bit against every `log_linear` schedule (exp) and every continuous-timestep
 * schedule (log) of the diffusers reference fixtures. Subnormal results are not reproduced
 * bit for bit.
 */
import { fma32 } from "./fma.js";
import { roundHalfEven } from "./numeric.js";

const f = Math.fround;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/* SLEEF expf (xexpf), float32 with FMA, as in Sleef_expf8_u10 for AVX2 */
const R_LN2F = f(1.442695040888963407359924681001892137426645954152985934135449406931);
const L2UF = f(0.693145751953125);
const L2LF = f(1.428606765330187045e-6);
const SLEEF_EXP_C = [
  0.000198527617612853646278381, 0.00139304355252534151077271, 0.00833336077630519866943359,
  0.0416664853692054748535156, 0.166666671633720397949219, 0.5,
].map(f);

/** SLEEF's vectorized float32 exp (1-ulp variant). */
export function sleefExpf(x: number): number {
  const d = f(x);
  if (Number.isNaN(d)) return NaN;
  const q = roundHalfEven(f(d * R_LN2F));
  let s = fma32(q, -L2UF, d);
  s = fma32(q, -L2LF, s);
  let u = SLEEF_EXP_C[0];
  for (let i = 1; i < SLEEF_EXP_C.length; i++) u = fma32(u, s, SLEEF_EXP_C[i]);
  u = f(1 + fma32(f(s * s), u, s));
  u = ldexpF32(u, q);
  if (d < -104) u = 0;
  if (d > 100) u = Infinity;
  return u;
}

/** u * 2^q for a float32 u, as SLEEF's vldexp2 (two half-scalings, exact for normal results). */
function ldexpF32(u: number, q: number): number {
  const h = q >> 1;
  return f(f(u * 2 ** h) * 2 ** (q - h));
}

/** torch `.exp()` of a float32 tensor on an AVX2 CPU (SLEEF's expf for every element). */
export function torchExpF32(values: ArrayLike<number>): Float32Array {
  const n = values.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sleefExpf(values[i]);
  return out;
}

/* SLEEF logf (xlogf_u1), float32 double-float arithmetic with FMA, as in Sleef_logf8_u10 */

/** SLEEF's vectorized float32 log (1-ulp variant), for positive normal and subnormal inputs. */
export function sleefLogf(x: number): number {
  let d = f(x);
  if (Number.isNaN(d) || d < 0) return NaN;
  if (d === 0) return -Infinity;
  if (d === Infinity) return Infinity;
  const tiny = d < 1.1754943508222875e-38;
  if (tiny) d = f(d * 18446744073709551616); // 2^64
  F32[0] = f(d * f(1 / 0.75));
  let e = ((U32[0] >>> 23) & 0xff) - 0x7f;
  const m = f(d * 2 ** -e); // exact: a power-of-two scaling
  if (tiny) e -= 64;
  // s = (ln2_hi, ln2_lo) * e in double-float (dfmul with FMA)
  const lnHi = f(0.69314718246459960938),
    lnLo = f(-1.904654323148236017e-9);
  const sHi0 = f(lnHi * e);
  const sLo0 = fma32(lnLo, e, fma32(lnHi, e, -sHi0));
  // x = (m - 1) / (m + 1) in double-float (dfadd2, dfdiv)
  const [nh, nl] = dfAdd2(-1, m);
  const [dh, dl] = dfAdd2(1, m);
  const t = f(1 / dh);
  const qh = f(nh * t);
  const u = fma32(t, nh, -qh);
  const v = fma32(-dl, t, fma32(-dh, t, 1));
  const ql = fma32(qh, v, fma32(nl, t, u));
  const x2 = f(qh * qh);
  let p = f(0.3027294874);
  p = fma32(p, x2, f(0.3996108174));
  p = fma32(p, x2, f(0.666669488));
  // s = s + 2x (dfadd, |s| >= |2x| assumed as SLEEF does)
  let sh = f(sHi0 + f(qh * 2));
  let sl = f(f(f(sHi0 - sh) + f(qh * 2)) + sLo0);
  sl = f(sl + f(ql * 2));
  // s = s + x2 * x * p
  const w = f(f(x2 * qh) * p);
  const sh2 = f(sh + w);
  sl = f(f(f(sh - sh2) + w) + sl);
  sh = sh2;
  return f(sh + sl);
}

function dfAdd2(a: number, b: number): [number, number] {
  const s = f(a + b);
  const v = f(s - a);
  return [s, f(f(a - f(s - v)) + f(b - v))];
}

/* SLEEF sinf (xsinf_u1), float32 double-float arithmetic with FMA, as in Sleef_sinf8_u10 */

const PI_A2F = f(3.1414794921875),
  PI_B2F = f(0.00011315941810607910156),
  PI_C2F = f(1.9841872589410058936e-9);

/**
 * SLEEF's vectorized float32 sin (1-ulp variant) for |x| < 125 (the arguments a schedule
 * gives it; larger ones take SLEEF's Payne-Hanek path, not reproduced here and refused).
 * q = round(x/π); s = x − q·π in double-float (π in three float32 parts); sin s from
 * s·(1 + s²·(−1/6 + s²·P(s²))) with the outer terms in double-float; the sign flips for odd q.
 */
export function sleefSinf(x: number): number {
  const d = f(x);
  if (Number.isNaN(d) || !Number.isFinite(d)) return NaN;
  if (!(Math.abs(d) < 125)) throw new RangeError(`sleefSinf: |x| >= 125 is not supported (got ${x})`);
  if (Object.is(d, -0)) return -0;
  const u0 = roundHalfEven(f(d * f(1 / Math.PI)));
  const v = fma32(u0, -PI_A2F, d);
  // s = dfadd2(v, u·(−PI_B2f)), then dfadd(s, u·(−PI_C2f))
  let [sh, sl] = dfAdd2(v, f(u0 * -PI_B2F));
  const c = f(u0 * -PI_C2F);
  const sh2 = f(sh + c);
  sl = f(f(f(sh - sh2) + c) + sl);
  sh = sh2;
  // s2 = dfsqu(s)
  const qh = f(sh * sh);
  const ql = fma32(f(sh + sh), sl, fma32(sh, sh, -qh));
  let u = f(2.6083159809786593541503e-6);
  u = fma32(u, qh, f(-0.0001981069071916863322258));
  u = fma32(u, qh, f(0.00833307858556509017944336));
  // x = 1 + dfmul(dfadd(−1/6, u·s2.x), s2)
  const a = f(-0.166666597127914428710938),
    b = f(u * qh);
  const ah = f(a + b),
    al = f(f(a - ah) + b);
  const mh = f(ah * qh);
  const ml = fma32(ah, ql, fma32(al, qh, fma32(ah, qh, -mh)));
  const xh = f(1 + mh),
    xl = f(f(f(1 - xh) + mh) + ml);
  // result = dfmul to float: t.x·x.x + (t.y·x.x + t.x·x.y), fused
  let r = fma32(sh, xh, fma32(sl, xh, f(sh * xl)));
  if ((u0 & 1) === 1) r = -r;
  return r;
}
