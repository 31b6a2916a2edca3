/**
 * Elementwise kernels core's ops.ts does not have (candidates for @edmkit/core). Same
 * conventions: write into a caller-owned `out` (may alias the input); in float32 the scalar
 * is rounded to float32 first and each operation is rounded (torch CPU semantics).
 */
import type { Tensor } from "@edmkit/core";

/** out = a / s  (a true division, as torch's `x / s`, not a multiplication by 1/s) */
export function divScalar(out: Tensor, a: Tensor, s: number): Tensor {
  const o = out.data, x = a.data, n = o.length;
  if (x.length !== n) throw new RangeError(`divScalar: operand of ${x.length} elements does not match out of ${n} elements`);
  const d = o instanceof Float32Array ? Math.fround(s) : s;
  for (let i = 0; i < n; i++) o[i] = x[i] / d;
  return out;
}
