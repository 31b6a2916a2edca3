/**
 * A diffusers scheduler with one of its float32 casts undone, for the rungs of a cause ladder
 * (src/conformance/ladders.ts): the port stays as diffusers ships it, and this wrapper changes
 * exactly one rule around it, so a rung measures what that one cast contributes.
 *
 * - "sample": Euler and Euler-ancestral step() round the sample to float32 before updating it,
 *   even in a float64 run. For eps prediction their update is x_next = x + (terms of the model
 *   output, the noise and the 0-d sigma scalars), so the part of x below float32 precision
 *   (x - float32(x)) passes through the step unchanged; the wrapper keeps it aside and adds
 *   it back to prev_sample, which is the step computed on the float64 sample.
 * - "c_in": scale_model_input divides by sqrt(sigma^2 + 1) computed on float32 0-d tensors;
 *   the wrapper scales by 1 / sqrt(sigma^2 + 1) in float64 instead (k-diffusion's c_in).
 *
 * What stays float32 either way is the scheduler's own 0-d sigma arithmetic (sigma_hat, dt,
 * sigma_up, sigma_down) and the sigmas it holds.
 */
import { ArgumentError, type DType, type Tensor } from "@edmkit/core";
import type { LoopScheduler } from "@edmkit/diffusers";

/** The float32 casts of a diffusers run that a ladder rung can undo. */
export type Uncast = "sample" | "c_in";

export const UNCAST_RULES: Record<Uncast, string> = {
  sample: "the sample kept in float64 through step() (diffusers rounds it to float32 every step)",
  c_in: "the model input scaled by 1 / sqrt(sigma^2 + 1) in float64 (diffusers: float32 0-d tensors)",
};

interface Inner extends LoopScheduler {
  readonly sigmas: ArrayLike<number>;
  readonly init?: { prediction_type?: string };
}

/** The scheduler with the named casts undone (the loop drives it like the original). */
export function uncastScheduler(
  inner: Inner,
  rules: readonly Uncast[],
): LoopScheduler & { readonly sigmas: ArrayLike<number> } {
  const sample = rules.includes("sample"),
    cIn = rules.includes("c_in");
  const name = inner.className;
  if (sample && name !== "EulerDiscreteScheduler" && name !== "EulerAncestralDiscreteScheduler")
    throw new ArgumentError(`uncast "sample": ${name}.step() keeps the sample's dtype already`);
  if (sample && (inner.init?.prediction_type ?? "epsilon") !== "epsilon")
    throw new ArgumentError(`uncast "sample" needs an epsilon model (the step is then x + terms free of x)`);
  let low: Float64Array | null = null;
  return {
    get className() {
      return inner.className;
    },
    get timesteps() {
      return inner.timesteps;
    },
    get initNoiseSigma() {
      return inner.initNoiseSigma;
    },
    get stepIndex() {
      return inner.stepIndex;
    },
    get stateInFirstOrder() {
      return inner.stateInFirstOrder;
    },
    get sigmas() {
      return inner.sigmas;
    },
    scaleModelInput(x: Tensor, t: number, out?: Tensor): Tensor {
      const o = inner.scaleModelInput(x, t, out);
      if (!cIn || x.dtype !== "float64") return o;
      const s = inner.sigmas[inner.stepIndex ?? 0];
      const c = 1 / Math.sqrt(s * s + 1);
      const xd = x.data,
        od = o.data;
      for (let k = 0; k < od.length; k++) od[k] = xd[k] * c;
      return o;
    },
    stepDtype(modelOutput: DType, s: DType): DType {
      return inner.stepDtype(modelOutput, s);
    },
    step(modelOutput: Tensor, t: number, x: Tensor, options?: object) {
      if (!sample || x.dtype !== "float64" || modelOutput.dtype !== "float64")
        return inner.step(modelOutput, t, x, options);
      const xd = x.data;
      if (low === null || low.length !== xd.length) low = new Float64Array(xd.length);
      for (let k = 0; k < xd.length; k++) low[k] = xd[k] - Math.fround(xd[k]);
      // prev_sample may be x's own buffer: the low parts are read out before the step
      const res = inner.step(modelOutput, t, x, options);
      const pd = res.prevSample.data;
      for (let k = 0; k < pd.length; k++) pd[k] += low[k];
      return res;
    },
  };
}
