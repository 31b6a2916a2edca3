/**
 * Replaying k-diffusion reference fixtures (fixtures/FORMAT.md) with this port.
 *
 * A run fixture is replayed by building its model (core `modelFromSpec`, wrapped as
 * `reference.wrapper` says), feeding the recorded draws through a `ReplayNoise`, calling the
 * sampler through the registry with `reference.call` (placeholders replaced), recording with
 * core's `Recorder`, and comparing with `compareReplay`. Schedule fixtures compare the
 * port's schedule with `schedule.sigmas`. Nothing here throws for a fixture of a supported
 * entry: an exception becomes a result with status "error".
 */
import {
  checkRequestedLength,
  compareValues,
  type DiscreteModel,
  type Denoiser,
  errorResult,
  type Fixture,
  isScheduleFixture,
  type ModelSource,
  observeDenoiser,
  observeDiscreteModel,
  parseInf,
  Recorder,
  ReplayNoise,
  type ReplayResult,
  replayModel,
  type RunFixture,
  type ScheduleFixture,
  type Tensor,
  tensor,
  compareReplay,
} from "@edmkit/core";
import { DiscreteEpsDDPMDenoiser, DiscreteVDDPMDenoiser } from "./external.js";
import { callSampler, callSchedule, hasSampler, scheduleSignatures } from "./registry.js";
import type { StepPayload } from "./samplers/common.js";

const WRAPPERS = new Set(["DiscreteEpsDDPMDenoiser", "DiscreteVDDPMDenoiser"]);

function wrapperName(entry: string): string {
  return entry.replace(/^k_diffusion\.external\./, "");
}

function scheduleEntrySupported(entry: string): boolean {
  if (Object.hasOwn(scheduleSignatures, entry)) return true;
  const [cls, method] = entry.split(".");
  return method === "get_sigmas" && WRAPPERS.has(cls);
}

/** Can this port replay the fixture? (library k-diffusion, a registered sampler or a known schedule) */
export function supportsFixture(fixture: Fixture): boolean {
  if (fixture.reference.library !== "k-diffusion") return false;
  if (isScheduleFixture(fixture))
    return fixture.schedule?.sigmas !== undefined && scheduleEntrySupported(fixture.reference.entry);
  const f = fixture as RunFixture;
  if (!hasSampler(f.reference.entry)) return false;
  if (f.reference.wrapper && !WRAPPERS.has(wrapperName(f.reference.wrapper.entry))) return false;
  // onnx fixtures: replayed with model "recorded" or a live model the caller loads
  return true;
}

export interface ReplayOptions {
  /** Multiplies the fixture's tolerance (default 1). */
  toleranceScale?: number;
  /** `recorded`: every model call returns the fixture's recorded output (default `exact`). */
  model?: ModelSource;
}

/** Replay one fixture; never throws for a k-diffusion fixture. */
export async function replayFixture(fixture: Fixture, opts: ReplayOptions = {}): Promise<ReplayResult> {
  try {
    if (!supportsFixture(fixture)) {
      return errorResult(
        fixture,
        `the k-diffusion port has no replay for entry "${fixture.reference.entry}"`,
        "unsupported",
      );
    }
    if (isScheduleFixture(fixture)) return replaySchedule(fixture, opts);
    return await replayRun(fixture as RunFixture, opts);
  } catch (e) {
    return errorResult(fixture, e);
  }
}

function tableFor(
  alphas: ArrayLike<number>,
  dtype: "float32" | "float64" | undefined,
): Float64Array | Float32Array {
  // float32 runs hold alphas_cumprod as a float32 tensor (CompVis-style); float64 runs as float64.
  return dtype === "float32" ? Float32Array.from(alphas) : Float64Array.from(alphas);
}

function replaySchedule(f: ScheduleFixture, opts: ReplayOptions): ReplayResult {
  const entry = f.reference.entry;
  const dtype = f.dtype ?? "float64";
  const call = f.reference.call as Record<string, unknown>;
  let sigmas: Float64Array;
  checkRequestedLength(f, "reference.call.n", call.n, f.schedule?.sigmas?.length ?? 0, "sigmas");
  if (Object.hasOwn(scheduleSignatures, entry)) {
    sigmas = callSchedule(entry, { ...call, dtype });
  } else {
    const cls = entry.split(".")[0];
    const den = f.denoiser;
    if (den?.kind !== "discrete-eps")
      throw new Error(`${entry}: the fixture has no discrete-eps denoiser to take alphas_cumprod from`);
    const wcall = (f.reference.wrapper?.call ?? {}) as Record<string, unknown>;
    const stub: DiscreteModel = {
      prediction: cls === "DiscreteVDDPMDenoiser" ? "v_prediction" : "epsilon",
      predict: () => Promise.reject(new Error("schedule replay never calls the model")),
    };
    const table = tableFor(den.alphas_cumprod, dtype);
    const W = cls === "DiscreteVDDPMDenoiser" ? DiscreteVDDPMDenoiser : DiscreteEpsDDPMDenoiser;
    const wrapper = new W(stub, table, { quantize: wcall.quantize === true });
    const n = call.n === undefined || call.n === null ? undefined : (call.n as number);
    sigmas = wrapper.getSigmas(n, { dtype });
  }
  const ref = f.schedule?.sigmas ?? [];
  const k = opts.toleranceScale ?? 1;
  const tol = { abs: (f.tolerance?.abs ?? 0) * k, rel: (f.tolerance?.rel ?? 0) * k };
  const cmp = compareValues(sigmas, ref, tol);
  return {
    id: f.id,
    library: f.reference.library,
    entry,
    status: cmp.ok ? "pass" : "fail",
    maxAbsError: cmp.maxAbs,
    firstDivergence: null,
    checks: [
      {
        name: "schedule",
        ok: cmp.ok,
        maxAbs: cmp.maxAbs,
        detail: cmp.ok
          ? undefined
          : `port ${sigmas.length} values, reference ${ref.length}${cmp.worst >= 0 ? `; worst at sigmas[${cmp.worst}]` : ""}`,
      },
    ],
  };
}

async function replayRun(f: RunFixture, opts: ReplayOptions): Promise<ReplayResult> {
  const recorder = new Recorder();
  const inner = replayModel(f, opts.model);
  let model: Denoiser;
  const wrapper = f.reference.wrapper;
  if (wrapper) {
    const name = wrapperName(wrapper.entry);
    if (f.denoiser.kind !== "discrete-eps")
      throw new Error(`${name} needs a discrete-eps denoiser, the fixture has ${f.denoiser.kind}`);
    const observed = observeDiscreteModel(inner as DiscreteModel, recorder);
    const W = name === "DiscreteVDDPMDenoiser" ? DiscreteVDDPMDenoiser : DiscreteEpsDDPMDenoiser;
    const w = new W(observed, tableFor(f.denoiser.alphas_cumprod, f.dtype), {
      quantize: wrapper.call.quantize === true,
    });
    // The recording of a wrapped run is the inner model's {x, t, out} plus the wrapper's sigma.
    model = {
      async denoise(x: Tensor, sigma: Float64Array, out?: Tensor) {
        const d = await w.denoise(x, sigma, out);
        recorder.annotateLastSigma(sigma[0]);
        return d;
      },
    };
  } else {
    model = observeDenoiser(inner as Denoiser, recorder);
  }
  const x = tensor(Float64Array.from(f.x_init), f.shape, f.dtype);
  const noise = new ReplayNoise(f.noise.draws.slice(1), f.id);
  const callback = (p: StepPayload): void => recorder.onStep({ i: p.i, fields: p });
  const call: Record<string, unknown> = {};
  let noiseGiven = false;
  checkRequestedLength(f, "reference.call.n", f.reference.call.n, f.model_calls.length, "model calls");
  for (const [key, value] of Object.entries(f.reference.call)) {
    call[key] = resolvePlaceholder(f, key, value, { model, x, noise, callback });
    if (value === "<noise.draws[1:]>") noiseGiven = true;
  }
  // Samplers that call torch.randn_like directly get the draws through `noise`.
  if (!noiseGiven && f.noise.draws.length > 1) call.noise = noise;
  const result = await callSampler(f.reference.entry, call);
  const output = outputOf(result);
  return compareReplay(
    f,
    {
      modelCalls: recorder.modelCalls,
      steps: recorder.steps,
      output: output.data,
      noiseConsumed: noise.consumed,
    },
    { toleranceScale: opts.toleranceScale },
  );
}

function resolvePlaceholder(
  f: RunFixture,
  key: string,
  value: unknown,
  ctx: { model: Denoiser; x: Tensor; noise: ReplayNoise; callback: (p: StepPayload) => void },
): unknown {
  switch (value) {
    case "<denoiser>":
      return ctx.model;
    case "<x_init>":
      return ctx.x;
    case "<schedule.sigmas>":
      if (!f.schedule.sigmas) throw new Error(`${key}: the fixture has no schedule.sigmas`);
      return f.schedule.sigmas;
    case "<noise.draws[1:]>":
      return ctx.noise;
    case "<steps>":
      return ctx.callback;
    case "inf":
    case "-inf":
      return parseInf(value);
    default:
      if (typeof value === "string" && value.startsWith("<"))
        throw new Error(`${key}: unknown placeholder ${value}`);
      return value;
  }
}

/** The sample a sampler returned (a Tensor, or `[x, info]` / `{x, info}` with return_info). */
function outputOf(result: unknown): Tensor {
  if (result && typeof result === "object") {
    if ("data" in result && "shape" in result) return result as Tensor;
    if (Array.isArray(result) && result[0] && typeof result[0] === "object" && "data" in result[0])
      return result[0] as Tensor;
    const r = result as { x?: Tensor };
    if (r.x && "data" in r.x) return r.x;
  }
  throw new Error("the sampler returned no tensor");
}
