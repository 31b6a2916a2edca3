/**
 * Scenarios on the discrete-time eps model of the ring mixture (SD scaled_linear betas,
 * diffusers' float32 alphas_cumprod): diffusers' schedulers vs k-diffusion's
 * DiscreteEpsDDPMDenoiser, and the minimal pairs that isolate each rule between them.
 */
import type { GridName, ImplDef, ScenarioDef } from "./types.js";

const EULER_TITLE =
  "discrete eps model: diffusers EulerDiscreteScheduler (linspace) vs k-diffusion DiscreteEpsDDPMDenoiser";

/** k-diffusion's sample_euler on the unquantized wrapper over a grid of the discrete setup, no noise. */
function kdEuler(id: string, label: string, sigmas: GridName): ImplDef {
  return {
    id,
    library: "k-diffusion",
    label,
    run: { runner: "k-diffusion", sampler: "sample_euler", model: "wrapper", sigmas, noise: "none" },
  };
}

export const discreteScenarios: ScenarioDef[] = [
  {
    id: "discrete-euler",
    title: EULER_TITLE,
    setup: "ring8-discrete",
    schedule: "linspace spacing, N = 15, and the grids derived from it",
    noise: "none",
    impls: [
      {
        id: "diffusers/EulerDiscreteScheduler",
        library: "diffusers",
        label: "diffusers Euler (linspace)",
        settings: { timestep_spacing: "linspace" },
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "EulerDiscreteScheduler",
          config: "linspace",
          noise: "none",
        },
      },
      kdEuler(
        "k-diffusion/sample_euler@get_sigmas",
        "k-diffusion sample_euler, DiscreteEpsDDPMDenoiser.get_sigmas",
        "kd-own",
      ),
      kdEuler(
        "k-diffusion/sample_euler@diffusers-sigmas",
        "k-diffusion sample_euler on diffusers' float32 sigmas",
        "diffusers-linspace",
      ),
      {
        id: "diffusers/EulerDiscreteScheduler@t(sigma)",
        library: "diffusers",
        label: "diffusers Euler, model fed sigma_to_t(sigma_i)",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "EulerDiscreteScheduler",
          config: "linspace",
          timestep: "sigma_to_t",
          noise: "none",
        },
      },
      kdEuler(
        "k-diffusion/sample_euler@np.interp",
        "k-diffusion sample_euler, sigmas by np.interp (linear in sigma)",
        "np.interp",
      ),
      kdEuler(
        "k-diffusion/sample_euler@float64-np.interp",
        "k-diffusion sample_euler, diffusers' sigmas kept in float64",
        "np.interp",
      ),
      {
        id: "diffusers/EulerDiscreteScheduler@t(sigma)+uncast(sample)",
        library: "diffusers",
        label: "diffusers Euler, model fed sigma_to_t(sigma_i), the sample kept in float64 through step()",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "EulerDiscreteScheduler",
          config: "linspace",
          timestep: "sigma_to_t",
          uncast: ["sample"],
          noise: "none",
        },
      },
      {
        id: "k-diffusion/sample_euler@quantize",
        library: "k-diffusion",
        label: "k-diffusion sample_euler, quantize=True",
        run: {
          runner: "k-diffusion",
          sampler: "sample_euler",
          model: "quantized-wrapper",
          sigmas: "kd-own",
          noise: "none",
        },
      },
    ],
    pairs: [
      {
        id: "discrete-euler/diffusers-vs-kd-own-schedule",
        a: "diffusers/EulerDiscreteScheduler",
        b: "k-diffusion/sample_euler@get_sigmas",
        expect: "sigma-interpolation",
        note: "Same t grid linspace(999, 0, N); diffusers interpolates sigma linearly in sigma (np.interp), k-diffusion linearly in log sigma.",
      },
      {
        id: "discrete-euler/diffusers-vs-kd-same-sigmas",
        a: "diffusers/EulerDiscreteScheduler",
        b: "k-diffusion/sample_euler@diffusers-sigmas",
        expect: "timestep-mapping",
        note: "Same sigmas: diffusers gives the model the grid timestep t_i, whose sigma (log-linear table lookup) is not the sigma_i its update uses; k-diffusion gives sigma_to_t(sigma_i).",
      },
      {
        id: "discrete-euler/diffusers-t(sigma)-vs-kd-same-sigmas",
        a: "diffusers/EulerDiscreteScheduler@t(sigma)",
        b: "k-diffusion/sample_euler@diffusers-sigmas",
        expect: "float32-casts",
        note: "Timesteps aligned too: what remains is diffusers casting the sample to float32 at every step().",
      },
      {
        id: "discrete-euler/kd-vs-kd-quantized",
        a: "k-diffusion/sample_euler@get_sigmas",
        b: "k-diffusion/sample_euler@quantize",
        expect: "timestep-rounding",
        note: "quantize=True evaluates the model at the nearest integer timestep.",
      },
    ],
    minimal: [
      {
        cause: "timestep-mapping",
        a: "diffusers/EulerDiscreteScheduler",
        b: "diffusers/EulerDiscreteScheduler@t(sigma)",
        note: "Same diffusers loop; the model is fed the grid t_i vs sigma_to_t(sigma_i).",
      },
      {
        cause: "sigma-interpolation",
        a: "k-diffusion/sample_euler@get_sigmas",
        b: "k-diffusion/sample_euler@np.interp",
        note: "Same sampler, same t grid, float64; sigma(t) log-linear (t_to_sigma) vs linear (np.interp).",
      },
      {
        cause: "float32-casts",
        a: "diffusers/EulerDiscreteScheduler@t(sigma)",
        b: "diffusers/EulerDiscreteScheduler@t(sigma)+uncast(sample)",
        note: "Same diffusers loop, model fed sigma_to_t(sigma_i); step() rounds the float64 sample to float32 every step (as shipped) vs keeps it in float64. The largest of diffusers' float32 casts; the others (c_in on float32 0-d tensors, float32 sigmas and sigma scalars) are rungs of the ladders below.",
      },
      {
        cause: "timestep-rounding",
        a: "k-diffusion/sample_euler@get_sigmas",
        b: "k-diffusion/sample_euler@quantize",
        note: "Same sampler and sigmas; only sigma_to_t's quantize flag differs.",
      },
    ],
  },
  {
    id: "discrete-heun",
    title: "discrete eps model: diffusers HeunDiscreteScheduler vs k-diffusion sample_heun",
    setup: "ring8-discrete",
    schedule: "linspace spacing, N = 15 (Heun's doubled grid, once each for k-diffusion)",
    noise: "none",
    impls: [
      {
        id: "diffusers/HeunDiscreteScheduler@t(sigma)",
        library: "diffusers",
        label: "diffusers Heun, model fed sigma_to_t(sigma)",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "HeunDiscreteScheduler",
          config: "linspace",
          timestep: "sigma_to_t",
          noise: "none",
        },
      },
      {
        id: "diffusers/HeunDiscreteScheduler",
        library: "diffusers",
        label: "diffusers Heun (linspace)",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "HeunDiscreteScheduler",
          config: "linspace",
          noise: "none",
        },
      },
      {
        id: "k-diffusion/sample_heun@diffusers-sigmas",
        library: "k-diffusion",
        label: "k-diffusion sample_heun on diffusers' sigmas",
        run: {
          runner: "k-diffusion",
          sampler: "sample_heun",
          model: "wrapper",
          sigmas: "heun-unique",
          noise: "none",
        },
      },
    ],
    pairs: [
      {
        id: "discrete-heun/diffusers-t(sigma)-vs-kd",
        a: "diffusers/HeunDiscreteScheduler@t(sigma)",
        b: "k-diffusion/sample_heun@diffusers-sigmas",
        expect: "float32-casts",
        note: "Heun's step() keeps the sample in float64, but scale_model_input divides by sqrt(sigma^2 + 1) computed on float32 0-d tensors, so the model's input differs at ~1e-8 relative from the first call (k-diffusion's c_in is float64); the gap stays at that level.",
      },
      {
        id: "discrete-heun/diffusers-vs-kd",
        a: "diffusers/HeunDiscreteScheduler",
        b: "k-diffusion/sample_heun@diffusers-sigmas",
        expect: "timestep-mapping",
        note: "As shipped, diffusers feeds the grid timesteps.",
      },
    ],
    minimal: [],
  },
  {
    id: "discrete-ancestral",
    title:
      "discrete eps model: diffusers EulerAncestralDiscreteScheduler vs k-diffusion sample_euler_ancestral (eta = 1)",
    setup: "ring8-discrete",
    schedule: "linspace spacing, N = 15",
    noise: "aligned by step",
    impls: [
      {
        id: "diffusers/EulerAncestralDiscreteScheduler@t(sigma)",
        library: "diffusers",
        label: "diffusers Euler-a, model fed sigma_to_t(sigma)",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "EulerAncestralDiscreteScheduler",
          config: "linspace",
          timestep: "sigma_to_t",
          noise: "aligned",
        },
      },
      {
        id: "k-diffusion/sample_euler_ancestral@diffusers-sigmas",
        library: "k-diffusion",
        label: "k-diffusion sample_euler_ancestral on diffusers' sigmas",
        run: {
          runner: "k-diffusion",
          sampler: "sample_euler_ancestral",
          model: "wrapper",
          sigmas: "diffusers-linspace",
          kwargs: { eta: 1 },
          noise: "aligned",
        },
      },
    ],
    pairs: [
      {
        id: "discrete-ancestral/diffusers-vs-kd",
        a: "diffusers/EulerAncestralDiscreteScheduler@t(sigma)",
        b: "k-diffusion/sample_euler_ancestral@diffusers-sigmas",
        expect: "float32-casts",
        note: "Same ancestral rule; diffusers casts the sample to float32 in step() and draws one more noise tensor (on the last step, where sigma_up = 0).",
      },
    ],
    minimal: [],
  },
  {
    id: "initial-noise-scale",
    title: "discrete eps model: initial latent scale",
    setup: "ring8-discrete",
    schedule: "leading spacing, steps_offset 1, N = 15",
    noise: "none",
    impls: [
      {
        id: "diffusers/EulerDiscreteScheduler@leading",
        library: "diffusers",
        label: "diffusers Euler (leading, steps_offset 1)",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "EulerDiscreteScheduler",
          config: "leading",
          noise: "none",
        },
      },
      {
        id: "diffusers/EulerDiscreteScheduler@leading,x=z*sigma_max",
        library: "diffusers",
        label: "diffusers Euler (leading), latents scaled by sigma_max",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "EulerDiscreteScheduler",
          config: "leading",
          initScale: "sigma_max",
          noise: "none",
        },
      },
    ],
    pairs: [],
    minimal: [
      {
        cause: "initial-noise-scale",
        a: "diffusers/EulerDiscreteScheduler@leading",
        b: "diffusers/EulerDiscreteScheduler@leading,x=z*sigma_max",
        note: (f) =>
          `Same loop; x_0 = z * init_noise_sigma (${f.leadingInitNoiseSigma.toPrecision(7)} = sqrt(sigma_max^2 + 1) for leading) vs z * sigma_max (${f.leadingSigmaMax.toPrecision(7)}), as k-diffusion does.`,
      },
    ],
  },
  {
    id: "karras",
    title: "Karras sigmas: diffusers (leading, steps_offset 1) vs k-diffusion get_sigmas_karras",
    setup: "ring8-discrete",
    schedule: "Karras, N = 15, over the model's range and over diffusers' leading-grid range",
    noise: "none",
    impls: [
      kdEuler(
        "k-diffusion/sample_euler@karras(model range)",
        "k-diffusion sample_euler, Karras over the model's sigma range",
        "karras-model-range",
      ),
      kdEuler(
        "k-diffusion/sample_euler@karras(leading range)",
        "k-diffusion sample_euler, Karras over diffusers' leading-grid range",
        "karras-leading-range",
      ),
      {
        id: "diffusers/EulerDiscreteScheduler@karras,leading",
        library: "diffusers",
        label: "diffusers Euler, use_karras_sigmas, leading",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "EulerDiscreteScheduler",
          config: "karras-leading",
          noise: "none",
        },
      },
    ],
    pairs: [
      {
        id: "karras/diffusers-leading-vs-kd",
        a: "diffusers/EulerDiscreteScheduler@karras,leading",
        b: "k-diffusion/sample_euler@karras(model range)",
        expect: "noise-level-schedule",
        note: (f) =>
          `diffusers' Karras range comes from the spacing grid: ${f.karrasLeadingSigmaMax.toPrecision(5)}..${f.karrasLeadingSigmaMin.toPrecision(4)} instead of the model's ${f.modelSigmaMax.toPrecision(5)}..${f.modelSigmaMin.toPrecision(4)}.`,
      },
    ],
    minimal: [
      {
        cause: "noise-level-schedule",
        title: "Karras sigmas",
        a: "k-diffusion/sample_euler@karras(model range)",
        b: "k-diffusion/sample_euler@karras(leading range)",
        note: "Same sampler; Karras over the model's range vs over diffusers' leading-grid range.",
      },
    ],
  },
  {
    id: "discrete-churn",
    title: "discrete eps model: churn in diffusers Euler vs k-diffusion sample_euler",
    setup: "ring8-discrete",
    schedule: "linspace spacing, N = 15",
    noise: "aligned by step",
    impls: [
      {
        id: "diffusers/EulerDiscreteScheduler+churn@t(sigma)",
        library: "diffusers",
        label: "diffusers Euler, s_churn, model fed sigma_to_t(sigma)",
        run: {
          runner: "diffusers",
          steps: 15,
          scheduler: "EulerDiscreteScheduler",
          config: "linspace",
          timestep: "sigma_to_t",
          stepKwargs: { sChurn: 40, sTmin: 0.05, sTmax: 50, sNoise: 1 },
          noise: "aligned",
        },
      },
      {
        id: "k-diffusion/sample_euler+churn@diffusers-sigmas",
        library: "k-diffusion",
        label: "k-diffusion sample_euler, s_churn, diffusers' sigmas",
        run: {
          runner: "k-diffusion",
          sampler: "sample_euler",
          model: "wrapper",
          sigmas: "diffusers-linspace",
          kwargs: { s_churn: 40, s_tmin: 0.05, s_tmax: 50, s_noise: 1 },
          noise: "aligned",
        },
      },
    ],
    pairs: [
      {
        id: "discrete-churn/diffusers-vs-kd",
        a: "diffusers/EulerDiscreteScheduler+churn@t(sigma)",
        b: "k-diffusion/sample_euler+churn@diffusers-sigmas",
        expect: "churn-evaluation-point",
        note: "diffusers runs the model before step() adds the churn noise and reuses that eps at sigma_hat.",
      },
    ],
    minimal: [],
  },
];
