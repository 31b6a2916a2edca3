/**
 * get_ancestral_step, linear_multistep_coeff and the exact quadrature behind it.
 */
import { describe, expect, test } from "vitest";
import {
  gaussLegendre,
  getAncestralStep,
  getSigmasKarras,
  integrateGaussLegendre,
  linearMultistepCoeff,
  qk21,
} from "../src/index.js";

describe("get_ancestral_step", () => {
  test("eta = 0 short-circuits to (sigma_to, 0)", () => {
    expect(getAncestralStep(2, 0.7, 0)).toEqual({ sigmaDown: 0.7, sigmaUp: 0 });
  });
  test("eta = 1: sigma_down = sigma_to^2 / sigma_from, sigma_up^2 + sigma_down^2 = sigma_to^2", () => {
    const { sigmaDown, sigmaUp } = getAncestralStep(2, 1, 1);
    expect(sigmaUp).toBe(Math.sqrt((1 * (4 - 1)) / 4));
    expect(sigmaDown).toBeCloseTo(0.5, 15);
    expect(sigmaUp ** 2 + sigmaDown ** 2).toBeCloseTo(1, 15);
  });
  test("sigma_up is clamped to sigma_to (then sigma_down = 0)", () => {
    expect(getAncestralStep(2, 1, 10)).toEqual({ sigmaDown: 0, sigmaUp: 1 });
  });
  test("into sigma = 0 both are 0", () => {
    expect(getAncestralStep(3, 0, 1)).toEqual({ sigmaDown: 0, sigmaUp: 0 });
  });
  test("float32 rounds every scalar op", () => {
    const { sigmaUp, sigmaDown } = getAncestralStep(14.614643096923828, 8.716193199157715, 1, "float32");
    expect(Math.fround(sigmaUp)).toBe(sigmaUp);
    expect(Math.fround(sigmaDown)).toBe(sigmaDown);
    const f64 = getAncestralStep(14.614643096923828, 8.716193199157715, 1);
    expect(sigmaUp).not.toBe(f64.sigmaUp);
    expect(Math.abs(sigmaUp - f64.sigmaUp)).toBeLessThan(1e-6);
  });
});

describe("quadrature", () => {
  test("QK21's embedded Gauss nodes are the 10-point Gauss-Legendre nodes", () => {
    // Recover them from qk21 by integrating indicator-free polynomials: compare the Gauss
    // estimate with the independent Gauss-Legendre rule on x^18 (exact for both).
    const f = (x: number) => x ** 18;
    const g = integrateGaussLegendre(f, -1, 1, 10);
    expect(Math.abs(qk21(f, -1, 1).gauss - g) / g).toBeLessThan(1e-14);
    const { nodes, weights } = gaussLegendre(10);
    expect(weights.reduce((a, b) => a + b)).toBeCloseTo(2, 14);
    expect(Math.max(...nodes)).toBeCloseTo(0.973906528517171720077964012084452, 15);
  });
  test("qk21 is exact for degree <= 31; its Gauss part for degree <= 19 only", () => {
    const a = 0.3,
      b = 1.7;
    const exact = (k: number) => (b ** (k + 1) - a ** (k + 1)) / (k + 1);
    for (let k = 0; k <= 31; k++) {
      expect(Math.abs(qk21((x) => x ** k, a, b).result - exact(k)) / exact(k)).toBeLessThan(1e-14);
    }
    // Why QAGS accepts its first QK21 step for the LMS integrands up to order 20: the
    // Gauss/Kronrod difference (its error estimate) vanishes up to degree 19 and not after.
    expect(Math.abs(qk21((x) => x ** 19, a, b).gauss - exact(19)) / exact(19)).toBeLessThan(1e-14);
    expect(Math.abs(qk21((x) => x ** 20, a, b).gauss - exact(20)) / exact(20)).toBeGreaterThan(1e-13);
  });
  test("n-point Gauss-Legendre is exact for degree 2n - 1", () => {
    for (const n of [1, 2, 3, 7, 16]) {
      const k = 2 * n - 1;
      const exact = 2 ** (k + 1) / (k + 1) + 2;
      expect(Math.abs(integrateGaussLegendre((x) => x ** k + 1, 0, 2, n) - exact) / exact).toBeLessThan(
        1e-14,
      );
    }
  });
});

describe("linear_multistep_coeff", () => {
  const t = getSigmasKarras(12, 0.002, 80);

  test("the coefficients of one step sum to the step length (the basis sums to 1)", () => {
    for (const order of [1, 2, 3, 4, 6]) {
      for (let i = order - 1; i < t.length - 1; i++) {
        let sum = 0;
        for (let j = 0; j < order; j++) sum += linearMultistepCoeff(order, t, i, j);
        expect(Math.abs(sum - (t[i + 1] - t[i]))).toBeLessThan(1e-12 * Math.max(1, t[i]));
      }
    }
  });

  test("matches the analytic integral of the Lagrange basis", () => {
    // order 2: basis for j = 0 is (tau - t[i-1]) / (t[i] - t[i-1]); integral over [t_i, t_{i+1}]
    const i = 5,
      a = t[i],
      b = t[i + 1],
      p = t[i - 1];
    const exact = ((b - p) ** 2 - (a - p) ** 2) / (2 * (a - p));
    expect(linearMultistepCoeff(2, t, i, 0)).toBeCloseTo(exact, 13);
    // order 1 is the Euler step
    expect(linearMultistepCoeff(1, t, i, 0)).toBeCloseTo(b - a, 14);
  });

  test("orders above 20 switch to Gauss-Legendre and stay exact", () => {
    const long = getSigmasKarras(40, 0.01, 10);
    let sum = 0;
    for (let j = 0; j < 24; j++) sum += linearMultistepCoeff(24, long, 30, j);
    expect(Math.abs(sum - (long[31] - long[30]))).toBeLessThan(1e-9);
  });

  test("order too high for the step is an error, as in the original", () => {
    expect(() => linearMultistepCoeff(4, t, 2, 0)).toThrow(
      /linear_multistep_coeff: order 4 too high for step 2/,
    );
  });
});
