/**
 * A progress bar on stderr, drawn only on a TTY, only for work that has already taken more
 * than a second, and never with --json. Pipes and CI logs stay quiet.
 */
export class Progress {
  private readonly start = Date.now();
  private done = 0;
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly total: number,
    private readonly label: string,
    quiet = false,
  ) {
    this.enabled = !quiet && Boolean(process.stderr.isTTY);
  }

  tick(what = ""): void {
    this.done++;
    if (!this.enabled || Date.now() - this.start < 1000) return;
    const width = 28;
    const filled = Math.round((this.done / this.total) * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const text = `${this.label} [${bar}] ${this.done}/${this.total} ${what}`.slice(
      0,
      (process.stderr.columns ?? 100) - 1,
    );
    process.stderr.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }

  end(): void {
    if (this.drawn) process.stderr.write("\r\x1b[2K");
  }
}
