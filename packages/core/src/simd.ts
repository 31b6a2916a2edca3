/**
 * WebAssembly SIMD for the element-wise step kernels of large tensors (issue 16).
 *
 * A `SimdKernel` compiles a kernel expression (simd-emit.ts) once, lazily, into a tiny
 * module that works on one shared `WebAssembly.Memory`; `run` then streams the tensors through
 * it in chunks: each chunk of every operand is copied into the memory (`TypedArray.set`, a
 * memcpy), computed in f32x4 / f64x2 lanes, and the outputs copied back. The chunks are small
 * enough to stay in the core's caches, so the copies cost little next to the trip to memory that
 * any kernel makes, and the arrays stay ordinary `Float32Array` / `Float64Array`s (a model's
 * output, a caller's buffer) with no wasm-owned storage to manage.
 *
 * Results are those of the plain JS loops bit for bit (simd-emit.ts says why), NaN payloads
 * aside. Nothing node-specific is used; where WebAssembly or its SIMD is missing (or
 * `EDMKIT_SIMD=0` is set in node), `ready()` is false and callers keep their JS loops.
 * Small tensors stay on the JS loops (`SIMD_MIN`): the copies and the call would cost more.
 *
 * Views of the operands' chunks are cached per array (a WeakMap, so a sampler's buffers and a
 * model's reused output tensor cost no allocation after the first step).
 *
 * Arrays that already lie in wasm memory skip the copies: a `SimdArena` hands out arrays on a
 * memory of its own, and a kernel call whose operands all lie in one arena runs in place on it
 * (an instance of the kernel's in-place module per arena, made on first use).
 */
import { type Expr, finiteModule, type KernelSpec, kernelModule } from "./simd-emit.js";

/** Elements below which the JS loops are used. */
export const SIMD_MIN = 4096;
/** Bytes of one operand region (a chunk of one tensor). */
const REGION = 16384;
/** Operand regions (inputs + outputs) a kernel may use. */
const MAX_OPERANDS = 8;

type Data = Float32Array | Float64Array;

/** The part of the WebAssembly API used here (the project's TS lib has no DOM types). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (mod: object, imports: object) => { exports: Record<string, unknown> };
}

const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

interface Shared {
  wasm: WasmApi;
  mem: { buffer: ArrayBuffer };
  f32: Float32Array;
  f64: Float64Array;
}

let shared: Shared | null | undefined;

function disabled(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.EDMKIT_SIMD === "0";
}

/**
 * The WebAssembly API where its SIMD is available (and not turned off by `EDMKIT_SIMD=0`), for
 * kernels that own their memory (the empirical denoiser's resident data set); otherwise null.
 */
export function simdWasm(): WasmApi | null {
  return sharedMemory()?.wasm ?? null;
}

/** The shared memory, or null when WebAssembly SIMD is unavailable. */
function sharedMemory(): Shared | null {
  if (shared !== undefined) return shared;
  shared = null;
  const wasm = wasmApi();
  if (disabled() || typeof wasm !== "object") return shared;
  try {
    const probe = kernelModule({ inputs: 1, params: 0, outputs: [{ k: "in", i: 0 }] }, REGION);
    if (!wasm.validate(probe)) return shared;
    const pages = Math.ceil((REGION * MAX_OPERANDS) / 65536);
    const mem = new wasm.Memory({ initial: pages, maximum: pages });
    shared = { wasm, mem, f32: new Float32Array(mem.buffer), f64: new Float64Array(mem.buffer) };
  } catch {
    shared = null;
  }
  return shared;
}

/**
 * Chunk views of an array, cached per array: chunks of a float32 kernel (REGION / 4 elements)
 * and of a float64 one (REGION / 8), so a float32 operand of a float64 kernel (converted exactly
 * by `set`) is cut like the float64 ones.
 */
const chunkCache = [new WeakMap<Data, Data[]>(), new WeakMap<Data, Data[]>()];

function chunks(a: Data, wide: boolean): Data[] {
  const cache = chunkCache[wide ? 1 : 0];
  let c = cache.get(a);
  if (c === undefined) {
    const step = REGION / (wide ? 8 : 4);
    c = [];
    for (let k = 0; k < a.length; k += step) c.push(a.subarray(k, Math.min(a.length, k + step)));
    cache.set(a, c);
  }
  return c;
}

/** Views of the memory's regions, by region and length (the last chunk is shorter). */
const regionCache = new Map<number, Data>();

function region(s: Shared, wide: boolean, r: number, len: number): Data {
  const key = (r * (REGION + 1) + len) * 2 + (wide ? 1 : 0);
  let v = regionCache.get(key);
  if (v === undefined) {
    const heap = wide ? s.f64 : s.f32;
    const start = (r * REGION) / heap.BYTES_PER_ELEMENT;
    v = heap.subarray(start, start + len);
    regionCache.set(key, v);
  }
  return v;
}

const NONE = new Float32Array(0),
  NO_CHUNKS: Data[] = [];

type Fn = (n: number, ...params: number[]) => void;
type PlacedFn = (...args: number[]) => void;

/** The memory of each arena, by its buffer (`SimdKernel.run` works in place on these). */
const arenaMemory = new WeakMap<ArrayBuffer, { buffer: ArrayBuffer }>();

/** Bytes between the starts of an arena's arrays: whole kernel iterations (UNROLL vectors). */
const ARENA_ALIGN = 64;

/**
 * A fixed set of float arrays on one `WebAssembly.Memory` of their own, on which the SIMD
 * kernels run in place (no chunk copies) when every operand of a call lies in it. Sized once
 * for `slots` arrays of `length` elements and never grown (growing would detach the views);
 * `alloc` returns null once they are used up, and callers then allocate ordinary arrays (the
 * kernels take the chunked path for calls that mix them). Each array is followed by padding
 * the kernels may scribble on (they run to whole 64-byte iterations). The memory belongs to
 * whoever holds the arrays: an arena is never reset, so handing out one of its arrays (a
 * sampler's result) is safe; it keeps the whole memory alive while referenced.
 */
export class SimdArena {
  private readonly mem: { buffer: ArrayBuffer };
  private readonly stride: number;
  private used = 0;

  private constructor(
    wasm: WasmApi,
    private readonly length: number,
    private readonly wide: boolean,
    private readonly slots: number,
  ) {
    this.stride = Math.ceil((length * (wide ? 8 : 4)) / ARENA_ALIGN) * ARENA_ALIGN + ARENA_ALIGN;
    const pages = Math.ceil((this.stride * slots) / 65536);
    this.mem = new wasm.Memory({ initial: pages, maximum: pages });
    arenaMemory.set(this.mem.buffer, this.mem);
  }

  /**
   * An arena for `slots` arrays of `length` elements of `dtype`, or null where the kernels would
   * not use it: fewer than SIMD_MIN elements, float64 unless `float64`, no WebAssembly SIMD, or
   * a memory that cannot be had (over 2 GiB, out of memory).
   */
  static create(
    dtype: "float32" | "float64",
    length: number,
    slots: number,
    float64 = false,
  ): SimdArena | null {
    if (length < SIMD_MIN || (dtype === "float64" && !float64)) return null;
    const s = sharedMemory();
    if (s === null) return null;
    const bytes =
      (Math.ceil((length * (dtype === "float64" ? 8 : 4)) / ARENA_ALIGN) + 1) * ARENA_ALIGN * slots;
    if (bytes > 2 ** 31) return null;
    try {
      return new SimdArena(s.wasm, length, dtype === "float64", slots);
    } catch {
      return null;
    }
  }

  /** The next free array (zeros), or null when all slots are taken. */
  alloc(): Float32Array | Float64Array | null {
    if (this.used === this.slots) return null;
    const at = this.used++ * this.stride;
    return this.wide
      ? new Float64Array(this.mem.buffer, at, this.length)
      : new Float32Array(this.mem.buffer, at, this.length);
  }
}

/**
 * One element-wise kernel: `ops` takes the output arrays then the input arrays (all of one
 * length and one dtype: the caller checked; outputs may alias inputs), `run(params)` computes
 * and releases them. Compiled on the first `ready()`.
 */
export class SimdKernel {
  /**
   * Outputs (spec.outputs.length of them), then inputs (spec.inputs). The kernel's dtype is the
   * first output's; an input of the other float type is converted as it is copied in
   * (`TypedArray.set`: float32 to float64 exactly, float64 to float32 rounded to nearest).
   */
  readonly ops: Data[] = [];
  private f32: Fn | null = null;
  private f64: Fn | null = null;
  private state: "new" | "ready" | "off" = "new";
  private readonly chunkOf: Data[][] = [];
  /** The in-place module (compiled on first use) and its instance per arena memory. */
  private placed: object | null = null;
  private readonly inArena = new WeakMap<ArrayBuffer, { f32: PlacedFn; f64: PlacedFn }>();
  private readonly args: number[] = new Array(19).fill(0);
  /** Per input, the last output whose expression reads it (-1: none). */
  private readonly lastReader: number[];

  constructor(private readonly spec: KernelSpec) {
    if (spec.inputs + spec.outputs.length > MAX_OPERANDS || spec.params > 10) {
      throw new RangeError("SimdKernel: at most 8 operands and 10 scalars");
    }
    this.lastReader = new Array(spec.inputs).fill(-1);
    const mark = (e: Expr, i: number): void => {
      if (e.k === "in") this.lastReader[e.i] = i;
      else if (e.k === "r32") mark(e.a, i);
      else if (e.k !== "par" && e.k !== "const") {
        mark(e.a, i);
        mark(e.b, i);
      }
    };
    spec.outputs.forEach(mark);
  }

  /** Whether the kernel can run here (WebAssembly SIMD present); compiles it the first time. */
  ready(): boolean {
    if (this.state === "new") {
      const s = sharedMemory();
      if (s === null) this.state = "off";
      else {
        const mod = new s.wasm.Module(kernelModule(this.spec, REGION));
        const inst = new s.wasm.Instance(mod, { m: { mem: s.mem } });
        this.f32 = inst.exports.f32 as Fn;
        this.f64 = inst.exports.f64 as Fn;
        this.state = "ready";
      }
    }
    return this.state === "ready";
  }

  /**
   * Whether a call writing `o` should run here: `o` holds at least SIMD_MIN elements, is
   * float32 (or float64 where `float64` is set: callers enable it where measured to win, or
   * lies in a `SimdArena`: with no chunk copies float64 SIMD wins everywhere measured) and
   * WebAssembly SIMD is available.
   */
  accepts(o: Data, float64 = false): boolean {
    return (
      o.length >= SIMD_MIN &&
      (float64 || o instanceof Float32Array || arenaMemory.has(o.buffer as ArrayBuffer)) &&
      this.ready()
    );
  }

  /**
   * The kernel's functions on an arena's memory when every operand is a view on it, of one
   * dtype, and no output overlaps an input or another output, except an output that is exactly
   * an input no later output reads (each output's vectors are read before it is written, and
   * the outputs are written in order, so every read still sees the input); otherwise null.
   */
  private placedFor(ops: Data[], nOut: number, nOps: number): { f32: PlacedFn; f64: PlacedFn } | null {
    const buf = ops[0].buffer as ArrayBuffer,
      mem = arenaMemory.get(buf);
    if (mem === undefined) return null;
    const ctor = ops[0].constructor;
    for (let j = 1; j < nOps; j++) if (ops[j].buffer !== buf || ops[j].constructor !== ctor) return null;
    for (let i = 0; i < nOut; i++) {
      const a = ops[i].byteOffset,
        ae = a + ops[i].byteLength;
      for (let j = 0; j < nOps; j++) {
        if (j === i) continue;
        const b = ops[j].byteOffset,
          be = b + ops[j].byteLength;
        if (a >= be || b >= ae) continue;
        if (!(j >= nOut && a === b && this.lastReader[j - nOut] <= i)) return null;
      }
    }
    let f = this.inArena.get(buf);
    if (f === undefined) {
      const s = shared as Shared;
      this.placed ??= new s.wasm.Module(kernelModule(this.spec, 0));
      const inst = new s.wasm.Instance(this.placed, { m: { mem } });
      f = { f32: inst.exports.f32 as PlacedFn, f64: inst.exports.f64 as PlacedFn };
      this.inArena.set(buf, f);
    }
    return f;
  }

  /** Computes the outputs from `ops` with these scalars (call `ready()` first), then clears `ops`. */
  run(p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0, p8 = 0, p9 = 0): void {
    const s = shared as Shared,
      ops = this.ops,
      nOut = this.spec.outputs.length,
      nOps = nOut + this.spec.inputs,
      wide = ops[0] instanceof Float64Array,
      fn = (wide ? this.f64 : this.f32) as Fn,
      ch = this.chunkOf;
    const placed = this.placedFor(ops, nOut, nOps);
    if (placed !== null) {
      // in place: inputs' then outputs' byte addresses, then the scalars
      // (a wasm function ignores the arguments past its own)
      const a = this.args;
      let k = 0;
      a[k++] = ops[0].length;
      for (let j = nOut; j < nOps; j++) a[k++] = ops[j].byteOffset;
      for (let i = 0; i < nOut; i++) a[k++] = ops[i].byteOffset;
      a[k++] = p0;
      a[k++] = p1;
      a[k++] = p2;
      a[k++] = p3;
      a[k++] = p4;
      a[k++] = p5;
      a[k++] = p6;
      a[k++] = p7;
      a[k++] = p8;
      a[k++] = p9;
      (wide ? placed.f64 : placed.f32)(
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
        a[5],
        a[6],
        a[7],
        a[8],
        a[9],
        a[10],
        a[11],
        a[12],
        a[13],
        a[14],
        a[15],
        a[16],
        a[17],
        a[18],
      );
      for (let j = 0; j < nOps; j++) ops[j] = NONE;
      return;
    }
    for (let j = 0; j < nOps; j++) ch[j] = chunks(ops[j], wide);
    const count = ch[0].length;
    for (let c = 0; c < count; c++) {
      const m = ch[0][c].length;
      // inputs to regions 0.., outputs from regions inputs..
      for (let j = nOut; j < nOps; j++) region(s, wide, j - nOut, m).set(ch[j][c]);
      fn(m, p0, p1, p2, p3, p4, p5, p6, p7, p8, p9);
      for (let i = 0; i < nOut; i++) ch[i][c].set(region(s, wide, this.spec.inputs + i, m));
    }
    // let go of the arrays (no allocation: the slots are reused)
    for (let j = 0; j < nOps; j++) {
      ops[j] = NONE;
      ch[j] = NO_CHUNKS;
    }
  }
}

let finite: { f32: (n: number) => number; f64: (n: number) => number } | null | undefined;

/**
 * `allFinite` through SIMD for a large array (each chunk copied into the memory and checked
 * there, the last few elements in JS), or null where WebAssembly SIMD is unavailable.
 */
export function simdAllFinite(a: Data): boolean | null {
  if (finite === undefined) {
    const s = sharedMemory();
    finite = null;
    if (s !== null) {
      const inst = new s.wasm.Instance(new s.wasm.Module(finiteModule()), { m: { mem: s.mem } });
      finite = inst.exports as { f32: (n: number) => number; f64: (n: number) => number };
    }
  }
  if (finite === null) return null;
  const s = shared as Shared,
    wide = a instanceof Float64Array,
    fn = wide ? finite.f64 : finite.f32,
    ch = chunks(a, wide);
  for (let c = 0; c < ch.length; c++) {
    const part = ch[c],
      m = part.length,
      whole = m & ~15;
    region(s, wide, 0, m).set(part);
    if (fn(whole) === 0) return false;
    for (let k = whole; k < m; k++) if (!Number.isFinite(part[k])) return false;
  }
  return true;
}
