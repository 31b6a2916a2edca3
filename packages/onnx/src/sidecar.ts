/**
 * The sidecar JSON next to an ONNX toy model (fixtures/models/README.md): what the graph
 * computes (`parameterization`), its float type, its input/output names and shapes, and for
 * the exact models the FORMAT.md denoiser object it implements. Validated with zod; a bad
 * file gives one message naming the file and the first bad field.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { discreteEpsSchema, empiricalSchema, gmmSchema } from "@edmkit/core";
import { z } from "zod";

/**
 * What the graph's output means.
 * - `denoiser`: D(x; sigma), inputs (x [batch, ...], sigma [batch]).
 * - `discrete-eps` / `discrete-v` / `discrete-sample`: a discrete-time model
 *   (sample [batch, ...], timestep [batch]) -> eps / v / x0, as diffusers calls a UNet.
 */
export const parameterizations = ["denoiser", "discrete-eps", "discrete-v", "discrete-sample"] as const;
export type OnnxParameterization = (typeof parameterizations)[number];

const ioSchema = z.looseObject({
  name: z.string().min(1),
  shape: z.array(z.union([z.string().min(1), z.number().int().nonnegative()])),
});

const validationRowSchema = z.looseObject({
  sigma: z.number().positive(),
  rmse_vs_exact: z.number().nonnegative(),
  rmse_exact_vs_clean: z.number().nonnegative().optional(),
});

export const sidecarSchema = z.looseObject({
  kind: z.literal("onnx"),
  file: z.string().min(1).optional(),
  parameterization: z.enum(parameterizations),
  dtype: z.enum(["float32", "float64"]),
  inputs: z.array(ioSchema).length(2),
  outputs: z.array(ioSchema).length(1),
  /** The exact denoiser the graph implements (exact models only). */
  denoiser: z.union([gmmSchema, discreteEpsSchema, empiricalSchema]).optional(),
  /** The mixture, or the data set (kind empirical), a learned model was trained on. */
  trained_on: z
    .union([
      gmmSchema,
      z.looseObject({
        kind: z.literal("empirical"),
        dataset: z.string().min(1),
        transform: empiricalSchema.shape.transform.optional(),
      }),
    ])
    .optional(),
  sigma_data: z.number().positive().optional(),
  validation: z.array(validationRowSchema).optional(),
  notes: z.string().optional(),
});

export type OnnxSidecar = z.infer<typeof sidecarSchema>;
export type SidecarIo = z.infer<typeof ioSchema>;

function issuePath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

/** Validate a parsed sidecar object; `label` names it in messages. */
export function parseSidecar(value: unknown, label: string): OnnxSidecar {
  const r = sidecarSchema.safeParse(value);
  if (!r.success) {
    const issue = [...r.error.issues].sort((a, b) => b.path.length - a.path.length)[0];
    const field = issue ? issuePath(issue.path) : "";
    throw new Error(`${label}: ${field ? `field \`${field}\`: ` : ""}${issue?.message ?? r.error.message}`);
  }
  const s = r.data;
  if (s.denoiser) {
    const kind = s.denoiser.kind;
    const discrete = s.parameterization !== "denoiser";
    if ((kind === "gmm" || kind === "empirical") === discrete) {
      throw new Error(
        `${label}: field \`denoiser.kind\`: "${kind}" does not fit parameterization "${s.parameterization}"`,
      );
    }
    if (kind === "discrete-eps") {
      const declared = s.denoiser.prediction ?? "epsilon";
      const expected = predictionOf(s.parameterization);
      if (declared !== expected) {
        throw new Error(
          `${label}: field \`denoiser.prediction\`: "${declared}" does not fit parameterization "${s.parameterization}" (expected "${expected}")`,
        );
      }
    }
  }
  return s;
}

/** Read and validate a sidecar file. */
export function loadSidecar(path: string): OnnxSidecar {
  const label = basename(path);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${label}: cannot read sidecar (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${label}: not valid JSON (${(e as Error).message})`);
  }
  return parseSidecar(json, label);
}

/** `NAME.json` next to `NAME.onnx`, or undefined when there is none. */
export function sidecarPathFor(modelPath: string): string | undefined {
  const p = `${modelPath.replace(/\.onnx$/i, "")}.json`;
  return p !== modelPath && existsSync(p) ? p : undefined;
}

/** The discrete prediction type of a parameterization (undefined for `denoiser`). */
export function predictionOf(p: OnnxParameterization): "epsilon" | "v_prediction" | "sample" | undefined {
  switch (p) {
    case "discrete-eps":
      return "epsilon";
    case "discrete-v":
      return "v_prediction";
    case "discrete-sample":
      return "sample";
    case "denoiser":
      return undefined;
  }
}
