import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { assembleReport } from "../conformance/assemble.js";
import { runPool } from "../conformance/pool.js";
import { listTasks, type SuiteContext, type TaskResult } from "../conformance/tasks.js";
import { UsageError } from "../errors.js";
import { onnxDevices } from "@edmkit/onnx";
import { trajectoryAnimation } from "../report/gif.js";
import { renderHtml } from "../report/render-html.js";
import { renderMarkdown } from "../report/render-markdown.js";
import { openReportDir, type ReportDir, realOrSelf, writeReportDir } from "../report-dir.js";
import { type Report, reportSchema } from "../report/schema.js";
import { fmtErr, table } from "./format.js";
import { readShardSet, SHARD_FORMAT, type ShardManifest, shardOf } from "./shards.js";
import { parseCommandArgs } from "./args.js";
import { Progress } from "./progress.js";
import { requireDevice } from "./device.js";

export const conformanceHelp = `edmkit conformance [--device cpu|cuda|webgpu] [--workers N] [--shard i/n] [--only PATTERN] [--out DIR] [--fixtures DIR]

Runs every implementation against the reference fixtures and against each other, measures
accuracy against the exact ODE solution, runs the ONNX models, and writes DIR/index.html,
DIR/report.md and DIR/report.json (default DIR: reports). DIR must not exist, be empty, or
be a report folder edmkit wrote (it holds a .edmkit-report marker); anything else is refused
before the run starts. The previous report stays intact if the run fails or is killed.

  --device D     also run the ONNX scenarios on D (cpu always runs)
  --workers N    worker threads (default: the number of CPUs, at most 4); never more than
                 the number of tasks or of CPUs (the run says when it caps the number)
  --shard i/n    run only every n-th task starting at i (1-based); combine with "edmkit merge"
  --only PATTERN run only tasks whose id contains PATTERN (e.g. fixture:, scenarios, accuracy)
  --fixtures DIR fixture folder (default: the installed @edmkit/fixtures package)

A relative DIR is taken from the folder you ran the command in, also under "pnpm
conformance" from a subfolder (pnpm and npm pass that folder as INIT_CWD).

A malformed fixture file is listed as invalid (which file, which field; also on stderr),
the rest of the suite runs and the report is written; the run then exits 2.

Exit status: 0 clean, 1 a fixture failed or a divergence is unexplained, 2 bad input (an
invalid fixture file, or the --device asked for not available here: docs/gpu.md says how
to get it).`;

export const mergeHelp = `edmkit merge <shard-dir>... [--out DIR]

Combines the outputs of "edmkit conformance --shard i/n" runs into one report. The folders
must be one complete split of one suite: the same tasks, package versions and n, every shard
1/n .. n/n exactly once (in any order). --out (default: reports) as for "edmkit
conformance", and never one of the shard folders: merging into an input is refused. The
output says where the report was written and the worker threads of each shard.`;

const require = createRequire(import.meta.url);

/**
 * The folder of an installed package (the same in this workspace, where pnpm links it, and in
 * an npm install from the registry), found through its exported package.json; null when it
 * is not installed.
 */
function packageDir(name: string): string | null {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** The default --fixtures: the @edmkit/fixtures package (the repository's fixtures/ folder). */
export function defaultFixturesDir(): string | null {
  return packageDir("@edmkit/fixtures");
}

function readVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  const self = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  const names = ["@edmkit/core", "@edmkit/k-diffusion", "@edmkit/diffusers", "@edmkit/edm", "@edmkit/onnx"];
  for (const name of [...names, "@edmkit/fixtures"]) {
    const dir = packageDir(name);
    if (dir) out[name] = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
  }
  out[self.name] = self.version;
  return out;
}

async function writeReport(
  out: ReportDir,
  report: Report,
  tasks: TaskResult[],
  manifest: ShardManifest,
): Promise<void> {
  const checked = reportSchema.parse(report);
  const gif = checked.figures.trajectories1d.paths.length
    ? trajectoryAnimation(checked.figures.trajectories1d)
    : undefined;
  await writeReportDir(out, (dir) => {
    writeFileSync(join(dir, "report.json"), `${JSON.stringify(checked, null, 1)}\n`);
    writeFileSync(join(dir, "report.md"), renderMarkdown(checked));
    writeFileSync(join(dir, "index.html"), renderHtml(checked, gif ? { animationGif: gif } : {}));
    if (gif) writeFileSync(join(dir, "trajectory.gif"), gif);
    writeFileSync(join(dir, "tasks.json"), JSON.stringify(tasks));
    writeFileSync(join(dir, "shard.json"), `${JSON.stringify(manifest, null, 1)}\n`);
  });
}

function printSummary(r: Report, out: string): void {
  const s = r.fixtures.summary;
  const lines = [
    `fixtures: ${s.passed} passed, ${s.failed} failed, ${s.unsupported} unsupported${s.invalid ? `, ${s.invalid} invalid` : ""}`,
    "",
    r.pairs.length === 0
      ? 'pairs: none in this run (they come from the task "scenarios" and the ONNX tasks)'
      : table(
          ["pair", "verdict", "first call", "max gap", "output gap", "cause"],
          r.pairs.map((p) => [
            p.id,
            p.verdict,
            p.firstModelCall === null ? "-" : String(p.firstModelCall),
            fmtErr(p.maxGap ?? NaN),
            fmtErr(p.outputGap ?? NaN),
            p.cause ?? "-",
          ]),
        ),
    "",
    `equivalence groups: ${r.equivalence.length}; root causes demonstrated: ${r.causes.length}; accuracy curves: ${r.accuracy.length}`,
    ...r.problems.map((p) => `PROBLEM: ${p}`),
    `report written to ${out}/ (index.html, report.md, report.json) in ${r.durationSeconds.toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * The exit status of a written report: 2 when a fixture file was invalid (bad input, named on
 * stderr; the rest of the suite still ran and the report lists it), else 1 for any problem.
 */
function exitStatus(r: Report, command: string): number {
  const invalid = r.fixtures.results.filter((f) => f.status === "invalid");
  for (const f of invalid) process.stderr.write(`edmkit: ${command}: invalid fixture: ${f.message}\n`);
  if (invalid.length) return 2;
  return r.problems.length === 0 ? 0 : 1;
}

/** What --only selected, by kind of task; says when the pairs' task (scenarios) is left out. */
function onlySummary(suite: string[], all: string[]): string {
  const kinds = new Map<string, number>();
  for (const id of suite) {
    const kind = id.split(":")[0];
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const parts = [...kinds].map(([k, n]) => `${n} ${k}`).join(", ");
  const pairs = suite.includes("scenarios") ? "" : '; no pairs (they come from the task "scenarios")';
  return `${suite.length} of ${all.length} tasks (${parts})${pairs}`;
}

function parseShard(s: string | undefined): { i: number; n: number } | null {
  if (!s) return null;
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const i = m ? Number(m[1]) : NaN,
    n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n)
    throw new UsageError(`conformance: --shard must be i/n with 1 <= i <= n, got "${s}"`);
  return { i, n };
}

export async function conformanceCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    {
      args: argv,
      allowPositionals: false,
      options: {
        device: { type: "string", default: "cpu" },
        workers: { type: "string" },
        shard: { type: "string" },
        only: { type: "string" },
        out: { type: "string", default: "reports" },
        fixtures: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    "conformance",
  );
  if (values.help) {
    process.stdout.write(`${conformanceHelp}\n`);
    return 0;
  }
  void positionals;
  const device = onnxDevices.find((d) => d === values.device);
  if (!device)
    throw new UsageError(
      `conformance: --device must be one of ${onnxDevices.join(", ")}, got "${values.device}"`,
    );
  await requireDevice(device, "conformance");
  const workers = values.workers === undefined ? Math.min(availableParallelism(), 4) : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1)
    throw new UsageError(`conformance: --workers must be a positive integer, got "${values.workers}"`);
  const shard = parseShard(values.shard);
  if (values.fixtures?.trim() === "")
    throw new UsageError("conformance: --fixtures must name a folder, got an empty string");
  const bundled = values.fixtures === undefined ? defaultFixturesDir() : null;
  if (values.fixtures === undefined && bundled === null)
    throw new UsageError(
      "conformance: the @edmkit/fixtures package is not installed; install it or give --fixtures DIR",
    );
  const fixturesDir = resolve(values.fixtures ?? bundled!);
  if (!existsSync(join(fixturesDir, "reference")))
    throw new UsageError(`conformance: ${fixturesDir} has no reference/ folder of fixtures`);
  const ctx: SuiteContext = {
    fixturesDir,
    // fixture ids read fixture:fixtures/reference/..., installed or in the repository
    root: dirname(fixturesDir),
    devices: device === "cpu" ? ["cpu"] : ["cpu", device],
    toleranceScale: 1,
  };
  const all = listTasks(ctx);
  let suite = all;
  if (values.only) suite = suite.filter((id) => id.includes(values.only!));
  if (suite.length === 0)
    throw new UsageError(
      `conformance: --only "${values.only}" matches no task (task ids: fixture:<id>, scenarios, accuracy:<kind>:<sampler>, figures:<name>, onnx:<device>)`,
    );
  if (values.only) process.stdout.write(`conformance: --only "${values.only}": ${onlySummary(suite, all)}\n`);
  const ids = shard ? shardOf(suite, shard) : suite;
  if (ids.length === 0)
    throw new UsageError(`conformance: shard ${values.shard} holds no task (the suite has ${suite.length})`);
  const versions = readVersions();
  const cap = Math.min(workers, ids.length, availableParallelism());
  const manifest: ShardManifest = { format: SHARD_FORMAT, shard, suite, versions, workers: cap };
  if (cap < workers && values.workers !== undefined)
    process.stdout.write(
      `conformance: ${cap} workers (--workers ${workers} capped at the ${ids.length} tasks and ${availableParallelism()} CPUs)\n`,
    );

  const out = openReportDir(values.out!);
  let report: Report;
  let results: TaskResult[];
  try {
    const t0 = performance.now();
    const progress = new Progress(ids.length, "conformance");
    results = await runPool(ids, ctx, cap, (r) => progress.tick(r.id));
    progress.end();
    report = assembleReport(results, {
      durationSeconds: (performance.now() - t0) / 1000,
      workers: cap,
      shard: shard ? `${shard.i}/${shard.n}` : null,
      partial: shard !== null && shard.n > 1,
      versions,
    });
  } catch (e) {
    out.abandon();
    throw e;
  }
  await writeReport(out, report, results, manifest);
  printSummary(report, values.out!);
  const lost = report.onnx.find((o) => o.device === device && device !== "cpu" && !o.available);
  if (lost) {
    // the probe ran a graph on it, the suite could not: a failure of the run, not of the input
    process.stderr.write(
      `edmkit: conformance: --device ${device} failed during the run: ${lost.message.split("\n")[0]}\n`,
    );
    return 1;
  }
  return exitStatus(report, "conformance");
}

export async function mergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string", default: "reports" },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    "merge",
  );
  if (values.help) {
    process.stdout.write(`${mergeHelp}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("merge: give the output folders of the shards");
  // the merged report never replaces one of its own inputs (the default --out is reports/,
  // where a shard run without --out wrote)
  const outReal = realOrSelf(resolve(values.out!));
  for (const dir of positionals)
    if (realOrSelf(resolve(dir)) === outReal)
      throw new UsageError(
        `merge: --out ${values.out} is the shard folder ${dir}: the merged report would replace one of its inputs; give another --out (e.g. --out reports-merged)`,
      );
  const { results, manifest, seconds, workers } = readShardSet(positionals);
  const merged = `merged ${positionals.length} shards, workers ${workers.join("+")}`;
  const report = assembleReport(results, {
    durationSeconds: seconds,
    workers: workers.reduce((a, b) => a + b, 0),
    shard: merged,
    partial: false,
    versions: manifest.versions,
  });
  const out = openReportDir(values.out!);
  await writeReport(out, report, results, { ...manifest, shard: null, workers: report.environment.workers });
  process.stdout.write(`${merged}\n`);
  printSummary(report, values.out!);
  return exitStatus(report, "merge");
}
