/**
 * The softmax kernels of `EmpiricalDenoiser`'s SIMD path, one row of weights at a time: the
 * nearest point (`amin`), the exponentials (`expw`, core's `fastExp` in lanes) and the
 * normalisation (`norm`). Each gives the bits of the JS loop it replaces (empirical.ts).
 */
import { FAST_EXP } from "../fast-exp.js";
import { SIMD, uleb } from "../simd-emit.js";
import {
  advance,
  f64c2,
  fnBody,
  GE_U,
  get,
  i32c,
  i64c2,
  load,
  set,
  span,
  splatF64,
  store,
  V,
  whileLoop,
} from "../wasm-asm.js";
import type { Layout } from "./empirical-wasm.js";

/**
 * `expw(off, n, dmin, inv)`: w = fastExp(-(w - dmin) · inv) in place for the n values (rounded
 * up to whole vectors) at byte offset `off`: core's `fastExp` (fast-exp.ts) lane by lane, its
 * operations in its order (the argument reduction k = floor(x / ln2 + 1/2) with its split ln2,
 * the rational approximation of e^r, the scaling by 2^k built from exponent bits, in two steps
 * for subnormal results), its branches taken as lane selects: NaN stays NaN, x below its
 * underflow bound gives +0. Its arguments here are <= 0 or NaN (the distances minus their
 * minimum, times a positive 1 / (2 sigma^2)), so its overflow branches cannot be reached.
 */
export function expBody(): number[] {
  const { LN2_HI, LN2_LO, INV_LN2, P: EXP_P, UNDERFLOW: EXP_UNDERFLOW } = FAST_EXP;
  // params: 0 off, 1 n, 2 dmin (f64), 3 inv (f64); i32: 4 p, 5 end; v128: 6 vdmin, 7 vinv,
  // 8 x, 9 k, 10 hi, 11 lo, 12 r, 13 t, 14 c, 15 y, 16 ki
  const p = 4,
    end = 5,
    vdmin = 6,
    vinv = 7,
    x = 8,
    k = 9,
    hi = 10,
    lo = 11,
    r = 12,
    t = 13,
    c = 14,
    y = 15,
    ki = 16;
  const body = [
    // x = -(w - dmin) * inv
    ...get(p),
    ...get(p),
    ...load(0),
    ...get(vdmin),
    ...V.sub,
    ...V.neg,
    ...get(vinv),
    ...V.mul,
    ...set(x),
    // k = floor(x * INV_LN2 + 0.5)
    ...get(x),
    ...f64c2(INV_LN2),
    ...V.mul,
    ...f64c2(0.5),
    ...V.add,
    ...V.floor,
    ...set(k),
    // hi = x - k * LN2_HI; lo = k * LN2_LO; r = hi - lo; t = r * r
    ...get(x),
    ...get(k),
    ...f64c2(LN2_HI),
    ...V.mul,
    ...V.sub,
    ...set(hi),
    ...get(k),
    ...f64c2(LN2_LO),
    ...V.mul,
    ...set(lo),
    ...get(hi),
    ...get(lo),
    ...V.sub,
    0x22,
    ...uleb(r),
    ...get(r),
    ...V.mul,
    ...set(t),
    // c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
    ...get(r),
    ...get(t),
    ...f64c2(EXP_P[0]),
    ...get(t),
    ...f64c2(EXP_P[1]),
    ...get(t),
    ...f64c2(EXP_P[2]),
    ...get(t),
    ...f64c2(EXP_P[3]),
    ...get(t),
    ...f64c2(EXP_P[4]),
    ...V.mul,
    ...V.add,
    ...V.mul,
    ...V.add,
    ...V.mul,
    ...V.add,
    ...V.mul,
    ...V.add,
    ...V.mul,
    ...V.sub,
    ...set(c),
    // y = 1 - ((lo - (r * c) / (2 - c)) - hi)
    ...f64c2(1),
    ...get(lo),
    ...get(r),
    ...get(c),
    ...V.mul,
    ...f64c2(2),
    ...get(c),
    ...V.sub,
    ...V.div,
    ...V.sub,
    ...get(hi),
    ...V.sub,
    ...V.sub,
    ...set(y),
    // k as i64 lanes
    ...get(k),
    ...V.truncSatZero,
    ...V.extendLowS,
    ...set(ki),
    // normal: y * 2^k; subnormal: (y * 2^(k+1000)) * 2^-1000; selected by k >= -1021
    ...get(y),
    ...get(ki),
    ...i64c2(1023),
    ...V.i64add,
    ...i32c(52),
    ...V.i64shl,
    ...V.mul,
    ...get(y),
    ...get(ki),
    ...i64c2(2023),
    ...V.i64add,
    ...i32c(52),
    ...V.i64shl,
    ...V.mul,
    ...f64c2(2 ** -1000),
    ...V.mul,
    ...get(k),
    ...f64c2(-1021),
    ...V.ge,
    ...V.bitselect,
    // x < UNDERFLOW: +0, then NaN: x
    ...set(y),
    ...f64c2(0),
    ...get(y),
    ...get(x),
    ...f64c2(EXP_UNDERFLOW),
    ...V.lt,
    ...V.bitselect,
    ...set(y),
    ...get(x),
    ...get(y),
    ...get(x),
    ...get(x),
    ...V.ne,
    ...V.bitselect,
    ...store(0),
    ...advance(p, 16),
  ];
  const code = [
    ...splatF64(2),
    ...set(vdmin),
    ...splatF64(3),
    ...set(vinv),
    ...span(p, end, 0, 1, 3, true),
    ...whileLoop([...get(p), ...get(end), GE_U], body),
  ];
  return fnBody(2, 11, code);
}

/**
 * `amin(off, nvec)`: per lane (even, odd indices) of the first 2·nvec values at `off`, the
 * smallest value under `<` (NaN never taken) and the first index holding it (-1 if none), written
 * as [min0, min1, index0, index1] (f64) at `scratch`; the caller combines the two lanes.
 */
export function aminBody(L: Layout): number[] {
  // params: 0 off, 1 nvec; i32: 2 p, 3 end; v128: 4 minv, 5 mini, 6 idx, 7 v, 8 m
  const p = 2,
    end = 3,
    minv = 4,
    mini = 5,
    idx = 6,
    v = 7,
    m = 8;
  const idx0 = [SIMD, 0x0c, ...new Uint8Array(new Float64Array([0, 1]).buffer)];
  const body = [
    ...get(p),
    ...load(0),
    0x22,
    ...uleb(v),
    ...get(minv),
    ...V.lt,
    ...set(m),
    ...get(v),
    ...get(minv),
    ...get(m),
    ...V.bitselect,
    ...set(minv),
    ...get(idx),
    ...get(mini),
    ...get(m),
    ...V.bitselect,
    ...set(mini),
    ...get(idx),
    ...f64c2(2),
    ...V.add,
    ...set(idx),
    ...advance(p, 16),
  ];
  const code = [
    ...f64c2(Infinity),
    ...set(minv),
    ...f64c2(-1),
    ...set(mini),
    ...idx0,
    ...set(idx),
    ...span(p, end, 0, 1, 4),
    ...whileLoop([...get(p), ...get(end), GE_U], body),
    ...i32c(L.scratch),
    ...get(minv),
    ...store(0),
    ...i32c(L.scratch),
    ...get(mini),
    ...store(16),
  ];
  return fnBody(2, 5, code);
}

/**
 * `norm(off, n)`: z = the sum of the n values at `off` in order (scalar f64 adds, from +0), then
 * each value divided by z (lanes; the padding up to a whole vector too).
 */
export function normBody(): number[] {
  // params: 0 off, 1 n; i32: 2 p, 3 end; f64: 4 z; v128: 5 vz
  const p = 2,
    end = 3,
    z = 4,
    vz = 5;
  const sum = [...get(z), ...get(p), 0x2b, 3, 0, 0xa0, ...set(z), ...advance(p, 8)];
  const div = [...get(p), ...get(p), ...load(0), ...get(vz), ...V.div, ...store(0), ...advance(p, 16)];
  const code = [
    ...span(p, end, 0, 1, 3),
    ...whileLoop([...get(p), ...get(end), GE_U], sum),
    ...splatF64(z),
    ...set(vz),
    ...span(p, end, 0, 1, 3, true),
    ...whileLoop([...get(p), ...get(end), GE_U], div),
  ];
  return fnBody(2, 1, code, 1);
}
