/**
 * Port of k-diffusion's `sample_heun` (sampling.py).
 */
import { axpy, type Denoiser, type Tensor } from "@edmkit/core";
import { heunCorrector } from "../kernels.js";
import { toD } from "../utils.js";
import { SamplerRun, type SigmasInput } from "./common.js";
import { type ChurnOptions, churn, churnSettings } from "./euler.js";

export type HeunOptions = ChurnOptions;

/**
 * Port of `sample_heun(model, x, sigmas, s_churn=0., s_tmin=0., s_tmax=inf, s_noise=1.)`:
 * Karras et al. (2022) Algorithm 2 with Heun's second-order correction.
 * Quirks kept: a `randn_like` draw on every step even without churn (quirk 1); churn as in
 * `sample_euler` (quirk 2); the step into sigma = 0 is a plain Euler step with one model call
 * (quirk 3), so nfe = 2 (len(sigmas) - 1) - 1 for a schedule ending in 0; the corrector is
 * `x + (d + d_2) / 2 * dt`.
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
    den = run.buffer(),
    d = run.buffer();
  const x2 = run.buffer(),
    den2 = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const sigmaHat = churn(run, c, i, eps);
    const denoised = await run.denoise(xs, sigmaHat, den);
    toD(d, xs, sigmaHat, denoised);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: sigmaHat, denoised });
    const dt = m.sub(s[i + 1], sigmaHat);
    if (s[i + 1] === 0) {
      // Euler method: x = x + d * dt
      axpy(xs, dt, d, xs);
    } else {
      // Heun's method: x_2 = x + d * dt
      axpy(x2, dt, d, xs);
      const denoised2 = await run.denoise(x2, s[i + 1], den2);
      // d_2 = to_d(x_2, sigmas[i+1], denoised_2); x = x + (d + d_2) / 2 * dt
      heunCorrector(xs, d, x2, denoised2, s[i + 1], dt);
    }
  }
  return xs;
}
