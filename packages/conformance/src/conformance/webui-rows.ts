/**
 * The rows of the web-UI sampler map (webui.ts): for each sampler name users know, the
 * k-diffusion call, the diffusers scheduler + config, the cause expected beyond float32
 * round-off and the ladder run that removes it. Data only.
 */
import type { SignedSchedulerName } from "@edmkit/diffusers";
import type { SamplerName as KSamplerName } from "@edmkit/k-diffusion";
import type { CauseId } from "../report/schema.js";
import { SD_CONFIG } from "./scenarios/setups.js";

export const N = 15;
export const LIN = { ...SD_CONFIG, timestep_spacing: "linspace" };
/**
 * The diffusers DDPM run of the seed question (fixed_small, the DDPM row's first rung: same
 * noise scale as k-diffusion); webui-answers.ts runs it, seed-ladders.ts rebuilds it.
 */
export const DDPM_SMALL_RUN = "webui/diffusers/DDPM@rung1";

/** What StableDiffusionPipeline's scheduler_config.json holds (DDIM / DDPM .from_config(pipe.scheduler.config)). */
export const SD_PIPE = {
  ...SD_CONFIG,
  timestep_spacing: "leading",
  steps_offset: 1,
  clip_sample: false,
  set_alpha_to_one: false,
};
export const KARRAS = { ...LIN, use_karras_sigmas: true };
export const SDE = { ...KARRAS, algorithm_type: "sde-dpmsolver++" };

/**
 * Noise keys: how a scheduler's draw request maps to the k-diffusion step that draws the same
 * tensor. "step-f32": the same step, every draw made in float32 for both libraries.
 */
export type NoiseKey = "step" | "step-f32" | "kdpm2" | "timestep";

/**
 * What a ladder rung changes in the diffusers run (each rung adds one to the rungs before it):
 * the model fed sigma_to_t(sigma_i), the start put at x = z sigma_max (VE frame), the output
 * read in the VE frame (x / sqrt(abar_0): DDIM's final alpha), a config override, or
 * k-diffusion's weight of the third-order term in DPM-Solver++(3M) SDE steps.
 */
export interface Flags {
  tOfSigma?: boolean;
  init?: boolean;
  veOutput?: boolean;
  config?: Record<string, unknown>;
  kdThirdOrderWeight?: boolean;
}

/** One rung of a row's ladder: the one rule it changes (a cause) and how. */
export interface Rung {
  change: CauseId;
  set: Flags;
}

export interface RowDef {
  name: string;
  kd: { sampler: KSamplerName; kwargs?: Record<string, number>; call: string };
  diffusers: {
    scheduler: SignedSchedulerName;
    config: Record<string, unknown>;
    call: string;
    stepKwargs?: Record<string, number>;
  };
  /** The k-diffusion grid: the scheduler's sigmas (repeats dropped), or sigma(abar_t) of its timesteps. */
  grid: "sigmas" | "alphas";
  noise: NoiseKey | null;
  /** What is compared, in words. */
  compared: string;
  /** The cause expected beyond float32 round-off (the largest rung). */
  cause: CauseId | null;
  /** The ladder: from diffusers as shipped, one rule per rung; the last rung is compared with k-diffusion. */
  ladder?: Rung[];
}

const T_OF_SIGMA: Rung = { change: "timestep-mapping", set: { tOfSigma: true } };
const KARRAS_T: Rung = { change: "karras-timestep-rounding", set: { tOfSigma: true } };
const INIT: Rung = { change: "initial-noise-scale", set: { init: true } };
const VE_OUT: Rung = { change: "final-alpha-frame", set: { veOutput: true } };

export const SAMPLER_MAP_ROWS: RowDef[] = [
  {
    name: "Euler",
    kd: { sampler: "sample_euler", call: "sample_euler(model, x, sigmas)" },
    diffusers: { scheduler: "EulerDiscreteScheduler", config: LIN, call: "EulerDiscreteScheduler" },
    grid: "sigmas",
    noise: null,
    compared: "same sigmas (the scheduler's), no noise",
    cause: "timestep-mapping",
    ladder: [T_OF_SIGMA],
  },
  {
    name: "Euler a",
    kd: { sampler: "sample_euler_ancestral", call: "sample_euler_ancestral(eta=1)" },
    diffusers: {
      scheduler: "EulerAncestralDiscreteScheduler",
      config: LIN,
      call: "EulerAncestralDiscreteScheduler",
    },
    grid: "sigmas",
    noise: "step",
    compared: "same sigmas, same noise per step",
    cause: "timestep-mapping",
    ladder: [T_OF_SIGMA],
  },
  {
    name: "Heun",
    kd: { sampler: "sample_heun", call: "sample_heun" },
    diffusers: { scheduler: "HeunDiscreteScheduler", config: LIN, call: "HeunDiscreteScheduler" },
    grid: "sigmas",
    noise: null,
    compared: "same sigmas (Heun's doubled grid once each)",
    cause: "timestep-mapping",
    ladder: [T_OF_SIGMA],
  },
  {
    name: "DPM2",
    kd: { sampler: "sample_dpm_2", call: "sample_dpm_2" },
    diffusers: { scheduler: "KDPM2DiscreteScheduler", config: LIN, call: "KDPM2DiscreteScheduler" },
    grid: "sigmas",
    noise: null,
    compared: "same sigmas; both evaluate the log-midpoint",
    cause: "timestep-mapping",
    ladder: [T_OF_SIGMA],
  },
  {
    name: "DPM2 a",
    kd: { sampler: "sample_dpm_2_ancestral", call: "sample_dpm_2_ancestral(eta=1)" },
    diffusers: {
      scheduler: "KDPM2AncestralDiscreteScheduler",
      config: LIN,
      call: "KDPM2AncestralDiscreteScheduler",
    },
    grid: "sigmas",
    noise: "kdpm2",
    compared:
      "same sigmas, same noise per outer step: both draw float64 normals like the sample (diffusers in the second of its two step() calls per k-diffusion step, index 2 j + 1 for step j), none on the last step",
    cause: "timestep-mapping",
    ladder: [T_OF_SIGMA],
  },
  {
    name: "LMS",
    kd: { sampler: "sample_lms", call: "sample_lms(order=4)" },
    diffusers: { scheduler: "LMSDiscreteScheduler", config: LIN, call: "LMSDiscreteScheduler" },
    grid: "sigmas",
    noise: null,
    compared: "same sigmas; both integrate the Lagrange basis with quad (epsrel 1e-4)",
    cause: "timestep-mapping",
    ladder: [T_OF_SIGMA],
  },
  {
    name: "DPM++ 2M",
    kd: { sampler: "sample_dpmpp_2m", call: "sample_dpmpp_2m" },
    diffusers: {
      scheduler: "DPMSolverMultistepScheduler",
      config: LIN,
      call: "DPMSolverMultistepScheduler()",
    },
    grid: "sigmas",
    noise: null,
    compared: "same sigmas; diffusers in the VP frame (alpha_t, sigma_t), k-diffusion in the VE frame",
    cause: "initial-noise-scale",
    ladder: [INIT, T_OF_SIGMA],
  },
  {
    name: "DPM++ 2M Karras",
    kd: { sampler: "sample_dpmpp_2m", call: "sample_dpmpp_2m, get_sigmas_karras" },
    diffusers: {
      scheduler: "DPMSolverMultistepScheduler",
      config: KARRAS,
      call: "DPMSolverMultistepScheduler(use_karras_sigmas=True)",
    },
    grid: "sigmas",
    noise: null,
    compared:
      "same Karras sigmas (the scheduler's); both take a first-order last step into sigma = 0 (diffusers for final_sigmas_type zero, k-diffusion for sigma_next = 0), so lower_order_final (fewer than 15 steps only) changes nothing at N = 15",
    cause: "karras-timestep-rounding",
    ladder: [INIT, KARRAS_T],
  },
  {
    name: "DPM++ 2M SDE Karras",
    kd: { sampler: "sample_dpmpp_2m_sde", call: "sample_dpmpp_2m_sde(eta=1, midpoint), get_sigmas_karras" },
    diffusers: {
      scheduler: "DPMSolverMultistepScheduler",
      config: SDE,
      call: 'DPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++", use_karras_sigmas=True)',
    },
    grid: "sigmas",
    noise: "step-f32",
    compared:
      "same Karras sigmas, same noise per step: diffusers draws float32 normals every step (the last one multiplied by 0), so both libraries get the float32 draw of the step (widened exactly for k-diffusion's float64 noise_sampler)",
    cause: "karras-timestep-rounding",
    ladder: [INIT, KARRAS_T],
  },
  {
    name: "DPM++ 3M SDE (Karras)",
    kd: { sampler: "sample_dpmpp_3m_sde", call: "sample_dpmpp_3m_sde(eta=1), get_sigmas_karras" },
    diffusers: {
      scheduler: "DPMSolverMultistepScheduler",
      config: { ...SDE, solver_order: 3 },
      call: 'DPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++", solver_order=3, use_karras_sigmas=True)',
    },
    grid: "sigmas",
    noise: "step-f32",
    compared:
      "same Karras sigmas, same float32 noise per step (as DPM++ 2M SDE); both take first, second, then third order, and a plain denoised step into sigma = 0",
    cause: "sde-third-order-weight",
    ladder: [
      INIT,
      KARRAS_T,
      { change: "midpoint-vs-heun", set: { config: { solver_type: "heun" } } },
      { change: "sde-third-order-weight", set: { kdThirdOrderWeight: true } },
    ],
  },
  {
    name: "DDIM",
    kd: { sampler: "sample_euler", call: "none; sample_euler on sigma(abar_t) of DDIM's timesteps" },
    diffusers: {
      scheduler: "DDIMScheduler",
      config: SD_PIPE,
      call: "DDIMScheduler.from_config(SD pipeline config), eta=0",
    },
    grid: "alphas",
    noise: null,
    compared:
      "the same ODE: DDIM eta = 0 is Euler on dx/dsigma = eps in the VE frame x / sqrt(abar), sigma = sqrt((1 - abar) / abar)",
    cause: "final-alpha-frame",
    ladder: [INIT, VE_OUT],
  },
  {
    name: "DDIM (class defaults)",
    kd: { sampler: "sample_euler", call: "none; sample_euler on sigma(abar_t) of DDIM's timesteps" },
    diffusers: {
      scheduler: "DDIMScheduler",
      config: { ...SD_PIPE, clip_sample: true },
      call: "DDIMScheduler(clip_sample=True: the class default), eta=0",
    },
    grid: "alphas",
    noise: null,
    compared: "as DDIM, with the class default clip_sample=True (x0 clipped to [-1, 1])",
    cause: "clip-sample",
    ladder: [INIT, VE_OUT, { change: "clip-sample", set: { config: { clip_sample: false } } }],
  },
  {
    name: "DDPM",
    kd: {
      sampler: "sample_euler_ancestral",
      call: "none; sample_euler_ancestral(eta=1) on DDPM's sigma(abar_t)",
    },
    diffusers: {
      scheduler: "DDPMScheduler",
      config: SD_PIPE,
      call: 'DDPMScheduler.from_config(SD pipeline config), variance_type="fixed_small"',
    },
    grid: "alphas",
    noise: "timestep",
    compared:
      "the posterior step: DDPM fixed_small = k-diffusion's ancestral step at eta = 1 in the VE frame",
    cause: "initial-noise-scale",
    ladder: [INIT],
  },
];
