/**
 * Per-step overhead of edmSampler with a zero-cost denoiser (returns the output buffer it is
 * handed, untouched), float64, batch 16x1 and 1,000,000x1: time per step and bytes
 * allocated per step. Per-step figures are the difference between a long and a short run
 * divided by the difference in steps, so the per-call setup (planning, buffers) cancels.
 *
 * Run: node --expose-gc ../../node_modules/tsx/dist/cli.mjs bench/run.ts
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Denoiser, type NoiseSource, type Tensor, tensor } from "@edmkit/core";
import { edmSampler, type EdmSamplerOptions } from "../src/index.js";

// --expose-gc may not reach the process tsx starts; enable it at run time then
let gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  setFlagsFromString("--expose-gc");
  gc = runInNewContext("gc") as () => void;
}

const zeroCost: Denoiser = {
  async denoise(x: Tensor, _sigma: Float64Array, out?: Tensor) {
    return out ?? x;
  },
};
const zeroNoise: NoiseSource = { randn: (out) => out };

function grid(n: number): Float64Array {
  return Float64Array.from({ length: n + 1 }, (_, i) => (80 ** (1 / 7) * (1 - i / n)) ** 7);
}

async function measure(batch: number, opts: EdmSamplerOptions, short: number, long: number, reps: number) {
  const latents = tensor(new Float64Array(batch).fill(0.5), [batch, 1]);
  const time = async (n: number) => {
    const o = { ...opts, timeSteps: grid(n) };
    await edmSampler(zeroCost, latents, o); // warm-up
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      await edmSampler(zeroCost, latents, o);
      best = Math.min(best, Number(process.hrtime.bigint() - t0));
    }
    return best;
  };
  // heap growth of one run, without a collection in between (runs short enough not to trigger one)
  const heap = async (n: number) => {
    const o = { ...opts, timeSteps: grid(n) };
    await edmSampler(zeroCost, latents, o);
    let bytes = Infinity;
    for (let r = 0; r < 5; r++) {
      gc!();
      const h0 = process.memoryUsage().heapUsed;
      await edmSampler(zeroCost, latents, o);
      bytes = Math.min(bytes, process.memoryUsage().heapUsed - h0);
    }
    return bytes;
  };
  const ta = await time(short),
    tb = await time(long);
  const mShort = Math.min(short, 50),
    mLong = Math.min(long, 250);
  const ma = await heap(mShort),
    mb = await heap(mLong);
  return {
    nsPerStep: (tb - ta) / (long - short),
    bytesPerStep: (mb - ma) / (mLong - mShort),
    callNs: ta,
    callBytes: ma,
    mShort,
  };
}

const rows: string[] = [];
const header =
  "| batch | solver | churn | time / step | ns / element / step | bytes / step | one call: time (N=short), heap |";
for (const [batch, short, long, reps] of [
  [16, 500, 5500, 11],
  [1_000_000, 4, 20, 3],
] as const) {
  for (const [solver, churn] of [
    ["euler", false],
    ["heun", false],
    ["heun", true],
  ] as const) {
    const opts: EdmSamplerOptions = { solver, ...(churn ? { S_churn: 10, noise: zeroNoise } : {}) };
    const m = await measure(batch, opts, short, long, reps);
    const t =
      m.nsPerStep >= 1e6 ? `${(m.nsPerStep / 1e6).toFixed(2)} ms` : `${(m.nsPerStep / 1e3).toFixed(2)} us`;
    rows.push(
      `| ${batch}x1 | ${solver} | ${churn ? "S_churn=10" : "0"} | ${t} | ${(m.nsPerStep / batch).toFixed(2)} | ${Math.max(0, m.bytesPerStep).toFixed(0)} | ${(m.callNs / 1e6).toFixed(2)} ms, ${(m.callBytes / 1024).toFixed(0)} KiB (N=${m.mShort}) |`,
    );
  }
}
console.log("edmSampler, float64, zero-cost denoiser\n");
console.log(header);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) console.log(r);
