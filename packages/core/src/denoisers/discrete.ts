/**
 * Discrete-time models built on the exact mixture denoiser (FORMAT.md `discrete-eps`): what a
 * DDPM UNet trained on the mixture would ideally output, as diffusers and k-diffusion's
 * `DiscreteEpsDDPMDenoiser` see it: (scaled sample, timestep) -> eps, v or x0.
 */
import type { DiscreteModel, Prediction } from "../contracts.js";
import { allocate, type Tensor, tensor } from "../tensor.js";
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

export class DiscreteGmmModel implements DiscreteModel {
  readonly prediction: Prediction;
  readonly timeMap: TimeMap;
  readonly mixture: GaussianMixture;
  readonly sigmas: Float64Array;
  private readonly logSigmas: Float64Array;
  private readonly rowSigma = new Float64Array(1);

  constructor(spec: DiscreteGmmSpec) {
    this.mixture = new GaussianMixture(spec.gmm);
    this.prediction = spec.prediction ?? "epsilon";
    this.timeMap = spec.timeMap ?? "index";
    this.sigmas = sigmasFromAlphasCumprod(spec.alphasCumprod);
    this.logSigmas = this.sigmas.map(Math.log);
  }

  /** The continuous noise level the model associates with timestep t. */
  sigmaOf(t: number): number {
    if (this.timeMap === "c_noise") return Math.exp(4 * t);
    const T = this.sigmas.length;
    const tc = Math.min(Math.max(t, 0), T - 1);
    const lo = Math.floor(tc), hi = Math.ceil(tc), w = tc - lo;
    return Math.exp((1 - w) * this.logSigmas[lo] + w * this.logSigmas[hi]);
  }

  async predict(sample: Tensor, timestep: Float64Array, out?: Tensor): Promise<Tensor> {
    return this.predictSync(sample, timestep, out);
  }

  /**
   * Computed in float64; a float32 sample gets its output rounded to float32 at the end.
   */
  predictSync(sample: Tensor, timestep: ArrayLike<number>, out?: Tensor): Tensor {
    const dim = this.mixture.dim;
    const n = sample.data.length, rows = n / dim;
    if (timestep.length !== rows) throw new RangeError(`discrete model: ${timestep.length} timesteps for ${rows} rows`);
    const o = out ?? tensor(allocate(sample.dtype, n), sample.shape);
    const x = new Float64Array(dim), d = new Float64Array(dim);
    const xt = tensor(x, [1, dim]), dt = tensor(d, [1, dim]);
    for (let r = 0; r < rows; r++) {
      const sigma = this.sigmaOf(timestep[r]);
      const c = Math.sqrt(sigma * sigma + 1);
      for (let k = 0; k < dim; k++) x[k] = sample.data[r * dim + k] * c;
      this.rowSigma[0] = sigma;
      this.mixture.denoiseSync(xt, this.rowSigma, dt);
      for (let k = 0; k < dim; k++) {
        const eps = (x[k] - d[k]) / sigma;
        let v: number;
        switch (this.prediction) {
          case "epsilon": v = eps; break;
          case "v_prediction": v = (eps - sigma * d[k]) / c; break;
          case "sample": v = d[k]; break;
        }
        o.data[r * dim + k] = v;
      }
    }
    return o;
  }
}
