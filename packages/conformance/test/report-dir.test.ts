/**
 * `--out` of `edmkit conformance` / `edmkit merge` never destroys what edmkit did not write
 * (reliability audit, defect 1), is checked before any work, is locked against a second
 * writer, survives SIGKILL, and `merge` accepts only one complete split of one suite.
 * Real folders, real child processes, real signals.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { UsageError } from "../src/errors.js";
import { openReportDir, REPORT_MARKER, writeReportDir } from "../src/report-dir.js";
import { shardOf } from "../src/cli/shards.js";
import { taskCost } from "../src/conformance/pool.js";
import { edmkit, edmkitArgs, ROOT } from "./cli-helpers.js";

const ONE = ["--only", "sample_euler__gmm1d-bimodal__karras12", "--workers", "1"];

function tmp(name: string): string {
  return mkdtempSync(join(tmpdir(), `edmkit-${name}-`));
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out[join(e.parentPath, e.name)] = readFileSync(join(e.parentPath, e.name), "utf8");
  return out;
}

/** A pid that certainly belongs to no live process: a child that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid ?? 999_999;
}

describe("--out refuses what edmkit did not write (exit 2, nothing touched, before any work)", () => {
  test("an existing folder with the user's files", () => {
    const p = join(tmp("user"), "p");
    mkdirSync(p);
    writeFileSync(join(p, "thesis.txt"), "three years of work");
    const r = edmkit(["conformance", ...ONE, "--out", p]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to replace .*not an edmkit report folder.*thesis\.txt/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(readFileSync(join(p, "thesis.txt"), "utf8")).toBe("three years of work");
  });

  test("the current folder (a git project), one of its parents, and the empty string", () => {
    const proj = tmp("proj");
    mkdirSync(join(proj, ".git"));
    writeFileSync(join(proj, ".git", "HEAD"), "ref: refs/heads/main\n");
    mkdirSync(join(proj, "src"));
    writeFileSync(join(proj, "src", "a.ts"), "export {};\n");
    const before = snapshot(proj);
    for (const out of [".", "..", "", "   "]) {
      const r = edmkit(["conformance", ...ONE, "--out", out], { cwd: join(proj, "src") });
      expect(r.status, out).toBe(2);
      expect(r.stderr, out).toMatch(/--out/);
      expect(r.stderr, out).not.toMatch(/\n\s+at /);
    }
    const r = edmkit(["merge", join(proj, "x"), "--out", "."], { cwd: proj });
    expect(r.status).toBe(2);
    expect(snapshot(proj)).toEqual(before);
  });

  test("an existing file, a path under a file, procfs (no hang) and sysfs", () => {
    const d = tmp("file");
    const f = join(d, "notes.txt");
    writeFileSync(f, "keep me");
    for (const out of [f, join(f, "x"), "/proc/edmkit-report", "/proc/self", "/sys/kernel/edmkit-x"]) {
      const t0 = Date.now();
      const r = edmkit(["conformance", ...ONE, "--out", out], { timeout: 60_000 });
      expect(r.status, out).toBe(2);
      expect(r.stderr.trim().split("\n"), out).toHaveLength(1);
      expect(Date.now() - t0, out).toBeLessThan(30_000);
    }
    expect(readFileSync(f, "utf8")).toBe("keep me");
    expect(readdirSync(d)).toEqual(["notes.txt"]);
  });
});

describe("openReportDir", () => {
  test("replaces its own report, an empty folder and an old unmarked report; marks what it writes", async () => {
    const d = tmp("own");
    const empty = join(d, "empty");
    mkdirSync(empty);
    const legacy = join(d, "legacy");
    mkdirSync(legacy);
    writeFileSync(join(legacy, "report.json"), "{}");
    writeFileSync(join(legacy, "index.html"), "<p>");
    for (const p of [empty, legacy, join(d, "new", "nested")]) {
      await writeReportDir(openReportDir(p), (s) => writeFileSync(join(s, "report.json"), "1"));
      expect(readdirSync(p).sort()).toEqual([REPORT_MARKER, "report.json"]);
      await writeReportDir(openReportDir(p), (s) => writeFileSync(join(s, "report.json"), "2"));
      expect(readFileSync(join(p, "report.json"), "utf8")).toBe("2");
    }
    expect(readdirSync(d).sort()).toEqual(["empty", "legacy", "new"]);
  });

  test("a fill that throws leaves the old report as it was, with no debris and no lock", async () => {
    const d = tmp("throw");
    const p = join(d, "r");
    await writeReportDir(openReportDir(p), (s) => writeFileSync(join(s, "a.txt"), "old"));
    await expect(
      writeReportDir(openReportDir(p), (s) => {
        writeFileSync(join(s, "a.txt"), "new");
        throw new Error("midway");
      }),
    ).rejects.toThrow("midway");
    expect(readFileSync(join(p, "a.txt"), "utf8")).toBe("old");
    expect(readdirSync(d)).toEqual(["r"]);
  });

  test("a second writer is refused while the first holds the lock; a dead holder's lock is taken over", () => {
    const d = tmp("lock");
    const p = join(d, "r");
    const first = openReportDir(p);
    expect(() => openReportDir(p)).toThrow(UsageError);
    expect(() => openReportDir(p)).toThrow(/another edmkit run \(pid \d+\)/);
    first.abandon();
    writeFileSync(join(d, ".r.lock"), JSON.stringify({ pid: deadPid() }));
    const again = openReportDir(p);
    again.commit();
    expect(readdirSync(d).sort()).toEqual(["r"]);
  });

  test("a run killed between the two renames: the next run restores the old report and removes debris", () => {
    const d = tmp("between");
    const pid = deadPid();
    const old = join(d, `.r.old.${pid}.1000`);
    mkdirSync(old);
    writeFileSync(join(old, REPORT_MARKER), "");
    writeFileSync(join(old, "report.json"), "previous");
    const staging = join(d, `.r.staging.${pid}.1000`);
    mkdirSync(staging);
    writeFileSync(join(staging, REPORT_MARKER), "");
    const foreign = join(d, `.r.staging.${pid}.999`);
    mkdirSync(foreign);
    writeFileSync(join(foreign, "user.txt"), "not ours");
    const dir = openReportDir(join(d, "r"));
    expect(readFileSync(join(d, "r", "report.json"), "utf8")).toBe("previous");
    dir.abandon();
    expect(readdirSync(d).sort()).toEqual([`.r.staging.${pid}.999`, "r"]);
  });
});

describe("real processes", () => {
  test("SIGKILL while the suite runs leaves the previous report; the next run cleans up and succeeds", async () => {
    const d = tmp("kill");
    const p = join(d, "r");
    expect(edmkit(["conformance", ...ONE, "--out", p]).status).toBe(0);
    const before = snapshot(p);
    const child = spawn(
      process.execPath,
      edmkitArgs(["conformance", "--only", "fixture:", "--workers", "1", "--out", p]),
      {
        cwd: ROOT,
        stdio: "ignore",
      },
    );
    for (let k = 0; k < 600 && !readdirSync(d).some((e) => e.includes("staging")); k++)
      await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(d).some((e) => e.startsWith(".r.staging."))).toBe(true);
    // While it runs, a second run on the same --out is refused at once.
    const second = edmkit(["conformance", ...ONE, "--out", p]);
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(/another edmkit run \(pid \d+\) is writing/);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(snapshot(p)).toEqual(before);
    const next = edmkit(["conformance", ...ONE, "--out", p]);
    expect(next.status).toBe(0);
    expect(readdirSync(d)).toEqual(["r"]);
  }, 120_000);
});

describe("merge accepts only one complete, consistent split of one suite", () => {
  const d = tmp("merge");
  const only = ["--only", "fixture:fixtures/reference/edm", "--workers", "1"];
  const shard = (spec: string, name: string) => {
    const out = join(d, name);
    const r = edmkit(["conformance", ...only, "--shard", spec, "--out", out]);
    expect(r.status, `${spec}: ${r.stderr}`).toBe(0);
    return out;
  };
  let s12 = "",
    s22 = "",
    s13 = "",
    whole = "";
  beforeAll(() => {
    s12 = shard("1/2", "s12");
    s22 = shard("2/2", "s22");
    s13 = shard("1/3", "s13");
    whole = shard("1/1", "whole");
  }, 300_000);

  /** The report without its timings (run time, per-task seconds) and run environment. */
  const reportOf = (dir: string) => {
    const r = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"), (k, v) =>
      k === "seconds" ? undefined : v,
    );
    delete r.generatedAt;
    delete r.durationSeconds;
    delete r.environment;
    return r;
  };

  test("any order of the folders gives the same report as the single run, apart from timings", () => {
    const a = join(d, "m-a"),
      b = join(d, "m-b");
    expect(edmkit(["merge", s12, s22, "--out", a]).status).toBe(0);
    expect(edmkit(["merge", s22, s12, "--out", b]).status).toBe(0);
    expect(reportOf(a)).toEqual(reportOf(whole));
    const md = (dir: string) =>
      readFileSync(join(dir, "report.md"), "utf8").replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "");
    expect(md(a)).toBe(md(b));
    const ids = (dir: string) =>
      JSON.parse(readFileSync(join(dir, "tasks.json"), "utf8")).map((t: { id: string }) => t.id);
    expect(ids(a)).toEqual(ids(whole));
  });

  test("merge reports the shards' workers, not 0", () => {
    const out = join(d, "m-w");
    const r = edmkit(["merge", s12, s22, "--out", out]);
    expect(r.stdout).toMatch(/^merged 2 shards, workers 1\+1$/m);
    const env = JSON.parse(readFileSync(join(out, "report.json"), "utf8")).environment;
    expect(env.workers).toBe(2);
    expect(env.shard).toBe("merged 2 shards, workers 1+1");
    expect(readFileSync(join(out, "report.md"), "utf8")).toMatch(/2 workers, merged 2 shards, workers 1\+1/);
  });

  test("merge never writes into one of its shard folders (the default --out included)", () => {
    const before = snapshot(s12);
    const r = edmkit(["merge", s12, s22, "--out", s12]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /--out .* is the shard folder .*: the merged report would replace one of its inputs/,
    );
    expect(snapshot(s12)).toEqual(before);
    // a shard written to the default reports/ and merged without --out: refused, shard intact
    const cwd = tmp("merge-default");
    cpSync(s12, join(cwd, "reports"), { recursive: true });
    const inside = snapshot(join(cwd, "reports"));
    const m = edmkit(["merge", "reports", s22], { cwd });
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/--out reports is the shard folder reports/);
    expect(snapshot(join(cwd, "reports"))).toEqual(inside);
    // with another --out it merges and says where it wrote
    const ok = edmkit(["merge", "reports", s22, "--out", "merged"], { cwd });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/report written to merged\//);
  });

  test("incomplete, duplicated, mixed splits and other versions: exit 2 with the reason", () => {
    const cases: [string[], RegExp][] = [
      [[s12], /incomplete set: shard 2\/2 missing/],
      [[s12, s12], /shard 1\/2 is given twice/],
      [[s13, s22], /is of a 3-way split|2-way split/],
      [[whole, s12], /is of a 1-way split|2-way split/],
    ];
    const v = join(d, "s22v");
    mkdirSync(v);
    for (const f of readdirSync(s22)) writeFileSync(join(v, f), readFileSync(join(s22, f)));
    const m = JSON.parse(readFileSync(join(v, "shard.json"), "utf8"));
    m.versions["@edmkit/core"] = "9.9.9";
    writeFileSync(join(v, "shard.json"), JSON.stringify(m));
    cases.push([[s12, v], /other package versions/]);
    for (const [dirs, msg] of cases) {
      const out = join(d, "bad");
      const r = edmkit(["merge", ...dirs, "--out", out]);
      expect(r.status, dirs.join(" ")).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    }
  });

  test("malformed shard files: exit 2 naming the file and field", () => {
    const bad = join(d, "malformed");
    for (const [tasks, msg] of [
      ["{}", /tasks\.json is not a list of task results/],
      ['[null,5,"x"]', /tasks\.json is not a list of task results: field `0`/],
      ['[{"id":1}]', /field `0\.id`/],
      ["{", /tasks\.json is not valid JSON/],
    ] as const) {
      rmSync(bad, { recursive: true, force: true });
      mkdirSync(bad);
      writeFileSync(join(bad, "shard.json"), readFileSync(join(s12, "shard.json")));
      writeFileSync(join(bad, "tasks.json"), tasks);
      const r = edmkit(["merge", bad, s22, "--out", join(d, "bad2")]);
      expect(r.status, tasks).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("shards are balanced by estimated cost, deterministically", () => {
  const suite = [
    "onnx:cpu",
    "scenarios",
    "accuracy:stochastic:a",
    "accuracy:stochastic:b",
    "accuracy:deterministic:c",
    "figures:heatmap",
    ...Array.from({ length: 40 }, (_, k) => `fixture:f${k}`),
  ];
  test("every task in exactly one shard, in suite order; loads within one task's cost", () => {
    for (const n of [2, 3, 4]) {
      const parts = Array.from({ length: n }, (_, k) => shardOf(suite, { i: k + 1, n }));
      expect(parts.flat().sort()).toEqual([...suite].sort());
      for (const p of parts) expect(p).toEqual(suite.filter((id) => p.includes(id)));
      const loads = parts.map((p) => p.reduce((a, id) => a + taskCost(id), 0));
      expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...suite.map(taskCost)));
      expect(shardOf(suite, { i: 1, n })).toEqual(parts[0]);
    }
    expect(shardOf(suite, { i: 1, n: 1 })).toEqual(suite);
  });
});
