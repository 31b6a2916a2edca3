/**
 * The reference ODE solver against closed-form solutions, and the samplers' convergence
 * order against it on the exact mixture denoiser: ~1 for Euler, ~2 for Heun and midpoint,
 * for sigma(t) = t and for a general sigma(t), s(t) with automatic derivatives.
 */
import { describe, expect, it } from "vitest";
import { type Denoiser, GaussianMixture, type Tensor, tensor, TorchGenerator } from "@edmkit/core";
import {
  defineSchedule,
  edmSampler,
  type EdmSamplerOptions,
  integrateOde,
  type OdeStats,
  presets,
  type Schedule,
  solveProbabilityFlow,
  solveProbabilityFlowSchedule,
  vpSchedule,
} from "../src/index.js";

const bimodal = new GaussianMixture({ dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] });
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("reference ODE solver", () => {
  it("matches the exact flow of Gaussian data, x(sigma) = mu + (x0 - mu) sqrt((s^2 + sigma^2)/(s^2 + sigma0^2)), to 1e-10", async () => {
    const mu = [0.7, -1.3],
      s = 0.4;
    const g = new GaussianMixture({ dim: 2, weights: [1], means: [mu], stds: [s] });
    const x0 = new TorchGenerator(4).randn([5, 2]);
    for (let i = 0; i < x0.data.length; i++) x0.data[i] *= 80;
    const stats: OdeStats = { accepted: 0, rejected: 0, nfe: 0 };
    for (const sigmaTo of [0, 0.05, 3]) {
      const got = await solveProbabilityFlow(g, x0, 80, sigmaTo, { stats });
      const k = Math.sqrt((s * s + sigmaTo * sigmaTo) / (s * s + 80 * 80));
      const want = Array.from(x0.data, (v, i) => mu[i % 2] + (v - mu[i % 2]) * k);
      expect(maxAbs(got.data, want)).toBeLessThan(1e-10);
    }
    expect(stats.accepted).toBeGreaterThan(10);
  });

  it("integrates y' = -y t exactly enough in both directions", async () => {
    const rhs = (t: number, y: Float64Array, out: Float64Array) => {
      out[0] = -t * y[0];
    };
    const fwd = await integrateOde(rhs, 0, 3, [1], { rtol: 1e-12, atol: 1e-14 });
    expect(Math.abs(fwd[0] - Math.exp(-4.5))).toBeLessThan(1e-13);
    const back = await integrateOde(rhs, 3, 0, fwd, { rtol: 1e-12, atol: 1e-14 });
    expect(Math.abs(back[0] - 1)).toBeLessThan(1e-10);
  });

  it("the general-schedule form equals direct integration of dx/dt for the VP schedule", async () => {
    const vp = vpSchedule();
    const x0 = new TorchGenerator(8).randn([4, 1]);
    const t0 = 1,
      t1 = 0.1;
    for (let i = 0; i < 4; i++) x0.data[i] *= vp.sigma(t0) * vp.s(t0);
    const viaSigma = await solveProbabilityFlowSchedule(bimodal, x0, vp, t0, t1, {
      rtol: 1e-12,
      atol: 1e-13,
    });
    // dx/dt = (sigma'/sigma + s'/s) x - sigma' s / sigma D(x/s; sigma), integrated in t
    const rowSigma = new Float64Array(4);
    const rhs = async (t: number, y: Float64Array, out: Float64Array) => {
      const sg = vp.sigma(t),
        sd = vp.sigmaDeriv(t),
        st = vp.s(t),
        sdt = vp.sDeriv(t);
      rowSigma.fill(sg);
      const d = await bimodal.denoise(
        tensor(
          Float64Array.from(y, (v) => v / st),
          [4, 1],
        ),
        rowSigma,
      );
      for (let i = 0; i < 4; i++) out[i] = (sd / sg + sdt / st) * y[i] - ((sd * st) / sg) * d.data[i];
    };
    const direct = await integrateOde(rhs, t0, t1, x0.data, { rtol: 1e-12, atol: 1e-13 });
    expect(maxAbs(viaSigma.data, direct)).toBeLessThan(1e-9);
  });
});

/** x_0 for the grid's first time, the reference x(0), and sampler errors for several N. */
async function errors(
  denoiser: Denoiser,
  schedule: Schedule,
  grid: (n: number) => Float64Array,
  opts: EdmSamplerOptions,
  ns: number[],
): Promise<number[]> {
  const z = new TorchGenerator(12).randn([8, 1]);
  const t0 = grid(ns[0])[0];
  const x0 = tensor(
    Float64Array.from(z.data, (v) => v * (schedule.sigma(t0) * schedule.s(t0))),
    z.shape,
  );
  const ref: Tensor = await solveProbabilityFlowSchedule(denoiser, x0, schedule, t0, 0, {
    rtol: 1e-12,
    atol: 1e-13,
  });
  const out: number[] = [];
  for (const n of ns) {
    const x = await edmSampler(denoiser, x0, { ...opts, schedule, timeSteps: grid(n), latentsAreX0: true });
    out.push(maxAbs(x.data, ref.data));
  }
  return out;
}

const orders = (e: number[]) => e.slice(1).map((v, i) => Math.log2(e[i] / v));

describe("convergence order against the exact ODE solution", () => {
  // t_i = (sigma_max^(1/rho) (1 - i/N))^rho reaches t_N = 0 smoothly (no fixed last step)
  const rhoGrid = (n: number) =>
    Float64Array.from({ length: n + 1 }, (_, i) => (80 ** (1 / 7) * (1 - i / n)) ** 7);
  const edm = presets.edm.schedule;

  it("Euler: order 1 (sigma(t) = t)", async () => {
    const e = await errors(bimodal, edm, rhoGrid, { solver: "euler" }, [64, 128, 256, 512]);
    const p = orders(e);
    console.log(
      "euler errors",
      e.map((v) => v.toExponential(2)).join(" "),
      "orders",
      p.map((v) => v.toFixed(3)).join(" "),
    );
    for (const q of p.slice(1)) expect(q).toBeGreaterThan(0.9), expect(q).toBeLessThan(1.1);
  });

  it("Heun: order 2 (sigma(t) = t)", async () => {
    const e = await errors(bimodal, edm, rhoGrid, { solver: "heun" }, [32, 64, 128, 256]);
    const p = orders(e);
    console.log(
      "heun errors",
      e.map((v) => v.toExponential(2)).join(" "),
      "orders",
      p.map((v) => v.toFixed(3)).join(" "),
    );
    for (const q of p.slice(1)) expect(q).toBeGreaterThan(1.9), expect(q).toBeLessThan(2.15);
  });

  it("midpoint (alpha = 1/2): order 2 (sigma(t) = t)", async () => {
    // the midpoint rule reaches its asymptotic order later than Heun on this grid (1.67, 1.87 from N = 32)
    const e = await errors(bimodal, edm, rhoGrid, { solver: "midpoint" }, [128, 256, 512]);
    const p = orders(e);
    console.log(
      "midpoint errors",
      e.map((v) => v.toExponential(2)).join(" "),
      "orders",
      p.map((v) => v.toFixed(3)).join(" "),
    );
    for (const q of p) expect(q).toBeGreaterThan(1.9), expect(q).toBeLessThan(2.15);
  });

  it("Heun: order 2 for a general sigma(t), s(t) with automatic derivatives", async () => {
    // sigma(t) = t + t^3 / 3 (increasing, sigma(0) = 0), s(t) = 1 / sqrt(1 + t^2 / 4)
    const schedule = defineSchedule({
      name: "cubic",
      sigma: (t, m) => m.add(t, m.div(m.mul(t, m.square(t)), 3)),
      s: (t, m) => m.recip(m.sqrt(m.add(1, m.div(m.square(t), 4)))),
    });
    const tMax = 5.6; // sigma(tMax) ~ 64
    const grid = (n: number) => Float64Array.from({ length: n + 1 }, (_, i) => tMax * (1 - i / n) ** 3);
    const e = await errors(bimodal, schedule, grid, { solver: "heun" }, [32, 64, 128, 256]);
    const p = orders(e);
    console.log(
      "general heun errors",
      e.map((v) => v.toExponential(2)).join(" "),
      "orders",
      p.map((v) => v.toFixed(3)).join(" "),
    );
    for (const q of p.slice(1)) expect(q).toBeGreaterThan(1.85), expect(q).toBeLessThan(2.2);
    const eu = await errors(bimodal, schedule, grid, { solver: "euler" }, [128, 256, 512]);
    for (const q of orders(eu)) expect(q).toBeGreaterThan(0.85), expect(q).toBeLessThan(1.15);
  });
});
