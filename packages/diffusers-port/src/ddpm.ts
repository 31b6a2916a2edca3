/**
 * Port of diffusers `DDPMScheduler` (schedulers/scheduling_ddpm.py): Ho et al. 2020
 * ancestral sampling of the posterior q(x_{t-1} | x_t, x0).
 */
import { type Tensor, torchMath } from "@edmkit/core";
import { AlphaScheduler, integerTimesteps } from "./alpha-scheduler.js";
import { type SchedulerConfigJson, resolveConfig } from "./config.js";
import {
  type BaseStepOptions,
  type SchedulerOutput,
  checkNumbers,
  checkOptionKeys,
  checkTensor,
  promote,
} from "./discrete-scheduler.js";
import { type DDPMConfig, type DDPMConfigInput, ddpmConfigSchema } from "./family-config.js";
import { checkGenerator, drawNoise } from "./generator.js";

const f = Math.fround;
const T32 = torchMath("float32");
const CLASS = "DDPMScheduler";
const F32_1E_20 = f(1e-20);

export interface DDPMSetTimestepsOptions {
  numInferenceSteps?: number | null;
  /** Custom strictly descending integer timesteps (then numInferenceSteps must be absent). */
  timesteps?: ArrayLike<number> | null;
}

export type DDPMStepOptions = BaseStepOptions;

export class DDPMScheduler extends AlphaScheduler {
  readonly init: DDPMConfig;
  /** diffusers' `custom_timesteps`: set_timesteps was given timesteps. */
  customTimesteps = false;

  /** `DDPMScheduler.from_config(config, **overrides)`; timesteps start as T-1 ... 0. */
  constructor(config: SchedulerConfigJson<DDPMConfigInput> = {}, overrides: Partial<DDPMConfigInput> = {}) {
    const resolved = resolveConfig(CLASS, ddpmConfigSchema, config, overrides);
    const c = resolved.init;
    super(
      CLASS,
      resolved,
      AlphaScheduler.betasFor(
        CLASS,
        c,
        ["linear", "scaled_linear", "squaredcos_cap_v2"],
        ["laplace", "sigmoid"],
      ),
    );
    this.init = c;
  }

  static fromConfig(
    config: SchedulerConfigJson<DDPMConfigInput>,
    overrides: Partial<DDPMConfigInput> = {},
  ): DDPMScheduler {
    return new DDPMScheduler(config, overrides);
  }

  /** diffusers' `variance_type` attribute (from the config). */
  get varianceType(): string {
    return this.init.variance_type;
  }

  /**
   * Port of `set_timesteps(num_inference_steps, device, timesteps)`: custom timesteps must be
   * strictly descending and start below num_train_timesteps, and exclude num_inference_steps
   * (each diffusers' ValueError; they leave numInferenceSteps as it was); otherwise more steps
   * than training timesteps is refused and the integer spacing of `timestep_spacing` applies.
   */
  setTimesteps(arg: number | DDPMSetTimestepsOptions): void {
    const who = `${CLASS}.setTimesteps`;
    const o: DDPMSetTimestepsOptions = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(who, o, ["numInferenceSteps", "timesteps"]);
    const N = o.numInferenceSteps ?? null,
      custom = o.timesteps ?? null;
    const T = this.init.num_train_timesteps;
    if (N !== null && custom !== null)
      throw new Error(
        `${who}: give only one of numInferenceSteps or timesteps (diffusers raises ValueError)`,
      );
    if (custom !== null) {
      checkNumbers(who, "timesteps", custom);
      for (let i = 1; i < custom.length; i++)
        if (custom[i] >= custom[i - 1])
          throw new Error(
            `${who}: custom timesteps must be in descending order (diffusers raises ValueError)`,
          );
      if (custom.length > 0 && custom[0] >= T)
        throw new Error(
          `${who}: timesteps must start before num_train_timesteps ${T} (diffusers raises ValueError)`,
        );
      const ts = new Float64Array(custom.length);
      for (let i = 0; i < ts.length; i++) {
        if (!Number.isInteger(custom[i]))
          throw new TypeError(`${who}: timesteps[${i}] must be an integer, got ${custom[i]}`);
        ts[i] = custom[i];
      }
      this.timestepsHeld = ts;
      this.customTimesteps = true;
      return;
    }
    if (typeof N !== "number" || !Number.isInteger(N) || N < 1)
      throw new RangeError(`${who}: numInferenceSteps must be a positive integer, got ${String(N)}`);
    if (N > T)
      throw new RangeError(
        `${who}: numInferenceSteps ${N} cannot be larger than num_train_timesteps ${T} (diffusers raises ValueError)`,
      );
    this.numInferenceSteps = N;
    this.customTimesteps = false;
    this.timestepsHeld = integerTimesteps(
      who,
      this.init.timestep_spacing,
      N,
      T,
      this.init.steps_offset,
      `"linspace", "leading" or "trailing"`,
    );
  }

  /**
   * Port of `previous_timestep(timestep)`: with a schedule (custom, or numInferenceSteps set)
   * the next entry after the FIRST occurrence of t (-1 after the last; a t not in the
   * schedule is torch's IndexError); without one, t - 1.
   */
  previousTimestep(timestep: number): number {
    if (this.customTimesteps || this.numInferenceSteps) {
      const ts = this.timestepsHeld;
      const idx = ts.indexOf(timestep);
      if (idx < 0)
        throw new RangeError(
          `${CLASS}: timestep ${timestep} is not in the schedule (torch raises IndexError)`,
        );
      return idx === ts.length - 1 ? -1 : ts[idx + 1];
    }
    return timestep - 1;
  }

  /**
   * Port of `_get_variance(t)` for the fixed variance types, float32 0-dim ops: the posterior
   * variance (1 - abar_prev) / (1 - abar_t) * beta_t clamped at 1e-20 (float32), then
   * fixed_small: itself; fixed_small_log: exp(0.5 log v) (a standard deviation, not a
   * variance); fixed_large: beta_t = 1 - abar_t / abar_prev; fixed_large_log: log beta_t. Any
   * other type falls through to the clamped posterior variance, as in diffusers. (learned /
   * learned_range depend on the model's predicted variance: see `step`.)
   */
  getVariance(t: number, varianceType: string = this.init.variance_type): number {
    const prevT = this.previousTimestep(t);
    const at = this.alphaAt("getVariance", t);
    const ap = prevT >= 0 ? this.alphaAt("getVariance", prevT) : 1;
    const beta = f(1 - f(at / ap));
    let v = f(f(f(1 - ap) / f(1 - at)) * beta);
    if (!Number.isNaN(v) && v < F32_1E_20) v = F32_1E_20;
    switch (varianceType) {
      case "fixed_small_log":
        return T32.exp(f(0.5 * T32.log(v)));
      case "fixed_large":
        return beta;
      case "fixed_large_log":
        return T32.log(beta);
      default:
        return v;
    }
  }

  /**
   * Port of `step(model_output, timestep, sample, generator)`, float32 0-dim scalars and
   * tensor ops in the promoted dtype:
   * - with variance_type learned / learned_range and a model output of twice the sample's
   *   channels (axis 1), the second half is the predicted variance;
   * - x0: epsilon `(x - (1-abar_t)**0.5 eps) / abar_t**0.5`, sample: the output, v
   *   `abar_t**0.5 x - (1-abar_t)**0.5 v`; then thresholded or clipped (clip_sample defaults
   *   to True);
   * - mean = (abar_prev**0.5 beta_t / (1-abar_t)) x0 + (alpha_t**0.5 (1-abar_prev) / (1-abar_t)) x;
   * - for t > 0 one draw of the model output's dtype: + v**0.5 * noise (fixed_small_log: the
   *   value itself, already a standard deviation; fixed_large_log: the root of a negative
   *   log, NaN, as in diffusers; learned: the predicted variance per element;
   *   learned_range: exp(0.5 (frac log beta_t + (1 - frac) log v)), frac = (pred + 1) / 2).
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: DDPMStepOptions = {},
  ): SchedulerOutput {
    checkTensor(CLASS, "model_output", modelOutput, "step");
    checkTensor(CLASS, "sample", sample, "step");
    checkOptionKeys(CLASS, options, ["generator", "out"], "", "step");
    checkGenerator(CLASS, options.generator);
    const vt = this.init.variance_type;
    const learned = vt === "learned" || vt === "learned_range";
    const split =
      learned &&
      modelOutput.shape.length >= 2 &&
      sample.shape.length >= 2 &&
      modelOutput.shape[1] === sample.shape[1] * 2;
    if (!split && modelOutput.data.length !== sample.data.length)
      throw new RangeError(
        `${CLASS}.step: model_output has ${modelOutput.data.length} values but sample has ${sample.data.length}`,
      );
    if (learned && !split)
      throw new TypeError(
        `${CLASS}.step: variance_type ${JSON.stringify(vt)} needs a model output with twice the sample's channels (axis 1); diffusers fails with a TypeError otherwise`,
      );
    const pt = this.init.prediction_type;
    const mode = pt === "epsilon" ? 0 : pt === "sample" ? 1 : pt === "v_prediction" ? 2 : -1;
    if (mode < 0)
      throw new Error(
        `${CLASS}.step: prediction_type ${JSON.stringify(pt)} must be one of "epsilon", "sample" or "v_prediction"`,
      );
    const t = timestep;
    const prevT = this.previousTimestep(t);
    const at = this.alphaAt("step", t);
    const ap = prevT >= 0 ? this.alphaAt("step", prevT) : 1;
    const bt = f(1 - at),
      bp = f(1 - ap);
    const curAlpha = f(at / ap),
      curBeta = f(1 - curAlpha);
    const c0 = f(f(f(Math.sqrt(ap)) * curBeta) / bt);
    const c1 = f(f(f(Math.sqrt(curAlpha)) * bp) / bt);
    const sa = f(Math.sqrt(at)),
      sb = f(Math.sqrt(bt));

    const dtype = promote(modelOutput.dtype, sample.dtype);
    const m = torchMath(dtype);
    const { r } = m;
    const shape = sample.shape;
    const prev = this.outTensor("step", options.out?.prevSample, shape, dtype, "out.prevSample");
    const pred = this.outTensor(
      "step",
      options.out?.predOriginalSample,
      shape,
      dtype,
      "out.predOriginalSample",
    );
    const n = sample.data.length;
    // with a split output, channel block c of row b: model part first, predicted variance second
    const rows = shape[0] ?? 1,
      chans = split ? shape[1] : 1,
      inner = split ? n / (rows * chans) : n;
    const moIndex = (k: number): number => {
      if (!split) return k;
      const b = Math.floor(k / (chans * inner));
      return k + b * chans * inner;
    };
    const mo = modelOutput.data,
      x = sample.data,
      pd = pred.data;
    for (let k = 0; k < n; k++) {
      const s = x[k],
        mv = mo[moIndex(k)];
      pd[k] = mode === 0 ? r(r(s - r(sb * mv)) / sa) : mode === 1 ? mv : r(r(sa * s) - r(sb * mv));
    }
    this.clipOrThreshold(pred);
    let noise: ArrayLike<number> | null = null;
    let scale = 0;
    let minLog = 0,
      maxLog = 0;
    if (t > 0) {
      const nt = this.scratch("noise", shape, modelOutput.dtype);
      drawNoise(CLASS, options.generator, nt, { step: t });
      noise = nt.data;
      if (vt === "learned_range") {
        minLog = T32.log(this.getVariance(t, "fixed_small"));
        maxLog = T32.log(f(1 - f(at / ap)));
      } else if (!learned) {
        const v = this.getVariance(t);
        scale = vt === "fixed_small_log" ? v : f(Math.sqrt(v));
      }
    }
    const xd = prev.data;
    for (let k = 0; k < n; k++) {
      const y = r(r(c0 * pd[k]) + r(c1 * x[k]));
      if (noise === null) {
        xd[k] = y;
        continue;
      }
      let sd = scale;
      if (learned) {
        const pv = mo[moIndex(k) + chans * inner];
        if (vt === "learned") sd = m.sqrt(pv);
        else {
          const frac = r(r(pv + 1) / 2);
          sd = m.exp(r(0.5 * r(r(frac * maxLog) + r(r(1 - frac) * minLog))));
        }
      }
      xd[k] = r(y + r(sd * noise[k]));
    }
    return { prevSample: prev, predOriginalSample: pred };
  }
}
