import { expect, test } from "vitest";
import {
  PerSampleTorchNoise,
  TorchGenerator,
  TorchNoise,
  stackedRandn,
  perSampleGenerators,
  zeros,
} from "../src/index.js";

test("TorchNoise fills buffers with the generator's stream, call after call", () => {
  const src = new TorchNoise(1234);
  const ref = new TorchGenerator(1234);
  for (const shape of [
    [16, 2],
    [3, 1],
    [40, 2],
  ]) {
    for (const dtype of ["float64", "float32"] as const) {
      const got = src.randn(zeros(shape, dtype));
      expect(Array.from(got.data)).toEqual(Array.from(ref.randn(shape, dtype).data));
    }
  }
});

test("PerSampleTorchNoise gives row b from generator b (StackedRandomGenerator)", () => {
  const seeds = [7, 8, 9];
  const got = new PerSampleTorchNoise(seeds).randn(zeros([3, 20]));
  expect(Array.from(got.data)).toEqual(
    Array.from(stackedRandn(perSampleGenerators(seeds), [20], "float64").data),
  );
  for (let r = 0; r < 3; r++) {
    expect(Array.from(got.data.subarray(r * 20, r * 20 + 20))).toEqual(
      Array.from(new TorchGenerator(seeds[r]).randn([20]).data),
    );
  }
  expect(() => new PerSampleTorchNoise([1, 2]).randn(zeros([3, 1]))).toThrow(
    /2 generators for a batch of 3 rows/,
  );
});
