/**
 * Port of diffusers `EDMEulerScheduler` (schedulers/scheduling_edm_euler.py): Karras et al.
 * (2022) Euler sampling with optional churn, the EDM preconditioning applied inside the
 * scheduler (the model gets c_in x and c_noise, step() forms c_skip x + c_out F).
 */
import { type Tensor, torchLinspace, torchMath } from "@edmkit/core";
import { z } from "zod";
import { type SchedulerConfigJson, resolveConfig } from "./config.js";
import {
  type BaseStepOptions,
  type SchedulerOutput,
  checkNumbers,
  checkOptionKeys,
} from "./discrete-scheduler.js";
import { EdmScheduler, cNoise, edmConfigKeys, edmExponential, edmKarras, edmScalings } from "./edm.js";
import { checkGenerator, drawNoise } from "./generator.js";

const CLASS = "EDMEulerScheduler";
const f = Math.fround;
const T32 = torchMath("float32");

/** `EDMEulerScheduler.__init__` parameters and defaults. */
export const edmEulerConfigSchema = z.object({
  ...edmConfigKeys,
  final_sigmas_type: z.string().default("zero"),
});
export type EDMEulerConfig = z.output<typeof edmEulerConfigSchema>;
export type EDMEulerConfigInput = z.input<typeof edmEulerConfigSchema>;

export interface EDMEulerStepOptions extends BaseStepOptions {
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
}

export interface EDMEulerSetTimestepsOptions {
  numInferenceSteps?: number | null;
  /** diffusers' `sigmas` argument: used as the RAMP of the sigma schedule, not as sigmas. */
  sigmas?: ArrayLike<number> | null;
}

export class EDMEulerScheduler extends EdmScheduler {
  readonly order = 1;
  readonly init: EDMEulerConfig;

  constructor(
    config: SchedulerConfigJson<EDMEulerConfigInput> = {},
    overrides: Partial<EDMEulerConfigInput> = {},
  ) {
    const resolved = resolveConfig(CLASS, edmEulerConfigSchema, config, overrides);
    const c = resolved.init;
    EdmScheduler.checkSchedule(CLASS, c);
    const none = new Float32Array(0);
    super(CLASS, resolved, { betas: none, alphas: none, alphasCumprod: none, trainSigmas: none });
    this.init = c;
    // the construction-time schedule: T + 1 sigmas from the ramp arange(T + 1) / T
    const T = c.num_train_timesteps;
    const ramp = new Float64Array(T + 1);
    for (let i = 0; i <= T; i++) ramp[i] = i / T;
    this.build(ramp);
  }

  static fromConfig(
    config: SchedulerConfigJson<EDMEulerConfigInput>,
    overrides: Partial<EDMEulerConfigInput> = {},
  ): EDMEulerScheduler {
    return new EDMEulerScheduler(config, overrides);
  }

  /** sigmas from a float64 ramp (stored float32), timesteps = c_noise, then the final sigma. */
  private build(ramp: ArrayLike<number>): void {
    const c = this.init;
    const sig = Float32Array.from(
      c.sigma_schedule === "karras" ? edmKarras(ramp, "float64", c) : edmExponential(ramp.length, c),
    );
    let last: number;
    if (c.final_sigmas_type === "sigma_min") last = sig[sig.length - 1];
    else if (c.final_sigmas_type === "zero") last = 0;
    else
      throw new Error(
        `${CLASS}: final_sigmas_type must be "zero" or "sigma_min", got ${JSON.stringify(c.final_sigmas_type)}`,
      );
    this.timestepsHeld = cNoise(sig);
    const held = new Float32Array(sig.length + 1);
    held.set(sig);
    held[sig.length] = last;
    this.sigmasHeld = held;
    this.resetRunState();
  }

  /**
   * Port of `set_timesteps(num_inference_steps, device, sigmas)`: the ramp is a float64
   * torch.linspace(0, 1, N), or the given `sigmas` (diffusers feeds them through the same
   * Karras / exponential formula, so they act as the ramp); sigmas float32, timesteps
   * c_noise = log(sigma) / 4 in float32, then the final sigma (0, or the last sigma).
   */
  setTimesteps(arg: number | EDMEulerSetTimestepsOptions): void {
    const who = `${CLASS}.setTimesteps`;
    const o: EDMEulerSetTimestepsOptions = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(who, o, ["numInferenceSteps", "sigmas"]);
    const n = o.numInferenceSteps ?? null,
      custom = o.sigmas ?? null;
    checkNumbers(who, "sigmas", custom);
    if (custom === null && (n === null || !Number.isInteger(n) || n < 1))
      throw new RangeError(`${who}: numInferenceSteps must be a positive integer, got ${n}`);
    this.numInferenceSteps = n;
    this.build(custom !== null ? Float64Array.from(custom) : torchLinspace(0, 1, n as number, "float64"));
  }

  /**
   * Port of `step(model_output, timestep, sample, s_churn, s_tmin, s_tmax, s_noise, generator)`:
   * - the sample is cast to float32 first (a float64 run is rounded to float32 every step);
   * - churn as EulerDiscreteScheduler: gamma = min(s_churn / (len(sigmas) - 1), sqrt2 - 1)
   *   inside the float32 window [s_tmin, s_tmax], sigma_hat = sigma (gamma + 1) in float32,
   *   one draw (model output's dtype) only when gamma > 0, x += noise s_noise (sigma_hat^2 -
   *   sigma^2)^0.5;
   * - x0 = c_skip(sigma_hat) x + c_out(sigma_hat) F (`precondition_outputs`; the model ran at
   *   sigma on the un-churned sample);
   * - x_prev = x + (x - x0) / sigma_hat * (sigma_next - sigma_hat), cast to the output's dtype.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: EDMEulerStepOptions = {},
  ): SchedulerOutput {
    const who = "step";
    this.checkStepInputs(who, modelOutput, sample, options, [
      "sChurn",
      "sTmin",
      "sTmax",
      "sNoise",
      "generator",
      "out",
    ]);
    checkGenerator(CLASS, options.generator);
    const num = (name: string, v: unknown, d: number): number => {
      if (v === undefined) return d;
      if (typeof v !== "number" || Number.isNaN(v))
        throw new TypeError(`${CLASS}.step: ${name} must be a number`);
      return v;
    };
    const sChurn = num("sChurn", options.sChurn, 0),
      sTmin = num("sTmin", options.sTmin, 0),
      sTmax = num("sTmax", options.sTmax, Infinity),
      sNoise = num("sNoise", options.sNoise, 1);
    const i = this.currentStepIndex(who, timestep, true);
    const sigmas = this.sigmasHeld;
    const sigma = sigmas[i];
    const gamma =
      f(sTmin) <= sigma && sigma <= f(sTmax) ? Math.min(sChurn / (sigmas.length - 1), Math.SQRT2 - 1) : 0;
    const sigmaHat = T32.mul(sigma, f(gamma + 1));
    const dtype = modelOutput.dtype;
    const m = torchMath(dtype);
    const r = m.r;
    const prev = this.outTensor(who, options.out?.prevSample, sample.shape, dtype, "out.prevSample");
    const pred = this.outTensor(
      who,
      options.out?.predOriginalSample,
      sample.shape,
      dtype,
      "out.predOriginalSample",
    );
    let noise: Float32Array | Float64Array | null = null;
    let churn = 0;
    if (gamma > 0) {
      const buf = this.scratch("noise", modelOutput.shape, dtype);
      drawNoise(CLASS, options.generator, buf, { step: i, sigma, sigmaNext: sigmas[i + 1] });
      noise = buf.data;
      churn = T32.sqrt(T32.sub(T32.mul(sigmaHat, sigmaHat), T32.mul(sigma, sigma)));
    }
    const { cSkip, cOut } = edmScalings(`${CLASS}.step`, sigmaHat, this.init);
    const dt = T32.sub(sigmas[i + 1], sigmaHat);
    const sN = m.r(sNoise);
    // the sample term is float32 unless the churn noise made it the output's dtype
    const rs = noise === null ? f : r;
    const mo = modelOutput.data,
      x = sample.data,
      pd = pred.data,
      xd = prev.data;
    for (let k = 0; k < xd.length; k++) {
      let s = f(x[k]);
      if (noise !== null) s = r(s + r(r(noise[k] * sN) * churn));
      const x0 = r(rs(cSkip * s) + r(cOut * mo[k]));
      pd[k] = x0;
      xd[k] = r(s + r(r(r(s - x0) / sigmaHat) * dt));
    }
    this.stepIndexHeld = i + 1;
    return { prevSample: prev, predOriginalSample: pred };
  }
}
