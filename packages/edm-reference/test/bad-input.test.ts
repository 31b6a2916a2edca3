/**
 * Bad input gives one clear error naming the function, the argument and what was expected.
 */
import { describe, expect, it } from "vitest";
import { GaussianMixture, TorchGenerator, TorchNoise } from "@edmkit/core";
import {
  defineSchedule,
  edmSampler,
  edmSigmas,
  iddpmSigmas,
  planSampler,
  solveProbabilityFlow,
  timeStepsFromSigmas,
  validateTimeSteps,
  vpTimes,
} from "../src/index.js";

const gmm = new GaussianMixture({ dim: 1, weights: [1, 1], means: [[-1], [1]], stds: [0.3, 0.3] });
const z = new TorchGenerator(0).randn([2, 1]);
const noInverse = defineSchedule({ name: "cubic", sigma: (t, m) => m.mul(t, m.square(t)) });

describe("time grids", () => {
  it("non-monotone discretization", async () => {
    await expect(edmSampler(gmm, z, { timeSteps: [10, 5, 7, 1, 0] })).rejects.toThrow(
      "edmSampler: timeSteps must be strictly decreasing, got t[2]=7 >= t[1]=5",
    );
    expect(() => validateTimeSteps([3, 3, 0])).toThrow(
      "validateTimeSteps: timeSteps must be strictly decreasing, got t[1]=3 >= t[0]=3",
    );
  });

  it("grid not ending in 0, too short, not finite", () => {
    expect(() => validateTimeSteps([3, 2, 1])).toThrow("timeSteps must end in t_N = 0, got t[2]=1");
    expect(() => validateTimeSteps([0])).toThrow("at least two times");
    expect(() => validateTimeSteps([Infinity, 0])).toThrow("timeSteps must be finite, got t[0]=Infinity");
  });

  it("sigma(t) not positive on the grid", async () => {
    const shifted = defineSchedule({ name: "shifted", sigma: (t, m) => m.sub(t, 0.5) });
    await expect(edmSampler(gmm, z, { schedule: shifted, timeSteps: [4, 2, 0.5, 0] })).rejects.toThrow(
      "edmSampler: sigma(t) must be positive and finite on the grid, got sigma(t[2]=0.5) = 0",
    );
    const nan = defineSchedule({ sigma: (t, m) => m.log(m.sub(t, 1)) });
    expect(() => planSampler({ schedule: nan, timeSteps: [4, 0.5, 0] })).toThrow(/sigma\(t\[1\]=0.5\) = NaN/);
  });

  it("paper discretizations validate their arguments", () => {
    expect(() => edmSigmas(1)).toThrow("edmSigmas: numSteps must be an integer >= 2, got 1");
    expect(() => edmSigmas(5, { sigma_min: 0, sigma_max: 80 })).toThrow(
      "edmSigmas: need 0 < sigma_min < sigma_max < inf, got sigma_min=0, sigma_max=80",
    );
    expect(() => edmSigmas(5, { sigma_min: 0.1, sigma_max: 80, rho: -1 })).toThrow(
      "edmSigmas: rho must be a positive number, got -1",
    );
    expect(() => vpTimes(5, { epsilon_s: 2 })).toThrow("vpTimes: epsilon_s must lie in (0, 1), got 2");
    expect(() => iddpmSigmas(5, { sigma_min: 1e6, sigma_max: 1e7 })).toThrow(/no table entry lies in/);
  });
});

describe("sampler options", () => {
  it("S_churn < 0", async () => {
    await expect(edmSampler(gmm, z, { S_churn: -1 })).rejects.toThrow(
      "edmSampler: S_churn must be a finite number >= 0, got -1",
    );
  });

  it("a schedule without an inverse where one is required", async () => {
    const t = [8, 2, 1, 0];
    await expect(
      edmSampler(gmm, z, { schedule: noInverse, timeSteps: t, S_churn: 1, noise: new TorchNoise(0) }),
    ).rejects.toThrow(
      "edmSampler: schedule 'cubic' has no sigmaInv (inverse of sigma(t)), which S_churn > 0 (t_hat = sigma^-1((1 + gamma) sigma(t_i))) requires; give sigmaInv in defineSchedule",
    );
    await expect(edmSampler(gmm, z, { schedule: noInverse, sigmaSteps: [8, 1] })).rejects.toThrow(
      /has no sigmaInv .* a discretization given in noise levels/,
    );
    expect(() => timeStepsFromSigmas(noInverse, [2, 1])).toThrow(
      /timeStepsFromSigmas: schedule 'cubic' has no sigmaInv/,
    );
    await expect(
      edmSampler(gmm, z, {
        schedule: noInverse,
        timeSteps: t,
        conventions: "nvlabs",
        noise: new TorchNoise(0),
      }),
    ).rejects.toThrow(/conventions.tHat "round-trip"/);
    // deterministic sampling needs no inverse
    await expect(edmSampler(gmm, z, { schedule: noInverse, timeSteps: t })).resolves.toBeDefined();
  });

  it("noise missing, solver and alpha, grid given twice, unknown preset", async () => {
    await expect(edmSampler(gmm, z, { S_churn: 3 })).rejects.toThrow(
      /edmSampler: options.noise \(a NoiseSource\) is required/,
    );
    await expect(edmSampler(gmm, z, { solver: "rk4" as "heun" })).rejects.toThrow(
      'edmSampler: solver must be "euler", "heun" or "midpoint", got rk4',
    );
    await expect(edmSampler(gmm, z, { alpha: 0 })).rejects.toThrow(
      "edmSampler: alpha must be in (0, 1], got 0",
    );
    await expect(edmSampler(gmm, z, { solver: "euler", alpha: 0.5 })).rejects.toThrow(
      /alpha applies to solver "heun" only/,
    );
    await expect(edmSampler(gmm, z, { numSteps: 5, timeSteps: [1, 0] })).rejects.toThrow(
      "edmSampler: give at most one of timeSteps, sigmaSteps and numSteps",
    );
    await expect(edmSampler(gmm, z, { preset: "ddim" as "edm" })).rejects.toThrow(
      "edmSampler: unknown preset 'ddim', expected one of vp, ve, iddpm, edm",
    );
    await expect(edmSampler(gmm, z, { S_noise: -1 })).rejects.toThrow(
      "edmSampler: S_noise must be a finite number >= 0, got -1",
    );
    await expect(edmSampler(gmm, { data: [1, 2], shape: [2], dtype: "float64" } as never)).rejects.toThrow(
      /latents must be a Tensor/,
    );
  });

  it("the reference solver rejects negative noise levels", async () => {
    await expect(solveProbabilityFlow(gmm, z, 80, -1)).rejects.toThrow(
      "solveProbabilityFlow: sigmaFrom and sigmaTo must be finite and >= 0, got 80, -1",
    );
  });
});
