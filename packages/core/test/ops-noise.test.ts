import { describe, expect, test } from "vitest";
import {
  addScaled2,
  addScaled3,
  addScaledDiff,
  addScaledDiffDiv,
  allFinite,
  axpby,
  axpy,
  copyInto,
  divScalar,
  eulerStep,
  heunCorrector,
  lerp,
  maxAbsDiff,
  NoiseReplayError,
  ReplayNoise,
  scale,
  scaleRows,
  subDiv,
  tensor,
  zeros,
} from "../src/index.js";

describe("kernels", () => {
  test("float64 kernels are the plain formulas", () => {
    const x = tensor([1, 2, 3, 4], [2, 2]),
      y = tensor([0.5, -1, 2, 8], [2, 2]);
    const out = zeros([2, 2]);
    expect(Array.from(axpy(out, 0.1, x, y).data)).toEqual([
      0.5 + 0.1 * 1,
      -1 + 0.1 * 2,
      2 + 0.1 * 3,
      8 + 0.1 * 4,
    ]);
    expect(Array.from(axpby(out, 3, x, -2, y).data)).toEqual([3 - 1, 6 + 2, 9 - 4, 12 - 16]);
    expect(Array.from(subDiv(out, x, y, 0.7).data)).toEqual([0.5 / 0.7, 3 / 0.7, 1 / 0.7, -4 / 0.7]);
    expect(Array.from(scaleRows(out, x, [2, -1]).data)).toEqual([2, 4, -3, -4]);
    expect(Array.from(scale(out, x, 0.5).data)).toEqual([0.5, 1, 1.5, 2]);
    expect(Array.from(lerp(out, x, y, 0.75).data)).toEqual([
      0.5 - (0.5 - 1) * 0.25,
      -1 - -3 * 0.25,
      2 - -1 * 0.25,
      8 - 4 * 0.25,
    ]);
  });

  test("float32 kernels round each torch op: y + fround(a*x), not fround(y + a*x)", () => {
    // pick values where single rounding and double rounding differ
    let found = 0;
    for (let k = 1; k < 500 && found < 5; k++) {
      const a = 1 / (3 * k),
        xv = Math.fround(1 + k / 7),
        yv = Math.fround(k * 1.37);
      const fused = Math.fround(yv + a * xv);
      const torch = Math.fround(yv + Math.fround(Math.fround(a) * xv));
      const out = zeros([1], "float32");
      axpy(out, a, tensor(new Float32Array([xv]), [1]), tensor(new Float32Array([yv]), [1]));
      expect(out.data[0]).toBe(torch);
      if (torch !== fused) found++;
    }
    expect(found).toBeGreaterThan(0);
  });

  test("aliasing out with an input is allowed; size mismatches are refused", () => {
    const x = tensor([1, 2], [2]);
    axpy(x, 2, x, x);
    expect(Array.from(x.data)).toEqual([3, 6]);
    expect(() => copyInto(zeros([3]), x)).toThrow(/copyInto: operand of 2 elements does not match out of 3/);
  });

  test("maxAbsDiff propagates NaN", () => {
    expect(maxAbsDiff([1, 2], [1, 2.5])).toBe(0.5);
    expect(maxAbsDiff([1, NaN], [1, 2])).toBeNaN();
  });

  test("allFinite: typed arrays of both precisions and plain arrays", () => {
    for (const make of [
      (v: number[]) => Float64Array.from(v),
      (v: number[]) => Float32Array.from(v),
      (v: number[]) => v,
    ]) {
      expect(allFinite(make([1, -2, 0, 3e38]))).toBe(true);
      expect(allFinite(make([1, NaN]))).toBe(false);
      expect(allFinite(make([Infinity, 1]))).toBe(false);
      expect(allFinite(make([1, -Infinity]))).toBe(false);
      expect(allFinite(make([]))).toBe(true);
    }
  });
});

describe("sampler step kernels", () => {
  const x64 = () => tensor([1, 2, 3], [3]);
  const a64 = tensor([0.5, -1, 2.25], [3]);
  const b64 = tensor([0.1, 0.2, -0.3], [3]);

  test("float64: the plain formulas, in the original's order", () => {
    const out = zeros([3]);
    const [x, n] = [x64().data, a64.data];
    expect(Array.from(divScalar(out, x64(), 3).data)).toEqual([1 / 3, 2 / 3, 1]);
    expect(Array.from(addScaled2(out, x64(), a64, 0.3, 0.7).data)).toEqual(
      [0, 1, 2].map((k) => x[k] + n[k] * 0.3 * 0.7),
    );
    expect(Array.from(addScaled3(out, x64(), a64, 0.3, 0.7, 1.1).data)).toEqual(
      [0, 1, 2].map((k) => x[k] + n[k] * 0.3 * 0.7 * 1.1),
    );
    expect(Array.from(addScaledDiff(out, x64(), 0.3, a64, b64).data)).toEqual(
      [0, 1, 2].map((k) => x[k] + 0.3 * (n[k] - b64.data[k])),
    );
    expect(Array.from(addScaledDiffDiv(out, x64(), 0.3, a64, b64, 0.7).data)).toEqual(
      [0, 1, 2].map((k) => x[k] + 0.3 * ((n[k] - b64.data[k]) / 0.7)),
    );
    const e = eulerStep(x64(), a64, 1.5, -0.25);
    expect(Array.from(e.data)).toEqual([0, 1, 2].map((k) => x[k] + ((x[k] - n[k]) / 1.5) * -0.25));
    const h = heunCorrector(x64(), b64, a64, tensor([0, 0, 1], [3]), 0.5, -0.25);
    expect(Array.from(h.data)).toEqual(
      [0, 1, 2].map((k) => x[k] + ((b64.data[k] + (n[k] - [0, 0, 1][k]) / 0.5) / 2) * -0.25),
    );
  });

  test("float32: scalars rounded first, each torch op rounded", () => {
    const f = Math.fround;
    const t32 = (v: number[]) => tensor(Float32Array.from(v), [v.length]);
    const x = t32([1.1, 2.3, -3.7]),
      n = t32([0.51, -1.3, 2.9]),
      d = t32([0.12, 0.27, -0.33]);
    const out = zeros([3], "float32");
    const xs = x.data,
      ns = n.data,
      ds = d.data;
    const s1 = 0.3,
      s2 = 0.7,
      s3 = 1.1;
    expect(Array.from(divScalar(out, x, 0.1).data)).toEqual([0, 1, 2].map((k) => f(xs[k] / f(0.1))));
    expect(Array.from(addScaled2(out, x, n, s1, s2).data)).toEqual(
      [0, 1, 2].map((k) => f(xs[k] + f(f(ns[k] * f(s1)) * f(s2)))),
    );
    expect(Array.from(addScaled3(out, x, n, s1, s2, s3).data)).toEqual(
      [0, 1, 2].map((k) => f(xs[k] + f(f(f(ns[k] * f(s1)) * f(s2)) * f(s3)))),
    );
    expect(Array.from(addScaledDiff(out, x, s1, n, d).data)).toEqual(
      [0, 1, 2].map((k) => f(xs[k] + f(f(s1) * f(ns[k] - ds[k])))),
    );
    expect(Array.from(addScaledDiffDiv(out, x, s1, n, d, s2).data)).toEqual(
      [0, 1, 2].map((k) => f(xs[k] + f(f(s1) * f(f(ns[k] - ds[k]) / f(s2))))),
    );
    const e = eulerStep(t32([1.1, 2.3, -3.7]), n, s3, -s1);
    expect(Array.from(e.data)).toEqual(
      [0, 1, 2].map((k) => f(xs[k] + f(f(f(xs[k] - ns[k]) / f(s3)) * f(-s1)))),
    );
    const h = heunCorrector(t32([1.1, 2.3, -3.7]), d, n, x, s2, -s1);
    expect(Array.from(h.data)).toEqual(
      [0, 1, 2].map((k) => f(xs[k] + f(f(f(ds[k] + f(f(ns[k] - xs[k]) / f(s2))) / 2) * f(-s1)))),
    );
    // divScalar is a true division, not a multiplication by the reciprocal
    let differs = 0;
    for (let k = 1; k < 200; k++) if (f(k / 3) !== f(k * f(1 / 3))) differs++;
    expect(Array.from(divScalar(zeros([2], "float32"), t32([1, 2]), 3).data)).toEqual([f(1 / 3), f(2 / 3)]);
    expect(differs).toBeGreaterThan(0);
  });

  test("size mismatches name the kernel", () => {
    expect(() => divScalar(zeros([2]), x64(), 2)).toThrow(
      /divScalar: operand of 3 elements does not match out of 2 elements/,
    );
    expect(() => eulerStep(x64(), zeros([2]), 1, 1)).toThrow(/eulerStep: operand of 2 elements/);
    expect(() => heunCorrector(x64(), x64(), x64(), zeros([1]), 1, 1)).toThrow(/heunCorrector/);
  });
});

describe("ReplayNoise", () => {
  test("returns the draws in order and counts them", () => {
    const src = new ReplayNoise([
      [1, 2],
      [3, 4],
    ]);
    const out = zeros([2]);
    expect(Array.from(src.randn(out).data)).toEqual([1, 2]);
    expect(Array.from(src.randn(out, { sigma: 2, sigmaNext: 1 }).data)).toEqual([3, 4]);
    expect(src.consumed).toBe(2);
    expect(src.requests[1]).toEqual({ sigma: 2, sigmaNext: 1 });
    src.assertExhausted();
  });
  test("too many, too few, or the wrong size is an error naming the draw", () => {
    const src = new ReplayNoise([[1, 2]], "fixture x");
    expect(() => src.randn(zeros([3]))).toThrow(/fixture x: draw 1 has 2 values but the sampler asked for 3/);
    expect(() => src.assertExhausted()).toThrow(/consumed 0 draws but 1 were recorded/);
    src.randn(zeros([2]));
    expect(() => src.randn(zeros([2]))).toThrow(NoiseReplayError);
    expect(() => src.randn(zeros([2]))).toThrow(/asked for draw 2 but only 1 were recorded/);
  });
  test("float32 buffers receive the rounded draws", () => {
    const src = new ReplayNoise([[0.1]]);
    expect(src.randn(zeros([1], "float32")).data[0]).toBe(Math.fround(0.1));
  });
});
