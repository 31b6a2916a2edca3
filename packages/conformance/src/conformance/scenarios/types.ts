/**
 * The shape of the suite's cross-implementation scenarios as data: each scenario names its
 * setup (model, latents, grids), the implementations it runs (each a recipe for the runner
 * table or a written-out reference loop) and the pairs it compares, with the expected verdict
 * (equivalent, or diverging for a named cause) and which pair demonstrates a cause minimally.
 */
import type { SignedSchedulerName } from "@edmkit/diffusers";
import type { SamplerConventions, Solver } from "@edmkit/edm";
import type { SamplerName as KSamplerName } from "@edmkit/k-diffusion";
import type { CauseId, Impl } from "../../report/schema.js";
import type { NvlabsSamplerName } from "../../runners/table.js";
import type { Uncast } from "../../runners/uncast.js";

/** Where a run's noise comes from: none, AlignedNoise(SEED) by step, or one sequential stream. */
export type NoiseSpec = "none" | "aligned" | "stream";

/** The continuous setup's grids: Karras (N = 12, 0.002..80) and the same without its final 0. */
export type ContinuousGrid = "karras" | "karras-tail";
/** The discrete setup's grids (all for N = 15 on the SD table). */
export type DiscreteGrid =
  | "diffusers-linspace"
  | "kd-own"
  | "np.interp"
  | "heun-unique"
  | "karras-model-range"
  | "karras-leading-range"
  | "karras-leading-diffusers";
export type GridName = ContinuousGrid | DiscreteGrid;

/** The discrete setup's scheduler configs (SD betas with a spacing). */
export type ConfigName = "linspace" | "leading" | "karras-leading";

/** Which D(x; sigma) a continuous sampler sees: the mixture, or k-diffusion's wrapper of the eps model. */
export type ModelRef = "mixture" | "wrapper" | "quantized-wrapper";

/** How one implementation is run. */
export type Recipe =
  | {
      runner: "k-diffusion";
      sampler: KSamplerName;
      model: ModelRef;
      sigmas: GridName;
      kwargs?: Record<string, number>;
      noise: NoiseSpec;
    }
  | {
      runner: "edm";
      solver: Solver;
      timeSteps: GridName;
      churn?: { S_churn: number; S_tmin: number; S_tmax: number; S_noise: number };
      conventions?: Required<SamplerConventions>;
      noise: NoiseSpec;
    }
  | {
      runner: "nvlabs";
      sampler: NvlabsSamplerName;
      kwargs: Record<string, number | string>;
      noise: "aligned";
    }
  | {
      runner: "diffusers";
      scheduler: SignedSchedulerName;
      config: ConfigName;
      /** num_inference_steps. */
      steps: number;
      /** The model is fed sigma_to_t(sigma_i) instead of the grid timestep. */
      timestep?: "sigma_to_t";
      /** The latents are scaled by sigma_max instead of init_noise_sigma. */
      initScale?: "sigma_max";
      /** float32 casts of the scheduler undone (cause-ladder rungs; runners/uncast.ts). */
      uncast?: Uncast[];
      stepKwargs?: Record<string, number>;
      noise: NoiseSpec;
    }
  | { runner: "heun-loop"; lastStep: "sigma-zero" | "index"; sigmas: GridName }
  | {
      runner: "euler-churn-loop";
      evaluate: "churned" | "stale";
      /** The D it runs on (default the mixture). */
      model?: ModelRef;
      /** diffusers' float32 sigma scalars (variants.ts), or float64 (default). */
      scalars?: "float64" | "float32";
      churn: { sChurn: number; sTmin: number; sTmax: number; sNoise: number };
      sigmas: GridName;
    }
  | { runner: "song2021"; rule: "ve" | "vp"; sigmas: GridName };

export interface ImplDef extends Omit<Impl, "settings"> {
  /** Settings the report shows with the label (default none). */
  settings?: Impl["settings"];
  run: Recipe;
}

/** Facts of a setup that notes quote. */
export type Facts = Record<string, number>;
export type Note = string | ((facts: Facts) => string);

export interface PairDef {
  id: string;
  a: string;
  b: string;
  /** "equivalent": expected identical; a cause: expected to diverge for it. */
  expect: "equivalent" | CauseId;
  note: Note;
}

/** The pair that demonstrates a cause: two runs differing in exactly that rule. */
export interface MinimalPairDef {
  cause: CauseId;
  a: string;
  b: string;
  note: Note;
  /** The scenario text, when it is not the scenario's title. */
  title?: string;
}

export type SetupName = "ring8" | "ring8-discrete";

export interface ScenarioDef {
  id: string;
  /** The scenario as the report states it. */
  title: string;
  setup: SetupName;
  /** The schedule and noise, in words (the recipes hold the exact values). */
  schedule: string;
  noise: string;
  /** The implementations this scenario introduces (pairs may also use earlier ones of the same setup). */
  impls: ImplDef[];
  pairs: PairDef[];
  minimal: MinimalPairDef[];
}
