/**
 * Port of diffusers `HeunDiscreteScheduler` (schedulers/scheduling_heun_discrete.py): Heun's
 * second-order method (Karras et al. Algorithm 1 without churn) as a scheduler with two
 * model calls per step, driven by an interleaved timestep list.
 */
import { ArgumentError, type DType, type Tensor, torchMath } from "@edmkit/core";
import { trainingTables } from "./betas.js";
import {
  type HeunDiscreteConfig,
  type HeunDiscreteConfigInput,
  type SchedulerConfigJson,
  heunDiscreteConfigSchema,
  resolveConfig,
} from "./config.js";
import {
  type BaseStepOptions,
  DiscreteScheduler,
  type SchedulerOutput,
  checkNumbers,
  checkOptionKeys,
  promote,
} from "./discrete-scheduler.js";
import { sqrtSigmaSqPlusOneF32 } from "./float32.js";
import { heunSimd } from "./step-kernels.js";
import {
  betaSigmas,
  exponentialSigmas,
  interpolateSigmas,
  karrasSigmas,
  logSigmaTable,
  sigmaToT,
  spacedTimesteps,
} from "./spacing.js";

const f = Math.fround;
const CLASS = "HeunDiscreteScheduler";
/** The options `step()` takes: `out`, and a generator it tolerates and never uses. */
export const HEUN_STEP_OPTIONS = ["out", "generator"] as const;

export interface HeunSetTimestepsOptions {
  numInferenceSteps?: number | null;
  /** Custom descending timesteps (one per solver step; they are interleaved like the spaced ones). */
  timesteps?: ArrayLike<number> | null;
  /** diffusers' `num_train_timesteps` argument of set_timesteps (spacing range; default from config). */
  numTrainTimesteps?: number | null;
}

export type HeunStepOptions = BaseStepOptions;

export class HeunDiscreteScheduler extends DiscreteScheduler {
  readonly order = 2;
  readonly init: HeunDiscreteConfig;

  /** True while the constructor builds its schedule (before diffusers registers extra keys). */
  private constructing = true;
  private prevDerivativeHeld: Tensor | null = null;
  private dtHeld: number | null = null;
  private sampleHeld: Tensor | null = null;

  /**
   * `HeunDiscreteScheduler.from_config(config, **overrides)`. Like diffusers, the constructor
   * already builds the full-length schedule (`set_timesteps(num_train_timesteps)`).
   */
  constructor(
    config: SchedulerConfigJson<HeunDiscreteConfigInput> = {},
    overrides: Partial<HeunDiscreteConfigInput> = {},
  ) {
    const resolved = resolveConfig(CLASS, heunDiscreteConfigSchema, config, overrides);
    const c = resolved.init;
    if (Number(c.use_beta_sigmas) + Number(c.use_exponential_sigmas) + Number(c.use_karras_sigmas) > 1) {
      throw new ArgumentError(
        `${CLASS}: only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be true`,
      );
    }
    super(CLASS, resolved, trainingTables(CLASS, c, ["linear", "scaled_linear", "squaredcos_cap_v2", "exp"]));
    this.init = c;
    this.setTimesteps({ numInferenceSteps: c.num_train_timesteps, numTrainTimesteps: c.num_train_timesteps });
    this.constructing = false;
  }

  static fromConfig(
    config: SchedulerConfigJson<HeunDiscreteConfigInput>,
    overrides: Partial<HeunDiscreteConfigInput> = {},
  ): HeunDiscreteScheduler {
    return new HeunDiscreteScheduler(config, overrides);
  }

  /** True when the next step() is a predictor (first-order) step: diffusers' `dt is None`. */
  get stateInFirstOrder(): boolean {
    return this.dtHeld === null;
  }

  /** Derivative stored by the predictor step (null in first-order state). */
  get prevDerivative(): Tensor | null {
    return this.prevDerivativeHeld;
  }

  /** dt = sigma_next - sigma_hat (float32) stored by the predictor step. */
  get dt(): number | null {
    return this.dtHeld;
  }

  /** The sample the predictor step started from (the corrector steps from it). */
  get sample(): Tensor | null {
    return this.sampleHeld;
  }

  /**
   * Port of `set_timesteps(num_inference_steps, device, num_train_timesteps, timesteps)`:
   * spacing / custom timesteps as Euler; sigmas by np.interp of the float32 table (or
   * Karras / exponential / beta, with timesteps from `_sigma_to_t`); then interleaved:
   * sigmas `[s0, s1, s1, ..., s_{N-1}, s_{N-1}, 0]` (2N) and timesteps `[t0, t1, t1, ...,
   * t_{N-1}, t_{N-1}]` (2N - 1), both float32. Clears the stored predictor state.
   */
  setTimesteps(arg: number | HeunSetTimestepsOptions): void {
    const who = `${CLASS}.setTimesteps`;
    const o: HeunSetTimestepsOptions = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(
      who,
      o,
      ["numInferenceSteps", "timesteps", "numTrainTimesteps"],
      " (diffusers' Heun set_timesteps has no custom sigmas)",
    );
    const n = o.numInferenceSteps ?? null,
      custT = o.timesteps ?? null;
    const c = this.init;
    if (n === null && custT === null)
      throw new ArgumentError(`${who}: give exactly one of numInferenceSteps or timesteps`);
    if (n !== null && custT !== null)
      throw new ArgumentError(`${who}: give only one of numInferenceSteps or timesteps`);
    if (custT !== null && c.use_karras_sigmas)
      throw new ArgumentError(`${who}: custom timesteps cannot be used with use_karras_sigmas = true`);
    if (custT !== null && c.use_exponential_sigmas)
      throw new ArgumentError(`${who}: custom timesteps cannot be used with use_exponential_sigmas = true`);
    if (custT !== null && c.use_beta_sigmas)
      throw new ArgumentError(`${who}: custom timesteps cannot be used with use_beta_sigmas = true`);
    if (n !== null && (!Number.isInteger(n) || n < 1)) {
      throw new ArgumentError(`${who}: numInferenceSteps must be a positive integer, got ${n}`);
    }
    checkNumbers(who, "timesteps", custT);
    const N = n ?? (custT as ArrayLike<number>).length;
    if (N < 1) throw new ArgumentError(`${who}: timesteps must not be empty`);
    const T = o.numTrainTimesteps || c.num_train_timesteps;
    if (!Number.isInteger(T) || T < 1)
      throw new ArgumentError(`${who}: numTrainTimesteps must be a positive integer, got ${T}`);
    this.numInferenceSteps = N;

    let timesteps: ArrayLike<number> =
      custT !== null
        ? Float32Array.from(custT)
        : spacedTimesteps(who, c.timestep_spacing, N, T, c.steps_offset);
    const table = this.trainSigmas;
    let base: ArrayLike<number> = interpolateSigmas(timesteps, table);
    let converted: Float64Array | null = null;
    const sMin = this.extraSigma("sigma_min"),
      sMax = this.extraSigma("sigma_max");
    if (c.use_karras_sigmas) converted = karrasSigmas(base, N, sMin, sMax);
    else if (c.use_exponential_sigmas) converted = exponentialSigmas(base, N, sMin, sMax);
    else if (c.use_beta_sigmas) converted = betaSigmas(base, N, sMin, sMax);
    if (converted !== null) {
      const logSig = logSigmaTable(table);
      const ts = new Float64Array(converted.length);
      for (let i = 0; i < ts.length; i++) ts[i] = sigmaToT(converted[i], logSig);
      timesteps = ts;
      base = converted;
    }

    const m = base.length; // sigmas before the final 0
    const sig = new Float32Array(m === 0 ? 1 : 2 * m);
    if (m > 0) {
      sig[0] = base[0];
      for (let i = 1; i < m; i++) sig[2 * i - 1] = sig[2 * i] = base[i];
    }
    sig[sig.length - 1] = 0;
    const tl = timesteps.length;
    const ts = new Float32Array(tl === 0 ? 0 : 2 * tl - 1);
    if (tl > 0) {
      ts[0] = timesteps[0];
      for (let i = 1; i < tl; i++) ts[2 * i - 1] = ts[2 * i] = timesteps[i];
    }
    this.sigmasHeld = sig;
    this.timestepsHeld = ts;
    this.resetRunState();
  }

  /**
   * Heun takes no sigma_min / sigma_max, but diffusers' Karras / exponential / beta
   * conversions read them from `self.config` when present, and `from_config` keeps a source
   * config's extra keys there (after `__init__` has built its own schedule). So an Euler
   * config's sigma_min / sigma_max do reach Heun's later set_timesteps calls; reproduced.
   */
  private extraSigma(key: "sigma_min" | "sigma_max"): number | null {
    if (this.constructing) return null;
    const v = this.config[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== "number")
      throw new ArgumentError(
        `${CLASS}.setTimesteps: config ${key} must be a number or null, got ${JSON.stringify(v)}`,
      );
    return v;
  }

  override stepDtype(modelOutput: DType, sample: DType): DType {
    return promote(modelOutput, sample);
  }

  protected override resetRunState(): void {
    super.resetRunState();
    this.prevDerivativeHeld = null;
    this.dtHeld = null;
    this.sampleHeld = null;
  }

  /**
   * Port of `step(model_output, timestep, sample)`. No float32 cast of the sample (unlike
   * Euler); 0-dim sigma arithmetic in float32.
   * - Predictor (first-order state): sigma = sigmas[i], sigma_next = sigmas[i+1]; x0 from the
   *   output at sigma (epsilon: x − σ·ε; v: v·(−σ/√(σ² + 1)) +
   *   x/(σ² + 1); sample: the output), optionally clamped to +-clip_sample_range;
   *   d = (x − x0)/σ; Δσ = σ_next − σ (float32); stores d, Δσ and x; returns x + d·Δσ.
   * - Corrector: sigma_next = sigmas[i], x0 from the output at sigma_next, d₂ = (x − x0)/σ_next,
   *   d = (d_stored + d₂)/2, returns the stored sample + d·Δσ; back to first order.
   * The last timestep is a predictor step into sigma 0 (a plain Euler step); its stored
   * state is never used.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: HeunStepOptions = {},
  ): SchedulerOutput {
    const who = "step";
    // diffusers' Heun step() has no generator or churn arguments; a generator is tolerated
    // (the denoising loop passes one to whichever scheduler it drives) and never used
    this.checkStepInputs(who, modelOutput, sample, options, HEUN_STEP_OPTIONS);
    const pt = this.init.prediction_type;
    if (pt !== "epsilon" && pt !== "v_prediction" && pt !== "sample") {
      throw new ArgumentError(
        `${CLASS}.step: prediction_type ${JSON.stringify(pt)} must be one of "epsilon", "v_prediction" or "sample"`,
      );
    }
    const first = this.stateInFirstOrder;
    const i = this.currentStepIndex(who, timestep, first);
    const sigmas = this.sigmasHeld;
    const sigma = first ? sigmas[i] : sigmas[i - 1];
    const sigmaNext = first ? sigmas[i + 1] : sigmas[i];
    const sigmaHat = sigma; // γ is always 0 here, so σ̂ = σ
    const sigmaIn = first ? sigmaHat : sigmaNext;

    const dtype: DType = promote(modelOutput.dtype, sample.dtype);
    const prev = this.outTensor(who, options.out?.prevSample, modelOutput.shape, dtype, "out.prevSample");
    const pred = this.outTensor(
      who,
      options.out?.predOriginalSample,
      modelOutput.shape,
      dtype,
      "out.predOriginalSample",
    );
    const m = torchMath(dtype); // the step runs in the promoted dtype; 0-d sigma scalars are float32
    const mode = pt === "epsilon" ? 0 : pt === "v_prediction" ? 1 : 2;
    const vDen = f(f(sigmaIn * sigmaIn) + 1);
    const vOut = f(-sigmaIn / sqrtSigmaSqPlusOneF32(sigmaIn));
    const clip = this.init.clip_sample;
    const range = m.r(this.init.clip_sample_range);
    const mo = modelOutput.data,
      x = sample.data,
      pd = pred.data,
      xd = prev.data,
      n = mo.length;
    const is64 = dtype === "float64";
    // the v-prediction division x/(σ² + 1) is a float32 op when the sample is float32, even
    // if the model output is float64
    const s32 = sample.dtype === "float32";
    const f64 = m.dtype === "float64";
    // x0 by prediction type, at σ_in: ε → x − σ_in·output; v → output·(−σ_in/√(σ_in² + 1)) +
    // x/(σ_in² + 1); sample → the output; clamped to ±clip_sample_range when clip_sample is set.
    // The loops below write `m`'s ops out per dtype (each float32 op rounded with f), so they
    // run without a call per op; the operations and their order are m's.
    const predOriginal32 = (s: number, e: number): number => {
      const x0 = mode === 0 ? f(s - f(sigmaIn * e)) : mode === 1 ? f(f(e * vOut) + f(s / vDen)) : e;
      return clip ? Math.min(Math.max(x0, -range), range) : x0;
    };
    const predOriginal64 = (s: number, e: number): number => {
      const x0 = mode === 0 ? s - sigmaIn * e : mode === 1 ? e * vOut + (s32 ? f(s / vDen) : s / vDen) : e;
      return clip ? Math.min(Math.max(x0, -range), range) : x0;
    };

    if (first) {
      // predictor: Euler step, keeping d, x and Δσ for the corrector
      const dt = f(sigmaNext - sigmaHat);
      const dStore = this.scratch(is64 ? "dprev64" : "dprev32", modelOutput.shape, dtype);
      const sStore = this.scratch(is64 ? "sample64" : "sample32", modelOutput.shape, dtype);
      const dd = dStore.data,
        sd = sStore.data;
      // large tensors without clipping: SIMD (step-kernels.ts), the same ops
      if (!clip && heunSimd(true, mode, x, mo, dd, sd, pd, xd, sigmaIn, vOut, vDen, sigmaHat, dt)) {
        // done
      } else if (f64) {
        for (let k = 0; k < n; k++) {
          const s = x[k];
          const x0 = predOriginal64(s, mo[k]);
          const d = (s - x0) / sigmaHat; // d = (x − x0)/σ̂
          dd[k] = d;
          xd[k] = s + d * dt; // x + d·Δσ
          sd[k] = s;
          pd[k] = x0;
        }
      } else {
        for (let k = 0; k < n; k++) {
          const s = x[k];
          const x0 = predOriginal32(s, mo[k]);
          const d = f(f(s - x0) / sigmaHat);
          dd[k] = d;
          xd[k] = f(s + f(d * dt));
          sd[k] = s;
          pd[k] = x0;
        }
      }
      this.prevDerivativeHeld = dStore;
      this.sampleHeld = sStore;
      this.dtHeld = dt;
    } else {
      // corrector: average of the stored and the new derivative, applied from the stored sample
      const dt = this.dtHeld as number;
      const dPrev = this.prevDerivativeHeld as Tensor,
        sPrev = this.sampleHeld as Tensor;
      if (dPrev.data.length !== n)
        throw new ArgumentError(
          `${CLASS}.step: the corrector's sample size ${n} differs from the predictor's ${dPrev.data.length}`,
        );
      const dd = dPrev.data,
        sd = sPrev.data;
      if (!clip && heunSimd(false, mode, x, mo, dd, sd, pd, xd, sigmaIn, vOut, vDen, sigmaNext, dt)) {
        // done
      } else if (f64) {
        for (let k = 0; k < n; k++) {
          const s = x[k];
          const x0 = predOriginal64(s, mo[k]);
          // new derivative (x − x0)/σ_next, added to the stored one, then halved
          const d = (dd[k] + (s - x0) / sigmaNext) / 2;
          xd[k] = sd[k] + d * dt; // stored sample + d·Δσ
          pd[k] = x0;
        }
      } else {
        for (let k = 0; k < n; k++) {
          const s = x[k];
          const x0 = predOriginal32(s, mo[k]);
          const d = f(f(dd[k] + f(f(s - x0) / sigmaNext)) / 2);
          xd[k] = f(sd[k] + f(d * dt));
          pd[k] = x0;
        }
      }
      this.prevDerivativeHeld = null;
      this.dtHeld = null;
      this.sampleHeld = null;
    }
    this.stepIndexHeld = i + 1;
    return { prevSample: prev, predOriginalSample: pred };
  }
}
