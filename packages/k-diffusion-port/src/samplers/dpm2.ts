/**
 * Ports of k-diffusion's `sample_dpm_2` and `sample_dpm_2_ancestral` (sampling.py).
 */
import { axpy, type Denoiser, type Tensor, type TorchMath } from "@edmkit/core";
import { addScaled2 } from "../kernels.js";
import { ancestralStep, toD } from "../utils.js";
import { SamplerRun, type SigmasInput } from "./common.js";
import {
  type ChurnOptions,
  churn,
  churnSettings,
  type EulerAncestralOptions,
  ancestralSettings,
} from "./euler.js";

export type Dpm2Options = ChurnOptions;
export type Dpm2AncestralOptions = EulerAncestralOptions;

/**
 * The DPM-Solver-2 midpoint `sigma_mid = exp(lerp(log a, log b, 0.5))`, with torch.lerp's
 * formula for weight 0.5 (`end - (end - start) * 0.5`, quirk 4).
 */
function sigmaMid(m: TorchMath, a: number, b: number): number {
  const la = m.log(a),
    lb = m.log(b);
  return m.exp(m.lerp(la, lb, 0.5));
}

/**
 * Port of `sample_dpm_2(model, x, sigmas, s_churn=0., s_tmin=0., s_tmax=inf, s_noise=1.)`:
 * a DPM-Solver-2 step (midpoint in log sigma) with Algorithm 2's churn.
 * Quirks kept: a `randn_like` draw on every step (quirk 1); churn as in `sample_euler`
 * (quirk 2); the midpoint uses torch.lerp's weight-0.5 formula (quirk 4); the step into
 * sigma = 0 is a plain Euler step (quirk 3).
 */
export async function sampleDpm2(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: Dpm2Options = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_dpm_2", model, x, sigmas, options);
  const c = churnSettings(run, options);
  const { x: xs, sigmas: s, m } = run;
  const eps = run.buffer(),
    den = run.buffer(),
    d = run.buffer();
  const x2 = run.buffer(),
    den2 = run.buffer(),
    d2 = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const sigmaHat = churn(run, c, i, eps);
    const denoised = await run.denoise(xs, sigmaHat, den);
    toD(d, xs, sigmaHat, denoised);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: sigmaHat, denoised });
    if (s[i + 1] === 0) {
      // Euler method: x = x + d * (sigmas[i + 1] - sigma_hat)
      axpy(xs, m.sub(s[i + 1], sigmaHat), d, xs);
    } else {
      // DPM-Solver-2: sigma_mid = sigma_hat.log().lerp(sigmas[i + 1].log(), 0.5).exp()
      const mid = sigmaMid(m, sigmaHat, s[i + 1]);
      axpy(x2, m.sub(mid, sigmaHat), d, xs); // x_2 = x + d * dt_1
      const denoised2 = await run.denoise(x2, mid, den2);
      toD(d2, x2, mid, denoised2); // d_2 = to_d(x_2, sigma_mid, denoised_2)
      axpy(xs, m.sub(s[i + 1], sigmaHat), d2, xs); // x = x + d_2 * dt_2
    }
  }
  return xs;
}

/**
 * Port of `sample_dpm_2_ancestral(model, x, sigmas, eta=1., s_noise=1., noise_sampler=None)`:
 * a DPM-Solver-2 step down to sigma_down, then noise of std sigma_up.
 * Quirks kept: when sigma_down == 0 the step is plain Euler and no noise is drawn; noise is
 * drawn only in the second-order branch (quirk 9), with `noise_sampler(sigmas[i], sigmas[i+1])`.
 */
export async function sampleDpm2Ancestral(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: Dpm2AncestralOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_dpm_2_ancestral", model, x, sigmas, options);
  const { eta, sNoise, noise } = ancestralSettings(run, options);
  const { x: xs, sigmas: s, m } = run;
  const den = run.buffer(),
    d = run.buffer(),
    x2 = run.buffer(),
    den2 = run.buffer(),
    d2 = run.buffer(),
    z = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], den);
    const { sigmaDown, sigmaUp } = ancestralStep(m, s[i], s[i + 1], eta);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    toD(d, xs, s[i], denoised);
    if (sigmaDown === 0) {
      // Euler method: x = x + d * (sigma_down - sigmas[i])
      axpy(xs, m.sub(sigmaDown, s[i]), d, xs);
    } else {
      // DPM-Solver-2: sigma_mid = sigmas[i].log().lerp(sigma_down.log(), 0.5).exp()
      const mid = sigmaMid(m, s[i], sigmaDown);
      axpy(x2, m.sub(mid, s[i]), d, xs); // x_2 = x + d * dt_1
      const denoised2 = await run.denoise(x2, mid, den2);
      toD(d2, x2, mid, denoised2); // d_2 = to_d(x_2, sigma_mid, denoised_2)
      axpy(xs, m.sub(sigmaDown, s[i]), d2, xs); // x = x + d_2 * dt_2
      // x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
      if (noise) {
        run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
        addScaled2(xs, xs, z, sNoise, sigmaUp);
      }
    }
  }
  return xs;
}
