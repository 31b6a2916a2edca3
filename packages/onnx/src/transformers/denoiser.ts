/**
 * TransformersDenoiser: a model folder loaded by transformers.js (`PreTrainedModel.
 * from_pretrained`, fully offline) behind the model contracts of @edmkit/core — the EDM
 * `Denoiser` (D(x; sigma)) and the discrete-time `DiscreteModel` ((sample, timestep) ->
 * eps / v / x0). transformers.js has no schedulers or UNet pipelines for this kind of model;
 * edmkit's samplers (k-diffusion, diffusers, EDM ports) drive it through these contracts.
 *
 * Precision at the boundary is OnnxDenoiser's: the graph runs in its own float type; float64
 * data given to a float32 graph is rounded to the nearest float32 on the way in (x, and
 * sigma / timestep, which always arrive as float64), and the float32 output is widened
 * exactly. The result has the dtype of `out` when given, else of `x`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { DataType, DeviceType, PreTrainedModel, Tensor as HfTensor } from "@huggingface/transformers";
import {
  allocate,
  type Denoiser,
  type DiscreteModel,
  type DType,
  type Prediction,
  type Tensor,
  type TypedArray,
} from "@edmkit/core";
import { type OnnxParameterization, type OnnxSidecar, parseSidecar, predictionOf } from "../sidecar.js";
import {
  formatShape,
  type ModelSignature,
  signatureFromModelBytes,
  signatureFromSession,
} from "../signature.js";
import { deliverOutput, ShapeCache } from "../run-buffers.js";
import { checkContractOptions, type ContractOptions, resolveContract } from "./contract.js";
import { EDMKIT_CONFIG_KEY, TRANSFORMERS_CONFIG_FILE } from "./folder.js";
import { loadTransformers, type TransformersModule } from "./module.js";

export interface TransformersDenoiserOptions extends ContractOptions {
  /**
   * Folder that holds model folders. Given, the model folder is `localModelPath/modelIdOrPath`
   * and transformers.js' `env.localModelPath` is set to it. Not given, `modelIdOrPath` is the
   * model folder itself (absolute, or relative to the working directory).
   */
  localModelPath?: string;
  /**
   * transformers.js' `dtype`: which graph file of `onnx/` to load — "fp32" (default)
   * `model.onnx`, "fp16" `model_fp16.onnx`, "q8" `model_quantized.onnx`, ... It does not
   * convert anything: the graph's inputs must be float32 or float64 tensors.
   */
  dtype?: DataType;
  /** transformers.js' `device` (default "cpu"). */
  device?: DeviceType;
  /** EDM `net.sigma_min` / `sigma_max` to report through the Denoiser contract. */
  sigmaMin?: number;
  sigmaMax?: number;
}

// transformers.js' file naming: onnx/model{suffix}.onnx per dtype (utils/dtypes.js)
const DTYPE_SUFFIX: Record<string, string> = {
  fp32: "",
  fp16: "_fp16",
  int8: "_int8",
  uint8: "_uint8",
  q8: "_quantized",
  q4: "_q4",
  q2: "_q2",
  q1: "_q1",
  q4f16: "_q4f16",
  q2f16: "_q2f16",
  q1f16: "_q1f16",
  bnb4: "_bnb4",
};

interface Feeds {
  key: string;
  x: TypedArray;
  cond: TypedArray;
  inputs: Record<string, HfTensor>;
  busy: boolean;
}

const MAX_SHAPES = 4;
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

export class TransformersDenoiser implements Denoiser, DiscreteModel {
  /** Absolute path of the model folder. */
  readonly folder: string;
  /** Absolute path of the graph file transformers.js loaded. */
  readonly modelFile: string;
  readonly parameterization: OnnxParameterization;
  /** DiscreteModel prediction type ("sample" for a denoiser graph, whose predict() refuses). */
  readonly prediction: Prediction;
  /** The graph's float type. */
  readonly dtype: DType;
  readonly inputNames: readonly [string, string];
  readonly outputName: string;
  readonly signature: ModelSignature;
  /** The folder's config.json as read. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The edmkit sidecar from config.json, when it has one. */
  readonly sidecar: OnnxSidecar | undefined;
  readonly rank: number;
  readonly rowShape: readonly (number | undefined)[];
  readonly sigmaMin?: number;
  readonly sigmaMax?: number;

  private readonly feeds = new ShapeCache<Feeds>(MAX_SHAPES);
  private disposed = false;

  private constructor(
    /** The transformers.js model (its ONNX session is `model.sessions.model`). */
    readonly model: PreTrainedModel,
    private readonly tf: TransformersModule,
    init: {
      folder: string;
      modelFile: string;
      parameterization: OnnxParameterization;
      dtype: DType;
      inputNames: readonly [string, string];
      outputName: string;
      signature: ModelSignature;
      config: Record<string, unknown>;
      sidecar: OnnxSidecar | undefined;
      rank: number;
      rowShape: (number | undefined)[];
      options: TransformersDenoiserOptions;
    },
  ) {
    this.folder = init.folder;
    this.modelFile = init.modelFile;
    this.parameterization = init.parameterization;
    this.prediction = predictionOf(init.parameterization) ?? "sample";
    this.dtype = init.dtype;
    this.inputNames = init.inputNames;
    this.outputName = init.outputName;
    this.signature = init.signature;
    this.config = Object.freeze(init.config);
    this.sidecar = init.sidecar;
    this.rank = init.rank;
    this.rowShape = Object.freeze(init.rowShape);
    if (init.options.sigmaMin !== undefined) this.sigmaMin = init.options.sigmaMin;
    if (init.options.sigmaMax !== undefined) this.sigmaMax = init.options.sigmaMax;
  }

  /**
   * Load a local transformers.js model folder (`config.json` + `onnx/model.onnx`, as
   * `writeTransformersModelFolder` lays it out) with `PreTrainedModel.from_pretrained`, offline.
   *
   * Global transformers.js settings it sets, and leaves set (nothing is restored):
   * `env.allowRemoteModels = false` (never download), `env.allowLocalModels = true` (needed to
   * read a folder), and `env.localModelPath = options.localModelPath` when that option is given.
   * It also passes `local_files_only: true`, and hands transformers.js the folder's absolute
   * path, so neither its file cache nor its default model path can stand in for the folder.
   *
   * What the graph computes comes from options or the `edmkit` sidecar in config.json (they
   * must agree); without either, a graph with inputs x, sigma is a denoiser. The graph's
   * inputs, output, float type and batch axis are checked; errors name the folder and what
   * is missing or wrong.
   */
  static async fromPretrained(
    modelIdOrPath: string,
    options: TransformersDenoiserOptions = {},
  ): Promise<TransformersDenoiser> {
    const fn = "TransformersDenoiser.fromPretrained";
    if (typeof modelIdOrPath !== "string" || modelIdOrPath.length === 0) {
      throw new TypeError(
        `${fn}: modelIdOrPath must be a model folder (or a folder name under options.localModelPath), got ${JSON.stringify(modelIdOrPath)}`,
      );
    }
    checkContractOptions(fn, options);
    if (
      options.localModelPath !== undefined &&
      !(typeof options.localModelPath === "string" && options.localModelPath.length > 0)
    ) {
      throw new TypeError(
        `${fn}: options.localModelPath must be a folder path, got ${JSON.stringify(options.localModelPath)}`,
      );
    }
    const dtypeOption = options.dtype ?? "fp32";
    const device = options.device ?? "cpu";
    const folder = resolve(options.localModelPath ?? "", modelIdOrPath);
    const where =
      options.localModelPath !== undefined
        ? ` ("${modelIdOrPath}" under localModelPath ${options.localModelPath})`
        : "";

    // the folder, its config.json and its graph, checked before transformers.js sees them
    let isDir = false;
    try {
      isDir = statSync(folder).isDirectory();
    } catch {
      throw new Error(`${fn}: model folder ${folder}${where} does not exist`);
    }
    if (!isDir)
      throw new Error(
        `${fn}: ${folder}${where} is not a folder (expected a model folder with config.json and onnx/model.onnx)`,
      );
    const configPath = join(folder, TRANSFORMERS_CONFIG_FILE);
    if (!existsSync(configPath)) {
      throw new Error(
        `${fn}: model folder ${folder} has no ${TRANSFORMERS_CONFIG_FILE} (transformers.js needs one, e.g. {"model_type": "edmkit-denoiser"}; writeTransformersModelFolder writes it)`,
      );
    }
    let config: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(readFileSync(configPath, "utf8"));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not a JSON object");
      config = parsed as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${fn}: ${configPath} is not a valid config (${firstLine(e)})`);
    }
    const suffix = DTYPE_SUFFIX[dtypeOption];
    const expectedFile = suffix === undefined ? undefined : join(folder, "onnx", `model${suffix}.onnx`);
    if (expectedFile && !existsSync(expectedFile)) {
      throw new Error(
        `${fn}: model folder ${folder} has no onnx/model${suffix}.onnx (the graph transformers.js loads for dtype "${dtypeOption}")`,
      );
    }
    const sidecarValue = config[EDMKIT_CONFIG_KEY];
    const sidecar =
      sidecarValue === undefined
        ? undefined
        : {
            value: parseSidecar(sidecarValue, `${fn}: ${configPath} key "${EDMKIT_CONFIG_KEY}"`),
            label: `${configPath} ("${EDMKIT_CONFIG_KEY}")`,
          };

    const tf = await loadTransformers();
    tf.env.allowRemoteModels = false;
    tf.env.allowLocalModels = true;
    if (options.localModelPath !== undefined) tf.env.localModelPath = options.localModelPath;
    let model: PreTrainedModel;
    try {
      model = await tf.PreTrainedModel.from_pretrained(folder, {
        dtype: dtypeOption,
        device,
        local_files_only: true,
      });
    } catch (e) {
      throw new Error(
        `${fn}: transformers.js could not load ${folder} (dtype "${dtypeOption}", device "${device}"): ${firstLine(e)}`,
      );
    }
    try {
      const session = (
        model.sessions as Record<string, Parameters<typeof signatureFromSession>[0] | undefined>
      ).model;
      if (!session)
        throw new Error(
          `${fn}: transformers.js made no session "model" for ${folder} (sessions: ${Object.keys(model.sessions).join(", ") || "none"})`,
        );
      const modelFile = expectedFile ?? join(folder, "onnx");
      const signature =
        signatureFromSession(session) ??
        (expectedFile ? signatureFromModelBytes(readFileSync(expectedFile)) : undefined);
      if (!signature) throw new Error(`${fn}: cannot read the inputs and outputs of ${modelFile}`);
      let contract: ReturnType<typeof resolveContract>;
      try {
        contract = resolveContract(modelFile, signature, sidecar, options);
      } catch (e) {
        throw new Error(`${fn}: ${(e as Error).message}`);
      }
      return new TransformersDenoiser(model, tf, {
        folder,
        modelFile,
        parameterization: contract.parameterization,
        dtype: contract.checked.dtype,
        inputNames: contract.inputNames,
        outputName: contract.outputName,
        signature,
        config,
        sidecar: sidecar?.value,
        rank: contract.checked.rank,
        rowShape: contract.checked.rowShape,
        options,
      });
    } catch (e) {
      await model.dispose();
      throw e;
    }
  }

  /** D(x; sigma): for `denoiser` graphs. `sigma` holds one noise level per row. */
  async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
    if (this.parameterization !== "denoiser") {
      throw new Error(
        `TransformersDenoiser.denoise: ${this.folder} holds a "${this.parameterization}" model ((sample, timestep) -> ${this.prediction}); call predict(), or wrap it as k-diffusion's DiscreteEpsDDPMDenoiser does`,
      );
    }
    return this.execute("TransformersDenoiser.denoise", x, sigma, out);
  }

  /** (sample, timestep) -> eps / v / x0: for discrete-time graphs. */
  async predict(sample: Tensor, timestep: Float64Array, out?: Tensor): Promise<Tensor> {
    if (this.parameterization === "denoiser") {
      throw new Error(
        `TransformersDenoiser.predict: ${this.folder} holds a "denoiser" model (D(x; sigma)); call denoise()`,
      );
    }
    return this.execute("TransformersDenoiser.predict", sample, timestep, out);
  }

  /** Run the graph on (x, per-row values) whatever the parameterization. */
  async run(x: Tensor, perRow: ArrayLike<number>, out?: Tensor): Promise<Tensor> {
    return this.execute("TransformersDenoiser.run", x, perRow, out);
  }

  private checkCall(fn: string, x: Tensor, perRow: ArrayLike<number>, out: Tensor | undefined): void {
    if (this.disposed) throw new Error(`${fn}: the model of ${this.folder} was disposed`);
    const [xName, cName] = this.inputNames;
    const expected = formatShape(["batch", ...this.rowShape.map((d, i) => d ?? `d${i + 1}`)]);
    if (
      typeof x !== "object" ||
      x === null ||
      !(x.data instanceof Float32Array || x.data instanceof Float64Array) ||
      !Array.isArray(x.shape)
    ) {
      throw new TypeError(
        `${fn}: ${xName} must be a core Tensor ({data: Float32Array | Float64Array, shape, dtype})`,
      );
    }
    const bad =
      x.shape.length !== this.rank || this.rowShape.some((d, i) => d !== undefined && x.shape[i + 1] !== d);
    if (bad)
      throw new Error(
        `${fn}: ${xName} has shape ${formatShape(x.shape)}, expected ${expected} (${this.folder})`,
      );
    const batch = x.shape[0];
    if (!(batch >= 1)) throw new Error(`${fn}: ${xName} has an empty batch (shape ${formatShape(x.shape)})`);
    if (perRow.length !== batch)
      throw new Error(
        `${fn}: ${perRow.length} ${cName} values for ${batch} rows of ${xName}, expected one per row`,
      );
    if (out && out.data.length !== x.data.length) {
      throw new Error(
        `${fn}: out has ${out.data.length} elements (shape ${formatShape(out.shape)}), expected ${x.data.length} (shape ${formatShape(x.shape)})`,
      );
    }
  }

  /** Input buffers and their transformers.js tensors, per input shape (a few kept). */
  private acquire(shape: readonly number[]): Feeds {
    return this.feeds.acquire(shape, (sh, key) => {
      const n = sh.reduce((a, b) => a * b, 1);
      const x = allocate(this.dtype, n),
        cond = allocate(this.dtype, sh[0]);
      const [xName, cName] = this.inputNames;
      const { Tensor } = this.tf;
      return {
        key,
        x,
        cond,
        busy: false,
        inputs: {
          [xName]: new Tensor(this.dtype, x, [...sh]),
          [cName]: new Tensor(this.dtype, cond, [sh[0]]),
        },
      };
    });
  }

  private async execute(
    fn: string,
    x: Tensor,
    perRow: ArrayLike<number>,
    out: Tensor | undefined,
  ): Promise<Tensor> {
    this.checkCall(fn, x, perRow, out);
    const f = this.acquire(x.shape);
    f.busy = true;
    try {
      // TypedArray.set rounds float64 -> float32 to nearest, widens float32 -> float64 exactly
      f.x.set(x.data);
      f.cond.set(perRow);
      let outputs: Record<string, HfTensor | undefined>;
      try {
        outputs = await this.model.forward(f.inputs);
      } catch (e) {
        throw new Error(`${fn}: transformers.js failed on ${this.modelFile}: ${firstLine(e)}`);
      }
      const o = outputs[this.outputName];
      if (!o)
        throw new Error(
          `${fn}: ${this.modelFile} returned no output "${this.outputName}" (outputs: ${Object.keys(outputs).join(", ")})`,
        );
      const data = o.data;
      if (!(data instanceof Float32Array || data instanceof Float64Array)) {
        throw new Error(
          `${fn}: output "${this.outputName}" of ${this.modelFile} has type ${o.type}, expected ${this.dtype}`,
        );
      }
      if (data.length !== x.data.length)
        throw new Error(
          `${fn}: ${this.modelFile} returned ${data.length} values for ${x.data.length} inputs`,
        );
      // the output array is fresh: onnxruntime allocates it per run
      return deliverOutput(data, x, out, true);
    } finally {
      f.busy = false;
    }
  }

  /** Release the ONNX session; the denoiser cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.feeds.clear();
    await this.model.dispose();
  }
}
