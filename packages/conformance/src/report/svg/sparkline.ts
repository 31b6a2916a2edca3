/**
 * A word-sized line chart of a pair's gap per step (log scale), for table cells: it shows at a
 * glance whether two implementations drift apart slowly, jump at one step, or only differ at the
 * end. The dashed line is the round-off bound below which the pair counts as identical.
 */
import { logScale, svgDocument } from "./common.js";
import { formatGap, r1 } from "./format.js";

/**
 * Renders a pair's gap at each model call's input (gapPerStep), then its output gap when given,
 * as a small inline <svg class="spark">; values ≤ 0 sit on the floor. The title's max is the
 * largest plotted value: the pair's max gap, the same number its table row shows.
 */
export function sparkline(
  callGaps: readonly number[],
  roundoffBound: number,
  opts: { width?: number; height?: number; outputGap?: number | null } = {},
): string {
  const width = opts.width ?? 120;
  const height = opts.height ?? 26;
  const withOutput = opts.outputGap !== undefined && opts.outputGap !== null;
  const gaps = withOutput ? [...callGaps, opts.outputGap as number] : [...callGaps];
  const title = gaps.length
    ? `gap (max |x_a - x_b|) at each of ${callGaps.length} model calls' input${withOutput ? ", then at the output" : ""}: first ${formatGap(gaps[0])}, last ${formatGap(gaps[gaps.length - 1])}, max ${formatGap(Math.max(...gaps))}`
    : "gap per model call: none";
  const frame = { className: "spark", width, height, title };
  if (gaps.length === 0) return svgDocument(frame, "");
  const floor = Math.max(
    1e-18,
    Math.min(roundoffBound > 0 ? roundoffBound / 10 : 1e-17, ...gaps.filter((g) => g > 0)),
  );
  const top = Math.max(floor * 10, roundoffBound, ...gaps);
  const sy = logScale(floor, top, height - 3, 3);
  const sx = (i: number) => (gaps.length === 1 ? width / 2 : 2 + (i * (width - 4)) / (gaps.length - 1));
  const pts = gaps.map((g, i) => `${i ? "L" : "M"}${r1(sx(i))} ${r1(sy(Math.max(floor, g)))}`).join("");
  const over = gaps.findIndex((g) => g > roundoffBound);
  const color = over >= 0 ? "#d9822b" : "#3a9d5d";
  const parts = [
    roundoffBound > 0
      ? `<path d="M0 ${r1(sy(roundoffBound))}H${width}" stroke="#9aa3b2" stroke-dasharray="2 2" fill="none"/>`
      : "",
    `<path d="${pts}" stroke="${color}" stroke-width="1.6" fill="none" stroke-linejoin="round"/>`,
    over >= 0
      ? `<circle cx="${r1(sx(over))}" cy="${r1(sy(Math.max(floor, gaps[over])))}" r="2.4" fill="${color}"/>`
      : "",
  ];
  return svgDocument(frame, parts.join(""));
}
