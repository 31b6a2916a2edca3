/**
 * The exact denoiser of a data set: against the recorded model calls of the digits fixtures
 * (PyTorch's evaluation), against a direct evaluation of eq. 3, and at its limits.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { DatasetError, EmpiricalDenoiser, parseDataset, type RunFixture, tensor } from "../src/index.js";
import { loadDataset, loadFixture } from "../src/node.js";
import { FIXTURES } from "./helpers.js";

const digits = loadDataset(`${FIXTURES}datasets/digits8x8.json`);
const transform = { scale: 0.125, shift: -1 };
const D = EmpiricalDenoiser.fromDataset(digits, transform);

/** eq. 3 evaluated the plain way: weights exp(-|x-y|^2 / 2s^2) normalised, in float64. */
function direct(x: ArrayLike<number>, sigma: number): Float64Array {
  const { count, dim, points } = D;
  const logits = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let d2 = 0;
    for (let d = 0; d < dim; d++) d2 += (x[d] - points[i * dim + d]) ** 2;
    logits[i] = -d2 / (2 * sigma * sigma);
  }
  const m = Math.max(...logits);
  let z = 0;
  const out = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    const w = Math.exp(logits[i] - m);
    z += w;
    for (let d = 0; d < dim; d++) out[d] += w * points[i * dim + d];
  }
  return out.map((v) => v / z);
}

describe("digits8x8 data set", () => {
  test("1,797 images of 1x8x8, pixels 0..16, labels 0..9", () => {
    expect(digits.count).toBe(1797);
    expect(digits.shape).toEqual([1, 8, 8]);
    expect(Math.min(...digits.pixels)).toBe(0);
    expect(Math.max(...digits.pixels)).toBe(16);
    expect(new Set(digits.labels).size).toBe(10);
    expect(D.dim).toBe(64);
    expect(D.count).toBe(1797);
  });

  test("a malformed data set names the field", () => {
    const doc = JSON.parse(readFileSync(`${FIXTURES}datasets/digits8x8.json`, "utf8"));
    doc.pixels = doc.pixels.slice(1);
    expect(() => parseDataset(doc, "d.json")).toThrow(DatasetError);
    expect(() => parseDataset(doc, "d.json")).toThrow(
      /d\.json: field `pixels`: expected count x prod\(shape\)/,
    );
    expect(() => parseDataset({ ...doc, format: "x" }, "d.json")).toThrow(/field `format`/);
  });
});

describe("EmpiricalDenoiser", () => {
  for (const file of [
    "reference/k-diffusion/sample_heun__digits8x8__karras12.json",
    "reference/edm/edm_sampler__digits8x8__n12.json",
  ]) {
    test(`reproduces every recorded model call of ${file.split("/").pop()} (float64)`, () => {
      const f = loadFixture(`${FIXTURES}${file}`) as RunFixture;
      let worst = 0;
      for (const call of f.model_calls) {
        const x = tensor(Float64Array.from(call.x), f.shape);
        const out = D.denoiseSync(x, new Float64Array(f.shape[0]).fill(call.sigma!));
        for (let k = 0; k < out.data.length; k++)
          worst = Math.max(worst, Math.abs(out.data[k] - call.out[k]));
      }
      expect(f.model_calls.length).toBeGreaterThan(10);
      expect(worst).toBeLessThan(1e-12);
    });
  }

  test("agrees with the direct formula for every block size and sigma; float32 rounds once", () => {
    const rows = 37; // two full blocks of 16 and a partial one of a full and a partial 4-row tile
    const x = new Float64Array(rows * 64);
    for (let k = 0; k < x.length; k++) x[k] = Math.sin(k * 0.37) * 1.3;
    const sigmas = Float64Array.from({ length: rows }, (_, r) => [0.05, 0.3, 1, 3, 20][r % 5]);
    const got = D.denoiseSync(tensor(x, [rows, 1, 8, 8]), sigmas);
    const got32 = D.denoiseSync(tensor(Float32Array.from(x), [rows, 1, 8, 8]), sigmas);
    for (let r = 0; r < rows; r++) {
      const want = direct(x.subarray(r * 64, r * 64 + 64), sigmas[r]);
      for (let d = 0; d < 64; d++) expect(Math.abs(got.data[r * 64 + d] - want[d])).toBeLessThan(1e-12);
    }
    expect(got32.data).toBeInstanceOf(Float32Array);
    const x32 = Float32Array.from(x);
    const ref32 = D.denoiseSync(tensor(Float64Array.from(x32), [rows, 1, 8, 8]), sigmas);
    expect(Array.from(got32.data)).toEqual(Array.from(ref32.data, Math.fround));
  });

  test("the same bits as a plain triple loop in the documented order, for any dim and batch", async () => {
    const { fastExp } = await import("../src/fast-exp.js");
    /** Distances summed over d in order, z and the weighted sums over the points in order. */
    function plain(E: EmpiricalDenoiser, x: Float64Array, sigma: number): Float64Array {
      const { count, dim, points } = E;
      const d2 = new Float64Array(count);
      let best = 0;
      for (let i = 0; i < count; i++) {
        for (let d = 0; d < dim; d++) d2[i] += (x[d] - points[i * dim + d]) ** 2;
        if (d2[i] < d2[best]) best = i;
      }
      let z = 0;
      const inv = 1 / (2 * sigma * sigma);
      const w = d2.map((v) => fastExp(-(v - d2[best]) * inv));
      for (let i = 0; i < count; i++) z += w[i];
      const out = new Float64Array(dim);
      for (let i = 0; i < count; i++)
        for (let d = 0; d < dim; d++) out[d] += (w[i] / z) * points[i * dim + d];
      return out;
    }
    for (const [dim, count, rows] of [
      [64, 1797, 21],
      [5, 43, 11],
      [3, 2, 6],
    ]) {
      const E =
        dim === 64
          ? D
          : new EmpiricalDenoiser(
              Float64Array.from({ length: dim * count }, (_, k) => Math.cos(k * 1.3)),
              dim,
            );
      const x = Float64Array.from({ length: rows * dim }, (_, k) => Math.sin(k * 0.71) * 1.1);
      const sigmas = Float64Array.from({ length: rows }, (_, r) => [0.01, 0.1, 0.5, 2, 40][r % 5]);
      const got = E.denoiseSync(tensor(x, [rows, dim]), sigmas);
      for (let r = 0; r < rows; r++) {
        const want = plain(E, x.subarray(r * dim, (r + 1) * dim), sigmas[r]);
        expect(Array.from(got.data.subarray(r * dim, (r + 1) * dim))).toEqual(Array.from(want));
      }
    }
  });

  test("limits: sigma 0 is the nearest image, a huge sigma the data mean; out is reused", () => {
    const i = 1234;
    const y = D.points.slice(i * 64, i * 64 + 64);
    const noisy = y.map((v, d) => v + 0.01 * Math.cos(d));
    const out = tensor(new Float64Array(64), [1, 1, 8, 8]);
    const r = D.denoiseSync(tensor(noisy, [1, 1, 8, 8]), [0], out);
    expect(r).toBe(out);
    expect(Array.from(r.data)).toEqual(Array.from(y));
    const mean = new Float64Array(64);
    for (let k = 0; k < D.count; k++) for (let d = 0; d < 64; d++) mean[d] += D.points[k * 64 + d] / D.count;
    const far = D.denoiseSync(tensor(new Float64Array(64), [1, 1, 8, 8]), [1e6]);
    for (let d = 0; d < 64; d++) expect(far.data[d]).toBeCloseTo(mean[d], 9);
  });

  test("bad input is refused", () => {
    const x = tensor(new Float64Array(64), [1, 1, 8, 8]);
    expect(() => D.denoiseSync(x, [-1])).toThrow(/sigma\[0\] must be finite and >= 0/);
    expect(() => D.denoiseSync(x, [NaN])).toThrow(/sigma\[0\]/);
    expect(() => D.denoiseSync(x, [1, 2])).toThrow(/2 sigmas for 1 rows/);
    expect(() => D.denoiseSync(tensor(new Float64Array(60), [1, 60]), [1])).toThrow(/not a batch of points/);
    expect(() => new EmpiricalDenoiser([1, 2, 3], 2)).toThrow(/whole number/);
    expect(() => new EmpiricalDenoiser([1, NaN], 2)).toThrow(/holds NaN/);
  });
});

describe("fastExp", () => {
  test("within 1 ulp of the correctly rounded exp over the whole range; limits exact", async () => {
    const { fastExp } = await import("../src/fast-exp.js");
    const { libm } = await import("../src/index.js");
    const ulp = (v: number) => {
      const a = Math.abs(v);
      return a === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(a)) - 52);
    };
    let worst = 0;
    let exact = 0;
    const n = 20000;
    for (let k = 0; k < n; k++) {
      const x = -745 + (1454.7 * k) / n + Math.sin(k) * 1e-3;
      const want = libm.exp(x);
      const got = fastExp(x);
      if (got === want) exact++;
      worst = Math.max(worst, Math.abs(got - want) / Math.max(ulp(want), Number.MIN_VALUE));
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(exact / n).toBeGreaterThan(0.9);
    expect(fastExp(0)).toBe(1);
    expect(Math.abs(fastExp(1) - Math.E)).toBeLessThanOrEqual(ulp(Math.E));
    expect(fastExp(710)).toBe(Infinity);
    expect(fastExp(-746)).toBe(0);
    expect(fastExp(-Infinity)).toBe(0);
    expect(Number.isNaN(fastExp(NaN))).toBe(true);
    expect(fastExp(-740)).toBe(libm.exp(-740)); // subnormal
  });
});
