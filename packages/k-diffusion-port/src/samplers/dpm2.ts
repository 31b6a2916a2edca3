/**
 * Ports of k-diffusion's `sample_dpm_2` and `sample_dpm_2_ancestral` (sampling.py).
 */
import type { Denoiser, Tensor, TorchMath } from "@edmkit/core";
import { derivStep, eulerStep } from "../kernels.js";
import { ancestralStep } from "../utils.js";
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
 * The DPM-Solver-2 midpoint: the geometric mean of a and b, formed as exp of a lerp between
 * log a and log b with weight ½, computed the way torch.lerp does for weights ≥ ½ (from the
 * end point back towards the start, quirk 4).
 */
function sigmaMid(m: TorchMath, a: number, b: number): number {
  const la = m.log(a),
    lb = m.log(b);
  return m.exp(m.lerp(la, lb, 0.5));
}

/**
 * Port of `sample_dpm_2` (defaults: no churn, window [0, ∞), s_noise = 1):
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
    den = run.buffer();
  const x2 = run.buffer(),
    den2 = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const sigmaHat = churn(run, c, i, eps);
    const denoised = await run.denoise(xs, sigmaHat, den);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: sigmaHat, denoised });
    if (s[i + 1] === 0) {
      // into σ = 0: one Euler step σ̂ → σ_{i+1}, d = (x − D)/σ̂
      eulerStep(xs, denoised, sigmaHat, m.sub(s[i + 1], sigmaHat));
    } else {
      // DPM-Solver-2: midpoint in log σ between σ̂ and σ_{i+1}
      const mid = sigmaMid(m, sigmaHat, s[i + 1]);
      derivStep(x2, xs, xs, denoised, sigmaHat, m.sub(mid, sigmaHat)); // Euler half step to the midpoint
      const denoised2 = await run.denoise(x2, mid, den2);
      // full step from x with the derivative at the midpoint, d₂ = (x₂ − D₂)/σ_mid
      derivStep(xs, xs, x2, denoised2, mid, m.sub(s[i + 1], sigmaHat));
    }
  }
  return run.result();
}

/**
 * Port of `sample_dpm_2_ancestral` (defaults: η = 1, s_noise = 1):
 * a DPM-Solver-2 step down to sigma_down, then noise of std sigma_up.
 * Quirks kept: when sigma_down == 0 the step is plain Euler and no noise is drawn; noise is
 * drawn only in the second-order branch (quirk 9), drawn for the interval σ_i → σ_{i+1}.
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
    x2 = run.buffer(),
    den2 = run.buffer(),
    z = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], den);
    const { sigmaDown, sigmaUp } = ancestralStep(m, s[i], s[i + 1], eta);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    if (sigmaDown === 0) {
      // σ_down = 0: one Euler step σ_i → σ_down, d = (x − D)/σ_i, no noise
      eulerStep(xs, denoised, s[i], m.sub(sigmaDown, s[i]));
    } else {
      // DPM-Solver-2: midpoint in log σ between σ_i and σ_down
      const mid = sigmaMid(m, s[i], sigmaDown);
      derivStep(x2, xs, xs, denoised, s[i], m.sub(mid, s[i])); // Euler half step to the midpoint
      const denoised2 = await run.denoise(x2, mid, den2);
      // noise z·s_noise·σ_up, z drawn for σ_i → σ_{i+1}
      if (noise) run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
      // full step to σ_down with the derivative at the midpoint, then the noise (one pass)
      derivStep(xs, xs, x2, denoised2, mid, m.sub(sigmaDown, s[i]), noise ? z : null, sNoise, sigmaUp);
    }
  }
  return run.result();
}
