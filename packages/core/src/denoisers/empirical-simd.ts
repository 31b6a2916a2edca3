/**
 * The two matrix-product passes of `EmpiricalDenoiser` in WebAssembly SIMD (issues 13, 16): a
 * module assembled here per data set (its sizes baked in as constants), with its own memory in
 * which the data set lives for good, in the two layouts the passes read.
 *
 * Pass 1 (`dist`): squared distances of a block's rows to every point. Lanes are two points of
 * one row, read from the points transposed ([d, Npad], Npad = N rounded up to the tile); a
 * register tile is RD rows x PD vectors (2·PD points), and each lane sums (x_d - y_d)^2 over the
 * coordinates d in order, from +0 (sub, mul, add: the JS loop's three IEEE operations).
 *
 * Pass 2 (`wsum`): acc = weights · points over the points listed in `live` (those weighing
 * something in the block), in their increasing order. Lanes are two coordinates of one row, read
 * from the points row-major ([N, dW], dW = d rounded up to the tile); a register tile is RW rows
 * x QW vectors, each lane summing w_i · y_id over the listed points in order, from +0 (mul, add).
 *
 * Every lane thus performs exactly the operations of the JS loops (empirical.ts) in their order:
 * only independent rows, points and coordinates share a vector, and no sum is reassociated, so
 * the results are the same bits (WebAssembly has no fused multiply-add; NaN payloads aside).
 *
 * Memory layout (bytes, 16-aligned): x block [BLOCK, d] | points^T [d, Npad] | points [N, dW] |
 * weights [BLOCK, Npad] | live [N] i32 | acc [BLOCK, dW]. The softmax between the passes stays
 * in JS and works in place on the weights through a Float64Array view of this memory.
 */
import { FAST_EXP } from "../fast-exp.js";
import { F64, I32, name, SIMD, section, sleb, uleb, V128, vec } from "../simd-emit.js";
import { simdWasm } from "../simd.js";

/** Rows per register tile of pass 1 and its vectors (2 points each) per row. */
const RD = 4,
  PD = 3;
/** Rows per register tile of pass 2 and its vectors (2 coordinates each) per row. */
const RW = 4,
  QW = 2;

const get = (l: number) => [0x20, ...uleb(l)];
const set = (l: number) => [0x21, ...uleb(l)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const ADD = 0x6a,
  MUL = 0x6c,
  GE_U = 0x4f,
  LT_U = 0x49;
const f64x2 = (op: "add" | "sub" | "mul") => [SIMD, ...uleb({ add: 0xf0, sub: 0xf1, mul: 0xf2 }[op])];
const load = (offset: number) => [SIMD, 0x00, 4, ...uleb(offset)];
const splat = (offset: number) => [SIMD, 0x0a, 3, ...uleb(offset)];
const store = (offset: number) => [SIMD, 0x0b, 4, ...uleb(offset)];
const zero = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];
/** `while (cond) { body }` as block/loop; `cond` leaves an i32 that is 0 to stop. */
const whileLoop = (exitIf: number[], bodyCode: number[]) => [
  0x02,
  0x40,
  0x03,
  0x40,
  ...exitIf,
  0x0d,
  1,
  ...bodyCode,
  0x0c,
  0,
  0x0b,
  0x0b,
];
const fnBody = (nI32: number, nV128: number, code: number[]) => {
  const fn = [
    ...vec([
      [...uleb(nI32), I32],
      [...uleb(nV128), V128],
    ]),
    ...code,
    0x0b,
  ];
  return [...uleb(fn.length), ...fn];
};

export interface Layout {
  block: number;
  count: number;
  dim: number;
  npad: number;
  dw: number;
  x: number;
  pt: number;
  p: number;
  w: number;
  live: number;
  acc: number;
  scratch: number;
  bytes: number;
}

export function layout(count: number, dim: number, block: number): Layout {
  const npad = Math.ceil(count / (2 * PD)) * 2 * PD,
    dw = Math.ceil(dim / (2 * QW)) * 2 * QW;
  const a16 = (v: number) => Math.ceil(v / 16) * 16;
  const x = 0,
    pt = a16(x + block * dim * 8),
    p = a16(pt + dim * npad * 8),
    w = a16(p + count * dw * 8),
    live = a16(w + block * npad * 8),
    acc = a16(live + count * 4),
    scratch = a16(acc + block * dw * 8),
    bytes = scratch + 32;
  return { block, count, dim, npad, dw, x, pt, p, w, live, acc, scratch, bytes };
}

/** `dist(tiles)`: pass 1 for rows 0 .. RD·tiles-1 of the x block. */
function distBody(L: Layout): number[] {
  // params: 0 tiles; i32 locals: 1 xRow, 2 wRow, 3 tEnd, 4 pt, 5 px, 6 py, 7 dEnd
  const xRow = 1,
    wRow = 2,
    tEnd = 3,
    pt = 4,
    px = 5,
    py = 6,
    dEnd = 7;
  // v128 locals: acc[RD*PD], v[PD], s, e
  const acc = (r: number, p: number) => 8 + r * PD + p,
    v = (p: number) => 8 + RD * PD + p,
    s = 8 + RD * PD + PD,
    e = s + 1;
  const inner: number[] = [];
  for (let p = 0; p < PD; p++) inner.push(...get(py), ...load(16 * p), ...set(v(p)));
  for (let r = 0; r < RD; r++) {
    inner.push(...get(px), ...splat(r * L.dim * 8), ...set(s));
    for (let p = 0; p < PD; p++)
      inner.push(
        ...get(acc(r, p)),
        ...get(s),
        ...get(v(p)),
        ...f64x2("sub"),
        0x22,
        ...uleb(e),
        ...get(e),
        ...f64x2("mul"),
        ...f64x2("add"),
        ...set(acc(r, p)),
      );
  }
  inner.push(...get(px), ...i32c(8), ADD, ...set(px), ...get(py), ...i32c(L.npad * 8), ADD, ...set(py));
  const pointLoop: number[] = [];
  for (let r = 0; r < RD; r++) for (let p = 0; p < PD; p++) pointLoop.push(...zero, ...set(acc(r, p)));
  pointLoop.push(...get(xRow), ...set(px), ...i32c(L.pt), ...get(pt), ADD, ...set(py));
  pointLoop.push(...get(xRow), ...i32c(L.dim * 8), ADD, ...set(dEnd));
  // do { inner } while (px < dEnd)
  pointLoop.push(0x03, 0x40, ...inner, ...get(px), ...get(dEnd), LT_U, 0x0d, 0, 0x0b);
  for (let r = 0; r < RD; r++)
    for (let p = 0; p < PD; p++)
      pointLoop.push(...get(wRow), ...get(pt), ADD, ...get(acc(r, p)), ...store(r * L.npad * 8 + 16 * p));
  pointLoop.push(...get(pt), ...i32c(2 * PD * 8), ADD, ...set(pt));
  const tileLoop = [
    ...i32c(0),
    ...set(pt),
    ...whileLoop([...get(pt), ...i32c(L.npad * 8), GE_U], pointLoop),
    ...get(xRow),
    ...i32c(RD * L.dim * 8),
    ADD,
    ...set(xRow),
    ...get(wRow),
    ...i32c(RD * L.npad * 8),
    ADD,
    ...set(wRow),
  ];
  const code = [
    ...i32c(L.x),
    ...set(xRow),
    ...i32c(L.w),
    ...set(wRow),
    ...get(0),
    ...i32c(RD * L.dim * 8),
    MUL,
    ...i32c(L.x),
    ADD,
    ...set(tEnd),
    ...whileLoop([...get(xRow), ...get(tEnd), GE_U], tileLoop),
  ];
  return fnBody(7, RD * PD + PD + 2, code);
}

/** `wsum(tiles, nlive)`: pass 2 for rows 0 .. RW·tiles-1 over the first nlive listed points. */
function wsumBody(L: Layout): number[] {
  // params: 0 tiles, 1 nlive; i32 locals: 2 wRow, 3 aRow, 4 tEnd, 5 q, 6 k, 7 kEnd, 8 i, 9 pw, 10 py
  const wRow = 2,
    aRow = 3,
    tEnd = 4,
    q = 5,
    k = 6,
    kEnd = 7,
    i = 8,
    pw = 9,
    py = 10;
  const acc = (r: number, c: number) => 11 + r * QW + c,
    v = (c: number) => 11 + RW * QW + c,
    s = 11 + RW * QW + QW;
  const inner: number[] = [...get(k), 0x28, 2, 0, ...set(i)];
  inner.push(...get(wRow), ...get(i), ...i32c(3), 0x74, ADD, ...set(pw));
  inner.push(...i32c(L.p), ...get(i), ...i32c(L.dw * 8), MUL, ADD, ...get(q), ADD, ...set(py));
  for (let c = 0; c < QW; c++) inner.push(...get(py), ...load(16 * c), ...set(v(c)));
  for (let r = 0; r < RW; r++) {
    inner.push(...get(pw), ...splat(r * L.npad * 8), ...set(s));
    for (let c = 0; c < QW; c++)
      inner.push(
        ...get(acc(r, c)),
        ...get(s),
        ...get(v(c)),
        ...f64x2("mul"),
        ...f64x2("add"),
        ...set(acc(r, c)),
      );
  }
  inner.push(...get(k), ...i32c(4), ADD, ...set(k));
  const coordLoop: number[] = [];
  for (let r = 0; r < RW; r++) for (let c = 0; c < QW; c++) coordLoop.push(...zero, ...set(acc(r, c)));
  coordLoop.push(...i32c(L.live), ...set(k));
  coordLoop.push(...whileLoop([...get(k), ...get(kEnd), GE_U], inner));
  for (let r = 0; r < RW; r++)
    for (let c = 0; c < QW; c++)
      coordLoop.push(...get(aRow), ...get(q), ADD, ...get(acc(r, c)), ...store(r * L.dw * 8 + 16 * c));
  coordLoop.push(...get(q), ...i32c(2 * QW * 8), ADD, ...set(q));
  const tileLoop = [
    ...i32c(0),
    ...set(q),
    ...whileLoop([...get(q), ...i32c(L.dw * 8), GE_U], coordLoop),
    ...get(wRow),
    ...i32c(RW * L.npad * 8),
    ADD,
    ...set(wRow),
    ...get(aRow),
    ...i32c(RW * L.dw * 8),
    ADD,
    ...set(aRow),
  ];
  const code = [
    ...i32c(L.w),
    ...set(wRow),
    ...i32c(L.acc),
    ...set(aRow),
    ...get(0),
    ...i32c(RW * L.npad * 8),
    MUL,
    ...i32c(L.w),
    ADD,
    ...set(tEnd),
    ...get(1),
    ...i32c(2),
    0x74,
    ...i32c(L.live),
    ADD,
    ...set(kEnd),
    ...whileLoop([...get(wRow), ...get(tEnd), GE_U], tileLoop),
  ];
  return fnBody(9, RW * QW + QW + 1, code);
}

/** v128.const of two equal f64 lanes / two equal i64 lanes. */
const f64c2 = (v: number) => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setFloat64(0, v, true);
  dv.setFloat64(8, v, true);
  return [SIMD, 0x0c, ...b];
};
const i64c2 = (v: number) => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, BigInt(v), true);
  dv.setBigInt64(8, BigInt(v), true);
  return [SIMD, 0x0c, ...b];
};
const vop = (op: number) => [SIMD, ...uleb(op)];
const V = {
  add: vop(0xf0),
  sub: vop(0xf1),
  mul: vop(0xf2),
  div: vop(0xf3),
  neg: vop(0xed),
  floor: vop(0x75),
  ne: vop(0x48),
  lt: vop(0x49),
  ge: vop(0x4c),
  truncSatZero: vop(0xfc),
  extendLowS: vop(0xc7),
  i64add: vop(0xce),
  i64shl: vop(0xcb),
  bitselect: vop(0x52),
};

/**
 * `expw(off, n, dmin, inv)`: w = fastExp(-(w - dmin) · inv) in place for the n values (rounded
 * up to whole vectors) at byte offset `off`: core's `fastExp` (fast-exp.ts) lane by lane, its
 * operations in its order (the argument reduction k = floor(x / ln2 + 1/2) with its split ln2,
 * the rational approximation of e^r, the scaling by 2^k built from exponent bits, in two steps
 * for subnormal results), its branches taken as lane selects: NaN stays NaN, x below its
 * underflow bound gives +0. Its arguments here are <= 0 or NaN (the distances minus their
 * minimum, times a positive 1 / (2 sigma^2)), so its overflow branches cannot be reached.
 */
function expBody(): number[] {
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
    ...get(p),
    ...i32c(16),
    ADD,
    ...set(p),
  ];
  const code = [
    ...get(2),
    SIMD,
    0x14,
    ...set(vdmin),
    ...get(3),
    SIMD,
    0x14,
    ...set(vinv),
    ...get(0),
    ...set(p),
    ...get(0),
    ...get(1),
    ...i32c(1),
    ADD,
    ...i32c(-2),
    0x71,
    ...i32c(3),
    0x74,
    ADD,
    ...set(end),
    ...whileLoop([...get(p), ...get(end), GE_U], body),
  ];
  return fnBody(2, 11, code);
}

/**
 * `amin(off, nvec)`: per lane (even, odd indices) of the first 2·nvec values at `off`, the
 * smallest value under `<` (NaN never taken) and the first index holding it (-1 if none), written
 * as [min0, min1, index0, index1] (f64) at `scratch`; the caller combines the two lanes.
 */
function aminBody(L: Layout): number[] {
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
    ...get(p),
    ...i32c(16),
    ADD,
    ...set(p),
  ];
  const code = [
    ...f64c2(Infinity),
    ...set(minv),
    ...f64c2(-1),
    ...set(mini),
    ...idx0,
    ...set(idx),
    ...get(0),
    ...set(p),
    ...get(0),
    ...get(1),
    ...i32c(4),
    0x74,
    ADD,
    ...set(end),
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
function normBody(): number[] {
  // params: 0 off, 1 n; i32: 2 p, 3 end; f64: 4 z; v128: 5 vz
  const p = 2,
    end = 3,
    z = 4,
    vz = 5;
  const sum = [...get(z), ...get(p), 0x2b, 3, 0, 0xa0, ...set(z), ...get(p), ...i32c(8), ADD, ...set(p)];
  const div = [
    ...get(p),
    ...get(p),
    ...load(0),
    ...get(vz),
    ...V.div,
    ...store(0),
    ...get(p),
    ...i32c(16),
    ADD,
    ...set(p),
  ];
  const code = [
    ...get(0),
    ...set(p),
    ...get(0),
    ...get(1),
    ...i32c(3),
    0x74,
    ADD,
    ...set(end),
    ...whileLoop([...get(p), ...get(end), GE_U], sum),
    ...get(z),
    SIMD,
    0x14,
    ...set(vz),
    ...get(0),
    ...set(p),
    ...get(0),
    ...get(1),
    ...i32c(1),
    ADD,
    ...i32c(-2),
    0x71,
    ...i32c(3),
    0x74,
    ADD,
    ...set(end),
    ...whileLoop([...get(p), ...get(end), GE_U], div),
  ];
  const fn = [
    ...vec([
      [...uleb(2), I32],
      [...uleb(1), F64],
      [...uleb(1), V128],
    ]),
    ...code,
    0x0b,
  ];
  return [...uleb(fn.length), ...fn];
}

/** The module: imports `m.mem`, exports `dist(tiles)`, `wsum(tiles, nlive)` and `expw`. */
export function empiricalModule(L: Layout): Uint8Array {
  const sig1 = [0x60, ...vec([[I32]]), 0],
    sig2 = [0x60, ...vec([[I32], [I32]]), 0],
    sig3 = [0x60, ...vec([[I32], [I32], [F64], [F64]]), 0];
  const pages = Math.ceil(L.bytes / 65536);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec([sig1, sig2, sig3])),
    ...section(2, vec([[...name("m"), ...name("mem"), 0x02, 0x00, ...uleb(pages)]])),
    ...section(3, vec([[0], [1], [2], [1], [1]])),
    ...section(
      7,
      vec([
        [...name("dist"), 0x00, 0],
        [...name("wsum"), 0x00, 1],
        [...name("expw"), 0x00, 2],
        [...name("amin"), 0x00, 3],
        [...name("norm"), 0x00, 4],
      ]),
    ),
    ...section(10, vec([distBody(L), wsumBody(L), expBody(), aminBody(L), normBody()])),
  ]);
}

interface Fns {
  dist(tiles: number): void;
  wsum(tiles: number, nlive: number): void;
  expw(off: number, n: number, dmin: number, inv: number): void;
  amin(off: number, nvec: number): void;
  norm(off: number, n: number): void;
}

/**
 * The passes of one data set in WebAssembly SIMD, or null from `create` where it is unavailable.
 * `x`, `weights` (row stride `stride`), `live` and `acc` (row stride `accStride`) are views of the
 * module's memory that the caller fills and reads around `distances` and `weightedSums`.
 */
export class EmpiricalSimd {
  readonly x: Float64Array;
  readonly weights: Float64Array;
  readonly live: Int32Array;
  readonly acc: Float64Array;
  private readonly scratch: Float64Array;
  readonly stride: number;
  readonly accStride: number;
  /** Rows per tile of each pass (the block's rows are rounded up to it). */
  static readonly rowTiles = [RD, RW] as const;
  private constructor(
    private readonly L: Layout,
    private readonly fns: Fns,
    buffer: ArrayBuffer,
  ) {
    this.x = new Float64Array(buffer, L.x, L.block * L.dim);
    this.weights = new Float64Array(buffer, L.w, L.block * L.npad);
    this.live = new Int32Array(buffer, L.live, L.count);
    this.acc = new Float64Array(buffer, L.acc, L.block * L.dw);
    this.scratch = new Float64Array(buffer, L.scratch, 4);
    this.stride = L.npad;
    this.accStride = L.dw;
  }

  /** Loads the points (row-major [count, dim]) into a fresh module, or null without SIMD. */
  static create(points: Float64Array, count: number, dim: number, block: number): EmpiricalSimd | null {
    if (block % RD !== 0 || block % RW !== 0)
      throw new RangeError("EmpiricalSimd: block not a multiple of the tiles");
    const wasm = simdWasm();
    if (wasm === null) return null;
    const L = layout(count, dim, block);
    if (L.bytes > 2 ** 31) return null;
    const pages = Math.ceil(L.bytes / 65536);
    const mem = new wasm.Memory({ initial: pages, maximum: pages });
    const inst = new wasm.Instance(new wasm.Module(empiricalModule(L)), { m: { mem } });
    const f64 = new Float64Array(mem.buffer);
    for (let i = 0; i < count; i++)
      for (let d = 0; d < dim; d++) {
        const y = points[i * dim + d];
        f64[L.pt / 8 + d * L.npad + i] = y;
        f64[L.p / 8 + i * L.dw + d] = y;
      }
    const fns = inst.exports as unknown as Fns;
    return new EmpiricalSimd(L, fns, mem.buffer);
  }

  /** Pass 1 for rows 0 .. nr-1 of `x` (rows past nr zero) into `weights`. */
  distances(nr: number): void {
    this.fns.dist(Math.ceil(nr / RD));
  }

  /** Pass 2 for rows 0 .. nr-1 over the first `nlive` entries of `live` into `acc`. */
  weightedSums(nr: number, nlive: number): void {
    this.fns.wsum(Math.ceil(nr / RW), nlive);
  }

  /**
   * weights[row, i] = fastExp(-(weights[row, i] - dmin) · inv) for i < count (and the padding
   * up to a whole vector), the same bits as `fastExp` for these arguments (<= 0 or NaN).
   */
  exp(row: number, dmin: number, inv: number): void {
    this.fns.expw(this.L.w + row * this.L.npad * 8, this.L.count, dmin, inv);
  }

  /**
   * The first index of the smallest of weights[row, 0 .. count-1] under `<`, as the sequential
   * scan `best = 0; if (w[i] < w[best]) best = i` finds it (so 0 when w[0] is NaN).
   */
  argmin(row: number): number {
    const { count, npad } = this.L,
      w = this.weights,
      o = row * npad;
    if (Number.isNaN(w[o])) return 0;
    const nvec = count >> 1;
    this.fns.amin(this.L.w + o * 8, nvec);
    const [v0, v1, i0, i1] = this.scratch;
    let best: number;
    if (i0 < 0 && i1 < 0) best = 0;
    else if (i1 < 0 || (i0 >= 0 && (v0 < v1 || (v0 === v1 && i0 < i1)))) best = i0;
    else best = i1;
    for (let i = 2 * nvec; i < count; i++) if (w[o + i] < w[o + best]) best = i;
    return best;
  }

  /** weights[row, i] /= z for i < count, z their sum in order (from +0). */
  normalise(row: number): void {
    this.fns.norm(this.L.w + row * this.L.npad * 8, this.L.count);
  }

  get count(): number {
    return this.L.count;
  }
}
