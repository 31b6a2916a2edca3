/**
 * What diffusers' KDPM2DiscreteScheduler and KDPM2AncestralDiscreteScheduler share (and the
 * part of `set_timesteps` LMSDiscreteScheduler shares with them): the numpy stage of the
 * schedule (spaced timesteps, np.interp sigmas, Karras / exponential / beta conversion with
 * `_sigma_to_t`), the torch float32 stage of the interleaved midpoint schedule, the
 * `_sigma_to_t` that runs on torch float32 tensors, and the two-stage state.
 */
import { type DType, type Tensor, libcMath, roundHalfEven, torchMath } from "@edmkit/core";
import type { TrainingTables } from "./betas.js";
import { type ResolvedConfig, resolveConfig } from "./config.js";
import {
  type BaseStepOptions,
  DiscreteScheduler,
  checkOptionKeys,
  checkTensor,
  promote,
} from "./discrete-scheduler.js";
import {
  type KDPM2DiscreteConfig,
  type KDPM2DiscreteConfigInput,
  checkOneSigmaSchedule,
  kdpm2DiscreteConfigSchema,
} from "./family-config.js";
import { sqrtSigmaSqPlusOneF32 } from "./float32.js";
import {
  betaSigmas,
  exponentialSigmas,
  interpolateSigmas,
  karrasSigmas,
  logSigmaTable,
  sigmaToT,
  spacedTimesteps,
} from "./spacing.js";
import { trainingTables } from "./betas.js";
import type { SchedulerConfigJson } from "./config.js";

const f = Math.fround;
const T32 = torchMath("float32");

/** The config keys the Karras-family `set_timesteps` reads. */
export interface SigmaScheduleConfig {
  timestep_spacing: string;
  steps_offset: number;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
}

/**
 * The numpy stage of `set_timesteps` in KDPM2, KDPM2-ancestral and LMS: float32 spaced
 * timesteps, float64 `np.interp` sigmas from the float32 table, or Karras / exponential /
 * beta sigmas with their timesteps from `_sigma_to_t` (float64; KDPM2 rounds the Karras ones
 * half-to-even, LMS does not). `limits` are the sigma_min / sigma_max the conversion reads
 * from `self.config` (null: the ends of the interpolated sigmas).
 */
export function spacedSigmaSchedule(
  who: string,
  c: SigmaScheduleConfig,
  numInferenceSteps: number,
  numTrainTimesteps: number,
  trainSigmas: Float32Array,
  opts: {
    roundKarras: boolean;
    karrasLimits: [number | null, number | null];
    limits: [number | null, number | null];
  },
): { timesteps: Float32Array | Float64Array; sigmas: Float64Array } {
  const N = numInferenceSteps;
  const spaced = spacedTimesteps(who, c.timestep_spacing, N, numTrainTimesteps, c.steps_offset);
  const base = interpolateSigmas(spaced, trainSigmas);
  let converted: Float64Array | null = null;
  let round = false;
  if (c.use_karras_sigmas) {
    converted = karrasSigmas(base, N, opts.karrasLimits[0], opts.karrasLimits[1]);
    round = opts.roundKarras;
  } else if (c.use_exponential_sigmas) converted = exponentialSigmas(base, N, opts.limits[0], opts.limits[1]);
  else if (c.use_beta_sigmas) converted = betaSigmas(base, N, opts.limits[0], opts.limits[1]);
  if (converted === null) return { timesteps: spaced, sigmas: base };
  const logSig = logSigmaTable(trainSigmas);
  const ts = new Float64Array(converted.length);
  for (let i = 0; i < ts.length; i++) {
    const t = sigmaToT(converted[i], logSig);
    ts[i] = round ? roundHalfEven(t) : t;
  }
  return { timesteps: ts, sigmas: converted };
}

/**
 * diffusers `_sigma_to_t(sigma, log_sigmas)` as KDPM2 calls it on the midpoint sigmas: there
 * `sigma` is a 0-dim float32 torch tensor and `log_sigmas` a float32 torch tensor, so numpy's
 * `maximum` and `log` see a 0-dim float32 array (whose log is the C library's correctly
 * rounded `logf`, not the SIMD kernel that made the table; established on the fixtures'
 * midpoint timesteps), hand back tensors, and every later operation is a float32 torch op: the bracket is the last
 * table entry <= log sigma (clipped to T-2), `w = (low - log_sigma) / (low - high)` clamped
 * to [0, 1], and `t = (1 - w) * low_idx + w * high_idx`, all rounded to float32. NaN in, NaN out.
 */
export function sigmaToTFloat32(sigma: number, logSigmas: Float32Array): number {
  const n = logSigmas.length;
  const s = f(sigma);
  const ls = f(libcMath.log(s > f(1e-10) || Number.isNaN(s) ? s : f(1e-10)));
  let lowIdx = 0;
  for (let j = 0; j < n; j++) if (ls >= logSigmas[j]) lowIdx = j;
  lowIdx = Math.min(lowIdx, n - 2);
  const low = logSigmas[lowIdx],
    high = logSigmas[lowIdx + 1];
  let w = f(f(low - ls) / f(low - high));
  if (!Number.isNaN(w)) w = Math.min(Math.max(w, 0), 1);
  return f(f(f(1 - w) * lowIdx) + f(w * (lowIdx + 1)));
}

/** `torch.cat([a[:1], a[1:].repeat_interleave(2), a[-1:]])` of a float32 vector. */
export function interleaveRepeat(a: Float32Array): Float32Array {
  const n = a.length;
  const out = new Float32Array(n === 0 ? 0 : 2 * n);
  if (n === 0) return out;
  out[0] = a[0];
  for (let i = 1; i < n; i++) out[2 * i - 1] = out[2 * i] = a[i];
  out[out.length - 1] = a[n - 1];
  return out;
}

/** The inverse of `interleaveRepeat`: the N + 1 step sigmas of an interleaved 2N + 2 table. */
export function deinterleave(a: ArrayLike<number>): Float32Array {
  const m = a.length / 2;
  const out = new Float32Array(m);
  if (m === 0) return out;
  out[0] = a[0];
  for (let i = 1; i < m; i++) out[i] = a[2 * i - 1];
  return out;
}

/** `sigmas.log().lerp(other.log(), 0.5).exp()` in float32 (torch's SLEEF log / exp and lerp). */
export function logMidpointsF32(a: Float32Array, b: ArrayLike<number>): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = T32.exp(T32.lerp(T32.log(a[i]), T32.log(b[i]), 0.5));
  return out;
}

export type KDPM2StepOptions = BaseStepOptions;

/**
 * sigma_min / sigma_max as the Karras-family conversions read them from `self.config` (a
 * source config's extra key kept by `from_config`), or null.
 */
export function configSigma(
  className: string,
  config: Readonly<Record<string, unknown>>,
  key: "sigma_min" | "sigma_max",
): number | null {
  const v = config[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number")
    throw new TypeError(
      `${className}.setTimesteps: config ${key} must be a number or null, got ${JSON.stringify(v)}`,
    );
  return v;
}

export interface KDPM2SetTimestepsOptions {
  numInferenceSteps?: number | null;
  /** diffusers' `num_train_timesteps` argument of set_timesteps (spacing range; default from config). */
  numTrainTimesteps?: number | null;
}

/**
 * The two KDPM2 schedulers: constructor (with diffusers' `set_timesteps(T)` at the end),
 * `set_timesteps`, `scale_model_input` (sigma of the stage), the held first-stage sample.
 */
export abstract class KDPM2Base extends DiscreteScheduler {
  readonly order = 2;
  readonly init: KDPM2DiscreteConfig;
  /** sigmas_interpol, interleaved like `sigmas` (float32). */
  protected interpolHeld: Float32Array = new Float32Array(0);
  /** The first stage's sample, copied (the loop overwrites its x buffer in place). */
  protected sampleHeld: Tensor | null = null;
  /** The train-length log-sigma table (numpy float32 log of the float32 sigmas). */
  protected readonly logSigmas: Float32Array;
  private constructing = true;

  protected constructor(
    className: string,
    config: SchedulerConfigJson<KDPM2DiscreteConfigInput>,
    overrides: Partial<KDPM2DiscreteConfigInput>,
  ) {
    const resolved: ResolvedConfig<KDPM2DiscreteConfig> = resolveConfig(
      className,
      kdpm2DiscreteConfigSchema,
      config,
      overrides,
    );
    const c = resolved.init;
    checkOneSigmaSchedule(className, c);
    const tables: TrainingTables = trainingTables(className, c, [
      "linear",
      "scaled_linear",
      "squaredcos_cap_v2",
    ]);
    super(className, resolved, tables);
    this.init = c;
    this.logSigmas = logSigmaTable(tables.trainSigmas);
    this.setTimesteps({ numInferenceSteps: c.num_train_timesteps, numTrainTimesteps: c.num_train_timesteps });
    this.constructing = false;
  }

  /** diffusers' `state_in_first_order`: no first-stage sample held. */
  get stateInFirstOrder(): boolean {
    return this.sampleHeld === null;
  }

  /** The interleaved midpoint sigmas (`sigmas_interpol`, float32). */
  get sigmasInterpol(): Float32Array {
    return this.interpolHeld;
  }

  /** The sample the first stage started from (null in first-order state). */
  get sample(): Tensor | null {
    return this.sampleHeld;
  }

  /**
   * The midpoint table of the N + 1 step sigmas (float32, not interleaved) and extra tables
   * the subclass keeps; `step` sigmas end with 0.
   */
  protected abstract buildStageTables(sigmas: Float32Array): Float32Array;

  /** Which midpoint timesteps join the step timesteps (KDPM2: [1:-1], ancestral: [:-2]). */
  protected abstract readonly midpointOffset: 0 | 1;

  /**
   * Port of `set_timesteps(num_inference_steps, device, num_train_timesteps)`: the numpy
   * stage (`spacedSigmaSchedule`, Karras timesteps rounded), float32 sigmas with a final 0,
   * the float32 midpoint table (the subclass's rule), both interleaved as
   * `[s0, s1, s1, ..., s_N, s_N, s_N]` (2N + 2); the midpoint timesteps by the float32
   * `_sigma_to_t`, cast to the step timesteps' dtype (float32, or float64 after a Karras /
   * exponential / beta conversion), interleaved as `[t0, tm, t1, tm, t2, ...]` (2N - 1).
   */
  setTimesteps(arg: number | KDPM2SetTimestepsOptions): void {
    const who = `${this.className}.setTimesteps`;
    const o: KDPM2SetTimestepsOptions = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(
      who,
      o,
      ["numInferenceSteps", "numTrainTimesteps"],
      " (diffusers' KDPM2 set_timesteps has no custom timesteps or sigmas)",
    );
    const N = o.numInferenceSteps;
    if (typeof N !== "number" || !Number.isInteger(N) || N < 1)
      throw new RangeError(`${who}: numInferenceSteps must be a positive integer, got ${String(N)}`);
    const T = o.numTrainTimesteps || this.init.num_train_timesteps;
    if (!Number.isInteger(T) || T < 2)
      throw new RangeError(`${who}: numTrainTimesteps must be an integer >= 2, got ${T}`);
    this.numInferenceSteps = N;
    const limits: [number | null, number | null] = [
      this.extraSigma("sigma_min"),
      this.extraSigma("sigma_max"),
    ];
    const { timesteps, sigmas: base } = spacedSigmaSchedule(who, this.init, N, T, this.trainSigmas, {
      roundKarras: true,
      karrasLimits: limits,
      limits,
    });
    const sigmas = new Float32Array(base.length + 1);
    sigmas.set(base);
    this.applyStepSigmas(sigmas, timesteps);
  }

  /** Build every held table from the N + 1 float32 step sigmas and the N step timesteps. */
  private applyStepSigmas(sigmas: Float32Array, timesteps: ArrayLike<number>): void {
    const mid = this.buildStageTables(sigmas);
    this.sigmasHeld = interleaveRepeat(sigmas);
    this.interpolHeld = interleaveRepeat(mid);
    const n = timesteps.length;
    const ts =
      timesteps instanceof Float64Array
        ? new Float64Array(Math.max(2 * n - 1, 0))
        : new Float32Array(Math.max(2 * n - 1, 0));
    if (n > 0) ts[0] = timesteps[0];
    for (let i = 1; i < n; i++) {
      ts[2 * i - 1] = sigmaToTFloat32(mid[i - 1 + this.midpointOffset], this.logSigmas);
      ts[2 * i] = timesteps[i];
    }
    this.timestepsHeld = ts;
    this.resetRunState();
  }

  /**
   * Replace the held schedule (as assigning `scheduler.timesteps` / `scheduler.sigmas` does):
   * the interleaved sigmas give the step sigmas, from which the midpoint tables are rebuilt;
   * the timesteps are kept as given (float32 unless given as a Float64Array).
   */
  override setSchedule(schedule: { timesteps: ArrayLike<number>; sigmas: ArrayLike<number> }): void {
    const sigmas = deinterleave(schedule.sigmas);
    this.sigmasHeld = Float32Array.from(schedule.sigmas);
    this.interpolHeld = interleaveRepeat(this.buildStageTables(sigmas));
    this.timestepsHeld =
      schedule.timesteps instanceof Float64Array
        ? Float64Array.from(schedule.timesteps)
        : Float32Array.from(schedule.timesteps);
    this.resetRunState();
  }

  /**
   * diffusers' Karras / exponential / beta conversions read sigma_min / sigma_max from
   * `self.config` when present; KDPM2 takes no such parameters, but `from_config` keeps a
   * source config's extra keys there after `__init__` (whose own schedule is built without
   * them), so a later set_timesteps uses them. Reproduced.
   */
  private extraSigma(key: "sigma_min" | "sigma_max"): number | null {
    return this.constructing ? null : configSigma(this.className, this.config, key);
  }

  /** The sigma `scale_model_input` divides by in the second stage (KDPM2: interpol[i], ancestral: interpol[i-1]). */
  protected abstract secondStageInputSigma(i: number): number;

  /**
   * Port of `scale_model_input(sample, timestep)`: sample / (sigma**2 + 1)**0.5 (float32
   * divisor) with sigma = sigmas[i] in the first stage and the midpoint sigma in the second.
   */
  override scaleModelInput(sample: Tensor, timestep: number, out?: Tensor): Tensor {
    checkTensor(this.className, "sample", sample, "scaleModelInput");
    const i = this.currentStepIndex("scaleModelInput", timestep, false);
    const sigma = this.stateInFirstOrder ? this.sigmasHeld[i] : this.secondStageInputSigma(i);
    const c = sqrtSigmaSqPlusOneF32(sigma);
    const o = this.outTensor("scaleModelInput", out, sample.shape, sample.dtype, "out");
    const r = torchMath(sample.dtype).r;
    const x = sample.data,
      od = o.data;
    for (let k = 0; k < x.length; k++) od[k] = r(x[k] / c);
    return o;
  }

  override stepDtype(modelOutput: DType, sample: DType): DType {
    return promote(modelOutput, sample);
  }

  protected override resetRunState(): void {
    super.resetRunState();
    this.sampleHeld = null;
  }

  /** Check prediction_type the way KDPM2's step does (sample: NotImplementedError). */
  protected predictionMode(): 0 | 1 {
    const pt = this.init.prediction_type;
    if (pt === "epsilon") return 0;
    if (pt === "v_prediction") return 1;
    if (pt === "sample")
      throw new Error(
        `${this.className}.step: prediction_type "sample" is not implemented (diffusers raises NotImplementedError)`,
      );
    throw new Error(
      `${this.className}.step: prediction_type ${JSON.stringify(pt)} must be one of "epsilon" or "v_prediction"`,
    );
  }

  /**
   * The update both KDPM2 steps make, in the promoted dtype (sigmas are float32 values): x0
   * from the output at `sigmaIn` (epsilon `x - sigma eps`; v `v * (-sigma/(sigma**2+1)**0.5)
   * + x/(sigma**2+1)`), d = (x - x0) / sigmaIn, prev = base + d * dt (base: this sample in the
   * first stage, the held one in the second), plus `noise * noiseScale` when given. The first
   * stage holds the sample; the second releases it. Advances the step index.
   */
  protected stageStep(
    modelOutput: Tensor,
    sample: Tensor,
    out: KDPM2StepOptions["out"],
    i: number,
    sigmaIn: number,
    dt: number,
    noise: { data: ArrayLike<number>; scale: number } | null,
  ): { prevSample: Tensor; predOriginalSample: Tensor } {
    const who = "step";
    const mode = this.predictionMode();
    const first = this.stateInFirstOrder;
    const dtype = promote(modelOutput.dtype, sample.dtype);
    const { r } = torchMath(dtype);
    const prev = this.outTensor(who, out?.prevSample, modelOutput.shape, dtype, "out.prevSample");
    const pred = this.outTensor(
      who,
      out?.predOriginalSample,
      modelOutput.shape,
      dtype,
      "out.predOriginalSample",
    );
    const base = first ? sample : (this.sampleHeld as Tensor);
    if (base.data.length !== sample.data.length)
      throw new RangeError(
        `${this.className}.step: the second stage's sample size differs from the first stage's`,
      );
    const vDen = f(f(sigmaIn * sigmaIn) + 1);
    const vOut = f(-sigmaIn / sqrtSigmaSqPlusOneF32(sigmaIn));
    const mo = modelOutput.data,
      x = sample.data,
      b = base.data,
      pd = pred.data,
      xd = prev.data,
      n = mo.length;
    const e = noise?.data,
      up = noise?.scale ?? 0;
    // b is read before prev (which may alias the loop's x buffer, i.e. `sample`) is written
    if (first) this.holdSample(sample);
    for (let k = 0; k < n; k++) {
      const s = x[k],
        m = mo[k];
      const x0 = mode === 0 ? r(s - r(sigmaIn * m)) : r(r(m * vOut) + r(s / vDen));
      const d = r(r(s - x0) / sigmaIn);
      pd[k] = x0;
      const y = r(b[k] + r(d * dt));
      xd[k] = e === undefined ? y : r(y + r(e[k] * up));
    }
    if (!first) this.sampleHeld = null;
    this.stepIndexHeld = i + 1;
    return { prevSample: prev, predOriginalSample: pred };
  }

  /** Copy the first stage's sample into a kept buffer (diffusers keeps the tensor itself). */
  protected holdSample(sample: Tensor): void {
    const held = this.scratch(sample.dtype === "float64" ? "held64" : "held32", sample.shape, sample.dtype);
    held.data.set(sample.data);
    this.sampleHeld = held;
  }
}
