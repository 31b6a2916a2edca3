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
 * Tensor updates go through core's kernels, which round each torch op in float32.
 */
import {
  axpy,
  batchSize,
  type Denoiser,
  libm,
  sub,
  subDiv,
  type Tensor,
  zerosLike,
  torchMath,
  type TorchMath,
} from "@edmkit/core";
import { checkModelOutput } from "./common.js";

/**
 * Which eps evaluations of the current step are already known (the original's per-step
 * `eps_cache` dict with keys 'eps', 'eps_r1', 'eps_r2'). Reset at the start of every step.
 */
export interface EpsCache {
  eps: boolean;
  epsR1: boolean;
  epsR2: boolean;
}

/**
 * Port of k-diffusion's `DPMSolver` (sampling.py): a denoiser seen through the noise
 * prediction eps(x, t) = (x - D(x; sigma(t))) / sigma(t) with sigma(t) = exp(-t), and the
 * DPM-Solver-1/2/3 single steps from t to t_next. Owns its work buffers (allocated once per
 * sampling call): eps, eps_r1, eps_r2 hold the cached evaluations of the current step.
 */
export class DpmSolverCore {
  readonly m: TorchMath;
  readonly eps: Tensor;
  readonly epsR1: Tensor;
  readonly epsR2: Tensor;
  /** Intermediate states u1, u2 (the model inputs of the inner stages). */
  private readonly u: Tensor;
  private readonly diff: Tensor;
  private readonly modelOut: Tensor;
  private readonly sigmaRow: Float64Array;
  /** Number of model evaluations so far (the original's eps_callback / progress bar). */
  nfe = 0;
  /** The sampler's current step (attempt, for the adaptive one), for error messages. */
  step = 0;

  constructor(
    private readonly model: Denoiser,
    template: Tensor,
    private readonly fn = "DPMSolver",
  ) {
    this.m = torchMath(template.dtype);
    this.eps = zerosLike(template);
    this.epsR1 = zerosLike(template);
    this.epsR2 = zerosLike(template);
    this.u = zerosLike(template);
    this.diff = zerosLike(template);
    this.modelOut = zerosLike(template);
    this.sigmaRow = new Float64Array(batchSize(template));
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
   * `DPMSolver.eps`: out = (x - D(x; sigma(t))) / sigma(t). The model gets sigma(t) per row
   * (`sigma(t) * x.new_ones([B])`, so in x's dtype).
   */
  async evalEps(out: Tensor, x: Tensor, t: number): Promise<Tensor> {
    const sigma = this.sigma(t),
      model = this.model;
    const given =
      model.denoiseUniform !== undefined
        ? await model.denoiseUniform(x, this.m.r(sigma), this.modelOut)
        : await model.denoise(x, this.sigmaRow.fill(this.m.r(sigma)), this.modelOut);
    const d = checkModelOutput(this.fn, this.step, sigma, given, x);
    this.nfe++;
    return subDiv(out, x, d, sigma);
  }

  private async ensureEps(cache: EpsCache, x: Tensor, t: number): Promise<void> {
    if (!cache.eps) {
      await this.evalEps(this.eps, x, t);
      cache.eps = true;
    }
  }

  /** u1 = x - sigma(s1) expm1(r1 h) eps, then eps_r1 = eps(u1, s1) (unless cached). */
  private async ensureEpsR1(cache: EpsCache, x: Tensor, t: number, h: number, r1: number): Promise<void> {
    if (cache.epsR1) return;
    const { m } = this;
    const r1h = m.mul(m.r(r1), h);
    const s1 = m.add(t, r1h); // stage point s₁ = t + r₁h
    // u₁ = x − σ(s₁)·expm1(r₁h)·ε, the two scalars multiplied before touching the tensor
    axpy(this.u, -m.mul(this.sigma(s1), m.expm1(r1h)), this.eps, x);
    await this.evalEps(this.epsR1, this.u, s1);
    cache.epsR1 = true;
  }

  /**
   * `DPMSolver.dpm_solver_1_step` (DDIM-like first order step):
   * out = x - sigma(t_next) expm1(h) eps, h = t_next - t.
   */
  async step1(out: Tensor, x: Tensor, t: number, tNext: number, cache: EpsCache): Promise<Tensor> {
    const { m } = this;
    const h = m.sub(tNext, t);
    await this.ensureEps(cache, x, t);
    // x − σ(t_next)·expm1(h)·ε, scalar coefficient first
    return axpy(out, -m.mul(this.sigma(tNext), m.expm1(h)), this.eps, x);
  }

  /**
   * `DPMSolver.dpm_solver_2_step`: one intermediate stage at s1 = t + r1 h, then
   * out = x - sigma(t_next) expm1(h) eps - sigma(t_next) / (2 r1) expm1(h) (eps_r1 - eps),
   * evaluated as the original groups it (scalar coefficients first, then two tensor updates).
   */
  async step2(
    out: Tensor,
    x: Tensor,
    t: number,
    tNext: number,
    r1: number,
    cache: EpsCache,
  ): Promise<Tensor> {
    const { m } = this;
    const h = m.sub(tNext, t);
    await this.ensureEps(cache, x, t);
    await this.ensureEpsR1(cache, x, t, h, r1);
    const sn = this.sigma(tNext);
    const em = m.expm1(h);
    // coefficients σ(t_next)·expm1(h) and (σ(t_next)/(2r₁))·expm1(h), with 2r₁ a Python float;
    // x minus the first times ε, then minus the second times (ε_r₁ − ε)
    const a = m.mul(sn, em);
    const c = m.mul(m.div(sn, m.r(2 * r1)), em);
    sub(this.diff, this.epsR1, this.eps);
    axpy(out, -a, this.eps, x);
    return axpy(out, -c, this.diff, out);
  }

  /**
   * `DPMSolver.dpm_solver_3_step`: stages at s1 = t + r1 h and s2 = t + r2 h,
   * u2 = x - sigma(s2) expm1(r2 h) eps - sigma(s2) (r2/r1) (expm1(r2 h)/(r2 h) - 1) (eps_r1 - eps),
   * out = x - sigma(t_next) expm1(h) eps - sigma(t_next)/r2 (expm1(h)/h - 1) (eps_r2 - eps).
   * (The quotient expm1(h)/h - 1 cancels for tiny h exactly as in the original.)
   */
  async step3(
    out: Tensor,
    x: Tensor,
    t: number,
    tNext: number,
    r1: number,
    r2: number,
    cache: EpsCache,
  ): Promise<Tensor> {
    const { m } = this;
    const h = m.sub(tNext, t);
    await this.ensureEps(cache, x, t);
    await this.ensureEpsR1(cache, x, t, h, r1);
    if (!cache.epsR2) {
      const r2h = m.mul(m.r(r2), h);
      const s2 = m.add(t, r2h); // stage point s₂ = t + r₂h
      const e2 = m.expm1(r2h);
      const sig2 = this.sigma(s2);
      // u₂: x minus σ(s₂)·expm1(r₂h) times ε, minus σ(s₂)·(r₂/r₁)·(expm1(r₂h)/(r₂h) − 1) times
      // (ε_r₁ − ε); r₂/r₁ is a Python float, the scalar product runs left to right
      const a2 = m.mul(sig2, e2);
      const c2 = m.mul3(sig2, m.r(r2 / r1), m.sub(m.div(e2, r2h), 1));
      sub(this.diff, this.epsR1, this.eps);
      axpy(this.u, -a2, this.eps, x);
      axpy(this.u, -c2, this.diff, this.u);
      await this.evalEps(this.epsR2, this.u, s2);
      cache.epsR2 = true;
    }
    const sn = this.sigma(tNext);
    const em = m.expm1(h);
    // x minus σ(t_next)·expm1(h) times ε, minus (σ(t_next)/r₂)·(expm1(h)/h − 1) times (ε_r₂ − ε)
    const a = m.mul(sn, em);
    const c = m.mul(m.div(sn, m.r(r2)), m.sub(m.div(em, h), 1));
    sub(this.diff, this.epsR2, this.eps);
    axpy(out, -a, this.eps, x);
    return axpy(out, -c, this.diff, out);
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
