/**
 * The ancestral samplers of Song et al. 2021 ("Score-Based Generative Modeling through
 * Stochastic Differential Equations", Appendix F), written out directly from the paper so
 * the report can compare k-diffusion's ancestral step against them. Both run on the EDM
 * denoiser, with the score taken as (D(x; sigma) - x) / sigma^2.
 *
 * VE (SMLD) ancestral step from sigma_i to sigma_{i-1}:
 *   x' = x + (sigma_i^2 - sigma_{i-1}^2) score(x, sigma_i)
 *        + sqrt(sigma_{i-1}^2 (sigma_i^2 - sigma_{i-1}^2) / sigma_i^2) z
 *
 * VP (DDPM) ancestral step, in the VP frame x_vp = x / sqrt(1 + sigma^2), with
 * abar = 1 / (1 + sigma^2) and beta = 1 - abar_i / abar_{i-1}:
 *   x_vp' = (x_vp + beta score_vp(x_vp)) / sqrt(1 - beta) + sqrt(beta) z
 * where score_vp = (sqrt(abar) D - x_vp) / (1 - abar). The noise variance is beta
 * ("fixed_large"), not the posterior variance (beta-tilde, "fixed_small").
 */
import {
  type Denoiser,
  type NoiseSource,
  type SamplerObserver,
  type Tensor,
  batchSize,
  clone,
  perRow,
  zerosLike,
} from "@edmkit/core";

export interface AncestralOptions {
  noise: NoiseSource;
  observer?: SamplerObserver;
}

function checkSigmas(name: string, sigmas: ArrayLike<number>): void {
  if (sigmas.length < 2)
    throw new RangeError(`${name}: sigmas needs at least 2 entries, got ${sigmas.length}`);
  for (let i = 1; i < sigmas.length; i++) {
    if (!(sigmas[i] <= sigmas[i - 1]) || sigmas[i] < 0) {
      throw new RangeError(
        `${name}: sigmas must be non-negative and non-increasing (sigmas[${i}] = ${sigmas[i]})`,
      );
    }
  }
}

/** Song et al. VE ancestral sampling. Draws noise only where sigma_{i+1} > 0 (std 0 otherwise). */
export async function songAncestralVE(
  model: Denoiser,
  x0: Tensor,
  sigmas: ArrayLike<number>,
  opts: AncestralOptions,
): Promise<Tensor> {
  checkSigmas("songAncestralVE", sigmas);
  const x = clone(x0),
    z = zerosLike(x0),
    b = batchSize(x0);
  const xd = x.data,
    zd = z.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const s = sigmas[i],
      u = sigmas[i + 1];
    const d = await model.denoise(x, perRow(b, s));
    const dd = d.data;
    const coef = (s * s - u * u) / (s * s); // (s^2 - u^2) * score = coef * (D - x)
    const std = Math.sqrt((u * u * (s * s - u * u)) / (s * s));
    if (u > 0) opts.noise.randn(z, { step: i, sigma: s, sigmaNext: u });
    for (let k = 0; k < xd.length; k++) xd[k] = xd[k] + coef * (dd[k] - xd[k]) + (u > 0 ? std * zd[k] : 0);
    opts.observer?.onStep?.({ i, fields: { sigma: s, x, denoised: d } });
  }
  return x;
}

/** Song et al. VP ancestral sampling (variance beta), expressed on the EDM sigma grid. */
export async function songAncestralVP(
  model: Denoiser,
  x0: Tensor,
  sigmas: ArrayLike<number>,
  opts: AncestralOptions,
): Promise<Tensor> {
  checkSigmas("songAncestralVP", sigmas);
  const x = clone(x0),
    z = zerosLike(x0),
    b = batchSize(x0);
  const xd = x.data,
    zd = z.data;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const s = sigmas[i],
      u = sigmas[i + 1];
    const d = await model.denoise(x, perRow(b, s));
    const dd = d.data;
    const abar = 1 / (1 + s * s),
      abarNext = 1 / (1 + u * u);
    const beta = 1 - abar / abarNext;
    const inVp = Math.sqrt(abar),
      outVe = Math.sqrt(1 + u * u);
    if (u > 0) opts.noise.randn(z, { step: i, sigma: s, sigmaNext: u });
    for (let k = 0; k < xd.length; k++) {
      const xvp = xd[k] * inVp;
      const score = (inVp * dd[k] - xvp) / (1 - abar);
      const next = (xvp + beta * score) / Math.sqrt(1 - beta) + (u > 0 ? Math.sqrt(beta) * zd[k] : 0);
      xd[k] = next * outVe;
    }
    opts.observer?.onStep?.({ i, fields: { sigma: s, x, denoised: d } });
  }
  return x;
}

/**
 * One-step noise standard deviations of the three ancestral rules from sigma s to u (VE
 * frame): k-diffusion's sigma_up at eta = 1, the DDPM posterior (beta-tilde) and Song's VP
 * rule (beta), the last two scaled to the VE frame by sqrt(1 + u^2).
 */
export function ancestralStds(
  s: number,
  u: number,
): { kdiffusion: number; posterior: number; songVP: number } {
  const kdiffusion = Math.min(u, Math.sqrt((u * u * (s * s - u * u)) / (s * s)));
  const abar = 1 / (1 + s * s),
    abarPrev = 1 / (1 + u * u);
  const beta = 1 - abar / abarPrev;
  const betaTilde = ((1 - abarPrev) / (1 - abar)) * beta;
  const toVe = Math.sqrt(1 + u * u);
  // the VP update divides by sqrt(1 - beta) before adding noise; in the VE frame the noise
  // term is sqrt(beta) * sqrt(1 + u^2)
  return { kdiffusion, posterior: Math.sqrt(betaTilde) * toVe, songVP: Math.sqrt(beta) * toVe };
}
