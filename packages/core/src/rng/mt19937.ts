/**
 * The 32-bit Mersenne Twister MT19937 (Matsumoto & Nishimura, 1998) as PyTorch's CPU
 * generator uses it, plus the seed normalisation of `torch.Generator.manual_seed`.
 *
 * Seeding is the classic single-word `init_genrand` recurrence
 * `s[0] = seed`, `s[i] = 1812433253·(s[i−1] ⊕ (s[i−1] >>> 30)) + i (mod 2^32)` — not the
 * `init_by_array` variant behind Python's `random.seed` or `numpy.random.seed`. The first
 * output is produced after a full twist of the 624-word state. All arithmetic is exact
 * 32-bit integer arithmetic (`Math.imul`, `>>> 0`).
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

const TWO_64 = 1n << 64n;
const MIN_SEED = -(1n << 63n);
const MAX_SEED = TWO_64 - 1n;

/** A seed as accepted by {@link normalizeSeed}: an integer number or a bigint. */
export type Seed = number | bigint;

/**
 * Map a seed to the unsigned 64-bit value torch stores (`initial_seed()`).
 *
 * Accepted: integers in [−2^63, 2^64 − 1], as `bigint` or as an integer-valued `number`
 * (numbers above 2^53 are taken at their exact double value). Negative seeds become their
 * two's complement, e.g. −1 → 2^64 − 1. Anything else throws: a `TypeError` for a value
 * that is neither number nor bigint, a `RangeError` for non-integers, NaN, ±∞ and values
 * out of range.
 */
export function normalizeSeed(seed: Seed): bigint {
  let s: bigint;
  if (typeof seed === "bigint") s = seed;
  else if (typeof seed === "number") {
    if (!Number.isInteger(seed)) {
      throw new RangeError(`seed must be an integer, got ${String(seed)}`);
    }
    s = BigInt(seed);
  } else {
    throw new TypeError(`seed must be a number or a bigint, got ${typeof seed}`);
  }
  if (s < MIN_SEED || s > MAX_SEED) {
    throw new RangeError(`seed ${s} is outside the accepted range [-2^63, 2^64-1]`);
  }
  return s < 0n ? s + TWO_64 : s;
}

/** MT19937 with `init_genrand` seeding; `nextUint32()` returns the tempered outputs. */
export class MT19937 {
  /** The 624-word state (after a twist: the words about to be tempered). */
  readonly state: Uint32Array = new Uint32Array(N);
  /** Index of the next state word to temper; N means "twist first". */
  index = N;

  /** Seed with `seed mod 2^32` (see {@link normalizeSeed} for the accepted values). */
  constructor(seed: Seed = 5489) {
    this.seed(seed);
  }

  /** Re-seed with the low 32 bits of `seed` (after two's-complement normalisation). */
  seed(seed: Seed): void {
    this.seed32(Number(normalizeSeed(seed) & 0xffffffffn));
  }

  /** Re-seed with a 32-bit word (`init_genrand`). */
  seed32(s0: number): void {
    const mt = this.state;
    let prev = s0 >>> 0;
    mt[0] = prev;
    for (let i = 1; i < N; i++) {
      prev = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
      mt[i] = prev;
    }
    this.index = N;
  }

  /** Regenerate all 624 state words (the "twist"). */
  twist(): void {
    const mt = this.state;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.index = 0;
  }

  /** Next output word, an integer in [0, 2^32). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Copy the full state (words and position) from another engine. */
  copyFrom(other: MT19937): void {
    this.state.set(other.state);
    this.index = other.index;
  }
}
