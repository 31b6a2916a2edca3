/**
 * Tensors across the boundary: transformers.js' `Tensor` (`type`, `data`, `dims`, an
 * onnxruntime tensor inside) and the core `Tensor` of @edmkit/core (`dtype`, `data`,
 * `shape`). Only float32 and float64 cross; both ways the typed array is shared, not
 * copied, unless `copy: true` is asked for.
 */
import type { Tensor as HfTensor } from "@huggingface/transformers";
import { type DType, numel, type Tensor, tensor, type TypedArray } from "@edmkit/core";
import { loadTransformers } from "./module.js";

/** What this module reads of a transformers.js tensor (v3 and v4 have it). */
export interface TransformersTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
  /** "cpu" for tensors whose data lives in JavaScript memory. */
  readonly location?: string;
}

export interface TensorConversionOptions {
  /** Copy the data instead of sharing the typed array (default false). */
  copy?: boolean;
}

const shapeText = (dims: readonly number[]) => `[${dims.join(", ")}]`;

/**
 * transformers.js Tensor -> core tensor, for `type` "float32" or "float64". The result
 * shares the tensor's typed array (writing to one changes the other) unless `copy: true`;
 * `dims` is copied into the core tensor's frozen `shape`. Other element types (float16,
 * int64, ...) and tensors whose data is not in CPU memory are refused.
 */
export function fromTransformersTensor(
  t: TransformersTensorLike,
  options: TensorConversionOptions = {},
): Tensor {
  const fn = "fromTransformersTensor";
  if (typeof t !== "object" || t === null || typeof t.type !== "string" || !Array.isArray(t.dims)) {
    throw new TypeError(
      `${fn}: t must be a transformers.js Tensor (with type, data, dims), got ${t === null ? "null" : typeof t}`,
    );
  }
  if (t.type !== "float32" && t.type !== "float64") {
    throw new TypeError(
      `${fn}: t has type "${t.type}", expected "float32" or "float64" (core tensors are float32 or float64)`,
    );
  }
  if (t.location !== undefined && t.location !== "cpu" && t.location !== "cpu-pinned") {
    throw new TypeError(
      `${fn}: t lives on "${t.location}", expected a CPU tensor (read it back to the CPU first)`,
    );
  }
  const data = t.data;
  const want = t.type === "float32" ? Float32Array : Float64Array;
  if (!(data instanceof want)) {
    throw new TypeError(
      `${fn}: t has type "${t.type}" but its data is ${data === null || data === undefined ? String(data) : (data as object).constructor?.name}, expected a ${want.name}`,
    );
  }
  if (numel(t.dims) !== data.length) {
    throw new RangeError(`${fn}: t has ${data.length} values but dims ${shapeText(t.dims)}`);
  }
  return tensor(options.copy ? (data.slice() as TypedArray) : data, t.dims);
}

/**
 * core tensor -> transformers.js Tensor of the same type ("float32" / "float64") and dims.
 * The result shares the core tensor's typed array unless `copy: true`. Async because the
 * Tensor class comes from the dynamic import of @huggingface/transformers.
 */
export async function toTransformersTensor(
  t: Tensor,
  options: TensorConversionOptions = {},
): Promise<HfTensor> {
  const fn = "toTransformersTensor";
  if (
    typeof t !== "object" ||
    t === null ||
    !(t.data instanceof Float32Array || t.data instanceof Float64Array) ||
    !Array.isArray(t.shape)
  ) {
    throw new TypeError(`${fn}: t must be a core Tensor ({data: Float32Array | Float64Array, shape, dtype})`);
  }
  if (numel(t.shape) !== t.data.length) {
    throw new RangeError(`${fn}: t has ${t.data.length} values but shape ${shapeText(t.shape)}`);
  }
  const { Tensor } = await loadTransformers();
  const dtype: DType = t.data instanceof Float32Array ? "float32" : "float64";
  return new Tensor(dtype, options.copy ? t.data.slice() : t.data, [...t.shape]);
}
