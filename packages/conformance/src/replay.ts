/**
 * Fixture replay across all ports: each fixture goes to the port named by its
 * `reference.library` (and `reference.entry`), which replays it and compares with the
 * recording. Ports never import each other; this is the one place that knows them all.
 */
import {
  errorResult,
  type Fixture,
  isScheduleFixture,
  type ModelSource,
  type ReplayResult,
} from "@edmkit/core";
import { findFixtureAsset, listFixtureFiles, loadFixture } from "@edmkit/core/node";
import * as diffusers from "@edmkit/diffusers";
import * as edm from "@edmkit/edm";
import * as kdiffusion from "@edmkit/k-diffusion";
import { OnnxDenoiser, type OnnxParameterization, parameterizations } from "@edmkit/onnx";
import { UsageError } from "./errors.js";

export interface ReplayOptions {
  /** Multiplies every fixture tolerance (default 1). */
  toleranceScale?: number;
  /**
   * `exact` (default): the fixture's denoiser is evaluated. `recorded`: every model call is
   * answered with the fixture's recorded output, so only the sampler arithmetic is compared.
   */
  model?: ModelSource;
}

export interface Port {
  library: string;
  supportsFixture(f: Fixture): boolean;
  replayFixture(f: Fixture, opts?: ReplayOptions): Promise<ReplayResult>;
}

export const ports: readonly Port[] = [
  {
    library: "k-diffusion",
    supportsFixture: kdiffusion.supportsFixture,
    replayFixture: kdiffusion.replayFixture,
  },
  {
    library: "diffusers",
    supportsFixture: diffusers.supportsFixture,
    replayFixture: diffusers.replayFixture,
  },
  { library: "edm", supportsFixture: edm.supportsFixture, replayFixture: edm.replayFixture },
];

/**
 * How much looser than the fixture's own tolerance a live ONNX replay (mode b) is judged. The
 * reference ran the network's PyTorch weights; onnxruntime's convolution and matmul kernels
 * round differently in the last bits, and the sampler carries those differences along the
 * trajectory. Measured on the CPU provider: at most 7.2e-7 abs on the digits UNet runs (their
 * tolerance is 1e-3 abs); the factor leaves room for other execution providers (GPU
 * kernels reduce in other orders).
 */
export const LIVE_ONNX_TOLERANCE_SCALE = 10;

/** Mode (b) of an `onnx` fixture: the sampler run on the ONNX model itself (onnxruntime, CPU). */
export interface LiveReplay {
  status: ReplayResult["status"];
  maxAbsError: number;
  firstDivergence: ReplayResult["firstDivergence"];
  /** The factor applied to the fixture's tolerance for this mode. */
  toleranceScale: number;
  message?: string;
}

export interface ReplayEntry extends ReplayResult {
  file: string;
  seconds: number;
  /**
   * For an `onnx` fixture: \`status\` and the checks are mode (a), every model call answered
   * with PyTorch's recorded output (the sampler's arithmetic at the fixture's tolerance);
   * \`live\` is mode (b), the ONNX model run by onnxruntime, at a looser stated tolerance.
   */
  live?: LiveReplay;
}

export interface ReplaySummary {
  passed: number;
  failed: number;
  unsupported: number;
}

/** Expand files and folders into fixture files; a missing path is a usage error. */
export function collectFixtureFiles(paths: readonly string[]): string[] {
  if (paths.length === 0) throw new UsageError("replay: give at least one fixture file or folder");
  return paths.flatMap((p) => listFixtureFiles(p));
}

/** Load every file first, so a malformed one stops the run before anything is replayed. */
export function loadAll(files: readonly string[]): { file: string; fixture: Fixture }[] {
  return files.map((file) => ({ file, fixture: loadFixture(file) }));
}

/** Replay one fixture; `options` is a `ReplayOptions` or (older form) the tolerance scale. */
export async function replayOne(
  file: string,
  fixture: Fixture,
  options: ReplayOptions | number = {},
): Promise<ReplayEntry> {
  const opts = typeof options === "number" ? { toleranceScale: options } : options;
  const t0 = performance.now();
  const port = ports.find((p) => p.library === fixture.reference.library);
  let result: ReplayResult;
  if (!port?.supportsFixture(fixture)) {
    result = errorResult(
      fixture,
      port
        ? `${fixture.reference.library} port has no replay for entry "${fixture.reference.entry}"`
        : `no port for library "${fixture.reference.library}" (known: ${ports.map((p) => p.library).join(", ")})`,
      "unsupported",
    );
  } else if (!isScheduleFixture(fixture) && fixture.denoiser.kind === "onnx") {
    const spec = fixture.denoiser;
    result = await safeReplay(port, fixture, { ...opts, model: "recorded" });
    if (opts.model !== "recorded") {
      const live = await liveOnnxReplay(port, file, fixture, spec, opts);
      return { ...result, live, file, seconds: (performance.now() - t0) / 1000 };
    }
  } else {
    result = await safeReplay(port, fixture, opts);
  }
  return { ...result, file, seconds: (performance.now() - t0) / 1000 };
}

async function safeReplay(port: Port, fixture: Fixture, opts: ReplayOptions): Promise<ReplayResult> {
  try {
    return await port.replayFixture(fixture, opts);
  } catch (e) {
    return errorResult(fixture, e);
  }
}

/** Mode (b): run the fixture's ONNX model (found above the fixture file) on the CPU. */
async function liveOnnxReplay(
  port: Port,
  file: string,
  fixture: Fixture,
  spec: { file: string; parameterization: string },
  opts: ReplayOptions,
): Promise<LiveReplay> {
  const toleranceScale = (opts.toleranceScale ?? 1) * LIVE_ONNX_TOLERANCE_SCALE;
  const path = findFixtureAsset(file, spec.file);
  const parameterization = (parameterizations as readonly string[]).includes(spec.parameterization)
    ? (spec.parameterization as OnnxParameterization)
    : undefined;
  if (!path || !parameterization)
    return {
      status: "error",
      maxAbsError: NaN,
      firstDivergence: null,
      toleranceScale,
      message: path
        ? `unknown parameterization ${spec.parameterization}`
        : `${spec.file} not found above ${file}`,
    };
  let model: OnnxDenoiser | undefined;
  try {
    model = await OnnxDenoiser.load(path, { parameterization });
    const r = await safeReplay(port, fixture, { ...opts, toleranceScale, model: { live: model } });
    return {
      status: r.status,
      maxAbsError: r.maxAbsError,
      firstDivergence: r.firstDivergence,
      toleranceScale,
      message: r.message,
    };
  } catch (e) {
    return { status: "error", maxAbsError: NaN, firstDivergence: null, toleranceScale, message: String(e) };
  } finally {
    await model?.release();
  }
}

export function summarize(results: readonly ReplayResult[]): ReplaySummary {
  let passed = 0,
    failed = 0,
    unsupported = 0;
  for (const r of results) {
    if (r.status === "pass") passed++;
    else if (r.status === "unsupported") unsupported++;
    else failed++;
  }
  return { passed, failed, unsupported };
}
