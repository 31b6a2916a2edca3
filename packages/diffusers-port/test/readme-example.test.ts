/** The README example, run as written (so it stays true). */
import { DiscreteGmmModel, TorchGenerator, scale, zerosLike } from "@edmkit/core";
import { expect, it } from "vitest";
import { EulerAncestralDiscreteScheduler, denoisingLoop } from "../src/index.js";

it("README example: SD 1.5 config, Euler a, 25 steps on the ring-of-8 model", async () => {
  const config = {
    _class_name: "PNDMScheduler",
    _diffusers_version: "0.6.0",
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: "scaled_linear",
    num_train_timesteps: 1000,
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    trained_betas: null,
    clip_sample: false,
  };
  const scheduler = new EulerAncestralDiscreteScheduler(config);
  scheduler.setTimesteps(25);

  const ring = Array.from({ length: 8 }, (_, k) => [
    2 * Math.cos((k * Math.PI) / 4),
    2 * Math.sin((k * Math.PI) / 4),
  ]);
  const model = new DiscreteGmmModel({
    gmm: { dim: 2, weights: ring.map(() => 1), means: ring, stds: ring.map(() => 0.1) },
    alphasCumprod: scheduler.alphasCumprod,
  });

  const generator = new TorchGenerator(42);
  const latents = generator.randn([16, 2], "float32");
  const samples = await denoisingLoop(scheduler, model, latents, { generator });

  expect(samples.dtype).toBe("float32");
  expect(samples.shape).toEqual([16, 2]);
  // every sample lands in the basin of one of the 8 ring points (neighbours are 1.53 apart),
  // and on average within about one component std (0.1) of it
  let mean = 0;
  for (let i = 0; i < 16; i++) {
    const [x, y] = [samples.data[2 * i], samples.data[2 * i + 1]];
    const d = Math.min(...ring.map(([mx, my]) => Math.hypot(x - mx, y - my)));
    expect(d).toBeLessThan(0.76);
    mean += d / 16;
  }
  expect(mean).toBeLessThan(0.2);

  // the hand-written loop of the README gives the same numbers
  const s2 = new EulerAncestralDiscreteScheduler(config);
  s2.setTimesteps(25);
  const g2 = new TorchGenerator(42);
  const lat2 = g2.randn([16, 2], "float32");
  const unet = (x: typeof lat2, t: number) => model.predict(x, new Float64Array(16).fill(t));
  let x = scale(zerosLike(lat2), lat2, s2.initNoiseSigma);
  for (const t of s2.timesteps) {
    const xIn = s2.scaleModelInput(x, t);
    const eps = await unet(xIn, t);
    x = s2.step(eps, t, x, { generator: g2 }).prevSample;
  }
  expect(Array.from(x.data)).toEqual(Array.from(samples.data));
});
