/**
 * Identities the ports must satisfy exactly, independent of the fixtures.
 */
import {
  type ModelCallEvent,
  type StepEvent,
  type Tensor,
  tensor,
  TORCH_DEFAULT_SEED,
  TorchNoise,
} from "@edmkit/core";
import { describe, expect, test } from "vitest";
import {
  getSigmasKarras,
  sampleDpmpp2m,
  sampleDpmpp2mSde,
  sampleDpmpp3mSde,
  sampleEuler,
  sampleEulerAncestral,
  sampleHeun,
  type StepPayload,
} from "../src/index.js";
import { bimodal, bitEqual, latent, ring8, SeededNoise } from "./helpers.js";

describe("sample_euler_ancestral with eta = 0 is sample_euler", () => {
  for (const dtype of ["float64", "float32"] as const) {
    test(`bit for bit (${dtype})`, async () => {
      const sigmas = getSigmasKarras(12, 0.002, 80, { dtype });
      const x = latent(16, 2, 80, 3, dtype);
      const euler = await sampleEuler(ring8, x, sigmas);
      const ancestral = await sampleEulerAncestral(ring8, x, sigmas, { eta: 0 });
      // With a noise sampler the draws still happen (multiplied by 0), as in the original.
      const noise = new SeededNoise(7);
      const drawn = await sampleEulerAncestral(ring8, x, sigmas, { eta: 0, noiseSampler: noise });
      expect(bitEqual(ancestral.data, euler.data)).toBe(true);
      expect(bitEqual(drawn.data, euler.data)).toBe(true);
      expect(noise.requests.length).toBe(11); // no draw into sigma = 0
    });
  }
});

test("sample_euler_ancestral with eta = 1 is the DDPM ancestral update in the VE frame", async () => {
  const sigmas = getSigmasKarras(10, 0.01, 20);
  const x = latent(16, 2, 20, 5);
  const got = await sampleEulerAncestral(ring8, x, sigmas, { eta: 1, noiseSampler: new SeededNoise(11) });
  // Written out: x' = D + (s1/s0)^2 (x - D) + s1 sqrt(1 - (s1/s0)^2) z, and x' = D into sigma = 0.
  const noise = new SeededNoise(11);
  const cur = Float64Array.from(x.data);
  const z = tensor(new Float64Array(cur.length), x.shape);
  for (let i = 0; i + 1 < sigmas.length; i++) {
    const s0 = sigmas[i],
      s1 = sigmas[i + 1];
    const d = ring8.denoiseSync(tensor(cur, x.shape), new Float64Array(16).fill(s0)).data;
    const q = (s1 / s0) ** 2;
    if (s1 > 0) noise.randn(z);
    for (let k = 0; k < cur.length; k++)
      cur[k] = d[k] + q * (cur[k] - d[k]) + (s1 > 0 ? s1 * Math.sqrt(1 - q) * z.data[k] : 0);
  }
  let worst = 0;
  for (let k = 0; k < cur.length; k++) worst = Math.max(worst, Math.abs(got.data[k] - cur[k]));
  expect(worst).toBeLessThan(1e-12);
});

test("heun takes an Euler step into sigma = 0: nfe = 2N - 1", async () => {
  let calls = 0;
  const sigmas = getSigmasKarras(7, 0.002, 80);
  await sampleHeun(bimodal, latent(4, 1, 80), sigmas, { observer: { onModelCall: () => void calls++ } });
  expect(calls).toBe(2 * 7 - 1);
});

test("dpmpp_2m and dpmpp_2m_sde return the last denoised exactly", async () => {
  const sigmas = getSigmasKarras(8, 0.002, 80);
  for (const run of [
    (cb: (p: StepPayload) => void) => sampleDpmpp2m(ring8, latent(8, 2, 80), sigmas, { callback: cb }),
    (cb: (p: StepPayload) => void) =>
      sampleDpmpp2mSde(ring8, latent(8, 2, 80), sigmas, { callback: cb, noiseSampler: new SeededNoise(2) }),
  ]) {
    let last: Float64Array | null = null;
    const out = await run((p) => {
      last = Float64Array.from(p.denoised.data);
    });
    expect(last).not.toBeNull();
    expect(bitEqual(out.data, last as unknown as Float64Array)).toBe(true);
  }
});

test("callback and observer see the same steps; observer sees every model call; x is not mutated", async () => {
  const sigmas = getSigmasKarras(6, 0.002, 80);
  const x = latent(4, 2, 80, 9);
  const before = Float64Array.from(x.data);
  const payloads: { i: number; sigma: number; sigma_hat: number; x: Float64Array }[] = [];
  const steps: StepEvent[] = [];
  const calls: { step?: number; sigma: number }[] = [];
  await sampleHeun(ring8, x, sigmas, {
    sChurn: 1,
    noise: new SeededNoise(4),
    callback: (p) =>
      void payloads.push({ i: p.i, sigma: p.sigma, sigma_hat: p.sigma_hat, x: Float64Array.from(p.x.data) }),
    observer: {
      onStep: (e) => void steps.push(e),
      onModelCall: (e: ModelCallEvent) =>
        void calls.push({ step: e.step, sigma: (e.sigma as Float64Array)[0] }),
    },
  });
  expect(bitEqual(x.data, before)).toBe(true);
  expect(payloads.map((p) => p.i)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(steps.map((s) => s.i)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(steps.map((s) => s.fields.sigma_hat)).toEqual(payloads.map((p) => p.sigma_hat));
  // churn: sigma_hat = sigma * (1 + min(1/6, sqrt2 - 1)) inside the default window
  for (const p of payloads) expect(p.sigma_hat).toBe(p.sigma * (1 + 1 / 6));
  expect(calls.length).toBe(11);
  expect(calls.map((c) => c.step)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
  expect(calls[0].sigma).toBe(payloads[0].sigma_hat);
  expect(calls[1].sigma).toBe(payloads[1].sigma); // Heun's corrector runs at sigmas[i+1]
});

test("float32 runs stay float32", async () => {
  const x = latent(4, 2, 80, 1, "float32");
  const out = await sampleDpmpp2m(ring8, x, getSigmasKarras(5, 0.002, 80, { dtype: "float32" }));
  expect(out.dtype).toBe("float32");
  expect(out.data).toBeInstanceOf(Float32Array);
  const f64 = await sampleDpmpp2m(
    ring8,
    tensor(Float64Array.from(x.data), x.shape),
    getSigmasKarras(5, 0.002, 80),
  );
  let worst = 0;
  for (let k = 0; k < out.data.length; k++) worst = Math.max(worst, Math.abs(out.data[k] - f64.data[k]));
  expect(worst).toBeGreaterThan(0);
  expect(worst).toBeLessThan(1e-4);
});

test("a single step into 0 returns denoised for the multistep SDE samplers (the original raises there)", async () => {
  const x = latent(4, 2, 3, 2);
  const d = ring8.denoiseSync(x, new Float64Array(4).fill(3));
  for (const out of [await sampleDpmpp2mSde(ring8, x, [3, 0]), await sampleDpmpp3mSde(ring8, x, [3, 0])]) {
    expect(bitEqual(out.data, d.data)).toBe(true);
  }
});

test("a one-entry schedule takes no step", async () => {
  const x: Tensor = latent(2, 1, 1);
  let calls = 0;
  const out = await sampleEuler(bimodal, x, [1], { observer: { onModelCall: () => void calls++ } });
  expect(calls).toBe(0);
  expect(bitEqual(out.data, x.data)).toBe(true);
});

describe("default noise: torch's generator at its default seed", () => {
  test("no noise source equals an explicit TorchNoise(TORCH_DEFAULT_SEED)", async () => {
    const sigmas = getSigmasKarras(6, 0.002, 80);
    const x = latent(4, 2, 80, 12);
    for (const [run, key] of [
      [sampleEulerAncestral, "noiseSampler"],
      [sampleDpmpp2mSde, "noiseSampler"],
      [sampleEuler, "noise"],
    ] as const) {
      const extra = key === "noise" ? { sChurn: 2 } : {};
      const implicit = await (run as typeof sampleEuler)(ring8, x, sigmas, extra);
      const explicit = await (run as typeof sampleEuler)(ring8, x, sigmas, {
        ...extra,
        [key]: new TorchNoise(TORCH_DEFAULT_SEED),
      });
      expect(bitEqual(implicit.data, explicit.data)).toBe(true);
      const other = await (run as typeof sampleEuler)(ring8, x, sigmas, {
        ...extra,
        [key]: new TorchNoise(1),
      });
      expect(bitEqual(implicit.data, other.data)).toBe(false);
    }
  });
  test("runs that add no noise draw nothing", async () => {
    const sigmas = getSigmasKarras(6, 0.002, 80);
    const x = latent(4, 2, 80, 12);
    const plain = await sampleEuler(ring8, x, sigmas);
    const drawn = await sampleEuler(ring8, x, sigmas, { noise: new TorchNoise(3) }); // drawn and thrown away
    expect(bitEqual(plain.data, drawn.data)).toBe(true);
  });
});
