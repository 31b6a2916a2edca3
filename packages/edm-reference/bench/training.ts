/**
 * Toy-training throughput: optimizer steps per second, samples per second and bytes
 * allocated per step for a few widths and batch sizes, plus inference rows per second.
 *
 *   node --expose-gc --conditions=@edmkit/source --import tsx bench/training.ts
 *
 * (tsx's CLI starts a child process that does not get --expose-gc, hence `--import tsx`.)
 * bytes/step is what one step leaves on the heap before collection (a few hundred bytes of
 * timer and bookkeeping numbers, independent of the batch: the pass, Adam, EMA and batch
 * buffers are allocated once). The 2-D sets other than the ring draw per row and add a
 * little per-row garbage. Timings are wall-clock on a shared machine:
 * compare rows of one run, not runs.
 */
import { tensor } from "@edmkit/core";
import { ToyMlpDenoiser, ToyRng, ToyTrainer } from "../src/training/index.js";

const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

interface Row {
  case: string;
  "ms/step": string;
  "steps/s": string;
  "samples/s": string;
  "bytes/step": string;
}

const rows: Row[] = [];
for (const dataset of ["gmm1d-bimodal", "gmm2d-ring8"] as const) {
  for (const [hidden, batchSize] of [
    [32, 256],
    [64, 256],
    [64, 1024],
    [128, 256],
    [128, 1024],
  ] as const) {
    const steps = Math.max(20, Math.round(4e7 / (batchSize * hidden * hidden)));
    const trainer = new ToyTrainer({ dataset, hidden, batchSize, steps: steps + 35, seed: 0 });
    for (let i = 0; i < 10; i++) trainer.step(); // warm up the JIT
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) trainer.step();
    const ms = (performance.now() - t0) / steps;
    // allocation: median over short windows that start from a collected heap
    const windows: number[] = [];
    for (let w = 0; w < 5; w++) {
      const before = heapAfterGc();
      for (let i = 0; i < 5; i++) trainer.step();
      windows.push((process.memoryUsage().heapUsed - before) / 5);
    }
    const allocated = windows.sort((a, b) => a - b)[2];
    rows.push({
      case: `${dataset} hidden ${hidden} batch ${batchSize}`,
      "ms/step": ms.toFixed(2),
      "steps/s": (1000 / ms).toFixed(1),
      "samples/s": ((1000 * batchSize) / ms).toFixed(0),
      "bytes/step": gc ? allocated.toFixed(0) : "(run with --expose-gc)",
    });
  }
}
console.log("training (one thread, float64)");
console.table(rows);

const inference: Record<string, string>[] = [];
for (const hidden of [64, 128]) {
  const model = ToyMlpDenoiser.create({ dim: 1, hidden, sigmaData: 1.044, seed: 0 });
  const n = 4096;
  const x = tensor(new ToyRng(1).normalInto(new Float64Array(n)), [n, 1]);
  const sigma = new Float64Array(n).fill(0.7);
  const out = tensor(new Float64Array(n), [n, 1]);
  for (let i = 0; i < 5; i++) model.denoiseSync(x, sigma, out);
  const reps = 40;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) model.denoiseSync(x, sigma, out);
  const ms = (performance.now() - t0) / reps;
  inference.push({
    case: `denoise hidden ${hidden}, ${n} rows`,
    "ms/call": ms.toFixed(2),
    "rows/s": ((1000 * n) / ms).toFixed(0),
  });
}
console.table(inference);
