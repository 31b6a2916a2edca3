/**
 * The Images section's measurements on the real digits: the exact denoiser (float64) and the
 * UNet (ONNX, float32, CPU), the error vs NFE against the probability-flow ODE, and the
 * statistics they rest on.
 */
import { describe, expect, it } from "vitest";
import { loadDigits } from "../src/conformance/images/run.js";
import {
  energyTest,
  frechetDistance,
  nearestDistances,
  symmetricEigen,
} from "../src/conformance/images/stats.js";
import { runTask } from "../src/conformance/tasks.js";
import { diffGain } from "../src/report/images-section.js";
import type { ImageDenoiser } from "../src/report/images-schema.js";
import { FIXTURES, ROOT } from "./cli-helpers.js";

const ctx = { fixturesDir: FIXTURES, root: ROOT, devices: ["cpu" as const], toleranceScale: 1 };

async function denoiser(id: string): Promise<ImageDenoiser> {
  const r = await runTask(id, ctx);
  expect(r.error).toBeUndefined();
  if (r.kind !== "images" || !r.value?.denoiser) throw new Error(`no denoiser in ${id}`);
  return r.value.denoiser;
}

function checkPairs(d: ImageDenoiser) {
  expect(d.available).toBe(true);
  expect(d.pairs.length).toBe(11);
  for (const p of d.pairs) {
    expect(["identical", "pathwise", "distributional"]).toContain(p.verdict);
    expect(p.maxDiff).not.toBeNull();
    expect(p.test.pValue).toBeGreaterThan(0);
    if (p.psnr !== null) {
      expect(Number.isFinite(p.psnr)).toBe(true);
      // MSE <= maxDiff^2, so PSNR >= 10 log10(4 / maxDiff^2).
      expect(p.psnr).toBeGreaterThanOrEqual(10 * Math.log10(4 / p.maxDiff! ** 2) - 1e-9);
    } else expect(p.maxDiff).toBe(0);
  }
  for (const i of d.impls) expect(i.grid).toHaveLength(16 * 64);
}

describe("Images section", () => {
  it("exact denoiser vs UNet: pairs, verdicts, Fréchet, nearest training image", {
    timeout: 120_000,
  }, async () => {
    const exact = await denoiser("images:empirical");
    const unet = await denoiser("images:onnx:cpu");
    checkPairs(exact);
    checkPairs(unet);
    const pair = (d: ImageDenoiser, id: string) => d.pairs.find((p) => p.id === id)!;
    // Same method, same grid: k-diffusion and the EDM sampler agree to round-off (float64).
    expect(pair(exact, "kd/euler vs edm/euler").verdict).toBe("identical");
    // Different noise levels (Karras 0.002..80 vs diffusers' SD range): other images, same distribution.
    const grids = pair(exact, "kd/euler vs diffusers/euler");
    expect(grids.maxDiff!).toBeGreaterThan(0.1);
    expect(grids.verdict).toBe("pathwise");
    // DPM++ 2M across libraries on the same (the scheduler's Karras) sigmas: diffusers feeds the
    // model the rounded timestep, so the images differ by a little, not by a different image.
    for (const d of [exact, unet]) {
      const dpm = pair(d, "kd/dpmpp_2m@sd vs diffusers/dpmpp_2m");
      expect(dpm.family).toBe("DPM++ 2M");
      expect(dpm.maxDiff!).toBeGreaterThan(1e-9);
      expect(dpm.maxDiff!).toBeLessThan(0.05);
      expect(dpm.verdict).toBe("pathwise");
      expect(pair(d, "kd/dpmpp_2m vs diffusers/dpmpp_2m").maxDiff!).toBeGreaterThan(10 * dpm.maxDiff!);
    }
    // Every exact-denoiser sample lands on a training image (the last step is D(x; 0)).
    expect(exact.nearest.length).toBeGreaterThan(0);
    for (const n of exact.nearest) expect(n.fractionWithin).toBe(1);
    const { points } = loadDigits(FIXTURES);
    const grid = exact.impls.find((i) => i.id === "kd/heun")!.grid as number[];
    for (const dist of nearestDistances(grid, points, 64)) expect(dist).toBeLessThan(1e-3);
    // The network is further from the data than the exact denoiser, which is near the floor.
    expect(exact.frechet!.value).toBeLessThan(unet.frechet!.value);
    expect(exact.frechet!.value).toBeLessThan(3 * exact.frechet!.dataFloor);
    // The 2,000 samples; the floors are the data's own (the same for both denoisers),
    // and halves of 898 are noisier than a resample of 2,000.
    expect(exact.frechet!.n).toBe(2000);
    expect(unet.frechet!.dataFloor).toBe(exact.frechet!.dataFloor);
    expect(exact.frechet!.dataFloor).toBeGreaterThan(0);
    expect(exact.frechet!.halvesFloor).toBeGreaterThan(exact.frechet!.dataFloor);
  });

  it("error vs NFE against the probability-flow ODE falls; Heun lands on the reference's images", {
    timeout: 60_000,
  }, async () => {
    const r = await runTask("images:ode", ctx);
    if (r.kind !== "images" || !r.value?.ode) throw new Error(r.error ?? "no ode");
    const heun = r.value.ode.curves.find((c) => c.sampler.includes("heun"))!;
    const first = heun.points[0],
      last = heun.points[heun.points.length - 1];
    expect(last.rms).toBeLessThan(first.rms);
    expect(last.sameImage).toBe(1);
    expect(last.max).toBeLessThan(1e-3);
    expect(r.value.ode.n).toBe(32);
    for (const c of r.value.ode.curves) {
      for (const p of c.points) {
        // The last step ends at sigma = 0 on D(x; 0): every sample is a training image, at any NFE.
        expect(p.onTraining).toBe(1);
        expect(p.medianRms).toBeLessThanOrEqual(p.max);
      }
      // Past the first few NFE most samples sit on the reference's image (median ~1e-9) while
      // the RMS over all samples stays large: a few samples on another image carry it.
      const mid = c.points[1];
      expect(mid.medianRms).toBeLessThan(1e-6);
      expect(mid.rms).toBeGreaterThan(0.1);
      expect(mid.sameImage).toBeGreaterThan(0.5);
      expect(mid.sameImage).toBeLessThan(1);
      for (let k = 1; k < c.points.length; k++)
        expect(c.points[k].sameImage).toBeGreaterThanOrEqual(c.points[k - 1].sameImage);
    }
  });
});

describe("image statistics", () => {
  it("a difference map's gain puts its largest gap between 40% and 100% red, on a 1-2-5 ladder", () => {
    expect(diffGain(0.193)).toBe(5);
    expect(diffGain(1.63)).toBe(0.5);
    expect(diffGain(2)).toBe(0.5);
    expect(diffGain(0)).toBe(1);
    for (let k = 0; k < 200; k++) {
      const gap = 10 ** (-9 + (9.5 * k) / 200);
      const g = diffGain(gap);
      expect(g * gap, String(gap)).toBeLessThanOrEqual(1);
      expect(g * gap, String(gap)).toBeGreaterThanOrEqual(0.4);
      const mantissa = g / 10 ** Math.floor(Math.log10(g) + 1e-9);
      expect(
        [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9),
        String(g),
      ).toBe(true);
    }
  });

  it("Jacobi eigen-decomposition reconstructs a symmetric matrix", () => {
    const n = 5;
    const a = Array.from({ length: n * n }, (_, k) => {
      const i = Math.floor(k / n),
        j = k % n;
      return 1 / (1 + i + j) + (i === j ? 1 : 0);
    });
    const { values, vectors } = symmetricEigen(a, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += vectors[i * n + k] * values[k] * vectors[j * n + k];
        expect(s).toBeCloseTo(a[i * n + j], 12);
      }
  });

  it("Fréchet distance: 0 for the same rows, |shift|^2 for shifted rows; energy test separates shifted sets", () => {
    const d = 3,
      rows = 40;
    const x = Array.from({ length: rows * d }, (_, k) => Math.sin(k * 1.7) + Math.cos(k * 0.3));
    const y = x.map((v, k) => (k % d === 0 ? v + 2 : v));
    expect(Math.abs(frechetDistance(x, x, d))).toBeLessThan(1e-9);
    expect(frechetDistance(x, y, d)).toBeCloseTo(4, 8);
    expect(energyTest(x, y, d, 99).pValue).toBeLessThanOrEqual(0.01);
  });
});
