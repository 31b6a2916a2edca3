/**
 * A rectified-flow velocity model built on the exact mixture denoiser (FORMAT.md `flow`):
 * what diffusers' FlowMatchEulerDiscreteScheduler (SD3, Flux) expects from a perfectly
 * trained transformer. At timestep t the flow time is s = t / T and the sample is
 * x = (1 - s) y + s n, i.e. x / (1 - s) is the data observed at noise level s / (1 - s); the
 * model returns E[n - y | x] = (x - D) / s with D = D_gmm(x / (1 - s); s / (1 - s)), the
 * mixture's mean at s = 1 (pure noise). Runs in float64; float32 outputs are rounded.
 */
import type { DiscreteModel, Prediction } from "../contracts.js";
import { allocate, type Tensor, tensor } from "../tensor.js";
import { GaussianMixture, type GmmSpec } from "./gmm.js";

export interface FlowSpec {
  gmm: GmmSpec;
  numTrainTimesteps: number;
}

export class FlowGmmModel implements DiscreteModel {
  /** Not a diffusion prediction type: the output is the flow velocity n - y. */
  readonly prediction: Prediction = "epsilon";
  readonly numTrainTimesteps: number;
  readonly mixture: GaussianMixture;
  private readonly mean: Float64Array;
  private x?: Tensor;
  private d?: Tensor;
  private rowSigma = new Float64Array(0);

  constructor(spec: FlowSpec) {
    if (!(spec.numTrainTimesteps > 0))
      throw new RangeError(`flow model: num_train_timesteps must be positive, got ${spec.numTrainTimesteps}`);
    this.numTrainTimesteps = spec.numTrainTimesteps;
    this.mixture = new GaussianMixture(spec.gmm);
    const { k, dim, means, logWeights } = this.mixture;
    this.mean = new Float64Array(dim);
    let wsum = 0;
    for (let j = 0; j < k; j++) wsum += Math.exp(logWeights[j]);
    for (let j = 0; j < k; j++) {
      const w = Math.exp(logWeights[j]) / wsum;
      for (let c = 0; c < dim; c++) this.mean[c] += w * means[j * dim + c];
    }
  }

  async predict(sample: Tensor, timestep: Float64Array, out?: Tensor): Promise<Tensor> {
    return this.predictSync(sample, timestep, out);
  }

  predictSync(sample: Tensor, timestep: ArrayLike<number>, out?: Tensor): Tensor {
    const n = sample.data.length,
      rows = timestep.length;
    if (rows === 0 || n % rows !== 0)
      throw new RangeError(`flow model: ${rows} timesteps for a sample of ${n} values`);
    if (!this.x || this.x.data.length !== n) {
      this.x = tensor(new Float64Array(n), sample.shape);
      this.d = tensor(new Float64Array(n), sample.shape);
    }
    if (this.rowSigma.length !== rows) this.rowSigma = new Float64Array(rows);
    const per = n / rows,
      x = this.x.data,
      sig = this.rowSigma;
    for (let r = 0; r < rows; r++) {
      const s = timestep[r] / this.numTrainTimesteps;
      if (!(s > 0 && s <= 1)) throw new RangeError(`flow model: timestep ${timestep[r]} outside (0, T]`);
      sig[r] = s < 1 ? s / (1 - s) : 1; // s = 1 rows use the mixture mean below
      for (let k = r * per; k < (r + 1) * per; k++) x[k] = s < 1 ? sample.data[k] / (1 - s) : 0;
    }
    const d = this.mixture.denoiseSync(this.x, sig, this.d).data;
    const dim = this.mixture.dim;
    const o = out ?? tensor(allocate(sample.dtype, n), sample.shape);
    for (let r = 0; r < rows; r++) {
      const s = timestep[r] / this.numTrainTimesteps;
      for (let k = r * per; k < (r + 1) * per; k++) {
        const dk = s < 1 ? d[k] : this.mean[k % dim];
        o.data[k] = (sample.data[k] - dk) / s;
      }
    }
    return o;
  }
}
