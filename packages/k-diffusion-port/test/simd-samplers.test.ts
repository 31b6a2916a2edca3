/**
 * Whole sampler runs with the WebAssembly SIMD kernels against the JS loops (issue 16): the
 * model and the noise here are element-wise, so a run over a batch of SIMD_MIN elements or more
 * (SIMD kernels) must equal, bit for bit, the same rows run in slices short enough for the JS
 * loops. Every sampler of the step bench, float32 and float64, to a final sigma of 0.
 */
import { type Denoiser, type DType, type NoiseSource, SIMD_MIN, type Tensor, tensor } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import {
  sampleDpm2,
  sampleDpm2Ancestral,
  sampleDpmpp2m,
  sampleDpmpp2mSde,
  sampleDpmpp2sAncestral,
  sampleDpmpp3mSde,
  sampleDpmppSde,
  sampleEuler,
  sampleEulerAncestral,
  sampleHeun,
  sampleLms,
} from "../src/index.js";

const ROWS = 2600,
  SLICE_ROWS = 1000; // 5,200 elements against slices of 2,000 at most
const sigmas = [12, 6, 3, 1.5, 0.7, 0.3, 0.1, 0];

/**
 * D(x; σ) = x·a(σ) + b(σ)·sin-ish(x), per element, each op rounded in the dtype; with `intoOut`
 * written into the buffer the sampler passes (for a large batch, one in the run's SIMD arena, so
 * the step kernels run in place on every operand), otherwise into a tensor of its own.
 */
function model(dtype: DType, intoOut = false): Denoiser {
  const r = dtype === "float32" ? Math.fround : (v: number) => v;
  return {
    denoise: async (x: Tensor, sigma: Float64Array, into?: Tensor) => {
      const s = sigma[0],
        a = r(1 / (1 + s * s)),
        b = r((0.3 * s) / (1 + s * s));
      const out =
        intoOut && into !== undefined
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

/** Unit-ish noise from (element index + offset, call number): the same values however sliced. */
function noise(offset: number): NoiseSource {
  let call = 0;
  return {
    randn: (out: Tensor) => {
      call++;
      for (let k = 0; k < out.data.length; k++) {
        const h = Math.sin((offset + k) * 12.9898 + call * 78.233) * 43758.5453;
        out.data[k] = (h - Math.floor(h) - 0.5) * 3.4;
      }
      return out;
    },
  };
}

type Run = (m: Denoiser, x: Tensor, n: NoiseSource) => Promise<Tensor>;
const runs: [string, Run][] = [
  ["euler (churn)", (m, x, n) => sampleEuler(m, x, sigmas, { sChurn: 2, noise: n })],
  ["euler_ancestral", (m, x, n) => sampleEulerAncestral(m, x, sigmas, { noiseSampler: n })],
  ["heun", (m, x, n) => sampleHeun(m, x, sigmas, { sChurn: 1, noise: n })],
  ["dpm_2", (m, x) => sampleDpm2(m, x, sigmas)],
  ["dpm_2_ancestral", (m, x, n) => sampleDpm2Ancestral(m, x, sigmas, { noiseSampler: n })],
  ["lms", (m, x) => sampleLms(m, x, sigmas)],
  ["dpmpp_2s_ancestral", (m, x, n) => sampleDpmpp2sAncestral(m, x, sigmas, { noiseSampler: n })],
  ["dpmpp_2m", (m, x) => sampleDpmpp2m(m, x, sigmas)],
  ["dpmpp_sde", (m, x, n) => sampleDpmppSde(m, x, sigmas, { noiseSampler: n })],
  ["dpmpp_2m_sde", (m, x, n) => sampleDpmpp2mSde(m, x, sigmas, { noiseSampler: n })],
  ["dpmpp_3m_sde", (m, x, n) => sampleDpmpp3mSde(m, x, sigmas, { noiseSampler: n })],
];

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
