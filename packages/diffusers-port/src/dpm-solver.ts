/**
 * The multistep DPM-Solver update shared by diffusers' DPMSolverMultistepScheduler (VP frame)
 * and EDMDPMSolverMultistepScheduler (EDM frame, alpha = 1): the first-, second- and
 * third-order updates of `dpm_solver_first_order_update`,
 * `multistep_dpm_solver_second_order_update` and `multistep_dpm_solver_third_order_update`,
 * the order selection of `step`, the history of converted model outputs, and
 * `_threshold_sample` (Imagen's dynamic thresholding).
 *
 * Arithmetic as diffusers runs it: alpha_t, sigma_t, lambda and every coefficient are float32
 * 0-dim torch tensors (SLEEF `expf` / `logf`, one rounding per op, `1 / x` as a reciprocal);
 * each update is a sum of coefficient x tensor products evaluated left to right, every
 * product and partial sum rounded to the tensors' dtype. The dtype bookkeeping is passed in:
 * the sample term is rounded as the sample is held (float32 after DPMSolverMultistep's cast,
 * the sample's own dtype in the EDM variant), everything else in the model outputs' dtype.
 */
import {
  type DType,
  type Tensor,
  allocate,
  lerpScalar,
  lerpScalar32,
  tensor,
  torchMath,
  ArgumentError,
} from "@edmkit/core";
import { dpmUpdateSimd } from "./step-kernels.js";
import type { StepBuffers } from "./step-buffers.js";

const T32 = torchMath("float32");

/** Algorithm types of diffusers' DPM-Solver schedulers. */
export type DpmAlgorithm = "dpmsolver++" | "sde-dpmsolver++" | "dpmsolver" | "sde-dpmsolver";
export type DpmSolverType = "midpoint" | "heun";

/** alpha_t, sigma_t and lambda = log(alpha_t) - log(sigma_t) of one schedule entry (float32). */
export interface AlphaSigma {
  alpha: number;
  sigma: number;
  lambda: number;
}

/**
 * One update x_t = a * sample + b0 * D0 + b1 * D1 + b2 * D2 + cn * noise, with D0 = m0,
 * D1 / D2 the divided differences of the history (`order` 1, 2 or 3). The coefficients carry
 * their signs; `d1` / `d2` hold the difference weights (1/r0; 1/r0, 1/r1, r0/(r0+r1), 1/(r0+r1)).
 */
export interface DpmUpdate {
  order: 1 | 2 | 3;
  a: number;
  b0: number;
  b1: number;
  b2: number;
  /** Coefficient of the noise draw (0 for the ODE variants). */
  cn: number;
  c0: number;
  c1: number;
  cr: number;
  c2: number;
}

const exp = T32.exp;
const { add, sub, mul, div } = T32;

function noUpdate(order: 1 | 2 | 3): DpmUpdate {
  return { order, a: 0, b0: 0, b1: 0, b2: 0, cn: 0, c0: 0, c1: 0, cr: 0, c2: 0 };
}

/**
 * The coefficients of one step of `algorithm` at `order` from the alpha/sigma/lambda of the
 * target t and the history s0 (current), s1, s2, exactly as the three update functions
 * compute them. `who` names the scheduler in the error for the combinations diffusers leaves
 * without a result (its UnboundLocalError on `x_t`): "sde-dpmsolver" at order 3, and
 * "sde-dpmsolver++" at order 3 where `sdeThirdOrder` is false (the EDM variant).
 */
export function dpmCoefficients(
  who: string,
  algorithm: DpmAlgorithm,
  solverType: DpmSolverType,
  order: 1 | 2 | 3,
  t: AlphaSigma,
  s0: AlphaSigma,
  s1: AlphaSigma | null,
  s2: AlphaSigma | null,
  sdeThirdOrder = true,
): DpmUpdate {
  const u = noUpdate(order);
  const h = sub(t.lambda, s0.lambda);
  const plus = algorithm === "dpmsolver++" || algorithm === "sde-dpmsolver++";
  // the sample coefficient and the shared exponential factors
  const eMinusH = exp(-h),
    ePlusH = exp(h);
  const em2h = exp(mul(-2, h)); // exp(−2h); the originals write the factor as a float or an int, the same value either way
  if (algorithm === "sde-dpmsolver++") u.a = mul(div(t.sigma, s0.sigma), eMinusH);
  else u.a = plus ? div(t.sigma, s0.sigma) : div(t.alpha, s0.alpha);
  if (algorithm === "sde-dpmsolver++") u.cn = mul(t.sigma, T32.sqrt(sub(1, em2h)));
  else if (algorithm === "sde-dpmsolver") u.cn = mul(t.sigma, T32.sqrt(sub(exp(mul(2, h)), 1)));

  // data-prediction (++) first-order weight: alpha_t (exp(-h) - 1); noise-prediction: sigma_t (exp(h) - 1)
  const plusB = mul(t.alpha, sub(eMinusH, 1));
  const sdePlusB = mul(t.alpha, sub(1, em2h));
  const epsB = mul(t.sigma, sub(ePlusH, 1));
  if (algorithm === "dpmsolver++") u.b0 = -plusB;
  else if (algorithm === "sde-dpmsolver++") u.b0 = sdePlusB;
  else if (algorithm === "dpmsolver") u.b0 = -epsB;
  else u.b0 = -mul(2, epsB);
  if (order === 1) return u;

  const h0 = sub(s0.lambda, (s1 as AlphaSigma).lambda);
  const r0 = div(h0, h);
  u.c0 = div(1, r0);
  if (order === 2) {
    const mid = solverType === "midpoint";
    if (algorithm === "dpmsolver++")
      u.b1 = mid ? -mul(0.5, plusB) : mul(t.alpha, add(div(sub(eMinusH, 1), h), 1));
    else if (algorithm === "sde-dpmsolver++")
      u.b1 = mid ? mul(0.5, sdePlusB) : mul(t.alpha, add(div(sub(1, em2h), mul(-2, h)), 1));
    else {
      const heunB = mul(t.sigma, sub(div(sub(ePlusH, 1), h), 1));
      if (algorithm === "dpmsolver") u.b1 = mid ? -mul(0.5, epsB) : -heunB;
      else u.b1 = mid ? -epsB : -mul(2, heunB);
    }
    return u;
  }

  const h1 = sub((s1 as AlphaSigma).lambda, (s2 as AlphaSigma).lambda);
  const r1 = div(h1, h);
  const rs = add(r0, r1);
  u.c1 = div(1, r1);
  u.cr = div(r0, rs);
  u.c2 = div(1, rs);
  const h2 = mul(h, h);
  if (algorithm === "dpmsolver++") {
    const em1 = sub(eMinusH, 1);
    u.b1 = mul(t.alpha, add(div(em1, h), 1));
    u.b2 = -mul(t.alpha, sub(div(add(em1, h), h2), 0.5));
  } else if (algorithm === "dpmsolver") {
    const ep1 = sub(ePlusH, 1);
    u.b1 = -mul(t.sigma, sub(div(ep1, h), 1));
    u.b2 = -mul(t.sigma, sub(div(sub(ep1, h), h2), 0.5));
  } else if (algorithm === "sde-dpmsolver++" && sdeThirdOrder) {
    const om = sub(1, em2h),
      twoH = mul(2, h);
    u.b1 = mul(t.alpha, add(div(om, mul(-2, h)), 1));
    u.b2 = mul(t.alpha, sub(div(sub(om, twoH), mul(twoH, twoH)), 0.5));
  } else {
    throw new ArgumentError(
      `${who}.step: algorithm_type "${algorithm}" with solver_order 3 has no third-order update in diffusers ` +
        `(its multistep_dpm_solver_third_order_update leaves x_t unassigned and raises UnboundLocalError at ` +
        `the first third-order step); use solver_order 2 for "${algorithm}"`,
    );
  }
  return u;
}

/**
 * Evaluate one update into `out` (allowed to be `sample` itself). `history` is
 * [m0, m1, m2] (m0 the newest converted output). `sampleRound` rounds the sample term as the
 * sample is held; `round` is the result dtype's rounding, `noiseRound` the noise term's.
 * Large tensors with DPMSolverMultistep's rounders go through SIMD (step-kernels.ts).
 */
export function applyDpmUpdate(
  u: DpmUpdate,
  sample: ArrayLike<number>,
  history: readonly (Float32Array | Float64Array)[],
  noise: ArrayLike<number> | null,
  out: Float32Array | Float64Array,
  castSample: (v: number) => number,
  sampleRound: (v: number) => number,
  round: (v: number) => number,
  noiseRound: (v: number) => number,
): void {
  if (dpmUpdateSimd(u, sample, history, noise, out, castSample, sampleRound, round, noiseRound)) return;
  const n = out.length;
  const m0 = history[0],
    m1 = history[1],
    m2 = history[2];
  const { a, b0, b1, b2, cn, c0, c1, cr, c2, order } = u;
  const r = round;
  for (let k = 0; k < n; k++) {
    let acc = sampleRound(a * castSample(sample[k]));
    const d0 = m0[k];
    acc = r(acc + r(b0 * d0));
    if (order === 2) {
      const d1 = r(c0 * r(d0 - m1[k]));
      acc = r(acc + r(b1 * d1));
    } else if (order === 3) {
      const d10 = r(c0 * r(d0 - m1[k]));
      const d11 = r(c1 * r(m1[k] - m2[k]));
      const dd = r(d10 - d11);
      acc = r(acc + r(b1 * r(d10 + r(cr * dd))));
      acc = r(acc + r(b2 * r(c2 * dd)));
    }
    if (noise !== null) acc = r(acc + noiseRound(cn * noise[k]));
    out[k] = acc;
  }
}

/**
 * The order `step` uses: first order for `solver_order` 1, before one output is stored, or at
 * the last step when `lower_order_final` applies (euler_at_final, lower_order_final with fewer
 * than 15 steps, or a final sigma of 0); second order likewise one step earlier; else
 * `solver_order`.
 */
export function dpmStepOrder(cfg: {
  solverOrder: number;
  lowerOrderNums: number;
  stepIndex: number;
  numTimesteps: number;
  eulerAtFinal: boolean;
  lowerOrderFinal: boolean;
  finalSigmaZero: boolean;
}): 1 | 2 | 3 {
  const n = cfg.numTimesteps;
  const lowerFinal =
    cfg.stepIndex === n - 1 && (cfg.eulerAtFinal || (cfg.lowerOrderFinal && n < 15) || cfg.finalSigmaZero);
  const lowerSecond = cfg.stepIndex === n - 2 && cfg.lowerOrderFinal && n < 15;
  if (cfg.solverOrder === 1 || cfg.lowerOrderNums < 1 || lowerFinal) return 1;
  if (cfg.solverOrder === 2 || cfg.lowerOrderNums < 2 || lowerSecond) return 2;
  return 3;
}

/**
 * diffusers' `model_outputs` list: `solver_order` slots, the newest last. Buffers are
 * recycled (the oldest becomes the newest), so stepping allocates nothing after the first
 * steps of a run. Each slot has a name (`history0`, ...) that moves with its buffer, so a
 * scheduler can keep the buffers among its own named ones (`push`'s `buffers`).
 */
export class OutputHistory {
  private slots: (Tensor | null)[];
  private filled: boolean[];
  private names: string[];

  constructor(readonly size: number) {
    this.slots = Array.from({ length: size }, () => null);
    this.filled = Array.from({ length: size }, () => false);
    this.names = Array.from({ length: size }, (_, j) => `history${j}`);
  }

  /** Forget every stored output (set_timesteps). */
  reset(): void {
    this.filled.fill(false);
  }

  /**
   * Shift the list left and return the (recycled) buffer for the newest output: the oldest
   * one when of this size and dtype, else the oldest slot's name's tensor of `buffers` (the
   * scheduler's), or a new tensor.
   */
  push(shape: readonly number[], dtype: DType, n: number, buffers?: StepBuffers): Tensor {
    const oldest = this.slots[0],
      name = this.names[0];
    for (let i = 0; i < this.size - 1; i++) {
      this.slots[i] = this.slots[i + 1];
      this.filled[i] = this.filled[i + 1];
      this.names[i] = this.names[i + 1];
    }
    const reuse = oldest && oldest.data.length === n && oldest.dtype === dtype ? oldest : null;
    const t = reuse ?? buffers?.get(name, shape, dtype) ?? tensor(allocate(dtype, n), shape);
    this.slots[this.size - 1] = t;
    this.filled[this.size - 1] = true;
    this.names[this.size - 1] = name;
    return t;
  }

  /** The newest `count` outputs, newest first ([m0, m1, m2]). */
  recent(count: number): (Float32Array | Float64Array)[] {
    const out: (Float32Array | Float64Array)[] = [];
    for (let j = 0; j < count; j++) {
      const t = this.slots[this.size - 1 - j];
      if (!t || !this.filled[this.size - 1 - j])
        throw new Error(`model output history holds fewer than ${count} entries`);
      out.push(t.data);
    }
    return out;
  }
}

/**
 * Port of `_threshold_sample` (dynamic thresholding, Imagen): per batch row, s = the
 * `ratio`-quantile of |x0| (torch.quantile's linear interpolation, ranks and weights in the
 * row's dtype, torch.lerp), clamped to [1, sample_max_value] (min first, then max, as
 * torch.clamp does), then x0 = clamp(x0, -s, s) / s. `scratch` holds one row.
 */
export function thresholdSample(
  x0: Tensor,
  ratio: number,
  sampleMaxValue: number,
  scratch: Float32Array | Float64Array,
): void {
  const rows = x0.shape[0] ?? 1;
  const per = rows === 0 ? 0 : x0.data.length / rows;
  const m = torchMath(x0.dtype);
  const lerp = x0.dtype === "float32" ? lerpScalar32 : lerpScalar;
  const d = x0.data;
  const row = scratch.subarray(0, per);
  const q = m.r(ratio);
  for (let b = 0; b < rows; b++) {
    for (let k = 0; k < per; k++) row[k] = Math.abs(d[b * per + k]);
    row.sort();
    let s: number;
    if (row.some(Number.isNaN)) s = NaN;
    else {
      const rank = m.r(q * (per - 1));
      const below = Math.trunc(rank);
      const w = m.r(rank - below);
      s = lerp(row[below], row[Math.ceil(rank)], w);
    }
    s = Math.min(Math.max(s, 1), m.r(sampleMaxValue));
    for (let k = b * per; k < (b + 1) * per; k++) d[k] = m.r(Math.min(Math.max(d[k], -s), s) / s);
  }
}

/**
 * The update of step `i` as both DPM-Solver schedulers' `step` picks it: the order from
 * `dpmStepOrder`, then the coefficients from the schedule sigmas i+1, i, i-1, i-2 seen through
 * the scheduler's frame (VP alpha/sigma, or the EDM frame with alpha = 1).
 */
export function dpmStepUpdate(
  who: string,
  c: { solver_order: number; euler_at_final: boolean; lower_order_final: boolean; final_sigmas_type: string },
  algorithm: DpmAlgorithm,
  solverType: DpmSolverType,
  sigmas: Float32Array,
  i: number,
  numTimesteps: number,
  lowerOrderNums: number,
  frame: (sigma: number) => AlphaSigma,
  sdeThirdOrder = true,
): DpmUpdate {
  const order = dpmStepOrder({
    solverOrder: c.solver_order,
    lowerOrderNums,
    stepIndex: i,
    numTimesteps,
    eulerAtFinal: c.euler_at_final,
    lowerOrderFinal: c.lower_order_final,
    finalSigmaZero: c.final_sigmas_type === "zero",
  });
  return dpmCoefficients(
    who,
    algorithm,
    solverType,
    order,
    frame(sigmas[i + 1]),
    frame(sigmas[i]),
    order >= 2 ? frame(sigmas[i - 1]) : null,
    order >= 3 ? frame(sigmas[i - 2]) : null,
    sdeThirdOrder,
  );
}
