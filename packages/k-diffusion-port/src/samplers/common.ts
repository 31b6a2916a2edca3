/**
 * What every sampler of this package shares: argument checks, the working state (a copy of
 * x, the schedule in x's dtype, per-row sigma), model calls with their checks, noise draws,
 * and step reports to the `callback` / observer.
 *
 * Precision: a sampler computes in x's dtype. The schedule is taken in that dtype too (the
 * original's `sigmas` tensor has torch's default dtype, which the recorded float32 runs set
 * to float32 together with x), so every per-step scalar is a float32 0-d tensor op in a
 * float32 run.
 */
import {
  allFinite,
  allocate,
  SimdArena,
  checkFiniteModelOutput,
  type DeferredModelCheck,
  settleModelCheck,
  type Denoiser,
  type DType,
  type NoiseRequest,
  type NoiseSource,
  numel,
  observeDenoiser,
  type SamplerObserver,
  sameShape,
  type Tensor,
  tensor,
  TORCH_DEFAULT_SEED,
  TorchGenerator,
  TorchNoise,
  torchMath,
  type TorchMath,
  UniformSigma,
} from "@edmkit/core";
import { fail } from "../validate.js";

/** The payload k-diffusion hands to `callback` (plus whatever a sampler adds). */
export interface StepPayload {
  x: Tensor;
  i: number;
  sigma: number;
  sigma_hat: number;
  denoised: Tensor;
  [key: string]: number | Tensor;
}

export type StepCallback = (payload: StepPayload) => void | Promise<void>;

export interface SamplerHooks {
  /**
   * Called once per step with the original's payload (`x`, `i`, `sigma`, `sigma_hat`,
   * `denoised`). The tensors are the sampler's live buffers: copy what you keep.
   */
  callback?: StepCallback;
  /** Gets every model call (`onModelCall`) and every step (`onStep`, the same fields). */
  observer?: SamplerObserver;
}

/** A schedule: any array-like of numbers, or a 1-D tensor. */
export type SigmasInput = ArrayLike<number> | Tensor;

function isTensor(v: unknown): v is Tensor {
  return typeof v === "object" && v !== null && "data" in v && "shape" in v && "dtype" in v;
}

export function checkX(fn: string, x: unknown): Tensor {
  if (!isTensor(x)) fail(fn, "x must be a Tensor ({data, shape, dtype})");
  if (!(x.data instanceof Float32Array || x.data instanceof Float64Array))
    fail(fn, "x.data must be a Float32Array or Float64Array");
  if (x.shape.length < 1 || x.shape[0] < 1)
    fail(fn, `x must have a batch dimension of size >= 1, got shape [${x.shape.join(", ")}]`);
  if (numel(x.shape) !== x.data.length)
    fail(fn, `x has ${x.data.length} values but shape [${x.shape.join(", ")}]`);
  if (!allFinite(x.data)) fail(fn, "x holds NaN or infinity");
  return x;
}

/**
 * The shape and dtype part of the model-call check every sampler of this package makes
 * (RunMemory.check, for SamplerRun.denoise and the DPM-Solver core): the output is a tensor of
 * x's shape and dtype. Its finiteness (the NaN rule, docs/reliability.md) is checked there, at
 * once or by the next step kernel.
 */
function checkModelShape(fn: string, step: number, d: Tensor, x: Tensor): void {
  if (
    !d ||
    !(d.data instanceof Float32Array || d.data instanceof Float64Array) ||
    !Array.isArray(d.shape) ||
    !sameShape(d.shape, x.shape) ||
    d.data.length !== x.data.length
  ) {
    fail(
      fn,
      `model returned ${Array.isArray(d?.shape) ? `shape [${d.shape.join(", ")}]` : "no tensor"} for x of shape [${x.shape.join(", ")}] at step ${step}`,
    );
  }
  if (d.dtype !== x.dtype) fail(fn, `model returned ${d.dtype} for ${x.dtype} x at step ${step}`);
}

function checkModel(fn: string, model: unknown): Denoiser {
  if (typeof model !== "object" || model === null || typeof (model as Denoiser).denoise !== "function") {
    fail(fn, "model must be a Denoiser (an object with denoise(x, sigma))");
  }
  return model as Denoiser;
}

/**
 * Schedule checks: at least one value; every value finite and >= 0; non-increasing; 0 only
 * as the last entry. Returns the schedule rounded to `m.dtype`.
 */
export function checkSigmas(fn: string, sigmas: unknown, m: TorchMath): Float64Array {
  const src = isTensor(sigmas) ? sigmas.data : (sigmas as ArrayLike<number>);
  if (src === null || typeof src !== "object" || typeof src.length !== "number") {
    fail(fn, "sigmas must be an array of numbers or a 1-D tensor");
  }
  if (src.length === 0) fail(fn, "sigmas must not be empty");
  const out = new Float64Array(src.length);
  for (let k = 0; k < src.length; k++) {
    const v = src[k];
    if (typeof v !== "number" || !Number.isFinite(v))
      fail(fn, `sigmas[${k}] must be a finite number, got ${String(v)}`);
    if (v < 0) fail(fn, `sigmas must be >= 0, got sigmas[${k}]=${v}`);
    if (k > 0 && v > src[k - 1])
      fail(fn, `sigmas must be non-increasing, got sigmas[${k}]=${v} > sigmas[${k - 1}]=${src[k - 1]}`);
    if (v === 0 && k < src.length - 1)
      fail(
        fn,
        `sigmas may reach 0 only at the last entry, got sigmas[${k}]=0 with ${src.length - 1 - k} more after it`,
      );
    out[k] = m.r(v);
  }
  return out;
}

/**
 * Noise source resolution: the given one; else, when the run adds noise, iid unit normals
 * from a torch-compatible generator at torch's default seed (what `torch.randn_like` gives in
 * a fresh process that never called `torch.manual_seed`); else none (the original's draws
 * would be multiplied by 0 or thrown away, and a private generator has nothing to stay
 * aligned with).
 */
export function resolveNoise(
  fn: string,
  arg: string,
  source: NoiseSource | undefined,
  needed: boolean,
): NoiseSource | null {
  if (source !== undefined) {
    if (typeof source !== "object" || source === null || typeof source.randn !== "function") {
      fail(fn, `${arg} must be a NoiseSource (an object with randn(out, request))`);
    }
    return source;
  }
  return needed ? new TorchNoise(new TorchGenerator(TORCH_DEFAULT_SEED)) : null;
}

/** Buffers of a run in its SimdArena: x and up to 7 more (the most any sampler here takes). */
const ARENA_SLOTS = 8;

/**
 * The large buffers of one sampler call and the model-output check left to its kernels
 * (SamplerRun, the DPM-Solver core). Buffers come from a `SimdArena` of the run's own for large
 * tensors (the first `slots`; the rest are plain arrays), so the SIMD step kernels work on them
 * in place (also on a model's output where the model writes into the `out` given).
 */
export class RunMemory {
  /** The model call whose finiteness check a kernel makes (see `check`), if any. */
  private pending: DeferredModelCheck | null = null;
  private readonly arena: SimdArena | null;

  constructor(
    private readonly fn: string,
    private readonly dtype: DType,
    private readonly shape: readonly number[],
    slots: number,
  ) {
    this.arena = SimdArena.create(dtype, numel(shape), slots, true);
  }

  /** A new zero tensor of the run's shape: in the arena while it has room, else a plain array. */
  buffer(): Tensor {
    return tensor(this.arena?.alloc() ?? allocate(this.dtype, numel(this.shape)), this.shape);
  }

  /**
   * A model output's checks: its shape and dtype now; its finiteness now when `now` (runs with
   * a callback or observer: they see the output before any kernel) or when it cannot be left to
   * a kernel, else by the next SIMD kernel that reads it in the arena (it checks the output and
   * the model's input x as it reads them: no pass of its own). `settle` then throws the error of
   * a non-finite output, naming this call's step and sigma: call it before the next model call
   * and before the result leaves the run.
   */
  check(step: number, sigma: number, d: Tensor, x: Tensor, now: boolean): Tensor {
    checkModelShape(this.fn, step, d, x);
    if (!now && this.arena?.deferFiniteCheck(d.data, x.data))
      this.pending = { sampler: this.fn, step, sigma, d, x };
    else checkFiniteModelOutput(this.fn, step, sigma, d, x);
    return d;
  }

  /**
   * Ends a deferred finiteness check (see `check`): throws NonFiniteModelOutputError when the
   * kernel that read the output found NaN or infinity; checks the output itself when no kernel
   * read it.
   */
  settle(): void {
    const p = this.pending;
    if (p === null || this.arena === null) return;
    this.pending = null;
    settleModelCheck(this.arena, p);
  }

  /**
   * `x` (one of the run's buffers) as the sampler returns it, settled first: x itself when the
   * run has no arena; a plain copy otherwise (one pass over x), so a caller's result owns exactly its own
   * memory (`data.buffer` of the tensor's size, offset 0) and does not keep the run's other
   * buffers alive. The arena is released unless `keep` (a callback or observer was handed the
   * buffers: it may keep them, against the advice to copy; the garbage collector frees them).
   */
  result(x: Tensor, keep: boolean): Tensor {
    this.settle();
    if (this.arena === null) return x;
    const out = tensor(allocate(this.dtype, x.data.length), this.shape);
    out.data.set(x.data);
    if (!keep) this.arena.release();
    return out;
  }
}

/** The state of one sampler call. */
export class SamplerRun {
  readonly model: Denoiser;
  /** The working sample (a copy of the caller's x; the returned tensor). */
  readonly x: Tensor;
  readonly sigmas: Float64Array;
  readonly m: TorchMath;
  /** Steps of the outer loop: len(sigmas) - 1. */
  readonly steps: number;
  /** The loop's current step (for observers). */
  step = 0;
  /** The model calls with one sigma for every row. */
  private readonly uniform = new UniformSigma();
  private readonly callback?: StepCallback;
  private readonly observer?: SamplerObserver;
  /** Large tensors: the run's buffers, on one wasm memory of its own (else plain arrays). */
  private readonly memory: RunMemory;

  constructor(
    readonly fn: string,
    model: unknown,
    x: unknown,
    sigmas: unknown,
    hooks: SamplerHooks,
  ) {
    const xt = checkX(fn, x);
    const inner = checkModel(fn, model);
    this.m = torchMath(xt.dtype);
    this.sigmas = checkSigmas(fn, sigmas, this.m);
    this.steps = this.sigmas.length - 1;
    if (hooks.callback !== undefined && typeof hooks.callback !== "function")
      fail(fn, "callback must be a function");
    this.callback = hooks.callback;
    this.observer = hooks.observer;
    this.model = this.observer?.onModelCall ? observeDenoiser(inner, this.observer, () => this.step) : inner;
    this.memory = new RunMemory(fn, xt.dtype, xt.shape, ARENA_SLOTS);
    this.x = this.buffer();
    this.x.data.set(xt.data);
  }

  /**
   * A new zero tensor like x. For large tensors the first ARENA_SLOTS (x included) lie in the
   * run's own `SimdArena` (RunMemory), the rest are plain arrays. What a sampler returns is
   * `result()`, never an arena view.
   */
  buffer(): Tensor {
    return this.memory.buffer();
  }

  /** The run's x as the sampler returns it (RunMemory.result: a plain copy of an arena view). */
  result(): Tensor {
    return this.memory.result(this.x, this.reporting);
  }

  /**
   * D(x; sigma) with sigma repeated per row (`sigma * s_in`), written into `out` when the
   * model supports it: the model's `denoiseUniform` where it has one, else `denoise` with a
   * per-row array. Checks the output's shape and that it is finite.
   *
   * The finiteness check of a large output in the run's arena is left to the step kernel that
   * reads it next (RunMemory.check); `settle`, called by the next `denoise` and by `result`,
   * throws the error of a non-finite output then, before the next model call. Runs with a
   * callback or observer check at once.
   */
  async denoise(x: Tensor, sigma: number, out: Tensor): Promise<Tensor> {
    this.settle();
    const d = await this.uniform.denoise(this.model, x, sigma, out);
    return this.memory.check(this.step, sigma, d, x, this.reporting);
  }

  /** Ends a deferred finiteness check (RunMemory.settle). */
  settle(): void {
    this.memory.settle();
  }

  /** Draw unit normals into `out` from `source`. */
  draw(source: NoiseSource, out: Tensor, request: NoiseRequest): Tensor {
    source.randn(out, request);
    return out;
  }

  get reporting(): boolean {
    return this.callback !== undefined || this.observer?.onStep !== undefined;
  }

  /** Report a step to the callback and the observer. */
  async report(payload: StepPayload): Promise<void> {
    if (this.observer?.onStep) this.observer.onStep({ i: payload.i, fields: payload });
    if (this.callback) {
      const r = this.callback(payload);
      if (r && typeof (r as Promise<void>).then === "function") await r;
    }
  }
}

/**
 * Churn gamma of Karras' Algorithm 2 as k-diffusion computes it:
 * s_churn divided by the number of steps, capped at √2 − 1, inside the inclusive window
 * s_tmin ≤ σ_i ≤ s_tmax and 0 outside it (Python floats; the window bounds meet the sigma tensor, so they are taken in its dtype).
 */
export function churnGamma(
  sChurn: number,
  steps: number,
  sigma: number,
  sTmin: number,
  sTmax: number,
  m: TorchMath,
): number {
  return m.r(sTmin) <= sigma && sigma <= m.r(sTmax) ? Math.min(sChurn / steps, 2 ** 0.5 - 1) : 0;
}
