/**
 * The training noise schedule of diffusers' discrete schedulers: betas, alphas_cumprod and the
 * sigma table, as the float32 torch tensors diffusers builds them. Every value here is a
 * float32 (held in Float32Array), computed with the roundings torch applies.
 */
import { ArgumentError, torchLinspace, libm } from "@edmkit/core";
import { cumprodF32 } from "./float32.js";

const f = Math.fround;

export type AlphaTransform = "cosine" | "exp" | "laplace";

/**
 * Port of diffusers `betas_for_alpha_bar(num_diffusion_timesteps, max_beta=0.999,
 * alpha_transform_type)`: beta_i = min(1 - abar((i+1)/n) / abar(i/n), max_beta), computed in
 * Python floats (double; Python's `math` is the C library's, correctly rounded in practice:
 * core's `libm`) and stored as a float32 tensor.
 * - cosine (GLIDE's `squaredcos_cap_v2`): abar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2
 * - exp: abar(t) = exp(-12 t)
 * - laplace: abar(t) = sqrt(snr / (1 + snr)), snr = exp(lambda),
 *   lambda = -0.5 sign(0.5 - t) log(1 - 2|0.5 - t| + 1e-6)
 */
export function betasForAlphaBar(
  numDiffusionTimesteps: number,
  maxBeta = 0.999,
  alphaTransformType: AlphaTransform = "cosine",
): Float32Array {
  let abar: (t: number) => number;
  switch (alphaTransformType) {
    case "cosine":
      abar = (t) => {
        const c = libm.cos((((t + 0.008) / 1.008) * Math.PI) / 2);
        return c * c; // Python's ** 2: C pow(c, 2), the exact square rounded once
      };
      break;
    case "exp":
      abar = (t) => libm.exp(t * -12.0);
      break;
    case "laplace":
      abar = (t) => {
        const lmb = -0.5 * Math.sign(0.5 - t || 1) * libm.log(1 - 2 * Math.abs(0.5 - t) + 1e-6);
        const snr = libm.exp(lmb);
        return Math.sqrt(snr / (1 + snr));
      };
      break;
    default:
      throw new ArgumentError(
        `betasForAlphaBar: unsupported alpha_transform_type ${JSON.stringify(alphaTransformType)}`,
      );
  }
  const n = numDiffusionTimesteps;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t1 = i / n,
      t2 = (i + 1) / n;
    out[i] = Math.min(1 - abar(t2) / abar(t1), maxBeta);
  }
  return out;
}

/** `torch.linspace(beta_start, beta_end, n, dtype=torch.float32)` (diffusers "linear"). */
export function linearBetas(betaStart: number, betaEnd: number, n: number): Float32Array {
  return Float32Array.from(torchLinspace(betaStart, betaEnd, n, "float32"));
}

/**
 * diffusers "scaled_linear" (latent diffusion): `torch.linspace(beta_start**0.5,
 * beta_end**0.5, n, dtype=float32) ** 2`, the square roots taken in double, the linspace and
 * the square in float32.
 */
export function scaledLinearBetas(betaStart: number, betaEnd: number, n: number): Float32Array {
  const r = Float32Array.from(torchLinspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), n, "float32"));
  for (let i = 0; i < n; i++) r[i] = r[i] * r[i];
  return r;
}

/** alphas = 1 - betas, alphas_cumprod = cumprod(alphas), float32 torch ops. */
export function alphasCumprodFromBetas(betas: Float32Array): {
  alphas: Float32Array;
  alphasCumprod: Float32Array;
} {
  const alphas = new Float32Array(betas.length);
  for (let i = 0; i < betas.length; i++) alphas[i] = 1 - betas[i];
  return { alphas, alphasCumprod: cumprodF32(alphas) };
}

/**
 * Port of diffusers `rescale_zero_terminal_snr(betas)` (Lin et al. 2023, Algorithm 1) on a
 * float32 tensor: shift sqrt(alphas_cumprod) so its last entry is 0, scale it so the first
 * entry keeps its value, and turn it back into betas. Every operation is a float32 torch op
 * (cumprod with a double accumulator).
 */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const { alphasCumprod } = alphasCumprodFromBetas(betas);
  const sq = new Float32Array(n);
  for (let i = 0; i < n; i++) sq[i] = Math.sqrt(alphasCumprod[i]);
  const a0 = sq[0],
    aT = sq[n - 1];
  const factor = f(a0 / f(a0 - aT));
  for (let i = 0; i < n; i++) sq[i] = f(f(sq[i] - aT) * factor);
  const abar = new Float32Array(n);
  for (let i = 0; i < n; i++) abar[i] = sq[i] * sq[i];
  const out = new Float32Array(n);
  out[0] = 1 - abar[0];
  for (let i = 1; i < n; i++) out[i] = 1 - f(abar[i] / abar[i - 1]);
  return out;
}

/**
 * sigma_j = ((1 - alphas_cumprod_j) / alphas_cumprod_j) ** 0.5 as diffusers computes it on
 * the float32 tensor (three float32 roundings). Index j is the training timestep.
 */
export function sigmasFromAlphasCumprodF32(alphasCumprod: Float32Array): Float32Array {
  const out = new Float32Array(alphasCumprod.length);
  for (let j = 0; j < out.length; j++) {
    const a = alphasCumprod[j];
    out[j] = Math.sqrt(f(f(1 - a) / a));
  }
  return out;
}

/** The betas a scheduler config asks for (diffusers' `__init__` branch on beta_schedule). */
export interface BetaConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: string;
  trained_betas: readonly number[] | null;
}

/**
 * diffusers' constructor logic: `trained_betas` (rounded to float32) wins; otherwise the
 * named schedule. `supported` maps the schedule names the class accepts; anything else is
 * diffusers' NotImplementedError, raised here with the same words.
 */
export function betasFromConfig(
  className: string,
  cfg: BetaConfig,
  supported: readonly string[],
): Float32Array {
  if (cfg.trained_betas !== null && cfg.trained_betas !== undefined) {
    return Float32Array.from(cfg.trained_betas);
  }
  const n = cfg.num_train_timesteps;
  const s = cfg.beta_schedule;
  if (supported.includes(s)) {
    switch (s) {
      case "linear":
        return linearBetas(cfg.beta_start, cfg.beta_end, n);
      case "scaled_linear":
        return scaledLinearBetas(cfg.beta_start, cfg.beta_end, n);
      case "squaredcos_cap_v2":
        return betasForAlphaBar(n, 0.999, "cosine");
      case "exp":
        return betasForAlphaBar(n, 0.999, "exp");
    }
  }
  throw new ArgumentError(
    `${className}: beta_schedule ${JSON.stringify(s)} is not implemented (diffusers raises ` +
      `NotImplementedError: "${s} is not implemented for <class '${className}'>"); ` +
      `expected one of ${supported.join(", ")}, or trained_betas`,
  );
}

export interface TrainingTables {
  betas: Float32Array;
  alphas: Float32Array;
  alphasCumprod: Float32Array;
  /** sqrt((1 - abar) / abar) per training timestep, float32, increasing with t */
  trainSigmas: Float32Array;
}

/**
 * The tables every scheduler's constructor builds: betas from the config, optionally
 * rescaled to zero terminal SNR (whose infinite first sigma diffusers avoids by pinning
 * alphas_cumprod[-1] to 2**-24, the smallest float16 subnormal), the float32 cumulative
 * products and the training sigmas.
 */
export function trainingTables(
  className: string,
  cfg: BetaConfig & { rescale_betas_zero_snr?: boolean },
  supported: readonly string[],
): TrainingTables {
  let betas = betasFromConfig(className, cfg, supported);
  if (cfg.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  const { alphas, alphasCumprod } = alphasCumprodFromBetas(betas);
  if (cfg.rescale_betas_zero_snr) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return { betas, alphas, alphasCumprod, trainSigmas: sigmasFromAlphasCumprodF32(alphasCumprod) };
}

/** The training sigmas in sampling order (descending) with a final 0: the schedule before set_timesteps. */
export function descendingSigmasWithZero(trainSigmas: Float32Array): Float32Array {
  const T = trainSigmas.length;
  const sigmas = new Float32Array(T + 1);
  for (let j = 0; j < T; j++) sigmas[j] = trainSigmas[T - 1 - j];
  return sigmas;
}
