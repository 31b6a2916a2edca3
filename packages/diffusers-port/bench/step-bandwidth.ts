/**
 * Large-batch `step()` speed against the memory-bandwidth bound (issue 16), for the Euler,
 * Heun, Euler-ancestral and DPMSolverMultistep schedulers: per size, dtype and buffer setup,
 * the time of one `step()` call with caller-given outputs, the bytes a call must read and
 * write, the achieved GB/s and the ratio to the copy bandwidth measured in the same run (a
 * `TypedArray.set` of one array of the same size, which reads and writes that many bytes once
 * each).
 *
 *   node --import tsx bench/step-bandwidth.ts [--big] [--threads=N]
 *
 * (--big: the 1,000,000x2 rows only; --threads: the threads of the second set of large rows,
 * default the machine's available parallelism, 1 for none)
 *
 * Threads: the large rows run once on one thread and once with core's SIMD worker threads
 * (`useSimdThreads`, made before the schedulers, so their arenas are shared): each in-place
 * kernel call is cut over the threads. Their copy is core's `copyTime` over the same threads
 * (the SIMD copy kernel between two arrays of a shared arena), and both are timed in wall time
 * (CPU time adds the threads up); the plain setup, which no thread helps, is left out there.
 *
 * Setups (the `setup` column):
 * - plain: the sample, the model output and both outputs are ordinary arrays of the caller's;
 *   the sample stays as it is and prev_sample goes to a buffer of its own (the bench before
 *   the SIMD arena; a caller not using `stepBuffer`);
 * - arena: the four tensors are the scheduler's `stepBuffer`s (large ones in its SIMD arena),
 *   the model output placed there as a model writing into the buffer it is handed would; still
 *   a separate prev_sample buffer;
 * - in place: as arena, and prev_sample is written over the sample, as denoisingLoop does.
 * The model output is a fixed tensor and the generator leaves the noise buffer as it is (no
 * draws). Each scheduler is made once per size and dtype and rerun (setTimesteps) a few times,
 * the best run counted, so its state buffers are warm (before the arena the bench made a new
 * scheduler per run).
 *
 * Bytes a call must move (the same count in every setup): Euler reads the sample and the
 * output and writes prev_sample and pred_original_sample (4 arrays); Euler-ancestral also
 * reads the noise (5); Heun's predictor reads 2 and writes 4 (prev, pred, and the derivative
 * and sample kept for the corrector), its corrector reads 4 and writes 2 (6 per call);
 * DPMSolverMultistep (2M, dpmsolver++) reads the sample, the output and the previous converted
 * output and writes prev_sample and the converted output it keeps (5). Timed in wall time and
 * in this process's CPU time (which a busy machine's time slicing does not inflate); GB/s and
 * the ratio use CPU time. Compare ratios of one run, not absolute times across runs.
 */
import { availableParallelism } from "node:os";
import { allocate, type DType, type Tensor, tensor } from "@edmkit/core";
import { copyTime, useSimdThreads } from "@edmkit/core/node";
import { cpuMs, fmtTime, printTable } from "../../../scripts/step-bench.js";
import {
  type AnyScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
} from "../src/index.js";

const SD = { beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012 };
const makers: [string, () => AnyScheduler, number][] = [
  ["EulerDiscrete", () => new EulerDiscreteScheduler(SD), 4],
  ["HeunDiscrete", () => new HeunDiscreteScheduler(SD), 6],
  ["EulerAncestral", () => new EulerAncestralDiscreteScheduler(SD), 5],
  ["DPMSolverMultistep", () => new DPMSolverMultistepScheduler(SD), 5],
];
const setups = ["plain", "arena", "in place"] as const;
const idle = { randn: <T>(o: T) => o };
const bigOnly = process.argv.includes("--big");
const poolThreads = Number(
  process.argv.find((a) => a.startsWith("--threads="))?.slice("--threads=".length) ?? availableParallelism(),
);

const rows: string[][] = [];
for (const [n, label] of [
  [16, "16x2"],
  [1_000_000, "1000000x2"],
] as const) {
  if (bigOnly && n < 1000) continue;
  for (const threads of n > 1000 && poolThreads > 1 ? [1, poolThreads] : [1]) {
    const used = await useSimdThreads(threads);
    for (const dtype of ["float32", "float64"] as DType[]) {
      const size = n * 2,
        elt = dtype === "float32" ? 4 : 8,
        shape = [n, 2];
      const big = n > 1000,
        inner = big ? 1 : 2000;
      // one thread: TypedArray.set, CPU time; threads: the copy kernel over them, wall time
      const ct = copyTime(dtype, size, big ? 30 : 10, inner);
      const copyGbs = (2 * size * elt) / ((ct.threads > 1 ? ct.wall : ct.cpu) * 1e6);
      const plain = {
        x: tensor(allocate(dtype, size), shape),
        mo: tensor(allocate(dtype, size), shape),
        prev: tensor(allocate(dtype, size), shape),
        pred: tensor(allocate(dtype, size), shape),
      };
      for (const [name, make, arrays] of makers) {
        for (const setup of setups) {
          if (used > 1 && setup === "plain") continue;
          const s = make() as EulerDiscreteScheduler;
          const buf = (role: "sample" | "modelOutput" | "prevSample" | "predOriginalSample", p: Tensor) =>
            setup === "plain" ? p : s.stepBuffer(role, shape, dtype);
          const x = buf("sample", plain.x),
            mo = buf("modelOutput", plain.mo);
          const out = {
            prevSample: setup === "in place" ? x : buf("prevSample", plain.prev),
            predOriginalSample: buf("predOriginalSample", plain.pred),
          };
          let wall = Infinity,
            cpu = Infinity;
          for (let rep = 0; rep < (big ? 5 : 6); rep++) {
            x.data.fill(1);
            mo.data.fill(0.25);
            s.setTimesteps(big ? 6 : inner + 1);
            const ts = s.timesteps;
            const calls = big ? ts.length : inner;
            const t0 = performance.now(),
              c0 = cpuMs();
            for (let k = 0; k < calls; k++) s.step(mo, ts[k], x, { out, generator: idle });
            cpu = Math.min(cpu, (cpuMs() - c0) / calls);
            wall = Math.min(wall, (performance.now() - t0) / calls);
          }
          const bytes = arrays * size * elt,
            gbs = bytes / ((used > 1 ? wall : cpu) * 1e6);
          rows.push([
            name,
            label,
            dtype,
            setup,
            `${used}`,
            fmtTime(wall),
            fmtTime(cpu),
            `${bytes}`,
            gbs.toFixed(2),
            copyGbs.toFixed(2),
            (gbs / copyGbs).toFixed(2),
          ]);
        }
      }
    }
  }
}
await useSimdThreads(1);
const head = [
  "scheduler",
  "batch",
  "dtype",
  "setup",
  "threads",
  "wall/step",
  "cpu/step",
  "bytes/step",
  "GB/s",
  "copy GB/s",
  "ratio",
];
printTable(head, rows, 5);
