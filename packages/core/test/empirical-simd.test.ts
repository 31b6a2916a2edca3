/**
 * EmpiricalDenoiser's two passes in WebAssembly SIMD (empirical-simd.ts) against its JS passes,
 * bit for bit: random data sets of several shapes (odd point counts and dimensions, so the padded
 * tiles of both passes are exercised), float32 and float64 inputs, batches that end in partial
 * blocks and partial register tiles, and sigmas from 0 (nearest point) through tiny (one point
 * weighs everything, most weights underflow) to large (every point weighs something).
 */
import { describe, expect, test } from "vitest";
import { EmpiricalSimd } from "../src/denoisers/empirical-simd.js";
import { EmpiricalDenoiser, fastExp, tensor } from "../src/index.js";
import { loadDataset } from "../src/node.js";
import { FIXTURES } from "./helpers.js";

/** A small deterministic generator (xorshift32) for uniform draws in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Indices where a and b differ in their bits (Object.is: -0 and +0 differ). */
function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const bad: number[] = [];
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) bad.push(k);
  return bad;
}

function batch(
  rand: () => number,
  rows: number,
  dim: number,
  points: Float64Array,
  f32: boolean,
): { x: Float32Array | Float64Array; sigma: Float64Array } {
  const x = f32 ? new Float32Array(rows * dim) : new Float64Array(rows * dim);
  const count = points.length / dim;
  const sigma = new Float64Array(rows);
  const scales = [0, 1e-3, 0.02, 0.1, 0.5, 2, 10, 80];
  for (let r = 0; r < rows; r++) {
    const s = scales[Math.floor(rand() * scales.length)];
    sigma[r] = s * (0.5 + rand());
    // x = a data point plus noise of about sigma, or anywhere
    const i = Math.floor(rand() * count);
    for (let d = 0; d < dim; d++)
      x[r * dim + d] = rand() < 0.8 ? points[i * dim + d] + sigma[r] * (rand() * 2 - 1) : rand() * 4 - 2;
  }
  return { x, sigma };
}

describe("EmpiricalDenoiser: SIMD passes = JS passes, bit for bit", () => {
  const shapes: [number, number][] = [
    [1, 1],
    [7, 3],
    [13, 5],
    [50, 9],
    [301, 64],
  ];
  for (const [count, dim] of shapes)
    for (const f32 of [false, true])
      test(`${count} points of ${dim}, ${f32 ? "float32" : "float64"} input`, () => {
        const rand = rng(count * 131 + dim * 7 + (f32 ? 1 : 0));
        const points = Float64Array.from(
          { length: count * dim },
          () => (rand() * 2 - 1) * (rand() < 0.1 ? 30 : 1),
        );
        const simd = new EmpiricalDenoiser(points, dim);
        const js = new EmpiricalDenoiser(points, dim, { simd: false });
        expect(simd.usesSimd()).toBe(true);
        expect(js.usesSimd()).toBe(false);
        for (const rows of [1, 2, 3, 4, 5, 15, 16, 17, 33, 70]) {
          const { x, sigma } = batch(rand, rows, dim, points, f32);
          const shape = [rows, dim];
          const a = simd.denoiseSync(tensor(x, shape), sigma).data;
          const b = js.denoiseSync(tensor(x, shape), sigma).data;
          expect(a.constructor).toBe(x.constructor);
          expect(mismatches(a, b)).toEqual([]);
        }
      });

  test("the digits (1,797 x 64), both dtypes, batches 1 to 100", () => {
    const digits = loadDataset(`${FIXTURES}datasets/digits8x8.json`);
    const transform = { scale: 0.125, shift: -1 };
    const simd = EmpiricalDenoiser.fromDataset(digits, transform);
    const js = EmpiricalDenoiser.fromDataset(digits, transform, { simd: false });
    const rand = rng(2026);
    for (const f32 of [false, true])
      for (const rows of [1, 6, 16, 29, 100]) {
        const { x, sigma } = batch(rand, rows, 64, js.points, f32);
        const a = simd.denoiseSync(tensor(x, [rows, 1, 8, 8]), sigma).data;
        const b = js.denoiseSync(tensor(x, [rows, 1, 8, 8]), sigma).data;
        expect(mismatches(a, b)).toEqual([]);
      }
  });
});

describe("the SIMD exponential of the softmax = fastExp, bit for bit", () => {
  test("arguments over the whole range: normal, subnormal and underflowing results, ±0, NaN, -Infinity", () => {
    const count = 4001;
    const simd = EmpiricalSimd.create(new Float64Array(count), count, 1, 16) as EmpiricalSimd;
    expect(simd).not.toBeNull();
    const rand = rng(7);
    // distances d with dmin and inv chosen so x = -(d - dmin) * inv covers [-760, 0]
    const special = [
      0,
      -0,
      1e-300,
      5e-324,
      NaN,
      Infinity,
      708.39,
      708.4,
      709.08,
      745.13,
      745.1332191019412,
      745.14,
    ];
    for (const [dmin, inv] of [
      [0, 1],
      [0.37, 3.1],
      [2.5, 1e-3],
      [1e-12, 2e6],
    ]) {
      const d = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const target = i < special.length ? special[i] : rand() < 0.3 ? 700 + rand() * 60 : rand() * 760;
        d[i] = target / inv + dmin;
        if (i < special.length && (Number.isNaN(target) || !Number.isFinite(target) || target === 0))
          d[i] = Object.is(target, -0) ? dmin : target;
      }
      simd.weights.set(d, 3 * simd.stride);
      simd.exp(3, dmin, inv);
      const got = simd.weights.subarray(3 * simd.stride, 3 * simd.stride + count);
      const want = d.map((v) => fastExp(-(v - dmin) * inv));
      const bad = mismatches(got, want).filter((k) => !(Number.isNaN(got[k]) && Number.isNaN(want[k])));
      expect(bad.map((k) => [d[k], got[k], want[k]])).toEqual([]);
      // the subnormal and the underflow branches were both taken
      expect(want.some((v) => v > 0 && v < 2 ** -1022)).toBe(true);
      expect(want.filter((v) => v === 0).length).toBeGreaterThan(0);
    }
  });
});

describe("the SIMD argmin of the softmax = the sequential scan", () => {
  test("ties across lanes, NaN (first or later), infinities, odd and even counts", () => {
    const rand = rng(11);
    for (const count of [1, 2, 3, 8, 9, 31]) {
      const simd = EmpiricalSimd.create(new Float64Array(count), count, 1, 16) as EmpiricalSimd;
      for (let trial = 0; trial < 300; trial++) {
        const vals = [0, 1, 2, 2, 3, Infinity, NaN, -0];
        const row = Float64Array.from({ length: count }, () => vals[Math.floor(rand() * vals.length)]);
        simd.weights.set(row, 5 * simd.stride);
        let best = 0;
        for (let i = 1; i < count; i++) if (row[i] < row[best]) best = i;
        expect([count, Array.from(row), simd.argmin(5)]).toEqual([count, Array.from(row), best]);
      }
    }
  });
});
