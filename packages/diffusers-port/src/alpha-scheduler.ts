/**
 * What diffusers' DDIMScheduler and DDPMScheduler share: schedulers in the alpha frame that
 * hold integer (int64) timesteps and no sigmas, no step index and an `init_noise_sigma` of
 * 1.0. The float32 training tables (without Euler's 2**-24 pin for zero terminal SNR),
 * integer timestep spacing, the identity `scale_model_input`, `add_noise`, `get_velocity`,
 * and the clipping / dynamic thresholding of the predicted x0.
 */
import {
  type DType,
  type Tensor,
  allocate,
  numpyLinspace,
  roundHalfEven,
  tensor,
  torchLinspace,
  torchMath,
} from "@edmkit/core";
import {
  alphasCumprodFromBetas,
  betasForAlphaBar,
  betasFromConfig,
  rescaleZeroTerminalSnr,
} from "./betas.js";
import { checkTensor, promote } from "./discrete-scheduler.js";
import { numpyArange } from "./spacing.js";

const f = Math.fround;
const T32 = torchMath("float32");

/** The config keys shared by DDIM and DDPM. */
export interface AlphaSchedulerConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: string;
  trained_betas: number[] | null;
  prediction_type: string;
  clip_sample: boolean;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  clip_sample_range: number;
  sample_max_value: number;
  timestep_spacing: string;
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
}

/**
 * diffusers' "sigmoid" betas (GeoDiff, DDPM only): `torch.sigmoid(torch.linspace(-6, 6, T))
 * * (beta_end - beta_start) + beta_start`, float32 with torch's SLEEF exp in the sigmoid.
 */
export function sigmoidBetas(betaStart: number, betaEnd: number, n: number): Float32Array {
  const x = torchLinspace(-6, 6, n, "float32");
  const span = f(betaEnd - betaStart),
    start = f(betaStart);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = f(1 / f(1 + T32.exp(-x[i])));
    out[i] = f(f(s * span) + start);
  }
  return out;
}

/**
 * The integer timesteps of DDIM / DDPM `set_timesteps` (int64 values, held as doubles):
 * - linspace: `np.linspace(0, T-1, N).round()[::-1]` (round half to even);
 * - leading: `arange(N) * (T // N)` reversed, plus steps_offset;
 * - trailing: `np.round(np.arange(T, 0, -T/N)) - 1` (numpy's float arange).
 * Anything else is diffusers' ValueError, with its wording (`choices` lists what it names).
 */
export function integerTimesteps(
  who: string,
  spacing: string,
  N: number,
  T: number,
  stepsOffset: number,
  choices: string,
): Float64Array {
  switch (spacing) {
    case "linspace": {
      const lin = numpyLinspace(0, T - 1, N);
      const out = new Float64Array(N);
      for (let i = 0; i < N; i++) out[i] = roundHalfEven(lin[N - 1 - i]);
      return out;
    }
    case "leading": {
      const ratio = Math.floor(T / N);
      const out = new Float64Array(N);
      for (let i = 0; i < N; i++) out[i] = (N - 1 - i) * ratio + stepsOffset;
      return out;
    }
    case "trailing": {
      const ar = numpyArange(T, 0, -(T / N));
      const out = new Float64Array(ar.length);
      for (let i = 0; i < ar.length; i++) out[i] = roundHalfEven(ar[i]) - 1;
      return out;
    }
    default:
      throw new Error(
        `${who}: timestep_spacing ${JSON.stringify(spacing)} is not supported; choose one of ${choices} (diffusers raises ValueError)`,
      );
  }
}

/** Base of DDIMScheduler and DDPMScheduler (see the module comment). */
export abstract class AlphaScheduler {
  /** diffusers' `scheduler.config`: the init arguments plus the extra keys of the source config. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Keys of the source config this class does not use. */
  readonly ignoredConfigKeys: readonly string[];
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** `init_noise_sigma`: a plain 1.0 (the latent is used as is). */
  readonly initNoiseSigma = 1;
  /** Model calls per step. */
  readonly order = 1;
  /** Number of inference steps of the current schedule (null before setTimesteps). */
  numInferenceSteps: number | null = null;
  abstract readonly init: AlphaSchedulerConfig;
  protected timestepsHeld: Float64Array;

  protected constructor(
    readonly className: string,
    resolved: {
      config: Readonly<Record<string, unknown>>;
      ignoredKeys: string[];
      init: AlphaSchedulerConfig;
    },
    betas: Float32Array,
  ) {
    this.config = resolved.config;
    this.ignoredConfigKeys = Object.freeze([...resolved.ignoredKeys]);
    const b = resolved.init.rescale_betas_zero_snr ? rescaleZeroTerminalSnr(betas) : betas;
    const { alphas, alphasCumprod } = alphasCumprodFromBetas(b);
    this.betas = b;
    this.alphas = alphas;
    this.alphasCumprod = alphasCumprod;
    const T = resolved.init.num_train_timesteps;
    this.timestepsHeld = new Float64Array(T);
    for (let i = 0; i < T; i++) this.timestepsHeld[i] = T - 1 - i;
  }

  /**
   * The betas of the constructor: trained_betas, or the named schedule (`extra` adds the
   * schedules only this class knows).
   */
  protected static betasFor(
    className: string,
    c: AlphaSchedulerConfig,
    supported: readonly string[],
    extra: readonly string[] = [],
  ): Float32Array {
    if (c.trained_betas === null && extra.includes(c.beta_schedule)) {
      if (c.beta_schedule === "sigmoid") return sigmoidBetas(c.beta_start, c.beta_end, c.num_train_timesteps);
      if (c.beta_schedule === "laplace") return betasForAlphaBar(c.num_train_timesteps, 0.999, "laplace");
    }
    return betasFromConfig(className, c, [...supported, ...extra]);
  }

  /** The timesteps to loop over (int64 values as doubles). */
  get timesteps(): Float64Array {
    return this.timestepsHeld;
  }

  get timestepsDtype(): "int64" {
    return "int64";
  }

  /** These schedulers keep no step index (the timestep argument alone decides a step). */
  get stepIndex(): null {
    return null;
  }

  get numTrainTimesteps(): number {
    return this.init.num_train_timesteps;
  }

  /** `len(scheduler)`: the number of training timesteps. */
  get length(): number {
    return this.init.num_train_timesteps;
  }

  /** `scale_model_input(sample, timestep)`: the sample itself (copied into `out` when given). */
  scaleModelInput(sample: Tensor, _timestep?: number, out?: Tensor): Tensor {
    checkTensor(this.className, "sample", sample, "scaleModelInput");
    if (!out) return sample;
    const o = this.outTensor("scaleModelInput", out, sample.shape, sample.dtype, "out");
    o.data.set(sample.data);
    return o;
  }

  stepDtype(modelOutput: DType, sample: DType): DType {
    return promote(modelOutput, sample);
  }

  /**
   * `alphas_cumprod[t]`: t must be an integer (torch indexes with it); negative t counts from
   * the end as Python does; beyond the table is torch's IndexError.
   */
  protected alphaAt(who: string, t: number): number {
    if (!Number.isInteger(t))
      throw new TypeError(
        `${this.className}.${who}: timestep must be an integer (it indexes alphas_cumprod), got ${t}`,
      );
    const T = this.alphasCumprod.length;
    if (t >= T || t < -T)
      throw new RangeError(
        `${this.className}.${who}: timestep ${t} is outside alphas_cumprod (${T} entries; torch raises IndexError)`,
      );
    return this.alphasCumprod[t < 0 ? t + T : t];
  }

  /**
   * Port of `add_noise(original_samples, noise, timesteps)`: alphas_cumprod is cast to the
   * sample's dtype first, then `abar**0.5 * x + (1 - abar)**0.5 * noise` in that dtype, one
   * timestep per batch row (one timestep broadcasts).
   */
  addNoise(original: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>, out?: Tensor): Tensor {
    return this.alphaCombine("addNoise", original, noise, timesteps, out, false);
  }

  /**
   * Port of `get_velocity(sample, noise, timesteps)`: `abar**0.5 * noise - (1 - abar)**0.5 *
   * sample` in the sample's dtype (the v-prediction training target).
   */
  getVelocity(sample: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>, out?: Tensor): Tensor {
    return this.alphaCombine("getVelocity", sample, noise, timesteps, out, true);
  }

  private alphaCombine(
    who: string,
    x: Tensor,
    noise: Tensor,
    timesteps: number | ArrayLike<number>,
    out: Tensor | undefined,
    velocity: boolean,
  ): Tensor {
    const w = `${this.className}.${who}`;
    checkTensor(w, "sample", x);
    checkTensor(w, "noise", noise);
    if (x.data.length !== noise.data.length)
      throw new RangeError(`${w}: noise has ${noise.data.length} values, the sample ${x.data.length}`);
    const ts = typeof timesteps === "number" ? [timesteps] : Array.from(timesteps);
    const rows = x.shape.length === 0 ? 1 : x.shape[0];
    if (ts.length !== 1 && ts.length !== rows)
      throw new RangeError(
        `${w}: ${ts.length} timesteps for a batch of ${rows} rows (give one, or one per row)`,
      );
    const m = torchMath(x.dtype);
    const r = m.r;
    const ab = ts.map((t) => r(this.alphaAt(who, t)));
    const sa = ab.map((a) => m.sqrt(a)),
      sb = ab.map((a) => m.sqrt(r(1 - a)));
    const dtype = promote(x.dtype, noise.dtype);
    const R = torchMath(dtype).r;
    const o = this.outTensor(who, out, x.shape, dtype, "out");
    const per = rows === 0 ? 0 : x.data.length / rows;
    const xd = x.data,
      e = noise.data,
      od = o.data;
    for (let b = 0; b < rows; b++) {
      const a = sa.length === 1 ? sa[0] : sa[b],
        c = sb.length === 1 ? sb[0] : sb[b];
      for (let k = b * per; k < (b + 1) * per; k++)
        od[k] = velocity ? R(R(a * e[k]) - R(c * xd[k])) : R(R(a * xd[k]) + R(c * e[k]));
    }
    return o;
  }

  /**
   * Step 'clip or threshold "predicted x0"' in place: with `thresholding`, diffusers'
   * `_threshold_sample` (Imagen's dynamic thresholding): per batch row, s = torch.quantile
   * of |x0| at dynamic_thresholding_ratio (linear interpolation, ratio and arithmetic in the
   * dtype), clamped to [1, sample_max_value], then x0 = clamp(x0, -s, s) / s. diffusers
   * unpacks the shape as (batch, channels, *rest) and reshapes with `channels *
   * np.prod(rest)`, a float for 2-D samples, so it fails for samples with fewer than 3 axes;
   * refused here the same way. Otherwise with `clip_sample`, clamp to +-clip_sample_range.
   */
  protected clipOrThreshold(x0: Tensor): void {
    const c = this.init;
    const { r } = torchMath(x0.dtype);
    const d = x0.data;
    if (c.thresholding) {
      if (x0.shape.length < 3)
        throw new TypeError(
          `${this.className}.step: thresholding needs a sample with at least 3 axes (batch, channels, ...); ` +
            `diffusers' _threshold_sample fails on shape [${x0.shape.join(", ")}]`,
        );
      const rows = x0.shape[0];
      const per = rows === 0 ? 0 : d.length / rows;
      const sorted = this.sortBuffer(per, x0.dtype);
      const q = r(c.dynamic_thresholding_ratio);
      const rank = r(q * (per - 1));
      const below = Math.floor(rank),
        above = Math.ceil(rank);
      const weight = r(rank - below);
      const lerp = torchMath(x0.dtype).lerp;
      const maxV = r(c.sample_max_value);
      for (let b = 0; b < rows; b++) {
        let nan = false;
        for (let k = 0; k < per; k++) {
          const v = Math.abs(d[b * per + k]);
          if (Number.isNaN(v)) nan = true;
          sorted[k] = v;
        }
        sorted.sort();
        let s = nan ? NaN : lerp(sorted[below], sorted[above], weight);
        // torch.clamp(s, min=1, max=sample_max_value): max wins when min > max
        s = Number.isNaN(s) ? s : Math.min(Math.max(s, 1), maxV);
        for (let k = b * per; k < (b + 1) * per; k++) d[k] = r(Math.min(Math.max(d[k], -s), s) / s);
      }
    } else if (c.clip_sample) {
      const lim = r(c.clip_sample_range);
      for (let k = 0; k < d.length; k++) {
        const v = d[k];
        if (v > lim) d[k] = lim;
        else if (v < -lim) d[k] = -lim;
      }
    }
  }

  private sortScratch: Float32Array | Float64Array | null = null;

  private sortBuffer(n: number, dtype: DType): Float32Array | Float64Array {
    const cur = this.sortScratch;
    const want64 = dtype === "float64";
    if (cur && cur.length === n && cur instanceof Float64Array === want64) return cur;
    this.sortScratch = want64 ? new Float64Array(n) : new Float32Array(n);
    return this.sortScratch;
  }

  /** A caller-given output buffer after checks, or a new tensor. */
  protected outTensor(
    who: string,
    given: Tensor | undefined,
    shape: readonly number[],
    dtype: DType,
    name: string,
  ): Tensor {
    let n = 1;
    for (const s of shape) n *= s;
    if (given) {
      if (given.data.length !== n)
        throw new RangeError(
          `${this.className}.${who}: ${name} has ${given.data.length} values, expected ${n}`,
        );
      if (given.dtype !== dtype)
        throw new TypeError(
          `${this.className}.${who}: ${name} must be ${dtype} (diffusers' result dtype here), got ${given.dtype}`,
        );
      return given;
    }
    return tensor(allocate(dtype, n), shape);
  }

  private readonly scratchBuffers = new Map<string, Tensor>();

  /** A scratch tensor kept between calls (same shape and dtype reuse it). */
  protected scratch(slot: string, shape: readonly number[], dtype: DType): Tensor {
    let n = 1;
    for (const s of shape) n *= s;
    const cur = this.scratchBuffers.get(slot);
    if (cur && cur.data.length === n && cur.dtype === dtype) return cur;
    const t = tensor(allocate(dtype, n), shape);
    this.scratchBuffers.set(slot, t);
    return t;
  }
}
