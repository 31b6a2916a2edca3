/**
 * The scalar functions a schedule or discretization is evaluated with. Everything defaults to
 * the correctly rounded ones of core's `libm` (`correctlyRoundedMath`): the same bits on every
 * JavaScript engine, and what the reference machine's C library and numpy returned for
 * NVlabs' schedule arithmetic (`np.e ** x`, `x ** (1 / rho)`, `log`, `sin`). JavaScript's own
 * (`jsMath`) stays available as an explicit opt-in: faster, but V8's `Math.exp/log/pow/sin`
 * have changed between Node versions and differ from Chromium's in the last bit.
 */
import { libcMath, type ScalarFunctions } from "@edmkit/core";

/**
 * `exp(x)` is the natural exponential in the formula; a caller that wants NVlabs'
 * `np.e ** x` passes `x => pow(Math.E, x)`. The same shape as core's `ScalarFunctions`.
 */
export type ScalarMath = ScalarFunctions;

/** JavaScript's own functions (fast; within an ulp, engine-dependent): opt-in only. */
export const jsMath: ScalarMath = {
  exp: Math.exp,
  log: Math.log,
  pow: Math.pow,
  sin: Math.sin,
  sqrt: Math.sqrt,
};

/** Correctly rounded functions: core's `libcMath` (what glibc / numpy float64 return in practice). */
export const correctlyRoundedMath: ScalarMath = libcMath;
