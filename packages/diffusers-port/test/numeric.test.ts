/**
 * The numeric building blocks, checked against exact arithmetic and closed forms. (Their
 * bit-exactness against torch / numpy / scipy is what the fixture replay checks: every
 * alphas_cumprod table and every schedule of the diffusers fixtures matches bit for bit.)
 */
import { describe, expect, it } from "vitest";
import {
  betaPpf,
  cumprodF32,
  fmaF32,
  logBeta,
  logGamma,
  numpyArange,
  numpyLogF32,
  regularizedIncompleteBeta,
  roundHalfEven,
  sigmaToT,
  sleefExpf,
  sleefLogf,
  spacedTimesteps,
  torchLinspaceF32,
} from "../src/index.js";

const f = Math.fround;

/** Distance in float32 ulps. */
function ulps32(a: number, b: number): number {
  const buf = new Float32Array([a, b]);
  const i = new Int32Array(buf.buffer);
  const ord = (x: number) => (x < 0 ? -(x & 0x7fffffff) : x);
  return Math.abs(ord(i[0]) - ord(i[1]));
}

describe("fmaF32", () => {
  it("rounds a*b + c once, also where the double sum lands on a float32 midpoint", () => {
    const a = 1 + 2 ** -12; // a*a = 1 + 2^-11 + 2^-24: a float32 midpoint
    expect(fmaF32(a, a, 0)).toBe(1 + 2 ** -11); // tie to even
    expect(fmaF32(a, a, 2 ** -70)).toBe(1 + 2 ** -11 + 2 ** -23); // just above the tie: up
    expect(fmaF32(a, a, -(2 ** -70))).toBe(1 + 2 ** -11); // just below: down
    expect(f(a * a + 2 ** -70)).toBe(1 + 2 ** -11); // what two roundings give
  });
  it("agrees with float32(a*b + c) when no tie is involved", () => {
    for (const [a, b, c] of [[f(0.1), f(3), f(0.7)], [f(-2.5), f(1e-3), f(1)], [f(123.456), f(7.89), f(-1000)]]) {
      expect(fmaF32(a, b, c)).toBe(f(a * b + c));
    }
  });
});

describe("torch float32 linspace and cumprod", () => {
  it("torchLinspaceF32 hits both ends exactly and is monotone", () => {
    const x = torchLinspaceF32(Math.sqrt(0.00085), Math.sqrt(0.012), 1000);
    expect(x[0]).toBe(f(Math.sqrt(0.00085)));
    expect(x[999]).toBe(f(Math.sqrt(0.012)));
    for (let i = 1; i < 1000; i++) expect(x[i]).toBeGreaterThan(x[i - 1]);
    expect(Array.from(torchLinspaceF32(2, 5, 1))).toEqual([2]);
    expect(torchLinspaceF32(2, 5, 0).length).toBe(0);
    expect(() => torchLinspaceF32(0, 1, -1)).toThrow(/non-negative integer/);
  });
  it("cumprodF32 accumulates in double and rounds each output", () => {
    const a = Float32Array.of(f(0.9999), f(0.9999), f(0.9999));
    const out = cumprodF32(a);
    expect(out[2]).toBe(f(a[0] * a[1] * a[2]));
  });
});

describe("numpy float64 helpers", () => {
  it("numpyArange re-derives the step from the first two values (numpy's fill)", () => {
    // numpy: np.arange(1000, 0, -1000/3) == [1000, 666.6666666666667, 333.3333333333335]
    expect(Array.from(numpyArange(1000, 0, -1000 / 3))).toEqual([1000, 666.6666666666667, 333.3333333333335]);
    expect(numpyArange(1000, 0, -1000 / 7)[6]).toBe(142.85714285714266);
    expect(numpyArange(1000, 0, -1).length).toBe(1000);
    expect(() => numpyArange(0, 1, 0)).toThrow(/non-zero/);
  });
  it("roundHalfEven", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, 3]);
  });
  it("spacedTimesteps: the three spacings and the error", () => {
    expect(Array.from(spacedTimesteps("t", "linspace", 4, 1000, 0))).toEqual([999, 666, 333, 0]);
    expect(Array.from(spacedTimesteps("t", "leading", 4, 1000, 1))).toEqual([751, 501, 251, 1]);
    expect(Array.from(spacedTimesteps("t", "trailing", 3, 1000, 0))).toEqual([999, 666, 332]);
    expect(() => spacedTimesteps("t", "cosine", 4, 1000, 0)).toThrow(/t: timestep_spacing "cosine" is not supported/);
  });
});

describe("float32 log / exp of numpy and torch", () => {
  it("numpyLogF32 is within 4 ulp of the correctly rounded log and exact where the kernel is", () => {
    expect(numpyLogF32(1)).toBe(0);
    expect(numpyLogF32(2)).toBe(f(Math.LN2));
    expect(numpyLogF32(0)).toBe(-Infinity);
    expect(Number.isNaN(numpyLogF32(-1))).toBe(true);
    let worst = 0;
    for (let k = 0; k < 20000; k++) {
      const x = f(Math.exp(-20 + (k / 20000) * 30));
      worst = Math.max(worst, ulps32(numpyLogF32(x), f(Math.log(x))));
    }
    expect(worst).toBeLessThanOrEqual(4);
    expect(worst).toBeGreaterThan(0); // it is not correctly rounded, which is the point
  });
  it("sleefExpf / sleefLogf are within 1 ulp of the correctly rounded results", () => {
    let we = 0, wl = 0;
    for (let k = 0; k < 20000; k++) {
      const x = f(-15 + (k / 20000) * 20);
      we = Math.max(we, ulps32(sleefExpf(x), f(Math.exp(x))));
      const y = f(Math.exp(x));
      wl = Math.max(wl, ulps32(sleefLogf(y), f(Math.log(y))));
    }
    expect(we).toBeLessThanOrEqual(1);
    expect(wl).toBeLessThanOrEqual(1);
    expect(sleefExpf(0)).toBe(1);
    expect(sleefLogf(1)).toBe(0);
  });
});

describe("incomplete beta and its inverse (scipy.stats.beta.ppf)", () => {
  it("logGamma and logBeta", () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logBeta(2, 3)).toBeCloseTo(Math.log(1 / 12), 13);
  });
  it("I_x(a, b) closed forms", () => {
    for (const x of [0.01, 0.3, 0.5, 0.9]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 14);
      expect(regularizedIncompleteBeta(x, 2.5, 1)).toBeCloseTo(x ** 2.5, 14);
      expect(regularizedIncompleteBeta(x, 0.5, 0.5)).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(x)), 14);
    }
    expect(regularizedIncompleteBeta(0.5, 0.6, 0.6)).toBeCloseTo(0.5, 14);
  });
  it("ppf closed forms, round trip and symmetry", () => {
    for (const p of [1e-9, 0.001, 0.1, 0.37, 0.5, 0.8, 0.999999]) {
      expect(betaPpf(p, 1, 1)).toBeCloseTo(p, 14);
      expect(betaPpf(p, 3, 1)).toBeCloseTo(p ** (1 / 3), 14);
      expect(betaPpf(p, 1, 2)).toBeCloseTo(1 - (1 - p) ** 0.5, 14);
      expect(betaPpf(p, 0.5, 0.5)).toBeCloseTo(Math.sin((Math.PI * p) / 2) ** 2, 14);
      const x = betaPpf(p, 0.6, 0.6);
      expect(Math.abs(regularizedIncompleteBeta(x, 0.6, 0.6) - p)).toBeLessThan(1e-12 * Math.max(p, 1e-3));
      expect(betaPpf(1 - p, 0.6, 0.6)).toBeCloseTo(1 - x, 14);
    }
    expect([betaPpf(0, 0.6, 0.6), betaPpf(1, 0.6, 0.6)]).toEqual([0, 1]);
    expect(() => betaPpf(1.5, 0.6, 0.6)).toThrow(/p must lie in \[0, 1\]/);
  });
});

describe("_sigma_to_t", () => {
  const table = Float32Array.from([0.1, 0.2, 0.4, 0.8].map(Math.log));
  it("maps table sigmas to their index and interpolates log-linearly between", () => {
    expect(sigmaToT(0.2, table)).toBeCloseTo(1, 6);
    expect(sigmaToT(0.8, table)).toBe(3);
    expect(sigmaToT(Math.sqrt(0.2 * 0.4), table)).toBeCloseTo(1.5, 6);
  });
  it("clamps outside the table (w clipped to [0, 1])", () => {
    expect(sigmaToT(5, table)).toBe(3);
    expect(sigmaToT(0.01, table)).toBe(0);
    expect(sigmaToT(0, table)).toBe(0);
  });
});
