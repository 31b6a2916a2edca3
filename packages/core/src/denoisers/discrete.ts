/**
 * Discrete-time models built on the exact mixture denoiser (FORMAT.md `discrete-eps`): what a
 * DDPM UNet trained on the mixture would ideally output, as diffusers and k-diffusion's
 * `DiscreteEpsDDPMDenoiser` see it: (scaled sample, timestep) -> eps, v or x0.
 */
import type { Denoiser, DiscreteModel, Prediction } from "../contracts.js";
import { ArgumentError } from "../errors.js";
import { allocate, numel, type Tensor, tensor } from "../tensor.js";
import * as libm from "../libm.js";
import { GaussianMixture, type GmmSpec } from "./gmm.js";

export type TimeMap = "index" | "c_noise";

export interface DiscreteGmmSpec {
  gmm: GmmSpec;
  alphasCumprod: ArrayLike<number>;
  prediction?: Prediction;
  /** `index`: t indexes the training table (clamped to [0, T-1], log-sigma interpolation);
   *  `c_noise`: sigma = exp(4 t) (diffusers' continuous timesteps). */
  timeMap?: TimeMap;
}

/** sigma_j = sqrt((1 - abar_j) / abar_j) for every training timestep. */
export function sigmasFromAlphasCumprod(alphasCumprod: ArrayLike<number>): Float64Array {
  const s = new Float64Array(alphasCumprod.length);
  for (let j = 0; j < s.length; j++) s[j] = Math.sqrt((1 - alphasCumprod[j]) / alphasCumprod[j]);
  return s;
}

/**
 * Any EDM denoiser D(x; sigma) seen as a discrete-time model on a training table: for
 * timestep t, sigma(t) interpolates log sigma between the neighbouring table entries (t
 * clamped to [0, T-1]; or sigma = exp(4 t) for `c_noise`), the scaled sample is lifted to
 * x = sample * sqrt(sigma^2 + 1), and the output is eps = (x - D) / sigma, v = (eps - sigma D) /
 * sqrt(sigma^2 + 1) (diffusers' convention in the sigma frame) or D itself. The lift and the
 * output formulas run in float64; a float32 sample gets its output rounded to float32.
 */
export class DenoiserAsDiscreteModel implements DiscreteModel {
  readonly prediction: Prediction;
  readonly timeMap: TimeMap;
  readonly sigmas: Float64Array;
  private readonly logSigmas: Float64Array;
  private x?: Tensor;
  private rowSigma?: Float64Array;

  constructor(
    readonly denoiser: Denoiser,
    spec: { alphasCumprod: ArrayLike<number>; prediction?: Prediction; timeMap?: TimeMap },
  ) {
    this.prediction = spec.prediction ?? "epsilon";
    this.timeMap = spec.timeMap ?? "index";
    const a = spec.alphasCumprod;
    if (!a || a.length === 0) throw new ArgumentError("discrete model: alphasCumprod must not be empty");
    for (let j = 0; j < a.length; j++)
      if (!(a[j] > 0 && a[j] <= 1))
        throw new ArgumentError(`discrete model: alphasCumprod[${j}] must lie in (0, 1], got ${a[j]}`);
    this.sigmas = sigmasFromAlphasCumprod(a);
    this.logSigmas = this.sigmas.map(libm.log);
  }

  /** The continuous noise level the model associates with timestep t. */
  sigmaOf(t: number): number {
    if (this.timeMap === "c_noise") return libm.exp(4 * t);
    const T = this.sigmas.length;
    const tc = Math.min(Math.max(t, 0), T - 1);
    const lo = Math.floor(tc),
      hi = Math.ceil(tc),
      w = tc - lo;
    return libm.exp((1 - w) * this.logSigmas[lo] + w * this.logSigmas[hi]);
  }

  /** Lift the scaled sample into the reused float64 buffer x and fill the per-row sigmas. */
  protected lift(sample: Tensor, timestep: ArrayLike<number>): { x: Tensor; sigma: Float64Array } {
    const n = sample.data.length,
      rows = timestep.length;
    if (rows === 0 || n % rows !== 0)
      throw new ArgumentError(`discrete model: ${rows} timesteps for a sample of ${n} values`);
    if (numel(sample.shape) !== n)
      throw new ArgumentError(
        `discrete model: sample has ${n} values but shape [${sample.shape.join(", ")}]`,
      );
    for (let r = 0; r < rows; r++)
      if (!Number.isFinite(timestep[r]))
        throw new ArgumentError(`discrete model: timestep[${r}] must be a finite number, got ${timestep[r]}`);
    if (!this.x || this.x.data.length !== n || this.rowSigma!.length !== rows) {
      this.x = tensor(new Float64Array(n), sample.shape);
      this.rowSigma = new Float64Array(rows);
    }
    const x = this.x.data,
      sig = this.rowSigma!,
      per = n / rows;
    for (let r = 0; r < rows; r++) {
      const s = (sig[r] = this.sigmaOf(timestep[r]));
      const c = Math.sqrt(s * s + 1);
      for (let k = r * per; k < (r + 1) * per; k++) x[k] = sample.data[k] * c;
    }
    return { x: this.x, sigma: sig };
  }

  /** Write eps / v / x0 from the lifted x and D(x; sigma). */
  protected output(sample: Tensor, x: Tensor, sigma: Float64Array, d: Tensor, out?: Tensor): Tensor {
    const n = sample.data.length,
      per = n / sigma.length;
    const o = out ?? tensor(allocate(sample.dtype, n), sample.shape);
    for (let r = 0; r < sigma.length; r++) {
      const s = sigma[r],
        c = Math.sqrt(s * s + 1);
      for (let k = r * per; k < (r + 1) * per; k++) {
        const eps = (x.data[k] - d.data[k]) / s;
        o.data[k] =
          this.prediction === "epsilon"
            ? eps
            : this.prediction === "v_prediction"
              ? (eps - s * d.data[k]) / c
              : d.data[k];
      }
    }
    return o;
  }

  async predict(sample: Tensor, timestep: Float64Array, out?: Tensor): Promise<Tensor> {
    const { x, sigma } = this.lift(sample, timestep);
    const d = await this.denoiser.denoise(x, sigma);
    return this.output(sample, x, sigma, d, out);
  }
}

/** The exact mixture denoiser as a discrete-time model (FORMAT.md `discrete-eps`), with a synchronous path. */
export class DiscreteGmmModel extends DenoiserAsDiscreteModel {
  readonly mixture: GaussianMixture;
  private d?: Tensor;

  constructor(spec: DiscreteGmmSpec) {
    const mixture = new GaussianMixture(spec.gmm);
    super(mixture, spec);
    this.mixture = mixture;
  }

  override async predict(sample: Tensor, timestep: Float64Array, out?: Tensor): Promise<Tensor> {
    return this.predictSync(sample, timestep, out);
  }

  predictSync(sample: Tensor, timestep: ArrayLike<number>, out?: Tensor): Tensor {
    const { x, sigma } = this.lift(sample, timestep);
    if (!this.d || this.d.data.length !== x.data.length)
      this.d = tensor(new Float64Array(x.data.length), x.shape);
    this.mixture.denoiseSync(x, sigma, this.d);
    return this.output(sample, x, sigma, this.d, out);
  }
}
