import { tensor, zeros } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import {
  addScaled2,
  addScaled3,
  addScaledDiff,
  addScaledDiffDiv,
  dpmpp3mCorrection,
  eulerStep,
  heunCorrector,
} from "../src/kernels.js";

describe("sampler step kernels", () => {
  const x64 = () => tensor([1, 2, 3], [3]);
  const a64 = tensor([0.5, -1, 2.25], [3]);
  const b64 = tensor([0.1, 0.2, -0.3], [3]);

  test("float64: the plain formulas, in the original's order", () => {
    const out = zeros([3]);
    const [x, n] = [x64().data, a64.data];
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
  });

  test("size mismatches name the kernel", () => {
    expect(() => eulerStep(x64(), zeros([2]), 1, 1)).toThrow(/eulerStep: operand of 2 elements/);
    expect(() => heunCorrector(x64(), x64(), x64(), zeros([1]), 1, 1)).toThrow(/heunCorrector/);
  });
});

describe("dpmpp3mCorrection", () => {
  test("float64: d1 = d1_0 + q r0 / rsum, d2 = q / rsum, x + phi2 d1 - phi3 d2", () => {
    const x = tensor([1, 2], [2]),
      p = tensor([0.5, -1], [2]),
      q = tensor([0.25, 0.75], [2]);
    const want = [0, 1].map((k) => {
      const diff = p.data[k] - q.data[k];
      return x.data[k] + 0.3 * (p.data[k] + (diff * 0.4) / 0.9) - 0.2 * (diff / 0.9);
    });
    expect(Array.from(dpmpp3mCorrection(x, p, q, 0.4, 0.9, 0.3, 0.2).data)).toEqual(want);
  });
});
