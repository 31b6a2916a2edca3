/**
 * Cause ladders: for a divergent pair A vs B, a chain of runs from A to B, each rung changing
 * exactly one rule of the previous run's recipe (or swapping in another implementation of the
 * same method, which must then agree to round-off). Every rung's gap to the previous rung is
 * measured, so the ladder says how much each rule contributes; it closes when its last rung is
 * identical to B to round-off. A built ladder that does not close leaves part of the divergence
 * unexplained (a problem); a pair without a ladder says so ("not built").
 *
 * diffusers' float32 casts are rungs of their own: the diffusers run itself with one more cast
 * undone per rung (runners/uncast.ts: the sample rounded every step, then c_in), until it meets
 * k-diffusion with a "same method" rung; the sigma scalars and the float32 sigmas are rungs
 * between k-diffusion (or written-out loop) runs that differ in that one rule.
 */
import type { CauseId, Impl, LadderResult, PairResult } from "../report/schema.js";
import type { ImplDef, Recipe, SetupName } from "./scenarios/types.js";
import { comparePair, type TrajectoryRun } from "./trajectory.js";
import { UNCAST_RULES, type Uncast } from "../runners/uncast.js";

/** A rung run as an implementation of the table, or as one derived from one by changing settings. */
export type RungImpl =
  | string
  | {
      from: string;
      id: string;
      label: string;
      set: Partial<Recipe>;
      /** The setup it runs on, when not that of `from` (e.g. a written-out loop on the eps wrapper). */
      setup?: SetupName;
    };

export interface RungDef {
  impl: RungImpl;
  /** The one rule this rung changes, or "same method" (another implementation, expected identical). */
  change: CauseId | "same method";
  /** The rule in words, where the cause id names a family of rules (e.g. which float32 cast). */
  rule?: string;
}

export interface LadderDef {
  pair: string;
  rungs: RungDef[];
}

/** discrete-churn's settings (s_churn 40 over N = 15, window 0.05..50). */
const DISCRETE_CHURN = { sChurn: 40, sTmin: 0.05, sTmax: 50, sNoise: 1 };

const KARRAS_DIFFUSERS = "diffusers/EulerDiscreteScheduler@karras,leading";

/** A diffusers implementation with float32 casts undone (runners/uncast.ts), all of `rules` at once. */
function uncast(
  from: string,
  label: string,
  rules: Uncast[],
  set: Partial<Recipe>,
  idBase: string,
): RungImpl {
  return {
    from,
    id: `${idBase}+uncast(${rules.join(",")})`,
    label: `${label}; float64 ${rules.join(" and ")}`,
    set: { ...set, uncast: rules } as Partial<Recipe>,
  };
}

/** The rungs undoing diffusers' per-step float32 casts one at a time: the sample, then c_in. */
function uncastRungs(
  from: string,
  label: string,
  sampleCast: boolean,
  set: Partial<Recipe> = {},
  idBase = from,
): RungDef[] {
  const rungs: RungDef[] = [];
  if (sampleCast)
    rungs.push({
      impl: uncast(from, label, ["sample"], set, idBase),
      change: "float32-casts",
      rule: UNCAST_RULES.sample,
    });
  rungs.push({
    impl: uncast(from, label, sampleCast ? ["sample", "c_in"] : ["c_in"], set, idBase),
    change: "float32-casts",
    rule: UNCAST_RULES.c_in,
  });
  return rungs;
}

/** The rule of a rung that leaves diffusers' 0-d sigma arithmetic for k-diffusion's float64 one. */
const scalars = (which: string) =>
  `the 0-d sigma scalars (${which}) in float64 (diffusers: float32 0-d tensors)`;

const EULER_T = "diffusers/EulerDiscreteScheduler@t(sigma)";
const eulerToKd: RungDef[] = [
  // the sample cast is an implementation of the table: it is also the minimal pair of float32-casts
  { impl: `${EULER_T}+uncast(sample)`, change: "float32-casts", rule: UNCAST_RULES.sample },
  ...uncastRungs(EULER_T, "diffusers Euler, model fed sigma_to_t(sigma_i)", true).slice(1),
  { impl: "k-diffusion/sample_euler@diffusers-sigmas", change: "same method" },
];
const HEUN_T = "diffusers/HeunDiscreteScheduler@t(sigma)";
const heunToKd: RungDef[] = [
  ...uncastRungs(HEUN_T, "diffusers Heun, model fed sigma_to_t(sigma)", false),
  { impl: "k-diffusion/sample_heun@diffusers-sigmas", change: "same method" },
];
const TIMESTEP = "the model fed sigma_to_t(sigma_i) instead of the grid timestep t_i";

/** The ladders, by pair id (pairs of scenarios/*.ts). */
export const LADDERS: readonly LadderDef[] = [
  {
    pair: "heun-final/kd-vs-index-rule",
    rungs: [
      { impl: "variant/heun-sigma-zero-rule", change: "same method" },
      { impl: "variant/heun-index-rule", change: "final-step-handling" },
    ],
  },
  {
    pair: "churn-euler/kd-vs-edm@stream",
    rungs: [
      { impl: "edm/algorithm2-euler-every-step@stream", change: "same method" },
      { impl: "edm/algorithm2-euler@stream", change: "rng-consumption" },
    ],
  },
  {
    pair: "ancestral/kd-eta1-vs-song-vp",
    rungs: [
      { impl: "song2021/ve-ancestral", change: "same method" },
      { impl: "song2021/vp-ancestral", change: "noise-injection-rule" },
    ],
  },
  {
    pair: "ancestral/kd-eta0.5-vs-song-ve",
    rungs: [
      { impl: "k-diffusion/sample_euler_ancestral(eta=1)", change: "noise-scaling" },
      { impl: "song2021/ve-ancestral", change: "same method" },
    ],
  },
  {
    pair: "discrete-euler/diffusers-vs-kd-own-schedule",
    rungs: [
      { impl: EULER_T, change: "timestep-mapping", rule: TIMESTEP },
      ...eulerToKd,
      // diffusers' float32 sigmas -> the same np.interp schedule kept in float64 (float32(np.interp)
      // is not diffusers' sigmas bit for bit: ~2e-9 at the output, so no "same method" rung there)
      {
        impl: "k-diffusion/sample_euler@float64-np.interp",
        change: "float32-casts",
        rule: "the sigmas held in float64 (diffusers stores them as float32)",
      },
      { impl: "k-diffusion/sample_euler@get_sigmas", change: "sigma-interpolation" },
    ],
  },
  {
    pair: "discrete-euler/diffusers-vs-kd-same-sigmas",
    rungs: [{ impl: EULER_T, change: "timestep-mapping", rule: TIMESTEP }, ...eulerToKd],
  },
  { pair: "discrete-euler/diffusers-t(sigma)-vs-kd-same-sigmas", rungs: eulerToKd },
  {
    pair: "discrete-euler/kd-vs-kd-quantized",
    rungs: [{ impl: "k-diffusion/sample_euler@quantize", change: "timestep-rounding" }],
  },
  { pair: "discrete-heun/diffusers-t(sigma)-vs-kd", rungs: heunToKd },
  {
    pair: "discrete-heun/diffusers-vs-kd",
    rungs: [{ impl: HEUN_T, change: "timestep-mapping", rule: TIMESTEP }, ...heunToKd],
  },
  {
    pair: "discrete-ancestral/diffusers-vs-kd",
    rungs: [
      ...uncastRungs(
        "diffusers/EulerAncestralDiscreteScheduler@t(sigma)",
        "diffusers Euler-a, model fed sigma_to_t(sigma)",
        true,
      ),
      {
        impl: "k-diffusion/sample_euler_ancestral@diffusers-sigmas",
        change: "float32-casts",
        rule: scalars("sigma_up, sigma_down, dt"),
      },
    ],
  },
  {
    pair: "discrete-churn/diffusers-vs-kd",
    rungs: [
      ...uncastRungs(
        "diffusers/EulerDiscreteScheduler+churn@t(sigma)",
        "diffusers Euler, s_churn, model fed sigma_to_t(sigma)",
        true,
      ),
      {
        impl: {
          from: "variant/euler-churn-stale",
          id: "variant/euler-churn-stale@discrete,float32-scalars",
          label:
            "Euler loop with churn, eps taken before the noise (diffusers' rule), diffusers' float32 sigma scalars, on the eps wrapper",
          set: {
            model: "wrapper",
            sigmas: "diffusers-linspace",
            churn: DISCRETE_CHURN,
            scalars: "float32",
          } as Partial<Recipe>,
          setup: "ring8-discrete",
        },
        change: "same method",
      },
      {
        impl: {
          from: "variant/euler-churn-stale",
          id: "variant/euler-churn-stale@discrete",
          label: "Euler loop with churn, eps taken before the noise (diffusers' rule), on the eps wrapper",
          set: { model: "wrapper", sigmas: "diffusers-linspace", churn: DISCRETE_CHURN } as Partial<Recipe>,
          setup: "ring8-discrete",
        },
        change: "float32-casts",
        rule: scalars("sigma_hat, the churn amplitude sqrt(sigma_hat^2 - sigma^2), dt"),
      },
      {
        impl: {
          from: "variant/euler-churn-churned",
          id: "variant/euler-churn-churned@discrete",
          label: "Euler loop with churn, D evaluated at sigma_hat (k-diffusion's rule), on the eps wrapper",
          set: { model: "wrapper", sigmas: "diffusers-linspace", churn: DISCRETE_CHURN } as Partial<Recipe>,
          setup: "ring8-discrete",
        },
        change: "churn-evaluation-point",
      },
      { impl: "k-diffusion/sample_euler+churn@diffusers-sigmas", change: "same method" },
    ],
  },
  {
    pair: "karras/diffusers-leading-vs-kd",
    rungs: [
      {
        impl: {
          from: KARRAS_DIFFUSERS,
          id: `${KARRAS_DIFFUSERS},x=z*sigma_max`,
          label: "diffusers Euler, use_karras_sigmas, leading, latents scaled by sigma_max",
          set: { initScale: "sigma_max" },
        },
        change: "initial-noise-scale",
      },
      {
        impl: {
          from: KARRAS_DIFFUSERS,
          id: `${KARRAS_DIFFUSERS},x=z*sigma_max,t(sigma)`,
          label:
            "diffusers Euler, use_karras_sigmas, leading, sigma_max latents, model fed sigma_to_t(sigma)",
          set: { initScale: "sigma_max", timestep: "sigma_to_t" },
        },
        change: "timestep-mapping",
        rule: TIMESTEP,
      },
      ...uncastRungs(
        KARRAS_DIFFUSERS,
        "diffusers Euler, use_karras_sigmas, leading, sigma_max latents, model fed sigma_to_t(sigma)",
        true,
        { initScale: "sigma_max", timestep: "sigma_to_t" },
        `${KARRAS_DIFFUSERS},x=z*sigma_max,t(sigma)`,
      ),
      {
        impl: {
          from: "k-diffusion/sample_euler@karras(leading range)",
          id: "k-diffusion/sample_euler@diffusers-karras(leading range)",
          label: "k-diffusion sample_euler on diffusers' float32 Karras sigmas",
          set: { sigmas: "karras-leading-diffusers" } as Partial<Recipe>,
        },
        change: "same method",
      },
      {
        impl: "k-diffusion/sample_euler@karras(leading range)",
        change: "float32-casts",
        rule: "the Karras sigmas held in float64 (diffusers stores them as float32)",
      },
      { impl: "k-diffusion/sample_euler@karras(model range)", change: "noise-level-schedule" },
    ],
  },
];

/** Derive a rung's implementation from a table implementation by changing recipe settings. */
export function deriveImpl(base: ImplDef, rung: Exclude<RungImpl, string>): ImplDef {
  return { ...base, id: rung.id, label: rung.label, run: { ...base.run, ...rung.set } as Recipe };
}

/**
 * Build the ladder of each divergent pair. `run` runs a rung (cached by the caller); pairs with
 * no ladder definition come back "not built".
 */
export async function buildLadders(
  pairs: readonly PairResult[],
  run: (impl: RungImpl) => Promise<TrajectoryRun>,
  ladders: readonly LadderDef[] = LADDERS,
): Promise<LadderResult[]> {
  const out: LadderResult[] = [];
  for (const p of pairs) {
    if (p.verdict !== "diverge") continue;
    const def = ladders.find((l) => l.pair === p.id);
    if (!def) {
      out.push({ pair: p.id, status: "not built", rungs: [], closingGap: null, note: "ladder not built" });
      continue;
    }
    const spec = (id: string) => ({
      id,
      scenario: p.scenario,
      model: p.model,
      dtype: p.dtype,
      cause: null,
      causePair: null,
      note: "",
    });
    let prev = await run(p.a.id);
    const rungs: LadderResult["rungs"] = [];
    const problems: string[] = [];
    for (const r of def.rungs) {
      const cur = await run(r.impl);
      const c = comparePair(spec(`${p.id}#${rungs.length + 1}`), prev, cur);
      rungs.push({
        impl: cur.impl as Impl,
        change: r.change,
        rule: r.rule ?? "",
        verdict: c.verdict === "identical" ? "identical" : "diverge",
        maxGap: c.maxGap,
        outputGap: c.outputGap,
      });
      if (r.change === "same method" && c.verdict !== "identical")
        problems.push(`rung ${rungs.length} (${cur.impl.id}) should compute the same method but diverges`);
      prev = cur;
    }
    const b = await run(p.b.id);
    const closing = comparePair(spec(`${p.id}#close`), prev, b);
    if (closing.verdict !== "identical")
      problems.push(`the last rung differs from ${p.b.id} by ${closing.outputGap ?? "n/a"}`);
    out.push({
      pair: p.id,
      status: problems.length ? "open" : "closed",
      rungs,
      closingGap: closing.maxGap,
      note: problems.length ? problems.join("; ") : "closed: the last rung is identical to b to round-off",
    });
  }
  return out;
}
