/**
 * Network preconditioning (Karras et al. 2022, eq. 7 and Table 1): a raw network F
 * becomes the denoiser
 *
 *   D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x; c_noise(sigma)).
 *
 * | preset | c_skip                   | c_out                          | c_in                 | c_noise                  |
 * | VP     | 1                        | -sigma                         | 1/sqrt(sigma^2+1)    | (M-1) sigma^-1(sigma)    |
 * | VE     | 1                        | sigma                          | 1                    | ln(sigma/2)              |
 * | iDDPM  | 1                        | -sigma                         | 1/sqrt(sigma^2+1)    | M-1-argmin_j |u_j-sigma| |
 * | EDM    | sd^2/(sigma^2+sd^2)      | sigma sd/sqrt(sigma^2+sd^2)    | 1/sqrt(sigma^2+sd^2) | ln(sigma)/4              |
 *
 * The training target of F follows from the same coefficients:
 * F_target = (y - c_skip x) / c_out for x = y + n (eq. 8), see `networkTarget`.
 */
import { ArgumentError, type Denoiser, type Tensor, tensor, allocate, libm } from "@edmkit/core";
import { iddpmTable, type IddpmParams } from "./discretization.js";
import { vpSchedule } from "./schedule.js";

/** A raw network F(input; c_noise) with one c_noise per batch row. */
export type RawNetwork = (input: Tensor, cNoise: Float64Array) => Promise<Tensor> | Tensor;

export interface Preconditioning {
  readonly name: string;
  cSkip(sigma: number): number;
  cOut(sigma: number): number;
  cIn(sigma: number): number;
  cNoise(sigma: number): number;
  /** sigma from c_noise (the inverse of cNoise), where it exists. */
  sigmaFromNoise?(cNoise: number): number;
  /** Noise levels the network supports (NVlabs `net.sigma_min/max`). */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  /** Maps a requested sigma to one the network supports (NVlabs `net.round_sigma`). */
  roundSigma?(sigma: number): number;
}

/** EDM preconditioning with data standard deviation sigma_data (default 0.5). */
export function edmPreconditioning(
  opts: { sigma_data?: number; sigmaMin?: number; sigmaMax?: number } = {},
): Preconditioning {
  const sd = opts.sigma_data ?? 0.5;
  if (!(sd > 0)) throw new ArgumentError(`edmPreconditioning: sigma_data must be positive, got ${sd}`);
  const sd2 = sd * sd;
  return {
    name: "edm",
    cSkip: (s) => sd2 / (s * s + sd2),
    cOut: (s) => (s * sd) / Math.sqrt(s * s + sd2),
    cIn: (s) => 1 / Math.sqrt(s * s + sd2),
    cNoise: (s) => libm.log(s) / 4,
    sigmaFromNoise: (c) => libm.exp(4 * c),
    sigmaMin: opts.sigmaMin ?? 0,
    sigmaMax: opts.sigmaMax ?? Infinity,
  };
}

/** VE preconditioning; supported range [sigma_min, sigma_max] (default [0.02, 100]). */
export function vePreconditioning(opts: { sigma_min?: number; sigma_max?: number } = {}): Preconditioning {
  return {
    name: "ve",
    cSkip: () => 1,
    cOut: (s) => s,
    cIn: () => 1,
    cNoise: (s) => libm.log(0.5 * s),
    sigmaFromNoise: (c) => 2 * libm.exp(c),
    sigmaMin: opts.sigma_min ?? 0.02,
    sigmaMax: opts.sigma_max ?? 100,
  };
}

/**
 * VP preconditioning: c_noise = (M-1) t with t = sigma^-1(sigma) in the VP schedule;
 * supported range [sigma(epsilon_t), sigma(1)].
 */
export function vpPreconditioning(
  opts: { beta_d?: number; beta_min?: number; M?: number; epsilon_t?: number } = {},
): Preconditioning {
  const M = opts.M ?? 1000,
    eps = opts.epsilon_t ?? 1e-5;
  const sched = vpSchedule(opts);
  const inv = sched.sigmaInv!;
  return {
    name: "vp",
    cSkip: () => 1,
    cOut: (s) => -s,
    cIn: (s) => 1 / Math.sqrt(s * s + 1),
    cNoise: (s) => (M - 1) * inv(s),
    sigmaFromNoise: (c) => sched.sigma(c / (M - 1)),
    sigmaMin: sched.sigma(eps),
    sigmaMax: sched.sigma(1),
  };
}

/** Index of the table entry nearest to sigma (first one on ties, like argmin). */
function nearestIndex(u: Float64Array, sigma: number): number {
  let best = 0,
    bestD = Infinity;
  for (let j = 0; j < u.length; j++) {
    const d = Math.abs(u[j] - sigma);
    if (d < bestD) {
      bestD = d;
      best = j;
    }
  }
  return best;
}

/**
 * iDDPM preconditioning: c_noise = M - 1 - j with j the table index nearest sigma;
 * round_sigma snaps sigma to u_j; supported range [u_{M-1}, u_0]. (NVlabs compares in
 * float32 against a float32 table; this is the float64 math.)
 */
export function iddpmPreconditioning(params: IddpmParams = {}): Preconditioning {
  const M = params.M ?? 1000;
  const u = iddpmTable(params);
  return {
    name: "iddpm",
    cSkip: () => 1,
    cOut: (s) => -s,
    cIn: (s) => 1 / Math.sqrt(s * s + 1),
    cNoise: (s) => M - 1 - nearestIndex(u, s),
    sigmaFromNoise: (c) => u[M - 1 - Math.round(c)],
    sigmaMin: u[M - 1],
    sigmaMax: u[0],
    roundSigma: (s) => u[nearestIndex(u, s)],
  };
}

/**
 * Wrap a raw network into a Denoiser: D(x; sigma) = c_skip x + c_out F(c_in x; c_noise),
 * coefficients per batch row. Work buffers are reused between calls of the same size.
 */
export function preconditionedDenoiser(F: RawNetwork, precond: Preconditioning): Denoiser {
  let inBuf: Tensor | undefined;
  let cn = new Float64Array(0);
  return {
    sigmaMin: precond.sigmaMin,
    sigmaMax: precond.sigmaMax,
    roundSigma: precond.roundSigma?.bind(precond),
    async denoise(x: Tensor, sigma: Float64Array, out?: Tensor): Promise<Tensor> {
      const n = x.data.length,
        rows = sigma.length;
      if (rows === 0 || n % rows !== 0)
        throw new ArgumentError(`preconditionedDenoiser: ${rows} sigmas for ${n} values`);
      const per = n / rows;
      if (!inBuf || inBuf.data.length !== n || inBuf.dtype !== x.dtype)
        inBuf = tensor(allocate(x.dtype, n), x.shape);
      else if (inBuf.shape.length !== x.shape.length || inBuf.shape.some((d, i) => d !== x.shape[i]))
        inBuf = tensor(inBuf.data, x.shape);
      if (cn.length !== rows) cn = new Float64Array(rows);
      const xi = inBuf.data,
        xs = x.data;
      const r32 = x.dtype === "float32" ? Math.fround : (v: number) => v;
      for (let b = 0, k = 0; b < rows; b++) {
        const cIn = r32(precond.cIn(sigma[b]));
        cn[b] = precond.cNoise(sigma[b]);
        for (let j = 0; j < per; j++, k++) xi[k] = xs[k] * cIn;
      }
      const f = await F(inBuf, cn);
      if (f.data.length !== n)
        throw new ArgumentError(
          `preconditionedDenoiser: the network returned ${f.data.length} values for ${n} inputs`,
        );
      const o = out && out.data.length === n ? out : tensor(allocate(x.dtype, n), x.shape);
      const od = o.data,
        fd = f.data;
      for (let b = 0, k = 0; b < rows; b++) {
        const cs = r32(precond.cSkip(sigma[b])),
          co = r32(precond.cOut(sigma[b]));
        for (let j = 0; j < per; j++, k++) od[k] = r32(cs * xs[k]) + r32(co * fd[k]);
      }
      return o;
    },
  };
}

/**
 * The network a perfect training would produce for a given exact denoiser:
 * F(c_in x; c_noise) = (D(x; sigma) - c_skip x) / c_out, sigma recovered from c_noise.
 * Wrapping it again with `preconditionedDenoiser` gives back D (up to rounding).
 */
export function idealNetwork(denoiser: Denoiser, precond: Preconditioning): RawNetwork {
  if (!precond.sigmaFromNoise)
    throw new ArgumentError(
      `idealNetwork: preconditioning '${precond.name}' cannot recover sigma from c_noise`,
    );
  const fromNoise = precond.sigmaFromNoise.bind(precond);
  return async (input, cNoise) => {
    const rows = cNoise.length,
      n = input.data.length,
      per = n / rows;
    const sig = Float64Array.from(cNoise, (c) => fromNoise(c));
    const x = new Float64Array(n);
    for (let b = 0, k = 0; b < rows; b++) {
      const cIn = precond.cIn(sig[b]);
      for (let j = 0; j < per; j++, k++) x[k] = input.data[k] / cIn;
    }
    const xt = tensor(x, input.shape);
    const d = await denoiser.denoise(xt, sig);
    const f = new Float64Array(n);
    for (let b = 0, k = 0; b < rows; b++) {
      const cs = precond.cSkip(sig[b]),
        co = precond.cOut(sig[b]);
      for (let j = 0; j < per; j++, k++) f[k] = (d.data[k] - cs * x[k]) / co;
    }
    return tensor(f, input.shape);
  };
}

/** The effective training target of F (eq. 8): (y - c_skip(sigma) (y + n)) / c_out(sigma). */
export function networkTarget(precond: Preconditioning, sigma: number, y: number, n: number): number {
  return (y - precond.cSkip(sigma) * (y + n)) / precond.cOut(sigma);
}
