import { describe, expect, test } from "vitest";
import {
  allFinite,
  axpby,
  axpy,
  copyInto,
  divScalar,
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

describe("divScalar", () => {
  test("a true division, not a multiplication by the reciprocal; float32 rounds the scalar first", () => {
    const f = Math.fround;
    const t32 = (v: number[]) => tensor(Float32Array.from(v), [v.length]);
    expect(Array.from(divScalar(zeros([3]), tensor([1, 2, 3], [3]), 3).data)).toEqual([1 / 3, 2 / 3, 1]);
    const x = t32([1.1, 2.3, -3.7]);
    expect(Array.from(divScalar(zeros([3], "float32"), x, 0.1).data)).toEqual(
      [0, 1, 2].map((k) => f(x.data[k] / f(0.1))),
    );
    let differs = 0;
    for (let k = 1; k < 200; k++) if (f(k / 3) !== f(k * f(1 / 3))) differs++;
    expect(Array.from(divScalar(zeros([2], "float32"), t32([1, 2]), 3).data)).toEqual([f(1 / 3), f(2 / 3)]);
    expect(differs).toBeGreaterThan(0);
  });

  test("size mismatches name the kernel", () => {
    expect(() => divScalar(zeros([2]), tensor([1, 2, 3], [3]), 2)).toThrow(
      /divScalar: operand of 3 elements does not match out of 2 elements/,
    );
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
