/**
 * A model's inputs and outputs (names, element types, shapes) and the checks that a graph
 * fits the contract OnnxDenoiser serves. The signature comes from onnxruntime's session
 * metadata (`inputMetadata` / `outputMetadata`, present in onnxruntime-node 1.30) or, for
 * runtimes without it, from the model's own protobuf (graph inputs that are not
 * initializers, and graph outputs).
 */
import { dataTypeName, decodeModel, type ValueInfo } from "./proto.js";

/** One input or output: element type ("float32", "float64", "int64", ...) and shape;
 *  a string dimension is symbolic (e.g. "batch"), "?" an unnamed free dimension. */
export interface ValueSignature {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface ModelSignature {
  inputs: ValueSignature[];
  outputs: ValueSignature[];
}

/** "[batch, 2]" */
export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(", ")}]`;
}

function describe(v: ValueSignature): string {
  return `"${v.name}" ${v.type} ${formatShape(v.shape)}`;
}

/** Signature from a protobuf-decoded model (graph inputs minus initializers). */
export function signatureFromModelBytes(bytes: Uint8Array): ModelSignature {
  const model = decodeModel(bytes);
  const g = model.graph;
  if (!g) throw new Error("model has no graph");
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const conv = (v: ValueInfo): ValueSignature => {
    const tt = v.type?.tensor_type;
    return {
      name: v.name,
      type: tt?.elem_type !== undefined ? dataTypeName(tt.elem_type) : "unknown",
      shape: (tt?.shape?.dim ?? []).map((d) =>
        d.dim_value !== undefined
          ? d.dim_value
          : d.dim_param !== undefined && d.dim_param !== ""
            ? d.dim_param
            : "?",
      ),
    };
  };
  return {
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name)).map(conv),
    outputs: (g.output ?? []).map(conv),
  };
}

interface SessionMetadataLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly unknown[];
  readonly outputMetadata?: readonly unknown[];
}

/** Signature from onnxruntime's session metadata, or undefined when the runtime has none. */
export function signatureFromSession(session: SessionMetadataLike): ModelSignature | undefined {
  const conv = (
    names: readonly string[],
    meta: readonly unknown[] | undefined,
  ): ValueSignature[] | undefined => {
    if (!meta || meta.length !== names.length) return undefined;
    const out: ValueSignature[] = [];
    for (const m of meta as {
      name?: string;
      isTensor?: boolean;
      type?: string;
      shape?: readonly (number | string)[];
    }[]) {
      if (typeof m?.name !== "string") return undefined;
      if (m.isTensor === false) out.push({ name: m.name, type: "non-tensor", shape: [] });
      else
        out.push({
          name: m.name,
          type: m.type ?? "unknown",
          shape: (m.shape ?? []).map((d) => (d === "" ? "?" : d)),
        });
    }
    return out;
  };
  const inputs = conv(session.inputNames, session.inputMetadata);
  const outputs = conv(session.outputNames, session.outputMetadata);
  return inputs && outputs ? { inputs, outputs } : undefined;
}

/** What OnnxDenoiser expects of a graph. */
export interface ExpectedSignature {
  /** Names of the data input (x / sample) and the per-row input (sigma / timestep). */
  inputs: readonly [string, string];
  output: string;
  /** Expected shapes as declared (sidecar), e.g. ["batch", "dim"] and ["batch"]; without a
   *  declaration the data input may have any rank >= 1 and the output must have its rank. */
  inputShapes: readonly [readonly (number | string)[] | undefined, readonly (number | string)[]];
  outputShape?: readonly (number | string)[];
  /** Required float type, when declared (sidecar `dtype`). */
  dtype?: "float32" | "float64";
  /** Size of the last axis, when known (the mixture's dim). */
  dim?: number;
  /** Where the expectation comes from, for messages ("gmm2d-ring8.json", "options"). */
  source: string;
}

export interface CheckedSignature {
  dtype: "float32" | "float64";
  /** Rank of the data input (and of the output). */
  rank: number;
  /** Fixed sizes of the data input's non-batch axes (undefined where symbolic). */
  rowShape: (number | undefined)[];
}

/**
 * Check a graph's signature against the expectation. Every mismatch is an Error of the form
 * `NAME.onnx: input "sigma" has rank 2 ([batch, 1]), expected rank 1 ([batch])`.
 */
export function checkSignature(file: string, sig: ModelSignature, exp: ExpectedSignature): CheckedSignature {
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  const list = (vs: ValueSignature[]) => (vs.length ? vs.map(describe).join(", ") : "none");
  const find = (kind: "input" | "output", name: string): ValueSignature => {
    const pool = kind === "input" ? sig.inputs : sig.outputs;
    const v = pool.find((p) => p.name === name);
    if (!v) {
      fail(`no ${kind} named "${name}" (expected by ${exp.source}); the model's ${kind}s are ${list(pool)}`);
    }
    return v as ValueSignature;
  };
  const [xName, cName] = exp.inputs;
  const x = find("input", xName);
  const c = find("input", cName);
  const o = find("output", exp.output);
  for (const extra of sig.inputs) {
    if (extra.name !== xName && extra.name !== cName) {
      fail(
        `has an extra input ${describe(extra)}; OnnxDenoiser feeds only "${xName}" and "${cName}" (expected by ${exp.source})`,
      );
    }
  }

  const floatOk = (t: string) => t === "float32" || t === "float64";
  const wanted = exp.dtype ? exp.dtype : "float32 or float64";
  for (const [kind, v] of [
    ["input", x],
    ["input", c],
    ["output", o],
  ] as const) {
    if (v.type === "non-tensor") fail(`${kind} "${v.name}" is not a tensor, expected a ${wanted} tensor`);
    if (exp.dtype ? v.type !== exp.dtype : !floatOk(v.type)) {
      fail(
        `${kind} "${v.name}" has element type ${v.type}, expected ${wanted}${exp.dtype ? ` (as ${exp.source} declares)` : ""}`,
      );
    }
  }
  if (x.type !== c.type || x.type !== o.type) {
    fail(
      `inputs "${x.name}" (${x.type}), "${c.name}" (${c.type}) and output "${o.name}" (${o.type}) must share one float type`,
    );
  }

  const checkRank = (kind: "input" | "output", v: ValueSignature, want: readonly (number | string)[]) => {
    if (v.shape.length !== want.length) {
      fail(
        `${kind} "${v.name}" has rank ${v.shape.length} (${formatShape(v.shape)}), expected rank ${want.length} (${formatShape(want)})`,
      );
    }
    // every declared number must match; a declared name matches any size (a free axis)
    want.forEach((w, i) => {
      const got = v.shape[i];
      if (typeof w === "number" && typeof got === "number" && w !== got) {
        fail(
          `${kind} "${v.name}" has size ${got} on axis ${i} (${formatShape(v.shape)}), expected ${w} (${formatShape(want)})`,
        );
      }
    });
  };
  if (exp.inputShapes[0]) checkRank("input", x, exp.inputShapes[0]);
  checkRank("input", c, exp.inputShapes[1]);
  if (exp.outputShape) checkRank("output", o, exp.outputShape);
  if (x.shape.length < 1) fail(`input "${x.name}" is a scalar, expected a batch-first tensor ([batch, ...])`);
  if (c.shape.length !== 1) fail(`input "${c.name}" has rank ${c.shape.length}, expected rank 1 ([batch])`);
  if (o.shape.length !== x.shape.length) {
    fail(
      `output "${o.name}" has rank ${o.shape.length} (${formatShape(o.shape)}), expected the rank of input "${x.name}", ${x.shape.length} (${formatShape(x.shape)})`,
    );
  }
  // batch axes: a fixed batch in the graph would break arbitrary batch sizes
  for (const [kind, v] of [
    ["input", x],
    ["input", c],
    ["output", o],
  ] as const) {
    if (typeof v.shape[0] === "number" && typeof exp.inputShapes[0]?.[0] !== "number") {
      fail(
        `${kind} "${v.name}" has a fixed batch size ${v.shape[0]} (${formatShape(v.shape)}), expected a dynamic batch axis`,
      );
    }
  }
  const rowShape: (number | undefined)[] = [];
  for (let i = 1; i < x.shape.length; i++) {
    const xs = x.shape[i],
      os = o.shape[i];
    if (typeof xs === "number" && typeof os === "number" && xs !== os) {
      fail(
        `output "${o.name}" ${formatShape(o.shape)} does not have the shape of input "${x.name}" ${formatShape(x.shape)}`,
      );
    }
    rowShape.push(typeof xs === "number" ? xs : typeof os === "number" ? os : undefined);
  }
  if (exp.dim !== undefined) {
    const last = rowShape[rowShape.length - 1];
    if (last !== undefined && last !== exp.dim) {
      fail(
        `input "${x.name}" has ${last} coordinates per row (${formatShape(x.shape)}), expected dim ${exp.dim} (as ${exp.source} declares)`,
      );
    }
    if (last === undefined && rowShape.length) rowShape[rowShape.length - 1] = exp.dim;
  }
  return { dtype: x.type as "float32" | "float64", rank: x.shape.length, rowShape };
}
