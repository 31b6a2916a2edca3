/** Plain-text tables and number formatting for the terminal. */

export function fmtErr(x: number): string {
  if (Number.isNaN(x)) return "-";
  if (x === 0) return "0";
  if (!Number.isFinite(x)) return String(x);
  return x.toExponential(2);
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (c ?? "").padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
