/**
 * The fused step kernels against the chains of single-op kernels they replace: bit-identical
 * results in float32 and float64, with aliasing as the samplers use it.
 */
import { axpby, axpy, type DType, sub, subDiv, type Tensor, tensor } from "@edmkit/core";
import { epsStep, errorNorm, stageStep } from "../src/dpm-kernels.js";
import { describe, expect, test } from "vitest";
import {
  addScaled2,
  addScaled3,
  addScaledDiff,
  addScaledDiffDiv,
  axpbyNoise,
  combineStep,
  derivStep,
  dpmpp3mCorrection,
  heunCorrector,
  heunPredict,
  heunStep,
  lmsStep,
  lmsUpdate,
  sde2mStep,
  sde3mStep,
} from "../src/kernels.js";

const N = 257;
let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
function rnd(dtype: DType, scale = 3): Tensor {
  const a = dtype === "float32" ? new Float32Array(N) : new Float64Array(N);
  for (let k = 0; k < N; k++) a[k] = (rand() - 0.5) * scale * (k % 7 === 0 ? 1e3 : 1);
  return tensor(a, [N]);
}
const copy = (t: Tensor): Tensor =>
  tensor(t.data instanceof Float32Array ? Float32Array.from(t.data) : Float64Array.from(t.data), [N]);
const bits = (t: Tensor) => Array.from(t.data);
const sc = () => (rand() - 0.3) * 2.7;

describe.each(["float32", "float64"] as const)("fused kernels, %s", (dt) => {
  test("derivStep = toD + axpy (+ addScaled2)", () => {
    for (const noisy of [false, true]) {
      const x = rnd(dt),
        a = rnd(dt),
        b = rnd(dt),
        z = rnd(dt);
      const [s, h, na, nb] = [Math.abs(sc()) + 0.1, sc(), sc(), sc()];
      const want = copy(x),
        d = copy(x);
      subDiv(d, a, b, s);
      axpy(want, h, d, want);
      if (noisy) addScaled2(want, want, z, na, nb);
      const got = copy(x);
      derivStep(got, got, a, b, s, h, noisy ? z : null, na, nb);
      expect(bits(got)).toEqual(bits(want));
      // in place with a = y = x (the Euler step)
      const w2 = copy(x),
        d2 = copy(x);
      subDiv(d2, w2, b, s);
      axpy(w2, h, d2, w2);
      const g2 = copy(x);
      derivStep(g2, g2, g2, b, s, h);
      expect(bits(g2)).toEqual(bits(w2));
    }
  });

  test("heunPredict = toD + predictor, heunStep = heunCorrector", () => {
    const x = rnd(dt),
      den = rnd(dt),
      den2 = rnd(dt);
    const [sh, sn, h] = [Math.abs(sc()) + 0.5, Math.abs(sc()) + 0.1, sc()];
    const d = copy(x),
      x2 = copy(x);
    subDiv(d, x, den, sh);
    axpy(x2, h, d, x);
    const want = heunCorrector(copy(x), d, x2, den2, sn, h);
    const x2b = copy(x),
      db = copy(x);
    heunPredict(x2b, db, x, den, sh, h);
    expect(bits(db)).toEqual(bits(d));
    expect(bits(x2b)).toEqual(bits(x2));
    const got = heunStep(copy(x), db, x2b, den2, sn, h);
    expect(bits(got)).toEqual(bits(want));
  });

  test("axpbyNoise and combineStep = axpby chains + addScaled2", () => {
    for (const noisy of [false, true]) {
      const x = rnd(dt),
        p = rnd(dt),
        q = rnd(dt),
        z = rnd(dt);
      const [r, e, c1, c2, na, nb] = [sc(), sc(), sc(), sc(), sc(), sc()];
      const w1 = axpby(copy(x), r, x, e, p);
      if (noisy) addScaled2(w1, w1, z, na, nb);
      expect(bits(axpbyNoise(copy(x), r, x, e, p, noisy ? z : null, na, nb))).toEqual(bits(w1));
      const dd = axpby(copy(x), c1, p, c2, q);
      const w2 = axpby(copy(x), r, x, e, dd);
      if (noisy) addScaled2(w2, w2, z, na, nb);
      expect(bits(combineStep(copy(x), r, e, c1, p, c2, q, noisy ? z : null, na, nb))).toEqual(bits(w2));
    }
  });

  test("lmsStep = toD + lmsUpdate, orders 1 to 6", () => {
    for (let order = 1; order <= 6; order++) {
      const x = rnd(dt),
        den = rnd(dt);
      const hist = Array.from({ length: order }, () => rnd(dt));
      const coeffs = Array.from({ length: order }, sc);
      const s = Math.abs(sc()) + 0.2;
      const wantDs = hist.map(copy);
      subDiv(wantDs[0], x, den, s);
      const want = lmsUpdate(copy(x), coeffs, wantDs, order);
      const gotDs = hist.map(copy);
      const got = lmsStep(copy(x), den, s, coeffs, gotDs, order);
      expect(bits(gotDs[0])).toEqual(bits(wantDs[0]));
      expect(bits(got)).toEqual(bits(want));
    }
  });

  test("sde2mStep = axpby + addScaledDiff + addScaled3", () => {
    for (const [withOld, noisy] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const x = rnd(dt),
        den = rnd(dt),
        old = rnd(dt),
        z = rnd(dt);
      const [a, e, c, n1, n2, n3] = [sc(), sc(), sc(), sc(), sc(), sc()];
      const want = axpby(copy(x), a, x, e, den);
      if (withOld) addScaledDiff(want, want, c, den, old);
      if (noisy) addScaled3(want, want, z, n1, n2, n3);
      const got = sde2mStep(copy(x), a, e, den, withOld ? old : null, c, noisy ? z : null, n1, n2, n3);
      expect(bits(got)).toEqual(bits(want));
    }
  });

  test("sde3mStep = axpby + (subDiv, subDiv, dpmpp3mCorrection | addScaledDiffDiv) + addScaled3", () => {
    for (const order of [1, 2, 3]) {
      for (const noisy of [false, true]) {
        const x = rnd(dt),
          den = rnd(dt),
          den1 = rnd(dt),
          den2 = rnd(dt),
          z = rnd(dt);
        const [a, e, r0, r1, p2, p3, n1, n2, n3] = [
          sc(),
          sc(),
          sc() + 3,
          sc() + 3,
          sc(),
          sc(),
          sc(),
          sc(),
          sc(),
        ];
        const rsum = r0 + r1;
        const want = axpby(copy(x), a, x, e, den);
        if (order === 3) {
          const d10 = subDiv(copy(x), den, den1, r0),
            d11 = subDiv(copy(x), den1, den2, r1);
          dpmpp3mCorrection(want, d10, d11, r0, rsum, p2, p3);
        } else if (order === 2) {
          addScaledDiffDiv(want, want, p2, den, den1, r0);
        }
        if (noisy) addScaled3(want, want, z, n1, n2, n3);
        const got = sde3mStep(
          copy(x),
          a,
          e,
          den,
          order > 1 ? den1 : null,
          order > 2 ? den2 : null,
          r0,
          r1,
          rsum,
          p2,
          p3,
          noisy ? z : null,
          n1,
          n2,
          n3,
        );
        expect(bits(got)).toEqual(bits(want));
      }
    }
  });

  test("epsStep = subDiv + axpy per output", () => {
    for (const n of [1, 2, 3]) {
      const x = rnd(dt),
        d = rnd(dt);
      const s = Math.abs(sc()) + 0.1,
        as = Array.from({ length: n }, sc);
      const want = subDiv(copy(x), x, d, s);
      const wantYs = as.map((a) => axpy(copy(x), a, want, x));
      const eps = rnd(dt),
        ys = as.map(() => rnd(dt));
      epsStep(eps, x, d, s, ys, as);
      expect(bits(eps)).toEqual(bits(want));
      for (let j = 0; j < n; j++) expect(bits(ys[j])).toEqual(bits(wantYs[j]));
    }
  });

  test("stageStep = subDiv, sub, axpy, axpy (+ axpy noise; a second output), into u", () => {
    for (const v of ["one", "noise", "two", "into u", "two into u"] as const) {
      const x = rnd(dt),
        u = rnd(dt),
        d = rnd(dt),
        eps = rnd(dt),
        z = rnd(dt);
      const [s, a, g, c, a2, g2] = [Math.abs(sc()) + 0.1, sc(), sc(), sc(), sc(), sc()];
      // the DPM-Solver core's chain: e = (u − D)/s, diff = e − eps, x + a·eps, + g·diff (+ c·z)
      const e = subDiv(copy(x), u, d, s),
        diff = sub(copy(x), e, eps);
      const want = axpy(copy(x), a, eps, x);
      axpy(want, g, diff, want);
      if (v === "noise") axpy(want, c, z, want);
      const want2 = axpy(copy(x), a2, eps, x);
      axpy(want2, g2, diff, want2);
      const uIn = copy(u);
      const two = v === "two" || v === "two into u";
      const out = v === "into u" ? uIn : rnd(dt),
        out2 = v === "two into u" ? uIn : two ? rnd(dt) : null;
      stageStep(out, a, g, uIn, d, s, x, eps, v === "noise" ? z : null, c, out2, a2, g2);
      expect(bits(out)).toEqual(bits(want));
      if (out2) expect(bits(out2)).toEqual(bits(want2));
    }
  });

  test("errorNorm: the sampler's elementwise ops in the dtype, the squares summed in order", () => {
    const low = rnd(dt),
      high = rnd(dt),
      prev = rnd(dt);
    const r = dt === "float32" ? Math.fround : (v: number) => v;
    const [atol, rtol] = [r(0.0078), r(0.05)];
    let sum = 0;
    for (let k = 0; k < N; k++) {
      const m = Math.max(Math.abs(low.data[k]), Math.abs(prev.data[k]));
      const q = r(r(low.data[k] - high.data[k]) / Math.max(atol, r(rtol * m)));
      sum += q * q;
    }
    expect(errorNorm(low, high, prev, atol, rtol)).toBe(r(Math.sqrt(sum)));
  });
});
