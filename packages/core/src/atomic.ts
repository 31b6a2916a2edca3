/**
 * Atomic file output: write next to the target under a temporary name, then rename over
 * it, so a run that fails midway leaves the previous file (or report folder) intact.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, basename } from "node:path";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Replace a whole folder atomically: `fill` writes into a fresh staging folder; only when it
 * succeeds is the staging folder swapped in for `dir`. On failure `dir` is untouched.
 */
export async function replaceDirAtomic(
  dir: string,
  fill: (staging: string) => Promise<void> | void,
): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const stamp = `${process.pid}.${Date.now()}`;
  const staging = join(parent, `.${basename(dir)}.staging.${stamp}`);
  const old = join(parent, `.${basename(dir)}.old.${stamp}`);
  mkdirSync(staging, { recursive: true });
  try {
    await fill(staging);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  const had = existsSync(dir);
  if (had) renameSync(dir, old);
  try {
    renameSync(staging, dir);
  } catch (e) {
    if (had) renameSync(old, dir);
    throw e;
  }
  if (had) rmSync(old, { recursive: true, force: true });
}
