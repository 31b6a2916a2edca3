/**
 * The two answers the report's sampler map carries (issue 12): the seed question against the
 * libraries (k-diffusion Euler-a vs DDPM fixed_small / fixed_large and DDIM eta = 1) and EDM's
 * generality (FlowMatchEuler = Algorithm 1 with s(t) = 1 - t, sigma(t) = t / (1 - t);
 * EDMEuler = sample_euler).
 */
import {
  EdmPrecondGmmModel,
  FlowGmmModel,
  namedMixtureDenoiser,
  namedMixtures,
  scale,
  type Tensor,
  TorchGenerator,
  zerosLike,
} from "@edmkit/core";
import { type SignedSchedulerName, schedulers } from "@edmkit/diffusers";
import { defineSchedule } from "@edmkit/edm";
import { runDiffusers, runEdm, runKd } from "../runners/record.js";
import { runDiffusers as loop } from "../runners/run.js";
import type { PairResult } from "../report/schema.js";
import { SEED } from "./scenarios/setups.js";
import { AlignedNoise, CallRecorder, comparePair, type TrajectoryRun } from "./trajectory.js";
import { DDPM_SMALL_RUN, N, SD_PIPE } from "./webui-rows.js";
import { build, fmt, impl, KeyedNoise, MODEL, type MapRecipe, pairOf } from "./webui-util.js";

export interface Answer {
  question: string;
  answer: string;
  checks: { what: string; gap: number | null; bound: number; verdict: string }[];
}

/**
 * k-diffusion Euler-a (eta = 1) vs DDPM fixed_small / fixed_large and DDIM eta = 1 on DDPM's
 * grid; the map's runs in `runs`, its new runs made through the map's `record` (in its context).
 */
export async function seedQuestion(
  pairs: PairResult[],
  runs: Map<string, TrajectoryRun>,
  record: (id: string, recipe: MapRecipe) => Promise<TrajectoryRun>,
): Promise<Answer> {
  const scenario = "seed question vs the libraries: DDPM / DDIM(eta = 1) vs k-diffusion Euler-a, N = 15";
  const kdRun = runs.get("webui/k-diffusion/DDPM")!;
  const small = runs.get(DDPM_SMALL_RUN)!;
  const mk = (
    cls: SignedSchedulerName,
    config: Record<string, unknown>,
    id: string,
    label: string,
    stepKwargs?: Record<string, number>,
  ) => {
    const s = build(cls, config);
    const ts = Array.from(s.timesteps);
    const a0 = (s as { alphasCumprod: ArrayLike<number> }).alphasCumprod[ts[0]];
    const s0 = Math.sqrt((1 - a0) / a0);
    return record(id, (c) =>
      runDiffusers(
        impl(id, "diffusers", label),
        cls,
        config,
        c.eps,
        c.z,
        {
          numInferenceSteps: N,
          initScale: s0 / Math.sqrt(1 + s0 * s0),
          ...(stepKwargs ? { stepKwargs } : {}),
        },
        new KeyedNoise(new AlignedNoise(c.seed), (t) => ts.indexOf(t)),
      ),
    );
  };
  const large = await mk(
    "DDPMScheduler",
    { ...SD_PIPE, variance_type: "fixed_large" },
    "webui/diffusers/DDPM-fixed_large",
    'diffusers DDPMScheduler(variance_type="fixed_large")',
  );
  // DDIM on DDPM's timesteps and final alpha (set_alpha_to_one=True: DDPM steps to abar = 1)
  const ddim = await mk(
    "DDIMScheduler",
    { ...SD_PIPE, set_alpha_to_one: true },
    "webui/diffusers/DDIM-eta1",
    "diffusers DDIMScheduler(set_alpha_to_one=True), eta=1",
    { eta: 1 },
  );
  const pS = pairOf(
    "seed/ddpm-fixed_small-vs-kd-euler-a",
    scenario,
    small,
    kdRun,
    "float32-casts",
    "DDPM's posterior variance beta-tilde is k-diffusion's sigma_up^2 at eta = 1 (VE frame).",
  );
  const pL = pairOf(
    "seed/ddpm-fixed_large-vs-kd-euler-a",
    scenario,
    large,
    kdRun,
    "noise-injection-rule",
    "fixed_large adds variance beta instead of beta-tilde (Song et al.'s VP rule).",
  );
  const pD = pairOf(
    "seed/ddim-eta1-vs-kd-euler-a",
    scenario,
    ddim,
    kdRun,
    "float32-casts",
    "DDIM(eta = 1): std = sqrt(beta-tilde), the same posterior step.",
  );
  const f32 = (a: TrajectoryRun, b: TrajectoryRun) =>
    comparePair(
      { id: "", scenario, model: MODEL, dtype: "float32", cause: null, causePair: null, note: "" },
      a,
      b,
    );
  const [sS, sL, sD] = [f32(small, kdRun), f32(large, kdRun), f32(ddim, kdRun)];
  pairs.push(pS, pL, pD);
  const v = (p: PairResult, q: PairResult) =>
    p.verdict === "identical" ? "identical" : q.verdict === "identical" ? "float32 round-off" : "diverge";
  return {
    question:
      "The seed question against the libraries: is k-diffusion's sample_euler_ancestral (eta = 1) what DDPMScheduler and DDIMScheduler(eta = 1) compute, on the same discrete model, timesteps and noise?",
    answer:
      `DDPM fixed_small: yes, to float32 round-off (output gap ${fmt(pS.outputGap)}, float32 bound ${fmt(sS.roundoffBound)}; verdict ${v(pS, sS)}). ` +
      `DDIM eta = 1: the same step again (${fmt(pD.outputGap)}; ${v(pD, sD)}). ` +
      `DDPM fixed_large: no, it injects variance beta instead of the posterior beta-tilde (output gap ${fmt(pL.outputGap)}; ${v(pL, sL)}, cause noise-injection-rule).`,
    checks: [
      {
        what: "DDPM fixed_small vs k-diffusion Euler-a (eta = 1)",
        gap: pS.maxGap,
        bound: sS.roundoffBound,
        verdict: v(pS, sS),
      },
      {
        what: "DDIM eta = 1 vs k-diffusion Euler-a (eta = 1)",
        gap: pD.maxGap,
        bound: sD.roundoffBound,
        verdict: v(pD, sD),
      },
      {
        what: "DDPM fixed_large vs k-diffusion Euler-a (eta = 1)",
        gap: pL.maxGap,
        bound: sL.roundoffBound,
        verdict: v(pL, sL),
      },
    ],
  };
}

/** FlowMatchEuler (shift 1, 3) vs EDM Algorithm 1; EDMEuler vs k-diffusion sample_euler. */
export async function generality(pairs: PairResult[]): Promise<Answer> {
  const gmm = namedMixtures["gmm2d-ring8"]();
  const mixture = namedMixtureDenoiser("gmm2d-ring8");
  const z = new TorchGenerator(SEED + 2).randn([64, 2], "float64");
  const flowSchedule = defineSchedule({
    name: "flow",
    sigma: (t: number) => t / (1 - t),
    sigmaDeriv: (t: number) => 1 / ((1 - t) * (1 - t)),
    s: (t: number) => 1 - t,
    sDeriv: () => -1,
  });
  const checks: Answer["checks"] = [];
  const flowPairs: PairResult[] = [];
  for (const shift of [1, 3]) {
    const sched = new schedulers.FlowMatchEulerDiscreteScheduler({ shift }, {});
    // flow time 1 is sigma = infinity in EDM's frame: both start from the same x at t_0 < 1
    const u = Array.from({ length: N }, (_, k) => 0.98 - (0.98 - 1 / N) * (k / (N - 1)));
    sched.setTimesteps({ sigmas: u });
    const ts = Float64Array.from(sched.sigmas);
    const T = 1000;
    const flow = new FlowGmmModel({ gmm, numTrainTimesteps: T });
    const rec = new CallRecorder();
    let k = 0;
    const model = async (sample: Tensor, t: number) => {
      const s = ts[k++];
      const o = await flow.predict(sample, new Float64Array(sample.shape[0]).fill(t));
      rec.calls.push({
        x: Float64Array.from(sample.data, (v) => v / (1 - s)),
        sigma: s / (1 - s),
        step: k - 1,
      });
      return o;
    };
    const out = await loop(sched, model, z, { scaleLatents: true });
    const fRun: TrajectoryRun = {
      impl: impl(
        `webui/diffusers/FlowMatchEuler(shift=${shift})`,
        "diffusers",
        `diffusers FlowMatchEulerDiscreteScheduler(shift=${shift})`,
      ),
      calls: rec.calls,
      output: Float64Array.from(out.data),
      draws: 0,
    };
    const eRun = await runEdm(
      impl(
        `webui/edm/algorithm1-euler-flow(shift=${shift})`,
        "edm",
        `EDM Algorithm 1, Euler, s(t) = 1 - t, sigma(t) = t / (1 - t) (shift ${shift} grid)`,
      ),
      mixture,
      z,
      { schedule: flowSchedule, timeSteps: ts, solver: "euler", conventions: "paper", latentsAreX0: true },
      null,
    );
    const p = pairOf(
      `generality/flow-match-shift${shift}-vs-edm`,
      `EDM's generality: FlowMatchEulerDiscreteScheduler (shift ${shift}) vs Algorithm 1 on the same time grid (N = ${N})`,
      fRun,
      eRun,
      "float32-casts",
      "Rectified flow x = (1 - t) y + t n is EDM's ODE with s(t) = 1 - t, sigma(t) = t / (1 - t): dx/dt = (x - D(x / s; sigma)) / t = the flow velocity. diffusers holds t, timesteps and the update in float32, so the comparison is held to float32 round-off.",
      "float32",
      "gmm2d-ring8 (exact D; FlowGmmModel velocity for diffusers)",
    );
    flowPairs.push(p);
    checks.push({
      what: `FlowMatchEuler shift ${shift} vs EDM Algorithm 1 (Euler, flow schedule)`,
      gap: p.maxGap,
      bound: p.roundoffBound,
      verdict: p.verdict,
    });
  }
  // EDMEulerScheduler vs k-diffusion sample_euler on the EDM-preconditioned model
  {
    const sched = new schedulers.EDMEulerScheduler({}, {});
    sched.setTimesteps(N);
    const sig = Float64Array.from(sched.sigmas);
    const sd = 0.5;
    const net = new EdmPrecondGmmModel({ gmm, sigmaData: sd });
    const rec = new CallRecorder();
    let k = 0;
    const model = async (sample: Tensor, t: number) => {
      const s = sig[k++];
      const c = Math.sqrt(s * s + sd * sd);
      rec.calls.push({ x: Float64Array.from(sample.data, (v) => v * c), sigma: s, step: k - 1 });
      return net.predict(sample, new Float64Array(sample.shape[0]).fill(t));
    };
    // EDMEuler's init_noise_sigma is sqrt(sigma_max^2 + 1) (initial-noise-scale): start both at z sigma_max
    const x0 = scale(zerosLike(z), z, sig[0]);
    const out = await loop(sched, model, x0, { scaleLatents: false });
    const dRun: TrajectoryRun = {
      impl: impl(
        "webui/diffusers/EDMEulerScheduler",
        "diffusers",
        "diffusers EDMEulerScheduler (sigma_data 0.5, Karras 0.002..80)",
      ),
      calls: rec.calls,
      output: Float64Array.from(out.data),
      draws: 0,
    };
    const kRun = await runKd(
      impl(
        "webui/k-diffusion/sample_euler@edm",
        "k-diffusion",
        "k-diffusion sample_euler on the EDM-preconditioned model's D",
      ),
      "sample_euler",
      mixture,
      z,
      sig,
      {},
      null,
    );
    const p = pairOf(
      "generality/edm-euler-vs-kd-euler",
      `EDMEulerScheduler vs k-diffusion sample_euler on the EDM-preconditioned model (N = ${N})`,
      dRun,
      kRun,
      "float32-casts",
      "The scheduler applies c_in, c_skip, c_out itself; D = c_skip x + c_out F is the mixture's D, so the loop is sample_euler. Both start at z sigma_max (EDMEuler's own init_noise_sigma is sqrt(sigma_max^2 + 1): initial-noise-scale). Held to float32 round-off (float32 sigmas and scalars).",
      "float32",
      "gmm2d-ring8 (EdmPrecondGmmModel F for diffusers)",
    );
    flowPairs.push(p);
    checks.push({
      what: "EDMEulerScheduler vs k-diffusion sample_euler",
      gap: p.maxGap,
      bound: p.roundoffBound,
      verdict: p.verdict,
    });
  }
  pairs.push(...flowPairs);
  const [f1, f3, e] = flowPairs;
  return {
    question:
      "EDM's generality: is FlowMatchEulerDiscreteScheduler Algorithm 1 with Euler steps for s(t) = 1 - t, sigma(t) = t / (1 - t), and EDMEulerScheduler k-diffusion's sample_euler?",
    answer:
      `Yes, to float32 round-off: FlowMatchEuler shift 1 ${fmt(f1.maxGap)} and shift 3 ${fmt(f3.maxGap)} against EDM Algorithm 1 on the same time grid (bounds ${fmt(f1.roundoffBound)}, ${fmt(f3.roundoffBound)}); ` +
      `EDMEulerScheduler vs sample_euler ${fmt(e.maxGap)} (bound ${fmt(e.roundoffBound)}). The flow grid starts at t_0 = 0.98 before the shift: t = 1 is sigma = infinity in EDM's frame, where Algorithm 1's x_0 = z sigma(t_0) s(t_0) is undefined.`,
    checks,
  };
}
