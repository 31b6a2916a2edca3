/**
 * Everything under k-diffusion's original names, called the way Python calls it: the
 * positional arguments in order, then the keyword arguments by their original snake_case
 * names in one options object, e.g.
 *
 *   samplers.sample_heun(model, x, sigmas, { s_churn: 2.5, s_tmin: 0.1, s_tmax: 20, callback })
 *
 * so a recorded `reference.call` passes straight through. Keyword arguments the original
 * does not have are rejected. Additions (not in the original): `noise` (the NoiseSource that
 * stands in for `torch.randn_like` in the samplers that call it), `observer` (core's
 * SamplerObserver), and `dtype` for the schedules (torch's default dtype). `noise_sampler`
 * takes a NoiseSource or a function `(sigma, sigma_next) => Tensor` like the original's.
 * `extra_args` must be empty (a Denoiser takes only x and sigma: bind extra inputs into the
 * model), `disable` (the progress bar) is accepted and ignored, `device` must be "cpu".
 */
import type { Denoiser, DiscreteModel, NoiseSource, Tensor } from "@edmkit/core";
import { DiscreteEpsDDPMDenoiser, DiscreteVDDPMDenoiser, VDenoiser } from "./external.js";
import { sampleDpm2, sampleDpm2Ancestral } from "./samplers/dpm2.js";
import {
  type DpmAdaptiveOptions,
  type DpmAdaptiveResult,
  type DpmFastOptions,
  sampleDpmAdaptive,
  sampleDpmFast,
} from "./samplers/dpm-solver.js";
import { sampleDpmpp2m, sampleDpmpp2sAncestral } from "./samplers/dpmpp.js";
import { sampleDpmpp2mSde, sampleDpmpp3mSde, sampleDpmppSde } from "./samplers/dpmpp-sde.js";
import { sampleEuler, sampleEulerAncestral } from "./samplers/euler.js";
import { sampleHeun } from "./samplers/heun.js";
import { sampleLms } from "./samplers/lms.js";
import { getSigmasExponential, getSigmasKarras, getSigmasPolyexponential, getSigmasVp } from "./schedules.js";
import { fail } from "./validate.js";

export type Options = Record<string, unknown>;

/** How an original function is called: positional parameter names, then keyword names. */
export interface Signature {
  readonly params: readonly string[];
  readonly kwargs: readonly string[];
}

const HOOKS = ["extra_args", "callback", "disable", "observer"];
const CHURN = [...HOOKS, "s_churn", "s_tmin", "s_tmax", "s_noise", "noise"];
const ANCESTRAL = [...HOOKS, "eta", "s_noise", "noise_sampler"];
const SIGMAS = ["model", "x", "sigmas"];

/** The signatures of every sampler entry (dpm_fast / dpm_adaptive included). */
export const samplerSignatures = {
  sample_euler: { params: SIGMAS, kwargs: CHURN },
  sample_euler_ancestral: { params: SIGMAS, kwargs: ANCESTRAL },
  sample_heun: { params: SIGMAS, kwargs: CHURN },
  sample_dpm_2: { params: SIGMAS, kwargs: CHURN },
  sample_dpm_2_ancestral: { params: SIGMAS, kwargs: ANCESTRAL },
  sample_lms: { params: SIGMAS, kwargs: [...HOOKS, "order"] },
  sample_dpmpp_2s_ancestral: { params: SIGMAS, kwargs: ANCESTRAL },
  sample_dpmpp_sde: { params: SIGMAS, kwargs: [...ANCESTRAL, "r"] },
  sample_dpmpp_2m: { params: SIGMAS, kwargs: HOOKS },
  sample_dpmpp_2m_sde: { params: SIGMAS, kwargs: [...ANCESTRAL, "solver_type"] },
  sample_dpmpp_3m_sde: { params: SIGMAS, kwargs: ANCESTRAL },
  sample_dpm_fast: { params: ["model", "x", "sigma_min", "sigma_max", "n"], kwargs: ANCESTRAL },
  sample_dpm_adaptive: {
    params: ["model", "x", "sigma_min", "sigma_max"],
    kwargs: [
      ...ANCESTRAL,
      "order",
      "rtol",
      "atol",
      "h_init",
      "pcoeff",
      "icoeff",
      "dcoeff",
      "accept_safety",
      "return_info",
    ],
  },
} as const satisfies Record<string, Signature>;

export type SamplerName = keyof typeof samplerSignatures;

/** snake_case -> camelCase (s_churn -> sChurn, noise_sampler -> noiseSampler). */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A NoiseSource from a NoiseSource or an original-style `(sigma, sigma_next) => Tensor`. */
export function toNoiseSource(fn: string, arg: string, v: unknown): NoiseSource | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "object" && typeof (v as NoiseSource).randn === "function") return v as NoiseSource;
  if (typeof v === "function") {
    const f = v as (sigma: number | undefined, sigmaNext: number | undefined) => Tensor | ArrayLike<number>;
    return {
      randn(out, request) {
        const got = f(request?.sigma, request?.sigmaNext);
        const data = (got as Tensor).data ?? (got as ArrayLike<number>);
        if (!data || data.length !== out.data.length)
          fail(fn, `${arg} returned ${data ? data.length : 0} values, expected ${out.data.length}`);
        for (let k = 0; k < data.length; k++) out.data[k] = data[k];
        return out;
      },
    };
  }
  fail(fn, `${arg} must be a NoiseSource or a function (sigma, sigma_next) => Tensor`);
}

/** Check keyword names against a signature and convert them to the camelCase options. */
export function convertKwargs(fn: string, sig: Signature, kwargs: Options | undefined): Options {
  const out: Options = {};
  if (kwargs === undefined || kwargs === null) return out;
  if (typeof kwargs !== "object" || Array.isArray(kwargs))
    fail(fn, "keyword arguments must be given as one object");
  for (const [key, value] of Object.entries(kwargs)) {
    if (!sig.kwargs.includes(key)) {
      fail(fn, `unexpected keyword argument '${key}' (accepted: ${sig.kwargs.join(", ")})`);
    }
    if (value === undefined) continue;
    switch (key) {
      case "extra_args":
        if (value !== null && (typeof value !== "object" || Object.keys(value as object).length > 0)) {
          fail(
            fn,
            "extra_args is not supported: a Denoiser takes only (x, sigma); bind extra model inputs into the model",
          );
        }
        break;
      case "disable":
        break;
      case "device":
        if (value !== "cpu") fail(fn, `device must be "cpu", got ${JSON.stringify(value)}`);
        break;
      case "noise_sampler":
      case "noise":
        out[snakeToCamel(key)] = toNoiseSource(fn, key, value);
        break;
      default:
        out[snakeToCamel(key)] = value;
    }
  }
  return out;
}

function withSigmas<O>(
  name: SamplerName,
  f: (model: Denoiser, x: Tensor, sigmas: ArrayLike<number> | Tensor, o: O) => Promise<Tensor>,
) {
  return async (
    model: Denoiser,
    x: Tensor,
    sigmas: ArrayLike<number> | Tensor,
    kwargs?: Options,
  ): Promise<Tensor> => f(model, x, sigmas, convertKwargs(name, samplerSignatures[name], kwargs) as O);
}

/** The samplers of `k_diffusion.sampling` under their original names. */
export const samplers = {
  sample_euler: withSigmas("sample_euler", sampleEuler),
  sample_euler_ancestral: withSigmas("sample_euler_ancestral", sampleEulerAncestral),
  sample_heun: withSigmas("sample_heun", sampleHeun),
  sample_dpm_2: withSigmas("sample_dpm_2", sampleDpm2),
  sample_dpm_2_ancestral: withSigmas("sample_dpm_2_ancestral", sampleDpm2Ancestral),
  sample_lms: withSigmas("sample_lms", sampleLms),
  sample_dpmpp_2s_ancestral: withSigmas("sample_dpmpp_2s_ancestral", sampleDpmpp2sAncestral),
  sample_dpmpp_sde: withSigmas("sample_dpmpp_sde", sampleDpmppSde),
  sample_dpmpp_2m: withSigmas("sample_dpmpp_2m", sampleDpmpp2m),
  sample_dpmpp_2m_sde: withSigmas("sample_dpmpp_2m_sde", sampleDpmpp2mSde),
  sample_dpmpp_3m_sde: withSigmas("sample_dpmpp_3m_sde", sampleDpmpp3mSde),
  sample_dpm_fast: async (
    model: Denoiser,
    x: Tensor,
    sigma_min: number,
    sigma_max: number,
    n: number,
    kwargs?: Options,
  ): Promise<Tensor> =>
    sampleDpmFast(
      model,
      x,
      sigma_min,
      sigma_max,
      n,
      convertKwargs("sample_dpm_fast", samplerSignatures.sample_dpm_fast, kwargs) as DpmFastOptions,
    ),
  /** With `return_info: true` the result is `{ x, info }` (the original returns the tuple `(x, info)`). */
  sample_dpm_adaptive: async (
    model: Denoiser,
    x: Tensor,
    sigma_min: number,
    sigma_max: number,
    kwargs?: Options,
  ): Promise<Tensor | DpmAdaptiveResult> =>
    sampleDpmAdaptive(
      model,
      x,
      sigma_min,
      sigma_max,
      convertKwargs(
        "sample_dpm_adaptive",
        samplerSignatures.sample_dpm_adaptive,
        kwargs,
      ) as DpmAdaptiveOptions,
    ),
};

/**
 * Call a registered sampler with a keyword dictionary that holds the positional arguments
 * too (a fixture's `reference.call`): the names in the signature's `params` are taken out in
 * order, the rest are keyword arguments.
 */
export async function callSampler(name: string, call: Options): Promise<unknown> {
  const sig = (samplerSignatures as Record<string, Signature>)[name];
  const f = (samplers as Record<string, (...args: unknown[]) => Promise<unknown>>)[name];
  if (!sig || !f) fail(name, "no such sampler in this port");
  const positional: unknown[] = [];
  const kwargs: Options = {};
  for (const p of sig.params) {
    if (!(p in call)) fail(name, `missing required argument '${p}'`);
    positional.push(call[p]);
  }
  for (const [k, v] of Object.entries(call)) if (!sig.params.includes(k)) kwargs[k] = v;
  return f(...positional, kwargs);
}

/** Is the sampler registered? */
export function hasSampler(name: string): boolean {
  return Object.hasOwn(samplers, name);
}

const SCHED = ["device", "dtype"];

export const scheduleSignatures = {
  get_sigmas_karras: { params: ["n", "sigma_min", "sigma_max"], kwargs: ["rho", ...SCHED] },
  get_sigmas_exponential: { params: ["n", "sigma_min", "sigma_max"], kwargs: SCHED },
  get_sigmas_polyexponential: { params: ["n", "sigma_min", "sigma_max"], kwargs: ["rho", ...SCHED] },
  get_sigmas_vp: { params: ["n"], kwargs: ["beta_d", "beta_min", "eps_s", ...SCHED] },
} as const satisfies Record<string, Signature>;

/** The schedules of `k_diffusion.sampling` under their original names (values with a trailing 0). */
export const schedules = {
  get_sigmas_karras: (n: number, sigma_min: number, sigma_max: number, kwargs?: Options): Float64Array =>
    getSigmasKarras(
      n,
      sigma_min,
      sigma_max,
      convertKwargs("get_sigmas_karras", scheduleSignatures.get_sigmas_karras, kwargs),
    ),
  get_sigmas_exponential: (n: number, sigma_min: number, sigma_max: number, kwargs?: Options): Float64Array =>
    getSigmasExponential(
      n,
      sigma_min,
      sigma_max,
      convertKwargs("get_sigmas_exponential", scheduleSignatures.get_sigmas_exponential, kwargs),
    ),
  get_sigmas_polyexponential: (
    n: number,
    sigma_min: number,
    sigma_max: number,
    kwargs?: Options,
  ): Float64Array =>
    getSigmasPolyexponential(
      n,
      sigma_min,
      sigma_max,
      convertKwargs("get_sigmas_polyexponential", scheduleSignatures.get_sigmas_polyexponential, kwargs),
    ),
  get_sigmas_vp: (n: number, kwargs?: Options): Float64Array =>
    getSigmasVp(n, convertKwargs("get_sigmas_vp", scheduleSignatures.get_sigmas_vp, kwargs)),
};

/** Call a schedule with a keyword dictionary that also holds its positional arguments. */
export function callSchedule(name: string, call: Options): Float64Array {
  const sig = (scheduleSignatures as Record<string, Signature>)[name];
  const f = (schedules as Record<string, (...args: unknown[]) => Float64Array>)[name];
  if (!sig || !f) fail(name, "no such schedule in this port");
  const positional = sig.params.map((p) => {
    if (!(p in call)) fail(name, `missing required argument '${p}'`);
    return call[p];
  });
  const kwargs: Options = {};
  for (const [k, v] of Object.entries(call)) if (!sig.params.includes(k)) kwargs[k] = v;
  return f(...positional, kwargs);
}

/** The model wrappers of `k_diffusion.external` under their original names. */
export const wrappers = {
  DiscreteEpsDDPMDenoiser: (
    model: DiscreteModel,
    alphas_cumprod: ArrayLike<number>,
    kwargs: { quantize?: boolean } = {},
  ) => new DiscreteEpsDDPMDenoiser(model, alphas_cumprod, { quantize: kwargs.quantize }),
  DiscreteVDDPMDenoiser: (
    model: DiscreteModel,
    alphas_cumprod: ArrayLike<number>,
    kwargs: { quantize?: boolean } = {},
  ) => new DiscreteVDDPMDenoiser(model, alphas_cumprod, { quantize: kwargs.quantize }),
  VDenoiser: (inner_model: DiscreteModel) => new VDenoiser(inner_model),
};
