/**
 * The pieces of diffusers' SchedulerCommonTest (tests/schedulers/test_schedulers.py) that
 * the full-loop tests use: dummy_sample_deter / dummy_noise_deter, dummy_model, the
 * `sample * init_noise_sigma` product and the asserted |sum| / |mean| statistics.
 */
import type { Tensor } from "@edmkit/core";
import { tensor } from "@edmkit/core";
import { expect } from "vitest";

const f = Math.fround;

/**
 * SchedulerCommonTest.dummy_sample_deter / dummy_noise_deter: arange(768) (reversed for the
 * noise) reshaped to (3, 8, 8, 4), divided by 768 in float32 and permuted to (4, 3, 8, 8).
 */
export function deterministic(reversed: boolean): Tensor {
  const d = new Float32Array(768);
  for (let b = 0; b < 4; b++)
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 8; h++)
        for (let w = 0; w < 8; w++) {
          const flat = c * 256 + h * 32 + w * 4 + b;
          d[b * 192 + c * 64 + h * 8 + w] = (reversed ? 767 - flat : flat) / 768;
        }
  return tensor(d, [4, 3, 8, 8]);
}

/**
 * SchedulerCommonTest.dummy_model: sample * t / (t + 1), float32 ops with t a float32 tensor
 * (a Python int t gives the same values).
 */
export function dummyModel(sample: Tensor, t: number): Tensor {
  const t32 = f(t),
    den = f(t32 + 1);
  const out = new Float32Array(sample.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(sample.data[i] * t32) / den;
  return tensor(out, sample.shape);
}

/** `sample * scheduler.init_noise_sigma` (float32 tensor times a float32 0-dim tensor). */
export function times(x: Tensor, s: number): Tensor {
  return tensor(
    Float32Array.from(x.data, (v) => v * f(s)),
    x.shape,
  );
}

export function sumMean(x: Tensor): { sum: number; mean: number } {
  let s = 0;
  for (const v of x.data) s += Math.abs(v);
  return { sum: s, mean: s / x.data.length };
}

/** diffusers' assertion: |result_sum - sum| < sumTol and |result_mean - mean| < meanTol. */
export function expectDiffusers(x: Tensor, sum: number, mean: number, sumTol = 1e-2, meanTol = 1e-3): void {
  const r = sumMean(x);
  expect(Math.abs(r.sum - sum), `result_sum ${r.sum} vs diffusers ${sum}`).toBeLessThan(sumTol);
  expect(Math.abs(r.mean - mean), `result_mean ${r.mean} vs diffusers ${mean}`).toBeLessThan(meanTol);
}
