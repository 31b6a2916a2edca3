/**
 * NVlabs' samplers: defaults, VP beta recomputation, clamps, the t_hat round trip, noise
 * consumption, the registry's keyword arguments, and agreement with the clean sampler.
 */
import { describe, expect, it } from "vitest";
import {
  type Denoiser,
  GaussianMixture,
  libm,
  type RunFixture,
  TorchGenerator,
  TorchNoise,
  ulpDistance,
} from "@edmkit/core";
import { loadFixture } from "@edmkit/core/node";
import {
  edmSampler,
  nvlabsAblationSetup,
  nvlabsEdmSetup,
  nvlabsVpBetas,
  nvlabsVpSigma,
  samplers,
} from "../src/index.js";

const gmm = new GaussianMixture({ dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] });
const net: Denoiser = {
  sigmaMin: 0,
  sigmaMax: Infinity,
  roundSigma: (s) => s,
  denoise: (x, s, o) => gmm.denoise(x, s, o),
};
const fixture = (name: string) =>
  loadFixture(
    new URL(`../../../fixtures/reference/edm/${name}.json`, import.meta.url).pathname,
  ) as RunFixture;

describe("VP defaults and betas (quirk 17)", () => {
  it("the default vp range is sigma_vp(epsilon_s) .. sigma_vp(1) with beta_d 19.9, computed as e ** x", () => {
    const s = nvlabsAblationSetup(net, {
      discretization: "vp",
      schedule: "vp",
      scaling: "vp",
      num_steps: 10,
    });
    const f = fixture("ablation_sampler__gmm2d-ring8__vp-heun-10");
    expect(s.sigma_min).toBe(f.schedule.sigma_min);
    expect(s.sigma_max).toBe(f.schedule.sigma_max);
    expect(s.sigma_max).toBe(152.16697028394634);
    // Math.pow(Math.E, x) would give 152.16697028394637: V8's pow is off by one ulp there
    expect(Math.sqrt(Math.pow(Math.E, 0.5 * 19.9 + 0.1) - 1)).not.toBe(s.sigma_max);
  });

  it("recomputes beta_d / beta_min: 19.899999999999853 / 0.10000000000007248 (fixture 19.89999999999985: 1 ulp, its numpy log)", () => {
    const { vp_beta_d, vp_beta_min } = nvlabsVpBetas(0.010485992786706403, 152.16697028394634, 1e-3);
    expect(vp_beta_min).toBe(0.10000000000007248);
    expect(vp_beta_d).toBe(19.899999999999853);
    expect(ulpDistance(vp_beta_d, 19.89999999999985)).toBe(1);
    // with the recorder's logarithm (one ulp low on ln(sigma_max^2 + 1)) the fixture's value comes out
    const lowLog = (x: number) => (x > 2 ? libm.log(x) - 2 ** -49 : libm.log(x));
    expect(nvlabsVpBetas(0.010485992786706403, 152.16697028394634, 1e-3, lowLog).vp_beta_d).toBe(
      19.89999999999985,
    );
    // and with the recorded betas, the vp discretization is bit-exact
    const f = fixture("ablation_sampler__gmm1d-bimodal__vp-euler-14");
    const sig = nvlabsVpSigma(f.schedule.vp_beta_d!, f.schedule.vp_beta_min!);
    const t = Array.from({ length: 14 }, (_, i) => 1 + (i / 13) * (1e-3 - 1));
    expect(t.map(sig)).toEqual(f.schedule.sigma_steps);
  });

  it("betas hold for the clamped range, making sigma_vp(epsilon_s) = sigma_min and sigma_vp(1) = sigma_max", () => {
    const s = nvlabsAblationSetup(net, {
      discretization: "edm",
      schedule: "vp",
      scaling: "vp",
      num_steps: 8,
    });
    const sig = nvlabsVpSigma(s.vp_beta_d!, s.vp_beta_min!);
    expect(sig(1)).toBeCloseTo(80, 10);
    expect(sig(1e-3)).toBeCloseTo(0.002, 13);
  });
});

describe("edm_sampler", () => {
  it("defaults: 18 steps, 0.002..80, rho 7, nfe 2N - 1, one randn_like per step, t_hat = t_cur without churn", async () => {
    const s = nvlabsEdmSetup(net);
    expect(s.t_steps.length).toBe(19);
    expect(s.t_steps[0]).toBe(80);
    expect(s.t_steps[17]).toBeCloseTo(0.002, 15);
    expect(s.t_steps[18]).toBe(0);
    const z = new TorchGenerator(0).randn([4, 1]);
    let calls = 0,
      draws = 0;
    const noise = { randn: (o: Parameters<TorchNoise["randn"]>[0]) => (draws++, o.data.fill(0.5), o) };
    const tHat: number[] = [],
      tCur: number[] = [];
    await samplers.edm_sampler(
      net,
      z,
      {},
      {
        randn_like: noise,
        observer: {
          onModelCall: () => calls++,
          onStep: (e) => (tHat.push(e.fields.t_hat as number), tCur.push(e.fields.t_cur as number)),
        },
      },
    );
    expect(calls).toBe(35);
    expect(draws).toBe(18);
    expect(tHat).toEqual(tCur);
  });

  it("clamps sigma_min / sigma_max with the net's (quirk 18)", () => {
    const s = nvlabsEdmSetup({ ...net, sigmaMin: 0.01, sigmaMax: 20 }, { num_steps: 5 });
    expect([s.sigma_min, s.sigma_max]).toEqual([0.01, 20]);
    expect(s.t_steps[0]).toBeCloseTo(20, 13); // (20^(1/7))^7
  });

  it("without churn equals the clean sampler on the same grid bit for bit", async () => {
    const z = new TorchGenerator(3).randn([16, 1]);
    const s = nvlabsEdmSetup(net, { num_steps: 12 });
    const a = await samplers.edm_sampler(net, z, { num_steps: 12 }, { randn_like: new TorchNoise(1) });
    const b = await edmSampler(net, z, { timeSteps: s.t_steps, solver: "heun" });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it("ablation_sampler with edm / linear / none / heun is edm_sampler up to rounding of the general formula", async () => {
    const z = new TorchGenerator(5).randn([16, 1]);
    const a = await samplers.edm_sampler(
      net,
      z,
      { num_steps: 10, S_churn: 5, S_min: 0.1, S_max: 20 },
      { randn_like: new TorchNoise(2) },
    );
    const b = await samplers.ablation_sampler(
      net,
      z,
      { num_steps: 10, S_churn: 5, S_min: 0.1, S_max: 20 },
      { randn_like: new TorchNoise(2) },
    );
    let m = 0;
    for (let i = 0; i < 16; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
    expect(m).toBeLessThan(1e-12);
  });
});

describe("ablation_sampler", () => {
  it("round-trips t_hat through sigma_inv even at gamma = 0 (quirk 14): vp t_hat can move by an ulp", () => {
    let moved = 0;
    for (let n = 5; n <= 40; n++) {
      const s = nvlabsAblationSetup(net, {
        discretization: "vp",
        schedule: "vp",
        scaling: "vp",
        num_steps: n,
      });
      for (let i = 0; i < n; i++) {
        expect(s.plan.gamma[i]).toBe(0);
        const sc = s.schedule.sigma(s.t_steps[i]);
        expect(s.plan.tHat[i]).toBe(s.schedule.sigmaInv!(sc + 0 * sc));
        expect(ulpDistance(s.plan.tHat[i], s.t_steps[i])).toBeLessThanOrEqual(4);
        if (s.plan.tHat[i] !== s.t_steps[i] && s.schedule.sigma(s.plan.tHat[i]) > sc) {
          moved++;
          expect(s.plan.noiseCoef[i]).toBeGreaterThan(0); // the sliver of noise NVlabs injects
        }
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  it("calls the net at sigma(t_hat) on x_hat / s(t_hat) (quirk 15) and evaluates the correction at t_hat + alpha h", async () => {
    const s = nvlabsAblationSetup(net, {
      discretization: "ve",
      schedule: "vp",
      scaling: "vp",
      num_steps: 6,
      alpha: 0.5,
    });
    const z = new TorchGenerator(9).randn([2, 1]);
    const calls: { x: number; sigma: number }[] = [];
    const hats: number[] = [];
    await samplers.ablation_sampler(
      net,
      z,
      { discretization: "ve", schedule: "vp", scaling: "vp", num_steps: 6, alpha: 0.5 },
      {
        randn_like: new TorchNoise(0),
        observer: {
          onModelCall: (e) => calls.push({ x: e.x.data[0], sigma: e.sigma![0] }),
          onStep: (e) => hats.push((e.fields.x_hat as { data: Float64Array }).data[0]),
        },
      },
    );
    expect(calls.length).toBe(11);
    for (let i = 0; i < 6; i++) {
      const th = s.plan.tHat[i];
      expect(calls[2 * i].sigma).toBe(s.schedule.sigma(th));
      expect(calls[2 * i].x).toBe(hats[i] / s.schedule.s(th));
      if (i < 5) expect(s.plan.tPrime[i]).toBe(th + 0.5 * (s.t_steps[i + 1] - th));
    }
  });

  it("iDDPM: table entries in range, indices rounded half to even, float32 abar under default dtype float32 (quirk 16)", () => {
    const a = nvlabsAblationSetup(net, { discretization: "iddpm", num_steps: 14 });
    const b = nvlabsAblationSetup(
      net,
      { discretization: "iddpm", num_steps: 14 },
      { defaultDtype: "float32" },
    );
    const f = fixture("ablation_sampler__gmm1d-bimodal__iddpm-euler-14");
    for (let i = 0; i < 14; i++)
      expect(Math.abs(a.sigma_steps[i] - f.schedule.sigma_steps![i])).toBeLessThanOrEqual(
        1e-13 * f.schedule.sigma_steps![i],
      );
    expect(Math.abs(b.sigma_steps[0] - a.sigma_steps[0])).toBeGreaterThan(1e-6);
    expect(a.sigma_steps[13]).toBe(f.schedule.sigma_steps![13]);
  });

  it("rejects what the original rejects, by name", async () => {
    const z = new TorchGenerator(0).randn([2, 1]);
    const run = { randn_like: new TorchNoise(0) };
    await expect(samplers.ablation_sampler(net, z, { solver: "rk4" }, run)).rejects.toThrow(
      /ablation_sampler: solver must be one of 'euler', 'heun', got "rk4"/,
    );
    await expect(samplers.ablation_sampler(net, z, { discretization: "cosine" }, run)).rejects.toThrow(
      /discretization must be one of/,
    );
    await expect(samplers.ablation_sampler(net, z, { schedule: "edm" }, run)).rejects.toThrow(
      /schedule must be one of/,
    );
    await expect(samplers.ablation_sampler(net, z, { scaling: "ve" }, run)).rejects.toThrow(
      /scaling must be one of/,
    );
    await expect(samplers.edm_sampler(net, z, { solver: "heun" }, run)).rejects.toThrow(
      /edm_sampler: unexpected keyword argument 'solver'/,
    );
    await expect(samplers.edm_sampler(net, z, { num_steps: 1 }, run)).rejects.toThrow(
      /num_steps must be an integer >= 2/,
    );
    await expect(samplers.edm_sampler(net, z, { S_churn: -1 }, run)).rejects.toThrow(
      /S_churn must be a finite number >= 0/,
    );
    await expect(samplers.edm_sampler(net, z, {}, {})).rejects.toThrow(/NoiseSource/);
    await expect(samplers.edm_sampler(net, z, { class_labels: [1, 0] }, run)).rejects.toThrow(/class_labels/);
  });

  it("takes a fixture's reference.call as is (placeholders, 'inf')", async () => {
    const f = fixture("edm_sampler__gmm1d-bimodal__steps14-churn2-window");
    const z = new TorchGenerator(0).randn(f.shape);
    const out = await samplers.edm_sampler(
      net,
      z,
      { ...f.reference.call, S_max: "inf" },
      { randn_like: new TorchNoise(0) },
    );
    expect(out.dtype).toBe("float64");
    expect(out.data.every(Number.isFinite)).toBe(true);
  });
});
