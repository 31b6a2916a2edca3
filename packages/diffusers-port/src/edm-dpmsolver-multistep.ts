/**
 * Port of diffusers `EDMDPMSolverMultistepScheduler`
 * (schedulers/scheduling_edm_dpmsolver_multistep.py): DPM-Solver++ (ODE or SDE, orders 1-3)
 * on an EDM-preconditioned model. The sample is the EDM x (alpha_t = 1, sigma_t = sigma), the
 * converted output is x0 = c_skip x + c_out F, and the updates are DPMSolverMultistep's.
 */
import { type DType, type Tensor, torchLinspace, torchMath } from "@edmkit/core";
import { z } from "zod";
import { type SchedulerConfigJson, resolveConfig } from "./config.js";
import { type BaseStepOptions, checkOptionKeys, promote } from "./discrete-scheduler.js";
import {
  type AlphaSigma,
  type DpmAlgorithm,
  type DpmSolverType,
  OutputHistory,
  applyDpmUpdate,
  dpmStepUpdate,
  thresholdSample,
} from "./dpm-solver.js";
import type { DPMSolverOutput } from "./dpmsolver-multistep.js";
import { EdmScheduler, cNoise, edmConfigKeys, edmExponential, edmKarras, edmScalings } from "./edm.js";
import { checkGenerator, drawNoise } from "./generator.js";
import { lastIfAbsent } from "./schedule-index.js";

const CLASS = "EDMDPMSolverMultistepScheduler";
const T32 = torchMath("float32");
const f = Math.fround;

/** `EDMDPMSolverMultistepScheduler.__init__` parameters and defaults. */
export const edmDpmSolverMultistepConfigSchema = z.object({
  ...edmConfigKeys,
  solver_order: z.number().int().default(2),
  thresholding: z.boolean().default(false),
  dynamic_thresholding_ratio: z.number().default(0.995),
  sample_max_value: z.number().default(1.0),
  algorithm_type: z.string().default("dpmsolver++"),
  solver_type: z.string().default("midpoint"),
  lower_order_final: z.boolean().default(true),
  euler_at_final: z.boolean().default(false),
  final_sigmas_type: z.string().default("zero"),
});
export type EDMDPMSolverMultistepConfig = z.output<typeof edmDpmSolverMultistepConfigSchema>;
export type EDMDPMSolverMultistepConfigInput = z.input<typeof edmDpmSolverMultistepConfigSchema>;

export type EDMDPMSolverStepOptions = BaseStepOptions;

/** `_sigma_to_alpha_sigma_t` of the EDM frame: alpha = 1 (an integer tensor), lambda = -log(sigma). */
function edmAlphaSigma(sigma: number): AlphaSigma {
  return { alpha: 1, sigma, lambda: T32.sub(0, T32.log(sigma)) };
}

export class EDMDPMSolverMultistepScheduler extends EdmScheduler {
  readonly order = 1;
  readonly init: EDMDPMSolverMultistepConfig;
  readonly algorithmType: DpmAlgorithm;
  readonly solverType: DpmSolverType;
  lowerOrderNums = 0;
  private readonly history: OutputHistory;
  private rowBuffer: Float32Array | Float64Array = new Float64Array(0);

  constructor(
    config: SchedulerConfigJson<EDMDPMSolverMultistepConfigInput> = {},
    overrides: Partial<EDMDPMSolverMultistepConfigInput> = {},
  ) {
    const resolved = resolveConfig(CLASS, edmDpmSolverMultistepConfigSchema, config, overrides);
    const c = resolved.init;
    let algorithm = c.algorithm_type;
    if (algorithm !== "dpmsolver++" && algorithm !== "sde-dpmsolver++") {
      if (algorithm === "deis") algorithm = "dpmsolver++";
      else
        throw new Error(
          `${CLASS}: algorithm_type ${JSON.stringify(algorithm)} is not implemented (diffusers raises NotImplementedError); choose "dpmsolver++" or "sde-dpmsolver++"`,
        );
    }
    let solver = c.solver_type;
    if (solver !== "midpoint" && solver !== "heun") {
      if (["logrho", "bh1", "bh2"].includes(solver)) solver = "midpoint";
      else
        throw new Error(
          `${CLASS}: solver_type ${JSON.stringify(solver)} is not implemented (diffusers raises NotImplementedError); choose "midpoint" or "heun"`,
        );
    }
    if (c.algorithm_type === "deis" && c.final_sigmas_type === "zero")
      throw new Error(
        `${CLASS}: final_sigmas_type "zero" is not supported for algorithm_type "deis"; choose final_sigmas_type "sigma_min" instead`,
      );
    // diffusers leaves `sigmas` unbound (UnboundLocalError) for any other sigma_schedule
    EdmScheduler.checkSchedule(CLASS, c);
    if (!Number.isInteger(c.solver_order) || c.solver_order < 1)
      throw new RangeError(`${CLASS}: solver_order must be 1, 2 or 3, got ${c.solver_order}`);
    const none = new Float32Array(0);
    const registered = { ...resolved.config, algorithm_type: algorithm, solver_type: solver };
    super(
      CLASS,
      { config: Object.freeze(registered), ignoredKeys: resolved.ignoredKeys },
      { betas: none, alphas: none, alphasCumprod: none, trainSigmas: none },
    );
    this.init = { ...c, algorithm_type: algorithm, solver_type: solver };
    this.algorithmType = algorithm as DpmAlgorithm;
    this.solverType = solver as DpmSolverType;
    this.history = new OutputHistory(c.solver_order);
    // construction-time schedule over num_train_timesteps, final sigma 0
    const sig = this.schedule(c.num_train_timesteps);
    this.timestepsHeld = cNoise(sig);
    const held = new Float32Array(sig.length + 1);
    held.set(sig);
    this.sigmasHeld = held;
  }

  static fromConfig(
    config: SchedulerConfigJson<EDMDPMSolverMultistepConfigInput>,
    overrides: Partial<EDMDPMSolverMultistepConfigInput> = {},
  ): EDMDPMSolverMultistepScheduler {
    return new EDMDPMSolverMultistepScheduler(config, overrides);
  }

  /** The sigmas of a default-dtype (float32) ramp of `count` points, stored float32. */
  private schedule(count: number): Float32Array {
    const c = this.init;
    if (c.sigma_schedule === "karras")
      return Float32Array.from(edmKarras(torchLinspace(0, 1, count, "float32"), "float32", c));
    return Float32Array.from(edmExponential(count, c));
  }

  /** Port of `index_for_timestep`: as DPMSolverMultistep's (last position when t is absent). */
  override indexForTimestep(
    timestep: number,
    scheduleTimesteps: Float32Array | Float64Array = this.timestepsHeld,
  ): number {
    return lastIfAbsent(() => super.indexForTimestep(timestep, scheduleTimesteps), this.timestepsHeld.length);
  }

  /** No cast in this scheduler: prev_sample keeps torch's promotion of sample and output. */
  override stepDtype(modelOutput: DType, sample: DType): DType {
    return promote(modelOutput, sample);
  }

  protected override resetRunState(): void {
    super.resetRunState();
    this.history?.reset();
    this.lowerOrderNums = 0;
  }

  /**
   * Port of `set_timesteps(num_inference_steps, device)`: a float32 linspace(0, 1, N) ramp
   * through the Karras or exponential formula, sigmas float32, timesteps c_noise, then the
   * final sigma: 0, or sigma_min from the config ("sigma_min").
   */
  setTimesteps(arg: number | { numInferenceSteps?: number | null }): void {
    const who = `${CLASS}.setTimesteps`;
    const o = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(
      who,
      o,
      ["numInferenceSteps"],
      " (diffusers' EDM-DPM-Solver set_timesteps takes no custom schedule)",
    );
    const n = o.numInferenceSteps;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
      throw new RangeError(`${who}: numInferenceSteps must be a positive integer, got ${String(n)}`);
    const c = this.init;
    let last: number;
    if (c.final_sigmas_type === "sigma_min") last = f(c.sigma_min);
    else if (c.final_sigmas_type === "zero") last = 0;
    else
      throw new Error(
        `${who}: final_sigmas_type must be "zero" or "sigma_min", got ${JSON.stringify(c.final_sigmas_type)}`,
      );
    const sig = this.schedule(n);
    this.timestepsHeld = cNoise(sig);
    const held = new Float32Array(n + 1);
    held.set(sig);
    held[n] = last;
    this.sigmasHeld = held;
    this.numInferenceSteps = n;
    this.resetRunState();
  }

  /**
   * Port of `step(model_output, timestep, sample, generator)`:
   * - x0 = c_skip(sigma) x + c_out(sigma) F (`convert_model_output`, then dynamic
   *   thresholding when enabled), pushed to the history;
   * - sde-dpmsolver++ draws one normal tensor per step in x0's dtype;
   * - the order as DPMSolverMultistep (lower_order_final, euler_at_final, zero final sigma);
   *   no float32 cast of the sample, so prev_sample has torch's promotion of sample and x0;
   * - sde-dpmsolver++ at order 3 fails in diffusers with an UnboundLocalError (its third-order
   *   update has no SDE branch): here a clear error at the same step.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: EDMDPMSolverStepOptions = {},
  ): DPMSolverOutput {
    const who = "step";
    const c = this.init;
    if (this.numInferenceSteps === null)
      throw new Error(`${CLASS}.step: the number of inference steps is not set; call setTimesteps() first`);
    this.checkStepInputs(who, modelOutput, sample, options, ["generator", "out"]);
    checkGenerator(CLASS, options.generator);
    const i = this.currentStepIndex(who, timestep, true);
    const sigmas = this.sigmasHeld;
    const u = dpmStepUpdate(
      CLASS,
      c,
      this.algorithmType,
      this.solverType,
      sigmas,
      i,
      this.timestepsHeld.length,
      this.lowerOrderNums,
      edmAlphaSigma,
      false,
    );
    const order = u.order;
    const { cSkip, cOut } = edmScalings(`${CLASS}.step`, sigmas[i], c);
    const dtype = promote(modelOutput.dtype, sample.dtype);
    const r = torchMath(dtype).r;
    const rs = torchMath(sample.dtype).r;
    const n = sample.data.length;
    const x0 = this.history.push(sample.shape, dtype, n);
    const x = sample.data,
      mo = modelOutput.data,
      xd = x0.data;
    for (let k = 0; k < n; k++) xd[k] = r(rs(cSkip * x[k]) + r(cOut * mo[k]));
    if (c.thresholding) {
      const per = n / (sample.shape[0] ?? 1);
      if (
        !(this.rowBuffer instanceof (dtype === "float32" ? Float32Array : Float64Array)) ||
        this.rowBuffer.length < per
      )
        this.rowBuffer = dtype === "float32" ? new Float32Array(per) : new Float64Array(per);
      thresholdSample(x0, c.dynamic_thresholding_ratio, c.sample_max_value, this.rowBuffer);
    }
    let noise: ArrayLike<number> | null = null;
    if (this.algorithmType === "sde-dpmsolver++") {
      const buf = this.scratch("noise", sample.shape, dtype);
      drawNoise(CLASS, options.generator, buf, { step: i, sigma: sigmas[i], sigmaNext: sigmas[i + 1] });
      noise = buf.data;
    }
    const prev = this.outTensor(who, options.out?.prevSample, sample.shape, dtype, "out.prevSample");
    applyDpmUpdate(u, x, this.history.recent(order), noise, prev.data, (v) => v, rs, r, r);
    if (this.lowerOrderNums < c.solver_order) this.lowerOrderNums++;
    this.stepIndexHeld = i + 1;
    return { prevSample: prev };
  }
}
