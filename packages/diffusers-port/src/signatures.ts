/**
 * How each ported scheduler is called, as data: the `__init__` keyword arguments a config may
 * set (the keys of its config schema) and the options its `step()` takes. Tools that drive any
 * scheduler by name (the conformance runners, the `edmkit sample` CLI) read what a scheduler
 * accepts from here instead of keeping their own copies. A scheduler without an entry is not
 * driven by those tools yet (the conformance runner table leaves it out); it is replayed from
 * its fixtures.
 */
import {
  eulerAncestralDiscreteConfigSchema,
  eulerDiscreteConfigSchema,
  heunDiscreteConfigSchema,
} from "./config.js";
import { dpmSolverMultistepConfigSchema } from "./dpmsolver-multistep.js";
import { edmDpmSolverMultistepConfigSchema } from "./edm-dpmsolver-multistep.js";
import { edmEulerConfigSchema } from "./edm-euler.js";
import { EULER_ANCESTRAL_STEP_OPTIONS } from "./euler-ancestral-discrete.js";
import { EULER_STEP_OPTIONS } from "./euler-discrete.js";
import {
  ddimConfigSchema,
  ddpmConfigSchema,
  kdpm2DiscreteConfigSchema,
  lmsDiscreteConfigSchema,
} from "./family-config.js";
import { flowMatchEulerDiscreteConfigSchema } from "./flow-match-euler-discrete.js";
import { HEUN_STEP_OPTIONS } from "./heun-discrete.js";
import type { SchedulerName } from "./registry.js";

export interface SchedulerSignature {
  /** The `__init__` keyword arguments (config keys), snake_case as in scheduler_config.json. */
  readonly config: readonly string[];
  /** The options of `step()` beyond (model_output, timestep, sample), camelCase. */
  readonly step: readonly string[];
  /**
   * What the model is and what the scheduler holds: `discrete` (a DiscreteModel on the
   * training timesteps: eps / v / x0 prediction), `edm-precond` (the network F of an
   * EDM-preconditioned denoiser, fed c_in x and c_noise; the scheduler forms c_skip x + c_out F),
   * `flow` (a velocity model on t in [0, 1] times num_train_timesteps).
   */
  readonly model: "discrete" | "edm-precond" | "flow";
  /** Noise levels held as `sigmas` (k-diffusion's frame), or only `timesteps` (DDIM, DDPM). */
  readonly grid: "sigmas" | "timesteps";
}

const CHURN_STEP_OPTIONS = ["sChurn", "sTmin", "sTmax", "sNoise", "generator", "out"] as const;
const keys = (schema: { shape: object }) => Object.keys(schema.shape);

export const schedulerSignatures = {
  EulerDiscreteScheduler: {
    config: keys(eulerDiscreteConfigSchema),
    step: EULER_STEP_OPTIONS,
    model: "discrete",
    grid: "sigmas",
  },
  HeunDiscreteScheduler: {
    config: keys(heunDiscreteConfigSchema),
    step: HEUN_STEP_OPTIONS,
    model: "discrete",
    grid: "sigmas",
  },
  EulerAncestralDiscreteScheduler: {
    config: keys(eulerAncestralDiscreteConfigSchema),
    step: EULER_ANCESTRAL_STEP_OPTIONS,
    model: "discrete",
    grid: "sigmas",
  },
  // KDPM2's step() takes no generator (tolerated, unused); its grid interleaves log-midpoints
  KDPM2DiscreteScheduler: {
    config: keys(kdpm2DiscreteConfigSchema),
    step: ["out", "generator"],
    model: "discrete",
    grid: "sigmas",
  },
  KDPM2AncestralDiscreteScheduler: {
    config: keys(kdpm2DiscreteConfigSchema),
    step: ["out", "generator"],
    model: "discrete",
    grid: "sigmas",
  },
  LMSDiscreteScheduler: {
    config: keys(lmsDiscreteConfigSchema),
    step: ["out", "generator", "order"],
    model: "discrete",
    grid: "sigmas",
  },
  DDIMScheduler: {
    config: keys(ddimConfigSchema),
    step: ["eta", "useClippedModelOutput", "generator", "varianceNoise", "out"],
    model: "discrete",
    grid: "timesteps",
  },
  DDPMScheduler: {
    config: keys(ddpmConfigSchema),
    step: ["generator", "out"],
    model: "discrete",
    grid: "timesteps",
  },
  DPMSolverMultistepScheduler: {
    config: keys(dpmSolverMultistepConfigSchema),
    step: ["generator", "varianceNoise", "out"],
    model: "discrete",
    grid: "sigmas",
  },
  EDMEulerScheduler: {
    config: keys(edmEulerConfigSchema),
    step: CHURN_STEP_OPTIONS,
    model: "edm-precond",
    grid: "sigmas",
  },
  EDMDPMSolverMultistepScheduler: {
    config: keys(edmDpmSolverMultistepConfigSchema),
    step: ["generator", "out"],
    model: "edm-precond",
    grid: "sigmas",
  },
  FlowMatchEulerDiscreteScheduler: {
    config: keys(flowMatchEulerDiscreteConfigSchema),
    step: CHURN_STEP_OPTIONS,
    model: "flow",
    grid: "sigmas",
  },
} as const satisfies Partial<Record<SchedulerName, SchedulerSignature>>;

/** The schedulers whose signature is stated here. */
export type SignedSchedulerName = keyof typeof schedulerSignatures;

export function isSignedScheduler(name: SchedulerName): name is SignedSchedulerName {
  return Object.hasOwn(schedulerSignatures, name);
}

/** A scheduler's signature, or the empty one (config only) for a scheduler without an entry. */
export function schedulerSignature(name: SchedulerName): SchedulerSignature {
  return isSignedScheduler(name)
    ? schedulerSignatures[name]
    : { config: [], step: [], model: "discrete", grid: "sigmas" };
}
