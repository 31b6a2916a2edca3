/**
 * Ports of k-diffusion's stochastic DPM-Solver++ samplers `sample_dpmpp_sde`,
 * `sample_dpmpp_2m_sde` and `sample_dpmpp_3m_sde` (sampling.py).
 *
 * Noise: the original's default `noise_sampler` is a torchsde Brownian tree
 * (`BrownianTreeNoiseSampler`), whose increments over [sigma_next, sigma] are correlated
 * across calls and seeds. There is no port of torchsde here; these samplers take an explicit
 * `noiseSampler` (a NoiseSource called with `{ step, sigma, sigmaNext }`, giving unit
 * normals), i.e. the iid noise the recorded fixtures inject. Same model, same schedule and
 * the same normals give the original's result; a Brownian tree's normals cannot be matched.
 * Without a `noiseSampler` the draws are iid normals from a torch-compatible generator at
 * torch's default seed (not the Brownian tree the original would build).
 */
import { axpby, axpy, type Denoiser, type NoiseSource, subDiv, type Tensor } from "@edmkit/core";
import { addScaled2, addScaled3, addScaledDiff, addScaledDiffDiv, dpmpp3mCorrection } from "../kernels.js";
import { ancestralStep, toD } from "../utils.js";
import { fail, optionalNum } from "../validate.js";
import { resolveNoise, type SamplerHooks, SamplerRun, type SigmasInput } from "./common.js";
import { sigmaOf, tOf } from "./dpmpp.js";

export interface SdeOptions extends SamplerHooks {
  /** Stochasticity (default 1; 0 gives the ODE solver). */
  eta?: number;
  /** Scale of the added noise (default 1). */
  sNoise?: number;
  /**
   * The original's `noise_sampler(sigma, sigma_next)`: unit normals for the step, called
   * with `{ step, sigma, sigmaNext }`. Default when noise is added (eta != 0 and
   * s_noise != 0): iid torch-compatible normals at torch's default seed, where the original
   * builds a torchsde Brownian tree (see the module doc).
   */
  noiseSampler?: NoiseSource;
}

function sdeSettings(
  run: SamplerRun,
  o: SdeOptions,
  draws: boolean,
): { eta: number; sNoise: number; noise: NoiseSource | null } {
  const eta = optionalNum(run.fn, "eta", o.eta, 1);
  const sNoise = optionalNum(run.fn, "s_noise", o.sNoise, 1);
  return {
    eta,
    sNoise,
    noise: resolveNoise(run.fn, "noise_sampler", o.noiseSampler, draws && eta !== 0 && sNoise !== 0),
  };
}

function drawsBeforeLast(run: SamplerRun): boolean {
  for (let i = 0; i < run.steps; i++) if (run.sigmas[i + 1] !== 0) return true;
  return false;
}

export interface DpmppSdeOptions extends SdeOptions {
  /** Position of the intermediate point in t (default 1/2). */
  r?: number;
}

/**
 * Port of `sample_dpmpp_sde(model, x, sigmas, eta=1., s_noise=1., noise_sampler=None, r=1/2)`:
 * DPM-Solver++ (stochastic), two model calls per step with an ancestral step to the
 * intermediate point s = t + r h and another to t_next.
 * Quirks kept: the noise sampler is called twice per step with sigmas recomputed as
 * exp(-t) (quirk 11), even when eta = 0 (the draws are then multiplied by 0); the step into
 * sigma = 0 is a plain Euler step (quirk 3).
 */
export async function sampleDpmppSde(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: DpmppSdeOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_dpmpp_sde", model, x, sigmas, options);
  const { eta, sNoise, noise } = sdeSettings(run, options, drawsBeforeLast(run));
  const r = optionalNum(run.fn, "r", options.r, 1 / 2);
  if (!(r > 0)) fail(run.fn, `r must be > 0, got ${r}`);
  const { x: xs, sigmas: s, m } = run;
  const den = run.buffer(),
    d = run.buffer(),
    x2 = run.buffer(),
    den2 = run.buffer(),
    dd = run.buffer(),
    z = run.buffer();
  const fac = 1 / (2 * r);
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], den);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    if (s[i + 1] === 0) {
      // Euler method: x = x + to_d(x, sigmas[i], denoised) * (sigmas[i + 1] - sigmas[i])
      toD(d, xs, s[i], denoised);
      axpy(xs, m.sub(s[i + 1], s[i]), d, xs);
      continue;
    }
    // DPM-Solver++
    const t = tOf(m, s[i]),
      tNext = tOf(m, s[i + 1]);
    const h = m.sub(tNext, t);
    const sMid = m.add(t, m.mul(h, m.r(r))); // s = t + h * r
    const sigT = sigmaOf(m, t),
      sigS = sigmaOf(m, sMid),
      sigNext = sigmaOf(m, tNext);

    // Step 1
    const a1 = ancestralStep(m, sigT, sigS, eta); // sd, su = get_ancestral_step(sigma_fn(t), sigma_fn(s), eta)
    const s1 = tOf(m, a1.sigmaDown); // s_ = t_fn(sd)
    // x_2 = (sigma_fn(s_) / sigma_fn(t)) * x - (t - s_).expm1() * denoised
    axpby(x2, m.div(sigmaOf(m, s1), sigT), xs, -m.expm1(m.sub(t, s1)), denoised);
    // x_2 = x_2 + noise_sampler(sigma_fn(t), sigma_fn(s)) * s_noise * su
    if (noise) {
      run.draw(noise, z, { step: i, sigma: sigT, sigmaNext: sigS });
      addScaled2(x2, x2, z, sNoise, a1.sigmaUp);
    }
    const denoised2 = await run.denoise(x2, sigS, den2);

    // Step 2
    const a2 = ancestralStep(m, sigT, sigNext, eta); // sd, su = get_ancestral_step(sigma_fn(t), sigma_fn(t_next), eta)
    const tNext2 = tOf(m, a2.sigmaDown); // t_next_ = t_fn(sd)
    // denoised_d = (1 - fac) * denoised + fac * denoised_2
    axpby(dd, 1 - fac, denoised, fac, denoised2);
    // x = (sigma_fn(t_next_) / sigma_fn(t)) * x - (t - t_next_).expm1() * denoised_d
    axpby(xs, m.div(sigmaOf(m, tNext2), sigT), xs, -m.expm1(m.sub(t, tNext2)), dd);
    // x = x + noise_sampler(sigma_fn(t), sigma_fn(t_next)) * s_noise * su
    if (noise) {
      run.draw(noise, z, { step: i, sigma: sigT, sigmaNext: sigNext });
      addScaled2(xs, xs, z, sNoise, a2.sigmaUp);
    }
  }
  return xs;
}

export interface Dpmpp2mSdeOptions extends SdeOptions {
  /** How the second-order term is formed (default "midpoint"). */
  solverType?: "midpoint" | "heun";
}

/**
 * Port of `sample_dpmpp_2m_sde(model, x, sigmas, eta=1., s_noise=1., noise_sampler=None,
 * solver_type='midpoint')`: DPM-Solver++(2M) SDE.
 * Quirks kept: the step into sigma = 0 returns `denoised` itself (quirk 3); noise is drawn
 * only when eta is non-zero, with `noise_sampler(sigmas[i], sigmas[i+1])`; h_last keeps the
 * previous step's h (the last step does not compute one).
 */
export async function sampleDpmpp2mSde(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: Dpmpp2mSdeOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_dpmpp_2m_sde", model, x, sigmas, options);
  const solverType = options.solverType ?? "midpoint";
  if (solverType !== "heun" && solverType !== "midpoint")
    fail(run.fn, `solver_type must be 'heun' or 'midpoint', got ${JSON.stringify(solverType)}`);
  const { eta, sNoise, noise } = sdeSettings(run, options, drawsBeforeLast(run));
  const { x: xs, sigmas: s, m } = run;
  const bufA = run.buffer(),
    bufB = run.buffer(),
    z = run.buffer();
  let old: Tensor | null = null;
  let h = NaN,
    hLast = NaN;
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], old === bufA ? bufB : bufA);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    if (s[i + 1] === 0) {
      // Denoising step
      xs.data.set(denoised.data);
    } else {
      // DPM-Solver++(2M) SDE
      const t = -m.log(s[i]),
        sNext = -m.log(s[i + 1]);
      h = m.sub(sNext, t);
      const etaH = m.mul(m.r(eta), h);
      const negHEta = m.sub(-h, etaH); // -h - eta_h
      const em = -m.expm1(negHEta); // (-h - eta_h).expm1().neg()
      // x = sigmas[i + 1] / sigmas[i] * (-eta_h).exp() * x + (-h - eta_h).expm1().neg() * denoised
      axpby(xs, m.mul(m.div(s[i + 1], s[i]), m.exp(-etaH)), xs, em, denoised);
      if (old !== null) {
        const r = m.div(hLast, h);
        const invR = m.div(1, r); // 1 / r
        // heun: x = x + ((-h - eta_h).expm1().neg() / (-h - eta_h) + 1) * (1 / r) * (denoised - old_denoised)
        // midpoint: x = x + 0.5 * (-h - eta_h).expm1().neg() * (1 / r) * (denoised - old_denoised)
        const coef =
          solverType === "heun" ? m.mul(m.add(m.div(em, negHEta), 1), invR) : m.mul3(0.5, em, invR);
        addScaledDiff(xs, xs, coef, denoised, old);
      }
      // x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * sigmas[i + 1] * (-2 * eta_h).expm1().neg().sqrt() * s_noise
      if (eta && noise) {
        run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
        addScaled3(xs, xs, z, s[i + 1], m.sqrt(-m.expm1(m.mul(-2, etaH))), sNoise);
      }
    }
    old = denoised;
    hLast = h;
  }
  return xs;
}

export type Dpmpp3mSdeOptions = SdeOptions;

/**
 * Port of `sample_dpmpp_3m_sde(model, x, sigmas, eta=1., s_noise=1., noise_sampler=None)`:
 * DPM-Solver++(3M) SDE, third-order multistep once two previous denoised values exist
 * (first and second order before that).
 * Quirks kept: the step into sigma = 0 returns `denoised` itself (quirk 3); noise only when
 * eta is non-zero; the step sizes h_1, h_2 shift even on the last step (with the previous h).
 */
export async function sampleDpmpp3mSde(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: Dpmpp3mSdeOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_dpmpp_3m_sde", model, x, sigmas, options);
  const { eta, sNoise, noise } = sdeSettings(run, options, drawsBeforeLast(run));
  const { x: xs, sigmas: s, m } = run;
  const bufs = [run.buffer(), run.buffer(), run.buffer()];
  const d10 = run.buffer(),
    d11 = run.buffer(),
    z = run.buffer();
  let den1: Tensor | null = null,
    den2: Tensor | null = null;
  let h = NaN,
    h1 = NaN,
    h2 = NaN;
  let have1 = false,
    have2 = false;
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const free =
      bufs[0] !== den1 && bufs[0] !== den2
        ? bufs[0]
        : bufs[1] !== den1 && bufs[1] !== den2
          ? bufs[1]
          : bufs[2];
    const denoised = await run.denoise(xs, s[i], free);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    if (s[i + 1] === 0) {
      // Denoising step
      xs.data.set(denoised.data);
    } else {
      const t = -m.log(s[i]),
        sNext = -m.log(s[i + 1]);
      h = m.sub(sNext, t);
      const hEta = m.mul(h, m.r(eta + 1)); // h_eta = h * (eta + 1)
      // x = torch.exp(-h_eta) * x + (-h_eta).expm1().neg() * denoised
      axpby(xs, m.exp(-hEta), xs, -m.expm1(-hEta), denoised);
      if (have2 && den1 && den2) {
        const r0 = m.div(h1, h),
          r1 = m.div(h2, h);
        // d1_0 = (denoised - denoised_1) / r0, d1_1 = (denoised_1 - denoised_2) / r1
        subDiv(d10, denoised, den1, r0);
        subDiv(d11, den1, den2, r1);
        const phi2 = m.add(m.div(m.expm1(-hEta), hEta), 1); // h_eta.neg().expm1() / h_eta + 1
        const phi3 = m.sub(m.div(phi2, hEta), 0.5); // phi_2 / h_eta - 0.5
        // d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1); d2 = (d1_0 - d1_1) / (r0 + r1)
        // x = x + phi_2 * d1 - phi_3 * d2
        dpmpp3mCorrection(xs, d10, d11, r0, m.add(r0, r1), phi2, phi3);
      } else if (have1 && den1) {
        const r = m.div(h1, h);
        const phi2 = m.add(m.div(m.expm1(-hEta), hEta), 1);
        // x = x + phi_2 * ((denoised - denoised_1) / r)
        addScaledDiffDiv(xs, xs, phi2, denoised, den1, r);
      }
      // x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * sigmas[i + 1] * (-2 * h * eta).expm1().neg().sqrt() * s_noise
      if (eta && noise) {
        run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
        addScaled3(xs, xs, z, s[i + 1], m.sqrt(-m.expm1(m.mul3(-2, h, m.r(eta)))), sNoise);
      }
    }
    den2 = den1;
    den1 = denoised;
    have2 = have1;
    have1 = true;
    h2 = h1;
    h1 = h;
  }
  return xs;
}
