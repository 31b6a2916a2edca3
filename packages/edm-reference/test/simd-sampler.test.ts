/**
 * Whole sampler runs with the WebAssembly SIMD step passes against the JS loops (issue 16): the
 * model and the noise here are element-wise, so a run over a batch of SIMD_MIN elements or more
 * (the run's SIMD arena, the SIMD passes) must equal, bit for bit, the same rows run in slices
 * short enough for the JS loops. Euler and second order, with and without churn, the identity
 * schedule and a scaled one (VP: the model's input x / s(t) made by the step passes), NVlabs'
 * conventions, an onStep observer, and models that write into `out`, return a tensor of their
 * own or return their input; float32 and float64.
 */
import { SIMD_MIN, tensor } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import { edmSampler } from "../src/index.js";
import { configs, model, noise, ROWS, SLICE_ROWS } from "./simd-runs.js";

test("the batch takes the SIMD passes, the slices the JS loops", () => {
  expect(ROWS * 2).toBeGreaterThanOrEqual(SIMD_MIN);
  expect(SLICE_ROWS * 2).toBeLessThan(SIMD_MIN);
});

describe.each([
  ["float32", "into", true],
  ["float64", "into", true],
  ["float32", "into", false],
  ["float64", "into", false],
  ["float32", "own", false],
  ["float64", "own", false],
  ["float32", "input", false],
  ["float64", "input", false],
] as const)("%s, model output: %s, denoiseUniform: %s", (dtype, mode, uniform) => {
  test.each(configs)("%s: batch = slices, bit for bit", async (_name, opts) => {
    const n = ROWS * 2;
    const x0 = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let k = 0; k < n; k++) x0[k] = Math.sin(k * 0.37) * 1.2;
    const work = opts.dtype ?? dtype;
    const run = (x: Float32Array | Float64Array, rows: number, offset: number) =>
      edmSampler(model(work, mode, { uniform }), tensor(x, [rows, 2]), {
        ...opts,
        numSteps: 6,
        noise: noise(offset),
      });
    const whole = await run(x0, ROWS, 0);
    // the result owns exactly its memory: not a view on the run's arena
    expect(whole.data.byteOffset).toBe(0);
    expect(whole.data.buffer.byteLength).toBe(whole.data.byteLength);
    expect(whole.data.buffer).toBeInstanceOf(ArrayBuffer);
    // a second run (its arena on the memory the first one released) leaves that result as it was
    const kept = whole.data.slice();
    await run(
      x0.map((v) => -v),
      ROWS,
      7,
    );
    expect(whole.data).toEqual(kept);
    for (let r = 0; r < ROWS; r += SLICE_ROWS) {
      const rows = Math.min(SLICE_ROWS, ROWS - r);
      const part = await run(x0.slice(2 * r, 2 * (r + rows)), rows, 2 * r);
      for (let k = 0; k < part.data.length; k++) {
        const got = whole.data[2 * r + k],
          want = part.data[k];
        if (!Object.is(got, want)) expect({ k: 2 * r + k, got }).toEqual({ k: 2 * r + k, got: want });
      }
    }
    expect(whole.data.every(Number.isFinite)).toBe(true);
  });
});
