/**
 * Toy datasets: each sampler's moments against its closed-form sigma_data and mean, the
 * mixtures against the fixtures' sidecars, shape-specific checks, and the seeded generator.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  bimodal1d,
  checkerboard,
  resolveToyDataset,
  ring8,
  swissRoll,
  toyDatasets,
  ToyRng,
  twoMoons,
  type ToyDataset,
} from "../src/training/index.js";

const sidecar = (
  name: string,
): { sigma_data: number; trained_on: { weights: number[]; means: number[][]; stds: number[] } } =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../../fixtures/models/${name}.json`, import.meta.url)), "utf8"),
  );

function moments(
  ds: ToyDataset,
  n: number,
  seed: number,
): { mean: number[]; perCoordStd: number; data: Float64Array } {
  const data = new Float64Array(n * ds.dim);
  ds.sampleInto(new ToyRng(seed), data, n);
  const mean = new Array(ds.dim).fill(0);
  for (let i = 0; i < n; i++) for (let d = 0; d < ds.dim; d++) mean[d] += data[i * ds.dim + d] / n;
  let v = 0;
  for (let i = 0; i < n; i++) for (let d = 0; d < ds.dim; d++) v += (data[i * ds.dim + d] - mean[d]) ** 2;
  return { mean, perCoordStd: Math.sqrt(v / (n * ds.dim)), data };
}

describe("toy datasets", () => {
  it("the mixtures are the fixtures' gmm1d-bimodal and gmm2d-ring8, with their sigma_data", () => {
    const b = sidecar("mlp1d-bimodal-edm");
    expect(bimodal1d().gmm).toEqual(b.trained_on); // {kind: "gmm", dim: 1, weights, means, stds}
    expect(bimodal1d().sigmaData).toBeCloseTo(b.sigma_data, 14);
    const r = sidecar("mlp2d-ring8-edm");
    const ring = ring8();
    expect(ring.name).toBe("gmm2d-ring8");
    ring.gmm!.means.forEach((m, k) => {
      expect(m[0]).toBeCloseTo(r.trained_on.means[k][0], 15);
      expect(m[1]).toBeCloseTo(r.trained_on.means[k][1], 15);
    });
    expect(ring.gmm!.stds).toEqual(r.trained_on.stds);
    expect(ring.sigmaData).toBeCloseTo(r.sigma_data, 14);
  });

  it.each(Object.keys(toyDatasets))(
    "%s: Monte-Carlo mean and per-coordinate std match the closed forms",
    (name) => {
      const ds = resolveToyDataset(name as keyof typeof toyDatasets);
      expect(ds.name).toBe(name);
      const n = 200_000;
      const m = moments(ds, n, 17);
      for (let d = 0; d < ds.dim; d++)
        expect(Math.abs(m.mean[d] - ds.mean[d]), `mean[${d}]`).toBeLessThan(
          (5 * ds.sigmaData) / Math.sqrt(n),
        );
      expect(Math.abs(m.perCoordStd / ds.sigmaData - 1)).toBeLessThan(0.006);
    },
  );

  it("documents the closed-form sigma_data values", () => {
    expect(bimodal1d().sigmaData).toBeCloseTo(1.04403, 5);
    expect(ring8().sigmaData).toBeCloseTo(1.42215, 5);
    expect(twoMoons().sigmaData).toBeCloseTo(0.71211, 5);
    expect(swissRoll().sigmaData).toBeCloseTo(1.35874, 5);
    expect(checkerboard().sigmaData).toBeCloseTo(4 / Math.sqrt(12), 14);
    // parameters move it as the formulas say
    expect(checkerboard({ cells: 6, cell: 0.5 }).sigmaData).toBeCloseTo(3 / Math.sqrt(12), 14);
    expect(twoMoons({ noise: 0, scale: 2 }).sigmaData).toBeCloseTo(
      2 * Math.sqrt((21 / 16 - 1 / Math.PI) / 2),
      14,
    );
  });

  it("checkerboard points lie on same-parity cells only, all of them visited", () => {
    const { data } = moments(checkerboard(), 20_000, 2);
    const visits = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const ci = Math.floor(data[2 * i] + 2),
        cj = Math.floor(data[2 * i + 1] + 2);
      expect((ci + cj) % 2).toBe(0);
      visits.set(`${ci},${cj}`, (visits.get(`${ci},${cj}`) ?? 0) + 1);
    }
    expect(visits.size).toBe(8);
    for (const count of visits.values()) expect(Math.abs(count - 2500)).toBeLessThan(250);
  });

  it("noise-free moons lie on their two unit half circles; the swiss roll on its spiral", () => {
    const { data: moons } = moments(twoMoons({ noise: 0 }), 2000, 4);
    for (let i = 0; i < 2000; i++) {
      const x = moons[2 * i] + 0.5,
        y = moons[2 * i + 1] + 0.25;
      const upper = Math.abs(Math.hypot(x, y) - 1);
      const lower = Math.abs(Math.hypot(x - 1, y - 0.5) - 1);
      expect(Math.min(upper, lower)).toBeLessThan(1e-12);
    }
    const { data: roll } = moments(swissRoll({ noise: 0, scale: 1 }), 2000, 5);
    for (let i = 0; i < 2000; i++) {
      const x = roll[2 * i] + 2,
        y = roll[2 * i + 1] + 2 / (3 * Math.PI);
      const t = Math.hypot(x, y); // radius equals the angle parameter t
      expect(t).toBeGreaterThanOrEqual(1.5 * Math.PI - 1e-9);
      expect(t).toBeLessThanOrEqual(4.5 * Math.PI + 1e-9);
      expect(Math.abs(x - t * Math.cos(t)) + Math.abs(y - t * Math.sin(t))).toBeLessThan(1e-9);
    }
  });

  it("rejects bad parameters and short output buffers", () => {
    expect(() => checkerboard({ cells: 3 })).toThrow(/cells must be an even integer >= 2, got 3/);
    expect(() => twoMoons({ noise: -1 })).toThrow(/twoMoons: noise must be a non-negative number/);
    expect(() => ring8().sampleInto(new ToyRng(0), new Float64Array(3), 2)).toThrow(/needs n\*dim = 4/);
    expect(() => resolveToyDataset("spiral" as "checkerboard")).toThrow(/unknown dataset "spiral"/);
  });
});

describe("ToyRng", () => {
  it("is deterministic per seed and distinct across seeds", () => {
    const a = new ToyRng(42),
      b = new ToyRng(42),
      c = new ToyRng(43);
    const xa = Array.from({ length: 50 }, () => a.nextUint32());
    expect(Array.from({ length: 50 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 50 }, () => c.nextUint32())).not.toEqual(xa);
    expect(new ToyRng(2 ** 40).uniform()).not.toBe(new ToyRng(0).uniform());
    expect(() => new ToyRng(NaN)).toThrow(/seed must be a finite number/);
  });

  it("gives uniforms in [0, 1) and standard normals with the right moments", () => {
    const rng = new ToyRng(1);
    const n = 200_000;
    let min = 1,
      max = 0,
      s1 = 0,
      s2 = 0,
      s4 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      min = Math.min(min, u);
      max = Math.max(max, u);
      const z = rng.normal();
      s1 += z;
      s2 += z * z;
      s4 += z ** 4;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(s1 / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.015);
    expect(Math.abs(s4 / n - 3)).toBeLessThan(0.08);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.int(3)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });
});

describe("ToyRng.normalInto", () => {
  it("continues exactly the stream of normal() calls, spare included", () => {
    for (const [skip, len] of [
      [0, 8],
      [1, 7],
      [3, 1],
      [2, 0],
      [5, 11],
    ]) {
      const a = new ToyRng(9),
        b = new ToyRng(9);
      for (let i = 0; i < skip; i++) expect(b.normal()).toBe(a.normal());
      const bulk = a.normalInto(new Float64Array(len));
      expect(Array.from(bulk)).toEqual(Array.from({ length: len }, () => b.normal()));
      expect(a.normal()).toBe(b.normal());
      expect(a.uniform()).toBe(b.uniform());
    }
  });
});
