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
import { SETUPS, type Setup } from "./scenarios/setups.js";
import type { ImplDef, Note, ScenarioDef, SetupName } from "./scenarios/types.js";
import { comparePair, type TrajectoryRun } from "./trajectory.js";

export { METHODS } from "./scenarios/methods.js";
export type { ScenarioDef } from "./scenarios/types.js";

/** Every scenario of the suite, in report order. */
export const SCENARIOS: readonly ScenarioDef[] = [...continuousScenarios, ...discreteScenarios];

export interface ScenarioOutput {
  pairs: PairResult[];
  /** Minimal pairs by cause id, in the order the scenarios demonstrate them. */
  minimal: Map<CauseId, PairResult>;
  /** The cause ladder of each divergent pair (ladders.ts). */
  ladders: LadderResult[];
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
  for (const s of scenarios) {
    const setup = setupOf(s.setup);
    const note = (n: Note) => (typeof n === "string" ? n : n(setup.facts));
    const spec = { model: setup.modelName, dtype: "float64" as const, schedule: s.schedule };
    for (const p of s.pairs) {
      const cause = p.expect === "equivalent" ? null : p.expect;
      const a = await run(s, p.a);
      const b = await run(s, p.b);
      pairs.push(
        comparePair(
          { id: p.id, scenario: s.title, ...spec, cause, causePair: cause, note: note(p.note) },
          a,
          b,
        ),
      );
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
  return { pairs, minimal, ladders };
}
