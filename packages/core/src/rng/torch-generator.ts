/**
 * A reimplementation of PyTorch's CPU random generator (`torch.Generator()`, MT19937) and of
 * `torch.randn` on it, bit-compatible with torch 1.13 on x86-64 (see
 * fixtures/rng/TORCH_RNG.md for the full description and the test vectors next to it).
 *
 * How torch turns MT19937 words into normals:
 *
 * - Raw words: `w32` is one MT19937 output. A float32-style uniform is
 *   `(w32 & 0xFFFFFF)·2^-24` (one word); a float64-style uniform takes two words `a`, `b`
 *   and is `((a & 0x1FFFFF)·2^32 + b)·2^-53` — the low 53 bits of the 64-bit word `a:b`.
 * - Small tensors (fewer than 16 elements) take the *scalar path*: classic Box-Muller in
 *   float64 for every dtype. Two float64 uniforms u1, u2 give r = √(−2·log(1 − u2)) and
 *   θ = 2π·u1; r·cos θ is returned and r·sin θ is kept in a one-slot cache that the next
 *   scalar draw returns without consuming words. The cache belongs to the generator: it
 *   survives across calls, is shared by float32 and float64 requests and is only cleared
 *   by re-seeding.
 * - Tensors of 16 or more elements take the *block path*: first all n uniforms are drawn
 *   in order (float32- or float64-style by dtype), then each complete block of 16 is
 *   transformed in place with element k paired with k + 8 (u1 = 1 − x[k] feeds the log,
 *   u2 = x[k+8] the angle). When n is not a multiple of 16, 16 *fresh* uniforms overwrite
 *   positions n−16 … n−1 and that window is transformed as one more block, so
 *   randn(n) is generally not a prefix of randn(n + 1). This path ignores the cache.
 *   float64 blocks use libm log/cos/sin (here: the correctly rounded versions in
 *   `../libm.ts`, matching glibc's except on its rare misrounded inputs); float32 blocks use
 *   torch's AVX2 polynomial kernel, replayed exactly in `fill16-f32.ts`.
 *
 * Tensors are filled in row-major order like a flat vector.
 *
 * Checked against Debian's torch 1.13.1 (x86-64, AVX2 kernel): 3.6 million float32 values
 * bit-exact; of 3.7 million float64 values 99.84% bit-exact and the rest 1-2 ulp away, the
 * differences coming only from glibc's occasional misrounded log/sin/cos (with glibc's own
 * values plugged in, every float64 fixture value matches).
 */
import { type DType, type Tensor, type TypedArray, allocate, numel, tensor } from "../tensor.js";
import { normalFill16F32 } from "./fill16-f32.js";
import { ArgumentError } from "../errors.js";
import { logArray, sincosArray } from "../libm.js";
import { MT19937, type Seed, normalizeSeed } from "./mt19937.js";

/** The seed of a fresh `torch.Generator()` (its low 32 bits are 4053586177). */
export const TORCH_DEFAULT_SEED = 67280421310721n;

/** 2π as torch's double constant: 2·π rounded once (exactly twice Math.PI). */
const TWO_PI = 2 * Math.PI;
const TWO_POW_M24 = 5.9604644775390625e-8;
const TWO_POW_M53 = 1.1102230246251565e-16;
const TWO_POW_32 = 4294967296;

/** MT19937 tempering of one state word. */
function temper(y: number): number {
  y ^= y >>> 11;
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  return y ^ (y >>> 18);
}

/**
 * Scratch lanes of the float64 transforms: the log arguments and results, the angles, their
 * sines and cosines. The libm array functions keep every number unboxed, so the block and
 * scalar paths allocate nothing.
 */
const LOGS = new Float64Array(8);
const ANGLES = new Float64Array(8);
const SINES = new Float64Array(8);
const COSINES = new Float64Array(8);

/** torch's float64 block transform of `x[o..o+15]` in place (pairs k, k + 8). */
function normalFill16F64(x: Float64Array, o: number): void {
  for (let k = 0; k < 8; k++) {
    LOGS[k] = 1 - x[o + k];
    ANGLES[k] = TWO_PI * x[o + k + 8];
  }
  logArray(LOGS, LOGS, 8);
  sincosArray(ANGLES, SINES, COSINES, 8);
  for (let k = 0; k < 8; k++) {
    const r = Math.sqrt(-2 * LOGS[k]);
    x[o + k] = r * COSINES[k] + 0; // `+ 0`: torch's x·std + mean with std 1, mean 0 (−0 → +0)
    x[o + k + 8] = r * SINES[k] + 0;
  }
}

function checkShape(what: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${what}: shape [${shape.join(", ")}] must hold non-negative integers`);
    }
  }
}

/**
 * A PyTorch-compatible CPU generator: MT19937 state, the 64-bit seed it was seeded with
 * and the cached Box-Muller normal of the scalar path.
 */
export class TorchGenerator {
  private readonly mt = new MT19937(0);
  private seedValue: bigint = 0n;
  private hasCachedNormal = false;
  private cachedNormal = 0;

  /** Like `torch.Generator().manual_seed(seed)`; without a seed like a fresh `torch.Generator()`. */
  constructor(seed: Seed = TORCH_DEFAULT_SEED) {
    this.manualSeed(seed);
  }

  /**
   * Re-seed (torch's `manual_seed`): integers in [−2^63, 2^64 − 1], number or bigint,
   * negatives as two's complement. Only the low 32 bits reach MT19937, so 2^32 + 5 gives
   * the same stream as 5. Clears the cached normal. Returns `this`.
   */
  manualSeed(seed: Seed): this {
    const s = normalizeSeed(seed);
    this.seedValue = s;
    this.mt.seed32(Number(s & 0xffffffffn));
    this.hasCachedNormal = false;
    this.cachedNormal = 0;
    return this;
  }

  /** The seed as torch's `initial_seed()` reports it: the full unsigned 64-bit value. */
  initialSeed(): bigint {
    return this.seedValue;
  }

  /** The next raw MT19937 word, an integer in [0, 2^32). */
  nextUint32(): number {
    return this.mt.nextUint32();
  }

  /** An independent copy: same MT state, same seed, same cached normal. */
  clone(): TorchGenerator {
    const g = new TorchGenerator(this.seedValue);
    g.mt.copyFrom(this.mt);
    g.hasCachedNormal = this.hasCachedNormal;
    g.cachedNormal = this.cachedNormal;
    return g;
  }

  /** `torch.randn(shape, dtype=dtype, generator=this)`; float64 by default. */
  randn(shape: readonly number[], dtype: DType = "float64"): Tensor {
    checkShape("randn", shape);
    if (dtype !== "float64" && dtype !== "float32")
      throw new ArgumentError(`randn: dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`);
    const data = allocate(dtype, numel(shape));
    this.randnInto(data);
    return tensor(data, shape);
  }

  /** `torch.randn_like(t, generator=this)` for a (contiguous) tensor: same shape and dtype. */
  randnLike(t: Tensor): Tensor {
    return this.randn(t.shape, t.dtype);
  }

  /**
   * Fill `out` exactly as `randn(out.length)` with the dtype of the array would, without
   * allocating. Float32Array → float32 results, Float64Array → float64 results.
   * (About 50 ns per float32 value and 100 ns per float64 value on a small VM, most of it the
   * exactly replayed float32 kernel or the correctly rounded log/sin/cos.)
   */
  randnInto(out: TypedArray): void {
    const n = out.length;
    if (n === 0) return;
    if (n < 16) {
      this.scalarNormals(out, n);
    } else if (out instanceof Float32Array) {
      this.uniforms24(out, 0, n);
      for (let i = 0; i + 16 <= n; i += 16) normalFill16F32(out, i);
      if (n % 16 !== 0) {
        this.uniforms24(out, n - 16, n);
        normalFill16F32(out, n - 16);
      }
    } else {
      this.uniforms53(out, 0, n);
      for (let i = 0; i + 16 <= n; i += 16) normalFill16F64(out, i);
      if (n % 16 !== 0) {
        this.uniforms53(out, n - 16, n);
        normalFill16F64(out, n - 16);
      }
    }
  }

  /** Scalar path: float64 Box-Muller with the shared one-value cache. */
  private scalarNormals(out: TypedArray, n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.hasCachedNormal) {
        this.hasCachedNormal = false;
        out[i] = this.cachedNormal + 0;
        continue;
      }
      const u1 = this.uniform53();
      const u2 = this.uniform53();
      LOGS[0] = 1 - u2;
      ANGLES[0] = TWO_PI * u1;
      logArray(LOGS, LOGS, 1);
      sincosArray(ANGLES, SINES, COSINES, 1);
      const r = Math.sqrt(-2 * LOGS[0]);
      this.cachedNormal = r * SINES[0];
      this.hasCachedNormal = true;
      out[i] = r * COSINES[0] + 0;
    }
  }

  /** One float64-style uniform (two words). */
  private uniform53(): number {
    const a = this.mt.nextUint32();
    const b = this.mt.nextUint32();
    return ((a & 0x1fffff) * TWO_POW_32 + b) * TWO_POW_M53;
  }

  /** float64-style uniforms into `x[from..to)`, in order. */
  private uniforms53(x: Float64Array, from: number, to: number): void {
    const mt = this.mt;
    const st = mt.state;
    let idx = mt.index;
    for (let i = from; i < to; i++) {
      if (idx >= 624) {
        mt.twist();
        idx = 0;
      }
      const a = temper(st[idx++]);
      if (idx >= 624) {
        mt.twist();
        idx = 0;
      }
      const b = temper(st[idx++]) >>> 0;
      x[i] = ((a & 0x1fffff) * TWO_POW_32 + b) * TWO_POW_M53;
    }
    mt.index = idx;
  }

  /** float32-style uniforms into `x[from..to)`, in order. */
  private uniforms24(x: Float32Array, from: number, to: number): void {
    const mt = this.mt;
    const st = mt.state;
    let idx = mt.index;
    for (let i = from; i < to; i++) {
      if (idx >= 624) {
        mt.twist();
        idx = 0;
      }
      x[i] = (temper(st[idx++]) & 0xffffff) * TWO_POW_M24;
    }
    mt.index = idx;
  }
}

/** One generator per seed, e.g. for per-sample seeding of a batch. */
export function perSampleGenerators(seeds: readonly Seed[]): TorchGenerator[] {
  return seeds.map((s) => new TorchGenerator(s));
}

/**
 * Per-sample noise with one generator per batch row (NVlabs EDM's
 * `StackedRandomGenerator`, diffusers' list-of-generators `randn_tensor`): the result has
 * shape `[generators.length, ...rowShape]` and row b equals
 * `generators[b].randn(rowShape, dtype)`, advancing each generator accordingly.
 */
export function stackedRandn(
  generators: readonly TorchGenerator[],
  rowShape: readonly number[],
  dtype: DType = "float64",
): Tensor {
  checkShape("stackedRandn", rowShape);
  const rowN = numel(rowShape);
  const data = allocate(dtype, generators.length * rowN);
  for (let b = 0; b < generators.length; b++) {
    generators[b].randnInto(data.subarray(b * rowN, (b + 1) * rowN));
  }
  return tensor(data, [generators.length, ...rowShape]);
}
