/**
 * The conformance suite's view of the runner table: one implementation on one model, schedule
 * and noise stream, reduced to a TrajectoryRun. Each run wraps the model with
 * `observeDenoiser` (or the loop's own observer) so every implementation is recorded the
 * same way, and counts the noise draws it takes.
 */
import {
  clone,
  type Denoiser,
  type DiscreteModel,
  type ModelCallEvent,
  type NoiseSource,
  observeDenoiser,
  type SamplerObserver,
  scale,
  type Tensor,
  zerosLike,
} from "@edmkit/core";
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  KDPM2AncestralDiscreteScheduler,
  KDPM2DiscreteScheduler,
  type SignedSchedulerName,
} from "@edmkit/diffusers";
import type { EdmSamplerOptions, Solver } from "@edmkit/edm";
import type { SamplerName as KSamplerName } from "@edmkit/k-diffusion";
import { CallRecorder, type TrajectoryRun } from "../conformance/trajectory.js";
import type { Impl } from "../report/schema.js";
import {
  type DrivenScheduler,
  kDiffusionKwargs,
  planEdm,
  prepareScheduler,
  runDiffusers as loop,
  runKDiffusion,
  runNvlabs as nvlabs,
} from "./run.js";
import { type NvlabsSamplerName, runner } from "./table.js";
import { type Uncast, uncastScheduler } from "./uncast.js";

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

/** k-diffusion: x = z * sigmas[0], then the sampler, with its keyword arguments by original name. */
export async function runKd(
  impl: Impl,
  name: KSamplerName,
  model: Denoiser,
  z: Tensor,
  sigmas: ArrayLike<number>,
  kwargs: Record<string, unknown>,
  noise: NoiseSource | null,
): Promise<TrajectoryRun> {
  const rec = new CallRecorder();
  const counting = noise ? new CountingNoise(noise) : null;
  const x = scale(zerosLike(z), z, sigmas[0]);
  const entry = runner("k-diffusion", `k-diffusion/${name}`);
  const kw = kDiffusionKwargs(entry, kwargs, counting, stepsOnly(rec));
  const out = await runKDiffusion(entry, observeDenoiser(model, rec), x, { sigmas }, kw);
  return result(impl, rec, out, counting);
}

/** The general EDM sampler (Algorithm 1/2): latents are unit normals, x_0 = z sigma(t_0) s(t_0). */
export async function runEdm(
  impl: Impl,
  model: Denoiser,
  z: Tensor,
  options: EdmSamplerOptions & { solver: Solver },
  noise: NoiseSource | null,
): Promise<TrajectoryRun> {
  const rec = new CallRecorder();
  const counting = noise ? new CountingNoise(noise) : null;
  const m = observeDenoiser(model, rec);
  const plan = planEdm(runner("edm", `edm/${options.solver}`), m, {
    ...options,
    ...(counting ? { noise: counting } : {}),
    observer: stepsOnly(rec),
  });
  return result(impl, rec, await plan.run(z), counting);
}

/** NVlabs' edm_sampler / ablation_sampler with their original keyword arguments. */
export async function runNvlabs(
  impl: Impl,
  which: NvlabsSamplerName,
  model: Denoiser,
  z: Tensor,
  kwargs: Record<string, unknown>,
  noise: NoiseSource,
): Promise<TrajectoryRun> {
  const rec = new CallRecorder();
  const counting = new CountingNoise(noise);
  const m = observeDenoiser(model, rec);
  const out = await nvlabs(runner("nvlabs", `edm/${which}`), m, z, kwargs, {
    randn_like: counting,
    observer: stepsOnly(rec),
  });
  return result(impl, rec, out, counting);
}

export interface DiffusersRunOptions {
  numInferenceSteps?: number;
  setTimesteps?: { sigmas?: number[]; timesteps?: number[] };
  stepKwargs?: Record<string, number>;
  /** Feed the model another timestep than the loop's t (minimal pairs). */
  timestepFor?: (t: number, sigma: number) => number;
  /** Scale the latents by this (or the scheduler's sigma_max) instead of initNoiseSigma (minimal pairs). */
  initScale?: number | "sigma_max";
  /** Also told every model call and step (after the recorder; step events carry the live prev_sample). */
  observer?: SamplerObserver;
  /** float32 casts of the scheduler undone (cause-ladder rungs, uncast.ts). */
  uncast?: readonly Uncast[];
}

/**
 * The noise level (k-diffusion's sigma) a scheduler gives the model at this call, read from
 * its state after scaleModelInput: the held sigma (KDPM2: the log-midpoint in its second
 * stage), or for the alpha schedulers (DDIM, DDPM) sqrt((1 - abar_t) / abar_t) at the loop's t.
 */
export function callSigma(sched: DrivenScheduler, i: number, t: number): number {
  if (sched instanceof DDIMScheduler || sched instanceof DDPMScheduler) {
    const a = sched.alphasCumprod[Math.round(t)];
    return Math.sqrt((1 - a) / a);
  }
  if (sched instanceof KDPM2DiscreteScheduler || sched instanceof KDPM2AncestralDiscreteScheduler) {
    const k = sched.stepIndex ?? 0;
    if (sched.stateInFirstOrder) return sched.sigmas[k];
    return sched.sigmasInterpol[sched instanceof KDPM2DiscreteScheduler ? k : k - 1];
  }
  if (sched instanceof DPMSolverMultistepScheduler) return sched.sigmas[sched.stepIndex ?? 0];
  return sched.sigmas[i];
}

/**
 * diffusers' pipeline loop (discrete-time eps / v models). Model calls are mapped back to
 * the denoiser frame: x = model input * sqrt(sigma^2 + 1) with the sigma the scheduler held
 * at that call (its scaled input for the sigma schedulers, the VP-frame sample for DDIM,
 * DDPM and DPM-Solver, whose inputs are unscaled).
 */
export async function runDiffusers(
  impl: Impl,
  cls: SignedSchedulerName,
  config: Record<string, unknown>,
  model: DiscreteModel,
  z: Tensor,
  opts: DiffusersRunOptions,
  noise: NoiseSource | null,
): Promise<TrajectoryRun> {
  const sched = prepareScheduler(
    runner("diffusers", `diffusers/${cls}`),
    config,
    {},
    opts.setTimesteps ?? opts.numInferenceSteps ?? 10,
  );
  const callSigmas: number[] = [];
  const rec = new CallRecorder((e: ModelCallEvent) => {
    const s = callSigmas[e.index ?? 0];
    const c = Math.sqrt(s * s + 1);
    return { x: Float64Array.from(e.x.data, (v) => v * c), sigma: s };
  });
  const counting = noise ? new CountingNoise(noise) : null;
  const timestepFor = opts.timestepFor;
  const loopModel = async (sample: Tensor, t: number) => {
    const s = callSigma(sched, callSigmas.length, t);
    callSigmas.push(s);
    const tt = timestepFor ? timestepFor(t, s) : t;
    return model.predict(sample, new Float64Array(sample.shape[0]).fill(tt));
  };
  let latents = z;
  let scaleLatents = true;
  if (opts.initScale !== undefined) {
    const sigmaMax = "sigmas" in sched ? sched.sigmas[0] : sched.initNoiseSigma;
    latents = scale(clone(z), z, opts.initScale === "sigma_max" ? sigmaMax : opts.initScale);
    scaleLatents = false;
  }
  const driven = opts.uncast?.length
    ? uncastScheduler(sched as Parameters<typeof uncastScheduler>[0], opts.uncast)
    : sched;
  const out = await loop(driven, loopModel, latents, {
    ...(counting ? { noise: counting } : {}),
    stepKwargs: opts.stepKwargs,
    observer: opts.observer ? both(rec, opts.observer) : rec,
    scaleLatents,
  });
  return result(impl, rec, out, counting);
}

function both(a: SamplerObserver, b: SamplerObserver): SamplerObserver {
  return {
    onModelCall: (e) => {
      a.onModelCall?.(e);
      b.onModelCall?.(e);
    },
    onStep: (e) => {
      a.onStep?.(e);
      b.onStep?.(e);
    },
  };
}

/** A written-out loop (variants, Song et al.) recorded the same way as the ports. */
export async function runLoop(
  impl: Impl,
  model: Denoiser,
  body: (m: Denoiser, track: { step: number }, noise: NoiseSource) => Promise<Tensor>,
  noise: NoiseSource,
): Promise<TrajectoryRun> {
  const rec = new CallRecorder();
  const counting = new CountingNoise(noise);
  const out = await body(observeDenoiser(model, rec), rec, counting);
  return result(impl, rec, out, counting);
}
