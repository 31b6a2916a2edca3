/**
 * Reading data sets from disk (node only). A fixture's `empirical` denoiser names its data
 * set by a path relative to the fixture root (`datasets/digits8x8.json`); the root is the
 * nearest folder above the fixture file that holds that path.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Fixture } from "../fixtures/schema.js";
import { type Dataset, DatasetError, parseDataset } from "./dataset.js";

/** Read and validate an `edmkit-dataset/1` file. */
export function loadDataset(path: string): Dataset {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new DatasetError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`${path}: not valid JSON (${(e as Error).message.split("\n")[0].slice(0, 200)})`);
  }
  return parseDataset(json, path);
}

/** Where `rel` lives for a fixture file: the nearest folder above it that holds `rel`. */
export function findFixtureAsset(fixtureFile: string, rel: string): string | null {
  let dir = dirname(resolve(fixtureFile));
  for (;;) {
    const p = join(dir, rel);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * Attach the data set of an `empirical` denoiser to the fixture (as `denoiser.data`);
 * `cache` shares one read between the fixtures of a run. Other fixtures are returned as is.
 */
export function attachDataset(fixture: Fixture, file: string, cache?: Map<string, Dataset>): Fixture {
  const spec = "denoiser" in fixture ? fixture.denoiser : null;
  if (spec?.kind !== "empirical") return fixture;
  const path = findFixtureAsset(file, spec.dataset);
  if (!path)
    throw new DatasetError(
      `${file}: field \`denoiser.dataset\`: ${spec.dataset} not found above the fixture`,
    );
  let data = cache?.get(path);
  if (!data) {
    data = loadDataset(path);
    cache?.set(path, data);
  }
  (spec as { data?: Dataset }).data = data;
  return fixture;
}
