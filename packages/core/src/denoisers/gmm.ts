/**
 * The exact (Bayes-optimal) denoiser of an isotropic Gaussian mixture
 * y ~ sum_k w_k N(mu_k, s_k^2 I) observed as x = y + sigma n:
 *
 *   D(x; sigma) = sum_k r_k(x) (mu_k + s_k^2 / (s_k^2 + sigma^2) (x - mu_k))
 *   r_k(x)      = softmax_k( log w_k - |x - mu_k|^2 / (2 v_k) - dim/2 log v_k ),  v_k = s_k^2 + sigma^2
 *
 * The responsibilities go through log-sum-exp, so far-away points and sigma -> 0 stay finite.
 * Only IEEE arithmetic and core's deterministic functions are used (`libm.log`, correctly
 * rounded; `fastExp` in the per-point softmax; `libm.exp` elsewhere), so the output has the
 * same bits on every JavaScript runtime.
 * Because the posterior is known in closed form, every sampler's error against the true
 * probability-flow ODE can be measured with it.
 */
import type { Denoiser } from "../contracts.js";
import { ArgumentError } from "../errors.js";
import { allocate, numel, type Tensor, tensor } from "../tensor.js";
import { fastExp } from "../fast-exp.js";
import * as libm from "../libm.js";

export interface GmmSpec {
  kind?: "gmm";
  dim: number;
  weights: readonly number[];
  means: readonly (readonly number[])[];
  stds: readonly number[];
}

export class GaussianMixture implements Denoiser {
  readonly dim: number;
  readonly k: number;
  readonly logWeights: Float64Array;
  /** means, row-major [k, dim] */
  readonly means: Float64Array;
  readonly variances: Float64Array;
  private readonly logits: Float64Array;
  private readonly shrink: Float64Array;
  /** Per component, for the noise variance `cachedS2`: 2·v and dim/2·log v (v = s_k² + σ²). */
  private readonly twoV: Float64Array;
  private readonly logTerm: Float64Array;
  /** σ² the per-component terms were computed for (NaN: none yet); a sampler's rows share σ. */
  private cachedS2 = Number.NaN;
  /** The row being denoised, as float64 (the loops then read one array type only). */
  private readonly xrow: Float64Array;
  /** The row's weighted sums, one per coordinate. */
  private readonly accRow: Float64Array;

  /** Some component has std 0 (a point mass). */
  private readonly pointMass: boolean;

  constructor(readonly spec: GmmSpec) {
    const { dim, weights, means, stds } = spec;
    const k = weights.length;
    if (!Number.isInteger(dim) || dim < 1)
      throw new ArgumentError(`gmm: dim must be a positive integer, got ${dim}`);
    if (k < 1 || means.length !== k || stds.length !== k) {
      throw new ArgumentError(
        `gmm: weights (${k}), means (${means.length}) and stds (${stds.length}) must have the same non-zero length`,
      );
    }
    this.dim = dim;
    this.k = k;
    this.logWeights = new Float64Array(k);
    this.means = new Float64Array(k * dim);
    this.variances = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      if (!(weights[j] > 0))
        throw new ArgumentError(`gmm: weights[${j}] must be positive, got ${weights[j]}`);
      if (!(stds[j] >= 0 && stds[j] < Infinity))
        throw new ArgumentError(`gmm: stds[${j}] must be a finite number >= 0, got ${stds[j]}`);
      if (means[j].length !== dim)
        throw new ArgumentError(`gmm: means[${j}] has ${means[j].length} coordinates, expected ${dim}`);
      this.logWeights[j] = libm.log(weights[j]);
      this.variances[j] = stds[j] * stds[j];
      for (let d = 0; d < dim; d++) {
        if (!Number.isFinite(means[j][d]))
          throw new ArgumentError(`gmm: means[${j}][${d}] must be a finite number, got ${means[j][d]}`);
        this.means[j * dim + d] = means[j][d];
      }
    }
    this.pointMass = this.variances.some((v) => v === 0);
    this.logits = new Float64Array(k);
    this.shrink = new Float64Array(k);
    this.twoV = new Float64Array(k);
    this.logTerm = new Float64Array(k);
    this.xrow = new Float64Array(dim);
    this.accRow = new Float64Array(dim);
  }

  /** Per-coordinate standard deviation of the data (EDM's sigma_data for this mixture). */
  get dataStd(): number {
    const { k, dim } = this;
    const ew = this.logWeights.map(libm.exp);
    let wsum = 0;
    for (let j = 0; j < k; j++) wsum += ew[j];
    let total = 0;
    for (let d = 0; d < dim; d++) {
      let m1 = 0,
        m2 = 0;
      for (let j = 0; j < k; j++) {
        const w = ew[j] / wsum,
          mu = this.means[j * dim + d];
        m1 += w * mu;
        m2 += w * (mu * mu + this.variances[j]);
      }
      total += m2 - m1 * m1;
    }
    return Math.sqrt(total / dim);
  }

  async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
    return this.denoiseSync(x, sigma, out);
  }

  /**
   * Synchronous D(x; sigma). float64 input: computed in float64. float32 input: computed in
   * float64 on the float32 values, result rounded to float32 (FORMAT.md's float32 model rule).
   */
  denoiseSync(x: Tensor, sigma: ArrayLike<number>, out?: Tensor): Tensor {
    const { dim } = this;
    const n = x.data.length;
    const rows = n / dim;
    if (!Number.isInteger(rows) || x.shape[x.shape.length - 1] !== dim) {
      throw new ArgumentError(
        `gmm: x of shape [${x.shape.join(", ")}] does not end in the mixture's dim ${dim}`,
      );
    }
    if (numel(x.shape) !== n)
      throw new ArgumentError(`gmm: x has ${n} values but shape [${x.shape.join(", ")}]`);
    if (sigma.length !== rows) {
      throw new ArgumentError(`gmm: ${sigma.length} sigmas for ${rows} rows`);
    }
    for (let r = 0; r < rows; r++)
      if (!(sigma[r] >= 0 && sigma[r] < Infinity))
        throw new ArgumentError(`gmm: sigma[${r}] must be a finite number >= 0, got ${sigma[r]}`);
    const o = out ?? tensor(allocate(x.dtype, n), x.shape);
    if (o.data.length !== n) throw new ArgumentError(`gmm: out has ${o.data.length} elements, expected ${n}`);
    const xs = x.data,
      od = o.data;
    for (let r = 0; r < rows; r++) this.denoiseRow(xs, r * dim, sigma[r], od);
    return o;
  }

  /** Denoise one point stored at xs[off .. off+dim) into od at the same offset. */
  private denoiseRow(xs: ArrayLike<number>, off: number, sigma: number, od: { [i: number]: number }): void {
    const { k, dim, means, variances, logWeights, logits, shrink, twoV, logTerm, xrow, accRow } = this;
    const s2 = sigma * sigma;
    if (s2 === 0 && this.pointMass) {
      // D(x; 0) = x; the formula below divides 0 by 0 for a component with std 0
      for (let d = 0; d < dim; d++) od[off + d] = xs[off + d];
      return;
    }
    if (!(s2 === this.cachedS2)) {
      // the terms that depend on σ only: once per distinct σ, the same values as per row
      for (let j = 0; j < k; j++) {
        const v = variances[j] + s2;
        twoV[j] = 2 * v;
        logTerm[j] = 0.5 * dim * libm.log(v);
        shrink[j] = variances[j] / v;
      }
      this.cachedS2 = s2;
    }
    for (let d = 0; d < dim; d++) xrow[d] = xs[off + d];
    let maxLogit = -Infinity;
    for (let j = 0; j < k; j++) {
      let d2 = 0;
      for (let d = 0; d < dim; d++) {
        const diff = xrow[d] - means[j * dim + d];
        d2 += diff * diff;
      }
      const l = logWeights[j] - d2 / twoV[j] - logTerm[j];
      logits[j] = l;
      if (l > maxLogit) maxLogit = l;
    }
    let z = 0;
    for (let j = 0; j < k; j++) {
      const e = fastExp(logits[j] - maxLogit);
      logits[j] = e;
      z += e;
    }
    // Σ_j r_j·(μ_j + shrink_j·(x − μ_j)) per coordinate, summed over j in order (one running
    // sum per coordinate, so the coordinates' sums proceed side by side)
    accRow.fill(0);
    for (let j = 0; j < k; j++) {
      const w = logits[j],
        sh = shrink[j],
        mo = j * dim;
      for (let d = 0; d < dim; d++) {
        const mu = means[mo + d];
        accRow[d] += w * (mu + sh * (xrow[d] - mu));
      }
    }
    for (let d = 0; d < dim; d++) od[off + d] = accRow[d] / z;
  }

  /** log p(x; sigma) of the noisy marginal sum_k w_k N(x; mu_k, (s_k^2 + sigma^2) I), normalized. */
  logDensity(point: ArrayLike<number>, sigma: number): number {
    const { k, dim, means, variances, logWeights } = this;
    let wsum = 0;
    for (let j = 0; j < k; j++) wsum += libm.exp(logWeights[j]);
    let m = -Infinity;
    const ls = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      const v = variances[j] + sigma * sigma;
      let d2 = 0;
      for (let d = 0; d < dim; d++) {
        const diff = point[d] - means[j * dim + d];
        d2 += diff * diff;
      }
      ls[j] = logWeights[j] - libm.log(wsum) - d2 / (2 * v) - 0.5 * dim * libm.log(2 * Math.PI * v);
      if (ls[j] > m) m = ls[j];
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += fastExp(ls[j] - m);
    return m + libm.log(s);
  }

  /**
   * Draw n points from the mixture at noise level sigma: component by `uniforms[i]`
   * (n values in [0,1)), coordinates from `normals` (n*dim unit normals). Returns [n, dim].
   */
  sample(n: number, uniforms: ArrayLike<number>, normals: ArrayLike<number>, sigma = 0): Tensor {
    const { k, dim, means, variances, logWeights } = this;
    const cdf = new Float64Array(k);
    let acc = 0;
    for (let j = 0; j < k; j++) cdf[j] = acc += libm.exp(logWeights[j]);
    const out = new Float64Array(n * dim);
    for (let i = 0; i < n; i++) {
      const u = uniforms[i] * acc;
      let j = 0;
      while (j < k - 1 && u >= cdf[j]) j++;
      const sd = Math.sqrt(variances[j] + sigma * sigma);
      for (let d = 0; d < dim; d++) out[i * dim + d] = means[j * dim + d] + sd * normals[i * dim + d];
    }
    return tensor(out, [n, dim]);
  }

  /** Mixture weights normalized to sum 1. */
  get weights(): Float64Array {
    const w = new Float64Array(this.k);
    let s = 0;
    for (let j = 0; j < this.k; j++) s += w[j] = libm.exp(this.logWeights[j]);
    for (let j = 0; j < this.k; j++) w[j] /= s;
    return w;
  }
}
