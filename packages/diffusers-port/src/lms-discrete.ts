/**
 * Port of diffusers `LMSDiscreteScheduler` (schedulers/scheduling_lms_discrete.py):
 * k-diffusion's `sample_lms` (linear multistep on the probability-flow ODE in sigma) as a
 * scheduler that keeps the last `order` derivatives.
 */
import { type DType, type Tensor, integrateGaussLegendre, qk21, tensor, torchMath } from "@edmkit/core";
import { descendingSigmasWithZero, trainingTables } from "./betas.js";
import { type SchedulerConfigJson, resolveConfig } from "./config.js";
import {
  type BaseStepOptions,
  DiscreteScheduler,
  type SchedulerOutput,
  checkOptionKeys,
  promote,
} from "./discrete-scheduler.js";
import {
  type LMSDiscreteConfig,
  type LMSDiscreteConfigInput,
  checkOneSigmaSchedule,
  lmsDiscreteConfigSchema,
} from "./family-config.js";
import { sqrtSigmaSqPlusOneF32 } from "./float32.js";
import { configSigma, spacedSigmaSchedule } from "./kdpm2-common.js";

const f = Math.fround;
const CLASS = "LMSDiscreteScheduler";

export interface LMSStepOptions extends BaseStepOptions {
  /** The multistep order (diffusers' default 4), capped by the steps taken so far. */
  order?: number;
}

/**
 * Port of `LMSDiscreteScheduler.get_lms_coefficient(order, t, current_order)`: the integral
 * over [sigmas[t], sigmas[t+1]] of the Lagrange basis polynomial that is 1 at
 * sigmas[t - current_order] and 0 at the other sigmas[t - k], k < order. diffusers integrates
 * it with `scipy.integrate.quad(..., epsrel=1e-4)`; the integrand's arithmetic is torch's:
 * the nodes are 0-dim float32 tensors, so `tau - sigma_k` rounds tau to float32 first and
 * every difference, quotient and product is a float32 op, and quad reads the float32 result
 * as a double. For a polynomial of degree <= 19 QUADPACK's first QK21 evaluation is accepted
 * and returned, which `qk21` reproduces in QUADPACK's order of operations (beyond that, an
 * exact Gauss-Legendre rule, which may differ from scipy in the last bits).
 */
export function lmsCoefficient(sigmas: Float32Array, order: number, t: number, currentOrder: number): number {
  if (BASIS.nodes.length < order) {
    BASIS.nodes = new Float32Array(order);
    BASIS.dens = new Float32Array(order);
  }
  const sc = sigmas[t - currentOrder];
  let m = 0;
  for (let k = 0; k < order; k++) {
    if (k === currentOrder) continue;
    BASIS.nodes[m] = sigmas[t - k];
    BASIS.dens[m++] = f(sc - sigmas[t - k]);
  }
  BASIS.count = m;
  const a = sigmas[t],
    b = sigmas[t + 1];
  if (order <= 20) return qk21(basisAt, a, b).result;
  return integrateGaussLegendre(basisAt, a, b, Math.ceil(order / 2));
}

/** The Lagrange basis of `lmsCoefficient`, held at module level so a step allocates no closure. */
const BASIS = { nodes: new Float32Array(8), dens: new Float32Array(8), count: 0 };

function basisAt(tau: number): number {
  const t32 = f(tau);
  let prod = 1;
  for (let k = 0; k < BASIS.count; k++) prod = f(prod * f(f(t32 - BASIS.nodes[k]) / BASIS.dens[k]));
  return prod;
}

export class LMSDiscreteScheduler extends DiscreteScheduler {
  readonly order = 1;
  readonly init: LMSDiscreteConfig;
  /** diffusers' `is_scale_input_called`. */
  isScaleInputCalled = false;
  private derivativesHeld: Tensor[] = [];
  private spare: Tensor[] = [];
  private constructing = true;

  /** `LMSDiscreteScheduler.from_config(config, **overrides)` (builds the train-length schedule). */
  constructor(
    config: SchedulerConfigJson<LMSDiscreteConfigInput> = {},
    overrides: Partial<LMSDiscreteConfigInput> = {},
  ) {
    const resolved = resolveConfig(CLASS, lmsDiscreteConfigSchema, config, overrides);
    const c = resolved.init;
    checkOneSigmaSchedule(CLASS, c);
    const tables = trainingTables(CLASS, c, ["linear", "scaled_linear", "squaredcos_cap_v2"]);
    super(CLASS, resolved, tables);
    this.init = c;
    this.sigmasHeld = descendingSigmasWithZero(tables.trainSigmas);
    this.setTimesteps(c.num_train_timesteps);
    this.constructing = false;
  }

  static fromConfig(
    config: SchedulerConfigJson<LMSDiscreteConfigInput>,
    overrides: Partial<LMSDiscreteConfigInput> = {},
  ): LMSDiscreteScheduler {
    return new LMSDiscreteScheduler(config, overrides);
  }

  /** The derivatives kept for the multistep update (oldest first), diffusers' `derivatives`. */
  get derivatives(): readonly Tensor[] {
    return this.derivativesHeld;
  }

  protected override afterScaleModelInput(): void {
    this.isScaleInputCalled = true;
  }

  /**
   * Port of `set_timesteps(num_inference_steps)`: the Karras-family numpy stage (spacing,
   * np.interp; Karras sigmas from the interpolated ends, exponential / beta from sigma_min /
   * sigma_max in `self.config` when present) with the Karras timesteps NOT rounded (unlike
   * KDPM2), then timesteps cast to float32 and sigmas float32 with a final 0. Clears the
   * derivatives.
   */
  setTimesteps(arg: number | { numInferenceSteps?: number | null }): void {
    const who = `${CLASS}.setTimesteps`;
    const o = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(
      who,
      o,
      ["numInferenceSteps"],
      " (diffusers' LMS set_timesteps has no custom timesteps or sigmas)",
    );
    const N = o.numInferenceSteps;
    if (typeof N !== "number" || !Number.isInteger(N) || N < 1)
      throw new RangeError(`${who}: numInferenceSteps must be a positive integer, got ${String(N)}`);
    this.numInferenceSteps = N;
    const limits: [number | null, number | null] = [
      this.extraSigma("sigma_min"),
      this.extraSigma("sigma_max"),
    ];
    const { timesteps, sigmas } = spacedSigmaSchedule(
      who,
      this.init,
      N,
      this.init.num_train_timesteps,
      this.trainSigmas,
      {
        roundKarras: false,
        karrasLimits: [null, null],
        limits,
      },
    );
    const s = new Float32Array(sigmas.length + 1);
    s.set(sigmas);
    this.sigmasHeld = s;
    this.timestepsHeld = Float32Array.from(timesteps);
    this.resetRunState();
  }

  /** sigma_min / sigma_max kept in `self.config` from a source config (read by exponential / beta). */
  private extraSigma(key: "sigma_min" | "sigma_max"): number | null {
    return this.constructing ? null : configSigma(CLASS, this.config, key);
  }

  protected override resetRunState(): void {
    super.resetRunState();
    this.spare.push(...this.derivativesHeld);
    this.derivativesHeld = [];
  }

  override stepDtype(modelOutput: DType, sample: DType): DType {
    return promote(modelOutput, sample);
  }

  /**
   * Port of `step(model_output, timestep, sample, order=4)`:
   * - x0 at sigma = sigmas[i] (0-dim float32): epsilon `sample - sigma * eps`, v
   *   `v * (-sigma/(sigma**2+1)**0.5) + sample/(sigma**2+1)`, sample: the output;
   * - the derivative (sample - x0) / sigma is appended to the list, and the OLDEST one is
   *   dropped once when the list is longer than `order` (one pop per call, as in diffusers);
   * - order = min(i + 1, order); coefficients `lmsCoefficient(order, i, j)`;
   * - prev = sample + sum_j coeff_j * d_{latest - j}: Python's `sum` from 0 in that order, the
   *   coefficient (a Python float) meeting the tensor in its dtype.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: LMSStepOptions = {}): SchedulerOutput {
    const who = "step";
    // diffusers' LMS step() takes no generator; one is tolerated (the loop passes it) and unused
    this.checkStepInputs(who, modelOutput, sample, options, ["out", "generator", "order"]);
    const orderArg = options.order ?? 4;
    if (!Number.isInteger(orderArg) || orderArg < 1)
      throw new RangeError(`${CLASS}.step: order must be a positive integer, got ${orderArg}`);
    const pt = this.init.prediction_type;
    const mode = pt === "epsilon" ? 0 : pt === "v_prediction" ? 1 : pt === "sample" ? 2 : -1;
    if (mode < 0)
      throw new Error(
        `${CLASS}.step: prediction_type ${JSON.stringify(pt)} must be one of "epsilon", "v_prediction" or "sample"`,
      );
    const i = this.currentStepIndex(who, timestep, true);
    const sigma = this.sigmasHeld[i];
    const dtype = promote(modelOutput.dtype, sample.dtype);
    const { r } = torchMath(dtype);
    const prev = this.outTensor(who, options.out?.prevSample, modelOutput.shape, dtype, "out.prevSample");
    const pred = this.outTensor(
      who,
      options.out?.predOriginalSample,
      modelOutput.shape,
      dtype,
      "out.predOriginalSample",
    );
    const list = this.derivativesHeld;
    // diffusers appends, then drops the oldest once when the list is longer than `order`;
    // dropping it first (it is never used) lets its buffer hold the new derivative
    if (list.length >= orderArg) this.spare.push(list.shift() as Tensor);
    const deriv = this.takeBuffer(modelOutput.shape, dtype);
    const vDen = f(f(sigma * sigma) + 1);
    const vOut = f(-sigma / sqrtSigmaSqPlusOneF32(sigma));
    const mo = modelOutput.data,
      x = sample.data,
      pd = pred.data,
      dd = deriv.data,
      n = mo.length;
    for (let k = 0; k < n; k++) {
      const s = x[k],
        m = mo[k];
      const x0 = mode === 0 ? r(s - r(sigma * m)) : mode === 1 ? r(r(m * vOut) + r(s / vDen)) : m;
      pd[k] = x0;
      dd[k] = r(r(s - x0) / sigma);
    }
    list.push(deriv);
    const order = Math.min(i + 1, orderArg);
    const terms = Math.min(order, list.length);
    const coeffs = this.coeffs;
    for (let j = 0; j < terms; j++) coeffs[j] = r(lmsCoefficient(this.sigmasHeld, order, i, j));
    const xd = prev.data;
    const last = list.length - 1;
    for (let k = 0; k < n; k++) {
      let acc = 0;
      for (let j = 0; j < terms; j++) acc = r(acc + r(coeffs[j] * list[last - j].data[k]));
      xd[k] = r(x[k] + acc);
    }
    this.stepIndexHeld = i + 1;
    return { prevSample: prev, predOriginalSample: pred };
  }

  private readonly coeffs: number[] = [];

  /** A derivative buffer: a spare one of the right size and dtype, else a new one (first steps only). */
  private takeBuffer(shape: readonly number[], dtype: DType): Tensor {
    let n = 1;
    for (const d of shape) n *= d;
    while (this.spare.length > 0) {
      const t = this.spare.pop() as Tensor;
      if (t.data.length === n && t.dtype === dtype) return t;
    }
    return tensor(dtype === "float64" ? new Float64Array(n) : new Float32Array(n), shape);
  }
}
