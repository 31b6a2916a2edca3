/**
 * Atomic file output: write next to the target under a temporary name, then rename over
 * it, so a run that fails midway leaves the previous file intact. (Report folders: see
 * @edmkit/conformance's report-dir.ts.) Every failure is an ArgumentError naming the path (the
 * edmkit command exits 2), never a stack trace.
 */
import {
  closeSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  lstatSync,
  mkdirSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ArgumentError } from "./errors.js";

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}

/**
 * `mkdir -p` one level at a time. Node's recursive mkdir spins forever on procfs (it keeps
 * retrying the ENOENT procfs returns); here every failure is one ArgumentError naming `opt`.
 */
export function makeParents(dir: string, opt: string): void {
  const missing: string[] = [];
  let p = dir;
  for (;;) {
    let isDir: boolean | null = null;
    try {
      isDir = lstatSync(p).isDirectory();
    } catch (e) {
      if (code(e) !== "ENOENT")
        throw new ArgumentError(`${opt} ${dir}: ${p} cannot be examined (${code(e)})`);
    }
    if (isDir) break;
    if (isDir === false) throw new ArgumentError(`${opt} ${dir}: ${p} exists and is not a folder`);
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      throw new ArgumentError(`${opt} ${dir}: cannot create folder ${m} (${code(e)})`);
    }
  }
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

/**
 * Check up front, before any work, that `path` can be written as a file: it is not a folder
 * or another non-file, its missing parent folders can be made (one level at a time: Node's
 * recursive mkdir spins forever on /proc), and a file can be created in its folder (a
 * temporary file is created and removed). Throws a ArgumentError naming `opt` otherwise.
 */
export function checkWritableFile(path: string, opt: string): void {
  if (path.trim() === "") throw new ArgumentError(`${opt} must name a file, got an empty string`);
  const abs = resolve(path);
  makeParents(dirname(abs), opt);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(abs);
  } catch (e) {
    if (code(e) !== "ENOENT") throw new ArgumentError(`${opt} ${path}: cannot be examined (${code(e)})`);
  }
  if (st?.isDirectory()) throw new ArgumentError(`${opt} ${path}: is a folder; name a file`);
  if (st && !st.isFile()) throw new ArgumentError(`${opt} ${path}: exists and is not a regular file`);
  const tmp = tempName(abs);
  try {
    closeSync(openSync(tmp, "wx"));
    unlinkSync(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ArgumentError(`${opt} ${path}: cannot write in ${dirname(abs)} (${code(e)})`);
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
    throw new ArgumentError(`cannot write ${path} (${code(e)})`);
  }
  return {
    commit() {
      try {
        renameSync(tmp, path);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw new ArgumentError(`cannot write ${path} (${code(e)})`);
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
