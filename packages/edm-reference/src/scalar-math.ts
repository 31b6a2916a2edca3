/**
 * The scalar functions a schedule or discretization is evaluated with. The general samplers
 * default to JavaScript's own (`jsMath`); the NVlabs reproduction passes the correctly
 * rounded ones of core's `libm` (`correctlyRoundedMath`), which is what the reference
 * machine's C library and numpy returned for its schedule arithmetic (`np.e ** x`,
 * `x ** (1 / rho)`, `log`, `sin`).
 */
import { libcMath, type ScalarFunctions } from "@edmkit/core";

/**
 * `exp(x)` is the natural exponential in the formula; a caller that wants NVlabs'
 * `np.e ** x` passes `x => pow(Math.E, x)`. The same shape as core's `ScalarFunctions`.
 */
export type ScalarMath = ScalarFunctions;

/** JavaScript's own functions (fast; within an ulp, engine-dependent). */
export const jsMath: ScalarMath = {
  exp: Math.exp,
  log: Math.log,
  pow: Math.pow,
  sin: Math.sin,
  sqrt: Math.sqrt,
};

/** Correctly rounded functions: core's `libcMath` (what glibc / numpy float64 return in practice). */
export const correctlyRoundedMath: ScalarMath = libcMath;
