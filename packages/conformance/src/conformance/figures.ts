/**
 * Data for the report's pictures: 1-D trajectories over the noisy data density, 2-D sample
 * clouds per sampler, and a pairwise divergence heatmap.
 */
import {
  EdmPrecondGmmModel,
  type Tensor,
  TorchGenerator,
  maxAbsDiff,
  namedMixtures,
  scale,
  zerosLike,
} from "@edmkit/core";
import { schedulers } from "@edmkit/diffusers";
import { linearSchedule } from "@edmkit/edm";
import * as kd from "@edmkit/k-diffusion";
import type { Report } from "../report/schema.js";
import { namedMixtureDenoiser } from "@edmkit/core";
import type { SamplerName as KdSamplerName } from "@edmkit/k-diffusion";
import { runEdm, runKd, runNvlabs } from "../runners/record.js";
import { runDiffusers as diffusersLoop } from "../runners/run.js";
import { SEED } from "./scenarios/setups.js";
import { AlignedNoise, type TrajectoryRun } from "./trajectory.js";

/**
 * The scenario implementation each heatmap row runs (same recipe, latents and noise), so a
 * cell equals the output gap of that pair in the pairs table: one source for both.
 */
const HEATMAP_IDS = [
  "k-diffusion/sample_euler",
  "k-diffusion/sample_euler_ancestral(eta=0)",
  "edm/algorithm1-euler",
  "edm/ablation_sampler-euler",
  "k-diffusion/sample_heun",
  "edm/algorithm1-heun",
  "edm/edm_sampler",
  "k-diffusion/sample_dpm_2",
  "k-diffusion/sample_dpmpp_2m",
  // no scenario pair: this row's cells come from this figure alone
  "diffusers/EDMEulerScheduler@heatmap",
];

/**
 * diffusers' EDMEulerScheduler on the same mixture, grid (its Karras 0.002..80, rho 7, then 0)
 * and latents: the scheduler applies c_in, c_skip, c_out to an EDM-preconditioned network
 * whose D is the mixture's, in float32 scalars. Started at z sigma_max like the others (its own
 * init_noise_sigma is sqrt(sigma_max^2 + 1)).
 */
async function diffusersEdmEuler(z: Tensor, steps: number): Promise<Float64Array> {
  const sched = new schedulers.EDMEulerScheduler({}, {});
  sched.setTimesteps(steps);
  const sigmaData = 0.5;
  const net = new EdmPrecondGmmModel({ gmm: namedMixtures["gmm2d-ring8"](), sigmaData });
  const model = async (sample: Tensor, t: number) =>
    net.predict(sample, new Float64Array(sample.shape[0]).fill(t));
  const x0 = scale(zerosLike(z), z, sched.sigmas[0]);
  const out = await diffusersLoop(sched, model, x0, { scaleLatents: false });
  return Float64Array.from(out.data);
}

type Figures = Report["figures"];

/** Heun paths of the 1-D bimodal mixture from sigma = 80 to 0, over log p(x; sigma). */
export async function trajectories1d(): Promise<Figures["trajectories1d"]> {
  const model = namedMixtureDenoiser("gmm1d-bimodal");
  const n = 32,
    paths = 64;
  const sigmas = kd.getSigmasKarras(n, 0.002, 80);
  const z = new TorchGenerator(5).randn([paths, 1], "float64");
  const x = scale(zerosLike(z), z, sigmas[0]);
  const states: Float64Array[] = [];
  const out = await kd.sampleHeun(model, x, sigmas, {
    callback: (p) => {
      states.push(Float64Array.from(p.x.data));
    },
  });
  states.push(Float64Array.from(out.data));
  const grid = Array.from({ length: 161 }, (_, i) => -4 + (8 * i) / 160);
  const logp = Array.from(sigmas, (s) => grid.map((g) => model.logDensity([g], s)));
  return {
    sampler: "k-diffusion sample_heun (Karras, N = 32), 64 paths",
    sigmas: Array.from(sigmas),
    paths: Array.from({ length: paths }, (_, p) => states.map((st) => st[p])),
    density: { x: grid, sigma: Array.from(sigmas), logp },
  };
}

const CLOUD_SAMPLERS: {
  label: string;
  name: KdSamplerName | "edm";
  kwargs?: Record<string, unknown>;
  noise?: boolean;
}[] = [
  { label: "sample_euler", name: "sample_euler" },
  { label: "sample_heun", name: "sample_heun" },
  { label: "sample_dpmpp_2m", name: "sample_dpmpp_2m" },
  { label: "sample_euler_ancestral", name: "sample_euler_ancestral", noise: true },
  { label: "sample_dpmpp_2m_sde", name: "sample_dpmpp_2m_sde", noise: true },
  { label: "EDM Algorithm 2 (S_churn = 40)", name: "edm" },
];

/** 512 samples on the ring of 8 per sampler (N = 12 Karras steps). */
export async function clouds2d(): Promise<Figures["clouds2d"]> {
  const model = namedMixtureDenoiser("gmm2d-ring8");
  const sigmas = kd.getSigmasKarras(12, 0.002, 80);
  const z = new TorchGenerator(6).randn([512, 2], "float64");
  const out: Figures["clouds2d"] = [];
  for (const s of CLOUD_SAMPLERS) {
    let r: TrajectoryRun;
    if (s.name === "edm") {
      r = await runEdm(
        { id: "edm", library: "edm", label: s.label, settings: {} },
        model,
        z,
        {
          schedule: linearSchedule(),
          timeSteps: sigmas,
          solver: "heun",
          conventions: "paper",
          S_churn: 40,
          S_tmin: 0.05,
          S_tmax: 50,
          S_noise: 1.003,
        },
        new AlignedNoise(7),
      );
    } else {
      r = await runKd(
        { id: s.label, library: "k-diffusion", label: s.label, settings: {} },
        s.name,
        model,
        z,
        sigmas,
        s.kwargs ?? {},
        s.noise ? new AlignedNoise(7) : null,
      );
    }
    const pts: [number, number][] = [];
    for (let i = 0; i < 512; i++) pts.push([r.output[2 * i], r.output[2 * i + 1]]);
    out.push({ sampler: s.label, points: pts });
  }
  return out;
}

/** Pairwise output gaps of deterministic first/second-order samplers on one grid and latent. */
export async function heatmap(): Promise<Figures["heatmap"]> {
  const model = namedMixtureDenoiser("gmm2d-ring8");
  const sigmas = kd.getSigmasKarras(12, 0.002, 80);
  const z = new TorchGenerator(SEED).randn([64, 2], "float64");
  const runs: [string, Promise<TrajectoryRun>][] = [
    [
      "k-diffusion euler",
      runKd(
        { id: "a", library: "k-diffusion", label: "", settings: {} },
        "sample_euler",
        model,
        z,
        sigmas,
        {},
        null,
      ),
    ],
    [
      "k-diffusion euler_a (eta 0)",
      runKd(
        { id: "b", library: "k-diffusion", label: "", settings: {} },
        "sample_euler_ancestral",
        model,
        z,
        sigmas,
        { eta: 0 },
        new AlignedNoise(SEED),
      ),
    ],
    [
      "EDM Alg. 1 Euler",
      runEdm(
        { id: "c", library: "edm", label: "", settings: {} },
        model,
        z,
        { schedule: linearSchedule(), timeSteps: sigmas, solver: "euler", conventions: "paper" },
        null,
      ),
    ],
    [
      "NVlabs ablation euler",
      runNvlabs(
        { id: "d", library: "edm", label: "", settings: {} },
        "ablation_sampler",
        model,
        z,
        {
          num_steps: 12,
          sigma_min: 0.002,
          sigma_max: 80,
          rho: 7,
          solver: "euler",
          discretization: "edm",
          schedule: "linear",
          scaling: "none",
        },
        new AlignedNoise(SEED),
      ),
    ],
    [
      "k-diffusion heun",
      runKd(
        { id: "e", library: "k-diffusion", label: "", settings: {} },
        "sample_heun",
        model,
        z,
        sigmas,
        {},
        null,
      ),
    ],
    [
      "EDM Alg. 1 Heun",
      runEdm(
        { id: "f", library: "edm", label: "", settings: {} },
        model,
        z,
        { schedule: linearSchedule(), timeSteps: sigmas, solver: "heun", conventions: "paper" },
        null,
      ),
    ],
    [
      "NVlabs edm_sampler",
      runNvlabs(
        { id: "g", library: "edm", label: "", settings: {} },
        "edm_sampler",
        model,
        z,
        { num_steps: 12, sigma_min: 0.002, sigma_max: 80, rho: 7 },
        new AlignedNoise(SEED),
      ),
    ],
    [
      "k-diffusion dpm_2",
      runKd(
        { id: "h", library: "k-diffusion", label: "", settings: {} },
        "sample_dpm_2",
        model,
        z,
        sigmas,
        {},
        null,
      ),
    ],
    [
      "k-diffusion dpmpp_2m",
      runKd(
        { id: "i", library: "k-diffusion", label: "", settings: {} },
        "sample_dpmpp_2m",
        model,
        z,
        sigmas,
        {},
        null,
      ),
    ],
  ];
  const outs: Float64Array[] = [];
  for (const [, p] of runs) outs.push((await p).output);
  outs.push(await diffusersEdmEuler(z, 12));
  const gaps = outs.map((a, i) => outs.map((b, j) => (i === j ? null : maxAbsDiff(a, b))));
  return {
    scenario:
      "deterministic samplers of k-diffusion, EDM, NVlabs and diffusers, gmm2d-ring8, Karras N = 12, the scenarios' latents: max |output_a - output_b| (the output gap of the pairs table where the pair is one)",
    labels: [...runs.map((r) => r[0]), "diffusers EDMEuler (float32)"],
    ids: HEATMAP_IDS,
    gaps,
  };
}
