/**
 * The README's example, verbatim between the markers (with the package import), so it stays
 * true: the test checks that README.md holds exactly this code and that it runs.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
// --- README example start ---
import { GaussianMixture, scale, TorchGenerator, TorchNoise, zerosLike } from "@edmkit/core";
import { getSigmasKarras, sampleDpmpp2m, sampleEulerAncestral, samplers } from "../src/index.js";

// The exact denoiser of a two-peak mixture stands in for a trained model.
const model = new GaussianMixture({
  dim: 2,
  weights: [1, 1],
  means: [
    [-1, 0],
    [1, 0],
  ],
  stds: [0.1, 0.1],
});

// Python: sigmas = get_sigmas_karras(20, 0.002, 80.)
//         torch.manual_seed(0); x = torch.randn([8, 2]) * sigmas[0]
const sigmas = getSigmasKarras(20, 0.002, 80);
const generator = new TorchGenerator(0);
const latent = generator.randn([8, 2]);
const x = scale(zerosLike(latent), latent, sigmas[0]);

// DPM++(2M); the callback gets the original's payload (x, i, sigma, sigma_hat, denoised).
const seen: number[] = [];
const samples = await sampleDpmpp2m(model, x, sigmas, { callback: ({ sigma }) => void seen.push(sigma) });

// Euler ancestral drawing its noise from the same generator, as torch.randn_like would.
const ancestral = await sampleEulerAncestral(model, x, sigmas, { noiseSampler: new TorchNoise(generator) });

// The same call under k-diffusion's names and keyword arguments.
const again = await samplers.sample_dpmpp_2m(model, x, sigmas, { disable: true });
console.log(
  `DPM++(2M): ${seen.length} steps, first sample (${samples.data[0].toFixed(4)}, ${samples.data[1].toFixed(4)})`,
);
console.log(
  `registry call identical: ${again.data.every((v, i) => v === samples.data[i])}; ancestral x[0] = ${ancestral.data[0].toFixed(4)}`,
);
// --- README example end ---

test("README example runs and lands on the mixture's modes", () => {
  expect(seen.length).toBe(20);
  for (const out of [samples, ancestral]) {
    for (let k = 0; k < 8; k++) {
      expect(Math.abs(Math.abs(out.data[2 * k]) - 1)).toBeLessThan(0.5);
      expect(Math.abs(out.data[2 * k + 1])).toBeLessThan(0.5);
    }
  }
  expect(Array.from(again.data)).toEqual(Array.from(samples.data));
});

test("README.md shows exactly this example", () => {
  const self = readFileSync(fileURLToPath(import.meta.url), "utf8");
  const code = self
    .split("// --- README example start ---\n")[1]
    .split("// --- README example end ---")[0]
    .replace('"../src/index.js"', '"@edmkit/k-diffusion"')
    .trim();
  const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
  const block = readme.split("```ts\n")[1].split("```")[0].trim();
  expect(block).toBe(code);
});
