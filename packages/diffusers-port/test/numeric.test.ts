/**
 * The numeric building blocks, checked against exact arithmetic and closed forms. (Their
 * bit-exactness against torch / numpy / scipy is what the fixture replay checks: every
 * alphas_cumprod table and every schedule of the diffusers fixtures matches bit for bit.)
 * The shared torch float32 numerics (fma32, torchLinspace, SLEEF exp/log, roundHalfEven) are
 * core's and tested there; here they are checked on diffusers' own schedules.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fma32, sleefExpf, torchLinspace, ulpDistance32 } from "@edmkit/core";
import { describe, expect, it } from "vitest";
import {
  betaPpf,
  cumprodF32,
  logBeta,
  logGamma,
  logLinearSigmas,
  numpyArange,
  numpyLogF32,
  regularizedIncompleteBeta,
  scaledLinearBetas,
  sigmaToT,
  spacedTimesteps,
} from "../src/index.js";

const f = Math.fround;

const SCHEDULES = fileURLToPath(new URL("../../../fixtures/reference/diffusers/schedules/", import.meta.url));
interface ScheduleFile {
  alphas_cumprod: number[];
  reference: { call: { full_config: { beta_schedule: string; interpolation_type: string } } };
  cases: { set_timesteps: { num_inference_steps?: number }; sigmas?: number[] }[];
}
const scheduleFiles = readdirSync(SCHEDULES).map((name) => ({
  name,
  fx: JSON.parse(readFileSync(SCHEDULES + name, "utf8")) as ScheduleFile,
}));

describe("torch float32 linspace (core) and cumprod on diffusers' schedules", () => {
  it("scaled_linear betas: the 1000-point float32 linspace hits both ends and is monotone", () => {
    const x = scaledLinearBetas(0.00085, 0.012, 1000);
    expect(x[0]).toBe(f(f(Math.sqrt(0.00085)) ** 2));
    expect(x[999]).toBe(f(f(Math.sqrt(0.012)) ** 2));
    for (let i = 1; i < 1000; i++) expect(x[i]).toBeGreaterThan(x[i - 1]);
  });
  it("every log_linear schedule of the fixtures is reproduced bit for bit (fused bases and tail, unfused lanes)", () => {
    let checked = 0;
    for (const { name, fx } of scheduleFiles) {
      if (fx.reference.call.full_config.interpolation_type !== "log_linear") continue;
      const a = Float32Array.from(fx.alphas_cumprod);
      const table = Float32Array.from(a, (v) => Math.sqrt(f(f(1 - v) / v)));
      for (const c of fx.cases) {
        const N = c.set_timesteps.num_inference_steps;
        if (N === undefined || !c.sigmas) continue;
        expect(Array.from(logLinearSigmas(table, N)), `${name} N=${N}`).toEqual(c.sigmas.slice(0, N + 1));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
    // lane 7 of the first vector chunk of N = 20: base + 7·step with two roundings (what
    // ATen's Vectorized::arange does) gives the recording, one fused rounding does not
    const fx = scheduleFiles.find((s) => s.name === "euler--sd-loglinear.json")!.fx;
    const table = Float32Array.from(fx.alphas_cumprod, (v) => Math.sqrt(f(f(1 - v) / v)));
    const hi = numpyLogF32(table[999]),
      lo = numpyLogF32(table[0]);
    const step = f(f(lo - hi) / 20);
    const want = fx.cases.find((c) => c.set_timesteps.num_inference_steps === 20)!.sigmas![7];
    expect(sleefExpf(f(hi + f(7 * step)))).toBe(want);
    expect(sleefExpf(fma32(7, step, hi))).not.toBe(want);
    expect(torchLinspace(hi, lo, 21, "float32")[7]).toBe(f(hi + f(7 * step)));
  });
  it("cumprodF32 accumulates in double and rounds each output", () => {
    const a = Float32Array.of(f(0.9999), f(0.9999), f(0.9999));
    const out = cumprodF32(a);
    expect(out[2]).toBe(f(a[0] * a[1] * a[2]));
  });
});

describe("numpy float64 helpers", () => {
  it("numpyArange re-derives the step from the first two values (numpy's fill)", () => {
    // numpy: np.arange(1000, 0, -1000/3) == [1000, 666.6666666666667, 333.3333333333335]
    expect(Array.from(numpyArange(1000, 0, -1000 / 3))).toEqual([1000, 666.6666666666667, 333.3333333333335]);
    expect(numpyArange(1000, 0, -1000 / 7)[6]).toBe(142.85714285714266);
    expect(numpyArange(1000, 0, -1).length).toBe(1000);
    expect(() => numpyArange(0, 1, 0)).toThrow(/non-zero/);
  });
  it("spacedTimesteps: the three spacings and the error", () => {
    expect(Array.from(spacedTimesteps("t", "linspace", 4, 1000, 0))).toEqual([999, 666, 333, 0]);
    expect(Array.from(spacedTimesteps("t", "leading", 4, 1000, 1))).toEqual([751, 501, 251, 1]);
    expect(Array.from(spacedTimesteps("t", "trailing", 3, 1000, 0))).toEqual([999, 666, 332]);
    expect(() => spacedTimesteps("t", "cosine", 4, 1000, 0)).toThrow(
      /t: timestep_spacing "cosine" is not supported/,
    );
  });
});

describe("float32 log / exp of numpy and torch", () => {
  it("numpyLogF32 is within 4 ulp of the correctly rounded log and exact where the kernel is", () => {
    expect(numpyLogF32(1)).toBe(0);
    expect(numpyLogF32(2)).toBe(f(Math.LN2));
    expect(numpyLogF32(0)).toBe(-Infinity);
    expect(Number.isNaN(numpyLogF32(-1))).toBe(true);
    let worst = 0;
    for (let k = 0; k < 20000; k++) {
      const x = f(Math.exp(-20 + (k / 20000) * 30));
      worst = Math.max(worst, ulpDistance32(numpyLogF32(x), f(Math.log(x))));
    }
    expect(worst).toBeLessThanOrEqual(4);
    expect(worst).toBeGreaterThan(0); // it is not correctly rounded, which is the point
  });
});

describe("incomplete beta and its inverse (scipy.stats.beta.ppf)", () => {
  it("logGamma and logBeta", () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logBeta(2, 3)).toBeCloseTo(Math.log(1 / 12), 13);
  });
  it("I_x(a, b) closed forms", () => {
    for (const x of [0.01, 0.3, 0.5, 0.9]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 14);
      expect(regularizedIncompleteBeta(x, 2.5, 1)).toBeCloseTo(x ** 2.5, 14);
      expect(regularizedIncompleteBeta(x, 0.5, 0.5)).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(x)), 14);
    }
    expect(regularizedIncompleteBeta(0.5, 0.6, 0.6)).toBeCloseTo(0.5, 14);
  });
  it("ppf closed forms, round trip and symmetry", () => {
    for (const p of [1e-9, 0.001, 0.1, 0.37, 0.5, 0.8, 0.999999]) {
      expect(betaPpf(p, 1, 1)).toBeCloseTo(p, 14);
      expect(betaPpf(p, 3, 1)).toBeCloseTo(p ** (1 / 3), 14);
      expect(betaPpf(p, 1, 2)).toBeCloseTo(1 - (1 - p) ** 0.5, 14);
      expect(betaPpf(p, 0.5, 0.5)).toBeCloseTo(Math.sin((Math.PI * p) / 2) ** 2, 14);
      const x = betaPpf(p, 0.6, 0.6);
      expect(Math.abs(regularizedIncompleteBeta(x, 0.6, 0.6) - p)).toBeLessThan(1e-12 * Math.max(p, 1e-3));
      expect(betaPpf(1 - p, 0.6, 0.6)).toBeCloseTo(1 - x, 14);
    }
    expect([betaPpf(0, 0.6, 0.6), betaPpf(1, 0.6, 0.6)]).toEqual([0, 1]);
    expect(() => betaPpf(1.5, 0.6, 0.6)).toThrow(/p must lie in \[0, 1\]/);
  });
});

describe("_sigma_to_t", () => {
  const table = Float32Array.from([0.1, 0.2, 0.4, 0.8].map(Math.log));
  it("maps table sigmas to their index and interpolates log-linearly between", () => {
    expect(sigmaToT(0.2, table)).toBeCloseTo(1, 6);
    expect(sigmaToT(0.8, table)).toBe(3);
    expect(sigmaToT(Math.sqrt(0.2 * 0.4), table)).toBeCloseTo(1.5, 6);
  });
  it("clamps outside the table (w clipped to [0, 1])", () => {
    expect(sigmaToT(5, table)).toBe(3);
    expect(sigmaToT(0.01, table)).toBe(0);
    expect(sigmaToT(0, table)).toBe(0);
  });
});
