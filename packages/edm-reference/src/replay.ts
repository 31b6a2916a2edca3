/**
 * Replaying the reference fixtures of NVlabs' samplers (library "edm", entries
 * `edm_sampler` and `ablation_sampler`): build the fixture's net, feed the recorded draws,
 * run `samplers[entry]` with the recorded keyword arguments and compare with core's
 * `compareReplay`, plus the sampler's own pre-loop values (x_init, t_steps, sigma_steps,
 * sigma_min/max, vp betas) against `schedule`.
 *
 * The net: the exact mixture denoiser with the `reference.net` attributes (sigma_min,
 * sigma_max, round_sigma "identity"). With `compute_dtype: "float32"` it behaves like
 * EDMPrecond: x and sigma are cast to float32, D is evaluated on those values and rounded
 * to float32 (FORMAT.md's float32 model rule); the sampler uses the result in float64.
 */
import {
  checkRequestedLength,
  compareReplay,
  compareValues,
  type Denoiser,
  errorResult,
  type Fixture,
  GaussianMixture,
  isScheduleFixture,
  EmpiricalDenoiser,
  type ModelSource,
  modelFromSpec,
  parseInf,
  Recorder,
  RecordedModel,
  ReplayNoise,
  type ReplayCheck,
  type ReplayResult,
  type RunFixture,
  type Tensor,
  tensor,
} from "@edmkit/core";
import { samplers, samplerSetups, type NvlabsSetup } from "./nvlabs.js";

const ENTRIES = ["edm_sampler", "ablation_sampler"] as const;
type Entry = (typeof ENTRIES)[number];

/**
 * True for run fixtures of NVlabs' two samplers with an identity round_sigma on an exact
 * denoiser (mixture or data set), or on an ONNX network (replayed with model "recorded" or a
 * live model the caller loads).
 */
export function supportsFixture(f: Fixture): boolean {
  if (isScheduleFixture(f)) return false;
  return (
    f.reference.library === "edm" &&
    (ENTRIES as readonly string[]).includes(f.reference.entry) &&
    (f.denoiser.kind === "gmm" || f.denoiser.kind === "empirical" || f.denoiser.kind === "onnx") &&
    (f.reference.net === undefined || f.reference.net.round_sigma === "identity")
  );
}

/**
 * The fixture's `net`: its exact denoiser (mixture or data set) with the recorded attributes
 * and precision, or (`source: "recorded"`) one that answers every call with the recorded output.
 */
export function fixtureNet(f: RunFixture, source: ModelSource = "exact"): Denoiser {
  const net = f.reference.net;
  const sigmaMin = net ? parseInf(net.sigma_min) : 0;
  const sigmaMax = net ? parseInf(net.sigma_max) : Infinity;
  if (typeof source === "object") {
    const live = source.live;
    return {
      sigmaMin,
      sigmaMax,
      roundSigma: (s) => s,
      denoise: (x, sigma, out) => live.denoise(x, sigma, out),
    };
  }
  if (source === "recorded") {
    const recorded = new RecordedModel(f);
    return {
      sigmaMin,
      sigmaMax,
      roundSigma: (s) => s,
      denoise: (x, sigma, out) => recorded.denoise(x, sigma, out),
    };
  }
  const model = modelFromSpec(f.denoiser);
  if (!(model instanceof GaussianMixture || model instanceof EmpiricalDenoiser))
    throw new RangeError(`fixture ${f.id}: expected a gmm or empirical denoiser`);
  const f32 = net?.compute_dtype === "float32";
  let x32: Tensor | undefined, out32: Tensor | undefined;
  let s32 = new Float64Array(0);
  return {
    sigmaMin,
    sigmaMax,
    roundSigma: (s) => s,
    async denoise(x, sigma, out) {
      if (!f32) return model.denoiseSync(x, sigma, out);
      const n = x.data.length;
      if (!x32 || x32.data.length !== n) {
        x32 = tensor(new Float32Array(n), x.shape);
        out32 = tensor(new Float32Array(n), x.shape);
      }
      if (s32.length !== sigma.length) s32 = new Float64Array(sigma.length);
      x32.data.set(x.data); // float64 -> float32 rounds to nearest
      for (let i = 0; i < sigma.length; i++) s32[i] = Math.fround(sigma[i]);
      return model.denoiseSync(x32, s32, out32);
    },
  };
}

function scheduleChecks(f: RunFixture, setup: NvlabsSetup, tol: { abs: number; rel: number }): ReplayCheck[] {
  const checks: ReplayCheck[] = [];
  const sched = f.schedule as Record<string, unknown>;
  const add = (name: string, port: number | ArrayLike<number>, ref: unknown) => {
    if (ref === undefined || ref === null) return;
    const cmp = compareValues(port, ref as number | number[], tol);
    checks.push({ name: `schedule.${name}`, ok: cmp.ok, maxAbs: cmp.maxAbs });
  };
  add("t_steps", setup.t_steps, sched.t_steps);
  add("sigma_steps", setup.sigma_steps, sched.sigma_steps);
  add("sigma_min", setup.sigma_min, sched.sigma_min);
  add("sigma_max", setup.sigma_max, sched.sigma_max);
  if (setup.vp_beta_d !== undefined) {
    add("vp_beta_d", setup.vp_beta_d, sched.vp_beta_d);
    add("vp_beta_min", setup.vp_beta_min!, sched.vp_beta_min);
  }
  return checks;
}

/**
 * Replay one fixture. Never throws for a supported fixture: failures of the port are
 * reported in the result (`status: "error"` with the message).
 */
export async function replayFixture(
  fixture: Fixture,
  opts: { toleranceScale?: number; model?: ModelSource } = {},
): Promise<ReplayResult> {
  if (!supportsFixture(fixture)) {
    return errorResult(
      fixture,
      new Error("not an edm_sampler / ablation_sampler fixture on a gmm net with identity round_sigma"),
      "unsupported",
    );
  }
  const f = fixture as RunFixture;
  try {
    const entry = f.reference.entry as Entry;
    checkRequestedLength(
      f,
      "reference.call.num_steps",
      f.reference.call.num_steps,
      f.model_calls.length,
      "model calls",
    );
    const net = fixtureNet(f, opts.model);
    const latents = tensor(f.noise.draws[0], f.shape, f.dtype);
    const noise = new ReplayNoise(f.noise.draws.slice(1), `${f.id} randn_like`);
    const rec = new Recorder();
    const run = { randn_like: noise, observer: rec, defaultDtype: f.dtype };
    const call = f.reference.call;
    const output = await samplers[entry](net, latents, call, run);
    const result = compareReplay(
      f,
      { modelCalls: rec.modelCalls, steps: rec.steps, output: output.data, noiseConsumed: noise.consumed },
      opts,
    );

    const k = opts.toleranceScale ?? 1;
    const tol = { abs: f.tolerance.abs * k, rel: f.tolerance.rel * k };
    const setup =
      entry === "edm_sampler"
        ? samplerSetups.edm_sampler(net, call)
        : samplerSetups.ablation_sampler(net, call, run);
    const xInit = Float64Array.from(latents.data, (v) => v * setup.plan.x0Scale);
    const xi = compareValues(xInit, f.x_init, tol);
    result.checks.push({ name: "x_init", ok: xi.ok, maxAbs: xi.maxAbs }, ...scheduleChecks(f, setup, tol));
    if (result.status === "pass" && !result.checks.every((c) => c.ok)) {
      result.status = "fail";
      const bad = result.checks.find((c) => !c.ok)!;
      result.message = `${bad.name} differs from the fixture by ${bad.maxAbs}`;
    }
    return result;
  } catch (e) {
    return errorResult(f, e);
  }
}
