#!/usr/bin/env node
/**
 * The `edmkit` command. User mistakes print one line on stderr and exit 2; failures of the
 * thing being checked exit 1.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError } from "./errors.js";
import { replayCommand, replayHelp } from "./cli/replay-command.js";
import { conformanceCommand, conformanceHelp, mergeCommand, mergeHelp } from "./cli/conformance-command.js";
import { sampleCommand, sampleHelp } from "./cli/sample-command.js";
import { trainCommand, trainHelp } from "./cli/train-command.js";

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

Run "edmkit <command> --help" for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(commands).join(", ")})`);
  return cmd.run(rest);
}

function isMain(): boolean {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const isArgError =
        err instanceof TypeError && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
      if (err instanceof UsageError || isArgError) {
        process.stderr.write(`edmkit: ${(err as Error).message}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(
          `edmkit: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        process.exitCode = 70;
      }
    },
  );
}
