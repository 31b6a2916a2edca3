#!/usr/bin/env node
// Builds the workspace before a CLI run, printing turbo's output only if the build fails,
// so `pnpm edmkit ...` shows the command's own output (and its one-line errors) alone.
import { spawnSync } from "node:child_process";

const r = spawnSync("turbo", ["run", "build", "--output-logs=errors-only"], {
  encoding: "utf8",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
  shell: process.platform === "win32",
});
if (r.status !== 0) {
  process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `${r.error.message}\n` : ""}`);
  process.exit(r.status ?? 1);
}
