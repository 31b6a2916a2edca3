/**
 * NVlabs' `edm_sampler` and `ablation_sampler` (NVlabs/edm generate.py), reproduced on the
 * general sampler of sampler.ts. Described in our own words; the behaviour reproduced:
 *
 * - Noise range: `sigma_min`/`sigma_max` default per discretization (vp: sigma_vp(epsilon_s)
 *   and sigma_vp(1) with beta_d 19.9, beta_min 0.1; ve 0.02/100; iddpm 0.002/81; edm
 *   0.002/80; `edm_sampler` 0.002/80) and are then clamped with the net's
 *   `sigma_min`/`sigma_max` (quirk 18).
 * - VP betas are recomputed from that range so that sigma(epsilon_s) = sigma_min and
 *   sigma(1) = sigma_max: beta_d = 2 (ln(sigma_min^2+1)/epsilon_s - ln(sigma_max^2+1)) /
 *   (epsilon_s - 1), beta_min = ln(sigma_max^2+1) - beta_d/2. For the defaults this is not
 *   19.9 / 0.1 but 19.899999999999853 / 0.10000000000007248 with correctly rounded logs
 *   (quirk 17; the recorder's numpy log returned 19.89999999999985, one ulp lower, see
 *   `nvlabsVpBetas`).
 * - vp sigma(t) is `e ** x - 1` with `e ** x` a power of the double nearest e, not exp(x).
 * - Discretizations give noise levels; times are t_i = sigma^-1(round_sigma(sigma_i)),
 *   then t_N = 0. iDDPM's abar is float32 under torch default dtype float32 (quirk 16), its
 *   indices round half to even.
 * - Every step: gamma = min(S_churn / num_steps, sqrt(2) - 1) if S_min <= sigma(t_cur) <= S_max;
 *   t_hat = sigma^-1(round_sigma(sigma(t_cur) + gamma sigma(t_cur))) even when gamma = 0
 *   (quirk 14); `randn_like` is called every step (quirk 13) and the noise formula
 *   s(t_hat)/s(t_cur) x + sqrt(max(sigma(t_hat)^2 - sigma(t_cur)^2, 0)) s(t_hat) S_noise eps
 *   is always applied.
 * - The net sees x_hat / s(t_hat) and sigma(t_hat) (quirk 15); its output is used in float64
 *   whatever precision it computed in; all sampler arithmetic is float64 (quirk 13).
 * - Last step Euler by index (i = num_steps - 1): nfe = 2N - 1 for heun.
 * - `edm_sampler` is the special case sigma(t) = t, s = 1 written as d = (x - D)/t with the
 *   second evaluation at t_next; `ablation_sampler` uses the general formula for every
 *   schedule (also "linear") and evaluates the correction at t_hat + alpha h.
 *
 * Scalars (schedule, discretization, betas) are computed with correctly rounded exp / log /
 * pow / sin (core's `libm`), which is what the reference machine's C library returned.
 */
import { ArgumentError } from "@edmkit/core";
import { type Denoiser, libm, type NoiseSource, type SamplerObserver, type Tensor } from "@edmkit/core";
import { correctlyRoundedMath } from "./scalar-math.js";
import { edmSigmas, iddpmSigmas, veTimes, vpTimes, withFinalZero } from "./discretization.js";
import { planSampler, runPlan, type SamplerConventions, type SamplerPlan } from "./sampler.js";
import { linearSchedule, type Schedule } from "./schedule.js";

const ROUND_TRIP: SamplerConventions = { tHat: "round-trip", noiseDraws: "every-step", lastStep: "index" };

/** Keyword arguments of NVlabs `edm_sampler` (original names). */
export interface EdmSamplerKwargs {
  num_steps?: number;
  sigma_min?: number;
  sigma_max?: number;
  rho?: number;
  S_churn?: number;
  S_min?: number;
  S_max?: number;
  S_noise?: number;
}

/** Keyword arguments of NVlabs `ablation_sampler` (original names; null = default). */
export interface AblationSamplerKwargs {
  num_steps?: number;
  sigma_min?: number | null;
  sigma_max?: number | null;
  rho?: number;
  solver?: "euler" | "heun";
  discretization?: "vp" | "ve" | "iddpm" | "edm";
  schedule?: "vp" | "ve" | "linear";
  scaling?: "vp" | "none";
  epsilon_s?: number;
  C_1?: number;
  C_2?: number;
  M?: number;
  alpha?: number;
  S_churn?: number;
  S_min?: number;
  S_max?: number;
  S_noise?: number;
}

/** How a run is wired: the noise stream (`randn_like`), observers, torch's default dtype. */
export interface NvlabsRunOptions {
  /** Source of every `randn_like` draw (one per step). */
  randn_like?: NoiseSource;
  observer?: SamplerObserver;
  /** torch's default dtype at call time (default "float64"); only the iDDPM table depends on it. */
  defaultDtype?: "float32" | "float64";
}

/** What a call computed before its loop (the sampler's locals that fixtures record). */
export interface NvlabsSetup {
  entry: "edm_sampler" | "ablation_sampler";
  sigma_min: number;
  sigma_max: number;
  vp_beta_d?: number;
  vp_beta_min?: number;
  /** The discretization's noise levels (before round_sigma / sigma_inv). */
  sigma_steps: Float64Array;
  /** t_0..t_N with t_N = 0. */
  t_steps: Float64Array;
  schedule: Schedule;
  plan: SamplerPlan;
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function checkNumSteps(who: string, n: unknown): number {
  if (!isInt(n) || n < 2) {
    throw new ArgumentError(
      `${who}: num_steps must be an integer >= 2, got ${String(n)} (the original divides by num_steps - 1)`,
    );
  }
  return n;
}

const netRange = (net: Pick<Denoiser, "sigmaMin" | "sigmaMax">) => ({
  lo: net.sigmaMin ?? 0,
  hi: net.sigmaMax ?? Infinity,
});
const netRound = (net: Pick<Denoiser, "roundSigma">) =>
  net.roundSigma ? net.roundSigma.bind(net) : (s: number) => s;

/** vp sigma(t) as NVlabs writes it: (e ** (0.5 beta_d t^2 + beta_min t) - 1) ** 0.5. */
export function nvlabsVpSigma(beta_d: number, beta_min: number): (t: number) => number {
  return (t) => Math.sqrt(libm.pow(Math.E, 0.5 * beta_d * (t * t) + beta_min * t) - 1);
}

/**
 * NVlabs' recomputed VP betas (quirk 17). With correctly rounded logs the defaults give
 * beta_d = 19.899999999999853 and beta_min = 0.10000000000007248. The reference fixtures
 * record beta_d = 19.89999999999985 (one ulp lower) because the recorder's numpy `log`
 * (a vectorized, not correctly rounded implementation) returned ln(152.16697028394634^2 + 1)
 * one ulp below the correctly rounded 10.049999999999999 (the exact value is
 * 10.0499999999999983593...); beta_min is the same either way. Pass `log` to use another
 * logarithm.
 */
export function nvlabsVpBetas(
  sigma_min: number,
  sigma_max: number,
  epsilon_s: number,
  log: (x: number) => number = libm.log,
): { vp_beta_d: number; vp_beta_min: number } {
  const lmax = log(sigma_max * sigma_max + 1);
  const vp_beta_d = (2 * (log(sigma_min * sigma_min + 1) / epsilon_s - lmax)) / (epsilon_s - 1);
  return { vp_beta_d, vp_beta_min: lmax - 0.5 * vp_beta_d };
}

/** NVlabs' three sigma(t) schedules with their derivative and inverse, and the two scalings. */
export function nvlabsSchedule(
  schedule: "vp" | "ve" | "linear",
  scaling: "vp" | "none",
  vp: { vp_beta_d: number; vp_beta_min: number },
): Schedule {
  let sigma: (t: number) => number, sigmaDeriv: (t: number) => number, sigmaInv: (s: number) => number;
  if (schedule === "vp") {
    const bd = vp.vp_beta_d,
      bm = vp.vp_beta_min;
    sigma = nvlabsVpSigma(bd, bm);
    sigmaDeriv = (t) => {
      const sg = sigma(t);
      return 0.5 * (bm + bd * t) * (sg + 1 / sg);
    };
    sigmaInv = (sg) => (Math.sqrt(bm * bm + 2 * bd * libm.log(sg * sg + 1)) - bm) / bd;
  } else if (schedule === "ve") {
    sigma = (t) => Math.sqrt(t);
    sigmaDeriv = (t) => 0.5 / Math.sqrt(t);
    sigmaInv = (sg) => sg * sg;
  } else {
    sigma = (t) => t;
    sigmaDeriv = () => 1;
    sigmaInv = (sg) => sg;
  }
  let s: (t: number) => number, sDeriv: (t: number) => number;
  if (scaling === "vp") {
    s = (t) => {
      const sg = sigma(t);
      return 1 / Math.sqrt(1 + sg * sg);
    };
    sDeriv = (t) => {
      const st = s(t);
      return -sigma(t) * sigmaDeriv(t) * (st * st * st);
    };
  } else {
    s = () => 1;
    sDeriv = () => 0;
  }
  // not flagged `identity` even for linear/none: ablation_sampler uses the general formula
  return { name: `nvlabs-${schedule}-${scaling}`, sigma, sigmaDeriv, sigmaInv, s, sDeriv };
}

const EDM_KEYS = [
  "num_steps",
  "sigma_min",
  "sigma_max",
  "rho",
  "S_churn",
  "S_min",
  "S_max",
  "S_noise",
] as const;
const ABLATION_KEYS = [
  ...EDM_KEYS,
  "solver",
  "discretization",
  "schedule",
  "scaling",
  "epsilon_s",
  "C_1",
  "C_2",
  "M",
  "alpha",
] as const;

function num(
  who: string,
  name: string,
  v: unknown,
  def: number,
  pred: (x: number) => boolean = Number.isFinite,
  expected = "a finite number",
): number {
  if (v === undefined) return def;
  if (typeof v !== "number" || !pred(v))
    throw new ArgumentError(`${who}: ${name} must be ${expected}, got ${JSON.stringify(v)}`);
  return v;
}

function churnArgs(who: string, k: Pick<EdmSamplerKwargs, "S_churn" | "S_min" | "S_max" | "S_noise">) {
  return {
    S_churn: num(who, "S_churn", k.S_churn, 0, (x) => x >= 0 && Number.isFinite(x), "a finite number >= 0"),
    S_tmin: num(who, "S_min", k.S_min, 0, (x) => !Number.isNaN(x), "a number"),
    S_tmax: num(who, "S_max", k.S_max, Infinity, (x) => !Number.isNaN(x), "a number"),
    S_noise: num(who, "S_noise", k.S_noise, 1),
  };
}

/** The pre-loop computations of `edm_sampler`. */
export function nvlabsEdmSetup(
  net: Pick<Denoiser, "sigmaMin" | "sigmaMax" | "roundSigma">,
  kwargs: EdmSamplerKwargs = {},
): NvlabsSetup {
  const who = "edm_sampler";
  const N = checkNumSteps(who, kwargs.num_steps ?? 18);
  const { lo, hi } = netRange(net);
  const sigma_min = Math.max(
    num(who, "sigma_min", kwargs.sigma_min, 0.002, (x) => x > 0, "a positive number"),
    lo,
  );
  const sigma_max = Math.min(
    num(who, "sigma_max", kwargs.sigma_max, 80, (x) => x > 0, "a positive number"),
    hi,
  );
  const rho = num(who, "rho", kwargs.rho, 7, (x) => x > 0 && Number.isFinite(x), "a positive number");
  const round = netRound(net);
  const sigma_steps = edmSigmas(N, { sigma_min, sigma_max, rho }, correctlyRoundedMath);
  const t_steps = withFinalZero(sigma_steps.map(round));
  const schedule = linearSchedule("edm");
  const plan = planSampler({
    schedule,
    timeSteps: t_steps,
    allowRepeatedTimes: true,
    solver: "heun",
    ...churnArgs(who, kwargs),
    roundSigma: round,
    conventions: { ...ROUND_TRIP, secondPoint: "grid" },
  });
  return { entry: who, sigma_min, sigma_max, sigma_steps, t_steps, schedule, plan };
}

const oneOf = <T extends string>(who: string, name: string, v: unknown, def: T, allowed: readonly T[]): T => {
  if (v === undefined) return def;
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw new ArgumentError(
      `${who}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(", ")}, got ${JSON.stringify(v)}`,
    );
  }
  return v as T;
};

/** The pre-loop computations of `ablation_sampler`. */
export function nvlabsAblationSetup(
  net: Pick<Denoiser, "sigmaMin" | "sigmaMax" | "roundSigma">,
  kwargs: AblationSamplerKwargs = {},
  run: Pick<NvlabsRunOptions, "defaultDtype"> = {},
): NvlabsSetup {
  const who = "ablation_sampler";
  const N = checkNumSteps(who, kwargs.num_steps ?? 18);
  const solver = oneOf(who, "solver", kwargs.solver, "heun", ["euler", "heun"] as const);
  const discretization = oneOf(who, "discretization", kwargs.discretization, "edm", [
    "vp",
    "ve",
    "iddpm",
    "edm",
  ] as const);
  const scheduleName = oneOf(who, "schedule", kwargs.schedule, "linear", ["vp", "ve", "linear"] as const);
  const scaling = oneOf(who, "scaling", kwargs.scaling, "none", ["vp", "none"] as const);
  const epsilon_s = num(who, "epsilon_s", kwargs.epsilon_s, 1e-3, (x) => x > 0 && x < 1, "in (0, 1)");
  const C_1 = num(who, "C_1", kwargs.C_1, 0.001, (x) => x > 0, "positive");
  const C_2 = num(who, "C_2", kwargs.C_2, 0.008, (x) => x >= 0, "non-negative");
  const M = num(who, "M", kwargs.M, 1000, (x) => Number.isInteger(x) && x >= 1, "a positive integer");
  const alpha = num(who, "alpha", kwargs.alpha, 1, (x) => x > 0 && x <= 1, "in (0, 1]");
  const rho = num(who, "rho", kwargs.rho, 7, (x) => x > 0 && Number.isFinite(x), "a positive number");

  const vpDefault = nvlabsVpSigma(19.9, 0.1);
  const defMin = { vp: vpDefault(epsilon_s), ve: 0.02, iddpm: 0.002, edm: 0.002 }[discretization];
  const defMax = { vp: vpDefault(1), ve: 100, iddpm: 81, edm: 80 }[discretization];
  const { lo, hi } = netRange(net);
  const sigma_min = Math.max(
    num(who, "sigma_min", kwargs.sigma_min ?? undefined, defMin, (x) => x > 0, "a positive number"),
    lo,
  );
  const sigma_max = Math.min(
    num(who, "sigma_max", kwargs.sigma_max ?? undefined, defMax, (x) => x > 0, "a positive number"),
    hi,
  );
  const vp = nvlabsVpBetas(sigma_min, sigma_max, epsilon_s);

  let sigma_steps: Float64Array;
  const range = { sigma_min, sigma_max };
  if (discretization === "vp")
    sigma_steps = vpTimes(N, { epsilon_s }).map(nvlabsVpSigma(vp.vp_beta_d, vp.vp_beta_min));
  else if (discretization === "ve") sigma_steps = veTimes(N, range, correctlyRoundedMath).map(Math.sqrt);
  else if (discretization === "iddpm") {
    sigma_steps = iddpmSigmas(
      N,
      { ...range, C_1, C_2, M },
      { math: correctlyRoundedMath, alphaBarDtype: run.defaultDtype ?? "float64" },
    );
  } else sigma_steps = edmSigmas(N, { ...range, rho }, correctlyRoundedMath);

  const schedule = nvlabsSchedule(scheduleName, scaling, vp);
  const round = netRound(net);
  const t_steps = withFinalZero(sigma_steps.map((s) => schedule.sigmaInv!(round(s))));
  const plan = planSampler({
    schedule,
    timeSteps: t_steps,
    allowRepeatedTimes: true,
    solver,
    ...(solver === "heun" ? { alpha } : {}),
    ...churnArgs(who, kwargs),
    roundSigma: round,
    conventions: { ...ROUND_TRIP, secondPoint: "offset" },
  });
  return { entry: who, sigma_min, sigma_max, ...vp, sigma_steps, t_steps, schedule, plan };
}

async function runSetup(
  setup: NvlabsSetup,
  net: Denoiser,
  latents: Tensor,
  run: NvlabsRunOptions,
): Promise<Tensor> {
  return runPlan(setup.plan, net, latents, {
    noise: run.randn_like,
    observer: run.observer,
    dtype: "float64",
  });
}

/**
 * NVlabs `edm_sampler(net, latents, randn_like=..., **kwargs)`: Algorithm 2 with sigma(t) = t,
 * Heun, rho-spaced levels. Returns the float64 sample. Reproduces quirks 13 (float64
 * arithmetic, randn_like every step, Euler last step) and 18 (range clamp), see above.
 */
export async function nvlabsEdmSampler(
  net: Denoiser,
  latents: Tensor,
  kwargs: EdmSamplerKwargs = {},
  run: NvlabsRunOptions = {},
): Promise<Tensor> {
  return runSetup(nvlabsEdmSetup(net, kwargs), net, latents, run);
}

/**
 * NVlabs `ablation_sampler(net, latents, randn_like=..., **kwargs)`. Returns the float64
 * sample. Reproduces quirks 13-18 as listed in the module comment.
 */
export async function nvlabsAblationSampler(
  net: Denoiser,
  latents: Tensor,
  kwargs: AblationSamplerKwargs = {},
  run: NvlabsRunOptions = {},
): Promise<Tensor> {
  return runSetup(nvlabsAblationSetup(net, kwargs, run), net, latents, run);
}

/** Arguments the registry accepts as placeholders (a fixture's `reference.call`). */
const PLACEHOLDER_KEYS = ["net", "latents", "class_labels", "randn_like"];

/**
 * A `reference.call` object to typed kwargs: placeholder strings ("<denoiser>") and a null
 * `class_labels` are skipped, "inf"/"-inf" become numbers, unknown names are an error.
 */
export function parseNvlabsCall(
  who: string,
  call: Record<string, unknown>,
  allowed: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(call ?? {})) {
    if (PLACEHOLDER_KEYS.includes(k)) {
      if (
        k === "class_labels" &&
        v !== null &&
        v !== undefined &&
        !(typeof v === "string" && v.startsWith("<"))
      ) {
        throw new ArgumentError(
          `${who}: class_labels are not supported (unconditional nets only), got ${JSON.stringify(v)}`,
        );
      }
      continue;
    }
    if (!allowed.includes(k))
      throw new ArgumentError(`${who}: unexpected keyword argument '${k}' (accepted: ${allowed.join(", ")})`);
    out[k] = v === "inf" ? Infinity : v === "-inf" ? -Infinity : v;
  }
  return out;
}

export type NvlabsSamplerFn = (
  net: Denoiser,
  latents: Tensor,
  call?: Record<string, unknown>,
  run?: NvlabsRunOptions,
) => Promise<Tensor>;

/**
 * The originals under their own names, taking the original keyword arguments: a fixture's
 * `reference.call` passes straight through (`samplers[f.reference.entry](net, latents,
 * f.reference.call, { randn_like, observer })`).
 */
export const samplers: Readonly<Record<"edm_sampler" | "ablation_sampler", NvlabsSamplerFn>> = Object.freeze({
  edm_sampler: async (net, latents, call = {}, run = {}) =>
    nvlabsEdmSampler(net, latents, parseNvlabsCall("edm_sampler", call, EDM_KEYS) as EdmSamplerKwargs, run),
  ablation_sampler: async (net, latents, call = {}, run = {}) =>
    nvlabsAblationSampler(
      net,
      latents,
      parseNvlabsCall("ablation_sampler", call, ABLATION_KEYS) as AblationSamplerKwargs,
      run,
    ),
});

/** The keyword arguments each original takes (beyond net, latents, class_labels, randn_like). */
export const samplerKeywords: Readonly<Record<"edm_sampler" | "ablation_sampler", readonly string[]>> =
  Object.freeze({ edm_sampler: EDM_KEYS, ablation_sampler: ABLATION_KEYS });

/** The setup functions under the originals' names (for schedule checks). */
export const samplerSetups = Object.freeze({
  edm_sampler: (
    net: Pick<Denoiser, "sigmaMin" | "sigmaMax" | "roundSigma">,
    call: Record<string, unknown> = {},
  ) => nvlabsEdmSetup(net, parseNvlabsCall("edm_sampler", call, EDM_KEYS) as EdmSamplerKwargs),
  ablation_sampler: (
    net: Pick<Denoiser, "sigmaMin" | "sigmaMax" | "roundSigma">,
    call: Record<string, unknown> = {},
    run: Pick<NvlabsRunOptions, "defaultDtype"> = {},
  ) =>
    nvlabsAblationSetup(
      net,
      parseNvlabsCall("ablation_sampler", call, ABLATION_KEYS) as AblationSamplerKwargs,
      run,
    ),
});
