/**
 * The report folder that `edmkit conformance` and `edmkit merge` write (`--out`).
 *
 * Guarantees (docs/reliability.md):
 * - Only a folder edmkit wrote is ever replaced: one holding the marker file `.edmkit-report`
 *   (written into the staging folder before anything else), an empty folder, or a report of
 *   an earlier edmkit version (nothing but report files). Anything else — a project, a file,
 *   the current folder or one of its parents, `""` — is refused with a usage error before
 *   any work is done.
 * - Writability is proved up front: the staging folder is created (and the lock taken) before
 *   the run starts, so an unwritable `--out` fails in a second, not after the whole suite.
 * - One writer at a time: a lock file beside the folder (`.NAME.lock`, created exclusively,
 *   holding the writer's pid); a second run on the same `--out` is refused while the first
 *   is alive, and a lock left by a killed run is taken over.
 * - The swap is two renames (old aside, staging in). A run killed between them leaves the
 *   previous report as `.NAME.old.*`; the next run on the same `--out` puts it back before
 *   doing anything else. Staging and old folders left by dead runs are removed by the next
 *   run (only those carrying the marker, or empty).
 */
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, parse, resolve, sep } from "node:path";
import { makeParents } from "@edmkit/core/node";
import { UsageError } from "./errors.js";

export const REPORT_MARKER = ".edmkit-report";

/** Files an edmkit report folder may hold (those of earlier versions had no marker). */
const REPORT_FILES = new Set([
  REPORT_MARKER,
  "report.json",
  "report.md",
  "index.html",
  "trajectory.gif",
  "tasks.json",
  "shard.json",
]);

export interface ReportDir {
  /** The absolute path of the report folder. */
  readonly path: string;
  /** The staging folder to write into (already holds the marker). */
  readonly staging: string;
  /** Swap the staging folder in for the report folder and release the lock. */
  commit(): void;
  /** Drop the staging folder and release the lock; the report folder stays as it was. */
  abandon(): void;
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return code(e) === "EPERM";
  }
}

/** What is at `p`: "none", "dir", or "other" (file, link, socket ...), never following links. */
function kind(p: string): "none" | "dir" | "other" {
  try {
    const st = lstatSync(p);
    return st.isDirectory() ? "dir" : "other";
  } catch (e) {
    if (code(e) === "ENOENT") return "none";
    throw new UsageError(`--out ${p}: cannot be examined (${code(e)})`);
  }
}

/** Is `dir` (which exists) a folder this program may replace? Returns the reason if not. */
function refusal(dir: string): string | null {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    return `it cannot be read (${code(e)})`;
  }
  if (entries.length === 0 || entries.includes(REPORT_MARKER)) return null;
  const foreign = entries.filter((e) => !REPORT_FILES.has(e));
  if (foreign.length === 0 && entries.includes("report.json")) return null;
  const shown = foreign.slice(0, 3).join(", ") + (foreign.length > 3 ? ", ..." : "");
  return `it is not an edmkit report folder (no ${REPORT_MARKER} marker; holds ${shown})`;
}

interface Debris {
  path: string;
  kind: "staging" | "old";
  pid: number;
  stamp: number;
}

function debrisOf(parent: string, name: string): Debris[] {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return [];
  }
  const out: Debris[] = [];
  const prefix = `.${name}.`;
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    const m = /^(staging|old)\.(\d+)\.(\d+)$/.exec(e.slice(prefix.length));
    if (!m) continue;
    out.push({ path: join(parent, e), kind: m[1] as Debris["kind"], pid: Number(m[2]), stamp: Number(m[3]) });
  }
  return out;
}

/** A leftover folder may go only if it is ours: it carries the marker, or is empty. */
function ours(dir: string): boolean {
  try {
    const entries = readdirSync(dir);
    return entries.length === 0 || entries.includes(REPORT_MARKER);
  } catch {
    return false;
  }
}

function recover(path: string): void {
  const parent = dirname(path);
  const dead = debrisOf(parent, basename(path)).filter((d) => !isAlive(d.pid) && ours(d.path));
  if (kind(path) === "none") {
    const old = dead.filter((d) => d.kind === "old").sort((a, b) => b.stamp - a.stamp)[0];
    if (old) {
      renameSync(old.path, path);
      process.stderr.write(`edmkit: restored the previous report ${path} left by an interrupted run\n`);
      dead.splice(dead.indexOf(old), 1);
    }
  }
  for (const d of dead) rmSync(d.path, { recursive: true, force: true });
}

function takeLock(lock: string, path: string, opt: string): void {
  const body = `${JSON.stringify({ pid: process.pid, host: hostname(), path })}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx");
      try {
        writeFileSync(fd, body);
      } finally {
        closeSync(fd);
      }
      return;
    } catch (e) {
      if (code(e) !== "EEXIST")
        throw new UsageError(`${opt} ${path}: cannot create the lock ${lock} (${code(e)})`);
    }
    let holder = NaN;
    let host = "";
    try {
      const j = JSON.parse(readFileSync(lock, "utf8"));
      holder = Number(j.pid);
      host = String(j.host ?? "");
    } catch {
      // unreadable or half-written: treated as stale below
    }
    if (isAlive(holder) && (host === "" || host === hostname()))
      throw new UsageError(
        `${opt} ${path}: another edmkit run (pid ${holder}) is writing this report folder`,
      );
    try {
      unlinkSync(lock);
    } catch (e) {
      if (code(e) !== "ENOENT") throw new UsageError(`${opt} ${path}: cannot remove the stale lock ${lock}`);
    }
  }
  throw new UsageError(`${opt} ${path}: another edmkit run is starting on this report folder`);
}

/**
 * Check `--out` and get ready to write it: refuses (UsageError, exit 2) anything it may not
 * replace, takes the lock, cleans up after interrupted runs, creates the staging folder.
 */
export function openReportDir(outArg: string, opt = "--out"): ReportDir {
  if (outArg.trim() === "") throw new UsageError(`${opt} must name a folder, got an empty string`);
  const path = resolve(outArg);
  if (path === parse(path).root)
    throw new UsageError(`${opt} ${outArg}: refusing to replace a filesystem root`);
  const real = realOrSelf(path);
  const cwd = process.cwd();
  if (cwd === real || cwd.startsWith(real.endsWith(sep) ? real : real + sep))
    throw new UsageError(
      `${opt} ${outArg}: refusing to replace the current folder or one of its parents; name a report folder such as reports`,
    );
  const parent = dirname(path);
  makeParents(parent, opt);
  const k = kind(path);
  if (k === "other") {
    throw new UsageError(
      `${opt} ${outArg}: ${path} exists and is not a folder; edmkit writes a report folder and never replaces a file`,
    );
  }
  if (k === "dir") {
    const why = refusal(path);
    if (why)
      throw new UsageError(`${opt} ${outArg}: refusing to replace ${path}: ${why}. Choose another --out.`);
  }
  const lock = join(parent, `.${basename(path)}.lock`);
  takeLock(lock, path, opt);
  let staging = "";
  try {
    recover(path);
    staging = join(parent, `.${basename(path)}.staging.${process.pid}.${Date.now()}`);
    try {
      mkdirSync(staging);
      writeFileSync(join(staging, REPORT_MARKER), "edmkit report folder: edmkit may replace it as a whole\n");
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      throw new UsageError(`${opt} ${outArg}: cannot write in ${parent} (${code(e)})`);
    }
  } catch (e) {
    rmSync(lock, { force: true });
    throw e;
  }
  let done = false;
  const release = () => {
    done = true;
    rmSync(lock, { force: true });
  };
  return {
    path,
    staging,
    commit() {
      if (done) throw new Error("report folder already committed or abandoned");
      try {
        const old = join(parent, `.${basename(path)}.old.${process.pid}.${Date.now()}`);
        const had = existsSync(path);
        if (had) renameSync(path, old);
        try {
          renameSync(staging, path);
        } catch (e) {
          if (had) renameSync(old, path);
          throw e;
        }
        if (had) rmSync(old, { recursive: true, force: true });
      } finally {
        release();
      }
    },
    abandon() {
      if (done) return;
      rmSync(staging, { recursive: true, force: true });
      release();
    },
  };
}

/** The real path of p (links resolved), or p itself where it does not exist. */
export function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Fill a report folder: `fill` writes into the staging folder; on failure nothing changes. */
export async function writeReportDir(
  dir: ReportDir,
  fill: (staging: string) => Promise<void> | void,
): Promise<void> {
  try {
    await fill(dir.staging);
  } catch (e) {
    dir.abandon();
    throw e;
  }
  dir.commit();
}
