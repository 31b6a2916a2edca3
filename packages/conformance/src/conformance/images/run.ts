/**
 * The Images section's runs: the main cross-library pairs (k-diffusion, diffusers, the EDM
 * sampler) on 8x8 digits with the exact denoiser of the data set (EmpiricalDenoiser, float64)
 * and the EDM-trained UNet (ONNX, float32, on the suite's device), then the samples against
 * the data (nearest training image, Fréchet distance) and, for the exact denoiser, the error
 * against the probability-flow ODE solved to tolerance (task `images:ode`).
 */
import { join } from "node:path";
import {
  type Denoiser,
  DenoiserAsDiscreteModel,
  EmpiricalDenoiser,
  type Tensor,
  TorchGenerator,
  tensor,
} from "@edmkit/core";
import { loadDataset } from "@edmkit/core/node";
import { alphasCumprodFromBetas, type SignedSchedulerName, scaledLinearBetas } from "@edmkit/diffusers";
import { solveProbabilityFlow } from "@edmkit/edm";
import * as kd from "@edmkit/k-diffusion";
import { checkDeviceAvailable, OnnxDenoiser, type OnnxDevice } from "@edmkit/onnx";
import type { ImageDenoiser } from "../../report/images-schema.js";
import type { Impl } from "../../report/schema.js";
import { runDiffusers, runEdm, runKd } from "../../runners/record.js";
import { type DrivenScheduler, prepareScheduler } from "../../runners/run.js";
import { runner } from "../../runners/table.js";
import { AlignedNoise, type TrajectoryRun } from "../trajectory.js";
import {
  disjointSeedTest,
  frechetDistance,
  median,
  nearestDistances,
  pixelGaps,
  resampleIndices,
} from "./stats.js";

export const DIM = 64;
/** Images shown per implementation. */
export const GRID = 16;
/** Rows per implementation: seeds 0..HALF-1 (the grid's first) and HALF..2 HALF-1 (for the test). */
const HALF = 24;
const STEPS = 10;
/** Samples for the Fréchet distance (the 2,000). */
export const FRECHET_N = 2000;
const SEED = 2024;
const CHURN_KD = { s_churn: 10, s_tmin: 0.05, s_tmax: 50, s_noise: 1.003 };
const CHURN_EDM = { S_churn: 10, S_tmin: 0.05, S_tmax: 50, S_noise: 1.003 };
const SD_TRAIN = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
};

/**
 * The data's own Fréchet floors (the same for both denoisers): FRECHET_N rows drawn with
 * replacement (seeded) against the whole set, and one random half against the other.
 */
export function dataFloors(points: Float64Array) {
  const count = points.length / DIM;
  const pick = (idx: ArrayLike<number>) => {
    const out = new Float64Array(idx.length * DIM);
    for (let r = 0; r < idx.length; r++) out.set(points.subarray(idx[r] * DIM, (idx[r] + 1) * DIM), r * DIM);
    return out;
  };
  const order = Array.from(new TorchGenerator(5).randn([count], "float64").data, (v, i) => [v, i] as const)
    .sort((p, q) => p[0] - q[0])
    .map(([, i]) => i);
  const half = count >> 1;
  return {
    sampler: `k-diffusion sample_dpmpp_2m, ${STEPS} steps`,
    n: FRECHET_N,
    dataFloor: frechetDistance(pick(resampleIndices(count, FRECHET_N, 5)), points, DIM),
    halvesFloor: frechetDistance(pick(order.slice(0, half)), pick(order.slice(half)), DIM),
    halves: [half, count - half] as [number, number],
    note: "both floors are what finite sampling alone gives: a sampler that drew the training images themselves would score about the first",
  };
}

export function loadDigits(fixturesDir: string) {
  const ds = loadDataset(join(fixturesDir, "datasets", "digits8x8.json"));
  const denoiser = EmpiricalDenoiser.fromDataset(ds, { scale: 1 / 8, shift: -1 });
  return { ds, denoiser, points: denoiser.points };
}

interface ImplDef {
  id: string;
  library: Impl["library"];
  label: string;
  family: string;
  run: (model: Denoiser, z: Tensor) => Promise<TrajectoryRun>;
}

const impl = (d: { id: string; library: Impl["library"]; label: string }): Impl => ({ ...d, settings: {} });

function implDefs(): ImplDef[] {
  const karras = kd.getSigmasKarras(STEPS, 0.002, 80);
  const table = alphasCumprodFromBetas(scaledLinearBetas(0.00085, 0.012, 1000)).alphasCumprod;
  const karrasConfig = { ...SD_TRAIN, use_karras_sigmas: true };
  const sigmasOf = (s: DrivenScheduler): Float64Array => {
    if (!("sigmas" in s)) throw new Error(`${s.constructor.name} has no sigmas`);
    return Float64Array.from(s.sigmas);
  };
  const sdSigmas = sigmasOf(
    prepareScheduler(runner("diffusers", "diffusers/EulerDiscreteScheduler"), karrasConfig, {}, STEPS),
  );
  // DPM++ 2M as people configure it in diffusers: dpmsolver++, order 2, Karras sigmas, SD betas
  // (lower_order_final, as shipped: the last step is first order, as in k-diffusion).
  const dpmConfig = { ...karrasConfig, algorithm_type: "dpmsolver++", solver_order: 2 };
  const dpmSigmas = sigmasOf(
    prepareScheduler(runner("diffusers", "diffusers/DPMSolverMultistepScheduler"), dpmConfig, {}, STEPS),
  );
  const linSigmas = sigmasOf(
    prepareScheduler(runner("diffusers", "diffusers/EulerAncestralDiscreteScheduler"), SD_TRAIN, {}, STEPS),
  );
  const disc = (m: Denoiser) =>
    new DenoiserAsDiscreteModel(m, { alphasCumprod: table, prediction: "epsilon" });
  const kdRun = (
    id: string,
    label: string,
    family: string,
    name: kd.SamplerName,
    sigmas: Float64Array,
    kwargs: Record<string, unknown> = {},
    noisy = false,
  ): ImplDef => ({
    id,
    library: "k-diffusion",
    label,
    family,
    run: (m, z) =>
      runKd(
        impl({ id, library: "k-diffusion", label }),
        name,
        m,
        z,
        sigmas,
        kwargs,
        noisy ? new AlignedNoise(SEED) : null,
      ),
  });
  const edmRun = (
    id: string,
    label: string,
    family: string,
    solver: "euler" | "heun",
    churn = false,
  ): ImplDef => ({
    id,
    library: "edm",
    label,
    family,
    run: (m, z) =>
      runEdm(
        impl({ id, library: "edm", label }),
        m,
        z,
        { timeSteps: karras, solver, conventions: "paper", ...(churn ? CHURN_EDM : {}) },
        churn ? new AlignedNoise(SEED) : null,
      ),
  });
  const diffRun = (
    id: string,
    label: string,
    family: string,
    cls: SignedSchedulerName,
    config: Record<string, unknown>,
    noisy = false,
  ): ImplDef => ({
    id,
    library: "diffusers",
    label,
    family,
    run: (m, z) =>
      runDiffusers(
        impl({ id, library: "diffusers", label }),
        cls,
        config,
        disc(m),
        z,
        { numInferenceSteps: STEPS },
        noisy ? new AlignedNoise(SEED) : null,
      ),
  });
  return [
    kdRun("kd/euler", "k-diffusion sample_euler, Karras 0.002..80", "Euler", "sample_euler", karras),
    edmRun("edm/euler", "EDM Algorithm 1, Euler", "Euler", "euler"),
    kdRun("kd/euler@sd", "k-diffusion sample_euler on diffusers' sigmas", "Euler", "sample_euler", sdSigmas),
    diffRun(
      "diffusers/euler",
      "diffusers EulerDiscreteScheduler (karras, SD betas)",
      "Euler",
      "EulerDiscreteScheduler",
      karrasConfig,
    ),
    kdRun("kd/heun", "k-diffusion sample_heun, Karras 0.002..80", "Heun", "sample_heun", karras),
    edmRun("edm/heun", "EDM Algorithm 1, Heun", "Heun", "heun"),
    kdRun("kd/heun@sd", "k-diffusion sample_heun on diffusers' sigmas", "Heun", "sample_heun", sdSigmas),
    diffRun(
      "diffusers/heun",
      "diffusers HeunDiscreteScheduler (karras, SD betas)",
      "Heun",
      "HeunDiscreteScheduler",
      karrasConfig,
    ),
    kdRun(
      "kd/dpmpp_2m",
      "k-diffusion sample_dpmpp_2m, Karras 0.002..80",
      "DPM++ 2M",
      "sample_dpmpp_2m",
      karras,
    ),
    kdRun(
      "kd/dpmpp_2m@sd",
      "k-diffusion sample_dpmpp_2m on diffusers' sigmas",
      "DPM++ 2M",
      "sample_dpmpp_2m",
      dpmSigmas,
    ),
    diffRun(
      "diffusers/dpmpp_2m",
      "diffusers DPMSolverMultistepScheduler (dpmsolver++, order 2, karras, SD betas)",
      "DPM++ 2M",
      "DPMSolverMultistepScheduler",
      dpmConfig,
    ),
    kdRun(
      "kd/euler_a@sd",
      "k-diffusion sample_euler_ancestral on diffusers' sigmas",
      "Euler a",
      "sample_euler_ancestral",
      linSigmas,
      {},
      true,
    ),
    diffRun(
      "diffusers/euler_a",
      "diffusers EulerAncestralDiscreteScheduler (SD betas)",
      "Euler a",
      "EulerAncestralDiscreteScheduler",
      SD_TRAIN,
      true,
    ),
    kdRun(
      "kd/heun+churn",
      "k-diffusion sample_heun, s_churn = 10",
      "churn",
      "sample_heun",
      karras,
      CHURN_KD,
      true,
    ),
    edmRun("edm/heun+churn", "EDM Algorithm 2 (Heun), S_churn = 10", "churn", "heun", true),
  ];
}

/** The pairs compared: [a, b]. */
const PAIRS: [string, string][] = [
  ["kd/euler", "edm/euler"],
  ["kd/euler@sd", "diffusers/euler"],
  ["kd/euler", "diffusers/euler"],
  ["kd/heun", "edm/heun"],
  ["kd/heun@sd", "diffusers/heun"],
  ["kd/heun", "diffusers/heun"],
  ["kd/heun", "kd/dpmpp_2m"],
  ["kd/dpmpp_2m@sd", "diffusers/dpmpp_2m"],
  ["kd/dpmpp_2m", "diffusers/dpmpp_2m"],
  ["kd/euler_a@sd", "diffusers/euler_a"],
  ["kd/heun+churn", "edm/heun+churn"],
];

function latents(n: number, dtype: "float32" | "float64", seed = 0): Tensor {
  const z = new TorchGenerator(seed).randn([n, 1, 8, 8], "float64");
  return dtype === "float32" ? tensor(Float32Array.from(z.data), z.shape) : z;
}

/** Max pixel gap below which two float runs count as the same computation. */
const roundoff = (dtype: "float32" | "float64") => (dtype === "float32" ? 1e-4 : 1e-9);

export async function imagesForDenoiser(
  fixturesDir: string,
  which: "empirical" | "unet",
  device: OnnxDevice,
): Promise<ImageDenoiser> {
  const t0 = performance.now();
  const dtype = which === "empirical" ? "float64" : "float32";
  const base = {
    id: which === "empirical" ? "empirical" : `unet@${device}`,
    label:
      which === "empirical"
        ? "exact denoiser of the 1,797 digits (EmpiricalDenoiser, float64)"
        : `EDM-trained conv UNet (digits8x8-unet-edm.onnx, float32, onnxruntime ${device})`,
    model: which === "empirical" ? "datasets/digits8x8.json" : "models/digits8x8-unet-edm.onnx",
    dtype: dtype as "float32" | "float64",
    device: which === "empirical" ? "TypeScript" : device,
    seeds: `TorchGenerator(0).randn([${2 * HALF}, 1, 8, 8]); the grid shows rows 0..${GRID - 1}; the test compares rows 0..${HALF - 1} of a with rows ${HALF}..${2 * HALF - 1} of b; ${STEPS} steps`,
  };
  const { points } = loadDigits(fixturesDir);
  let model: Denoiser;
  let onnx: OnnxDenoiser | null = null;
  if (which === "empirical") model = loadDigits(fixturesDir).denoiser;
  else {
    try {
      checkDeviceAvailable(device);
      onnx = await OnnxDenoiser.load(join(fixturesDir, "models", "digits8x8-unet-edm.onnx"), {
        device,
        intraOpNumThreads: 1,
      });
    } catch (e) {
      return {
        ...base,
        available: false,
        message: (e as Error).message,
        impls: [],
        pairs: [],
        frechet: null,
        nearest: [],
        seconds: (performance.now() - t0) / 1000,
      };
    }
    model = onnx;
  }
  try {
    const z = latents(2 * HALF, dtype);
    const defs = implDefs();
    const outs = new Map<string, { out: Float64Array; nfe: number }>();
    const impls: ImageDenoiser["impls"] = [];
    for (const d of defs) {
      const r = await d.run(model, z);
      outs.set(d.id, { out: r.output, nfe: r.calls.length });
      impls.push({
        id: d.id,
        library: d.library,
        label: d.label,
        family: d.family,
        nfe: r.calls.length,
        grid: Array.from(r.output.subarray(0, GRID * DIM), (v) => Math.round(v * 1e5) / 1e5),
      });
    }
    const pairs: ImageDenoiser["pairs"] = PAIRS.map(([a, b]) => {
      const A = outs.get(a)!.out,
        B = outs.get(b)!.out;
      const g = pixelGaps(A, B, HALF * DIM);
      const { verdict: dist, ...test } = disjointSeedTest(A, B, DIM, HALF, 199, 7);
      const fam = defs.find((x) => x.id === a)!.family;
      const verdict = g.maxDiff <= roundoff(dtype) ? "identical" : dist;
      return {
        id: `${a} vs ${b}`,
        family: fam,
        a,
        b,
        ...g,
        paired: HALF,
        test,
        verdict,
      };
    });
    // Against the data: FRECHET_N samples of DPM++ 2M (10 steps) vs the data set, and the data's
    // own floors: FRECHET_N training images drawn with replacement vs the data set (the distance
    // finite sampling alone gives at this size), and two disjoint random halves of the data.
    const zf = latents(FRECHET_N, dtype, 1);
    const fr = await runKd(
      impl({ id: "kd/dpmpp_2m", library: "k-diffusion", label: "" }),
      "sample_dpmpp_2m",
      model,
      zf,
      kd.getSigmasKarras(STEPS, 0.002, 80),
      {},
      null,
    );
    const frechet = { ...dataFloors(points), value: frechetDistance(fr.output, points, DIM) };
    const nearest: ImageDenoiser["nearest"] = [];
    if (which === "empirical") {
      const zn = latents(GRID, dtype, 2);
      for (const steps of [4, 8, 16, 32]) {
        const r = await runKd(
          impl({ id: "kd/heun", library: "k-diffusion", label: "" }),
          "sample_heun",
          model,
          zn,
          kd.getSigmasKarras(steps, 0.002, 80),
          {},
          null,
        );
        const dist = nearestDistances(r.output, points, DIM);
        nearest.push({
          sampler: "k-diffusion sample_heun",
          steps,
          nfe: r.calls.length,
          n: GRID,
          threshold: 1e-3,
          fractionWithin: dist.filter((x) => x <= 1e-3).length / dist.length,
          medianDistance: median(dist),
        });
      }
    }
    return {
      ...base,
      available: true,
      message:
        which === "empirical" ? "TypeScript, float64" : `onnxruntime-node, ${device} execution provider`,
      impls,
      pairs,
      frechet,
      nearest,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await onnx?.release();
  }
}

/** Seeds of the error-vs-NFE runs. */
const ODE_N = 32;

/**
 * Error vs NFE in image space against the probability-flow ODE solved by Dormand-Prince (exact
 * denoiser). Per NFE: the RMS and max pixel error over all samples (dominated by the samples
 * that land on another training image: a whole image's difference), and what stays readable:
 * the median per-sample RMS error, the fraction of samples on the reference's image and the
 * fraction on some training image at all.
 */
export async function imagesOde(fixturesDir: string) {
  const { denoiser, points: data } = loadDigits(fixturesDir);
  const n = ODE_N;
  const z = latents(n, "float64", 3);
  const x0 = tensor(
    Float64Array.from(z.data, (v) => v * 80),
    z.shape,
  );
  const ref = await solveProbabilityFlow(denoiser, x0, 80, 0, { rtol: 1e-7, atol: 1e-7 });
  const samplers: [string, kd.SamplerName][] = [
    ["k-diffusion sample_euler", "sample_euler"],
    ["k-diffusion sample_heun", "sample_heun"],
    ["k-diffusion sample_dpmpp_2m", "sample_dpmpp_2m"],
  ];
  const curves = [];
  for (const [label, name] of samplers) {
    const points = [];
    for (const steps of [4, 8, 16, 32]) {
      const r = await runKd(
        impl({ id: name, library: "k-diffusion", label }),
        name,
        denoiser,
        z,
        kd.getSigmasKarras(steps, 0.002, 80),
        {},
        null,
      );
      const g = pixelGaps(r.output, ref.data);
      let same = 0;
      const perSample: number[] = [];
      for (let i = 0; i < n; i++) {
        const gi = pixelGaps(
          r.output.subarray(i * DIM, (i + 1) * DIM),
          ref.data.subarray(i * DIM, (i + 1) * DIM),
        );
        if (gi.maxDiff <= 1e-3) same++;
        perSample.push(gi.rmsDiff);
      }
      const near = nearestDistances(r.output, data, DIM);
      points.push({
        steps,
        nfe: r.calls.length,
        rms: g.rmsDiff,
        max: g.maxDiff,
        sameImage: same / n,
        onTraining: near.filter((x) => x <= 1e-3).length / n,
        medianRms: median(perSample),
      });
    }
    curves.push({ sampler: label, points });
  }
  return {
    reference:
      "edm-reference solveProbabilityFlow (Dormand-Prince 5(4), rtol = atol = 1e-7) from sigma = 80 to 0 on the exact denoiser, float64",
    n,
    curves,
  };
}
