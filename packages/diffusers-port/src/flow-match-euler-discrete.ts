/**
 * Port of diffusers `FlowMatchEulerDiscreteScheduler`
 * (schedulers/scheduling_flow_match_euler_discrete.py): rectified-flow Euler sampling (SD3,
 * Flux): x_{i+1} = x_i + (sigma_{i+1} - sigma_i) v, sigma in [0, 1] with 1 pure noise and
 * timesteps sigma * num_train_timesteps; shift / dynamic shifting (mu) / shift_terminal /
 * Karras, exponential or beta sigmas, and the stochastic variant.
 */
import { type Tensor, libcMath, numpyLinspace, torchMath } from "@edmkit/core";
import { z } from "zod";
import { type SchedulerConfigJson, resolveConfig } from "./config.js";
import {
  type BaseStepOptions,
  DiscreteScheduler,
  checkNumbers,
  checkOptionKeys,
  checkTensor,
  promote,
} from "./discrete-scheduler.js";
import type { DPMSolverOutput } from "./dpmsolver-multistep.js";
import { checkGenerator, drawNoise } from "./generator.js";
import { foreignSigma, noisePositions } from "./schedule-index.js";
import { betaSigmas, exponentialSigmas, karrasSigmas } from "./spacing.js";

const CLASS = "FlowMatchEulerDiscreteScheduler";
const f = Math.fround;
const T32 = torchMath("float32");
const optBool = z
  .boolean()
  .nullable()
  .transform((v) => v ?? false);

/** `FlowMatchEulerDiscreteScheduler.__init__` parameters and defaults. */
export const flowMatchEulerDiscreteConfigSchema = z.object({
  num_train_timesteps: z.number().int().positive().default(1000),
  shift: z.number().default(1.0),
  use_dynamic_shifting: z.boolean().default(false),
  base_shift: z.number().nullable().default(0.5),
  max_shift: z.number().nullable().default(1.15),
  base_image_seq_len: z.number().int().nullable().default(256),
  max_image_seq_len: z.number().int().nullable().default(4096),
  invert_sigmas: z.boolean().default(false),
  shift_terminal: z.number().nullable().default(null),
  use_karras_sigmas: optBool.default(false),
  use_exponential_sigmas: optBool.default(false),
  use_beta_sigmas: optBool.default(false),
  time_shift_type: z.string().default("exponential"),
  stochastic_sampling: z.boolean().default(false),
});
export type FlowMatchEulerDiscreteConfig = z.output<typeof flowMatchEulerDiscreteConfigSchema>;
export type FlowMatchEulerDiscreteConfigInput = z.input<typeof flowMatchEulerDiscreteConfigSchema>;

export interface FlowMatchSetTimestepsOptions {
  numInferenceSteps?: number | null;
  /** Custom sigmas (float32), one per step; the shift is still applied to them. */
  sigmas?: ArrayLike<number> | null;
  /** Custom timesteps (float32), kept as given; sigmas = timesteps / T when no sigmas are given. */
  timesteps?: ArrayLike<number> | null;
  /** The dynamic-shifting parameter (required with use_dynamic_shifting). */
  mu?: number | null;
}

export type FlowMatchStepOptions = BaseStepOptions;

export class FlowMatchEulerDiscreteScheduler extends DiscreteScheduler {
  readonly order = 1;
  readonly init: FlowMatchEulerDiscreteConfig;
  /** `sigma_min` / `sigma_max` of the construction-time schedule (float32 values). */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  private shiftHeld: number;

  constructor(
    config: SchedulerConfigJson<FlowMatchEulerDiscreteConfigInput> = {},
    overrides: Partial<FlowMatchEulerDiscreteConfigInput> = {},
  ) {
    const resolved = resolveConfig(CLASS, flowMatchEulerDiscreteConfigSchema, config, overrides);
    const c = resolved.init;
    if (Number(c.use_beta_sigmas) + Number(c.use_exponential_sigmas) + Number(c.use_karras_sigmas) > 1)
      throw new Error(
        `${CLASS}: only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be used`,
      );
    if (c.time_shift_type !== "exponential" && c.time_shift_type !== "linear")
      throw new Error(
        `${CLASS}: time_shift_type must be "exponential" or "linear", got ${JSON.stringify(c.time_shift_type)}`,
      );
    const none = new Float32Array(0);
    super(CLASS, resolved, { betas: none, alphas: none, alphasCumprod: none, trainSigmas: none });
    this.init = c;
    this.shiftHeld = c.shift;
    // float32 timesteps T .. 1, sigmas t / T, shifted unless the shift is dynamic
    const T = c.num_train_timesteps;
    const lin = numpyLinspace(1, T, T);
    const sig = new Float32Array(T);
    for (let i = 0; i < T; i++) sig[i] = T32.div(f(lin[T - 1 - i]), T);
    if (!c.use_dynamic_shifting) shiftF32(sig, c.shift);
    const ts = new Float32Array(T);
    for (let i = 0; i < T; i++) ts[i] = T32.mul(sig[i], T);
    this.sigmasHeld = sig;
    this.timestepsHeld = ts;
    this.sigmaMin = sig[T - 1];
    this.sigmaMax = sig[0];
  }

  static fromConfig(
    config: SchedulerConfigJson<FlowMatchEulerDiscreteConfigInput>,
    overrides: Partial<FlowMatchEulerDiscreteConfigInput> = {},
  ): FlowMatchEulerDiscreteScheduler {
    return new FlowMatchEulerDiscreteScheduler(config, overrides);
  }

  /** diffusers' `shift` property (the config shift unless set_shift changed it). */
  get shift(): number {
    return this.shiftHeld;
  }

  /** Port of `set_shift`. */
  setShift(shift: number): void {
    this.shiftHeld = shift;
  }

  /** diffusers has no init_noise_sigma here: a pipeline starts from the latent itself (1). */
  override get initNoiseSigma(): number {
    return 1;
  }

  /**
   * diffusers' FlowMatchEulerDiscreteScheduler has no scale_model_input: pipelines give the
   * sample to the model as it is. This identity (a copy into `out` when given) lets the
   * generic loop call it; it does not touch the step index.
   */
  override scaleModelInput(sample: Tensor, _timestep: number, out?: Tensor): Tensor {
    checkTensor(this.className, "sample", sample, "scaleModelInput");
    if (!out) return sample;
    const o = this.outTensor("scaleModelInput", out, sample.shape, sample.dtype, "out");
    if (o !== sample) o.data.set(sample.data);
    return o;
  }

  /**
   * Port of `set_timesteps(num_inference_steps, device, sigmas, mu, timesteps)`:
   * 1. sigmas from a float64 np.linspace(sigma_max T, sigma_min T, N) / T, or the custom
   *    sigmas / timesteps (float32 arrays, so the arithmetic below is float32 for them);
   * 2. shift: time_shift(mu) (exponential: e^mu / (e^mu + (1/s - 1)); linear: mu / (mu +
   *    (1/s - 1))) with use_dynamic_shifting (mu then required), else shift s / (1 + (shift -
   *    1) s);
   * 3. shift_terminal (when truthy): stretch so the last sigma equals it;
   * 4. Karras / exponential / beta conversion of the shifted sigmas (config sigma_min /
   *    sigma_max when a foreign config brought them);
   * 5. float32 sigmas, timesteps sigma * T (or the custom timesteps), then the terminal sigma
   *    0 — or, with invert_sigmas, sigmas 1 - sigma, timesteps of those, and a final 1.
   */
  setTimesteps(arg: number | FlowMatchSetTimestepsOptions): void {
    const who = `${CLASS}.setTimesteps`;
    const o: FlowMatchSetTimestepsOptions =
      typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(who, o, ["numInferenceSteps", "sigmas", "timesteps", "mu"]);
    const c = this.init;
    const mu = o.mu ?? null,
      custS = o.sigmas ?? null,
      custT = o.timesteps ?? null;
    let n = o.numInferenceSteps ?? null;
    checkNumbers(who, "sigmas", custS);
    checkNumbers(who, "timesteps", custT);
    if (c.use_dynamic_shifting && mu === null)
      throw new Error(`${who}: mu must be passed when use_dynamic_shifting is set to true`);
    if (custS !== null && custT !== null && custS.length !== custT.length)
      throw new Error(`${who}: sigmas and timesteps should have the same length`);
    if (n !== null) {
      if ((custS !== null && custS.length !== n) || (custT !== null && custT.length !== n))
        throw new Error(
          `${who}: sigmas and timesteps should have the same length as numInferenceSteps, if numInferenceSteps is provided`,
        );
      if (!Number.isInteger(n) || n < 1)
        throw new RangeError(`${who}: numInferenceSteps must be a positive integer, got ${n}`);
    } else if (custS === null && custT === null)
      throw new Error(`${who}: give numInferenceSteps, sigmas or timesteps`);
    else n = (custS ?? custT)?.length as number;
    const T = c.num_train_timesteps;

    // float32 arithmetic when the input is a float32 numpy array (numpy 1.x scalar casting)
    const f32 = custS !== null || custT !== null;
    const r = f32 ? f : (v: number) => v;
    let sig: Float64Array;
    if (custS !== null) sig = Float64Array.from(custS, f);
    else if (custT !== null) sig = Float64Array.from(custT, (t) => f(f(t) / T));
    else {
      const ts = numpyLinspace(this.sigmaMax * T, this.sigmaMin * T, n);
      sig = ts.map((t) => t / T);
    }
    if (c.use_dynamic_shifting) {
      const m = mu as number;
      const num = c.time_shift_type === "exponential" ? libcMath.exp(m) : m;
      sig = sig.map((s) => r(r(num) / r(r(num) + r(r(1 / s) - 1))));
    } else {
      const sh = this.shiftHeld;
      sig = sig.map((s) => r(r(r(sh) * s) / r(1 + r(r(sh - 1) * s))));
    }
    if (c.shift_terminal) {
      const scale = (1 - sig[sig.length - 1]) / (1 - c.shift_terminal);
      sig = sig.map((s) => r(1 - r(r(1 - s) / scale)));
    }
    const sMin = foreignSigma(this.config, "sigma_min", who),
      sMax = foreignSigma(this.config, "sigma_max", who);
    if (c.use_karras_sigmas) sig = karrasSigmas(sig, n, sMin, sMax);
    else if (c.use_exponential_sigmas) sig = exponentialSigmas(sig, n, sMin, sMax);
    else if (c.use_beta_sigmas) sig = betaSigmas(sig, n, sMin, sMax);

    let sigmas = Float32Array.from(sig);
    let timesteps =
      custT !== null ? Float32Array.from(custT) : Float32Array.from(sigmas, (s) => T32.mul(s, T));
    const held = new Float32Array(sigmas.length + 1);
    if (c.invert_sigmas) {
      sigmas = sigmas.map((s) => T32.sub(1, s));
      timesteps = Float32Array.from(sigmas, (s) => T32.mul(s, T));
      held[sigmas.length] = 1;
    }
    held.set(sigmas);
    this.sigmasHeld = held;
    this.timestepsHeld = timesteps;
    this.numInferenceSteps = n;
    this.resetRunState();
  }

  /**
   * Port of `step(model_output, timestep, sample, ..., generator)` (s_churn, s_tmin, s_tmax,
   * s_noise are accepted and unused, as in diffusers):
   * - the sample is cast to float32 first (a float64 run is rounded to float32 every step);
   * - deterministic: x + (sigma_next - sigma) v, dt a float32 scalar;
   * - stochastic_sampling: x0 = x - sigma v, one float32 normal draw, x = (1 - sigma_next) x0
   *   + sigma_next noise;
   * - the result is cast to the model output's dtype.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: FlowMatchStepOptions & { sChurn?: number; sTmin?: number; sTmax?: number; sNoise?: number } = {},
  ): DPMSolverOutput {
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
    const i = this.currentStepIndex(who, timestep, true);
    const sigma = this.sigmasHeld[i],
      next = this.sigmasHeld[i + 1];
    const dtype = modelOutput.dtype;
    const r = torchMath(dtype).r;
    const prev = this.outTensor(who, options.out?.prevSample, sample.shape, dtype, "out.prevSample");
    const x = sample.data,
      v = modelOutput.data,
      xd = prev.data;
    if (this.init.stochastic_sampling) {
      const noise = this.scratch("noise", sample.shape, "float32");
      drawNoise(CLASS, options.generator, noise, { step: i, sigma, sigmaNext: next });
      const keep = T32.sub(1, next),
        e = noise.data;
      for (let k = 0; k < xd.length; k++) {
        const x0 = r(f(x[k]) - r(sigma * v[k]));
        xd[k] = r(r(keep * x0) + f(next * e[k]));
      }
    } else {
      const dt = T32.sub(next, sigma);
      for (let k = 0; k < xd.length; k++) xd[k] = r(f(x[k]) + r(dt * v[k]));
    }
    this.stepIndexHeld = i + 1;
    return { prevSample: prev };
  }

  /**
   * Port of `scale_noise(sample, timestep, noise)`, the flow forward process: sigma noise +
   * (1 - sigma) sample with sigma from the schedule (in the sample's dtype) at t's position
   * (or the step / begin index, as add_noise elsewhere).
   */
  scaleNoise(sample: Tensor, timestep: number | ArrayLike<number>, noise: Tensor, out?: Tensor): Tensor {
    const { idx, rows, per } = noisePositions(this, `${CLASS}.scaleNoise`, sample, noise, timestep);
    const dtype = promote(sample.dtype, noise.dtype);
    const m = torchMath(sample.dtype);
    const rr = torchMath(dtype).r;
    const o = this.outTensor("scaleNoise", out, sample.shape, dtype, "out");
    for (let b = 0; b < rows; b++) {
      const s = m.r(this.sigmasHeld[idx.length === 1 ? idx[0] : idx[b]]);
      const keep = m.sub(1, s);
      for (let k = b * per; k < (b + 1) * per; k++)
        o.data[k] = rr(rr(s * noise.data[k]) + rr(keep * sample.data[k]));
    }
    return o;
  }
}

/** shift s / (1 + (shift - 1) s) on float32 torch tensors (the Python floats rounded first). */
function shiftF32(sig: Float32Array, shift: number): void {
  for (let i = 0; i < sig.length; i++)
    sig[i] = T32.div(T32.mul(f(shift), sig[i]), T32.add(1, T32.mul(f(shift - 1), sig[i])));
}
