/**
 * Port of diffusers `KDPM2DiscreteScheduler` (schedulers/scheduling_k_dpm_2_discrete.py):
 * k-diffusion's `sample_dpm_2` (DPM-Solver-2 / Karras et al. Algorithm 2 without churn) as a
 * scheduler with two model calls per step, the second at the log-midpoint sigma.
 */
import type { Tensor } from "@edmkit/core";
import type { SchedulerConfigJson } from "./config.js";
import type { SchedulerOutput } from "./discrete-scheduler.js";
import type { KDPM2DiscreteConfigInput } from "./family-config.js";
import { KDPM2Base, type KDPM2StepOptions, logMidpointsF32 } from "./kdpm2-common.js";

const f = Math.fround;
const CLASS = "KDPM2DiscreteScheduler";

export class KDPM2DiscreteScheduler extends KDPM2Base {
  protected readonly midpointOffset = 1;

  /**
   * `KDPM2DiscreteScheduler.from_config(config, **overrides)`; like diffusers the constructor
   * already builds the train-length schedule.
   */
  constructor(
    config: SchedulerConfigJson<KDPM2DiscreteConfigInput> = {},
    overrides: Partial<KDPM2DiscreteConfigInput> = {},
  ) {
    super(CLASS, config, overrides);
  }

  static fromConfig(
    config: SchedulerConfigJson<KDPM2DiscreteConfigInput>,
    overrides: Partial<KDPM2DiscreteConfigInput> = {},
  ): KDPM2DiscreteScheduler {
    return new KDPM2DiscreteScheduler(config, overrides);
  }

  /**
   * KDPM2's midpoints: `exp(lerp(log s_i, log s_{i-1}, 0.5))` with `roll(1)`, so entry 0 pairs
   * s_0 with the final 0 (NaN, never used) and the last entry is 0.
   */
  protected buildStageTables(sigmas: Float32Array): Float32Array {
    const n = sigmas.length;
    const rolled = new Float32Array(n);
    for (let i = 0; i < n; i++) rolled[i] = sigmas[(i - 1 + n) % n];
    return logMidpointsF32(sigmas, rolled);
  }

  protected secondStageInputSigma(i: number): number {
    return this.interpolHeld[i];
  }

  /**
   * Port of `step(model_output, timestep, sample)`; sigma arithmetic on float32 0-dim tensors,
   * tensor arithmetic in the promoted dtype (no float32 cast of the sample).
   * - first stage (no held sample): sigma = sigmas[i], midpoint = interpol[i+1]; x0 at sigma
   *   (epsilon: sample - sigma * eps; v: v * (-sigma/(sigma**2+1)**0.5) + sample/(sigma**2+1);
   *   "sample" raises NotImplementedError as in diffusers); d = (sample - x0) / sigma;
   *   returns sample + d * (midpoint - sigma) and holds the sample;
   * - second stage: sigma = sigmas[i-1], midpoint = interpol[i], next = sigmas[i]; x0 from the
   *   output at the midpoint, d = (sample - x0) / midpoint; returns held + d * (next - sigma).
   * gamma is fixed at 0 (sigma_hat = sigma), as in diffusers. The last timestep is a first
   * stage step whose midpoint is 0, i.e. a plain Euler step to 0.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: KDPM2StepOptions = {},
  ): SchedulerOutput {
    const who = "step";
    // diffusers' KDPM2 step() takes no generator; one is tolerated (the loop passes it) and unused
    this.checkStepInputs(who, modelOutput, sample, options, ["out", "generator"]);
    this.predictionMode();
    const first = this.stateInFirstOrder;
    const i = this.currentStepIndex(who, timestep, first);
    const sig = this.sigmasHeld,
      mid = this.interpolHeld;
    const sigma = first ? sig[i] : sig[i - 1];
    const sigmaMid = first ? mid[i + 1] : mid[i];
    const sigmaNext = first ? sig[i + 1] : sig[i];
    const dt = f((first ? sigmaMid : sigmaNext) - sigma);
    return this.stageStep(modelOutput, sample, options.out, i, first ? sigma : sigmaMid, dt, null);
  }
}
