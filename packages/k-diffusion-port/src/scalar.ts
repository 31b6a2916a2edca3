/**
 * Scalar arithmetic the way k-diffusion does it on 0-d torch tensors.
 *
 * k-diffusion keeps every per-step scalar (sigmas[i], sigma_hat, t = -log sigma, h, ...) in
 * 0-d tensors of the schedule's dtype. In float64 that is plain double arithmetic. In float32
 * every primitive op is rounded to float32, and a Python float meeting such a tensor is
 * rounded to float32 first. `ScalarMath` bundles the rounding and the few functions the
 * samplers use so the sampler code reads like the original.
 */
import type { DType } from "@edmkit/core";

export type Rounder = (v: number) => number;

const identity: Rounder = (v) => v;

/** The rounding a value gets when stored in a 0-d tensor of `dtype`. */
export function rounderFor(dtype: DType): Rounder {
  return dtype === "float32" ? Math.fround : identity;
}

export interface ScalarMath {
  readonly dtype: DType;
  /** Round to the dtype (a Python float meeting a 0-d tensor, or the result of one op). */
  readonly r: Rounder;
  log(v: number): number;
  exp(v: number): number;
  expm1(v: number): number;
  sqrt(v: number): number;
  /**
   * `tensor ** e` for a Python-float exponent, with ATen's special cases: e = 2 is `x*x`,
   * 3 is `x*x*x`, -2 is `1/(x*x)`, 0.5 is sqrt, -0.5 is `1/sqrt`, -1 is the reciprocal,
   * 1 a copy, 0 gives 1; any other exponent goes to pow.
   */
  pow(v: number, e: number): number;
}

function makeScalarMath(dtype: DType): ScalarMath {
  const r = rounderFor(dtype);
  return {
    dtype,
    r,
    log: (v) => r(Math.log(v)),
    exp: (v) => r(Math.exp(v)),
    expm1: (v) => r(Math.expm1(v)),
    sqrt: (v) => r(Math.sqrt(v)),
    pow: (v, e) => torchPowScalar(v, e, r),
  };
}

const F32 = makeScalarMath("float32");
const F64 = makeScalarMath("float64");

export function scalarMath(dtype: DType): ScalarMath {
  return dtype === "float32" ? F32 : F64;
}

/** See `ScalarMath.pow`. `r` rounds to the tensor's dtype. */
export function torchPowScalar(v: number, e: number, r: Rounder): number {
  if (e === 0) return 1;
  if (e === 1) return v;
  if (e === 2) return r(v * v);
  if (e === 3) return r(r(v * v) * v);
  if (e === -2) return r(1 / r(v * v));
  if (e === 0.5) return r(Math.sqrt(v));
  if (e === -0.5) return r(1 / r(Math.sqrt(v)));
  if (e === -1) return r(1 / v);
  return r(Math.pow(v, r(e)));
}
