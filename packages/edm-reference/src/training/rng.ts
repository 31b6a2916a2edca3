/**
 * A small, self-contained seeded generator for toy training data and initial weights.
 *
 * xoshiro128** (Blackman & Vigna) on 32-bit words, seeded through splitmix32, with
 * 53-bit uniforms and Box-Muller normals. Deterministic for a given seed on every JavaScript
 * runtime: integer arithmetic, IEEE `Math.sqrt`, and core's correctly rounded `log`, `cos`
 * and `sin` (never V8's, whose results have changed between versions).
 * It is NOT torch-compatible (use core's TorchGenerator to reproduce PyTorch draws); it is
 * here because training only needs a fast reproducible stream.
 */
import { libm } from "@edmkit/core";

export class ToyRng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Second Box-Muller output, kept for the next call. */
  private spare = 0;
  private hasSpare = false;
  /** Scratch for normalInto's bulk draws. */
  private words = new Uint32Array(0);

  /** `seed`: any finite number; integers up to 2^53 are mixed in full. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`ToyRng: seed must be a finite number, got ${seed}`);
    const hi = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
    let x = (Math.abs(seed) >>> 0) ^ Math.imul(hi, 0x9e3779b9) ^ (seed < 0 ? 0x5bd1e995 : 0);
    // splitmix32 spreads one 32-bit seed over the four state words (never all zero).
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n) (n <= 2^32), by rejection, so without modulo bias. */
  int(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= 4294967296)) {
      throw new RangeError(`ToyRng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const v = this.nextUint32();
      if (v < limit) return v % n;
    }
  }

  /** Standard normal (Box-Muller; pairs are produced together and used in order). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.uniform(); // (0, 1], so the log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * libm.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * libm.sin(theta);
    this.hasSpare = true;
    return r * libm.cos(theta);
  }

  /**
   * Fill `out` with standard normals; returns `out`. The same stream as calling normal()
   * out.length times, but the raw words are drawn in bulk into a scratch buffer (kept
   * between calls), so no value is boxed on the heap.
   */
  normalInto<T extends Float64Array | Float32Array>(out: T): T {
    let i = 0;
    if (this.hasSpare && out.length > 0) {
      this.hasSpare = false;
      out[i++] = this.spare;
    }
    const pairs = (out.length - i) >> 1;
    const words = this.drawWords(4 * pairs);
    for (let p = 0; p < pairs; p++, i += 2) {
      const w = 4 * p;
      // same arithmetic as uniform() and normal()
      const u1 = 1 - ((words[w] >>> 5) * 67108864 + (words[w + 1] >>> 6)) / 9007199254740992;
      const u2 = ((words[w + 2] >>> 5) * 67108864 + (words[w + 3] >>> 6)) / 9007199254740992;
      const r = Math.sqrt(-2 * libm.log(u1));
      const theta = 2 * Math.PI * u2;
      out[i] = r * libm.cos(theta);
      out[i + 1] = r * libm.sin(theta);
    }
    if (i < out.length) out[i] = this.normal();
    return out;
  }

  /** The next `count` outputs of nextUint32(), in a scratch buffer valid until the next call. */
  private drawWords(count: number): Uint32Array {
    if (this.words.length < count) this.words = new Uint32Array(Math.max(count, 2 * this.words.length));
    const words = this.words;
    let s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    for (let i = 0; i < count; i++) {
      words[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return words;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
