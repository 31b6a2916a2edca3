/**
 * `torch.linspace(start, end, steps)` on CPU, as the reference build computes it.
 *
 * ATen's kernel takes `step = (end - start) / (steps - 1)` in the output dtype and splits the
 * range at `halfway = floor(steps / 2)`: below it a point is `start + step * idx`, at or
 * above it `end - step * (steps - 1 - idx)`. The contiguous fill runs in chunks of two SIMD
 * vectors (AVX2: 4 doubles or 8 floats each) whose base comes from that rule at the
 * vector's first index, the lanes being `base + lane * step`; fewer than two vectors left
 * are filled point by point.
 *
 * What this adds to core's `torchLinspace`: the reference ATen (AVX2 build) is compiled with
 * floating-point contraction, so each `a + b * c` above is one fused multiply-add, rounded
 * once. Without the fma, `get_sigmas_karras(10, 0.002, 80)` in float32 gets ramp[6] one ulp
 * low (0.66666663 instead of 0.6666667) and sigma[6] 15 float32 ulps off the recording
 * (fixture `sample_heun/.../karras10-churn-window-f32`); with it every float32 schedule of the
 * fixtures is bit-exact.
 *
 * (Candidate for @edmkit/core, replacing `torchLinspace`.)
 */
import type { DType } from "@edmkit/core";
import { fma32, fma64 } from "./fma.js";

export function torchLinspaceFma(start: number, end: number, steps: number, dtype: DType = "float64"): Float64Array {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`torch.linspace: steps must be a non-negative integer, got ${steps}`);
  }
  const out = new Float64Array(steps);
  if (steps === 0) return out;
  const f32 = dtype === "float32";
  const r = f32 ? Math.fround : (x: number) => x;
  const fma = f32 ? fma32 : fma64;
  const s0 = r(start), e0 = r(end);
  if (steps === 1) {
    out[0] = s0;
    return out;
  }
  const step = r(r(e0 - s0) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const at = (idx: number): number => (idx < halfway ? fma(step, idx, s0) : fma(-step, steps - idx - 1, e0));
  const vec = f32 ? 8 : 4;
  let i = 0;
  for (; i <= steps - 2 * vec; i += 2 * vec) {
    for (let v = 0; v < 2; v++) {
      const idx = i + v * vec;
      const base = at(idx);
      for (let lane = 0; lane < vec; lane++) out[idx + lane] = fma(lane, step, base);
    }
  }
  for (; i < steps; i++) out[i] = at(i);
  return out;
}
