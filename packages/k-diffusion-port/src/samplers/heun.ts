/**
 * Port of k-diffusion's `sample_heun` (sampling.py).
 */
import type { Denoiser, Tensor } from "@edmkit/core";
import { eulerStep, heunPredict, heunStep } from "../kernels.js";
import { SamplerRun, type SigmasInput } from "./common.js";
import { type ChurnOptions, churn, churnSettings } from "./euler.js";

export type HeunOptions = ChurnOptions;

/**
 * Port of `sample_heun` (defaults: no churn, window [0, ∞), s_noise = 1):
 * Karras et al. (2022) Algorithm 2 with Heun's second-order correction.
 * Quirks kept: a `randn_like` draw on every step even without churn (quirk 1); churn as in
 * `sample_euler` (quirk 2); the step into sigma = 0 is a plain Euler step with one model call
 * (quirk 3), so a schedule of n steps ending in 0 costs 2n − 1 model calls; the corrector
 * averages the two derivatives, halves the sum and only then multiplies by the step size.
 */
export async function sampleHeun(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: HeunOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_heun", model, x, sigmas, options);
  const c = churnSettings(run, options);
  const { x: xs, sigmas: s, m } = run;
  const eps = run.buffer(),
    den = run.buffer();
  const x2 = run.buffer(),
    den2 = run.buffer(),
    d = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const sigmaHat = churn(run, c, i, eps);
    const denoised = await run.denoise(xs, sigmaHat, den);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: sigmaHat, denoised });
    const dt = m.sub(s[i + 1], sigmaHat);
    if (s[i + 1] === 0) {
      // into σ = 0: Euler step only, d = (x − D)/σ̂
      eulerStep(xs, denoised, sigmaHat, dt);
    } else {
      // predictor: d = (x − D)/σ̂, Euler step to σ_{i+1}
      heunPredict(x2, d, xs, denoised, sigmaHat, dt);
      const denoised2 = await run.denoise(x2, s[i + 1], den2);
      // corrector: derivative at the predicted point, then x ← x + ((d + d₂)/2)·Δσ
      heunStep(xs, d, x2, denoised2, s[i + 1], dt);
    }
  }
  return run.result();
}
