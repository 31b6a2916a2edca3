/**
 * The two setups the scenarios run on, built once per run: the model(s), the latents, the
 * noise grids and scheduler configs the recipes name, and the facts their notes quote.
 */
import {
  type Denoiser,
  DiscreteGmmModel,
  type DiscreteModel,
  namedMixtureDenoiser,
  namedMixtures,
  numpyInterp,
  numpyLinspace,
  type Tensor,
  TorchGenerator,
} from "@edmkit/core";
import { EulerDiscreteScheduler, HeunDiscreteScheduler } from "@edmkit/diffusers";
import * as kd from "@edmkit/k-diffusion";
import type { ConfigName, Facts, GridName, ModelRef, SetupName } from "./types.js";

/** Batch size of every scenario run. */
const B = 64;
/** The seed of the latents (the discrete setup uses SEED + 1) and of the aligned noise. */
export const SEED = 20221128;

/** A setup on other latents: `batch` rows drawn from `seed`, and the noise streams seeded by it too. */
export interface SetupDraw {
  batch: number;
  seed: number;
}

export interface Setup {
  /** The seed of the noise streams (AlignedNoise) of the recipes run on this setup. */
  seed: number;
  /** The model as the report names it. */
  modelName: string;
  models: Partial<Record<ModelRef, Denoiser>>;
  /** The discrete-time model the diffusers loop drives. */
  discrete?: DiscreteModel;
  /** k-diffusion's sigma_to_t, for recipes that feed the diffusers model t(sigma). */
  sigmaToT?: (sigma: number) => number;
  z: Tensor;
  grids: Partial<Record<GridName, ArrayLike<number>>>;
  configs: Partial<Record<ConfigName, Record<string, unknown>>>;
  facts: Facts;
}

const z2d = (seed: number, batch = B): Tensor => new TorchGenerator(seed).randn([batch, 2], "float64");

function ring8Setup(draw?: SetupDraw): Setup {
  const karras = kd.getSigmasKarras(12, 0.002, 80);
  return {
    seed: draw?.seed ?? SEED,
    modelName: "gmm2d-ring8 (exact)",
    models: { mixture: namedMixtureDenoiser("gmm2d-ring8") },
    z: draw ? z2d(draw.seed, draw.batch) : z2d(SEED),
    grids: { karras, "karras-tail": karras.slice(0, -1) },
    configs: {},
    facts: {},
  };
}

export const SD_CONFIG = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
};

function ring8DiscreteSetup(draw?: SetupDraw): Setup {
  const N = 15;
  const table = new EulerDiscreteScheduler({ ...SD_CONFIG }).alphasCumprod;
  const eps = new DiscreteGmmModel({
    gmm: namedMixtures["gmm2d-ring8"](),
    alphasCumprod: table,
    prediction: "epsilon",
  });
  const wrapper = new kd.DiscreteEpsDDPMDenoiser(eps, table, { quantize: false });
  const quantized = new kd.DiscreteEpsDDPMDenoiser(eps, table, { quantize: true });

  const linspace = { ...SD_CONFIG, timestep_spacing: "linspace" };
  const leading = { ...SD_CONFIG, timestep_spacing: "leading", steps_offset: 1 };
  const karrasLeading = { ...leading, use_karras_sigmas: true };

  const euler = new EulerDiscreteScheduler(linspace);
  euler.setTimesteps(N);
  // the t grid of linspace spacing, interpolated linearly in sigma (np.interp)
  const tGrid = numpyLinspace(0, 999, N).reverse();
  const interp = new Float64Array(N + 1);
  interp.set(
    numpyInterp(
      tGrid,
      Float64Array.from({ length: 1000 }, (_, j) => j),
      wrapper.sigmas,
    ),
  );
  // Heun's grid repeats each inner sigma; k-diffusion takes each once
  const heun = new HeunDiscreteScheduler(linspace);
  heun.setTimesteps(N);
  const hs = Array.from(heun.sigmas);
  const heunUnique = [hs[0]];
  for (let k = 1; k < hs.length; k += 2) heunUnique.push(hs[k]);
  const lead = new EulerDiscreteScheduler(leading);
  lead.setTimesteps(N);
  const ks = new EulerDiscreteScheduler(karrasLeading);
  ks.setTimesteps(N);
  const modelMin = wrapper.sigmas[0];
  const modelMax = wrapper.sigmas[wrapper.sigmas.length - 1];

  return {
    seed: draw?.seed ?? SEED,
    modelName:
      "gmm2d-ring8 as a discrete eps model (SD scaled_linear betas, diffusers' float32 alphas_cumprod)",
    models: { wrapper, "quantized-wrapper": quantized },
    discrete: eps,
    sigmaToT: (sigma) => wrapper.sigmaToT(sigma),
    z: draw ? z2d(draw.seed, draw.batch) : z2d(SEED + 1),
    grids: {
      "diffusers-linspace": Float64Array.from(euler.sigmas),
      "kd-own": wrapper.getSigmas(N),
      "np.interp": interp,
      "heun-unique": heunUnique,
      "karras-model-range": kd.getSigmasKarras(N, modelMin, modelMax),
      "karras-leading-range": kd.getSigmasKarras(N, ks.sigmas[N - 1], ks.sigmas[0]),
      // diffusers' own Karras sigmas (float32, with the final 0)
      "karras-leading-diffusers": Float64Array.from(ks.sigmas),
    },
    configs: { linspace, leading, "karras-leading": karrasLeading },
    facts: {
      leadingInitNoiseSigma: lead.initNoiseSigma,
      leadingSigmaMax: lead.sigmas[0],
      karrasLeadingSigmaMax: ks.sigmas[0],
      karrasLeadingSigmaMin: ks.sigmas[N - 1],
      modelSigmaMin: modelMin,
      modelSigmaMax: modelMax,
    },
  };
}

/** The setups by name; a `draw` puts one on other latents and noise (the distribution tests). */
export const SETUPS: Record<SetupName, (draw?: SetupDraw) => Setup> = {
  ring8: ring8Setup,
  "ring8-discrete": ring8DiscreteSetup,
};
