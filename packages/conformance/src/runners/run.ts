/**
 * How each family of the runner table runs: one function per family, taking the model, the
 * start and the sampler's own arguments, returning the samples. Callers (the conformance
 * suite, `edmkit sample`) add their own observation, noise and error reporting around these.
 */
import type { Denoiser, NoiseSource, SamplerObserver, Tensor } from "@edmkit/core";
import {
  type LoopScheduler,
  type DenoisingLoopOptions,
  denoisingLoop,
  type LoopModel,
  schedulers,
} from "@edmkit/diffusers";
import {
  type EdmSamplerOptions,
  type NvlabsRunOptions,
  samplers as nvlabsSamplers,
  planSampler,
  runPlan,
  samplerSetups,
} from "@edmkit/edm";
import { samplers as kSamplers } from "@edmkit/k-diffusion";

type Options = Record<string, unknown>;
import type { DiffusersEntry, EdmEntry, KDiffusionEntry, NvlabsEntry } from "./table.js";

/**
 * The keyword arguments of a k-diffusion call: the caller's, then the noise source under the
 * sampler's own noise keyword (when it has one and a source is given), then the observer.
 */
export function kDiffusionKwargs(
  entry: KDiffusionEntry,
  kwargs: Options,
  noise: NoiseSource | null,
  observer: SamplerObserver,
): Options {
  const noiseKw = noise && entry.noiseKwarg ? { [entry.noiseKwarg]: noise } : {};
  return { ...kwargs, ...noiseKw, observer };
}

/** Where a k-diffusion sampler's noise levels come from (see `KDiffusionEntry.grid`). */
export type KDiffusionGrid =
  | { sigmas: ArrayLike<number> }
  | { sigmaMin: number; sigmaMax: number; n: number }
  | { sigmaMin: number; sigmaMax: number };

/** Call a k-diffusion sampler by its original name; x is the start (latents times sigma_max). */
export async function runKDiffusion(
  entry: KDiffusionEntry,
  model: Denoiser,
  x: Tensor,
  grid: KDiffusionGrid,
  kwargs: Options,
): Promise<Tensor> {
  if ("sigmas" in grid) {
    if (entry.grid !== "sigmas") throw new Error(`${entry.name} takes no sigmas`);
    const fn =
      kSamplers[entry.sampler as Exclude<typeof entry.sampler, "sample_dpm_fast" | "sample_dpm_adaptive">];
    return fn(model, x, Float64Array.from(grid.sigmas), kwargs);
  }
  if (entry.grid === "range" && "n" in grid)
    return kSamplers.sample_dpm_fast(model, x, grid.sigmaMin, grid.sigmaMax, grid.n, kwargs);
  if (entry.grid === "adaptive") {
    const out = await kSamplers.sample_dpm_adaptive(model, x, grid.sigmaMin, grid.sigmaMax, kwargs);
    return "info" in out ? out.x : out;
  }
  throw new Error(`${entry.name} needs ${entry.grid === "sigmas" ? "sigmas" : "sigma_min, sigma_max and n"}`);
}

/**
 * Plan the general EDM sampler with this entry's solver (throws on bad options before
 * anything runs); `run` then samples from unit latents.
 */
export function planEdm(
  entry: EdmEntry,
  model: Denoiser,
  options: EdmSamplerOptions,
): { numSteps: number; run: (latents: Tensor) => Promise<Tensor> } {
  const o: EdmSamplerOptions = { ...options, solver: entry.solver };
  const plan = planSampler(o, model);
  return { numSteps: plan.numSteps, run: (latents) => runPlan(plan, model, latents, o) };
}

/** Check an NVlabs call's keyword arguments and schedule against the model (throws on bad input). */
export function checkNvlabs(entry: NvlabsEntry, model: Denoiser, call: Record<string, unknown>): void {
  samplerSetups[entry.sampler](model, call);
}

/** NVlabs' sampler under its original name, with its original keyword arguments. */
export function runNvlabs(
  entry: NvlabsEntry,
  model: Denoiser,
  latents: Tensor,
  call: Record<string, unknown>,
  run: NvlabsRunOptions,
): Promise<Tensor> {
  return nvlabsSamplers[entry.sampler](model, latents, call, run);
}

/** A scheduler the runner table drives (see `DiffusersEntry`). */
export type DrivenScheduler = InstanceType<(typeof schedulers)[DiffusersEntry["scheduler"]]>;

type SchedulerTimesteps = number | { sigmas?: number[]; timesteps?: number[] };

/**
 * The scheduler of a diffusers entry from a config (`from_config(config, **overrides)`), its
 * timesteps set: given, or chosen (and checked) from the built scheduler by a function.
 */
export function prepareScheduler(
  entry: DiffusersEntry,
  config: Record<string, unknown>,
  overrides: Record<string, unknown>,
  timesteps: SchedulerTimesteps | ((scheduler: DrivenScheduler) => SchedulerTimesteps),
): DrivenScheduler {
  const scheduler = new schedulers[entry.scheduler](config, overrides);
  if (typeof timesteps === "function") timesteps = timesteps(scheduler);
  if (typeof timesteps === "number") scheduler.setTimesteps(timesteps);
  else scheduler.setTimesteps({ ...timesteps });
  return scheduler;
}

/** diffusers' pipeline loop with a prepared scheduler. */
export function runDiffusers(
  scheduler: LoopScheduler,
  model: LoopModel,
  latents: Tensor,
  options: DenoisingLoopOptions,
): Promise<Tensor> {
  return denoisingLoop(scheduler, model, latents, options);
}
