/**
 * Cause ladders (issue 14, item 3), asserted with the measured runs: every divergent pair of
 * the scenarios and of the seed question has a ladder that closes (its last rung identical to
 * b to round-off), each rung changes one rule, and the float32-casts rung that is isolated
 * (the per-step float32 cast of the sample) is of the size of the pairs that cause explains.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runScenarios, type ScenarioOutput } from "../src/conformance/scenarios.js";
import { seedLadders } from "../src/conformance/seed-ladders.js";
import { reportedPairs, samplerMap } from "../src/conformance/webui.js";
import {
  ladderCellMarkdown,
  laddersBlock,
  laddersMarkdown,
  ladderSummary,
} from "../src/report/ladders-section.js";
import { mdCode, mdText, renderMarkdown } from "../src/report/render-markdown.js";
import { causeIds, type LadderResult, type PairResult, type Report } from "../src/report/schema.js";
import { formatGap } from "../src/report/svg/format.js";
import { UNCAST_RULES } from "../src/runners/uncast.js";
import { sampleReport } from "./sample-report.js";

let scen: ScenarioOutput;
let pairs: PairResult[];
let ladders: LadderResult[];
beforeAll(async () => {
  scen = await runScenarios();
  const mapPairs = reportedPairs(await samplerMap());
  pairs = [...scen.pairs, ...mapPairs];
  ladders = [...scen.ladders, ...(await seedLadders(mapPairs))];
}, 120_000);

const pair = (id: string) => {
  const p = pairs.find((x) => x.id === id);
  if (!p) throw new Error(`no pair ${id}`);
  return p;
};
const ladder = (id: string) => {
  const l = ladders.find((x) => x.pair === id);
  if (!l) throw new Error(`no ladder ${id}`);
  return l;
};

describe("cause ladders", () => {
  it("every divergent pair (scenarios and the seed question) has a closed ladder", () => {
    // the sampler map's rows (webui/*) are closed by their own run with the cause removed
    const diverging = pairs.filter((p) => p.verdict === "diverge" && !p.id.startsWith("webui/"));
    expect(diverging.map((p) => p.id)).toContain("discrete-churn/diffusers-vs-kd");
    expect(diverging.map((p) => p.id)).toContain("seed/ddpm-fixed_large-vs-kd-euler-a");
    expect(ladders.map((l) => l.pair).sort()).toEqual(diverging.map((p) => p.id).sort());
    for (const l of ladders) {
      expect(l.status, `${l.pair}: ${l.note}`).toBe("closed");
      expect(l.rungs.length, l.pair).toBeGreaterThan(0);
      expect(l.closingGap!, l.pair).toBeLessThanOrEqual(pair(l.pair).roundoffBound);
    }
  });

  it("each rung changes one rule: one cause (named in words where it is a family) or the same method", () => {
    for (const l of ladders) {
      let prev = pair(l.pair).a.id;
      const rules = new Map<string, Set<string>>();
      for (const r of l.rungs) {
        const where = `${l.pair} ${r.impl.id}`;
        expect(r.impl.id, where).not.toBe(prev);
        expect([...causeIds, "same method"], where).toContain(r.change);
        expect(r.verdict, where).toBe(r.change === "same method" ? "identical" : "diverge");
        if (r.change !== "same method") {
          const seen = rules.get(r.change) ?? new Set<string>();
          // two rungs of one cause must name two different rules
          expect(seen.has(r.rule), `${where}: rule "${r.rule}" repeated`).toBe(false);
          if (seen.size > 0) expect(r.rule, where).not.toBe("");
          seen.add(r.rule);
          rules.set(r.change, seen);
        }
        // a derived diffusers run undoes one more float32 cast than the run before it
        const undone = /\+uncast\(([^)]*)\)$/.exec(r.impl.id)?.[1].split(",") ?? [];
        const before = /\+uncast\(([^)]*)\)$/.exec(prev)?.[1].split(",") ?? [];
        if (undone.length) {
          expect(undone.length, where).toBe(before.length + 1);
          expect(undone.slice(0, before.length), where).toEqual(before);
        }
        prev = r.impl.id;
      }
    }
  });

  it("diffusers Euler vs k-diffusion: timestep mapping, each float32 cast and sigma interpolation, each measured", () => {
    const l = ladder("discrete-euler/diffusers-vs-kd-own-schedule");
    const changes = l.rungs.map((r) => r.change);
    for (const c of ["timestep-mapping", "float32-casts", "sigma-interpolation", "same method"])
      expect(changes, c).toContain(c);
    // the diffusers run with every per-step cast undone IS k-diffusion's sample_euler on its sigmas
    const same = l.rungs.find((r) => r.change === "same method")!;
    expect(same.impl.id).toBe("k-diffusion/sample_euler@diffusers-sigmas");
    expect(same.maxGap!).toBeLessThanOrEqual(pair(l.pair).roundoffBound);
    // churn: diffusers' evaluation point is the dominant rule, the casts are measured beside it
    const churn = ladder("discrete-churn/diffusers-vs-kd");
    const gap = (c: string) =>
      Math.max(...churn.rungs.filter((r) => r.change === c).map((r) => r.outputGap!));
    expect(gap("churn-evaluation-point")).toBeGreaterThan(1e4 * gap("float32-casts"));
    expect(gap("float32-casts")).toBeGreaterThan(1e3 * pair(churn.pair).roundoffBound);
  });

  it("float32-casts: the isolated sample-cast rung is of the size of the pairs the cause explains", () => {
    const minimal = scen.minimal.get("float32-casts")!;
    expect(minimal.verdict).toBe("diverge");
    const explained = pairs.filter(
      (p) =>
        p.cause === "float32-casts" &&
        p.verdict === "diverge" &&
        ladders.some((l) => l.pair === p.id && l.rungs.some((r) => r.rule === UNCAST_RULES.sample)),
    );
    expect(explained.length).toBeGreaterThanOrEqual(2);
    for (const p of explained) {
      const rung = ladder(p.id).rungs.find((r) => r.rule === UNCAST_RULES.sample)!;
      const ratio = rung.outputGap! / p.outputGap!;
      expect(ratio, p.id).toBeGreaterThan(1 / 3);
      expect(ratio, p.id).toBeLessThan(3);
      const mRatio = minimal.outputGap! / p.outputGap!;
      expect(mRatio, `minimal pair vs ${p.id}`).toBeGreaterThan(1 / 3);
      expect(mRatio, `minimal pair vs ${p.id}`).toBeLessThan(3);
    }
  });

  it("the reports show every ladder: its rungs, the rule each changes and each rung's gap", () => {
    const report: Report = { ...sampleReport(), pairs, ladders };
    const md = laddersMarkdown(report, { text: mdText, code: mdCode }).join("\n");
    const html = laddersBlock(report);
    const chunks = md.split("#### ");
    for (const l of ladders) {
      expect(md).toContain(`#### ${mdCode(l.pair)} — closed`);
      const chunk = chunks.find((c) => c.startsWith(`${mdCode(l.pair)} — `))!;
      expect(html).toContain(`id="ladder-${l.pair}"`);
      const summary = ladderSummary(l);
      expect(chunk).toContain(mdText(summary));
      for (const r of l.rungs) {
        const row = chunk.split("\n").find((line) => line.includes(`| ${mdCode(r.impl.id)} |`));
        expect(row, `${l.pair} ${r.impl.id}`).toBeDefined();
        expect(row!).toContain(`| ${formatGap(r.maxGap)} | ${formatGap(r.outputGap)} |`);
        if (r.rule) expect(row!).toContain(mdText(r.rule));
      }
    }
    // the Divergences table points each pair to its ladder with every cause the ladder measured
    const full = renderMarkdown(report);
    for (const l of ladders) {
      const causes = new Set(l.rungs.map((r) => r.change).filter((c) => c !== "same method"));
      const cell = ladderCellMarkdown(report, l.pair);
      expect(cell.startsWith("closed"), l.pair).toBe(true);
      for (const c of causes) expect(cell, l.pair).toContain(c);
      expect(full).toContain(`| ${mdText(cell)} |`);
    }
    // the summary line orders causes by their largest rung, e.g. churn's evaluation point first
    expect(ladderSummary(ladder("discrete-churn/diffusers-vs-kd"))).toMatch(/^churn-evaluation-point /);
  });
});
