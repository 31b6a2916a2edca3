/**
 * The scenarios on real ONNX graphs: the shipped mixture graphs (float32 and float64) and
 * the EDM-trained MLPs, driven by the ports on CPU (or CUDA when asked), each compared with
 * the same sampler on the exact float64 mixture in TypeScript.
 */
import { join } from "node:path";
import { type Denoiser, GaussianMixture, TorchGenerator, maxAbsDiff, tensor } from "@edmkit/core";
import { linearSchedule } from "@edmkit/edm";
import * as kd from "@edmkit/k-diffusion";
import { OnnxDenoiser, type OnnxDevice, checkDeviceAvailable } from "../onnx/index.js";
import type { Report } from "../report/schema.js";
import { BIMODAL, RING8, runEdm, runKd } from "./impls.js";

const MODELS: { file: string; dtype: "float32" | "float64"; spec: typeof RING8 | typeof BIMODAL }[] = [
  { file: "gmm2d-ring8.onnx", dtype: "float32", spec: RING8 },
  { file: "gmm2d-ring8-f64.onnx", dtype: "float64", spec: RING8 },
  { file: "mlp2d-ring8-edm.onnx", dtype: "float32", spec: RING8 },
  { file: "gmm1d-bimodal.onnx", dtype: "float32", spec: BIMODAL },
  { file: "mlp1d-bimodal-edm.onnx", dtype: "float32", spec: BIMODAL },
];

type Runner = (model: Denoiser, z: ReturnType<typeof tensor>) => Promise<Float64Array>;

const SAMPLERS: [string, Runner][] = [
  ["k-diffusion sample_heun", async (m, z) => (await runKd({ id: "kd", library: "k-diffusion", label: "", settings: {} }, "sample_heun", m, z, kd.getSigmasKarras(12, 0.002, 80), {}, null)).output],
  ["k-diffusion sample_dpmpp_2m", async (m, z) => (await runKd({ id: "kd", library: "k-diffusion", label: "", settings: {} }, "sample_dpmpp_2m", m, z, kd.getSigmasKarras(12, 0.002, 80), {}, null)).output],
  ["EDM Algorithm 1 Heun", async (m, z) => (await runEdm({ id: "edm", library: "edm", label: "", settings: {} }, m, z, { schedule: linearSchedule(), timeSteps: kd.getSigmasKarras(12, 0.002, 80), solver: "heun", conventions: "paper" }, null)).output],
];

export async function onnxRuns(fixturesDir: string, device: OnnxDevice): Promise<Report["onnx"][number]> {
  try {
    checkDeviceAvailable(device);
  } catch (e) {
    return { device, available: false, message: (e as Error).message, runs: [] };
  }
  const runs: Report["onnx"][number]["runs"] = [];
  for (const m of MODELS) {
    const onnx = await OnnxDenoiser.load(join(fixturesDir, "models", m.file), { device, intraOpNumThreads: 1 });
    const exact = new GaussianMixture(m.spec);
    const z64 = new TorchGenerator(21).randn([256, m.spec.dim], "float64");
    const z = m.dtype === "float32" ? tensor(Float32Array.from(z64.data), z64.shape) : z64;
    for (const [name, run] of SAMPLERS) {
      const t0 = performance.now();
      const got = await run(onnx, z);
      const seconds = (performance.now() - t0) / 1000;
      const ref = await run(exact, z64);
      runs.push({ model: m.file, sampler: name, dtype: m.dtype, gapToExact: maxAbsDiff(got, ref), seconds });
    }
    await onnx.release();
  }
  return { device, available: true, message: `onnxruntime-node, ${device} execution provider`, runs };
}
