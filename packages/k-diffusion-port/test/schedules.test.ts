/**
 * Schedules beyond the fixture replay: the float32 ramps of torch.linspace bit for bit
 * (the fma-contracted fill), the shapes of the outputs, and argument errors.
 */
import { fileURLToPath } from "node:url";
import { type DiscreteModel, torchLinspace } from "@edmkit/core";
import { loadFixtures } from "@edmkit/core/node";
import { describe, expect, test } from "vitest";
import {
  appendZero,
  DiscreteEpsDDPMDenoiser,
  getSigmasExponential,
  getSigmasKarras,
  getSigmasPolyexponential,
  getSigmasVp,
  schedules,
} from "../src/index.js";
import { bitEqual } from "./helpers.js";

const dir = fileURLToPath(new URL("../../../fixtures/reference/k-diffusion", import.meta.url));
const all = loadFixtures(dir).map((l) => l.fixture);

describe("float32 Karras schedules reproduce the recordings bit for bit", () => {
  const cases = new Map<string, { n: number; sigmas: number[] }>();
  for (const f of all) {
    const src =
      f.kind === "schedule" ? { entry: f.reference.entry, call: f.reference.call } : f.schedule?.source;
    if (f.dtype === "float32" && src?.entry === "get_sigmas_karras" && f.schedule?.sigmas) {
      cases.set(JSON.stringify(src.call), { n: src.call.n as number, sigmas: f.schedule.sigmas });
    }
  }
  test("there are float32 Karras schedules, n = 10 and n = 12 among them", () => {
    expect([...cases.values()].map((c) => c.n)).toEqual(expect.arrayContaining([10, 12]));
  });
  for (const [call, c] of cases) {
    test(call, () => {
      const { n, sigma_min, sigma_max, rho } = JSON.parse(call);
      expect(bitEqual(getSigmasKarras(n, sigma_min, sigma_max, { rho, dtype: "float32" }), c.sigmas)).toBe(
        true,
      );
    });
  }
});

test("float32 DiscreteEpsDDPMDenoiser.get_sigmas reproduces the recording bit for bit", () => {
  const f = all.find((x) => x.id.endsWith("model-sigmas12-f32"));
  if (!f || f.kind === "schedule" || f.denoiser.kind !== "discrete-eps")
    throw new Error("fixture model-sigmas12-f32 missing");
  const stub: DiscreteModel = { prediction: "epsilon", predict: () => Promise.reject(new Error("unused")) };
  const w = new DiscreteEpsDDPMDenoiser(stub, Float32Array.from(f.denoiser.alphas_cumprod));
  expect(bitEqual(w.getSigmas(12, { dtype: "float32" }), f.schedule.sigmas as number[])).toBe(true);
});

describe("torch.linspace with fma contraction (core torchLinspace)", () => {
  test("float32 linspace(0, 1, 10)[6] is 1 - 3 step fused (0.6666667), not two roundings", () => {
    const ramp = torchLinspace(0, 1, 10, "float32");
    const step = Math.fround(1 / 9);
    expect(ramp[6]).toBe(0.6666666865348816);
    expect(Math.fround(1 - Math.fround(step * 3))).toBe(0.6666666269302368);
    expect(ramp[0]).toBe(0);
    expect(ramp[9]).toBe(1);
  });
});

describe("schedule shapes and the registry", () => {
  test("n values then a trailing 0, decreasing", () => {
    for (const s of [
      getSigmasKarras(7, 0.1, 10),
      getSigmasExponential(7, 0.1, 10),
      getSigmasPolyexponential(7, 0.1, 10, { rho: 2 }),
      getSigmasVp(7),
    ]) {
      expect(s.length).toBe(8);
      expect(s[7]).toBe(0);
      for (let k = 1; k < 8; k++) expect(s[k]).toBeLessThan(s[k - 1]);
    }
    expect(getSigmasKarras(5, 0.1, 10)[0]).toBeCloseTo(10, 12);
    expect(getSigmasExponential(5, 0.1, 10)[4]).toBeCloseTo(0.1, 14);
  });
  test("appendZero", () => {
    expect(Array.from(appendZero([3, 2]))).toEqual([3, 2, 0]);
  });
  test("registry functions take the original keyword names", () => {
    expect(
      bitEqual(
        schedules.get_sigmas_karras(10, 0.03, 10, { rho: 3 }),
        getSigmasKarras(10, 0.03, 10, { rho: 3 }),
      ),
    ).toBe(true);
    expect(
      bitEqual(
        schedules.get_sigmas_vp(10, { beta_d: 10, beta_min: 0.5, eps_s: 0.01 }),
        getSigmasVp(10, { betaD: 10, betaMin: 0.5, epsS: 0.01 }),
      ),
    ).toBe(true);
    expect(() => schedules.get_sigmas_karras(10, 0.03, 10, { rhoo: 3 })).toThrow(
      /get_sigmas_karras: unexpected keyword argument 'rhoo'/,
    );
  });
  test("bad arguments name the function and the argument", () => {
    expect(() => getSigmasKarras(0, 0.1, 10)).toThrow(/get_sigmas_karras: n must be an integer >= 1, got 0/);
    expect(() => getSigmasKarras(5, 10, 0.1)).toThrow(
      /get_sigmas_karras: sigma_max \(0.1\) must be >= sigma_min \(10\)/,
    );
    expect(() => getSigmasExponential(5, 0, 10)).toThrow(
      /get_sigmas_exponential: sigma_min must be > 0, got 0/,
    );
    expect(() => getSigmasPolyexponential(5, 0.1, 10, { rho: -1 })).toThrow(
      /get_sigmas_polyexponential: rho must be > 0/,
    );
    expect(() => getSigmasVp(5, { epsS: 2 })).toThrow(/get_sigmas_vp: eps_s must be <= 1/);
  });
});
