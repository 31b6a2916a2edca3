/**
 * The pathwise / distributional verdict of a divergent pair (pairSchema `distribution`, also a
 * sampler map row's) as a table cell, for index.html and report.md: the verdict, the energy
 * distance against its permutation floor and the p-value.
 */
import { escapeXml as esc, formatGap } from "./svg/format.js";
import type { PairResult } from "./schema.js";

/** A pair, or a sampler map row: whatever carries a verdict. */
type Measured = { distribution?: PairResult["distribution"] };

function figures(d: NonNullable<PairResult["distribution"]>): string {
  return `energy ${formatGap(d.value)} / floor ${formatGap(d.floor)}, p = ${d.pValue.toFixed(3)}, n = ${d.n}`;
}

export function distributionHtml(p: Measured): string {
  const d = p.distribution;
  if (!d) return '<span class="empty">—</span>';
  const badge =
    d.verdict === "pathwise"
      ? '<span class="badge warn">pathwise only</span>'
      : '<span class="badge bad">distributional</span>';
  const small = (t: string) => `<span class="num" style="color:var(--muted);font-size:12px">${esc(t)}</span>`;
  return `${badge}<br>${small(`energy ${formatGap(d.value)} / floor ${formatGap(d.floor)}`)}<br>${small(`p = ${d.pValue.toFixed(3)}, n = ${d.n}`)}`;
}

/** Only the badge, its figures in the tooltip (for the All pairs table's verdict cell). */
export function distributionBadge(p: Measured): string {
  const d = p.distribution;
  if (!d) return "";
  const cls = d.verdict === "pathwise" ? "warn" : "bad";
  const label = d.verdict === "pathwise" ? "pathwise only" : "distributional";
  return `<br><span class="badge ${cls}" title="${esc(figures(d))}">${label}</span>`;
}

export function distributionMarkdown(p: Measured): string {
  const d = p.distribution;
  if (!d) return "—";
  return `${d.verdict === "pathwise" ? "pathwise only" : "**distributional**"} (${figures(d)})`;
}

/** What the column means, for a table's note. */
export const DISTRIBUTION_NOTE =
  "Distributions: each implementation run again on 2n other seeds; an energy-distance permutation test (199 permutations) of a's first n samples against b's last n. pathwise only: p ≥ 0.01, the distributions agree within sampling error; distributional: p < 0.01. — : not measured (the pair is identical, or not a scenario or sampler map pair).";
