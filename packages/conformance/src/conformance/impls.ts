/**
 * Runners: one implementation on one model, schedule and noise stream, reduced to a
 * TrajectoryRun. Each runner wraps the model with `observeDenoiser` (or the loop's own
 * observer) so every implementation is recorded the same way.
 */
import {
  type Denoiser,
  type DiscreteModel,
  GaussianMixture,
  namedMixtures,
  type ModelCallEvent,
  type NoiseSource,
  type SamplerObserver,
  type Tensor,
  observeDenoiser,
  scale,
  zerosLike,
  clone,
} from "@edmkit/core";
import {
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
  denoisingLoop,
} from "@edmkit/diffusers";
import { edmSampler, type EdmSamplerOptions, samplers as nvlabsSamplers } from "@edmkit/edm";
import * as kd from "@edmkit/k-diffusion";
import type { Impl } from "../report/schema.js";
import { CallRecorder, type TrajectoryRun } from "./trajectory.js";

export const RING8 = namedMixtures["gmm2d-ring8"]();
export const BIMODAL = namedMixtures["gmm1d-bimodal"]();

export const ring8 = () => new GaussianMixture(RING8);
export const bimodal = () => new GaussianMixture(BIMODAL);

/** Counts draws of an inner source. */
export class CountingNoise implements NoiseSource {
  draws = 0;
  constructor(private readonly inner: NoiseSource) {}
  randn(out: Tensor, request?: Parameters<NoiseSource["randn"]>[1]): Tensor {
    this.draws++;
    return this.inner.randn(out, request);
  }
}

function stepsOnly(rec: CallRecorder): SamplerObserver {
  return { onStep: (e) => rec.onStep(e) };
}

function result(impl: Impl, rec: CallRecorder, out: Tensor, noise: CountingNoise | null): TrajectoryRun {
  return { impl, calls: rec.calls, output: Float64Array.from(out.data), draws: noise?.draws ?? 0 };
}

export type KdSamplerName =
  | "sample_euler"
  | "sample_euler_ancestral"
  | "sample_heun"
  | "sample_dpm_2"
  | "sample_dpm_2_ancestral"
  | "sample_lms"
  | "sample_dpmpp_2s_ancestral"
  | "sample_dpmpp_sde"
  | "sample_dpmpp_2m"
  | "sample_dpmpp_2m_sde"
  | "sample_dpmpp_3m_sde";

/** k-diffusion: x = z * sigmas[0], then the sampler, with its keyword arguments by original name. */
export async function runKd(
  impl: Impl,
  name: KdSamplerName,
  model: Denoiser,
  z: Tensor,
  sigmas: ArrayLike<number>,
  kwargs: Record<string, unknown>,
  noise: NoiseSource | null,
): Promise<TrajectoryRun> {
  const rec = new CallRecorder();
  const counting = noise ? new CountingNoise(noise) : null;
  const m = observeDenoiser(model, rec);
  const x = scale(zerosLike(z), z, sigmas[0]);
  const usesNoiseSampler = ![
    "sample_euler",
    "sample_heun",
    "sample_dpm_2",
    "sample_lms",
    "sample_dpmpp_2m",
  ].includes(name);
  const noiseKw = counting ? (usesNoiseSampler ? { noise_sampler: counting } : { noise: counting }) : {};
  const fn = (kd.samplers as unknown as Record<string, (...a: unknown[]) => Promise<Tensor>>)[name];
  const out = await fn(m, x, Float64Array.from(sigmas), { ...kwargs, ...noiseKw, observer: stepsOnly(rec) });
  return result(impl, rec, out, counting);
}

/** The general EDM sampler (Algorithm 1/2): latents are unit normals, x_0 = z sigma(t_0) s(t_0). */
export async function runEdm(
  impl: Impl,
  model: Denoiser,
  z: Tensor,
  options: EdmSamplerOptions,
  noise: NoiseSource | null,
): Promise<TrajectoryRun> {
  const rec = new CallRecorder();
  const counting = noise ? new CountingNoise(noise) : null;
  const m = observeDenoiser(model, rec);
  const out = await edmSampler(m, z, {
    ...options,
    ...(counting ? { noise: counting } : {}),
    observer: stepsOnly(rec),
  });
  return result(impl, rec, out, counting);
}

/** NVlabs' edm_sampler / ablation_sampler with their original keyword arguments. */
export async function runNvlabs(
  impl: Impl,
  which: "edm_sampler" | "ablation_sampler",
  model: Denoiser,
  z: Tensor,
  kwargs: Record<string, unknown>,
  noise: NoiseSource,
): Promise<TrajectoryRun> {
  const rec = new CallRecorder();
  const counting = new CountingNoise(noise);
  const m = observeDenoiser(model, rec);
  const out = await nvlabsSamplers[which](m, z, kwargs, { randn_like: counting, observer: stepsOnly(rec) });
  return result(impl, rec, out, counting);
}

export type DiffusersClass =
  | "EulerDiscreteScheduler"
  | "HeunDiscreteScheduler"
  | "EulerAncestralDiscreteScheduler";

export function makeScheduler(cls: DiffusersClass, config: Record<string, unknown>) {
  switch (cls) {
    case "EulerDiscreteScheduler":
      return new EulerDiscreteScheduler(config);
    case "HeunDiscreteScheduler":
      return new HeunDiscreteScheduler(config);
    case "EulerAncestralDiscreteScheduler":
      return new EulerAncestralDiscreteScheduler(config);
  }
}

export interface DiffusersRunOptions {
  numInferenceSteps?: number;
  setTimesteps?: { sigmas?: number[]; timesteps?: number[] };
  stepKwargs?: Record<string, number>;
  /** Feed the model another timestep than the loop's t (minimal pairs). */
  timestepFor?: (t: number, sigma: number) => number;
  /** Scale the latents by this instead of initNoiseSigma (minimal pairs). */
  initScale?: number;
}

/**
 * diffusers' pipeline loop. Model calls are mapped back to the denoiser frame:
 * x = scaled input * sqrt(sigma^2 + 1) with the sigma the scheduler held at that step.
 */
export async function runDiffusers(
  impl: Impl,
  cls: DiffusersClass,
  config: Record<string, unknown>,
  model: DiscreteModel,
  z: Tensor,
  opts: DiffusersRunOptions,
  noise: NoiseSource | null,
): Promise<TrajectoryRun> {
  const sched = makeScheduler(cls, config);
  if (opts.setTimesteps) sched.setTimesteps({ ...opts.setTimesteps });
  else sched.setTimesteps(opts.numInferenceSteps ?? 10);
  const sigmas = Float64Array.from(sched.sigmas);
  const rec = new CallRecorder((e: ModelCallEvent) => {
    const s = sigmas[e.step ?? 0];
    const c = Math.sqrt(s * s + 1);
    return { x: Float64Array.from(e.x.data, (v) => v * c), sigma: s };
  });
  const counting = noise ? new CountingNoise(noise) : null;
  const loopModel = opts.timestepFor
    ? async (sample: Tensor, t: number) => {
        const k = sched.stepIndex ?? 0;
        const tt = opts.timestepFor!(t, sigmas[k]);
        return model.predict(sample, new Float64Array(sample.shape[0]).fill(tt));
      }
    : model;
  let latents = z;
  let scaleLatents = true;
  if (opts.initScale !== undefined) {
    latents = scale(clone(z), z, opts.initScale);
    scaleLatents = false;
  }
  const out = await denoisingLoop(sched, loopModel, latents, {
    ...(counting ? { noise: counting } : {}),
    stepKwargs: opts.stepKwargs,
    observer: rec,
    scaleLatents,
  });
  return { impl, calls: rec.calls, output: Float64Array.from(out.data), draws: counting?.draws ?? 0 };
}
