/**
 * Bad input gives one clear error naming the sampler (original name) and the argument.
 */
import { type Denoiser, type RunFixture, tensor } from "@edmkit/core";
import { loadFixture } from "@edmkit/core/node";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  replayFixture,
  sampleDpm2,
  sampleDpmpp2m,
  sampleDpmpp2mSde,
  sampleDpmppSde,
  sampleEuler,
  sampleEulerAncestral,
  sampleHeun,
  sampleLms,
  samplers,
} from "../src/index.js";
import { bimodal, latent, ring8, SeededNoise } from "./helpers.js";

const x = latent(4, 2, 10);

describe("schedules", () => {
  test("empty", async () => {
    await expect(sampleEuler(ring8, x, [])).rejects.toThrow("sample_euler: sigmas must not be empty");
  });
  test("increasing", async () => {
    await expect(sampleHeun(ring8, x, [1, 2, 0])).rejects.toThrow(
      "sample_heun: sigmas must be non-increasing, got sigmas[1]=2 > sigmas[0]=1",
    );
  });
  test("negative", async () => {
    await expect(sampleDpmpp2m(ring8, x, [1, -0.5])).rejects.toThrow(
      "sample_dpmpp_2m: sigmas must be >= 0, got sigmas[1]=-0.5",
    );
  });
  test("NaN and infinity", async () => {
    await expect(sampleLms(ring8, x, [1, NaN, 0])).rejects.toThrow(
      "sample_lms: sigmas[1] must be a finite number, got NaN",
    );
    await expect(sampleLms(ring8, x, [Infinity, 0])).rejects.toThrow(
      "sample_lms: sigmas[0] must be a finite number, got Infinity",
    );
  });
  test("zero before the end", async () => {
    await expect(sampleDpm2(ring8, x, [1, 0, 0])).rejects.toThrow(
      "sample_dpm_2: sigmas may reach 0 only at the last entry, got sigmas[1]=0 with 1 more after it",
    );
  });
});

describe("model output", () => {
  const nan: Denoiser = { denoise: async (v) => tensor(new Float64Array(v.data.length).fill(NaN), v.shape) };
  const wrongShape: Denoiser = { denoise: async () => tensor(new Float64Array(3), [3, 1]) };
  const wrongDtype: Denoiser = { denoise: async (v) => tensor(new Float32Array(v.data.length), v.shape) };
  test("NaN", async () => {
    await expect(sampleDpmpp2m(nan, x, [2, 1, 0])).rejects.toThrow(
      "sample_dpmpp_2m: model returned a non-finite value (NaN or Infinity) at step 0 (sigma=2)",
    );
  });
  test("NaN in the second model call of a step", async () => {
    let calls = 0;
    const late: Denoiser = {
      denoise: async (v, s) => (++calls === 2 ? nan.denoise(v, s) : ring8.denoise(v, s)),
    };
    await expect(sampleHeun(late, x, [2, 1, 0])).rejects.toThrow(
      "sample_heun: model returned a non-finite value (NaN or Infinity) at step 0 (sigma=1)",
    );
  });
  test("shape", async () => {
    await expect(sampleEuler(wrongShape, x, [2, 0])).rejects.toThrow(
      "sample_euler: model returned shape [3, 1] for x of shape [4, 2] at step 0",
    );
  });
  test("dtype", async () => {
    await expect(sampleEuler(wrongDtype, x, [2, 0])).rejects.toThrow(
      "sample_euler: model returned float32 for float64 x at step 0",
    );
  });
  test("not a denoiser", async () => {
    await expect(sampleEuler({} as Denoiser, x, [2, 0])).rejects.toThrow(
      "sample_euler: model must be a Denoiser",
    );
  });
});

describe("x and options", () => {
  test("x shape and data disagree", async () => {
    await expect(
      sampleEuler(ring8, { data: new Float64Array(3), shape: [2, 2], dtype: "float64" }, [1, 0]),
    ).rejects.toThrow("sample_euler: x has 3 values but shape [2, 2]");
  });
  test("x without a batch dimension", async () => {
    await expect(sampleEuler(ring8, tensor([1], []), [1, 0])).rejects.toThrow(
      "sample_euler: x must have a batch dimension of size >= 1, got shape []",
    );
  });
  test("mismatched x and model dims reach the model's own message", async () => {
    await expect(sampleEuler(bimodal, x, [1, 0])).rejects.toThrow(
      /gmm: x of shape \[4, 2\] does not end in the mixture's dim 1/,
    );
  });
  test("bad option values", async () => {
    await expect(sampleLms(ring8, x, [2, 1, 0], { order: 0 })).rejects.toThrow(
      "sample_lms: order must be an integer >= 1, got 0",
    );
    await expect(
      sampleDpmpp2mSde(ring8, x, [2, 1, 0], {
        solverType: "euler" as "heun",
        noiseSampler: new SeededNoise(1),
      }),
    ).rejects.toThrow("sample_dpmpp_2m_sde: solver_type must be 'heun' or 'midpoint', got \"euler\"");
    await expect(sampleEulerAncestral(ring8, x, [2, 1, 0], { eta: NaN })).rejects.toThrow(
      "sample_euler_ancestral: eta must be a finite number, got NaN",
    );
    await expect(
      sampleDpmppSde(ring8, x, [2, 1, 0], { r: 0, noiseSampler: new SeededNoise(1) }),
    ).rejects.toThrow("sample_dpmpp_sde: r must be > 0, got 0");
    await expect(sampleEuler(ring8, x, [2, 0], { noise: {} as never })).rejects.toThrow(
      "sample_euler: noise must be a NoiseSource",
    );
  });
});

describe("registry", () => {
  test("unknown keyword argument", async () => {
    await expect(samplers.sample_heun(ring8, x, [2, 0], { s_churnn: 1 })).rejects.toThrow(
      /sample_heun: unexpected keyword argument 's_churnn' \(accepted: extra_args, callback, disable, observer, s_churn/,
    );
  });
  test("extra_args must be empty", async () => {
    await expect(samplers.sample_euler(ring8, x, [2, 0], { extra_args: { cond: 1 } })).rejects.toThrow(
      "sample_euler: extra_args is not supported",
    );
    await expect(
      samplers.sample_euler(ring8, x, [2, 0], { extra_args: {}, disable: true }),
    ).resolves.toBeDefined();
  });
});

test("replayFixture never throws: a broken call becomes status 'error'", async () => {
  const file = fileURLToPath(
    new URL(
      "../../../fixtures/reference/k-diffusion/sample_lms__gmm1d-bimodal__exp12-order2.json",
      import.meta.url,
    ),
  );
  const f = loadFixture(file) as RunFixture;
  const broken = { ...f, reference: { ...f.reference, call: { ...f.reference.call, order: 0 } } };
  const r = await replayFixture(broken);
  expect(r.status).toBe("error");
  expect(r.message).toBe("sample_lms: order must be an integer >= 1, got 0");
  const unknown = await replayFixture({ ...f, reference: { ...f.reference, entry: "sample_nope" } });
  expect(unknown.status).toBe("unsupported");
});
