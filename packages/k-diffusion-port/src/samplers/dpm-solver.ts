/**
 * k-diffusion's DPM-Solver samplers: `sample_dpm_fast` (fixed steps, uniform in
 * t = -log sigma) and `sample_dpm_adaptive` (embedded pairs with a PID step size controller).
 * The solver core (eps, single steps, controller) is in ./dpm-solver-core.ts.
 */
import {
  allFinite,
  axpy,
  type Denoiser,
  type DType,
  type NoiseSource,
  type SamplerObserver,
  type Tensor,
  torchLinspace,
  torchMath,
} from "@edmkit/core";
import { errorNorm } from "../dpm-kernels.js";
import { DpmSolverCore, PidStepSizeController, type StepNoise } from "./dpm-solver-core.js";
import { KDiffusionArgumentError } from "../validate.js";
import { ancestralStep } from "../utils.js";

/** What k-diffusion's `callback` receives, under the original key names. */
export type DpmCallbackPayload = Record<string, number | Tensor>;

export interface DpmFastOptions {
  /** Ancestral noise amount (0: deterministic ODE steps). */
  eta?: number;
  sNoise?: number;
  /**
   * Stands in for the original's `noise_sampler` argument. It is called after every step, even
   * with eta = 0 (the draw is then multiplied by 0). Required when eta != 0; with eta = 0 and
   * no source the (zero-weighted) draws are skipped, which leaves the result unchanged.
   */
  noiseSampler?: NoiseSource;
  /** Receives one `onStep` per callback of the original (fields under the original names). */
  observer?: SamplerObserver;
  /** k-diffusion's `callback`. Tensors in the payload are live buffers: copy to keep. */
  callback?: (payload: DpmCallbackPayload) => void;
}

export interface DpmAdaptiveOptions extends DpmFastOptions {
  /** 3: DPM-Solver-23 (third order with an embedded second order); 2: DPM-Solver-12. */
  order?: 2 | 3;
  rtol?: number;
  atol?: number;
  hInit?: number;
  pcoeff?: number;
  icoeff?: number;
  dcoeff?: number;
  acceptSafety?: number;
  /** Also return the original's info dict (`return_info=True`). */
  returnInfo?: boolean;
}

/** The adaptive solver's `info` dict: attempts, model evaluations, accepted and rejected attempts. */
export interface DpmAdaptiveInfo {
  steps: number;
  nfe: number;
  n_accept: number;
  n_reject: number;
}

export interface DpmAdaptiveResult {
  x: Tensor;
  info: DpmAdaptiveInfo;
}

/** The t = -log(sigma) grid and per-step orders `sample_dpm_fast` uses for `n` evaluations. */
export interface DpmFastSchedule {
  /** -log(sigma_max) and -log(sigma_min) as the original holds them (0-d tensors). */
  tStart: number;
  tEnd: number;
  ts: Float64Array;
  orders: number[];
}

function fail(fn: string, msg: string): never {
  throw new KDiffusionArgumentError(`${fn}: ${msg}`);
}

function finite(fn: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v))
    fail(fn, `${name} must be a finite number, got ${String(v)}`);
  return v;
}

/**
 * Checks the sigma range. Like the original, sigmas must be positive; sigma_min > sigma_max is
 * the original's reverse (encoding) direction, allowed only with eta = 0. Equal sigmas are
 * refused: the original divides by a zero step there (dpm_fast) or does nothing (adaptive).
 */
function checkSigmas(fn: string, sigmaMin: number, sigmaMax: number, eta: number): void {
  finite(fn, "sigma_min", sigmaMin);
  finite(fn, "sigma_max", sigmaMax);
  if (!(sigmaMin > 0) || !(sigmaMax > 0)) {
    fail(fn, `sigma_min and sigma_max must be positive, got sigma_min=${sigmaMin}, sigma_max=${sigmaMax}`);
  }
  if (sigmaMin === sigmaMax) fail(fn, `sigma_min must differ from sigma_max, both are ${sigmaMin}`);
  if (sigmaMin > sigmaMax && eta) {
    fail(
      fn,
      `eta must be 0 for reverse sampling (sigma_min=${sigmaMin} > sigma_max=${sigmaMax}), got eta=${eta}`,
    );
  }
}

function checkTensor(fn: string, x: Tensor): void {
  if (!x || !(x.data instanceof Float64Array || x.data instanceof Float32Array) || !x.shape) {
    fail(fn, "x must be a Tensor (Float64Array or Float32Array data with a shape)");
  }
  if (x.shape.length < 1 || x.data.length === 0) {
    fail(fn, `x must have a batch dimension and at least one element, got shape [${x.shape.join(", ")}]`);
  }
  if (!allFinite(x.data)) fail(fn, "x holds NaN or infinity");
}

/**
 * The t grid and orders of k-diffusion's `DPMSolver.dpm_solver_fast` for `n` model
 * evaluations: m = floor(n/3) + 1 steps on a torch linspace of m + 1 points from t_start to
 * t_end (core `torchLinspace`, which reproduces torch's split-from-the-end rounding); every
 * step is third order except the tail: m − 2 threes then a 2 and a 1 when 3 divides n, else
 * m − 1 threes then n mod 3. Sigmas are first made 0-d tensors of `dtype`, as the original
 * does in the default dtype.
 */
export function dpmFastSchedule(
  sigmaMin: number,
  sigmaMax: number,
  n: number,
  dtype: DType = "float64",
): DpmFastSchedule {
  const fn = "sample_dpm_fast";
  if (!Number.isInteger(n) || n < 1)
    fail(fn, `n must be a positive integer (number of model evaluations), got ${n}`);
  checkSigmas(fn, sigmaMin, sigmaMax, 0);
  const tm = torchMath(dtype);
  // t = −log σ of σ_max and σ_min, each first rounded to a 0-d tensor of the dtype
  const tStart = -tm.log(tm.r(sigmaMax));
  const tEnd = -tm.log(tm.r(sigmaMin));
  const m = Math.floor(n / 3) + 1;
  const ts = torchLinspace(tStart, tEnd, m + 1, dtype);
  const orders: number[] = [];
  if (n % 3 === 0) {
    for (let i = 0; i < m - 2; i++) orders.push(3);
    orders.push(2, 1);
  } else {
    for (let i = 0; i < m - 1; i++) orders.push(3);
    orders.push(n % 3);
  }
  return { tStart, tEnd, ts, orders };
}

function report(
  observer: SamplerObserver | undefined,
  callback: ((p: DpmCallbackPayload) => void) | undefined,
  i: number,
  payload: DpmCallbackPayload,
): void {
  observer?.onStep?.({ i, fields: payload });
  callback?.(payload);
}

/**
 * Port of k-diffusion's `sample_dpm_fast` / `DPMSolver.dpm_solver_fast` (DPM-Solver-fast,
 * arXiv:2206.00927): `n` model evaluations spread over floor(n/3)+1 steps uniform in
 * t = -log sigma, from sigma_max down to sigma_min, third order steps with a second and/or
 * first order step at the end (see `dpmFastSchedule`).
 *
 * Quirks reproduced:
 * - sigma_min/max pass through a tensor of the default dtype (here: x's dtype) and t = -log
 *   sigma, so the first sigma is exp(log 20) = 19.999999999999996, not 20;
 * - the callback's `denoised` is recomputed as x - sigma(t) eps, not the model output;
 * - the noise sampler is called after every step, even with eta = 0 (draw times 0);
 * - with eta > 0 the step goes to t_next_ = min(t_end, t(sigma_down)) and the noise amount is
 *   sqrt(sigma(t_next)^2 - sigma(t_next_)^2), recomputed through the t round trip;
 * - no final denoising: the result is the state at sigma_min;
 * - sigma_min > sigma_max integrates the ODE in reverse (only with eta = 0).
 *
 * Callback/observer fields: sigma, sigma_hat (= sigma(t)), x (the state at the step's start),
 * i, t, t_up (both ts[i]), denoised.
 */
export async function sampleDpmFast(
  model: Denoiser,
  x: Tensor,
  sigmaMin: number,
  sigmaMax: number,
  n: number,
  options: DpmFastOptions = {},
): Promise<Tensor> {
  const fn = "sample_dpm_fast";
  checkTensor(fn, x);
  const eta = finite(fn, "eta", options.eta ?? 0);
  const sNoise = finite(fn, "s_noise", options.sNoise ?? 1);
  checkSigmas(fn, sigmaMin, sigmaMax, eta);
  const { noiseSampler, observer, callback } = options;
  if (eta && !noiseSampler) fail(fn, `noiseSampler is required when eta != 0 (got eta=${eta})`);
  // t_end is the 0-d tensor, not ts[-1] (torch.linspace's vectorized fill can miss the end by an ulp)
  const { ts, orders, tEnd } = dpmFastSchedule(sigmaMin, sigmaMax, n, x.dtype);

  const reporting = observer?.onStep !== undefined || callback !== undefined;
  const solver = new DpmSolverCore(model, x, fn, reporting);
  const { m } = solver;
  let cur = solver.copy(x);
  let next = solver.buffer();
  const denoised = reporting ? solver.buffer() : null;
  const noise: StepNoise | null = noiseSampler ? { draw: () => {}, z: solver.buffer(), c: 0 } : null;

  for (let i = 0; i < orders.length; i++) {
    solver.step = i;
    const t = ts[i],
      tNext = ts[i + 1];
    let tNext_ = tNext,
      su = 0;
    if (eta) {
      // ancestral split of σ(t) → σ(t_next); only σ_down is kept, σ_up is recomputed below
      const { sigmaDown } = ancestralStep(m, solver.sigma(t), solver.sigma(tNext), eta);
      const tDown = solver.t(sigmaDown);
      tNext_ = tDown < tEnd ? tDown : tEnd; // land at σ_down's t, never past t_end
      // noise std √(σ(t_next)² − σ(t′)²), t′ the landing point, with torch pow ops
      su = m.pow(m.sub(m.pow(solver.sigma(tNext), 2), m.pow(solver.sigma(tNext_), 2)), 0.5);
    }
    // after the step: noise·(σ_up·s_noise) added, drawn for σ(t) → σ(t_next) after the step's
    // model calls; with η = 0 σ_up is a plain Python zero
    if (noise !== null && noiseSampler) {
      const z = noise.z,
        request = { step: i, sigma: solver.sigma(t), sigmaNext: solver.sigma(tNext) };
      noise.draw = () => noiseSampler.randn(z, request);
      noise.c = eta ? m.mul(su, m.r(sNoise)) : su * sNoise;
    }
    const state = cur;
    // the callback sees x and x − σ(t)·eps after eps, before the step's other model calls
    const afterEps =
      denoised === null
        ? undefined
        : () => {
            const s = solver.sigma(t);
            report(observer, callback, i, { sigma: s, sigma_hat: s, x: state, i, t, t_up: t, denoised });
          };
    await solver.fastStep(orders[i], next, cur, t, tNext_, noise, denoised, afterEps);
    const done = next;
    next = cur;
    cur = done;
  }
  return solver.result(cur);
}

/**
 * Port of k-diffusion's `sample_dpm_adaptive` / `DPMSolver.dpm_solver_adaptive`
 * (DPM-Solver-12 and -23 with adaptive step size, arXiv:2206.00927). Each attempt from s to
 * t = min(t_end, s + h) computes a low and a high order solution sharing their model
 * evaluations (order 3: DPM-Solver-2 with r1 = 1/3 and DPM-Solver-3; order 2: DPM-Solver-1
 * and -2), the error norm ||(x_low - x_high) / delta|| / sqrt(numel) with
 * delta = max(atol, rtol max(|x_low|, |x_prev|)), and lets the PID controller accept or
 * reject. The loop runs while s < t_end - 1e-5.
 *
 * Quirks reproduced:
 * - sigma_min/max and atol/rtol pass through tensors of the default dtype (here x's dtype);
 * - the controller uses order 1.5 when eta != 0; h is multiplied by the PID factor on
 *   rejected attempts too;
 * - the noise sampler is called on every accepted attempt, even with eta = 0;
 * - one callback per attempt (accepted or not): x is the state after the attempt, t/t_up/
 *   sigma/sigma_hat the position after it, denoised (x - sigma(s) eps) from its start, plus
 *   error, h (the new step size) and the running info counters;
 * - no final denoising: the result is the state at sigma_min.
 *
 * Not in the original: a non-finite step size (e.g. a NaN model output) throws instead of
 * looping forever, and h_init = 0 is refused for the same reason.
 */
export function sampleDpmAdaptive(
  model: Denoiser,
  x: Tensor,
  sigmaMin: number,
  sigmaMax: number,
  options: DpmAdaptiveOptions & { returnInfo: true },
): Promise<DpmAdaptiveResult>;
export function sampleDpmAdaptive(
  model: Denoiser,
  x: Tensor,
  sigmaMin: number,
  sigmaMax: number,
  options?: DpmAdaptiveOptions & { returnInfo?: false },
): Promise<Tensor>;
export function sampleDpmAdaptive(
  model: Denoiser,
  x: Tensor,
  sigmaMin: number,
  sigmaMax: number,
  options?: DpmAdaptiveOptions,
): Promise<Tensor | DpmAdaptiveResult>;
export async function sampleDpmAdaptive(
  model: Denoiser,
  x: Tensor,
  sigmaMin: number,
  sigmaMax: number,
  options: DpmAdaptiveOptions = {},
): Promise<Tensor | DpmAdaptiveResult> {
  const fn = "sample_dpm_adaptive";
  checkTensor(fn, x);
  const order = options.order ?? 3;
  if (order !== 2 && order !== 3) fail(fn, `order must be 2 or 3, got ${String(order)}`);
  const eta = finite(fn, "eta", options.eta ?? 0);
  const sNoise = finite(fn, "s_noise", options.sNoise ?? 1);
  const rtolIn = finite(fn, "rtol", options.rtol ?? 0.05);
  const atolIn = finite(fn, "atol", options.atol ?? 0.0078);
  const hInitIn = finite(fn, "h_init", options.hInit ?? 0.05);
  const pcoeff = finite(fn, "pcoeff", options.pcoeff ?? 0);
  const icoeff = finite(fn, "icoeff", options.icoeff ?? 1);
  const dcoeff = finite(fn, "dcoeff", options.dcoeff ?? 0);
  const acceptSafety = finite(fn, "accept_safety", options.acceptSafety ?? 0.81);
  if (hInitIn === 0) fail(fn, "h_init must be non-zero (the step size would never grow)");
  checkSigmas(fn, sigmaMin, sigmaMax, eta);
  const { noiseSampler, observer, callback } = options;
  if (eta && !noiseSampler) fail(fn, `noiseSampler is required when eta != 0 (got eta=${eta})`);

  const reporting = observer?.onStep !== undefined || callback !== undefined;
  const solver = new DpmSolverCore(model, x, fn, reporting);
  const { m } = solver;
  const tStart = solver.t(m.r(sigmaMax));
  const tEnd = solver.t(m.r(sigmaMin));
  const forward = tEnd > tStart;
  const hInit = Math.abs(hInitIn) * (forward ? 1 : -1);
  const atol = m.r(atolIn), // tolerances as 0-d tensors of x's dtype
    rtol = m.r(rtolIn);
  const pid = new PidStepSizeController(hInit, pcoeff, icoeff, dcoeff, eta ? 1.5 : order, acceptSafety);
  const info: DpmAdaptiveInfo = { steps: 0, nfe: 0, n_accept: 0, n_reject: 0 };

  let cur = solver.copy(x);
  let prev = solver.copy(x); // x_prev starts as x itself
  let low = solver.buffer();
  let high = solver.buffer();
  const noise = noiseSampler ? solver.buffer() : null;
  // x − σ(s)·eps, only seen by the callback and observer
  const denoised = reporting ? solver.buffer() : null;
  // the error norm's quotients (a SIMD pass for large tensors)
  const errQ = solver.buffer();
  const sqrtNumel = Math.sqrt(x.data.length);
  const stopAt = forward ? m.sub(tEnd, 1e-5) : m.add(tEnd, 1e-5);

  let s = tStart;
  let lastError = NaN;
  while (forward ? s < stopAt : s > stopAt) {
    if (!Number.isFinite(pid.h)) {
      fail(
        fn,
        `step size became ${pid.h} after ${info.steps} attempts (last error ${lastError}); is the model output finite?`,
      );
    }
    solver.step = info.steps;
    const sh = m.add(s, m.r(pid.h));
    const t = forward ? (sh < tEnd ? sh : tEnd) : sh > tEnd ? sh : tEnd;
    let t_ = t,
      su = 0;
    if (eta) {
      // ancestral split of σ(s) → σ(t); only σ_down is kept
      const { sigmaDown } = ancestralStep(m, solver.sigma(s), solver.sigma(t), eta);
      const tDown = solver.t(sigmaDown);
      t_ = tDown < tEnd ? tDown : tEnd; // σ_down's t, clamped to t_end
      // noise std √(σ(t)² − σ(t′)²) with torch pow ops
      su = m.pow(m.sub(m.pow(solver.sigma(t), 2), m.pow(solver.sigma(t_), 2)), 0.5);
    }

    // the low and high order solutions (order 3: DPM-Solver-2 and -3; order 2: -1 and -2)
    await solver.adaptiveStep(order, low, high, cur, s, t_, denoised);
    // error: the 2-norm of the scaled difference of the two solutions, divided by √(element count)
    const error = m.div(errorNorm(low, high, prev, atol, rtol, errQ), m.r(sqrtNumel));
    lastError = error;
    const accept = pid.proposeStep(error);
    if (accept) {
      // accepted: the low-order result becomes the previous state, the high-order one (plus noise) the new state; buffers are swapped, not copied
      const oldPrev = prev;
      prev = low;
      low = oldPrev;
      const oldCur = cur;
      cur = high;
      high = oldCur;
      if (noiseSampler && noise) {
        noiseSampler.randn(noise, { step: info.steps, sigma: solver.sigma(s), sigmaNext: solver.sigma(t) });
        const c = eta ? m.mul(su, m.r(sNoise)) : su * sNoise;
        axpy(cur, c, noise, cur);
      }
      s = t;
      info.n_accept++;
    } else {
      info.n_reject++;
    }
    info.nfe += order;
    info.steps++;

    if (denoised !== null) {
      const sig = solver.sigma(s);
      report(observer, callback, info.steps - 1, {
        sigma: sig,
        sigma_hat: sig,
        x: cur,
        i: info.steps - 1,
        t: s,
        t_up: s,
        denoised,
        error,
        h: pid.h,
        steps: info.steps,
        nfe: info.nfe,
        n_accept: info.n_accept,
        n_reject: info.n_reject,
      });
    }
  }
  const result = solver.result(cur);
  return options.returnInfo ? { x: result, info: { ...info } } : result;
}
