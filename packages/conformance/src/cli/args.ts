/**
 * node's parseArgs, with negative numbers accepted as option values: `--seed -1` and
 * `--rho -1.5` mean `--seed=-1` and `--rho=-1.5` (parseArgs alone calls them ambiguous).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const options = config.options ?? {};
  const args = [...(config.args ?? [])];
  const out: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : undefined;
    const next = args[k + 1];
    if (
      name !== undefined &&
      Object.hasOwn(options, name) &&
      options[name].type === "string" &&
      next !== undefined &&
      NEGATIVE_NUMBER.test(next)
    ) {
      out.push(`${a}=${next}`);
      k++;
    } else out.push(a);
  }
  return parseArgs({ ...config, args: out } as T);
}
