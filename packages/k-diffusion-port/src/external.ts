/**
 * Ports of the model wrappers of k-diffusion's `external.py`: they present a discrete-time
 * (or v-diffusion) model `(sample, t) -> eps | v` as the EDM denoiser D(x; sigma) the
 * samplers call.
 *
 * Precision: the table of training sigmas has its own dtype (`tableDtype`: float32 for
 * CompVis / OpenAI models, whose `alphas_cumprod` are float32 buffers; otherwise the dtype of
 * the given array, float64 for plain arrays), and a call computes in the dtype of its input
 * x. Where the original mixes the two, torch's promotion is followed: an op between the
 * input's log sigma and the table runs in float64 if either is float64.
 */
import {
  allocate,
  batchSize,
  type Denoiser,
  type DiscreteModel,
  type DType,
  libm,
  type Prediction,
  sameShape,
  type Tensor,
  tensor,
  torchLinspace,
  rounderFor,
  torchMath,
} from "@edmkit/core";
import { appendZero } from "./schedules.js";
import { fail } from "./validate.js";

function promote(a: DType, b: DType): DType {
  return a === "float64" || b === "float64" ? "float64" : "float32";
}

function tableDtypeOf(values: ArrayLike<number>, dtype: DType | undefined): DType {
  return dtype ?? (values instanceof Float32Array ? "float32" : "float64");
}

export interface DiscreteScheduleOptions {
  /** Round sigma to the nearest training timestep (integer t) instead of interpolating. */
  quantize?: boolean;
  /** dtype of the sigma table (default: float32 for a Float32Array, else float64). */
  tableDtype?: DType;
}

/**
 * Port of `DiscreteSchedule`: the mapping between continuous sigmas and the discrete
 * timesteps 0..T-1 of a table of training sigmas (increasing with t).
 */
export class DiscreteSchedule {
  /** The training sigmas (values of `tableDtype`). */
  readonly sigmas: Float64Array;
  readonly logSigmas: Float64Array;
  readonly tableDtype: DType;
  quantize: boolean;
  /** Whether log_sigmas strictly increase (then lookups use bisection). */
  private readonly increasing: boolean;

  constructor(sigmas: ArrayLike<number>, options: DiscreteScheduleOptions = {}) {
    const fn = "DiscreteSchedule";
    if (!sigmas || typeof sigmas.length !== "number" || sigmas.length < 2)
      fail(fn, "sigmas must hold at least 2 training sigmas");
    this.tableDtype = tableDtypeOf(sigmas, options.tableDtype);
    const r = rounderFor(this.tableDtype);
    this.sigmas = new Float64Array(sigmas.length);
    this.logSigmas = new Float64Array(sigmas.length);
    for (let j = 0; j < sigmas.length; j++) {
      const v = sigmas[j];
      if (!(v > 0) || !Number.isFinite(v))
        fail(fn, `training sigmas must be finite and > 0, got sigmas[${j}]=${v}`);
      this.sigmas[j] = r(v);
      this.logSigmas[j] = torchMath(this.tableDtype).log(r(v));
    }
    this.quantize = options.quantize ?? false;
    let inc = true;
    for (let j = 1; j < sigmas.length; j++) if (!(this.logSigmas[j] > this.logSigmas[j - 1])) inc = false;
    this.increasing = inc;
  }

  /** `sigma_min`: the first table entry. */
  get sigmaMin(): number {
    return this.sigmas[0];
  }

  /** `sigma_max`: the last table entry. */
  get sigmaMax(): number {
    return this.sigmas[this.sigmas.length - 1];
  }

  /**
   * Port of `get_sigmas(n=None)`: without n the table reversed; with n,
   * `t = linspace(T-1, 0, n)` (in torch's default dtype `dtype`) mapped through
   * `t_to_sigma`, so the interpolation weights carry float32 rounding (quirk 6). A trailing 0
   * is appended. Values are of the table's dtype.
   */
  getSigmas(n?: number, options: { dtype?: DType } = {}): Float64Array {
    const T = this.sigmas.length;
    if (n === undefined) return appendZero(Float64Array.from(this.sigmas).reverse());
    if (!Number.isInteger(n) || n < 1)
      fail("DiscreteSchedule.get_sigmas", `n must be an integer >= 1, got ${String(n)}`);
    const t = torchLinspace(T - 1, 0, n, options.dtype ?? "float64");
    const out = new Float64Array(n + 1);
    for (let k = 0; k < n; k++) out[k] = this.tToSigma(t[k]);
    return out;
  }

  /**
   * Port of `sigma_to_t(sigma, quantize=None)` for one sigma given in `dtype` (the dtype of
   * the sampler's sigma tensor). Quantized: the index of the nearest log sigma (first one on
   * a tie), an integer. Otherwise linear interpolation in log sigma between the last table
   * entry <= sigma and the next, the low index clamped to T-2 and the weight to [0, 1]
   * (quirk 7), so sigmas beyond the table map to 0 or T-1.
   */
  sigmaToT(sigma: number, options: { quantize?: boolean; dtype?: DType } = {}): number {
    return this.sigmaToTIn(sigma, options.quantize ?? this.quantize, options.dtype ?? "float64");
  }

  /** `sigmaToT` without the options object (called per batch row). */
  protected sigmaToTIn(sigma: number, quantize: boolean, inDtype: DType): number {
    const rIn = rounderFor(inDtype);
    const rP = rounderFor(promote(inDtype, this.tableDtype));
    const ls = this.logSigmas,
      T = ls.length;
    const logSigma = torchMath(inDtype).log(rIn(sigma));
    // Last j with log_sigmas[j] <= log_sigma, or 0 (the original's argmax of a cumulative count).
    let low = 0;
    if (this.increasing) {
      let a = 0,
        b = T - 1;
      if (!(ls[0] <= logSigma)) low = 0;
      else {
        while (a < b) {
          const mid = (a + b + 1) >> 1;
          if (ls[mid] <= logSigma) a = mid;
          else b = mid - 1;
        }
        low = a;
      }
    } else {
      for (let j = 0; j < T; j++) if (rP(logSigma - ls[j]) >= 0) low = j;
    }
    if (quantize) return this.nearest(logSigma, low, rP);
    low = Math.min(low, T - 2);
    const high = low + 1;
    const lo = ls[low],
      hi = ls[high];
    const rT = rounderFor(this.tableDtype);
    let w = rP(rP(lo - logSigma) / rT(lo - hi));
    w = w < 0 ? 0 : w > 1 ? 1 : w;
    return rP(rP(rP(1 - w) * low) + rP(w * high));
  }

  /** argmin_j |log_sigma - log_sigmas[j]| (first index on a tie; NaN counts as smallest, as in torch). */
  private nearest(logSigma: number, low: number, rP: (v: number) => number): number {
    const ls = this.logSigmas,
      T = ls.length;
    const dist = (j: number): number => Math.abs(rP(logSigma - ls[j]));
    if (Number.isNaN(logSigma)) return 0;
    if (!this.increasing) {
      let best = 0,
        bestDist = dist(0);
      for (let j = 1; j < T; j++) {
        const d = dist(j);
        if (d < bestDist) {
          best = j;
          bestDist = d;
        }
      }
      return best;
    }
    // In an increasing table the nearest entry is low or low + 1; equal rounded distances further
    // left would win the tie, so walk left over them.
    let best = low,
      bestDist = dist(low);
    if (low + 1 < T && dist(low + 1) < bestDist) {
      best = low + 1;
      bestDist = dist(best);
    }
    while (best > 0 && dist(best - 1) === bestDist) best--;
    return best;
  }

  /**
   * Port of `t_to_sigma(t)`: t is cast to float32 first (`t.float()`, quirk 6), then
   * log sigma is interpolated between floor(t) and ceil(t) with weight frac(t) and
   * exponentiated, in the table's dtype (float32 weights promoted).
   */
  tToSigma(t: number): number {
    const tf = Math.fround(t);
    const low = Math.floor(tf),
      high = Math.ceil(tf);
    const T = this.logSigmas.length;
    if (!(low >= 0 && high < T))
      fail("DiscreteSchedule.t_to_sigma", `t=${t} is outside the table's timesteps [0, ${T - 1}]`);
    const w = tf - Math.trunc(tf);
    const r = rounderFor(this.tableDtype);
    const logSigma = r(r(Math.fround(1 - w) * this.logSigmas[low]) + r(w * this.logSigmas[high]));
    return torchMath(this.tableDtype).exp(logSigma);
  }
}

/** sqrt((1 - abar) / abar) in the table's dtype. */
function sigmasFromAlphas(fn: string, alphasCumprod: ArrayLike<number>, dtype: DType): Float64Array {
  if (!alphasCumprod || typeof alphasCumprod.length !== "number" || alphasCumprod.length < 2) {
    fail(fn, "alphas_cumprod must hold at least 2 values");
  }
  const r = rounderFor(dtype);
  const out = new Float64Array(alphasCumprod.length);
  for (let j = 0; j < out.length; j++) {
    const a = r(alphasCumprod[j]);
    if (!(a > 0 && a < 1))
      fail(fn, `alphas_cumprod values must lie in (0, 1), got alphas_cumprod[${j}]=${alphasCumprod[j]}`);
    out[j] = r(Math.sqrt(r(r(1 - a) / a)));
  }
  return out;
}

/** Reusable per-call buffers of a wrapper (no allocation on repeated calls of the same shape). */
class Scratch {
  private scaled?: Tensor;
  private inner?: Tensor;
  private t?: Float64Array;

  get(x: Tensor): { scaled: Tensor; inner: Tensor; t: Float64Array } {
    if (!this.scaled || this.scaled.dtype !== x.dtype || !sameShape(this.scaled.shape, x.shape)) {
      this.scaled = tensor(allocate(x.dtype, x.data.length), x.shape);
      this.inner = tensor(allocate(x.dtype, x.data.length), x.shape);
    }
    const b = batchSize(x);
    if (!this.t || this.t.length !== b) this.t = new Float64Array(b);
    return { scaled: this.scaled, inner: this.inner as Tensor, t: this.t };
  }
}

function checkInner(fn: string, model: unknown, expected: Prediction): DiscreteModel {
  if (typeof model !== "object" || model === null || typeof (model as DiscreteModel).predict !== "function") {
    fail(fn, "model must be a DiscreteModel (an object with predict(sample, timestep))");
  }
  const m = model as DiscreteModel;
  if (m.prediction !== undefined && m.prediction !== expected) {
    fail(fn, `the inner model predicts "${m.prediction}", this wrapper needs "${expected}"`);
  }
  return m;
}

function checkCall(fn: string, x: Tensor, sigma: ArrayLike<number>): number {
  const b = batchSize(x);
  if (sigma.length !== b) fail(fn, `${sigma.length} sigmas for a batch of ${b}`);
  return x.data.length / b;
}

function checkOutput(fn: string, out: Tensor, x: Tensor, what: string): void {
  if (!out || out.data.length !== x.data.length) {
    fail(fn, `the inner model returned ${out ? out.data.length : 0} values for ${what} of ${x.data.length}`);
  }
}

/** 1 / sqrt(sigma^2 + 1), with the original's op order, in the rounding `r`. */
function cIn(r: (v: number) => number, s: number): number {
  return r(1 / r(Math.sqrt(r(r(s * s) + 1))));
}

export interface DiscreteWrapperOptions {
  quantize?: boolean;
  /** dtype of the alphas_cumprod / sigma table (default: float32 for a Float32Array, else float64). */
  tableDtype?: DType;
}

/**
 * Port of `DiscreteEpsDDPMDenoiser(model, alphas_cumprod, quantize)`: a DDPM eps-prediction
 * model as a denoiser. Training sigmas sqrt((1 - abar) / abar); a call computes
 * `c_in = 1/sqrt(sigma^2 + 1)`, `eps = model(x * c_in, sigma_to_t(sigma))` and returns
 * `x + eps * (-sigma)`.
 */
export class DiscreteEpsDDPMDenoiser extends DiscreteSchedule implements Denoiser {
  readonly innerModel: DiscreteModel;
  readonly sigmaData = 1;
  private readonly scratch = new Scratch();

  constructor(model: DiscreteModel, alphasCumprod: ArrayLike<number>, options: DiscreteWrapperOptions = {}) {
    const dtype = tableDtypeOf(alphasCumprod, options.tableDtype);
    super(sigmasFromAlphas("DiscreteEpsDDPMDenoiser", alphasCumprod, dtype), {
      quantize: options.quantize,
      tableDtype: dtype,
    });
    this.innerModel = checkInner("DiscreteEpsDDPMDenoiser", model, "epsilon");
  }

  /** `get_eps`: the inner model's output (subclasses pick the eps part). */
  protected async getEps(sample: Tensor, t: Float64Array, out: Tensor): Promise<Tensor> {
    return this.innerModel.predict(sample, t, out);
  }

  async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
    const fn = this.constructor.name;
    const per = checkCall(fn, x, sigma);
    const r = rounderFor(x.dtype);
    const { scaled, inner, t } = this.scratch.get(x);
    const xs = x.data,
      sc = scaled.data;
    for (let b = 0, k = 0; b < sigma.length; b++) {
      const s = r(sigma[b]);
      const c = cIn(r, s);
      for (let j = 0; j < per; j++, k++) sc[k] = r(xs[k] * c);
      t[b] = this.sigmaToTIn(s, this.quantize, x.dtype);
    }
    const eps = await this.getEps(scaled, t, inner);
    checkOutput(fn, eps, x, "x");
    const o = out ?? tensor(allocate(x.dtype, x.data.length), x.shape);
    const od = o.data,
      ed = eps.data;
    for (let b = 0, k = 0; b < sigma.length; b++) {
      const cOut = -r(sigma[b]);
      for (let j = 0; j < per; j++, k++) od[k] = xs[k] + r(ed[k] * cOut);
    }
    return o;
  }
}

/**
 * Port of `CompVisDenoiser(model, quantize=False)`: `DiscreteEpsDDPMDenoiser` on the model's
 * own `alphas_cumprod`, which CompVis models hold as a float32 buffer (so the sigma table is
 * float32 unless `tableDtype` says otherwise).
 */
export class CompVisDenoiser extends DiscreteEpsDDPMDenoiser {
  constructor(
    model: DiscreteModel & { readonly alphasCumprod: ArrayLike<number> },
    options: DiscreteWrapperOptions = {},
  ) {
    super(model, model.alphasCumprod, {
      quantize: options.quantize,
      tableDtype: options.tableDtype ?? "float32",
    });
  }
}

export interface OpenAIDenoiserOptions extends DiscreteWrapperOptions {
  /** The model outputs [eps, variance] stacked on dim 1 (default true): keep the first half. */
  hasLearnedSigmas?: boolean;
}

/**
 * Port of `OpenAIDenoiser(model, diffusion, quantize=False, has_learned_sigmas=True)`:
 * `alphas_cumprod` is cast to float32, and with learned sigmas the model's output has twice
 * the channels (dim 1) of x, of which the first half is eps.
 */
export class OpenAIDenoiser extends DiscreteEpsDDPMDenoiser {
  readonly hasLearnedSigmas: boolean;

  constructor(model: DiscreteModel, alphasCumprod: ArrayLike<number>, options: OpenAIDenoiserOptions = {}) {
    super(model, alphasCumprod, { quantize: options.quantize, tableDtype: options.tableDtype ?? "float32" });
    this.hasLearnedSigmas = options.hasLearnedSigmas ?? true;
  }

  protected override async getEps(sample: Tensor, t: Float64Array, out: Tensor): Promise<Tensor> {
    if (!this.hasLearnedSigmas) return this.innerModel.predict(sample, t, out);
    const both = await this.innerModel.predict(sample, t);
    const b = batchSize(sample),
      per = sample.data.length / b;
    if (both.data.length !== 2 * sample.data.length) {
      fail(
        "OpenAIDenoiser",
        `with has_learned_sigmas the model must return twice the values of x (${2 * sample.data.length}), got ${both.data.length}`,
      );
    }
    for (let i = 0; i < b; i++) out.data.set(both.data.subarray(2 * i * per, 2 * i * per + per), i * per);
    return out;
  }
}

/**
 * The v-parameterization forward pass with sigma_data = 1:
 * `model(x * c_in, t(sigma)) * c_out + x * c_skip` with c_skip = 1/(sigma^2+1),
 * c_out = -sigma/sqrt(sigma^2+1), c_in = 1/sqrt(sigma^2+1), each in the original's op order.
 */
async function vForward(
  fn: string,
  x: Tensor,
  sigma: Float64Array,
  out: Tensor | undefined,
  scratch: Scratch,
  tOf: (s: number, dtype: DType) => number,
  model: DiscreteModel,
): Promise<Tensor> {
  const per = checkCall(fn, x, sigma);
  const r = rounderFor(x.dtype);
  const { scaled, inner, t } = scratch.get(x);
  const xs = x.data,
    sc = scaled.data;
  for (let b = 0, k = 0; b < sigma.length; b++) {
    const s = r(sigma[b]);
    const c = cIn(r, s);
    for (let j = 0; j < per; j++, k++) sc[k] = r(xs[k] * c);
    t[b] = tOf(s, x.dtype);
  }
  const v = await model.predict(scaled, t, inner);
  checkOutput(fn, v, x, "x");
  const o = out ?? tensor(allocate(x.dtype, x.data.length), x.shape);
  const od = o.data,
    vd = v.data;
  for (let b = 0, k = 0; b < sigma.length; b++) {
    const s = r(sigma[b]);
    const v2 = r(r(s * s) + 1);
    const cSkip = r(1 / v2),
      cOut = r(-s / r(Math.sqrt(v2)));
    for (let j = 0; j < per; j++, k++) od[k] = r(vd[k] * cOut) + r(xs[k] * cSkip);
  }
  return o;
}

/**
 * Port of `DiscreteVDDPMDenoiser(model, alphas_cumprod, quantize)`: a DDPM v-prediction
 * model as a denoiser: `model(x * c_in, sigma_to_t(sigma)) * c_out + x * c_skip` with
 * c_skip = 1/(sigma^2+1), c_out = -sigma/sqrt(sigma^2+1), c_in = 1/sqrt(sigma^2+1).
 */
export class DiscreteVDDPMDenoiser extends DiscreteSchedule implements Denoiser {
  readonly innerModel: DiscreteModel;
  readonly sigmaData = 1;
  private readonly scratch = new Scratch();

  constructor(model: DiscreteModel, alphasCumprod: ArrayLike<number>, options: DiscreteWrapperOptions = {}) {
    const dtype = tableDtypeOf(alphasCumprod, options.tableDtype);
    super(sigmasFromAlphas("DiscreteVDDPMDenoiser", alphasCumprod, dtype), {
      quantize: options.quantize,
      tableDtype: dtype,
    });
    this.innerModel = checkInner("DiscreteVDDPMDenoiser", model, "v_prediction");
  }

  async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
    return vForward(
      this.constructor.name,
      x,
      sigma,
      out,
      this.scratch,
      (s, dtype) => this.sigmaToTIn(s, this.quantize, dtype),
      this.innerModel,
    );
  }
}

/**
 * Port of `CompVisVDenoiser(model, quantize=False)`: `DiscreteVDDPMDenoiser` on the model's
 * float32 `alphas_cumprod`.
 */
export class CompVisVDenoiser extends DiscreteVDDPMDenoiser {
  constructor(
    model: DiscreteModel & { readonly alphasCumprod: ArrayLike<number> },
    options: DiscreteWrapperOptions = {},
  ) {
    super(model, model.alphasCumprod, {
      quantize: options.quantize,
      tableDtype: options.tableDtype ?? "float32",
    });
  }
}

/**
 * Port of `VDenoiser(inner_model)`: a v-diffusion-pytorch model (continuous t in [0, 1],
 * sigma = tan(t pi / 2)) as a denoiser, with the v scalings of `DiscreteVDDPMDenoiser`.
 */
export class VDenoiser implements Denoiser {
  readonly innerModel: DiscreteModel;
  readonly sigmaData = 1;
  private readonly scratch = new Scratch();

  constructor(model: DiscreteModel) {
    this.innerModel = checkInner("VDenoiser", model, "v_prediction");
  }

  /**
   * `sigma_to_t`: sigma.atan() / math.pi * 2. The arc tangent is core's correctly rounded one
   * (torch's is SLEEF's 1-ulp kernel, not ported: the two can differ in the last bit).
   */
  sigmaToT(sigma: number, dtype: DType = "float64"): number {
    const m = torchMath(dtype);
    return m.mul(m.div(m.r(libm.atan(sigma)), m.r(Math.PI)), 2);
  }

  /** `t_to_sigma`: (t * math.pi / 2).tan(), the tangent correctly rounded (see sigmaToT). */
  tToSigma(t: number, dtype: DType = "float64"): number {
    const m = torchMath(dtype);
    return m.r(libm.tan(m.div(m.mul(t, m.r(Math.PI)), 2)));
  }

  async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
    return vForward(
      "VDenoiser",
      x,
      sigma,
      out,
      this.scratch,
      (s, dtype) => this.sigmaToT(s, dtype),
      this.innerModel,
    );
  }
}
