/**
 * The quirks of the originals listed in fixtures/PROVENANCE.md, each tied to the report:
 * a divergence between implementations points at the root cause whose minimal pair shows
 * it; a behaviour the port must reproduce points at the fixtures that exercise it (the
 * replay consumes exactly the recorded draws and model calls, so passing them is the proof).
 */
import type { CauseId, Report } from "../report/schema.js";

interface QuirkSpec {
  source: string;
  summary: string;
  cause: CauseId | null;
  /** Fixture ids exercising a reproduced quirk. */
  fixtures?: RegExp;
}

export const QUIRKS: QuirkSpec[] = [
  {
    source: "k-diffusion 1",
    summary: "sample_euler / sample_heun / sample_dpm_2 draw randn_like every step, even at gamma = 0",
    cause: "rng-consumption",
    fixtures: /k-diffusion\/sample_(euler|heun|dpm_2)\//,
  },
  {
    source: "k-diffusion 2",
    summary: "churn gamma = min(s_churn/N, sqrt2 - 1), window tested inclusively on sigmas[i]",
    cause: "churn-evaluation-point",
    fixtures: /churn/,
  },
  {
    source: "k-diffusion 3",
    summary: "second-order samplers take a plain Euler step into sigma 0; multistep ones return denoised",
    cause: "final-step-handling",
    fixtures: /k-diffusion\/sample_(heun|dpm_2|dpmpp_2m)/,
  },
  {
    source: "k-diffusion 4",
    summary: "sigma_mid uses torch.lerp's end - (end - start) * 0.5",
    cause: null,
    fixtures: /k-diffusion\/sample_dpm_2/,
  },
  {
    source: "k-diffusion 5",
    summary: "torch.linspace computes the second half of the points from the end",
    cause: null,
    fixtures: /k-diffusion\/schedule\/get_sigmas/,
  },
  {
    source: "k-diffusion 6",
    summary: "DiscreteSchedule.t_to_sigma casts t to float32 before floor/ceil/frac",
    cause: "sigma-interpolation",
    fixtures: /DiscreteEpsDDPMDenoiser\.get_sigmas|model-sigmas/,
  },
  {
    source: "k-diffusion 7",
    summary: "sigma_to_t: log-sigma interpolation clamped; quantize = argmin as int64",
    cause: "timestep-rounding",
    fixtures: /quantize|model-sigmas/,
  },
  {
    source: "k-diffusion 8",
    summary: "get_ancestral_step short-circuits eta == 0; sigma_up clamped to sigma_to",
    cause: "noise-scaling",
    fixtures: /ancestral/,
  },
  {
    source: "k-diffusion 9",
    summary:
      "euler_ancestral adds noise only when sigmas[i+1] > 0; dpm_2_ancestral only in the non-Euler branch",
    cause: "noise-injection-rule",
    fixtures: /k-diffusion\/sample_(euler_ancestral|dpm_2_ancestral)/,
  },
  {
    source: "k-diffusion 10",
    summary:
      "dpm_fast / dpm_adaptive: noise sampler called even at eta = 0, no final denoise, PID factor on rejects, order list",
    cause: null,
    fixtures: /k-diffusion\/sample_dpm_(fast|adaptive)/,
  },
  {
    source: "k-diffusion 11",
    summary:
      "dpmpp_sde calls the noise sampler twice per step with recomputed sigmas; Brownian tree replaced by iid draws",
    cause: null,
    fixtures: /k-diffusion\/sample_dpmpp_(sde|2m_sde|3m_sde)/,
  },
  {
    source: "k-diffusion 12",
    summary: "LMS coefficients from scipy quad; order ramps as min(i+1, order)",
    cause: null,
    fixtures: /k-diffusion\/sample_lms/,
  },
  {
    source: "EDM 13",
    summary: "float64 sampler arithmetic; randn_like every step; last step Euler only (nfe = 2N - 1)",
    cause: "rng-consumption",
    fixtures: /^edm\//,
  },
  {
    source: "EDM 14",
    summary:
      "ablation_sampler's t_hat round trip through sigma_inv even at gamma = 0 (vp: ulp-level noise term)",
    cause: null,
    fixtures: /edm\/ablation_sampler\/.*vp/,
  },
  {
    source: "EDM 15",
    summary:
      "ablation_sampler calls net(x_hat / s(t_hat), sigma(t_hat)); vp scaling nearly cancels d at large sigma",
    cause: null,
    fixtures: /scal-vp|\/vp-/,
  },
  {
    source: "EDM 16",
    summary:
      "iddpm alpha_bar on an int64 arange comes out in the default dtype; round-half-even index selection",
    cause: "float32-casts",
    fixtures: /iddpm/,
  },
  {
    source: "EDM 17",
    summary:
      "vp_beta_d / vp_beta_min recomputed (19.89999999999985 / 0.10000000000007248); vp_sigma uses np.e ** x",
    cause: null,
    fixtures: /edm\/ablation_sampler\/.*vp/,
  },
  {
    source: "EDM 18",
    summary:
      "sigma_min/max clamped with net.sigma_min/max; gamma uses S_churn / num_steps, window on sigma(t_cur)",
    cause: null,
    fixtures: /churn/,
  },
  {
    source: "diffusers 1",
    summary: "betas, alphas_cumprod, sigmas and timesteps are float32 tensors",
    cause: "float32-casts",
    fixtures: /^diffusers\//,
  },
  {
    source: "diffusers 2",
    summary:
      "scalar arithmetic on float32 0-d tensors ((sigma^2+1)**0.5, sigma*(gamma+1), the s_tmin window)",
    cause: "float32-casts",
    fixtures: /^diffusers\//,
  },
  {
    source: "diffusers 3",
    summary: "Euler and Euler-ancestral step() cast the sample to float32 first",
    cause: "float32-casts",
    fixtures: /diffusers\/(EulerDiscrete|EulerAncestral)/,
  },
  {
    source: "diffusers 4",
    summary: "v-prediction in Euler / Euler-a computes sample/(sigma^2+1) in float32",
    cause: "float32-casts",
    fixtures: /-v-|linspace-v/,
  },
  {
    source: "diffusers 5",
    summary:
      "step index: first match of t (second if t occurs twice), then increments; sigma_max = 80 duplicates t = 999",
    cause: "noise-level-schedule",
    fixtures: /sigmamax80|begin0/,
  },
  {
    source: "diffusers 6",
    summary:
      "churn: the model runs on the un-churned sample; noise is added inside step() and the output reused at sigma_hat",
    cause: "churn-evaluation-point",
    fixtures: /diffusers\/EulerDiscreteScheduler\/.*churn/,
  },
  {
    source: "diffusers 7",
    summary: "Heun: interleaved 2N-1 timesteps / 2N sigmas; last entry a plain Euler step; no churn",
    cause: "final-step-handling",
    fixtures: /diffusers\/HeunDiscreteScheduler/,
  },
  {
    source: "diffusers 8",
    summary:
      "Euler-ancestral draws noise on every step including the last; no eta, no s_noise, no sample prediction",
    cause: "rng-consumption",
    fixtures: /diffusers\/EulerAncestralDiscreteScheduler/,
  },
  {
    source: "diffusers 9",
    summary:
      "interpolation_type log_linear yields N+2 sigmas for N timesteps; ends at the smallest training sigma",
    cause: "sigma-interpolation",
    fixtures: /loglinear/,
  },
  {
    source: "diffusers 10",
    summary:
      "spacing edge cases: linspace N=1 gives t=[0], N=3 gives 499.5; leading + offset 1 with N=1000 gives t=1000",
    cause: "noise-level-schedule",
    fixtures: /diffusers\/schedule\//,
  },
  {
    source: "diffusers 11",
    summary:
      "numpy SIMD float32 log / torch float32 exp and log are not correctly rounded (schedules move by ~5e-7)",
    cause: "float32-casts",
    fixtures: /karras|exponential|beta|custom-sigmas|continuous|loglinear/,
  },
  {
    source: "diffusers-family 1",
    summary:
      "DPM-Solver multistep: lower order on the last steps (lower_order_final, < 15 steps); Karras / exponential sigmas get rounded timesteps",
    cause: null,
    fixtures: /diffusers\/DPMSolverMultistepScheduler\//,
  },
  {
    source: "diffusers-family 2",
    summary: 'algorithm_type "dpmsolver" / "sde-dpmsolver" refuse final_sigmas_type "zero"',
    cause: null,
    fixtures: /diffusers\/DPMSolverMultistepScheduler\/.*dpmsolver-/,
  },
  {
    source: "diffusers-family 3",
    summary: "EDM DPM-Solver++ SDE at order 3 fails upstream (UnboundLocalError): order 2 recorded",
    cause: null,
    fixtures: /diffusers\/EDMDPMSolverMultistepScheduler\/.*sde-2m/,
  },
  {
    source: "diffusers-family 4",
    summary: "DDPM / DDIM clip the predicted x0 to [-1, 1] by default; DDPM clamps its variance at 1e-20",
    cause: null,
    fixtures: /diffusers\/(DDPMScheduler|DDIMScheduler)\/.*clip/,
  },
  {
    source: "diffusers-family 5",
    summary:
      "LMS coefficients from scipy quad (epsrel 1e-4) on float32 sigmas; order capped by the steps taken",
    cause: null,
    fixtures: /diffusers\/LMSDiscreteScheduler\//,
  },
  {
    source: "diffusers-family 6",
    summary: "KDPM2: interleaved log-midpoint sigmas, called at fractional timesteps",
    cause: null,
    fixtures: /diffusers\/KDPM2(Ancestral)?DiscreteScheduler\//,
  },
  {
    source: "diffusers-family 7",
    summary: "FlowMatch Euler: sigma 1 is pure noise, timesteps = sigma * T, shift / dynamic mu",
    cause: null,
    fixtures: /diffusers\/FlowMatchEulerDiscreteScheduler\//,
  },
  {
    source: "diffusers-family 8",
    summary: "the EDM-preconditioned model sees c_noise = ln(sigma) / 4 computed in float32",
    cause: null,
    fixtures: /diffusers\/EDM(Euler|DPMSolverMultistep)Scheduler\//,
  },
  {
    source: "diffusers-family 9",
    summary: "FlowMatch Euler's step casts the sample to float32 first (a float64 run is rounded every step)",
    cause: null,
    fixtures: /diffusers\/FlowMatchEulerDiscreteScheduler\//,
  },
];

export function quirkCoverage(report: Pick<Report, "fixtures" | "causes">): Report["quirks"] {
  return QUIRKS.map((q) => {
    const parts: string[] = [];
    let ok = true;
    if (q.fixtures) {
      const hits = report.fixtures.results.filter((f) => q.fixtures!.test(f.id));
      const passed = hits.filter((f) => f.status === "pass").length;
      parts.push(`${passed}/${hits.length} fixtures exercising it pass`);
      if (hits.length === 0 || passed !== hits.length) ok = false;
    }
    if (q.cause) {
      const c = report.causes.find((x) => x.id === q.cause);
      if (c)
        parts.push(
          `minimal pair ${c.minimalPair.id}: output gap ${c.minimalPair.outputGap?.toExponential(2) ?? "n/a"} (${c.minimalPair.verdict})`,
        );
      else {
        parts.push(`cause ${q.cause} not demonstrated in this run`);
        ok = false;
      }
    }
    return {
      source: `PROVENANCE ${q.source}`,
      summary: q.summary,
      kind: q.cause ? "divergence" : "reproduced",
      cause: q.cause,
      evidence: parts.join("; "),
      ok,
    };
  });
}
