/**
 * The exact denoiser of a finite data set {y_1 .. y_N} (Karras et al. 2022, eq. 3): for
 * x = y + sigma n with y drawn uniformly from the set,
 *
 *   D(x; sigma) = sum_i w_i(x) y_i,   w = softmax_i( -|x - y_i|^2 / (2 sigma^2) ).
 *
 * Cost: one squared distance and one weighted sum per (row, data point): about 2·B·N·d
 * multiply-adds per call (N points of d coordinates, B rows). Written as two blocked
 * matrix-product-shaped passes over the data (a block of rows against every point), into
 * buffers allocated once, so a call allocates nothing but its output (and not even that when
 * `out` is given).
 *
 * The distances are summed as sum_d (x_d - y_d)^2 rather than expanded into
 * |x|^2 - 2 x·y + |y|^2: the expansion cancels catastrophically at small sigma, where the
 * logits are divided by sigma^2 and an absolute error of 1e-14 in x·y becomes one of 1e-9 in
 * the weights. The weights go through log-sum-exp (the largest logit subtracted) with core's
 * `fastExp` (IEEE arithmetic only), so results are the same on every JavaScript runtime.
 *
 * sigma = 0 gives the nearest data point (the first one of equally near points). float32
 * input is computed in float64 on the float32 values and rounded once to float32 on output
 * (FORMAT.md's rule for float32 models).
 */
import type { Denoiser } from "../contracts.js";
import { type Dataset, datasetPoints, type PixelTransform } from "../datasets/dataset.js";
import { fastExp } from "../fast-exp.js";
import { allocate, type Tensor, tensor } from "../tensor.js";

/** Rows denoised together: their distances to one data point are computed while it is in cache. */
const BLOCK = 8;

export class EmpiricalDenoiser implements Denoiser {
  /** Number of data points N. */
  readonly count: number;
  /** Coordinates per point d. */
  readonly dim: number;
  /** The data points, row-major [N, d]. */
  readonly points: Float64Array;
  /** Logits, then weights, of one block of rows: [BLOCK, N]. */
  private readonly weights: Float64Array;
  /** Weighted sums of one block of rows: [BLOCK, d]. */
  private readonly acc: Float64Array;
  /** One block of input rows, as float64: [BLOCK, d]. */
  private readonly xblock: Float64Array;

  /**
   * @param points the data, row-major [count, dim] (copied)
   * @param dim coordinates per point
   */
  constructor(points: ArrayLike<number>, dim: number) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RangeError(`empirical: dim must be a positive integer, got ${dim}`);
    const count = points.length / dim;
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`empirical: ${points.length} values are not a whole number of points of ${dim}`);
    this.points = Float64Array.from(points);
    for (let k = 0; k < this.points.length; k++)
      if (!Number.isFinite(this.points[k]))
        throw new RangeError(`empirical: point ${Math.floor(k / dim)} holds ${this.points[k]}`);
    this.count = count;
    this.dim = dim;
    this.weights = new Float64Array(BLOCK * count);
    this.acc = new Float64Array(BLOCK * dim);
    this.xblock = new Float64Array(BLOCK * dim);
  }

  /** The exact denoiser of a data set's images under y = pixels * scale + shift. */
  static fromDataset(ds: Dataset, transform: PixelTransform): EmpiricalDenoiser {
    return new EmpiricalDenoiser(
      datasetPoints(ds, transform),
      ds.shape.reduce((a, b) => a * b, 1),
    );
  }

  async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
    return this.denoiseSync(x, sigma, out);
  }

  denoiseSync(x: Tensor, sigma: ArrayLike<number>, out?: Tensor): Tensor {
    const { dim } = this;
    const n = x.data.length;
    const rows = n / dim;
    if (!Number.isInteger(rows) || rows !== x.shape[0] || rows * dim !== n)
      throw new RangeError(
        `empirical: x of shape [${x.shape.join(", ")}] is not a batch of points of ${dim} values`,
      );
    if (sigma.length !== rows) throw new RangeError(`empirical: ${sigma.length} sigmas for ${rows} rows`);
    for (let r = 0; r < rows; r++)
      if (!(sigma[r] >= 0 && sigma[r] < Infinity))
        throw new RangeError(`empirical: sigma[${r}] must be finite and >= 0, got ${sigma[r]}`);
    const o = out ?? tensor(allocate(x.dtype, n), x.shape);
    if (o.data.length !== n)
      throw new RangeError(`empirical: out has ${o.data.length} elements, expected ${n}`);
    for (let r0 = 0; r0 < rows; r0 += BLOCK)
      this.block(x.data, r0, Math.min(BLOCK, rows - r0), sigma, o.data);
    return o;
  }

  /** Denoise rows r0 .. r0+nr-1 of xs into od. */
  private block(
    xs: ArrayLike<number>,
    r0: number,
    nr: number,
    sigma: ArrayLike<number>,
    od: { [i: number]: number },
  ): void {
    const { count, dim, points, weights, acc, xblock } = this;
    // The block's rows as float64 (one monomorphic array for the inner loops).
    for (let k = 0; k < nr * dim; k++) xblock[k] = xs[r0 * dim + k];
    // Pass 1: squared distances of the block's rows to every point, four rows per sweep of
    // a point's coordinates.
    for (let i = 0; i < count; i++) {
      const yo = i * dim;
      let r = 0;
      for (; r + 4 <= nr; r += 4) {
        const x0 = r * dim,
          x1 = x0 + dim,
          x2 = x1 + dim,
          x3 = x2 + dim;
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0;
        for (let d = 0; d < dim; d++) {
          const y = points[yo + d];
          const e0 = xblock[x0 + d] - y,
            e1 = xblock[x1 + d] - y,
            e2 = xblock[x2 + d] - y,
            e3 = xblock[x3 + d] - y;
          s0 += e0 * e0;
          s1 += e1 * e1;
          s2 += e2 * e2;
          s3 += e3 * e3;
        }
        weights[r * count + i] = s0;
        weights[(r + 1) * count + i] = s1;
        weights[(r + 2) * count + i] = s2;
        weights[(r + 3) * count + i] = s3;
      }
      for (; r < nr; r++) {
        const xo = r * dim;
        let s0 = 0;
        for (let d = 0; d < dim; d++) {
          const e = xblock[xo + d] - points[yo + d];
          s0 += e * e;
        }
        weights[r * count + i] = s0;
      }
    }
    // Softmax of -d2 / (2 sigma^2) per row (sigma = 0: the nearest point).
    for (let r = 0; r < nr; r++) {
      const wo = r * count;
      let best = 0;
      for (let i = 1; i < count; i++) if (weights[wo + i] < weights[wo + best]) best = i;
      const s = sigma[r0 + r];
      if (s === 0) {
        for (let i = 0; i < count; i++) weights[wo + i] = i === best ? 1 : 0;
        continue;
      }
      const inv = 1 / (2 * s * s);
      const dmin = weights[wo + best];
      let z = 0;
      for (let i = 0; i < count; i++) {
        const w = fastExp(-(weights[wo + i] - dmin) * inv);
        weights[wo + i] = w;
        z += w;
      }
      for (let i = 0; i < count; i++) weights[wo + i] /= z;
    }
    // Pass 2: weighted sums of the points (points with weight 0 skipped: they add nothing).
    acc.fill(0, 0, nr * dim);
    for (let i = 0; i < count; i++) {
      const yo = i * dim;
      for (let r = 0; r < nr; r++) {
        const w = weights[r * count + i];
        if (w === 0) continue;
        const ao = r * dim;
        for (let d = 0; d < dim; d++) acc[ao + d] += w * points[yo + d];
      }
    }
    for (let k = 0; k < nr * dim; k++) od[r0 * dim + k] = acc[k];
  }
}
