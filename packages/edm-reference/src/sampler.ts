/**
 * The EDM sampler (Karras et al. 2022, Algorithms 1 and 2) for any schedule sigma(t),
 * scaling s(t) and time grid t_0 > ... > t_N = 0.
 *
 * It integrates the probability-flow ODE
 *
 *   dx/dt = (sigma'/sigma + s'/s)(t) x - (sigma' s / sigma)(t) D(x / s(t); sigma(t))
 *
 * (for sigma(t) = t, s = 1 this is dx/dt = (x - D(x; t)) / t and is computed in that form).
 *
 * Step i, from t_i to t_{i+1}:
 *
 * 1. Churn (Algorithm 2). gamma_i = min(S_churn / N, sqrt(2) - 1) when
 *    S_tmin <= sigma(t_i) <= S_tmax, else 0. The noise level is raised to
 *    sigma_hat = round_sigma(sigma(t_i) + gamma_i sigma(t_i)), t_hat = sigma^-1(sigma_hat),
 *    and x_hat = s(t_hat)/s(t_i) x_i + sqrt(sigma(t_hat)^2 - sigma(t_i)^2) s(t_hat) S_noise eps.
 *    With gamma_i = 0, t_hat = t_i and x_hat = x_i (Algorithm 1).
 * 2. Euler: d = f(x_hat, t_hat), h = t_{i+1} - t_hat, x_{i+1} = x_hat + h d.
 * 3. Second order (solver "heun": alpha = 1, or any alpha in (0, 1]; "midpoint": alpha = 1/2):
 *    x' = x_hat + alpha h d at t' = t_hat + alpha h, d' = f(x', t'),
 *    x_{i+1} = x_hat + h ((1 - 1/(2 alpha)) d + 1/(2 alpha) d').
 *    The step is Euler when sigma(t_{i+1}) = 0 (the paper's rule), since f is then
 *    evaluated where the ODE divides by sigma = 0.
 *
 * Conventions (all default to the paper; NVlabs' code differs in four places that only
 * change the last bits or the noise stream, `conventions: "nvlabs"` selects them):
 *
 * - `tHat`: "paper" sets t_hat = t_i when gamma_i = 0 (no inverse needed); "round-trip"
 *   always computes t_hat = sigma^-1(round_sigma(sigma(t_i) + gamma_i sigma(t_i))), as
 *   NVlabs does, which can move t_hat by an ulp when gamma_i = 0 (PROVENANCE quirk 14).
 * - `noiseDraws`: "churn" draws noise only on steps with gamma_i > 0; "every-step" draws on
 *   every step and always applies the noise formula (NVlabs' `randn_like` each step, quirk 13).
 * - `lastStep`: "sigma-zero" takes the Euler step when sigma(t_{i+1}) = 0 (paper);
 *   "index" takes it on the last step i = N - 1 (NVlabs). Both agree on every grid
 *   ending in sigma(t_N) = 0 whose earlier levels are positive, which this sampler requires.
 * - `secondPoint`: "grid" evaluates an alpha = 1 correction exactly at t_{i+1} (paper,
 *   NVlabs `edm_sampler`); "offset" at t_hat + alpha h, which can differ from t_{i+1} by
 *   an ulp (NVlabs `ablation_sampler`).
 *
 * All schedule scalars are evaluated before the loop (they do not depend on x), and the
 * loop allocates nothing: buffers are allocated once per call (for large tensors in a
 * `SimdArena` of the run's own, where the fused step passes of step-kernels.ts run in place,
 * the finiteness check of a model output folded into the pass that reads it; the result is
 * copied out once and the arena's memory handed to the next run). The model is called with
 * `denoiseUniform` where it has one (no per-row sigma array). Arithmetic follows the dtype of
 * the work buffers (default: the latents' dtype) with core's kernel semantics.
 */
import {
  allFinite,
  ArgumentError,
  checkFiniteModelOutput,
  type DeferredModelCheck,
  settleModelCheck,
} from "@edmkit/core";
import {
  type Denoiser,
  type DType,
  type NoiseSource,
  observeDenoiser,
  type SamplerObserver,
  scale,
  SimdArena,
  type Tensor,
  tensor,
  allocate,
  UniformSigma,
} from "@edmkit/core";
import { timeStepsFromSigmas, validateTimeSteps } from "./discretization.js";
import { type Preset, type PresetName, resolvePreset, type Solver } from "./presets.js";
import { requireInverse, type Schedule } from "./schedule.js";
import { correctStep, type Deriv, derivStep, prepare } from "./step-kernels.js";

export type { Solver } from "./presets.js";

export interface SamplerConventions {
  tHat?: "paper" | "round-trip";
  noiseDraws?: "churn" | "every-step";
  lastStep?: "sigma-zero" | "index";
  secondPoint?: "grid" | "offset";
}

/** The paper's conventions. */
export const PAPER_CONVENTIONS: Required<SamplerConventions> = Object.freeze({
  tHat: "paper",
  noiseDraws: "churn",
  lastStep: "sigma-zero",
  secondPoint: "grid",
});

/** NVlabs `ablation_sampler`'s conventions (`edm_sampler` differs in secondPoint: "grid"). */
export const NVLABS_CONVENTIONS: Required<SamplerConventions> = Object.freeze({
  tHat: "round-trip",
  noiseDraws: "every-step",
  lastStep: "index",
  secondPoint: "offset",
});

export interface EdmSamplerOptions {
  /** Paper preset supplying schedule, discretization and solver (default "edm"). */
  preset?: PresetName | Preset;
  /** sigma(t), s(t) (default: the preset's). */
  schedule?: Schedule;
  /** An explicit grid t_0 > ... > t_N = 0 (exclusive with sigmaSteps / numSteps). */
  timeSteps?: ArrayLike<number>;
  /** Noise levels sigma_0 > ... > sigma_{N-1} > 0, mapped to times with the schedule's inverse. */
  sigmaSteps?: ArrayLike<number>;
  /**
   * Accept a grid with repeated times (zero-length steps), as NVlabs does when round_sigma
   * maps two levels to one; default false (strictly decreasing).
   */
  allowRepeatedTimes?: boolean;
  /** Number of steps N of the preset's discretization (default 18). */
  numSteps?: number;
  /** Sampling range of the preset's discretization (default: the preset's, clamped to the denoiser's sigmaMin/sigmaMax). */
  sigmaMin?: number;
  sigmaMax?: number;
  /** "euler", "heun" (with alpha, default 1) or "midpoint" (alpha = 1/2). Default: the preset's. */
  solver?: Solver;
  alpha?: number;
  /** Algorithm 2 parameters (defaults 0, 0, inf, 1: deterministic). */
  S_churn?: number;
  S_tmin?: number;
  S_tmax?: number;
  S_noise?: number;
  /** Source of the churn noise; required when noise is drawn. */
  noise?: NoiseSource;
  observer?: SamplerObserver;
  /** Snaps raised noise levels and sigma-defined grids to supported ones (default: denoiser.roundSigma, else identity). */
  roundSigma?: (sigma: number) => number;
  conventions?: "paper" | "nvlabs" | SamplerConventions;
  /** Precision of the sampler arithmetic (default: the latents' dtype). */
  dtype?: DType;
  /**
   * false (default): latents are unit normals and x_0 = latents · sigma(t_0) s(t_0).
   * true: latents already are x_0.
   */
  latentsAreX0?: boolean;
}

/** The per-step scalars of one run, computed before the loop. */
export interface SamplerPlan {
  schedule: Schedule;
  /** t_0..t_N */
  t: Float64Array;
  numSteps: number;
  alpha: number;
  solver: Solver;
  gamma: Float64Array;
  tHat: Float64Array;
  sigmaCur: Float64Array;
  sigmaNext: Float64Array;
  sigmaHat: Float64Array;
  sHat: Float64Array;
  /** s(t_hat) / s(t_i) */
  ratio: Float64Array;
  /** sqrt(max(sigma(t_hat)^2 - sigma(t_i)^2, 0)) s(t_hat) S_noise */
  noiseCoef: Float64Array;
  /** 1 where the step draws noise */
  draw: Uint8Array;
  /** coefficients of d = a x - b D at t_hat */
  aHat: Float64Array;
  bHat: Float64Array;
  h: Float64Array;
  /** 1 where the step takes the second-order correction */
  second: Uint8Array;
  tPrime: Float64Array;
  sigmaPrime: Float64Array;
  sPrime: Float64Array;
  aPrime: Float64Array;
  bPrime: Float64Array;
  c1: number;
  c2: number;
  /** x_0 = latents · x0Scale */
  x0Scale: number;
}

function resolveConventions(c: EdmSamplerOptions["conventions"]): Required<SamplerConventions> {
  if (c === undefined || c === "paper") return PAPER_CONVENTIONS;
  if (c === "nvlabs") return NVLABS_CONVENTIONS;
  if (typeof c !== "object")
    throw new ArgumentError(
      `edmSampler: conventions must be "paper", "nvlabs" or an object, got ${String(c)}`,
    );
  return { ...PAPER_CONVENTIONS, ...c };
}

function checkFinite(
  who: string,
  name: string,
  v: number,
  pred: (v: number) => boolean,
  expected: string,
): void {
  if (typeof v !== "number" || !pred(v))
    throw new ArgumentError(`${who}: ${name} must be ${expected}, got ${v}`);
}

/**
 * Everything the sampler loop needs, from the options: the time grid, the schedule values
 * and the step coefficients. Exposed for inspection and tests; `edmSampler` calls it.
 */
export function planSampler(
  options: EdmSamplerOptions,
  denoiser?: Pick<Denoiser, "sigmaMin" | "sigmaMax" | "roundSigma">,
): SamplerPlan {
  const who = "edmSampler";
  const conv = resolveConventions(options.conventions);
  const preset = resolvePreset(options.preset ?? "edm", who);
  const schedule = options.schedule ?? preset.schedule;
  const roundSigma =
    options.roundSigma ?? (denoiser?.roundSigma ? denoiser.roundSigma.bind(denoiser) : (s: number) => s);

  // time grid
  const given = [
    options.timeSteps !== undefined,
    options.sigmaSteps !== undefined,
    options.numSteps !== undefined,
  ].filter(Boolean).length;
  if (given > 1) throw new ArgumentError(`${who}: give at most one of timeSteps, sigmaSteps and numSteps`);
  let t: Float64Array;
  const rep = options.allowRepeatedTimes === true;
  if (options.timeSteps !== undefined) t = validateTimeSteps(options.timeSteps, who, rep);
  else if (options.sigmaSteps !== undefined)
    t = timeStepsFromSigmas(schedule, options.sigmaSteps, roundSigma, who, rep);
  else {
    const n = options.numSteps ?? 18;
    // checked before the clamp to the denoiser's range, so the message names the value given
    const positive = (v: number) => v > 0 && Number.isFinite(v);
    if (options.sigmaMin !== undefined)
      checkFinite(who, "sigma_min", options.sigmaMin, positive, "a positive finite number");
    if (options.sigmaMax !== undefined)
      checkFinite(who, "sigma_max", options.sigmaMax, positive, "a positive finite number");
    const lo = Math.max(options.sigmaMin ?? preset.sigmaMin, denoiser?.sigmaMin ?? 0);
    const hi = Math.min(options.sigmaMax ?? preset.sigmaMax, denoiser?.sigmaMax ?? Infinity);
    // only a range that differs from the preset's own changes its grid
    const range = {
      sigmaMin: lo !== preset.sigmaMin ? lo : undefined,
      sigmaMax: hi !== preset.sigmaMax ? hi : undefined,
    };
    t =
      schedule === preset.schedule
        ? preset.timeSteps(n, range)
        : timeStepsFromSigmas(schedule, preset.sigmaSteps(n, range), roundSigma, who, rep);
  }
  const N = t.length - 1;

  // solver
  const solver = options.solver ?? preset.solver;
  if (solver !== "euler" && solver !== "heun" && solver !== "midpoint") {
    throw new ArgumentError(`${who}: solver must be "euler", "heun" or "midpoint", got ${String(solver)}`);
  }
  let alpha = solver === "midpoint" ? 0.5 : 1;
  if (options.alpha !== undefined) {
    if (solver !== "heun")
      throw new ArgumentError(`${who}: alpha applies to solver "heun" only (got solver "${solver}")`);
    checkFinite(who, "alpha", options.alpha, (v) => v > 0 && v <= 1, "in (0, 1]");
    alpha = options.alpha;
  }

  // churn
  const S_churn = options.S_churn ?? 0,
    S_tmin = options.S_tmin ?? 0,
    S_tmax = options.S_tmax ?? Infinity,
    S_noise = options.S_noise ?? 1;
  checkFinite(who, "S_churn", S_churn, (v) => v >= 0 && Number.isFinite(v), "a finite number >= 0");
  checkFinite(who, "S_noise", S_noise, (v) => v >= 0 && Number.isFinite(v), "a finite number >= 0");
  checkFinite(who, "S_tmin", S_tmin, (v) => !Number.isNaN(v), "a number");
  checkFinite(who, "S_tmax", S_tmax, (v) => !Number.isNaN(v), "a number");
  const gammaMax = Math.min(S_churn / N, Math.SQRT2 - 1);
  const needInverse = conv.tHat === "round-trip" || gammaMax > 0;
  const inv = needInverse
    ? requireInverse(
        schedule,
        who,
        conv.tHat === "round-trip"
          ? 'conventions.tHat "round-trip"'
          : "S_churn > 0 (t_hat = sigma^-1((1 + gamma) sigma(t_i)))",
      )
    : undefined;

  const { sigma, sigmaDeriv, s, sDeriv } = schedule;
  const f64 = () => new Float64Array(N);
  const plan: SamplerPlan = {
    schedule,
    t,
    numSteps: N,
    alpha,
    solver,
    gamma: f64(),
    tHat: f64(),
    sigmaCur: f64(),
    sigmaNext: f64(),
    sigmaHat: f64(),
    sHat: f64(),
    ratio: f64(),
    noiseCoef: f64(),
    draw: new Uint8Array(N),
    aHat: f64(),
    bHat: f64(),
    h: f64(),
    second: new Uint8Array(N),
    tPrime: f64(),
    sigmaPrime: f64(),
    sPrime: f64(),
    aPrime: f64(),
    bPrime: f64(),
    c1: 1 - 1 / (2 * alpha),
    c2: 1 / (2 * alpha),
    x0Scale: 0,
  };

  // sigma on the grid: positive before the end, >= 0 at t_N
  const sig = new Float64Array(N + 1);
  for (let i = 0; i <= N; i++) {
    sig[i] = sigma(t[i]);
    const ok = i < N ? sig[i] > 0 && Number.isFinite(sig[i]) : sig[i] >= 0 && Number.isFinite(sig[i]);
    if (!ok) {
      throw new ArgumentError(
        `${who}: sigma(t) must be ${i < N ? "positive and finite" : "finite and >= 0"} on the grid, got sigma(t[${i}]=${t[i]}) = ${sig[i]}`,
      );
    }
  }
  const s0 = s(t[0]);
  if (!(s0 > 0) || !Number.isFinite(s0))
    throw new ArgumentError(`${who}: s(t) must be positive and finite, got s(t[0]=${t[0]}) = ${s0}`);
  plan.x0Scale = sig[0] * s0;

  // d = a x - b D with a = sigma'/sigma + s'/s, b = sigma' s / sigma
  const coef = (tt: number, sg: number, st: number): [number, number] => {
    const sd = sigmaDeriv(tt);
    return [sd / sg + sDeriv(tt) / st, (sd * st) / sg];
  };

  for (let i = 0; i < N; i++) {
    const tCur = t[i],
      tNext = t[i + 1],
      sCur = sig[i];
    plan.sigmaCur[i] = sCur;
    plan.sigmaNext[i] = sig[i + 1];
    const gamma = S_tmin <= sCur && sCur <= S_tmax ? gammaMax : 0;
    plan.gamma[i] = gamma;
    let tHat = tCur;
    if (gamma > 0 || conv.tHat === "round-trip") tHat = inv!(roundSigma(sCur + gamma * sCur));
    if (!Number.isFinite(tHat))
      throw new ArgumentError(
        `${who}: t_hat of step ${i} is not finite (sigma^-1 of the raised noise level gave ${tHat})`,
      );
    plan.tHat[i] = tHat;
    const sgHat = tHat === tCur ? sCur : sigma(tHat);
    if (!(sgHat > 0))
      throw new ArgumentError(`${who}: sigma(t_hat) must be positive, got ${sgHat} at step ${i}`);
    plan.sigmaHat[i] = sgHat;
    const sHat = s(tHat);
    plan.sHat[i] = sHat;
    plan.ratio[i] = sHat / s(tCur);
    const draw = conv.noiseDraws === "every-step" || gamma > 0;
    plan.draw[i] = draw ? 1 : 0;
    plan.noiseCoef[i] = draw ? Math.sqrt(Math.max(sgHat * sgHat - sCur * sCur, 0)) * sHat * S_noise : 0;
    [plan.aHat[i], plan.bHat[i]] = coef(tHat, sgHat, sHat);
    const h = tNext - tHat;
    plan.h[i] = h;
    const second = solver !== "euler" && (conv.lastStep === "index" ? i < N - 1 : sig[i + 1] !== 0);
    plan.second[i] = second ? 1 : 0;
    if (second) {
      const tP = conv.secondPoint === "grid" && alpha === 1 ? tNext : tHat + alpha * h;
      const sgP = tP === tNext ? sig[i + 1] : sigma(tP);
      if (!(sgP > 0))
        throw new ArgumentError(
          `${who}: sigma at the second-order point t'=${tP} of step ${i} must be positive, got ${sgP}`,
        );
      const sP = s(tP);
      plan.tPrime[i] = tP;
      plan.sigmaPrime[i] = sgP;
      plan.sPrime[i] = sP;
      [plan.aPrime[i], plan.bPrime[i]] = coef(tP, sgP, sP);
    }
  }
  return plan;
}

/**
 * Algorithms 1 and 2 of Karras et al. 2022 for any sigma(t), s(t) and time grid.
 * `latents` are unit normals (x_0 = latents · sigma(t_0) s(t_0)); the result is x_N.
 * Observers see every model call (with its step) and every step as
 * `{i, t_cur, t_next, t_hat, x_hat, x_next}`.
 */
export async function edmSampler(
  denoiser: Denoiser,
  latents: Tensor,
  options: EdmSamplerOptions = {},
): Promise<Tensor> {
  const plan = planSampler(options, denoiser);
  return runPlan(plan, denoiser, latents, options);
}

/** Run a plan made by `planSampler` (the loop of `edmSampler`). */
export async function runPlan(
  plan: SamplerPlan,
  denoiser: Denoiser,
  latents: Tensor,
  options: Pick<EdmSamplerOptions, "noise" | "observer" | "dtype" | "latentsAreX0"> = {},
): Promise<Tensor> {
  const who = "edmSampler";
  if (!latents || !(latents.data instanceof Float64Array || latents.data instanceof Float32Array)) {
    throw new ArgumentError(`${who}: latents must be a Tensor (Float64Array or Float32Array data)`);
  }
  if (!allFinite(latents.data)) throw new ArgumentError(`${who}: latents hold NaN or infinity`);
  const N = plan.numSteps;
  let drawsNeeded = false;
  for (let i = 0; i < N; i++) if (plan.draw[i]) drawsNeeded = true;
  const noise = options.noise;
  if (drawsNeeded && !noise)
    throw new ArgumentError(
      `${who}: options.noise (a NoiseSource) is required when the sampler draws noise (S_churn > 0 or noiseDraws "every-step")`,
    );

  const dtype = options.dtype ?? latents.dtype;
  const n = latents.data.length,
    shape = latents.shape;
  // buffers, allocated once and only where the plan needs them
  let anySecond = false,
    anyScaled = false,
    anyRatio = false;
  for (let i = 0; i < N; i++) {
    if (plan.second[i]) anySecond = true;
    if (plan.sHat[i] !== 1 || (plan.second[i] && plan.sPrime[i] !== 1)) anyScaled = true;
    if (plan.ratio[i] !== 1) anyRatio = true;
  }
  const needHat = drawsNeeded || anyRatio;
  const slots = 3 + (anySecond ? 3 : 0) + (needHat ? 1 : 0) + (drawsNeeded ? 1 : 0) + (anyScaled ? 1 : 0);
  // large tensors: the buffers on one wasm memory of the run's own, where the SIMD step kernels
  // work in place (the model's output too when the model writes into the buffer it is given)
  const arena = SimdArena.create(dtype, n, slots, true);
  const buf = () => tensor(arena?.alloc() ?? allocate(dtype, n), shape);
  let x = buf(),
    xNext = buf();
  const denoised = buf();
  const xHatBuf = needHat ? buf() : undefined;
  const eps = drawsNeeded ? buf() : undefined;
  const xPrime = anySecond ? buf() : undefined;
  const d = anySecond ? buf() : undefined;
  // large tensors: the second model call's output goes here, so the first one's (D, in
  // `denoised`) is still there for the correction, which computes d again from it (one array
  // written less than keeping d; d is kept where D may not last: a model's output of another
  // dtype, or its input returned)
  const denoised2 = anySecond && arena !== null ? buf() : undefined;
  const modelIn = anyScaled ? buf() : undefined;
  // the model calls with one sigma for every row
  const uniform = new UniformSigma();
  const identity = plan.schedule.identity === true;

  let step = -1;
  const den = options.observer ? observeDenoiser(denoiser, options.observer, () => step) : denoiser;
  /** D(input; sigma) into `out`: the model's `denoiseUniform` where it has one, else `denoise`. */
  const callModel = (input: Tensor, sigma: number, out: Tensor): Promise<Tensor> =>
    uniform.denoise(den, input, sigma, out);
  // A large output's finiteness check is left to the step pass that reads it next (it checks
  // the output and the point the model was asked about as it reads them: no pass of its own);
  // `settle`, right after that pass, throws the error the immediate check would (same step,
  // sigma and cause), before anything outside the sampler runs. Not with an observer, which
  // sees the output first.
  let pending: DeferredModelCheck | null = null;
  const settle = (): void => {
    const p = pending;
    if (p === null || arena === null) return;
    pending = null;
    settleModelCheck(arena, p);
  };
  // the model-call check of every EDM sampler (the NaN rule, docs/reliability.md)
  const checkOut = (out: Tensor, sigma: number, input: Tensor, into: Tensor): Tensor => {
    if (!out || !(out.data instanceof Float64Array || out.data instanceof Float32Array))
      throw new ArgumentError(`${who}: the denoiser returned no tensor at step ${step}`);
    if (out.data.length !== n)
      throw new ArgumentError(`${who}: the denoiser returned ${out.data.length} values for ${n} inputs`);
    let D = out;
    // an output outside the arena (a model's own tensor) is copied in: one copy costs less
    // than the step passes' chunked copies of every operand
    if (
      arena !== null &&
      out.data.buffer !== into.data.buffer &&
      out.data.constructor === into.data.constructor
    ) {
      into.data.set(out.data);
      D = into;
    }
    if (arena !== null && !options.observer && arena.deferFiniteCheck(D.data, input.data))
      pending = { sampler: who, step, sigma, d: D, x: input };
    else checkFiniteModelOutput(who, step, sigma, D, input);
    return D;
  };
  // d = f(x, t): (x − D)/σ for the identity schedule, else a·x − b·D (set per model call)
  const gHat: Deriv = { identity, sigma: 0, a: 0, b: 0 },
    gPrime: Deriv = { identity, sigma: 0, a: 0, b: 0 };
  const setDeriv = (g: Deriv, sig: number, a: number, b: number): Deriv => {
    g.sigma = sig;
    g.a = a;
    g.b = b;
    return g;
  };
  // The model's input x / s(t) of step j's first call, when step j evaluates at x itself
  // (no churn point), is computed by the pass that makes x (step j − 1's last). Not with an
  // onStep observer, which sees x_next before the next step reads it.
  const fuseNext = new Uint8Array(N + 1);
  if (!options.observer?.onStep)
    for (let j = 1; j < N; j++)
      fuseNext[j] = plan.sHat[j] !== 1 && !plan.draw[j] && plan.ratio[j] === 1 ? 1 : 0;
  let inputReady = false;

  if (options.latentsAreX0) x.data.set(latents.data);
  else if (latents.data.constructor === x.data.constructor)
    prepare(x, null, latents, plan.x0Scale, null, 0, 1);
  else scale(x, latents, plan.x0Scale);

  const { t } = plan;
  for (let i = 0; i < N; i++) {
    step = i;
    let xHat = x;
    const sHat = plan.sHat[i];
    const scaledIn = sHat !== 1 ? modelIn! : null;
    if (plan.draw[i]) {
      noise!.randn(eps!, { step: i, sigma: plan.sigmaCur[i], sigmaNext: plan.sigmaNext[i] });
      prepare(xHatBuf!, scaledIn, x, plan.ratio[i], eps!, plan.noiseCoef[i], sHat);
      xHat = xHatBuf!;
    } else if (plan.ratio[i] !== 1) {
      prepare(xHatBuf!, scaledIn, x, plan.ratio[i], null, 0, sHat);
      xHat = xHatBuf!;
    } else if (scaledIn && !inputReady) {
      prepare(null, scaledIn, x, 1, null, 0, sHat);
    }
    inputReady = false;
    const h = plan.h[i];
    const D = checkOut(
      await callModel(scaledIn ?? xHat, plan.sigmaHat[i], denoised),
      plan.sigmaHat[i],
      xHat,
      denoised,
    );
    setDeriv(gHat, plan.sigmaHat[i], plan.aHat[i], plan.bHat[i]);
    const fuse = fuseNext[i + 1] === 1;
    const sNext = fuse ? plan.sHat[i + 1] : 1;
    if (plan.second[i]) {
      // x′ = x̂ + αh·d with d = f(x̂, t̂) (kept for the correction unless D stays, in our
      // `denoised` or x̂ itself) and the model's input x′/s(t′) (one pass)
      const again = denoised2 !== undefined && (D.data === denoised.data || D.data === xHat.data);
      const sP = plan.sPrime[i];
      const scaledP = sP !== 1 ? modelIn! : null;
      derivStep(xPrime!, again ? null : d!, xHat, D, gHat, plan.alpha * h, scaledP, sP);
      settle();
      const into2 = again ? denoised2 : denoised;
      const D2 = checkOut(
        await callModel(scaledP ?? xPrime!, plan.sigmaPrime[i], into2),
        plan.sigmaPrime[i],
        xPrime!,
        into2,
      );
      // d′ = f(x′, t′), x_next = x̂ + h·(c1·d + c2·d′) (one pass)
      correctStep(
        xNext,
        xHat,
        again ? D : d!,
        xPrime!,
        D2,
        setDeriv(gPrime, plan.sigmaPrime[i], plan.aPrime[i], plan.bPrime[i]),
        plan.c1,
        plan.c2,
        h,
        fuse ? modelIn! : null,
        sNext,
        again ? gHat : null,
      );
      settle();
    } else {
      // x_next = x̂ + h·f(x̂, t̂) (one pass)
      derivStep(xNext, null, xHat, D, gHat, h, fuse ? modelIn! : null, sNext);
      settle();
    }
    inputReady = fuse;
    options.observer?.onStep?.({
      i,
      fields: { t_cur: t[i], t_next: t[i + 1], t_hat: plan.tHat[i], x_hat: xHat, x_next: xNext },
    });
    const tmp = x;
    x = xNext;
    xNext = tmp;
  }
  if (arena === null) return x;
  // a plain copy: the result owns exactly its memory, not the run's arena
  const result = tensor(allocate(dtype, n), shape);
  result.data.set(x.data);
  // the buffers are dead now, unless an observer was handed them (it may keep them): then the
  // arena is left to the garbage collector; otherwise its memory serves the next run's arena
  if (!options.observer) arena.release();
  return result;
}
