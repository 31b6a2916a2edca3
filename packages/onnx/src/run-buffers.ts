/**
 * What the two ONNX denoisers (onnxruntime-node's `OnnxDenoiser` and transformers.js'
 * `TransformersDenoiser`) share around a run: the input buffers kept per input shape, and
 * how a run's output reaches the caller.
 */
import { allocate, type Tensor, type TypedArray, tensor } from "@edmkit/core";

/**
 * Buffers kept per input shape, the most recently used last; at most `maxShapes` shapes are
 * kept (the least recently used idle one is dropped). An entry is `busy` while a run holds
 * it: an overlapping call with the same shape gets fresh buffers that are not kept, so two
 * runs never share input memory.
 */
export class ShapeCache<T extends { busy: boolean }> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly maxShapes: number) {}

  acquire(shape: readonly number[], make: (shape: readonly number[], key: string) => T): T {
    const key = shape.join(",");
    const cached = this.entries.get(key);
    if (cached?.busy) return make(shape, key);
    if (cached) {
      this.entries.delete(key); // re-inserted below: most recently used last
      this.entries.set(key, cached);
      return cached;
    }
    const made = make(shape, key);
    if (this.entries.size >= this.maxShapes) {
      for (const [k, v] of this.entries) {
        if (!v.busy) {
          this.entries.delete(k);
          break;
        }
      }
    }
    this.entries.set(key, made);
    return made;
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * The run's output as the caller asked for it: copied into `out` when given; otherwise the
 * output array itself when it is `fresh` (nobody else holds it) and of x's dtype, else a
 * new array of x's dtype (TypedArray.set rounds float64 to float32 to nearest and widens
 * float32 exactly).
 */
export function deliverOutput(
  result: TypedArray,
  x: Tensor,
  out: Tensor | undefined,
  fresh: boolean,
): Tensor {
  if (out) {
    out.data.set(result);
    return out;
  }
  if (fresh && (result instanceof Float64Array ? "float64" : "float32") === x.dtype)
    return tensor(result, x.shape);
  const target = tensor(allocate(x.dtype, x.data.length), x.shape);
  target.data.set(result);
  return target;
}
