/**
 * The fixed catalogue of root causes. Every divergence in the report names one of these (or
 * is flagged unexplained), and each is demonstrated by a computed minimal pair.
 */
import type { CauseId } from "../report/schema.js";

export interface CauseInfo {
  title: string;
  explanation: string;
  references: string[];
}

export const CAUSES: Record<CauseId, CauseInfo> = {
  "sigma-interpolation": {
    title: "Sigma interpolation between training timesteps",
    explanation:
      "For a fractional timestep diffusers interpolates sigma linearly in sigma (np.interp over the training table); k-diffusion's DiscreteSchedule.t_to_sigma interpolates linearly in log sigma (with float32 interpolation weights). The same t grid gives different noise levels.",
    references: [
      "PROVENANCE k-diffusion 6",
      "PROVENANCE diffusers 9 (log_linear)",
      "k-diffusion external.py DiscreteSchedule.t_to_sigma / sigma_to_t",
      "diffusers scheduling_euler_discrete.py _sigma_to_t",
    ],
  },
  "timestep-rounding": {
    title: "Timestep rounding (quantize)",
    explanation:
      "k-diffusion's wrappers with quantize=True evaluate the model at the nearest integer timestep (argmin of |log sigma - log sigma_j|) instead of the interpolated fractional one.",
    references: ["PROVENANCE k-diffusion 7"],
  },
  "timestep-mapping": {
    title: "Which timestep the model is given",
    explanation:
      "diffusers hands the model the timestep of its spacing grid, while its update uses the interpolated sigma_i; the model's own sigma for that timestep (log-linear table lookup) is not sigma_i. k-diffusion computes t = sigma_to_t(sigma_i), so model and update agree.",
    references: [
      "PROVENANCE diffusers 9, 11",
      "k-diffusion external.py DiscreteSchedule.t_to_sigma / sigma_to_t",
      "diffusers scheduling_euler_discrete.py _sigma_to_t",
    ],
  },
  "noise-level-schedule": {
    title: "Noise-level schedule endpoints",
    explanation:
      "diffusers' Karras (and exponential, beta) sigmas take sigma_min/sigma_max from the interpolated spacing grid unless the config sets them; with leading spacing and steps_offset = 1 that is sigma(t=951) and sigma(t=1), not the model's 14.61 and 0.029 that k-diffusion uses.",
    references: [
      "PROVENANCE diffusers 5, 10",
      "diffusers scheduling_euler_discrete.py set_timesteps (timestep_spacing)",
    ],
  },
  "final-step-handling": {
    title: "Final step: Euler or full second-order step",
    explanation:
      "k-diffusion takes a plain Euler step when the next sigma is 0; NVlabs' samplers take Euler on the last step by index; diffusers Heun by the layout of its timestep array. On a schedule ending above 0 the rules disagree (2N vs 2N - 1 model calls).",
    references: [
      "PROVENANCE k-diffusion 3",
      "PROVENANCE EDM 13",
      "PROVENANCE diffusers 7",
      "k-diffusion sampling.py sample_heun (last step)",
      "diffusers scheduling_heun_discrete.py step",
    ],
  },
  "noise-injection-rule": {
    title: "Ancestral noise injection rule",
    explanation:
      "k-diffusion's ancestral step (sigma_up, sigma_down) uses the DDPM posterior variance beta-tilde (= Song et al.'s VE ancestral rule); Song et al.'s VP ancestral rule uses variance beta (fixed_large) with the matching mean.",
    references: [
      "PROVENANCE k-diffusion 8, 9",
      "k-diffusion sampling.py get_ancestral_step",
      "diffusers scheduling_euler_ancestral_discrete.py step",
    ],
  },
  "noise-scaling": {
    title: "Scale of the injected noise",
    explanation:
      "eta < 1 shrinks sigma_up (DDIM(eta)) and s_noise != 1 scales the added noise only, so the marginal noise level after the step is no longer sigma_{i+1}. Song et al.'s rule has neither knob.",
    references: [
      "PROVENANCE k-diffusion 8, 11",
      "k-diffusion sampling.py get_ancestral_step",
      "diffusers scheduling_euler_ancestral_discrete.py step",
    ],
  },
  "churn-evaluation-point": {
    title: "Where the model is evaluated under churn",
    explanation:
      "k-diffusion and EDM raise the noise to sigma_hat and evaluate D(x_hat; sigma_hat). diffusers' EulerDiscreteScheduler has already run the model at (x, sigma) when step() adds the churn noise, and reuses that eps at sigma_hat: a first-order difference in sqrt(2 gamma) sigma.",
    references: [
      "PROVENANCE diffusers 6",
      "PROVENANCE k-diffusion 2",
      "k-diffusion sampling.py sample_euler / sample_heun (s_churn)",
      "diffusers scheduling_euler_discrete.py step (s_churn)",
      "NVlabs edm generate.py edm_sampler (S_churn)",
    ],
  },
  "float32-casts": {
    title: "float32 casts inside the library",
    explanation:
      "diffusers holds sigmas and timesteps in float32, computes scale_model_input's sqrt(sigma^2 + 1) and its step's sigma scalars (dt, sigma_hat, sigma_up, sigma_down) on float32 0-d tensors, and Euler / Euler-ancestral cast the sample to float32 at every step() even in a float64 run. The last is the largest (about 1e-6 at the output on the ring model, the size of the pairs this cause explains) and is the minimal pair; the cause ladders undo the casts one rung at a time.",
    references: ["PROVENANCE diffusers 1, 2, 3, 4", "PROVENANCE k-diffusion 6", "PROVENANCE EDM 16"],
  },
  "initial-noise-scale": {
    title: "Initial noise scale",
    explanation:
      "diffusers scales the latent by init_noise_sigma, which is sqrt(sigma_max^2 + 1) for leading spacing (max(sigmas) otherwise); k-diffusion and EDM use sigma_max (times s(t_0) in EDM).",
    references: [
      "diffusers scheduling_euler_discrete.py init_noise_sigma",
      "k-diffusion sampling.py (the caller scales the noise by sigmas[0])",
      "NVlabs edm generate.py edm_sampler (latents times t_steps[0])",
    ],
  },
  "rng-consumption": {
    title: "How many draws a sampler takes",
    explanation:
      "k-diffusion's sample_euler / sample_heun / sample_dpm_2 and NVlabs' samplers draw a noise tensor every step, even when gamma = 0; the paper's Algorithm 2 and diffusers Euler only when they churn; diffusers Euler-a also on the last step. With one seeded stream, later steps then see different noise although the maths is the same.",
    references: [
      "PROVENANCE k-diffusion 1, 9, 10",
      "PROVENANCE EDM 13",
      "PROVENANCE diffusers 8",
      "k-diffusion sampling.py sample_euler / sample_heun / sample_dpm_2 (a draw every step)",
      "diffusers scheduling_euler_ancestral_discrete.py step (a draw every step)",
    ],
  },
  "karras-timestep-rounding": {
    title: "Rounded timesteps under Karras sigmas",
    explanation:
      "With use_karras_sigmas (and exponential / beta sigmas) diffusers' DPMSolverMultistepScheduler maps each Karras sigma to a timestep with _sigma_to_t and then rounds it (.round()), so the model is evaluated at an integer timestep whose sigma is not the sigma_i of the update; k-diffusion feeds the fractional sigma_to_t(sigma_i). The gap is a timestep error of up to half a training step at every call.",
    references: [
      "diffusers DPMSolverMultistepScheduler.set_timesteps",
      "k-diffusion external.py DiscreteSchedule.t_to_sigma / sigma_to_t",
      "diffusers scheduling_euler_discrete.py _sigma_to_t",
    ],
  },
  "clip-sample": {
    title: "Predicted x0 clipped to the range -1..1 (clip sample)",
    explanation:
      "DDIMScheduler and DDPMScheduler default to clip_sample=True (pixel-space DDPM): the predicted x0 is clamped to [-clip_sample_range, clip_sample_range] before the update. Stable Diffusion's scheduler_config.json turns it off; a scheduler built from class defaults on latents (or on data beyond [-1, 1], like the ring of radius 2) computes another update than k-diffusion, which never clips.",
    references: ["diffusers DDIMScheduler / DDPMScheduler config", "PROVENANCE diffusers (second section)"],
  },
  "final-alpha-frame": {
    title: "Final alpha: the output left in the VP frame at abar_0",
    explanation:
      "DDIMScheduler with set_alpha_to_one=False (Stable Diffusion's scheduler_config.json) takes its last step to final_alpha_cumprod = alphas_cumprod[0] instead of 1, and returns that sample in the VP frame: x_VP = sqrt(abar_0) x_VE. k-diffusion's sample_euler on the same grid (ending at sigma(abar_0)) returns x_VE, so the outputs differ by the factor sqrt(abar_0) (1 - 4.3e-4 for SD's betas), a gap proportional to the data's scale.",
    references: ["diffusers DDIMScheduler set_alpha_to_one"],
  },
  "midpoint-vs-heun": {
    title: "Second-order multistep term: midpoint or Heun weight",
    explanation:
      "DPMSolverMultistepScheduler weights the first difference D1 of its second-order step by solver_type: midpoint (the default) 0.5 (1 - exp(-2h)) in the SDE variant, heun (1 - exp(-2h)) / (-2h) + 1. k-diffusion's sample_dpmpp_3m_sde always uses the Heun-type weight phi_2 in its second-order (warm-up) step, and sample_dpmpp_2m_sde uses its own solver_type argument. With solver_order=3 diffusers takes one second-order step (the second), so the default midpoint makes that step differ from k-diffusion's 3M SDE.",
    references: [
      "diffusers scheduling_dpmsolver_multistep.py multistep_dpm_solver_second_order_update (solver_type)",
      "k-diffusion sampling.py sample_dpmpp_3m_sde (phi_2) / sample_dpmpp_2m_sde (solver_type)",
    ],
  },
  "sde-third-order-weight": {
    title: "Third-order SDE term: the sign of the 0.5 in the D2 weight",
    explanation:
      "For algorithm_type sde-dpmsolver++ at order 3 diffusers weights the second difference D2 by alpha_t ((1 - exp(-2h) - 2h) / (2h)^2 - 0.5); k-diffusion's sample_dpmpp_3m_sde subtracts phi_3 = phi_2 / h_eta - 0.5 (h_eta = 2h at eta = 1), which is the weight alpha_t ((1 - exp(-2h) - 2h) / (2h)^2 + 0.5). The two differ by exactly alpha_t D2 at every third-order step. k-diffusion's weight vanishes as h -> 0 like the deterministic DPM-Solver++(3M) weight; diffusers' tends to -alpha_t, so diffusers' third-order SDE step is not consistent at third order (its branch was added by diffusers PR 9104 by analogy with the lower orders).",
    references: [
      "diffusers scheduling_dpmsolver_multistep.py multistep_dpm_solver_third_order_update (sde-dpmsolver++)",
      "k-diffusion sampling.py sample_dpmpp_3m_sde (phi_3)",
      "huggingface/diffusers pull request 9104",
    ],
  },
};
