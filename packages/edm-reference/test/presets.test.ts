/**
 * Table 1 presets: discretizations, preconditioning, training distributions and loss weights.
 */
import { describe, expect, it } from "vitest";
import { GaussianMixture, tensor, TorchGenerator } from "@edmkit/core";
import {
  edmSigmas,
  iddpmSigmas,
  iddpmTable,
  idealNetwork,
  networkTarget,
  planSampler,
  preconditionedDenoiser,
  presets,
  veTimes,
  vpTimes,
} from "../src/index.js";

const names = ["vp", "ve", "iddpm", "edm"] as const;

describe("discretizations", () => {
  it("VP is linear in t from 1 to epsilon_s; VE geometric in sigma; EDM hits sigma_max and sigma_min", () => {
    const t = vpTimes(5, { epsilon_s: 0.01 });
    expect(Array.from(t)).toEqual([1, 1 + 0.25 * -0.99, 1 + 0.5 * -0.99, 1 + 0.75 * -0.99, 1 + 1 * -0.99]);
    const ve = veTimes(5).map(Math.sqrt);
    for (let i = 1; i < 5; i++) expect(ve[i] / ve[i - 1]).toBeCloseTo((0.02 / 100) ** (1 / 4), 12);
    const e = edmSigmas(7, { sigma_min: 0.002, sigma_max: 80, rho: 7 });
    expect(e[0]).toBeCloseTo(80, 12);
    expect(e[6]).toBeCloseTo(0.002, 15);
    // rho = 1 is uniform in sigma
    const u = edmSigmas(5, { sigma_min: 1, sigma_max: 5, rho: 1 });
    for (let i = 0; i < 5; i++) expect(u[i]).toBeCloseTo(5 - i, 13);
  });

  it("iDDPM: u_M = 0, u_{j-1} from the recursion, sigma_max = 81 starts at j_0 = 8", () => {
    const u = iddpmTable();
    expect(u.length).toBe(1001);
    expect(u[1000]).toBe(0);
    const abar = (j: number) => Math.sin((0.5 * Math.PI * j) / 1000 / 1.008) ** 2;
    for (const j of [1, 10, 500, 1000]) {
      const r = Math.max(abar(j - 1) / abar(j), 0.001);
      expect(u[j - 1]).toBeCloseTo(Math.sqrt((u[j] ** 2 + 1) / r - 1), 10);
    }
    const s = iddpmSigmas(10);
    expect(s[0]).toBe(u[8]);
    expect(u[7]).toBeGreaterThan(81);
    expect(s[9]).toBe(u[999]);
  });

  for (const name of names) {
    it(`${name}: timeSteps are decreasing, end in 0 and map to the preset's noise levels`, () => {
      const p = presets[name];
      const t = p.timeSteps(12);
      const levels = p.sigmaSteps(12);
      expect(t.length).toBe(13);
      expect(t[12]).toBe(0);
      for (let i = 0; i < 12; i++) {
        expect(t[i + 1]).toBeLessThan(t[i]);
        expect(p.schedule.sigma(t[i]) / levels[i]).toBeCloseTo(1, 12);
      }
      expect(levels[0]).toBeLessThanOrEqual(p.sigmaMax * (1 + 1e-12));
      expect(levels[11]).toBeGreaterThanOrEqual(p.sigmaMin * (1 - 1e-12));
    });
  }
});

describe("preconditioning and training (Table 1)", () => {
  it("lambda(sigma) c_out(sigma)^2 = 1 for every preset (unit effective loss weight)", () => {
    for (const name of names) {
      const p = presets[name];
      for (const s of [0.003, 0.1, 1, 7, 60])
        expect(p.training.lossWeight(s) * p.precond.cOut(s) ** 2, name).toBeCloseTo(1, 12);
    }
  });

  it("EDM: unit-variance network input and target for data of std sigma_data", () => {
    const { precond } = presets.edm;
    const sd = 0.5;
    for (const s of [0.002, 0.5, 80]) {
      expect(precond.cIn(s) ** 2 * (s * s + sd * sd)).toBeCloseTo(1, 12);
      // Var[target] = (Var[y](1 - c_skip)^2 + c_skip^2 sigma^2) / c_out^2 = 1
      const cs = precond.cSkip(s),
        co = precond.cOut(s);
      expect((sd * sd * (1 - cs) ** 2 + cs * cs * s * s) / (co * co)).toBeCloseTo(1, 12);
    }
    expect(precond.cNoise(Math.E ** 4)).toBeCloseTo(1, 14);
    expect(networkTarget(precond, 1, 0.3, -0.2)).toBeCloseTo((0.3 - 0.2 * 0.1) / (0.5 / Math.sqrt(1.25)), 14);
  });

  it("VP / VE / iDDPM coefficients", () => {
    const vp = presets.vp.precond,
      ve = presets.ve.precond,
      id = presets.iddpm.precond;
    expect([vp.cSkip(2), vp.cOut(2), vp.cIn(2)]).toEqual([1, -2, 1 / Math.sqrt(5)]);
    expect(vp.cNoise(presets.vp.schedule.sigma(0.25))).toBeCloseTo(999 * 0.25, 9);
    expect([ve.cSkip(2), ve.cOut(2), ve.cIn(2), ve.cNoise(2)]).toEqual([1, 2, 1, 0]);
    const u = iddpmTable();
    expect(id.cNoise(u[10] * 1.0001)).toBe(989);
    expect(id.roundSigma!(u[10] * 1.0001)).toBe(u[10]);
    expect([id.sigmaMin, id.sigmaMax]).toEqual([u[999], u[0]]);
    expect(vp.sigmaMin).toBeCloseTo(presets.vp.schedule.sigma(1e-5), 15);
  });

  it("wrapping the ideal network of a denoiser gives the denoiser back (EDM, VE, VP)", async () => {
    const gmm = new GaussianMixture({
      dim: 2,
      weights: [1, 2],
      means: [
        [-1, 0],
        [1, 1],
      ],
      stds: [0.2, 0.4],
    });
    const x = new TorchGenerator(2).randn([6, 2]);
    const sig = Float64Array.from([0.01, 0.3, 1, 3, 10, 50]);
    const want = gmm.denoiseSync(x, sig);
    for (const name of ["edm", "ve", "vp"] as const) {
      const p = presets[name];
      const D = p.denoiserFromNetwork(idealNetwork(gmm, p.precond));
      const got = await D.denoise(x, sig);
      for (let i = 0; i < 12; i++) expect(Math.abs(got.data[i] - want.data[i]), name).toBeLessThan(1e-9);
    }
  });

  it("float32 inputs stay float32 through the preconditioned denoiser", async () => {
    const D = preconditionedDenoiser((x) => x, presets.edm.precond);
    const out = await D.denoise(tensor(new Float32Array([1, 2]), [2, 1]), Float64Array.from([1, 2]));
    expect(out.dtype).toBe("float32");
    expect(out.data[0]).toBe(
      Math.fround(
        Math.fround(0.2) * 1 +
          Math.fround(Math.fround(0.4472135954999579) * Math.fround(1 / Math.sqrt(1.25))),
      ),
    );
  });

  it("training noise levels follow Table 1", () => {
    const at = (u: number, z: number) => ({ uniform: () => u, normal: () => z });
    expect(presets.edm.training.sampleSigma(at(0, 0))).toBeCloseTo(Math.exp(-1.2), 15);
    expect(presets.edm.training.sampleSigma(at(0, 1))).toBeCloseTo(Math.exp(0), 15);
    expect(presets.ve.training.sampleSigma(at(0, 0))).toBeCloseTo(0.02, 15);
    expect(presets.ve.training.sampleSigma(at(0.5, 0))).toBeCloseTo(Math.sqrt(0.02 * 100), 12);
    expect(presets.vp.training.sampleSigma(at(0, 0))).toBeCloseTo(presets.vp.schedule.sigma(1), 12);
    expect(presets.vp.training.sampleSigma(at(1, 0)) / presets.vp.schedule.sigma(1e-5)).toBeCloseTo(1, 10);
    const u = iddpmTable();
    expect(presets.iddpm.training.sampleSigma(at(0, 0))).toBe(u[0]);
    expect(presets.iddpm.training.sampleSigma(at(0.9999999, 0))).toBe(u[999]);
    for (const name of names) expect(presets[name].training.distribution.length).toBeGreaterThan(5);
  });
});

describe("preset grids through edmSampler's planner", () => {
  it("the VP preset's default grid is exactly 1 + i/(N-1)(epsilon_s - 1), then 0", () => {
    const plan = planSampler({ preset: "vp", numSteps: 9 });
    expect(Array.from(plan.t)).toEqual([...Array.from(vpTimes(9)), 0]);
    expect(plan.solver).toBe("euler");
  });
});
