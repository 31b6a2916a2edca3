/**
 * Fixture replay across all ports: each fixture goes to the port named by its
 * `reference.library` (and `reference.entry`), which replays it and compares with the
 * recording. Ports never import each other; this is the one place that knows them all.
 */
import { errorResult, type Fixture, listFixtureFiles, loadFixture, type ReplayResult } from "@edmkit/core";
import * as diffusers from "@edmkit/diffusers";
import * as edm from "@edmkit/edm";
import * as kdiffusion from "@edmkit/k-diffusion";
import { UsageError } from "./errors.js";

export interface Port {
  library: string;
  supportsFixture(f: Fixture): boolean;
  replayFixture(f: Fixture, opts?: { toleranceScale?: number }): Promise<ReplayResult>;
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

export interface ReplayEntry extends ReplayResult {
  file: string;
  seconds: number;
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

export async function replayOne(file: string, fixture: Fixture, toleranceScale = 1): Promise<ReplayEntry> {
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
  } else {
    try {
      result = await port.replayFixture(fixture, { toleranceScale });
    } catch (e) {
      result = errorResult(fixture, e);
    }
  }
  return { ...result, file, seconds: (performance.now() - t0) / 1000 };
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
