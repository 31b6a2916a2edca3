/**
 * node's parseArgs, with negative numbers accepted as option values: `--seed -1` and
 * `--rho -1.5` mean `--seed=-1` and `--rho=-1.5` (parseArgs alone calls them ambiguous).
 * Its errors become one-line UsageErrors in edmkit's words, with a "did you mean" for a
 * mistyped option, never node's own parser text.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.js";

const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The closest candidate to a mistyped word, if one is close enough to be meant. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function usageOf(err: unknown, command: string, options: ParseArgsConfig["options"]): UsageError | undefined {
  const code = (err as { code?: string }).code ?? "";
  if (!(err instanceof TypeError) || !code.startsWith("ERR_PARSE_ARGS")) return undefined;
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? "";
  const help = `see "edmkit ${command} --help"`;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const name = quoted.replace(/^-+/, "").split("=")[0];
    const guess = didYouMean(name, Object.keys(options ?? {}));
    return new UsageError(
      `${command}: unknown option ${quoted.split("=")[0]}${guess ? ` (did you mean --${guess}?)` : ""}; ${help}`,
    );
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
    return new UsageError(`${command}: unexpected argument "${quoted}" (options start with --; ${help})`);
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = quoted.split(" ")[0];
    if (/argument missing/.test(err.message))
      return new UsageError(`${command}: ${name} needs a value; ${help}`);
    if (/does not take an argument/.test(err.message))
      return new UsageError(`${command}: ${name} takes no value; ${help}`);
  }
  return new UsageError(`${command}: ${err.message.split("\n")[0]}`);
}

export function parseCommandArgs<T extends ParseArgsConfig>(
  config: T,
  command: string,
): ReturnType<typeof parseArgs<T>> {
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
  try {
    return parseArgs({ ...config, args: out } as T);
  } catch (e) {
    throw usageOf(e, command, options) ?? e;
  }
}

/**
 * A numeric option's value: undefined when not given; otherwise the number, which must pass
 * `ok`, else a UsageError "COMMAND: --NAME must be EXPECTED, got "V"" (an empty string is
 * never a number).
 */
export function parseNumberOption(
  command: string,
  name: string,
  v: string | undefined,
  ok: (x: number) => boolean,
  expected: string,
): number | undefined {
  if (v === undefined) return undefined;
  const x = v.trim() === "" ? NaN : Number(v);
  if (!ok(x)) throw new UsageError(`${command}: --${name} must be ${expected}, got "${v}"`);
  return x;
}

export const positiveInt = (x: number): boolean => Number.isInteger(x) && x >= 1;
