/**
 * The scalar functions a schedule or discretization is evaluated with. The general samplers
 * default to JavaScript's own (`jsMath`); the NVlabs reproduction passes the correctly
 * rounded ones of core's `libm` (`correctlyRoundedMath`), which is what the reference
 * machine's C library and numpy returned for its schedule arithmetic (`np.e ** x`,
 * `x ** (1 / rho)`, `log`, `sin`).
 */
import { libm } from "@edmkit/core";

/**
 * `exp(x)` is the natural exponential in the formula; a caller that wants NVlabs'
 * `np.e ** x` passes `x => pow(Math.E, x)`.
 */
export interface ScalarMath {
  exp(x: number): number;
  log(x: number): number;
  pow(a: number, b: number): number;
  sin(x: number): number;
  sqrt(x: number): number;
}

/** JavaScript's own functions (fast; within an ulp). */
export const jsMath: ScalarMath = {
  exp: Math.exp,
  log: Math.log,
  pow: Math.pow,
  sin: Math.sin,
  sqrt: Math.sqrt,
};

/** Correctly rounded functions (core's `libm`: what glibc / torch CPU return in practice). */
export const correctlyRoundedMath: ScalarMath = {
  exp: libm.exp,
  log: libm.log,
  pow: libm.pow,
  sin: libm.sin,
  sqrt: Math.sqrt,
};
