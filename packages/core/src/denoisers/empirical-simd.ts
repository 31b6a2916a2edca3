/**
 * `EmpiricalDenoiser` in WebAssembly SIMD (issues 13, 16): a module assembled per data set
 * (empirical-wasm.ts; its sizes baked in as constants), with its own memory in which the data
 * set lives for good, in the two layouts the passes read. Used where WebAssembly SIMD exists and
 * `EDMKIT_SIMD=0` is not set (node), in node and in browsers alike (nothing node-only).
 *
 * Pass 1 (`dist`): squared distances of a block's rows to every point. Lanes are two points of
 * one row, read from the points transposed ([d, Npad], Npad = N rounded up to the tile); a
 * register tile is RD rows x PD vectors (2·PD points), and each lane sums (x_d - y_d)^2 over the
 * coordinates d in order, from +0 (sub, mul, add: the JS loop's three IEEE operations).
 *
 * Softmax, one row at a time (empirical-wasm-softmax.ts): the nearest point (`amin`: per lane the
 * first strict minimum, the lanes then combined to the first index of the smallest value, as the
 * sequential scan finds it), the exponentials (`expw`: core's `fastExp` lane by lane, its branches
 * as selects) and the normalisation (`norm`: z summed over the points in order with scalar adds,
 * then the divisions in lanes). Marking the points that weigh something stays in JS.
 *
 * Pass 2 (`wsum`): acc = weights · points over the points listed in `live` (those weighing
 * something in the block), in their increasing order. Lanes are two coordinates of one row, read
 * from the points row-major ([N, dW], dW = d rounded up to the tile); a register tile is RW rows
 * x QW vectors, each lane summing w_i · y_id over the listed points in order, from +0 (mul, add).
 *
 * Every lane thus performs exactly the operations of the JS loops (empirical.ts) in their order:
 * only independent rows, points and coordinates share a vector, and no sum is reassociated, so
 * the results are the same bits (WebAssembly has no fused multiply-add; NaN payloads aside).
 * The f64x2 passes run at about the machine's add throughput (3 adds or subtractions per
 * distance term, 1 per weighted-sum term, 2 lanes), which bounds them without reassociation.
 *
 * Memory layout (bytes, 16-aligned): x block [BLOCK, d] | points^T [d, Npad] | points [N, dW] |
 * weights [BLOCK, Npad] | live [N] i32 | acc [BLOCK, dW] | scratch. The caller fills and reads
 * them through typed-array views of this memory (no copies of the weights).
 */
import { simdWasm } from "../simd.js";
import { empiricalModule, type Layout, layout, RD, RW } from "./empirical-wasm.js";

interface Fns {
  dist(tiles: number): void;
  wsum(tiles: number, nlive: number): void;
  expw(off: number, n: number, dmin: number, inv: number): void;
  amin(off: number, nvec: number): void;
  norm(off: number, n: number): void;
}

/**
 * The passes of one data set in WebAssembly SIMD, or null from `create` where it is unavailable.
 * `x`, `weights` (row stride `stride`), `live` and `acc` (row stride `accStride`) are views of the
 * module's memory that the caller fills and reads around `distances` and `weightedSums`.
 */
export class EmpiricalSimd {
  readonly x: Float64Array;
  readonly weights: Float64Array;
  readonly live: Int32Array;
  readonly acc: Float64Array;
  private readonly scratch: Float64Array;
  readonly stride: number;
  readonly accStride: number;
  /** Rows per tile of each pass (the block's rows are rounded up to it). */
  static readonly rowTiles = [RD, RW] as const;
  private constructor(
    private readonly L: Layout,
    private readonly fns: Fns,
    buffer: ArrayBuffer,
  ) {
    this.x = new Float64Array(buffer, L.x, L.block * L.dim);
    this.weights = new Float64Array(buffer, L.w, L.block * L.npad);
    this.live = new Int32Array(buffer, L.live, L.count);
    this.acc = new Float64Array(buffer, L.acc, L.block * L.dw);
    this.scratch = new Float64Array(buffer, L.scratch, 4);
    this.stride = L.npad;
    this.accStride = L.dw;
  }

  /** Loads the points (row-major [count, dim]) into a fresh module, or null without SIMD. */
  static create(points: Float64Array, count: number, dim: number, block: number): EmpiricalSimd | null {
    if (block % RD !== 0 || block % RW !== 0)
      throw new RangeError("EmpiricalSimd: block not a multiple of the tiles");
    const wasm = simdWasm();
    if (wasm === null) return null;
    const L = layout(count, dim, block);
    if (L.bytes > 2 ** 31) return null;
    const pages = Math.ceil(L.bytes / 65536);
    const bytes = empiricalModule(L);
    let mem: { buffer: ArrayBuffer };
    let inst: { exports: Record<string, unknown> };
    try {
      // an engine that rejects the module or cannot give the memory keeps the JS loops
      if (!wasm.validate(bytes)) return null;
      mem = new wasm.Memory({ initial: pages, maximum: pages });
      inst = new wasm.Instance(new wasm.Module(bytes), { m: { mem } });
    } catch {
      return null;
    }
    const f64 = new Float64Array(mem.buffer);
    for (let i = 0; i < count; i++)
      for (let d = 0; d < dim; d++) {
        const y = points[i * dim + d];
        f64[L.pt / 8 + d * L.npad + i] = y;
        f64[L.p / 8 + i * L.dw + d] = y;
      }
    const fns = inst.exports as unknown as Fns;
    return new EmpiricalSimd(L, fns, mem.buffer);
  }

  /** Pass 1 for rows 0 .. nr-1 of `x` (rows past nr zero) into `weights`. */
  distances(nr: number): void {
    this.fns.dist(Math.ceil(nr / RD));
  }

  /** Pass 2 for rows 0 .. nr-1 over the first `nlive` entries of `live` into `acc`. */
  weightedSums(nr: number, nlive: number): void {
    this.fns.wsum(Math.ceil(nr / RW), nlive);
  }

  /**
   * weights[row, i] = fastExp(-(weights[row, i] - dmin) · inv) for i < count (and the padding
   * up to a whole vector), the same bits as `fastExp` for these arguments (<= 0 or NaN).
   */
  exp(row: number, dmin: number, inv: number): void {
    this.fns.expw(this.L.w + row * this.L.npad * 8, this.L.count, dmin, inv);
  }

  /**
   * The first index of the smallest of weights[row, 0 .. count-1] under `<`, as the sequential
   * scan `best = 0; if (w[i] < w[best]) best = i` finds it (so 0 when w[0] is NaN).
   */
  argmin(row: number): number {
    const { count, npad } = this.L,
      w = this.weights,
      o = row * npad;
    if (Number.isNaN(w[o])) return 0;
    const nvec = count >> 1;
    this.fns.amin(this.L.w + o * 8, nvec);
    const [v0, v1, i0, i1] = this.scratch;
    let best: number;
    if (i0 < 0 && i1 < 0) best = 0;
    else if (i1 < 0 || (i0 >= 0 && (v0 < v1 || (v0 === v1 && i0 < i1)))) best = i0;
    else best = i1;
    for (let i = 2 * nvec; i < count; i++) if (w[o + i] < w[o + best]) best = i;
    return best;
  }

  /** weights[row, i] /= z for i < count, z their sum in order (from +0). */
  normalise(row: number): void {
    this.fns.norm(this.L.w + row * this.L.npad * 8, this.L.count);
  }

  get count(): number {
    return this.L.count;
  }
}
