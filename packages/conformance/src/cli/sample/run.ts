/**
 * `edmkit sample`, part 3: the run. Seeding: one torch-compatible generator per run; the
 * latents are `TorchGenerator(seed).randn([batch, dim], dtype)` and every later draw of the
 * sampler comes from the same generator. k-diffusion starts from `latents * sigmas[0]`
 * (dpm_fast / dpm_adaptive: `* sigma_max`), the EDM samplers and the diffusers loop scale the
 * unit latents themselves. Each family runs through the runner table (../../runners); this
 * module adds the CLI's defaults, progress and error messages.
 */
import {
  type DType,
  observeDenoiser,
  observeDiscreteModel,
  type Prediction,
  type SamplerObserver,
  scale,
  type Tensor,
  type TorchGenerator,
  TorchNoise,
  zerosLike,
} from "@edmkit/core";
import { type EdmSamplerOptions, edmPreset, type PresetName } from "@edmkit/edm";
import { convertKwargs, schedules as kSchedules } from "@edmkit/k-diffusion";
import { UsageError } from "../../errors.js";
import {
  checkNvlabs,
  type KDiffusionGrid,
  kDiffusionKwargs,
  planEdm,
  prepareScheduler,
  runDiffusers,
  runKDiffusion,
  runNvlabs,
} from "../../runners/run.js";
import {
  type DiffusersEntry,
  diffusersSchedules,
  type EdmEntry,
  type KDiffusionEntry,
  type NvlabsEntry,
  type RunnerEntry,
} from "../../runners/table.js";
import { Progress } from "../progress.js";
import { continuousView, discreteView, type LoadedModel, SD_TRAIN } from "./models.js";

export interface RunOptions {
  steps: number;
  sigmaMin?: number;
  sigmaMax?: number;
  rho?: number;
  churn?: number;
  eta?: number;
  sNoise?: number;
  schedule?: string;
  preset: PresetName;
  config?: Record<string, unknown>;
  timestepSpacing?: string;
  kwargs: Record<string, unknown>;
  quiet: boolean;
}

/** An observer that only lets the observe* wrappers count calls (they count when onModelCall exists). */
const COUNT: SamplerObserver = { onModelCall: () => {} };

export interface RunResult {
  samples: Tensor;
  steps: number | null;
  nfe: number;
}

function progressObserver(
  total: number | undefined,
  label: string,
  quiet: boolean,
): { observer: SamplerObserver; end: () => void } {
  if (total === undefined) return { observer: {}, end: () => {} };
  const p = new Progress(total, label, quiet);
  let i = 0;
  return { observer: { onStep: () => p.tick(`step ${++i}`) }, end: () => p.end() };
}

/** --kwargs may not name what the CLI supplies itself (never silently overridden). */
function refuseSupplied(kwargs: Record<string, unknown>, supplied: Record<string, string>): void {
  for (const key of Object.keys(kwargs))
    if (Object.hasOwn(supplied, key))
      throw new UsageError(
        `sample: --kwargs ${JSON.stringify(key)} is supplied by ${supplied[key]}; remove it`,
      );
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function kSchedule(
  name: string,
  steps: number,
  lo: number,
  hi: number,
  rho: number | undefined,
  dtype: DType,
): Float64Array {
  switch (name) {
    case "karras":
      return kSchedules.get_sigmas_karras(steps, lo, hi, dropUndefined({ rho, dtype }));
    case "exponential":
      return kSchedules.get_sigmas_exponential(steps, lo, hi, { dtype });
    case "polyexponential":
      return kSchedules.get_sigmas_polyexponential(steps, lo, hi, dropUndefined({ rho, dtype }));
    default:
      return kSchedules.get_sigmas_vp(steps, { dtype });
  }
}

async function runKDiffusionSampler(
  entry: KDiffusionEntry,
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  const name = entry.sampler;
  const label = entry.name;
  const den = observeDenoiser(continuousView(model, label), COUNT);
  const sig = entry.signature;
  refuseSupplied(o.kwargs, {
    noise: "the CLI (draws from the --seed generator)",
    noise_sampler: "the CLI (draws from the --seed generator)",
    observer: "the CLI",
    callback: "the CLI",
    ...(o.churn !== undefined ? { s_churn: "--churn" } : {}),
    ...(o.eta !== undefined ? { eta: "--eta" } : {}),
    ...(o.sNoise !== undefined ? { s_noise: "--s-noise" } : {}),
  });
  const extra: Record<string, unknown> = { ...o.kwargs };
  if (o.churn !== undefined) extra.s_churn = o.churn;
  if (o.eta !== undefined) extra.eta = o.eta;
  if (o.sNoise !== undefined) extra.s_noise = o.sNoise;
  const adaptive = entry.grid === "adaptive";
  const { observer, end } = progressObserver(adaptive ? undefined : o.steps, name, o.quiet);
  const kw = kDiffusionKwargs(entry, extra, new TorchNoise(gen), observer);
  convertKwargs(name, sig, kw);
  const lo = o.sigmaMin ?? den.sigmaMin ?? 0.002;
  const hi = o.sigmaMax ?? den.sigmaMax ?? 80;
  if (!(hi > lo))
    throw new UsageError(
      `sample: the sigma range must have sigma_max > sigma_min, got ${lo}..${hi}${o.sigmaMin === undefined || o.sigmaMax === undefined ? " (the other end is the model's)" : ""}`,
    );
  let grid: KDiffusionGrid;
  let start: number;
  if (entry.grid === "range") grid = { sigmaMin: lo, sigmaMax: hi, n: o.steps };
  else if (adaptive) grid = { sigmaMin: lo, sigmaMax: hi };
  else grid = { sigmas: kSchedule(o.schedule ?? "karras", o.steps, lo, hi, o.rho, latents.dtype) };
  if ("sigmas" in grid) start = grid.sigmas[0];
  else start = hi;
  const x = scale(zerosLike(latents), latents, start);
  let samples: Tensor;
  try {
    samples = await runKDiffusion(entry, den, x, grid, kw);
  } finally {
    end();
  }
  return { samples, steps: adaptive ? null : o.steps, nfe: den.calls };
}

async function runEdmSampler(
  entry: EdmEntry,
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  const { solver, name: label } = entry;
  if (o.rho !== undefined && o.preset !== "edm")
    throw new UsageError(
      `sample: --rho applies to --preset edm only (the ${o.preset} preset has its own discretization)`,
    );
  const den = observeDenoiser(continuousView(model, label), COUNT);
  const { observer, end } = progressObserver(o.steps, solver, o.quiet);
  const options: EdmSamplerOptions = {
    preset: o.rho !== undefined ? edmPreset({ rho: o.rho }) : o.preset,
    numSteps: o.steps,
    solver,
    noise: new TorchNoise(gen),
    observer,
    ...(o.sigmaMin !== undefined ? { sigmaMin: o.sigmaMin } : {}),
    ...(o.sigmaMax !== undefined ? { sigmaMax: o.sigmaMax } : {}),
    ...(o.churn !== undefined ? { S_churn: o.churn } : {}),
    ...(o.sNoise !== undefined ? { S_noise: o.sNoise } : {}),
  };
  const plan = planEdm(entry, den, options);
  try {
    return { samples: await plan.run(latents), steps: plan.numSteps, nfe: den.calls };
  } finally {
    end();
  }
}

async function runNvlabsSampler(
  entry: NvlabsEntry,
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  const den = observeDenoiser(continuousView(model, entry.name), COUNT);
  refuseSupplied(o.kwargs, {
    num_steps: "--steps",
    randn_like: "the CLI (draws from the --seed generator)",
    ...(o.sigmaMin !== undefined ? { sigma_min: "--sigma-min" } : {}),
    ...(o.sigmaMax !== undefined ? { sigma_max: "--sigma-max" } : {}),
    ...(o.rho !== undefined ? { rho: "--rho" } : {}),
    ...(o.churn !== undefined ? { S_churn: "--churn" } : {}),
    ...(o.sNoise !== undefined ? { S_noise: "--s-noise" } : {}),
  });
  const call = dropUndefined({
    ...o.kwargs,
    num_steps: o.steps,
    sigma_min: o.sigmaMin,
    sigma_max: o.sigmaMax,
    rho: o.rho,
    S_churn: o.churn,
    S_noise: o.sNoise,
  });
  checkNvlabs(entry, den, call);
  const { observer, end } = progressObserver(o.steps, entry.sampler, o.quiet);
  try {
    const samples = await runNvlabs(entry, den, latents, call, {
      randn_like: new TorchNoise(gen),
      observer,
    });
    return { samples, steps: o.steps, nfe: den.calls };
  } finally {
    end();
  }
}

async function runDiffusersSampler(
  entry: DiffusersEntry,
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  const { scheduler: name, name: label } = entry;
  if (entry.signature.model !== "discrete")
    throw new UsageError(
      `sample: ${label} drives an ${entry.signature.model} model (FORMAT.md), not a discrete-time one; edmkit sample runs the discrete-time diffusers schedulers only`,
    );
  const schedules = diffusersSchedules(entry);
  const config = o.config ?? model.train ?? SD_TRAIN;
  const overrides: Record<string, unknown> = {};
  if (o.timestepSpacing !== undefined) overrides.timestep_spacing = o.timestepSpacing;
  if (o.schedule !== undefined) {
    if (!schedules.includes(o.schedule)) {
      throw new UsageError(
        `sample: unknown schedule "${o.schedule}" for ${label} (expected one of ${schedules.join(", ")}, or none for the spaced training sigmas)`,
      );
    }
    overrides[`use_${o.schedule}_sigmas`] = true;
  }
  if (o.sigmaMin !== undefined) overrides.sigma_min = o.sigmaMin;
  if (o.sigmaMax !== undefined) overrides.sigma_max = o.sigmaMax;
  const declared =
    typeof config.prediction_type === "string" ? (config.prediction_type as Prediction) : undefined;
  let prediction: Prediction = declared ?? "epsilon";
  if (model.discrete) {
    if (declared !== undefined && declared !== model.discrete.prediction) {
      throw new UsageError(
        `sample: the scheduler config says prediction_type "${declared}" but the model predicts "${model.discrete.prediction}"`,
      );
    }
    prediction = model.discrete.prediction;
    overrides.prediction_type = prediction;
  }
  const scheduler = prepareScheduler(entry, config, overrides, (s) => {
    const T = Number(s.config.num_train_timesteps);
    if (o.steps > T)
      throw new UsageError(
        `sample: --steps ${o.steps} is more than the scheduler's num_train_timesteps (${T}); ${label} takes at most ${T} steps`,
      );
    return o.steps;
  });
  if (model.table) {
    let worst = 0;
    const a = scheduler.alphasCumprod;
    if (a.length !== model.table.length) worst = Infinity;
    else
      for (let k = 0; k < a.length; k++)
        worst = Math.max(worst, Math.abs(a[k] - model.table[k]) / model.table[k]);
    if (worst > 1e-4) {
      process.stderr.write(
        `edmkit: warning: the scheduler's alphas_cumprod differs from the model's training table (max relative difference ${worst}); the model sees other noise levels than the scheduler assumes\n`,
      );
    }
  }
  const counted = observeDiscreteModel(discreteView(model, scheduler, prediction), COUNT);
  const { observer, end } = progressObserver(scheduler.timesteps.length, name, o.quiet);
  const stepKwargs = dropUndefined({ sChurn: o.churn, sNoise: o.sNoise });
  try {
    const samples = await runDiffusers(scheduler, counted, latents, {
      generator: gen,
      stepKwargs,
      observer,
    });
    return { samples, steps: o.steps, nfe: counted.calls };
  } finally {
    end();
  }
}

/** Run the sampler of a runner entry on a loaded model. */
export function runSampler(
  entry: RunnerEntry,
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  switch (entry.family) {
    case "k-diffusion":
      return runKDiffusionSampler(entry, model, latents, gen, o);
    case "edm":
      return runEdmSampler(entry, model, latents, gen, o);
    case "nvlabs":
      return runNvlabsSampler(entry, model, latents, gen, o);
    case "diffusers":
      return runDiffusersSampler(entry, model, latents, gen, o);
  }
}
