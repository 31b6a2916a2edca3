/**
 * The denoising loop of a diffusers pipeline (e.g. StableDiffusionPipeline.__call__), without
 * guidance or decoding:
 *
 * the latents are scaled by the scheduler's initial noise sigma; then for every timestep the
 * scheduler scales the model input, the model is called on it, and the scheduler's step turns
 * the model output into the next sample.
 *
 * The working buffers are the scheduler's `stepBuffer`s where it has them (for large tensors in
 * its SIMD arena, where step's kernels run in place) or allocated once per call; steps write
 * into them in place (no allocation per step beyond what the model itself allocates). The
 * result is a tensor of its own. Observers see every model call and every step with
 * diffusers' names, which is what fixture recording compares.
 */
import { allFinite, ArgumentError, checkFiniteModelOutput } from "@edmkit/core";
import {
  type DType,
  type DiscreteModel,
  type NoiseSource,
  type SamplerObserver,
  type Tensor,
  allocate,
  scale,
  tensor,
} from "@edmkit/core";
import { type SchedulerOutput, type StepOutBuffers, checkTensor } from "./discrete-scheduler.js";
import type { StepBufferRole } from "./step-buffers.js";
import type { Generator } from "./generator.js";

/** A model as the loop calls it: (scaled sample, timestep) -> output, or a core DiscreteModel. */
export type LoopModel = ((sample: Tensor, t: number) => Promise<Tensor> | Tensor) | DiscreteModel;

/** The scheduler surface the loop uses (all three ported schedulers have it). */
export interface LoopScheduler {
  readonly className: string;
  readonly timesteps: Float32Array | Float64Array;
  readonly initNoiseSigma: number;
  readonly stepIndex: number | null;
  readonly stateInFirstOrder?: boolean;
  scaleModelInput(sample: Tensor, t: number, out?: Tensor): Tensor;
  /**
   * The scheduler's own working buffer for a role (DiscreteScheduler.stepBuffer: for large
   * tensors in its SIMD arena, where step runs in place); the loop allocates its own without it.
   */
  stepBuffer?(role: StepBufferRole, shape: readonly number[], dtype: DType): Tensor;
  /** dtype of prev_sample for a model output / sample dtype pair. */
  stepDtype(modelOutput: DType, sample: DType): DType;
  step(
    modelOutput: Tensor,
    t: number,
    sample: Tensor,
    options?: object,
  ): Pick<SchedulerOutput, "prevSample"> & { predOriginalSample?: Tensor };
}

export interface EulerStepKwargs {
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
}

export interface DenoisingLoopOptions {
  /** Noise for steps that draw it: a TorchGenerator, one per batch row, or a NoiseSource. */
  generator?: Generator;
  /** Same as `generator` (a NoiseSource, e.g. recorded draws). */
  noise?: NoiseSource;
  /** Extra step() arguments (Euler's churn: sChurn, sTmin, sTmax, sNoise). */
  stepKwargs?: EulerStepKwargs;
  observer?: SamplerObserver;
  /** Loop over these instead of scheduler.timesteps (e.g. a tail of it for img2img). */
  timesteps?: ArrayLike<number>;
  /** Multiply the latents by initNoiseSigma first (default true; false for prepared latents). */
  scaleLatents?: boolean;
}

/** The buffers the loop uses (prev_sample goes into the sample's). */
type LoopRole = Exclude<StepBufferRole, "prevSample">;

function isDiscreteModel(m: LoopModel): m is DiscreteModel {
  return typeof m === "object" && m !== null && typeof (m as DiscreteModel).predict === "function";
}

/**
 * Run a pipeline-style denoising loop and return the final sample (a new tensor in the
 * latents' dtype, or the model output's dtype after the first step, as diffusers returns it).
 * observer.onModelCall gets `{index, step, x: scaled input, timestep: t per row, out}`;
 * observer.onStep gets `{i, fields: {t, step_index_after, phase (Heun: 1 predictor, 2
 * corrector), prev_sample, pred_original_sample}}`. Event tensors are live buffers: copy them
 * to keep them.
 */
export async function denoisingLoop(
  scheduler: LoopScheduler,
  model: LoopModel,
  latents: Tensor,
  options: DenoisingLoopOptions = {},
): Promise<Tensor> {
  const who = `denoisingLoop(${scheduler.className})`;
  checkTensor(who, "latents", latents);
  if (!allFinite(latents.data)) throw new ArgumentError(`${who}: latents hold NaN or infinity`);
  if (typeof model !== "function" && !isDiscreteModel(model)) {
    throw new ArgumentError(`${who}: model must be a function (sample, t) => Tensor or a DiscreteModel`);
  }
  if (options.generator !== undefined && options.noise !== undefined) {
    throw new ArgumentError(`${who}: give generator or noise, not both`);
  }
  const generator = options.generator ?? options.noise;
  const timesteps = options.timesteps ?? scheduler.timesteps;
  const observer = options.observer;
  const shape = latents.shape;
  const rows = shape.length === 0 ? 1 : shape[0];
  const n = latents.data.length;

  // One buffer per role and dtype, made on first use: steps write prev_sample in place (the
  // kernels read each element before writing it), so x needs no second buffer. They are the
  // scheduler's (stepBuffer: large ones in its SIMD arena, so step's kernels run in place on
  // them and on the output of a model writing into the buffer it is handed) or, for a scheduler
  // without stepBuffer, the loop's own.
  const own: [Partial<Record<LoopRole, Tensor>>, Partial<Record<LoopRole, Tensor>>] = [{}, {}];
  const buffer = (role: LoopRole, dtype: DType): Tensor =>
    scheduler.stepBuffer?.(role, shape, dtype) ??
    (own[dtype === "float64" ? 1 : 0][role] ??= tensor(allocate(dtype, n), shape));
  let x = buffer("sample", latents.dtype);
  if (options.scaleLatents === false) x.data.set(latents.data);
  else scale(x, latents, scheduler.initNoiseSigma);
  const tRow = new Float64Array(rows);
  const stepOptions: Record<string, unknown> = { ...(options.stepKwargs ?? {}) };
  if (generator !== undefined) stepOptions.generator = generator;
  const out: StepOutBuffers = {};
  stepOptions.out = out;

  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i];
    const xScaled = scheduler.scaleModelInput(x, t, buffer("modelInput", x.dtype));
    tRow.fill(t);
    const o = isDiscreteModel(model)
      ? await model.predict(xScaled, tRow, buffer("modelOutput", xScaled.dtype))
      : await model(xScaled, t);
    if (!o || o.data.length !== n) {
      throw new ArgumentError(
        `${who}: the model returned ${o ? o.data.length : "no"} values at step ${i}, expected ${n}`,
      );
    }
    observer?.onModelCall?.({ index: i, step: i, x: xScaled, timestep: tRow, out: o });
    // the NaN rule (docs/reliability.md) lives here, not in step(): diffusers' step() returns
    // NaN silently, and the port's step() stays faithful to it
    const sigmas = (scheduler as { sigmas?: ArrayLike<number> }).sigmas;
    checkFiniteModelOutput(who, i, sigmas?.[scheduler.stepIndex ?? 0] ?? Number.NaN, o, xScaled);

    const phase = scheduler.stateInFirstOrder === undefined ? undefined : scheduler.stateInFirstOrder ? 1 : 2;
    const target = scheduler.stepDtype(o.dtype, x.dtype);
    out.prevSample = buffer("sample", target);
    out.predOriginalSample = buffer("predOriginalSample", target);
    const res = scheduler.step(o, t, x, stepOptions);
    x = res.prevSample;
    observer?.onStep?.({
      i,
      fields: {
        t,
        step_index_after: scheduler.stepIndex,
        ...(phase !== undefined ? { phase } : {}),
        prev_sample: res.prevSample,
        pred_original_sample: res.predOriginalSample,
      },
    });
  }
  const result = tensor(allocate(x.dtype, n), shape);
  result.data.set(x.data);
  return result;
}
