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
 *
 * Threads (simd-threads.ts): an arena made while a pool of SIMD workers is set lies on shared
 * memory, and an in-place call of at least THREAD_MIN elements on it is cut over the pool's
 * threads (each part the same loop on its own elements, so the results are the same).
 */
import { type Expr, finiteModule, type KernelSpec, kernelModule } from "./simd-emit.js";
import { callPart, type PartFn, simdThreads } from "./simd-threads.js";

/** Elements from which an in-place call on shared memory is cut over the threads. */
export const THREAD_MIN = 65536;

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
  Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { buffer: ArrayBuffer };
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

type Fn = (n: number, ...params: number[]) => number | undefined;

/** A module's functions instantiated on one memory (a kernel's in-place ones, the finiteness check). */
interface Placed {
  f32: PartFn;
  f64: PartFn;
  module: object;
  mem: object;
  shared: boolean;
}

/**
 * The f32/f64 functions of a module on `mem`: the module for a plain or a shared memory as the
 * memory is, compiled once into `modules` from `bytes(shared)`.
 */
function placeOn(
  s: Shared,
  modules: [object | null, object | null],
  bytes: (shared: boolean) => Uint8Array,
  mem: { buffer: ArrayBuffer },
): Placed {
  const sh = isShared(mem.buffer) ? 1 : 0;
  const module = (modules[sh] ??= new s.wasm.Module(bytes(sh === 1)));
  const ex = new s.wasm.Instance(module, { m: { mem } }).exports;
  return { f32: ex.f32 as PartFn, f64: ex.f64 as PartFn, module, mem, shared: sh === 1 };
}

const isShared = (b: ArrayBufferLike): boolean =>
  typeof SharedArrayBuffer !== "undefined" && b instanceof SharedArrayBuffer;

/** The memory of each arena, by its buffer (`SimdKernel.run` works in place on these). */
const arenaMemory = new WeakMap<ArrayBuffer, { buffer: ArrayBuffer }>();

/**
 * A finiteness check of a model output `d` (and of the model's input `x`) left to the next
 * kernel call on the arena that reads `d` (SimdArena.deferFiniteCheck).
 */
interface FiniteWatch {
  d: Data;
  x: Data;
  /** null until a kernel read d; then bit 0: d held NaN or ±∞, bit 1: x did. */
  flags: number | null;
  /** The kernel that read d neither read nor wrote x: x is checked at settling, if d failed. */
  xLater: boolean;
}

/** The pending watch of each arena memory (at most one). */
const watches = new WeakMap<ArrayBuffer, FiniteWatch>();

/** Whether two views of one buffer share bytes. */
const overlaps = (a: Data, b: Data): boolean =>
  a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;

/** Elements of the whole kernel iterations of an n-element call (the checked ones). */
const checkedPart = (n: number, wide: boolean): number => n & (wide ? ~7 : ~15);

/** Flags of `d` and `x` over elements from..n (JS: the partial last iteration). */
function tailFlags(d: Data, x: Data, from: number): number {
  let f = 0;
  for (let k = from; k < d.length; k++) {
    if (!Number.isFinite(d[k])) f |= 1;
    if (!Number.isFinite(x[k])) f |= 2;
  }
  return f;
}

/** Released arena memories kept for reuse (the most recent first), at most IDLE_MEMORIES. */
const idleMemories: { mem: { buffer: ArrayBuffer }; pages: number; shared: boolean }[] = [];
const IDLE_MEMORIES = 2;

/** Bytes between the starts of an arena's arrays: whole kernel iterations (UNROLL vectors). */
const ARENA_ALIGN = 64;

/**
 * A fixed set of float arrays on one `WebAssembly.Memory` of their own, on which the SIMD
 * kernels run in place (no chunk copies) when every operand of a call lies in it. Sized once
 * for `slots` arrays of `length` elements and never grown (growing would detach the views);
 * `alloc` returns null once they are used up, and callers then allocate ordinary arrays (the
 * kernels take the chunked path for calls that mix them). Each array is followed by padding
 * the kernels may scribble on (they run to whole 64-byte iterations). The memory belongs to
 * whoever holds the arrays: handing out one of its arrays is safe as long as the arena is not
 * released; it keeps the whole memory alive while referenced.
 *
 * `release()` hands the memory back for a later arena of the same size (a sampler's next run):
 * its pages are then already mapped (a fresh memory costs a page fault per 4 KiB on first touch,
 * several ms per run at a million elements) and, with threads, already known to the workers.
 * Only whoever holds no view of it any more may release it.
 */
export class SimdArena {
  private readonly mem: { buffer: ArrayBuffer };
  private readonly stride: number;
  private used = 0;
  /** Whether the memory held an earlier arena (its arrays are zeroed as they are handed out). */
  private readonly recycled: boolean;

  private constructor(
    wasm: WasmApi,
    private readonly length: number,
    private readonly wide: boolean,
    private readonly slots: number,
  ) {
    this.stride = Math.ceil((length * (wide ? 8 : 4)) / ARENA_ALIGN) * ARENA_ALIGN + ARENA_ALIGN;
    const pages = Math.ceil((this.stride * slots) / 65536);
    // shared (for the threads) only while a pool is set
    const shared = simdThreads() !== null;
    const idle = idleMemories.findIndex((m) => m.pages === pages && m.shared === shared);
    if (idle >= 0) {
      this.mem = idleMemories.splice(idle, 1)[0].mem;
      this.recycled = true;
    } else {
      this.mem = new wasm.Memory({ initial: pages, maximum: pages, shared });
      arenaMemory.set(this.mem.buffer, this.mem);
      this.recycled = false;
    }
  }

  /**
   * Gives the memory back for reuse by a later arena of the same size; the arena hands out no
   * more arrays. Every view of it must be dead: the next arena overwrites them.
   */
  release(): void {
    if (this.used < 0) return;
    this.used = -1;
    watches.delete(this.mem.buffer);
    const pages = this.mem.buffer.byteLength / 65536;
    idleMemories.unshift({ mem: this.mem, pages, shared: isShared(this.mem.buffer) });
    if (idleMemories.length > IDLE_MEMORIES) idleMemories.pop();
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

  /**
   * Leaves the finiteness check of the model output `d` (and of its input `x`) to the next SIMD
   * kernel call that reads `d` in place: that call checks them as it reads them (no pass of
   * its own). True when deferred; false (check now) unless both are large arrays of this arena
   * and no other check is pending. `settleFiniteCheck` then says what the kernel found.
   */
  deferFiniteCheck(d: Data, x: Data): boolean {
    const buf = this.mem.buffer;
    if (this.used < 0 || watches.has(buf) || d.buffer !== buf || x.buffer !== buf) return false;
    if (d.length !== x.length || d.length < SIMD_MIN || d.constructor !== x.constructor) return false;
    watches.set(buf, { d, x, flags: null, xLater: false });
    return true;
  }

  /**
   * Ends the deferred check: null when no kernel read `d` since (the caller checks itself);
   * else bit 0 set when `d` held NaN or ±∞, bit 1 when `x` did (as the kernel read them).
   * Undefined when none was pending.
   */
  settleFiniteCheck(): number | null | undefined {
    const buf = this.mem.buffer,
      w = watches.get(buf);
    if (w === undefined) return undefined;
    watches.delete(buf);
    // x as the model saw it (no kernel wrote it since), looked at only to word the error
    if (w.flags !== null && (w.flags & 1) !== 0 && w.xLater && simdAllFinite(w.x) === false) w.flags |= 2;
    return w.flags;
  }

  /** The next free array (zeros), or null when all slots are taken or the arena is released. */
  alloc(): Float32Array | Float64Array | null {
    if (this.used === this.slots || this.used < 0) return null;
    const at = this.used++ * this.stride;
    const a = this.wide
      ? new Float64Array(this.mem.buffer, at, this.length)
      : new Float32Array(this.mem.buffer, at, this.length);
    return this.recycled ? a.fill(0) : a;
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
  /** The in-place modules (plain and shared memory, compiled on first use) and the instance per arena. */
  private readonly placed: [object | null, object | null] = [null, null];
  private readonly inArena = new WeakMap<ArrayBuffer, Placed>();
  private readonly args: number[] = new Array(19).fill(0);
  /** Per input, the last output whose expression reads it (-1: none). */
  private readonly lastReader: number[];
  /** The variants that check inputs for NaN / ±∞ (spec.check), by the checked inputs. */
  private readonly checking = new Map<number, SimdKernel>();

  constructor(private readonly spec: KernelSpec) {
    if (spec.inputs + spec.outputs.length > MAX_OPERANDS || spec.params > 10) {
      throw new RangeError("SimdKernel: at most 8 operands and 10 scalars");
    }
    this.lastReader = new Array(spec.inputs).fill(-1);
    const mark = (e: Expr, i: number): void => {
      if (e.k === "in") this.lastReader[e.i] = i;
      else if (e.k === "r32" || e.k === "abs") mark(e.a, i);
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
  private placedFor(ops: Data[], nOut: number, nOps: number): Placed | null {
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
      f = placeOn(shared as Shared, this.placed, (sh) => kernelModule(this.spec, 0, sh), mem);
      this.inArena.set(buf, f);
    }
    return f;
  }

  /**
   * Computes the outputs from `ops` with these scalars (call `ready()` first), then clears `ops`.
   * When an input is the model output of a deferred finiteness check on its arena
   * (SimdArena.deferFiniteCheck), the call is made by the variant of the kernel that checks it
   * (and the model's input, when also an input) as it reads them. Returns the variant's flags
   * (0 for a kernel without checks).
   */
  run(p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0, p8 = 0, p9 = 0): number {
    const s = shared as Shared,
      ops = this.ops,
      nOut = this.spec.outputs.length,
      nOps = nOut + this.spec.inputs,
      wide = ops[0] instanceof Float64Array,
      fn = (wide ? this.f64 : this.f32) as Fn,
      ch = this.chunkOf;
    const watch = this.spec.check === undefined ? watches.get(ops[0].buffer as ArrayBuffer) : undefined;
    if (watch !== undefined && watch.flags === null) {
      const flags = this.runChecking(watch, p0, p1, p2, p3, p4, p5, p6, p7, p8, p9);
      if (flags !== null) return flags;
    }
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
      const fn = wide ? placed.f64 : placed.f32;
      if (placed.shared && a[0] >= THREAD_MIN) {
        const pool = simdThreads();
        const flags = pool?.run(placed.module, placed.mem, wide, fn, a, nOps, this.spec.params) ?? null;
        if (flags !== null) {
          for (let j = 0; j < nOps; j++) ops[j] = NONE;
          return flags;
        }
      }
      const flags = callPart(fn, a);
      for (let j = 0; j < nOps; j++) ops[j] = NONE;
      return flags;
    }
    for (let j = 0; j < nOps; j++) ch[j] = chunks(ops[j], wide);
    const count = ch[0].length;
    let flags = 0;
    for (let c = 0; c < count; c++) {
      const m = ch[0][c].length;
      // inputs to regions 0.., outputs from regions inputs..
      for (let j = nOut; j < nOps; j++) region(s, wide, j - nOut, m).set(ch[j][c]);
      flags |= fn(m, p0, p1, p2, p3, p4, p5, p6, p7, p8, p9) ?? 0;
      for (let i = 0; i < nOut; i++) ch[i][c].set(region(s, wide, this.spec.inputs + i, m));
    }
    // let go of the arrays (no allocation: the slots are reused)
    for (let j = 0; j < nOps; j++) {
      ops[j] = NONE;
      ch[j] = NO_CHUNKS;
    }
    return flags;
  }

  /**
   * The call by the checking variant when the watch's `d` is one of the inputs (null when not):
   * the few elements past the whole iterations checked here first, the rest by the variant as
   * it computes; the flags recorded on the watch. The variant checks `d` (bit 0) and, when it is
   * an input too, `x` (bit 1; otherwise x is checked here).
   */
  private runChecking(
    w: FiniteWatch,
    p0: number,
    p1: number,
    p2: number,
    p3: number,
    p4: number,
    p5: number,
    p6: number,
    p7: number,
    p8: number,
    p9: number,
  ): number | null {
    const ops = this.ops,
      nOut = this.spec.outputs.length,
      nIn = this.spec.inputs;
    let di = -1,
      xi = -1;
    for (let j = 0; j < nIn; j++) {
      if (ops[nOut + j] === w.d && di < 0) di = j;
      if (ops[nOut + j] === w.x && xi < 0) xi = j;
    }
    if (di < 0 || ops[0].length !== w.d.length) return null;
    const key = di * 16 + xi + 1;
    let v = this.checking.get(key);
    if (v === undefined) {
      v = new SimdKernel({ ...this.spec, check: xi >= 0 ? [di, xi] : [di] });
      this.checking.set(key, v);
    }
    if (!v.ready()) return null;
    const wide = ops[0] instanceof Float64Array;
    // before the call: the elements it does not check; x, where it is not an input, now if the
    // call writes it, else only if d turns out non-finite (at settling: no pass for nothing)
    let flags = tailFlags(w.d, w.x, checkedPart(w.d.length, wide));
    if (xi < 0) {
      let written = false;
      for (let j = 0; j < nOut; j++)
        if (ops[j].buffer === w.x.buffer && overlaps(ops[j], w.x)) written = true;
      if (!written) w.xLater = true;
      else if (simdAllFinite(w.x) === false) flags |= 2;
    }
    for (let j = 0; j < nOut + nIn; j++) {
      v.ops[j] = ops[j];
      ops[j] = NONE;
    }
    flags |= v.run(p0, p1, p2, p3, p4, p5, p6, p7, p8, p9);
    w.flags = flags;
    return flags;
  }
}

/** The finiteness module's functions: on the shared regions, and per arena memory. */
let finite: Placed | null | undefined;
const finiteModules: [object | null, object | null] = [null, null];
const finiteInArena = new WeakMap<ArrayBuffer, Placed>();
const finiteOn = (s: Shared, mem: { buffer: ArrayBuffer }): Placed =>
  placeOn(s, finiteModules, finiteModule, mem);

const finiteArgs = [0, 0];

/**
 * `allFinite` through SIMD for a large array, or null where WebAssembly SIMD is unavailable.
 * An array of an arena is checked where it lies (cut over the threads when the arena is shared
 * and a pool is set); any other is copied into the shared regions chunk by chunk. The last
 * elements (fewer than 16) are checked in JS.
 */
export function simdAllFinite(a: Data): boolean | null {
  const s = sharedMemory();
  if (s === null) return null;
  const wide = a instanceof Float64Array,
    n = a.length,
    whole = n & ~15;
  const mem = arenaMemory.get(a.buffer as ArrayBuffer);
  if (mem !== undefined) {
    let f = finiteInArena.get(mem.buffer);
    if (f === undefined) {
      f = finiteOn(s, mem);
      finiteInArena.set(mem.buffer, f);
    }
    const fn = wide ? f.f64 : f.f32;
    finiteArgs[0] = whole;
    finiteArgs[1] = a.byteOffset;
    const pool = f.shared && whole >= THREAD_MIN ? simdThreads() : null;
    const bad = pool?.run(f.module, f.mem, wide, fn, finiteArgs, 1, 0) ?? fn(whole, a.byteOffset);
    if (bad !== 0) return false;
    for (let k = whole; k < n; k++) if (!Number.isFinite(a[k])) return false;
    return true;
  }
  finite ??= finiteOn(s, s.mem);
  const fn = wide ? finite.f64 : finite.f32,
    ch = chunks(a, wide);
  for (let c = 0; c < ch.length; c++) {
    const part = ch[c],
      m = part.length,
      w = m & ~15;
    region(s, wide, 0, m).set(part);
    if (fn(w, 0) !== 0) return false;
    for (let k = w; k < m; k++) if (!Number.isFinite(part[k])) return false;
  }
  return true;
}
