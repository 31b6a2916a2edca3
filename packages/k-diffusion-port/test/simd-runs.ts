/**
 * What the whole-run SIMD tests share (simd-samplers, deferred-check, simd-threads): an
 * element-wise model and noise (so a batch and its slices give the same values), and every
 * sampler of the step bench with options that exercise its noise and churn. dpm_adaptive's
 * error norm is over the whole batch, so its runs here have the PID coefficients 0 (every
 * attempt accepted, h fixed: the norm is computed but decides nothing).
 */
import { type Denoiser, type DType, type NoiseSource, type Tensor, tensor } from "@edmkit/core";
import {
  sampleDpm2,
  sampleDpm2Ancestral,
  sampleDpmAdaptive,
  sampleDpmFast,
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

export const ROWS = 2600,
  SLICE_ROWS = 1000; // 5,200 elements against slices of 2,000 at most
export const sigmas = [12, 6, 3, 1.5, 0.7, 0.3, 0.1, 0];

/** A value a model call writes over its output, for the NaN-rule tests. */
export interface Poison {
  /** the model call (1 = first) */
  call: number;
  /** the element, as an index into the whole batch */
  at: number;
  value: number;
  /** the index of this tensor's first element in the whole batch (slices) */
  offset: number;
}

/**
 * D(x; σ) = x·a(σ) + b(σ)·sin-ish(x), per element, each op rounded in the dtype; with `intoOut`
 * written into the buffer the sampler passes (for a large batch, one in the run's SIMD arena, so
 * the step kernels run in place on every operand), otherwise into a tensor of its own. With
 * `uniform` it also takes sigma as one number (`denoiseUniform`); with `poison` one call writes
 * a given value over one element.
 */
export function model(
  dtype: DType,
  intoOut = false,
  opts: { uniform?: boolean; poison?: Poison } = {},
): Denoiser {
  const r = dtype === "float32" ? Math.fround : (v: number) => v;
  let calls = 0;
  const denoise = async (x: Tensor, s: number, into?: Tensor) => {
    const a = r(1 / (1 + s * s)),
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
    const p = opts.poison;
    calls++;
    if (p !== undefined && calls === p.call && p.at >= p.offset && p.at < p.offset + x.data.length) {
      out.data[p.at - p.offset] = p.value;
    }
    return out;
  };
  const perRow = (x: Tensor, sigma: Float64Array, into?: Tensor) => denoise(x, sigma[0], into);
  return opts.uniform ? { denoise: perRow, denoiseUniform: denoise } : { denoise: perRow };
}

/** Unit-ish noise from (element index + offset, call number): the same values however sliced. */
export function noise(offset: number): NoiseSource {
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

/** dpm_adaptive with every attempt accepted and h fixed (six attempts from sigma 12 to 0.1). */
const fixedH = { pcoeff: 0, icoeff: 0, dcoeff: 0, hInit: 0.8 };

export type Run = (m: Denoiser, x: Tensor, n: NoiseSource) => Promise<Tensor>;
export const runs: [string, Run][] = [
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
  // orders 3, 3, 3, 1 with noise; 3, 3, 2 without
  ["dpm_fast (eta)", (m, x, n) => sampleDpmFast(m, x, 0.1, 12, 10, { eta: 0.5, noiseSampler: n })],
  ["dpm_fast", (m, x) => sampleDpmFast(m, x, 0.1, 12, 8)],
  [
    "dpm_adaptive (eta)",
    (m, x, n) => sampleDpmAdaptive(m, x, 0.1, 12, { ...fixedH, eta: 0.4, noiseSampler: n }),
  ],
  [
    "dpm_adaptive order 2",
    (m, x, n) => sampleDpmAdaptive(m, x, 0.1, 12, { ...fixedH, order: 2, noiseSampler: n }),
  ],
];
