/**
 * The cause ladders of the seed question's library checks (webui.ts, `seed/*`): k-diffusion's
 * sample_euler_ancestral (eta = 1) vs DDPMScheduler fixed_small / fixed_large and
 * DDIMScheduler(eta = 1) on DDPM's timesteps. The runs are rebuilt here from the same data
 * (webui-rows.ts: SD's pipeline config, N, the seed), each started at z sigma_max and fed
 * the noise of its timestep's position, as the sampler map runs them; a ladder whose first
 * and last runs do not reproduce its pair's gap is reported open, so the rebuild cannot drift.
 */
import type { DiscreteModel, NoiseRequest, NoiseSource, Tensor } from "@edmkit/core";
import { type SignedSchedulerName, schedulers } from "@edmkit/diffusers";
import { runDiffusers, runKd } from "../runners/record.js";
import type { Impl, LadderResult, PairResult } from "../report/schema.js";
import { buildLadders, type LadderDef, type RungImpl } from "./ladders.js";
import { SEED, SETUPS } from "./scenarios/setups.js";
import { AlignedNoise, comparePair, type TrajectoryRun } from "./trajectory.js";
import { DDPM_SMALL_RUN, N, SD_PIPE } from "./webui-rows.js";

const SMALL = DDPM_SMALL_RUN;
const LARGE = "webui/diffusers/DDPM-fixed_large";
const DDIM = "webui/diffusers/DDIM-eta1";
const KD = "webui/k-diffusion/DDPM";

/** The diffusers runs of the seed question: scheduler, config and step() arguments. */
const DIFFUSERS_RUNS: Record<
  string,
  { cls: SignedSchedulerName; config: Record<string, unknown>; step?: Record<string, number> }
> = {
  [SMALL]: { cls: "DDPMScheduler", config: SD_PIPE },
  [LARGE]: { cls: "DDPMScheduler", config: { ...SD_PIPE, variance_type: "fixed_large" } },
  [DDIM]: { cls: "DDIMScheduler", config: { ...SD_PIPE, set_alpha_to_one: true }, step: { eta: 1 } },
};

const SCALARS =
  "the step's 0-d scalars (sqrt(abar), the posterior mean's coefficients, its variance) in float64 (diffusers: float32 0-d tensors); k-diffusion takes the same step in the VE frame";

export const SEED_LADDERS: readonly LadderDef[] = [
  {
    pair: "seed/ddpm-fixed_small-vs-kd-euler-a",
    rungs: [{ impl: KD, change: "float32-casts", rule: SCALARS }],
  },
  {
    pair: "seed/ddim-eta1-vs-kd-euler-a",
    rungs: [{ impl: KD, change: "float32-casts", rule: SCALARS }],
  },
  {
    pair: "seed/ddpm-fixed_large-vs-kd-euler-a",
    rungs: [
      {
        impl: SMALL,
        change: "noise-injection-rule",
        rule: "variance beta-tilde (fixed_small, the posterior's) instead of beta (fixed_large)",
      },
      { impl: KD, change: "float32-casts", rule: SCALARS },
    ],
  },
];

/** A noise source that hands the inner one another step key (the position of a timestep). */
class KeyedNoise implements NoiseSource {
  constructor(
    private readonly inner: NoiseSource,
    private readonly key: (step: number) => number,
  ) {}
  randn(out: Tensor, request?: NoiseRequest): Tensor {
    const step = request?.step;
    return this.inner.randn(out, step === undefined ? request : { ...request, step: this.key(step) });
  }
}

/** Build the ladders of the seed question's divergent pairs (`pairs`: the sampler map's). */
export async function seedLadders(pairs: readonly PairResult[]): Promise<LadderResult[]> {
  const mine = pairs.filter((p) => SEED_LADDERS.some((l) => l.pair === p.id));
  if (mine.length === 0) return [];
  const setup = SETUPS["ring8-discrete"]();
  const eps = setup.discrete as DiscreteModel;
  const impls = new Map<string, Impl>();
  for (const p of mine) for (const i of [p.a, p.b]) impls.set(i.id, i);
  const runs = new Map<string, TrajectoryRun>();
  const runOne = async (id: string): Promise<TrajectoryRun> => {
    const impl = impls.get(id) ?? { id, library: "diffusers", label: id, settings: {} };
    const d = DIFFUSERS_RUNS[id];
    const abar = Array.from(new schedulers.DDPMScheduler(SD_PIPE, {}).alphasCumprod);
    const sched = new schedulers[d ? d.cls : "DDPMScheduler"](d ? d.config : SD_PIPE, {});
    sched.setTimesteps(N);
    const steps = Array.from(sched.timesteps);
    const sigma = (t: number) => Math.sqrt((1 - abar[t]) / abar[t]);
    if (!d) {
      // k-diffusion Euler-a (eta = 1) on sigma(abar_t) of DDPM's timesteps, then 0
      const grid = [...steps.map(sigma), 0];
      return runKd(
        impl,
        "sample_euler_ancestral",
        setup.models.wrapper!,
        setup.z,
        grid,
        { eta: 1 },
        new AlignedNoise(SEED),
      );
    }
    const s0 = sigma(steps[0]);
    return runDiffusers(
      impl,
      d.cls,
      d.config,
      eps,
      setup.z,
      {
        numInferenceSteps: N,
        // VP-frame start at z sigma_max in the VE frame
        initScale: s0 / Math.sqrt(1 + s0 * s0),
        ...(d.step ? { stepKwargs: d.step } : {}),
      },
      new KeyedNoise(new AlignedNoise(SEED), (t) => steps.indexOf(t)),
    );
  };
  const run = async (r: RungImpl): Promise<TrajectoryRun> => {
    if (typeof r !== "string") throw new Error(`seed ladder: derived rung ${r.id} is not supported`);
    let out = runs.get(r);
    if (!out) runs.set(r, (out = await runOne(r)));
    return out;
  };
  const ladders = await buildLadders(mine, run, SEED_LADDERS);
  // the rebuilt runs must reproduce each pair's gap, or the ladder is not about that pair
  for (const l of ladders) {
    const p = mine.find((q) => q.id === l.pair)!;
    const again = comparePair({ ...p, id: `${p.id}#rebuilt` }, await run(p.a.id), await run(p.b.id));
    if (again.maxGap !== p.maxGap || again.outputGap !== p.outputGap) {
      l.status = "open";
      l.note = `the ladder's runs do not reproduce the pair (max gap ${again.maxGap} vs ${p.maxGap}); ${l.note}`;
    }
  }
  return ladders;
}
