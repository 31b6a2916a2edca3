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
import type { Denoiser, NoiseSource, Tensor } from "@edmkit/core";
import { axpbyNoise, combineStep, eulerStep, sde2mStep, sde3mStep } from "../kernels.js";
import { ancestralStep } from "../utils.js";
import { fail, optionalNum } from "../validate.js";
import { resolveNoise, type SamplerHooks, SamplerRun, type SigmasInput } from "./common.js";
import { sigmaOf, tOf } from "./dpmpp.js";

export interface SdeOptions extends SamplerHooks {
  /** Stochasticity (default 1; 0 gives the ODE solver). */
  eta?: number;
  /** Scale of the added noise (default 1). */
  sNoise?: number;
  /**
   * Stands in for the original's `noise_sampler` argument: unit normals for the step, called
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
 * Port of `sample_dpmpp_sde` (defaults: η = 1, s_noise = 1, r = 1/2):
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
    x2 = run.buffer(),
    den2 = run.buffer(),
    z = run.buffer();
  const fac = 1 / (2 * r);
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], den);
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    if (s[i + 1] === 0) {
      // into σ = 0: a single Euler step from σ_i with the derivative there
      eulerStep(xs, denoised, s[i], m.sub(s[i + 1], s[i]));
      continue;
    }
    const t = tOf(m, s[i]),
      tNext = tOf(m, s[i + 1]);
    const h = m.sub(tNext, t);
    const sMid = m.add(t, m.mul(h, m.r(r))); // intermediate point at fraction r of the way from t to t_next
    const sigT = sigmaOf(m, t),
      sigS = sigmaOf(m, sMid),
      sigNext = sigmaOf(m, tNext);

    const a1 = ancestralStep(m, sigT, sigS, eta); // ancestral split of σ(t) → σ(s), both recomputed from t
    const s1 = tOf(m, a1.sigmaDown); // where the first substep lands, in t
    // first-order data-prediction update from t to that point: x₂ = σ(s′)/σ(t)·x − expm1(t − s′)·D,
    // then noise z·s_noise·σ_up, z drawn for the interval σ(t) → σ(s) (one pass)
    if (noise) run.draw(noise, z, { step: i, sigma: sigT, sigmaNext: sigS });
    const ratio1 = m.div(sigmaOf(m, s1), sigT);
    axpbyNoise(x2, ratio1, xs, -m.expm1(m.sub(t, s1)), denoised, noise ? z : null, sNoise, a1.sigmaUp);
    const denoised2 = await run.denoise(x2, sigS, den2);

    const a2 = ancestralStep(m, sigT, sigNext, eta); // ancestral split of the full step σ(t) → σ(t_next)
    const tNext2 = tOf(m, a2.sigmaDown); // the full step's landing point, in t
    // noise z·s_noise·σ_up, z drawn for the interval σ(t) → σ(t_next)
    if (noise) run.draw(noise, z, { step: i, sigma: sigT, sigmaNext: sigNext });
    // update from x (not x₂) with the blend (1 − fac)·D + fac·D₂ (fac = 1/(2r)):
    // σ(t′)/σ(t)·x − expm1(t − t′)·D_blend, then the noise; blend, update and noise in one pass
    const ratio2 = m.div(sigmaOf(m, tNext2), sigT);
    combineStep(
      xs,
      ratio2,
      -m.expm1(m.sub(t, tNext2)),
      1 - fac,
      denoised,
      fac,
      denoised2,
      noise ? z : null,
      sNoise,
      a2.sigmaUp,
    );
  }
  return run.result();
}

export interface Dpmpp2mSdeOptions extends SdeOptions {
  /** How the second-order term is formed (default "midpoint"). */
  solverType?: "midpoint" | "heun";
}

/**
 * Port of `sample_dpmpp_2m_sde` (defaults: η = 1, s_noise = 1, solver type "midpoint"):
 * DPM-Solver++(2M) SDE.
 * Quirks kept: the step into sigma = 0 returns `denoised` itself (quirk 3); noise is drawn
 * only when eta is non-zero, for the interval σ_i → σ_{i+1}; h_last keeps the
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
      xs.data.set(denoised.data);
    } else {
      const t = -m.log(s[i]),
        sNext = -m.log(s[i + 1]);
      h = m.sub(sNext, t);
      const etaH = m.mul(m.r(eta), h);
      const negHEta = m.sub(-h, etaH);
      const em = -m.expm1(negHEta); // E = −expm1(−h − ηh)
      // first-order part: x ← (σ_{i+1}/σ_i)·e^{−ηh}·x + E·D, the σ ratio taken before the exponential
      const a = m.mul(m.div(s[i + 1], s[i]), m.exp(-etaH));
      let coef = 0;
      if (old !== null) {
        const r = m.div(hLast, h);
        const invR = m.div(1, r);
        // second-order correction coef·(D − D_prev): (E/(−h − ηh) + 1)·(1/r) for heun, 0.5·E·(1/r) for midpoint
        coef = solverType === "heun" ? m.mul(m.add(m.div(em, negHEta), 1), invR) : m.mul3(0.5, em, invR);
      }
      // noise z·σ_{i+1}·√(−expm1(−2ηh))·s_noise, z drawn for σ_i → σ_{i+1}
      const noisy = eta !== 0 && noise !== null;
      if (noisy) run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
      const up = noisy ? m.sqrt(-m.expm1(m.mul(-2, etaH))) : 0;
      // first-order part, correction and noise in one pass
      sde2mStep(xs, a, em, denoised, old, coef, noisy ? z : null, s[i + 1], up, sNoise);
    }
    old = denoised;
    hLast = h;
  }
  return run.result();
}

export type Dpmpp3mSdeOptions = SdeOptions;

/**
 * Port of `sample_dpmpp_3m_sde` (defaults: η = 1, s_noise = 1):
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
  const z = run.buffer();
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
      xs.data.set(denoised.data);
    } else {
      const t = -m.log(s[i]),
        sNext = -m.log(s[i + 1]);
      h = m.sub(sNext, t);
      const hEta = m.mul(h, m.r(eta + 1)); // h_η = h·(η + 1), η + 1 summed as a Python float first
      // first-order part: x ← e^{−h_η}·x − expm1(−h_η)·D
      let third = false,
        second = false,
        r0 = 0,
        r1 = 0,
        rsum = 0,
        phi2 = 0,
        phi3 = 0;
      if (have2 && den1 && den2) {
        third = true;
        r0 = m.div(h1, h);
        r1 = m.div(h2, h);
        // scaled differences of the last three model outputs: δ₀ = (D − D₁)/r₀, δ₁ = (D₁ − D₂)/r₁
        phi2 = m.add(m.div(m.expm1(-hEta), hEta), 1); // φ₂ = expm1(−h_η)/h_η + 1
        phi3 = m.sub(m.div(phi2, hEta), 0.5); // φ₃ = φ₂/h_η − ½
        // third-order correction x ← x + φ₂·d₁ − φ₃·d₂ with d₁ = δ₀ + (δ₀ − δ₁)·r₀/(r₀ + r₁), d₂ = (δ₀ − δ₁)/(r₀ + r₁)
        rsum = m.add(r0, r1);
      } else if (have1 && den1) {
        second = true;
        r0 = m.div(h1, h);
        phi2 = m.add(m.div(m.expm1(-hEta), hEta), 1);
        // second-order correction: x ← x + φ₂·(D − D₁)/r
      }
      // noise z·σ_{i+1}·√(−expm1(−2·h·η))·s_noise (the product formed left to right), z drawn for σ_i → σ_{i+1}
      const noisy = eta !== 0 && noise !== null;
      if (noisy) run.draw(noise, z, { step: i, sigma: s[i], sigmaNext: s[i + 1] });
      const up = noisy ? m.sqrt(-m.expm1(m.mul3(-2, h, m.r(eta)))) : 0;
      // first-order part, the correction of the order reached and the noise in one pass
      sde3mStep(
        xs,
        m.exp(-hEta),
        -m.expm1(-hEta),
        denoised,
        third || second ? den1 : null,
        third ? den2 : null,
        r0,
        r1,
        rsum,
        phi2,
        phi3,
        noisy ? z : null,
        s[i + 1],
        up,
        sNoise,
      );
    }
    den2 = den1;
    den1 = denoised;
    have2 = have1;
    have1 = true;
    h2 = h1;
    h1 = h;
  }
  return run.result();
}
