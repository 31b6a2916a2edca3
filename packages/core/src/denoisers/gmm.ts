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
 * Rows are evaluated in blocks (components outer, rows inner: issue 16's large batches); every
 * row still sees the one-row formula's float64 operations in the same order, so the blocking
 * changes no bit of the result (test/gmm-blocked.test.ts). A row's terms that depend on σ only
 * (2v, dim/2·log v, s²/v) are computed once per σ shared by a block's rows, or per row and
 * distinct component variance otherwise: the same values either way.
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

/**
 * Most rows per block of the batched loops; the block's per-(component, row) logits stay in
 * cache (the block shrinks for many components, see the constructor).
 */
const BLOCK_ROWS = 256;

/**
 * lg[base + r] = e^(lg[base + r] − max[r]) and z[r] += it, r < count: a small function of its
 * own, so that V8 inlines `fastExp` into the loop (no boxed number per call).
 */
function softmaxTerms(
  lg: Float64Array,
  base: number,
  max: Float64Array,
  z: Float64Array,
  count: number,
): void {
  for (let r = 0; r < count; r++) {
    const e = fastExp(lg[base + r] - max[r]);
    lg[base + r] = e;
    z[r] += e;
  }
}

export class GaussianMixture implements Denoiser {
  readonly dim: number;
  readonly k: number;
  readonly logWeights: Float64Array;
  /** means, row-major [k, dim] */
  readonly means: Float64Array;
  readonly variances: Float64Array;
  /** The distinct component variances, and each component's index into them. */
  private readonly distinctVar: Float64Array;
  private readonly varIndex: Int32Array;
  /** Per component, for the noise variance `cachedS2`: 2·v, dim/2·log v and s²/v (v = s_k² + σ²). */
  private readonly twoV: Float64Array;
  private readonly logTerm: Float64Array;
  private readonly shrink: Float64Array;
  /** σ² the per-component terms were computed for (NaN: none yet); a sampler's rows share σ. */
  private cachedS2 = Number.NaN;
  /** Rows per block, and the block's scratch (allocated once, reused by every call). */
  private readonly block: number;
  /** The block's rows as float64, coordinate-major [dim, block]. */
  private readonly xt: Float64Array;
  /** Their weighted sums, [dim, block]. */
  private readonly acc: Float64Array;
  /** Per row: σ², a squared distance, the largest logit, the softmax denominator. */
  private readonly s2b: Float64Array;
  private readonly d2b: Float64Array;
  private readonly maxb: Float64Array;
  private readonly zb: Float64Array;
  /** Logits, then their exponentials, component-major [k, block]. */
  private readonly lg: Float64Array;
  /** Per distinct variance and row, when the block's rows have different σ: [distinct, count]. */
  private readonly twoVb: Float64Array;
  private readonly logTb: Float64Array;
  private readonly shrinkb: Float64Array;

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
    const distinct: number[] = [];
    this.varIndex = new Int32Array(k);
    for (let j = 0; j < k; j++) {
      let u = distinct.indexOf(this.variances[j]);
      if (u < 0) u = distinct.push(this.variances[j]) - 1;
      this.varIndex[j] = u;
    }
    this.distinctVar = Float64Array.from(distinct);
    this.shrink = new Float64Array(k);
    this.twoV = new Float64Array(k);
    this.logTerm = new Float64Array(k);
    const block = Math.max(8, Math.min(BLOCK_ROWS, Math.floor(16384 / Math.max(k, dim))));
    this.block = block;
    this.xt = new Float64Array(block * dim);
    this.acc = new Float64Array(block * dim);
    this.s2b = new Float64Array(block);
    this.d2b = new Float64Array(block);
    this.maxb = new Float64Array(block);
    this.zb = new Float64Array(block);
    this.lg = new Float64Array(k * block);
    const nu = distinct.length;
    this.twoVb = new Float64Array(nu * block);
    this.logTb = new Float64Array(nu * block);
    this.shrinkb = new Float64Array(nu * block);
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
    for (let r0 = 0; r0 < rows; r0 += this.block)
      this.denoiseBlock(xs, sigma, od, r0, Math.min(this.block, rows - r0));
    return o;
  }

  /** Per component, the terms of noise variance s2 (cached: a sampler's rows share σ). */
  private sharedTerms(s2: number): void {
    if (s2 === this.cachedS2) return;
    const { k, dim, variances, twoV, logTerm, shrink } = this;
    for (let j = 0; j < k; j++) {
      const v = variances[j] + s2;
      twoV[j] = 2 * v;
      logTerm[j] = 0.5 * dim * libm.log(v);
      shrink[j] = variances[j] / v;
    }
    this.cachedS2 = s2;
  }

  /**
   * Per distinct variance u and row r of the block, the terms of the row's own σ² (rows of one
   * block with different σ), at [u·count + r].
   */
  private rowTerms(count: number): void {
    const { dim, distinctVar, s2b, twoVb, logTb, shrinkb } = this;
    const nu = distinctVar.length;
    for (let u = 0; u < nu; u++) {
      const vu = distinctVar[u],
        base = u * count;
      for (let r = 0; r < count; r++) {
        const v = vu + s2b[r];
        twoVb[base + r] = 2 * v;
        logTb[base + r] = v;
        shrinkb[base + r] = vu / v;
      }
    }
    libm.logArray(logTb, logTb, nu * count);
    const halfDim = 0.5 * dim;
    for (let i = 0; i < nu * count; i++) logTb[i] = halfDim * logTb[i];
  }

  /**
   * Denoise rows r0 .. r0+count of xs into od. Components outer, rows inner (coordinates stored
   * column by column, so every inner loop runs over contiguous rows); each row still sees the
   * operations of the one-row formula in the same order (its squared distance sums over the
   * coordinates in order, its logits' max, softmax sum and weighted sums accumulate over the
   * components in index order), so the values are those of the row-by-row loop.
   */
  private denoiseBlock(
    xs: ArrayLike<number>,
    sigma: ArrayLike<number>,
    od: { [i: number]: number },
    r0: number,
    count: number,
  ): void {
    const { k, dim, block, means, logWeights, varIndex, xt, acc, s2b, d2b, maxb, zb, lg } = this;
    const off = r0 * dim;
    for (let r = 0; r < count; r++) for (let d = 0; d < dim; d++) xt[d * block + r] = xs[off + r * dim + d];
    const s0 = sigma[r0] * sigma[r0];
    let shared = true;
    for (let r = 0; r < count; r++) {
      const s = sigma[r0 + r];
      const s2 = s * s;
      s2b[r] = s2;
      if (s2 !== s0) shared = false;
    }
    if (shared) this.sharedTerms(s0);
    else this.rowTerms(count);
    const { twoV, logTerm, shrink, twoVb, logTb, shrinkb } = this;
    // logits and their running max per row
    maxb.fill(-Infinity, 0, count);
    for (let j = 0; j < k; j++) {
      const mo = j * dim,
        base = j * block,
        lw = logWeights[j];
      d2b.fill(0, 0, count);
      for (let d = 0; d < dim; d++) {
        const mu = means[mo + d],
          xo = d * block;
        for (let r = 0; r < count; r++) {
          const diff = xt[xo + r] - mu;
          d2b[r] += diff * diff;
        }
      }
      if (shared) {
        const tv = twoV[j],
          lt = logTerm[j];
        for (let r = 0; r < count; r++) {
          const l = lw - d2b[r] / tv - lt;
          lg[base + r] = l;
          if (l > maxb[r]) maxb[r] = l;
        }
      } else {
        const ub = varIndex[j] * count;
        for (let r = 0; r < count; r++) {
          const l = lw - d2b[r] / twoVb[ub + r] - logTb[ub + r];
          lg[base + r] = l;
          if (l > maxb[r]) maxb[r] = l;
        }
      }
    }
    // softmax numerators and their sum; the weighted sums Σ_j e_j·(μ_j + shrink_j·(x − μ_j))
    zb.fill(0, 0, count);
    for (let d = 0; d < dim; d++) acc.fill(0, d * block, d * block + count);
    for (let j = 0; j < k; j++) {
      const mo = j * dim,
        base = j * block;
      softmaxTerms(lg, base, maxb, zb, count);
      if (shared) {
        const sh = shrink[j];
        for (let d = 0; d < dim; d++) {
          const mu = means[mo + d],
            xo = d * block;
          for (let r = 0; r < count; r++) acc[xo + r] += lg[base + r] * (mu + sh * (xt[xo + r] - mu));
        }
      } else {
        const ub = varIndex[j] * count;
        for (let d = 0; d < dim; d++) {
          const mu = means[mo + d],
            xo = d * block;
          for (let r = 0; r < count; r++)
            acc[xo + r] += lg[base + r] * (mu + shrinkb[ub + r] * (xt[xo + r] - mu));
        }
      }
    }
    const pointMass = this.pointMass;
    for (let r = 0; r < count; r++) {
      const z = zb[r],
        ro = off + r * dim;
      // D(x; 0) = x for a mixture with a point mass (the formula divides 0 by 0 there)
      if (pointMass && s2b[r] === 0) for (let d = 0; d < dim; d++) od[ro + d] = xt[d * block + r];
      else for (let d = 0; d < dim; d++) od[ro + d] = acc[d * block + r] / z;
    }
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
