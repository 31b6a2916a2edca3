import { describe, expect, test } from "vitest";
import {
  lerpScalar,
  lerpScalar32,
  loadFixture,
  numpyInterp,
  numpyLinspace,
  torchLinspace,
  ulpDistance,
  type ScheduleFixture,
} from "../src/index.js";
import { FIXTURES } from "./helpers.js";

describe("torchLinspace", () => {
  test("endpoints are exact and the scalar tail counts from the end", () => {
    const a = torchLinspace(0.3, 7.1, 7);
    expect(a[0]).toBe(0.3);
    expect(a[6]).toBe(7.1);
    const step = (7.1 - 0.3) / 6;
    for (let i = 0; i < 7; i++) expect(a[i]).toBe(i < 3 ? 0.3 + step * i : 7.1 - step * (6 - i));
  });
  test("reproduces k-diffusion get_sigmas_exponential bit for bit (exp of a log-space linspace)", () => {
    const f = loadFixture(`${FIXTURES}reference/k-diffusion/schedule__get_sigmas_exponential__n12-min0.01-max20.json`) as ScheduleFixture;
    const s = torchLinspace(Math.log(20), Math.log(0.01), 12);
    const ref = f.schedule!.sigmas!;
    let worst = 0;
    for (let i = 0; i < 12; i++) worst = Math.max(worst, ulpDistance(Math.exp(s[i]), ref[i]));
    // exp is V8's here, not glibc's: allow one ulp from exp itself
    expect(worst).toBeLessThanOrEqual(1);
  });
  test("float32 rounds every operation", () => {
    const a = torchLinspace(0, 1, 5, "float32");
    expect(Array.from(a)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const b = torchLinspace(0.1, 0.7, 3, "float32");
    expect(b[0]).toBe(Math.fround(0.1));
    expect(b[2]).toBe(Math.fround(0.7));
  });
  test("rejects a bad step count", () => {
    expect(() => torchLinspace(0, 1, 2.5)).toThrow(/steps/);
  });
});

describe("numpyLinspace", () => {
  test("i * step + start with the endpoint set exactly", () => {
    const a = numpyLinspace(0, 999, 7);
    const step = 999 / 6;
    for (let i = 0; i < 6; i++) expect(a[i]).toBe(i * step + 0);
    expect(a[6]).toBe(999);
    expect(Array.from(numpyLinspace(0, 999, 1))).toEqual([0]);
    expect(Array.from(numpyLinspace(0, 10, 5, false))).toEqual([0, 2, 4, 6, 8]);
  });
  test("matches diffusers' recorded linspace timesteps (np.linspace(0, T-1, N)[::-1])", () => {
    const f = loadFixture(`${FIXTURES}reference/diffusers/schedules/euler--sd-linspace.json`) as ScheduleFixture;
    for (const c of f.cases!) {
      if (!("timesteps" in c)) continue;
      const ref = c.timesteps as number[];
      const t = numpyLinspace(0, 999, ref.length).reverse().map(Math.fround);
      expect(Array.from(t)).toEqual(ref);
    }
  });
});

describe("numpyInterp", () => {
  test("interior, knots, and clamping outside", () => {
    const xp = [0, 1, 3], fp = [10, 20, 0];
    expect(Array.from(numpyInterp([-1, 0, 0.5, 1, 2, 3, 4], xp, fp))).toEqual([10, 10, 15, 20, 10, 0, 0]);
  });
});

describe("torch.lerp", () => {
  test("uses end - diff * (1 - w) for w >= 0.5", () => {
    // 0.5 weight: end - (end - start) * 0.5, which differs from start + 0.5 * (end - start) for these
    let differs = 0;
    for (let k = 1; k < 2000; k++) {
      const a = 1 / k, b = Math.sqrt(k);
      const got = lerpScalar(a, b, 0.5);
      expect(got).toBe(b - (b - a) * 0.5);
      if (got !== a + 0.5 * (b - a)) differs++;
    }
    expect(differs).toBeGreaterThan(0);
    expect(lerpScalar32(1, 2, 0.25)).toBe(1.25);
  });
});
