/**
 * OnnxDenoiser: an ONNX graph run by onnxruntime-node behind the two model contracts of
 * @edmkit/core, the EDM view `Denoiser` (D(x; sigma)) and the discrete-time `DiscreteModel`
 * ((sample, timestep) -> eps / v / x0). Which one the graph implements comes from the
 * sidecar JSON next to the model (fixtures/models/README.md) or from options.
 *
 * Precision at the boundary: the graph runs in its own float type. A float64 tensor given
 * to a float32 graph is rounded to float32 on the way in (x, and sigma / timestep, which
 * always arrive as float64), and the float32 output is widened exactly into a float64
 * result; a float32 tensor given to a float64 graph is widened exactly and the float64
 * output rounded to float32. The result has the dtype of `out` when given, else of `x`.
 *
 * Buffers: per input shape (i.e. per batch size) the input typed arrays and their
 * ort.Tensor wrappers are allocated once and reused (the caller's data is copied in, so a
 * caller may change its tensor while the run is pending). Up to `maxCachedShapes` shapes are
 * kept (least recently used dropped); overlapping calls with the same shape get fresh
 * buffers rather than share them. Outputs: onnxruntime-node 1.30's binding copies every
 * output into a new ArrayBuffer, even when a pre-allocated output tensor is passed in
 * `fetches` (it writes into that tensor and then copies it; measured in bench/onnx.ts), so
 * by default no output is pre-allocated and the binding's fresh array is returned as the
 * result when its dtype is the caller's (no further copy), or copied into `out`.
 * `preallocateOutputs: true` passes per-shape output tensors as fetches instead.
 */
import { basename, isAbsolute, join } from "node:path";
import { readFileSync, statSync } from "node:fs";
import {
  allocate,
  ArgumentError,
  type Denoiser,
  type DiscreteModel,
  type DType,
  GaussianMixture,
  type Prediction,
  type Tensor,
  tensor,
  type TypedArray,
} from "@edmkit/core";
import * as ort from "onnxruntime-node";
import {
  checkDeviceAvailable,
  executionProvidersFor,
  explainSessionError,
  type OnnxDevice,
  onnxDevices,
  providerNames,
} from "./device.js";
import { type Placement, profilePlacement } from "./placement.js";
import { deliverOutput, ShapeCache } from "./run-buffers.js";
import {
  loadSidecar,
  type OnnxParameterization,
  type OnnxSidecar,
  parameterizations,
  parseSidecar,
  predictionOf,
  sidecarPathFor,
} from "./sidecar.js";
import {
  checkSignature,
  type ExpectedSignature,
  formatShape,
  type ModelSignature,
  signatureFromModelBytes,
  signatureFromSession,
} from "./signature.js";

export interface OnnxDenoiserOptions {
  /**
   * The sidecar: a path, an already-parsed object, or `false` to ignore one. Default: the
   * `NAME.json` next to `NAME.onnx` when it exists.
   */
  sidecar?: string | OnnxSidecar | false;
  /** What the graph computes; required without a sidecar unless the inputs are named x, sigma. */
  parameterization?: OnnxParameterization;
  /** Names of the data input and the per-row input (x, sigma / sample, timestep). */
  inputNames?: readonly [string, string];
  outputName?: string;
  /** Execution provider: "cpu" (default), "cuda" or "webgpu". Never falls back silently. */
  device?: OnnxDevice;
  /** GPU ordinal for CUDA. */
  deviceId?: number;
  /**
   * GPU devices only: allow onnxruntime to run nodes the GPU provider cannot take on the
   * CPU. Default false: such a graph fails to load (onnxruntime `session.disable_cpu_ep_fallback`).
   */
  allowCpuNodes?: boolean;
  /** onnxruntime thread pools (0 or unset: onnxruntime's default, one per physical core). */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "layout" | "all";
  /** onnxruntime log severity for this session (0 verbose .. 4 fatal). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Further session options, applied last (advanced; may override the ones above). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Reuse pre-allocated input buffers per shape (default true). */
  reuseInputs?: boolean;
  /** Also hand onnxruntime pre-allocated output tensors as fetches (default false; see above). */
  preallocateOutputs?: boolean;
  /** How many input shapes keep their buffers (default 4). */
  maxCachedShapes?: number;
  /** EDM `net.sigma_min` / `sigma_max` to report through the Denoiser contract. */
  sigmaMin?: number;
  sigmaMax?: number;
  /** Name used in messages when loading from bytes (default "model.onnx"). */
  name?: string;
}

interface RunBuffers {
  key: string;
  x: TypedArray;
  cond: TypedArray;
  out: TypedArray | undefined;
  feeds: Record<string, ort.Tensor>;
  fetches: Record<string, ort.Tensor> | undefined;
  busy: boolean;
}

const isParameterization = (p: string): p is OnnxParameterization =>
  (parameterizations as readonly string[]).includes(p);

/** Dimension of the data from a sidecar's denoiser / trained_on object, if declared. */
function sidecarDim(s: OnnxSidecar): number | undefined {
  const d = s.denoiser;
  if (d?.kind === "gmm") return d.dim;
  if (d?.kind === "discrete-eps" && d.gmm) return d.gmm.dim;
  return s.trained_on?.kind === "gmm" ? s.trained_on.dim : undefined;
}

export class OnnxDenoiser implements Denoiser, DiscreteModel {
  /** File name used in messages. */
  readonly file: string;
  readonly parameterization: OnnxParameterization;
  /**
   * The DiscreteModel prediction type. For a `denoiser` graph it is "sample" (D is an x0
   * prediction), but `predict()` refuses it: a D(x; sigma) graph takes sigma, not a timestep.
   */
  readonly prediction: Prediction;
  /** The graph's float type. */
  readonly dtype: DType;
  readonly device: OnnxDevice;
  readonly inputNames: readonly [string, string];
  readonly outputName: string;
  readonly signature: ModelSignature;
  /** Where the signature came from: onnxruntime's session metadata or the model's protobuf. */
  readonly signatureSource: "session" | "protobuf";
  readonly sidecar: OnnxSidecar | undefined;
  /** Rank of the data input and its fixed non-batch sizes (undefined where dynamic). */
  readonly rank: number;
  readonly rowShape: readonly (number | undefined)[];
  readonly sigmaMin?: number;
  readonly sigmaMax?: number;

  private readonly buffers: ShapeCache<RunBuffers>;
  private readonly reuse: boolean;
  private readonly preallocate: boolean;
  private readonly sessionOptions: ort.InferenceSession.SessionOptions;
  private released = false;

  private constructor(
    /** The onnxruntime session (exposed for benchmarks and advanced use). */
    readonly session: ort.InferenceSession,
    private readonly model: string | Uint8Array,
    init: {
      file: string;
      parameterization: OnnxParameterization;
      dtype: DType;
      device: OnnxDevice;
      inputNames: readonly [string, string];
      outputName: string;
      signature: ModelSignature;
      signatureSource: "session" | "protobuf";
      sidecar: OnnxSidecar | undefined;
      rank: number;
      rowShape: (number | undefined)[];
      sessionOptions: ort.InferenceSession.SessionOptions;
      options: OnnxDenoiserOptions;
    },
  ) {
    this.file = init.file;
    this.parameterization = init.parameterization;
    this.prediction = predictionOf(init.parameterization) ?? "sample";
    this.dtype = init.dtype;
    this.device = init.device;
    this.inputNames = init.inputNames;
    this.outputName = init.outputName;
    this.signature = init.signature;
    this.signatureSource = init.signatureSource;
    this.sidecar = init.sidecar;
    this.rank = init.rank;
    this.rowShape = Object.freeze(init.rowShape);
    this.sessionOptions = init.sessionOptions;
    this.reuse = init.options.reuseInputs ?? true;
    this.preallocate = init.options.preallocateOutputs ?? false;
    this.buffers = new ShapeCache(Math.max(1, init.options.maxCachedShapes ?? 4));
    if (init.options.sigmaMin !== undefined) this.sigmaMin = init.options.sigmaMin;
    if (init.options.sigmaMax !== undefined) this.sigmaMax = init.options.sigmaMax;
  }

  /** Load `NAME.onnx` (and its sidecar `NAME.json` unless options say otherwise). */
  static async load(modelPath: string, options: OnnxDenoiserOptions = {}): Promise<OnnxDenoiser> {
    const file = basename(modelPath);
    let isFile: boolean;
    try {
      isFile = statSync(modelPath).isFile();
    } catch (e) {
      throw new Error(
        `OnnxDenoiser.load: cannot read ${modelPath} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      );
    }
    if (!isFile) throw new Error(`OnnxDenoiser.load: ${modelPath} is not a file`);
    const sidecarPath =
      options.sidecar === undefined
        ? sidecarPathFor(modelPath)
        : typeof options.sidecar === "string"
          ? options.sidecar
          : undefined;
    const sidecar = sidecarPath
      ? { value: loadSidecar(sidecarPath), label: basename(sidecarPath) }
      : OnnxDenoiser.inlineSidecar(options, file);
    // the file is read only if onnxruntime gives no input/output metadata (protobuf fallback)
    return OnnxDenoiser.checked(
      await OnnxDenoiser.create(modelPath, () => readFileSync(modelPath), file, sidecar, options),
      sidecar?.label ?? "options",
    );
  }

  /** Load a model held in memory (e.g. one the writer produced). */
  static async fromBytes(bytes: Uint8Array, options: OnnxDenoiserOptions = {}): Promise<OnnxDenoiser> {
    const file = options.name ?? "model.onnx";
    const sidecar =
      typeof options.sidecar === "string"
        ? { value: loadSidecar(options.sidecar), label: basename(options.sidecar) }
        : OnnxDenoiser.inlineSidecar(options, file);
    return OnnxDenoiser.checked(
      await OnnxDenoiser.create(bytes, () => bytes, file, sidecar, options),
      sidecar?.label ?? "options",
    );
  }

  private static inlineSidecar(
    options: OnnxDenoiserOptions,
    file: string,
  ): { value: OnnxSidecar; label: string } | undefined {
    if (!options.sidecar || typeof options.sidecar === "string") return undefined;
    const label = `${file.replace(/\.onnx$/i, "")}.json`;
    return { value: parseSidecar(options.sidecar, `${file} sidecar`), label };
  }

  private static async create(
    model: string | Uint8Array,
    bytes: () => Uint8Array,
    file: string,
    sidecarIn: { value: OnnxSidecar; label: string } | undefined,
    options: OnnxDenoiserOptions,
  ): Promise<OnnxDenoiser> {
    if (options.sessionOptions?.executionProviders) {
      throw new Error(
        "OnnxDenoiser: choose the execution provider with options.device, not sessionOptions.executionProviders (a provider list would let onnxruntime fall back to the CPU silently)",
      );
    }
    const device = options.device ?? "cpu";
    if (!onnxDevices.includes(device)) {
      throw new Error(
        `OnnxDenoiser: options.device must be one of ${onnxDevices.map((d) => `"${d}"`).join(", ")}, got ${JSON.stringify(device)}`,
      );
    }
    if (options.parameterization !== undefined && !isParameterization(options.parameterization)) {
      throw new Error(
        `OnnxDenoiser: options.parameterization must be one of ${parameterizations.join(", ")}, got ${JSON.stringify(options.parameterization)}`,
      );
    }
    for (const k of ["intraOpNumThreads", "interOpNumThreads"] as const) {
      const v = options[k];
      if (v !== undefined && !(Number.isInteger(v) && v >= 0))
        throw new Error(`OnnxDenoiser: options.${k} must be a non-negative integer, got ${v}`);
    }
    checkDeviceAvailable(device);

    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: executionProvidersFor({ device, deviceId: options.deviceId }),
      ...(options.intraOpNumThreads !== undefined ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
      ...(options.interOpNumThreads !== undefined ? { interOpNumThreads: options.interOpNumThreads } : {}),
      ...(options.graphOptimizationLevel ? { graphOptimizationLevel: options.graphOptimizationLevel } : {}),
      ...(options.logSeverityLevel !== undefined ? { logSeverityLevel: options.logSeverityLevel } : {}),
      ...(device !== "cpu" && !options.allowCpuNodes
        ? { extra: { session: { disable_cpu_ep_fallback: "1" } } }
        : {}),
      ...options.sessionOptions,
    };
    let session: ort.InferenceSession;
    try {
      session =
        typeof model === "string"
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
    } catch (e) {
      throw explainSessionError(device, file, e);
    }
    try {
      return OnnxDenoiser.bind(session, model, bytes, file, sidecarIn, options, device, sessionOptions);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  private static bind(
    session: ort.InferenceSession,
    model: string | Uint8Array,
    bytes: () => Uint8Array,
    file: string,
    sidecarIn: { value: OnnxSidecar; label: string } | undefined,
    options: OnnxDenoiserOptions,
    device: OnnxDevice,
    sessionOptions: ort.InferenceSession.SessionOptions,
  ): OnnxDenoiser {
    let signature = signatureFromSession(session);
    let signatureSource: "session" | "protobuf" = "session";
    if (!signature) {
      signature = signatureFromModelBytes(bytes());
      signatureSource = "protobuf";
    }
    const sidecar = sidecarIn?.value;
    const sidecarName = sidecarIn?.label ?? "options";

    // parameterization: options and sidecar must agree when both speak
    let parameterization = options.parameterization ?? sidecar?.parameterization;
    if (options.parameterization && sidecar && options.parameterization !== sidecar.parameterization) {
      throw new Error(
        `${file}: options.parameterization "${options.parameterization}" contradicts ${sidecarName} ("${sidecar.parameterization}"); pass sidecar: false to ignore the sidecar`,
      );
    }
    const graphInputs = signature.inputs.map((v) => v.name);
    if (!parameterization) {
      if (graphInputs.length === 2 && graphInputs.includes("x") && graphInputs.includes("sigma"))
        parameterization = "denoiser";
      else {
        throw new Error(
          `${file}: cannot tell what the model computes: no sidecar and no options.parameterization ` +
            `(one of ${parameterizations.join(", ")}); its inputs are ${graphInputs.map((n) => `"${n}"`).join(", ")}`,
        );
      }
    }
    const discrete = parameterization !== "denoiser";
    const defaults: [string, string] = discrete ? ["sample", "timestep"] : ["x", "sigma"];
    const fromSidecar = sidecar ? ([sidecar.inputs[0].name, sidecar.inputs[1].name] as const) : undefined;
    if (
      options.inputNames &&
      fromSidecar &&
      (options.inputNames[0] !== fromSidecar[0] || options.inputNames[1] !== fromSidecar[1])
    ) {
      throw new Error(
        `${file}: options.inputNames ${JSON.stringify(options.inputNames)} contradict ${sidecarName} (${JSON.stringify(fromSidecar)}); pass sidecar: false to ignore the sidecar`,
      );
    }
    const inputNames = options.inputNames ?? fromSidecar ?? defaults;
    const sidecarOut = sidecar?.outputs[0].name;
    if (options.outputName && sidecarOut && options.outputName !== sidecarOut) {
      throw new Error(
        `${file}: options.outputName "${options.outputName}" contradicts ${sidecarName} ("${sidecarOut}"); pass sidecar: false to ignore the sidecar`,
      );
    }
    const outputName =
      options.outputName ??
      sidecarOut ??
      (signature.outputs.length === 1 ? signature.outputs[0].name : discrete ? "out" : "denoised");

    const expected: ExpectedSignature = {
      inputs: inputNames,
      output: outputName,
      inputShapes: [sidecar?.inputs[0].shape, sidecar?.inputs[1].shape ?? ["batch"]],
      outputShape: sidecar?.outputs[0].shape,
      dtype: sidecar?.dtype,
      dim: sidecar ? sidecarDim(sidecar) : undefined,
      source: sidecar ? sidecarName : "OnnxDenoiser",
    };
    const checked = checkSignature(file, signature, expected);
    const den = new OnnxDenoiser(session, model, {
      file,
      parameterization,
      dtype: checked.dtype,
      device,
      inputNames,
      outputName,
      signature,
      signatureSource,
      sidecar,
      rank: checked.rank,
      rowShape: checked.rowShape,
      sessionOptions,
      options,
    });
    return den;
  }

  /** Runs checkDeclaredDenoiser; a model that fails it is released before the error. */
  private static async checked(den: OnnxDenoiser, sidecarName: string): Promise<OnnxDenoiser> {
    try {
      await den.checkDeclaredDenoiser(sidecarName);
    } catch (e) {
      await den.release();
      throw e;
    }
    return den;
  }

  /**
   * A sidecar that declares the exact mixture a `denoiser` graph computes is checked against
   * it: the graph and core's GaussianMixture are evaluated on four probe points (sigma 0.2, 1,
   * 5, 40) and must agree to the graph's precision (relative 1e-3 in float32, 1e-9 in float64),
   * or the model is refused — so plots never overlay the density of another mixture. Other
   * declarations (discrete models, data sets) are not evaluated here.
   */
  private async checkDeclaredDenoiser(sidecarName: string): Promise<void> {
    const spec = this.sidecar?.denoiser;
    if (spec?.kind !== "gmm" || this.parameterization !== "denoiser" || this.rank !== 2) return;
    const dim = spec.dim;
    const sigmas = Float64Array.from([0.2, 1, 5, 40]);
    const x = tensor(allocate("float64", sigmas.length * dim), [sigmas.length, dim]);
    for (let k = 0; k < x.data.length; k++) x.data[k] = 2 * Math.sin(1.3 * k + 0.7);
    const exact = new GaussianMixture(spec).denoiseSync(x, sigmas);
    const graph = await this.run(x, sigmas);
    const tol = this.dtype === "float32" ? 1e-3 : 1e-9;
    for (let k = 0; k < x.data.length; k++) {
      const gap = Math.abs(graph.data[k] - exact.data[k]) / Math.max(1, Math.abs(exact.data[k]));
      if (!(gap <= tol))
        throw new ArgumentError(
          `${this.file}: the graph does not compute the mixture ${sidecarName} declares (field \`denoiser\`): at probe row ${Math.floor(k / dim)} (sigma ${sigmas[Math.floor(k / dim)]}) it gives ${graph.data[k]}, the mixture ${exact.data[k]}`,
        );
    }
  }

  /** D(x; sigma): for `denoiser` graphs. `sigma` holds one noise level per row. */
  async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
    if (this.parameterization !== "denoiser") {
      throw new Error(
        `OnnxDenoiser.denoise: ${this.file} is a "${this.parameterization}" model ((sample, timestep) -> ${this.prediction}); call predict(), or wrap it as k-diffusion's DiscreteEpsDDPMDenoiser does`,
      );
    }
    return this.execute("OnnxDenoiser.denoise", x, sigma, out);
  }

  /** (sample, timestep) -> eps / v / x0: for discrete-time graphs. */
  async predict(sample: Tensor, timestep: Float64Array, out?: Tensor): Promise<Tensor> {
    if (this.parameterization === "denoiser") {
      throw new Error(
        `OnnxDenoiser.predict: ${this.file} is a "denoiser" model (D(x; sigma)); call denoise()`,
      );
    }
    return this.execute("OnnxDenoiser.predict", sample, timestep, out);
  }

  /** Run the graph on (x, per-row values) whatever the parameterization. */
  async run(x: Tensor, perRow: ArrayLike<number>, out?: Tensor): Promise<Tensor> {
    return this.execute("OnnxDenoiser.run", x, perRow, out);
  }

  private describeExpected(): string {
    return formatShape(["batch", ...this.rowShape.map((d, i) => d ?? `d${i + 1}`)]);
  }

  private checkCall(fn: string, x: Tensor, perRow: ArrayLike<number>, out: Tensor | undefined): void {
    if (this.released) throw new Error(`${fn}: ${this.file} was released`);
    const [xName, cName] = this.inputNames;
    if (x.shape.length !== this.rank) {
      throw new Error(
        `${fn}: ${xName} has shape ${formatShape(x.shape)}, expected rank ${this.rank} ${this.describeExpected()} (${this.file})`,
      );
    }
    for (let i = 1; i < this.rank; i++) {
      const want = this.rowShape[i - 1];
      if (want !== undefined && x.shape[i] !== want) {
        throw new Error(
          `${fn}: ${xName} has shape ${formatShape(x.shape)}, expected ${this.describeExpected()} (${this.file})`,
        );
      }
    }
    const batch = x.shape[0];
    if (!(batch >= 1)) throw new Error(`${fn}: ${xName} has an empty batch (shape ${formatShape(x.shape)})`);
    const numel = x.shape.reduce((a, b) => a * b, 1);
    if (x.data.length !== numel)
      throw new ArgumentError(
        `${fn}: ${xName} holds ${x.data.length} values for shape ${formatShape(x.shape)} (${numel} expected)`,
      );
    for (let r = 0; r < perRow.length; r++)
      if (!Number.isFinite(perRow[r]))
        throw new ArgumentError(`${fn}: ${cName}[${r}] is ${perRow[r]}; expected a finite number`);
    const limit = this.dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
    for (let k = 0; k < x.data.length; k++) {
      const v = x.data[k];
      if (!(Math.abs(v) <= limit))
        throw new ArgumentError(
          `${fn}: ${xName}[${k}] is ${v}; expected a finite number${this.dtype === "float32" ? " within float32 range (the graph is float32)" : ""}`,
        );
    }
    if (perRow.length !== batch) {
      throw new Error(
        `${fn}: ${perRow.length} ${cName} values for ${batch} rows of ${xName}, expected one per row`,
      );
    }
    if (out && out.data.length !== x.data.length) {
      throw new Error(
        `${fn}: out has ${out.data.length} elements (shape ${formatShape(out.shape)}), expected ${x.data.length} (shape ${formatShape(x.shape)})`,
      );
    }
  }

  private makeBuffers(shape: readonly number[], key: string): RunBuffers {
    const n = shape.reduce((a, b) => a * b, 1);
    const xa = allocate(this.dtype, n),
      ca = allocate(this.dtype, shape[0]);
    const oa = this.preallocate ? allocate(this.dtype, n) : undefined;
    const [xName, cName] = this.inputNames;
    const dims = [...shape];
    return {
      key,
      x: xa,
      cond: ca,
      out: oa,
      feeds: {
        [xName]: new ort.Tensor(this.dtype, xa, dims),
        [cName]: new ort.Tensor(this.dtype, ca, [shape[0]]),
      },
      fetches: oa ? { [this.outputName]: new ort.Tensor(this.dtype, oa, dims) } : undefined,
      busy: false,
    };
  }

  private acquire(shape: readonly number[]): RunBuffers {
    const make = (sh: readonly number[], key: string) => this.makeBuffers(sh, key);
    return this.reuse ? this.buffers.acquire(shape, make) : make(shape, shape.join(","));
  }

  private async execute(
    fn: string,
    x: Tensor,
    perRow: ArrayLike<number>,
    out: Tensor | undefined,
  ): Promise<Tensor> {
    this.checkCall(fn, x, perRow, out);
    const b = this.acquire(x.shape);
    b.busy = true;
    try {
      // TypedArray.set converts between float32 and float64 (round to nearest / exact widening)
      b.x.set(x.data);
      b.cond.set(perRow);
      let result: TypedArray;
      let fresh: boolean; // result is a new array nobody else holds
      if (b.fetches && b.out) {
        await this.session.run(b.feeds, b.fetches);
        result = b.out;
        fresh = false;
      } else {
        const r = await this.session.run(b.feeds);
        result = r[this.outputName].data as TypedArray;
        fresh = true;
      }
      if (result.length !== x.data.length) {
        throw new Error(`${fn}: ${this.file} returned ${result.length} values for ${x.data.length} inputs`);
      }
      return deliverOutput(result, x, out, fresh);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(fn)) throw e;
      throw new Error(
        `${fn}: onnxruntime failed on ${this.file} (${this.device}): ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
      );
    } finally {
      b.busy = false;
    }
  }

  /**
   * Where onnxruntime runs the nodes of this graph with this session's options, measured by
   * profiling one run of a separate session (batch 1, per-row value 1). For a GPU device,
   * every node should be on its provider (see `providerNames`).
   */
  async placement(): Promise<Placement> {
    const shape = [1, ...this.rowShape.map((d) => d ?? 1)];
    const b = this.makeBuffers(shape, "probe");
    b.cond.fill(1);
    return profilePlacement(this.model, this.sessionOptions, b.feeds);
  }

  /** The provider name onnxruntime reports for this device ("CPUExecutionProvider", ...). */
  get providerName(): string {
    return providerNames[this.device];
  }

  /** Free the onnxruntime session; the denoiser cannot be used afterwards. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.buffers.clear();
    await this.session.release();
  }
}

/**
 * Load the model a fixture's `denoiser` names (FORMAT.md `onnx`: `{kind: "onnx", file:
 * "models/NAME.onnx", parameterization}`), with `file` relative to the fixtures folder. The
 * spec's parameterization must agree with the model's sidecar.
 */
export async function onnxDenoiserFromSpec(
  spec: { kind: "onnx"; file: string; parameterization: string },
  fixturesDir: string,
  options: OnnxDenoiserOptions = {},
): Promise<OnnxDenoiser> {
  if (!isParameterization(spec.parameterization)) {
    throw new Error(
      `onnxDenoiserFromSpec: parameterization must be one of ${parameterizations.join(", ")}, got ${JSON.stringify(spec.parameterization)}`,
    );
  }
  const path = isAbsolute(spec.file) ? spec.file : join(fixturesDir, spec.file);
  return OnnxDenoiser.load(path, { ...options, parameterization: spec.parameterization });
}
