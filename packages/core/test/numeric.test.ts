import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  fma32,
  fma64,
  lerpScalar,
  lerpScalar32,
  libm,
  numpyInterp,
  numpyLinspace,
  roundHalfEven,
  torchLinspace,
  ulpDistance,
  ulpDistance32,
  type ScheduleFixture,
} from "../src/index.js";
import { loadFixture } from "../src/node.js";
import { FIXTURES } from "./helpers.js";

const f = Math.fround;
const KD = `${FIXTURES}reference/k-diffusion/`;
const kdSchedule = (name: string): number[] =>
  (loadFixture(`${KD}${name}.json`) as ScheduleFixture).schedule!.sigmas!;

describe("torchLinspace", () => {
  test("points below halfway are fma(step, i, start), the others fma(-step, steps-1-i, end)", () => {
    for (const [start, end, steps] of [
      [0.3, 7.1, 7],
      [Math.log(20), Math.log(0.01), 5],
      [1, 1e-3, 6],
      [-2.5, 9.75, 3],
    ]) {
      const a = torchLinspace(start, end, steps);
      const step = (end - start) / (steps - 1);
      for (let i = 0; i < steps; i++) {
        expect(a[i]).toBe(
          i < Math.floor(steps / 2) ? fma64(step, i, start) : fma64(-step, steps - 1 - i, end),
        );
      }
      expect(a[0]).toBe(start);
      expect(a[steps - 1]).toBe(end);
    }
  });

  test("vector chunks: lanes are base + lane*step with two roundings, bases fused", () => {
    const a = torchLinspace(1, 0.001, 20);
    const step = (0.001 - 1) / 19;
    // chunk [0, 8): two vectors of 4 doubles with bases at 0 and 4; tail 16..19 by the rule
    for (let i = 0; i < 16; i++) {
      const v = i - (i % 4);
      const base = v < 10 ? fma64(step, v, 1) : fma64(-step, 19 - v, 0.001);
      expect(a[i]).toBe(base + (i % 4) * step);
    }
    for (let i = 16; i < 20; i++) expect(a[i]).toBe(fma64(-step, 19 - i, 0.001));
    const b = torchLinspace(0, 1, 40, "float32");
    const s32 = f(1 / 39);
    for (let i = 0; i < 32; i++) {
      const v = i - (i % 8);
      const base = v < 20 ? fma32(s32, v, 0) : fma32(-s32, 39 - v, 1);
      expect(b[i]).toBe(f(base + f((i % 8) * s32)));
    }
  });

  test("float64: k-diffusion's get_sigmas_vp and get_sigmas_karras(rho=3) recordings, bit for bit", () => {
    // sqrt(exp((beta_d t^2) / 2 + beta_min t) - 1) on t = linspace(1, eps_s, n), torch's op order;
    // index 3 is a lane of the first vector chunk (fusing it too misses the recording there)
    for (const [name, n, bd, bm, eps] of [
      ["schedule__get_sigmas_vp__n10-bd10-bmin0.5-eps0.01", 10, 10, 0.5, 0.01],
      ["schedule__get_sigmas_vp__n12-defaults", 12, 19.9, 0.1, 1e-3],
    ] as const) {
      const t = torchLinspace(1, eps, n);
      const got = Array.from(t, (v) => Math.sqrt(libm.exp((bd * (v * v)) / 2 + bm * v) - 1));
      expect(got, name).toEqual(kdSchedule(name).slice(0, n));
      const step = (eps - 1) / (n - 1);
      const fusedLane3 = fma64(3, step, 1);
      expect(t[3]).not.toBe(fusedLane3);
      expect(Math.sqrt(libm.exp((bd * (fusedLane3 * fusedLane3)) / 2 + bm * fusedLane3) - 1)).not.toBe(
        kdSchedule(name)[3],
      );
    }
    // (max^(1/3) + ramp (min^(1/3) - max^(1/3)))^3 with ATen's x*x*x for rho = 3
    const ramp = torchLinspace(0, 1, 10);
    const lo = libm.pow(0.03, 1 / 3),
      hi = libm.pow(10, 1 / 3);
    const karras = Array.from(ramp, (r) => {
      const x = hi + r * (lo - hi);
      return x * x * x;
    });
    expect(karras).toEqual(kdSchedule("schedule__get_sigmas_karras__n10-min0.03-max10-rho3").slice(0, 10));
  });

  test("float64: get_sigmas_exponential's ramp, exp'ed, is within an ulp of the recording (torch's exp is SLEEF's)", () => {
    const s = torchLinspace(libm.log(20), libm.log(0.01), 12);
    const ref = kdSchedule("schedule__get_sigmas_exponential__n12-min0.01-max20");
    let worst = 0,
      exact = 0;
    for (let i = 0; i < 12; i++) {
      const d = ulpDistance(libm.exp(s[i]), ref[i]);
      worst = Math.max(worst, d);
      if (d === 0) exact++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(exact).toBeGreaterThanOrEqual(11);
  });

  test("float32: the fused tail gives k-diffusion's recorded get_sigmas_karras(10 and 12, rho=7) bit for bit", () => {
    // every op a float32 tensor op; the two roots are Python floats, ramp[6] of n = 10 is
    // 1 - 3 step fused (0.6666667, where two roundings give 0.66666663 and sigma[6] moves 15 ulps)
    const ramp10 = torchLinspace(0, 1, 10, "float32");
    expect(ramp10[6]).toBe(0.6666666865348816);
    expect(f(1 - f(f(1 / 9) * 3))).toBe(0.6666666269302368);
    const dir = readdirSync(KD).filter((n) => n.includes("karras") && n.includes("f32"));
    let checked = 0;
    for (const name of dir) {
      const fx = JSON.parse(readFileSync(KD + name, "utf8"));
      const src = fx.kind === "schedule" ? { call: fx.reference.call } : fx.schedule.source;
      const { n, sigma_min, sigma_max, rho } = src.call as Record<string, number>;
      const ramp = torchLinspace(0, 1, n, "float32");
      const span = f(sigma_min ** (1 / rho) - sigma_max ** (1 / rho)),
        base = f(sigma_max ** (1 / rho));
      const got = Array.from(ramp, (r) => f(Math.pow(f(base + f(r * span)), f(rho))));
      expect(got, name).toEqual(fx.schedule.sigmas.slice(0, n));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  test("float32: diffusers' scaled_linear alphas_cumprod (1000-point linspace) bit for bit", () => {
    // betas = linspace(sqrt(0.00085), sqrt(0.012), 1000, float32)^2; cumprod(1 - betas) with a
    // double accumulator. Unfused chunk bases are off from index 273 on.
    const fx = JSON.parse(
      readFileSync(`${FIXTURES}reference/diffusers/schedules/euler--sd-linspace.json`, "utf8"),
    );
    const ramp = torchLinspace(Math.sqrt(0.00085), Math.sqrt(0.012), 1000, "float32");
    let acc = 1;
    const table = Array.from(ramp, (r) => f((acc *= f(1 - f(r * r)))));
    expect(table).toEqual(fx.alphas_cumprod);
  });

  test("float32 rounds every operation; degenerate sizes", () => {
    expect(Array.from(torchLinspace(0, 1, 5, "float32"))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const b = torchLinspace(0.1, 0.7, 3, "float32");
    expect(b[0]).toBe(f(0.1));
    expect(b[2]).toBe(f(0.7));
    expect(Array.from(torchLinspace(2, 5, 1))).toEqual([2]);
    expect(torchLinspace(2, 5, 0).length).toBe(0);
  });

  test("rejects a bad step count", () => {
    expect(() => torchLinspace(0, 1, 2.5)).toThrow(
      /torchLinspace: steps must be a non-negative integer, got 2.5/,
    );
    expect(() => torchLinspace(0, 1, -1)).toThrow(/non-negative integer/);
  });
});

describe("ulp distances", () => {
  test("float64 and float32 units in the last place, across zero", () => {
    expect(ulpDistance(1, 1 + Number.EPSILON)).toBe(1);
    expect(ulpDistance(-(2 ** -1074), 2 ** -1074)).toBe(2);
    expect(ulpDistance32(1, f(1 + 2 ** -23))).toBe(1);
    expect(ulpDistance32(f(0.1), f(0.1))).toBe(0);
    expect(ulpDistance32(-(2 ** -149), 2 ** -149)).toBe(2);
    expect(ulpDistance32(NaN, 1)).toBe(Infinity);
  });
});

describe("roundHalfEven", () => {
  test("ties to even like numpy.round / torch.round, keeping the sign of zero", () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4, 2.6, 7, -0.3].map(roundHalfEven)).toEqual([
      0, 2, 2, 4, -0, -2, -2, 2, 3, 7, -0,
    ]);
    expect(Object.is(roundHalfEven(-0.5), -0)).toBe(true);
    expect(roundHalfEven(4503599627370495.5)).toBe(4503599627370496);
    expect(roundHalfEven(2 ** 53 + 2)).toBe(2 ** 53 + 2);
    expect([Infinity, -Infinity].map(roundHalfEven)).toEqual([Infinity, -Infinity]);
    expect(roundHalfEven(NaN)).toBeNaN();
  });
  test("diffusers' trailing spacing: round(arange(1000, 0, -1000/3)) - 1", () => {
    expect([1000, 666.6666666666667, 333.3333333333335].map((v) => roundHalfEven(v) - 1)).toEqual([
      999, 666, 332,
    ]);
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
    const f = loadFixture(
      `${FIXTURES}reference/diffusers/schedules/euler--sd-linspace.json`,
    ) as ScheduleFixture;
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
    const xp = [0, 1, 3],
      fp = [10, 20, 0];
    expect(Array.from(numpyInterp([-1, 0, 0.5, 1, 2, 3, 4], xp, fp))).toEqual([10, 10, 15, 20, 10, 0, 0]);
  });
});

describe("torch.lerp", () => {
  test("uses end - diff * (1 - w) for w >= 0.5", () => {
    // 0.5 weight: end - (end - start) * 0.5, which differs from start + 0.5 * (end - start) for these
    let differs = 0;
    for (let k = 1; k < 2000; k++) {
      const a = 1 / k,
        b = Math.sqrt(k);
      const got = lerpScalar(a, b, 0.5);
      expect(got).toBe(b - (b - a) * 0.5);
      if (got !== a + 0.5 * (b - a)) differs++;
    }
    expect(differs).toBeGreaterThan(0);
    expect(lerpScalar32(1, 2, 0.25)).toBe(1.25);
  });
});
