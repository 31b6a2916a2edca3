/**
 * The two update kernels that belong to one k-diffusion sampler each (DPM++ 3M SDE's
 * third-order correction and the LMS sum); the generic ones (`eulerStep`, `heunCorrector`,
 * `addScaled2/3`, `addScaledDiff(Div)`, `allFinite`) are core's `ops.ts`.
 *
 * Same contract as core: every kernel writes into a caller-owned `out` (which may alias an
 * input), allocates nothing, and follows torch CPU semantics for `out`'s dtype. In float32
 * each scalar is rounded to float32 and each torch op of the original expression is rounded
 * to float32 in the original's order (the doc comment gives that expression); in float64 the
 * same order of operations is kept, so results match the original to the last bit whenever
 * the scalars do.
 */
import { checkOperands, type Tensor } from "@edmkit/core";

const f = Math.fround;

/**
 * The third-order correction of `sample_dpmpp_3m_sde`, from d1_0 and d1_1 (the two scaled
 * first differences): with q = d1_0 - d1_1,
 * `d1 = d1_0 + q * r0 / (r0 + r1)`, `d2 = q / (r0 + r1)`, `x = x + phi_2 * d1 - phi_3 * d2`.
 * `rsum` is the 0-d tensor `r0 + r1`. The original computes q twice; both give the same value.
 */
export function dpmpp3mCorrection(
  x: Tensor,
  d10: Tensor,
  d11: Tensor,
  r0: number,
  rsum: number,
  phi2: number,
  phi3: number,
): Tensor {
  checkOperands("dpmpp3mCorrection", x, d10, d11);
  const o = x.data,
    p = d10.data,
    q = d11.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const r032 = f(r0),
      rs32 = f(rsum),
      p232 = f(phi2),
      p332 = f(phi3);
    for (let k = 0; k < len; k++) {
      const diff = f(p[k] - q[k]);
      const d1 = f(p[k] + f(f(diff * r032) / rs32));
      const d2 = f(diff / rs32);
      o[k] = f(o[k] + f(p232 * d1)) - f(p332 * d2);
    }
  } else {
    for (let k = 0; k < len; k++) {
      const diff = p[k] - q[k];
      const d1 = p[k] + (diff * r0) / rsum;
      const d2 = diff / rsum;
      o[k] = o[k] + phi2 * d1 - phi3 * d2;
    }
  }
  return x;
}

/**
 * The LMS update `x = x + sum(coeff * d for coeff, d in zip(coeffs, reversed(ds)))`:
 * Python's `sum` starts from 0 and adds the products left to right; `ds[0]` here is the
 * newest derivative (the original's `ds[-1]`).
 */
export function lmsUpdate(
  x: Tensor,
  coeffs: ArrayLike<number>,
  ds: readonly Tensor[],
  order: number,
): Tensor {
  for (let j = 0; j < order; j++) checkOperands("lmsUpdate", x, ds[j]);
  const o = x.data,
    len = o.length;
  if (o instanceof Float32Array) {
    for (let k = 0; k < len; k++) {
      let acc = f(f(coeffs[0]) * ds[0].data[k]);
      for (let j = 1; j < order; j++) acc = f(acc + f(f(coeffs[j]) * ds[j].data[k]));
      o[k] = o[k] + acc;
    }
  } else {
    for (let k = 0; k < len; k++) {
      let acc = coeffs[0] * ds[0].data[k];
      for (let j = 1; j < order; j++) acc = acc + coeffs[j] * ds[j].data[k];
      o[k] = o[k] + acc;
    }
  }
  return x;
}
