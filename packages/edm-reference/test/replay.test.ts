/**
 * replayFixture reports (never throws): a tampered fixture fails at the right model call,
 * an unsupported one is "unsupported", a broken call is "error". And every combination of
 * ablation_sampler's solver / discretization / schedule / scaling runs.
 */
import { describe, expect, it } from "vitest";
import { type Denoiser, GaussianMixture, type RunFixture, TorchGenerator, TorchNoise } from "@edmkit/core";
import { loadFixture } from "@edmkit/core/node";
import { nvlabsAblationSetup, replayFixture, samplers, supportsFixture } from "../src/index.js";

const path = (name: string) => new URL(`../../../fixtures/reference/${name}.json`, import.meta.url).pathname;
const load = (name: string) => structuredClone(loadFixture(path(name))) as RunFixture;

describe("replayFixture", () => {
  it("names the first diverging model call of a tampered fixture", async () => {
    const f = load("edm/edm_sampler__gmm1d-bimodal__steps10");
    f.model_calls[7].x[3] += 1e-6;
    const r = await replayFixture(f);
    expect(r.status).toBe("fail");
    expect(r.firstDivergence).toMatchObject({ modelCall: 7, step: 3, field: "model_calls[7].x" });
    expect(r.firstDivergence!.maxAbs).toBeCloseTo(1e-6, 9);
  });

  it("checks the schedule the sampler computed", async () => {
    const f = load("edm/ablation_sampler__gmm1d-bimodal__ve-euler-14");
    (f.schedule.t_steps as number[])[3] *= 1 + 1e-9;
    const r = await replayFixture(f);
    expect(r.status).toBe("fail");
    expect(r.checks.find((c) => c.name === "schedule.t_steps")?.ok).toBe(false);
  });

  it("reports, rather than throws, unsupported fixtures and broken calls", async () => {
    const kd = loadFixture(path("k-diffusion/sample_dpm_2__gmm1d-bimodal__polyexp10")) as RunFixture;
    expect(supportsFixture(kd)).toBe(false);
    expect((await replayFixture(kd)).status).toBe("unsupported");
    const f = load("edm/ablation_sampler__gmm1d-bimodal__edm-euler-14");
    f.reference.call.solver = "rk4";
    const r = await replayFixture(f);
    expect(r.status).toBe("error");
    expect(r.message).toMatch(/solver must be one of/);
  });
});

describe("ablation_sampler accepts every combination", () => {
  const gmm = new GaussianMixture({ dim: 1, weights: [1, 1], means: [[-1], [1]], stds: [0.3, 0.3] });
  const net: Denoiser = { sigmaMin: 0, sigmaMax: Infinity, denoise: (x, s, o) => gmm.denoise(x, s, o) };
  it("2 solvers x 4 discretizations x 3 schedules x 2 scalings", async () => {
    const z = new TorchGenerator(1).randn([3, 1]);
    let combos = 0;
    for (const solver of ["euler", "heun"] as const)
      for (const discretization of ["vp", "ve", "iddpm", "edm"] as const)
        for (const schedule of ["vp", "ve", "linear"] as const)
          for (const scaling of ["vp", "none"] as const) {
            const call = { num_steps: 6, solver, discretization, schedule, scaling, S_churn: 2 };
            let nfe = 0;
            const out = await samplers.ablation_sampler(net, z, call, {
              randn_like: new TorchNoise(0),
              observer: { onModelCall: () => nfe++ },
            });
            expect(out.data.every(Number.isFinite), JSON.stringify(call)).toBe(true);
            expect(nfe).toBe(solver === "heun" ? 11 : 6);
            const s = nvlabsAblationSetup(net, call);
            // t_N = 0 and sigma(t_0) is the discretization's first level
            expect(s.t_steps[6]).toBe(0);
            expect(s.schedule.sigma(s.t_steps[0]) / s.sigma_steps[0]).toBeCloseTo(1, 9);
            combos++;
          }
    expect(combos).toBe(48);
  });
});
