#!/usr/bin/env node
/**
 * The `edmkit` command. User mistakes print one line on stderr and exit 2; failures of the
 * thing being checked exit 1 (see exitCodeOf).
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ArgumentError, NonFiniteModelOutputError } from "@edmkit/core";
import { UsageError } from "./errors.js";
import { replayCommand, replayHelp } from "./cli/replay-command.js";
import { conformanceCommand, conformanceHelp, mergeCommand, mergeHelp } from "./cli/conformance-command.js";
import { sampleCommand, sampleHelp } from "./cli/sample-command.js";
import { trainCommand, trainHelp } from "./cli/train-command.js";
import { didYouMean } from "./cli/args.js";

const commands: Record<string, { help: string; run: (argv: string[]) => Promise<number> }> = {
  replay: { help: replayHelp, run: replayCommand },
  conformance: { help: conformanceHelp, run: conformanceCommand },
  merge: { help: mergeHelp, run: mergeCommand },
  sample: { help: sampleHelp, run: sampleCommand },
  train: { help: trainHelp, run: trainCommand },
};

const usage = `edmkit <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(12)}${c.help.split("\n")[0].replace(/^edmkit \S+ ?/, "")}`)
  .join("\n")}

Run "edmkit <command> --help" for a command's options; "edmkit --version" prints the version.
Relative paths (--out, --fixtures, --model, fixture folders, ...) are taken from the folder
you ran the command in, also under "pnpm conformance" / "pnpm edmkit" from a subfolder (pnpm
and npm say which in INIT_CWD).`;

/**
 * The folder the user typed the command in. pnpm and npm run a package script in the
 * package's folder and keep the caller's folder in INIT_CWD; it is honoured only when this
 * process runs in that package's folder (npm_package_json), i.e. was started by the script.
 */
export function callerFolder(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const init = env.INIT_CWD;
  const pkg = env.npm_package_json;
  if (init && pkg && resolve(dirname(pkg)) === resolve(cwd) && existsSync(init)) return resolve(init);
  return cwd;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    const guess = didYouMean(name, Object.keys(commands));
    throw new UsageError(
      `unknown command "${name}"${guess ? ` (did you mean "${guess}"?)` : ""}; commands: ${Object.keys(commands).join(", ")}`,
    );
  }
  const from = callerFolder();
  if (from !== process.cwd()) process.chdir(from);
  return cmd.run(rest);
}

function isMain(): boolean {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * One line for stderr: control characters (NUL, newlines, escape sequences from a file's
 * bytes) are escaped and the message is cut at 1000 characters.
 */
export function oneLine(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  const escaped = message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return escaped.length > 1000 ? `${escaped.slice(0, 1000)}...` : escaped;
}

/**
 * The one place errors become exit codes: bad input (ArgumentError, which every port's
 * argument errors and UsageError extend, and node's own option-parsing errors) exits 2; a
 * model that returned NaN or infinity (NonFiniteModelOutputError) exits 1, a failure of the
 * thing checked; anything else is a bug in edmkit: exit 70 with the stack.
 */
export function exitCodeOf(err: unknown): { code: number; message: string } {
  const isArgError =
    err instanceof TypeError && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  if (isArgError) return { code: 2, message: `edmkit: ${oneLine((err as Error).message.split("\n")[0])}` };
  if (err instanceof ArgumentError) return { code: 2, message: `edmkit: ${oneLine(err.message)}` };
  if (err instanceof NonFiniteModelOutputError)
    return { code: 1, message: `edmkit: ${oneLine(err.message)}; the samples would hold NaN` };
  return {
    code: 70,
    message: `edmkit: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  };
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const { code, message } = exitCodeOf(err);
      process.stderr.write(`${message}\n`);
      process.exitCode = code;
    },
  );
}
