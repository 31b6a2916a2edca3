/**
 * core's torch arithmetic: SLEEF's float64 exp / log / expm1 / pow against the correctly
 * rounded libm (within one ulp everywhere, different on a few percent of inputs, as SLEEF's
 * 1-ulp kernels are), their special cases, ATen's pow rules, and float32 sin. Bit-for-bit
 * agreement with torch itself is checked by the fixtures (conformance's recorded-arithmetic
 * test: every float64 k-diffusion sampler replays bit-exact once the model is taken out).
 */
import { describe, expect, test } from "vitest";
import { libm, powTensor, sleefSinf, torchMath } from "../src/index.js";
import { sleefExp, sleefExpm1, sleefLog, sleefPow } from "../src/torch/sleef-f64.js";

let seed = 12345;
const rnd = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};
const ulps = (a: number, b: number) => Math.abs(a - b) / 2 ** (Math.floor(Math.log2(Math.abs(b))) - 52);

function agreement(
  n: number,
  gen: () => number[],
  ours: (...a: number[]) => number,
  ref: (...a: number[]) => number,
) {
  let differ = 0,
    worst = 0;
  for (let i = 0; i < n; i++) {
    const args = gen();
    const a = ours(...args),
      b = ref(...args);
    if (a !== b) {
      differ++;
      worst = Math.max(worst, ulps(a, b));
    }
  }
  return { differ: differ / n, worst };
}

describe("SLEEF float64 kernels", () => {
  test("exp: within 1 ulp of the correctly rounded value, off on some inputs", () => {
    const r = agreement(2000, () => [(rnd() - 0.5) * 100], sleefExp, libm.exp);
    expect(r.worst).toBeLessThanOrEqual(1);
    expect(r.differ).toBeGreaterThan(0.01);
    expect(r.differ).toBeLessThan(0.15);
  });
  test("log: within 1 ulp, off on a few inputs", () => {
    const r = agreement(2000, () => [rnd() * 1000 + 1e-6], sleefLog, libm.log);
    expect(r.worst).toBeLessThanOrEqual(1);
    expect(r.differ).toBeGreaterThan(0);
  });
  test("pow: within 1 ulp, off on a few inputs", () => {
    const r = agreement(1000, () => [rnd() * 20, (rnd() - 0.5) * 14], sleefPow, libm.pow);
    expect(r.worst).toBeLessThanOrEqual(1);
    expect(r.differ).toBeGreaterThan(0);
  });
  test("expm1: close to exp(x) - 1 and exact near 0", () => {
    expect(sleefExpm1(1e-10)).toBe(1.00000000005e-10);
    expect(Math.abs(sleefExpm1(1) - (Math.E - 1))).toBeLessThan(1e-15);
    expect(Object.is(sleefExpm1(-0), -0)).toBe(true);
    expect(sleefExpm1(-40)).toBe(-1);
    expect(sleefExpm1(710)).toBe(Infinity);
  });
  test("special cases", () => {
    expect(sleefExp(0)).toBe(1);
    expect(sleefExp(1)).toBe(Math.E);
    expect(sleefExp(710)).toBe(Infinity);
    expect(sleefExp(-1001)).toBe(0);
    expect(sleefExp(NaN)).toBeNaN();
    expect(sleefLog(1)).toBe(0);
    expect(sleefLog(0)).toBe(-Infinity);
    expect(sleefLog(-1)).toBeNaN();
    expect(sleefLog(Infinity)).toBe(Infinity);
    expect(sleefLog(5e-324)).toBe(libm.log(5e-324));
    expect(sleefPow(2, 10)).toBe(1024);
    expect(sleefPow(-2, 3)).toBe(-8);
    expect(sleefPow(-8, 1 / 3)).toBeNaN();
    expect(sleefPow(0, -1)).toBe(Infinity);
    expect(sleefPow(-0, -3)).toBe(-Infinity);
    expect(sleefPow(NaN, 0)).toBe(1);
    expect(sleefPow(1, NaN)).toBe(1);
    expect(sleefPow(0.5, Infinity)).toBe(0);
    expect(sleefPow(2, -Infinity)).toBe(0);
  });
});

describe("torchMath", () => {
  test("float64 uses SLEEF for exp/log, the C library for a 0-d pow", () => {
    const m = torchMath("float64");
    expect(m.exp(0.7)).toBe(sleefExp(0.7));
    expect(m.log(3.3)).toBe(sleefLog(3.3));
    expect(m.pow(3.3, 7)).toBe(libm.pow(3.3, 7));
    expect(m.pow(3.3, 2)).toBe(3.3 * 3.3);
    expect(m.pow(3.3, 0.5)).toBe(Math.sqrt(3.3));
  });
  test("float32 rounds every op", () => {
    const m = torchMath("float32");
    expect(m.mul(0.1, 0.2)).toBe(Math.fround(0.1 * 0.2));
    expect(m.mulAdd(0.1, 0.2, 0.3)).toBe(Math.fround(Math.fround(0.1 * 0.2) + 0.3));
    expect(m.pow(3, 3)).toBe(27);
  });
  test("powTensor: SLEEF on whole 8-double vectors, the C library on the tail", () => {
    const v = Array.from({ length: 12 }, (_, i) => 0.5 + i * 0.37);
    const p = powTensor(v, 7, "float64");
    for (let i = 0; i < 8; i++) expect(p[i]).toBe(sleefPow(v[i], 7));
    for (let i = 8; i < 12; i++) expect(p[i]).toBe(libm.pow(v[i], 7));
  });
  test("float32 sin (SLEEF sinf) within 1 float32 ulp of sin", () => {
    for (let i = 0; i < 2000; i++) {
      const x = Math.fround((rnd() - 0.5) * 8);
      const s = sleefSinf(x),
        c = Math.fround(libm.sin(x));
      expect(Math.abs(s - c)).toBeLessThanOrEqual(2 ** (Math.floor(Math.log2(Math.abs(c))) - 23));
    }
    expect(() => sleefSinf(200)).toThrow(RangeError);
  });
});
