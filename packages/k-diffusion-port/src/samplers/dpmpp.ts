/**
 * Ports of k-diffusion's deterministic-core DPM-Solver++ samplers `sample_dpmpp_2s_ancestral`
 * and `sample_dpmpp_2m` (sampling.py). They work in t = -log sigma, with sigma(t) = exp(-t)
 * recomputed from t where the original does so (it is not bit-equal to the schedule).
 */
import { axpby, type Denoiser, type Tensor, type TorchMath } from "@edmkit/core";
import { axpbyNoise, combineStep, derivStep } from "../kernels.js";
import { ancestralStep } from "../utils.js";
import { type SamplerHooks, SamplerRun, type SigmasInput } from "./common.js";
import { ancestralSettings, type EulerAncestralOptions } from "./euler.js";

/** `t_fn`: -log(sigma) (log(0) = -inf gives t = +inf, as in torch). */
export const tOf = (m: TorchMath, sigma: number): number => -m.log(sigma);
/** `sigma_fn`: exp(-t). */
export const sigmaOf = (m: TorchMath, t: number): number => m.exp(-t);

export type Dpmpp2sAncestralOptions = EulerAncestralOptions;

/**
 * Port of `sample_dpmpp_2s_ancestral` (defaults: η = 1, s_noise = 1):
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
    x2 = run.buffer(),
    den2 = run.buffer(),
    z = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], den);
    const { sigmaDown, sigmaUp } = ancestralStep(m, s[i], s[i + 1], eta);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    // noise z·s_noise·σ_up whenever σ_{i+1} > 0, drawn after the step's model calls and
    // added in the same pass as the step
    const noisy = s[i + 1] > 0 && noise !== null;
    if (sigmaDown === 0) {
      // σ_down = 0: one Euler step from σ_i to σ_down, d = (x − D)/σ_i
      if (noisy) run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
      derivStep(xs, xs, xs, denoised, s[i], m.sub(sigmaDown, s[i]), noisy ? z : null, sNoise, sigmaUp);
    } else {
      const t = tOf(m, s[i]),
        tNext = tOf(m, sigmaDown);
      const r = 1 / 2;
      const h = m.sub(tNext, t);
      const sMid = m.add(t, m.mul(r, h));
      // first-order update to the midpoint s: x₂ = σ(s)/σ(t)·x − expm1(−h·r)·D
      axpby(x2, m.div(sigmaOf(m, sMid), sigmaOf(m, t)), xs, -m.expm1(m.mul(-h, r)), denoised);
      const denoised2 = await run.denoise(x2, sigmaOf(m, sMid), den2);
      if (noisy) run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
      // full step from x with the midpoint's output: σ(t_next)/σ(t)·x − expm1(−h)·D₂, then the noise
      const ratio = m.div(sigmaOf(m, tNext), sigmaOf(m, t));
      axpbyNoise(xs, ratio, xs, -m.expm1(-h), denoised2, noisy ? z : null, sNoise, sigmaUp);
    }
  }
  return run.result();
}

export type Dpmpp2mOptions = SamplerHooks;

/**
 * Port of `sample_dpmpp_2m`: DPM-Solver++(2M), the second-order multistep
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
    bufB = run.buffer();
  let old: Tensor | null = null;
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], old === bufA ? bufB : bufA);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    const t = tOf(m, s[i]),
      tNext = tOf(m, s[i + 1]);
    const h = m.sub(tNext, t);
    const ratio = m.div(sigmaOf(m, tNext), sigmaOf(m, t)); // both sigmas recomputed from t, not taken from the schedule
    if (old === null || s[i + 1] === 0) {
      // first order: x ← σ(t_next)/σ(t)·x − expm1(−h)·D
      axpby(xs, ratio, xs, -m.expm1(-h), denoised);
    } else {
      const hLast = m.sub(t, tOf(m, s[i - 1]));
      const r = m.div(hLast, h);
      const c = m.div(1, m.mul(2, r));
      // same update as first order with the extrapolated output (1 + c)·D − c·D_prev,
      // c = 1/(2r), formed per element in the same pass
      combineStep(xs, ratio, -m.expm1(-h), m.add(1, c), denoised, -c, old);
    }
    old = denoised;
  }
  return run.result();
}
