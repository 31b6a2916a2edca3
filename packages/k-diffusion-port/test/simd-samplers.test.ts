/**
 * Whole sampler runs with the WebAssembly SIMD kernels against the JS loops (issue 16): the
 * model and the noise here are element-wise, so a run over a batch of SIMD_MIN elements or more
 * (SIMD kernels) must equal, bit for bit, the same rows run in slices short enough for the JS
 * loops. Every sampler of the step bench, float32 and float64, to a final sigma of 0.
 */
import { SIMD_MIN, tensor } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import { model, noise, ROWS, runs, SLICE_ROWS } from "./simd-runs.js";

test("the batch takes the SIMD kernels, the slices the JS loops", () => {
  expect(ROWS * 2).toBeGreaterThanOrEqual(SIMD_MIN);
  expect(SLICE_ROWS * 2).toBeLessThan(SIMD_MIN);
});

describe.each([
  ["float32", false],
  ["float64", false],
  ["float32", true],
  ["float64", true],
] as const)("%s, model writing into out: %s", (dtype, intoOut) => {
  test.each(runs)("%s: batch = slices, bit for bit", async (_name, run) => {
    const n = ROWS * 2;
    const x0 = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let k = 0; k < n; k++) x0[k] = Math.sin(k * 0.37) * 12;
    const whole = await run(model(dtype, intoOut), tensor(x0, [ROWS, 2]), noise(0));
    const kept = whole.data.slice();
    // the result owns exactly its memory: not a view on the run's arena
    expect(whole.data.byteOffset).toBe(0);
    expect(whole.data.buffer.byteLength).toBe(whole.data.byteLength);
    expect(whole.data.buffer).toBeInstanceOf(ArrayBuffer);
    // a second run (its own arena) leaves the first one's result as it was
    await run(
      model(dtype, intoOut),
      tensor(
        x0.map((v) => -v),
        [ROWS, 2],
      ),
      noise(7),
    );
    expect(whole.data).toEqual(kept);
    for (let r = 0; r < ROWS; r += SLICE_ROWS) {
      const rows = Math.min(SLICE_ROWS, ROWS - r);
      const part = await run(model(dtype), tensor(x0.slice(2 * r, 2 * (r + rows)), [rows, 2]), noise(2 * r));
      for (let k = 0; k < part.data.length; k++) {
        const got = whole.data[2 * r + k],
          want = part.data[k];
        if (!Object.is(got, want)) expect({ k: 2 * r + k, got }).toEqual({ k: 2 * r + k, got: want });
      }
    }
    expect(whole.data.every(Number.isFinite)).toBe(true);
  });
});
