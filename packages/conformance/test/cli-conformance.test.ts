/**
 * The main job end to end: `edmkit conformance` on the bundled fixtures writes a report whose
 * numbers hold up — every fixture passes, every root cause of the catalogue is shown by a
 * minimal pair that really diverges, every equivalence claim is backed by a computed gap
 * within round-off — and the HTML renders in a real browser. Also: shards merge into the
 * same report, and a run that cannot complete leaves the previous report intact.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { causeIds, type Report, reportSchema } from "../src/report/schema.js";
import { formatGap } from "../src/report/svg/format.js";
import { launchChromium, tablesWiderThanContainer } from "./chromium.js";
import { consistencyProblems, plotTextOverlaps } from "./report-consistency.js";
import { edmkit, FIXTURES } from "./cli-helpers.js";
import { listFixtureFiles } from "@edmkit/core/node";

const out = mkdtempSync(join(tmpdir(), "edmkit-conformance-"));
let report: Report;
let run: ReturnType<typeof edmkit>;

beforeAll(() => {
  run = edmkit(["conformance", "--workers", "2", "--out", join(out, "reports")]);
  report = reportSchema.parse(JSON.parse(readFileSync(join(out, "reports", "report.json"), "utf8")));
}, 600_000);

describe("edmkit conformance", () => {
  test("exits 0 with a summary table and no problems", () => {
    expect(run.stderr).toBe("");
    expect(report.problems).toEqual([]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/fixtures: \d+ passed, 0 failed, 0 unsupported/);
  });

  test("writes index.html, report.md and report.json", () => {
    for (const f of ["index.html", "report.md", "report.json", "trajectory.gif"])
      expect(existsSync(join(out, "reports", f))).toBe(true);
    const md = readFileSync(join(out, "reports", "report.md"), "utf8");
    for (const c of report.causes) expect(md).toContain(c.title);
  });

  test("every bundled fixture is replayed and passes", () => {
    const files = listFixtureFiles(`${FIXTURES}reference`);
    expect(report.fixtures.results).toHaveLength(files.length);
    expect(report.fixtures.summary).toEqual({ passed: files.length, failed: 0, unsupported: 0, invalid: 0 });
    for (const lib of ["k-diffusion", "diffusers", "edm"])
      expect(report.fixtures.byLibrary[lib].passed).toBeGreaterThan(0);
  });

  test("every cause of the catalogue is demonstrated by a minimal pair that diverges beyond round-off", () => {
    expect(report.causes.map((c) => c.id).sort()).toEqual([...causeIds].sort());
    for (const c of report.causes) {
      expect(c.minimalPair.verdict, c.id).toBe("diverge");
      expect(c.minimalPair.maxGap!, c.id).toBeGreaterThan(c.minimalPair.roundoffBound);
    }
  });

  test("every divergence names a cause that has a minimal pair; every equivalence is backed by a gap within round-off", () => {
    const demonstrated = new Set(report.causes.map((c) => c.id));
    for (const p of report.pairs) {
      if (p.verdict === "diverge") {
        expect(p.cause, p.id).not.toBe("unexplained");
        expect(demonstrated.has(p.cause as never), p.id).toBe(true);
      } else {
        expect(p.maxGap!, p.id).toBeLessThanOrEqual(p.roundoffBound);
      }
    }
    expect(report.equivalence.length).toBeGreaterThan(0);
    for (const g of report.equivalence) {
      expect(g.members.length).toBeGreaterThanOrEqual(2);
      expect(g.evidence.length).toBeGreaterThan(0);
    }
  });

  test("every quirk PROVENANCE.md lists appears in the report, covered by passing fixtures or a diverging minimal pair", () => {
    const prov = readFileSync(`${FIXTURES}PROVENANCE.md`, "utf8");
    const numbered = (text: string) => [...text.matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1]));
    const [kdEdm, rest] = prov.split("# Provenance of `reference/diffusers/`");
    const [diff, family] = rest.split("# Provenance of the diffusers family");
    const expected = [
      ...numbered(kdEdm).map((n) => (n <= 12 ? `PROVENANCE k-diffusion ${n}` : `PROVENANCE EDM ${n}`)),
      ...numbered(diff).map((n) => `PROVENANCE diffusers ${n}`),
      ...numbered(family).map((n) => `PROVENANCE diffusers-family ${n}`),
    ];
    expect(expected.length).toBeGreaterThanOrEqual(29);
    expect(report.quirks.map((q) => q.source)).toEqual(expected);
    for (const q of report.quirks) expect(q.ok, q.source).toBe(true);
  });

  test("the seed question is answered with computed checks", () => {
    const checks = report.ancestral.checks;
    expect(checks.find((c) => c.what.includes("Song VE"))!.verdict).toBe("identical");
    expect(checks.find((c) => c.what.includes("Song VP ancestral"))!.verdict).toBe("diverge");
  });

  test("one source per figure: heatmap cells, sparklines and seed-question rows equal the tables' numbers", () => {
    const hm = report.figures.heatmap;
    expect(hm.ids?.length).toBe(hm.labels.length);
    let matched = 0;
    for (const p of report.pairs) {
      const i = hm.ids!.indexOf(p.a.id),
        j = hm.ids!.indexOf(p.b.id);
      if (i < 0 || j < 0) continue;
      matched++;
      expect(hm.gaps[i][j], `heatmap ${p.id}`).toBe(p.outputGap);
    }
    expect(matched).toBeGreaterThanOrEqual(4);
    const html = readFileSync(join(out, "reports", "index.html"), "utf8");
    const divergences = html.slice(html.indexOf('id="divergences"'), html.indexOf('id="ancestral"'));
    const maxima = [...divergences.matchAll(/<title>gap \(max[^<]*max ([^<]+)<\/title>/g)].map((m) => m[1]);
    const diverging = report.pairs.filter((p) => p.verdict === "diverge");
    expect(maxima).toHaveLength(diverging.length);
    const shown = diverging.map((p) => formatGap(p.maxGap)).sort();
    expect([...maxima].sort()).toEqual(shown);
    for (const c of report.ancestral.checks) {
      if (/Song('s)? VP/.test(c.what)) expect(c.verdict, c.what).toBe("diverge");
      // the library checks (diffusers in float32) are held to the float32 bound their row names
      const f32 = /float32 round-off bound ([0-9.e+-]+)\)/.exec(c.what);
      expect(c.verdict === "identical", c.what).toBe(c.maxGap <= (f32 ? Number(f32[1]) : 1e-12));
    }
  });

  test("cause ladders: every built ladder closes, each rung changes one rule, same-method rungs agree", () => {
    // The sampler map's rows (webui/*) carry their own one-rule-per-rung ladders in the sampler
    // map section (checked in sampler-map.test.ts); the seed question's library checks (seed/*)
    // have theirs here (seed-ladders.ts).
    const diverging = report.pairs.filter(
      (p) => p.verdict === "diverge" && !p.id.startsWith("onnx") && !p.id.startsWith("webui/"),
    );
    expect(diverging.some((p) => p.id.startsWith("seed/"))).toBe(true);
    expect(report.ladders.map((l) => l.pair).sort()).toEqual(diverging.map((p) => p.id).sort());
    const built = report.ladders.filter((l) => l.status !== "not built");
    expect(built).toHaveLength(diverging.length);
    for (const l of built) {
      expect(l.status, `${l.pair}: ${l.note}`).toBe("closed");
      expect(l.closingGap!, l.pair).toBeLessThanOrEqual(
        report.pairs.find((p) => p.id === l.pair)!.roundoffBound,
      );
      for (const r of l.rungs)
        expect(r.verdict, `${l.pair} ${r.impl.id}`).toBe(
          r.change === "same method" ? "identical" : "diverge",
        );
    }
  });

  test("accuracy: fitted orders of convergence near 1 (Euler) and 2 (Heun)", () => {
    const order = (s: string) => report.accuracy.find((a) => a.sampler === s)!.fittedOrder!;
    expect(order("sample_euler")).toBeGreaterThan(0.8);
    expect(order("sample_euler")).toBeLessThan(1.3);
    expect(order("sample_heun")).toBeGreaterThan(1.7);
    expect(order("sample_heun")).toBeLessThan(2.6);
  });

  test("ONNX on CPU: float64 mixture graphs agree with TypeScript to round-off, float32 ones to float32 tolerance", () => {
    const cpu = report.onnx.find((o) => o.device === "cpu")!;
    expect(cpu.available).toBe(true);
    for (const r of cpu.runs) {
      if (r.model.startsWith("gmm") && r.dtype === "float64") expect(r.gapToExact!).toBeLessThan(1e-9);
      if (r.model.startsWith("gmm") && r.dtype === "float32") expect(r.gapToExact!).toBeLessThan(1e-3);
    }
  });

  test("the HTML opens in headless Chromium with every section and plot rendered", async () => {
    const browser = await launchChromium("cli-conformance.test");
    try {
      const page = await (
        await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } })
      ).newPage();
      const external: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("data:") && !r.url().startsWith("file:")) external.push(r.url());
      });
      await page.goto(pathToFileURL(join(out, "reports", "index.html")).href, { waitUntil: "load" });
      for (const id of [
        "summary",
        "equivalence",
        "divergences",
        "ancestral",
        "causes",
        "accuracy",
        "trajectories",
        "clouds",
        "heatmap",
        "onnx",
        "quirks",
        "fixtures",
        "problems",
      ]) {
        expect(await page.locator(`section#${id}`).isVisible(), id).toBe(true);
      }
      for (const cls of ["plot-trajectories", "plot-clouds", "plot-accuracy", "plot-heatmap"]) {
        const box = await page.locator(`svg.${cls}`).first().boundingBox();
        expect(box!.width * box!.height, cls).toBeGreaterThan(10_000);
        expect(
          await page.locator(`svg.${cls} path, svg.${cls} circle, svg.${cls} rect`).count(),
          cls,
        ).toBeGreaterThan(10);
      }
      expect(
        await page
          .locator("img.anim-trajectory")
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      ).toBeGreaterThan(0);
      expect(external).toEqual([]);
      // every table of the real report fits its container at 1280 px
      expect(await tablesWiderThanContainer(page)).toEqual([]);
      // one source per figure in the real report, as rendered; plot titles clear of legends
      const consistency = await consistencyProblems(page, report);
      expect(consistency.checked).toBeGreaterThan(3 * report.pairs.length);
      expect(consistency.problems).toEqual([]);
      expect(await plotTextOverlaps(page)).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  test("two shards merged give the same pairs and fixture results as one run", () => {
    const s1 = join(out, "s1"),
      s2 = join(out, "s2"),
      merged = join(out, "merged");
    expect(
      edmkit([
        "conformance",
        "--workers",
        "1",
        "--shard",
        "1/2",
        "--only",
        "fixture:fixtures/reference/edm",
        "--out",
        s1,
      ]).status,
    ).toBe(0);
    expect(
      edmkit([
        "conformance",
        "--workers",
        "1",
        "--shard",
        "2/2",
        "--only",
        "fixture:fixtures/reference/edm",
        "--out",
        s2,
      ]).status,
    ).toBe(0);
    const m = edmkit(["merge", s1, s2, "--out", merged]);
    expect(m.status).toBe(0);
    const r = reportSchema.parse(JSON.parse(readFileSync(join(merged, "report.json"), "utf8")));
    const edmIds = report.fixtures.results
      .filter((f) => f.library === "edm")
      .map((f) => f.id)
      .sort();
    expect(r.fixtures.results.map((f) => f.id).sort()).toEqual(edmIds);
  });

  test("shards 1/2 and 2/2 of the whole suite, images included, merge into the same report.json as one run", {
    timeout: 600_000,
  }, () => {
    const dirs = ["1/2", "2/2"].map((shard, k) => {
      const dir = join(out, `whole${k + 1}`);
      const r = edmkit(["conformance", "--workers", "1", "--shard", shard, "--out", dir]);
      expect(r.status, r.stderr).toBe(0);
      return dir;
    });
    const tasks = dirs.map((d) =>
      (JSON.parse(readFileSync(join(d, "tasks.json"), "utf8")) as { id: string }[]).map((t) => t.id),
    );
    // the images tasks are split between the shards, not all in one
    for (const t of tasks) expect(t.some((id) => id.startsWith("images:"))).toBe(true);
    const merged = join(out, "whole-merged");
    const m = edmkit(["merge", ...dirs, "--out", merged]);
    expect(m.status, m.stderr).toBe(0);
    /** The report without what a run measures of itself: timings, dates and the machine. */
    const withoutTimings = (file: string): unknown =>
      JSON.parse(readFileSync(file, "utf8"), (k, v) =>
        k === "seconds" || k === "durationSeconds" || k === "generatedAt" || k === "environment"
          ? undefined
          : v,
      );
    const one = withoutTimings(join(out, "reports", "report.json")) as Report;
    const two = withoutTimings(join(merged, "report.json")) as Report;
    expect(one.images?.denoisers.length).toBeGreaterThan(0);
    expect(one.images?.ode).not.toBeNull();
    expect(two).toEqual(one);
  });

  test("a run that cannot complete leaves the previous report intact", () => {
    const dir = join(out, "reports");
    const before = readFileSync(join(dir, "report.json"), "utf8");
    const empty = mkdtempSync(join(tmpdir(), "edmkit-nofixtures-"));
    const r = edmkit(["conformance", "--fixtures", empty, "--out", dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/has no reference\/ folder/);
    const r2 = edmkit(["conformance", "--only", "no-such-task", "--out", dir]);
    expect(r2.status).toBe(2);
    expect(readFileSync(join(dir, "report.json"), "utf8")).toBe(before);
    expect(readdirSync(out).filter((f) => f.includes("staging"))).toEqual([]);
  });
});
