/** The example of src/training/README.md, kept true. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor } from "@edmkit/core";
import { expect, it } from "vitest";
import { trainToyDenoiser } from "../src/training/index.js";
import { loadWeights, saveWeights } from "../src/node.js";

it("README example: train the 8-Gaussian ring, denoise, save and load", async () => {
  const dir = await mkdtemp(join(tmpdir(), "edmkit-readme-"));
  try {
    const { model, losses, stepsPerSecond } = await trainToyDenoiser({
      dataset: "gmm2d-ring8",
      steps: 1000,
      batchSize: 256,
      hidden: 32,
      seed: 1,
    });
    expect(losses.length).toBe(1000);
    expect(stepsPerSecond).toBeGreaterThan(0);
    // EDM's loss starts near 1 (F = 0 gives lambda c_out^2 = 1 times the unit-variance target)
    const first = losses.slice(0, 20).reduce((a, b) => a + b) / 20;
    const last = losses.slice(-50).reduce((a, b) => a + b) / 50;
    expect(first).toBeGreaterThan(0.8);
    expect(last).toBeLessThan(first - 0.1);

    const denoised = await model.denoise(tensor([1.9, 0.1, 4, 3], [2, 2]), Float64Array.from([0.1, 2]));
    expect(denoised.shape).toEqual([2, 2]);
    // at sigma 0.1 a point next to the component at (2, 0) moves toward it, not far; at
    // sigma 2 the point at radius 5 is pulled in toward the radius-2 ring
    expect(Math.hypot(denoised.data[0] - 1.9, denoised.data[1] - 0.1)).toBeLessThan(0.15);
    expect(Math.hypot(denoised.data[0] - 2, denoised.data[1])).toBeLessThan(Math.hypot(0.1, 0.1));
    expect(Math.hypot(denoised.data[2], denoised.data[3])).toBeLessThan(4);

    const path = join(dir, "ring8.json");
    await saveWeights(model, path);
    const again = await loadWeights(path);
    expect(
      Array.from((await again.denoise(tensor([1.9, 0.1, 4, 3], [2, 2]), Float64Array.from([0.1, 2]))).data),
    ).toEqual(Array.from(denoised.data));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
