import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { replaceDirAtomic } from "@edmkit/core/node";
import { assembleReport } from "../conformance/assemble.js";
import { runPool } from "../conformance/pool.js";
import { listTasks, type SuiteContext, type TaskResult } from "../conformance/tasks.js";
import { UsageError } from "../errors.js";
import { onnxDevices, type OnnxDevice } from "@edmkit/onnx";
import { trajectoryAnimation } from "../report/gif.js";
import { renderHtml } from "../report/render-html.js";
import { renderMarkdown } from "../report/render-markdown.js";
import { type Report, reportSchema } from "../report/schema.js";
import { fmtErr, table } from "./format.js";
import { Progress } from "./progress.js";

export const conformanceHelp = `edmkit conformance [--device cpu|cuda|webgpu] [--workers N] [--shard i/n] [--only PATTERN] [--out DIR] [--fixtures DIR]

Runs every implementation against the reference fixtures and against each other, measures
accuracy against the exact ODE solution, runs the ONNX models, and writes DIR/index.html,
DIR/report.md and DIR/report.json (default DIR: reports). The previous report stays intact
if the run fails.

  --device D     also run the ONNX scenarios on D (cpu always runs)
  --workers N    worker threads (default: the number of CPUs)
  --shard i/n    run only every n-th task starting at i (1-based); combine with "edmkit merge"
  --only PATTERN run only tasks whose id contains PATTERN (e.g. fixture:, scenarios, accuracy)
  --fixtures DIR fixture folder (default: the bundled fixtures)

Exit status: 0 clean, 1 a fixture failed or a divergence is unexplained, 2 bad input.`;

export const mergeHelp = `edmkit merge <shard-dir>... [--out DIR]

Combines the outputs of "edmkit conformance --shard i/n" runs into one report.`;

const root = fileURLToPath(new URL("../../../../", import.meta.url));

function readVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of ["core", "k-diffusion-port", "diffusers-port", "edm-reference", "conformance"]) {
    const p = join(root, "packages", dir, "package.json");
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, "utf8"));
      out[pkg.name] = pkg.version;
    }
  }
  return out;
}

async function writeReport(out: string, report: Report, tasks: TaskResult[]): Promise<void> {
  const checked = reportSchema.parse(report);
  const gif = checked.figures.trajectories1d.paths.length
    ? trajectoryAnimation(checked.figures.trajectories1d)
    : undefined;
  await replaceDirAtomic(out, (dir) => {
    writeFileSync(join(dir, "report.json"), `${JSON.stringify(checked, null, 1)}\n`);
    writeFileSync(join(dir, "report.md"), renderMarkdown(checked));
    writeFileSync(join(dir, "index.html"), renderHtml(checked, gif ? { animationGif: gif } : {}));
    if (gif) writeFileSync(join(dir, "trajectory.gif"), gif);
    writeFileSync(join(dir, "tasks.json"), JSON.stringify(tasks));
  });
}

function printSummary(r: Report, out: string): void {
  const s = r.fixtures.summary;
  const lines = [
    `fixtures: ${s.passed} passed, ${s.failed} failed, ${s.unsupported} unsupported`,
    "",
    table(
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
  const { values, positionals } = parseArgs({
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
  });
  if (values.help) {
    process.stdout.write(`${conformanceHelp}\n`);
    return 0;
  }
  void positionals;
  const device = values.device as OnnxDevice;
  if (!onnxDevices.includes(device))
    throw new UsageError(
      `conformance: --device must be one of ${onnxDevices.join(", ")}, got "${values.device}"`,
    );
  const workers = values.workers === undefined ? Math.min(availableParallelism(), 4) : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1)
    throw new UsageError(`conformance: --workers must be a positive integer, got "${values.workers}"`);
  const shard = parseShard(values.shard);
  const fixturesDir = resolve(values.fixtures ?? join(root, "fixtures"));
  if (!existsSync(join(fixturesDir, "reference")))
    throw new UsageError(`conformance: ${fixturesDir} has no reference/ folder of fixtures`);
  const ctx: SuiteContext = {
    fixturesDir,
    root,
    devices: device === "cpu" ? ["cpu"] : ["cpu", device],
    toleranceScale: 1,
  };
  let ids = listTasks(ctx);
  if (values.only) ids = ids.filter((id) => id.includes(values.only!));
  if (shard) ids = ids.filter((_, k) => k % shard.n === shard.i - 1);
  if (ids.length === 0)
    throw new UsageError(`conformance: no task matches${values.only ? ` --only "${values.only}"` : ""}`);

  const t0 = performance.now();
  const progress = new Progress(ids.length, "conformance");
  const results = await runPool(ids, ctx, workers, (r) => progress.tick(r.id));
  progress.end();
  const report = assembleReport(results, {
    durationSeconds: (performance.now() - t0) / 1000,
    workers,
    shard: shard ? `${shard.i}/${shard.n}` : null,
    versions: readVersions(),
  });
  const out = resolve(values.out!);
  await writeReport(out, report, results);
  printSummary(report, values.out!);
  return report.problems.length === 0 ? 0 : 1;
}

export async function mergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string", default: "reports" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${mergeHelp}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("merge: give the output folders of the shards");
  const all: TaskResult[] = [];
  let seconds = 0;
  for (const dir of positionals) {
    const f = join(dir, "tasks.json");
    if (!existsSync(f))
      throw new UsageError(`merge: ${f} not found (is ${dir} the --out of a conformance shard?)`);
    let tasks: TaskResult[];
    try {
      tasks = JSON.parse(readFileSync(f, "utf8"));
    } catch (e) {
      throw new UsageError(`merge: ${f} is not valid JSON (${(e as Error).message})`);
    }
    const rep = join(dir, "report.json");
    if (existsSync(rep))
      seconds = Math.max(seconds, JSON.parse(readFileSync(rep, "utf8")).durationSeconds ?? 0);
    all.push(...tasks);
  }
  const seen = new Set<string>();
  const unique = all.filter((t) => (seen.has(t.id) ? false : (seen.add(t.id), true)));
  const report = assembleReport(unique, {
    durationSeconds: seconds,
    workers: 0,
    shard: `merged ${positionals.length}`,
    versions: readVersions(),
  });
  const out = resolve(values.out!);
  await writeReport(out, report, unique);
  printSummary(report, values.out!);
  return report.problems.length === 0 ? 0 : 1;
}
