/**
 * `edmkit sample`: any sampler of any package on any model, seeded like PyTorch.
 *
 * Seeding: one torch-compatible generator per run. The latents are
 * `TorchGenerator(seed).randn([batch, dim], dtype)` and every later draw of the sampler comes
 * from the same generator, which is what `torch.manual_seed(seed); x = torch.randn(...)` followed
 * by the sampler's own `torch.randn_like` calls gives in Python. k-diffusion starts from
 * `latents * sigmas[0]` (dpm_fast / dpm_adaptive: `* sigma_max`), the EDM samplers and the
 * diffusers loop scale the unit latents themselves.
 *
 * Models: the built-in exact mixtures, ONNX files (with their sidecar JSON), fixture-format
 * denoiser JSON (`gmm`, `discrete-eps`, `onnx`, or a whole fixture) and toy-MLP weights. A
 * discrete-time model runs under the continuous samplers through k-diffusion's
 * DiscreteEpsDDPMDenoiser / DiscreteVDDPMDenoiser on its own alphas_cumprod table; a
 * continuous model runs under the diffusers schedulers through an exact adapter on the
 * scheduler's table (eps = (x - D(x; sigma(t))) / sigma(t), x = sample * sqrt(sigma^2 + 1)).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  type Denoiser,
  denoiserSchema,
  DenoiserAsDiscreteModel,
  DiscreteGmmModel,
  type DiscreteModel,
  GaussianMixture,
  namedMixtures,
  type DType,
  type GmmSpec,
  observeDenoiser,
  observeDiscreteModel,
  type Prediction,
  type SamplerObserver,
  scale,
  type Seed,
  type Tensor,
  TorchGenerator,
  TorchNoise,
  zerosLike,
} from "@edmkit/core";
import {
  alphasCumprodFromBetas,
  type AnyScheduler,
  createScheduler,
  denoisingLoop,
  scaledLinearBetas,
  type SchedulerName,
} from "@edmkit/diffusers";
import {
  type EdmSamplerOptions,
  edmPreset,
  samplers as edmSamplers,
  planSampler,
  type PresetName,
  runPlan,
  samplerSetups,
  TOY_MLP_FORMAT,
  toyDatasets,
  ToyMlpDenoiser,
} from "@edmkit/edm";
import {
  convertKwargs,
  DiscreteEpsDDPMDenoiser,
  DiscreteVDDPMDenoiser,
  KDiffusionArgumentError,
  samplers as kSamplers,
  type SamplerName as KSamplerName,
  samplerSignatures,
  schedules as kSchedules,
  type Signature,
} from "@edmkit/k-diffusion";
import { writeFileAtomic } from "@edmkit/core/node";
import { UsageError } from "../errors.js";
import {
  type OnnxDevice,
  OnnxDenoiser,
  onnxDevices,
  type OnnxParameterization,
  parameterizations,
} from "@edmkit/onnx";
import { encodeNpy } from "./npy.js";
import { renderPlot } from "./plot.js";
import { Progress } from "./progress.js";

const K_SAMPLERS = Object.keys(samplerSignatures) as KSamplerName[];
const EDM_SOLVERS = ["euler", "heun", "midpoint"] as const;
const DIFFUSERS = [
  "EulerDiscreteScheduler",
  "HeunDiscreteScheduler",
  "EulerAncestralDiscreteScheduler",
] as const;
const K_SCHEDULES = ["karras", "exponential", "polyexponential", "vp"] as const;
const D_SCHEDULES = ["karras", "exponential", "beta"] as const;
const PRESETS = ["vp", "ve", "iddpm", "edm"] as const;
const BUILTIN_MODELS = ["gmm1d-bimodal", "gmm2d-ring8", "gmm2d-ring8-discrete"] as const;
const DEFAULT_STEPS = 20;
const DEFAULT_BATCH = 16;

export const sampleHelp = `edmkit sample --sampler NAME --model MODEL [options]

Draws samples with any sampler of the k-diffusion, EDM or diffusers ports from a model,
seeded like PyTorch (latents = torch.randn([batch, dim]) after torch.manual_seed(seed); the
sampler's own noise continues from the same generator).

  --sampler NAME        k-diffusion/sample_euler ... (every k-diffusion sampler, incl.
                        sample_dpm_fast and sample_dpm_adaptive); edm/euler, edm/heun,
                        edm/midpoint (general EDM sampler, --preset); edm/edm_sampler (NVlabs);
                        diffusers/EulerDiscreteScheduler, diffusers/HeunDiscreteScheduler,
                        diffusers/EulerAncestralDiscreteScheduler
  --model MODEL         gmm1d-bimodal, gmm2d-ring8 (exact mixture denoisers),
                        gmm2d-ring8-discrete (exact discrete eps model, SD betas), a .onnx file
                        (with its sidecar NAME.json), or a .json file: a fixture-format
                        denoiser (gmm, discrete-eps, onnx), a fixture, or toy-MLP weights
  --steps N             sampling steps (default ${DEFAULT_STEPS})
  --batch B             number of samples (default ${DEFAULT_BATCH})
  --seed S              torch seed (default 0)
  --dtype D             float64 (default) or float32
  --schedule S          k-diffusion: karras (default), exponential, polyexponential, vp;
                        diffusers: karras, exponential, beta (use_*_sigmas; default: none)
  --sigma-min X, --sigma-max X, --rho X
                        schedule range and rho (default: the model's range, else 0.002..80)
  --preset P            edm/euler|heun|midpoint: vp, ve, iddpm or edm (default edm)
  --config FILE         diffusers scheduler_config.json (default: the model's training
                        betas, else Stable Diffusion's scaled_linear 0.00085..0.012)
  --timestep-spacing S  diffusers: linspace, leading or trailing
  --churn X             s_churn / S_churn (samplers that have it)
  --eta X               eta (ancestral and SDE samplers)
  --s-noise X           s_noise / S_noise
  --kwargs JSON         extra keyword arguments by their original names (k-diffusion, edm_sampler)
  --device D            cpu (default), cuda or webgpu (ONNX models)
  --dim N               data dimension of an ONNX model that does not declare it
  --out FILE            write the samples: .json or .npy (NPY 1.0, '<f8' or '<f4', C order)
  --plot FILE           .svg or .png: histogram with the true density (1-D), scatter (2-D)
  --bins N              histogram bins (default 40)
  --json                print a JSON summary on stdout and nothing else

Exit status: 0 done, 1 the samples hold NaN or infinity, 2 bad input.`;

type SamplerSpec =
  | { family: "k-diffusion"; name: KSamplerName }
  | { family: "edm"; solver: (typeof EDM_SOLVERS)[number] }
  | { family: "edm_sampler" }
  | { family: "diffusers"; name: SchedulerName };

const SAMPLER_OPTIONS = [
  "schedule",
  "config",
  "timestep-spacing",
  "sigma-min",
  "sigma-max",
  "rho",
  "churn",
  "eta",
  "s-noise",
  "preset",
  "kwargs",
] as const;
type SamplerOption = (typeof SAMPLER_OPTIONS)[number];

function allSamplerNames(): string {
  return [
    ...K_SAMPLERS.map((n) => `k-diffusion/${n}`),
    ...EDM_SOLVERS.map((s) => `edm/${s}`),
    "edm/edm_sampler",
    ...DIFFUSERS.map((d) => `diffusers/${d}`),
  ].join(", ");
}

function parseSampler(s: string): SamplerSpec {
  const slash = s.indexOf("/");
  const pkg = slash < 0 ? "" : s.slice(0, slash),
    name = s.slice(slash + 1);
  if (pkg === "k-diffusion" && (K_SAMPLERS as string[]).includes(name))
    return { family: "k-diffusion", name: name as KSamplerName };
  if (pkg === "edm" && (EDM_SOLVERS as readonly string[]).includes(name))
    return { family: "edm", solver: name as (typeof EDM_SOLVERS)[number] };
  if (pkg === "edm" && name === "edm_sampler") return { family: "edm_sampler" };
  if (pkg === "diffusers" && (DIFFUSERS as readonly string[]).includes(name))
    return { family: "diffusers", name: name as SchedulerName };
  throw new UsageError(`sample: unknown sampler "${s}" (expected one of ${allSamplerNames()})`);
}

/** The sampler-specific options a sampler takes. */
function allowedOptions(spec: SamplerSpec, schedule: string | undefined): SamplerOption[] {
  switch (spec.family) {
    case "k-diffusion": {
      const kw = samplerSignatures[spec.name].kwargs as readonly string[];
      const out: SamplerOption[] = ["sigma-min", "sigma-max", "kwargs"];
      if (spec.name !== "sample_dpm_fast" && spec.name !== "sample_dpm_adaptive") out.push("schedule", "rho");
      if (kw.includes("s_churn")) out.push("churn");
      if (kw.includes("eta")) out.push("eta");
      if (kw.includes("s_noise")) out.push("s-noise");
      return out;
    }
    case "edm":
      return ["preset", "sigma-min", "sigma-max", "rho", "churn", "s-noise"];
    case "edm_sampler":
      return ["sigma-min", "sigma-max", "rho", "churn", "s-noise", "kwargs"];
    case "diffusers": {
      const out: SamplerOption[] = ["config", "timestep-spacing"];
      if (spec.name !== "EulerAncestralDiscreteScheduler") out.push("schedule");
      if (spec.name === "EulerDiscreteScheduler") {
        out.push("churn", "s-noise");
        if (schedule !== undefined) out.push("sigma-min", "sigma-max");
      }
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------
// option parsing

function parseNumber(
  name: string,
  v: string | undefined,
  ok: (x: number) => boolean,
  expected: string,
): number | undefined {
  if (v === undefined) return undefined;
  const x = v.trim() === "" ? NaN : Number(v);
  if (!ok(x)) throw new UsageError(`sample: --${name} must be ${expected}, got "${v}"`);
  return x;
}

const positiveInt = (x: number) => Number.isInteger(x) && x >= 1;
const positive = (x: number) => Number.isFinite(x) && x > 0;
const nonNegative = (x: number) => Number.isFinite(x) && x >= 0;

function parseSeed(v: string | undefined): Seed {
  if (v === undefined) return 0;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`sample: --seed must be an integer, got "${v}"`);
  const b = BigInt(v.trim());
  if (b < -(2n ** 63n) || b > 2n ** 64n - 1n)
    throw new UsageError(`sample: --seed must be in [-2^63, 2^64 - 1] (torch.manual_seed's range), got ${v}`);
  return b;
}

function readJsonFile(what: string, path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`sample: ${what} ${path}: no such file`);
  if (!statSync(path).isFile()) throw new UsageError(`sample: ${what} ${path} is not a file`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UsageError(`sample: ${what} ${path} is not valid JSON (${(e as Error).message})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const messageOf = (e: unknown) => (e instanceof Error ? e.message.split("\n")[0] : String(e));

// ---------------------------------------------------------------------------------------
// models

/** A model as the samplers see it. */
interface LoadedModel {
  dim: number;
  /** What it is, in words. */
  description: string;
  /** D(x; sigma), for a model that is one. */
  denoiser?: Denoiser;
  /** The model is exactly this mixture's denoiser (so diffusers can use core's DiscreteGmmModel). */
  exact?: GmmSpec;
  /** A discrete-time model, with its training table and betas where known. */
  discrete?: DiscreteModel;
  table?: Float32Array | Float64Array;
  train?: Record<string, unknown>;
  /** The data distribution (for plots), when known. */
  mixture?: GmmSpec;
  onnx?: OnnxDenoiser;
}

const SD_TRAIN: Record<string, unknown> = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
};

/** diffusers' float32 alphas_cumprod of Stable Diffusion's betas (scaled_linear 0.00085..0.012, T = 1000). */
function sdAlphasCumprod(): Float32Array {
  return alphasCumprodFromBetas(scaledLinearBetas(0.00085, 0.012, 1000)).alphasCumprod;
}

function gmmModel(spec: GmmSpec, description: string): LoadedModel {
  return { dim: spec.dim, description, denoiser: new GaussianMixture(spec), exact: spec, mixture: spec };
}

function discreteGmm(
  spec: {
    gmm: GmmSpec;
    table: Float32Array | Float64Array;
    prediction?: Prediction;
    train?: Record<string, unknown>;
  },
  description: string,
): LoadedModel {
  const model = new DiscreteGmmModel({
    gmm: spec.gmm,
    alphasCumprod: spec.table,
    prediction: spec.prediction ?? "epsilon",
  });
  return {
    dim: spec.gmm.dim,
    description,
    discrete: model,
    table: spec.table,
    train: spec.train,
    mixture: spec.gmm,
  };
}

function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = [...error.issues].sort((a, b) => b.path.length - a.path.length)[0];
  if (!issue) return "invalid";
  const path = issue.path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
  return `${path ? `field \`${path}\`: ` : ""}${issue.message}`;
}

interface LoadOptions {
  device: OnnxDevice;
  dim?: number;
}

async function loadOnnx(
  path: string,
  opts: LoadOptions,
  parameterization?: OnnxParameterization,
): Promise<LoadedModel> {
  if (!existsSync(path)) throw new UsageError(`sample: --model ${path}: no such file`);
  let m: OnnxDenoiser;
  try {
    m = await OnnxDenoiser.load(path, {
      device: opts.device,
      ...(parameterization ? { parameterization } : {}),
    });
  } catch (e) {
    throw new UsageError(`sample: cannot load ${path}: ${messageOf(e)}`);
  }
  const fail = async (msg: string): Promise<never> => {
    await m.release();
    throw new UsageError(`sample: ${path}: ${msg}`);
  };
  if (m.rank !== 2)
    return fail(`the model's input has rank ${m.rank}; edmkit sample runs models on [batch, dim] data`);
  const sc = m.sidecar;
  const spec = sc?.denoiser;
  const mixture =
    spec?.kind === "gmm" ? spec : spec?.kind === "discrete-eps" ? (spec.gmm ?? undefined) : sc?.trained_on;
  const declared = mixture?.dim ?? m.rowShape[0];
  if (declared !== undefined && opts.dim !== undefined && opts.dim !== declared)
    return fail(`--dim ${opts.dim} contradicts the model's dim ${declared}`);
  const dim = declared ?? opts.dim;
  if (dim === undefined)
    return fail(
      "the model does not declare its data dimension (dynamic input shape, no sidecar spec): give --dim",
    );
  const kind =
    m.parameterization === "denoiser" ? "D(x; sigma) denoiser" : `discrete-time ${m.prediction} model`;
  const description = `ONNX ${kind} ${m.file} (${m.dtype}, ${m.device})`;
  if (m.parameterization === "denoiser") return { dim, description, denoiser: m, mixture, onnx: m };
  let table: Float32Array | Float64Array | undefined;
  if (spec?.kind === "discrete-eps") {
    const f32 = (sc as Record<string, unknown>).alphas_cumprod_table === "float32";
    table = f32 ? Float32Array.from(spec.alphas_cumprod) : Float64Array.from(spec.alphas_cumprod);
  }
  const train = spec?.kind === "discrete-eps" && spec.train ? { ...spec.train } : undefined;
  return { dim, description, discrete: m, table, train, mixture, onnx: m };
}

/** A fixture-format denoiser, a fixture, an ONNX sidecar or toy-MLP weights. */
async function loadJsonModel(path: string, opts: LoadOptions): Promise<LoadedModel> {
  const raw = readJsonFile("--model", path);
  if (!isObject(raw)) throw new UsageError(`sample: --model ${path}: expected a JSON object`);
  let value: Record<string, unknown> = raw;
  let where = path;
  if (value.format === "edmkit-fixture/1") {
    if (!isObject(value.denoiser))
      throw new UsageError(`sample: --model ${path}: the fixture has no denoiser object`);
    value = value.denoiser as Record<string, unknown>;
    where = `${path} (denoiser)`;
  }
  if (value.format === TOY_MLP_FORMAT) {
    let model: ToyMlpDenoiser;
    try {
      model = ToyMlpDenoiser.fromJSON(value);
    } catch (e) {
      throw new UsageError(`sample: --model ${path}: ${messageOf(e)}`);
    }
    const name = model.training?.dataset;
    const make =
      typeof name === "string" && Object.hasOwn(toyDatasets, name)
        ? toyDatasets[name as keyof typeof toyDatasets]
        : undefined;
    const a = model.architecture;
    return {
      dim: a.dim,
      description: `toy EDM MLP ${path} (hidden ${a.hidden}, depth ${a.depth}, float64)`,
      denoiser: model,
      mixture: make?.().gmm,
    };
  }
  if (value.kind === "onnx") {
    const dir = dirname(path);
    const sibling = path.replace(/\.json$/i, ".onnx");
    const isSidecar = Array.isArray(value.inputs);
    let onnxPath: string | undefined = isSidecar && existsSync(sibling) ? sibling : undefined;
    if (!onnxPath) {
      if (typeof value.file !== "string")
        throw new UsageError(`sample: --model ${where}: field \`file\`: expected the path of the .onnx file`);
      const file = value.file;
      onnxPath = [resolve(dir, file), resolve(dir, "..", file), resolve(file)].find((p) => existsSync(p));
      if (!onnxPath)
        throw new UsageError(
          `sample: --model ${where}: ONNX file "${file}" not found next to it, above it or in the working folder`,
        );
    }
    const p = value.parameterization;
    if (p !== undefined && !(typeof p === "string" && (parameterizations as readonly string[]).includes(p))) {
      throw new UsageError(
        `sample: --model ${where}: field \`parameterization\`: expected one of ${parameterizations.join(", ")}, got ${JSON.stringify(p)}`,
      );
    }
    return loadOnnx(onnxPath, opts, isSidecar ? undefined : (p as OnnxParameterization | undefined));
  }
  const r = denoiserSchema.safeParse(value);
  if (!r.success)
    throw new UsageError(
      `sample: --model ${where}: ${firstIssue(r.error)} (expected a denoiser object of kind gmm, discrete-eps or onnx, a fixture, or toy-MLP weights)`,
    );
  const d = r.data;
  if (d.kind === "gmm")
    return gmmModel(d, `exact Gaussian mixture ${path} (${d.dim}-D, ${d.weights.length} components)`);
  if (d.kind === "discrete-eps") {
    if (!d.gmm)
      throw new UsageError(`sample: --model ${where}: a discrete-eps model needs its gmm (got null)`);
    if (d.time_map === "c_noise")
      throw new UsageError(
        `sample: --model ${where}: time_map "c_noise" models are not supported by edmkit sample`,
      );
    return discreteGmm(
      {
        gmm: d.gmm,
        table: Float64Array.from(d.alphas_cumprod),
        prediction: d.prediction,
        train: d.train ? { ...d.train } : undefined,
      },
      `exact discrete-time ${d.prediction ?? "epsilon"} model ${path} (${d.gmm.dim}-D, T = ${d.alphas_cumprod.length})`,
    );
  }
  if (d.kind === "empirical")
    throw new UsageError(
      `sample: --model ${where}: an empirical (data-set) denoiser; sample draws 1-D and 2-D point clouds only`,
    );
  return loadOnnx(resolve(dirname(path), d.file), opts, d.parameterization as OnnxParameterization);
}

async function loadModel(name: string, opts: LoadOptions): Promise<LoadedModel> {
  if (name === "gmm1d-bimodal")
    return gmmModel(
      namedMixtures["gmm1d-bimodal"](),
      "exact Gaussian mixture gmm1d-bimodal (1-D, 2 components)",
    );
  if (name === "gmm2d-ring8")
    return gmmModel(namedMixtures["gmm2d-ring8"](), "exact Gaussian mixture gmm2d-ring8 (2-D, 8 components)");
  if (name === "gmm2d-ring8-discrete") {
    return discreteGmm(
      { gmm: namedMixtures["gmm2d-ring8"](), table: sdAlphasCumprod(), train: { ...SD_TRAIN } },
      "exact discrete-time eps model gmm2d-ring8-discrete (SD betas, T = 1000)",
    );
  }
  const ext = extname(name).toLowerCase();
  if (ext === ".onnx") return loadOnnx(name, opts);
  if (ext === ".json") return loadJsonModel(name, opts);
  throw new UsageError(
    `sample: unknown model "${name}" (built-in: ${BUILTIN_MODELS.join(", ")}; or a path to an .onnx or .json file)`,
  );
}

/** The D(x; sigma) view of a model, wrapping a discrete-time model as k-diffusion does. */
function continuousView(model: LoadedModel, sampler: string): Denoiser {
  if (model.denoiser) return model.denoiser;
  const d = model.discrete!;
  if (!model.table) {
    throw new UsageError(
      `sample: ${sampler} needs a D(x; sigma) model, and ${model.description} has no alphas_cumprod table to wrap it with (k-diffusion's DiscreteEpsDDPMDenoiser needs one; add it to the sidecar's denoiser object)`,
    );
  }
  if (d.prediction === "epsilon") return new DiscreteEpsDDPMDenoiser(d, model.table);
  if (d.prediction === "v_prediction") return new DiscreteVDDPMDenoiser(d, model.table);
  throw new UsageError(
    `sample: ${sampler} needs a D(x; sigma) model, and k-diffusion has no wrapper for a discrete-time "${d.prediction}" model (${model.description})`,
  );
}

/** The discrete-time view of a model for a diffusers scheduler with this prediction type. */
function discreteView(model: LoadedModel, scheduler: AnyScheduler, prediction: Prediction): DiscreteModel {
  if (model.discrete) return model.discrete;
  if (model.exact)
    return new DiscreteGmmModel({ gmm: model.exact, alphasCumprod: scheduler.alphasCumprod, prediction });
  return new DenoiserAsDiscreteModel(model.denoiser!, { alphasCumprod: scheduler.alphasCumprod, prediction });
}

// ---------------------------------------------------------------------------------------
// running

interface RunOptions {
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

interface RunResult {
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
  try {
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
  } catch (e) {
    throw new UsageError(`sample: ${messageOf(e)}`);
  }
}

async function runKDiffusion(
  name: KSamplerName,
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  const label = `k-diffusion/${name}`;
  const den = observeDenoiser(continuousView(model, label), COUNT);
  const sig: Signature = samplerSignatures[name];
  const kw: Record<string, unknown> = { ...o.kwargs };
  if (o.churn !== undefined) kw.s_churn = o.churn;
  if (o.eta !== undefined) kw.eta = o.eta;
  if (o.sNoise !== undefined) kw.s_noise = o.sNoise;
  if (sig.kwargs.includes("noise")) kw.noise = new TorchNoise(gen);
  else if (sig.kwargs.includes("noise_sampler")) kw.noise_sampler = new TorchNoise(gen);
  const adaptive = name === "sample_dpm_adaptive";
  const { observer, end } = progressObserver(adaptive ? undefined : o.steps, name, o.quiet);
  kw.observer = observer;
  try {
    convertKwargs(name, sig, kw);
  } catch (e) {
    throw new UsageError(`sample: ${messageOf(e)}`);
  }
  const lo = o.sigmaMin ?? den.sigmaMin ?? 0.002;
  const hi = o.sigmaMax ?? den.sigmaMax ?? 80;
  if (!(hi > lo))
    throw new UsageError(
      `sample: the sigma range must have sigma_max > sigma_min, got ${lo}..${hi}${o.sigmaMin === undefined || o.sigmaMax === undefined ? " (the other end is the model's)" : ""}`,
    );
  let sigmas: Float64Array | undefined;
  let start: number;
  if (name === "sample_dpm_fast" || adaptive) start = hi;
  else {
    sigmas = kSchedule(o.schedule ?? "karras", o.steps, lo, hi, o.rho, latents.dtype);
    start = sigmas[0];
  }
  const x = scale(zerosLike(latents), latents, start);
  let out: unknown;
  try {
    if (name === "sample_dpm_fast") out = await kSamplers.sample_dpm_fast(den, x, lo, hi, o.steps, kw);
    else if (adaptive) out = await kSamplers.sample_dpm_adaptive(den, x, lo, hi, kw);
    else out = await kSamplers[name](den, x, sigmas!, kw);
  } catch (e) {
    if (e instanceof KDiffusionArgumentError) throw new UsageError(`sample: ${messageOf(e)}`);
    throw e;
  } finally {
    end();
  }
  const samples = isObject(out) && "info" in out ? (out as unknown as { x: Tensor }).x : (out as Tensor);
  return { samples, steps: adaptive ? null : o.steps, nfe: den.calls };
}

async function runEdm(
  solver: (typeof EDM_SOLVERS)[number],
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  const label = `edm/${solver}`;
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
  let plan: ReturnType<typeof planSampler>;
  try {
    plan = planSampler(options, den);
  } catch (e) {
    throw new UsageError(`sample: ${messageOf(e)}`);
  }
  try {
    return { samples: await runPlan(plan, den, latents, options), steps: plan.numSteps, nfe: den.calls };
  } finally {
    end();
  }
}

async function runEdmSampler(
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  const den = observeDenoiser(continuousView(model, "edm/edm_sampler"), COUNT);
  const call = dropUndefined({
    ...o.kwargs,
    num_steps: o.steps,
    sigma_min: o.sigmaMin,
    sigma_max: o.sigmaMax,
    rho: o.rho,
    S_churn: o.churn,
    S_noise: o.sNoise,
  });
  try {
    samplerSetups.edm_sampler(den, call);
  } catch (e) {
    throw new UsageError(`sample: ${messageOf(e)}`);
  }
  const { observer, end } = progressObserver(o.steps, "edm_sampler", o.quiet);
  try {
    const samples = await edmSamplers.edm_sampler(den, latents, call, {
      randn_like: new TorchNoise(gen),
      observer,
    });
    return { samples, steps: o.steps, nfe: den.calls };
  } finally {
    end();
  }
}

async function runDiffusers(
  name: SchedulerName,
  model: LoadedModel,
  latents: Tensor,
  gen: TorchGenerator,
  o: RunOptions,
): Promise<RunResult> {
  const label = `diffusers/${name}`;
  const config = o.config ?? model.train ?? SD_TRAIN;
  const overrides: Record<string, unknown> = {};
  if (o.timestepSpacing !== undefined) overrides.timestep_spacing = o.timestepSpacing;
  if (o.schedule !== undefined) {
    if (!(D_SCHEDULES as readonly string[]).includes(o.schedule)) {
      throw new UsageError(
        `sample: unknown schedule "${o.schedule}" for ${label} (expected one of ${D_SCHEDULES.join(", ")}, or none for the spaced training sigmas)`,
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
  let scheduler: AnyScheduler;
  try {
    scheduler = createScheduler(name, config, overrides);
    scheduler.setTimesteps(o.steps);
  } catch (e) {
    throw new UsageError(`sample: ${messageOf(e)}`);
  }
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
    const samples = await denoisingLoop(scheduler, counted, latents, {
      generator: gen,
      stepKwargs,
      observer,
    });
    return { samples, steps: o.steps, nfe: counted.calls };
  } finally {
    end();
  }
}

// ---------------------------------------------------------------------------------------
// output

function rowsOf(t: Tensor, dim: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < t.data.length / dim; r++)
    rows.push(Array.from(t.data.subarray(r * dim, (r + 1) * dim)));
  return rows;
}

function stats(
  t: Tensor,
  dim: number,
): { mean: (number | null)[]; std: (number | null)[]; nonFinite: number } {
  const rows = t.data.length / dim;
  const sum = new Float64Array(dim),
    sq = new Float64Array(dim),
    count = new Float64Array(dim);
  let nonFinite = 0;
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let c = 0; c < dim; c++) if (!Number.isFinite(t.data[r * dim + c])) ok = false;
    if (!ok) {
      nonFinite++;
      continue;
    }
    for (let c = 0; c < dim; c++) {
      const v = t.data[r * dim + c];
      sum[c] += v;
      count[c]++;
    }
  }
  const mean = Array.from(sum, (s, c) => (count[c] ? s / count[c] : null));
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let c = 0; c < dim; c++) if (!Number.isFinite(t.data[r * dim + c])) ok = false;
    if (ok) for (let c = 0; c < dim; c++) sq[c] += (t.data[r * dim + c] - mean[c]!) ** 2;
  }
  const std = Array.from(sq, (s, c) => (count[c] > 1 ? Math.sqrt(s / (count[c] - 1)) : null));
  return { mean, std, nonFinite };
}

const fmt = (v: number | null) => (v === null ? "-" : Number(v.toPrecision(4)).toString());

export async function sampleCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sampler: { type: "string" },
      model: { type: "string" },
      steps: { type: "string" },
      batch: { type: "string" },
      seed: { type: "string" },
      dtype: { type: "string" },
      schedule: { type: "string" },
      "sigma-min": { type: "string" },
      "sigma-max": { type: "string" },
      rho: { type: "string" },
      preset: { type: "string" },
      config: { type: "string" },
      "timestep-spacing": { type: "string" },
      churn: { type: "string" },
      eta: { type: "string" },
      "s-noise": { type: "string" },
      kwargs: { type: "string" },
      device: { type: "string" },
      dim: { type: "string" },
      out: { type: "string" },
      plot: { type: "string" },
      bins: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${sampleHelp}\n`);
    return 0;
  }
  if (positionals.length)
    throw new UsageError(
      `sample: unexpected argument "${positionals[0]}" (options start with --; see edmkit sample --help)`,
    );
  if (!values.sampler)
    throw new UsageError(
      "sample: --sampler is required (e.g. --sampler k-diffusion/sample_heun; see edmkit sample --help)",
    );
  if (!values.model)
    throw new UsageError(
      `sample: --model is required (built-in: ${BUILTIN_MODELS.join(", ")}; or an .onnx or .json file)`,
    );
  const spec = parseSampler(values.sampler);

  // which options apply to this sampler
  const allowed = allowedOptions(spec, values.schedule);
  for (const opt of SAMPLER_OPTIONS) {
    if (values[opt] !== undefined && !allowed.includes(opt)) {
      const takes = allowed.length ? ` (it takes ${allowed.map((a) => `--${a}`).join(", ")})` : "";
      throw new UsageError(`sample: --${opt} does not apply to ${values.sampler}${takes}`);
    }
  }
  if (spec.family === "k-diffusion" && spec.name === "sample_dpm_adaptive" && values.steps !== undefined) {
    throw new UsageError(
      "sample: --steps does not apply to k-diffusion/sample_dpm_adaptive (it chooses its own steps; tune rtol/atol with --kwargs)",
    );
  }

  // numbers
  const steps = parseNumber("steps", values.steps, positiveInt, "a positive integer") ?? DEFAULT_STEPS;
  const batch = parseNumber("batch", values.batch, positiveInt, "a positive integer") ?? DEFAULT_BATCH;
  const seed = parseSeed(values.seed);
  const sigmaMin = parseNumber("sigma-min", values["sigma-min"], positive, "a positive number");
  const sigmaMax = parseNumber("sigma-max", values["sigma-max"], positive, "a positive number");
  if (sigmaMin !== undefined && sigmaMax !== undefined && !(sigmaMax > sigmaMin)) {
    throw new UsageError(`sample: --sigma-max (${sigmaMax}) must be greater than --sigma-min (${sigmaMin})`);
  }
  const rho = parseNumber("rho", values.rho, positive, "a positive number");
  const churn = parseNumber("churn", values.churn, nonNegative, "a number >= 0");
  const eta = parseNumber("eta", values.eta, nonNegative, "a number >= 0");
  const sNoise = parseNumber("s-noise", values["s-noise"], nonNegative, "a number >= 0");
  const bins = parseNumber("bins", values.bins, positiveInt, "a positive integer");
  const dim = parseNumber("dim", values.dim, positiveInt, "a positive integer");
  const dtype = (values.dtype ?? "float64") as DType;
  if (dtype !== "float64" && dtype !== "float32")
    throw new UsageError(`sample: --dtype must be float64 or float32, got "${values.dtype}"`);
  const device = (values.device ?? "cpu") as OnnxDevice;
  if (!onnxDevices.includes(device))
    throw new UsageError(`sample: --device must be one of ${onnxDevices.join(", ")}, got "${values.device}"`);
  if (
    spec.family === "k-diffusion" &&
    values.schedule !== undefined &&
    !(K_SCHEDULES as readonly string[]).includes(values.schedule)
  ) {
    throw new UsageError(
      `sample: unknown schedule "${values.schedule}" for ${values.sampler} (expected one of ${K_SCHEDULES.join(", ")})`,
    );
  }
  if (
    spec.family === "k-diffusion" &&
    values.schedule === "vp" &&
    (sigmaMin !== undefined || sigmaMax !== undefined || rho !== undefined)
  ) {
    throw new UsageError(
      "sample: --schedule vp takes no --sigma-min, --sigma-max or --rho (k-diffusion's get_sigmas_vp has its own range)",
    );
  }
  if (rho !== undefined && spec.family === "k-diffusion" && values.schedule === "exponential") {
    throw new UsageError(
      "sample: --rho does not apply to --schedule exponential (only karras and polyexponential have rho)",
    );
  }
  const preset = (values.preset ?? "edm") as PresetName;
  if (!(PRESETS as readonly string[]).includes(preset))
    throw new UsageError(`sample: unknown preset "${values.preset}" (expected one of ${PRESETS.join(", ")})`);
  if (
    values["timestep-spacing"] !== undefined &&
    !["linspace", "leading", "trailing"].includes(values["timestep-spacing"])
  ) {
    throw new UsageError(
      `sample: --timestep-spacing must be linspace, leading or trailing, got "${values["timestep-spacing"]}"`,
    );
  }
  let kwargs: Record<string, unknown> = {};
  if (values.kwargs !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values.kwargs);
    } catch (e) {
      throw new UsageError(`sample: --kwargs is not valid JSON (${(e as Error).message})`);
    }
    if (!isObject(parsed))
      throw new UsageError(
        `sample: --kwargs must be a JSON object of keyword arguments, got ${values.kwargs}`,
      );
    kwargs = parsed;
  }
  let config: Record<string, unknown> | undefined;
  if (values.config !== undefined) {
    const c = readJsonFile("--config", values.config);
    if (!isObject(c))
      throw new UsageError(`sample: --config ${values.config}: expected a scheduler_config.json object`);
    config = c;
  }
  if (values.out !== undefined && !/\.(json|npy)$/i.test(values.out))
    throw new UsageError(`sample: --out must end in .json or .npy, got "${values.out}"`);
  if (values.plot !== undefined && !/\.(svg|png)$/i.test(values.plot))
    throw new UsageError(`sample: --plot must end in .svg or .png, got "${values.plot}"`);

  const model = await loadModel(values.model, { device, dim });
  let result: RunResult;
  const t0 = performance.now();
  try {
    if (!model.onnx && device !== "cpu")
      throw new UsageError(
        `sample: --device ${device} applies to ONNX models only (${values.model} runs in TypeScript)`,
      );
    if (!model.onnx && dim !== undefined && dim !== model.dim)
      throw new UsageError(`sample: --dim ${dim} contradicts the model's dim ${model.dim}`);
    const gen = new TorchGenerator(seed);
    const latents = gen.randn([batch, model.dim], dtype);
    const o: RunOptions = {
      steps,
      sigmaMin,
      sigmaMax,
      rho,
      churn,
      eta,
      sNoise,
      schedule: values.schedule,
      preset,
      config,
      timestepSpacing: values["timestep-spacing"],
      kwargs,
      quiet: values.json,
    };
    switch (spec.family) {
      case "k-diffusion":
        result = await runKDiffusion(spec.name, model, latents, gen, o);
        break;
      case "edm":
        result = await runEdm(spec.solver, model, latents, gen, o);
        break;
      case "edm_sampler":
        result = await runEdmSampler(model, latents, gen, o);
        break;
      case "diffusers":
        result = await runDiffusers(spec.name, model, latents, gen, o);
        break;
    }
  } finally {
    await model.onnx?.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  const samples = result.samples;
  const shape = [batch, model.dim];
  const seedJson =
    typeof seed !== "bigint"
      ? seed
      : seed <= BigInt(Number.MAX_SAFE_INTEGER) && seed >= -BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(seed)
        : String(seed);

  if (values.out !== undefined) {
    if (/\.npy$/i.test(values.out)) writeFileAtomic(values.out, encodeNpy(samples.data, shape));
    else {
      const doc = {
        sampler: values.sampler,
        model: values.model,
        shape,
        seed: seedJson,
        steps: result.steps,
        dtype: samples.dtype,
        nfe: result.nfe,
        samples: rowsOf(samples, model.dim),
      };
      writeFileAtomic(values.out, `${JSON.stringify(doc)}\n`);
    }
  }
  let plot: Record<string, unknown> | undefined;
  if (values.plot !== undefined) {
    const title = `${values.sampler}, ${result.steps ?? "adaptive"} steps, on ${values.model}`;
    const { bytes, summary } = renderPlot(values.plot, {
      samples: samples.data,
      rows: batch,
      dim: model.dim,
      mixture: model.mixture,
      title,
      ...(bins ? { bins } : {}),
    });
    writeFileAtomic(values.plot, bytes);
    plot = { file: values.plot, ...summary };
  }

  const st = stats(samples, model.dim);
  if (values.json) {
    const summary = {
      sampler: values.sampler,
      model: values.model,
      description: model.description,
      dtype: samples.dtype,
      shape,
      seed: seedJson,
      steps: result.steps,
      nfe: result.nfe,
      seconds,
      mean: st.mean,
      std: st.std,
      nonFinite: st.nonFinite,
      out: values.out ?? null,
      plot: plot ?? null,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const lines = [
      `${values.sampler} on ${model.description}`,
      `${batch} x ${model.dim} samples (${samples.dtype}), seed ${String(seed)}, ${result.steps ?? "adaptive"} steps, ${result.nfe} model calls, ${seconds.toFixed(2)} s`,
      `mean [${st.mean.map(fmt).join(", ")}]  std [${st.std.map(fmt).join(", ")}]`,
    ];
    const wrote = [values.out, values.plot].filter((f): f is string => f !== undefined);
    if (wrote.length) lines.push(`wrote ${wrote.join(", ")}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (st.nonFinite > 0) {
    process.stderr.write(`edmkit: ${st.nonFinite} of ${batch} samples hold NaN or infinity\n`);
    return 1;
  }
  return 0;
}
