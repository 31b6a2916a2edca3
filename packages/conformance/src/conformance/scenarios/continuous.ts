/**
 * Scenarios on the continuous 2-D ring mixture (exact D(x; sigma)): Euler, Heun, the final
 * step, churn, the noise stream and ancestral sampling across k-diffusion, the general EDM
 * sampler, NVlabs' samplers, written-out loops and Song et al.'s rules.
 */
import type { ImplDef, ScenarioDef } from "./types.js";

const NV_EDM = { num_steps: 12, sigma_min: 0.002, sigma_max: 80, rho: 7 };
const KD_CHURN = { s_churn: 40, s_tmin: 0.05, s_tmax: 50, s_noise: 1.003 };
const EDM_CHURN = { S_churn: 40, S_tmin: 0.05, S_tmax: 50, S_noise: 1.003 };
const LOOP_CHURN = { sChurn: 40, sTmin: 0.05, sTmax: 50, sNoise: 1.003 };
/** k-diffusion's sample_euler_ancestral with this eta, noise aligned by step. */
function ancestral(eta: number): ImplDef {
  return {
    id: `k-diffusion/sample_euler_ancestral(eta=${eta})`,
    library: "k-diffusion",
    label: `k-diffusion sample_euler_ancestral, eta = ${eta}`,
    run: {
      runner: "k-diffusion",
      sampler: "sample_euler_ancestral",
      model: "mixture",
      sigmas: "karras",
      kwargs: { eta },
      noise: "aligned",
    },
  };
}

const CHURN_TITLE =
  "stochastic: EDM churn (S_churn = 40, window [0.05, 50], S_noise = 1.003), noise aligned by step";

export const continuousScenarios: ScenarioDef[] = [
  {
    id: "deterministic",
    title: "deterministic: Euler and Heun on Karras sigmas (N = 12, 0.002..80)",
    setup: "ring8",
    schedule: "Karras, N = 12, 0.002..80",
    noise: "none (NVlabs: aligned, unused)",
    impls: [
      {
        id: "k-diffusion/sample_euler",
        library: "k-diffusion",
        label: "k-diffusion sample_euler",
        run: {
          runner: "k-diffusion",
          sampler: "sample_euler",
          model: "mixture",
          sigmas: "karras",
          noise: "none",
        },
      },
      {
        id: "edm/algorithm1-euler",
        library: "edm",
        label: "EDM Algorithm 1, Euler, sigma(t)=t, s(t)=1",
        run: { runner: "edm", solver: "euler", timeSteps: "karras", noise: "none" },
      },
      {
        id: "edm/ablation_sampler-euler",
        library: "edm",
        label: "NVlabs ablation_sampler (euler, edm disc., linear schedule, no scaling)",
        run: {
          runner: "nvlabs",
          sampler: "ablation_sampler",
          kwargs: { ...NV_EDM, solver: "euler", discretization: "edm", schedule: "linear", scaling: "none" },
          noise: "aligned",
        },
      },
      {
        id: "k-diffusion/sample_heun",
        library: "k-diffusion",
        label: "k-diffusion sample_heun",
        run: {
          runner: "k-diffusion",
          sampler: "sample_heun",
          model: "mixture",
          sigmas: "karras",
          noise: "none",
        },
      },
      {
        id: "edm/algorithm1-heun",
        library: "edm",
        label: "EDM Algorithm 1, Heun",
        run: { runner: "edm", solver: "heun", timeSteps: "karras", noise: "none" },
      },
      {
        id: "edm/edm_sampler",
        library: "edm",
        label: "NVlabs edm_sampler (S_churn = 0)",
        run: { runner: "nvlabs", sampler: "edm_sampler", kwargs: { ...NV_EDM }, noise: "aligned" },
      },
    ],
    pairs: [
      {
        id: "euler/kd-vs-edm",
        a: "k-diffusion/sample_euler",
        b: "edm/algorithm1-euler",
        expect: "equivalent",
        note: "Algorithm 1 with the Euler solver is k-diffusion's sample_euler.",
      },
      {
        id: "euler/kd-vs-nvlabs",
        a: "k-diffusion/sample_euler",
        b: "edm/ablation_sampler-euler",
        expect: "equivalent",
        note: "NVlabs' EDM discretization reproduces get_sigmas_karras; t_hat round-trips through the identity for the linear schedule.",
      },
      {
        id: "heun/kd-vs-edm",
        a: "k-diffusion/sample_heun",
        b: "edm/algorithm1-heun",
        expect: "equivalent",
        note: "Both take an Euler step into sigma = 0: 2N - 1 model calls.",
      },
      {
        id: "heun/kd-vs-nvlabs",
        a: "k-diffusion/sample_heun",
        b: "edm/edm_sampler",
        expect: "equivalent",
        note: "edm_sampler draws noise every step even at gamma = 0; it is unused.",
      },
    ],
    minimal: [],
  },
  {
    id: "final-step",
    title: "final step: a schedule ending at sigma_min = 0.002 instead of 0",
    setup: "ring8",
    schedule: "Karras, N = 12, without the final 0",
    noise: "none",
    impls: [
      {
        id: "k-diffusion/sample_heun@sigma_min",
        library: "k-diffusion",
        label: "k-diffusion sample_heun, schedule ending at 0.002",
        run: {
          runner: "k-diffusion",
          sampler: "sample_heun",
          model: "mixture",
          sigmas: "karras-tail",
          noise: "none",
        },
      },
      {
        id: "variant/heun-index-rule",
        library: "reference",
        label: "Heun, Euler on the last step by index (NVlabs rule)",
        run: { runner: "heun-loop", lastStep: "index", sigmas: "karras-tail" },
      },
      {
        id: "variant/heun-sigma-zero-rule",
        library: "reference",
        label: "Heun, Euler only into sigma = 0 (k-diffusion rule)",
        run: { runner: "heun-loop", lastStep: "sigma-zero", sigmas: "karras-tail" },
      },
    ],
    pairs: [
      {
        id: "heun-final/kd-vs-index-rule",
        a: "k-diffusion/sample_heun@sigma_min",
        b: "variant/heun-index-rule",
        expect: "final-step-handling",
        note: "k-diffusion decides Euler-vs-Heun by sigma_{i+1} == 0; NVlabs by the step index. On a schedule that ends above 0 k-diffusion takes a full Heun step (2N calls), the index rule an Euler step (2N - 1).",
      },
      {
        id: "heun-final/kd-vs-sigma-zero-variant",
        a: "k-diffusion/sample_heun@sigma_min",
        b: "variant/heun-sigma-zero-rule",
        expect: "equivalent",
        note: "The written-out loop with k-diffusion's rule reproduces the port (ties the minimal pair to the library).",
      },
    ],
    minimal: [
      {
        cause: "final-step-handling",
        a: "variant/heun-sigma-zero-rule",
        b: "variant/heun-index-rule",
        note: "Same Heun loop, same schedule ending at 0.002; only the last-step rule differs.",
      },
    ],
  },
  {
    id: "churn",
    title: CHURN_TITLE,
    setup: "ring8",
    schedule: "Karras, N = 12",
    noise: "aligned by step",
    impls: [
      {
        id: "k-diffusion/sample_euler+churn",
        library: "k-diffusion",
        label: "k-diffusion sample_euler, s_churn",
        run: {
          runner: "k-diffusion",
          sampler: "sample_euler",
          model: "mixture",
          sigmas: "karras",
          kwargs: KD_CHURN,
          noise: "aligned",
        },
      },
      {
        id: "edm/algorithm2-euler",
        library: "edm",
        label: "EDM Algorithm 2, Euler",
        run: { runner: "edm", solver: "euler", timeSteps: "karras", churn: EDM_CHURN, noise: "aligned" },
      },
      {
        id: "k-diffusion/sample_heun+churn",
        library: "k-diffusion",
        label: "k-diffusion sample_heun, s_churn",
        run: {
          runner: "k-diffusion",
          sampler: "sample_heun",
          model: "mixture",
          sigmas: "karras",
          kwargs: KD_CHURN,
          noise: "aligned",
        },
      },
      {
        id: "edm/algorithm2-heun",
        library: "edm",
        label: "EDM Algorithm 2, Heun",
        run: { runner: "edm", solver: "heun", timeSteps: "karras", churn: EDM_CHURN, noise: "aligned" },
      },
      {
        id: "edm/edm_sampler+churn",
        library: "edm",
        label: "NVlabs edm_sampler, S_churn",
        run: {
          runner: "nvlabs",
          sampler: "edm_sampler",
          kwargs: { ...NV_EDM, S_churn: 40, S_min: 0.05, S_max: 50, S_noise: 1.003 },
          noise: "aligned",
        },
      },
    ],
    pairs: [
      {
        id: "churn-euler/kd-vs-edm",
        a: "k-diffusion/sample_euler+churn",
        b: "edm/algorithm2-euler",
        expect: "equivalent",
        note: "Same gamma, same window test on sigma_i, model evaluated at (x_hat, sigma_hat).",
      },
      {
        id: "churn-heun/kd-vs-edm",
        a: "k-diffusion/sample_heun+churn",
        b: "edm/algorithm2-heun",
        expect: "equivalent",
        note: "Algorithm 2 is k-diffusion's sample_heun with churn.",
      },
      {
        id: "churn-heun/kd-vs-nvlabs",
        a: "k-diffusion/sample_heun+churn",
        b: "edm/edm_sampler+churn",
        expect: "equivalent",
        note: "NVlabs edm_sampler with S_churn.",
      },
    ],
    minimal: [],
  },
  {
    id: "churn-stream",
    title: "stochastic: the same churn on one sequential noise stream (torch.manual_seed style)",
    setup: "ring8",
    schedule: "Karras, N = 12",
    noise: "one sequential stream",
    impls: [
      {
        id: "k-diffusion/sample_euler+churn@stream",
        library: "k-diffusion",
        label: "k-diffusion sample_euler, s_churn, one stream",
        run: {
          runner: "k-diffusion",
          sampler: "sample_euler",
          model: "mixture",
          sigmas: "karras",
          kwargs: KD_CHURN,
          noise: "stream",
        },
      },
      {
        id: "edm/algorithm2-euler@stream",
        library: "edm",
        label: "EDM Algorithm 2 (draws only when gamma > 0), one stream",
        run: { runner: "edm", solver: "euler", timeSteps: "karras", churn: EDM_CHURN, noise: "stream" },
      },
      {
        id: "edm/algorithm2-euler-every-step@stream",
        library: "edm",
        label: "EDM Algorithm 2, drawing every step, one stream",
        run: {
          runner: "edm",
          solver: "euler",
          timeSteps: "karras",
          churn: EDM_CHURN,
          conventions: {
            tHat: "paper",
            noiseDraws: "every-step",
            lastStep: "sigma-zero",
            secondPoint: "grid",
          },
          noise: "stream",
        },
      },
    ],
    pairs: [
      {
        id: "churn-euler/kd-vs-edm@stream",
        a: "k-diffusion/sample_euler+churn@stream",
        b: "edm/algorithm2-euler@stream",
        expect: "rng-consumption",
        note: "k-diffusion draws randn_like(x) every step even at gamma = 0; the paper's Algorithm 2 draws only when it churns. On one stream the churned steps then see different noise.",
      },
      {
        id: "churn-euler/kd-vs-edm-every-step@stream",
        a: "k-diffusion/sample_euler+churn@stream",
        b: "edm/algorithm2-euler-every-step@stream",
        expect: "equivalent",
        note: "With a draw every step the EDM sampler consumes the stream as k-diffusion does.",
      },
    ],
    minimal: [
      {
        cause: "rng-consumption",
        a: "edm/algorithm2-euler-every-step@stream",
        b: "edm/algorithm2-euler@stream",
        note: "Same EDM sampler, same stream; only whether a draw is taken at gamma = 0 differs.",
      },
    ],
  },
  {
    id: "churn-evaluation-point",
    title: CHURN_TITLE,
    setup: "ring8",
    schedule: "Karras, N = 12",
    noise: "aligned by step",
    impls: [
      {
        id: "variant/euler-churn-churned",
        library: "reference",
        label: "Euler churn, D at (x_hat, sigma_hat)",
        run: { runner: "euler-churn-loop", evaluate: "churned", churn: LOOP_CHURN, sigmas: "karras" },
      },
      {
        id: "variant/euler-churn-stale",
        library: "reference",
        label: "Euler churn, D at (x, sigma) reused at sigma_hat (diffusers rule)",
        run: { runner: "euler-churn-loop", evaluate: "stale", churn: LOOP_CHURN, sigmas: "karras" },
      },
    ],
    pairs: [
      {
        id: "churn-euler/kd-vs-churned-variant",
        a: "k-diffusion/sample_euler+churn",
        b: "variant/euler-churn-churned",
        expect: "equivalent",
        note: "The written-out churn loop reproduces k-diffusion (ties the minimal pair to the library).",
      },
    ],
    minimal: [
      {
        cause: "churn-evaluation-point",
        a: "variant/euler-churn-churned",
        b: "variant/euler-churn-stale",
        note: "Same loop, same noise; only where the model is evaluated differs: (x_hat, sigma_hat) vs (x, sigma) with the eps reused at sigma_hat.",
      },
    ],
  },
  {
    id: "ancestral",
    title: "ancestral: k-diffusion sample_euler_ancestral vs Song et al. 2021 (Appendix F)",
    setup: "ring8",
    schedule: "Karras, N = 12",
    noise: "aligned by step",
    impls: [
      ancestral(1),
      ancestral(0.5),
      ancestral(0),
      {
        id: "song2021/ve-ancestral",
        library: "song2021",
        label: "Song et al. VE (SMLD) ancestral sampling",
        run: { runner: "song2021", rule: "ve", sigmas: "karras" },
      },
      {
        id: "song2021/vp-ancestral",
        library: "song2021",
        label: "Song et al. VP (DDPM, variance beta) ancestral sampling",
        run: { runner: "song2021", rule: "vp", sigmas: "karras" },
      },
    ],
    pairs: [
      {
        id: "ancestral/kd-eta1-vs-song-ve",
        a: "k-diffusion/sample_euler_ancestral(eta=1)",
        b: "song2021/ve-ancestral",
        expect: "equivalent",
        note: "At eta = 1 sigma_up^2 = u^2 (s^2 - u^2)/s^2 is Song's VE variance and the step to sigma_down is Song's mean.",
      },
      {
        id: "ancestral/kd-eta1-vs-song-vp",
        a: "k-diffusion/sample_euler_ancestral(eta=1)",
        b: "song2021/vp-ancestral",
        expect: "noise-injection-rule",
        note: "Song's VP rule adds variance beta (fixed_large) instead of the posterior variance beta-tilde.",
      },
      {
        id: "ancestral/kd-eta0.5-vs-song-ve",
        a: "k-diffusion/sample_euler_ancestral(eta=0.5)",
        b: "song2021/ve-ancestral",
        expect: "noise-scaling",
        note: "eta < 1 shrinks sigma_up (DDIM(eta)); Song's rule has no eta.",
      },
      {
        id: "ancestral/kd-eta0-vs-kd-euler",
        a: "k-diffusion/sample_euler_ancestral(eta=0)",
        b: "k-diffusion/sample_euler",
        expect: "equivalent",
        note: "eta = 0 short-circuits get_ancestral_step to (sigma_to, 0): plain Euler.",
      },
    ],
    minimal: [
      {
        cause: "noise-injection-rule",
        a: "song2021/ve-ancestral",
        b: "song2021/vp-ancestral",
        note: "Song VE vs Song VP on the same sigma grid and noise: the variance rule (beta-tilde vs beta) and the matching mean.",
      },
      {
        cause: "noise-scaling",
        a: "k-diffusion/sample_euler_ancestral(eta=1)",
        b: "k-diffusion/sample_euler_ancestral(eta=0.5)",
        note: "Same sampler, same noise; eta 1 vs 0.5 scales the injected noise (and sigma_down with it).",
      },
    ],
  },
];
