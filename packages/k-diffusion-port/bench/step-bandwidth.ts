/**
 * Large-batch step speed against the memory-bandwidth bound (issue 16): per sampler, size and
 * dtype, the time of one sampler step, the bytes a step must read and write, the achieved
 * GB/s and its ratio to the copy bandwidth measured in the same run (a `TypedArray.set` of
 * one array of the same size: it reads and writes that many bytes once each).
 *
 *   node --import tsx bench/step-bandwidth.ts [--quick] [--only=euler,heun] [--big]
 *     [--threads=N] [--own-output] [--sigma-rows]
 *
 * (--quick: fewer steps and rounds; --only: those samplers; --big: the 1,000,000x2 rows only;
 * --threads: the threads of the second set of large rows, default the machine's available
 * parallelism, 1 for none; --own-output, --sigma-rows: see below)
 *
 * The model costs nothing and no noise is drawn (the noise source leaves its buffer as it is),
 * so what is timed is the sampler's own work. The model writes nothing but returns the `out`
 * tensor the sampler passes (as a model writing into `out` does, so its output lies in the
 * run's SIMD arena; --own-output: it returns one preallocated tensor of its own instead, which
 * the kernels then copy through in chunks), and it takes the noise level as one number
 * (`denoiseUniform`; --sigma-rows: only `denoise`, so the sampler fills a per-row sigma array
 * on every call, 8 bytes a row).
 *
 * Two more columns say why a large row falls short of 1: `same-bytes` is the step against a copy
 * moving as many bytes (a copy of arrays/2 times x's size: a working set as large as the step's,
 * which may no longer fit the cache that the copy of x's size fits), and `div floor` the time
 * the step's exact divisions alone take at the lane-division rate measured in the same run (a
 * cache-resident division kernel, `divisionTime`), over the threads; `div cap` is the ratio a
 * step taking just that long would reach. A division cannot be made a multiplication by the
 * reciprocal without changing results, so a row's ratio cannot pass its cap.
 *
 * Threads: the large rows run once on one thread and once with core's SIMD worker threads
 * (`useSimdThreads`): each kernel call on the run's arena is cut over the threads. Their copy
 * bandwidth is a copy kernel cut the same way over the same threads (an arena array to
 * another), and both are timed in wall time (CPU time adds the threads up).
 * Time per step: the model records the time of each of its calls; a step is the time from the
 * first model call of one step to the first of the next (every step of the schedule below makes
 * the same number of calls; the DPM-Solver rows: see `dpmFast`, `dpmAdaptive`), so the per-call
 * setup (the working copy of x, the step buffers) and its garbage collections stay out. Per run
 * the median step, best of a few runs. Small batches (a step takes about a microsecond, below
 * the clocks' resolution) use the best of a few long runs divided by their step count (for
 * dpm_fast that count leaves out its last, first order step: a 1/steps overestimate).
 *
 * Bytes a step must move: the arrays of x's size that a step reads or writes when each is
 * touched once (the model's output and input counted, the model's own work not), times the
 * element size; e.g. Euler reads x and D and writes x (3 arrays). The ratio to copy
 * bandwidth is (bytes / time) / (2·size / copy time); 1 means the step runs as fast as a
 * memcpy moving the same bytes. Benchmarks on a shared machine are noisy: compare ratios
 * of one run, not absolute times across runs. Both the step and the copy are timed in wall
 * time and in this process's CPU time (`process.cpuUsage`, which a busy machine's time
 * slicing does not inflate); GB/s and the ratio use CPU time, so they stay meaningful on a
 * loaded machine (on a quiet one the two agree).
 */
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
import { availableParallelism } from "node:os";
import {
  getSigmasExponential,
  sampleDpm2,
  sampleDpm2Ancestral,
  sampleDpmAdaptive,
  sampleDpmFast,
  sampleDpmpp2m,
  sampleDpmpp2mSde,
  sampleDpmpp2sAncestral,
  sampleDpmpp3mSde,
  sampleDpmppSde,
  sampleEuler,
  sampleEulerAncestral,
  sampleHeun,
  sampleLms,
} from "../src/index.js";

const quick = process.argv.includes("--quick");
const bigOnly = process.argv.includes("--big");
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");

const intoOut = !process.argv.includes("--own-output");
const sigmaRows = process.argv.includes("--sigma-rows");
const poolThreads = Number(
  process.argv.find((a) => a.startsWith("--threads="))?.slice("--threads=".length) ?? availableParallelism(),
);

/** Times (ms, wall and CPU) of the model's calls, appended by the zero model while `recording`. */
const calls: { wall: number[]; cpu: number[] } = { wall: [], cpu: [] };
let recording = false;

function zeroModel(shape: readonly number[], dtype: DType): Denoiser {
  const out = tensor(
    allocate(
      dtype,
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
  );
  const denoise = async (_x: Tensor, into?: Tensor) => {
    if (recording) {
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

type Run = (model: Denoiser, x: Tensor, sigmas: ArrayLike<number>) => Promise<Tensor>;

/**
 * sample_dpm_fast with n = 3·steps + 1 model calls: floor(n/3) + 1 = steps + 1 steps, the
 * first `steps` of them third order (three model calls each), then one first order step; the
 * timed steps are third order steps (their 3 calls per step: `per` of the row).
 */
const dpmFast: Run = (m, x, s) => sampleDpmFast(m, x, s[s.length - 1], s[0], 3 * (s.length - 1) + 1);

/**
 * sample_dpm_adaptive (DPM-Solver-23: three model calls an attempt) with the PID coefficients
 * all 0: the factor is then 1, every attempt is accepted and h stays h_init, here the t range
 * over `steps`, so a run makes `steps` attempts (steps as the step bench counts them) of one
 * order, each with its error norm (a JS pass: the norm's float64 sum runs in element order).
 */
const dpmAdaptive: Run = (m, x, s) => {
  const lo = s[s.length - 1],
    hi = s[0];
  const opts = { pcoeff: 0, icoeff: 0, dcoeff: 0, hInit: Math.log(hi / lo) / (s.length - 1) };
  return sampleDpmAdaptive(m, x, lo, hi, opts);
};

/**
 * name, run, arrays of x's size a step must read + write (see the module doc), divisions per
 * element of a step (exact IEEE divisions: the floor column), model calls per timed step where
 * not every step makes the same number (the runs' first `per`-call steps are timed).
 */
const samplers: [string, Run, number, number, number?][] = [
  ["euler", (m, x, s) => sampleEuler(m, x, s), 3, 1], // x, D -> x
  ["euler_ancestral", (m, x, s) => sampleEulerAncestral(m, x, s, { noiseSampler: idle }), 4, 1], // x, D, z -> x
  ["heun", (m, x, s) => sampleHeun(m, x, s), 8, 2], // x, D -> x2; x, D, x2, D2 -> x
  ["dpm_2", (m, x, s) => sampleDpm2(m, x, s), 7, 2], // x, D -> x2; x, x2, D2 -> x
  ["dpm_2_ancestral", (m, x, s) => sampleDpm2Ancestral(m, x, s, { noiseSampler: idle }), 8, 2], // + z
  ["lms", (m, x, s) => sampleLms(m, x, s), 7, 1], // x, D, d1..d3 -> d0, x
  ["dpmpp_2s_ancestral", (m, x, s) => sampleDpmpp2sAncestral(m, x, s, { noiseSampler: idle }), 7, 0], // x, D -> x2; x, D2, z -> x
  ["dpmpp_2m", (m, x, s) => sampleDpmpp2m(m, x, s), 4, 0], // x, D, D_prev -> x
  ["dpmpp_sde", (m, x, s) => sampleDpmppSde(m, x, s, { noiseSampler: idle }), 9, 0], // x, D, z -> x2; x, D, D2, z -> x
  ["dpmpp_2m_sde", (m, x, s) => sampleDpmpp2mSde(m, x, s, { noiseSampler: idle }), 5, 0], // x, D, D_prev, z -> x
  ["dpmpp_3m_sde", (m, x, s) => sampleDpmpp3mSde(m, x, s, { noiseSampler: idle }), 6, 4], // x, D, D1, D2, z -> x
  // x, D -> eps, u1; u1, D1, x, eps -> u2; u2, D2, x, eps -> x'
  ["dpm_fast", dpmFast, 14, 3, 3],
  // x, D -> eps, u1; u1, D1, x, eps -> low, u2; u2, D2, x, eps -> high; low, high, prev -> error
  ["dpm_adaptive", dpmAdaptive, 18, 4, 3],
];

/**
 * n steps from sigma 80 to 0.01 without the final 0 (every step is a regular step); made once
 * per n, outside the timed runs (getSigmasExponential takes microseconds per entry).
 */
const schedules = new Map<number, Float64Array>();
const schedule = (n: number): Float64Array => {
  let s = schedules.get(n);
  if (s === undefined) {
    s = getSigmasExponential(n + 1, 0.01, 80).subarray(0, n + 1);
    schedules.set(n, s);
  }
  return s;
};

interface Timing {
  /** best wall time, ms */
  wall: number;
  /** best CPU time of this process, ms */
  cpu: number;
}

async function bestRun(run: Run, model: Denoiser, x: Tensor, steps: number, reps: number): Promise<Timing> {
  const best = { wall: Infinity, cpu: Infinity };
  const sigmas = schedule(steps);
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(),
      c0 = cpuMs();
    await run(model, x, sigmas);
    best.cpu = Math.min(best.cpu, (cpuMs() - c0) / steps);
    best.wall = Math.min(best.wall, (performance.now() - t0) / steps);
  }
  return best;
}

/**
 * Median time of a step (first model call to the next step's first), best of `reps` runs;
 * `per`: model calls per step (default: the run's calls over `steps`), the first steps timed.
 */
async function bestStep(
  run: Run,
  model: Denoiser,
  x: Tensor,
  steps: number,
  reps: number,
  per?: number,
): Promise<Timing> {
  const best = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < reps; r++) {
    calls.wall.length = 0;
    calls.cpu.length = 0;
    recording = true;
    await run(model, x, schedule(steps));
    recording = false;
    const each = per ?? calls.wall.length / steps; // model calls per step
    const timed = per === undefined ? steps : Math.floor(calls.wall.length / per);
    const wall: number[] = [],
      cpu: number[] = [];
    for (let i = 0; i + 1 < timed; i++) {
      wall.push(calls.wall[(i + 1) * each] - calls.wall[i * each]);
      cpu.push(calls.cpu[(i + 1) * each] - calls.cpu[i * each]);
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
      const x = tensor(allocate(dtype, size).fill(1), shape);
      const model = zeroModel(shape, dtype);
      // one thread: TypedArray.set, CPU time; threads: the copy kernel over them, wall time
      const copyGbs = copyBandwidth(copyTime, dtype, size, big);
      const tDiv = big ? divisionTime(dtype) : Number.NaN;
      for (const [name, run, arrays, divs, per] of samplers) {
        if (only && !only.includes(name)) continue;
        // warm-up (small rows: long enough for the JIT to settle)
        for (let w = 0; w < (big ? 1 : 20); w++) await run(model, x, schedule(big ? 3 : 500));
        const t = big
          ? await bestStep(run, model, x, quick ? 6 : 12, quick ? 2 : 3, per)
          : await bestRun(run, model, x, quick ? 500 : 2000, quick ? 3 : 5);
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

printTable(["sampler", "batch", "dtype", "threads", "wall/step", "cpu/step", ...STEP_HEAD], rows, 4);
