/**
 * Noise sources backed by torch-compatible generators.
 */
import type { NoiseSource } from "../contracts.js";
import type { Tensor } from "../tensor.js";
import { TorchGenerator } from "./torch-generator.js";

/**
 * Noise from one torch-compatible generator: the same numbers `torch.randn_like(x)` gives on
 * the CPU after `torch.manual_seed(seed)`, for the same sequence of shapes and dtypes.
 */
export class TorchNoise implements NoiseSource {
  readonly generator: TorchGenerator;
  constructor(seedOrGenerator: number | bigint | TorchGenerator) {
    this.generator =
      seedOrGenerator instanceof TorchGenerator ? seedOrGenerator : new TorchGenerator(seedOrGenerator);
  }
  randn(out: Tensor): Tensor {
    this.generator.randnInto(out.data);
    return out;
  }
}

/**
 * One generator per batch row (NVlabs' StackedRandomGenerator, diffusers' list of
 * generators): row b of every draw comes from generator b.
 */
export class PerSampleTorchNoise implements NoiseSource {
  readonly generators: TorchGenerator[];
  constructor(seeds: readonly (number | bigint | TorchGenerator)[]) {
    this.generators = seeds.map((s) => (s instanceof TorchGenerator ? s : new TorchGenerator(s)));
  }
  randn(out: Tensor): Tensor {
    const rows = this.generators.length;
    const b = out.shape.length === 0 ? 1 : out.shape[0];
    if (b !== rows) {
      throw new RangeError(`PerSampleTorchNoise: ${rows} generators for a batch of ${b} rows`);
    }
    const per = out.data.length / rows;
    for (let r = 0; r < rows; r++) {
      this.generators[r].randnInto(out.data.subarray(r * per, (r + 1) * per));
    }
    return out;
  }
}
