/**
 * A user mistake (bad path, bad option, malformed file). The CLI prints its message alone
 * on stderr and exits with status 2; anything else is a bug and keeps its stack trace.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
