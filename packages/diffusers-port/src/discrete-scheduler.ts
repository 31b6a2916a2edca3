/**
 * What diffusers' Euler, Heun and Euler-ancestral schedulers share, written once: the
 * float32 training tables, the held schedule (float32 sigmas, float32 or float64 timesteps),
 * the step-index bookkeeping (`index_for_timestep`, `_init_step_index`, `set_begin_index`),
 * `init_noise_sigma`, `scale_model_input` and `add_noise`.
 */
import { ArgumentError, type DType, type Tensor, allocate, tensor, torchMath } from "@edmkit/core";
import type { Generator } from "./generator.js";
import { sqrtSigmaSqPlusOneF32 } from "./float32.js";
import { divideSimd } from "./step-kernels.js";
import { ROLE_NAMES, StepBuffers, type StepBufferRole } from "./step-buffers.js";

const f = Math.fround;

export interface SchedulerOutput {
  /** x_{t-1}: the sample for the next loop iteration. */
  prevSample: Tensor;
  /** The denoised estimate x_0 of this step. */
  predOriginalSample: Tensor;
}

export interface StepOutBuffers {
  /** Written with prev_sample instead of allocating (may be the `sample` argument itself). */
  prevSample?: Tensor;
  /** Written with pred_original_sample instead of allocating. */
  predOriginalSample?: Tensor;
}

export interface BaseStepOptions {
  /** Source of the step's random draws (TorchGenerator, one per batch row, or a NoiseSource). */
  generator?: Generator | null;
  /** Preallocated outputs (the denoising loop uses these to step without allocating). */
  out?: StepOutBuffers;
}

export interface SetTimestepsOptions {
  numInferenceSteps?: number | null;
  /** Custom descending timesteps (Euler, Heun). */
  timesteps?: ArrayLike<number> | null;
  /** Custom descending sigmas, ending with the final sigma (Euler only). */
  sigmas?: ArrayLike<number> | null;
}

/** Shape and dtype bookkeeping for a float32 or float64 tensor of given shape. */
export function promote(a: DType, b: DType): DType {
  return a === "float64" || b === "float64" ? "float64" : "float32";
}

export function describeIndex(timesteps: ArrayLike<number>): string {
  const n = timesteps.length;
  const shown = Array.from(timesteps as ArrayLike<number>)
    .slice(0, 8)
    .join(", ");
  return `[${shown}${n > 8 ? `, ... (${n} in all)` : ""}]`;
}

export abstract class DiscreteScheduler {
  /** diffusers' `scheduler.config`: the init arguments plus the extra keys of the source config. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Keys of the source config this class does not use (diffusers logs them as unexpected). */
  readonly ignoredConfigKeys: readonly string[];
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** Number of inference steps of the current schedule (null before setTimesteps). */
  numInferenceSteps: number | null = null;
  /** "scheduler.order": model calls per solver step (1 Euler, 2 Heun). */
  abstract readonly order: number;

  protected sigmasHeld: Float32Array;
  protected timestepsHeld: Float32Array | Float64Array;
  protected stepIndexHeld: number | null = null;
  protected beginIndexHeld: number | null = null;
  /** sigma_j for every training timestep j (float32), diffusers' √((1 − ᾱ)/ᾱ). */
  protected readonly trainSigmas: Float32Array;

  protected constructor(
    readonly className: string,
    resolved: { config: Readonly<Record<string, unknown>>; ignoredKeys: string[] },
    tables: {
      betas: Float32Array;
      alphas: Float32Array;
      alphasCumprod: Float32Array;
      trainSigmas: Float32Array;
    },
  ) {
    this.config = resolved.config;
    this.ignoredConfigKeys = Object.freeze([...resolved.ignoredKeys]);
    this.betas = tables.betas;
    this.alphas = tables.alphas;
    this.alphasCumprod = tables.alphasCumprod;
    this.trainSigmas = tables.trainSigmas;
    this.sigmasHeld = new Float32Array(0);
    this.timestepsHeld = new Float32Array(0);
  }

  /** The resolved constructor config (each scheduler's own type extends this). */
  abstract readonly init: { readonly timestep_spacing?: string; readonly num_train_timesteps: number };

  protected get timestepSpacing(): string {
    return this.init.timestep_spacing ?? "linspace";
  }

  get numTrainTimesteps(): number {
    return this.init.num_train_timesteps;
  }

  /** The sigmas of the current schedule (float32), ending with the final sigma. */
  get sigmas(): Float32Array {
    return this.sigmasHeld;
  }

  /** The timesteps to loop over (float32; Euler-ancestral's construction-time table is float64). */
  get timesteps(): Float32Array | Float64Array {
    return this.timestepsHeld;
  }

  get timestepsDtype(): DType {
    return this.timestepsHeld instanceof Float32Array ? "float32" : "float64";
  }

  /**
   * diffusers' `init_noise_sigma` (a float32 value): the largest sigma for "linspace" and
   * "trailing" spacing, √(max² + 1) in float32 otherwise (so "leading" SD/SDXL
   * configs start at 14.6488, not 14.6146).
   */
  get initNoiseSigma(): number {
    let m = -Infinity;
    for (const s of this.sigmasHeld) {
      if (Number.isNaN(s)) return NaN;
      if (s > m) m = s;
    }
    const spacing = this.timestepSpacing;
    if (spacing === "linspace" || spacing === "trailing") return m;
    return sqrtSigmaSqPlusOneF32(m);
  }

  /** The index of the next step (null until the first scaleModelInput / step). */
  get stepIndex(): number | null {
    return this.stepIndexHeld;
  }

  /** The index set by setBeginIndex (null unless a pipeline set it). */
  get beginIndex(): number | null {
    return this.beginIndexHeld;
  }

  /** diffusers `set_begin_index`: the first step starts at this index instead of searching t. */
  setBeginIndex(beginIndex = 0): void {
    if (!Number.isInteger(beginIndex) || beginIndex < 0) {
      throw new ArgumentError(
        `${this.className}.setBeginIndex: beginIndex must be a non-negative integer, got ${beginIndex}`,
      );
    }
    this.beginIndexHeld = beginIndex;
  }

  /** `len(scheduler)`: the number of training timesteps. */
  get length(): number {
    return this.numTrainTimesteps;
  }

  /**
   * Port of `index_for_timestep(timestep, schedule_timesteps)`: the position of t in the
   * schedule, compared in the schedule's dtype (a float32 schedule compares float32(t)); when
   * t occurs more than once, the SECOND position (diffusers does this so that a run started
   * mid-schedule, e.g. img2img, does not skip a sigma). A t not in the schedule is an error
   * (torch's IndexError in diffusers).
   */
  indexForTimestep(
    timestep: number,
    scheduleTimesteps: Float32Array | Float64Array = this.timestepsHeld,
  ): number {
    const v = scheduleTimesteps instanceof Float32Array ? f(timestep) : timestep;
    let first = -1;
    for (let j = 0; j < scheduleTimesteps.length; j++) {
      if (scheduleTimesteps[j] === v) {
        if (first >= 0) return j;
        first = j;
      }
    }
    if (first >= 0) return first;
    throw new ArgumentError(
      `${this.className}: timestep ${timestep} is not in the schedule ${describeIndex(scheduleTimesteps)}; ` +
        `pass one of scheduler.timesteps (or call setBeginIndex)`,
    );
  }

  /** `_init_step_index`: the begin index when set, else the position of t. */
  protected initStepIndex(timestep: number): void {
    this.stepIndexHeld = this.beginIndexHeld ?? this.indexForTimestep(timestep);
  }

  protected currentStepIndex(who: string, timestep: number, needNext: boolean): number {
    if (!Number.isFinite(timestep))
      throw new ArgumentError(`${this.className}.${who}: timestep must be a finite number, got ${timestep}`);
    if (this.stepIndexHeld === null) this.initStepIndex(timestep);
    const i = this.stepIndexHeld as number;
    const last = this.sigmasHeld.length - (needNext ? 2 : 1);
    if (i > last) {
      throw new ArgumentError(
        `${this.className}.${who}: step index ${i} is past the end of the schedule (${this.sigmasHeld.length} sigmas); ` +
          `call setTimesteps() again before another run`,
      );
    }
    return i;
  }

  /**
   * Port of `scale_model_input`: the sample divided by √(σ² + 1), with the
   * divisor evaluated in float32 on the 0-dim sigma tensor. Sets the step index on the first
   * call like diffusers. The result has the sample's dtype.
   */
  scaleModelInput(sample: Tensor, timestep: number, out?: Tensor): Tensor {
    checkTensor(this.className, "sample", sample, "scaleModelInput");
    const i = this.currentStepIndex("scaleModelInput", timestep, false);
    const c = sqrtSigmaSqPlusOneF32(this.sigmasHeld[i]);
    const o = this.outTensor("scaleModelInput", out, sample.shape, sample.dtype, "out");
    const m = torchMath(sample.dtype);
    const x = sample.data,
      od = o.data,
      n = x.length;
    // large tensors through SIMD (step-kernels.ts), the same divisions
    if (!divideSimd(x, c, od)) for (let k = 0; k < n; k++) od[k] = m.div(x[k], c);
    this.afterScaleModelInput();
    return o;
  }

  protected afterScaleModelInput(): void {}

  /**
   * dtype of prev_sample for a model output and sample of these dtypes: Euler and
   * Euler-ancestral cast back to the model output's dtype; Heun keeps torch's promotion.
   */
  stepDtype(modelOutput: DType, _sample: DType): DType {
    return modelOutput;
  }

  /**
   * Port of `add_noise(original_samples, noise, timesteps)`: original + noise * sigma with
   * sigma from the schedule. Without a begin index each t is looked up in the schedule
   * (`index_for_timestep`, second match for repeated t); with one, the current step index
   * (inpainting, after the first step) or the begin index (img2img, before it) is used for
   * every row. One timestep broadcasts over the batch.
   */
  addNoise(original: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>, out?: Tensor): Tensor {
    const who = `${this.className}.addNoise`;
    checkTensor(who, "original_samples", original);
    checkTensor(who, "noise", noise);
    if (original.data.length !== noise.data.length) {
      throw new ArgumentError(
        `${who}: noise has ${noise.data.length} values, original ${original.data.length}`,
      );
    }
    const ts = typeof timesteps === "number" ? [timesteps] : Array.from(timesteps);
    const rows = original.shape.length === 0 ? 1 : original.shape[0];
    if (ts.length !== 1 && ts.length !== rows) {
      throw new ArgumentError(
        `${who}: ${ts.length} timesteps for a batch of ${rows} rows (give one, or one per row)`,
      );
    }
    let idx: number[];
    if (this.beginIndexHeld === null) idx = ts.map((t) => this.indexForTimestep(t));
    else if (this.stepIndexHeld !== null) idx = ts.map(() => this.stepIndexHeld as number);
    else idx = ts.map(() => this.beginIndexHeld as number);
    const sig = idx.map((i) => {
      if (i >= this.sigmasHeld.length)
        throw new ArgumentError(`${who}: index ${i} is past the ${this.sigmasHeld.length} sigmas`);
      return this.sigmasHeld[i];
    });
    const dtype = promote(original.dtype, noise.dtype);
    const o = this.outTensor("addNoise", out, original.shape, dtype, "out");
    const per = rows === 0 ? 0 : original.data.length / rows;
    const m = torchMath(dtype);
    const x = original.data,
      e = noise.data,
      od = o.data;
    for (let b = 0; b < rows; b++) {
      const s = sig.length === 1 ? sig[0] : sig[b];
      for (let k = b * per; k < (b + 1) * per; k++) od[k] = m.add(x[k], m.mul(e[k], s));
    }
    return o;
  }

  /**
   * Replace the held schedule, as assigning `scheduler.timesteps` / `scheduler.sigmas` does in
   * Python (values are stored as float32). Resets the step and begin index. Used by the
   * fixture replay to run on a recorded schedule; ordinary use calls setTimesteps.
   */
  setSchedule(schedule: { timesteps: ArrayLike<number>; sigmas: ArrayLike<number> }): void {
    this.timestepsHeld = Float32Array.from(schedule.timesteps);
    this.sigmasHeld = Float32Array.from(schedule.sigmas);
    this.resetRunState();
  }

  protected resetRunState(): void {
    this.stepIndexHeld = null;
    this.beginIndexHeld = null;
  }

  /** A caller-given output buffer after checks, or a new tensor. */
  protected outTensor(
    who: string,
    given: Tensor | undefined,
    shape: readonly number[],
    dtype: DType,
    name: string,
  ): Tensor {
    let n = 1;
    for (const d of shape) n *= d;
    if (given) {
      if (given.data.length !== n) {
        throw new ArgumentError(
          `${this.className}.${who}: ${name} has ${given.data.length} values, expected ${n}`,
        );
      }
      if (given.dtype !== dtype) {
        throw new ArgumentError(
          `${this.className}.${who}: ${name} must be ${dtype} (diffusers' result dtype here), got ${given.dtype}`,
        );
      }
      return given;
    }
    return tensor(allocate(dtype, n), shape);
  }

  protected checkStepInputs(
    who: string,
    modelOutput: Tensor,
    sample: Tensor,
    options: object,
    allowed: readonly string[],
  ): void {
    checkTensor(this.className, "model_output", modelOutput, who);
    checkTensor(this.className, "sample", sample, who);
    if (typeof options !== "object" || options === null)
      throw new ArgumentError(`${this.className}.${who}: options must be an object`);
    checkOptionKeys(this.className, options, allowed, "", who);
    if (modelOutput.data.length !== sample.data.length) {
      throw new ArgumentError(
        `${this.className}.${who}: model_output has ${modelOutput.data.length} values but sample has ${sample.data.length} ` +
          `(shapes [${modelOutput.shape.join(", ")}] and [${sample.shape.join(", ")}])`,
      );
    }
  }

  /**
   * A tensor of the scheduler's own for a denoising loop's working buffers (the sample, the
   * model input and output, the step's outputs), one per role and dtype: the same tensor on
   * every call with the same role, dtype and size. For large tensors it lies in the
   * scheduler's SIMD arena (step-buffers.ts), where `step` runs its kernels in place when the
   * sample, the model output and the `out` tensors all come from here (a model writing its
   * output into the tensor it is handed; `out.prevSample` may be the sample itself).
   *
   * Lifetime: the tensor stays valid memory for as long as it is referenced (holding it keeps
   * the scheduler's arena alive), but its values are overwritten by whoever uses the role next;
   * copy what you keep. What `step` returns is always the caller's `out` or a new tensor of its
   * own, never one of these unless the caller passed it.
   */
  stepBuffer(role: StepBufferRole, shape: readonly number[], dtype: DType): Tensor {
    return this.buffers.get(ROLE_NAMES[role], shape, dtype);
  }

  /** A scratch tensor kept between calls (same size and dtype reuse it; large ones in the arena). */
  protected scratch(slot: string, shape: readonly number[], dtype: DType): Tensor {
    return this.buffers.get(slot, shape, dtype);
  }

  /** The scratch, state and loop buffers (step-buffers.ts). */
  protected readonly buffers = new StepBuffers();
}

/**
 * A core Tensor (typed array data, shape, dtype) or a clear error naming the argument; the
 * message names `who` (and `.method` when given, joined only on failure).
 */
export function checkTensor(who: string, name: string, t: unknown, method?: string): asserts t is Tensor {
  const x = t as Tensor;
  if (
    typeof x !== "object" ||
    x === null ||
    !(x.data instanceof Float32Array || x.data instanceof Float64Array) ||
    !Array.isArray(x.shape) ||
    (x.dtype !== "float32" && x.dtype !== "float64")
  ) {
    const w = method ? `${who}.${method}` : who;
    throw new ArgumentError(
      `${w}: ${name} must be a Tensor ({ data: Float32Array | Float64Array, shape, dtype }), got ${describe(t)}`,
    );
  }
}

function describe(v: unknown): string {
  if (v === null || typeof v !== "object") return String(v);
  return v.constructor?.name ?? "an object";
}

/** Refuse option keys a diffusers method does not take (its TypeError for an unexpected keyword). */
export function checkOptionKeys(
  who: string,
  options: object,
  allowed: readonly string[],
  note = "",
  method?: string,
): void {
  for (const k in options) {
    if ((options as Record<string, unknown>)[k] !== undefined && !allowed.includes(k)) {
      const w = method ? `${who}.${method}` : who;
      throw new ArgumentError(`${w}: unknown option "${k}"; this method takes ${allowed.join(", ")}${note}`);
    }
  }
}

/** An array of finite-or-infinite numbers (no NaN, no strings) or a clear error. */
export function checkNumbers(who: string, name: string, a: ArrayLike<number> | null): void {
  if (a === null) return;
  if (typeof a !== "object" || typeof a.length !== "number")
    throw new ArgumentError(`${who}: ${name} must be an array of numbers`);
  for (let i = 0; i < a.length; i++) {
    if (typeof a[i] !== "number" || Number.isNaN(a[i])) {
      throw new ArgumentError(
        `${who}: ${name}[${i}] must be a number, got ${String(a[i])} (in ${describeIndex(a)})`,
      );
    }
  }
}
