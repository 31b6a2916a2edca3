/**
 * Which model contract an ONNX graph serves (parameterization, input and output names),
 * from options, an edmkit sidecar, and the graph's own signature — the rules of
 * OnnxDenoiser (src/denoiser.ts), shared here by the transformers.js loader and the
 * model-folder writer: options and sidecar must agree where both speak; without either, a
 * graph with exactly the inputs `x`, `sigma` is a denoiser, anything else must say.
 */
import { type OnnxParameterization, type OnnxSidecar, parameterizations } from "../sidecar.js";
import { type CheckedSignature, checkSignature, type ModelSignature } from "../signature.js";

export interface ContractOptions {
  parameterization?: OnnxParameterization;
  /** Names of the data input and the per-row input (x, sigma / sample, timestep). */
  inputNames?: readonly [string, string];
  outputName?: string;
}

export interface Contract {
  parameterization: OnnxParameterization;
  inputNames: readonly [string, string];
  outputName: string;
  checked: CheckedSignature;
}

export const isParameterization = (p: unknown): p is OnnxParameterization =>
  typeof p === "string" && (parameterizations as readonly string[]).includes(p);

/** Argument checks of the options (the caller's function name leads the message). */
export function checkContractOptions(fn: string, options: ContractOptions): void {
  if (options.parameterization !== undefined && !isParameterization(options.parameterization)) {
    throw new Error(
      `${fn}: options.parameterization must be one of ${parameterizations.join(", ")}, got ${JSON.stringify(options.parameterization)}`,
    );
  }
  const names = options.inputNames;
  if (
    names !== undefined &&
    !(
      Array.isArray(names) &&
      names.length === 2 &&
      names.every((n) => typeof n === "string" && n.length > 0) &&
      names[0] !== names[1]
    )
  ) {
    throw new Error(
      `${fn}: options.inputNames must be two different non-empty names [data input, per-row input], got ${JSON.stringify(names)}`,
    );
  }
  if (
    options.outputName !== undefined &&
    !(typeof options.outputName === "string" && options.outputName.length > 0)
  ) {
    throw new Error(
      `${fn}: options.outputName must be a non-empty string, got ${JSON.stringify(options.outputName)}`,
    );
  }
}

/**
 * Resolve and check the contract. `file` names the graph in messages; `sidecar.label` names
 * where the sidecar came from. Every failure is an Error starting with `file: `.
 */
export function resolveContract(
  file: string,
  signature: ModelSignature,
  sidecar: { value: OnnxSidecar; label: string } | undefined,
  options: ContractOptions,
): Contract {
  const sc = sidecar?.value;
  const label = sidecar?.label ?? "options";
  if (options.parameterization && sc && options.parameterization !== sc.parameterization) {
    throw new Error(
      `${file}: options.parameterization "${options.parameterization}" contradicts ${label} ("${sc.parameterization}")`,
    );
  }
  let parameterization = options.parameterization ?? sc?.parameterization;
  const graphInputs = signature.inputs.map((v) => v.name);
  if (!parameterization) {
    if (graphInputs.length === 2 && graphInputs.includes("x") && graphInputs.includes("sigma"))
      parameterization = "denoiser";
    else {
      throw new Error(
        `${file}: cannot tell what the model computes: no edmkit sidecar and no options.parameterization ` +
          `(one of ${parameterizations.join(", ")}); its inputs are ${graphInputs.map((n) => `"${n}"`).join(", ") || "none"}`,
      );
    }
  }
  const discrete = parameterization !== "denoiser";
  const fromSidecar = sc ? ([sc.inputs[0].name, sc.inputs[1].name] as const) : undefined;
  if (
    options.inputNames &&
    fromSidecar &&
    (options.inputNames[0] !== fromSidecar[0] || options.inputNames[1] !== fromSidecar[1])
  ) {
    throw new Error(
      `${file}: options.inputNames ${JSON.stringify(options.inputNames)} contradict ${label} (${JSON.stringify(fromSidecar)})`,
    );
  }
  const inputNames =
    options.inputNames ??
    fromSidecar ??
    (discrete ? (["sample", "timestep"] as const) : (["x", "sigma"] as const));
  const sidecarOut = sc?.outputs[0].name;
  if (options.outputName && sidecarOut && options.outputName !== sidecarOut) {
    throw new Error(
      `${file}: options.outputName "${options.outputName}" contradicts ${label} ("${sidecarOut}")`,
    );
  }
  const outputName =
    options.outputName ??
    sidecarOut ??
    (signature.outputs.length === 1 ? signature.outputs[0].name : discrete ? "out" : "denoised");
  const dim =
    sc?.denoiser?.kind === "gmm"
      ? sc.denoiser.dim
      : sc?.denoiser?.kind === "discrete-eps"
        ? sc.denoiser.gmm?.dim
        : sc?.trained_on?.kind === "gmm"
          ? sc.trained_on.dim
          : undefined;
  const checked = checkSignature(file, signature, {
    inputs: inputNames,
    output: outputName,
    inputShapes: [sc?.inputs[0].shape, sc?.inputs[1].shape ?? ["batch"]],
    outputShape: sc?.outputs[0].shape,
    dtype: sc?.dtype,
    dim,
    source: sidecar ? label : "options",
  });
  return { parameterization, inputNames, outputName, checked };
}
