/**
 * step() overhead of the ported schedulers, float32, for a 1x4x64x64 latent (SD-sized) and a
 * 16x2 toy batch: time per call and bytes allocated per call, with caller-owned output
 * buffers (what denoisingLoop does) and with fresh outputs (the plain diffusers-style call).
 *
 * Run from packages/diffusers-port: node --expose-gc ../../node_modules/tsx/dist/cli.mjs bench/run.ts
 */
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { type Tensor, TorchGenerator, allocate, tensor } from "@edmkit/core";
import {
  type AnyScheduler,
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EDMDPMSolverMultistepScheduler,
  EDMEulerScheduler,
  FlowMatchEulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
  KDPM2AncestralDiscreteScheduler,
  KDPM2DiscreteScheduler,
  LMSDiscreteScheduler,
  denoisingLoop,
} from "../src/index.js";

type Sched = AnyScheduler;

// tsx runs the script in a child process that may not inherit --expose-gc: enable it here
v8.setFlagsFromString("--expose-gc");
const gc = (globalThis as { gc?: () => void }).gc ?? (runInNewContext("gc") as () => void);

const SD = { beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012 };
const makers: [string, () => Sched][] = [
  ["EulerDiscrete", () => new EulerDiscreteScheduler(SD)],
  ["HeunDiscrete", () => new HeunDiscreteScheduler(SD)],
  ["EulerAncestral", () => new EulerAncestralDiscreteScheduler(SD)],
  ["KDPM2Discrete", () => new KDPM2DiscreteScheduler(SD)],
  ["KDPM2Ancestral", () => new KDPM2AncestralDiscreteScheduler(SD)],
  ["LMSDiscrete", () => new LMSDiscreteScheduler(SD)],
  ["DDIM (eta 0)", () => new DDIMScheduler(SD)],
  ["DDPM", () => new DDPMScheduler(SD)],
  ["DPMSolver++ 2M", () => new DPMSolverMultistepScheduler(SD)],
  ["DPMSolver++ 2M SDE", () => new DPMSolverMultistepScheduler({ ...SD, algorithm_type: "sde-dpmsolver++" })],
  ["DPMSolver++ 3M", () => new DPMSolverMultistepScheduler({ ...SD, solver_order: 3 })],
  ["EDMEuler", () => new EDMEulerScheduler()],
  ["EDMDPMSolver 2M", () => new EDMDPMSolverMultistepScheduler()],
  ["FlowMatchEuler", () => new FlowMatchEulerDiscreteScheduler({ shift: 3.0 })],
];
const shapes: [string, number[]][] = [
  ["1x4x64x64", [1, 4, 64, 64]],
  ["16x2", [16, 2]],
];

function filled(shape: number[], v: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = allocate("float32", n);
  for (let i = 0; i < n; i++) d[i] = v * Math.sin(i + 1);
  return tensor(d, shape);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** JS heap plus typed-array backing stores (large ones live outside the heap). */
function allocated(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Run `calls` steps on a fresh 1000-step schedule (after 4 warm-up steps) and return the
 * wall time per call in ms and the bytes allocated per call (heap + typed-array stores,
 * measured from a collected heap; meaningful when no collection runs during the calls).
 */
function measure(make: () => Sched, shape: number[], calls: number, reuse: boolean): [number, number] {
  const s = make();
  s.setTimesteps(1000);
  const generator = new TorchGenerator(0);
  const eps = filled(shape, 0.1);
  const x = filled(shape, 1);
  const pred = filled(shape, 0);
  const out = { prevSample: x, predOriginalSample: pred };
  const ts = s.timesteps;
  const opts = reuse ? { generator, out } : { generator };
  for (let i = 0; i < 4; i++) s.step(eps, ts[i], x, opts);
  gc();
  const m0 = allocated();
  const t0 = process.hrtime.bigint();
  for (let i = 4; i < 4 + calls; i++) s.step(eps, ts[i], x, opts);
  const t1 = process.hrtime.bigint();
  const m1 = allocated();
  return [Number(t1 - t0) / 1e6 / calls, Math.max(0, m1 - m0) / calls];
}

const rows: string[][] = [["scheduler", "latent", "mode", "us/step", "bytes/step"]];
for (const [name, make] of makers) {
  for (const [label, shape] of shapes) {
    for (const reuse of [true, false]) {
      const calls = label === "16x2" ? 900 : reuse ? 400 : 60;
      // time: best of 5 runs (the first ones include JIT compilation); bytes: a short run
      // after those, small enough that no collection interrupts it
      let ms = Infinity;
      for (let k = 0; k < 5; k++) ms = Math.min(ms, measure(make, shape, calls, reuse)[0]);
      const bytes = median(
        Array.from({ length: 5 }, () => measure(make, shape, label === "16x2" ? 200 : 8, reuse)[1]),
      );
      rows.push([name, label, reuse ? "buffers" : "fresh", (ms * 1000).toFixed(2), bytes.toFixed(0)]);
    }
  }
}
// the whole pipeline loop (scale_model_input + model + step) with a model that costs nothing
// (returns a fixed tensor): per-iteration overhead and allocation of denoisingLoop itself
async function loopRow(name: string, make: () => Sched, label: string, shape: number[]): Promise<void> {
  const steps = label === "16x2" ? 1000 : 250;
  const eps = filled(shape, 0.1);
  const model = () => eps;
  let best = Infinity;
  const byteRuns: number[] = [];
  for (let k = 0; k < 7; k++) {
    const s = make();
    s.setTimesteps(steps);
    const iters = s.timesteps.length;
    const latents = filled(shape, 1);
    gc();
    const m0 = allocated();
    const t0 = process.hrtime.bigint();
    await denoisingLoop(s, model, latents, { generator: new TorchGenerator(0) });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / iters;
    if (k < 2) continue; // warm-up runs (JIT compilation garbage)
    byteRuns.push(Math.max(0, allocated() - m0) / iters);
    best = Math.min(best, ms);
  }
  rows.push([name, label, "loop", (best * 1000).toFixed(2), median(byteRuns).toFixed(0)]);
}
for (const [name, make] of makers)
  for (const [label, shape] of shapes) await loopRow(name, make, label, shape);

// reference: the cost of the noise draw alone (torch.randn float32 with TorchGenerator)
for (const [label, shape] of shapes) {
  const g = new TorchGenerator(0);
  const buf = filled(shape, 0);
  const reps = label === "16x2" ? 900 : 60;
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) g.randnInto(buf.data);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3 / reps);
  }
  const byteRuns: number[] = [];
  for (let k = 0; k < 5; k++) {
    gc();
    const m0 = allocated();
    for (let i = 0; i < 8; i++) g.randnInto(buf.data);
    byteRuns.push((allocated() - m0) / 8);
  }
  const bytes = median(byteRuns);
  rows.push(["(randn only)", label, "buffers", best.toFixed(2), Math.max(0, bytes).toFixed(0)]);
}
const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((v, c) => (c < 3 ? v.padEnd(w[c]) : v.padStart(w[c]))).join("  "));
console.log(
  "float32. mode: buffers = step() into caller buffers, fresh = step() allocating its outputs,\n" +
    "loop = one denoisingLoop iteration with a free model (bytes include the final result copy\n" +
    "spread over the run). Euler-ancestral includes its torch.randn draw in every step.",
);
