/**
 * The network F an EDM-preconditioned model would ideally be, built on the exact mixture
 * denoiser (FORMAT.md `edm-precond`): what diffusers' EDMEulerScheduler and
 * EDMDPMSolverMultistepScheduler hand to the model and expect back. The scheduler feeds
 * `c_in x` and `c_noise = ln(sigma) / 4`; the model recovers sigma = exp(4 c_noise), lifts the
 * input back to x, evaluates D(x; sigma) and returns the F with D = c_skip x + c_out F.
 * Everything runs in float64; a float32 input gets its output rounded to float32.
 */
import type { DiscreteModel, Prediction } from "../contracts.js";
import { allocate, type Tensor, tensor } from "../tensor.js";
import { libcMath } from "../torch-math.js";
import { GaussianMixture, type GmmSpec } from "./gmm.js";

export interface EdmPrecondSpec {
  gmm: GmmSpec;
  /** `epsilon` (c_out = sigma sigma_data / sqrt(sigma^2 + sigma_data^2)) or `v_prediction` (c_out negated). */
  prediction?: "epsilon" | "v_prediction";
  sigmaData: number;
}

export class EdmPrecondGmmModel implements DiscreteModel {
  readonly prediction: Prediction;
  readonly sigmaData: number;
  readonly mixture: GaussianMixture;
  private x?: Tensor;
  private d?: Tensor;
  private rowSigma = new Float64Array(0);

  constructor(spec: EdmPrecondSpec) {
    if (!(spec.sigmaData > 0))
      throw new RangeError(`edm-precond: sigma_data must be positive, got ${spec.sigmaData}`);
    this.prediction = spec.prediction ?? "epsilon";
    if (this.prediction !== "epsilon" && this.prediction !== "v_prediction")
      throw new RangeError(
        `edm-precond: prediction must be "epsilon" or "v_prediction", got ${spec.prediction}`,
      );
    this.sigmaData = spec.sigmaData;
    this.mixture = new GaussianMixture(spec.gmm);
  }

  /** The noise level of timestep t (= c_noise): exp(4 t). */
  sigmaOf(t: number): number {
    return libcMath.exp(4 * t);
  }

  async predict(sample: Tensor, timestep: Float64Array, out?: Tensor): Promise<Tensor> {
    return this.predictSync(sample, timestep, out);
  }

  predictSync(sample: Tensor, timestep: ArrayLike<number>, out?: Tensor): Tensor {
    const n = sample.data.length,
      rows = timestep.length;
    if (rows === 0 || n % rows !== 0)
      throw new RangeError(`edm-precond model: ${rows} timesteps for a sample of ${n} values`);
    if (!this.x || this.x.data.length !== n) {
      this.x = tensor(new Float64Array(n), sample.shape);
      this.d = tensor(new Float64Array(n), sample.shape);
    }
    if (this.rowSigma.length !== rows) this.rowSigma = new Float64Array(rows);
    const per = n / rows,
      sd2 = this.sigmaData * this.sigmaData,
      x = this.x.data,
      sig = this.rowSigma;
    for (let r = 0; r < rows; r++) {
      const s = (sig[r] = this.sigmaOf(timestep[r]));
      const c = Math.sqrt(s * s + sd2);
      for (let k = r * per; k < (r + 1) * per; k++) x[k] = sample.data[k] * c;
    }
    const d = this.mixture.denoiseSync(this.x, sig, this.d).data;
    const o = out ?? tensor(allocate(sample.dtype, n), sample.shape);
    const sign = this.prediction === "v_prediction" ? -1 : 1;
    for (let r = 0; r < rows; r++) {
      const s = sig[r],
        v = s * s + sd2;
      const cSkip = sd2 / v,
        cOut = (sign * s * this.sigmaData) / Math.sqrt(v);
      for (let k = r * per; k < (r + 1) * per; k++) o.data[k] = (d[k] - cSkip * x[k]) / cOut;
    }
    return o;
  }
}
