/**
 * Accuracy against the true solution. With the exact mixture denoiser the probability-flow
 * ODE is known exactly, so a deterministic sampler's global error is measured against an
 * adaptive Dormand-Prince solution at tight tolerance (NVlabs-free: @edmkit/edm's
 * reference solver). Stochastic samplers have no pathwise target; for them the report gives
 * the 1-D Wasserstein distance between their samples and the true mixture.
 */
import { type Denoiser, TorchGenerator, maxAbsDiff, scale, zerosLike, type Tensor } from "@edmkit/core";
import { linearSchedule, solveProbabilityFlow } from "@edmkit/edm";
import * as kd from "@edmkit/k-diffusion";
import type { AccuracyResult } from "../report/schema.js";
import { namedMixtureDenoiser, namedMixtures } from "@edmkit/core";
import type { SamplerName as KdSamplerName } from "@edmkit/k-diffusion";
import { runEdm, runKd } from "../runners/record.js";

const BIMODAL = namedMixtures["gmm1d-bimodal"]();
import { AlignedNoise } from "./trajectory.js";

const SIGMA_MIN = 0.002,
  SIGMA_MAX = 80;
export const STEP_COUNTS = [4, 8, 16, 32, 64];

interface DetSampler {
  name: string;
  library: string;
  run(model: Denoiser, z: Tensor, n: number): Promise<{ out: Float64Array; nfe: number }>;
}

function kdSampler(name: KdSamplerName, kwargs: Record<string, unknown> = {}): DetSampler {
  return {
    name,
    library: "k-diffusion",
    async run(model, z, n) {
      const r = await runKd(
        { id: name, library: "k-diffusion", label: name, settings: {} },
        name,
        model,
        z,
        kd.getSigmasKarras(n, SIGMA_MIN, SIGMA_MAX),
        kwargs,
        null,
      );
      return { out: r.output, nfe: r.calls.length };
    },
  };
}

function edmSolver(solver: "euler" | "heun" | "midpoint"): DetSampler {
  return {
    name: `edm ${solver}`,
    library: "edm",
    async run(model, z, n) {
      const sigmas = kd.getSigmasKarras(n, SIGMA_MIN, SIGMA_MAX);
      const r = await runEdm(
        { id: `edm-${solver}`, library: "edm", label: solver, settings: {} },
        model,
        z,
        { schedule: linearSchedule(), timeSteps: sigmas, solver, conventions: "paper" },
        null,
      );
      return { out: r.output, nfe: r.calls.length };
    },
  };
}

export const DETERMINISTIC: DetSampler[] = [
  kdSampler("sample_euler"),
  kdSampler("sample_heun"),
  kdSampler("sample_dpm_2"),
  kdSampler("sample_lms", { order: 4 }),
  kdSampler("sample_dpmpp_2m"),
  edmSolver("heun"),
  edmSolver("midpoint"),
];

/** Least-squares slope of log(error) on log(steps), sign flipped, over the finest points. */
export function fitOrder(points: { steps: number; error: number }[], last = 3): number | null {
  const pts = points.filter((p) => p.error > 0 && Number.isFinite(p.error)).slice(-last);
  if (pts.length < 2) return null;
  const xs = pts.map((p) => Math.log(p.steps)),
    ys = pts.map((p) => Math.log(p.error));
  const mx = xs.reduce((a, b) => a + b) / xs.length,
    my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0,
    den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return -num / den;
}

export async function deterministicAccuracy(sampler: DetSampler): Promise<AccuracyResult> {
  const model = namedMixtureDenoiser("gmm2d-ring8");
  const z = new TorchGenerator(11).randn([32, 2], "float64");
  const x0 = scale(zerosLike(z), z, SIGMA_MAX);
  const exact = await solveProbabilityFlow(model, x0, SIGMA_MAX, 0, { rtol: 1e-12, atol: 1e-12 });
  const points: AccuracyResult["points"] = [];
  for (const n of STEP_COUNTS) {
    const r = await sampler.run(model, z, n);
    points.push({ nfe: r.nfe, steps: n, error: maxAbsDiff(r.out, exact.data) });
  }
  return {
    sampler: sampler.name,
    library: sampler.library,
    model:
      "gmm2d-ring8 (exact), Karras 0.002..80 then 0; error = max |x - x_ODE| over 32 samples (the low-order first steps of multistep methods and the final step into sigma = 0 bound the observed order at these N)",
    points,
    fittedOrder: fitOrder(points),
    stochastic: false,
  };
}

/** W1 distance between an empirical 1-D sample and the bimodal mixture (numerical CDF integral). */
export function wassersteinToBimodal(samples: ArrayLike<number>): number {
  const xs = Float64Array.from(samples).sort();
  const cdf = bimodalCdf;
  const lo = Math.min(xs[0], -4),
    hi = Math.max(xs[xs.length - 1], 4),
    m = 8000,
    h = (hi - lo) / m;
  let w = 0,
    j = 0;
  for (let i = 0; i < m; i++) {
    const x = lo + (i + 0.5) * h;
    while (j < xs.length && xs[j] <= x) j++;
    w += Math.abs(j / xs.length - cdf(x)) * h;
  }
  return w;
}

/** The bimodal mixture's CDF. */
function bimodalCdf(x: number): number {
  let s = 0;
  for (let k = 0; k < BIMODAL.weights.length; k++)
    s += BIMODAL.weights[k] * 0.5 * (1 + erf((x - BIMODAL.means[k][0]) / (BIMODAL.stds[k] * Math.SQRT2)));
  return s;
}

/**
 * The sampling floor of the W1 measurement: the expected W1 distance between n independent
 * samples of the bimodal mixture itself and the mixture. W1 in 1-D is the integral of
 * |F_n(x) - F(x)|; for large n, F_n(x) - F(x) is normal with variance F(1 - F) / n, whose mean
 * absolute value is sqrt(2 / (pi n)) sqrt(F(1 - F)). So E[W1] = sqrt(2 / (pi n)) times the
 * integral of sqrt(F(1 - F)) (midpoint rule on [-6, 6], where the mixture's tails are below
 * 1e-40). A sampler whose W1 sits at this level is as close to the mixture as n exact samples.
 */
export function w1SamplingFloor(n: number): number {
  const lo = -6,
    hi = 6,
    m = 12000,
    h = (hi - lo) / m;
  let integral = 0;
  for (let i = 0; i < m; i++) {
    const f = bimodalCdf(lo + (i + 0.5) * h);
    integral += Math.sqrt(Math.max(0, f * (1 - f))) * h;
  }
  return Math.sqrt(2 / (Math.PI * n)) * integral;
}

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit); enough for a W1 estimate. */
function erf(x: number): number {
  const z = Math.abs(x),
    t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

const STOCHASTIC: { name: string; sampler: KdSamplerName | "edm churn"; kwargs?: Record<string, unknown> }[] =
  [
    { name: "sample_euler_ancestral", sampler: "sample_euler_ancestral" },
    { name: "sample_dpmpp_2s_ancestral", sampler: "sample_dpmpp_2s_ancestral" },
    { name: "sample_dpmpp_2m_sde", sampler: "sample_dpmpp_2m_sde" },
    { name: "sample_dpmpp_sde", sampler: "sample_dpmpp_sde" },
    { name: "edm churn (S_churn = 40)", sampler: "edm churn" },
  ];
export const STOCHASTIC_NAMES = STOCHASTIC.map((s) => s.name);
/** Samples per stochastic accuracy point (W1 is measured on this many). */
export const STOCHASTIC_SAMPLES = 4000;

export async function stochasticAccuracy(name: string): Promise<AccuracyResult> {
  const s = STOCHASTIC.find((x) => x.name === name);
  if (!s) throw new Error(`unknown stochastic sampler ${name}`);
  const model = namedMixtureDenoiser("gmm1d-bimodal");
  const z = new TorchGenerator(12).randn([STOCHASTIC_SAMPLES, 1], "float64");
  const distance: { nfe: number; value: number }[] = [];
  const points: AccuracyResult["points"] = [];
  for (const n of STEP_COUNTS) {
    const sigmas = kd.getSigmasKarras(n, SIGMA_MIN, SIGMA_MAX);
    let out: Float64Array, nfe: number;
    if (s.sampler === "edm churn") {
      const r = await runEdm(
        { id: "edm", library: "edm", label: "", settings: {} },
        model,
        z,
        {
          schedule: linearSchedule(),
          timeSteps: sigmas,
          solver: "heun",
          conventions: "paper",
          S_churn: 40,
          S_tmin: 0.05,
          S_tmax: 50,
          S_noise: 1.003,
        },
        new AlignedNoise(99),
      );
      out = r.output;
      nfe = r.calls.length;
    } else {
      const r = await runKd(
        { id: s.name, library: "k-diffusion", label: s.name, settings: {} },
        s.sampler,
        model,
        z,
        sigmas,
        s.kwargs ?? {},
        new AlignedNoise(99),
      );
      out = r.output;
      nfe = r.calls.length;
    }
    const w = wassersteinToBimodal(out);
    distance.push({ nfe, value: w });
    points.push({ nfe, steps: n, error: w });
  }
  return {
    sampler: s.name,
    library: s.sampler === "edm churn" ? "edm" : "k-diffusion",
    model: `gmm1d-bimodal (exact), ${STOCHASTIC_SAMPLES} samples`,
    points,
    fittedOrder: null,
    stochastic: true,
    distance,
    distanceName: "W1 to the true mixture",
    distanceFloor: w1SamplingFloor(STOCHASTIC_SAMPLES),
    distanceFloorMethod: `expected W1 of ${STOCHASTIC_SAMPLES} exact samples of the mixture: sqrt(2/(π n)) ∫ sqrt(F(1 − F)) dx (F the mixture's CDF)`,
  };
}
