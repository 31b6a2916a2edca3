/**
 * The Euler and Euler-ancestral step passes' WebAssembly SIMD path against their JS loops,
 * element for element (issue 16): a pass over SIMD_MIN elements or more runs through SIMD,
 * one over shorter slices through the loops, and the passes are element-wise. Random samples,
 * model outputs and noise with NaN, ±infinity, subnormals, ±0 and huge values mixed in (values
 * beyond float32's range too, which the float32 read of the sample turns into infinity), random
 * scalars (float32 values in a float32 step, as the schedulers pass them); every prediction type and churn on and off; both outputs must match value for value
 * (NaN matching NaN, the sign of zero included).
 */
import { type DType, SIMD_MIN } from "@edmkit/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { applyDpmUpdate } from "../src/dpm-solver.js";
import { eulerAncestralElements, eulerElements } from "../src/step-kernels.js";

const N = 9001,
  SLICE = 1000;
const SPECIAL = [
  Number.NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  1e-40,
  -3e-39,
  5e-324,
  -1e-310,
  3.3e38,
  -1e308,
  1e39,
];

type Arrays = Float32Array[] | Float64Array[];

function data(dtype: DType, seed: number, rate: number): Arrays {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const make = () => {
    const a = dtype === "float32" ? new Float32Array(N) : new Float64Array(N);
    for (let k = 0; k < N; k++)
      a[k] =
        rand() < rate
          ? SPECIAL[Math.floor(rand() * SPECIAL.length)]
          : (rand() - 0.5) * 10 ** (rand() * 6 - 3);
    return a;
  };
  return [make(), make(), make(), make(), make()] as Arrays;
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

const scalar = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -20, max: 20, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL, 1, 0.5) },
);

type Pass = (dtype: DType, a: Arrays, s: number[]) => void;
const passes: [string, Pass][] = [];
for (const mode of [0, 1, 2])
  for (const churn of [false, true])
    passes.push([
      `euler mode ${mode} churn ${churn}`,
      (dtype, [x, mo, z, pd, xd], s) =>
        eulerElements(dtype, {
          x,
          mo,
          noise: churn ? z : null,
          pd,
          xd,
          mode,
          sigmaHat: s[0],
          dt: s[1],
          vOut: s[2],
          vDen: s[3],
          sNoiseT: s[4],
          churnScale: s[5],
        }),
    ]);
for (const mode of [0, 1])
  passes.push([
    `euler ancestral mode ${mode}`,
    (dtype, [x, mo, e, pd, xd], s) =>
      eulerAncestralElements(dtype, {
        x,
        mo,
        e,
        pd,
        xd,
        mode,
        sigma: s[0],
        dt: s[1],
        vOut: s[2],
        vDen: s[3],
        sigmaUp: s[4],
      }),
  ]);

// DPMSolverMultistep's update: order 1..3, with and without noise (a float32 buffer in either
// dtype), the rounders its step passes (sample, sample term and noise term float32; the result
// in the dtype)
for (const order of [1, 2, 3] as const)
  for (const noisy of [false, true])
    passes.push([
      `dpm update order ${order} noise ${noisy}`,
      (dtype, [x, m0, m1, m2, out], s) => {
        const f = Math.fround,
          r = dtype === "float32" ? f : (v: number) => v;
        const u = {
          order,
          a: s[0],
          b0: s[1],
          b1: s[2],
          b2: s[3],
          cn: s[4],
          c0: s[5],
          c1: f(s[0] - s[1]),
          cr: f(s[2] / 3),
          c2: f(s[5] * 2),
        };
        const noise = noisy ? Float32Array.from(m2, (v) => f(v * 0.7)) : null;
        applyDpmUpdate(u, x, [m0, m1, m2], noise, out, f, f, r, f);
      },
    ]);

test("the arrays are long enough for SIMD, the slices short enough for the loops", () => {
  expect(N).toBeGreaterThan(SIMD_MIN);
  expect(SLICE).toBeLessThan(SIMD_MIN);
});

describe.each(["float32", "float64"] as const)("SIMD = JS loops, %s", (dtype) => {
  test.each(passes)("%s", (_name, pass) => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom(0, 0.01, 0.2),
        fc.array(scalar, { minLength: 6, maxLength: 6 }),
        (seed, rate, scalars) => {
          // the scheduler hands the passes its 0-d scalars as it holds them: float32 values in a
          // float32 step
          const s = dtype === "float32" ? scalars.map(Math.fround) : scalars;
          const simd = data(dtype, seed, rate);
          const js = simd.map((a) => a.slice()) as Arrays;
          pass(dtype, simd, s);
          for (let a = 0; a < N; a += SLICE) {
            const b = Math.min(N, a + SLICE);
            pass(dtype, js.map((t) => t.subarray(a, b)) as Arrays, s);
          }
          for (let j = 0; j < simd.length; j++) {
            for (let k = 0; k < N; k++) {
              if (!same(simd[j][k], js[j][k])) expect({ j, k, v: simd[j][k] }).toEqual({ j, k, v: js[j][k] });
            }
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});
