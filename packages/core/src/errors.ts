/**
 * The two error kinds every edmkit package shares (docs/reliability.md):
 *
 * - `ArgumentError`: bad input, a mistake of the caller or user (a malformed fixture, an
 *   invalid option, a schedule that is not decreasing ...). The ports' own argument errors
 *   extend it; the `edmkit` command prints its message alone and exits 2.
 * - `NonFiniteModelOutputError`: the model returned NaN or infinity (or the sampler's state
 *   went non-finite). Every sampler of every port throws it from its model-call wrapper,
 *   naming the sampler, the step and sigma; the `edmkit` command exits 1 (the thing checked
 *   failed), not 2.
 */
import { allFinite } from "./ops.js";
import type { Tensor } from "./tensor.js";

export class ArgumentError extends Error {
  override name = "ArgumentError";
}

export class NonFiniteModelOutputError extends Error {
  override name = "NonFiniteModelOutputError";
  constructor(
    readonly sampler: string,
    readonly step: number,
    readonly sigma: number,
    /** "model": the model's output is non-finite; "x": the model's input already was. */
    readonly where: "model" | "x" = "model",
  ) {
    super(
      where === "model"
        ? `${sampler}: model returned a non-finite value (NaN or Infinity) at step ${step} (sigma=${sigma})`
        : `${sampler}: x holds a non-finite value (NaN or Infinity) at step ${step} (sigma=${sigma}), before the model call`,
    );
  }
}

/**
 * The NaN rule, for a port's model-call wrapper: throws NonFiniteModelOutputError when
 * `out` holds NaN or infinity, blaming the input when `input` already did.
 */
export function checkFiniteModelOutput(
  sampler: string,
  step: number,
  sigma: number,
  out: Tensor,
  input?: Tensor,
): void {
  if (allFinite(out.data)) return;
  const where = input !== undefined && !allFinite(input.data) ? "x" : "model";
  throw new NonFiniteModelOutputError(sampler, step, sigma, where);
}

/** A model call whose finiteness check was left to a step kernel (SimdArena.deferFiniteCheck). */
export interface DeferredModelCheck {
  sampler: string;
  step: number;
  sigma: number;
  /** The model's output and input. */
  d: Tensor;
  x: Tensor;
}

/**
 * Ends the deferred check of the call `p` on its arena: the NaN rule's error when the kernel
 * that read the output found NaN or infinity (blaming x when it held one too); the check made
 * here when no kernel read the output.
 */
export function settleModelCheck(
  arena: { settleFiniteCheck(): number | null | undefined },
  p: DeferredModelCheck,
): void {
  const flags = arena.settleFiniteCheck();
  if (flags === null || flags === undefined) checkFiniteModelOutput(p.sampler, p.step, p.sigma, p.d, p.x);
  else if ((flags & 1) !== 0) {
    throw new NonFiniteModelOutputError(p.sampler, p.step, p.sigma, (flags & 2) !== 0 ? "x" : "model");
  }
}
