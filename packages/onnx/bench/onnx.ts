/**
 * OnnxDenoiser overhead over a bare onnxruntime `session.run`, per batch size, on the
 * shipped MLP and mixture models, with the exact TypeScript GaussianMixture for comparison.
 *
 *   node --expose-gc --conditions=@edmkit/source --import tsx bench/onnx.ts
 *
 * Rows:
 * - `bare run`: session.run(feeds) with ort.Tensors made once (onnxruntime allocates the output);
 * - `bare run+fetch`: the same with a pre-allocated output tensor passed as fetches;
 * - `denoise`: OnnxDenoiser.denoise(x, sigma) (float64 tensors in, a fresh result tensor out);
 * - `denoise(out)`: the same writing into a caller-owned `out`;
 * - `denoise(out), preallocateOutputs`: with per-shape output tensors passed as fetches;
 * - `TS exact (float32)` / `TS exact (float64)`: core's GaussianMixture.denoiseSync on float32
 *   and on float64 tensors of the same inputs, writing into a caller-owned `out` (mixture
 *   models only); a second table gives their ratio to the bare run (TS / onnxruntime, best
 *   and paired median; below 1: TypeScript is faster).
 * The variants of one model and batch size run interleaved in rounds (one onnxruntime
 * intra-op thread); per variant the best and the median round, and the difference to the
 * bare run as best minus best and as the median of the per-round differences (on a busy
 * machine the best rounds are the least disturbed ones). `bytes/call` is the growth of heap +
 * ArrayBuffer memory per call after a forced GC (see bytesPerCall; needs --expose-gc; memory
 * onnxruntime allocates natively, e.g. in its arena, is not counted).
 */
import { fileURLToPath } from "node:url";
import { GaussianMixture, type GmmSpec, tensor } from "@edmkit/core";
import * as ort from "onnxruntime-node";
import { OnnxDenoiser } from "../src/index.js";

const modelsDir = fileURLToPath(new URL("../../../fixtures/models/", import.meta.url));
const gc = (globalThis as { gc?: () => void }).gc;

interface Row {
  model: string;
  batch: number;
  what: string;
  usPerCall: number;
  medianUs: number;
  overheadUs: number;
  /** median over rounds of this variant's time / the bare run's time in the same round */
  pairedRatio: number;
  bytesPerCall: number;
}

type Fn = () => Promise<unknown> | unknown;

async function timeLoop(fn: Fn, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) * 1000) / n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Heap + ArrayBuffer growth per call: after a forced GC and a pause (V8 frees ArrayBuffer
 * backing stores on a background sweeper, so `arrayBuffers` keeps falling for a moment after
 * gc() returns), run 4 calls and divide the growth by 4; median of 5 such measurements.
 */
async function bytesPerCall(fn: Fn): Promise<number> {
  if (!gc) return NaN;
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    gc();
    await sleep(20);
    gc();
    await sleep(5);
    const before = process.memoryUsage();
    for (let i = 0; i < 4; i++) await fn();
    const after = process.memoryUsage();
    samples.push((after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / 4);
  }
  return median(samples);
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/**
 * Time the variants interleaved: each round runs every variant (in rotating order) for the
 * same number of calls, so machine noise hits them alike; per variant the median over
 * rounds, and the overhead as the median of the per-round differences to the first variant.
 */
async function measureGroup(
  variants: [string, Fn][],
  targetMs: number,
  rounds: number,
): Promise<{ what: string; us: number; median: number; overhead: number; ratio: number; bytes: number }[]> {
  for (const [, fn] of variants) for (let i = 0; i < 3; i++) await fn(); // warm-up
  const probe = await timeLoop(variants[0][1], 3);
  const n = Math.max(1, Math.round((targetMs * 1000) / Math.max(probe, 0.05)));
  const times = variants.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (k + r) % variants.length;
      times[v].push(await timeLoop(variants[v][1], n));
    }
  }
  const out = [];
  for (let v = 0; v < variants.length; v++) {
    const diffs = times[v].map((t, r) => t - times[0][r]);
    out.push({
      what: variants[v][0],
      us: Math.min(...times[v]),
      median: median(times[v]),
      overhead: median(diffs),
      ratio: median(times[v].map((t, r) => t / times[0][r])),
      bytes: await bytesPerCall(variants[v][1]),
    });
  }
  return out;
}

export async function runOnnxBench(
  opts: { batches?: number[]; targetMs?: number; rounds?: number } = {},
): Promise<Row[]> {
  const batches = opts.batches ?? [1, 16, 1024, 65536];
  const targetMs = opts.targetMs ?? 15;
  const rounds = opts.rounds ?? 15;
  const rows: Row[] = [];
  for (const name of ["mlp2d-ring8-edm", "gmm2d-ring8", "gmm2d-ring8-f64"]) {
    const den = await OnnxDenoiser.load(`${modelsDir}${name}.onnx`, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const denPre = await OnnxDenoiser.load(`${modelsDir}${name}.onnx`, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      preallocateOutputs: true,
    });
    const session = den.session;
    const gmm =
      den.sidecar?.denoiser?.kind === "gmm"
        ? new GaussianMixture(den.sidecar.denoiser as GmmSpec)
        : undefined;
    const dtype = den.dtype;
    for (const B of batches) {
      const dim = 2;
      const x64 = new Float64Array(B * dim).map((_, i) => 2.5 * Math.sin(0.37 * i));
      const sig = new Float64Array(B).map((_, i) => Math.exp(-4 + (7 * i) / Math.max(1, B - 1)));
      const x = tensor(x64, [B, dim]);
      const Arr = dtype === "float32" ? Float32Array : Float64Array;
      const feeds = {
        x: new ort.Tensor(dtype, Arr.from(x64), [B, dim]),
        sigma: new ort.Tensor(dtype, Arr.from(sig), [B]),
      };
      const fetches = { denoised: new ort.Tensor(dtype, new Arr(B * dim), [B, dim]) };
      const out = tensor(new Float64Array(B * dim), [B, dim]);
      const x32 = tensor(Float32Array.from(x64), [B, dim]);
      const out32 = tensor(new Float32Array(B * dim), [B, dim]);
      const variants: [string, Fn][] = [
        ["bare run", () => session.run(feeds)],
        ["bare run+fetch", () => session.run(feeds, fetches)],
        ["denoise", () => den.denoise(x, sig)],
        ["denoise(out)", () => den.denoise(x, sig, out)],
        ["denoise(out), preallocateOutputs", () => denPre.denoise(x, sig, out)],
      ];
      if (gmm) {
        variants.push(["TS exact (float32)", () => gmm.denoiseSync(x32, sig, out32)]);
        variants.push(["TS exact (float64)", () => gmm.denoiseSync(x, sig, out)]);
      }
      for (const r of await measureGroup(variants, targetMs, rounds)) {
        rows.push({
          model: name,
          batch: B,
          what: r.what,
          usPerCall: r.us,
          medianUs: r.median,
          overheadUs: r.overhead,
          pairedRatio: r.ratio,
          bytesPerCall: r.bytes,
        });
      }
    }
    await den.release();
    await denPre.release();
  }
  return rows;
}

function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return "n/a";
  if (Math.abs(b) < 1024) return `${Math.round(b)} B`;
  return Math.abs(b) < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatOnnxBench(rows: Row[]): string {
  const lines = [
    "| model | batch | what | best µs/call | median µs/call | vs bare run (best) | vs bare run (paired median) | bytes/call |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  const signed = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(1)} µs`;
  for (const r of rows) {
    const bare = rows.find((b) => b.model === r.model && b.batch === r.batch && b.what === "bare run")!;
    const first = r.what === "bare run";
    lines.push(
      `| ${r.model} | ${r.batch} | ${r.what} | ${r.usPerCall.toFixed(1)} | ${r.medianUs.toFixed(1)} | ${first ? "" : signed(r.usPerCall - bare.usPerCall)} | ${first ? "" : signed(r.overheadUs)} | ${fmtBytes(r.bytesPerCall)} |`,
    );
  }
  return lines.join("\n");
}

/** TS exact / bare onnxruntime run, per mixture model, batch and TS dtype (issue 16's goal: <= 1). */
export function formatTsRatio(rows: Row[]): string {
  const lines = [
    "| model | batch | TS | TS best µs | ORT best µs | TS / ORT (best) | TS / ORT (paired median) |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    if (!r.what.startsWith("TS exact")) continue;
    const bare = rows.find((b) => b.model === r.model && b.batch === r.batch && b.what === "bare run")!;
    lines.push(
      `| ${r.model} | ${r.batch} | ${r.what.slice("TS exact ".length)} | ${r.usPerCall.toFixed(1)} | ${bare.usPerCall.toFixed(1)} | ${(r.usPerCall / bare.usPerCall).toFixed(2)} | ${r.pairedRatio.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!gc) console.error("(run node with --expose-gc to measure allocations)");
  // optional argument: comma-separated batch sizes (default 1,16,1024,65536)
  const batches = process.argv[2]?.split(",").map(Number);
  const rows = await runOnnxBench(batches ? { batches } : {});
  console.log(`onnxruntime-node ${ort.env.versions.node ?? "?"}, Node ${process.version}, 1 intra-op thread`);
  console.log(formatOnnxBench(rows));
  if (rows.some((r) => r.what.startsWith("TS exact"))) {
    console.log("");
    console.log(formatTsRatio(rows));
  }
}
