/**
 * Ports of k-diffusion's deterministic-core DPM-Solver++ samplers `sample_dpmpp_2s_ancestral`
 * and `sample_dpmpp_2m` (sampling.py). They work in t = -log sigma, with sigma(t) = exp(-t)
 * recomputed from t where the original does so (it is not bit-equal to the schedule).
 */
import { axpby, axpy, type Denoiser, type Tensor, type TorchMath } from "@edmkit/core";
import { addScaled2 } from "../kernels.js";
import { ancestralStep, toD } from "../utils.js";
import { type SamplerHooks, SamplerRun, type SigmasInput } from "./common.js";
import { ancestralSettings, type EulerAncestralOptions } from "./euler.js";

/** `t_fn`: -log(sigma) (log(0) = -inf gives t = +inf, as in torch). */
export const tOf = (m: TorchMath, sigma: number): number => -m.log(sigma);
/** `sigma_fn`: exp(-t). */
export const sigmaOf = (m: TorchMath, t: number): number => m.exp(-t);

export type Dpmpp2sAncestralOptions = EulerAncestralOptions;

/**
 * Port of `sample_dpmpp_2s_ancestral(model, x, sigmas, eta=1., s_noise=1., noise_sampler=None)`:
 * a DPM-Solver++(2S) step (midpoint r = 1/2 in t) down to sigma_down, then noise of std
 * sigma_up. Quirks kept: sigma_down == 0 takes a plain Euler step (one model call, quirk 3);
 * noise is drawn whenever sigmas[i+1] > 0 (quirk 9).
 */
export async function sampleDpmpp2sAncestral(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: Dpmpp2sAncestralOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_dpmpp_2s_ancestral", model, x, sigmas, options);
  const { eta, sNoise, noise } = ancestralSettings(run, options);
  const { x: xs, sigmas: s, m } = run;
  const den = run.buffer(),
    d = run.buffer(),
    x2 = run.buffer(),
    den2 = run.buffer(),
    z = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], den);
    const { sigmaDown, sigmaUp } = ancestralStep(m, s[i], s[i + 1], eta);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    if (sigmaDown === 0) {
      // Euler method: x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
      toD(d, xs, s[i], denoised);
      axpy(xs, m.sub(sigmaDown, s[i]), d, xs);
    } else {
      // DPM-Solver++(2S)
      const t = tOf(m, s[i]),
        tNext = tOf(m, sigmaDown);
      const r = 1 / 2;
      const h = m.sub(tNext, t);
      const sMid = m.add(t, m.mul(r, h)); // s = t + r * h
      // x_2 = (sigma_fn(s) / sigma_fn(t)) * x - (-h * r).expm1() * denoised
      axpby(x2, m.div(sigmaOf(m, sMid), sigmaOf(m, t)), xs, -m.expm1(m.mul(-h, r)), denoised);
      const denoised2 = await run.denoise(x2, sigmaOf(m, sMid), den2);
      // x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised_2
      axpby(xs, m.div(sigmaOf(m, tNext), sigmaOf(m, t)), xs, -m.expm1(-h), denoised2);
    }
    // Noise addition
    if (s[i + 1] > 0 && noise) {
      run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
      addScaled2(xs, xs, z, sNoise, sigmaUp);
    }
  }
  return xs;
}

export type Dpmpp2mOptions = SamplerHooks;

/**
 * Port of `sample_dpmpp_2m(model, x, sigmas)`: DPM-Solver++(2M), the second-order multistep
 * solver in t = -log sigma. The first step and the step into sigma = 0 are first order;
 * the latter gives exactly `denoised` (sigma(inf) = 0, expm1(-inf) = -1; quirk 3).
 */
export async function sampleDpmpp2m(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: Dpmpp2mOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_dpmpp_2m", model, x, sigmas, options);
  const { x: xs, sigmas: s, m } = run;
  const bufA = run.buffer(),
    bufB = run.buffer(),
    dd = run.buffer();
  let old: Tensor | null = null;
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], old === bufA ? bufB : bufA);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    const t = tOf(m, s[i]),
      tNext = tOf(m, s[i + 1]);
    const h = m.sub(tNext, t);
    const ratio = m.div(sigmaOf(m, tNext), sigmaOf(m, t)); // sigma_fn(t_next) / sigma_fn(t)
    if (old === null || s[i + 1] === 0) {
      // x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised
      axpby(xs, ratio, xs, -m.expm1(-h), denoised);
    } else {
      const hLast = m.sub(t, tOf(m, s[i - 1]));
      const r = m.div(hLast, h);
      const c = m.div(1, m.mul(2, r)); // 1 / (2 * r)
      // denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
      axpby(dd, m.add(1, c), denoised, -c, old);
      // x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised_d
      axpby(xs, ratio, xs, -m.expm1(-h), dd);
    }
    old = denoised;
  }
  return xs;
}
