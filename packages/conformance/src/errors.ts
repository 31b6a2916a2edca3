import { ArgumentError } from "@edmkit/core";

/**
 * A user mistake (bad path, bad option, malformed file). The CLI prints its message alone
 * on stderr and exits with status 2 (as for every ArgumentError, which it extends); anything
 * else is a bug and keeps its stack trace.
 */
export class UsageError extends ArgumentError {
  override name = "UsageError";
}
