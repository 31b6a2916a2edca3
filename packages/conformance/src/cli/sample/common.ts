/** Helpers shared by the modules of `edmkit sample`. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { UsageError } from "../../errors.js";

export function readJsonFile(what: string, path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`sample: ${what} ${path}: no such file`);
  if (!statSync(path).isFile()) throw new UsageError(`sample: ${what} ${path} is not a file`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UsageError(`sample: ${what} ${path} is not valid JSON (${(e as Error).message})`);
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
export const messageOf = (e: unknown) => (e instanceof Error ? e.message.split("\n")[0] : String(e));
