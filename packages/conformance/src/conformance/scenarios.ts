/**
 * Implementation vs implementation: the "same" method from k-diffusion, diffusers, the
 * general EDM algorithms, NVlabs' samplers and Song et al.'s ancestral rule, side by side on
 * one model, one schedule and one noise stream. Each pair is computed, never asserted: the
 * verdict comes from the numbers. A pair expected to agree (`cause: null`) that diverges is
 * reported as unexplained.
 *
 * Root causes are demonstrated by minimal pairs: two runs that differ in exactly one rule.
 */
import {
  DiscreteGmmModel,
  namedMixtureDenoiser,
  namedMixtures,
  type Denoiser,
  type NoiseSource,
  type Tensor,
  TorchGenerator,
  numpyInterp,
  numpyLinspace,
  observeDenoiser,
  scale,
  zerosLike,
} from "@edmkit/core";
import { EulerDiscreteScheduler } from "@edmkit/diffusers";
import { linearSchedule } from "@edmkit/edm";
import * as kd from "@edmkit/k-diffusion";
import type { CauseId, Impl, PairResult } from "../report/schema.js";
import { CountingNoise, runDiffusers, runEdm, runKd, runNvlabs } from "../runners/record.js";

const RING8 = namedMixtures["gmm2d-ring8"]();
const ring8 = () => namedMixtureDenoiser("gmm2d-ring8");
import { songAncestralVE, songAncestralVP } from "./song2021.js";
import { AlignedNoise, CallRecorder, comparePair, type PairSpec, type TrajectoryRun } from "./trajectory.js";
import { eulerChurnLoop, heunLoop } from "./variants.js";

const B = 64;
const SEED = 20221128;

const impl = (
  id: string,
  library: Impl["library"],
  label: string,
  settings: Impl["settings"] = {},
): Impl => ({ id, library, label, settings });

function z2d(seed = SEED): Tensor {
  return new TorchGenerator(seed).randn([B, 2], "float64");
}

/** Run a written-out loop (variants, Song) with the same recording as the ports. */
async function runLoop(
  i: Impl,
  model: Denoiser,
  body: (m: Denoiser, track: { step: number }, noise: NoiseSource) => Promise<Tensor>,
  noise: NoiseSource,
): Promise<TrajectoryRun> {
  const rec = new CallRecorder();
  const counting = new CountingNoise(noise);
  const out = await body(observeDenoiser(model, rec), rec, counting);
  return { impl: i, calls: rec.calls, output: Float64Array.from(out.data), draws: counting.draws };
}

export interface ScenarioOutput {
  pairs: PairResult[];
  /** Minimal pairs by cause id. */
  minimal: Map<CauseId, PairResult>;
  /** Method names of identical groups, keyed by impl id. */
  methods: Map<string, string>;
}

type Spec = Omit<PairSpec, "dtype"> & { dtype?: "float32" | "float64" };

function pair(spec: Spec, a: TrajectoryRun, b: TrajectoryRun): PairResult {
  return comparePair({ dtype: "float64", ...spec }, a, b);
}

// ---------------------------------------------------------------------------------------
// Continuous mixture: Euler, Heun, churn, ancestral

const KARRAS = { n: 12, sigmaMin: 0.002, sigmaMax: 80 };

export async function continuousScenarios(): Promise<PairResult[]> {
  const model = ring8();
  const z = z2d();
  const sigmas = kd.getSigmasKarras(KARRAS.n, KARRAS.sigmaMin, KARRAS.sigmaMax);
  const edmGrid = { schedule: linearSchedule(), timeSteps: sigmas, conventions: "paper" as const };
  const nvEdm = { num_steps: KARRAS.n, sigma_min: KARRAS.sigmaMin, sigma_max: KARRAS.sigmaMax, rho: 7 };
  const pairs: PairResult[] = [];
  const modelName = "gmm2d-ring8 (exact)";
  const sc = "deterministic: Euler and Heun on Karras sigmas (N = 12, 0.002..80)";

  const kdEuler = await runKd(
    impl("k-diffusion/sample_euler", "k-diffusion", "k-diffusion sample_euler"),
    "sample_euler",
    model,
    z,
    sigmas,
    {},
    null,
  );
  const edmEuler = await runEdm(
    impl("edm/algorithm1-euler", "edm", "EDM Algorithm 1, Euler, sigma(t)=t, s(t)=1"),
    model,
    z,
    { ...edmGrid, solver: "euler" },
    null,
  );
  const nvEuler = await runNvlabs(
    impl(
      "edm/ablation_sampler-euler",
      "edm",
      "NVlabs ablation_sampler (euler, edm disc., linear schedule, no scaling)",
    ),
    "ablation_sampler",
    model,
    z,
    { ...nvEdm, solver: "euler", discretization: "edm", schedule: "linear", scaling: "none" },
    new AlignedNoise(SEED),
  );
  pairs.push(
    pair(
      {
        id: "euler/kd-vs-edm",
        scenario: sc,
        model: modelName,
        cause: null,
        causePair: null,
        note: "Algorithm 1 with the Euler solver is k-diffusion's sample_euler.",
      },
      kdEuler,
      edmEuler,
    ),
  );
  pairs.push(
    pair(
      {
        id: "euler/kd-vs-nvlabs",
        scenario: sc,
        model: modelName,
        cause: null,
        causePair: null,
        note: "NVlabs' EDM discretization reproduces get_sigmas_karras; t_hat round-trips through the identity for the linear schedule.",
      },
      kdEuler,
      nvEuler,
    ),
  );

  const kdHeun = await runKd(
    impl("k-diffusion/sample_heun", "k-diffusion", "k-diffusion sample_heun"),
    "sample_heun",
    model,
    z,
    sigmas,
    {},
    null,
  );
  const edmHeun = await runEdm(
    impl("edm/algorithm1-heun", "edm", "EDM Algorithm 1, Heun"),
    model,
    z,
    { ...edmGrid, solver: "heun" },
    null,
  );
  const nvHeun = await runNvlabs(
    impl("edm/edm_sampler", "edm", "NVlabs edm_sampler (S_churn = 0)"),
    "edm_sampler",
    model,
    z,
    { ...nvEdm },
    new AlignedNoise(SEED),
  );
  pairs.push(
    pair(
      {
        id: "heun/kd-vs-edm",
        scenario: sc,
        model: modelName,
        cause: null,
        causePair: null,
        note: "Both take an Euler step into sigma = 0: 2N - 1 model calls.",
      },
      kdHeun,
      edmHeun,
    ),
  );
  pairs.push(
    pair(
      {
        id: "heun/kd-vs-nvlabs",
        scenario: sc,
        model: modelName,
        cause: null,
        causePair: null,
        note: "edm_sampler draws noise every step even at gamma = 0; it is unused.",
      },
      kdHeun,
      nvHeun,
    ),
  );

  // A schedule ending at sigma_min > 0 (no trailing zero): the last-step rules part.
  const tail = sigmas.slice(0, -1);
  const kdHeunTail = await runKd(
    impl(
      "k-diffusion/sample_heun@sigma_min",
      "k-diffusion",
      "k-diffusion sample_heun, schedule ending at 0.002",
    ),
    "sample_heun",
    model,
    z,
    tail,
    {},
    null,
  );
  const x0 = scale(zerosLike(z), z, tail[0]);
  const idxHeunTail = await runLoop(
    impl("variant/heun-index-rule", "reference", "Heun, Euler on the last step by index (NVlabs rule)"),
    model,
    (m, t) => heunLoop(m, x0, tail, "index", t),
    new AlignedNoise(SEED),
  );
  const zeroHeunTail = await runLoop(
    impl("variant/heun-sigma-zero-rule", "reference", "Heun, Euler only into sigma = 0 (k-diffusion rule)"),
    model,
    (m, t) => heunLoop(m, x0, tail, "sigma-zero", t),
    new AlignedNoise(SEED),
  );
  const sc2 = "final step: a schedule ending at sigma_min = 0.002 instead of 0";
  pairs.push(
    pair(
      {
        id: "heun-final/kd-vs-index-rule",
        scenario: sc2,
        model: modelName,
        cause: "final-step-handling",
        causePair: "final-step-handling",
        note: "k-diffusion decides Euler-vs-Heun by sigma_{i+1} == 0; NVlabs by the step index. On a schedule that ends above 0 k-diffusion takes a full Heun step (2N calls), the index rule an Euler step (2N - 1).",
      },
      kdHeunTail,
      idxHeunTail,
    ),
  );
  pairs.push(
    pair(
      {
        id: "heun-final/kd-vs-sigma-zero-variant",
        scenario: sc2,
        model: modelName,
        cause: null,
        causePair: null,
        note: "The written-out loop with k-diffusion's rule reproduces the port (ties the minimal pair to the library).",
      },
      kdHeunTail,
      zeroHeunTail,
    ),
  );
  minimalPairs.set(
    "final-step-handling",
    pair(
      {
        id: "minimal/final-step-handling",
        scenario: sc2,
        model: modelName,
        cause: "final-step-handling",
        causePair: "final-step-handling",
        note: "Same Heun loop, same schedule ending at 0.002; only the last-step rule differs.",
      },
      zeroHeunTail,
      idxHeunTail,
    ),
  );

  // Stochastic: churn.
  const churn = { s_churn: 40, s_tmin: 0.05, s_tmax: 50, s_noise: 1.003 };
  const edmChurn = {
    S_churn: churn.s_churn,
    S_tmin: churn.s_tmin,
    S_tmax: churn.s_tmax,
    S_noise: churn.s_noise,
  };
  const sc3 =
    "stochastic: EDM churn (S_churn = 40, window [0.05, 50], S_noise = 1.003), noise aligned by step";
  const kdEulerChurn = await runKd(
    impl("k-diffusion/sample_euler+churn", "k-diffusion", "k-diffusion sample_euler, s_churn"),
    "sample_euler",
    model,
    z,
    sigmas,
    churn,
    new AlignedNoise(SEED),
  );
  const edmEulerChurn = await runEdm(
    impl("edm/algorithm2-euler", "edm", "EDM Algorithm 2, Euler"),
    model,
    z,
    { ...edmGrid, solver: "euler", ...edmChurn },
    new AlignedNoise(SEED),
  );
  const kdHeunChurn = await runKd(
    impl("k-diffusion/sample_heun+churn", "k-diffusion", "k-diffusion sample_heun, s_churn"),
    "sample_heun",
    model,
    z,
    sigmas,
    churn,
    new AlignedNoise(SEED),
  );
  const edmHeunChurn = await runEdm(
    impl("edm/algorithm2-heun", "edm", "EDM Algorithm 2, Heun"),
    model,
    z,
    { ...edmGrid, solver: "heun", ...edmChurn },
    new AlignedNoise(SEED),
  );
  const nvHeunChurn = await runNvlabs(
    impl("edm/edm_sampler+churn", "edm", "NVlabs edm_sampler, S_churn"),
    "edm_sampler",
    model,
    z,
    { ...nvEdm, S_churn: 40, S_min: 0.05, S_max: 50, S_noise: 1.003 },
    new AlignedNoise(SEED),
  );
  pairs.push(
    pair(
      {
        id: "churn-euler/kd-vs-edm",
        scenario: sc3,
        model: modelName,
        cause: null,
        causePair: null,
        note: "Same gamma, same window test on sigma_i, model evaluated at (x_hat, sigma_hat).",
      },
      kdEulerChurn,
      edmEulerChurn,
    ),
  );
  pairs.push(
    pair(
      {
        id: "churn-heun/kd-vs-edm",
        scenario: sc3,
        model: modelName,
        cause: null,
        causePair: null,
        note: "Algorithm 2 is k-diffusion's sample_heun with churn.",
      },
      kdHeunChurn,
      edmHeunChurn,
    ),
  );
  pairs.push(
    pair(
      {
        id: "churn-heun/kd-vs-nvlabs",
        scenario: sc3,
        model: modelName,
        cause: null,
        causePair: null,
        note: "NVlabs edm_sampler with S_churn.",
      },
      kdHeunChurn,
      nvHeunChurn,
    ),
  );

  // Same two methods on ONE sequential stream: consumption decides which noise a step sees.
  const sc4 = "stochastic: the same churn on one sequential noise stream (torch.manual_seed style)";
  const kdSeq = await runKd(
    impl(
      "k-diffusion/sample_euler+churn@stream",
      "k-diffusion",
      "k-diffusion sample_euler, s_churn, one stream",
    ),
    "sample_euler",
    model,
    z,
    sigmas,
    churn,
    new AlignedNoise(SEED, "sequential"),
  );
  const edmSeq = await runEdm(
    impl("edm/algorithm2-euler@stream", "edm", "EDM Algorithm 2 (draws only when gamma > 0), one stream"),
    model,
    z,
    { ...edmGrid, solver: "euler", ...edmChurn },
    new AlignedNoise(SEED, "sequential"),
  );
  const edmSeqEvery = await runEdm(
    impl("edm/algorithm2-euler-every-step@stream", "edm", "EDM Algorithm 2, drawing every step, one stream"),
    model,
    z,
    {
      ...edmGrid,
      solver: "euler",
      ...edmChurn,
      conventions: { tHat: "paper", noiseDraws: "every-step", lastStep: "sigma-zero", secondPoint: "grid" },
    },
    new AlignedNoise(SEED, "sequential"),
  );
  pairs.push(
    pair(
      {
        id: "churn-euler/kd-vs-edm@stream",
        scenario: sc4,
        model: modelName,
        cause: "rng-consumption",
        causePair: "rng-consumption",
        note: "k-diffusion draws randn_like(x) every step even at gamma = 0; the paper's Algorithm 2 draws only when it churns. On one stream the churned steps then see different noise.",
      },
      kdSeq,
      edmSeq,
    ),
  );
  pairs.push(
    pair(
      {
        id: "churn-euler/kd-vs-edm-every-step@stream",
        scenario: sc4,
        model: modelName,
        cause: null,
        causePair: null,
        note: "With a draw every step the EDM sampler consumes the stream as k-diffusion does.",
      },
      kdSeq,
      edmSeqEvery,
    ),
  );
  minimalPairs.set(
    "rng-consumption",
    pair(
      {
        id: "minimal/rng-consumption",
        scenario: sc4,
        model: modelName,
        cause: "rng-consumption",
        causePair: "rng-consumption",
        note: "Same EDM sampler, same stream; only whether a draw is taken at gamma = 0 differs.",
      },
      edmSeqEvery,
      edmSeq,
    ),
  );

  // Churn evaluation point (diffusers' rule), with written-out variants.
  const x0full = scale(zerosLike(z), z, sigmas[0]);
  const churned = await runLoop(
    impl("variant/euler-churn-churned", "reference", "Euler churn, D at (x_hat, sigma_hat)"),
    model,
    (m, t, nz) =>
      eulerChurnLoop(m, x0full, sigmas, {
        sChurn: 40,
        sTmin: 0.05,
        sTmax: 50,
        sNoise: 1.003,
        evaluate: "churned",
        noise: nz,
        track: t,
      }),
    new AlignedNoise(SEED),
  );
  const stale = await runLoop(
    impl(
      "variant/euler-churn-stale",
      "reference",
      "Euler churn, D at (x, sigma) reused at sigma_hat (diffusers rule)",
    ),
    model,
    (m, t, nz) =>
      eulerChurnLoop(m, x0full, sigmas, {
        sChurn: 40,
        sTmin: 0.05,
        sTmax: 50,
        sNoise: 1.003,
        evaluate: "stale",
        noise: nz,
        track: t,
      }),
    new AlignedNoise(SEED),
  );
  pairs.push(
    pair(
      {
        id: "churn-euler/kd-vs-churned-variant",
        scenario: sc3,
        model: modelName,
        cause: null,
        causePair: null,
        note: "The written-out churn loop reproduces k-diffusion (ties the minimal pair to the library).",
      },
      kdEulerChurn,
      churned,
    ),
  );
  minimalPairs.set(
    "churn-evaluation-point",
    pair(
      {
        id: "minimal/churn-evaluation-point",
        scenario: sc3,
        model: modelName,
        cause: "churn-evaluation-point",
        causePair: "churn-evaluation-point",
        note: "Same loop, same noise; only where the model is evaluated differs: (x_hat, sigma_hat) vs (x, sigma) with the eps reused at sigma_hat.",
      },
      churned,
      stale,
    ),
  );

  // Ancestral.
  const sc5 = "ancestral: k-diffusion sample_euler_ancestral vs Song et al. 2021 (Appendix F)";
  const kdA1 = await runKd(
    impl(
      "k-diffusion/sample_euler_ancestral(eta=1)",
      "k-diffusion",
      "k-diffusion sample_euler_ancestral, eta = 1",
    ),
    "sample_euler_ancestral",
    model,
    z,
    sigmas,
    { eta: 1 },
    new AlignedNoise(SEED),
  );
  const kdA05 = await runKd(
    impl(
      "k-diffusion/sample_euler_ancestral(eta=0.5)",
      "k-diffusion",
      "k-diffusion sample_euler_ancestral, eta = 0.5",
    ),
    "sample_euler_ancestral",
    model,
    z,
    sigmas,
    { eta: 0.5 },
    new AlignedNoise(SEED),
  );
  const kdA0 = await runKd(
    impl(
      "k-diffusion/sample_euler_ancestral(eta=0)",
      "k-diffusion",
      "k-diffusion sample_euler_ancestral, eta = 0",
    ),
    "sample_euler_ancestral",
    model,
    z,
    sigmas,
    { eta: 0 },
    new AlignedNoise(SEED),
  );
  const songVE = await runLoop(
    impl("song2021/ve-ancestral", "song2021", "Song et al. VE (SMLD) ancestral sampling"),
    model,
    (m, t, nz) =>
      songAncestralVE(m, x0full, sigmas, {
        noise: nz,
        observer: {
          onStep: (e) => {
            t.step = e.i + 1;
          },
        },
      }),
    new AlignedNoise(SEED),
  );
  const songVP = await runLoop(
    impl("song2021/vp-ancestral", "song2021", "Song et al. VP (DDPM, variance beta) ancestral sampling"),
    model,
    (m, t, nz) =>
      songAncestralVP(m, x0full, sigmas, {
        noise: nz,
        observer: {
          onStep: (e) => {
            t.step = e.i + 1;
          },
        },
      }),
    new AlignedNoise(SEED),
  );
  pairs.push(
    pair(
      {
        id: "ancestral/kd-eta1-vs-song-ve",
        scenario: sc5,
        model: modelName,
        cause: null,
        causePair: null,
        note: "At eta = 1 sigma_up^2 = u^2 (s^2 - u^2)/s^2 is Song's VE variance and the step to sigma_down is Song's mean.",
      },
      kdA1,
      songVE,
    ),
  );
  pairs.push(
    pair(
      {
        id: "ancestral/kd-eta1-vs-song-vp",
        scenario: sc5,
        model: modelName,
        cause: "noise-injection-rule",
        causePair: "noise-injection-rule",
        note: "Song's VP rule adds variance beta (fixed_large) instead of the posterior variance beta-tilde.",
      },
      kdA1,
      songVP,
    ),
  );
  pairs.push(
    pair(
      {
        id: "ancestral/kd-eta0.5-vs-song-ve",
        scenario: sc5,
        model: modelName,
        cause: "noise-scaling",
        causePair: "noise-scaling",
        note: "eta < 1 shrinks sigma_up (DDIM(eta)); Song's rule has no eta.",
      },
      kdA05,
      songVE,
    ),
  );
  pairs.push(
    pair(
      {
        id: "ancestral/kd-eta0-vs-kd-euler",
        scenario: sc5,
        model: modelName,
        cause: null,
        causePair: null,
        note: "eta = 0 short-circuits get_ancestral_step to (sigma_to, 0): plain Euler.",
      },
      kdA0,
      kdEuler,
    ),
  );
  minimalPairs.set(
    "noise-injection-rule",
    pair(
      {
        id: "minimal/noise-injection-rule",
        scenario: sc5,
        model: modelName,
        cause: "noise-injection-rule",
        causePair: "noise-injection-rule",
        note: "Song VE vs Song VP on the same sigma grid and noise: the variance rule (beta-tilde vs beta) and the matching mean.",
      },
      songVE,
      songVP,
    ),
  );
  minimalPairs.set(
    "noise-scaling",
    pair(
      {
        id: "minimal/noise-scaling",
        scenario: sc5,
        model: modelName,
        cause: "noise-scaling",
        causePair: "noise-scaling",
        note: "Same sampler, same noise; eta 1 vs 0.5 scales the injected noise (and sigma_down with it).",
      },
      kdA1,
      kdA05,
    ),
  );
  return pairs;
}

// ---------------------------------------------------------------------------------------
// Discrete-time eps model: diffusers vs k-diffusion's DiscreteEpsDDPMDenoiser

export const SD_CONFIG = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
};

export async function discreteScenarios(): Promise<PairResult[]> {
  const pairs: PairResult[] = [];
  const N = 15;
  const z = z2d(SEED + 1);
  const table = new EulerDiscreteScheduler({ ...SD_CONFIG }).alphasCumprod;
  const eps = new DiscreteGmmModel({ gmm: RING8, alphasCumprod: table, prediction: "epsilon" });
  const modelName =
    "gmm2d-ring8 as a discrete eps model (SD scaled_linear betas, diffusers' float32 alphas_cumprod)";
  const wrapper = new kd.DiscreteEpsDDPMDenoiser(eps, table, { quantize: false });
  const quantized = new kd.DiscreteEpsDDPMDenoiser(eps, table, { quantize: true });
  const tFromSigma = (_t: number, sigma: number) => wrapper.sigmaToT(sigma);

  const linspace = { ...SD_CONFIG, timestep_spacing: "linspace" };
  const sched = new EulerDiscreteScheduler(linspace);
  sched.setTimesteps(N);
  const dSigmas = Float64Array.from(sched.sigmas);
  const kdSigmas = wrapper.getSigmas(N);
  const sc =
    "discrete eps model: diffusers EulerDiscreteScheduler (linspace) vs k-diffusion DiscreteEpsDDPMDenoiser";

  const dEuler = await runDiffusers(
    impl("diffusers/EulerDiscreteScheduler", "diffusers", "diffusers Euler (linspace)", {
      timestep_spacing: "linspace",
    }),
    "EulerDiscreteScheduler",
    linspace,
    eps,
    z,
    { numInferenceSteps: N },
    null,
  );
  const kdOwn = await runKd(
    impl(
      "k-diffusion/sample_euler@get_sigmas",
      "k-diffusion",
      "k-diffusion sample_euler, DiscreteEpsDDPMDenoiser.get_sigmas",
    ),
    "sample_euler",
    wrapper,
    z,
    kdSigmas,
    {},
    null,
  );
  const kdSameSigmas = await runKd(
    impl(
      "k-diffusion/sample_euler@diffusers-sigmas",
      "k-diffusion",
      "k-diffusion sample_euler on diffusers' float32 sigmas",
    ),
    "sample_euler",
    wrapper,
    z,
    dSigmas,
    {},
    null,
  );
  const dEulerT = await runDiffusers(
    impl(
      "diffusers/EulerDiscreteScheduler@t(sigma)",
      "diffusers",
      "diffusers Euler, model fed sigma_to_t(sigma_i)",
    ),
    "EulerDiscreteScheduler",
    linspace,
    eps,
    z,
    { numInferenceSteps: N, timestepFor: tFromSigma },
    null,
  );
  pairs.push(
    pair(
      {
        id: "discrete-euler/diffusers-vs-kd-own-schedule",
        scenario: sc,
        model: modelName,
        cause: "sigma-interpolation",
        causePair: "sigma-interpolation",
        note: "Same t grid linspace(999, 0, N); diffusers interpolates sigma linearly in sigma (np.interp), k-diffusion linearly in log sigma.",
      },
      dEuler,
      kdOwn,
    ),
  );
  pairs.push(
    pair(
      {
        id: "discrete-euler/diffusers-vs-kd-same-sigmas",
        scenario: sc,
        model: modelName,
        cause: "timestep-mapping",
        causePair: "timestep-mapping",
        note: "Same sigmas: diffusers gives the model the grid timestep t_i, whose sigma (log-linear table lookup) is not the sigma_i its update uses; k-diffusion gives sigma_to_t(sigma_i).",
      },
      dEuler,
      kdSameSigmas,
    ),
  );
  pairs.push(
    pair(
      {
        id: "discrete-euler/diffusers-t(sigma)-vs-kd-same-sigmas",
        scenario: sc,
        model: modelName,
        cause: "float32-casts",
        causePair: "float32-casts",
        note: "Timesteps aligned too: what remains is diffusers casting the sample to float32 at every step().",
      },
      dEulerT,
      kdSameSigmas,
    ),
  );
  minimalPairs.set(
    "timestep-mapping",
    pair(
      {
        id: "minimal/timestep-mapping",
        scenario: sc,
        model: modelName,
        cause: "timestep-mapping",
        causePair: "timestep-mapping",
        note: "Same diffusers loop; the model is fed the grid t_i vs sigma_to_t(sigma_i).",
      },
      dEuler,
      dEulerT,
    ),
  );

  // sigma interpolation alone: the same k-diffusion sampler on the two interpolations of one t grid
  const tGrid = numpyLinspace(0, 999, N).reverse();
  const linSigmas = new Float64Array(N + 1);
  linSigmas.set(
    numpyInterp(
      tGrid,
      Float64Array.from({ length: 1000 }, (_, j) => j),
      wrapper.sigmas,
    ),
  );
  const kdLin = await runKd(
    impl(
      "k-diffusion/sample_euler@np.interp",
      "k-diffusion",
      "k-diffusion sample_euler, sigmas by np.interp (linear in sigma)",
    ),
    "sample_euler",
    wrapper,
    z,
    linSigmas,
    {},
    null,
  );
  minimalPairs.set(
    "sigma-interpolation",
    pair(
      {
        id: "minimal/sigma-interpolation",
        scenario: sc,
        model: modelName,
        cause: "sigma-interpolation",
        causePair: "sigma-interpolation",
        note: "Same sampler, same t grid, float64; sigma(t) log-linear (t_to_sigma) vs linear (np.interp).",
      },
      kdOwn,
      kdLin,
    ),
  );

  // float32 storage of sigmas alone
  const kdF64Sigmas = await runKd(
    impl(
      "k-diffusion/sample_euler@float64-np.interp",
      "k-diffusion",
      "k-diffusion sample_euler, diffusers' sigmas kept in float64",
    ),
    "sample_euler",
    wrapper,
    z,
    linSigmas,
    {},
    null,
  );
  const kdF32Sigmas = await runKd(
    impl(
      "k-diffusion/sample_euler@float32-np.interp",
      "k-diffusion",
      "k-diffusion sample_euler, diffusers' sigmas rounded to float32",
    ),
    "sample_euler",
    wrapper,
    z,
    Float64Array.from(linSigmas, Math.fround),
    {},
    null,
  );
  minimalPairs.set(
    "float32-casts",
    pair(
      {
        id: "minimal/float32-casts",
        scenario: sc,
        model: modelName,
        cause: "float32-casts",
        causePair: "float32-casts",
        note: "Same sampler and schedule; the schedule held in float64 vs rounded to float32 as diffusers stores it.",
      },
      kdF64Sigmas,
      kdF32Sigmas,
    ),
  );

  // timestep rounding (quantize)
  const kdQ = await runKd(
    impl("k-diffusion/sample_euler@quantize", "k-diffusion", "k-diffusion sample_euler, quantize=True"),
    "sample_euler",
    quantized,
    z,
    kdSigmas,
    {},
    null,
  );
  pairs.push(
    pair(
      {
        id: "discrete-euler/kd-vs-kd-quantized",
        scenario: sc,
        model: modelName,
        cause: "timestep-rounding",
        causePair: "timestep-rounding",
        note: "quantize=True evaluates the model at the nearest integer timestep.",
      },
      kdOwn,
      kdQ,
    ),
  );
  minimalPairs.set(
    "timestep-rounding",
    pair(
      {
        id: "minimal/timestep-rounding",
        scenario: sc,
        model: modelName,
        cause: "timestep-rounding",
        causePair: "timestep-rounding",
        note: "Same sampler and sigmas; only sigma_to_t's quantize flag differs.",
      },
      kdOwn,
      kdQ,
    ),
  );

  // Heun has no float32 cast: with timesteps aligned it should be the k-diffusion method.
  const sch = "discrete eps model: diffusers HeunDiscreteScheduler vs k-diffusion sample_heun";
  const heunSched = new (await import("@edmkit/diffusers")).HeunDiscreteScheduler(linspace);
  heunSched.setTimesteps(N);
  const hs = Array.from(heunSched.sigmas);
  const uniq = [hs[0]];
  for (let k = 1; k < hs.length; k += 2) uniq.push(hs[k]);
  const dHeunT = await runDiffusers(
    impl(
      "diffusers/HeunDiscreteScheduler@t(sigma)",
      "diffusers",
      "diffusers Heun, model fed sigma_to_t(sigma)",
    ),
    "HeunDiscreteScheduler",
    linspace,
    eps,
    z,
    { numInferenceSteps: N, timestepFor: tFromSigma },
    null,
  );
  const dHeun = await runDiffusers(
    impl("diffusers/HeunDiscreteScheduler", "diffusers", "diffusers Heun (linspace)"),
    "HeunDiscreteScheduler",
    linspace,
    eps,
    z,
    { numInferenceSteps: N },
    null,
  );
  const kdHeun = await runKd(
    impl(
      "k-diffusion/sample_heun@diffusers-sigmas",
      "k-diffusion",
      "k-diffusion sample_heun on diffusers' sigmas",
    ),
    "sample_heun",
    wrapper,
    z,
    uniq,
    {},
    null,
  );
  pairs.push(
    pair(
      {
        id: "discrete-heun/diffusers-t(sigma)-vs-kd",
        scenario: sch,
        model: modelName,
        cause: "float32-casts",
        causePair: "float32-casts",
        note: "Heun's step() keeps the sample in float64, but scale_model_input divides by sqrt(sigma^2 + 1) computed on float32 0-d tensors, so the model's input differs at ~1e-8 relative from the first call (k-diffusion's c_in is float64); the gap stays at that level.",
      },
      dHeunT,
      kdHeun,
    ),
  );
  pairs.push(
    pair(
      {
        id: "discrete-heun/diffusers-vs-kd",
        scenario: sch,
        model: modelName,
        cause: "timestep-mapping",
        causePair: "timestep-mapping",
        note: "As shipped, diffusers feeds the grid timesteps.",
      },
      dHeun,
      kdHeun,
    ),
  );

  // Ancestral: diffusers Euler-a vs k-diffusion eta = 1, noise aligned by step.
  const sca =
    "discrete eps model: diffusers EulerAncestralDiscreteScheduler vs k-diffusion sample_euler_ancestral (eta = 1)";
  const dA = await runDiffusers(
    impl(
      "diffusers/EulerAncestralDiscreteScheduler@t(sigma)",
      "diffusers",
      "diffusers Euler-a, model fed sigma_to_t(sigma)",
    ),
    "EulerAncestralDiscreteScheduler",
    linspace,
    eps,
    z,
    { numInferenceSteps: N, timestepFor: tFromSigma },
    new AlignedNoise(SEED),
  );
  const kdA = await runKd(
    impl(
      "k-diffusion/sample_euler_ancestral@diffusers-sigmas",
      "k-diffusion",
      "k-diffusion sample_euler_ancestral on diffusers' sigmas",
    ),
    "sample_euler_ancestral",
    wrapper,
    z,
    dSigmas,
    { eta: 1 },
    new AlignedNoise(SEED),
  );
  pairs.push(
    pair(
      {
        id: "discrete-ancestral/diffusers-vs-kd",
        scenario: sca,
        model: modelName,
        cause: "float32-casts",
        causePair: "float32-casts",
        note: "Same ancestral rule; diffusers casts the sample to float32 in step() and draws one more noise tensor (on the last step, where sigma_up = 0).",
      },
      dA,
      kdA,
    ),
  );

  // Initial noise scale: leading spacing uses sqrt(sigma_max^2 + 1).
  const leading = { ...SD_CONFIG, timestep_spacing: "leading", steps_offset: 1 };
  const lead = new EulerDiscreteScheduler(leading);
  lead.setTimesteps(N);
  const dLead = await runDiffusers(
    impl(
      "diffusers/EulerDiscreteScheduler@leading",
      "diffusers",
      "diffusers Euler (leading, steps_offset 1)",
    ),
    "EulerDiscreteScheduler",
    leading,
    eps,
    z,
    { numInferenceSteps: N },
    null,
  );
  const dLeadSigma = await runDiffusers(
    impl(
      "diffusers/EulerDiscreteScheduler@leading,x=z*sigma_max",
      "diffusers",
      "diffusers Euler (leading), latents scaled by sigma_max",
    ),
    "EulerDiscreteScheduler",
    leading,
    eps,
    z,
    { numInferenceSteps: N, initScale: lead.sigmas[0] },
    null,
  );
  minimalPairs.set(
    "initial-noise-scale",
    pair(
      {
        id: "minimal/initial-noise-scale",
        scenario: "discrete eps model: initial latent scale",
        model: modelName,
        cause: "initial-noise-scale",
        causePair: "initial-noise-scale",
        note: `Same loop; x_0 = z * init_noise_sigma (${lead.initNoiseSigma.toPrecision(7)} = sqrt(sigma_max^2 + 1) for leading) vs z * sigma_max (${lead.sigmas[0].toPrecision(7)}), as k-diffusion does.`,
      },
      dLead,
      dLeadSigma,
    ),
  );

  // Karras range: diffusers takes sigma_min/max from the spacing grid.
  const karrasLead = { ...leading, use_karras_sigmas: true };
  const ks = new EulerDiscreteScheduler(karrasLead);
  ks.setTimesteps(N);
  const kdKarrasModel = kd.getSigmasKarras(N, wrapper.sigmas[0], wrapper.sigmas[wrapper.sigmas.length - 1]);
  const kdKarrasGrid = kd.getSigmasKarras(N, ks.sigmas[N - 1], ks.sigmas[0]);
  const kdKm = await runKd(
    impl(
      "k-diffusion/sample_euler@karras(model range)",
      "k-diffusion",
      "k-diffusion sample_euler, Karras over the model's sigma range",
    ),
    "sample_euler",
    wrapper,
    z,
    kdKarrasModel,
    {},
    null,
  );
  const kdKg = await runKd(
    impl(
      "k-diffusion/sample_euler@karras(leading range)",
      "k-diffusion",
      "k-diffusion sample_euler, Karras over diffusers' leading-grid range",
    ),
    "sample_euler",
    wrapper,
    z,
    kdKarrasGrid,
    {},
    null,
  );
  const dKarras = await runDiffusers(
    impl(
      "diffusers/EulerDiscreteScheduler@karras,leading",
      "diffusers",
      "diffusers Euler, use_karras_sigmas, leading",
    ),
    "EulerDiscreteScheduler",
    karrasLead,
    eps,
    z,
    { numInferenceSteps: N },
    null,
  );
  pairs.push(
    pair(
      {
        id: "karras/diffusers-leading-vs-kd",
        scenario: "Karras sigmas: diffusers (leading, steps_offset 1) vs k-diffusion get_sigmas_karras",
        model: modelName,
        cause: "noise-level-schedule",
        causePair: "noise-level-schedule",
        note: `diffusers' Karras range comes from the spacing grid: ${ks.sigmas[0].toPrecision(5)}..${ks.sigmas[N - 1].toPrecision(4)} instead of the model's ${wrapper.sigmas[wrapper.sigmas.length - 1].toPrecision(5)}..${wrapper.sigmas[0].toPrecision(4)}.`,
      },
      dKarras,
      kdKm,
    ),
  );
  minimalPairs.set(
    "noise-level-schedule",
    pair(
      {
        id: "minimal/noise-level-schedule",
        scenario: "Karras sigmas",
        model: modelName,
        cause: "noise-level-schedule",
        causePair: "noise-level-schedule",
        note: "Same sampler; Karras over the model's range vs over diffusers' leading-grid range.",
      },
      kdKm,
      kdKg,
    ),
  );

  // diffusers churn vs k-diffusion churn on the discrete model, timesteps aligned.
  const scc = "discrete eps model: churn in diffusers Euler vs k-diffusion sample_euler";
  const dChurn = await runDiffusers(
    impl(
      "diffusers/EulerDiscreteScheduler+churn@t(sigma)",
      "diffusers",
      "diffusers Euler, s_churn, model fed sigma_to_t(sigma)",
    ),
    "EulerDiscreteScheduler",
    linspace,
    eps,
    z,
    {
      numInferenceSteps: N,
      timestepFor: tFromSigma,
      stepKwargs: { sChurn: 40, sTmin: 0.05, sTmax: 50, sNoise: 1 },
    },
    new AlignedNoise(SEED),
  );
  const kdChurn = await runKd(
    impl(
      "k-diffusion/sample_euler+churn@diffusers-sigmas",
      "k-diffusion",
      "k-diffusion sample_euler, s_churn, diffusers' sigmas",
    ),
    "sample_euler",
    wrapper,
    z,
    dSigmas,
    { s_churn: 40, s_tmin: 0.05, s_tmax: 50, s_noise: 1 },
    new AlignedNoise(SEED),
  );
  pairs.push(
    pair(
      {
        id: "discrete-churn/diffusers-vs-kd",
        scenario: scc,
        model: modelName,
        cause: "churn-evaluation-point",
        causePair: "churn-evaluation-point",
        note: "diffusers runs the model before step() adds the churn noise and reuses that eps at sigma_hat.",
      },
      dChurn,
      kdChurn,
    ),
  );
  return pairs;
}

const minimalPairs = new Map<CauseId, PairResult>();

export async function runScenarios(): Promise<ScenarioOutput> {
  minimalPairs.clear();
  const pairs = [...(await continuousScenarios()), ...(await discreteScenarios())];
  return { pairs, minimal: new Map(minimalPairs), methods: new Map() };
}

/** Names of the methods an equivalence group computes, keyed by a member's impl id. */
export const METHODS: Record<string, string> = {
  "k-diffusion/sample_euler": "Euler on the sigma-as-time probability-flow ODE (sigma(t) = t, s(t) = 1)",
  "k-diffusion/sample_heun": "Heun (2nd order), Euler step into sigma = 0",
  "k-diffusion/sample_heun@sigma_min": "Heun on a schedule ending above 0, k-diffusion's last-step rule",
  "k-diffusion/sample_euler+churn": "EDM Algorithm 2 with the Euler solver (churn, noise aligned by step)",
  "k-diffusion/sample_heun+churn": "EDM Algorithm 2 with Heun (churn, noise aligned by step)",
  "k-diffusion/sample_euler+churn@stream": "Euler with churn drawing noise every step from one stream",
  "k-diffusion/sample_euler_ancestral(eta=1)":
    "VE ancestral sampling (DDPM posterior variance) = Song et al. VE rule",
  "k-diffusion/sample_euler@onnx-f32":
    "Euler in float32 on the float32 ONNX mixture graph (agreement to float32 round-off)",
  "k-diffusion/sample_heun@onnx-f32":
    "Heun in float32 on the float32 ONNX mixture graph (agreement to float32 round-off)",
};
