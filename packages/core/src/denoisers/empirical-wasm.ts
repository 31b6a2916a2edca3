/**
 * The WebAssembly module of `EmpiricalDenoiser`'s SIMD path (empirical-simd.ts says what each
 * function computes and why the results are the JS loops' bits): the memory layout, the two
 * matrix-product passes (`dist`, `wsum`) and the module assembled from them and the softmax
 * kernels (empirical-wasm-softmax.ts).
 */
import { F64, I32, name, section, uleb, vec } from "../simd-emit.js";
import {
  ADD,
  advance,
  f64x2,
  fnBody,
  GE_U,
  get,
  i32c,
  LT_U,
  load,
  MUL,
  set,
  splat,
  store,
  whileLoop,
  zero,
} from "../wasm-asm.js";
import { aminBody, expBody, normBody } from "./empirical-wasm-softmax.js";

/** Rows per register tile of pass 1 and its vectors (2 points each) per row. */
export const RD = 4,
  PD = 3;
/** Rows per register tile of pass 2 and its vectors (2 coordinates each) per row. */
export const RW = 4,
  QW = 2;

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
  inner.push(...advance(px, 8), ...advance(py, L.npad * 8));
  const pointLoop: number[] = [];
  for (let r = 0; r < RD; r++) for (let p = 0; p < PD; p++) pointLoop.push(...zero, ...set(acc(r, p)));
  pointLoop.push(...get(xRow), ...set(px), ...i32c(L.pt), ...get(pt), ADD, ...set(py));
  pointLoop.push(...get(xRow), ...i32c(L.dim * 8), ADD, ...set(dEnd));
  // do { inner } while (px < dEnd)
  pointLoop.push(0x03, 0x40, ...inner, ...get(px), ...get(dEnd), LT_U, 0x0d, 0, 0x0b);
  for (let r = 0; r < RD; r++)
    for (let p = 0; p < PD; p++)
      pointLoop.push(...get(wRow), ...get(pt), ADD, ...get(acc(r, p)), ...store(r * L.npad * 8 + 16 * p));
  pointLoop.push(...advance(pt, 2 * PD * 8));
  const tileLoop = [
    ...i32c(0),
    ...set(pt),
    ...whileLoop([...get(pt), ...i32c(L.npad * 8), GE_U], pointLoop),
    ...advance(xRow, RD * L.dim * 8),
    ...advance(wRow, RD * L.npad * 8),
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
  inner.push(...advance(k, 4));
  const coordLoop: number[] = [];
  for (let r = 0; r < RW; r++) for (let c = 0; c < QW; c++) coordLoop.push(...zero, ...set(acc(r, c)));
  coordLoop.push(...i32c(L.live), ...set(k));
  coordLoop.push(...whileLoop([...get(k), ...get(kEnd), GE_U], inner));
  for (let r = 0; r < RW; r++)
    for (let c = 0; c < QW; c++)
      coordLoop.push(...get(aRow), ...get(q), ADD, ...get(acc(r, c)), ...store(r * L.dw * 8 + 16 * c));
  coordLoop.push(...advance(q, 2 * QW * 8));
  const tileLoop = [
    ...i32c(0),
    ...set(q),
    ...whileLoop([...get(q), ...i32c(L.dw * 8), GE_U], coordLoop),
    ...advance(wRow, RW * L.npad * 8),
    ...advance(aRow, RW * L.dw * 8),
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
