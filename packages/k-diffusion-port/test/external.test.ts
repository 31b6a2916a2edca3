/**
 * The model wrappers of external.py against the exact mixture: an ideal eps / v model wrapped
 * back into a denoiser must give the mixture's D(x; sigma).
 */
import { DiscreteGmmModel, type DiscreteModel, GaussianMixture, type Tensor, tensor } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import {
  CompVisDenoiser,
  DiscreteEpsDDPMDenoiser,
  DiscreteSchedule,
  OpenAIDenoiser,
  VDenoiser,
  wrappers,
} from "../src/index.js";
import { latent } from "./helpers.js";

const gmm = {
  dim: 2,
  weights: [1, 2, 1],
  means: [
    [-1, 0],
    [1, 1],
    [0, -2],
  ],
  stds: [0.3, 0.5, 0.2],
};
const mixture = new GaussianMixture(gmm);
/** scaled_linear betas (Stable Diffusion), T = 1000 */
const alphas = (() => {
  const out = new Float64Array(1000);
  let acc = 1;
  for (let j = 0; j < 1000; j++) {
    const b = (Math.sqrt(0.00085) + (j / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2;
    acc *= 1 - b;
    out[j] = acc;
  }
  return out;
})();

function maxDiff(a: Tensor, b: Tensor): number {
  let m = 0;
  for (let k = 0; k < a.data.length; k++) m = Math.max(m, Math.abs(a.data[k] - b.data[k]));
  return m;
}

describe("DiscreteEpsDDPMDenoiser", () => {
  const eps = new DiscreteGmmModel({ gmm, alphasCumprod: alphas, prediction: "epsilon" });
  const wrapped = new DiscreteEpsDDPMDenoiser(eps, alphas);

  test("an ideal eps model wrapped is the mixture's denoiser (non-quantized)", async () => {
    const x = latent(8, 2, 3, 2);
    for (const s of [0.05, 0.4, 1.7, 9.3]) {
      const sig = new Float64Array(8).fill(s);
      expect(maxDiff(await wrapped.denoise(x, sig), mixture.denoiseSync(x, sig))).toBeLessThan(1e-12);
    }
  });

  test("sigma_to_t / t_to_sigma invert each other inside the table and clamp outside", () => {
    for (const t of [0, 1, 17.25, 500.5, 998.75, 999]) {
      const s = wrapped.tToSigma(t);
      expect(wrapped.sigmaToT(s)).toBeCloseTo(t, 9);
    }
    expect(wrapped.sigmaToT(wrapped.sigmaMax * 10)).toBe(999);
    expect(wrapped.sigmaToT(wrapped.sigmaMin / 10)).toBe(0);
  });

  test("quantize picks the nearest training sigma (in log) as an integer", () => {
    const s = Math.sqrt(wrapped.sigmas[100] * wrapped.sigmas[101]) * 1.0001; // just above the log midpoint
    expect(wrapped.sigmaToT(s, { quantize: true })).toBe(101);
    expect(wrapped.sigmaToT(s / 1.0002, { quantize: true })).toBe(100);
    const q = new DiscreteEpsDDPMDenoiser(eps, alphas, { quantize: true });
    expect(Number.isInteger(q.sigmaToT(3.3))).toBe(true);
  });

  test("get_sigmas(): the table reversed with a trailing 0; get_sigmas(n) ends at sigma_min", () => {
    const all = wrapped.getSigmas();
    expect(all.length).toBe(1001);
    expect(all[0]).toBe(wrapped.sigmaMax);
    expect(all[999]).toBe(wrapped.sigmaMin);
    expect(all[1000]).toBe(0);
    const s = wrapped.getSigmas(10);
    expect(s.length).toBe(11);
    expect(s[9]).toBeCloseTo(wrapped.sigmaMin, 14);
  });

  test("t_to_sigma casts t to float32 first (quirk 6)", () => {
    const t = 123.456789012345;
    const f = Math.fround(t);
    expect(wrapped.tToSigma(t)).toBe(wrapped.tToSigma(f));
    const w = f - Math.floor(f);
    const expected = Math.exp(Math.fround(1 - w) * wrapped.logSigmas[123] + w * wrapped.logSigmas[124]);
    expect(wrapped.tToSigma(t)).toBe(expected);
  });

  test("CompVisDenoiser takes the model's alphas_cumprod as float32", async () => {
    const model = Object.assign(new DiscreteGmmModel({ gmm, alphasCumprod: alphas }), {
      alphasCumprod: alphas,
    });
    const cv = new CompVisDenoiser(model);
    expect(cv.tableDtype).toBe("float32");
    for (const v of cv.sigmas) expect(Math.fround(v)).toBe(v);
    const x = latent(4, 2, 2, 1);
    const sig = new Float64Array(4).fill(0.8);
    expect(maxDiff(await cv.denoise(x, sig), mixture.denoiseSync(x, sig))).toBeLessThan(1e-5);
  });

  test("OpenAIDenoiser keeps the eps half of a learned-sigma output", async () => {
    const doubled: DiscreteModel = {
      prediction: "epsilon",
      async predict(sample, t) {
        const e = eps.predictSync(sample, t);
        const b = sample.shape[0],
          per = sample.data.length / b;
        const out = new Float64Array(2 * sample.data.length).fill(NaN);
        for (let i = 0; i < b; i++) out.set(e.data.subarray(i * per, (i + 1) * per), 2 * i * per);
        return tensor(out, [b, 2 * sample.shape[1]]);
      },
    };
    const oa = new OpenAIDenoiser(doubled, alphas, { tableDtype: "float64" });
    const x = latent(4, 2, 2, 3);
    const sig = new Float64Array(4).fill(1.2);
    expect(maxDiff(await oa.denoise(x, sig), await wrapped.denoise(x, sig))).toBe(0);
  });

  test("a v model cannot be wrapped as eps", () => {
    const v = new DiscreteGmmModel({ gmm, alphasCumprod: alphas, prediction: "v_prediction" });
    expect(() => new DiscreteEpsDDPMDenoiser(v, alphas)).toThrow(
      /DiscreteEpsDDPMDenoiser: the inner model predicts "v_prediction"/,
    );
    expect(() => new DiscreteEpsDDPMDenoiser(eps, [0.5, 1.5])).toThrow(
      /alphas_cumprod values must lie in \(0, 1\)/,
    );
  });
});

describe("v-prediction wrappers", () => {
  test("DiscreteVDDPMDenoiser on an ideal v model is the mixture's denoiser", async () => {
    const v = new DiscreteGmmModel({ gmm, alphasCumprod: alphas, prediction: "v_prediction" });
    const w = wrappers.DiscreteVDDPMDenoiser(v, alphas, { quantize: false });
    const x = latent(8, 2, 3, 4);
    for (const s of [0.05, 1, 7]) {
      const sig = new Float64Array(8).fill(s);
      expect(maxDiff(await w.denoise(x, sig), mixture.denoiseSync(x, sig))).toBeLessThan(1e-12);
    }
  });

  test("VDenoiser (continuous t = atan(sigma) 2/pi) on an ideal v model is the denoiser", async () => {
    const inner: DiscreteModel = {
      prediction: "v_prediction",
      async predict(sample, t) {
        const out = new Float64Array(sample.data.length);
        for (let r = 0; r < t.length; r++) {
          const sigma = Math.tan((t[r] * Math.PI) / 2),
            c = Math.sqrt(sigma * sigma + 1);
          const xr = tensor([sample.data[2 * r] * c, sample.data[2 * r + 1] * c], [1, 2]);
          const d = mixture.denoiseSync(xr, [sigma]).data;
          for (let k = 0; k < 2; k++) out[2 * r + k] = ((xr.data[k] - d[k]) / sigma - sigma * d[k]) / c;
        }
        return tensor(out, sample.shape);
      },
    };
    const w = new VDenoiser(inner);
    expect(w.tToSigma(w.sigmaToT(2.5))).toBeCloseTo(2.5, 13);
    const x = latent(6, 2, 3, 5);
    const sig = new Float64Array(6).fill(2.5);
    expect(maxDiff(await w.denoise(x, sig), mixture.denoiseSync(x, sig))).toBeLessThan(1e-12);
  });
});

test("DiscreteSchedule on a non-monotonic table falls back to the original's scan", () => {
  const sched = new DiscreteSchedule([0.1, 0.5, 0.3, 2]);
  const mono = new DiscreteSchedule([0.1, 0.3, 0.5, 2]);
  expect(sched.sigmaToT(0.4)).not.toBe(mono.sigmaToT(0.4));
  expect(sched.sigmaToT(0.4, { quantize: true })).toBe(1);
  expect(mono.sigmaToT(0.4, { quantize: true })).toBe(2);
});
