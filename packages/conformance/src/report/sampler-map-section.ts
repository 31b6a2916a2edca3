/**
 * The Sampler map section of index.html and report.md: each web-UI sampler name with its
 * k-diffusion call and diffusers scheduler + config, the measured gaps (as shipped and with the
 * named cause removed), the verdict and the cause; then the two answers (the seed question
 * against DDPM / DDIM, and EDM's generality) with their numbers. Every number comes from the
 * report's samplerMap (computed in src/conformance/webui.ts). Open rows read "open (not yet
 * explained): reason", never as explained.
 */
import { distributionBadge, distributionMarkdown } from "./distribution-cell.js";
import { num, section, table } from "./html-parts.js";
import type { SamplerMapReport } from "./schema.js";
import { escapeXml as esc, formatGap } from "./svg/format.js";

type Row = SamplerMapReport["rows"][number];

/** The cause column in words: the cause, "none" or "open (not yet explained): reason". */
export function samplerMapCauseText(r: Row): string {
  if (r.open) return `open (not yet explained): ${r.openReason ?? "the ladder does not close"}`;
  return r.cause ?? "none";
}

/** The verdict column in words: as shipped, and whether the named cause accounts for the gap. */
export function samplerMapVerdictText(r: Row): string {
  if (r.verdict !== "diverge") return r.verdict;
  return r.open ? "diverge (open)" : "diverge (explained)";
}

const LEAD_MAP =
  "Each sampler name of the web UIs (A1111 / ComfyUI) with the k-diffusion call behind it and the diffusers scheduler + config people use for it, run on the same discrete eps model, sigmas and noise (each step's draw made in one dtype for both libraries). Max and output gaps are as shipped. The ladder changes the diffusers run one rule (cause) per rung, each rung's gap to the previous run measured; the ladder gap is its last rung against k-diffusion, which must agree to float32 round-off for the row to count as explained: within the fixed float32 bound, or, where the dynamics amplify round-off, within twice the gap of k-diffusion's own sampler run in float32 (the envelope).";

/** The lead, with what the distributions verdict is and on how many samples it was measured. */
function lead(m: SamplerMapReport): string {
  const n = m.rows.find((r) => r.distribution)?.distribution?.n;
  if (n === undefined) return LEAD_MAP;
  return `${LEAD_MAP} Under the verdict, pathwise only or distributional: the diverging pair as shipped run again on ${2 * n} other latents and noise streams (the noise aligned between the libraries as above), then the Divergences table's energy test of the diffusers run's first ${n} samples against k-diffusion's last ${n}; pathwise only: p ≥ 0.01, the two distributions agree within sampling error.`;
}

/** A row's ladder in words: each rung's cause and gap, then the last rung against k-diffusion. */
export function samplerMapLadderText(r: Row): string {
  const rungs = r.rungs.map((g) => `${g.change} ${formatGap(g.maxGap)}`).join(" → ");
  const env = r.envelope === null ? "" : ` (float32 envelope ${formatGap(r.envelope)})`;
  return `${rungs}; last rung vs k-diffusion ${formatGap(r.ladderGap)}${env}`;
}

function rowCells(r: Row): string[] {
  const verdict =
    r.verdict === "identical"
      ? '<span class="badge ok">identical</span>'
      : r.verdict === "float32 round-off"
        ? '<span class="badge ok">float32 round-off</span>'
        : r.open
          ? '<span class="badge bad">diverge (open)</span>'
          : '<span class="badge warn">diverge (explained)</span>';
  // pathwise only or distributional, its figures in the tooltip
  const dist = distributionBadge(r);
  const cause = r.open
    ? `<span class="badge bad">open (not yet explained)</span> ${esc(r.openReason ?? "the ladder does not close")}`
    : r.cause
      ? `<a href="#cause-${esc(r.cause)}"><code>${esc(r.cause)}</code></a>`
      : '<span class="empty">none</span>';
  return [
    `<b>${esc(r.name)}</b>`,
    `<code>${esc(r.kdiffusion)}</code>`,
    `<code>${esc(r.diffusers)}</code>`,
    num(r.maxGap),
    num(r.outputGap),
    verdict + dist,
    cause,
    r.ladder ? num(r.ladderGap) : '<span class="empty">—</span>',
  ];
}

function answersHtml(m: SamplerMapReport): string {
  return m.answers
    .map(
      (a) =>
        `<div class="qa"><p>${esc(a.question)}</p><p class="a">${esc(a.answer)}</p></div>${table(
          [
            { label: "check" },
            { label: "gap", right: true },
            { label: "bound", right: true },
            { label: "verdict" },
          ],
          a.checks.map((c) => [
            esc(c.what),
            num(c.gap),
            num(c.bound),
            c.verdict === "diverge"
              ? '<span class="badge warn">diverge</span>'
              : `<span class="badge ok">${esc(c.verdict)}</span>`,
          ]),
        )}`,
    )
    .join("");
}

function laddersHtml(m: SamplerMapReport): string {
  const withRungs = m.rows.filter((r) => r.rungs.length > 0);
  if (withRungs.length === 0) return "";
  const items = withRungs.map((r) => `<li><b>${esc(r.name)}</b>: ${esc(samplerMapLadderText(r))}</li>`);
  return `<h3>Ladders (max gap per rung)</h3><ul class="ladders">${items.join("")}</ul>`;
}

export function samplerMapSectionHtml(m: SamplerMapReport): string {
  if (m.rows.length === 0 && m.answers.length === 0)
    return section("sampler-map", "Sampler map", "", '<p class="empty">Not computed in this run.</p>');
  const open = m.rows.filter((r) => r.open).length;
  const rows = table(
    [
      { label: "sampler" },
      { label: "k-diffusion" },
      { label: "diffusers scheduler + config" },
      { label: "max gap", right: true },
      { label: "output gap", right: true },
      { label: "verdict" },
      { label: "cause" },
      { label: "ladder gap", right: true },
    ],
    m.rows.map(rowCells),
    `${m.rows.length} rows on ${esc(m.model)}; ${m.rows.length - open} explained or equal, ${open} open. Round-off bounds: float64 ${esc(formatGap(m.rows[0]?.bound64))}, float32 ${esc(formatGap(m.rows[0]?.bound32))} (per row in report.json).`,
  );
  return section(
    "sampler-map",
    "Sampler map",
    esc(lead(m)),
    `<div class="sampler-map">${rows}${laddersHtml(m)}<h3>The two answers</h3>${answersHtml(m)}</div>`,
  );
}

const md = (s: string) => s.replace(/\r?\n/g, " ").replace(/[\\`*_[\]|<>#]/g, (c) => `\\${c}`);
const mdCode = (s: string) => `\`${s.replace(/`/g, "'").replace(/\|/g, "\\|")}\``;

export function samplerMapMarkdown(m: SamplerMapReport): string[] {
  const out = ["## Sampler map", ""];
  if (m.rows.length === 0 && m.answers.length === 0) return [...out, "_Not computed in this run._", ""];
  out.push(md(lead(m)), "", `Model: ${md(m.model)}.`, "");
  out.push(
    "| sampler | k-diffusion | diffusers scheduler + config | max gap | output gap | verdict | cause | ladder gap | distributions |",
    "| --- | --- | --- | ---: | ---: | --- | --- | ---: | --- |",
  );
  for (const r of m.rows)
    out.push(
      `| ${md(r.name)} | ${mdCode(r.kdiffusion)} | ${mdCode(r.diffusers)} | ${formatGap(r.maxGap)} | ${formatGap(r.outputGap)} | ${samplerMapVerdictText(r)} | ${r.open ? `**${md(samplerMapCauseText(r))}**` : r.cause ? mdCode(r.cause) : "none"} | ${r.ladder ? formatGap(r.ladderGap) : "—"} | ${distributionMarkdown(r)} |`,
    );
  out.push("");
  const withRungs = m.rows.filter((r) => r.rungs.length > 0);
  if (withRungs.length) {
    out.push("Ladders (max gap per rung):", "");
    for (const r of withRungs) out.push(`- **${md(r.name)}**: ${md(samplerMapLadderText(r))}`);
    out.push("");
  }
  for (const a of m.answers) {
    out.push(`**Q:** ${md(a.question)}`, "", `**A:** ${md(a.answer)}`, "");
    out.push("| check | gap | bound | verdict |", "| --- | ---: | ---: | --- |");
    for (const c of a.checks)
      out.push(`| ${md(c.what)} | ${formatGap(c.gap)} | ${formatGap(c.bound)} | ${md(c.verdict)} |`);
    out.push("");
  }
  return out;
}
