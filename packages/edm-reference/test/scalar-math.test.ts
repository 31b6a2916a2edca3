/**
 * The two ScalarMath presets: JavaScript's functions and core's correctly rounded libm.
 */
import { libm } from "@edmkit/core";
import { describe, expect, it } from "vitest";
import { correctlyRoundedMath, jsMath } from "../src/index.js";

describe("ScalarMath presets", () => {
  it("correctlyRoundedMath is core's libm (sqrt is exact in both)", () => {
    expect(correctlyRoundedMath.exp).toBe(libm.exp);
    expect(correctlyRoundedMath.log).toBe(libm.log);
    expect(correctlyRoundedMath.pow).toBe(libm.pow);
    expect(correctlyRoundedMath.sin).toBe(libm.sin);
    expect(correctlyRoundedMath.sqrt).toBe(Math.sqrt);
    expect(jsMath.pow).toBe(Math.pow);
  });
  it("e ** 10.049999999999999 is NVlabs' 23155.78684539541 with correctlyRoundedMath, one ulp higher with jsMath", () => {
    expect(correctlyRoundedMath.pow(Math.E, 10.049999999999999)).toBe(23155.78684539541);
    expect(jsMath.pow(Math.E, 10.049999999999999)).toBe(23155.786845395414);
  });
});
