/**
 * The exact denoiser of the 8x8 digits (1,797 images of 64 pixels): core's EmpiricalDenoiser
 * (TypeScript, float64 arithmetic, blocked; WebAssembly SIMD where available, and its JS loops
 * as "EmpiricalDenoiser (JS)", the same bits) against onnxruntime on the same function as an
 * ONNX graph (MatMul-Softmax-MatMul; fixtures/models/digits8x8-exact[-f64].onnx), at batch 64,
 * 4,096 and 65,536, on one thread each (and with --threads=N, at 4,096 and 65,536, both on N
 * threads: onnxruntime's intra-op threads, core's SIMD worker threads). Per variant the best of interleaved rounds, ms per call, the
 * rate in multiply-adds (2·B·N·d per call) and the ratio to onnxruntime in the same run.
 *
 *   node --conditions=@edmkit/source --import tsx bench/empirical.ts
 */
import { fileURLToPath } from "node:url";
import { EmpiricalDenoiser, tensor } from "@edmkit/core";
import { useSimdThreads } from "@edmkit/core/node";
import { loadDataset } from "@edmkit/core/node";
import { OnnxDenoiser } from "../src/index.js";

const fixtures = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
const ds = loadDataset(`${fixtures}datasets/digits8x8.json`);
const D = EmpiricalDenoiser.fromDataset(ds, { scale: 0.125, shift: -1 }, { threads: false });
const Djs = EmpiricalDenoiser.fromDataset(ds, { scale: 0.125, shift: -1 }, { simd: false, threads: false });
/** --threads=N (default 1: none): rows with N threads too, onnxruntime's and core's SIMD threads. */
const threads = Number(process.argv.find((a) => a.startsWith("--threads="))?.slice("--threads=".length) ?? 1);
const Dthr = EmpiricalDenoiser.fromDataset(ds, { scale: 0.125, shift: -1 });
if (threads > 1) await useSimdThreads(threads);
const N = D.count,
  d = D.dim;

async function best(fn: () => Promise<unknown>, rounds: number, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let k = 0; k < calls; k++) await fn();
    times.push((performance.now() - t0) / calls);
  }
  return times;
}

const rows: string[][] = [];
for (const dtype of ["float32", "float64"] as const) {
  const onnx = await OnnxDenoiser.load(
    `${fixtures}models/digits8x8-exact${dtype === "float64" ? "-f64" : ""}.onnx`,
    { parameterization: "denoiser", intraOpNumThreads: 1 },
  );
  const onnxThr =
    threads > 1
      ? await OnnxDenoiser.load(
          `${fixtures}models/digits8x8-exact${dtype === "float64" ? "-f64" : ""}.onnx`,
          {
            parameterization: "denoiser",
            intraOpNumThreads: threads,
          },
        )
      : null;
  for (const batch of [64, 4096, 65536]) {
    const n = batch * d;
    const data = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let k = 0; k < n; k++) data[k] = Math.sin(k * 0.61) * 1.2;
    const x = tensor(data, [batch, 1, 8, 8]);
    const sigma = Float64Array.from({ length: batch }, (_, r) => 0.05 + (r % 7) * 0.4);
    const out = tensor(dtype === "float32" ? new Float32Array(n) : new Float64Array(n), x.shape);
    const calls = batch === 64 ? 40 : batch === 4096 ? 2 : 1;
    const variants: [string, () => Promise<unknown>][] = [
      ["onnxruntime", () => onnx.denoise(x, sigma, out)],
      [D.usesSimd() ? "EmpiricalDenoiser (SIMD)" : "EmpiricalDenoiser", () => D.denoise(x, sigma, out)],
      ["EmpiricalDenoiser (JS)", () => Djs.denoise(x, sigma, out)],
    ];
    if (onnxThr !== null && batch >= 4096) {
      variants.push([`onnxruntime, ${threads} threads`, () => onnxThr.denoise(x, sigma, out)]);
      variants.push([`EmpiricalDenoiser (SIMD), ${threads} threads`, () => Dthr.denoise(x, sigma, out)]);
    }
    const results = new Map<string, number>();
    for (let r = 0; r < 3; r++)
      for (const [name, fn] of variants) {
        const t = Math.min(...(await best(fn, 1, calls)));
        results.set(name, Math.min(results.get(name) ?? Infinity, t));
      }
    const ref = results.get("onnxruntime")!;
    for (const [name, ms] of results)
      rows.push([
        dtype,
        String(batch),
        name,
        ms.toFixed(3),
        ((2 * batch * N * d) / (ms * 1e6)).toFixed(2),
        (ms / ref).toFixed(2),
      ]);
  }
  await onnx.release();
  await onnxThr?.release();
}
await useSimdThreads(1);

const head = ["dtype", "batch", "what", "ms/call", "GMAC/s", "time / onnxruntime"];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
console.log(`exact denoiser of the digits (N = ${N}, d = ${d}), one thread unless said\n${line(head)}`);
for (const r of rows) console.log(line(r));
