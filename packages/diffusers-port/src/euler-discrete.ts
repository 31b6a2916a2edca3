/**
 * Port of diffusers `EulerDiscreteScheduler` (schedulers/scheduling_euler_discrete.py):
 * Karras et al.'s Euler step (Algorithm 2, with optional churn) over the sigma table of a
 * discrete-time model, with every config option diffusers supports.
 */
import { eulerElements } from "./step-kernels.js";
import { ArgumentError, sleefLogf, type Tensor, torchMath } from "@edmkit/core";
import { trainingTables, descendingSigmasWithZero } from "./betas.js";
import {
  type EulerDiscreteConfig,
  type EulerDiscreteConfigInput,
  type SchedulerConfigJson,
  eulerDiscreteConfigSchema,
  resolveConfig,
} from "./config.js";
import {
  type BaseStepOptions,
  DiscreteScheduler,
  type SchedulerOutput,
  type SetTimestepsOptions,
  checkNumbers,
  checkOptionKeys,
  checkTensor,
} from "./discrete-scheduler.js";
import { sqrtSigmaSqPlusOneF32 } from "./float32.js";
import { checkGenerator, drawNoise } from "./generator.js";
import {
  betaSigmas,
  exponentialSigmas,
  interpolateSigmas,
  karrasSigmas,
  logLinearSigmas,
  logSigmaTable,
  sigmaToT,
  spacedTimesteps,
} from "./spacing.js";

const f = Math.fround;

export interface EulerStepOptions extends BaseStepOptions {
  /** s_churn (default 0): stochasticity; gamma = min(sChurn / (len(sigmas) - 1), sqrt2 - 1). */
  sChurn?: number;
  /** s_tmin (default 0): churn only where sTmin <= sigma <= sTmax (compared in float32). */
  sTmin?: number;
  /** s_tmax (default Infinity). */
  sTmax?: number;
  /** s_noise (default 1): scale of the churn noise. */
  sNoise?: number;
}

const CLASS = "EulerDiscreteScheduler";
/** The options `step()` takes (s_churn, s_tmin, s_tmax, s_noise, generator; `out` is ours). */
export const EULER_STEP_OPTIONS = ["sChurn", "sTmin", "sTmax", "sNoise", "generator", "out"] as const;

export class EulerDiscreteScheduler extends DiscreteScheduler {
  readonly order = 1;
  /** The resolved `__init__` arguments. */
  readonly init: EulerDiscreteConfig;
  /** diffusers' `is_scale_input_called` (diffusers only logs a warning when it is false). */
  isScaleInputCalled = false;

  /**
   * `EulerDiscreteScheduler.from_config(config, **overrides)`: `config` is a
   * scheduler_config.json object (any `_class_name`) or constructor arguments, snake_case.
   */
  constructor(
    config: SchedulerConfigJson<EulerDiscreteConfigInput> = {},
    overrides: Partial<EulerDiscreteConfigInput> = {},
  ) {
    const resolved = resolveConfig(CLASS, eulerDiscreteConfigSchema, config, overrides);
    const c = resolved.init;
    if (Number(c.use_beta_sigmas) + Number(c.use_exponential_sigmas) + Number(c.use_karras_sigmas) > 1) {
      throw new ArgumentError(
        `${CLASS}: only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be true`,
      );
    }
    const tables = trainingTables(CLASS, c, ["linear", "scaled_linear", "squaredcos_cap_v2"]);
    super(CLASS, resolved, tables);
    this.init = c;

    const T = tables.trainSigmas.length;
    const sigmas = descendingSigmasWithZero(tables.trainSigmas);
    this.sigmasHeld = sigmas;
    if (this.continuousV) {
      this.timestepsHeld = continuousTimesteps(sigmas, T);
    } else {
      const ts = new Float32Array(c.num_train_timesteps);
      for (let i = 0; i < ts.length; i++) ts[i] = c.num_train_timesteps - 1 - i;
      this.timestepsHeld = ts;
    }
  }

  /** `EulerDiscreteScheduler.from_config(config, **overrides)`. */
  static fromConfig(
    config: SchedulerConfigJson<EulerDiscreteConfigInput>,
    overrides: Partial<EulerDiscreteConfigInput> = {},
  ): EulerDiscreteScheduler {
    return new EulerDiscreteScheduler(config, overrides);
  }

  /** timestep_type "continuous" only takes effect with v_prediction (diffusers' EDM-style t = log(sigma)/4). */
  private get continuousV(): boolean {
    return this.init.timestep_type === "continuous" && this.init.prediction_type === "v_prediction";
  }

  protected override afterScaleModelInput(): void {
    this.isScaleInputCalled = true;
  }

  /**
   * Port of `set_timesteps(num_inference_steps, device, timesteps, sigmas)`. Exactly one of
   * a step count, custom timesteps or custom sigmas. The schedule is built as diffusers
   * builds it:
   * - spacing gives float32 timesteps; sigmas are `np.interp` of the float32 table at them
   *   (float64), or for `interpolation_type="log_linear"` N + 1 log-spaced float32 sigmas;
   * - Karras / exponential / beta sigmas replace them (float64) and the timesteps become
   *   `_sigma_to_t` of each sigma; custom sigmas get their timesteps the same way;
   * - the final sigma is 0, or the smallest training sigma (`final_sigmas_type="sigma_min"`);
   * - sigmas are stored as float32, timesteps as float32, or `log(sigma) / 4` for continuous
   *   v-prediction.
   */
  setTimesteps(arg: number | SetTimestepsOptions): void {
    const who = `${CLASS}.setTimesteps`;
    const o: SetTimestepsOptions = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(who, o, ["numInferenceSteps", "timesteps", "sigmas"]);
    const n = o.numInferenceSteps ?? null,
      custT = o.timesteps ?? null,
      custS = o.sigmas ?? null;
    const c = this.init;
    if (custT !== null && custS !== null)
      throw new ArgumentError(`${who}: give only one of timesteps or sigmas`);
    if (n === null && custT === null && custS === null)
      throw new ArgumentError(`${who}: give exactly one of numInferenceSteps, timesteps or sigmas`);
    if (n !== null && (custT !== null || custS !== null))
      throw new ArgumentError(`${who}: give only one of numInferenceSteps, timesteps or sigmas`);
    if (custT !== null && c.use_karras_sigmas)
      throw new ArgumentError(`${who}: custom timesteps cannot be used with use_karras_sigmas = true`);
    if (custT !== null && c.use_exponential_sigmas)
      throw new ArgumentError(`${who}: custom timesteps cannot be used with use_exponential_sigmas = true`);
    if (custT !== null && c.use_beta_sigmas)
      throw new ArgumentError(`${who}: custom timesteps cannot be used with use_beta_sigmas = true`);
    if (custT !== null && this.continuousV) {
      throw new ArgumentError(
        `${who}: custom timesteps cannot be used with timestep_type = "continuous" and prediction_type = "v_prediction"`,
      );
    }
    if (n !== null && (!Number.isInteger(n) || n < 0))
      throw new ArgumentError(`${who}: numInferenceSteps must be a non-negative integer, got ${n}`);
    checkNumbers(who, "timesteps", custT);
    checkNumbers(who, "sigmas", custS);
    if (custS !== null && custS.length < 1)
      throw new ArgumentError(`${who}: sigmas must hold at least the final sigma`);

    const N = n ?? (custT !== null ? custT.length : (custS as ArrayLike<number>).length - 1);
    this.numInferenceSteps = N;
    const table = this.trainSigmas;

    let timesteps: ArrayLike<number>;
    let sigmas: Float32Array;
    if (custS !== null) {
      const logSig = logSigmaTable(table);
      sigmas = Float32Array.from(custS);
      const ts = new Float64Array(sigmas.length - 1);
      for (let i = 0; i < ts.length; i++) ts[i] = sigmaToT(sigmas[i], logSig);
      timesteps = ts;
    } else {
      timesteps =
        custT !== null
          ? Float32Array.from(custT)
          : spacedTimesteps(who, c.timestep_spacing, N, c.num_train_timesteps, c.steps_offset);
      let base: ArrayLike<number>;
      if (c.interpolation_type === "linear") base = interpolateSigmas(timesteps, table);
      else if (c.interpolation_type === "log_linear") base = logLinearSigmas(table, N);
      else
        throw new ArgumentError(
          `${who}: interpolation_type ${JSON.stringify(c.interpolation_type)} is not implemented; use "linear" or "log_linear"`,
        );

      let converted: Float64Array | null = null;
      if (c.use_karras_sigmas) converted = karrasSigmas(base, N, c.sigma_min, c.sigma_max);
      else if (c.use_exponential_sigmas) converted = exponentialSigmas(base, N, c.sigma_min, c.sigma_max);
      else if (c.use_beta_sigmas) converted = betaSigmas(base, N, c.sigma_min, c.sigma_max);
      if (converted !== null) {
        const logSig = logSigmaTable(table);
        const ts = new Float64Array(converted.length);
        for (let i = 0; i < ts.length; i++) ts[i] = sigmaToT(converted[i], logSig);
        timesteps = ts;
        base = converted;
      }

      let last: number;
      if (c.final_sigmas_type === "sigma_min") {
        const a0 = this.alphasCumprod[0];
        last = f(Math.sqrt(f(f(1 - a0) / a0)));
      } else if (c.final_sigmas_type === "zero") last = 0;
      else
        throw new ArgumentError(
          `${who}: final_sigmas_type must be "zero" or "sigma_min", got ${JSON.stringify(c.final_sigmas_type)}`,
        );
      sigmas = new Float32Array(base.length + 1);
      sigmas.set(Float32Array.from(base));
      sigmas[base.length] = last;
    }

    this.sigmasHeld = sigmas;
    this.timestepsHeld = this.continuousV
      ? continuousTimesteps(sigmas, sigmas.length - 1)
      : Float32Array.from(timesteps);
    this.resetRunState();
  }

  /**
   * Port of `step(model_output, timestep, sample, s_churn, s_tmin, s_tmax, s_noise,
   * generator)`. Reproduces diffusers exactly:
   * - the sample is cast to float32 first (a float64 run is rounded to float32 every step),
   *   the rest runs in the model output's dtype and prev_sample is cast back to it;
   * - γ = s_churn per step, capped at √2 − 1, when float32(s_tmin) ≤ σ ≤ float32(s_tmax);
   *   σ̂ = σ·float32(γ + 1) in float32; only when gamma > 0
   *   one draw of noise (model output's shape and dtype) is taken and
   *   the sample gains noise·s_noise·√(σ̂² − σ²) (float32 scalar);
   * - epsilon: x0 = x − σ̂·ε; v_prediction: x0 = v·(−σ/√(σ² + 1)) + x/(σ² + 1), with that division done on the float32 sample (float32
   *   result) unless churn made the sample float64; sample ("original_sample"): x0 = output;
   * - x_prev = x + ((x − x0)/σ̂)·(σ_next − σ̂), the step σ_next − σ̂ in float32.
   * The model ran at sigma on the un-churned sample; the same output is reused at sigma_hat.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: EulerStepOptions = {},
  ): SchedulerOutput {
    const who = "step";
    this.checkStepInputs(who, modelOutput, sample, options, EULER_STEP_OPTIONS);
    checkGenerator(CLASS, options.generator);
    const sChurn = stepNumber("sChurn", options.sChurn, 0),
      sTmin = stepNumber("sTmin", options.sTmin, 0);
    const sTmax = stepNumber("sTmax", options.sTmax, Infinity),
      sNoise = stepNumber("sNoise", options.sNoise, 1);
    const pt = this.init.prediction_type;
    if (pt !== "epsilon" && pt !== "v_prediction" && pt !== "sample" && pt !== "original_sample") {
      throw new ArgumentError(
        `${CLASS}.step: prediction_type ${JSON.stringify(pt)} must be one of "epsilon", "v_prediction" or "sample"`,
      );
    }
    const i = this.currentStepIndex(who, timestep, true);
    const sigmas = this.sigmasHeld;
    const sigma = sigmas[i];
    const inWindow = f(sTmin) <= sigma && sigma <= f(sTmax);
    const gamma = inWindow ? Math.min(sChurn / (sigmas.length - 1), Math.SQRT2 - 1) : 0;
    const sigmaHat = f(sigma * f(gamma + 1));

    const dtype = modelOutput.dtype;
    const prev = this.outTensor(who, options.out?.prevSample, modelOutput.shape, dtype, "out.prevSample");
    const pred = this.outTensor(
      who,
      options.out?.predOriginalSample,
      modelOutput.shape,
      dtype,
      "out.predOriginalSample",
    );

    // torch arithmetic of the model output's dtype (the 0-d sigma scalars are float32 throughout)
    const m = torchMath(dtype);
    let noise: Float32Array | Float64Array | null = null;
    let churnScale = 0;
    if (gamma > 0) {
      const buf = this.scratch("noise", modelOutput.shape, dtype);
      drawNoise(CLASS, options.generator, buf, { step: i, sigma, sigmaNext: sigmas[i + 1] });
      noise = buf.data;
      churnScale = f(Math.sqrt(f(f(sigmaHat * sigmaHat) - f(sigma * sigma)))); // √(σ̂² − σ²) in float32
    }
    const dt = f(sigmas[i + 1] - sigmaHat);
    const vDen = f(f(sigma * sigma) + 1);
    const vOut = f(-sigma / sqrtSigmaSqPlusOneF32(sigma));
    const sNoiseT = m.r(sNoise);
    const mode = pt === "epsilon" ? 0 : pt === "v_prediction" ? 1 : 2;
    const mo = modelOutput.data,
      x = sample.data,
      pd = pred.data,
      xd = prev.data;
    eulerElements(m.dtype, { x, mo, noise, pd, xd, mode, sigmaHat, dt, vOut, vDen, sNoiseT, churnScale });
    this.stepIndexHeld = i + 1;
    return { prevSample: prev, predOriginalSample: pred };
  }

  /**
   * Port of `get_velocity`: √ᾱ·noise − √(1 − ᾱ)·sample, with alphas_cumprod cast to the sample's dtype. Faithful to diffusers, abar is
   * `alphas_cumprod[i]` with i the POSITION of t in the current schedule
   * (index_for_timestep), not `alphas_cumprod[t]`: on the construction-time schedule
   * [T-1, ..., 0] that reads `alphas_cumprod[T-1-t]`.
   */
  getVelocity(sample: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>, out?: Tensor): Tensor {
    const who = `${CLASS}.getVelocity`;
    checkTensor(who, "sample", sample);
    checkTensor(who, "noise", noise);
    if (sample.data.length !== noise.data.length)
      throw new ArgumentError(`${who}: noise has ${noise.data.length} values, sample ${sample.data.length}`);
    const ts = typeof timesteps === "number" ? [timesteps] : Array.from(timesteps);
    const rows = sample.shape.length === 0 ? 1 : sample.shape[0];
    if (ts.length !== 1 && ts.length !== rows)
      throw new ArgumentError(`${who}: ${ts.length} timesteps for a batch of ${rows} rows`);
    const idx = ts.map((t) => this.indexForTimestep(t));
    const dtype = sample.dtype === "float64" || noise.dtype === "float64" ? "float64" : "float32";
    const o = this.outTensor("getVelocity", out, sample.shape, dtype, "out");
    const per = rows === 0 ? 0 : sample.data.length / rows;
    const ma = torchMath(sample.dtype), // ᾱ is cast to the sample's dtype
      m = torchMath(dtype);
    for (let b = 0; b < rows; b++) {
      const ac = this.alphasCumprod[idx.length === 1 ? idx[0] : idx[b]];
      if (ac === undefined)
        throw new ArgumentError(`${who}: schedule position ${idx[b]} is past alphas_cumprod`);
      const sa = ma.sqrt(ac), // √ᾱ and √(1 − ᾱ) in the sample's dtype
        s1 = ma.sqrt(ma.sub(1, ac));
      for (let k = b * per; k < (b + 1) * per; k++) {
        o.data[k] = m.sub(m.mul(sa, noise.data[k]), m.mul(s1, sample.data[k]));
      }
    }
    return o;
  }
}

/**
 * The continuous timesteps ¼·log σ of the first `count` sigmas: each log is a 0-dim
 * float32 torch op (SLEEF logf), times 0.25 in float32.
 */
function continuousTimesteps(sigmas: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = 0.25 * sleefLogf(sigmas[i]);
  return out;
}

function stepNumber(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || Number.isNaN(v))
    throw new ArgumentError(`${CLASS}.step: ${name} must be a number, got ${String(v)}`);
  return v;
}
