/**
 * Replaying the diffusers reference fixtures (fixtures/FORMAT.md, "diffusers additions"):
 *
 * - sampling runs: the scheduler is built from `reference.call.config`, its own
 *   `set_timesteps` schedule is compared with the recorded one (tolerance.schedule); when it
 *   differs within that tolerance the loop is driven with the recorded schedule, as FORMAT.md
 *   asks. Then the pipeline loop runs on the fixture's model (core `modelFromSpec`) and noise
 *   (`ReplayNoise(draws[1:])`), recorded with core's `Recorder` and compared with
 *   `compareReplay` (every model call's scaled x and t, every step's prev_sample,
 *   pred_original_sample, t and step index, the output, the draws consumed);
 * - `kind: "schedule"` files: per case, timesteps, sigmas and init_noise_sigma within the
 *   case tolerance, or an error where diffusers raised one; plus the float32 alphas_cumprod
 *   table, which must match bit for bit.
 *
 * Supported entries never throw: exceptions become status "error".
 */
import {
  type DiscreteModel,
  type Fixture,
  type ModelSource,
  type ReplayCheck,
  type ReplayResult,
  type RunFixture,
  type ScheduleFixture,
  type Tol,
  Recorder,
  ReplayNoise,
  checkRequestedLength,
  compareReplay,
  compareValues,
  errorResult,
  isScheduleFixture,
  parseInf,
  replayModel,
  tensor,
} from "@edmkit/core";
import { denoisingLoop } from "./loop.js";
import { type AnyScheduler, createScheduler, isSchedulerName } from "./registry.js";

export interface ReplayOptions {
  /** Multiply every tolerance (default 1). */
  toleranceScale?: number;
  /** `recorded`: every model call returns the fixture's recorded output (default `exact`). */
  model?: ModelSource;
}

/** True for diffusers fixtures of the three ported schedulers that can be evaluated here. */
export function supportsFixture(fx: Fixture): boolean {
  if (fx.reference.library !== "diffusers" || !isSchedulerName(fx.reference.entry)) return false;
  if (isScheduleFixture(fx)) return Array.isArray(fx.cases);
  const d = fx.denoiser;
  return (d.kind === "discrete-eps" && d.gmm !== null) || d.kind === "edm-precond" || d.kind === "flow";
}

/** set_timesteps keyword arguments (snake_case, as recorded) to this package's options. */
export function setTimestepsArgs(kwargs: Record<string, unknown>): Record<string, unknown> {
  const map: Record<string, string> = {
    num_inference_steps: "numInferenceSteps",
    timesteps: "timesteps",
    sigmas: "sigmas",
    num_train_timesteps: "numTrainTimesteps",
    mu: "mu",
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (k === "device") continue;
    const m = map[k];
    if (!m) throw new Error(`set_timesteps argument ${JSON.stringify(k)} is not supported by the port`);
    out[m] = Array.isArray(v) ? v.map((x) => (typeof x === "string" ? parseInf(x as "inf") : x)) : v;
  }
  return out;
}

/** step() keyword arguments (snake_case, "inf" as a string) to this package's options. */
export function stepArgs(kwargs: Record<string, unknown>): Record<string, number> {
  const map: Record<string, string> = {
    s_churn: "sChurn",
    s_tmin: "sTmin",
    s_tmax: "sTmax",
    s_noise: "sNoise",
    order: "order",
    eta: "eta",
  };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(kwargs)) {
    const m = map[k];
    if (!m) throw new Error(`step argument ${JSON.stringify(k)} is not supported by the port`);
    out[m] = typeof v === "string" ? parseInf(v as "inf") : (v as number);
  }
  return out;
}

function callOf(fx: Fixture): { config: Record<string, unknown>; full: Record<string, unknown> | undefined } {
  const call = fx.reference.call as Record<string, unknown>;
  return {
    config: (call.config as Record<string, unknown>) ?? {},
    full: call.full_config as Record<string, unknown> | undefined,
  };
}

/** The scheduler's resolved init arguments against the recorded `full_config`. */
function configCheck(s: AnyScheduler, full: Record<string, unknown> | undefined): ReplayCheck {
  if (!full) return { name: "config", ok: true, maxAbs: 0, detail: "no full_config recorded" };
  const mine = s.init as Record<string, unknown>;
  const diffs: string[] = [];
  // JSON has no infinities: the recorder writes float("-inf") as "-inf"
  const plain = (v: unknown) => (v === "inf" || v === "-inf" ? parseInf(v) : v);
  for (const [k, v] of Object.entries(full)) {
    if (JSON.stringify(plain(mine[k]) ?? null) !== JSON.stringify(plain(v) ?? null))
      diffs.push(`${k}: port ${JSON.stringify(mine[k])}, reference ${JSON.stringify(v)}`);
  }
  for (const k of Object.keys(mine)) if (!(k in full)) diffs.push(`${k}: not in the reference config`);
  return {
    name: "config",
    ok: diffs.length === 0,
    maxAbs: 0,
    detail: diffs.length ? diffs.join("; ") : "init arguments match full_config",
  };
}

function check(
  name: string,
  port: ArrayLike<number> | number,
  ref: ArrayLike<number> | number,
  tol: Tol,
): ReplayCheck {
  const a = typeof port === "number" ? [port] : port,
    b = typeof ref === "number" ? [ref] : ref;
  if (a.length !== b.length)
    return { name, ok: false, maxAbs: Infinity, detail: `length: port ${a.length}, reference ${b.length}` };
  const c = compareValues(a, b, tol);
  return {
    name,
    ok: c.ok,
    maxAbs: c.maxAbs,
    detail: c.ok ? undefined : `worst at [${c.worst}]: port ${a[c.worst]}, reference ${b[c.worst]}`,
  };
}

function bitEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (!(a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) return false;
  return true;
}

async function replayRun(fx: RunFixture, opts: ReplayOptions): Promise<ReplayResult> {
  const k = opts.toleranceScale ?? 1;
  const call = fx.reference.call as Record<string, unknown>;
  const { config, full } = callOf(fx);
  const s = createScheduler(fx.reference.entry as never, config);
  const pre: ReplayCheck[] = [configCheck(s, full)];

  const st = (call.set_timesteps ?? {}) as Record<string, unknown>;
  checkRequestedLength(
    fx,
    "num_inference_steps",
    st.num_inference_steps,
    fx.model_calls.length,
    "model calls",
  );
  s.setTimesteps(setTimestepsArgs((call.set_timesteps as Record<string, unknown>) ?? {}) as never);
  const rec = fx.schedule;
  const schedTol = fx.tolerance.schedule ?? { abs: 0, rel: 0 };
  const stol: Tol = { abs: schedTol.abs * k, rel: schedTol.rel * k };
  const tCheck = check("schedule timesteps", s.timesteps, rec.timesteps ?? [], stol);
  // DDIM and DDPM hold no sigmas (nor do their fixtures)
  const ownSigmas = "sigmas" in s ? s.sigmas : undefined;
  const sCheck =
    rec.sigmas === undefined && ownSigmas === undefined
      ? { name: "schedule sigmas", ok: true, maxAbs: 0, detail: "none held" }
      : check("schedule sigmas", ownSigmas ?? [], rec.sigmas ?? [], stol);
  pre.push(tCheck, sCheck);
  if (fx.init_noise_sigma !== undefined)
    pre.push(check("init_noise_sigma", s.initNoiseSigma, fx.init_noise_sigma, stol));
  if (
    tCheck.ok &&
    sCheck.ok &&
    rec.timesteps &&
    rec.sigmas &&
    ownSigmas &&
    "setSchedule" in s &&
    !(bitEqual(s.timesteps, rec.timesteps) && bitEqual(ownSigmas, rec.sigmas))
  ) {
    s.setSchedule({ timesteps: rec.timesteps, sigmas: rec.sigmas });
    pre.push({
      name: "recorded schedule used",
      ok: true,
      maxAbs: Math.max(tCheck.maxAbs, sCheck.maxAbs),
      detail: "own schedule within tolerance.schedule but not bit-equal",
    });
  }
  const begin = call.begin_index;
  if (typeof begin === "number" && "setBeginIndex" in s) s.setBeginIndex(begin);

  const model: DiscreteModel = replayModel(fx, opts.model) as DiscreteModel;
  const latents = tensor(fx.noise.draws[0], fx.shape, fx.dtype);
  const noise = new ReplayNoise(fx.noise.draws.slice(1), `${fx.id} noise`);
  const recorder = new Recorder();
  let output: ArrayLike<number> = [];
  let failure: unknown = null;
  try {
    const out = await denoisingLoop(s, model, latents, {
      noise,
      stepKwargs: stepArgs((call.step_kwargs as Record<string, unknown>) ?? {}),
      observer: recorder,
    });
    output = out.data;
  } catch (e) {
    failure = e; // compared below: the recording up to the failure still locates the divergence
  }
  const result = compareReplay(
    fx,
    { modelCalls: recorder.modelCalls, steps: recorder.steps, output, noiseConsumed: noise.consumed },
    { toleranceScale: k },
  );
  result.checks.unshift(...pre);
  if (failure !== null) {
    result.checks.push({
      name: "completed",
      ok: false,
      maxAbs: NaN,
      detail: String((failure as Error).message ?? failure),
    });
    result.message = `the port stopped at model call ${recorder.modelCalls.length}: ${(failure as Error).message ?? failure}`;
  }
  if (!result.checks.every((c) => c.ok)) result.status = "fail";
  return result;
}

function replaySchedule(fx: ScheduleFixture, opts: ReplayOptions): ReplayResult {
  const k = opts.toleranceScale ?? 1;
  const { config, full } = callOf(fx);
  const checks: ReplayCheck[] = [];
  let maxAbs = 0;
  let first = true;
  for (const [ci, c] of (fx.cases ?? []).entries()) {
    const label = `case ${ci} ${JSON.stringify(c.set_timesteps)}`;
    let s: AnyScheduler;
    try {
      s = createScheduler(fx.reference.entry as never, config);
      if (first) {
        checks.push(configCheck(s, full));
        if (fx.alphas_cumprod) {
          const eq = bitEqual(s.alphasCumprod, fx.alphas_cumprod);
          checks.push({
            name: "alphas_cumprod (bit-exact)",
            ok: eq,
            maxAbs: eq ? 0 : compareValues(s.alphasCumprod, fx.alphas_cumprod, { abs: 0, rel: 0 }).maxAbs,
          });
        }
        first = false;
      }
      const recorded = (c as { timesteps?: ArrayLike<number> }).timesteps;
      if (recorded)
        checkRequestedLength(
          fx,
          `cases[${ci}].num_inference_steps`,
          c.set_timesteps.num_inference_steps,
          recorded.length,
          "timesteps",
        );
      s.setTimesteps(setTimestepsArgs(c.set_timesteps) as never);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      if ("error" in c)
        checks.push({
          name: `${label}: error`,
          ok: true,
          maxAbs: 0,
          detail: `port: ${msg} | reference: ${c.error}`,
        });
      else checks.push({ name: `${label}`, ok: false, maxAbs: NaN, detail: `port raised: ${msg}` });
      continue;
    }
    if ("error" in c) {
      checks.push({
        name: `${label}: error`,
        ok: false,
        maxAbs: 0,
        detail: `reference raised ${c.error}; the port did not`,
      });
      continue;
    }
    const tol: Tol = { abs: c.tolerance.abs * k, rel: c.tolerance.rel * k };
    const parts = [
      check("timesteps", s.timesteps, c.timesteps, tol),
      check("sigmas", "sigmas" in s ? s.sigmas : [], c.sigmas, tol),
      check("init_noise_sigma", s.initNoiseSigma, c.init_noise_sigma, tol),
    ];
    if (c.num_inference_steps != null) {
      parts.push({
        name: "num_inference_steps",
        ok: s.numInferenceSteps === c.num_inference_steps,
        maxAbs: 0,
        detail: `port ${s.numInferenceSteps}`,
      });
    }
    for (const p of parts) if (Number.isFinite(p.maxAbs)) maxAbs = Math.max(maxAbs, p.maxAbs);
    const bad = parts.filter((p) => !p.ok);
    checks.push({
      name: label,
      ok: bad.length === 0,
      maxAbs: Math.max(...parts.map((p) => p.maxAbs)),
      detail: bad.length ? bad.map((p) => `${p.name} ${p.detail ?? ""}`).join("; ") : undefined,
    });
  }
  const ok = checks.every((c) => c.ok);
  return {
    id: fx.id,
    library: fx.reference.library,
    entry: fx.reference.entry,
    status: ok ? "pass" : "fail",
    maxAbsError: maxAbs,
    firstDivergence: null,
    checks,
    message: ok ? undefined : checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ""}`)[0],
  };
}

/** Replay one diffusers fixture (run or schedule). Never throws for a supported fixture. */
export async function replayFixture(fx: Fixture, opts: ReplayOptions = {}): Promise<ReplayResult> {
  if (!supportsFixture(fx)) {
    return errorResult(
      fx,
      new Error(`not a diffusers Euler / Heun / Euler-ancestral fixture that can be evaluated here`),
      "unsupported",
    );
  }
  try {
    return isScheduleFixture(fx) ? replaySchedule(fx, opts) : await replayRun(fx, opts);
  } catch (e) {
    return errorResult(fx, e);
  }
}
