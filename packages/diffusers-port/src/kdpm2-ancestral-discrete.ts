/**
 * Port of diffusers `KDPM2AncestralDiscreteScheduler`
 * (schedulers/scheduling_k_dpm_2_ancestral_discrete.py): k-diffusion's
 * `sample_dpm_2_ancestral` (DPM-Solver-2 toward sigma_down, then ancestral noise of size
 * sigma_up) as a scheduler with two model calls per step.
 */
import type { Tensor } from "@edmkit/core";
import type { SchedulerConfigJson } from "./config.js";
import type { SchedulerOutput } from "./discrete-scheduler.js";
import type { KDPM2DiscreteConfigInput } from "./family-config.js";
import { checkGenerator, drawNoise } from "./generator.js";
import { KDPM2Base, type KDPM2StepOptions, interleaveRepeat, logMidpointsF32 } from "./kdpm2-common.js";

const f = Math.fround;
const CLASS = "KDPM2AncestralDiscreteScheduler";

export class KDPM2AncestralDiscreteScheduler extends KDPM2Base {
  protected readonly midpointOffset = 0;
  private upHeld: Float32Array = new Float32Array(0);
  private downHeld: Float32Array = new Float32Array(0);

  constructor(
    config: SchedulerConfigJson<KDPM2DiscreteConfigInput> = {},
    overrides: Partial<KDPM2DiscreteConfigInput> = {},
  ) {
    super(CLASS, config, overrides);
  }

  static fromConfig(
    config: SchedulerConfigJson<KDPM2DiscreteConfigInput>,
    overrides: Partial<KDPM2DiscreteConfigInput> = {},
  ): KDPM2AncestralDiscreteScheduler {
    return new KDPM2AncestralDiscreteScheduler(config, overrides);
  }

  /** sigmas_up, interleaved (float32; the last entries are 0/0 = NaN as in diffusers, never used). */
  get sigmasUp(): Float32Array {
    return this.upHeld;
  }

  /** sigmas_down, interleaved (float32). */
  get sigmasDown(): Float32Array {
    return this.downHeld;
  }

  /**
   * The ancestral tables of `set_timesteps`, float32 tensor ops: with s' the next sigma (0
   * after the last), sigma_up = (s'^2 (s^2 - s'^2) / s^2) ** 0.5 (NaN for the final 0, kept),
   * sigma_down = (s'^2 - sigma_up^2) ** 0.5 with its last entry set to 0; the midpoints are
   * `exp(lerp(log s, log sigma_down, 0.5))` with the last two set to 0.
   */
  protected buildStageTables(sigmas: Float32Array): Float32Array {
    const n = sigmas.length;
    const up = new Float32Array(n),
      down = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = sigmas[i],
        s2 = f(s * s);
      const nx = i + 1 < n ? sigmas[i + 1] : 0,
        n2 = f(nx * nx);
      up[i] = Math.sqrt(f(f(n2 * f(s2 - n2)) / s2));
      down[i] = Math.sqrt(f(n2 - f(up[i] * up[i])));
    }
    down[n - 1] = 0;
    const mid = logMidpointsF32(sigmas, down);
    for (let i = Math.max(n - 2, 0); i < n; i++) mid[i] = 0;
    this.upHeld = interleaveRepeat(up);
    this.downHeld = interleaveRepeat(down);
    return mid;
  }

  protected secondStageInputSigma(i: number): number {
    return this.interpolHeld[i - 1];
  }

  /**
   * Port of `step(model_output, timestep, sample, generator)`:
   * - first stage: sigma = sigmas[i], midpoint = interpol[i]; x0 at sigma (epsilon / v as
   *   KDPM2; "sample" raises NotImplementedError); d = (sample - x0) / sigma; returns
   *   sample + d * (midpoint - sigma) and holds the sample (no noise);
   * - second stage: sigma = sigmas[i-1], midpoint = interpol[i-1], x0 from the output at the
   *   midpoint, d = (sample - x0) / midpoint; returns held + d * (sigma_down - sigma) +
   *   noise * sigma_up with one draw of the model output's shape and dtype.
   * The last timestep is a first stage step with midpoint 0 (no noise), so N steps draw N - 1
   * times.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: KDPM2StepOptions = {},
  ): SchedulerOutput {
    const who = "step";
    this.checkStepInputs(who, modelOutput, sample, options, ["out", "generator"]);
    checkGenerator(CLASS, options.generator);
    this.predictionMode();
    const first = this.stateInFirstOrder;
    const i = this.currentStepIndex(who, timestep, first);
    const sig = this.sigmasHeld,
      mid = this.interpolHeld;
    const sigma = first ? sig[i] : sig[i - 1];
    const sigmaMid = first ? mid[i] : mid[i - 1];
    const sigmaUp = this.upHeld[i - 1];
    const sigmaDown = this.downHeld[i - 1];
    const dt = f((first ? sigmaMid : sigmaDown) - sigma);
    let noise: { data: ArrayLike<number>; scale: number } | null = null;
    if (!first) {
      const t = this.scratch("noise", modelOutput.shape, modelOutput.dtype);
      drawNoise(CLASS, options.generator, t, { step: i, sigma: sigmaDown, sigmaNext: sigmaUp });
      noise = { data: t.data, scale: sigmaUp };
    }
    return this.stageStep(modelOutput, sample, options.out, i, first ? sigma : sigmaMid, dt, noise);
  }
}
