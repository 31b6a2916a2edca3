/**
 * SLEEF's float32 exp / log as torch's AVX2 kernels evaluate them.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sleefExpf, sleefLogf, torchExpF32, ulpDistance32 } from "../src/index.js";
import { FIXTURES } from "./helpers.js";

const f = Math.fround;

describe("SLEEF float32 exp / log", () => {
  it("are within 1 ulp of the correctly rounded results, and not always equal to them", () => {
    let we = 0,
      wl = 0,
      differ = 0;
    for (let k = 0; k < 20000; k++) {
      const x = f(-15 + (k / 20000) * 20);
      const e = ulpDistance32(sleefExpf(x), f(Math.exp(x)));
      we = Math.max(we, e);
      const y = f(Math.exp(x));
      const l = ulpDistance32(sleefLogf(y), f(Math.log(y)));
      wl = Math.max(wl, l);
      if (e + l > 0) differ++;
    }
    expect(we).toBeLessThanOrEqual(1);
    expect(wl).toBeLessThanOrEqual(1);
    expect(differ).toBeGreaterThan(0);
  });

  it("special values", () => {
    expect(sleefExpf(0)).toBe(1);
    expect(sleefLogf(1)).toBe(0);
    expect(sleefExpf(-200)).toBe(0);
    expect(sleefExpf(200)).toBe(Infinity);
    expect(sleefLogf(0)).toBe(-Infinity);
    expect(sleefLogf(Infinity)).toBe(Infinity);
    expect(sleefLogf(-1)).toBeNaN();
    expect(sleefExpf(NaN)).toBeNaN();
    expect(Array.from(torchExpF32([0, 1, -1]))).toEqual([1, sleefExpf(1), sleefExpf(-1)]);
  });

  it("log reproduces diffusers' continuous timesteps (0.25 · sigma.log() on float32 sigmas) bit for bit", () => {
    const fx = JSON.parse(
      readFileSync(`${FIXTURES}reference/diffusers/schedules/euler--sd-continuous-v.json`, "utf8"),
    );
    let checked = 0,
      roundedLogMisses = 0;
    for (const c of fx.cases as { timesteps?: number[]; sigmas?: number[] }[]) {
      if (!c.timesteps || !c.sigmas) continue;
      for (let i = 0; i < c.timesteps.length; i++) {
        expect(f(0.25 * sleefLogf(c.sigmas[i]))).toBe(c.timesteps[i]);
        if (f(0.25 * f(Math.log(c.sigmas[i]))) !== c.timesteps[i]) roundedLogMisses++;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(roundedLogMisses).toBeGreaterThan(0); // a correctly rounded float32 log is not torch's
  });
});
