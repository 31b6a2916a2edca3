/**
 * Rebuilding the eight toy models of fixtures/models with the TypeScript writer: the exact
 * mixture models from their sidecars' `denoiser` specs, the EDM MLPs from the weights read
 * out of the shipped .onnx files (their initializers) plus the sidecar's sigma_data.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tensorValues } from "./graph-builder.js";
import { decodeModel, type ModelMessage } from "./proto.js";
import { loadSidecar, type OnnxSidecar } from "./sidecar.js";
import {
  type DenseLayer,
  discreteGmmModel,
  type EdmMlpSpec,
  gmmDenoiserModel,
  edmMlpModel,
  serializeModel,
} from "./writer.js";

/** The shipped toy models, by file stem. */
export const toyModelNames = [
  "gmm1d-bimodal",
  "gmm1d-bimodal-f64",
  "gmm2d-ring8",
  "gmm2d-ring8-f64",
  "gmm2d-ring8-discrete-eps",
  "gmm2d-ring8-discrete-eps-f64",
  "mlp1d-bimodal-edm",
  "mlp2d-ring8-edm",
] as const;

/** fixtures/models of this repository (from packages/onnx/src or packages/onnx/dist: three levels up). */
export function defaultModelsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../../fixtures/models");
}

/**
 * Read the MLP of an EDM toy model back from its graph: every Gemm node in graph order is a
 * dense layer (weight [out, in] with transB = 1, bias [out]); the frequencies are the
 * [1, F] initializer multiplied with c_noise. Checks the architecture it assumes.
 */
export function extractEdmMlp(
  model: Uint8Array | ModelMessage,
  label = "model",
): Omit<EdmMlpSpec, "sigmaData"> {
  const m = model instanceof Uint8Array ? decodeModel(model) : model;
  const g = m.graph;
  if (!g) throw new Error(`extractEdmMlp: ${label} has no graph`);
  const inits = new Map((g.initializer ?? []).map((t) => [t.name ?? "", t]));
  const layers: DenseLayer[] = [];
  const gemmInputs = new Set<string>();
  for (const n of g.node ?? []) {
    if (n.op_type !== "Gemm") continue;
    const [, wName, bName] = n.input ?? [];
    const transB = n.attribute?.find((a) => a.name === "transB")?.i ?? 0;
    const w = inits.get(wName),
      b = inits.get(bName);
    if (!w || !b)
      throw new Error(
        `extractEdmMlp: ${label}: Gemm ${n.name} does not take its weight and bias from initializers`,
      );
    if (transB !== 1)
      throw new Error(
        `extractEdmMlp: ${label}: Gemm ${n.name} has transB ${transB}, expected 1 (nn.Linear layout)`,
      );
    const dims = w.dims ?? [];
    if (dims.length !== 2)
      throw new Error(
        `extractEdmMlp: ${label}: weight ${wName} has dims [${dims.join(", ")}], expected [out, in]`,
      );
    layers.push({
      weight: tensorValues(w),
      bias: tensorValues(b),
      outFeatures: dims[0],
      inFeatures: dims[1],
    });
    gemmInputs.add(wName).add(bName);
  }
  if (!layers.length) throw new Error(`extractEdmMlp: ${label} has no Gemm layers`);
  let frequencies: number[] | undefined;
  for (const n of g.node ?? []) {
    if (n.op_type !== "Mul") continue;
    for (const i of n.input ?? []) {
      const t = inits.get(i);
      if (t && !gemmInputs.has(i) && (t.dims ?? []).length === 2 && t.dims![0] === 1)
        frequencies = [...tensorValues(t)];
    }
  }
  if (!frequencies) throw new Error(`extractEdmMlp: ${label}: no [1, F] frequency initializer found`);
  const dim = layers[layers.length - 1].outFeatures;
  const expectIn = dim + 1 + 2 * frequencies.length;
  if (layers[0].inFeatures !== expectIn) {
    throw new Error(
      `extractEdmMlp: ${label}: first layer takes ${layers[0].inFeatures} features, expected ${expectIn} (dim ${dim} + c_noise + sin/cos of ${frequencies.length} frequencies)`,
    );
  }
  return { dim, frequencies, layers };
}

/** The model of one shipped toy model name, rebuilt from its sidecar (and, for MLPs, its weights). */
export function rebuildToyModel(
  name: string,
  modelsDir = defaultModelsDir(),
): { model: ModelMessage; sidecar: OnnxSidecar } {
  const sidecar = loadSidecar(join(modelsDir, `${name}.json`));
  const dtype = sidecar.dtype;
  const d = sidecar.denoiser;
  let model: ModelMessage;
  if (d?.kind === "gmm") {
    model = gmmDenoiserModel(d, { dtype, name });
  } else if (d?.kind === "discrete-eps") {
    if (!d.gmm) throw new Error(`rebuildToyModel: ${name}.json: discrete-eps without a gmm`);
    model = discreteGmmModel(
      {
        gmm: d.gmm,
        alphasCumprod: d.alphas_cumprod,
        prediction: d.prediction ?? "epsilon",
        timeMap: d.time_map ?? "index",
      },
      { dtype, name },
    );
  } else if (sidecar.sigma_data !== undefined) {
    const bytes = readFileSync(join(modelsDir, `${name}.onnx`));
    const mlp = extractEdmMlp(bytes, `${name}.onnx`);
    model = edmMlpModel({ ...mlp, sigmaData: sidecar.sigma_data }, { dtype, name });
  } else {
    throw new Error(`rebuildToyModel: ${name}.json has neither a denoiser spec nor sigma_data`);
  }
  return { model, sidecar };
}

/**
 * Write all eight toy models (NAME.onnx plus a copy of NAME.json whose provenance names the
 * writer) to `outDir`. Returns the paths of the .onnx files written.
 */
export function regenerateModels(outDir: string, opts: { modelsDir?: string } = {}): string[] {
  const modelsDir = opts.modelsDir ?? defaultModelsDir();
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const name of toyModelNames) {
    const { model, sidecar } = rebuildToyModel(name, modelsDir);
    const path = join(outDir, `${name}.onnx`);
    writeFileSync(path, serializeModel(model));
    const meta = {
      ...sidecar,
      provenance: {
        writer: "@edmkit/conformance regenerateModels",
        ir_version: 8,
        opset: 17,
        original: (sidecar as Record<string, unknown>).provenance,
      },
    };
    writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(meta, null, 1)}\n`);
    written.push(path);
  }
  return written;
}
