/**
 * The machinery behind k-diffusion's DPM-Solver samplers (`sample_dpm_fast`,
 * `sample_dpm_adaptive`): the `DPMSolver` class (t = -log sigma, eps from the denoiser, the
 * first/second/third order single steps) and `PIDStepSizeController`.
 *
 * Precision. The original keeps every scalar (t, h, sigma(t), the step coefficients) in 0-d
 * tensors of torch's default dtype, and this port takes the sample's dtype as that default
 * dtype (the recorded runs use float64 throughout; `*-f32` runs use float32 throughout). In
 * float32 every scalar op is rounded to float32 like a 0-d float32 tensor op, and Python
 * floats meeting a tensor (r1, r2, pid.h, eta, s_noise) are rounded to float32 first.
 * Tensor updates go through fused kernels (../dpm-kernels.ts) that round each torch op of the
 * original's chain in float32.
 */
import {
  axpy,
  type Denoiser,
  libm,
  type Tensor,
  torchMath,
  type TorchMath,
  UniformSigma,
} from "@edmkit/core";
import { epsStep, stageStep } from "../dpm-kernels.js";
import { RunMemory } from "./common.js";

/**
 * Buffers of a DPM-Solver run in its SimdArena: the solver's eps, stage input and model output,
 * and the sampler's (x, next or x_prev, low, high, noise, denoised, the error norm's quotients).
 */
const DPM_SLOTS = 10;

/** The noise a fast step adds to its result: drawn into `z` by `draw`, times `c`. */
export interface StepNoise {
  draw: () => void;
  z: Tensor;
  c: number;
}

/**
 * Port of k-diffusion's `DPMSolver` (sampling.py): a denoiser seen through the noise
 * prediction eps(x, t) = (x - D(x; sigma(t))) / sigma(t) with sigma(t) = exp(-t), and the
 * DPM-Solver-1/2/3 single steps from t to t_next, as `sample_dpm_fast` and
 * `sample_dpm_adaptive` use them.
 *
 * The original evaluates eps into a tensor and updates with a chain of torch ops; here each
 * model call is followed by one fused pass (../dpm-kernels.ts) computing that call's eps and
 * everything the step derives from it next: the result of the chain, bit for bit. The scalar
 * coefficients are computed as the original computes them (`*Coef` below), before the pass.
 * eps (of the step's start point) is kept in `eps`; the stage evaluations eps_r1, eps_r2 are
 * used in the pass that follows their model call and not kept. Buffers come from the run's
 * `RunMemory` (a SIMD arena for large tensors), the model writes into one of them, and its
 * output's finiteness check is left to the pass that reads it (settled right after it).
 */
export class DpmSolverCore {
  readonly m: TorchMath;
  readonly eps: Tensor;
  /** The stage inputs u1, u2 (the model inputs of the inner stages). */
  private readonly u: Tensor;
  private readonly modelOut: Tensor;
  private readonly memory: RunMemory;
  /** The model calls with one sigma for every row. */
  private readonly uniform = new UniformSigma();
  /** Number of model evaluations so far (the original's eps_callback / progress bar). */
  nfe = 0;
  /** The sampler's current step (attempt, for the adaptive one), for error messages. */
  step = 0;

  /** `reporting`: a callback or observer sees the buffers (the model output is checked at once). */
  constructor(
    private readonly model: Denoiser,
    template: Tensor,
    fn: string,
    private readonly reporting: boolean,
  ) {
    this.m = torchMath(template.dtype);
    this.memory = new RunMemory(fn, template.dtype, template.shape, DPM_SLOTS);
    this.eps = this.buffer();
    this.u = this.buffer();
    this.modelOut = this.buffer();
  }

  /** A new zero tensor like the sample (in the run's arena while it has room). */
  buffer(): Tensor {
    return this.memory.buffer();
  }

  /** A copy of the caller's x as a run buffer. */
  copy(x: Tensor): Tensor {
    const b = this.buffer();
    b.data.set(x.data);
    return b;
  }

  /** The run's result: `x` (a run buffer) as a plain tensor of its own (RunMemory.result). */
  result(x: Tensor): Tensor {
    return this.memory.result(x, this.reporting);
  }

  /** `DPMSolver.sigma`: exp(-t). */
  sigma(t: number): number {
    return this.m.exp(-t);
  }

  /** `DPMSolver.t`: -log(sigma). */
  t(sigma: number): number {
    return -this.m.log(sigma);
  }

  /**
   * D(x; sigma(t)) into the model output buffer where the model writes into `out`; sigma(t) per
   * row (`sigma(t) * x.new_ones([B])`, so in x's dtype) or as one number (`denoiseUniform`).
   * Checked (the finiteness: see RunMemory.check; `settle` after the pass that reads it).
   */
  private async denoise(x: Tensor, t: number): Promise<{ d: Tensor; sigma: number }> {
    const sigma = this.sigma(t);
    const d = await this.uniform.denoise(this.model, x, sigma, this.modelOut);
    this.nfe++;
    return { d: this.memory.check(this.step, sigma, d, x, this.reporting), sigma };
  }

  /**
   * `DPMSolver.eps` at (x, t) into `eps`, and in the same pass y_j = x + a_j·eps for each
   * (y_j, a_j) given (a stage input, a first order result, the callback's denoised).
   */
  async evalEps(x: Tensor, t: number, ys: readonly Tensor[], as: readonly number[]): Promise<void> {
    const { d, sigma } = await this.denoise(x, t);
    epsStep(this.eps, x, d, sigma, ys, as);
    this.memory.settle();
  }

  /**
   * The model call at stage point s on the stage input `u`, then with e its eps:
   * out = (x + alpha·eps) + gamma·(e − eps) (+ c·z with `noise`, drawn after the model call),
   * and, with `out2`, out2 = (x + alpha2·eps) + gamma2·(e − eps) (either may be `u` itself).
   */
  private async stage(
    x: Tensor,
    s: number,
    out: Tensor,
    [alpha, gamma]: readonly [number, number],
    noise: StepNoise | null = null,
    out2: Tensor | null = null,
    [alpha2, gamma2]: readonly [number, number] = [0, 0],
  ): Promise<void> {
    const { d, sigma } = await this.denoise(this.u, s);
    noise?.draw();
    stageStep(
      out,
      alpha,
      gamma,
      this.u,
      d,
      sigma,
      x,
      this.eps,
      noise?.z ?? null,
      noise?.c ?? 0,
      out2,
      alpha2,
      gamma2,
    );
    this.memory.settle();
  }

  /**
   * The first stage of `dpm_solver_2_step` / `_3_step`: s1 = t + r1 h and the coefficient of
   * u1 = x - sigma(s1) expm1(r1 h) eps (the two scalars multiplied before touching the tensor),
   * negated for `x + alpha·eps`.
   */
  stage1Coef(t: number, h: number, r1: number): { s1: number; alpha: number } {
    const { m } = this;
    const r1h = m.mul(m.r(r1), h);
    const s1 = m.add(t, r1h); // stage point s₁ = t + r₁h
    return { s1, alpha: -m.mul(this.sigma(s1), m.expm1(r1h)) };
  }

  /** `dpm_solver_1_step`: out = x - sigma(t_next) expm1(h) eps, scalar coefficient first (negated). */
  order1Coef(tNext: number, h: number): number {
    const { m } = this;
    return -m.mul(this.sigma(tNext), m.expm1(h));
  }

  /**
   * `dpm_solver_2_step`'s update out = x - sigma(t_next) expm1(h) eps
   * - sigma(t_next) / (2 r1) expm1(h) (eps_r1 - eps): the coefficients sigma(t_next)·expm1(h)
   * and (sigma(t_next)/(2 r1))·expm1(h), with 2 r1 a Python float, negated.
   */
  order2Coef(tNext: number, h: number, r1: number): [number, number] {
    const { m } = this;
    const sn = this.sigma(tNext);
    const em = m.expm1(h);
    return [-m.mul(sn, em), -m.mul(m.div(sn, m.r(2 * r1)), em)];
  }

  /**
   * `dpm_solver_3_step`'s second stage s2 = t + r2 h and
   * u2 = x - sigma(s2) expm1(r2 h) eps - sigma(s2) (r2/r1) (expm1(r2 h)/(r2 h) - 1) (eps_r1 - eps):
   * r2/r1 a Python float, the scalar product left to right; coefficients negated.
   */
  stage2Coef(t: number, h: number, r1: number, r2: number): { s2: number; coef: [number, number] } {
    const { m } = this;
    const r2h = m.mul(m.r(r2), h);
    const s2 = m.add(t, r2h); // stage point s₂ = t + r₂h
    const e2 = m.expm1(r2h);
    const sig2 = this.sigma(s2);
    const a2 = m.mul(sig2, e2);
    const c2 = m.mul3(sig2, m.r(r2 / r1), m.sub(m.div(e2, r2h), 1));
    return { s2, coef: [-a2, -c2] };
  }

  /**
   * `dpm_solver_3_step`'s update out = x - sigma(t_next) expm1(h) eps
   * - sigma(t_next)/r2 (expm1(h)/h - 1) (eps_r2 - eps), coefficients negated. (The quotient
   * expm1(h)/h - 1 cancels for tiny h exactly as in the original.)
   */
  order3Coef(tNext: number, h: number, r2: number): [number, number] {
    const { m } = this;
    const sn = this.sigma(tNext);
    const em = m.expm1(h);
    return [-m.mul(sn, em), -m.mul(m.div(sn, m.r(r2)), m.sub(m.div(em, h), 1))];
  }

  /**
   * One step of `dpm_solver_fast` from t to t_next, of order 1, 2 (r1 = 1/2) or 3 (r1 = 1/3,
   * r2 = 2/3): out = the step's result (+ the noise, when given: drawn after the step's model
   * calls). With `denoised`, x - sigma(t) eps goes there with eps, and `afterEps` is called
   * then (the original's callback, before the step's other model calls).
   */
  async fastStep(
    order: number,
    out: Tensor,
    x: Tensor,
    t: number,
    tNext: number,
    noise: StepNoise | null,
    denoised: Tensor | null = null,
    afterEps?: () => void,
  ): Promise<void> {
    const h = this.m.sub(tNext, t);
    const den = denoised === null ? [] : [denoised],
      denA = denoised === null ? [] : [-this.sigma(t)];
    if (order === 1) {
      await this.evalEps(x, t, [out, ...den], [this.order1Coef(tNext, h), ...denA]);
      afterEps?.();
      // the noise after the step: out + c·z (core's axpy)
      if (noise !== null) {
        noise.draw();
        axpy(out, noise.c, noise.z, out);
      }
      return;
    }
    const r1 = order === 2 ? 1 / 2 : 1 / 3;
    const { s1, alpha } = this.stage1Coef(t, h, r1);
    await this.evalEps(x, t, [this.u, ...den], [alpha, ...denA]);
    afterEps?.();
    if (order === 2) return this.stage(x, s1, out, this.order2Coef(tNext, h, r1), noise);
    const { s2, coef } = this.stage2Coef(t, h, r1, 2 / 3);
    await this.stage(x, s1, this.u, coef);
    await this.stage(x, s2, out, this.order3Coef(tNext, h, 2 / 3), noise);
  }

  /**
   * One attempt of `dpm_solver_adaptive` from s to t: order 3, low = DPM-Solver-2 (r1 = 1/3)
   * and high = DPM-Solver-3 (r1 = 1/3, r2 = 2/3), sharing eps and eps_r1; order 2, low =
   * DPM-Solver-1 and high = DPM-Solver-2 (r1 = 1/2). With `denoised`, x - sigma(s) eps.
   */
  async adaptiveStep(
    order: 2 | 3,
    low: Tensor,
    high: Tensor,
    x: Tensor,
    s: number,
    t: number,
    denoised: Tensor | null,
  ): Promise<void> {
    const h = this.m.sub(t, s);
    const den = denoised === null ? [] : [denoised],
      denA = denoised === null ? [] : [-this.sigma(s)];
    if (order === 2) {
      const { s1, alpha } = this.stage1Coef(s, h, 1 / 2);
      await this.evalEps(x, s, [low, this.u, ...den], [this.order1Coef(t, h), alpha, ...denA]);
      return this.stage(x, s1, high, this.order2Coef(t, h, 1 / 2));
    }
    const { s1, alpha } = this.stage1Coef(s, h, 1 / 3);
    await this.evalEps(x, s, [this.u, ...den], [alpha, ...denA]);
    const { s2, coef } = this.stage2Coef(s, h, 1 / 3, 2 / 3);
    await this.stage(x, s1, low, this.order2Coef(t, h, 1 / 3), null, this.u, coef);
    await this.stage(x, s2, high, this.order3Coef(t, h, 2 / 3));
  }
}

/**
 * Port of k-diffusion's `PIDStepSizeController`: with inverse errors e0 (now), e1, e2 (the
 * last two accepted steps) the proposal is factor = e0^b1 e1^b2 e2^b3, limited by
 * 1 + atan(factor - 1); the step is accepted when that is >= accept_safety. Quirk kept: h is
 * multiplied by the factor whether or not the step is accepted (a reject shrinks h).
 */
export class PidStepSizeController {
  h: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly b3: number;
  private readonly errs = new Float64Array(3);
  private started = false;

  constructor(
    h: number,
    pcoeff: number,
    icoeff: number,
    dcoeff: number,
    order: number,
    private readonly acceptSafety = 0.81,
    private readonly eps = 1e-8,
  ) {
    this.h = h;
    this.b1 = (pcoeff + icoeff + dcoeff) / order;
    this.b2 = -(pcoeff + 2 * dcoeff) / order;
    this.b3 = dcoeff / order;
  }

  /** `propose_step(error)`: updates h, returns whether the attempt is accepted. */
  proposeStep(error: number): boolean {
    const inv = 1 / (error + this.eps);
    const errs = this.errs;
    if (!this.started) {
      errs.fill(inv);
      this.started = true;
    }
    errs[0] = inv;
    // plain Python float arithmetic: the powers are C pow calls and the limiter is 1 + atan(f − 1)
    // (core's libm gives the C library's correctly rounded results on every JavaScript engine)
    let factor = libm.pow(errs[0], this.b1) * libm.pow(errs[1], this.b2) * libm.pow(errs[2], this.b3);
    factor = 1 + libm.atan(factor - 1);
    const accept = factor >= this.acceptSafety;
    if (accept) {
      errs[2] = errs[1];
      errs[1] = errs[0];
    }
    this.h *= factor;
    return accept;
  }
}
