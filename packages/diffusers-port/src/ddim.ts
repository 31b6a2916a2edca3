/**
 * Port of diffusers `DDIMScheduler` (schedulers/scheduling_ddim.py): Song et al. 2021,
 * denoising diffusion implicit models (eta = 0 deterministic, eta = 1 DDPM-like noise).
 */
import { type Tensor, torchMath } from "@edmkit/core";
import { AlphaScheduler, integerTimesteps } from "./alpha-scheduler.js";
import { type SchedulerConfigJson, resolveConfig } from "./config.js";
import {
  type BaseStepOptions,
  type SchedulerOutput,
  checkOptionKeys,
  checkTensor,
  promote,
} from "./discrete-scheduler.js";
import { type DDIMConfig, type DDIMConfigInput, ddimConfigSchema } from "./family-config.js";
import { checkGenerator, drawNoise } from "./generator.js";

const f = Math.fround;
const CLASS = "DDIMScheduler";

export interface DDIMStepOptions extends BaseStepOptions {
  /** Weight of the noise (0: DDIM, 1: DDPM-like); diffusers' default 0. */
  eta?: number;
  /** Re-derive the noise prediction from the clipped x0 (GLIDE). */
  useClippedModelOutput?: boolean;
  /** Noise for the variance term instead of drawing it (CycleDiffusion); not with a generator. */
  varianceNoise?: Tensor | null;
}

export class DDIMScheduler extends AlphaScheduler {
  readonly init: DDIMConfig;
  /** alphas_cumprod before the first timestep: 1 with set_alpha_to_one, else alphas_cumprod[0]. */
  readonly finalAlphaCumprod: number;

  /** `DDIMScheduler.from_config(config, **overrides)`; timesteps start as T-1 ... 0. */
  constructor(config: SchedulerConfigJson<DDIMConfigInput> = {}, overrides: Partial<DDIMConfigInput> = {}) {
    const resolved = resolveConfig(CLASS, ddimConfigSchema, config, overrides);
    const c = resolved.init;
    super(
      CLASS,
      resolved,
      AlphaScheduler.betasFor(CLASS, c, ["linear", "scaled_linear", "squaredcos_cap_v2"]),
    );
    this.init = c;
    this.finalAlphaCumprod = c.set_alpha_to_one ? 1 : this.alphasCumprod[0];
  }

  static fromConfig(
    config: SchedulerConfigJson<DDIMConfigInput>,
    overrides: Partial<DDIMConfigInput> = {},
  ): DDIMScheduler {
    return new DDIMScheduler(config, overrides);
  }

  /**
   * Port of `set_timesteps(num_inference_steps)`: integer timesteps by timestep_spacing
   * (`integerTimesteps`); more steps than training timesteps is diffusers' ValueError, and so
   * is a non-positive count.
   */
  setTimesteps(arg: number | { numInferenceSteps?: number | null }): void {
    const who = `${CLASS}.setTimesteps`;
    const o = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(
      who,
      o,
      ["numInferenceSteps"],
      " (diffusers' DDIM set_timesteps has no custom timesteps)",
    );
    const N = o.numInferenceSteps;
    const T = this.init.num_train_timesteps;
    if (typeof N !== "number" || !Number.isInteger(N) || N < 1)
      throw new RangeError(`${who}: numInferenceSteps must be a positive integer, got ${String(N)}`);
    if (N > T)
      throw new RangeError(
        `${who}: numInferenceSteps ${N} cannot be larger than num_train_timesteps ${T} (diffusers raises ValueError)`,
      );
    this.numInferenceSteps = N;
    this.timestepsHeld = integerTimesteps(
      who,
      this.init.timestep_spacing,
      N,
      T,
      this.init.steps_offset,
      `"leading" or "trailing"`,
    );
  }

  /**
   * Port of `_get_variance(timestep, prev_timestep)`: (1 - abar_prev) / (1 - abar_t) *
   * (1 - abar_t / abar_prev) on float32 0-dim tensors (abar_prev the final alpha for a
   * negative prev_timestep).
   */
  getVariance(timestep: number, prevTimestep: number): number {
    const at = this.alphaAt("getVariance", timestep);
    const ap = prevTimestep >= 0 ? this.alphaAt("getVariance", prevTimestep) : this.finalAlphaCumprod;
    return f(f(f(1 - ap) / f(1 - at)) * f(1 - f(at / ap)));
  }

  /**
   * Port of `step(model_output, timestep, sample, eta, use_clipped_model_output, generator,
   * variance_noise)`; `eta` may be given positionally as in diffusers' tests. With
   * prev_t = t - T // N (the final alpha when negative), all scalars are float32 0-dim tensor
   * ops, tensor ops in the promoted dtype:
   * - x0 and eps: epsilon `(x - (1-abar_t)**0.5 eps) / abar_t**0.5`; sample: the output, eps
   *   `(x - abar_t**0.5 x0) / (1-abar_t)**0.5`; v `abar_t**0.5 x - (1-abar_t)**0.5 v` and
   *   `abar_t**0.5 v + (1-abar_t)**0.5 x`;
   * - x0 thresholded or clipped (clip_sample defaults to True);
   * - std = eta * variance**0.5 (eta meeting the float32 tensor); with
   *   use_clipped_model_output eps is re-derived from the clipped x0;
   * - prev = abar_prev**0.5 x0 + (1 - abar_prev - std**2)**0.5 eps, plus std * noise when
   *   eta > 0 (one draw of the model output's dtype, or `varianceNoise`).
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    optionsOrEta: DDIMStepOptions | number = {},
  ): SchedulerOutput {
    const options: DDIMStepOptions =
      typeof optionsOrEta === "number" ? { eta: optionsOrEta } : (optionsOrEta ?? {});
    checkTensor(CLASS, "model_output", modelOutput, "step");
    checkTensor(CLASS, "sample", sample, "step");
    checkOptionKeys(
      CLASS,
      options,
      ["eta", "useClippedModelOutput", "generator", "varianceNoise", "out"],
      "",
      "step",
    );
    checkGenerator(CLASS, options.generator);
    if (modelOutput.data.length !== sample.data.length)
      throw new RangeError(
        `${CLASS}.step: model_output has ${modelOutput.data.length} values but sample has ${sample.data.length}`,
      );
    if (this.numInferenceSteps === null)
      throw new Error(
        `${CLASS}.step: numInferenceSteps is null; call setTimesteps() first (diffusers raises ValueError)`,
      );
    const eta = options.eta ?? 0;
    if (typeof eta !== "number" || Number.isNaN(eta))
      throw new TypeError(`${CLASS}.step: eta must be a number, got ${String(eta)}`);
    const pt = this.init.prediction_type;
    const mode = pt === "epsilon" ? 0 : pt === "sample" ? 1 : pt === "v_prediction" ? 2 : -1;
    if (mode < 0)
      throw new Error(
        `${CLASS}.step: prediction_type ${JSON.stringify(pt)} must be one of "epsilon", "sample" or "v_prediction"`,
      );
    const T = this.init.num_train_timesteps;
    const prevT = timestep - Math.floor(T / this.numInferenceSteps);
    const at = this.alphaAt("step", timestep);
    const ap = prevT >= 0 ? this.alphaAt("step", prevT) : this.finalAlphaCumprod;
    const bt = f(1 - at);
    const sa = f(Math.sqrt(at)),
      sb = f(Math.sqrt(bt));
    const variance = this.getVariance(timestep, prevT);
    const std = f(f(eta) * f(Math.sqrt(variance)));
    const dirCoef = f(Math.sqrt(f(f(1 - ap) - f(std * std))));
    const sap = f(Math.sqrt(ap));

    const dtype = promote(modelOutput.dtype, sample.dtype);
    const { r } = torchMath(dtype);
    const prev = this.outTensor("step", options.out?.prevSample, modelOutput.shape, dtype, "out.prevSample");
    const pred = this.outTensor(
      "step",
      options.out?.predOriginalSample,
      modelOutput.shape,
      dtype,
      "out.predOriginalSample",
    );
    const eps = this.scratch("eps", modelOutput.shape, dtype);
    const mo = modelOutput.data,
      x = sample.data,
      pd = pred.data,
      ed = eps.data,
      n = mo.length;
    for (let k = 0; k < n; k++) {
      const s = x[k],
        m = mo[k];
      if (mode === 0) {
        pd[k] = r(r(s - r(sb * m)) / sa);
        ed[k] = m;
      } else if (mode === 1) {
        pd[k] = m;
        ed[k] = r(r(s - r(sa * m)) / sb);
      } else {
        pd[k] = r(r(sa * s) - r(sb * m));
        ed[k] = r(r(sa * m) + r(sb * s));
      }
    }
    this.clipOrThreshold(pred);
    if (options.useClippedModelOutput) for (let k = 0; k < n; k++) ed[k] = r(r(x[k] - r(sa * pd[k])) / sb);
    let noise: ArrayLike<number> | null = null;
    if (eta > 0) {
      const given = options.varianceNoise ?? null;
      if (given !== null && options.generator != null)
        throw new Error(
          `${CLASS}.step: pass either generator or varianceNoise, not both (diffusers raises ValueError)`,
        );
      if (given !== null) {
        checkTensor(CLASS, "varianceNoise", given, "step");
        if (given.data.length !== n)
          throw new RangeError(`${CLASS}.step: varianceNoise has ${given.data.length} values, expected ${n}`);
        noise = given.data;
      } else {
        const t = this.scratch("noise", modelOutput.shape, modelOutput.dtype);
        drawNoise(CLASS, options.generator, t, { step: timestep, sigma: std });
        noise = t.data;
      }
    }
    const xd = prev.data;
    for (let k = 0; k < n; k++) {
      const y = r(r(sap * pd[k]) + r(dirCoef * ed[k]));
      xd[k] = noise === null ? y : r(y + r(std * noise[k]));
    }
    return { prevSample: prev, predOriginalSample: pred };
  }
}
