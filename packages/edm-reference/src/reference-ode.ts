/**
 * An accurate reference solution of the probability-flow ODE, to measure every sampler's
 * global error against (with the exact mixture denoiser the ODE is known exactly, so the
 * only error left is the solver's).
 *
 * Method: Dormand-Prince 5(4) (the embedded pair behind MATLAB's ode45 / SciPy's RK45) in
 * float64 with error-per-step control: a step is accepted when the RMS over all
 * components of err_i / (atol + rtol max(|y_i|, |y_new_i|)) is <= 1, and the next step size
 * is h · clamp(0.9 err^(-1/5), 0.2, 5) (no growth right after a rejection). The last stage
 * of an accepted step is the first of the next (FSAL).
 *
 * For sigma(t) = t, s = 1 the ODE is dx/dsigma = (x - D(x; sigma)) / sigma. At sigma = 0
 * its right side is the limit -sigma grad log p_sigma(x) -> 0, valid for data with a finite
 * score (mixtures with positive stds), so the solver can land exactly on sigma = 0.
 *
 * Any other schedule has the same trajectories up to scaling and reparametrization
 * (Karras et al. 2022, eq. 4): x(t) = s(t) X(sigma(t)) with X the solution for
 * sigma(t) = t, s = 1. `solveProbabilityFlowSchedule` uses that identity, which also avoids
 * sigma'(t) -> infinity at t = 0 for the VP and VE schedules.
 */
import { type Denoiser, libm, type Tensor, tensor } from "@edmkit/core";
import type { Schedule } from "./schedule.js";

export interface OdeOptions {
  /** relative tolerance per step (default 1e-11) */
  rtol?: number;
  /** absolute tolerance per step (default 1e-12) */
  atol?: number;
  /** give up after this many attempted steps (default 100000) */
  maxSteps?: number;
  /** first step size (default |t1 - t0| / 100) */
  h0?: number;
  /** filled with the work done */
  stats?: OdeStats;
}

export interface OdeStats {
  accepted: number;
  rejected: number;
  nfe: number;
}

/** The right side f(t, y) written into `out`. */
export type OdeRhs = (t: number, y: Float64Array, out: Float64Array) => Promise<void> | void;

// Dormand-Prince 5(4) tableau
const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const A = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** b - b*: the difference of the 5th- and 4th-order weights (error estimate). */
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];

/**
 * Integrate y' = f(t, y) from t0 to t1 (either direction) with Dormand-Prince 5(4).
 * Returns y(t1) in a new array.
 */
export async function integrateOde(
  f: OdeRhs,
  t0: number,
  t1: number,
  y0: ArrayLike<number>,
  opts: OdeOptions = {},
): Promise<Float64Array> {
  const rtol = opts.rtol ?? 1e-11,
    atol = opts.atol ?? 1e-12,
    maxSteps = opts.maxSteps ?? 100000;
  if (!(rtol > 0) || !(atol >= 0))
    throw new RangeError(`integrateOde: rtol must be > 0 and atol >= 0, got rtol=${rtol}, atol=${atol}`);
  if (!Number.isFinite(t0) || !Number.isFinite(t1))
    throw new RangeError(`integrateOde: t0 and t1 must be finite, got ${t0}, ${t1}`);
  const n = y0.length;
  const y = Float64Array.from(y0);
  const stats = opts.stats ?? { accepted: 0, rejected: 0, nfe: 0 };
  stats.accepted = stats.rejected = stats.nfe = 0;
  if (t0 === t1) return y;
  const dir = Math.sign(t1 - t0);
  let h = opts.h0 !== undefined ? dir * Math.abs(opts.h0) : (t1 - t0) / 100;
  const k = Array.from({ length: 7 }, () => new Float64Array(n));
  const ys = new Float64Array(n),
    yNew = new Float64Array(n);
  let t = t0;
  await f(t, y, k[0]);
  stats.nfe++;
  let justRejected = false;
  for (let attempt = 0; ; attempt++) {
    if (attempt >= maxSteps)
      throw new Error(`integrateOde: no convergence within ${maxSteps} steps (at t=${t}, h=${h})`);
    let last = false;
    if (dir * (t + h - t1) >= 0) {
      h = t1 - t;
      last = true;
    }
    for (let s = 1; s < 7; s++) {
      const a = A[s];
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < s; j++) acc += a[j] * k[j][i];
        ys[i] = y[i] + h * acc;
      }
      const ts = C[s] === 1 ? (last ? t1 : t + h) : t + C[s] * h;
      if (s === 6) yNew.set(ys);
      await f(ts, s === 6 ? yNew : ys, k[s]);
      stats.nfe++;
    }
    let err = 0;
    for (let i = 0; i < n; i++) {
      let e = 0;
      for (let j = 0; j < 7; j++) e += E[j] * k[j][i];
      const sc = atol + rtol * Math.max(Math.abs(y[i]), Math.abs(yNew[i]));
      const r = (h * e) / sc;
      err += r * r;
    }
    err = Math.sqrt(err / Math.max(n, 1));
    if (!Number.isFinite(err)) throw new Error(`integrateOde: the right side is not finite near t=${t}`);
    if (err <= 1) {
      stats.accepted++;
      t = last ? t1 : t + h;
      y.set(yNew);
      k[0].set(k[6]);
      if (last) return y;
      let fac = err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * libm.pow(err, -0.2)));
      if (justRejected) fac = Math.min(fac, 1);
      h *= fac;
      justRejected = false;
    } else {
      stats.rejected++;
      h *= Math.max(0.2, 0.9 * libm.pow(err, -0.2));
      justRejected = true;
    }
    if (Math.abs(h) < 1e-14 * Math.max(Math.abs(t), 1e-300))
      throw new Error(`integrateOde: step size underflow at t=${t}`);
  }
}

/**
 * x(sigmaTo) of dx/dsigma = (x - D(x; sigma)) / sigma (sigma(t) = t, s = 1) from x at
 * sigmaFrom. sigmaTo may be 0 (see the module comment). Returns a new float64 tensor.
 */
export async function solveProbabilityFlow(
  denoiser: Denoiser,
  x: Tensor,
  sigmaFrom: number,
  sigmaTo: number,
  opts: OdeOptions = {},
): Promise<Tensor> {
  if (!(sigmaFrom >= 0) || !(sigmaTo >= 0) || !Number.isFinite(sigmaFrom) || !Number.isFinite(sigmaTo)) {
    throw new RangeError(
      `solveProbabilityFlow: sigmaFrom and sigmaTo must be finite and >= 0, got ${sigmaFrom}, ${sigmaTo}`,
    );
  }
  const rows = x.shape.length === 0 ? 1 : x.shape[0];
  const rowSigma = new Float64Array(rows);
  const dBuf = tensor(new Float64Array(x.data.length), x.shape);
  const rhs: OdeRhs = async (sigma, y, out) => {
    if (sigma === 0) {
      out.fill(0);
      return;
    }
    rowSigma.fill(sigma);
    const d = await denoiser.denoise(tensor(y, x.shape), rowSigma, dBuf);
    for (let i = 0; i < out.length; i++) out[i] = (y[i] - d.data[i]) / sigma;
  };
  const y = await integrateOde(rhs, sigmaFrom, sigmaTo, x.data, opts);
  return tensor(y, x.shape);
}

/**
 * The general-schedule form: x(tTo) from x at tFrom for the ODE of `schedule`, computed as
 * s(tTo) X(sigma(tTo)) with X the sigma-form solution from x / s(tFrom) at sigma(tFrom).
 */
export async function solveProbabilityFlowSchedule(
  denoiser: Denoiser,
  x: Tensor,
  schedule: Schedule,
  tFrom: number,
  tTo: number,
  opts: OdeOptions = {},
): Promise<Tensor> {
  const sFrom = schedule.s(tFrom),
    sTo = schedule.s(tTo);
  if (!(sFrom > 0) || !(sTo > 0))
    throw new RangeError(
      `solveProbabilityFlowSchedule: s(t) must be positive, got s(${tFrom})=${sFrom}, s(${tTo})=${sTo}`,
    );
  const x0 = tensor(
    Float64Array.from(x.data, (v) => v / sFrom),
    x.shape,
  );
  const X = await solveProbabilityFlow(denoiser, x0, schedule.sigma(tFrom), schedule.sigma(tTo), opts);
  const out = X.data as Float64Array;
  for (let i = 0; i < out.length; i++) out[i] *= sTo;
  return X;
}
