/**
 * k-diffusion's DPM-Solver samplers: `sample_dpm_fast` (fixed steps, uniform in
 * t = -log sigma) and `sample_dpm_adaptive` (embedded pairs with a PID step size controller).
 * The solver core (eps, single steps, controller) is in ./dpm-solver-core.ts.
 */
import {
  allFinite,
  axpy,
  clone,
  type Denoiser,
  type DType,
  type NoiseSource,
  type SamplerObserver,
  type Tensor,
  torchLinspace,
  type TorchMath,
  torchMath,
  zerosLike,
} from "@edmkit/core";
import { DpmSolverCore, type EpsCache, PidStepSizeController } from "./dpm-solver-core.js";
import { KDiffusionArgumentError } from "../validate.js";
import { ancestralStep } from "../utils.js";

/** What k-diffusion's `callback` receives, under the original key names. */
export type DpmCallbackPayload = Record<string, number | Tensor>;

export interface DpmFastOptions {
  /** Ancestral noise amount (0: deterministic ODE steps). */
  eta?: number;
  sNoise?: number;
  /**
   * The original's `noise_sampler(sigma, sigma_next)`. It is called after every step, even
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
 * evaluations: m = floor(n/3) + 1 steps on `torch.linspace(t_start, t_end, m + 1)` (core
 * `torchLinspace`, which reproduces torch's split-from-the-end rounding), orders
 * [3]*(m-2) + [2, 1] when n % 3 == 0, else [3]*(m-1) + [n % 3]. Sigmas go through a tensor of
 * `dtype` first (the original's `torch.tensor(sigma)` in the default dtype).
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
  // t_start, t_end = t(torch.tensor(sigma_max)), t(torch.tensor(sigma_min))
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

  const solver = new DpmSolverCore(model, x, fn);
  const { m } = solver;
  let cur = clone(x);
  let next = zerosLike(x);
  const denoised = zerosLike(x);
  const noise = zerosLike(x);
  const cache: EpsCache = { eps: false, epsR1: false, epsR2: false };
  const reporting = observer?.onStep !== undefined || callback !== undefined;

  for (let i = 0; i < orders.length; i++) {
    solver.step = i;
    cache.eps = cache.epsR1 = cache.epsR2 = false;
    const t = ts[i],
      tNext = ts[i + 1];
    let tNext_ = tNext,
      su = 0;
    if (eta) {
      // sd, su = get_ancestral_step(self.sigma(t), self.sigma(t_next), eta)
      const { sigmaDown } = ancestralStep(m, solver.sigma(t), solver.sigma(tNext), eta);
      const tDown = solver.t(sigmaDown);
      tNext_ = tDown < tEnd ? tDown : tEnd; // torch.minimum(t_end, self.t(sd))
      // su = (self.sigma(t_next) ** 2 - self.sigma(t_next_) ** 2) ** 0.5
      su = m.pow(m.sub(m.pow(solver.sigma(tNext), 2), m.pow(solver.sigma(tNext_), 2)), 0.5);
    }

    await solver.evalEps(solver.eps, cur, t);
    cache.eps = true;
    if (reporting) {
      axpy(denoised, -solver.sigma(t), solver.eps, cur);
      const s = solver.sigma(t);
      report(observer, callback, i, { sigma: s, sigma_hat: s, x: cur, i, t, t_up: t, denoised });
    }

    if (orders[i] === 1) await solver.step1(next, cur, t, tNext_, cache);
    else if (orders[i] === 2) await solver.step2(next, cur, t, tNext_, 1 / 2, cache);
    else await solver.step3(next, cur, t, tNext_, 1 / 3, 2 / 3, cache);
    const done = next;
    next = cur;
    cur = done;

    // x + su * s_noise * noise_sampler(sigma(t), sigma(t_next)); su is a Python 0. when eta == 0
    if (noiseSampler) {
      noiseSampler.randn(noise, { step: i, sigma: solver.sigma(t), sigmaNext: solver.sigma(tNext) });
      const c = eta ? m.mul(su, m.r(sNoise)) : su * sNoise;
      axpy(cur, c, noise, cur);
    }
  }
  return cur;
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

  const solver = new DpmSolverCore(model, x, fn);
  const { m } = solver;
  const tStart = solver.t(m.r(sigmaMax));
  const tEnd = solver.t(m.r(sigmaMin));
  const forward = tEnd > tStart;
  const hInit = Math.abs(hInitIn) * (forward ? 1 : -1);
  const atol = m.r(atolIn), // torch.tensor(atol), torch.tensor(rtol)
    rtol = m.r(rtolIn);
  const pid = new PidStepSizeController(hInit, pcoeff, icoeff, dcoeff, eta ? 1.5 : order, acceptSafety);
  const info: DpmAdaptiveInfo = { steps: 0, nfe: 0, n_accept: 0, n_reject: 0 };

  let cur = clone(x);
  let prev = clone(x); // x_prev starts as x itself
  let low = zerosLike(x);
  let high = zerosLike(x);
  const denoised = zerosLike(x);
  const noise = zerosLike(x);
  const cache: EpsCache = { eps: false, epsR1: false, epsR2: false };
  const reporting = observer?.onStep !== undefined || callback !== undefined;
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
    cache.eps = cache.epsR1 = cache.epsR2 = false;
    solver.step = info.steps;
    const sh = m.add(s, m.r(pid.h)); // s + pid.h
    const t = forward ? (sh < tEnd ? sh : tEnd) : sh > tEnd ? sh : tEnd;
    let t_ = t,
      su = 0;
    if (eta) {
      // sd, su = get_ancestral_step(self.sigma(s), self.sigma(t), eta)
      const { sigmaDown } = ancestralStep(m, solver.sigma(s), solver.sigma(t), eta);
      const tDown = solver.t(sigmaDown);
      t_ = tDown < tEnd ? tDown : tEnd; // torch.minimum(t_end, self.t(sd))
      // su = (self.sigma(t) ** 2 - self.sigma(t_) ** 2) ** 0.5
      su = m.pow(m.sub(m.pow(solver.sigma(t), 2), m.pow(solver.sigma(t_), 2)), 0.5);
    }

    await solver.evalEps(solver.eps, cur, s);
    cache.eps = true;
    axpy(denoised, -solver.sigma(s), solver.eps, cur);

    if (order === 2) {
      await solver.step1(low, cur, s, t_, cache);
      await solver.step2(high, cur, s, t_, 1 / 2, cache);
    } else {
      await solver.step2(low, cur, s, t_, 1 / 3, cache);
      await solver.step3(high, cur, s, t_, 1 / 3, 2 / 3, cache);
    }
    // error = torch.linalg.norm((x_low - x_high) / delta) / x.numel() ** 0.5
    const error = m.div(errorNorm(low.data, high.data, prev.data, atol, rtol, m), m.r(sqrtNumel));
    lastError = error;
    const accept = pid.proposeStep(error);
    if (accept) {
      // x_prev = x_low; x = x_high (+ noise): swap buffers instead of copying
      const oldPrev = prev;
      prev = low;
      low = oldPrev;
      const oldCur = cur;
      cur = high;
      high = oldCur;
      if (noiseSampler) {
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

    if (reporting) {
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
  return options.returnInfo ? { x: cur, info: { ...info } } : cur;
}

/**
 * torch.linalg.norm((x_low - x_high) / delta) with
 * delta = torch.maximum(atol, rtol * torch.maximum(x_low.abs(), x_prev.abs())), each
 * elementwise op in the tensors' dtype.
 */
function errorNorm(
  low: ArrayLike<number>,
  high: ArrayLike<number>,
  prev: ArrayLike<number>,
  atol: number,
  rtol: number,
  m: TorchMath,
): number {
  let sum = 0;
  for (let k = 0; k < low.length; k++) {
    const a = Math.abs(low[k]),
      b = Math.abs(prev[k]);
    const rm = m.mul(rtol, a > b ? a : b);
    const delta = atol > rm ? atol : rm;
    const q = m.div(m.sub(low[k], high[k]), delta);
    sum += q * q;
  }
  return m.sqrt(sum);
}
