/**
 * Replay of recorded draws (the torch-compatible seeded sources are in rng/torch-noise.ts).
 */
import type { NoiseRequest, NoiseSource } from "./contracts.js";
import type { Tensor } from "./tensor.js";

/** Raised when a sampler's noise consumption disagrees with a recording. */
export class NoiseReplayError extends Error {
  override name = "NoiseReplayError";
}

/**
 * Returns recorded unit-normal draws in order (fixture `noise.draws[1..]`). A request for
 * a draw of another size, or for more draws than recorded, is an error naming the draw;
 * `assertExhausted()` reports draws left over.
 */
export class ReplayNoise implements NoiseSource {
  private next = 0;
  readonly requests: (NoiseRequest | undefined)[] = [];

  constructor(
    private readonly draws: readonly ArrayLike<number>[],
    private readonly label = "replay noise",
  ) {}

  get consumed(): number {
    return this.next;
  }

  get remaining(): number {
    return this.draws.length - this.next;
  }

  randn(out: Tensor, request?: NoiseRequest): Tensor {
    if (this.next >= this.draws.length) {
      throw new NoiseReplayError(
        `${this.label}: the sampler asked for draw ${this.next + 1} but only ${this.draws.length} were recorded`,
      );
    }
    const d = this.draws[this.next];
    if (d.length !== out.data.length) {
      throw new NoiseReplayError(
        `${this.label}: draw ${this.next + 1} has ${d.length} values but the sampler asked for ${out.data.length}`,
      );
    }
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = d[i];
    this.next++;
    this.requests.push(request);
    return out;
  }

  assertExhausted(): void {
    if (this.remaining !== 0) {
      throw new NoiseReplayError(
        `${this.label}: the sampler consumed ${this.next} draws but ${this.draws.length} were recorded`,
      );
    }
  }
}
