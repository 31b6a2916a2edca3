/**
 * Worker threads for the SIMD kernels of large tensors (issue 16): a kernel call on arrays of a
 * shared `SimdArena` is cut into parts, one per thread, the calling thread computing the first
 * while the workers compute the rest on the same shared WebAssembly memory.
 *
 * Nothing here is Node-specific: a pool is made from worker handles that run
 * `serveSimdWorker` (simd-worker.ts). `@edmkit/core/node`'s `useSimdThreads` spawns them with
 * `worker_threads`; in a browser (cross-origin isolated, for SharedArrayBuffer) a `Worker` whose
 * script calls `serveSimdWorker` does. Without a pool every kernel runs on the calling thread.
 *
 * The protocol, on one SharedArrayBuffer of Int32 words (`Atomics` only):
 * - a job: the caller writes the function (an instance on the workers), n, the operands' byte
 *   addresses and the scalars, bumps SEQ and wakes the workers; worker w computes part w + 1,
 *   stores its result (flags, or-ed with the others') and then SEQ into its DONE word; the caller, after
 *   its own part, waits for every DONE to reach SEQ. Atomics are sequentially consistent, so
 *   the parts' plain loads and stores are ordered by them.
 * - a function the workers do not have yet (a kernel module on an arena memory): posted as a
 *   message with the module and the memory; a YIELD job sends the workers back to their event
 *   loop to receive it; each acknowledges by storing the function's id into its ACK word.
 *
 * The parts are whole multiples of PART_ALIGN elements (64 bytes of float32, 128 of float64:
 * whole iterations of the kernels' loops, so no part writes past its end into the next); the
 * last part takes the rest.
 */

/** What the pool needs of a worker: a `Worker` of the browser or of `worker_threads`. */
export interface SimdWorkerHandle {
  postMessage(message: SimdWorkerMessage): void;
  terminate(): unknown;
}

export type SimdWorkerMessage =
  | { kind: "start"; control: SharedArrayBuffer; index: number }
  | { kind: "fn"; id: number; module: object; memory: object }
  | { kind: "task"; id: number; task: SimdTask };

/**
 * A job of plain JS the workers can run on row ranges (simd-worker.ts builds it from this
 * description): the exact empirical denoiser of a data set on rows of shared x, sigma, out.
 */
export interface SimdTask {
  readonly name: "empirical";
  readonly points: Float64Array;
  readonly dim: number;
  readonly simd: boolean;
  readonly x: Float32Array | Float64Array;
  readonly sigma: Float64Array;
  readonly out: Float32Array | Float64Array;
}

/** Word indices of the control block. */
export const CTRL = {
  SEQ: 0,
  OP: 1,
  FN: 2,
  /** 0: float32 function (`f32` export), 1: float64 (`f64`). */
  WIDE: 3,
  N: 4,
  PARTS: 5,
  NADDR: 6,
  /** 8 operand addresses. */
  ADDR: 8,
  /** 10 float64 scalars (Float64Array index). */
  PAR64: 8,
  /** Per worker w: DONE at 64 + 4w, RESULT at 65 + 4w, ACK at 66 + 4w, READY at 67 + 4w. */
  WORKER: 64,
} as const;
export const OP_RUN = 0,
  OP_YIELD = 1,
  OP_EXIT = 2,
  OP_TASK = 3;
/** Elements per part boundary. */
export const PART_ALIGN = 16;
/** Workers a pool may have. */
export const MAX_WORKERS = 15;
const CONTROL_BYTES = (CTRL.WORKER + 4 * MAX_WORKERS) * 4;

/** The start of part `p` of `parts` over n elements (a multiple of PART_ALIGN, or n). */
export function partStart(n: number, parts: number, p: number): number {
  const size = Math.ceil(n / parts / PART_ALIGN) * PART_ALIGN;
  return Math.min(n, p * size);
}

/** A wasm function of a kernel or reduction: (n, addresses..., scalars...) -> result. */
export type PartFn = (...args: number[]) => number | undefined;

/**
 * `fn(a[0], ..., a[18])` (n, at most 8 addresses, at most 10 scalars: a wasm function ignores
 * the arguments past its own), its result or 0. A fixed argument list, so the call allocates
 * nothing.
 */
export function callPart(fn: PartFn, a: readonly number[]): number {
  return (
    fn(
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
    ) ?? 0
  );
}

/** How long the caller waits for a worker before it gives up on the pool (ms). */
const STALL_MS = 10_000;

export class SimdThreads {
  /** Threads a call is cut over: the workers and the calling thread. */
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private readonly pars: Float64Array;
  private seq = 0;
  private nextId = 1;
  /** Function ids on the workers, per module and memory. */
  private readonly ids = new WeakMap<object, WeakMap<object, number>>();
  private readonly local: number[] = new Array(19).fill(0);
  private dead = false;

  constructor(private readonly workers: readonly SimdWorkerHandle[]) {
    if (workers.length < 1 || workers.length > MAX_WORKERS) {
      throw new RangeError(`SimdThreads: 1 to ${MAX_WORKERS} workers, got ${workers.length}`);
    }
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.ctrl = new Int32Array(control);
    this.pars = new Float64Array(control);
    this.threads = workers.length + 1;
    workers.forEach((w, index) => {
      w.postMessage({ kind: "start", control, index });
    });
  }

  /** Whether every worker has started (stored its READY word). */
  get ready(): boolean {
    for (let w = 0; w < this.workers.length; w++)
      if (Atomics.load(this.ctrl, CTRL.WORKER + 4 * w + 3) !== 1) return false;
    return true;
  }

  /** Marks the pool unusable (a worker failed); calls stay on the calling thread. */
  fail(): void {
    this.dead = true;
  }

  /** False once a worker stopped answering (calls then stay on the calling thread). */
  get alive(): boolean {
    return !this.dead;
  }

  /** Ends the workers. */
  stop(): void {
    if (!this.dead) this.post(OP_EXIT);
    this.dead = true;
    for (const w of this.workers) w.terminate();
  }

  /**
   * Runs `fn` (the caller's instance of `module` on `memory`) over n elements cut into parts.
   * `args` is the call as one thread would make it: n, then `nAddr` byte addresses (each
   * advanced by start · `elt` for a part), then the scalars. Returns the parts' results or-ed
   * (flags: 0 when every part returned 0 or nothing). Null, having computed nothing, when the
   * pool is stopped or a worker did not take the function; throws when a worker stops answering
   * during the call (its part is then lost).
   */
  run(
    module: object,
    memory: object,
    wide: boolean,
    fn: PartFn,
    args: readonly number[],
    nAddr: number,
    nPar: number,
  ): number | null {
    if (this.dead) return null;
    const id = this.idFor(module, memory);
    if (id === null) return null;
    const c = this.ctrl,
      n = args[0],
      parts = this.threads;
    c[CTRL.FN] = id;
    c[CTRL.WIDE] = wide ? 1 : 0;
    c[CTRL.N] = n;
    c[CTRL.PARTS] = parts;
    c[CTRL.NADDR] = nAddr;
    for (let j = 0; j < nAddr; j++) c[CTRL.ADDR + j] = args[1 + j];
    for (let j = 0; j < nPar; j++) this.pars[CTRL.PAR64 + j] = args[1 + nAddr + j];
    const seq = this.post(OP_RUN);
    // part 0 here
    const a = this.local,
      end = partStart(n, parts, 1);
    a[0] = end;
    for (let j = 1; j <= nAddr + nPar; j++) a[j] = args[j];
    const result = callPart(fn, a);
    return result | this.collect(seq, STALL_MS);
  }

  /** Posts a job of kind `op` and wakes the workers; returns its sequence number. */
  private post(op: number): number {
    const c = this.ctrl;
    c[CTRL.OP] = op;
    this.seq = (this.seq + 1) | 0;
    Atomics.store(c, CTRL.SEQ, this.seq);
    Atomics.notify(c, CTRL.SEQ);
    return this.seq;
  }

  /**
   * Runs the registered task `id` over rows 0..n−1 cut into parts: `local(start, end)` computes
   * the first part here while the workers compute the rest. Throws when a worker does not
   * answer within `stallMs`.
   */
  runTask(id: number, n: number, local: (start: number, end: number) => void, stallMs: number): void {
    const c = this.ctrl,
      parts = this.threads;
    c[CTRL.FN] = id;
    c[CTRL.N] = n;
    c[CTRL.PARTS] = parts;
    const seq = this.post(OP_TASK);
    local(0, partStart(n, parts, 1));
    if (this.collect(seq, stallMs) !== 0) throw new Error("SIMD worker threads: a part of the task failed");
  }

  /** Gives the workers `task` (each builds its own copy); its id for `runTask`, or null when one did not take it. */
  registerTask(task: SimdTask): number | null {
    return this.dead ? null : this.deliver((id) => ({ kind: "task", id, task }));
  }

  /**
   * Waits for every worker to finish job `seq` and returns their results or-ed; throws (the
   * pool stopped) when one does not answer within `stallMs` (its part is then lost).
   */
  private collect(seq: number, stallMs: number): number {
    if (!this.await(seq, CTRL.WORKER, stallMs)) {
      throw new Error(
        `SIMD worker threads stopped answering (no reply in ${stallMs / 1000} s); the pool is stopped`,
      );
    }
    let result = 0;
    for (let w = 0; w < this.workers.length; w++) result |= this.ctrl[CTRL.WORKER + 4 * w + 1];
    return result;
  }

  /**
   * Posts the message `make(id)` (a function or task to set up) to every worker under a new id,
   * sends them to their event loops to receive it (a YIELD job) and waits for each to
   * acknowledge it; the id, or null when one did not within STALL_MS (the pool stopped).
   */
  private deliver(make: (id: number) => SimdWorkerMessage): number | null {
    const id = this.nextId++;
    for (const w of this.workers) w.postMessage(make(id));
    this.post(OP_YIELD);
    return this.await(id, CTRL.WORKER + 2, STALL_MS) ? id : null;
  }

  /** Waits until word `base + 4w` of every worker holds `value`; false (and the pool stopped) after `stallMs`. */
  private await(value: number, base: number, stallMs: number): boolean {
    const c = this.ctrl;
    for (let w = 0; w < this.workers.length; w++) {
      const at = base + 4 * w;
      if (Atomics.load(c, at) === value) continue;
      const t0 = Date.now();
      let spins = 0;
      while (Atomics.load(c, at) !== value) {
        if (++spins % 65536 === 0 && Date.now() - t0 > stallMs) {
          this.dead = true;
          return false;
        }
      }
    }
    return true;
  }

  /** The workers' id of `module` on `memory`, instantiating it there first if new. */
  private idFor(module: object, memory: object): number | null {
    let byMemory = this.ids.get(module);
    if (byMemory === undefined) {
      byMemory = new WeakMap();
      this.ids.set(module, byMemory);
    }
    const known = byMemory.get(memory);
    if (known !== undefined) return known;
    const id = this.deliver((fnId) => ({ kind: "fn", id: fnId, module, memory }));
    if (id !== null) byMemory.set(memory, id);
    return id;
  }
}

let active: SimdThreads | null = null;

/**
 * Sets the pool the SIMD kernels use (null: none, every kernel on the calling thread), ending
 * the previous one. Arenas made while a pool is set use shared memory and cut their kernel calls
 * over its threads; those made before keep running on one thread.
 */
export function setSimdThreads(pool: SimdThreads | null): void {
  if (active !== null && active !== pool) active.stop();
  active = pool;
}

/** The pool in use, or null. */
export function simdThreads(): SimdThreads | null {
  if (active !== null && !active.alive) active = null;
  return active;
}
