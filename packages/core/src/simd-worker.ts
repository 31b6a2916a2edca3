/**
 * The body of a SIMD worker thread (simd-threads.ts has the protocol). `listen` registers the
 * handler of the messages the pool posts: in a browser worker
 * `serveSimdWorker((h) => { self.onmessage = (e) => h(e.data); })`, with `worker_threads`
 * `serveSimdWorker((h) => parentPort.on("message", h))` (what `@edmkit/core/node` runs).
 *
 * Between jobs the worker blocks in `Atomics.wait` on the job counter; a YIELD job returns it to
 * its event loop, where the next message (a function to instantiate) arrives, after which it
 * waits for jobs again.
 */
import { EmpiricalDenoiser } from "./denoisers/empirical.js";
import {
  CTRL,
  callPart,
  OP_EXIT,
  OP_TASK,
  OP_YIELD,
  type PartFn,
  partStart,
  type SimdTask,
  type SimdWorkerMessage,
} from "./simd-threads.js";

/** The JS of a task on rows start..end−1: this worker's own copy of the task's object. */
type TaskFn = (start: number, end: number) => void;

/** Builds a task's function (the tasks a worker knows: simd-threads.ts `SimdTask`). */
function buildTask(t: SimdTask): TaskFn {
  // name "empirical": an EmpiricalDenoiser of its own on the same points, same options
  const den = new EmpiricalDenoiser(t.points, t.dim, { simd: t.simd });
  return (start, end) => den.denoiseRows(t.x, t.sigma, t.out, start, end);
}

interface WasmLike {
  Instance: new (mod: object, imports: object) => { exports: Record<string, unknown> };
}

export function serveSimdWorker(listen: (handler: (message: SimdWorkerMessage) => void) => void): void {
  const wasm = (globalThis as { WebAssembly?: WasmLike }).WebAssembly as WasmLike;
  const fns: [PartFn, PartFn][] = [];
  const tasks: TaskFn[] = [];
  const args: number[] = new Array(19).fill(0);
  let ctrl: Int32Array | null = null,
    pars: Float64Array | null = null,
    index = 0,
    last = 0,
    looping = false,
    ended = false;

  /** Runs jobs until a YIELD or EXIT. */
  const loop = (): void => {
    const c = ctrl as Int32Array,
      p = pars as Float64Array;
    const done = CTRL.WORKER + 4 * index;
    looping = true;
    for (;;) {
      Atomics.wait(c, CTRL.SEQ, last);
      const seq = Atomics.load(c, CTRL.SEQ);
      // a job is taken once: a wake-up without a new job number (whatever woke the thread)
      // must not run the last job again (an in-place kernel would apply its update twice)
      if (seq === last) continue;
      last = seq;
      const op = c[CTRL.OP];
      if (op === OP_YIELD) break;
      if (op === OP_EXIT) {
        ended = true;
        break;
      }
      // this worker's part of the job: rows or elements start..end−1
      const n = c[CTRL.N],
        parts = c[CTRL.PARTS];
      const start = partStart(n, parts, index + 1),
        end = partStart(n, parts, index + 2);
      let r = 0;
      if (op === OP_TASK) {
        try {
          if (end > start) tasks[c[CTRL.FN]](start, end);
        } catch {
          r = 1; // the caller throws: this part was not computed
        }
      } else if (end > start) {
        const wide = c[CTRL.WIDE],
          nAddr = c[CTRL.NADDR];
        const shift = wide === 1 ? 3 : 2;
        args[0] = end - start;
        for (let j = 0; j < nAddr; j++) args[1 + j] = c[CTRL.ADDR + j] + (start << shift);
        for (let j = 0; j < 10; j++) args[1 + nAddr + j] = p[CTRL.PAR64 + j];
        r = callPart(fns[c[CTRL.FN]][wide], args);
      }
      c[done + 1] = r;
      Atomics.store(c, done, last);
    }
    looping = false;
  };

  listen((m) => {
    if (ended) return;
    if (m.kind === "start") {
      ctrl = new Int32Array(m.control);
      pars = new Float64Array(m.control);
      index = m.index;
      // jobs count from 1: one posted before this worker started (the YIELD of a function it
      // is about to receive) is still seen
      last = 0;
      Atomics.store(ctrl, CTRL.WORKER + 4 * index + 3, 1); // READY
    } else if (m.kind === "fn") {
      const inst = new wasm.Instance(m.module, { m: { mem: m.memory } });
      fns[m.id] = [inst.exports.f32 as PartFn, inst.exports.f64 as PartFn];
      Atomics.store(ctrl as Int32Array, CTRL.WORKER + 4 * index + 2, m.id);
    } else {
      tasks[m.id] = buildTask(m.task);
      Atomics.store(ctrl as Int32Array, CTRL.WORKER + 4 * index + 2, m.id);
    }
    if (!looping) loop();
  });
}
