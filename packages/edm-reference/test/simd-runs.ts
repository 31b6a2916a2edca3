/**
 * What the whole-run SIMD tests share (simd-sampler, deferred-check, simd-threads): an
 * element-wise model and noise (so a batch and its slices give the same values), and sampler
 * configurations that exercise every step pass: Euler and second order, churn, the identity
 * schedule and a scaled one (VP: the model's input x / s(t) made by the passes), NVlabs'
 * conventions, an onStep observer.
 */
import { type Denoiser, type DType, type NoiseSource, type Tensor, tensor } from "@edmkit/core";
import type { EdmSamplerOptions } from "../src/index.js";

/** 5,200 elements (SIMD passes) against slices of 2,000 at most (JS loops). */
export const ROWS = 2600,
  SLICE_ROWS = 1000;

/** Where the model writes: the buffer it is handed, a tensor of its own, or its input. */
export type Mode = "into" | "own" | "input";

/** The model's `call`-th output (from 1) gets `value` at element `at` (`offset` of the batch). */
export interface Poison {
  call: number;
  at: number;
  value: number;
  offset: number;
}

/**
 * D(x; σ) = x·a(σ) + b(σ)·x/(1 + x²), per element, each op rounded in the dtype, written as
 * `mode` says; with `uniform` it also takes sigma as one number (`denoiseUniform`); with
 * `poison` one call writes a value of its choosing into one element.
 */
export function model(dtype: DType, mode: Mode, opts: { uniform?: boolean; poison?: Poison } = {}): Denoiser {
  const r = dtype === "float32" ? Math.fround : (v: number) => v;
  let calls = 0;
  const denoise = async (x: Tensor, s: number, into?: Tensor): Promise<Tensor> => {
    const a = r(1 / (1 + s * s)),
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
    const p = opts.poison;
    calls++;
    if (p !== undefined && calls === p.call && p.at >= p.offset && p.at - p.offset < out.data.length)
      out.data[p.at - p.offset] = p.value;
    return out;
  };
  const perRow = (x: Tensor, sigma: Float64Array, into?: Tensor) => denoise(x, sigma[0], into);
  return opts.uniform ? { denoise: perRow, denoiseUniform: denoise } : { denoise: perRow };
}

/** Unit-ish noise from (element index + offset, step): the same values however sliced. */
export function noise(offset: number): NoiseSource {
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

export const configs: [string, EdmSamplerOptions][] = [
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
