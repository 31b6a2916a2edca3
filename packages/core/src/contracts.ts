/**
 * The shapes that cross package boundaries (DESIGN.md, "Contracts").
 */
import { batchSize, type DType, type Tensor } from "./tensor.js";

/**
 * The EDM view of a model: D(x; sigma), the denoised estimate of x at noise level sigma.
 * `sigma` holds one noise level per batch row. The returned tensor belongs to the caller
 * (a fresh tensor, or `out` when the denoiser supports writing into it).
 */
export interface Denoiser {
  denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor>;
  /**
   * Optional: the same as `denoise` with every row at the one noise level `sigma`. Samplers
   * that call the model with one sigma for the whole batch (all of k-diffusion's) use it when
   * present, sparing the per-row array they otherwise fill on every call (8 bytes a row: at a
   * batch of 1,000,000 rows of 2 float32 values, a third of what an Euler step moves).
   */
  denoiseUniform?(x: Tensor, sigma: number, out?: Tensor): Promise<Tensor>;
  /** Smallest / largest noise level the model supports (EDM `net.sigma_min/max`). */
  readonly sigmaMin?: number;
  readonly sigmaMax?: number;
  /** Maps a requested sigma to one the model supports (EDM `net.round_sigma`). */
  roundSigma?(sigma: number): number;
}

/**
 * Calls a denoiser with one sigma for every row: its `denoiseUniform` where it has one, else
 * `denoise` with a per-row array, made on the first such call and kept (refilled each call).
 */
export class UniformSigma {
  private row: Float64Array | null = null;

  denoise(model: Denoiser, x: Tensor, sigma: number, out?: Tensor): Promise<Tensor> {
    if (model.denoiseUniform !== undefined) return model.denoiseUniform(x, sigma, out);
    const rows = batchSize(x);
    if (this.row === null || this.row.length !== rows) this.row = new Float64Array(rows);
    return model.denoise(x, this.row.fill(sigma), out);
  }
}

/** What a discrete-time model predicts from (scaled sample, timestep). */
export type Prediction = "epsilon" | "v_prediction" | "sample";

/**
 * A discrete-time model as diffusers and k-diffusion's `DiscreteEpsDDPMDenoiser` see a UNet:
 * `(sample, timestep) -> eps | v | x0`, with one timestep per batch row.
 */
export interface DiscreteModel {
  readonly prediction: Prediction;
  predict(sample: Tensor, timestep: Float64Array, out?: Tensor): Promise<Tensor>;
}

/** Context a sampler gives when it asks for noise (what k-diffusion's noise_sampler gets). */
export interface NoiseRequest {
  /** Step index of the sampler's loop, where it has one. */
  step?: number;
  sigma?: number;
  sigmaNext?: number;
}

/**
 * Where every random draw of a sampler comes from. `randn(out)` fills `out` with unit
 * normals in `out`'s dtype and returns it. A sampler never calls Math.random.
 */
export interface NoiseSource {
  randn(out: Tensor, request?: NoiseRequest): Tensor;
}

/** One evaluation of a model, as observers see it. Tensors are live buffers: copy to keep. */
export interface ModelCallEvent {
  index: number;
  /** Step of the sampler's outer loop this call belongs to, where the sampler knows it. */
  step?: number;
  x: Tensor;
  /** Continuous noise level per row (Denoiser calls). */
  sigma?: Float64Array;
  /** Timestep per row (DiscreteModel calls). */
  timestep?: Float64Array;
  out: Tensor;
}

/**
 * A step of a sampler's outer loop. `fields` carries what the original library exposes
 * (k-diffusion callback keys `i, sigma, sigma_hat, x, denoised`; diffusers `prev_sample`,
 * `pred_original_sample`; EDM `t_cur, t_next, t_hat, x_hat, x_next`), under the original names.
 */
export interface StepEvent {
  i: number;
  fields: Readonly<Record<string, number | Tensor | null | undefined>>;
}

export interface SamplerObserver {
  onModelCall?(event: ModelCallEvent): void;
  onStep?(event: StepEvent): void;
}

/** Wrap a plain async function as a Denoiser. */
export function denoiserFromFunction(
  fn: (x: Tensor, sigma: Float64Array) => Promise<Tensor> | Tensor,
  extras: { sigmaMin?: number; sigmaMax?: number; roundSigma?: (s: number) => number } = {},
): Denoiser {
  return {
    async denoise(x, sigma) {
      return fn(x, sigma);
    },
    ...extras,
  };
}

/**
 * A Denoiser that reports every call to `observer` (index counted from 0) and forwards to
 * `inner`. `stepOf()` supplies the step index the sampler is in, when known.
 */
export function observeDenoiser(
  inner: Denoiser,
  observer: SamplerObserver,
  stepOf?: () => number | undefined,
): Denoiser & { readonly calls: number } {
  let index = 0;
  const wrapped = {
    get calls() {
      return index;
    },
    sigmaMin: inner.sigmaMin,
    sigmaMax: inner.sigmaMax,
    roundSigma: inner.roundSigma?.bind(inner),
    async denoise(x: Tensor, sigma: Float64Array, out?: Tensor) {
      const result = await inner.denoise(x, sigma, out);
      observer.onModelCall?.({ index: index++, step: stepOf?.(), x, sigma, out: result });
      return result;
    },
  };
  return wrapped;
}

/** Same as observeDenoiser for discrete-time models. */
export function observeDiscreteModel(
  inner: DiscreteModel,
  observer: SamplerObserver,
  stepOf?: () => number | undefined,
): DiscreteModel & { readonly calls: number } {
  let index = 0;
  return {
    get calls() {
      return index;
    },
    prediction: inner.prediction,
    async predict(sample: Tensor, timestep: Float64Array, out?: Tensor) {
      const result = await inner.predict(sample, timestep, out);
      observer.onModelCall?.({ index: index++, step: stepOf?.(), x: sample, timestep, out: result });
      return result;
    },
  };
}

/** Per-row array holding one value repeated (sigma * ones(B)). */
export function perRow(batch: number, value: number, dtype: DType = "float64"): Float64Array {
  const a = new Float64Array(batch);
  a.fill(dtype === "float32" ? Math.fround(value) : value);
  return a;
}
