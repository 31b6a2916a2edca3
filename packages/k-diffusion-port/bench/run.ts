/**
 * Per-step sampler overhead with a zero-cost model: the denoiser returns a preallocated
 * tensor (zeros) and the noise source leaves its buffer as is, so what is timed is the
 * sampler's own work (kernels, scalar math, checks, bookkeeping).
 *
 *   node --expose-gc ../../node_modules/tsx/dist/cli.mjs bench/run.ts
 *
 * Time per step: the best of a few runs of N steps, divided by N (after a warm-up run).
 * Bytes per step: heap + ArrayBuffer growth between a run of N1 and one of N2 steps (both
 * started after a settled GC), divided by N2 - N1, so the per-call buffers cancel out.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { allocate, type Denoiser, type DType, type NoiseSource, type Tensor, tensor } from "@edmkit/core";
import {
  getSigmasExponential,
  sampleDpmpp2m,
  sampleEuler,
  sampleEulerAncestral,
  sampleHeun,
} from "../src/index.js";

// tsx runs the script in a child process that may not inherit --expose-gc: enable it here.
v8.setFlagsFromString("--expose-gc");
const gc = ((globalThis as { gc?: () => void }).gc ?? vm.runInNewContext("gc")) as () => void;

function zeroModel(shape: readonly number[], dtype: DType): Denoiser {
  const out = tensor(
    allocate(
      dtype,
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
  );
  return { denoise: async () => out };
}

const idleNoise: NoiseSource = { randn: (out: Tensor) => out };

type Run = (model: Denoiser, x: Tensor, sigmas: ArrayLike<number>) => Promise<Tensor>;
const samplersToTime: [string, Run][] = [
  ["euler", (m, x, s) => sampleEuler(m, x, s)],
  ["heun", (m, x, s) => sampleHeun(m, x, s)],
  ["dpmpp_2m", (m, x, s) => sampleDpmpp2m(m, x, s)],
  ["euler_ancestral", (m, x, s) => sampleEulerAncestral(m, x, s, { noiseSampler: idleNoise })],
];

/** n steps from sigma 80 to 0.01 without the final 0 (every step is a regular step). */
const schedule = (n: number) => getSigmasExponential(n + 1, 0.01, 80).subarray(0, n + 1);

function allocated(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** GC until the heap settles (ArrayBuffer memory is released by a background sweeper). */
async function fullGc(): Promise<void> {
  for (let k = 0; k < 4; k++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function bytesFor(run: Run, model: Denoiser, x: Tensor, steps: number): Promise<number> {
  await fullGc();
  const before = allocated();
  await run(model, x, schedule(steps));
  return allocated() - before;
}

const rows: string[][] = [];
for (const [rowsN, label] of [
  [16, "16x2"],
  [1_000_000, "1000000x2"],
] as const) {
  for (const dtype of ["float32", "float64"] as const) {
    const shape = [rowsN, 2];
    const x = tensor(allocate(dtype, rowsN * 2).fill(1), shape);
    const model = zeroModel(shape, dtype);
    const big = rowsN > 1000;
    const steps = big ? 10 : 2000;
    for (const [name, run] of samplersToTime) {
      await run(model, x, schedule(big ? 3 : 200)); // warm-up
      let best = Infinity;
      for (let rep = 0; rep < (big ? 2 : 5); rep++) {
        const t0 = performance.now();
        await run(model, x, schedule(steps));
        best = Math.min(best, (performance.now() - t0) / steps);
      }
      const n1 = big ? 4 : 50,
        n2 = big ? 12 : 250;
      const perStep = ((await bytesFor(run, model, x, n2)) - (await bytesFor(run, model, x, n1))) / (n2 - n1);
      rows.push([
        name,
        label,
        dtype,
        best < 0.01 ? `${(best * 1000).toFixed(2)} us` : `${best.toFixed(3)} ms`,
        `${Math.max(0, Math.round(perStep))}`,
      ]);
    }
  }
}

const head = ["sampler", "batch", "dtype", "time/step", "bytes/step"];
const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (r: string[]) => r.map((v, c) => (c >= 3 ? v.padStart(w[c]) : v.padEnd(w[c]))).join("  ");
console.log(line(head));
console.log(w.map((n) => "-".repeat(n)).join("  "));
for (const r of rows) console.log(line(r));
