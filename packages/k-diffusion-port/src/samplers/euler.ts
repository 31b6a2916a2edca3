/**
 * Ports of k-diffusion's `sample_euler` and `sample_euler_ancestral` (sampling.py).
 */
import type { Denoiser, NoiseSource, Tensor } from "@edmkit/core";
import { addScaled2, derivStep, eulerStep } from "../kernels.js";
import { ancestralStep } from "../utils.js";
import { optionalNum } from "../validate.js";
import { churnGamma, resolveNoise, type SamplerHooks, SamplerRun, type SigmasInput } from "./common.js";

/** Churn options of Karras et al. (2022) Algorithm 2, shared by Euler, Heun and DPM-2. */
export interface ChurnOptions extends SamplerHooks {
  /** Total churn (default 0). γ = min(s_churn / steps, √2 − 1), steps = number of sigmas − 1. */
  sChurn?: number;
  /** Churn is applied where s_tmin <= sigmas[i] <= s_tmax (defaults 0 and Infinity). */
  sTmin?: number;
  sTmax?: number;
  /** Scale of the churn noise (default 1). */
  sNoise?: number;
  /**
   * Stands in for the original's `randn_like` draw, which it makes on every step (even when
   * no churn is added, quirk 1). Called with `{ step: i }`, once per step whenever given.
   * Default: a torch-compatible generator at torch's default seed when churn is added
   * (pass `new TorchNoise(seed)` to seed it), no draws otherwise.
   */
  noise?: NoiseSource;
}

export type EulerOptions = ChurnOptions;

interface ChurnSettings {
  sChurn: number;
  sTmin: number;
  sTmax: number;
  sNoise: number;
  noise: NoiseSource | null;
}

/** Validates the churn options and decides whether a noise source is needed. */
export function churnSettings(run: SamplerRun, o: ChurnOptions): ChurnSettings {
  const fn = run.fn;
  const sChurn = optionalNum(fn, "s_churn", o.sChurn, 0);
  const sTmin = optionalNum(fn, "s_tmin", o.sTmin, 0, true);
  const sTmax = optionalNum(fn, "s_tmax", o.sTmax, Infinity, true);
  const sNoise = optionalNum(fn, "s_noise", o.sNoise, 1);
  let needed = false;
  for (let i = 0; i < run.steps && !needed; i++) {
    needed = churnGamma(sChurn, run.steps, run.sigmas[i], sTmin, sTmax, run.m) > 0 && sNoise !== 0;
  }
  return { sChurn, sTmin, sTmax, sNoise, noise: resolveNoise(fn, "noise", o.noise, needed) };
}

/**
 * The churn part of a step (shared by Euler, Heun, DPM-2): draw ε, raise σ_i to
 * σ̂ = σ_i·(γ + 1), and when γ > 0 add ε·s_noise·√(σ̂² − σ_i²) to x. Returns σ̂.
 */
export function churn(run: SamplerRun, c: ChurnSettings, i: number, eps: Tensor): number {
  const { m, x } = run;
  const sigma = run.sigmas[i];
  const gamma = churnGamma(c.sChurn, run.steps, sigma, c.sTmin, c.sTmax, m);
  // the original draws ε on every step, churn or not (quirk 1); nothing to align with
  // without a source.
  if (c.noise) run.draw(c.noise, eps, { step: i });
  // σ̂ = σ_i·(γ + 1), γ + 1 summed as a Python float
  const sigmaHat = m.mul(sigma, m.r(gamma + 1));
  // churn noise ε·s_noise·(σ̂² − σ_i²)^½, squares and root as torch pow ops, only when γ > 0
  if (gamma > 0) addScaled2(x, x, eps, c.sNoise, m.pow(m.sub(m.pow(sigmaHat, 2), m.pow(sigma, 2)), 0.5));
  return sigmaHat;
}

/**
 * Port of `sample_euler` (defaults: no churn, window [0, ∞), s_noise = 1):
 * Karras et al. (2022) Algorithm 2 with Euler steps.
 * Quirks kept: a `randn_like` draw on every step even without churn (quirk 1); γ is
 * s_churn per step, capped at √2 − 1, inside the inclusive window on σ_i
 * (quirk 2); the callback sees x after the churn noise.
 */
export async function sampleEuler(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: EulerOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_euler", model, x, sigmas, options);
  const c = churnSettings(run, options);
  const { x: xs, sigmas: s, m } = run;
  const eps = run.buffer(),
    den = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const sigmaHat = churn(run, c, i, eps);
    const denoised = await run.denoise(xs, sigmaHat, den);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: sigmaHat, denoised });
    // Euler step σ̂ → σ_{i+1}: x ← x + d·(σ_{i+1} − σ̂)
    eulerStep(xs, denoised, sigmaHat, m.sub(s[i + 1], sigmaHat));
  }
  return run.result();
}

export interface EulerAncestralOptions extends SamplerHooks {
  /** Ancestral noise fraction (default 1; 0 gives the Euler ODE step). */
  eta?: number;
  /** Scale of the added noise (default 1). */
  sNoise?: number;
  /**
   * Stands in for the original's `noise_sampler` argument; called with
   * `{ step, sigma, sigmaNext }` whenever sigmas[i+1] > 0. Default (the original
   * draws with `randn_like`): a torch-compatible generator at torch's default seed when noise is
   * added (eta != 0 and s_noise != 0), no draws otherwise.
   */
  noiseSampler?: NoiseSource;
}

/** Validates eta / s_noise / noise_sampler of the ancestral samplers. */
export function ancestralSettings(
  run: SamplerRun,
  o: EulerAncestralOptions,
): { eta: number; sNoise: number; noise: NoiseSource | null } {
  const eta = optionalNum(run.fn, "eta", o.eta, 1);
  const sNoise = optionalNum(run.fn, "s_noise", o.sNoise, 1);
  let draws = false;
  for (let i = 0; i < run.steps; i++) if (run.sigmas[i + 1] > 0) draws = true;
  return {
    eta,
    sNoise,
    noise: resolveNoise(run.fn, "noise_sampler", o.noiseSampler, draws && eta !== 0 && sNoise !== 0),
  };
}

/**
 * Port of `sample_euler_ancestral` (defaults: η = 1, s_noise = 1):
 * an Euler step down to sigma_down, then fresh noise of std sigma_up (get_ancestral_step).
 * Quirks kept: noise is added only when sigmas[i+1] > 0, so the last step into 0 draws
 * nothing (quirk 9); with eta = 0 the draws still happen (multiplied by 0) when a noise
 * sampler is given.
 */
export async function sampleEulerAncestral(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: EulerAncestralOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_euler_ancestral", model, x, sigmas, options);
  const { eta, sNoise, noise } = ancestralSettings(run, options);
  const { x: xs, sigmas: s, m } = run;
  const den = run.buffer(),
    z = run.buffer();
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], den);
    const { sigmaDown, sigmaUp } = ancestralStep(m, s[i], s[i + 1], eta);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    // noise z·s_noise·σ_up only when σ_{i+1} > 0, z drawn for σ_i → σ_{i+1}
    const noisy = s[i + 1] > 0 && noise !== null;
    if (noisy) run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
    // Euler step σ_i → σ_down, then the noise (one fused pass)
    derivStep(xs, xs, xs, denoised, s[i], m.sub(sigmaDown, s[i]), noisy ? z : null, sNoise, sigmaUp);
  }
  return run.result();
}
