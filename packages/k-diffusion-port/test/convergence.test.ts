/**
 * Convergence order on the exact mixture denoiser (float64): each ODE sampler runs on the
 * same initial points with exponential schedules of N steps from sigma 80 to 0.1 (no final
 * step into 0, so every step is a regular step of the method), and its error against a
 * Richardson-extrapolated Heun reference (4096 / 8192 steps) must halve at the method's
 * order as N doubles. The order is the least-squares slope of log(error) over log(N).
 */
import { GaussianMixture, maxAbsDiff, type Tensor, tensor } from "@edmkit/core";
import { beforeAll, describe, expect, test } from "vitest";
import { getSigmasExponential, sampleDpmpp2m, sampleEuler, sampleHeun, sampleLms } from "../src/index.js";

const ring = new GaussianMixture({
  dim: 2,
  weights: Array(8).fill(1),
  means: Array.from({ length: 8 }, (_, k) => [
    2 * Math.cos((2 * Math.PI * k) / 8),
    2 * Math.sin((2 * Math.PI * k) / 8),
  ]),
  stds: Array(8).fill(0.3),
});
const x0 = tensor(
  Float64Array.from({ length: 32 }, (_, k) => 80 * Math.sin(1.7 * k + 0.3)),
  [16, 2],
);
/** N steps, sigma 80 -> 0.1 evenly in log sigma. */
const schedule = (n: number) => getSigmasExponential(n + 1, 0.1, 80).subarray(0, n + 1);

let reference: Float64Array;

beforeAll(async () => {
  const coarse = await sampleHeun(ring, x0, schedule(4096));
  const fine = await sampleHeun(ring, x0, schedule(8192));
  reference = fine.data.map((v, k) => (4 * v - coarse.data[k]) / 3) as Float64Array;
  // The extrapolation must be far below the errors measured (Heun alone is at ~1e-7 here).
  expect(maxAbsDiff(coarse.data, fine.data)).toBeLessThan(1e-6);
});

function fittedOrder(ns: number[], errs: number[]): number {
  const xs = ns.map(Math.log),
    ys = errs.map(Math.log);
  const mx = xs.reduce((a, b) => a + b) / xs.length,
    my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0,
    den = 0;
  for (let k = 0; k < xs.length; k++) {
    num += (xs[k] - mx) * (ys[k] - my);
    den += (xs[k] - mx) ** 2;
  }
  return -num / den;
}

type Sampler = (x: Tensor, sigmas: ArrayLike<number>) => Promise<Tensor>;

const cases: { name: string; run: Sampler; ns: number[]; band: [number, number] }[] = [
  { name: "sample_euler", run: (x, s) => sampleEuler(ring, x, s), ns: [64, 128, 256], band: [0.9, 1.1] },
  { name: "sample_heun", run: (x, s) => sampleHeun(ring, x, s), ns: [64, 128, 256], band: [1.9, 2.2] },
  {
    name: "sample_lms (order 4)",
    run: (x, s) => sampleLms(ring, x, s, { order: 4 }),
    ns: [128, 256, 512],
    band: [3.6, 4.4],
  },
  { name: "sample_dpmpp_2m", run: (x, s) => sampleDpmpp2m(ring, x, s), ns: [64, 128, 256], band: [1.9, 2.2] },
];

describe("convergence order on the exact mixture ODE", () => {
  for (const c of cases) {
    test(`${c.name}: order in [${c.band[0]}, ${c.band[1]}]`, async () => {
      const errs: number[] = [];
      for (const n of c.ns) errs.push(maxAbsDiff((await c.run(x0, schedule(n))).data, reference));
      const order = fittedOrder(c.ns, errs);
      expect(order, `errors ${errs.map((e) => e.toExponential(2)).join(", ")}`).toBeGreaterThanOrEqual(
        c.band[0],
      );
      expect(order).toBeLessThanOrEqual(c.band[1]);
    });
  }
});
