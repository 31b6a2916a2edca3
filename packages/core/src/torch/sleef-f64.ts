/**
 * The float64 `exp`, `log`, `expm1` and `pow` of torch's CPU kernels: SLEEF's AVX2 functions
 * (`Sleef_expd4_u10`, `Sleef_logd4_u10`, `Sleef_expm1d4_u10`, `Sleef_powd4_u10`), replayed
 * operation by operation in JavaScript doubles, with `fma64` where the AVX2 build fuses a
 * multiply-add (SLEEF's `vmla`/`vfma` are FMA instructions there).
 *
 * How SLEEF computes them (in our words):
 * - exp: n = round(x / ln 2); s = x − n·ln 2 with ln 2 in two parts (each step fused); a
 *   degree-10 polynomial in s evaluated in Estrin's scheme (pairs of coefficients combined
 *   with s, s², s⁴, s⁸), then three more Horner steps (1/2, 1, 1) so that the result is
 *   1 + s + s²/2 + ...; finally scaled by 2^n in two halves. Above ~709.78 gives +∞, below
 *   −1000 gives 0.
 * - log (the 1-ulp variant): x = m·2^e with m in [0.75, 1.5); t = (m − 1)/(m + 1) as a
 *   double-double quotient; log x = e·ln 2 (double-double) + 2t + t³·P(t²), P a degree-6
 *   polynomial in Estrin form; the pieces are summed in double-double and rounded once.
 * - expm1: e^x computed as a double-double (argument reduction and polynomial like exp, the
 *   low-order terms carried in double-double), minus 1 in double-double, rounded once.
 * - pow(x, y): exp(y · log|x|) with both the log and the exp in double-double (the log's
 *   polynomial is degree 8 in t², the exp's degree 9 in s), plus IEEE special cases
 *   (sign for integer y, infinities, zeros, NaN, y = 0 or x = 1 gives 1).
 *
 * None of these is correctly rounded: on random inputs exp differs from the correctly
 * rounded value about 6% of the time, log and pow about 1-2% (by one unit in the last place).
 */
import { fma64 } from "../fma.js";

const fma = fma64;
const R_LN2 = 1.442695040888963407359924681001892137426645954152985934135449406931;
const L2U = 0.69314718055966295651160180568695068359375;
const L2L = 0.28235290563031577122588448175013436025525412068e-12;
const LN2_HI = 0.693147180559945286226764;
const LN2_LO = 2.319046813846299558417771e-17;

type DD = [number, number];

/** mla(x, c1, c0) = x·c1 + c0, fused. Estrin's building block. */
const poly2 = (x: number, c1: number, c0: number): number => fma(x, c1, c0);
const poly4 = (x: number, x2: number, c3: number, c2: number, c1: number, c0: number): number =>
  fma(x2, poly2(x, c3, c2), poly2(x, c1, c0));
const poly8 = (x: number, x2: number, x4: number, c: readonly number[]): number =>
  fma(x4, poly4(x, x2, c[0], c[1], c[2], c[3]), poly4(x, x2, c[4], c[5], c[6], c[7]));

/** round half to even of a double, as vrint (cvtpd with the default rounding mode). */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** d · 2^q in two halves (SLEEF's vldexp2): exact unless the result is subnormal. */
function ldexp2(d: number, q: number): number {
  const h = q >> 1;
  return d * 2 ** h * 2 ** (q - h);
}

// ---- double-double helpers (SLEEF dd.h, the FMA variants) ------------------------------

function ddadd2(xh: number, xl: number, y: number): DD {
  const s = xh + y;
  const v = s - xh;
  return [s, xh - (s - v) + (y - v) + xl];
}
function ddaddDD(xh: number, xl: number, yh: number, yl: number): DD {
  const s = xh + yh;
  return [s, xh - s + yh + xl + yl];
}
function ddmulD(xh: number, xl: number, y: number): DD {
  const s = xh * y;
  return [s, fma(xl, y, fma(xh, y, -s))];
}
function ddmulDD(xh: number, xl: number, yh: number, yl: number): DD {
  const s = xh * yh;
  return [s, fma(xh, yl, fma(xl, yh, fma(xh, yh, -s)))];
}
function ddsqu(xh: number, xl: number): DD {
  const s = xh * xh;
  return [s, fma(xh + xh, xl, fma(xh, xh, -s))];
}
function dddiv(nh: number, nl: number, dh: number, dl: number): DD {
  const t = 1 / dh;
  const qh = nh * t;
  const u = fma(t, nh, -qh);
  const v = fma(-dl, t, fma(-dh, t, 1));
  return [qh, fma(qh, v, fma(nl, t, u))];
}
function twoSum(x: number, y: number): DD {
  const s = x + y;
  const v = s - x;
  return [s, x - (s - v) + (y - v)];
}

const SPLIT_VIEW = new DataView(new ArrayBuffer(8));

/** m and e with x = m·2^e, m in [0.75, 1.5) (positive finite x; subnormals pre-scaled). */
function splitForLog(d: number): { m: number; e: number } {
  let e0 = 0;
  if (d < 2.2250738585072014e-308) {
    d *= 2 ** 64;
    e0 = -64;
  }
  // k = floor(log2(d·(4/3))): start from the exponent field of the scaled value (exact bits,
  // no engine-dependent Math.log2) and settle it with exact power-of-two comparisons
  SPLIT_VIEW.setFloat64(0, d * (1 / 0.75));
  let k = ((SPLIT_VIEW.getUint32(0) >>> 20) & 0x7ff) - 1023;
  while (2 ** k > d * (1 / 0.75)) k--;
  while (2 ** (k + 1) <= d * (1 / 0.75)) k++;
  return { m: d * 2 ** -k, e: k + e0 };
}

/** SLEEF's float64 exp (1-ulp variant, AVX2 with FMA). */
export function sleefExp(d: number): number {
  if (Number.isNaN(d)) return NaN;
  const u0 = rint(d * R_LN2);
  let s = fma(u0, -L2U, d);
  s = fma(u0, -L2L, s);
  const s2 = s * s,
    s4 = s2 * s2,
    s8 = s4 * s4;
  let u = fma(
    s8,
    poly2(s, 0.2081276378237164457e-8, 0.2511210703042288022e-7),
    poly8(
      s,
      s2,
      s4,
      [
        0.2755762628169491192e-6, 0.2755723402025388239e-5, 0.2480158687479686264e-4, 0.198412698985586585e-3,
        0.1388888888914497797e-2, 0.833333333331493821e-2, 0.4166666666666602598e-1, 0.1666666666666669072,
      ],
    ),
  );
  u = fma(u, s, 0.5);
  u = fma(u, s, 1);
  u = fma(u, s, 1);
  u = ldexp2(u, u0);
  if (d > 709.78271114955742909217217426) u = Infinity;
  if (d < -1000) u = 0;
  return u;
}

/** SLEEF's float64 log (1-ulp variant, AVX2 with FMA). */
export function sleefLog(d: number): number {
  if (Number.isNaN(d) || d < 0) return NaN;
  if (d === 0) return -Infinity;
  if (d === Infinity) return Infinity;
  const { m, e } = splitForLog(d);
  const [nh, nl] = twoSum(-1, m);
  const [dh, dl] = twoSum(1, m);
  const [xh, xl] = dddiv(nh, nl, dh, dl);
  const x2 = xh * xh,
    x4 = x2 * x2,
    x8 = x4 * x4;
  // degree-6 polynomial in x2, Estrin: x8·(c6·x4 + c5·x2 + c4) + (x4·(c3·x2 + c2) + c1·x2 + c0)
  const t = fma(
    x8,
    fma(x4, 0.1532076988502701353, poly2(x2, 0.1525629051003428716, 0.1818605932937785996)),
    poly4(x2, x4, 0.2222214519839380009, 0.2857142932794299317, 0.399999999963525199, 0.6666666666667333541),
  );
  let s = ddmulD(LN2_HI, LN2_LO, e);
  s = ddaddDD(s[0], s[1], xh * 2, xl * 2);
  const w = x2 * xh * t;
  const r = s[0] + w;
  return r + (s[0] - r + w + s[1]);
}

/** SLEEF's logk: log|x| as a double-double (used by pow). */
function logk(d: number): DD {
  const { m, e } = splitForLog(d);
  const [nh, nl] = twoSum(-1, m);
  const [dh, dl] = twoSum(1, m);
  let [xh, xl] = dddiv(nh, nl, dh, dl);
  const [x2h, x2l] = ddsqu(xh, xl);
  const x4 = x2h * x2h,
    x8 = x4 * x4,
    x16 = x8 * x8;
  const t = fma(
    x16,
    0.116255524079935043668677,
    poly8(
      x2h,
      x4,
      x8,
      [
        0.103239680901072952701192, 0.117754809412463995466069, 0.13332981086846273921509,
        0.153846227114512262845736, 0.181818180850050775676507, 0.222222222230083560345903,
        0.285714285714249172087875, 0.400000000000000077715612,
      ],
    ),
  );
  let s = ddmulD(LN2_HI, LN2_LO, e);
  s = ddaddDD(s[0], s[1], xh * 2, xl * 2);
  [xh, xl] = ddmulDD(x2h, x2l, xh, xl);
  let p = ddmulDD(xh, xl, 0.666666666666666629659233, 3.80554962542412056336616e-17);
  s = ddaddDD(s[0], s[1], p[0], p[1]);
  [xh, xl] = ddmulDD(x2h, x2l, xh, xl);
  p = ddmulD(xh, xl, t);
  return ddaddDD(s[0], s[1], p[0], p[1]);
}

/** SLEEF's expk: exp of a double-double, rounded to double (used by pow). */
function expk(dh: number, dl: number): number {
  const u0 = (dh + dl) * R_LN2;
  const dq = rint(u0);
  let s = ddadd2(dh, dl, dq * -L2U);
  s = ddadd2(s[0], s[1], dq * -L2L);
  const sh0 = s[0] + s[1];
  s = [sh0, s[0] - sh0 + s[1]];
  const s2 = s[0] * s[0],
    s4 = s2 * s2,
    s8 = s4 * s4;
  const u = fma(
    s8,
    poly2(s[0], 2.51069683420950419527139e-8, 2.76286166770270649116855e-7),
    poly8(
      s[0],
      s2,
      s4,
      [
        2.75572496725023574143864e-6, 2.48014973989819794114153e-5, 0.000198412698809069797676111,
        0.0013888888939977128960529, 0.00833333333332371417601081, 0.0416666666665409524128449,
        0.166666666666666740681535, 0.500000000000000999200722,
      ],
    ),
  );
  // t = 1 + s (dd), then t + s²·u
  const th = 1 + s[0];
  const tl = 1 - th + s[0] + s[1];
  const sq = ddsqu(s[0], s[1]);
  const p = ddmulD(sq[0], sq[1], u);
  const t = ddaddDD(th, tl, p[0], p[1]);
  let r = ldexp2(t[0] + t[1], dq);
  if (dh < -1000) r = 0;
  return r;
}

/** SLEEF's expk2: exp of a double-double as a double-double (used by expm1). */
function expk2(dh: number, dl: number): DD {
  const u0 = (dh + dl) * R_LN2;
  const dq = rint(u0);
  let s = ddadd2(dh, dl, dq * -L2U);
  s = ddadd2(s[0], s[1], dq * -L2L);
  const s2 = ddsqu(s[0], s[1]);
  const s4 = ddsqu(s2[0], s2[1]);
  const s8 = s4[0] * s4[0];
  const u = fma(
    s8,
    poly2(s[0], 0.1602472219709932072e-9, 0.2092255183563157007e-8),
    poly8(
      s[0],
      s2[0],
      s4[0],
      [
        0.2505230023782644465e-7, 0.2755724800902135303e-6, 0.2755731892386044373e-5,
        0.2480158735605815065e-4, 0.1984126984148071858e-3, 0.1388888888886763255e-2,
        0.8333333333333347095e-2, 0.4166666666666669905e-1,
      ],
    ),
  );
  // t = 0.5 + s/6; t = 1 + t·s; t = 1 + t·s; t += s⁴·u
  let p = ddmulD(s[0], s[1], 0.1666666666666666574);
  let t: DD = [0.5 + p[0], 0.5 - (0.5 + p[0]) + p[0] + p[1]];
  p = ddmulDD(t[0], t[1], s[0], s[1]);
  t = [1 + p[0], 1 - (1 + p[0]) + p[0] + p[1]];
  p = ddmulDD(t[0], t[1], s[0], s[1]);
  t = [1 + p[0], 1 - (1 + p[0]) + p[0] + p[1]];
  p = ddmulD(s4[0], s4[1], u);
  t = ddaddDD(t[0], t[1], p[0], p[1]);
  let hi = ldexp2(t[0], dq),
    lo = ldexp2(t[1], dq);
  if (dh < -1000) hi = lo = 0;
  return [hi, lo];
}

/** SLEEF's float64 expm1 (1-ulp variant). */
export function sleefExpm1(a: number): number {
  if (Number.isNaN(a)) return NaN;
  if (Object.is(a, -0)) return -0;
  const e = expk2(a, 0);
  const d = ddadd2(e[0], e[1], -1);
  let x = d[0] + d[1];
  if (a > 709.782712893383996732223) x = Infinity;
  if (a < -36.736800569677101399113302437) x = -1;
  return x;
}

function isInt(y: number): boolean {
  return Number.isInteger(y);
}
function isOdd(y: number): boolean {
  return Number.isInteger(y) && Math.abs(y) < 2 ** 53 && Math.abs(y % 2) === 1;
}

/** SLEEF's float64 pow (1-ulp variant), with its IEEE special cases. */
export function sleefPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  const yOdd = isOdd(y);
  if (!Number.isFinite(x) || x === 0) {
    const neg = (y < 0 || Object.is(y, -0)) !== (x === 0);
    const mag = neg ? 0 : Infinity;
    const sign = yOdd ? Math.sign(x) || (Object.is(x, -0) ? -1 : 1) : 1;
    return sign < 0 ? -mag : mag;
  }
  if (!Number.isFinite(y)) {
    const efx = (Math.abs(x) - 1) * (y < 0 ? -1 : 1);
    return efx < 0 ? 0 : efx === 0 ? 1 : Infinity;
  }
  const lg = logk(Math.abs(x));
  const d = ddmulD(lg[0], lg[1], y);
  let result = expk(d[0], d[1]);
  if (d[0] > 709.78271114955742909217217426) result = Infinity;
  if (!(x > 0)) result *= isInt(y) ? (yOdd ? -1 : 1) : NaN;
  return result;
}
