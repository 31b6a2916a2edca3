/**
 * A tiny compiler from element-wise kernel expressions to WebAssembly SIMD (issue 16): no
 * toolchain, the module's bytes are assembled here. A kernel is a list of output expressions
 * over per-element operands (`inp(j)`), scalars (`par(j)`) and constants, built from the four
 * IEEE operations add, sub, mul and div. The same expression compiles to an f32x4 loop
 * (float32 tensors) and an f64x2 loop (float64 tensors); every operation is a lane-wise IEEE
 * operation rounded to the lane type, in the expression's order (no reassociation and no fused
 * multiply-add: WebAssembly has neither), so each element goes through exactly the operations of
 * the plain JS loop `f(f(a op b) ...)` (JS rounds a float32 sum, difference, product or quotient
 * computed in float64 to the same float32, the double rounding being innocuous for these four).
 * Only NaN payloads may differ (WebAssembly leaves them unspecified); NaN stays NaN.
 *
 * Scalars are passed as f64 and rounded to float32 with `f32.demote_f64` (round to nearest,
 * what `Math.fround` does) in the float32 function.
 *
 * The generated function `(n: i32, params...: f64)` reads operand j at byte offset
 * `j * stride` and writes output i at `(inputs + i) * stride` of the imported memory, for
 * n elements rounded up to whole lanes (the regions are sized for that). The in-place variant
 * (`stride` 0) takes each operand's byte address as an i32 parameter after `n` instead.
 */

export type Expr =
  | { readonly k: "in"; readonly i: number }
  | { readonly k: "par"; readonly i: number }
  | { readonly k: "const"; readonly v: number }
  | { readonly k: "add" | "sub" | "mul" | "div" | "pmax"; readonly a: Expr; readonly b: Expr }
  | { readonly k: "r32"; readonly a: Expr }
  | { readonly k: "abs"; readonly a: Expr };

/** Per-element operand j (a tensor). */
export const inp = (i: number): Expr => ({ k: "in", i });
/** Scalar j. */
export const par = (i: number): Expr => ({ k: "par", i });
/** A constant (rounded to the lane type). */
export const cst = (v: number): Expr => ({ k: "const", v });
export const add = (a: Expr, b: Expr): Expr => ({ k: "add", a, b });
export const sub = (a: Expr, b: Expr): Expr => ({ k: "sub", a, b });
export const mul = (a: Expr, b: Expr): Expr => ({ k: "mul", a, b });
export const div = (a: Expr, b: Expr): Expr => ({ k: "div", a, b });
/**
 * `Math.fround`: nothing in the float32 function (its lanes are float32 already); in the float64
 * one each lane is rounded to float32 and back (f32x4.demote_f64x2_zero, f64x2.promote_low_f32x4),
 * for the float32 ops of a float64 run (diffusers reads the sample as float32 first).
 */
export const r32 = (a: Expr): Expr => ({ k: "r32", a });
/** |a| (`Math.abs`: the sign bit cleared; NaN stays NaN). */
export const abs = (a: Expr): Expr => ({ k: "abs", a });
/**
 * `a < b ? b : a` exactly as JS evaluates it (WebAssembly's pmax), NaN and signed zeros included:
 * so JS's `x > y ? x : y` is `pmax(y, x)`. Not `Math.max` (which propagates NaN either way).
 */
export const pmax = (a: Expr, b: Expr): Expr => ({ k: "pmax", a, b });

export interface KernelSpec {
  /** Number of tensor operands read. */
  readonly inputs: number;
  /** Number of scalars. */
  readonly params: number;
  /** One expression per output tensor. */
  readonly outputs: readonly Expr[];
  /**
   * Inputs (at most 2) checked for NaN and infinity as they are read: the function then returns
   * an i32 with bit k set when some element of input `check[k]` is not finite, over the whole
   * 64-byte iterations (the last partial one, which reads past n, is not checked: the caller
   * checks those few elements itself).
   */
  readonly check?: readonly number[];
}

export const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
};

export const sleb = (v: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};

export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

export const I32 = 0x7f,
  F64 = 0x7c,
  V128 = 0x7b;
export const SIMD = 0xfd;
/** Vectors per loop iteration (independent, so their latencies overlap). */
export const UNROLL = 4;
/** lane-wise ops: [f32x4, f64x2] SIMD opcodes */
const LANE_OP = {
  add: [0xe4, 0xf0],
  sub: [0xe5, 0xf1],
  mul: [0xe6, 0xf2],
  div: [0xe7, 0xf3],
  pmax: [0xeb, 0xf7],
  abs: [0xe0, 0xec],
} as const;

/**
 * Body of one function: the loop over `n` elements in lanes of `wide ? 2 : 4`. With `based`, the
 * operands' byte addresses are i32 parameters after `n` (inputs, then outputs), otherwise the
 * fixed regions `j * stride`.
 */
function body(spec: KernelSpec, wide: boolean, stride: number, based: boolean): number[] {
  const lane = wide ? 1 : 0;
  const nBase = based ? spec.inputs + spec.outputs.length : 0;
  // locals: 0 = n, then the bases (i32) when based, then the scalars (f64); then i32 p
  // (byte cursor), i32 end, v128 temps
  const parLocal = 1 + nBase,
    pLocal = parLocal + spec.params,
    endLocal = pLocal + 1;
  // with checks, one more i32 local: `full` (the checked iterations' end)
  const check = spec.check ?? [],
    fullLocal = endLocal + 1,
    firstV = endLocal + (check.length > 0 ? 2 : 1);
  let nextV = firstV;
  const code: number[] = [];
  // scalar and constant splats, hoisted out of the loop
  const splat = new Map<string, number>();
  const consts: number[] = [];
  const refs = new Map<Expr, number>();
  const count = (e: Expr): void => {
    const r = (refs.get(e) ?? 0) + 1;
    refs.set(e, r);
    if (r > 1) return;
    if (e.k === "const" && !consts.includes(e.v)) consts.push(e.v);
    if (e.k === "add" || e.k === "sub" || e.k === "mul" || e.k === "div" || e.k === "pmax") {
      count(e.a);
      count(e.b);
    } else if (e.k === "r32" || e.k === "abs") count(e.a);
  };
  for (const o of spec.outputs) count(o);
  const splatLocal = (key: string, load: number[]): void => {
    const l = nextV++;
    splat.set(key, l);
    code.push(...load, SIMD, ...uleb(wide ? 0x14 : 0x13), 0x21, ...uleb(l));
  };
  for (let j = 0; j < spec.params; j++) {
    splatLocal(`p${j}`, wide ? [0x20, ...uleb(parLocal + j)] : [0x20, ...uleb(parLocal + j), 0xb6]);
  }
  for (const v of consts) {
    const bytes = new Uint8Array(wide ? 8 : 4);
    if (wide) new DataView(bytes.buffer).setFloat64(0, v, true);
    else new DataView(bytes.buffer).setFloat32(0, v, true);
    splatLocal(`c${v}`, [wide ? 0x44 : 0x43, ...bytes]);
  }
  // end = n rounded up to whole iterations of UNROLL vectors, in bytes; full = n rounded down
  const shift = wide ? 3 : 2,
    perIter = 16 * UNROLL;
  code.push(0x20, 0, 0x41, ...sleb(perIter / (wide ? 8 : 4) - 1), 0x6a, 0x41, ...sleb(shift), 0x74);
  code.push(0x41, ...sleb(-perIter), 0x71, 0x21, ...uleb(endLocal));
  // accumulators of the checked inputs: lanes of v − v (+0 for finite v, NaN otherwise) or-ed
  const acc = check.map(() => nextV++);
  // one iteration: UNROLL independent copies of the body (own temporaries), p += perIter
  const iteration = (checked: boolean): number[] => {
    const out: number[] = [];
    for (let u = 0; u < UNROLL; u++) {
      const tempOf = new Map<Expr, number>();
      const at = 16 * u;
      // address of operand j (inputs first) at this copy: p + base_j (based) or p + j * stride
      const addr = (j: number) =>
        based ? [0x20, ...uleb(pLocal), 0x20, ...uleb(1 + j), 0x6a] : [0x20, ...uleb(pLocal)];
      const off = (j: number) => uleb((based ? 0 : j * stride) + at);
      const load = (j: number) => [...addr(j), SIMD, 0x00, 4, ...off(j)];
      if (checked) {
        check.forEach((j, c) => {
          const t = nextV++;
          out.push(...load(j), 0x22, ...uleb(t), 0x20, ...uleb(t), SIMD, ...uleb(LANE_OP.sub[lane]));
          out.push(0x20, ...uleb(acc[c]), SIMD, ...uleb(0x50), 0x21, ...uleb(acc[c])); // v128.or
        });
      }
      const emit = (e: Expr): void => {
        const t = tempOf.get(e);
        if (t !== undefined) {
          out.push(0x20, ...uleb(t));
          return;
        }
        if (e.k === "in") out.push(...load(e.i));
        else if (e.k === "par") out.push(0x20, ...uleb(splat.get(`p${e.i}`) as number));
        else if (e.k === "const") out.push(0x20, ...uleb(splat.get(`c${e.v}`) as number));
        else if (e.k === "r32") {
          emit(e.a);
          if (wide) out.push(SIMD, ...uleb(0x5e), SIMD, ...uleb(0x5f));
        } else if (e.k === "abs") {
          emit(e.a);
          out.push(SIMD, ...uleb(LANE_OP.abs[lane]));
        } else {
          emit(e.a);
          emit(e.b);
          out.push(SIMD, ...uleb(LANE_OP[e.k][lane]));
        }
        if ((refs.get(e) ?? 0) > 1 && e.k !== "par" && e.k !== "const") {
          const l = nextV++;
          tempOf.set(e, l);
          out.push(0x22, ...uleb(l)); // local.tee
        }
      };
      spec.outputs.forEach((o, i) => {
        out.push(...addr(spec.inputs + i));
        emit(o);
        out.push(SIMD, 0x0b, 4, ...off(spec.inputs + i));
      });
    }
    return [...out, 0x20, ...uleb(pLocal), 0x41, ...sleb(perIter), 0x6a, 0x21, ...uleb(pLocal)];
  };
  /** while p < limit (the local): body */
  const loop = (limit: number, b: number[]): number[] => [
    0x02,
    0x40,
    0x03,
    0x40,
    0x20,
    ...uleb(pLocal),
    0x20,
    ...uleb(limit),
    0x4f,
    0x0d,
    1, // p >= limit: br_if block
    ...b,
    0x0c,
    0,
    0x0b,
    0x0b,
  ];
  if (check.length > 0) {
    // the whole iterations checked (limit: n·size rounded down, in the local `full`), then the rest
    code.push(0x20, 0, 0x41, ...sleb(shift), 0x74, 0x41, ...sleb(-perIter), 0x71, 0x21, ...uleb(fullLocal));
    code.push(...loop(fullLocal, iteration(true)), ...loop(endLocal, iteration(false)));
    // flags: bit c when accumulator c has a set bit
    code.push(0x41, 0);
    acc.forEach((a, c) => {
      code.push(0x20, ...uleb(a), SIMD, ...uleb(0x53), 0x41, c, 0x74, 0x72); // any_true << c, or
    });
    code.push(0x0b);
  } else code.push(...loop(endLocal, iteration(false)), 0x0b);
  const locals = [
    [...uleb(firstV - pLocal), I32],
    [...uleb(nextV - firstV), V128],
  ];
  const fn = [...vec(locals), ...code];
  return [...uleb(fn.length), ...fn];
}

/**
 * The module of one kernel: imports `m.mem` (one page at least), exports `f32` and `f64`.
 * `stride` is the byte distance between operand regions; `stride` 0 makes the functions take
 * each operand's byte address instead, `(n, inputs..., outputs..., params...)`, for tensors
 * that already lie in the memory (a `SimdArena`): the loop still runs to whole iterations of
 * UNROLL vectors, so each operand must be followed by up to 64 bytes it may read and write.
 */
/**
 * The expressions with every division by a constant power of two 2^k (|k| <= 126) made a
 * multiplication by 2^-k: the same IEEE result for every operand, NaN payloads aside (both
 * round the same exact value, a / 2^k, and 2^-k is exact in either lane type), for a fraction of
 * a division's cost (the divider is what bounds the step kernels). Shared subexpressions stay
 * shared.
 */
function withoutPowerOfTwoDivisions(outputs: readonly Expr[]): Expr[] {
  const done = new Map<Expr, Expr>();
  const walk = (e: Expr): Expr => {
    const seen = done.get(e);
    if (seen !== undefined) return seen;
    let r: Expr = e;
    if (e.k === "r32" || e.k === "abs") {
      const a = walk(e.a);
      r = a === e.a ? e : e.k === "abs" ? { k: "abs", a } : { k: "r32", a };
    } else if (e.k === "add" || e.k === "sub" || e.k === "mul" || e.k === "div" || e.k === "pmax") {
      const a = walk(e.a),
        b = walk(e.b);
      const k = b.k === "const" && b.v !== 0 ? Math.log2(Math.abs(b.v)) : Number.NaN;
      if (e.k === "div" && b.k === "const" && Number.isInteger(k) && Math.abs(k) <= 126) {
        r = { k: "mul", a, b: { k: "const", v: 1 / b.v } };
      } else r = a === e.a && b === e.b ? e : { k: e.k, a, b };
    }
    done.set(e, r);
    return r;
  };
  return outputs.map(walk);
}

/**
 * The memory import: a plain memory of at least one page, or (`shared`) a shared one, which
 * WebAssembly requires to declare a maximum (the largest, 65,536 pages: any shared memory fits).
 */
const memoryImport = (shared: boolean): number[] =>
  shared ? [0x02, 0x03, 1, ...uleb(65536)] : [0x02, 0x00, 1];

export function kernelModule(spec: KernelSpec, stride: number, shared = false): Uint8Array {
  const reduced = { ...spec, outputs: withoutPowerOfTwoDivisions(spec.outputs) };
  const based = stride === 0;
  const nBase = based ? spec.inputs + spec.outputs.length : 0;
  const sig = [
    0x60,
    ...vec([
      [I32],
      ...Array.from({ length: nBase }, () => [I32]),
      ...Array.from({ length: spec.params }, () => [F64]),
    ]),
    ...(spec.check !== undefined && spec.check.length > 0 ? vec([[I32]]) : [0]),
  ];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec([sig])),
    ...section(2, vec([[...name("m"), ...name("mem"), ...memoryImport(shared)]])),
    ...section(3, vec([[0], [0]])),
    ...section(
      7,
      vec([
        [...name("f32"), 0x00, 0],
        [...name("f64"), 0x00, 1],
      ]),
    ),
    ...section(10, vec([body(reduced, false, stride, based), body(reduced, true, stride, based)])),
  ];
  return new Uint8Array(bytes);
}

/**
 * The finiteness check: exports `f32` and `f64`, `(n: i32, at: i32) -> i32`, 0 when the n
 * elements from byte address `at` (n a multiple of 16) are all finite, 1 otherwise (a flag, like
 * a checking kernel's): lanes of Σ x·0, which stays ±0 unless some x is NaN or infinite,
 * compared with 0. `shared`: for a shared memory.
 */
export function finiteModule(shared = false): Uint8Array {
  const fnBody = (wide: boolean): number[] => {
    const pL = 1,
      endL = 2,
      acc = [3, 4, 5, 6],
      zero = 7; // v128 locals start zeroed
    const mulOp = wide ? 0xf2 : 0xe6,
      addOp = wide ? 0xf0 : 0xe4,
      eqOp = wide ? 0x47 : 0x41;
    const code: number[] = [];
    // end = at + n * size (n % 16 == 0); the cursor is the parameter `at`
    code.push(0x20, pL, 0x20, 0, 0x41, wide ? 3 : 2, 0x74, 0x6a, 0x21, endL);
    code.push(0x02, 0x40, 0x03, 0x40);
    code.push(0x20, pL, 0x20, endL, 0x4f, 0x0d, 1);
    acc.forEach((a, u) => {
      code.push(0x20, a, 0x20, pL, SIMD, 0x00, 4, ...uleb(16 * u), 0x20, zero, SIMD, ...uleb(mulOp));
      code.push(SIMD, ...uleb(addOp), 0x21, a);
    });
    code.push(0x20, pL, 0x41, ...sleb(64), 0x6a, 0x21, pL, 0x0c, 0, 0x0b, 0x0b);
    // ((acc0 + acc1) + (acc2 + acc3)) == 0 in every lane
    code.push(
      0x20,
      acc[0],
      0x20,
      acc[1],
      SIMD,
      ...uleb(addOp),
      0x20,
      acc[2],
      0x20,
      acc[3],
      SIMD,
      ...uleb(addOp),
    );
    code.push(SIMD, ...uleb(addOp), 0x20, zero, SIMD, ...uleb(eqOp), SIMD, ...uleb(0xa3), 0x45, 0x0b); // all_true, eqz
    const fn = [
      ...vec([
        [1, I32],
        [5, V128],
      ]),
      ...code,
    ];
    return [...uleb(fn.length), ...fn];
  };
  const sig = [0x60, ...vec([[I32], [I32]]), ...vec([[I32]])];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec([sig])),
    ...section(2, vec([[...name("m"), ...name("mem"), ...memoryImport(shared)]])),
    ...section(3, vec([[0], [0]])),
    ...section(
      7,
      vec([
        [...name("f32"), 0x00, 0],
        [...name("f64"), 0x00, 1],
      ]),
    ),
    ...section(10, vec([fnBody(false), fnBody(true)])),
  ]);
}
