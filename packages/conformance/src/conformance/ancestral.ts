/**
 * The seed question: is k-diffusion's ancestral step (sigma_up / sigma_down with eta) the
 * same as Song et al.'s ancestral update? Answered with a derivation and with numbers
 * computed in this run (the pairs of the ancestral scenario and one-step noise scales).
 */
import type { PairResult, Report, SamplerMapReport } from "../report/schema.js";
import { ancestralStds } from "./song2021.js";

function gapOf(pairs: PairResult[], id: string): PairResult {
  const p = pairs.find((x) => x.id === id);
  if (!p) throw new Error(`ancestral analysis: pair ${id} was not computed`);
  return p;
}

/**
 * The seed question against the libraries (the sampler map's first answer): DDPM fixed_small /
 * fixed_large and DDIM eta = 1 vs k-diffusion Euler-a on the discrete eps model. diffusers holds
 * its tables in float32, so "identical" here means within the float32 round-off bound.
 */
function libraryChecks(map: SamplerMapReport | undefined): Report["ancestral"]["checks"] {
  const seed = map?.answers.find((a) => a.question.startsWith("The seed question"));
  return (seed?.checks ?? []).map((c) => ({
    what: `${c.what}, diffusers on the discrete eps model (${c.verdict}; float32 round-off bound ${c.bound.toExponential(2)})`,
    maxGap: c.gap ?? NaN,
    verdict: c.verdict === "diverge" ? ("diverge" as const) : ("identical" as const),
  }));
}

export function ancestralAnalysis(pairs: PairResult[], map?: SamplerMapReport): Report["ancestral"] {
  const ve = gapOf(pairs, "ancestral/kd-eta1-vs-song-ve");
  const vp = gapOf(pairs, "ancestral/kd-eta1-vs-song-vp");
  const eta05 = gapOf(pairs, "ancestral/kd-eta0.5-vs-song-ve");
  const eta0 = gapOf(pairs, "ancestral/kd-eta0-vs-kd-euler");
  const diff = gapOf(pairs, "discrete-ancestral/diffusers-vs-kd");
  const s = 3.7,
    u = 2.1;
  const stds = ancestralStds(s, u);
  const ratio = stds.songVP / stds.kdiffusion;
  const verdict = (p: PairResult) =>
    (p.verdict === "identical" ? "identical" : "diverge") as "identical" | "diverge";
  const fmt = (x: number | null) => (x === null ? "n/a" : x.toExponential(2));
  return {
    question:
      "Is k-diffusion's ancestral step (get_ancestral_step's sigma_up / sigma_down with eta) the same as the ancestral update of Song et al. 2021 (Appendix F)?",
    answer:
      `At eta = 1, yes for Song's VE (SMLD) ancestral rule: on the same model, sigmas and noise the two agree to ${fmt(ve.maxGap)} (round-off; bound ${fmt(ve.roundoffBound)}). ` +
      `It is not Song's VP (DDPM) ancestral rule, which injects variance beta ("fixed_large") instead of the posterior variance: the outputs part by ${fmt(vp.outputGap)} and the one-step noise scale is ${ratio.toFixed(3)}x k-diffusion's at (sigma, sigma_next) = (${s}, ${u}). ` +
      `For eta != 1 k-diffusion is DDIM(eta) in the VE frame and differs from Song's rule (eta = 0.5: ${fmt(eta05.outputGap)} at the output); eta = 0 is exactly sample_euler (${fmt(eta0.maxGap)}).`,
    derivation: [
      "Work in the VE frame x = x_VP / sqrt(abar), sigma^2 = (1 - abar) / abar; a step goes from s = sigma_i to u = sigma_{i+1}.",
      "Then abar_i = 1/(1+s^2), abar_{i+1} = 1/(1+u^2), alpha = (1+u^2)/(1+s^2) and beta = 1 - alpha = (s^2 - u^2)/(1+s^2).",
      "DDPM posterior variance beta-tilde = (1 - abar_{i+1})/(1 - abar_i) beta = u^2 (s^2 - u^2) / (s^2 (1+u^2)); scaled to the VE frame by (1+u^2) it is u^2 (s^2 - u^2)/s^2 = sigma_up^2 at eta = 1.",
      "k-diffusion's deterministic part is an Euler step to sigma_down = sqrt(u^2 - sigma_up^2) = u^2/s: x + (x - D)/s (u^2/s - s) = D + (u^2/s^2)(x - D), the DDPM posterior mean in the VE frame.",
      "Song's VE rule: mean x + (s^2 - u^2) score with score = (D - x)/s^2 gives D + (u^2/s^2)(x - D), and std sqrt(u^2 (s^2 - u^2)/s^2) = sigma_up: identical to k-diffusion at eta = 1.",
      "Song's VP rule: mean (x_VP + beta score_VP)/sqrt(1 - beta) (the same posterior mean) but std sqrt(beta); in the VE frame sqrt(beta (1+u^2)) = sqrt((s^2 - u^2)(1+u^2)/(1+s^2)), larger than sigma_up by sqrt((1+u^2) s^2 / ((1+s^2) u^2)).",
      "With eta, sigma_up = eta u sqrt(s^2 - u^2)/s is DDIM's sigma_t(eta) in the VE frame (clamped to u); eta = 0 short-circuits to (u, 0): plain Euler.",
      "At the last step (u = 0) every rule reduces to x = D: k-diffusion takes the Euler step to 0 without noise; diffusers' Euler-ancestral still draws a noise tensor (multiplied by sigma_up = 0).",
    ],
    checks: [
      {
        what: "k-diffusion eta = 1 vs Song VE ancestral (gmm2d-ring8, Karras N = 12, same noise)",
        maxGap: ve.maxGap ?? NaN,
        verdict: verdict(ve),
      },
      {
        what: "k-diffusion eta = 1 vs Song VP ancestral (variance beta)",
        maxGap: vp.maxGap ?? NaN,
        verdict: verdict(vp),
      },
      {
        what: "k-diffusion eta = 0.5 vs Song VE ancestral",
        maxGap: eta05.maxGap ?? NaN,
        verdict: verdict(eta05),
      },
      {
        what: "k-diffusion eta = 0 vs k-diffusion sample_euler",
        maxGap: eta0.maxGap ?? NaN,
        verdict: verdict(eta0),
      },
      {
        what: `one-step noise std at (s, u) = (${s}, ${u}): DDPM posterior rule (beta-tilde) vs k-diffusion's sigma_up (|difference|)`,
        maxGap: Math.abs(stds.posterior - stds.kdiffusion),
        verdict: Math.abs(stds.posterior - stds.kdiffusion) < 1e-14 ? "identical" : "diverge",
      },
      {
        what: `one-step noise std at (s, u) = (${s}, ${u}): Song's VP rule (beta) vs k-diffusion's sigma_up (|difference|; VP is ${ratio.toFixed(4)}x k-diffusion's)`,
        maxGap: Math.abs(stds.songVP - stds.kdiffusion),
        verdict: Math.abs(stds.songVP - stds.kdiffusion) < 1e-14 ? "identical" : "diverge",
      },
      {
        what: "diffusers EulerAncestralDiscreteScheduler vs k-diffusion eta = 1 on the discrete eps model (timesteps aligned; float32 casts remain)",
        maxGap: diff.maxGap ?? NaN,
        verdict: verdict(diff),
      },
      ...libraryChecks(map),
    ],
  };
}
