/**
 * Weight files of `ToyMlpDenoiser` (its toJSON() as a JSON file). Uses node:fs, so it is
 * reachable only from the `@edmkit/edm/node` entry; the main entry stays platform-neutral.
 */
import { ArgumentError } from "@edmkit/core";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ToyMlpDenoiser } from "./model.js";

let tempCounter = 0;

/** Write model.toJSON() to `path` atomically (a temporary file in the same folder, then rename). */
export async function saveWeights(model: ToyMlpDenoiser, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(model.toJSON())}\n`, "utf8");
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Read a file written by saveWeights. */
export async function loadWeights(path: string): Promise<ToyMlpDenoiser> {
  const text = await readFile(path, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ArgumentError(`loadWeights: ${path} is not valid JSON (${(error as Error).message})`);
  }
  return ToyMlpDenoiser.fromJSON(json);
}
