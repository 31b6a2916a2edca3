/**
 * Whole sampler runs with the WebAssembly SIMD step passes against the JS loops (issue 16): the
 * model and the noise here are element-wise, so a run over a batch of SIMD_MIN elements or more
 * (the run's SIMD arena, the SIMD passes) must equal, bit for bit, the same rows run in slices
 * short enough for the JS loops. Euler and second order, with and without churn, the identity
 * schedule and a scaled one (VP: the model's input x / s(t) made by the step passes), NVlabs'
 * conventions, an onStep observer, and models that write into `out`, return a tensor of their
 * own or return their input; float32 and float64.
 */
import { type Denoiser, type DType, type NoiseSource, SIMD_MIN, type Tensor, tensor } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import { type EdmSamplerOptions, edmSampler } from "../src/index.js";

const ROWS = 2600,
  SLICE_ROWS = 1000; // 5,200 elements against slices of 2,000 at most

type Mode = "own" | "into" | "input";

/**
 * D(x; σ) = x·a(σ) + b(σ)·x/(1 + x²), per element, each op rounded in the dtype: written into
 * the buffer the sampler passes ("into"), a tensor of its own ("own"), or into x itself,
 * returned ("input": the output aliases the model's input).
 */
function model(dtype: DType, mode: Mode): Denoiser {
  const r = dtype === "float32" ? Math.fround : (v: number) => v;
  return {
    denoise: async (x: Tensor, sigma: Float64Array, into?: Tensor) => {
      const s = sigma[0],
        a = r(1 / (1 + s * s)),
        b = r((0.3 * s) / (1 + s * s));
      const out =
        mode === "input"
          ? x
          : mode === "into" && into !== undefined
            ? into
            : tensor(
                dtype === "float32" ? new Float32Array(x.data.length) : new Float64Array(x.data.length),
                x.shape,
              );
      for (let k = 0; k < x.data.length; k++) {
        const v = x.data[k];
        out.data[k] = r(r(v * a) + r(b * r(v / r(1 + r(v * v)))));
      }
      return out;
    },
  };
}

/** Unit-ish noise from (element index + offset, step): the same values however sliced. */
function noise(offset: number): NoiseSource {
  return {
    randn: (out: Tensor, req) => {
      for (let k = 0; k < out.data.length; k++) {
        const h = Math.sin((offset + k) * 12.9898 + (req?.step ?? 0) * 78.233) * 43758.5453;
        out.data[k] = (h - Math.floor(h) - 0.5) * 3.4;
      }
      return out;
    },
  };
}

const configs: [string, EdmSamplerOptions][] = [
  ["euler", { solver: "euler" }],
  ["heun", { solver: "heun" }],
  ["midpoint", { solver: "midpoint" }],
  ["heun, churn", { solver: "heun", S_churn: 4, S_tmin: 0.05, S_tmax: 20 }],
  ["vp euler", { preset: "vp", solver: "euler" }],
  ["vp heun", { preset: "vp", solver: "heun" }],
  ["vp heun, churn", { preset: "vp", solver: "heun", S_churn: 3, S_tmin: 1, S_tmax: 30 }],
  ["vp heun, nvlabs", { preset: "vp", solver: "heun", conventions: "nvlabs" }],
  ["vp heun, onStep observer", { preset: "vp", solver: "heun", observer: { onStep: () => {} } }],
  ["vp euler, float64 arithmetic", { preset: "vp", solver: "euler", dtype: "float64" }],
  ["ve euler, churn", { preset: "ve", solver: "euler", S_churn: 2 }],
];

test("the batch takes the SIMD passes, the slices the JS loops", () => {
  expect(ROWS * 2).toBeGreaterThanOrEqual(SIMD_MIN);
  expect(SLICE_ROWS * 2).toBeLessThan(SIMD_MIN);
});

describe.each([
  ["float32", "into"],
  ["float64", "into"],
  ["float32", "own"],
  ["float64", "own"],
  ["float32", "input"],
  ["float64", "input"],
] as const)("%s, model output: %s", (dtype, mode) => {
  test.each(configs)("%s: batch = slices, bit for bit", async (_name, opts) => {
    const n = ROWS * 2;
    const x0 = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let k = 0; k < n; k++) x0[k] = Math.sin(k * 0.37) * 1.2;
    const work = opts.dtype ?? dtype;
    const run = (x: Float32Array | Float64Array, rows: number, offset: number) =>
      edmSampler(model(work, mode), tensor(x, [rows, 2]), { ...opts, numSteps: 6, noise: noise(offset) });
    const whole = await run(x0, ROWS, 0);
    // the result owns exactly its memory: not a view on the run's arena
    expect(whole.data.byteOffset).toBe(0);
    expect(whole.data.buffer.byteLength).toBe(whole.data.byteLength);
    expect(whole.data.buffer).toBeInstanceOf(ArrayBuffer);
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
