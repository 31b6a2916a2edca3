/**
 * The cause ladders of the divergent pairs, for the HTML and Markdown reports: for each pair,
 * the runs from a to b, the one rule each rung changes (a cause, with the rule in words where
 * the cause names a family of rules), and each rung's gap to the previous run, which is how
 * much that rule contributes. A ladder closes when its last rung is identical to b.
 */
import { implChip, num, table } from "./html-parts.js";
import type { LadderResult, Report } from "./schema.js";
import { escapeXml as esc, formatGap } from "./svg/format.js";

type Rung = LadderResult["rungs"][number];

const LEAD =
  "For each divergent pair, a chain of runs from a to b that changes one rule per rung; each rung's gap to the previous run says how much that rule contributes (the line above each table: the largest rung of each cause). A ladder closes when its last rung is identical to b to round-off; one that does not close is listed under Problems as unexplained.";

/** The causes a ladder measures with the largest output gap of each one's rungs, largest first: "cause 1.2e-6, ...". */
export function ladderSummary(l: LadderResult): string {
  return ladderCauses(l)
    .map((c) => {
      const gaps = l.rungs.filter((r) => r.change === c).map((r) => r.outputGap ?? r.maxGap ?? 0);
      return `${c} ${formatGap(Math.max(...gaps))}`;
    })
    .join(", ");
}

/** The causes of a ladder's rungs, largest first (same-method rungs left out). */
export function ladderCauses(l: LadderResult): string[] {
  const byCause = new Map<string, number>();
  for (const r of l.rungs)
    if (r.change !== "same method")
      byCause.set(r.change, Math.max(byCause.get(r.change) ?? 0, r.outputGap ?? r.maxGap ?? 0));
  return [...byCause.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
}

/** A sampler-map row's own ladder run (its named cause removed), in words, or null. */
function mapRow(report: Report, pair: string): string | null {
  const row = report.samplerMap.rows.find((r) => r.pair === pair);
  if (!row) {
    // the last rung of a row's ladder against k-diffusion: what is left once every named cause is removed
    const of = report.samplerMap.rows.find((r) => r.ladder === pair);
    if (!of) return null;
    return of.envelope !== null && !of.open
      ? `sampler map: last rung of the ${of.name} ladder; closes within twice k-diffusion's own float32-vs-float64 gap (${formatGap(of.envelope)})`
      : `sampler map: last rung of the ${of.name} ladder`;
  }
  return row.ladder
    ? `sampler map: the named cause removed leaves ${formatGap(row.ladderGap)}`
    : "sampler map row";
}

/** The Divergences table's pointer to a pair's ladder: its status and causes, linked. */
export function ladderCellHtml(report: Report, pair: string): string {
  const l = report.ladders.find((x) => x.pair === pair);
  if (!l) {
    const row = mapRow(report, pair);
    return row ? `<br><a class="rule" href="#sampler-map">${esc(row)}</a>` : "";
  }
  const causes = ladderCauses(l);
  return `<br><a class="rule" href="#ladder-${esc(pair)}">ladder ${esc(statusText(l))}${causes.length ? `: ${esc(causes.join(", "))}` : ""}</a>`;
}

/** The same for Markdown: "closed: cause, cause" or "—". */
export function ladderCellMarkdown(report: Report, pair: string): string {
  const l = report.ladders.find((x) => x.pair === pair);
  if (!l) return mapRow(report, pair) ?? "—";
  const causes = ladderCauses(l);
  return `${statusText(l)}${causes.length ? `: ${causes.join(", ")}` : ""}`;
}

function statusText(l: LadderResult): string {
  return l.status === "closed" ? "closed" : l.status === "open" ? "does not close" : "ladder not built";
}

function ruleHtml(r: Rung): string {
  if (r.change === "same method") return "same method, other code (must agree to round-off)";
  const cause = `<a href="#cause-${esc(r.change)}"><code>${esc(r.change)}</code></a>`;
  return r.rule ? `${cause}<br><span class="rule">${esc(r.rule)}</span>` : cause;
}

/** The "Cause ladders" block of the Divergences section. */
export function laddersBlock(report: Report): string {
  if (report.ladders.length === 0) return "";
  const items = report.ladders.map((l) => {
    const pair = report.pairs.find((p) => p.id === l.pair);
    const badge =
      l.status === "closed"
        ? '<span class="badge ok">closed</span>'
        : l.status === "open"
          ? '<span class="badge bad">⚠ does not close</span>'
          : '<span class="badge muted">ladder not built</span>';
    const rows = [
      ...(pair ? [[`a: ${implChip(pair.a)}`, '<span class="empty">start</span>', "", ""]] : []),
      ...l.rungs.map((r, i) => [
        `${i + 1}. ${implChip(r.impl)}`,
        ruleHtml(r),
        num(r.maxGap),
        num(r.outputGap),
      ]),
    ];
    const summary = ladderSummary(l);
    const body = l.rungs.length
      ? table(
          [
            { label: "rung" },
            { label: "rule changed" },
            { label: "max gap to previous", right: true },
            { label: "output gap to previous", right: true },
          ],
          rows,
          `${pair ? `b: ${esc(pair.b.id)}. ` : ""}Last rung vs b: max gap ${esc(formatGap(l.closingGap))}. ${esc(l.note)}`,
        )
      : `<p class="empty">${esc(l.note)}</p>`;
    const what = summary ? `<p>Largest output gap by cause: ${esc(summary)}.</p>` : "";
    return `<div class="cause" id="ladder-${esc(l.pair)}"><h3><code>${esc(l.pair)}</code>${badge}</h3>${what}${body}</div>`;
  });
  return `<h3 id="ladders">Cause ladders</h3><p class="lead">${esc(LEAD)}</p><div class="causes">${items.join("")}</div>`;
}

/** The same as Markdown (one short table per ladder). */
export function laddersMarkdown(
  report: Report,
  md: { text: (s: string) => string; code: (s: string) => string },
): string[] {
  if (report.ladders.length === 0) return [];
  const out: string[] = ["### Cause ladders", "", md.text(LEAD), ""];
  for (const l of report.ladders) {
    const pair = report.pairs.find((p) => p.id === l.pair);
    out.push(`#### ${md.code(l.pair)} — ${statusText(l)}`, "");
    if (pair) out.push(`a: ${md.code(pair.a.id)}; b: ${md.code(pair.b.id)}`, "");
    const summary = ladderSummary(l);
    if (summary) out.push(`Largest output gap by cause: ${md.text(summary)}.`, "");
    if (l.rungs.length) {
      out.push(
        "| # | rung | rule changed | max gap | output gap |",
        "| ---: | --- | --- | ---: | ---: |",
        ...l.rungs.map((r, i) => {
          const rule =
            r.change === "same method"
              ? "same method, other code"
              : `${md.code(r.change)}${r.rule ? `: ${md.text(r.rule)}` : ""}`;
          return `| ${i + 1} | ${md.code(r.impl.id)} | ${rule} | ${formatGap(r.maxGap)} | ${formatGap(r.outputGap)} |`;
        }),
        "",
      );
    }
    out.push(`Last rung vs b: max gap ${formatGap(l.closingGap)}. ${md.text(l.note)}`, "");
  }
  return out;
}
