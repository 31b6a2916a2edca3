/**
 * `edmkit sample`, part 2: the model. Resolves --model (a named mixture, an ONNX file with its
 * sidecar, a fixture-format denoiser JSON or toy-MLP weights) to what the samplers need: a
 * D(x; sigma) view, a discrete-time view, the training table, and the data distribution when
 * it is known (for plots).
 */
import { existsSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadDataset } from "@edmkit/core/node";
import {
  type Denoiser,
  DenoiserAsDiscreteModel,
  DiscreteGmmModel,
  EmpiricalDenoiser,
  type DiscreteModel,
  denoiserSchema,
  GaussianMixture,
  type GmmSpec,
  namedMixtures,
  type Prediction,
} from "@edmkit/core";
import { type AnyScheduler, alphasCumprodFromBetas, scaledLinearBetas } from "@edmkit/diffusers";
import { TOY_MLP_FORMAT, ToyMlpDenoiser, toyDatasets } from "@edmkit/edm";
import { DiscreteEpsDDPMDenoiser, DiscreteVDDPMDenoiser } from "@edmkit/k-diffusion";
import { type OnnxDevice, OnnxDenoiser, type OnnxParameterization, parameterizations } from "@edmkit/onnx";
import { UsageError } from "../../errors.js";
import { requireDevice } from "../device.js";
import { isObject, messageOf, readJsonFile } from "./common.js";

export const BUILTIN_MODELS = ["gmm1d-bimodal", "gmm2d-ring8", "gmm2d-ring8-discrete", "digits8x8"] as const;

export interface LoadedModel {
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
  /** Shape of one sample when it is an image (e.g. [1, 8, 8]); latents are [batch, ...shape]. */
  shape?: number[];
}

/** The digits data set: ./fixtures/datasets/digits8x8.json, or the repository's. */
function digitsFile(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const found = [
    resolve("fixtures/datasets/digits8x8.json"),
    resolve(here, "../../../../../fixtures/datasets/digits8x8.json"),
  ].find((p) => existsSync(p));
  if (!found)
    throw new UsageError(
      "sample: --model digits8x8: fixtures/datasets/digits8x8.json not found (run from the repository root)",
    );
  return found;
}

export const SD_TRAIN: Record<string, unknown> = {
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

export interface LoadOptions {
  device: OnnxDevice;
  dim?: number;
}

async function loadOnnx(
  path: string,
  opts: LoadOptions,
  parameterization?: OnnxParameterization,
): Promise<LoadedModel> {
  if (!existsSync(path)) throw new UsageError(`sample: --model ${path}: no such file`);
  await requireDevice(opts.device, "sample");
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
  let shape: number[] | undefined;
  if (m.rank !== 2) {
    if (m.rowShape.some((d) => d === undefined))
      return fail(
        `the model's input has rank ${m.rank} with a dynamic image dimension; edmkit sample needs a fixed image shape`,
      );
    shape = m.rowShape as number[];
  }
  const sc = m.sidecar;
  const spec = sc?.denoiser;
  const mixture =
    spec?.kind === "gmm"
      ? spec
      : spec?.kind === "discrete-eps"
        ? (spec.gmm ?? undefined)
        : sc?.trained_on?.kind === "gmm"
          ? sc.trained_on
          : undefined;
  const declared = shape ? shape.reduce((a, b) => a * b, 1) : (mixture?.dim ?? m.rowShape[0]);
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
  if (m.parameterization === "denoiser") return { dim, description, denoiser: m, mixture, onnx: m, shape };
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
    const model = ToyMlpDenoiser.fromJSON(value);
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
  if (d.kind === "edm-precond" || d.kind === "flow")
    throw new UsageError(
      `sample: --model ${where}: a ${d.kind} model (the fixtures' model for diffusers' EDM / flow-matching schedulers) is not supported by edmkit sample`,
    );
  return loadOnnx(resolve(dirname(path), d.file), opts, d.parameterization as OnnxParameterization);
}

export async function loadModel(name: string, opts: LoadOptions): Promise<LoadedModel> {
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
  if (name === "digits8x8") {
    const ds = loadDataset(digitsFile());
    return {
      dim: 64,
      description: `exact denoiser of the ${ds.count} digits 8x8 (EmpiricalDenoiser, y = pixels / 8 - 1)`,
      denoiser: EmpiricalDenoiser.fromDataset(ds, { scale: 1 / 8, shift: -1 }),
      shape: [...ds.shape],
    };
  }
  const ext = extname(name).toLowerCase();
  if (ext === ".onnx") return loadOnnx(name, opts);
  if (ext === ".json") return loadJsonModel(name, opts);
  throw new UsageError(
    `sample: unknown model "${name}" (built-in: ${BUILTIN_MODELS.join(", ")}; or a path to an .onnx or .json file)`,
  );
}

/** The D(x; sigma) view of a model, wrapping a discrete-time model as k-diffusion does. */
export function continuousView(model: LoadedModel, sampler: string): Denoiser {
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
export function discreteView(
  model: LoadedModel,
  scheduler: AnyScheduler,
  prediction: Prediction,
): DiscreteModel {
  if (model.discrete) return model.discrete;
  if (model.exact)
    return new DiscreteGmmModel({ gmm: model.exact, alphasCumprod: scheduler.alphasCumprod, prediction });
  return new DenoiserAsDiscreteModel(model.denoiser!, { alphasCumprod: scheduler.alphasCumprod, prediction });
}
