/**
 * The conformance suite as a list of independent tasks (one per fixture, per accuracy curve,
 * per figure, plus the scenarios and the ONNX runs). Tasks are what workers and shards
 * split; each returns plain JSON, so results travel between threads and machines and
 * `edmkit merge` can assemble a report from several shards.
 */
import { relative } from "node:path";
import { ArgumentError } from "@edmkit/core";
import { listFixtureFiles, loadFixture } from "@edmkit/core/node";
import { type OnnxDevice, onnxDevices } from "@edmkit/onnx";
import { replayOne } from "../replay.js";
import { DETERMINISTIC, STOCHASTIC_NAMES, deterministicAccuracy, stochasticAccuracy } from "./accuracy.js";
import { clouds2d, heatmap, trajectories1d } from "./figures.js";
import { imagesForDenoiser, imagesOde } from "./images/run.js";
import { onnxRuns } from "./onnx-runs.js";
import { runScenarios } from "./scenarios.js";
import { seedLadders } from "./seed-ladders.js";
import { mapDistributions, reportedPairs, samplerMap } from "./webui.js";
import { type TaskKind, type TaskResult, taskKind, taskResultSchema } from "./task-results.js";

export interface SuiteContext {
  fixturesDir: string;
  /** Repository root (fixture file names in the report are relative to it). */
  root: string;
  devices: OnnxDevice[];
  toleranceScale: number;
}

export type { TaskResult } from "./task-results.js";

export function listTasks(ctx: SuiteContext): string[] {
  const fixtures = listFixtureFiles(`${ctx.fixturesDir}/reference`).map(
    (f) => `fixture:${relative(ctx.root, f)}`,
  );
  return [
    ...fixtures,
    "scenarios",
    ...DETERMINISTIC.map((s) => `accuracy:deterministic:${s.name}`),
    ...STOCHASTIC_NAMES.map((s) => `accuracy:stochastic:${s}`),
    "figures:trajectories1d",
    "figures:clouds2d",
    "figures:heatmap",
    ...ctx.devices.map((d) => `onnx:${d}`),
    "images:empirical",
    "images:ode",
    ...ctx.devices.map((d) => `images:onnx:${d}`),
  ];
}

/** The report's entry for a fixture file that does not parse or validate. */
function invalidFixture(file: string, message: string) {
  return {
    id: file,
    file,
    library: "",
    entry: "",
    status: "invalid" as const,
    maxAbsError: null,
    tolerance: null,
    firstDivergence: null,
    message: message.replace(/[\r\n]+/g, " "),
    seconds: 0,
  };
}

/** "steps: first at steps[4].x": the first failed check of a replay, as the replay table shows it. */
function failedCheck(checks: readonly { name: string; ok: boolean; detail?: string }[]): string | undefined {
  const bad = checks.find((c) => !c.ok);
  return bad ? `${bad.name}${bad.detail ? `: ${bad.detail}` : ""}` : undefined;
}

/** What a task computes, by kind; `arg` is the rest of its id. */
async function value(kind: TaskKind, arg: string, ctx: SuiteContext): Promise<unknown> {
  switch (kind) {
    case "fixture": {
      const file = `${ctx.root}/${arg}`;
      let fixture: ReturnType<typeof loadFixture>;
      try {
        fixture = loadFixture(file);
      } catch (e) {
        // a malformed file is listed as invalid (which file, which field); the rest still run
        if (!(e instanceof ArgumentError)) throw e;
        return invalidFixture(arg, e.message);
      }
      const r = await replayOne(arg, fixture, ctx.toleranceScale);
      const tol =
        "tolerance" in fixture && fixture.tolerance
          ? { abs: fixture.tolerance.abs, rel: fixture.tolerance.rel }
          : null;
      // a failure outside the model calls (a step, the output, the NFE) names its first failed check
      const failed =
        r.status === "fail" && !r.firstDivergence && !r.message ? failedCheck(r.checks) : undefined;
      return { ...r, tolerance: tol, ...(failed ? { message: failed } : {}) };
    }
    case "scenarios": {
      const s = await runScenarios();
      // the web-UI sampler map (issue 12): its explained pairs and the minimal pairs of its causes
      const w = await samplerMap();
      // pathwise only or distributional: the map's divergent pairs repeated on other seeds
      await mapDistributions(w);
      const mapPairs = reportedPairs(w);
      return {
        pairs: [...s.pairs, ...mapPairs],
        minimal: [...s.minimal.entries(), ...w.minimal],
        ladders: [...s.ladders, ...(await seedLadders(mapPairs))],
        samplerMap: { model: w.model, rows: w.rows, answers: w.answers },
      };
    }
    case "accuracy": {
      const [mode, ...name] = arg.split(":");
      const n = name.join(":");
      if (mode === "deterministic") {
        const s = DETERMINISTIC.find((x) => x.name === n);
        if (!s) throw new Error(`unknown sampler ${n}`);
        return deterministicAccuracy(s);
      }
      return stochasticAccuracy(n);
    }
    case "trajectories1d":
      return trajectories1d();
    case "clouds2d":
      return clouds2d();
    case "heatmap":
      return heatmap();
    case "onnx": {
      const device = onnxDevices.find((d) => d === arg);
      if (!device) throw new Error(`unknown device ${arg}`);
      return onnxRuns(ctx.fixturesDir, device);
    }
    case "images": {
      if (arg === "ode") return { ode: await imagesOde(ctx.fixturesDir) };
      if (arg === "empirical")
        return { denoiser: await imagesForDenoiser(ctx.fixturesDir, "empirical", "cpu") };
      const device = onnxDevices.find((d) => `onnx:${d}` === arg);
      if (!device) throw new Error(`unknown images task ${arg}`);
      return { denoiser: await imagesForDenoiser(ctx.fixturesDir, "unet", device) };
    }
  }
}

/**
 * Run one task. Its value goes through JSON (non-finite numbers become null), as it does
 * between threads and machines, and is checked against its kind's schema.
 */
export async function runTask(id: string, ctx: SuiteContext): Promise<TaskResult> {
  const kind = taskKind(id);
  if (!kind) throw new Error(`unknown task ${id}`);
  const arg = id.split(":").slice(1).join(":");
  const t0 = performance.now();
  try {
    const v = await value(kind, arg, ctx);
    const json: unknown = JSON.parse(
      JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? null : x)),
    );
    return taskResultSchema.parse({ id, kind, seconds: (performance.now() - t0) / 1000, value: json });
  } catch (e) {
    return {
      id,
      kind,
      seconds: (performance.now() - t0) / 1000,
      value: null,
      error: e instanceof Error ? e.message : String(e),
    };
  }
}
