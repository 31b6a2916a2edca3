import { describe, expect, test } from "vitest";
import {
  DiscreteGmmModel,
  EdmPrecondGmmModel,
  FlowGmmModel,
  GaussianMixture,
  modelFromSpec,
  type RunFixture,
  type Tensor,
  isScheduleFixture,
  tensor,
} from "../src/index.js";
import { loadFixtures } from "../src/node.js";
import { FIXTURES } from "./helpers.js";

describe("GaussianMixture: closed form", () => {
  test("one component: D = mu + s^2/(s^2+sigma^2) (x - mu) in every coordinate", () => {
    const g = new GaussianMixture({ dim: 3, weights: [1], means: [[0.5, -2, 3]], stds: [0.7] });
    const x = tensor([1, 2, 3, -4, 0, 10], [2, 3]);
    const sig = new Float64Array([0.3, 5]);
    const d = g.denoiseSync(x, sig);
    for (let r = 0; r < 2; r++) {
      const k = 0.49 / (0.49 + sig[r] ** 2);
      const mu = [0.5, -2, 3];
      for (let c = 0; c < 3; c++)
        expect(d.data[r * 3 + c]).toBeCloseTo(mu[c] + k * (x.data[r * 3 + c] - mu[c]), 14);
    }
  });

  test("two symmetric components: D(0) = 0 and D(x) = tanh-weighted mean", () => {
    const g = new GaussianMixture({ dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] });
    for (const sigma of [0.01, 0.5, 2, 80]) {
      const v = 0.09 + sigma * sigma;
      for (const x of [0, 0.3, -1.7, 5]) {
        // r_+ - r_- = tanh(x / v); D = sum r_k (mu_k + s^2/v (x - mu_k)) = (1 - s^2/v) (r_+ - r_-) + s^2/v x
        const expected = (1 - 0.09 / v) * Math.tanh(x / v) + (0.09 / v) * x;
        const d = g.denoiseSync(tensor([x], [1, 1]), [sigma]).data[0];
        expect(Math.abs(d - expected)).toBeLessThan(1e-14 * Math.max(1, Math.abs(expected)));
      }
    }
  });

  test("far from every component the log-sum-exp keeps it finite", () => {
    const g = new GaussianMixture({
      dim: 2,
      weights: [0.3, 0.7],
      means: [
        [0, 0],
        [1, 1],
      ],
      stds: [0.01, 0.01],
    });
    const d = g.denoiseSync(tensor([1e4, -1e4], [1, 2]), [1e-3]);
    expect(Number.isFinite(d.data[0]) && Number.isFinite(d.data[1])).toBe(true);
  });

  test("sigma = 0 returns the point for a component with positive std and the mean for std 0", () => {
    const g = new GaussianMixture({ dim: 1, weights: [1], means: [[2]], stds: [0.5] });
    expect(g.denoiseSync(tensor([0.25], [1, 1]), [0]).data[0]).toBe(0.25);
    const h = new GaussianMixture({ dim: 1, weights: [1], means: [[2]], stds: [0] });
    expect(h.denoiseSync(tensor([0.25], [1, 1]), [1]).data[0]).toBe(2);
  });

  test("float32 input gives float32 output equal to the rounded float64 result", () => {
    const g = new GaussianMixture({ dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] });
    const x32 = tensor(new Float32Array([0.1, -0.7]), [2, 1]);
    const d32 = g.denoiseSync(x32, [0.4, 0.4]);
    const d64 = g.denoiseSync(tensor([x32.data[0], x32.data[1]], [2, 1]), [0.4, 0.4]);
    expect(d32.dtype).toBe("float32");
    expect(Array.from(d32.data)).toEqual(Array.from(d64.data).map(Math.fround));
  });

  test("dataStd of the bimodal mixture is sqrt(1 + 0.09)", () => {
    const g = new GaussianMixture({ dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] });
    expect(g.dataStd).toBeCloseTo(Math.sqrt(1.09), 15);
  });

  test("logDensity integrates to 1 in 1-D", () => {
    const g = new GaussianMixture({ dim: 1, weights: [0.2, 0.8], means: [[-1], [1.5]], stds: [0.3, 0.6] });
    let s = 0;
    const h = 1e-3;
    for (let x = -8; x < 8; x += h) s += Math.exp(g.logDensity([x], 0.5)) * h;
    expect(s).toBeCloseTo(1, 6);
  });

  test("bad specs are refused with the field named", () => {
    expect(() => new GaussianMixture({ dim: 2, weights: [1], means: [[0]], stds: [1] })).toThrow(
      /means\[0\] has 1 coordinates, expected 2/,
    );
    expect(() => new GaussianMixture({ dim: 1, weights: [0], means: [[0]], stds: [1] })).toThrow(
      /weights\[0\]/,
    );
    const g = new GaussianMixture({ dim: 2, weights: [1], means: [[0, 0]], stds: [1] });
    expect(() => g.denoiseSync(tensor([1, 2, 3], [1, 3]), [1])).toThrow(/dim 2/);
  });
});

/** Every recorded float64 model call of every run fixture, replayed through the core models. */
describe("exact models reproduce every recorded float64 model call (to 1e-12)", () => {
  const runs = loadFixtures(`${FIXTURES}reference`)
    .map((l) => l.fixture)
    .filter((f): f is RunFixture => !isScheduleFixture(f) && f.dtype === "float64");

  test.each(runs.map((f) => [f.id, f] as const))("%s", (_id, f) => {
    const model = modelFromSpec(f.denoiser);
    const rows = f.shape[0];
    let worst = 0;
    for (const call of f.model_calls) {
      const x = tensor(call.x, f.shape);
      let out: Tensor;
      if (
        model instanceof DiscreteGmmModel ||
        model instanceof EdmPrecondGmmModel ||
        model instanceof FlowGmmModel
      ) {
        expect(call.t).toBeTypeOf("number");
        out = model.predictSync(x, new Float64Array(rows).fill(call.t!));
      } else {
        out = model.denoiseSync(x, new Float64Array(rows).fill(call.sigma!));
      }
      for (let i = 0; i < call.out.length; i++) {
        const err = Math.abs(out.data[i] - call.out[i]) / Math.max(1, Math.abs(call.out[i]));
        if (err > worst) worst = err;
      }
    }
    expect(worst).toBeLessThan(1e-12);
  });
});
