/**
 * The one tensor type of edmkit: a flat typed array in row-major order plus a shape,
 * batch first. Float64 is the reference precision; Float32 reproduces float32 runs of
 * the originals. Tensors are plain data: kernels in `ops.ts` read and write them.
 */
export type DType = "float32" | "float64";
export type TypedArray = Float32Array | Float64Array;

export interface Tensor {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Number of elements of a shape (1 for a scalar shape `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`tensor: shape [${shape.join(", ")}] must hold non-negative integers`);
    }
  }
}

export function allocate(dtype: DType, n: number): TypedArray {
  return dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float32Array ? "float32" : "float64";
}

/**
 * Make a tensor. A typed array is used as is (no copy) and fixes the dtype; any other
 * array-like is copied into a new array of `dtype` (default float64).
 */
export function tensor(
  data: TypedArray | ArrayLike<number>,
  shape: readonly number[],
  dtype?: DType,
): Tensor {
  checkShape(shape);
  let arr: TypedArray;
  if (data instanceof Float64Array || data instanceof Float32Array) {
    if (dtype !== undefined && dtype !== dtypeOf(data)) {
      arr = allocate(dtype, data.length);
      arr.set(data);
    } else arr = data;
  } else {
    arr = allocate(dtype ?? "float64", data.length);
    for (let i = 0; i < data.length; i++) arr[i] = data[i];
  }
  const n = numel(shape);
  if (arr.length !== n) {
    throw new RangeError(
      `tensor: ${arr.length} values do not fill shape [${shape.join(", ")}] (${n} elements)`,
    );
  }
  return { data: arr, shape: Object.freeze([...shape]), dtype: dtypeOf(arr) };
}

export function zeros(shape: readonly number[], dtype: DType = "float64"): Tensor {
  checkShape(shape);
  return tensor(allocate(dtype, numel(shape)), shape);
}

export function zerosLike(t: Tensor, dtype: DType = t.dtype): Tensor {
  return zeros(t.shape, dtype);
}

export function clone(t: Tensor, dtype: DType = t.dtype): Tensor {
  const out = allocate(dtype, t.data.length);
  out.set(t.data);
  return tensor(out, t.shape);
}

/** Batch size (first dimension); a 0-d tensor counts as one row. */
export function batchSize(t: Tensor): number {
  return t.shape.length === 0 ? 1 : t.shape[0];
}

/** Elements per batch row. */
export function rowSize(t: Tensor): number {
  const b = batchSize(t);
  return b === 0 ? 0 : t.data.length / b;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function assertSameShape(what: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new RangeError(`${what}: shape [${a.shape.join(", ")}] does not match [${b.shape.join(", ")}]`);
  }
}
