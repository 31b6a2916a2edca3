/**
 * Tick positions for every axis edmkit draws (the report's SVG figures, the CLI's plots):
 * "nice" linear ticks and decade ticks for log axes.
 */

/** The report's tick steps: 1, 2, 2.5 or 5 × 10^k. */
export const REPORT_STEPS = [1, 2, 2.5, 5] as const;
/** The CLI plots' tick steps: 1, 2 or 5 × 10^k. */
export const PLOT_STEPS = [1, 2, 5] as const;

/** "Nice" linear ticks (steps `mantissas` × 10^k), about `count` of them inside [lo, hi]. */
export function linearTicks(
  lo: number,
  hi: number,
  count = 5,
  mantissas: readonly number[] = REPORT_STEPS,
): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [...mantissas, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

/**
 * Ticks for a log axis over [lo, hi] (> 0): powers of ten, thinned to at most ~8 labels; when
 * the range spans under two decades, 2× and 5× ticks are added so the axis is never bare.
 */
export function logTicks(lo: number, hi: number): { major: number[]; minor: number[] } {
  const e0 = Math.floor(Math.log10(lo) + 1e-9);
  const e1 = Math.ceil(Math.log10(hi) - 1e-9);
  const decades = e1 - e0;
  const every = Math.max(1, Math.ceil(decades / 8));
  const major: number[] = [];
  const minor: number[] = [];
  const inside = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  for (let e = e0; e <= e1; e++) {
    const p = 10 ** e;
    if (inside(p) && (e - e0) % every === 0) major.push(p);
    for (const m of [2, 3, 4, 5, 6, 7, 8, 9]) {
      const v = m * p;
      if (!inside(v)) continue;
      if (decades <= 2 && (m === 2 || m === 5)) major.push(v);
      else if (every === 1) minor.push(v);
    }
  }
  major.sort((a, b) => a - b);
  return { major, minor };
}

/** Tableau 10: distinguishable categorical colours that survive greyscale printing reasonably. */
