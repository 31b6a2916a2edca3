/**
 * `edmkit sample`, part 1: the command line. Reads the options, checks each against the
 * sampler it is given to (which options a sampler takes comes from the runner table, i.e. the
 * ports' own signatures) and returns what the run needs.
 */
import type { DType, Seed } from "@edmkit/core";
import { checkWritableFile } from "@edmkit/core/node";
import type { PresetName } from "@edmkit/edm";
import { type OnnxDevice, onnxDevices } from "@edmkit/onnx";
import { UsageError } from "../../errors.js";
import { diffusersSchedules, findRunner, type RunnerEntry, runners } from "../../runners/table.js";
import { parseCommandArgs, parseNumberOption, positiveInt } from "../args.js";
import { isObject, readJsonFile } from "./common.js";
import { BUILTIN_MODELS } from "./models.js";
import type { RunOptions } from "./run.js";

const K_SCHEDULES = ["karras", "exponential", "polyexponential", "vp"] as const;
const PRESETS = ["vp", "ve", "iddpm", "edm"] as const;
const DEFAULT_STEPS = 20;
const DEFAULT_BATCH = 16;
/** Limits of the numeric options (stated in --help; beyond them: exit 2). */
const MAX_STEPS = 10_000;
const MAX_BATCH = 1_000_000;
const MAX_BINS = 10_000;

export const sampleHelp = `edmkit sample --sampler NAME --model MODEL [options]

Draws samples with any sampler of the k-diffusion, EDM or diffusers ports from a model,
seeded like PyTorch (latents = torch.randn([batch, dim]) after torch.manual_seed(seed); the
sampler's own noise continues from the same generator).

  --sampler NAME        k-diffusion/sample_euler ... (every k-diffusion sampler, incl.
                        sample_dpm_fast and sample_dpm_adaptive); edm/euler, edm/heun,
                        edm/midpoint (general EDM sampler, --preset); edm/edm_sampler,
                        edm/ablation_sampler (NVlabs);
                        diffusers/EulerDiscreteScheduler, diffusers/HeunDiscreteScheduler,
                        diffusers/EulerAncestralDiscreteScheduler
  --model MODEL         gmm1d-bimodal, gmm2d-ring8 (exact mixture denoisers),
                        gmm2d-ring8-discrete (exact discrete eps model, SD betas), a .onnx file
                        (with its sidecar NAME.json), or a .json file: a fixture-format
                        denoiser (gmm, discrete-eps, onnx), a fixture, or toy-MLP weights
  --steps N             sampling steps (default ${DEFAULT_STEPS}, at most ${MAX_STEPS}; diffusers: at most
                        the scheduler's num_train_timesteps)
  --batch B             number of samples (default ${DEFAULT_BATCH}, at most ${MAX_BATCH})
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
  --kwargs JSON         extra keyword arguments by their original names (k-diffusion, NVlabs);
                        not those the CLI supplies (noise, noise_sampler, num_steps, or one an
                        option above sets)
  --device D            cpu (default), cuda or webgpu (ONNX models)
  --dim N               data dimension of an ONNX model that does not declare it
  --out FILE            write the samples: .json or .npy (NPY 1.0, '<f8' or '<f4', C order)
  --plot FILE           .svg or .png: histogram with the true density (1-D), scatter (2-D),
                        a grid of the images (.png, 8x8 image models such as digits8x8)
  --bins N              histogram bins (default 40, at most ${MAX_BINS})
  --json                print a JSON summary on stdout and nothing else

Exit status: 0 done, 1 the samples hold NaN or infinity, 2 bad input.`;

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
  return runners.map((r) => r.name).join(", ");
}

function parseSampler(s: string): RunnerEntry {
  const entry = findRunner(s);
  if (entry) return entry;
  throw new UsageError(`sample: unknown sampler "${s}" (expected one of ${allSamplerNames()})`);
}

/** An NVlabs keyword and the option that sets it. */
const NVLABS_OPTIONS: [string, SamplerOption][] = [
  ["sigma_min", "sigma-min"],
  ["sigma_max", "sigma-max"],
  ["rho", "rho"],
  ["S_churn", "churn"],
  ["S_noise", "s-noise"],
];

/** The sampler-specific options a sampler takes, read from its signature. */
function allowedOptions(entry: RunnerEntry, schedule: string | undefined): SamplerOption[] {
  switch (entry.family) {
    case "k-diffusion": {
      const kw = entry.signature.kwargs as readonly string[];
      const out: SamplerOption[] = ["sigma-min", "sigma-max", "kwargs"];
      if (entry.grid === "sigmas") out.push("schedule", "rho");
      if (kw.includes("s_churn")) out.push("churn");
      if (kw.includes("eta")) out.push("eta");
      if (kw.includes("s_noise")) out.push("s-noise");
      return out;
    }
    case "edm":
      return ["preset", "sigma-min", "sigma-max", "rho", "churn", "s-noise"];
    case "nvlabs":
      return [...NVLABS_OPTIONS.filter(([k]) => entry.keywords.includes(k)).map(([, o]) => o), "kwargs"];
    case "diffusers": {
      const { config, step } = entry.signature;
      const out: SamplerOption[] = ["config", "timestep-spacing"];
      if (diffusersSchedules(entry).length) out.push("schedule");
      if (step.includes("sChurn")) out.push("churn");
      if (step.includes("sNoise")) out.push("s-noise");
      if (schedule !== undefined && config.includes("sigma_min")) out.push("sigma-min");
      if (schedule !== undefined && config.includes("sigma_max")) out.push("sigma-max");
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------
// option parsing

const parseNumber = (name: string, v: string | undefined, ok: (x: number) => boolean, expected: string) =>
  parseNumberOption("sample", name, v, ok, expected);

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

/** What `edmkit sample` was asked to do. */
export interface SampleArgs {
  sampler: string;
  model: string;
  entry: RunnerEntry;
  batch: number;
  seed: Seed;
  dtype: DType;
  device: OnnxDevice;
  dim?: number;
  bins?: number;
  out?: string;
  plot?: string;
  json: boolean;
  run: RunOptions;
}

/** Parse and check the command line; null when --help was asked for (and printed). */
export function parseSampleArgs(argv: string[]): SampleArgs | null {
  const { values, positionals } = parseCommandArgs(
    {
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
    },
    "sample",
  );
  if (values.help) {
    process.stdout.write(`${sampleHelp}\n`);
    return null;
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
  if (spec.family === "k-diffusion" && spec.grid === "adaptive" && values.steps !== undefined) {
    throw new UsageError(
      "sample: --steps does not apply to k-diffusion/sample_dpm_adaptive (it chooses its own steps; tune rtol/atol with --kwargs)",
    );
  }

  // numbers
  const upTo = (max: number) => (x: number) => positiveInt(x) && x <= max;
  const steps =
    parseNumber("steps", values.steps, upTo(MAX_STEPS), `an integer from 1 to ${MAX_STEPS}`) ?? DEFAULT_STEPS;
  const batch =
    parseNumber("batch", values.batch, upTo(MAX_BATCH), `an integer from 1 to ${MAX_BATCH}`) ?? DEFAULT_BATCH;
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
  const bins = parseNumber("bins", values.bins, upTo(MAX_BINS), `an integer from 1 to ${MAX_BINS}`);
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
  // before the work: a path that cannot be written fails now, not after sampling
  if (values.out !== undefined) checkWritableFile(values.out, "sample: --out");
  if (values.plot !== undefined) checkWritableFile(values.plot, "sample: --plot");
  return {
    sampler: values.sampler,
    model: values.model,
    entry: spec,
    batch,
    seed,
    dtype,
    device,
    dim,
    bins,
    out: values.out,
    plot: values.plot,
    json: values.json,
    run: {
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
    },
  };
}
