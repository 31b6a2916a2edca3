import { UsageError } from "../errors.js";
import { parseCommandArgs } from "./args.js";
import { collectFixtureFiles, loadAll, type ReplayEntry, replayOne, summarize } from "../replay.js";
import { fmtErr, table } from "./format.js";
import { Progress } from "./progress.js";

export const replayHelp = `edmkit replay <file-or-folder>... [--json] [--tolerance-scale k]

Replays reference fixtures (any folder tree in the edmkit-fixture/1 format) through the
port named by each fixture's reference.library, and compares every model call, step and
output with the recording.

  --json               print one JSON object {results, summary} on stdout and nothing else
  --tolerance-scale k  multiply every fixture tolerance by k (default 1)

Exit status: 0 all passed, 1 any failed or unsupported, 2 bad input.`;

export function describeDivergence(r: ReplayEntry): string {
  const d = r.firstDivergence;
  if (d) return `call ${d.modelCall} (step ${d.step ?? "?"}) |d|=${fmtErr(d.maxAbs)} ${d.field}`;
  if (r.status === "fail") {
    const bad = r.checks.find((c) => !c.ok);
    return bad ? `${bad.name}${bad.detail ? `: ${bad.detail}` : ""}` : "";
  }
  return r.message ?? "";
}

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      "tolerance-scale": { type: "string", default: "1" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${replayHelp}\n`);
    return 0;
  }
  const scale = Number(values["tolerance-scale"]);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new UsageError(
      `replay: --tolerance-scale must be a positive number, got "${values["tolerance-scale"]}"`,
    );
  }
  const files = collectFixtureFiles(positionals);
  if (files.length === 0) throw new UsageError(`replay: no .json fixtures under ${positionals.join(", ")}`);
  const fixtures = loadAll(files);
  const progress = new Progress(fixtures.length, "replay", values.json);
  const results: ReplayEntry[] = [];
  for (const { file, fixture } of fixtures) {
    results.push(await replayOne(file, fixture, scale));
    progress.tick(fixture.id);
  }
  progress.end();
  const summary = summarize(results);
  if (values.json) {
    const out = {
      results: results.map((r) => ({
        id: r.id,
        library: r.library,
        entry: r.entry,
        status: r.status,
        maxAbsError: Number.isNaN(r.maxAbsError) ? null : r.maxAbsError,
        firstDivergence: r.firstDivergence,
        ...(r.message ? { message: r.message } : {}),
      })),
      summary,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const rows = results.map((r) => [r.id, r.status, fmtErr(r.maxAbsError), describeDivergence(r)]);
    process.stdout.write(`${table(["id", "status", "max abs err", "first divergence"], rows)}\n`);
    process.stdout.write(
      `\n${summary.passed} passed, ${summary.failed} failed, ${summary.unsupported} unsupported (${results.length} fixtures)\n`,
    );
  }
  return summary.failed + summary.unsupported === 0 ? 0 : 1;
}
