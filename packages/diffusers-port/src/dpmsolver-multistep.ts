/**
 * Port of diffusers `DPMSolverMultistepScheduler`
 * (schedulers/scheduling_dpmsolver_multistep.py): DPM-Solver and DPM-Solver++ (orders 1-3,
 * midpoint / heun second-order form, ODE and SDE variants) in the VP frame, the "DPM++ 2M
 * (Karras)" of the web UIs. Integer timesteps, float32 sigmas, model outputs converted to x0
 * (++) or eps (DPM-Solver) and kept in a history for the multistep updates.
 */
import {
  type DType,
  SIMD_MIN,
  type Tensor,
  libcMath,
  numpyLinspace,
  roundHalfEven,
  torchMath,
  ArgumentError,
} from "@edmkit/core";
import { z } from "zod";
import { trainingTables } from "./betas.js";
import { type SchedulerConfigJson, resolveConfig } from "./config.js";
import {
  type BaseStepOptions,
  DiscreteScheduler,
  checkNumbers,
  checkOptionKeys,
  checkTensor,
  promote,
} from "./discrete-scheduler.js";
import {
  type AlphaSigma,
  type DpmAlgorithm,
  type DpmSolverType,
  OutputHistory,
  applyDpmUpdate,
  dpmStepUpdate,
  thresholdSample,
} from "./dpm-solver.js";
import { checkGenerator, drawNoise } from "./generator.js";
import { dpmConvertUpdateSimd, x0FromEpsSimd } from "./step-kernels.js";
import { foreignSigma, lastIfAbsent, noisePositions } from "./schedule-index.js";
import {
  betaSigmas,
  exponentialSigmas,
  interpolateSigmas,
  karrasSigmas,
  logSigmaTable,
  numpyArange,
  sigmaToT,
} from "./spacing.js";

const CLASS = "DPMSolverMultistepScheduler";
const T32 = torchMath("float32");
const f = Math.fround;

const optBool = z
  .boolean()
  .nullable()
  .transform((v) => v ?? false);
/**
 * lambda_min_clipped: JSON has no infinities, so a config may carry Python's float("-inf") as
 * "-inf" (the fixtures' recorder) or as null (JSON.stringify of -Infinity, a config saved from
 * here); both read as -inf.
 */
const floatOrInf = z
  .union([z.number(), z.literal("inf"), z.literal("-inf"), z.null()])
  .transform((v) => (v === "inf" ? Infinity : v === "-inf" || v === null ? -Infinity : v));

/** `DPMSolverMultistepScheduler.__init__` parameters and defaults. */
export const dpmSolverMultistepConfigSchema = z.object({
  num_train_timesteps: z.number().int().positive().default(1000),
  beta_start: z.number().default(0.0001),
  beta_end: z.number().default(0.02),
  beta_schedule: z.string().default("linear"),
  trained_betas: z.array(z.number()).nullable().default(null),
  solver_order: z.number().int().default(2),
  prediction_type: z.string().default("epsilon"),
  thresholding: z.boolean().default(false),
  dynamic_thresholding_ratio: z.number().default(0.995),
  sample_max_value: z.number().default(1.0),
  algorithm_type: z.string().default("dpmsolver++"),
  solver_type: z.string().default("midpoint"),
  lower_order_final: z.boolean().default(true),
  euler_at_final: z.boolean().default(false),
  use_karras_sigmas: optBool.default(false),
  use_exponential_sigmas: optBool.default(false),
  use_beta_sigmas: optBool.default(false),
  use_lu_lambdas: optBool.default(false),
  use_flow_sigmas: optBool.default(false),
  flow_shift: z.number().default(1.0),
  final_sigmas_type: z.string().default("zero"),
  lambda_min_clipped: floatOrInf.default(-Infinity),
  variance_type: z.string().nullable().default(null),
  timestep_spacing: z.string().default("linspace"),
  steps_offset: z.number().int().default(0),
  rescale_betas_zero_snr: z.boolean().default(false),
  use_dynamic_shifting: z.boolean().default(false),
  time_shift_type: z.string().default("exponential"),
});
export type DPMSolverMultistepConfig = z.output<typeof dpmSolverMultistepConfigSchema>;
export type DPMSolverMultistepConfigInput = z.input<typeof dpmSolverMultistepConfigSchema>;

export interface DPMSolverSetTimestepsOptions {
  numInferenceSteps?: number | null;
  /** Custom timesteps (cast to integers like diffusers' `astype(np.int64)`). */
  timesteps?: ArrayLike<number> | null;
  /** Dynamic shifting: sets flow_shift = exp(mu) (use_dynamic_shifting with "exponential" only). */
  mu?: number | null;
}

export interface DPMSolverStepOptions extends BaseStepOptions {
  /** diffusers' `variance_noise`: the SDE variants' noise given directly instead of drawn. */
  varianceNoise?: Tensor | null;
}

export interface DPMSolverOutput {
  prevSample: Tensor;
}

/** `_sigma_to_alpha_sigma_t` then lambda, on float32 0-dim tensors. */
export function vpAlphaSigma(sigma: number, flow: boolean): AlphaSigma {
  let alpha: number, s: number;
  if (flow) {
    alpha = T32.sub(1, sigma);
    s = sigma;
  } else {
    alpha = T32.div(1, T32.sqrt(T32.add(T32.mul(sigma, sigma), 1)));
    s = T32.mul(sigma, alpha);
  }
  return { alpha, sigma: s, lambda: T32.sub(T32.log(alpha), T32.log(s)) };
}

export class DPMSolverMultistepScheduler extends DiscreteScheduler {
  /** diffusers' class attribute `order` (one model call per step). */
  readonly order = 1;
  readonly init: DPMSolverMultistepConfig;
  /** The algorithm actually run ("deis" is registered as "dpmsolver++", like diffusers). */
  readonly algorithmType: DpmAlgorithm;
  /** The second-order form actually run ("logrho", "bh1", "bh2" are registered as "midpoint"). */
  readonly solverType: DpmSolverType;
  /** `self.config.flow_shift`, which set_timesteps(mu=...) overwrites as diffusers does. */
  flowShift: number;
  /** diffusers' `lower_order_nums`: how many steps have run (capped at solver_order). */
  lowerOrderNums = 0;

  /** alpha_t, sigma_t, lambda_t of every training timestep (float32). */
  readonly lambdaT: Float32Array;
  private readonly history: OutputHistory;
  private thresholdScratch: Float32Array | Float64Array = new Float64Array(0);

  constructor(
    config: SchedulerConfigJson<DPMSolverMultistepConfigInput> = {},
    overrides: Partial<DPMSolverMultistepConfigInput> = {},
  ) {
    const resolved = resolveConfig(CLASS, dpmSolverMultistepConfigSchema, config, overrides);
    const c = resolved.init;
    if (Number(c.use_beta_sigmas) + Number(c.use_exponential_sigmas) + Number(c.use_karras_sigmas) > 1) {
      throw new ArgumentError(
        `${CLASS}: only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be used`,
      );
    }
    const tables = trainingTables(CLASS, c, ["linear", "scaled_linear", "squaredcos_cap_v2"]);
    let algorithm = c.algorithm_type;
    if (!["dpmsolver", "dpmsolver++", "sde-dpmsolver", "sde-dpmsolver++"].includes(algorithm)) {
      if (algorithm === "deis") algorithm = "dpmsolver++";
      else
        throw new ArgumentError(
          `${CLASS}: algorithm_type ${JSON.stringify(algorithm)} is not implemented (diffusers raises NotImplementedError); ` +
            `choose "dpmsolver++", "sde-dpmsolver++", "dpmsolver" or "sde-dpmsolver"`,
        );
    }
    let solver = c.solver_type;
    if (solver !== "midpoint" && solver !== "heun") {
      if (["logrho", "bh1", "bh2"].includes(solver)) solver = "midpoint";
      else
        throw new ArgumentError(
          `${CLASS}: solver_type ${JSON.stringify(solver)} is not implemented (diffusers raises NotImplementedError); choose "midpoint" or "heun"`,
        );
    }
    // checked on the algorithm_type as given, so "deis" with a zero final sigma is refused too
    if (
      c.algorithm_type !== "dpmsolver++" &&
      c.algorithm_type !== "sde-dpmsolver++" &&
      c.final_sigmas_type === "zero"
    ) {
      throw new ArgumentError(
        `${CLASS}: final_sigmas_type "zero" is not supported for algorithm_type ${JSON.stringify(c.algorithm_type)}; ` +
          `choose final_sigmas_type "sigma_min" instead`,
      );
    }
    if (!Number.isInteger(c.solver_order) || c.solver_order < 1)
      throw new ArgumentError(`${CLASS}: solver_order must be 1, 2 or 3, got ${c.solver_order}`);
    const registered = { ...resolved.config, algorithm_type: algorithm, solver_type: solver };
    super(CLASS, { config: Object.freeze(registered), ignoredKeys: resolved.ignoredKeys }, tables);
    this.init = { ...c, algorithm_type: algorithm, solver_type: solver };
    this.algorithmType = algorithm as DpmAlgorithm;
    this.solverType = solver as DpmSolverType;
    this.flowShift = c.flow_shift;
    this.history = new OutputHistory(c.solver_order);

    const T = c.num_train_timesteps;
    const ac = tables.alphasCumprod;
    this.lambdaT = new Float32Array(T);
    for (let j = 0; j < T; j++) {
      const alpha = T32.sqrt(ac[j]),
        sigma = T32.sqrt(T32.sub(1, ac[j]));
      this.lambdaT[j] = T32.sub(T32.log(alpha), T32.log(sigma));
    }
    // before set_timesteps: the training sigmas (ascending in t) and float32 timesteps T-1 .. 0
    this.sigmasHeld = Float32Array.from(tables.trainSigmas);
    const ts = new Float32Array(T);
    for (let i = 0; i < T; i++) ts[i] = T - 1 - i;
    this.timestepsHeld = ts;
  }

  static fromConfig(
    config: SchedulerConfigJson<DPMSolverMultistepConfigInput>,
    overrides: Partial<DPMSolverMultistepConfigInput> = {},
  ): DPMSolverMultistepScheduler {
    return new DPMSolverMultistepScheduler(config, overrides);
  }

  /** diffusers' `init_noise_sigma` is 1.0: the sample lives in the VP frame. */
  override get initNoiseSigma(): number {
    return 1.0;
  }

  /**
   * Port of `scale_model_input`: the identity (the VP sample is the model input). Like
   * diffusers it does not touch the step index. With `out` the sample is copied into it.
   */
  override scaleModelInput(sample: Tensor, _timestep: number, out?: Tensor): Tensor {
    checkTensor(this.className, "sample", sample, "scaleModelInput");
    if (!out) return sample;
    const o = this.outTensor("scaleModelInput", out, sample.shape, sample.dtype, "out");
    if (o !== sample) o.data.set(sample.data);
    return o;
  }

  /**
   * Port of `index_for_timestep`: the position of t in the integer schedule; the second one
   * when t occurs twice; and, unlike the Euler family, the LAST position when t is not in
   * the schedule at all (no error).
   */
  override indexForTimestep(
    timestep: number,
    scheduleTimesteps: Float32Array | Float64Array = this.timestepsHeld,
  ): number {
    return lastIfAbsent(() => super.indexForTimestep(timestep, scheduleTimesteps), this.timestepsHeld.length);
  }

  /** The result dtype of step() for these input dtypes (prev_sample takes the converted output's dtype). */
  override stepDtype(modelOutput: DType, sample: DType): DType {
    const p = this.init.prediction_type;
    const plus = this.algorithmType === "dpmsolver++" || this.algorithmType === "sde-dpmsolver++";
    const outputOnly = plus ? p === "sample" : p === "epsilon";
    return outputOnly ? modelOutput : promote(modelOutput, sample);
  }

  protected override resetRunState(): void {
    super.resetRunState();
    this.history?.reset();
    this.lowerOrderNums = 0;
  }

  /**
   * Port of `set_timesteps(num_inference_steps, device, mu, timesteps)`:
   * - integer timesteps from `timestep_spacing` over [0, last_timestep), where last_timestep
   *   drops the training steps whose lambda is below `lambda_min_clipped` (searchsorted on
   *   the float32 lambda table): linspace over N + 1 points rounded half-to-even, the last
   *   dropped; leading with ratio last // (N + 1) plus steps_offset; trailing from numpy's
   *   float arange minus one; or custom timesteps truncated to integers;
   * - sigmas: np.interp of the float32 training sigmas, or Karras / exponential / beta sigmas
   *   of the reversed table (config sigma_min / sigma_max when a foreign config brought them)
   *   with timesteps `_sigma_to_t` (rounded for Karras and Lu unless the schedule is
   *   squaredcos_cap_v2, then truncated by the int64 cast), Lu's uniform log-SNR steps, or
   *   flow sigmas (1 - linspace(1, 1/T, N + 1), shifted by flow_shift, reversed, last dropped);
   * - the final sigma is the smallest training sigma ("sigma_min") or 0; all float32.
   * Resets the history and the step and begin index.
   */
  setTimesteps(arg: number | DPMSolverSetTimestepsOptions): void {
    const who = `${CLASS}.setTimesteps`;
    const o: DPMSolverSetTimestepsOptions =
      typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(who, o, ["numInferenceSteps", "timesteps", "mu"]);
    const c = this.init;
    const n = o.numInferenceSteps ?? null,
      custT = o.timesteps ?? null,
      mu = o.mu ?? null;
    if (mu !== null) {
      if (!(c.use_dynamic_shifting && c.time_shift_type === "exponential"))
        throw new ArgumentError(
          `${who}: mu needs use_dynamic_shifting = true and time_shift_type = "exponential" (diffusers asserts this)`,
        );
      this.flowShift = libcMath.exp(mu);
    }
    if (n === null && custT === null)
      throw new ArgumentError(`${who}: must pass exactly one of numInferenceSteps or timesteps`);
    if (n !== null && custT !== null)
      throw new ArgumentError(`${who}: can only pass one of numInferenceSteps or timesteps`);
    if (custT !== null) {
      for (const [flag, name] of [
        [c.use_karras_sigmas, "use_karras_sigmas"],
        [c.use_lu_lambdas, "use_lu_lambdas"],
        [c.use_exponential_sigmas, "use_exponential_sigmas"],
        [c.use_beta_sigmas, "use_beta_sigmas"],
        [c.use_flow_sigmas, "use_flow_sigmas"],
      ] as const) {
        if (flag) throw new ArgumentError(`${who}: custom timesteps cannot be used with ${name} = true`);
      }
    }
    if (n !== null && (!Number.isInteger(n) || n < 1))
      throw new ArgumentError(`${who}: numInferenceSteps must be a positive integer, got ${n}`);
    checkNumbers(who, "timesteps", custT);
    const T = c.num_train_timesteps;

    let timesteps: Float64Array;
    if (custT !== null) timesteps = Float64Array.from(custT, Math.trunc);
    else {
      const N = n as number;
      const clip = f(c.lambda_min_clipped);
      let clipped = 0; // left-side binary search for lambda_min_clipped in the reversed λ table
      while (clipped < T && this.lambdaT[T - 1 - clipped] < clip) clipped++;
      const last = T - clipped;
      if (c.timestep_spacing === "linspace") {
        const lin = numpyLinspace(0, last - 1, N + 1);
        timesteps = new Float64Array(N);
        for (let i = 0; i < N; i++) timesteps[i] = roundHalfEven(lin[N - i]);
      } else if (c.timestep_spacing === "leading") {
        const ratio = Math.floor(last / (N + 1));
        timesteps = new Float64Array(N);
        for (let i = 0; i < N; i++) timesteps[i] = (N - i) * ratio + c.steps_offset;
      } else if (c.timestep_spacing === "trailing") {
        const ar = numpyArange(last, 0, -(T / N));
        timesteps = ar.map((v) => roundHalfEven(v) - 1);
      } else {
        throw new ArgumentError(
          `${who}: timestep_spacing ${JSON.stringify(c.timestep_spacing)} is not supported; choose one of "linspace", "leading" or "trailing"`,
        );
      }
    }
    const N = timesteps.length;
    const table = this.trainSigmas;
    const reversed = Float32Array.from(table).reverse();
    const sMin = foreignSigma(this.config, "sigma_min", who),
      sMax = foreignSigma(this.config, "sigma_max", who);
    const round = c.beta_schedule !== "squaredcos_cap_v2";
    const toT = (sig: ArrayLike<number>, roundIt: boolean): Float64Array => {
      const logSig = logSigmaTable(table);
      const ts = new Float64Array(sig.length);
      for (let i = 0; i < ts.length; i++) {
        const t = sigmaToT(sig[i], logSig);
        ts[i] = Math.trunc(roundIt ? roundHalfEven(t) : t);
      }
      return ts;
    };
    let sigmas: ArrayLike<number>;
    if (c.use_karras_sigmas) {
      sigmas = karrasSigmas(reversed, N, sMin, sMax);
      timesteps = toT(sigmas, round);
    } else if (c.use_lu_lambdas) {
      const logSig = logSigmaTable(table);
      const lmin = logSig[0],
        lmax = logSig[T - 1];
      const ramp = numpyLinspace(0, 1, N);
      sigmas = ramp.map((r) => libcMath.exp(lmax + r * (lmin - lmax)));
      timesteps = toT(sigmas, round);
    } else if (c.use_exponential_sigmas) {
      sigmas = exponentialSigmas(reversed, N, sMin, sMax);
      timesteps = toT(sigmas, false);
    } else if (c.use_beta_sigmas) {
      sigmas = betaSigmas(reversed, N, sMin, sMax);
      timesteps = toT(sigmas, false);
    } else if (c.use_flow_sigmas) {
      const alphas = numpyLinspace(1, 1 / T, N + 1);
      const fs = this.flowShift;
      const shifted = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        const s = 1 - alphas[N - i];
        shifted[i] = (fs * s) / (1 + (fs - 1) * s);
      }
      sigmas = shifted;
      timesteps = shifted.map((s) => Math.trunc(s * T));
    } else {
      sigmas = interpolateSigmas(timesteps, table);
    }

    let lastSigma: number;
    if (c.final_sigmas_type === "sigma_min") lastSigma = table[0];
    else if (c.final_sigmas_type === "zero") lastSigma = 0;
    else
      throw new ArgumentError(
        `${who}: final_sigmas_type must be "zero" or "sigma_min", got ${JSON.stringify(c.final_sigmas_type)}`,
      );
    const held = new Float32Array(sigmas.length + 1);
    held.set(Float32Array.from(sigmas));
    held[sigmas.length] = lastSigma;
    this.sigmasHeld = held;
    this.timestepsHeld = timesteps;
    this.numInferenceSteps = N;
    this.resetRunState();
  }

  /**
   * Port of `step(model_output, timestep, sample, generator, variance_noise)`:
   * - the output is converted (`convert_model_output`) on the sample as given: DPM-Solver++
   *   wants x0 (epsilon: (x - sigma_t eps) / alpha_t; v: alpha_t x - sigma_t v; sample;
   *   flow_prediction: x - sigma v), DPM-Solver wants eps; with `variance_type` "learned" /
   *   "learned_range" only the first 3 channels of an epsilon output are used; dynamic
   *   thresholding clips x0 per row;
   * - the history shifts and the sample is then cast to float32 (a float64 run is rounded to
   *   float32 at every step, the history stays float64);
   * - the SDE variants draw one float32 normal tensor per step (or take `varianceNoise`);
   * - the order: first before any history, at solver_order 1 or at the final step under
   *   lower_order_final / euler_at_final / a zero final sigma; second one step earlier; else
   *   solver_order; the update as in dpm-solver.ts;
   * - prev_sample has the converted output's dtype.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: DPMSolverStepOptions = {},
  ): DPMSolverOutput {
    const who = "step";
    const c = this.init;
    if (this.numInferenceSteps === null)
      throw new ArgumentError(
        `${CLASS}.step: the number of inference steps is not set; call setTimesteps() first`,
      );
    checkTensor(CLASS, "model_output", modelOutput, who);
    checkTensor(CLASS, "sample", sample, who);
    checkOptionKeys(CLASS, options, ["generator", "varianceNoise", "out"], "", who);
    checkGenerator(CLASS, options.generator);
    const plus = this.algorithmType === "dpmsolver++" || this.algorithmType === "sde-dpmsolver++";
    const pt = c.prediction_type;
    const valid = plus
      ? ["epsilon", "sample", "v_prediction", "flow_prediction"]
      : ["epsilon", "sample", "v_prediction"];
    if (!valid.includes(pt))
      throw new ArgumentError(
        `${CLASS}.step: prediction_type ${JSON.stringify(pt)} must be one of ${valid.map((v) => `"${v}"`).join(", ")} for algorithm_type "${this.algorithmType}"`,
      );
    const mo = this.epsilonChannels(modelOutput, sample, pt);
    const i = this.currentStepIndex(who, timestep, true);
    const sigmas = this.sigmasHeld;
    const flow = c.use_flow_sigmas;
    const u = dpmStepUpdate(
      CLASS,
      c,
      this.algorithmType,
      this.solverType,
      sigmas,
      i,
      this.timestepsHeld.length,
      this.lowerOrderNums,
      (s) => vpAlphaSigma(s, flow),
    );
    const order = u.order;

    // the converted model output goes into the newest history slot
    const dtype = this.stepDtype(mo.dtype, sample.dtype);
    const n = sample.data.length;
    const x0 = this.history.push(sample.shape, dtype, n, this.buffers);
    // large tensors (dpmsolver++, no thresholding): conversion and update in one SIMD pass below
    const fuse = plus && !c.thresholding && mo.data.length >= SIMD_MIN;
    if (!fuse) this.convert(mo, sample, x0, sigmas[i], flow, pt, plus);

    let noise: ArrayLike<number> | null = null;
    if (this.algorithmType === "sde-dpmsolver++" || this.algorithmType === "sde-dpmsolver") {
      const buf = this.scratch("noise", sample.shape, "float32");
      if (options.varianceNoise) {
        checkTensor(CLASS, "variance_noise", options.varianceNoise, who);
        buf.data.set(options.varianceNoise.data);
      } else
        drawNoise(CLASS, options.generator, buf, { step: i, sigma: sigmas[i], sigmaNext: sigmas[i + 1] });
      noise = buf.data;
    }
    const prev = this.outTensor(who, options.out?.prevSample, sample.shape, dtype, "out.prevSample");
    const r = torchMath(dtype).r;
    const history = this.history.recent(order);
    let done = false;
    if (fuse) {
      const mode = pt === "epsilon" ? 0 : pt === "v_prediction" ? 1 : pt === "sample" ? 2 : 3;
      const as = vpAlphaSigma(sigmas[i], flow);
      const conv = { st: as.sigma, alpha: as.alpha, sigma: sigmas[i] };
      done = dpmConvertUpdateSimd(mode, u, conv, sample.data, mo.data, history, noise, prev.data);
      if (!done) this.convert(mo, sample, x0, sigmas[i], flow, pt, plus);
    }
    if (!done) applyDpmUpdate(u, sample.data, history, noise, prev.data, f, f, r, f);
    if (this.lowerOrderNums < c.solver_order) this.lowerOrderNums++;
    this.stepIndexHeld = i + 1;
    return { prevSample: prev };
  }

  /** The model output the conversion reads: with a learned variance, its first 3 channels. */
  private epsilonChannels(modelOutput: Tensor, sample: Tensor, pt: string): Tensor {
    const learned = this.init.variance_type === "learned" || this.init.variance_type === "learned_range";
    if (!learned || pt !== "epsilon" || modelOutput.data.length === sample.data.length) {
      if (modelOutput.data.length !== sample.data.length)
        throw new ArgumentError(
          `${CLASS}.step: model_output has ${modelOutput.data.length} values but sample has ${sample.data.length}`,
        );
      return modelOutput;
    }
    const rows = modelOutput.shape[0],
      per = sample.data.length / rows,
      perMo = modelOutput.data.length / rows;
    const buf = this.scratch("eps3", sample.shape, modelOutput.dtype);
    for (let b = 0; b < rows; b++)
      buf.data.set(modelOutput.data.subarray(b * perMo, b * perMo + per), b * per);
    return buf;
  }

  /** Port of `convert_model_output` (+ `_threshold_sample`) into `x0`, in x0's dtype. */
  private convert(
    mo: Tensor,
    sample: Tensor,
    x0: Tensor,
    sigma: number,
    flow: boolean,
    pt: string,
    plus: boolean,
  ): void {
    const r = torchMath(x0.dtype).r;
    const { alpha, sigma: st } = vpAlphaSigma(sigma, flow);
    const m = mo.data,
      x = sample.data,
      o = x0.data,
      n = o.length;
    if (plus) {
      if (pt === "epsilon") {
        // large tensors through SIMD (step-kernels.ts), the same ops
        if (!x0FromEpsSimd(x, m, o, st, alpha))
          for (let k = 0; k < n; k++) o[k] = r(r(x[k] - r(st * m[k])) / alpha);
      } else if (pt === "sample") o.set(m);
      else if (pt === "v_prediction") for (let k = 0; k < n; k++) o[k] = r(r(alpha * x[k]) - r(st * m[k]));
      else for (let k = 0; k < n; k++) o[k] = r(x[k] - r(sigma * m[k]));
      if (this.init.thresholding)
        thresholdSample(
          x0,
          this.init.dynamic_thresholding_ratio,
          this.init.sample_max_value,
          this.rowScratch(x0),
        );
      return;
    }
    if (pt === "epsilon") o.set(m);
    else if (pt === "sample") for (let k = 0; k < n; k++) o[k] = r(r(x[k] - r(alpha * m[k])) / st);
    else for (let k = 0; k < n; k++) o[k] = r(r(alpha * m[k]) + r(st * x[k]));
    if (this.init.thresholding) {
      // x0 from eps, thresholded, and eps again from the clipped x0
      const tmp = this.scratch("x0", x0.shape, x0.dtype);
      for (let k = 0; k < n; k++) tmp.data[k] = r(r(x[k] - r(st * o[k])) / alpha);
      thresholdSample(
        tmp,
        this.init.dynamic_thresholding_ratio,
        this.init.sample_max_value,
        this.rowScratch(tmp),
      );
      for (let k = 0; k < n; k++) o[k] = r(r(x[k] - r(alpha * tmp.data[k])) / st);
    }
  }

  private rowScratch(t: Tensor): Float32Array | Float64Array {
    const per = t.data.length / (t.shape[0] ?? 1);
    const want = t.dtype === "float32" ? Float32Array : Float64Array;
    if (!(this.thresholdScratch instanceof want) || this.thresholdScratch.length < per)
      this.thresholdScratch = new want(per);
    return this.thresholdScratch;
  }

  /**
   * Port of `add_noise(original_samples, noise, timesteps)`: alpha_t x0 + sigma_t noise with
   * alpha_t, sigma_t from the schedule sigma (in the samples' dtype), the index found as in
   * the Euler family (index_for_timestep without a begin index, else the step or begin index).
   */
  override addNoise(
    original: Tensor,
    noise: Tensor,
    timesteps: number | ArrayLike<number>,
    out?: Tensor,
  ): Tensor {
    const { idx, rows, per } = noisePositions(this, `${CLASS}.addNoise`, original, noise, timesteps);
    const dtype = promote(original.dtype, noise.dtype);
    const m = torchMath(original.dtype);
    const o = this.outTensor("addNoise", out, original.shape, dtype, "out");
    for (let b = 0; b < rows; b++) {
      const sigma = m.r(this.sigmasHeld[idx.length === 1 ? idx[0] : idx[b]]);
      let alpha: number, st: number;
      if (this.init.use_flow_sigmas) {
        alpha = m.sub(1, sigma);
        st = sigma;
      } else {
        alpha = m.div(1, m.sqrt(m.add(m.mul(sigma, sigma), 1)));
        st = m.mul(sigma, alpha);
      }
      const r = torchMath(dtype).r;
      for (let k = b * per; k < (b + 1) * per; k++)
        o.data[k] = r(r(alpha * original.data[k]) + r(st * noise.data[k]));
    }
    return o;
  }
}
