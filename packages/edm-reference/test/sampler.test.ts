/**
 * The general sampler against the paper's math: the closed-form Heun update for
 * sigma(t) = t, s = 1; Algorithm 2 with S_churn = 0 equals Algorithm 1 bit for bit; the
 * churn step's noise increase; presets; float32 runs.
 */
import { describe, expect, it } from "vitest";
import {
  GaussianMixture,
  type NoiseSource,
  type StepEvent,
  type Tensor,
  tensor,
  TorchGenerator,
  TorchNoise,
} from "@edmkit/core";
import {
  defineSchedule,
  edmSampler,
  edmSigmas,
  planSampler,
  presets,
  vpSchedule,
  withFinalZero,
} from "../src/index.js";

const bimodal = new GaussianMixture({ dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] });
const ring = new GaussianMixture({
  dim: 2,
  weights: Array(8).fill(1),
  means: Array.from({ length: 8 }, (_, k) => [
    2 * Math.cos((2 * Math.PI * k) / 8),
    2 * Math.sin((2 * Math.PI * k) / 8),
  ]),
  stds: Array(8).fill(0.15),
});
const latents = (shape: number[], seed = 1) => new TorchGenerator(seed).randn(shape);

/** Counts draws and records them. */
class CountingNoise implements NoiseSource {
  draws: Float64Array[] = [];
  constructor(private readonly inner: NoiseSource) {}
  randn(out: Tensor): Tensor {
    this.inner.randn(out);
    this.draws.push(Float64Array.from(out.data));
    return out;
  }
}

describe("Algorithm 1 with sigma(t) = t, s(t) = 1", () => {
  it("reproduces the closed-form Heun update bit for bit", async () => {
    // x_0 = latents t_0; for each step with h = t_{i+1} - t_i:
    //   d_i  = (x_i - D(x_i; t_i)) / t_i
    //   x'   = x_i + h d_i
    //   x_{i+1} = x_i + h (d_i / 2 + d'_i / 2),  d'_i = (x' - D(x'; t_{i+1})) / t_{i+1}   if t_{i+1} != 0
    //   x_{i+1} = x'                                                                   otherwise
    const N = 9;
    const t = withFinalZero(edmSigmas(N));
    const z = latents([6, 1]);
    const D = (x: number, sigma: number) => bimodal.denoiseSync(tensor([x], [1, 1]), [sigma]).data[0];
    const expected = Array.from(z.data, (z0) => {
      let x = z0 * t[0];
      for (let i = 0; i < N; i++) {
        const h = t[i + 1] - t[i];
        const d = (x - D(x, t[i])) / t[i];
        const xe = x + h * d;
        if (t[i + 1] !== 0) {
          const dp = (xe - D(xe, t[i + 1])) / t[i + 1];
          x = x + h * (0.5 * d + 0.5 * dp);
        } else x = xe;
      }
      return x;
    });
    let calls = 0;
    const steps: StepEvent[] = [];
    const out = await edmSampler(bimodal, z, {
      timeSteps: t,
      solver: "heun",
      observer: { onModelCall: () => calls++, onStep: (e) => steps.push(e) },
    });
    expect(Array.from(out.data)).toEqual(expected);
    expect(calls).toBe(2 * N - 1);
    expect(steps.map((s) => s.i)).toEqual([...Array(N).keys()]);
    for (const s of steps) expect(s.fields.t_hat).toBe(s.fields.t_cur);
  });

  it("Euler is x_{i+1} = x_i + (t_{i+1} - t_i)(x_i - D(x_i; t_i))/t_i", async () => {
    const t = withFinalZero(edmSigmas(6));
    const z = latents([4, 2], 3);
    const out = await edmSampler(ring, z, { timeSteps: t, solver: "euler" });
    const x = Float64Array.from(z.data, (v) => v * t[0]);
    for (let i = 0; i < 6; i++) {
      const d = ring.denoiseSync(tensor(x, [4, 2]), new Float64Array(4).fill(t[i]));
      for (let k = 0; k < x.length; k++) x[k] = x[k] + (t[i + 1] - t[i]) * ((x[k] - d.data[k]) / t[i]);
    }
    expect(Array.from(out.data)).toEqual(Array.from(x));
  });
});

describe("Algorithm 2", () => {
  const vp = vpSchedule();
  const vpGrid = withFinalZero(Float64Array.from({ length: 10 }, (_, i) => 1 + (i / 9) * (1e-3 - 1)));

  it("with S_churn = 0 equals Algorithm 1 bit for bit (EDM and VP schedules, any window and S_noise)", async () => {
    const z = latents([8, 2], 5);
    for (const opts of [
      { preset: "edm" as const, numSteps: 12 },
      { schedule: vp, timeSteps: vpGrid, solver: "heun" as const },
    ]) {
      const alg1 = await edmSampler(ring, z, opts);
      const noise = new CountingNoise(new TorchNoise(7));
      const alg2 = await edmSampler(ring, z, {
        ...opts,
        S_churn: 0,
        S_tmin: 0.05,
        S_tmax: 50,
        S_noise: 1.007,
        noise,
      });
      expect(Array.from(alg2.data)).toEqual(Array.from(alg1.data));
      expect(noise.draws.length).toBe(0);
      // NVlabs' convention draws every step but multiplies the draw by 0
      const everyStep = new CountingNoise(new TorchNoise(7));
      const alg2b = await edmSampler(ring, z, {
        ...opts,
        S_churn: 0,
        noise: everyStep,
        conventions: { noiseDraws: "every-step" },
      });
      expect(Array.from(alg2b.data)).toEqual(Array.from(alg1.data));
      expect(everyStep.draws.length).toBe(opts.timeSteps ? opts.timeSteps.length - 1 : 12);
    }
  });

  it("raises the noise level to (1 + gamma) sigma(t_i) and adds exactly the missing variance", async () => {
    const z = latents([5, 1], 11);
    const noise = new CountingNoise(new TorchNoise(3));
    const steps: { t_cur: number; t_hat: number; x_hat: Float64Array; x_cur: Float64Array }[] = [];
    let prev = Float64Array.from(z.data, (v) => v * (vp.sigma(vpGrid[0]) * vp.s(vpGrid[0])));
    const S_churn = 4,
      S_tmin = 0.5,
      S_tmax = 20,
      S_noise = 1.003,
      N = vpGrid.length - 1;
    await edmSampler(bimodal, z, {
      schedule: vp,
      timeSteps: vpGrid,
      solver: "heun",
      S_churn,
      S_tmin,
      S_tmax,
      S_noise,
      noise,
      observer: {
        onStep: (e) => {
          const f = e.fields as Record<string, number | Tensor>;
          steps.push({
            t_cur: f.t_cur as number,
            t_hat: f.t_hat as number,
            x_hat: Float64Array.from((f.x_hat as Tensor).data),
            x_cur: prev,
          });
          prev = Float64Array.from((f.x_next as Tensor).data);
        },
      },
    });
    const gamma = Math.min(S_churn / N, Math.SQRT2 - 1);
    let churned = 0;
    for (const s of steps) {
      const sc = vp.sigma(s.t_cur);
      if (sc < S_tmin || sc > S_tmax) {
        expect(s.t_hat).toBe(s.t_cur);
        expect(Array.from(s.x_hat)).toEqual(Array.from(s.x_cur));
        continue;
      }
      const eps = noise.draws[churned++];
      const sh = vp.sigma(s.t_hat);
      expect(sh / sc).toBeCloseTo(1 + gamma, 12);
      const ratio = vp.s(s.t_hat) / vp.s(s.t_cur);
      const coef = Math.sqrt(sh * sh - sc * sc) * vp.s(s.t_hat) * S_noise;
      for (let k = 0; k < eps.length; k++) expect(s.x_hat[k]).toBe(ratio * s.x_cur[k] + coef * eps[k]);
    }
    expect(churned).toBeGreaterThan(2);
    expect(churned).toBe(noise.draws.length);
  });

  it("the plan applies the churn window on sigma(t_i), inclusively", () => {
    const t = withFinalZero([10, 5, 2, 1]);
    const plan = planSampler({ timeSteps: t, S_churn: 1, S_tmin: 2, S_tmax: 5 });
    expect(Array.from(plan.gamma)).toEqual([0, 0.25, 0.25, 0]);
    expect(plan.tHat[1]).toBe(5 + 0.25 * 5);
    expect(Array.from(plan.second)).toEqual([1, 1, 1, 0]);
  });
});

describe("solvers and presets", () => {
  it("alpha = 1/2 is the midpoint rule, evaluated at t_hat + h/2", () => {
    const t = withFinalZero(edmSigmas(5));
    const plan = planSampler({ timeSteps: t, solver: "midpoint" });
    expect(plan.alpha).toBe(0.5);
    for (let i = 0; i < 4; i++) expect(plan.tPrime[i]).toBe(t[i] + 0.5 * (t[i + 1] - t[i]));
    expect(plan.c1).toBe(0);
    expect(plan.c2).toBe(1);
  });

  it("the last step is Euler by the paper's rule (sigma(t_N) = 0) and by NVlabs' index rule alike", () => {
    const t = withFinalZero(edmSigmas(7));
    const a = planSampler({ timeSteps: t });
    const b = planSampler({ timeSteps: t, conventions: { lastStep: "index" } });
    expect(Array.from(a.second)).toEqual([1, 1, 1, 1, 1, 1, 0]);
    expect(Array.from(b.second)).toEqual(Array.from(a.second));
    // a custom schedule whose sigma stays positive at t = 0: the paper's rule corrects the last step too
    const shifted = defineSchedule({ sigma: (tt, m) => m.add(tt, 0.01) });
    const c = planSampler({ schedule: shifted, timeSteps: t });
    const d = planSampler({ schedule: shifted, timeSteps: t, conventions: { lastStep: "index" } });
    expect(c.second[6]).toBe(1);
    expect(d.second[6]).toBe(0);
  });

  it("every preset runs its own schedule, grid and solver (N or 2N - 1 model calls)", async () => {
    const z = latents([4, 1], 21);
    for (const name of ["vp", "ve", "iddpm", "edm"] as const) {
      const p = presets[name];
      const sigmas: number[] = [];
      await edmSampler(bimodal, z, {
        preset: name,
        numSteps: 12,
        observer: { onModelCall: (e) => sigmas.push(e.sigma![0]) },
      });
      expect(sigmas.length, name).toBe(p.solver === "heun" ? 23 : 12);
      expect(sigmas[0], name).toBeCloseTo(p.sigmaSteps(12)[0], 10);
      expect(sigmas[0], name).toBeLessThanOrEqual(p.sigmaMax * (1 + 1e-15));
    }
  });

  it("a preset's noise levels under another schedule go through that schedule's inverse", () => {
    const plan = planSampler({ preset: "edm", numSteps: 5, schedule: vpSchedule() });
    const levels = presets.edm.sigmaSteps(5);
    for (let i = 0; i < 5; i++) expect(plan.schedule.sigma(plan.t[i])).toBeCloseTo(levels[i], 9);
  });

  it("clamps the preset's range with the denoiser's sigmaMin / sigmaMax", () => {
    const plan = planSampler({ preset: "edm", numSteps: 6 }, { sigmaMin: 0.01, sigmaMax: 20 });
    expect(plan.t[0]).toBeCloseTo(20, 12);
    expect(plan.t[5]).toBeCloseTo(0.01, 14);
  });

  it("runs in float32 when the latents are float32, close to the float64 run", async () => {
    const z = latents([16, 2], 9);
    const z64 = tensor(Float64Array.from(z.data, Math.fround), z.shape);
    const z32 = tensor(Float32Array.from(z.data), z.shape);
    const a = await edmSampler(ring, z64, { numSteps: 18 });
    const b = await edmSampler(ring, z32, { numSteps: 18 });
    expect(b.dtype).toBe("float32");
    let m = 0;
    for (let k = 0; k < a.data.length; k++) m = Math.max(m, Math.abs(a.data[k] - b.data[k]));
    expect(m).toBeLessThan(1e-4);
    expect(m).toBeGreaterThan(0);
  });
});
