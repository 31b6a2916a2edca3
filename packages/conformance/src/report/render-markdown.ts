/**
 * reports/report.md: the report as Markdown. A one-screen summary comes first (fixture pass
 * counts, the equivalence map, the divergence table), then one section per topic. Every number
 * comes from the Report object and is written with the shared formatters in svg/format.ts.
 */
import { DISTRIBUTION_NOTE, distributionMarkdown } from "./distribution-cell.js";
import { imagesMarkdown } from "./images-section.js";
import { ladderCellMarkdown, laddersMarkdown } from "./ladders-section.js";
import { samplerMapMarkdown } from "./sampler-map-section.js";
import type { AccuracyResult, PairResult, Report } from "./schema.js";
import { formatGap, formatIndex, formatOrder, formatSeconds } from "./svg/format.js";

/** Escapes text for Markdown prose and table cells (no raw HTML, no accidental emphasis or links). */
export function mdText(s: string): string {
  return s.replace(/\r?\n/g, " ").replace(/[\\`*_[\]|<>#]/g, (c, i: number, all: string) => {
    if (c === "<") return "&lt;";
    if (c === ">") return "&gt;";
    // Intraword underscores (sigma_up) never start emphasis in CommonMark; keep them readable.
    if (c === "_" && /[A-Za-z0-9]/.test(all[i - 1] ?? "") && /[A-Za-z0-9]/.test(all[i + 1] ?? "")) return c;
    return `\\${c}`;
  });
}

/** An inline code span that survives backticks in its content. */
export function mdCode(s: string): string {
  const clean = s.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  const runs = clean.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = clean.startsWith("`") || clean.endsWith("`") ? " " : "";
  return `${fence}${pad}${clean}${pad}${fence}`;
}

function table(head: string[], rows: string[][], align?: ("l" | "r" | "c")[]): string {
  const sep = head.map((_, i) => (align?.[i] === "r" ? "---:" : align?.[i] === "c" ? ":---:" : "---"));
  return [
    `| ${head.join(" | ")} |`,
    `| ${sep.join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

const verdictMark: Record<PairResult["verdict"], string> = {
  identical: "identical",
  diverge: "**diverge**",
  unsupported: "unsupported",
};

function causeCell(p: PairResult): string {
  if (p.cause === "unexplained") return "**⚠ unexplained**";
  return p.cause ? mdCode(p.cause) : "—";
}

/** Pairs whose verdict is "diverge", largest output gap first. */
export function divergingPairs(report: Report): PairResult[] {
  return report.pairs
    .filter((p) => p.verdict === "diverge")
    .sort((a, b) => (b.outputGap ?? b.maxGap ?? 0) - (a.outputGap ?? a.maxGap ?? 0));
}

function statusMark(status: string): string {
  return status === "pass"
    ? "pass"
    : status === "unsupported"
      ? "unsupported"
      : `**${status.toUpperCase()}**`;
}

function accuracyCell(a: AccuracyResult): string {
  return a.points
    .slice()
    .sort((x, y) => x.nfe - y.nfe)
    .map((p) => `${p.nfe} → ${formatGap(p.error)}`)
    .join(", ");
}

/** Renders report.md. */
export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  const fx = report.fixtures;
  const diverging = divergingPairs(report);
  const unexplained = report.pairs.filter((p) => p.cause === "unexplained");

  push(
    "# edmkit conformance report",
    "",
    `Generated ${mdText(report.generatedAt)} in ${formatSeconds(report.durationSeconds)} · schema ${mdCode(report.schema)}`,
    "",
  );
  if (report.problems.length > 0) {
    push(
      `> **⚠ ${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}** (${unexplained.length} unexplained divergence${unexplained.length === 1 ? "" : "s"}, ${fx.summary.failed} failed fixture${fx.summary.failed === 1 ? "" : "s"}) — see [Problems](#problems).`,
      "",
    );
  } else {
    push("> No problems: every divergence has a named root cause and every supported fixture passes.", "");
  }

  // --- Summary -----------------------------------------------------------------------------
  push("## Summary", "", "**Fixtures** (port vs recorded original):", "");
  const libs = Object.keys(fx.byLibrary).sort();
  push(
    table(
      ["library", "passed", "failed", "unsupported"],
      [
        ...libs.map((l) => {
          const b = fx.byLibrary[l];
          return [mdText(l), String(b.passed), b.failed ? `**${b.failed}**` : "0", String(b.unsupported)];
        }),
        [
          "**total**",
          `**${fx.summary.passed}**`,
          `**${fx.summary.failed}**`,
          `**${fx.summary.unsupported}**`,
        ],
      ],
      ["l", "r", "r", "r"],
    ),
    "",
  );
  push(
    "**Equivalence map** — implementations that compute the same method (max gap between any two members):",
    "",
  );
  if (report.equivalence.length === 0) push("_No equivalence groups were established._", "");
  else {
    push(
      table(
        ["method", "members", "max gap"],
        report.equivalence.map((g) => [
          mdText(g.method),
          g.members.map((m) => mdCode(m.id)).join(" = "),
          formatGap(g.maxGap),
        ]),
        ["l", "l", "r"],
      ),
      "",
    );
  }
  push("**Divergences** — pairs that differ beyond round-off, with the root cause:", "");
  if (diverging.length === 0) push("_No pair diverges._", "");
  else {
    push(
      table(
        [
          "pair",
          "first model call",
          "max gap",
          "output gap",
          "root cause",
          "minimal pair",
          "cause ladder",
          "distributions",
        ],
        diverging.map((p) => [
          `${mdCode(p.a.id)} vs ${mdCode(p.b.id)}`,
          formatIndex(p.firstModelCall),
          formatGap(p.maxGap),
          formatGap(p.outputGap),
          causeCell(p),
          p.causePair ? mdCode(p.causePair) : "—",
          mdText(ladderCellMarkdown(report, p.id)),
          distributionMarkdown(p),
        ]),
        ["l", "r", "r", "r", "l", "l", "l", "l"],
      ),
      "",
      mdText(DISTRIBUTION_NOTE),
      "",
    );
  }

  push(...laddersMarkdown(report, { text: mdText, code: mdCode }));

  // --- Seed question -------------------------------------------------------------------------
  const anc = report.ancestral;
  push("## The seed question", "", `**Q:** ${mdText(anc.question)}`, "", `**A:** ${mdText(anc.answer)}`, "");
  if (anc.derivation.length) {
    push("Derivation:", "", ...anc.derivation.map((d, i) => `${i + 1}. ${mdText(d)}`), "");
  }
  if (anc.checks.length) {
    push(
      table(
        ["check", "max gap", "verdict"],
        anc.checks.map((c) => [
          mdText(c.what),
          formatGap(c.maxGap),
          c.verdict === "diverge" ? "**diverge**" : "identical",
        ]),
        ["l", "r", "l"],
      ),
      "",
    );
  }

  push(...samplerMapMarkdown(report.samplerMap));

  // --- Root causes -----------------------------------------------------------------------------
  push("## Root causes", "");
  if (report.causes.length === 0) push("_No root cause was demonstrated._", "");
  for (const c of report.causes) {
    const mp = c.minimalPair;
    const covers = report.pairs.filter((p) => p.cause === c.id).map((p) => mdCode(p.id));
    push(
      `### ${mdCode(c.id)} — ${mdText(c.title)}`,
      "",
      mdText(c.explanation),
      "",
      `- minimal pair ${mdCode(mp.id)}: ${mdCode(mp.a.id)} vs ${mdCode(mp.b.id)} (${mdText(mp.model)}, ${mp.dtype})`,
      `- verdict ${verdictMark[mp.verdict]}, first model call ${formatIndex(mp.firstModelCall)}, max gap ${formatGap(mp.maxGap)}, output gap ${formatGap(mp.outputGap)} (round-off bound ${formatGap(mp.roundoffBound)})`,
      `- NFE ${mp.nfe.a} / ${mp.nfe.b}, noise draws ${mp.noiseDraws.a} / ${mp.noiseDraws.b}${mp.note ? ` — ${mdText(mp.note)}` : ""}`,
    );
    if (c.references.length) push(`- references: ${c.references.map(mdText).join(", ")}`);
    if (covers.length) push(`- explains: ${covers.join(", ")}`);
    push("");
  }

  // --- All pairs ------------------------------------------------------------------------------
  push("## All pairs", "");
  if (report.pairs.length === 0) push("_No pairs were compared._", "");
  else {
    push(
      table(
        [
          "pair",
          "a",
          "b",
          "model",
          "dtype",
          "verdict",
          "first call",
          "NFE a/b",
          "draws a/b",
          "max gap",
          "output gap",
          "cause",
          "distributions",
        ],
        report.pairs.map((p) => [
          mdCode(p.id),
          mdCode(p.a.id),
          mdCode(p.b.id),
          mdText(p.model),
          p.dtype,
          verdictMark[p.verdict],
          formatIndex(p.firstModelCall),
          `${p.nfe.a}/${p.nfe.b}`,
          `${p.noiseDraws.a}/${p.noiseDraws.b}`,
          formatGap(p.maxGap),
          formatGap(p.outputGap),
          causeCell(p),
          distributionMarkdown(p),
        ]),
        ["l", "l", "l", "l", "l", "l", "r", "r", "r", "r", "r", "r", "l", "l"],
      ),
      "",
    );
  }

  // --- Accuracy -------------------------------------------------------------------------------
  push(
    "## Accuracy",
    "",
    "Deterministic samplers: error against the exact ODE solution (mixture denoiser) versus model evaluations; the fitted order is the slope of log error vs log steps. Stochastic samplers: the distance of their samples to the true mixture (W1, listed below the table with its sampling floor, the expected W1 of that many exact samples).",
    "",
  );
  if (report.accuracy.length === 0) push("_No accuracy measurements._", "");
  else {
    push(
      table(
        ["sampler", "library", "model", "fitted order", "NFE → error (or distance)"],
        report.accuracy.map((a) => [
          mdCode(a.sampler),
          mdText(a.library),
          mdText(a.model),
          a.stochastic && a.fittedOrder === null ? "stochastic" : formatOrder(a.fittedOrder),
          accuracyCell(a),
        ]),
        ["l", "l", "l", "r", "l"],
      ),
      "",
    );
    for (const a of report.accuracy.filter((x) => x.distance?.length)) {
      push(
        `- ${mdCode(a.sampler)} ${mdText(a.distanceName ?? "distance to the mixture")}: ${a.distance!.map((d) => `${d.nfe} → ${formatGap(d.value)}`).join(", ")}${a.distanceFloor !== undefined ? ` (sampling floor ${formatGap(a.distanceFloor)}: ${mdText(a.distanceFloorMethod ?? "")})` : ""}`,
      );
    }
    if (report.accuracy.some((x) => x.distance?.length)) push("");
  }

  // --- ONNX ------------------------------------------------------------------------------------
  push("## ONNX", "");
  if (report.onnx.length === 0) push("_No ONNX runs._", "");
  for (const o of report.onnx) {
    push(
      `**${mdText(o.device)}** — ${o.available ? "available" : "not available"}${o.message ? `: ${mdText(o.message)}` : ""}`,
      "",
    );
    if (o.runs.length) {
      push(
        table(
          ["model", "sampler", "dtype", "max gap to exact", "RMS gap", "time"],
          o.runs.map((r) => [
            mdCode(r.model),
            mdCode(r.sampler),
            r.dtype,
            formatGap(r.gapToExact),
            formatGap(r.rmsToExact ?? null),
            formatSeconds(r.seconds),
          ]),
          ["l", "l", "l", "r", "r", "r"],
        ),
        "",
      );
    }
  }

  // --- Fixtures --------------------------------------------------------------------------------
  push(
    "## Quirks of the originals",
    "",
    "Every quirk fixtures/PROVENANCE.md lists, and how this report covers it.",
    "",
  );
  if (report.quirks.length === 0) push("_Not computed in this run._", "");
  else {
    push("| quirk | what | cause | evidence |", "| --- | --- | --- | --- |");
    for (const q of report.quirks)
      push(
        `| ${mdText(q.source)} | ${mdText(q.summary)} | ${q.cause ? mdCode(q.cause) : "reproduced by the port"} | ${q.ok ? "" : "⚠ "}${mdText(q.evidence)} |`,
      );
    push("");
  }
  push(
    "## Fixtures",
    "",
    `${fx.summary.passed} passed, ${fx.summary.failed} failed, ${fx.summary.unsupported} unsupported${fx.summary.invalid ? `, ${fx.summary.invalid} invalid (the file did not parse or validate; not replayed)` : ""}.`,
    "",
  );
  if (fx.results.length) {
    push(
      table(
        ["id", "status", "max abs error", "tolerance", "first divergence", "time"],
        fx.results.map((r) => [
          mdCode(r.id),
          statusMark(r.status),
          formatGap(r.maxAbsError),
          r.tolerance ? `abs ${formatGap(r.tolerance.abs)}, rel ${formatGap(r.tolerance.rel)}` : "—",
          r.firstDivergence
            ? `model call ${r.firstDivergence.modelCall}${r.firstDivergence.step !== null ? `, step ${r.firstDivergence.step}` : ""}, ${mdText(r.firstDivergence.field)} ${formatGap(r.firstDivergence.maxAbs)}`
            : r.message
              ? mdText(r.message)
              : "—",
          formatSeconds(r.seconds),
        ]),
        ["l", "l", "r", "l", "l", "r"],
      ),
      "",
    );
  }

  const live = fx.results.filter((r) => r.live);
  if (live.length) {
    push(
      "**ONNX networks run live.** The rows above of fixtures on an ONNX network are mode (a): every model call answered with PyTorch's recorded output, so the sampler's arithmetic is checked at the fixture's tolerance. Mode (b) runs the network on onnxruntime (CPU), whose kernels round differently in the last bits; judged at the stated multiple of the fixture's tolerance:",
      "",
      table(
        ["id", "live status", "max abs error", "tolerance"],
        live.map((r) => [
          mdCode(r.id),
          statusMark(r.live!.status),
          formatGap(r.live!.maxAbsError),
          `${r.live!.toleranceScale}x fixture`,
        ]),
        ["l", "l", "r", "l"],
      ),
      "",
    );
  }

  // --- Problems --------------------------------------------------------------------------------
  push("## Problems", "");
  if (report.problems.length === 0 && unexplained.length === 0) push("None.", "");
  if (report.problems.length > 0) {
    push(
      `**⚠ ${report.problems.length} problem${report.problems.length === 1 ? "" : "s"} need${report.problems.length === 1 ? "s" : ""} attention:**`,
      "",
      ...report.problems.map((p) => `- **${mdText(p)}**`),
      "",
    );
  }
  if (unexplained.length > 0) {
    push(
      "**⚠ Unexplained divergences** (no root cause in the catalogue matches; these are never hidden):",
      "",
      table(
        ["pair", "first model call", "max gap", "output gap", "note"],
        unexplained.map((p) => [
          `${mdCode(p.a.id)} vs ${mdCode(p.b.id)}`,
          formatIndex(p.firstModelCall),
          formatGap(p.maxGap),
          formatGap(p.outputGap),
          mdText(p.note),
        ]),
        ["l", "r", "r", "r", "r", "l"],
      ),
      "",
    );
  }

  push(...imagesMarkdown(report.images));

  // --- Run time --------------------------------------------------------------------------------
  const env = report.environment;
  push(
    "## Run time",
    "",
    `- duration: ${formatSeconds(report.durationSeconds)}`,
    `- generated: ${mdText(report.generatedAt)}`,
    `- node ${mdText(env.node)} on ${mdText(env.platform)}, ${env.cpus} CPUs, ${env.workers} worker${env.workers === 1 ? "" : "s"}${env.shard ? `, ${env.shard.startsWith("merged") ? "" : "shard "}${mdText(env.shard)}` : ""}`,
  );
  const versions = Object.entries(report.versions);
  if (versions.length) push(...versions.map(([k, v]) => `- ${mdText(k)}: ${mdText(v)}`));
  push("");
  return out.join("\n");
}
