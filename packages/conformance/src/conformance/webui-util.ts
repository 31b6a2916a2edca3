/**
 * What the web-UI sampler map (webui.ts) and its two answers (webui-answers.ts) share: the
 * model's name, the context its runs are made in (model, latents, noise seed), the keyed and
 * dtype-fixed noise sources, the scheduler builder and the pair helper.
 */
import type {
  Denoiser,
  DiscreteModel,
  DType,
  NoiseRequest,
  NoiseSource,
  Tensor,
  TypedArray,
} from "@edmkit/core";
import { type SignedSchedulerName, schedulers } from "@edmkit/diffusers";
import type { CauseId, Impl, PairResult } from "../report/schema.js";
import type { Setup } from "./scenarios/setups.js";
import { comparePair, type TrajectoryRun } from "./trajectory.js";
import { N } from "./webui-rows.js";

export const MODEL = "gmm2d-ring8 as a discrete eps model (SD scaled_linear betas)";

/**
 * What the map's runs are made from: the discrete eps model, k-diffusion's wrapper of it, the
 * latents and the seed of the aligned noise. The map's own runs use SETUPS["ring8-discrete"]()
 * (its latents, noise seed SEED); a drawn setup repeats every run on other latents and noise.
 */
export interface MapContext {
  eps: DiscreteModel;
  wrapper: Denoiser;
  sigmaToT: (sigma: number) => number;
  z: Tensor;
  seed: number;
}

export function mapContext(setup: Setup): MapContext {
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`the sampler map's setup has no ${what}`);
    return v;
  };
  return {
    eps: need(setup.discrete, "discrete model"),
    wrapper: need(setup.models.wrapper, "wrapper"),
    sigmaToT: need(setup.sigmaToT, "sigma_to_t"),
    z: setup.z,
    seed: setup.seed,
  };
}

/** A run of the map as a function of its context: the map's run, or the same on a draw. */
export type MapRecipe = (ctx: MapContext) => Promise<TrajectoryRun>;

/** Re-keys a source's draws: the draw for `request.step` comes from step `key(step)` of `inner`. */
export class KeyedNoise implements NoiseSource {
  constructor(
    private readonly inner: NoiseSource,
    private readonly key: (step: number) => number,
  ) {}
  randn(out: Tensor, request?: NoiseRequest): Tensor {
    const step = request?.step;
    return this.inner.randn(out, step === undefined ? request : { ...request, step: this.key(step) });
  }
}

/**
 * Every draw made in one dtype (torch's float32 or float64 normal kernel) whatever the
 * requesting tensor's dtype, then converted into it: torch's float32 and float64 normals of
 * one seed are different numbers, so two libraries that draw the same step in different dtypes
 * (diffusers' SDE DPM-Solver draws float32, k-diffusion's noise_sampler a tensor like x) see
 * the same values only when one dtype draws for both. The float32 values widen exactly.
 */
export class DrawsIn implements NoiseSource {
  private scratch: TypedArray = new Float32Array(0);
  constructor(
    private readonly inner: NoiseSource,
    private readonly dtype: DType,
  ) {}
  randn(out: Tensor, request?: NoiseRequest): Tensor {
    if (out.dtype === this.dtype) return this.inner.randn(out, request);
    const want = this.dtype === "float32" ? Float32Array : Float64Array;
    if (!(this.scratch instanceof want) || this.scratch.length !== out.data.length)
      this.scratch = new want(out.data.length);
    this.inner.randn({ data: this.scratch, shape: out.shape, dtype: this.dtype }, request);
    out.data.set(this.scratch);
    return out;
  }
}

export const dedupe = (a: ArrayLike<number>): number[] => {
  const out: number[] = [];
  for (let k = 0; k < a.length; k++) if (k === 0 || a[k] !== a[k - 1]) out.push(a[k]);
  return out;
};

export type Scheduler = InstanceType<(typeof schedulers)[SignedSchedulerName]>;

export function build(name: SignedSchedulerName, config: Record<string, unknown>): Scheduler {
  const s = new schedulers[name](config, {});
  s.setTimesteps(N);
  return s;
}

export function impl(id: string, library: Impl["library"], label: string): Impl {
  return { id, library, label, settings: {} };
}

export function pairOf(
  id: string,
  scenario: string,
  a: TrajectoryRun,
  b: TrajectoryRun,
  cause: CauseId | null,
  note: string,
  dtype: "float32" | "float64" = "float64",
  model = MODEL,
): PairResult {
  return comparePair({ id, scenario, model, dtype, cause, causePair: cause, note }, a, b);
}

export const fmt = (x: number | null) => (x === null ? "n/a" : x.toExponential(2));
