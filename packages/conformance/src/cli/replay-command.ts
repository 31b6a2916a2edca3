import { fileURLToPath } from "node:url";
import { parseCommandArgs } from "./args.js";
import { ArgumentError } from "@edmkit/core";
import { loadFixture } from "@edmkit/core/node";
import { UsageError } from "../errors.js";
import {
  collectFixtureFiles,
  LIVE_ONNX_TOLERANCE_SCALE,
  type ReplayEntry,
  replayOne,
  summarize,
} from "../replay.js";
import { fmtErr, table } from "./format.js";
import { Progress } from "./progress.js";

const bundledFixtures = fileURLToPath(new URL("../../../../fixtures/reference", import.meta.url));

export const replayHelp = `edmkit replay [file-or-folder...] [--json] [--tolerance-scale k] [--model exact|recorded]

Replays reference fixtures (any folder tree in the edmkit-fixture/1 format; default: the
bundled fixtures/reference) through the port named by each fixture's reference.library, and
compares every model call, step and output with the recording.

  --json               print one JSON object {results, summary} on stdout and nothing else
  --tolerance-scale k  multiply every fixture tolerance by k (default 1)
  --model exact        evaluate the fixture's denoiser (default)
  --model recorded     answer every model call with the recorded output: only the sampler's
                       arithmetic is compared (a float32 run should then be bit-exact)

A fixture whose denoiser is an ONNX network (kind onnx) passes or fails on mode (a): every
model call answered with PyTorch's recorded output, at the fixture's tolerance. With
--model exact it is also run live on the ONNX model (mode b, onnxruntime on the CPU) and
judged at ${LIVE_ONNX_TOLERANCE_SCALE}x the fixture's tolerance; those figures are listed apart and
do not change the exit status.

A malformed fixture file is listed as invalid (with its one-line reason, also on stderr)
and the others are replayed; the run then exits 2.

Exit status: 0 all passed, 1 any failed or unsupported, 2 bad input (an invalid fixture
included).`;

export function describeDivergence(r: ReplayEntry): string {
  const d = r.firstDivergence;
  if (d)
    return `call ${d.modelCall}${d.step === null || d.step === undefined ? "" : ` (step ${d.step})`} |d|=${fmtErr(d.maxAbs)} ${d.field}`;
  if (r.status === "fail") {
    const bad = r.checks.find((c) => !c.ok);
    return bad ? `${bad.name}${bad.detail ? `: ${bad.detail}` : ""}` : "";
  }
  return r.message ?? "";
}

function maxOf(v: readonly number[]): number {
  let m = 0;
  for (const x of v) m = Number.isNaN(x) || Number.isNaN(m) ? NaN : Math.max(m, x);
  return m;
}

/** JSON fields for the model-call inputs: the largest error and the error of each call. */
function callInputFields(v: readonly number[]): {
  callInputMaxAbsError: number | null;
  callInputMaxAbs: (number | null)[];
} {
  const m = maxOf(v);
  return {
    callInputMaxAbsError: Number.isNaN(m) ? null : m,
    callInputMaxAbs: v.map((x) => (Number.isFinite(x) ? x : null)),
  };
}

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        "tolerance-scale": { type: "string", default: "1" },
        model: { type: "string", default: "exact" },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    "replay",
  );
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
  const model = values.model;
  if (model !== "exact" && model !== "recorded")
    throw new UsageError(`replay: --model must be "exact" or "recorded", got "${model}"`);
  const files = collectFixtureFiles(positionals.length ? positionals : [bundledFixtures]);
  if (files.length === 0) throw new UsageError(`replay: no .json fixtures under ${positionals.join(", ")}`);
  // A malformed file is reported as invalid and the rest replayed; the run then exits 2.
  const fixtures: { file: string; fixture: ReturnType<typeof loadFixture> }[] = [];
  const invalid: { file: string; message: string }[] = [];
  for (const file of files) {
    try {
      fixtures.push({ file, fixture: loadFixture(file) });
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
      invalid.push({ file, message: e.message.replace(/[\r\n]+/g, " ") });
    }
  }
  for (const bad of invalid) process.stderr.write(`edmkit: replay: invalid fixture: ${bad.message}\n`);
  if (fixtures.length === 0) return 2;
  const progress = new Progress(fixtures.length, "replay", values.json);
  const results: ReplayEntry[] = [];
  for (const { file, fixture } of fixtures) {
    results.push(await replayOne(file, fixture, { toleranceScale: scale, model }));
    progress.tick(fixture.id);
  }
  progress.end();
  const summary = summarize(results);
  if (values.json) {
    const out = {
      results: [
        ...results.map((r) => ({
          id: r.id,
          library: r.library,
          entry: r.entry,
          status: r.status,
          maxAbsError: Number.isNaN(r.maxAbsError) ? null : r.maxAbsError,
          ...(r.callInputMaxAbs ? callInputFields(r.callInputMaxAbs) : {}),
          firstDivergence: r.firstDivergence,
          ...(r.message ? { message: r.message } : {}),
          ...(r.live
            ? {
                live: {
                  ...r.live,
                  maxAbsError: Number.isNaN(r.live.maxAbsError) ? null : r.live.maxAbsError,
                },
              }
            : {}),
        })),
        ...invalid.map((b) => ({ id: b.file, file: b.file, status: "invalid", message: b.message })),
      ],
      summary: invalid.length ? { ...summary, invalid: invalid.length } : summary,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const rows = results.map((r) => [
      r.id,
      r.status,
      fmtErr(r.maxAbsError),
      r.callInputMaxAbs ? fmtErr(maxOf(r.callInputMaxAbs)) : "",
      describeDivergence(r),
    ]);
    for (const b of invalid) rows.push([b.file, "invalid", "", "", b.message]);
    process.stdout.write(
      `${table(["id", "status", "max abs err", "max call-input err", "first divergence"], rows)}\n`,
    );
    const live = results.filter((r) => r.live);
    if (live.length) {
      const liveRows = live.map((r) => [
        r.id,
        r.live!.status,
        fmtErr(r.live!.maxAbsError),
        `${r.live!.toleranceScale}x`,
        r.live!.firstDivergence
          ? `call ${r.live!.firstDivergence.modelCall} |d|=${fmtErr(r.live!.firstDivergence.maxAbs)}`
          : (r.live!.message ?? ""),
      ]);
      process.stdout.write(
        `\nONNX fixtures run live on onnxruntime (mode b; the table above is mode a, recorded outputs):\n${table(["id", "live status", "max abs err", "tolerance", "first divergence"], liveRows)}\n`,
      );
    }
    process.stdout.write(
      `\n${summary.passed} passed, ${summary.failed} failed, ${summary.unsupported} unsupported${invalid.length ? `, ${invalid.length} invalid` : ""} (${results.length + invalid.length} fixtures)\n`,
    );
  }
  if (invalid.length) return 2;
  return summary.failed + summary.unsupported === 0 ? 0 : 1;
}
