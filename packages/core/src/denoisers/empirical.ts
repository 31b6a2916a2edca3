/**
 * The exact denoiser of a finite data set {y_1 .. y_N} (Karras et al. 2022, eq. 3): for
 * x = y + sigma n with y drawn uniformly from the set,
 *
 *   D(x; sigma) = sum_i w_i(x) y_i,   w = softmax_i( -|x - y_i|^2 / (2 sigma^2) ).
 *
 * Cost: one squared distance and one weighted sum per (row, data point): about 2·B·N·d
 * multiply-adds per call (N points of d coordinates, B rows). Rows go in blocks of 16 through
 * two matrix-product-shaped passes held in registers: pass 1 computes 4 rows x 2 points of
 * squared distances per sweep of the coordinates; pass 2 computes 4 rows x 4 coordinates of
 * weighted sums per sweep of the points, reading the data transposed ([d, N], built once) and
 * only the points that weigh something in the block (at small sigma most weights underflow to
 * 0). Every buffer is allocated once in the constructor (sized by the block, not the batch), so
 * a call allocates nothing but its output (and not even that when `out` is given).
 *
 * Summation order, which the fixtures pin: each squared distance is summed over the
 * coordinates in order; each weighted sum over the points in increasing index order (a point
 * skipped for a zero weight adds nothing: the sums start at +0); the normaliser z over the
 * points in order, each weight divided by z. The tiling changes none of these orders, so the
 * results are the same bits as a plain triple loop.
 *
 * The distances are summed as sum_d (x_d - y_d)^2 rather than expanded into
 * |x|^2 - 2 x·y + |y|^2: the expansion cancels catastrophically at small sigma, where the
 * logits are divided by sigma^2 and an absolute error of 1e-14 in x·y becomes one of 1e-9 in
 * the weights (so no precomputed squared norms here). The weights go through log-sum-exp (the largest logit subtracted) with core's
 * `fastExp` (IEEE arithmetic only), so results are the same on every JavaScript runtime.
 *
 * Where WebAssembly SIMD is available (node, browsers; not with `EDMKIT_SIMD=0`) the passes,
 * the nearest point, the exponentials and the normalisation run in f64x2 lanes instead
 * (empirical-simd.ts), each lane performing the operations above in the same order: the same
 * bits, about 3x faster. The JS loops stay for runtimes without it and `{ simd: false }`.
 *
 * sigma = 0 gives the nearest data point (the first one of equally near points). float32
 * input is computed in float64 on the float32 values and rounded once to float32 on output
 * (FORMAT.md's rule for float32 models).
 */
import type { Denoiser } from "../contracts.js";
import { type Dataset, datasetPoints, type PixelTransform } from "../datasets/dataset.js";
import { fastExp } from "../fast-exp.js";
import { allocate, type Tensor, tensor } from "../tensor.js";
import { type SimdThreads, simdThreads } from "../simd-threads.js";
import { EmpiricalSimd } from "./empirical-simd.js";

/**
 * Rows denoised together (a multiple of the 4-row register tile): the block's distances and
 * weights, BLOCK x N float64, stay in cache between the two passes.
 */
const BLOCK = 16;

/** Rows from which a call is cut over core's SIMD threads, when a pool is in use. */
const THREAD_ROWS = 256;
/** How long a worker may take for its part of a call before the caller gives up (ms). */
const TASK_STALL_MS = 600_000;

export interface EmpiricalOptions {
  /**
   * false: always the JS loops. Default true: WebAssembly SIMD where available (empirical-simd.ts,
   * the same bits; faster at every batch size measured, one row included).
   */
  readonly simd?: boolean;
  /**
   * false: always on the calling thread. Default true: a call of 256 rows or more is cut over
   * core's SIMD worker threads when a pool is in use (`useSimdThreads`), with the same bits.
   */
  readonly threads?: boolean;
}

export class EmpiricalDenoiser implements Denoiser {
  /** Number of data points N. */
  readonly count: number;
  /** Coordinates per point d. */
  readonly dim: number;
  /** The data points, row-major [N, d]. */
  readonly points: Float64Array;
  /** The data points transposed, [dpad, N], coordinates past d zero (pass 2 reads 4 at a time). */
  private readonly pointsT: Float64Array;
  /** d rounded up to a multiple of 4. */
  private readonly dpad: number;
  /** Squared distances, then weights, of one block of rows: [BLOCK, N]. */
  private readonly weights: Float64Array;
  /** Weighted sums of one block of rows: [BLOCK, dpad]. */
  private readonly acc: Float64Array;
  /** One block of input rows, as float64: [BLOCK, d]. */
  private readonly xblock: Float64Array;
  /** Indices of the points with a non-zero weight in some row of the block. */
  private readonly live: Int32Array;
  /** Per point: 1 when it has a non-zero weight in some row of the block. */
  private readonly used: Uint8Array;
  /** Whether the SIMD passes may be used. */
  private readonly simdAllowed: boolean;
  /** Whether calls may be cut over core's SIMD threads. */
  private readonly threadsAllowed: boolean;
  /** The SIMD passes with the data resident in their memory: created on first use, null where unavailable. */
  private simd: EmpiricalSimd | null | undefined;
  /** The shared buffers and task of the threaded calls (`denoiseThreaded`), once made. */
  private shared: {
    pool: SimdThreads;
    id: number;
    rows: number;
    wide: boolean;
    x: Float32Array | Float64Array;
    sigma: Float64Array;
    out: Float32Array | Float64Array;
  } | null = null;

  /**
   * @param points the data, row-major [count, dim] (copied)
   * @param dim coordinates per point
   */
  constructor(points: ArrayLike<number>, dim: number, options: EmpiricalOptions = {}) {
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
    this.dpad = (dim + 3) & ~3;
    this.pointsT = new Float64Array(this.dpad * count);
    for (let i = 0; i < count; i++)
      for (let d = 0; d < dim; d++) this.pointsT[d * count + i] = this.points[i * dim + d];
    this.weights = new Float64Array(BLOCK * count);
    this.acc = new Float64Array(BLOCK * this.dpad);
    this.xblock = new Float64Array(BLOCK * dim);
    this.live = new Int32Array(count);
    this.used = new Uint8Array(count);
    this.simdAllowed = options.simd ?? true;
    this.threadsAllowed = options.threads ?? true;
  }

  /** Whether calls run in WebAssembly SIMD (creating its module with the data the first time). */
  usesSimd(): boolean {
    if (!this.simdAllowed) return false;
    if (this.simd === undefined) this.simd = EmpiricalSimd.create(this.points, this.count, this.dim, BLOCK);
    return this.simd !== null;
  }

  /** The exact denoiser of a data set's images under y = pixels * scale + shift. */
  static fromDataset(ds: Dataset, transform: PixelTransform, options?: EmpiricalOptions): EmpiricalDenoiser {
    return new EmpiricalDenoiser(
      datasetPoints(ds, transform),
      ds.shape.reduce((a, b) => a * b, 1),
      options,
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
    const pool = this.threadsAllowed && rows >= THREAD_ROWS ? simdThreads() : null;
    if (pool !== null && this.denoiseThreaded(pool, x.data, sigma, o.data, rows)) return o;
    this.denoiseRows(x.data, sigma, o.data, 0, rows);
    return o;
  }

  /**
   * Rows start..end−1 of x (row-major, `dim` values a row) into the same rows of `od`. Each row's
   * result depends on that row alone (a block's shared list of live points adds only exact
   * zeros for the others), so any split of the rows gives the same bits. For the SIMD workers
   * (simd-worker.ts); callers use `denoise`.
   */
  denoiseRows(
    xs: ArrayLike<number>,
    sigma: ArrayLike<number>,
    od: Float32Array | Float64Array,
    start: number,
    end: number,
  ): void {
    const simd = end > start && this.usesSimd();
    for (let r0 = start; r0 < end; r0 += BLOCK) {
      const nr = Math.min(BLOCK, end - r0);
      if (simd) this.blockSimd(xs, r0, nr, sigma, od);
      else this.block(xs, r0, nr, sigma, od);
    }
  }

  /**
   * The rows cut over core's SIMD threads (simd-threads.ts): x, sigma and the output go through
   * shared buffers (grown by doubling, kept for the next calls), each worker denoising its part
   * with a denoiser of its own on the same points. False (nothing done) when the pool does not
   * take the task.
   */
  private denoiseThreaded(
    pool: SimdThreads,
    xs: Float32Array | Float64Array,
    sigma: ArrayLike<number>,
    od: Float32Array | Float64Array,
    rows: number,
  ): boolean {
    const wide = xs instanceof Float64Array;
    let t = this.shared;
    if (t === null || t.pool !== pool || t.rows < rows || t.wide !== wide) {
      const cap = Math.max(rows, t !== null && t.wide === wide ? 2 * t.rows : 0);
      const vals = (len: number) =>
        wide
          ? new Float64Array(new SharedArrayBuffer(len * 8))
          : new Float32Array(new SharedArrayBuffer(len * 4));
      const x = vals(cap * this.dim),
        out = vals(cap * this.dim),
        sig = new Float64Array(new SharedArrayBuffer(cap * 8));
      const id = pool.registerTask({
        name: "empirical",
        points: this.points,
        dim: this.dim,
        simd: this.simdAllowed,
        x,
        sigma: sig,
        out,
      });
      if (id === null) return false;
      t = { pool, id, rows: cap, wide, x, sigma: sig, out };
      this.shared = t;
    }
    const n = rows * this.dim;
    t.x.set(xs.subarray(0, n));
    for (let r = 0; r < rows; r++) t.sigma[r] = sigma[r];
    const { x, sigma: sg, out } = t;
    pool.runTask(t.id, rows, (start, end) => this.denoiseRows(x, sg, out, start, end), TASK_STALL_MS);
    od.set(out.subarray(0, n));
    return true;
  }

  /** Denoise rows r0 .. r0+nr-1 of xs into od. */
  private block(
    xs: ArrayLike<number>,
    r0: number,
    nr: number,
    sigma: ArrayLike<number>,
    od: { [i: number]: number },
  ): void {
    const { dim, dpad, acc, xblock } = this;
    // The block's rows as float64 (one monomorphic array for the inner loops), zero rows
    // past the end of a partial block so the 4-row tiles never read stale values.
    for (let k = 0; k < nr * dim; k++) xblock[k] = xs[r0 * dim + k];
    xblock.fill(0, nr * dim);
    this.distances(nr);
    const live = this.softmax(r0, nr, sigma, this.weights, this.count, this.live, 4);
    this.weightedSums(nr, live);
    for (let r = 0; r < nr; r++) for (let d = 0; d < dim; d++) od[(r0 + r) * dim + d] = acc[r * dpad + d];
  }

  /** `block` through WebAssembly SIMD (empirical-simd.ts: the same operations in the same order). */
  private blockSimd(
    xs: ArrayLike<number>,
    r0: number,
    nr: number,
    sigma: ArrayLike<number>,
    od: { [i: number]: number },
  ): void {
    const { dim } = this;
    const s = this.simd as EmpiricalSimd;
    const { x, acc, accStride } = s;
    for (let k = 0; k < nr * dim; k++) x[k] = xs[r0 * dim + k];
    x.fill(0, nr * dim);
    s.distances(nr);
    const live = this.softmax(r0, nr, sigma, s.weights, s.stride, s.live, EmpiricalSimd.rowTiles[1], s);
    s.weightedSums(nr, live);
    for (let r = 0; r < nr; r++)
      for (let d = 0; d < dim; d++) od[(r0 + r) * dim + d] = acc[r * accStride + d];
  }

  /**
   * Pass 1: squared distances of the block's rows to every point into `weights`, one 4-row by
   * 2-point register tile at a time; each distance is summed over the coordinates in order.
   */
  private distances(nr: number): void {
    const { count, dim, points, weights, xblock } = this;
    const tiles = (nr + 3) >> 2;
    for (let t = 0; t < tiles; t++) {
      const x0 = 4 * t * dim,
        x1 = x0 + dim,
        x2 = x1 + dim,
        x3 = x2 + dim;
      const w0 = 4 * t * count,
        w1 = w0 + count,
        w2 = w1 + count,
        w3 = w2 + count;
      let i = 0;
      for (; i + 2 <= count; i += 2) {
        const ya = i * dim,
          yb = ya + dim;
        let a0 = 0,
          a1 = 0,
          a2 = 0,
          a3 = 0,
          b0 = 0,
          b1 = 0,
          b2 = 0,
          b3 = 0;
        for (let d = 0; d < dim; d++) {
          const p = points[ya + d],
            q = points[yb + d];
          const v0 = xblock[x0 + d],
            v1 = xblock[x1 + d],
            v2 = xblock[x2 + d],
            v3 = xblock[x3 + d];
          let e = v0 - p;
          a0 += e * e;
          e = v1 - p;
          a1 += e * e;
          e = v2 - p;
          a2 += e * e;
          e = v3 - p;
          a3 += e * e;
          e = v0 - q;
          b0 += e * e;
          e = v1 - q;
          b1 += e * e;
          e = v2 - q;
          b2 += e * e;
          e = v3 - q;
          b3 += e * e;
        }
        weights[w0 + i] = a0;
        weights[w1 + i] = a1;
        weights[w2 + i] = a2;
        weights[w3 + i] = a3;
        weights[w0 + i + 1] = b0;
        weights[w1 + i + 1] = b1;
        weights[w2 + i + 1] = b2;
        weights[w3 + i + 1] = b3;
      }
      for (; i < count; i++) {
        const ya = i * dim;
        let a0 = 0,
          a1 = 0,
          a2 = 0,
          a3 = 0;
        for (let d = 0; d < dim; d++) {
          const p = points[ya + d];
          let e = xblock[x0 + d] - p;
          a0 += e * e;
          e = xblock[x1 + d] - p;
          a1 += e * e;
          e = xblock[x2 + d] - p;
          a2 += e * e;
          e = xblock[x3 + d] - p;
          a3 += e * e;
        }
        weights[w0 + i] = a0;
        weights[w1 + i] = a1;
        weights[w2 + i] = a2;
        weights[w3 + i] = a3;
      }
    }
  }

  /**
   * Softmax of -d2 / (2 sigma^2) per row (sigma = 0: the nearest point), in place in `weights`
   * (rows `stride` apart). Returns how many points have a non-zero weight in at least one row of
   * the block; their indices, in increasing order, are the first entries of `live`. The rows
   * past nr, up to a multiple of `tile`, are zeroed.
   */
  private softmax(
    r0: number,
    nr: number,
    sigma: ArrayLike<number>,
    weights: Float64Array,
    stride: number,
    live: Int32Array,
    tile: number,
    simd?: EmpiricalSimd,
  ): number {
    const { count, used } = this;
    used.fill(0);
    for (let r = 0; r < nr; r++) {
      const wo = r * stride;
      let best = 0;
      if (simd !== undefined) best = simd.argmin(r);
      else for (let i = 1; i < count; i++) if (weights[wo + i] < weights[wo + best]) best = i;
      const s = sigma[r0 + r];
      if (s === 0) {
        for (let i = 0; i < count; i++) weights[wo + i] = i === best ? 1 : 0;
        used[best] = 1;
        continue;
      }
      const inv = 1 / (2 * s * s);
      const dmin = weights[wo + best];
      if (simd !== undefined) {
        simd.exp(r, dmin, inv);
        simd.normalise(r);
        for (let i = 0; i < count; i++) if (weights[wo + i] !== 0) used[i] = 1;
        continue;
      }
      let z = 0;
      for (let i = 0; i < count; i++) {
        const w = fastExp(-(weights[wo + i] - dmin) * inv);
        weights[wo + i] = w;
        z += w;
      }
      for (let i = 0; i < count; i++) {
        const w = weights[wo + i] / z;
        weights[wo + i] = w;
        if (w !== 0) used[i] = 1;
      }
    }
    // Rows past a partial block weigh nothing.
    weights.fill(0, nr * stride, Math.ceil(nr / tile) * tile * stride);
    let n = 0;
    for (let i = 0; i < count; i++) if (used[i] === 1) live[n++] = i;
    return n;
  }

  /**
   * Pass 2: acc = weights · points over the points that weigh something, one 4-row by
   * 4-coordinate register tile at a time (the points read transposed, [d, N]); each sum runs
   * over the points in increasing order, as a plain loop would (skipped zero weights add
   * nothing to a sum that starts at +0).
   */
  private weightedSums(nr: number, nlive: number): void {
    const { count, dpad, pointsT, weights, acc, live } = this;
    const tiles = (nr + 3) >> 2;
    for (let t = 0; t < tiles; t++) {
      const w0 = 4 * t * count,
        w1 = w0 + count,
        w2 = w1 + count,
        w3 = w2 + count;
      const o0 = 4 * t * dpad,
        o1 = o0 + dpad,
        o2 = o1 + dpad,
        o3 = o2 + dpad;
      for (let d = 0; d < dpad; d += 4) {
        const pa = d * count,
          pb = pa + count,
          pc = pb + count,
          pd = pc + count;
        let a0 = 0,
          a1 = 0,
          a2 = 0,
          a3 = 0,
          b0 = 0,
          b1 = 0,
          b2 = 0,
          b3 = 0,
          c0 = 0,
          c1 = 0,
          c2 = 0,
          c3 = 0,
          e0 = 0,
          e1 = 0,
          e2 = 0,
          e3 = 0;
        for (let k = 0; k < nlive; k++) {
          const i = live[k];
          const u0 = weights[w0 + i],
            u1 = weights[w1 + i],
            u2 = weights[w2 + i],
            u3 = weights[w3 + i];
          const ya = pointsT[pa + i],
            yb = pointsT[pb + i],
            yc = pointsT[pc + i],
            yd = pointsT[pd + i];
          a0 += u0 * ya;
          a1 += u0 * yb;
          a2 += u0 * yc;
          a3 += u0 * yd;
          b0 += u1 * ya;
          b1 += u1 * yb;
          b2 += u1 * yc;
          b3 += u1 * yd;
          c0 += u2 * ya;
          c1 += u2 * yb;
          c2 += u2 * yc;
          c3 += u2 * yd;
          e0 += u3 * ya;
          e1 += u3 * yb;
          e2 += u3 * yc;
          e3 += u3 * yd;
        }
        acc[o0 + d] = a0;
        acc[o0 + d + 1] = a1;
        acc[o0 + d + 2] = a2;
        acc[o0 + d + 3] = a3;
        acc[o1 + d] = b0;
        acc[o1 + d + 1] = b1;
        acc[o1 + d + 2] = b2;
        acc[o1 + d + 3] = b3;
        acc[o2 + d] = c0;
        acc[o2 + d + 1] = c1;
        acc[o2 + d + 2] = c2;
        acc[o2 + d + 3] = c3;
        acc[o3 + d] = e0;
        acc[o3 + d + 1] = e1;
        acc[o3 + d + 2] = e2;
        acc[o3 + d + 3] = e3;
      }
    }
  }
}
