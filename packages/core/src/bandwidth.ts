/**
 * The copy every step bench of issue 16 measures its steps against: one copy of n values of a
 * dtype reads and writes n values once each, so a step that moves B bytes in the time of a copy
 * of B/2 bytes runs at copy bandwidth (ratio 1).
 */
import { allocate, type DType } from "./tensor.js";
import { SimdArena, SimdKernel, THREAD_MIN } from "./simd.js";
import { div, inp, par } from "./simd-emit.js";
import { simdThreads } from "./simd-threads.js";

export interface CopyTime {
  /** Best wall time of one copy, ms. */
  wall: number;
  /** Best CPU time of this process for one copy, ms (all threads together). */
  cpu: number;
  /** Threads the copy was cut over (1: the calling thread alone). */
  threads: number;
}

const COPY = new SimdKernel({ inputs: 1, params: 0, outputs: [inp(0)] });

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * The time of one copy of `n` values of `dtype`, best of `reps` (each the mean of `inner`
 * copies). Without SIMD threads in use: `TypedArray.set` between two ordinary arrays. With a
 * pool (`useSimdThreads`): the SIMD copy kernel between two arrays of a shared arena, cut over
 * the pool's threads as the step kernels are (compare its wall time: CPU time adds the threads).
 */
export function copyTime(dtype: DType, n: number, reps = 30, inner = 1): CopyTime {
  const pool = simdThreads();
  const arena = pool !== null ? SimdArena.create(dtype, n, 2, true) : null;
  const a = arena?.alloc() ?? allocate(dtype, n),
    b = arena?.alloc() ?? allocate(dtype, n);
  const threaded = arena !== null && COPY.accepts(b, true);
  a.fill(1.5);
  const best = { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY };
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(),
      c0 = cpuMs();
    for (let k = 0; k < inner; k++) {
      if (threaded) {
        COPY.ops[0] = b;
        COPY.ops[1] = a;
        COPY.run();
      } else b.set(a);
    }
    best.cpu = Math.min(best.cpu, (cpuMs() - c0) / inner);
    best.wall = Math.min(best.wall, (performance.now() - t0) / inner);
    a[r % n] = b[(r + 1) % n]; // keep the copies observable
  }
  arena?.release();
  return { ...best, threads: threaded && n >= THREAD_MIN ? (pool?.threads ?? 1) : 1 };
}

const DIVIDE = new SimdKernel({ inputs: 1, params: 1, outputs: [div(inp(0), par(0))] });

/**
 * Time of one lane division of `dtype` in the SIMD kernels on one thread, ms per element: a
 * kernel dividing an array that stays in the core's cache by a scalar, in place (its loads and
 * stores hidden behind the divider), best of `reps`. Exact division has no shortcut (no
 * reciprocal: it would change results), so a step kernel dividing k times per element takes at
 * least k · n times this on one thread, whatever the memory does.
 */
export function divisionTime(dtype: DType, reps = 30): number {
  const n = 16384,
    arena = SimdArena.create(dtype, n, 1, true),
    a = arena?.alloc();
  if (!a || !DIVIDE.accepts(a, true)) return Number.NaN;
  a.fill(1.25);
  const inner = 50;
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let k = 0; k < inner; k++) {
      DIVIDE.ops[0] = a;
      DIVIDE.ops[1] = a;
      DIVIDE.run(k % 2 === 0 ? 1.0625 : 0.94);
    }
    best = Math.min(best, (performance.now() - t0) / inner / n);
  }
  arena?.release();
  return best;
}
