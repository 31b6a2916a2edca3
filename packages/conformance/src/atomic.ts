/**
 * Atomic file output: write next to the target under a temporary name, then rename over
 * it, so a run that fails midway leaves the previous file intact. (Report folders: see
 * report-dir.ts.) Every failure is a UsageError naming the path (exit 2), never a stack trace.
 */
import {
  closeSync,
  type lstatSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.js";
import { makeParents } from "./report-dir.js";

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

/**
 * Check up front, before any work, that `path` can be written as a file: it is not a folder
 * or another non-file, its missing parent folders can be made (one level at a time: Node's
 * recursive mkdir spins forever on /proc), and a file can be created in its folder (a
 * temporary file is created and removed). Throws a UsageError naming `opt` otherwise.
 */
export function checkWritableFile(path: string, opt: string): void {
  if (path.trim() === "") throw new UsageError(`${opt} must name a file, got an empty string`);
  const abs = resolve(path);
  makeParents(dirname(abs), opt);
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = statSync(abs);
  } catch (e) {
    if (code(e) !== "ENOENT") throw new UsageError(`${opt} ${path}: cannot be examined (${code(e)})`);
  }
  if (st?.isDirectory()) throw new UsageError(`${opt} ${path}: is a folder; name a file`);
  if (st && !st.isFile()) throw new UsageError(`${opt} ${path}: exists and is not a regular file`);
  const tmp = tempName(abs);
  try {
    closeSync(openSync(tmp, "wx"));
    unlinkSync(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`${opt} ${path}: cannot write in ${dirname(abs)} (${code(e)})`);
  }
}

/** A file written under a temporary name beside its target: `commit` renames it in place. */
export interface StagedFile {
  commit(): void;
  abort(): void;
}

export function stageFile(path: string, data: string | Uint8Array): StagedFile {
  makeParents(dirname(resolve(path)), "cannot write to");
  const tmp = tempName(path);
  try {
    writeFileSync(tmp, data);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`cannot write ${path} (${code(e)})`);
  }
  return {
    commit() {
      try {
        renameSync(tmp, path);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw new UsageError(`cannot write ${path} (${code(e)})`);
      }
    },
    abort() {
      rmSync(tmp, { force: true });
    },
  };
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  stageFile(path, data).commit();
}
