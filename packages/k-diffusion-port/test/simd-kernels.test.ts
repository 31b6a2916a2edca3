/**
 * The fused step kernels' WebAssembly SIMD path against their JS loops, element for element
 * (issue 16). A kernel runs on tensors of SIMD_MIN elements or more through SIMD (several
 * chunks and a partial last one here), and on shorter ones through the JS loops; the kernels are
 * element-wise, so running one on slices shorter than SIMD_MIN gives the JS result of every
 * element. Inputs are random with NaN, ±infinity, subnormals, ±0 and values near the largest
 * finite mixed in, scalars likewise; every result must be the same value (NaN matching NaN,
 * the sign of zero included).
 */
import { type DType, SIMD_MIN, SimdKernel, simdIn, type Tensor, tensor } from "@edmkit/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  axpbyNoise,
  combineStep,
  derivStep,
  eulerStep,
  heunPredict,
  heunStep,
  lmsStep,
  sde2mStep,
  sde3mStep,
} from "../src/kernels.js";
import { epsStep, errorNorm, stageStep } from "../src/dpm-kernels.js";

/** Several SIMD chunks in either dtype, and a partial last one. */
const N = 9001;
/** Slices for the JS reference: each below SIMD_MIN. */
const SLICE = 1000;

type Case = (t: Tensor[], s: number[]) => void;

const cases: [string, Case][] = [
  ["eulerStep", (t, s) => eulerStep(t[0], t[1], s[0], s[1])],
  ["derivStep in place", (t, s) => derivStep(t[0], t[0], t[0], t[1], s[0], s[1])],
  ["derivStep noise", (t, s) => derivStep(t[0], t[0], t[0], t[1], s[0], s[1], t[2], s[2], s[3])],
  ["derivStep to out", (t, s) => derivStep(t[3], t[0], t[1], t[2], s[0], s[1])],
  ["heunPredict", (t, s) => heunPredict(t[2], t[3], t[0], t[1], s[0], s[1])],
  ["heunStep", (t, s) => heunStep(t[0], t[1], t[2], t[3], s[0], s[1])],
  ["axpbyNoise", (t, s) => axpbyNoise(t[0], s[0], t[0], s[1], t[1], null, 0, 0)],
  ["axpbyNoise noise", (t, s) => axpbyNoise(t[3], s[0], t[0], s[1], t[1], t[2], s[2], s[3])],
  ["combineStep", (t, s) => combineStep(t[0], s[0], s[1], s[2], t[1], s[3], t[2])],
  ["combineStep noise", (t, s) => combineStep(t[0], s[0], s[1], s[2], t[1], s[3], t[2], t[3], s[4], s[5])],
  ...[1, 2, 3, 4].map((order): [string, Case] => [
    `lmsStep order ${order}`,
    (t, s) => lmsStep(t[0], t[1], s[0], [s[1], s[2], s[3], s[4]], [t[2], t[3], t[4], t[5]], order),
  ]),
  ...[0, 1, 2, 3].map((v): [string, Case] => [
    `sde2mStep old=${v & 1} z=${v >> 1}`,
    (t, s) =>
      sde2mStep(t[0], s[0], s[1], t[1], v & 1 ? t[2] : null, s[2], v & 2 ? t[3] : null, s[3], s[4], s[5]),
  ]),
  ...[0, 1, 2, 3, 4, 5].map((v): [string, Case] => {
    const order = (v % 3) + 1,
      z = v >= 3;
    return [
      `sde3mStep order ${order} z=${z}`,
      (t, s) =>
        sde3mStep(
          t[0],
          s[0],
          s[1],
          t[1],
          order > 1 ? t[2] : null,
          order > 2 ? t[3] : null,
          s[2],
          s[3],
          s[4],
          s[5],
          s[6],
          z ? t[4] : null,
          s[7],
          s[8],
          s[9],
        ),
    ];
  }),
  ["epsStep 1", (t, s) => epsStep(t[0], t[1], t[2], s[0], [t[3]], [s[1]])],
  ["epsStep 2", (t, s) => epsStep(t[0], t[1], t[2], s[0], [t[3], t[4]], [s[1], s[2]])],
  ["epsStep 3", (t, s) => epsStep(t[0], t[1], t[2], s[0], [t[3], t[4], t[5]], [s[1], s[2], s[3]])],
  ["stageStep", (t, s) => stageStep(t[0], s[1], s[2], t[1], t[2], s[0], t[3], t[4])],
  ["stageStep into u", (t, s) => stageStep(t[0], s[1], s[2], t[0], t[1], s[0], t[2], t[3])],
  ["stageStep noise", (t, s) => stageStep(t[0], s[1], s[2], t[1], t[2], s[0], t[3], t[4], t[5], s[3])],
  [
    "stageStep two, u second",
    (t, s) => stageStep(t[0], s[1], s[2], t[1], t[2], s[0], t[3], t[4], null, 0, t[1], s[3], s[4]),
  ],
];

const SPECIAL = [Number.NaN, Infinity, -Infinity, 0, -0, 1e-40, -3e-39, 5e-324, -1e-310, 3.3e38, -1e308];

function data(dtype: DType, seed: number, specialRate: number): Tensor[] {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  return Array.from({ length: 6 }, () => {
    const a = dtype === "float32" ? new Float32Array(N) : new Float64Array(N);
    for (let k = 0; k < N; k++) {
      a[k] =
        rand() < specialRate
          ? SPECIAL[Math.floor(rand() * SPECIAL.length)]
          : (rand() - 0.5) * 10 ** (rand() * 6 - 3);
    }
    return tensor(a, [N]);
  });
}

const clone = (t: Tensor): Tensor =>
  tensor(t.data instanceof Float32Array ? Float32Array.from(t.data) : Float64Array.from(t.data), t.shape);

/** The first index where a and b differ (NaN matches NaN; -0 does not match 0), or -1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) {
    if (!(Object.is(a[k], b[k]) || (Number.isNaN(a[k]) && Number.isNaN(b[k])))) return k;
  }
  return -1;
}

const scalar = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -20, max: 20, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL, 1, 2, 0.5) },
  { weight: 1, arbitrary: fc.double() },
);

test("WebAssembly SIMD is available in node, and SIMD_MIN is above the slices", () => {
  expect(new SimdKernel({ inputs: 1, params: 0, outputs: [simdIn(0)] }).ready()).toBe(true);
  expect(SLICE).toBeLessThan(SIMD_MIN);
  expect(N).toBeGreaterThan(SIMD_MIN);
});

describe.each(["float32", "float64"] as const)("SIMD = JS loops, %s", (dtype) => {
  test.each(cases)("%s", (_name, run) => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom(0, 0.01, 0.2),
        fc.array(scalar, { minLength: 10, maxLength: 10 }),
        (seed, rate, s) => {
          const simd = data(dtype, seed, rate);
          const js = simd.map(clone);
          run(simd, s);
          for (let a = 0; a < N; a += SLICE) {
            const b = Math.min(N, a + SLICE);
            run(
              js.map((t) => tensor(t.data.subarray(a, b), [b - a])),
              s,
            );
          }
          for (let j = 0; j < simd.length; j++) {
            const k = firstDiff(simd[j].data, js[j].data);
            if (k >= 0)
              expect({ tensor: j, k, simd: simd[j].data[k] }).toEqual({ tensor: j, k, simd: js[j].data[k] });
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe.each(["float32", "float64"] as const)("errorNorm, %s", (dtype) => {
  test("the SIMD quotients (with a scratch tensor) = the JS loop, NaN and zeros included", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom(0, 0.0005, 0.01),
        fc.constantFrom(0.0078, 0, 1e-300, 0.5),
        fc.constantFrom(0.05, 0, 2, 1e-30),
        (seed, rate, atol, rtol) => {
          const [low, high, prev, scratch] = data(dtype, seed, rate);
          const simd = errorNorm(low, high, prev, atol, rtol, scratch);
          const js = errorNorm(low, high, prev, atol, rtol);
          expect(Object.is(simd, js) || (Number.isNaN(simd) && Number.isNaN(js))).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });
});
