/**
 * Small helpers for assembling WebAssembly function bodies by hand (the empirical denoiser's
 * kernels): locals, constants, f64x2 lane operations, loops. Opcodes from the WebAssembly core
 * and SIMD specifications; `simd-emit.ts` holds the module-level encoders (LEB128, sections).
 */
import { F64, I32, SIMD, sleb, uleb, V128, vec } from "./simd-emit.js";

export const get = (l: number) => [0x20, ...uleb(l)];
export const set = (l: number) => [0x21, ...uleb(l)];
export const i32c = (v: number) => [0x41, ...sleb(v)];
export const ADD = 0x6a,
  MUL = 0x6c,
  GE_U = 0x4f,
  LT_U = 0x49;
export const f64x2 = (op: "add" | "sub" | "mul") => [SIMD, ...uleb({ add: 0xf0, sub: 0xf1, mul: 0xf2 }[op])];
export const load = (offset: number) => [SIMD, 0x00, 4, ...uleb(offset)];
export const splat = (offset: number) => [SIMD, 0x0a, 3, ...uleb(offset)];
export const store = (offset: number) => [SIMD, 0x0b, 4, ...uleb(offset)];
export const zero = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];
/** `while (cond) { body }` as block/loop; `cond` leaves an i32 that is 0 to stop. */
export const whileLoop = (exitIf: number[], bodyCode: number[]) => [
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
/** A function body: its locals (nI32 i32s, then nF64 f64s if any, then nV128 v128s) and code. */
export const fnBody = (nI32: number, nV128: number, code: number[], nF64 = 0) => {
  const fn = [
    ...vec([[...uleb(nI32), I32], ...(nF64 > 0 ? [[...uleb(nF64), F64]] : []), [...uleb(nV128), V128]]),
    ...code,
    0x0b,
  ];
  return [...uleb(fn.length), ...fn];
};
/** `l += by` on an i32 local. */
export const advance = (l: number, by: number) => [...get(l), ...i32c(by), ADD, ...set(l)];
/** f64x2.splat of the f64 local `l`. */
export const splatF64 = (l: number) => [...get(l), SIMD, 0x14];
/**
 * `p = off; end = off + (n << shift)` for the i32 locals `p`, `end` and the params `off`, `n`;
 * with `pairs`, n rounded up to even first (a loop over whole f64x2 vectors, padding included).
 */
export const span = (p: number, end: number, off: number, n: number, shift: number, pairs = false) => [
  ...get(off),
  ...set(p),
  ...get(off),
  ...get(n),
  ...(pairs ? [...i32c(1), ADD, ...i32c(-2), 0x71] : []),
  ...i32c(shift),
  0x74,
  ADD,
  ...set(end),
];

/** v128.const of two equal f64 lanes / two equal i64 lanes. */
export const f64c2 = (v: number) => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setFloat64(0, v, true);
  dv.setFloat64(8, v, true);
  return [SIMD, 0x0c, ...b];
};
export const i64c2 = (v: number) => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, BigInt(v), true);
  dv.setBigInt64(8, BigInt(v), true);
  return [SIMD, 0x0c, ...b];
};
export const vop = (op: number) => [SIMD, ...uleb(op)];
export const V = {
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
