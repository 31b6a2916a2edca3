/**
 * The hand-written backward pass against central finite differences (the one place finite
 * differences are the right check), the matrix kernel against a naive product, Adam's
 * update against its formula, and the learning-rate schedules.
 */
import { describe, expect, it } from "vitest";
import { gemmABt } from "../src/training/kernels.js";
import {
  Adam,
  edmPrecond,
  initParameters,
  learningRate,
  MlpPass,
  ToyMlpDenoiser,
  ToyRng,
  type ToyMlpArchitecture,
} from "../src/training/index.js";
import { libm, tensor } from "@edmkit/core";

function gradientCheck(
  arch: ToyMlpArchitecture,
  sigmaData: number,
  rows: number,
  seed: number,
): { maxRel: number; checked: number } {
  const rng = new ToyRng(seed);
  const params = initParameters(arch, rng);
  // larger-than-init weights so every SiLU works in its curved region
  for (let i = 0; i < params.length; i++) params[i] *= 2.5;
  const pass = new MlpPass(arch, sigmaData, params, rows, true);
  const y = rng.normalInto(new Float64Array(rows * arch.dim));
  const noise = rng.normalInto(new Float64Array(rows * arch.dim));
  // sigmas spread over the whole EDM range, so every preconditioning regime is exercised
  const sigma = Float64Array.from({ length: rows }, (_, r) =>
    Math.exp(Math.log(0.005) + ((Math.log(60) - Math.log(0.005)) * r) / (rows - 1)),
  );
  const loss = pass.lossAndGrad(y, sigma, noise, rows);
  expect(pass.loss(y, sigma, noise, rows)).toBe(loss);
  const grad = Float64Array.from(pass.grad);
  let maxRel = 0;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    const h = 1e-5 * Math.max(1, Math.abs(p));
    params[i] = p + h;
    const up = pass.loss(y, sigma, noise, rows);
    params[i] = p - h;
    const down = pass.loss(y, sigma, noise, rows);
    params[i] = p;
    const numeric = (up - down) / (2 * h);
    const rel = Math.abs(numeric - grad[i]) / Math.max(1e-6, Math.abs(numeric) + Math.abs(grad[i]));
    maxRel = Math.max(maxRel, rel);
  }
  return { maxRel, checked: params.length };
}

describe("MlpPass.lossAndGrad", () => {
  it("matches central finite differences on a tiny 2-D network (every parameter)", () => {
    const arch = { dim: 2, hidden: 5, depth: 3, frequencies: [0.5, 1, 2] };
    const { maxRel, checked } = gradientCheck(arch, 1.42, 9, 1);
    expect(checked).toBe((9 + 1) * 5 + 2 * (5 + 1) * 5 + (5 + 1) * 2);
    expect(maxRel).toBeLessThan(1e-6);
  });

  it("matches finite differences for dim 1, other widths/depths and odd batch sizes (kernel tails)", () => {
    for (const [arch, rows] of [
      [{ dim: 1, hidden: 7, depth: 2, frequencies: [0.5, 1, 2] }, 5],
      [{ dim: 3, hidden: 4, depth: 1, frequencies: [1] }, 6],
      [{ dim: 1, hidden: 6, depth: 4, frequencies: [] }, 11],
    ] as const) {
      expect(gradientCheck(arch, 0.8, rows, 7).maxRel, JSON.stringify(arch)).toBeLessThan(1e-6);
    }
  });

  it("computes D = c_skip x + c_out F and the EDM loss weight (lambda c_out^2 = 1)", () => {
    const arch = { dim: 1, hidden: 4, depth: 3, frequencies: [0.5, 1, 2] };
    const model = ToyMlpDenoiser.create({ ...arch, sigmaData: 0.5, seed: 4 });
    // a zero last layer makes F = 0, so D is exactly c_skip x
    model.parameters.fill(0, model.parameters.length - 5);
    const out = model.denoiseSync(tensor([2, -3], [2, 1]), [0.5, 2]);
    expect(out.data[0]).toBeCloseTo(2 * (0.25 / (0.25 + 0.25)), 15);
    expect(out.data[1]).toBeCloseTo(-3 * (0.25 / (4 + 0.25)), 15);
    for (const s of [0.002, 0.3, 1, 80]) {
      const c = edmPrecond(s, 0.5);
      const lambda = (s * s + 0.25) / (s * 0.5) ** 2;
      expect(lambda * c.cOut * c.cOut).toBeCloseTo(1, 12);
      expect(c.cSkip + (c.cOut / 0.5) ** 2).toBeCloseTo(1, 12);
      expect(c.cNoise).toBe(libm.log(s) / 4); // core's correctly rounded log: the same on every runtime
    }
  });
});

describe("gemmABt", () => {
  it("equals the naive product for every tail combination, with and without bias", () => {
    const rng = new ToyRng(3);
    for (const M of [1, 3, 4, 5, 9]) {
      for (const N of [1, 2, 4, 6, 7]) {
        for (const K of [1, 3, 8]) {
          const A = rng.normalInto(new Float64Array(M * K));
          const B = rng.normalInto(new Float64Array(N * K));
          const bias = rng.normalInto(new Float64Array(N));
          for (const b of [null, bias]) {
            const C = new Float64Array(M * N).fill(NaN);
            gemmABt(A, B, C, M, N, K, b);
            for (let m = 0; m < M; m++) {
              for (let n = 0; n < N; n++) {
                let s = b === null ? 0 : b[n];
                for (let k = 0; k < K; k++) s += A[m * K + k] * B[n * K + k];
                expect(C[m * N + n]).toBeCloseTo(s, 12);
              }
            }
          }
        }
      }
    }
  });
});

describe("Adam", () => {
  it("follows torch's bias-corrected update", () => {
    const adam = new Adam(3);
    const p = Float64Array.from([1, -2, 0.5]);
    const g1 = Float64Array.from([0.3, -4, 0]);
    adam.step(p, g1, 0.1);
    // first step: m_hat = g, v_hat = g^2, so the move is lr g / (|g| + eps)
    expect(p[0]).toBeCloseTo(1 - 0.1 * (0.3 / (0.3 + 1e-8)), 14);
    expect(p[1]).toBeCloseTo(-2 + 0.1 * (4 / (4 + 1e-8)), 14);
    expect(p[2]).toBe(0.5);
    const g2 = Float64Array.from([0.1, 1, 2]);
    const before = Float64Array.from(p);
    adam.step(p, g2, 0.05);
    for (let i = 0; i < 3; i++) {
      const m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i];
      const v = 0.999 * (0.001 * g1[i] ** 2) + 0.001 * g2[i] ** 2;
      const expected =
        before[i] - ((0.05 / (1 - 0.81)) * m) / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-8);
      expect(p[i]).toBeCloseTo(expected, 14);
    }
    expect(adam.steps).toBe(2);
  });
});

describe("learningRate", () => {
  it("onecycle rises from lr/25 to lr over pctStart, then anneals to lr/25/1e4", () => {
    const total = 200;
    const s = { kind: "onecycle", pctStart: 0.1 } as const;
    const lrs = Array.from({ length: total }, (_, i) => learningRate(s, 0.01, i, total));
    expect(lrs[0]).toBeCloseTo(0.01 / 25, 15);
    expect(lrs[19]).toBeCloseTo(0.01, 15); // peak at pctStart * total - 1
    expect(lrs[total - 1]).toBeCloseTo(0.01 / 25 / 1e4, 15);
    // cosine halfway down the second phase
    expect(learningRate(s, 0.01, 19 + 90, total)).toBeCloseTo((0.01 + 0.01 / 25 / 1e4) / 2, 15);
    for (let i = 1; i < total; i++) {
      if (i <= 19) expect(lrs[i]).toBeGreaterThan(lrs[i - 1]);
      else expect(lrs[i]).toBeLessThan(lrs[i - 1]);
    }
  });

  it("constant warms up linearly", () => {
    const s = { kind: "constant", warmupSteps: 4 } as const;
    expect([0, 1, 2, 3, 4, 50].map((i) => learningRate(s, 0.02, i, 100))).toEqual([
      0.005, 0.01, 0.015, 0.02, 0.02, 0.02,
    ]);
    expect(learningRate({ kind: "constant" }, 0.02, 0, 100)).toBe(0.02);
  });
});
