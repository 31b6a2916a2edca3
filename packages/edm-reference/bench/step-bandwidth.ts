/**
 * Large-batch step speed of `edmSampler` (its loop, `runPlan`) against the memory-bandwidth
 * bound (issue 16): per configuration, size and dtype, the time of one sampler step, the bytes
 * a step must read and write, the achieved GB/s and its ratio to the copy bandwidth measured in
 * the same run (a `TypedArray.set` of one array of the same size: it reads and writes that many
 * bytes once each). The same measure as packages/k-diffusion-port/bench/step-bandwidth.ts.
 *
 *   node --import tsx bench/step-bandwidth.ts [--quick] [--only=euler,heun] [--big]
 *     [--threads=N] [--own-output] [--sigma-rows]
 *
 * (--quick: fewer steps and rounds; --only: those rows; --big: the 1,000,000x2 rows only;
 * --threads: the threads of the second set of large rows, default the machine's available
 * parallelism, 1 for none; --own-output, --sigma-rows: see below)
 *
 * The model costs nothing and no noise is drawn (the noise source leaves its buffer as it is:
 * the churn terms are computed, nothing is drawn), so what is timed is the sampler's own work.
 * The model writes nothing but returns the `out` tensor the sampler passes (as a model writing
 * into `out` does, so its output lies in the run's SIMD arena; --own-output: it returns one
 * preallocated tensor of its own instead, which the sampler then copies into its arena), and it
 * takes the noise level as one number (`denoiseUniform`; --sigma-rows: only `denoise`, so the
 * sampler fills a per-row sigma array on every call, 8 bytes a row).
 *
 * Two more columns say why a large row falls short of 1: `same-bytes` is the step against a copy
 * moving as many bytes (a copy of arrays/2 times x's size: a working set as large as the step's,
 * which may no longer fit the cache that the copy of x's size fits), and `div floor` the time
 * the step's exact divisions alone take at the lane-division rate measured in the same run
 * (core's `divisionTime`), over the threads; `div cap` is the ratio a step taking just that long
 * would reach. A division cannot be made a multiplication by the reciprocal without changing
 * results, so a row's ratio cannot pass its cap.
 *
 * Threads: the large rows run once on one thread and once with core's SIMD worker threads
 * (`useSimdThreads`): each pass on the run's arena is cut over the threads. Their copy
 * bandwidth is a copy kernel cut the same way over the same threads (an arena array to
 * another), and both are timed in wall time (CPU time adds the threads up).
 *
 * Time per step: the model records the time of each of its calls; a step is the time from the
 * first model call of one step to the first of the next (every step but the last makes the same
 * number of calls; the last, to sigma = 0, is left out), so the per-call setup (the buffers,
 * the result's copy) stays out. Per run the median step, best of a few runs. Small batches (a
 * step takes microseconds, near the clocks' resolution and below the cost of reading them) use
 * the best of a few long runs divided by their step count, the model recording nothing. The
 * plan (every schedule scalar) is made once per configuration and step count, outside the
 * timed runs, as `edmSampler` does before its loop.
 *
 * Bytes a step must move: the arrays of x's size that a step reads or writes when each is
 * touched once (the model's output and input counted, the model's own work not), times the
 * element size. Euler reads x and D and writes x (3 arrays). Heun: x, D -> x'; x, D, x', D' -> x
 * (8: the correction computes the first derivative again from D, which stays in the sampler's
 * buffer). Churn adds x, eps -> x_hat (3). A scaling s(t) != 1 (the VP preset) adds the model's
 * input x/s(t) (written once, read by the model: 1 array per model call, computed in the pass
 * that makes the point it scales). The ratio to copy bandwidth is
 * (bytes / time) / (2·size / copy time); 1 means the step runs as fast as a memcpy moving the
 * same bytes. Benchmarks on a shared machine are noisy: compare ratios of one run, not absolute
 * times across runs. Both the step and the copy are timed in wall time and in this process's
 * CPU time (`process.cpuUsage`, which a busy machine's time slicing does not inflate); on one
 * thread GB/s and the ratio use CPU time, so they stay meaningful on a loaded machine.
 */
import { availableParallelism } from "node:os";
import { allocate, type Denoiser, type DType, type NoiseSource, type Tensor, tensor } from "@edmkit/core";
import { copyTime, divisionTime, useSimdThreads } from "@edmkit/core/node";
import {
  copyBandwidth,
  cpuMs,
  fmtTime,
  median,
  printTable,
  STEP_HEAD,
  stepCells,
} from "../../../scripts/step-bench.js";
import { type EdmSamplerOptions, planSampler, runPlan, type SamplerPlan } from "../src/index.js";

const quick = process.argv.includes("--quick");
const bigOnly = process.argv.includes("--big");
const intoOut = !process.argv.includes("--own-output");
const sigmaRows = process.argv.includes("--sigma-rows");
const poolThreads = Number(
  process.argv.find((a) => a.startsWith("--threads="))?.slice("--threads=".length) ?? availableParallelism(),
);
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");

/** Times (ms, wall and CPU) of the model's calls, appended by the zero model while `record` is set. */
const calls: { wall: number[]; cpu: number[] } = { wall: [], cpu: [] };
let record = false;

function zeroModel(shape: readonly number[], dtype: DType): Denoiser {
  const out = tensor(
    allocate(
      dtype,
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
  );
  const denoise = async (_x: Tensor, into?: Tensor) => {
    if (record) {
      calls.wall.push(performance.now());
      calls.cpu.push(cpuMs());
    }
    // the buffer the sampler passes (in the run's arena), or with --own-output its own tensor
    return intoOut && into !== undefined ? into : out;
  };
  return sigmaRows
    ? { denoise: (x: Tensor, _s: Float64Array, into?: Tensor) => denoise(x, into) }
    : {
        denoise: (x: Tensor, _s: Float64Array, into?: Tensor) => denoise(x, into),
        denoiseUniform: (x: Tensor, _s: number, into?: Tensor) => denoise(x, into),
      };
}

/** Leaves the buffer as it is (zeros): the noise terms are computed, nothing is drawn. */
const idle: NoiseSource = { randn: (out: Tensor) => out };

/**
 * name, options, model calls per step, arrays of x's size a step must read + write (module doc),
 * exact divisions per element of a step (the floor column: (x − D)/σ of the identity schedule,
 * each model input x / s(t)).
 */
const configs: [string, EdmSamplerOptions, number, number, number][] = [
  ["euler", { solver: "euler" }, 1, 3, 1], // x, D -> x
  ["heun", { solver: "heun" }, 2, 8, 3], // x, D -> x'; x, D, x', D' -> x (d computed again)
  ["euler_churn", { solver: "euler", S_churn: 40, noise: idle }, 1, 6, 1], // x, eps -> x^; x^, D -> x
  ["heun_churn", { solver: "heun", S_churn: 40, noise: idle }, 2, 11, 3], // x, eps -> x^; then heun at x^
  ["vp_euler", { preset: "vp", solver: "euler" }, 1, 4, 1], // x, D -> x, x/s
  ["vp_heun", { preset: "vp", solver: "heun" }, 2, 10, 2], // x, D -> x', x'/s'; x, D, x', D' -> x, x/s
  ["vp_euler_churn", { preset: "vp", solver: "euler", S_churn: 40, noise: idle }, 1, 7, 1], // x, eps -> x^, x^/s; x^, D -> x
  ["vp_heun_churn", { preset: "vp", solver: "heun", S_churn: 40, noise: idle }, 2, 13, 2], // 4 + 4 + 5
];

interface Timing {
  /** best wall time, ms */
  wall: number;
  /** best CPU time of this process, ms */
  cpu: number;
}

type Run = (steps: number) => Promise<Tensor>;

async function bestRun(run: Run, steps: number, reps: number): Promise<Timing> {
  const best = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(),
      c0 = cpuMs();
    await run(steps);
    best.cpu = Math.min(best.cpu, (cpuMs() - c0) / steps);
    best.wall = Math.min(best.wall, (performance.now() - t0) / steps);
  }
  return best;
}

/** Median time of a step (first model call to the next step's first), best of `reps` runs. */
async function bestStep(run: Run, per: number, steps: number, reps: number): Promise<Timing> {
  const best = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < reps; r++) {
    calls.wall.length = 0;
    calls.cpu.length = 0;
    record = true;
    await run(steps);
    record = false;
    const wall: number[] = [],
      cpu: number[] = [];
    // steps 0..N-2 (the last, to sigma = 0, is an Euler step)
    for (let i = 0; i + 1 < steps; i++) {
      wall.push(calls.wall[(i + 1) * per] - calls.wall[i * per]);
      cpu.push(calls.cpu[(i + 1) * per] - calls.cpu[i * per]);
    }
    best.cpu = Math.min(best.cpu, median(cpu));
    best.wall = Math.min(best.wall, median(wall));
  }
  return best;
}

const rows: string[][] = [];
for (const [n, label] of [
  [16, "16x2"],
  [1_000_000, "1000000x2"],
] as const) {
  if (bigOnly && n < 1000) continue;
  const big = n > 1000;
  for (const threads of big && poolThreads > 1 ? [1, poolThreads] : [1]) {
    const used = await useSimdThreads(threads);
    for (const dtype of ["float32", "float64"] as const) {
      const size = n * 2;
      const shape = [n, 2];
      const latents = tensor(allocate(dtype, size).fill(1), shape);
      const model = zeroModel(shape, dtype);
      // one thread: TypedArray.set, CPU time; threads: the copy kernel over them, wall time
      const copyGbs = copyBandwidth(copyTime, dtype, size, big);
      const tDiv = big ? divisionTime(dtype) : Number.NaN;
      for (const [name, opts, per, arrays, divs] of configs) {
        if (only && !only.includes(name)) continue;
        // the plan (the schedule's scalars) made once per step count: runs time the loop
        const plans = new Map<number, SamplerPlan>();
        const run: Run = (steps) => {
          let plan = plans.get(steps);
          if (plan === undefined) {
            plan = planSampler({ ...opts, numSteps: steps }, model);
            plans.set(steps, plan);
          }
          return runPlan(plan, model, latents, opts);
        };
        // warm-up (small rows: long enough for the JIT to settle)
        for (let w = 0; w < (big ? 1 : 20); w++) await run(big ? 4 : 500);
        const t = big
          ? await bestStep(run, per, quick ? 6 : 12, quick ? 2 : 3)
          : await bestRun(run, quick ? 500 : 2000, quick ? 3 : 5);
        const stepMs = used > 1 ? t.wall : t.cpu;
        rows.push([
          name,
          label,
          dtype,
          `${used}`,
          fmtTime(t.wall),
          fmtTime(t.cpu),
          ...stepCells({ copyTime, dtype, size, arrays, divs, stepMs, threads: used, copyGbs, tDiv, big }),
        ]);
      }
    }
  }
}
await useSimdThreads(1);

printTable(["config", "batch", "dtype", "threads", "wall/step", "cpu/step", ...STEP_HEAD], rows, 4);
