/**
 * `ToyMlpDenoiser`: a trained (or freshly initialised) toy EDM MLP behind core's `Denoiser`
 * contract, with JSON weights (toJSON / fromJSON). Saving and loading weight files is in
 * ./weights-file.ts, the `@edmkit/edm/node` entry.
 */
import { ArgumentError } from "@edmkit/core";
import { allocate, batchSize, rowSize, sameShape, tensor, type Denoiser, type Tensor } from "@edmkit/core";
import {
  DEFAULT_FREQUENCIES,
  initParameters,
  layerLayout,
  MlpPass,
  parameterCount,
  validateArchitecture,
  type ToyMlpArchitecture,
} from "./network.js";
import { ToyRng } from "./rng.js";

/** Value of `format` in the weights JSON. */
export const TOY_MLP_FORMAT = "edmkit.toy-mlp-denoiser";
export const TOY_MLP_FORMAT_VERSION = 1;

/**
 * The weights file. Layers are listed input to output; `weight` is row-major
 * [out_features, in_features] (torch `nn.Linear` / ONNX `Gemm` with transB = 1).
 */
export interface ToyMlpJson {
  format: typeof TOY_MLP_FORMAT;
  version: number;
  parameterization: "denoiser";
  precond: "edm";
  architecture: {
    dim: number;
    hidden: number;
    depth: number;
    activation: "silu";
    frequencies: number[];
    /** Human-readable description of F's input row and of the preconditioning. */
    input: string;
    parameters: number;
  };
  sigma_data: number;
  layers: { name: string; in_features: number; out_features: number; weight: number[]; bias: number[] }[];
  /** Free-form description of how the weights were trained (written by trainToyDenoiser). */
  training?: Record<string, unknown>;
}

const INPUT_DESCRIPTION =
  "F([c_in*x (dim), c_noise, sin(f*c_noise) for f in frequencies, cos(f*c_noise) for f in frequencies]); " +
  "D = c_skip*x + c_out*F; c_skip = sd^2/(s^2+sd^2), c_out = s*sd/sqrt(s^2+sd^2), c_in = 1/sqrt(s^2+sd^2), c_noise = ln(s)/4";

/** Rows per forward pass: bounds the scratch memory of a large batch. */
const CHUNK_ROWS = 1024;

export interface ToyMlpOptions {
  dim: number;
  /** Hidden width (default 64). */
  hidden?: number;
  /** Hidden layers (default 3). */
  depth?: number;
  /** sin/cos frequencies of c_noise (default [0.5, 1, 2]). */
  frequencies?: readonly number[];
  sigmaData: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

export class ToyMlpDenoiser implements Denoiser {
  readonly architecture: ToyMlpArchitecture;
  /** All parameters, layer by layer (weight [out, in] row-major, then bias). Live: edits change the model. */
  readonly parameters: Float64Array;
  /** Free-form training description carried into toJSON(). */
  training?: Record<string, unknown>;
  private pass?: MlpPass;

  constructor(
    architecture: ToyMlpArchitecture,
    readonly sigmaData: number,
    parameters?: Float64Array,
  ) {
    validateArchitecture("ToyMlpDenoiser", architecture);
    if (!(Number.isFinite(sigmaData) && sigmaData > 0)) {
      throw new ArgumentError(`ToyMlpDenoiser: sigmaData must be a positive number, got ${sigmaData}`);
    }
    this.architecture = Object.freeze({
      dim: architecture.dim,
      hidden: architecture.hidden,
      depth: architecture.depth,
      frequencies: Object.freeze([...architecture.frequencies]),
    });
    const count = parameterCount(this.architecture);
    if (parameters !== undefined && parameters.length !== count) {
      throw new ArgumentError(
        `ToyMlpDenoiser: parameters holds ${parameters.length} values, the architecture needs ${count}`,
      );
    }
    this.parameters = parameters ?? new Float64Array(count);
  }

  /** A freshly initialised network (torch nn.Linear's default initialisation, seeded). */
  static create(options: ToyMlpOptions): ToyMlpDenoiser {
    const arch: ToyMlpArchitecture = {
      dim: options.dim,
      hidden: options.hidden ?? 64,
      depth: options.depth ?? 3,
      frequencies: options.frequencies ?? DEFAULT_FREQUENCIES,
    };
    validateArchitecture("ToyMlpDenoiser.create", arch);
    return new ToyMlpDenoiser(arch, options.sigmaData, initParameters(arch, new ToyRng(options.seed ?? 0)));
  }

  get parameterCount(): number {
    return this.parameters.length;
  }

  /** D(x; sigma), x [batch, dim] (any shape whose rows hold `dim` values), sigma > 0 per row. */
  async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
    return this.denoiseSync(x, sigma, out);
  }

  /**
   * Synchronous D(x; sigma). Computes in float64 whatever x's dtype; a float32 result is
   * rounded once when written. `out` (same shape as x) receives the result when given.
   */
  denoiseSync(x: Tensor, sigma: ArrayLike<number>, out?: Tensor): Tensor {
    const { dim } = this.architecture;
    const rows = batchSize(x);
    if (rows > 0 && rowSize(x) !== dim) {
      throw new ArgumentError(
        `ToyMlpDenoiser.denoise: x rows must hold ${dim} value(s) (shape [batch, ${dim}]), got shape [${x.shape.join(", ")}]`,
      );
    }
    if (sigma.length !== rows) {
      throw new ArgumentError(
        `ToyMlpDenoiser.denoise: sigma must hold one value per row (${rows}), got ${sigma.length}`,
      );
    }
    if (out !== undefined && !sameShape(out.shape, x.shape)) {
      throw new ArgumentError(
        `ToyMlpDenoiser.denoise: out shape [${out.shape.join(", ")}] does not match x shape [${x.shape.join(", ")}]`,
      );
    }
    const result = out ?? tensor(allocate(x.dtype, x.data.length), x.shape);
    if (rows === 0) return result;
    const want = Math.min(rows, CHUNK_ROWS);
    if (this.pass === undefined || this.pass.capacity < want) {
      this.pass = new MlpPass(this.architecture, this.sigmaData, this.parameters, want, false);
    }
    const pass = this.pass;
    const chunk = pass.capacity;
    const sigmaRows = new Float64Array(chunk);
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      for (let r = 0; r < n; r++) sigmaRows[r] = sigma[start + r];
      const D = pass.forward(x.data.subarray(start * dim, (start + n) * dim), sigmaRows, n);
      result.data.set(D.subarray(0, n * dim), start * dim);
    }
    return result;
  }

  /** A deep copy (parameters copied). */
  clone(): ToyMlpDenoiser {
    const copy = new ToyMlpDenoiser(this.architecture, this.sigmaData, Float64Array.from(this.parameters));
    if (this.training !== undefined) copy.training = structuredClone(this.training);
    return copy;
  }

  /** The weights file object (see ToyMlpJson). Numbers are float64 and round-trip exactly. */
  toJSON(): ToyMlpJson {
    const arch = this.architecture;
    const json: ToyMlpJson = {
      format: TOY_MLP_FORMAT,
      version: TOY_MLP_FORMAT_VERSION,
      parameterization: "denoiser",
      precond: "edm",
      architecture: {
        dim: arch.dim,
        hidden: arch.hidden,
        depth: arch.depth,
        activation: "silu",
        frequencies: [...arch.frequencies],
        input: INPUT_DESCRIPTION,
        parameters: this.parameters.length,
      },
      sigma_data: this.sigmaData,
      layers: layerLayout(arch).map((layer) => ({
        name: layer.name,
        in_features: layer.inFeatures,
        out_features: layer.outFeatures,
        weight: Array.from(
          this.parameters.subarray(
            layer.weightOffset,
            layer.weightOffset + layer.inFeatures * layer.outFeatures,
          ),
        ),
        bias: Array.from(this.parameters.subarray(layer.biasOffset, layer.biasOffset + layer.outFeatures)),
      })),
    };
    if (this.training !== undefined) json.training = this.training;
    return json;
  }

  /** Rebuild a model from toJSON()'s object (or its parsed text); throws one clear message on bad input. */
  static fromJSON(json: unknown): ToyMlpDenoiser {
    const fn = "ToyMlpDenoiser.fromJSON";
    if (typeof json !== "object" || json === null)
      throw new ArgumentError(`${fn}: expected an object, got ${json === null ? "null" : typeof json}`);
    const j = json as Partial<ToyMlpJson>;
    if (j.format !== TOY_MLP_FORMAT)
      throw new ArgumentError(`${fn}: format must be "${TOY_MLP_FORMAT}", got ${JSON.stringify(j.format)}`);
    if (j.version !== TOY_MLP_FORMAT_VERSION)
      throw new ArgumentError(
        `${fn}: version must be ${TOY_MLP_FORMAT_VERSION}, got ${JSON.stringify(j.version)}`,
      );
    const a = j.architecture;
    if (typeof a !== "object" || a === null) throw new ArgumentError(`${fn}: architecture must be an object`);
    if (a.activation !== "silu")
      throw new ArgumentError(
        `${fn}: architecture.activation must be "silu", got ${JSON.stringify(a.activation)}`,
      );
    const arch: ToyMlpArchitecture = {
      dim: a.dim,
      hidden: a.hidden,
      depth: a.depth,
      frequencies: a.frequencies,
    };
    validateArchitecture(fn, arch);
    const sd = j.sigma_data;
    if (!(typeof sd === "number" && Number.isFinite(sd) && sd > 0))
      throw new ArgumentError(`${fn}: sigma_data must be a positive number, got ${JSON.stringify(sd)}`);
    const layout = layerLayout(arch);
    if (!Array.isArray(j.layers) || j.layers.length !== layout.length) {
      throw new ArgumentError(
        `${fn}: layers must be an array of ${layout.length} layers (depth ${arch.depth} + 1), got ${Array.isArray(j.layers) ? j.layers.length : typeof j.layers}`,
      );
    }
    const params = new Float64Array(parameterCount(arch));
    layout.forEach((expected, i) => {
      const layer = j.layers![i];
      const where = `${fn}: layers[${i}]`;
      if (typeof layer !== "object" || layer === null) throw new ArgumentError(`${where} must be an object`);
      if (layer.in_features !== expected.inFeatures || layer.out_features !== expected.outFeatures) {
        throw new ArgumentError(
          `${where} must be ${expected.outFeatures} x ${expected.inFeatures} (out x in), got ${layer.out_features} x ${layer.in_features}`,
        );
      }
      copyNumbers(
        `${where}.weight`,
        layer.weight,
        params,
        expected.weightOffset,
        expected.inFeatures * expected.outFeatures,
      );
      copyNumbers(`${where}.bias`, layer.bias, params, expected.biasOffset, expected.outFeatures);
    });
    const model = new ToyMlpDenoiser(arch, sd, params);
    if (j.training !== undefined) model.training = j.training;
    return model;
  }
}

function copyNumbers(
  where: string,
  values: unknown,
  into: Float64Array,
  offset: number,
  count: number,
): void {
  if (!Array.isArray(values) || values.length !== count) {
    throw new ArgumentError(
      `${where} must be an array of ${count} numbers, got ${Array.isArray(values) ? `${values.length} values` : typeof values}`,
    );
  }
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new ArgumentError(`${where}[${i}] must be a finite number, got ${JSON.stringify(v)}`);
    into[offset + i] = v;
  }
}
