/**
 * A run of one implementation, reduced to what comparisons need: every model call's input
 * in the denoiser's frame (x and sigma of D(x; sigma)), the output, the NFE and the noise
 * draws consumed. Model-call inputs are the common ground of all three libraries: a
 * k-diffusion step, an EDM step and a diffusers step() expose different state, but each
 * evaluates the model, in the same order when the methods agree.
 */
import type {
  ModelCallEvent,
  NoiseRequest,
  NoiseSource,
  SamplerObserver,
  StepEvent,
  Tensor,
} from "@edmkit/core";
import { TorchGenerator } from "@edmkit/core";
import type { Impl, PairResult } from "../report/schema.js";

export interface CallRecord {
  x: Float64Array;
  sigma: number;
  step: number | null;
}

export interface TrajectoryRun {
  impl: Impl;
  calls: CallRecord[];
  output: Float64Array;
  draws: number;
}

/**
 * Records model calls. `toDenoiserFrame` maps a discrete model's call (scaled input,
 * timestep) back to (x, sigma) when the caller knows the sigma the scheduler used.
 */
export class CallRecorder implements SamplerObserver {
  readonly calls: CallRecord[] = [];
  step = 0;
  constructor(private readonly toDenoiserFrame?: (e: ModelCallEvent) => { x: Float64Array; sigma: number }) {}

  onModelCall(e: ModelCallEvent): void {
    const step = e.step ?? this.step;
    if (this.toDenoiserFrame) {
      const { x, sigma } = this.toDenoiserFrame(e);
      this.calls.push({ x, sigma, step });
    } else {
      this.calls.push({ x: Float64Array.from(e.x.data), sigma: e.sigma ? e.sigma[0] : NaN, step });
    }
  }

  onStep(e: StepEvent): void {
    this.step = e.i + 1;
  }
}

/**
 * Noise keyed by where it is used, not by how many draws came before: the k-th draw of
 * step i is the same tensor for every implementation, so samplers that consume their
 * generator differently (a draw every step, or only when churning) still see the same noise
 * at the same step. `sequential` mode instead hands out one stream in consumption order.
 */
export class AlignedNoise implements NoiseSource {
  private readonly perStep = new Map<number, number>();
  private counter = 0;
  private readonly stream: TorchGenerator;
  constructor(
    private readonly seed: number,
    private readonly mode: "by-step" | "sequential" = "by-step",
  ) {
    this.stream = new TorchGenerator(seed);
  }

  randn(out: Tensor, request?: NoiseRequest): Tensor {
    if (this.mode === "sequential") {
      this.stream.randnInto(out.data);
      return out;
    }
    const step = request?.step ?? this.counter++;
    const k = this.perStep.get(step) ?? 0;
    this.perStep.set(step, k + 1);
    new TorchGenerator(this.seed * 7919 + step * 16 + k).randnInto(out.data);
    return out;
  }
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Units in the last place of the run's precision, times the allowance for reordered arithmetic. */
function ulps(dtype: "float32" | "float64"): number {
  return dtype === "float32" ? 64 * 2 ** -24 : 1024 * 2 ** -52;
}

function maxMagnitude(a: ArrayLike<number>): number {
  let m = 1;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Bound for "identical to round-off": 1024 ulps (float64) or 64 float32 ulps of the largest
 * magnitude among the values compared (at least 1). The same method in another operation
 * order stays far inside it; a difference in the method lands far outside (the report
 * shows both numbers). Model-call inputs are bounded at their own magnitude (x is ~80 times
 * the data at the first call), the output at the output's.
 */
export function roundoffBound(a: TrajectoryRun, dtype: "float32" | "float64"): number {
  return ulps(dtype) * maxMagnitude(a.output);
}

export interface PairSpec {
  id: string;
  scenario: string;
  model: string;
  dtype: "float32" | "float64";
  cause: PairResult["cause"];
  causePair: string | null;
  note: string;
  schedule?: string;
}

function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return a.length ? Math.sqrt(s / a.length) : Number.NaN;
}

/**
 * Compare two runs call by call. gapPerStep[k] is the largest |x_a - x_b| of model call k's
 * input (on the common prefix of calls); firstModelCall the first call whose x or sigma
 * differ beyond the round-off bound, firstStep that call's step.
 */
export function comparePair(spec: PairSpec, a: TrajectoryRun, b: TrajectoryRun): PairResult {
  const bound = roundoffBound(a, spec.dtype);
  let widest = bound;
  const m = Math.min(a.calls.length, b.calls.length);
  const gapPerStep: number[] = [];
  let firstModelCall: number | null = null;
  for (let k = 0; k < m; k++) {
    const ca = a.calls[k],
      cb = b.calls[k];
    const g = ca.x.length === cb.x.length ? maxAbs(ca.x, cb.x) : Infinity;
    const callBound = ulps(spec.dtype) * maxMagnitude(cb.x);
    widest = Math.max(widest, callBound);
    gapPerStep.push(Number.isFinite(g) ? g : NaN);
    const sigmaGap = Math.abs(ca.sigma - cb.sigma);
    // sigma is a scalar of the schedule: allow a few ulps of the run's precision
    const sigmaTol = (spec.dtype === "float32" ? 2 ** -20 : 2 ** -42) * Math.max(1, Math.abs(cb.sigma));
    const sigmaDiffers = Number.isFinite(ca.sigma) && Number.isFinite(cb.sigma) && !(sigmaGap <= sigmaTol);
    if (firstModelCall === null && (sigmaDiffers || !(g <= callBound))) firstModelCall = k;
  }
  if (firstModelCall === null && a.calls.length !== b.calls.length) firstModelCall = m;
  const outputGap = a.output.length === b.output.length ? maxAbs(a.output, b.output) : Infinity;
  const finiteGaps = gapPerStep.filter((g) => Number.isFinite(g));
  const maxGap = Math.max(outputGap, ...finiteGaps);
  let atMax = -1;
  for (let k = 0; k < gapPerStep.length; k++) if (atMax < 0 || gapPerStep[k] > gapPerStep[atMax]) atMax = k;
  // the largest gap is at a model call's input (its sigma) unless the output's is larger
  const sigmaAtMaxGap =
    atMax >= 0 && gapPerStep[atMax] >= outputGap && gapPerStep[atMax] > 0 ? b.calls[atMax].sigma : null;
  const outputScale = rms(b.output);
  const identical = firstModelCall === null && outputGap <= bound;
  const firstStep =
    firstModelCall === null ? null : (a.calls[firstModelCall]?.step ?? b.calls[firstModelCall]?.step ?? null);
  return {
    id: spec.id,
    scenario: spec.scenario,
    a: a.impl,
    b: b.impl,
    model: spec.model,
    dtype: spec.dtype,
    verdict: identical ? "identical" : "diverge",
    // the widest bound any compared value was held to (calls at sigma_max are ~80x the data)
    roundoffBound: widest,
    firstStep: identical ? null : (firstStep ?? (firstModelCall === null ? null : 0)),
    firstModelCall: identical ? null : (firstModelCall ?? m),
    nfe: { a: a.calls.length, b: b.calls.length },
    noiseDraws: { a: a.draws, b: b.draws },
    gapPerStep: gapPerStep.map((g) => (Number.isFinite(g) ? g : -1)),
    maxGap: Number.isFinite(maxGap) ? maxGap : null,
    outputGap: Number.isFinite(outputGap) ? outputGap : null,
    ...(spec.schedule ? { schedule: spec.schedule } : {}),
    outputScale: Number.isFinite(outputScale) ? outputScale : null,
    sigmaAtMaxGap: sigmaAtMaxGap !== null && Number.isFinite(sigmaAtMaxGap) ? sigmaAtMaxGap : null,
    cause: identical ? null : spec.cause,
    causePair: identical ? null : spec.causePair,
    note: spec.note,
  };
}
