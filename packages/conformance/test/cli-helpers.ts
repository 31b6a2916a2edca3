import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const FIXTURES = `${ROOT}fixtures/`;
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
/** tsx's loader by absolute URL, so the CLI also runs with a working folder outside the repository. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href;

/** Node arguments that run the CLI from its TypeScript sources. */
export function edmkitArgs(args: string[]): string[] {
  return ["--conditions=@edmkit/source", "--import", tsx, cli, ...args];
}

/** Run the CLI from its TypeScript sources (workspace packages resolved to their sources). */
export function edmkit(args: string[], opts: { cwd?: string; timeout?: number } = {}) {
  const r = spawnSync(process.execPath, edmkitArgs(args), {
    cwd: opts.cwd ?? ROOT,
    encoding: "utf8",
    timeout: opts.timeout ?? 300_000,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
