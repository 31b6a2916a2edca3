/**
 * Turns task results (from one run, or merged from shards) into the report object. Every
 * claim in the report is derived here from a computed number; a divergence the scenarios
 * did not expect becomes "unexplained" and a problem, never hidden.
 */
import { availableParallelism } from "node:os";
import { emptySamplerMap, type PairResult, type Report } from "../report/schema.js";
import { ancestralAnalysis } from "./ancestral.js";
import { CAUSES } from "./causes.js";
import { METHODS } from "./scenarios.js";
import { quirkCoverage } from "./quirks.js";
import type { TaskResult } from "./tasks.js";

export interface AssembleInfo {
  durationSeconds: number;
  workers: number;
  shard: string | null;
  /**
   * One shard of a split run: checks that need the whole suite (quirk coverage, a cause
   * demonstrated by a minimal pair of the scenarios task) are left to \`edmkit merge\`.
   */
  partial: boolean;
  versions: Record<string, string>;
}

const emptyFigures = (): Report["figures"] => ({
  trajectories1d: { sampler: "not run", sigmas: [], paths: [], density: { x: [], sigma: [], logp: [] } },
  clouds2d: [],
  heatmap: { scenario: "not run", labels: [], gaps: [] },
});

/** Connected components of the "identical" relation: implementations computing the same method. */
function equivalenceGroups(pairs: PairResult[]): Report["equivalence"] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    const p = parent.get(x) ?? x;
    if (p === x) return x;
    const r = find(p);
    parent.set(x, r);
    return r;
  };
  const impls = new Map<string, PairResult["a"]>();
  for (const p of pairs) {
    impls.set(p.a.id, p.a);
    impls.set(p.b.id, p.b);
    if (p.verdict === "identical") parent.set(find(p.a.id), find(p.b.id));
  }
  const groups = new Map<string, { members: Set<string>; pairs: PairResult[] }>();
  for (const p of pairs) {
    if (p.verdict !== "identical") continue;
    const root = find(p.a.id);
    const g = groups.get(root) ?? { members: new Set(), pairs: [] };
    g.members.add(p.a.id).add(p.b.id);
    g.pairs.push(p);
    groups.set(root, g);
  }
  return [...groups.values()].map((g) => ({
    method: [...g.members].map((id) => METHODS[id]).find(Boolean) ?? g.pairs[0].scenario,
    members: [...g.members].map((id) => impls.get(id)!),
    maxGap: Math.max(...g.pairs.map((p) => p.maxGap ?? 0)),
    evidence: g.pairs.map(
      (p) =>
        `${p.id}: max gap ${(p.maxGap ?? 0).toExponential(2)} <= round-off bound ${p.roundoffBound.toExponential(2)} over ${p.nfe.a} model calls`,
    ),
  }));
}

/** The Images section from the images:* tasks (absent when none ran). */
function imagesOf(results: TaskResult[], problems: string[]): Report["images"] {
  const parts = results.flatMap((r) => (r.kind === "images" && r.value ? [r.value] : []));
  if (!results.some((r) => r.kind === "images")) return undefined;
  const denoisers = parts.flatMap((p) => (p.denoiser ? [p.denoiser] : []));
  for (const d of denoisers)
    for (const p of d.pairs)
      if (p.psnr !== null && !(p.maxDiff !== null && p.maxDiff >= 0))
        problems.push(`images ${d.id} ${p.id}: PSNR without a max pixel gap`);
  return { denoisers, ode: parts.find((p) => p.ode)?.ode ?? null };
}

export function assembleReport(results: TaskResult[], info: AssembleInfo): Report {
  const problems: string[] = [];
  for (const r of results) if (r.error) problems.push(`task ${r.id} failed: ${r.error}`);

  const fixtures = results.flatMap((r) => (r.kind === "fixture" && r.value ? [r.value] : []));
  const summary = { passed: 0, failed: 0, unsupported: 0, invalid: 0 };
  const byLibrary: Report["fixtures"]["byLibrary"] = {};
  for (const f of fixtures) {
    if (f.status === "invalid") {
      summary.invalid++;
      problems.push(`fixture ${f.file} invalid: ${f.message ?? "malformed"}`);
      continue;
    }
    const lib = (byLibrary[f.library] ??= { passed: 0, failed: 0, unsupported: 0 });
    const key = f.status === "pass" ? "passed" : f.status === "unsupported" ? "unsupported" : "failed";
    summary[key]++;
    lib[key]++;
    if (f.status !== "pass") {
      const d = f.firstDivergence;
      problems.push(
        `fixture ${f.id} ${f.status}${d ? `: first diverging model call ${d.modelCall} (${d.step === null ? "" : `step ${d.step}, `}|d| = ${d.maxAbs === null ? "not finite" : d.maxAbs.toExponential(2)}, ${d.field})` : f.message ? `: ${f.message}` : ""}`,
      );
    }
  }

  const scen = results.find((r) => r.kind === "scenarios")?.value ?? undefined;
  const onnxTasks = results.flatMap((r) => (r.kind === "onnx" && r.value ? [r.value] : []));
  const pairs = [...(scen?.pairs ?? []), ...onnxTasks.flatMap((o) => o.pairs ?? [])].map((p) => {
    if (p.verdict === "diverge" && p.cause === null) {
      problems.push(
        `unexplained divergence: ${p.id} (${p.a.label} vs ${p.b.label}): output gap ${p.outputGap?.toExponential(2) ?? "n/a"}, first at model call ${p.firstModelCall}`,
      );
      return { ...p, cause: "unexplained" as const };
    }
    if (
      p.verdict === "diverge" &&
      p.cause !== "unexplained" &&
      p.cause !== null &&
      !(info.partial && !scen) &&
      !scen?.minimal.some(([c]) => c === p.cause)
    ) {
      problems.push(`divergence ${p.id} names cause ${p.cause} but no minimal pair demonstrates it`);
    }
    return p;
  });
  const causes: Report["causes"] = (scen?.minimal ?? []).map(([id, pair]) => {
    if (pair.verdict !== "diverge")
      problems.push(`the minimal pair for ${id} did not diverge: the cause is not demonstrated`);
    return {
      id,
      title: CAUSES[id].title,
      explanation: CAUSES[id].explanation,
      references: CAUSES[id].references,
      minimalPair: pair,
    };
  });

  for (const r of scen?.samplerMap.rows ?? [])
    if (r.open)
      problems.push(
        `sampler map row ${r.name} is open (not yet explained): ${r.openReason ?? "its ladder does not close"}`,
      );

  const ladders = scen?.ladders ?? [];
  for (const l of ladders)
    if (l.status === "open")
      problems.push(`unexplained divergence: the cause ladder of ${l.pair} does not close (${l.note})`);

  let ancestral: Report["ancestral"];
  try {
    ancestral = ancestralAnalysis(pairs, scen?.samplerMap);
  } catch (e) {
    ancestral = {
      question: "Is k-diffusion's ancestral step the same as Song et al.'s ancestral update?",
      answer: `not computed in this run (${(e as Error).message})`,
      derivation: [],
      checks: [],
    };
  }

  const accuracy = results.flatMap((r) => (r.kind === "accuracy" && r.value ? [r.value] : []));
  const onnx = onnxTasks.map(({ pairs: _pairs, ...o }) => o);
  const figures = emptyFigures();
  for (const r of results) {
    if (!r.value) continue;
    if (r.kind === "trajectories1d") figures.trajectories1d = r.value;
    else if (r.kind === "clouds2d") figures.clouds2d = r.value;
    else if (r.kind === "heatmap") figures.heatmap = r.value;
  }

  const fixtureSection = {
    summary,
    byLibrary,
    results: fixtures.map((f) => ({ ...f, maxAbsError: f.maxAbsError ?? null })),
  };
  const quirks =
    fixtures.length && scen && !info.partial ? quirkCoverage({ fixtures: fixtureSection, causes }) : [];
  for (const q of quirks)
    if (!q.ok && !info.partial) problems.push(`${q.source} (${q.summary}) is not covered: ${q.evidence}`);

  return {
    schema: "edmkit-report/1",
    generatedAt: new Date().toISOString(),
    durationSeconds: info.durationSeconds,
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: availableParallelism(),
      workers: info.workers,
      shard: info.shard,
    },
    versions: info.versions,
    fixtures: fixtureSection,
    equivalence: equivalenceGroups(pairs),
    pairs,
    causes,
    ladders,
    ancestral,
    accuracy,
    onnx,
    figures,
    quirks,
    // open rows are shown as "open (not yet explained)" in the section; their pairs stay out of the report
    samplerMap: scen?.samplerMap ?? emptySamplerMap(),
    images: imagesOf(results, problems),
    problems,
  };
}
