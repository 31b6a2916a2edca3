/**
 * Automatic derivatives (dual numbers) against analytic ones, and schedule construction.
 */
import { describe, expect, it } from "vitest";
import {
  defineSchedule,
  derivative,
  Dual,
  dualMath,
  linearSchedule,
  numberMath,
  type ScalarFunction,
  valueAndDerivative,
  veSchedule,
  vpScaleFunction,
  vpSchedule,
  vpSigmaFunction,
} from "../src/index.js";

const grid = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe("dual numbers", () => {
  const cases: [string, ScalarFunction, (t: number) => number, number[]][] = [
    ["exp", (t, m) => m.exp(t), Math.exp, [-2, 0.3, 4]],
    ["expm1", (t, m) => m.expm1(t), Math.exp, [-1e-9, 0.3, 2]],
    ["log", (t, m) => m.log(t), (t) => 1 / t, [0.1, 1, 30]],
    ["log1p", (t, m) => m.log1p(t), (t) => 1 / (1 + t), [1e-10, 0.5, 9]],
    ["sqrt", (t, m) => m.sqrt(t), (t) => 0.5 / Math.sqrt(t), [1e-4, 2, 100]],
    ["sin", (t, m) => m.sin(t), Math.cos, [-3, 0.1, 2]],
    ["cos", (t, m) => m.cos(t), (t) => -Math.sin(t), [-3, 0.1, 2]],
    ["tan", (t, m) => m.tan(t), (t) => 1 / Math.cos(t) ** 2, [-1, 0.2, 1.2]],
    ["tanh", (t, m) => m.tanh(t), (t) => 1 / Math.cosh(t) ** 2, [-2, 0, 3]],
    ["atan", (t, m) => m.atan(t), (t) => 1 / (1 + t * t), [-5, 0, 2]],
    ["asin", (t, m) => m.asin(t), (t) => 1 / Math.sqrt(1 - t * t), [-0.9, 0, 0.5]],
    ["acos", (t, m) => m.acos(t), (t) => -1 / Math.sqrt(1 - t * t), [-0.9, 0, 0.5]],
    ["sinh/cosh", (t, m) => m.mul(m.sinh(t), m.cosh(t)), (t) => Math.cosh(2 * t), [-1, 0.5, 2]],
    ["pow(t, 2.5)", (t, m) => m.pow(t, 2.5), (t) => 2.5 * t ** 1.5, [0.5, 1, 3]],
    ["pow(3, t)", (t, m) => m.pow(3, t), (t) => 3 ** t * Math.log(3), [-1, 0, 2]],
    ["pow(t, t)", (t, m) => m.pow(t, t), (t) => t ** t * (Math.log(t) + 1), [0.5, 1, 2]],
    [
      "quotient rule",
      (t, m) => m.div(m.sin(t), m.add(2, t)),
      (t) => Math.cos(t) / (2 + t) - Math.sin(t) / (2 + t) ** 2,
      [0, 1, 3],
    ],
    ["recip/square/neg/abs", (t, m) => m.neg(m.recip(m.square(m.abs(t)))), (t) => 2 / t ** 3, [-2, 0.5, 3]],
  ];
  for (const [name, f, df, ts] of cases) {
    it(`d/dt ${name}`, () => {
      for (const t of ts) {
        const [v, d] = valueAndDerivative(f, t);
        expect(v).toBe(f(t, numberMath));
        expect(rel(d, df(t))).toBeLessThan(1e-14);
      }
    });
  }

  it("constants have zero derivative and keep finite values where the power rule would not", () => {
    expect(dualMath.pow(new Dual(0, 0), 2)).toEqual(new Dual(0, 0));
    expect(dualMath.pow(new Dual(-2, 1), 3)).toEqual(new Dual(-8, 12));
    expect(derivative((_t, m) => m.c(5), 3)).toBe(0);
  });

  it("rejects a function that leaves the numeric interface", () => {
    const bad = ((t: number) => Math.sin(t)) as unknown as ScalarFunction;
    expect(() => derivative(bad, 1)).toThrow(/numeric interface/);
  });
});

describe("schedules", () => {
  it("automatic derivatives of VP sigma(t) and s(t) agree with the analytic ones to 1e-12", () => {
    const analytic = vpSchedule();
    const auto = defineSchedule({ name: "vp-auto", sigma: vpSigmaFunction(), s: vpScaleFunction() });
    for (const t of grid(1e-3, 1, 60)) {
      expect(rel(auto.sigma(t), analytic.sigma(t))).toBeLessThan(1e-14);
      expect(rel(auto.s(t), analytic.s(t))).toBeLessThan(1e-14);
      expect(rel(auto.sigmaDeriv(t), analytic.sigmaDeriv(t))).toBeLessThan(1e-12);
      expect(rel(auto.sDeriv(t), analytic.sDeriv(t))).toBeLessThan(1e-12);
    }
  });

  it("automatic derivatives of VE sigma(t) = sqrt(t) agree with 1/(2 sqrt t) to 1e-12", () => {
    const analytic = veSchedule();
    const auto = defineSchedule({ sigma: (t, m) => m.sqrt(t) });
    for (const t of grid(1e-4, 1e4, 60)) {
      expect(rel(auto.sigmaDeriv(t), analytic.sigmaDeriv(t))).toBeLessThan(1e-12);
      expect(auto.s(t)).toBe(1);
      expect(auto.sDeriv(t)).toBe(0);
    }
  });

  it("the VP inverse inverts sigma(t)", () => {
    const vp = vpSchedule({ beta_d: 19.9, beta_min: 0.1 });
    for (const t of grid(1e-3, 1, 30)) expect(rel(vp.sigmaInv!(vp.sigma(t)), t)).toBeLessThan(1e-12);
  });

  it("given derivatives are used as given; absent inverse stays absent", () => {
    const s = defineSchedule({ sigma: (t: number) => 2 * t, sigmaDeriv: () => 42 });
    expect(s.sigma(3)).toBe(6);
    expect(s.sigmaDeriv(3)).toBe(42);
    expect(s.sigmaInv).toBeUndefined();
  });

  it("the linear schedule is flagged as identity", () => {
    const l = linearSchedule();
    expect(l.identity).toBe(true);
    expect([l.sigma(3), l.sigmaDeriv(3), l.sigmaInv!(3), l.s(3), l.sDeriv(3)]).toEqual([3, 1, 3, 1, 0]);
  });

  it("rejects malformed specs", () => {
    expect(() => defineSchedule({ sigma: 3 as unknown as ScalarFunction })).toThrow(
      /defineSchedule: sigma must be a function/,
    );
    expect(() => defineSchedule({ sigma: (t, m) => m.mul(t, 1), sDeriv: () => 0 })).toThrow(
      /sDeriv given without s/,
    );
  });
});
