/**
 * The registry: original names, original keyword names, same results as the camelCase API.
 */
import { type Tensor, tensor } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import {
  callSampler,
  getSigmasKarras,
  sampleDpmpp2mSde,
  sampleHeun,
  samplers,
  samplerSignatures,
  type StepPayload,
} from "../src/index.js";
import { bitEqual, latent, ring8, SeededNoise } from "./helpers.js";

const sigmas = getSigmasKarras(8, 0.002, 80);
const x = latent(6, 2, 80, 21);

describe("samplers under the original names", () => {
  test("every sampler of sampling.py is registered (dpm_fast/adaptive: signature known)", () => {
    const ported = [
      "sample_euler",
      "sample_euler_ancestral",
      "sample_heun",
      "sample_dpm_2",
      "sample_dpm_2_ancestral",
      "sample_lms",
      "sample_dpmpp_2s_ancestral",
      "sample_dpmpp_sde",
      "sample_dpmpp_2m",
      "sample_dpmpp_2m_sde",
      "sample_dpmpp_3m_sde",
    ];
    for (const name of ported) expect(typeof (samplers as Record<string, unknown>)[name]).toBe("function");
    for (const name of Object.keys(samplers)) expect(samplerSignatures).toHaveProperty(name);
    expect(samplerSignatures.sample_dpmpp_2m_sde.kwargs).toContain("solver_type");
    expect(samplerSignatures.sample_dpm_adaptive.params).toEqual(["model", "x", "sigma_min", "sigma_max"]);
  });

  test("snake_case keyword arguments give the same run as the camelCase API", async () => {
    const steps: number[] = [];
    const a = await samplers.sample_heun(ring8, x, sigmas, {
      s_churn: 2.5,
      s_tmin: 0.1,
      s_tmax: 20,
      s_noise: 1.007,
      noise: new SeededNoise(3),
      callback: (p: StepPayload) => void steps.push(p.i),
    });
    const b = await sampleHeun(ring8, x, sigmas, {
      sChurn: 2.5,
      sTmin: 0.1,
      sTmax: 20,
      sNoise: 1.007,
      noise: new SeededNoise(3),
    });
    expect(bitEqual(a.data, b.data)).toBe(true);
    expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test("callSampler takes a whole keyword dictionary (a fixture's reference.call)", async () => {
    const a = await callSampler("sample_dpmpp_2m_sde", {
      model: ring8,
      x,
      sigmas,
      eta: 0.7,
      solver_type: "heun",
      noise_sampler: new SeededNoise(5),
    });
    const b = await sampleDpmpp2mSde(ring8, x, sigmas, {
      eta: 0.7,
      solverType: "heun",
      noiseSampler: new SeededNoise(5),
    });
    expect(bitEqual((a as Tensor).data, b.data)).toBe(true);
    await expect(callSampler("sample_dpmpp_2m_sde", { model: ring8, x })).rejects.toThrow(
      "sample_dpmpp_2m_sde: missing required argument 'sigmas'",
    );
  });

  test("noise_sampler may be an original-style function (sigma, sigma_next) => Tensor", async () => {
    const source = new SeededNoise(8);
    const seen: [number, number][] = [];
    const fnSampler = (sigma: number, sigmaNext: number) => {
      seen.push([sigma, sigmaNext]);
      return source.randn(tensor(new Float64Array(x.data.length), x.shape));
    };
    const a = await samplers.sample_euler_ancestral(ring8, x, sigmas, { eta: 1, noise_sampler: fnSampler });
    const b = await samplers.sample_euler_ancestral(ring8, x, sigmas, {
      eta: 1,
      noise_sampler: new SeededNoise(8),
    });
    expect(bitEqual(a.data, b.data)).toBe(true);
    expect(seen.length).toBe(7);
    expect(seen[0]).toEqual([sigmas[0], sigmas[1]]);
  });
});
