/**
 * Adam and the learning-rate schedules of the toy trainer, on flat Float64Array parameters.
 */
import { libm } from "@edmkit/core";

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/**
 * Adam (Kingma & Ba) as torch.optim.Adam computes it without weight decay:
 * m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
 * p <- p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 */
export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(size: number, options: AdamOptions = {}) {
    const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options;
    if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`Adam: beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`Adam: beta2 must be in [0, 1), got ${beta2}`);
    if (!(eps > 0)) throw new RangeError(`Adam: eps must be > 0, got ${eps}`);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** Number of steps taken. */
  get steps(): number {
    return this.t;
  }

  /** One update of `params` in place from `grad` with learning rate `lr`. */
  step(params: Float64Array, grad: Float64Array, lr: number): void {
    this.t++;
    const { beta1: b1, beta2: b2, eps, m, v } = this;
    const stepSize = lr / (1 - libm.pow(b1, this.t));
    const rootCorrection = Math.sqrt(1 - libm.pow(b2, this.t));
    for (let i = 0; i < params.length; i++) {
      const g = grad[i];
      const mi = (m[i] = b1 * m[i] + (1 - b1) * g);
      const vi = (v[i] = b2 * v[i] + (1 - b2) * g * g);
      params[i] -= (stepSize * mi) / (Math.sqrt(vi) / rootCorrection + eps);
    }
  }
}

/**
 * How the learning rate moves over training.
 * - `constant`: `lr`, ramped linearly from lr/warmupSteps over the first `warmupSteps` steps (default 0: no ramp).
 * - `onecycle`: torch's OneCycleLR with cosine annealing, learning rate only (Adam's beta1 is
 *   not cycled): from lr/divFactor up to lr over the first pctStart of the steps, then down to
 *   lr/(divFactor finalDivFactor). Defaults pctStart 0.05 (the shipped models' setting),
 *   divFactor 25, finalDivFactor 1e4 (torch's).
 */
export type LrSchedule =
  | { kind: "constant"; warmupSteps?: number }
  | { kind: "onecycle"; pctStart?: number; divFactor?: number; finalDivFactor?: number };

function cosineAnneal(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (libm.cos(Math.PI * pct) + 1);
}

/** Learning rate of step `step` (0-based) of `totalSteps` under `schedule` with peak `lr`. */
export function learningRate(schedule: LrSchedule, lr: number, step: number, totalSteps: number): number {
  if (schedule.kind === "constant") {
    const warm = schedule.warmupSteps ?? 0;
    return warm > 0 && step < warm ? (lr * (step + 1)) / warm : lr;
  }
  const { pctStart = 0.05, divFactor = 25, finalDivFactor = 1e4 } = schedule;
  const initial = lr / divFactor;
  const final = initial / finalDivFactor;
  const peakStep = pctStart * totalSteps - 1;
  if (step <= peakStep) return cosineAnneal(initial, lr, peakStep > 0 ? step / peakStep : 1);
  const span = totalSteps - 1 - peakStep;
  return cosineAnneal(lr, final, span > 0 ? Math.min(1, (step - peakStep) / span) : 1);
}

/** Throws one clear message when `schedule` is malformed. */
export function validateLrSchedule(fn: string, schedule: LrSchedule): void {
  if (schedule.kind === "constant") {
    const w = schedule.warmupSteps ?? 0;
    if (!(Number.isInteger(w) && w >= 0))
      throw new RangeError(`${fn}: lrSchedule.warmupSteps must be a non-negative integer, got ${w}`);
    return;
  }
  if (schedule.kind !== "onecycle") {
    throw new RangeError(
      `${fn}: lrSchedule.kind must be "constant" or "onecycle", got ${JSON.stringify((schedule as { kind: unknown }).kind)}`,
    );
  }
  const { pctStart = 0.05, divFactor = 25, finalDivFactor = 1e4 } = schedule;
  if (!(pctStart > 0 && pctStart < 1))
    throw new RangeError(`${fn}: lrSchedule.pctStart must be in (0, 1), got ${pctStart}`);
  if (!(divFactor > 0)) throw new RangeError(`${fn}: lrSchedule.divFactor must be > 0, got ${divFactor}`);
  if (!(finalDivFactor > 0))
    throw new RangeError(`${fn}: lrSchedule.finalDivFactor must be > 0, got ${finalDivFactor}`);
}
