/**
 * Argument checks shared by schedules, samplers and wrappers. Every failure is one Error
 * whose message starts with the original function's name and names the argument.
 */
import { ArgumentError } from "@edmkit/core";

export class KDiffusionArgumentError extends ArgumentError {
  override name = "KDiffusionArgumentError";
}

export function fail(fn: string, message: string): never {
  throw new KDiffusionArgumentError(`${fn}: ${message}`);
}

function show(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : String(v);
}

/** A real number (NaN rejected; infinities allowed only when `allowInf`). */
export function num(fn: string, name: string, v: unknown, allowInf = false): number {
  if (typeof v !== "number" || Number.isNaN(v) || (!allowInf && !Number.isFinite(v))) {
    fail(fn, `${name} must be a ${allowInf ? "number" : "finite number"}, got ${show(v)}`);
  }
  return v;
}

export function positive(fn: string, name: string, v: unknown): number {
  const x = num(fn, name, v);
  if (!(x > 0)) fail(fn, `${name} must be > 0, got ${x}`);
  return x;
}

export function nonNegative(fn: string, name: string, v: unknown): number {
  const x = num(fn, name, v);
  if (!(x >= 0)) fail(fn, `${name} must be >= 0, got ${x}`);
  return x;
}

export function integer(fn: string, name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    fail(fn, `${name} must be an integer >= ${min}, got ${show(v)}`);
  }
  return v;
}

export function optionalNum(fn: string, name: string, v: unknown, dflt: number, allowInf = false): number {
  return v === undefined ? dflt : num(fn, name, v, allowInf);
}
