/**
 * The scenarios on real ONNX graphs: the shipped mixture graphs (float32 and float64) and
 * the EDM-trained MLPs, driven by the ports on CPU (or CUDA when asked), each compared with
 * the same sampler on the exact float64 mixture in TypeScript.
 */
import { join } from "node:path";
import { type Denoiser, GaussianMixture, TorchGenerator, maxAbsDiff, tensor } from "@edmkit/core";
import { linearSchedule } from "@edmkit/edm";
import * as kd from "@edmkit/k-diffusion";
import { OnnxDenoiser, type OnnxDevice, checkDeviceAvailable } from "@edmkit/onnx";
import type { Report } from "../report/schema.js";
import { namedMixtures } from "@edmkit/core";
import { runEdm, runKd, runNvlabs } from "../runners/record.js";

const RING8 = namedMixtures["gmm2d-ring8"]();
const BIMODAL = namedMixtures["gmm1d-bimodal"]();
import { AlignedNoise, comparePair } from "./trajectory.js";

const MODELS: { file: string; dtype: "float32" | "float64"; spec: typeof RING8 | typeof BIMODAL }[] = [
  { file: "gmm2d-ring8.onnx", dtype: "float32", spec: RING8 },
  { file: "gmm2d-ring8-f64.onnx", dtype: "float64", spec: RING8 },
  { file: "mlp2d-ring8-edm.onnx", dtype: "float32", spec: RING8 },
  { file: "gmm1d-bimodal.onnx", dtype: "float32", spec: BIMODAL },
  { file: "mlp1d-bimodal-edm.onnx", dtype: "float32", spec: BIMODAL },
];

type Runner = (model: Denoiser, z: ReturnType<typeof tensor>) => Promise<Float64Array>;

const SAMPLERS: [string, Runner][] = [
  [
    "k-diffusion sample_heun",
    async (m, z) =>
      (
        await runKd(
          { id: "kd", library: "k-diffusion", label: "", settings: {} },
          "sample_heun",
          m,
          z,
          kd.getSigmasKarras(12, 0.002, 80),
          {},
          null,
        )
      ).output,
  ],
  [
    "k-diffusion sample_dpmpp_2m",
    async (m, z) =>
      (
        await runKd(
          { id: "kd", library: "k-diffusion", label: "", settings: {} },
          "sample_dpmpp_2m",
          m,
          z,
          kd.getSigmasKarras(12, 0.002, 80),
          {},
          null,
        )
      ).output,
  ],
  [
    "EDM Algorithm 1 Heun",
    async (m, z) =>
      (
        await runEdm(
          { id: "edm", library: "edm", label: "", settings: {} },
          m,
          z,
          {
            schedule: linearSchedule(),
            timeSteps: kd.getSigmasKarras(12, 0.002, 80),
            solver: "heun",
            conventions: "paper",
          },
          null,
        )
      ).output,
  ],
];

/**
 * The deterministic scenarios again, in float32 on the float32 ONNX mixture graph: do the
 * implementations that agree in float64 still agree to float32 round-off?
 */
async function float32Pairs(model: Denoiser, device: OnnxDevice): Promise<Report["pairs"]> {
  const z64 = new TorchGenerator(22).randn([64, 2], "float64");
  const z = tensor(Float32Array.from(z64.data), z64.shape);
  const sigmas = kd.getSigmasKarras(12, 0.002, 80);
  const impl = (id: string, library: "k-diffusion" | "edm", label: string) => ({
    id: `${id}@onnx-f32`,
    library,
    label: `${label} (float32, ONNX)`,
    settings: {},
  });
  const grid = { schedule: linearSchedule(), timeSteps: sigmas, conventions: "paper" as const };
  const kdEuler = await runKd(
    impl("k-diffusion/sample_euler", "k-diffusion", "k-diffusion sample_euler"),
    "sample_euler",
    model,
    z,
    sigmas,
    {},
    null,
  );
  const edmEuler = await runEdm(
    impl("edm/algorithm1-euler", "edm", "EDM Algorithm 1, Euler"),
    model,
    z,
    { ...grid, solver: "euler" },
    null,
  );
  const kdHeun = await runKd(
    impl("k-diffusion/sample_heun", "k-diffusion", "k-diffusion sample_heun"),
    "sample_heun",
    model,
    z,
    sigmas,
    {},
    null,
  );
  const edmHeun = await runEdm(
    impl("edm/algorithm1-heun", "edm", "EDM Algorithm 1, Heun"),
    model,
    z,
    { ...grid, solver: "heun" },
    null,
  );
  const nvHeun = await runNvlabs(
    impl("edm/edm_sampler", "edm", "NVlabs edm_sampler"),
    "edm_sampler",
    model,
    z,
    { num_steps: 12, sigma_min: 0.002, sigma_max: 80, rho: 7 },
    new AlignedNoise(3),
  );
  const sc = `float32 on gmm2d-ring8.onnx (${device}): deterministic Euler and Heun`;
  const spec = (id: string, note: string) => ({
    id,
    scenario: sc,
    model: `gmm2d-ring8.onnx (float32, ${device})`,
    dtype: "float32" as const,
    cause: null,
    causePair: null,
    note,
  });
  return [
    comparePair(
      spec(
        `onnx-f32-${device}/euler/kd-vs-edm`,
        "Same method; both compute in float32 (EDM in the latents' dtype).",
      ),
      kdEuler,
      edmEuler,
    ),
    comparePair(spec(`onnx-f32-${device}/heun/kd-vs-edm`, "Same method in float32."), kdHeun, edmHeun),
    comparePair(
      spec(
        `onnx-f32-${device}/heun/kd-vs-nvlabs`,
        "NVlabs' edm_sampler keeps its arithmetic in float64 whatever the net's dtype; the float32 model sees float32-rounded inputs in both.",
      ),
      kdHeun,
      nvHeun,
    ),
  ];
}

export async function onnxRuns(
  fixturesDir: string,
  device: OnnxDevice,
): Promise<Report["onnx"][number] & { pairs?: Report["pairs"] }> {
  try {
    checkDeviceAvailable(device);
  } catch (e) {
    return { device, available: false, message: (e as Error).message, runs: [] };
  }
  const runs: Report["onnx"][number]["runs"] = [];
  let pairs: Report["pairs"] = [];
  const skipped: { model: string; reason: string }[] = [];
  for (const m of MODELS) {
    if (m.dtype === "float64" && device === "webgpu") {
      skipped.push({ model: m.file, reason: "WebGPU has no float64: a float64 graph cannot run on it" });
      continue;
    }
    const onnx = await OnnxDenoiser.load(join(fixturesDir, "models", m.file), {
      device,
      intraOpNumThreads: 1,
    });
    const exact = new GaussianMixture(m.spec);
    const z64 = new TorchGenerator(21).randn([256, m.spec.dim], "float64");
    const z = m.dtype === "float32" ? tensor(Float32Array.from(z64.data), z64.shape) : z64;
    for (const [name, run] of SAMPLERS) {
      const t0 = performance.now();
      const got = await run(onnx, z);
      const seconds = (performance.now() - t0) / 1000;
      const ref = await run(exact, z64);
      let sq = 0;
      for (let i = 0; i < got.length; i++) sq += (got[i] - ref[i]) ** 2;
      runs.push({
        model: m.file,
        sampler: name,
        dtype: m.dtype,
        gapToExact: maxAbsDiff(got, ref),
        rmsToExact: Math.sqrt(sq / got.length),
        seconds,
      });
    }
    if (m.file === "gmm2d-ring8.onnx") pairs = await float32Pairs(onnx, device);
    await onnx.release();
  }
  return {
    device,
    available: true,
    message: `onnxruntime-node, ${device} execution provider`,
    runs,
    pairs,
    ...(skipped.length ? { skipped } : {}),
  };
}
