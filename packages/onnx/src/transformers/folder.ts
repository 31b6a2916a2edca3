/**
 * The model folder transformers.js loads (`from_pretrained(folder)`):
 *
 *   folder/config.json        {"model_type": ..., "edmkit": <sidecar>}
 *   folder/onnx/model.onnx    the graph (transformers.js' name for dtype "fp32")
 *
 * transformers.js only needs `model_type` (any string: an unknown type loads as its base
 * `PreTrainedModel`, a single session named "model"). The `edmkit` key carries the model's
 * sidecar (fixtures/models/README.md format, `file` pointing at onnx/model.onnx), so
 * `TransformersDenoiser` knows the parameterization and names without options;
 * transformers.js keeps unknown config keys and ignores them.
 */
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@edmkit/core/node";
import {
  loadSidecar,
  type OnnxParameterization,
  type OnnxSidecar,
  parseSidecar,
  sidecarPathFor,
} from "../sidecar.js";
import { type ModelSignature, signatureFromModelBytes } from "../signature.js";
import { checkContractOptions, type Contract, type ContractOptions, resolveContract } from "./contract.js";

/** Where the graph goes inside a model folder, and the config file. */
export const TRANSFORMERS_MODEL_FILE = "onnx/model.onnx";
export const TRANSFORMERS_CONFIG_FILE = "config.json";
/** The key of config.json holding the edmkit sidecar. */
export const EDMKIT_CONFIG_KEY = "edmkit";

export interface WriteTransformersModelFolderOptions extends ContractOptions {
  /** config.json `model_type` (default `edmkit-<parameterization>`, e.g. "edmkit-denoiser"). */
  modelType?: string;
  /**
   * The model's sidecar: a path, a parsed object, or `false` for none. Default: `NAME.json`
   * next to `NAME.onnx` when the model is given as a path and that file exists. Without a
   * sidecar one is made from the graph's signature and the options.
   */
  sidecar?: string | OnnxSidecar | false;
  /** Further config.json keys (written before `model_type` and `edmkit`, which win). */
  config?: Record<string, unknown>;
}

export interface TransformersModelFolder {
  /** Absolute path of the folder. */
  dir: string;
  configPath: string;
  modelPath: string;
  /** What was written to config.json. */
  config: Record<string, unknown> & { model_type: string; edmkit: OnnxSidecar };
}

/**
 * Lay out `dir` as a transformers.js model folder holding the ONNX model `model` (bytes, or a
 * path to a `.onnx` file): writes `dir/config.json` and `dir/onnx/model.onnx` (each
 * atomically; other files in `dir` are left alone). The graph is checked first against the
 * contract OnnxDenoiser and TransformersDenoiser serve (inputs data + per-row, one float type,
 * dynamic batch), with the sidecar or options saying what it computes; a graph that does not
 * fit is refused with the reason. Returns the paths and the config written.
 */
export function writeTransformersModelFolder(
  dir: string,
  model: Uint8Array | string,
  options: WriteTransformersModelFolderOptions = {},
): TransformersModelFolder {
  const fn = "writeTransformersModelFolder";
  if (typeof dir !== "string" || dir.length === 0)
    throw new TypeError(`${fn}: dir must be a folder path, got ${JSON.stringify(dir)}`);
  checkContractOptions(fn, options);
  if (
    options.modelType !== undefined &&
    !(typeof options.modelType === "string" && options.modelType.length > 0)
  ) {
    throw new TypeError(
      `${fn}: options.modelType must be a non-empty string, got ${JSON.stringify(options.modelType)}`,
    );
  }
  let bytes: Uint8Array;
  let label: string;
  if (typeof model === "string") {
    label = model;
    try {
      if (!statSync(model).isFile()) throw new Error(`${fn}: model ${model} is not a file`);
      bytes = readFileSync(model);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(fn)) throw e;
      throw new Error(
        `${fn}: cannot read model ${model} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      );
    }
  } else if (model instanceof Uint8Array) {
    label = "model bytes";
    bytes = model;
  } else {
    throw new TypeError(`${fn}: model must be ONNX bytes (Uint8Array) or a path to a .onnx file`);
  }

  const sidecar = sidecarFor(fn, model, options.sidecar);
  let signature: ModelSignature;
  try {
    signature = signatureFromModelBytes(bytes);
  } catch (e) {
    throw new Error(
      `${fn}: ${label} is not an ONNX model (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`,
    );
  }
  let contract: Contract;
  try {
    contract = resolveContract(label, signature, sidecar, options);
  } catch (e) {
    throw new Error(`${fn}: ${(e as Error).message}`);
  }
  const edmkit: OnnxSidecar = sidecar
    ? { ...sidecar.value, file: TRANSFORMERS_MODEL_FILE }
    : sidecarFromSignature(signature, contract);
  const modelType = options.modelType ?? `edmkit-${contract.parameterization}`;
  const config = {
    ...(options.config ?? {}),
    model_type: modelType,
    [EDMKIT_CONFIG_KEY]: edmkit,
  } as TransformersModelFolder["config"];

  const abs = resolve(dir);
  const modelPath = join(abs, TRANSFORMERS_MODEL_FILE);
  const configPath = join(abs, TRANSFORMERS_CONFIG_FILE);
  writeFileAtomic(modelPath, bytes);
  writeFileAtomic(configPath, `${JSON.stringify(config, null, 1)}\n`);
  return { dir: abs, configPath, modelPath, config };
}

function sidecarFor(
  fn: string,
  model: Uint8Array | string,
  opt: string | OnnxSidecar | false | undefined,
): { value: OnnxSidecar; label: string } | undefined {
  if (opt === false) return undefined;
  if (typeof opt === "string") return { value: loadSidecar(opt), label: opt };
  if (opt !== undefined) {
    if (typeof opt !== "object" || opt === null)
      throw new TypeError(`${fn}: options.sidecar must be a path, a sidecar object or false`);
    return { value: parseSidecar(opt, `${fn}: options.sidecar`), label: "options.sidecar" };
  }
  if (typeof model !== "string") return undefined;
  const path = sidecarPathFor(model);
  return path ? { value: loadSidecar(path), label: path } : undefined;
}

/** A minimal sidecar (kind, parameterization, dtype, inputs, outputs) from a checked graph. */
function sidecarFromSignature(sig: ModelSignature, c: Contract): OnnxSidecar {
  const io = (pool: ModelSignature["inputs"], name: string) => {
    const v = pool.find((p) => p.name === name)!;
    return { name, shape: v.shape.map((d) => (d === "?" ? "d" : d)) };
  };
  return {
    kind: "onnx",
    file: TRANSFORMERS_MODEL_FILE,
    parameterization: c.parameterization satisfies OnnxParameterization,
    dtype: c.checked.dtype,
    inputs: [io(sig.inputs, c.inputNames[0]), io(sig.inputs, c.inputNames[1])],
    outputs: [io(sig.outputs, c.outputName)],
  };
}
