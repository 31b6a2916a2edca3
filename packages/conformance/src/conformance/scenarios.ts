/**
 * Implementation vs implementation: the "same" method from k-diffusion, diffusers, the
 * general EDM algorithms, NVlabs' samplers and Song et al.'s ancestral rule, side by side on
 * one model, one schedule and one noise stream. The scenarios are data (scenarios/*.ts); this
 * is their interpreter. Each pair is computed, never asserted: the verdict comes from the
 * numbers. A pair expected to agree that diverges is reported as unexplained. Root causes
 * are demonstrated by minimal pairs: two runs that differ in exactly one rule.
 */
import type { CauseId, LadderResult, PairResult } from "../report/schema.js";
import { buildLadders, deriveImpl, type RungImpl } from "./ladders.js";
import { continuousScenarios } from "./scenarios/continuous.js";
import { discreteScenarios } from "./scenarios/discrete.js";
import { runRecipe } from "./scenarios/recipes.js";
import { disjointSeedTest } from "./images/stats.js";
import { SETUPS, type Setup } from "./scenarios/setups.js";
import type { ImplDef, Note, ScenarioDef, SetupName } from "./scenarios/types.js";
import { comparePair, type TrajectoryRun } from "./trajectory.js";

export { METHODS } from "./scenarios/methods.js";
export type { ScenarioDef } from "./scenarios/types.js";

/** Samples per implementation in a divergent pair's distribution test (2n latents are run). */
export const DISTRIBUTION_N = 512;
/** The seed of those latents and noise streams (not the scenarios' SEED: other samples). */
export const DISTRIBUTION_SEED = 31337;
const PERMUTATIONS = 199;

/** Every scenario of the suite, in report order. */
export const SCENARIOS: readonly ScenarioDef[] = [...continuousScenarios, ...discreteScenarios];

export interface ScenarioOutput {
  pairs: PairResult[];
  /** Minimal pairs by cause id, in the order the scenarios demonstrate them. */
  minimal: Map<CauseId, PairResult>;
  /** The cause ladder of each divergent pair (ladders.ts). */
  ladders: LadderResult[];
}

/**
 * Pathwise only or distributional, by measurement: each implementation of a divergent pair run
 * once more on 2 DISTRIBUTION_N other latents and noise (DISTRIBUTION_SEED), then the energy
 * test on disjoint seeds (images/stats.ts, the Images section's test).
 */
async function distributionVerdicts(
  divergent: { pair: PairResult; a: string; b: string; setup: SetupName }[],
  def: (id: string) => ImplDef,
): Promise<void> {
  const setups = new Map<SetupName, Setup>();
  const runs = new Map<string, Float64Array>();
  const output = async (id: string, name: SetupName) => {
    let out = runs.get(id);
    if (out) return out;
    let setup = setups.get(name);
    if (!setup)
      setups.set(name, (setup = SETUPS[name]({ batch: 2 * DISTRIBUTION_N, seed: DISTRIBUTION_SEED })));
    out = (await runRecipe(def(id), setup)).output;
    runs.set(id, out);
    return out;
  };
  for (const d of divergent)
    d.pair.distribution = distributionOf(await output(d.a, d.setup), await output(d.b, d.setup));
}

/**
 * The verdict of a pair from its two implementations' outputs on 2n rows drawn from
 * DISTRIBUTION_SEED: the energy test of a's first n rows against b's last n (disjoint seeds).
 * The scenarios' divergent pairs and the sampler map's (webui.ts) get it the same way.
 */
export function distributionOf(
  a: Float64Array,
  b: Float64Array,
  n = DISTRIBUTION_N,
): NonNullable<PairResult["distribution"]> {
  const t = disjointSeedTest(a, b, a.length / (2 * n), n, PERMUTATIONS, 11);
  return { ...t, seed: DISTRIBUTION_SEED };
}

/** Run the scenarios: each implementation once (when a pair first needs it), then every pair. */
export async function runScenarios(scenarios: readonly ScenarioDef[] = SCENARIOS): Promise<ScenarioOutput> {
  const impls = new Map<string, { def: ImplDef; setup: SetupName }>();
  for (const s of scenarios)
    for (const def of s.impls) {
      if (impls.has(def.id)) throw new Error(`scenario ${s.id}: implementation ${def.id} is defined twice`);
      impls.set(def.id, { def, setup: s.setup });
    }
  const setups = new Map<SetupName, Setup>();
  const setupOf = (name: SetupName): Setup => {
    let s = setups.get(name);
    if (!s) setups.set(name, (s = SETUPS[name]()));
    return s;
  };
  const runs = new Map<string, TrajectoryRun>();
  const run = async (s: ScenarioDef, id: string): Promise<TrajectoryRun> => {
    const cached = runs.get(id);
    if (cached) return cached;
    const e = impls.get(id);
    if (!e) throw new Error(`scenario ${s.id}: no implementation ${id}`);
    if (e.setup !== s.setup) throw new Error(`scenario ${s.id}: ${id} runs on another setup (${e.setup})`);
    const r = await runRecipe(e.def, setupOf(e.setup));
    runs.set(id, r);
    return r;
  };

  const pairs: PairResult[] = [];
  const minimal = new Map<CauseId, PairResult>();
  const divergent: { pair: PairResult; a: string; b: string; setup: SetupName }[] = [];
  for (const s of scenarios) {
    const setup = setupOf(s.setup);
    const note = (n: Note) => (typeof n === "string" ? n : n(setup.facts));
    const spec = { model: setup.modelName, dtype: "float64" as const, schedule: s.schedule };
    for (const p of s.pairs) {
      const cause = p.expect === "equivalent" ? null : p.expect;
      const a = await run(s, p.a);
      const b = await run(s, p.b);
      const pair = comparePair(
        { id: p.id, scenario: s.title, ...spec, cause, causePair: cause, note: note(p.note) },
        a,
        b,
      );
      pairs.push(pair);
      if (pair.verdict === "diverge") divergent.push({ pair, a: p.a, b: p.b, setup: s.setup });
    }
    for (const m of s.minimal) {
      const a = await run(s, m.a);
      const b = await run(s, m.b);
      const id = `minimal/${m.cause}`;
      const scenario = m.title ?? s.title;
      minimal.set(
        m.cause,
        comparePair({ id, scenario, ...spec, cause: m.cause, causePair: m.cause, note: note(m.note) }, a, b),
      );
    }
  }
  const runRung = async (r: RungImpl): Promise<TrajectoryRun> => {
    if (typeof r === "string") {
      const e = impls.get(r);
      if (!e) throw new Error(`ladder: no implementation ${r}`);
      const cached = runs.get(r);
      if (cached) return cached;
      const out = await runRecipe(e.def, setupOf(e.setup));
      runs.set(r, out);
      return out;
    }
    const base = impls.get(r.from);
    if (!base) throw new Error(`ladder: no implementation ${r.from}`);
    return runRecipe(deriveImpl(base.def, r), setupOf(r.setup ?? base.setup));
  };
  const ladders = await buildLadders(pairs, runRung);
  await distributionVerdicts(divergent, (id) => impls.get(id)!.def);
  return { pairs, minimal, ladders };
}
