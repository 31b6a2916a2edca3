#!/usr/bin/env node
// Builds the workspace before a CLI run, printing turbo's output only if the build fails,
// so `pnpm edmkit ...` shows the command's own output (and its one-line errors) alone.
// When a build is needed (a package without dist/, or a source newer than its dist/), one
// line on stderr says so: the first build takes about a minute.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Newest modification time under a folder (0 when it does not exist). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function buildNeeded() {
  const packages = join(root, "packages");
  let first = false;
  let stale = false;
  for (const name of readdirSync(packages)) {
    const dir = join(packages, name);
    if (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "src"))) continue;
    const dist = newest(join(dir, "dist"));
    if (dist === 0) first = true;
    else if (newest(join(dir, "src")) > dist) stale = true;
  }
  return first ? "first run" : stale ? "sources changed" : null;
}

const why = buildNeeded();
if (why) process.stderr.write(`building edmkit (${why}) ...\n`);
const r = spawnSync("turbo", ["run", "build", "--output-logs=errors-only"], {
  encoding: "utf8",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
  shell: process.platform === "win32",
});
if (r.status !== 0) {
  process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `${r.error.message}\n` : ""}`);
  process.exit(r.status ?? 1);
}
