/**
 * reports/index.html: one self-contained page (inline CSS and SVG, no scripts, no external
 * resources) that opens offline. The top screen answers "does it pass, what is the same method,
 * what differs and why"; the pictures and full tables follow. Section ids are stable (tests and
 * links rely on them): summary, equivalence, divergences, ancestral, sampler-map, causes, pairs, accuracy,
 * trajectories, clouds, heatmap, onnx, fixtures, problems, runtime.
 */
import {
  causeBadge,
  css,
  implChip,
  num,
  plural,
  section,
  statusBadge,
  table,
  verdictBadge,
} from "./html-parts.js";
import { DISTRIBUTION_NOTE, distributionBadge, distributionHtml } from "./distribution-cell.js";
import { imagesSectionHtml } from "./images-section.js";
import { ladderCellHtml, laddersBlock } from "./ladders-section.js";
import { samplerMapSectionHtml } from "./sampler-map-section.js";
import { divergingPairs } from "./render-markdown.js";
import type { AccuracyResult, Report } from "./schema.js";
import { plotAccuracy } from "./svg/accuracy.js";
import { plotClouds } from "./svg/clouds.js";
import { libraryColors } from "./svg/common.js";
import { escapeXml as esc, formatGap, formatIndex, formatOrder, formatSeconds } from "./svg/format.js";
import { plotHeatmap } from "./svg/heatmap.js";
import { sparkline } from "./svg/sparkline.js";
import { pathColors, plotTrajectories } from "./svg/trajectories.js";

export interface RenderHtmlOptions {
  /** The trajectory animation (from trajectoryAnimation), embedded as a data: URI. */
  animationGif?: Uint8Array;
}

/** Section ids in page order with their navigation labels. */
export const htmlSections = [
  ["summary", "Summary"],
  ["equivalence", "Equivalence"],
  ["divergences", "Divergences"],
  ["ancestral", "Seed question"],
  ["sampler-map", "Sampler map"],
  ["causes", "Root causes"],
  ["pairs", "All pairs"],
  ["accuracy", "Accuracy"],
  ["trajectories", "Trajectories"],
  ["clouds", "Sample clouds"],
  ["heatmap", "Heatmap"],
  ["onnx", "ONNX"],
  ["images", "Images"],
  ["quirks", "Quirks"],
  ["fixtures", "Fixtures"],
  ["problems", "Problems"],
] as const;

function summarySection(report: Report): string {
  const fx = report.fixtures;
  const total = fx.summary.passed + fx.summary.failed + fx.summary.unsupported;
  const pct = (n: number, of: number) => (of > 0 ? (100 * n) / of : 0);
  const bar = (p: number, f: number, u: number) => {
    const of = p + f + u;
    return `<div class="bar" aria-hidden="true"><span class="p" style="width:${pct(p, of).toFixed(2)}%"></span><span class="f" style="width:${pct(f, of).toFixed(2)}%"></span><span class="u" style="width:${pct(u, of).toFixed(2)}%"></span></div>`;
  };
  const identical = report.pairs.filter((p) => p.verdict === "identical").length;
  const diverge = report.pairs.filter((p) => p.verdict === "diverge").length;
  const unexplained = report.pairs.filter((p) => p.cause === "unexplained").length;
  const cards: string[] = [
    `<div class="stat"><div class="k">Fixtures passed</div><div class="v">${fx.summary.passed}<small> / ${total}</small></div>${bar(fx.summary.passed, fx.summary.failed, fx.summary.unsupported)}<div class="d">${fx.summary.failed} failed · ${fx.summary.unsupported} unsupported</div></div>`,
  ];
  for (const lib of Object.keys(fx.byLibrary).sort()) {
    const b = fx.byLibrary[lib];
    const n = b.passed + b.failed + b.unsupported;
    cards.push(
      `<div class="stat"><div class="k"><i class="legend-dot" style="background:${libraryColors[lib] ?? "#7f7f7f"}"></i>${esc(lib)}</div><div class="v">${b.passed}<small> / ${n}</small></div>${bar(b.passed, b.failed, b.unsupported)}<div class="d">${b.failed ? `<b style="color:var(--bad)">${b.failed} failed</b>` : "0 failed"} · ${b.unsupported} unsupported</div></div>`,
    );
  }
  cards.push(
    `<div class="stat"><div class="k">Pairs compared</div><div class="v">${report.pairs.length}</div><div class="d">${identical} identical · ${diverge} diverge${unexplained ? ` · <b style="color:var(--bad)">${unexplained} unexplained</b>` : ""}</div></div>`,
  );
  const alert =
    report.problems.length > 0 || unexplained > 0
      ? `<div class="alert bad" role="alert"><b>⚠ ${plural(report.problems.length, "problem")}</b> — ${plural(unexplained, "unexplained divergence")}, ${plural(fx.summary.failed, "failed fixture")}. <a href="#problems">See the list</a>.</div>`
      : `<div class="alert ok"><b>No problems.</b> Every divergence has a named root cause and every supported fixture passes.</div>`;
  return section(
    "summary",
    "Summary",
    "Ports replayed against fixtures recorded from the original Python code, and implementations compared with each other on the same model, schedule and noise.",
    `${alert}<div class="stats">${cards.join("")}</div>`,
  );
}

function equivalenceSection(report: Report): string {
  const body = report.equivalence.length
    ? `<div class="groups">${report.equivalence
        .map(
          (g) =>
            `<div class="group"><h3><span>${esc(g.method)}</span><span class="badge ok" title="largest gap between any two members">max gap <span class="num">${esc(formatGap(g.maxGap))}</span></span></h3><div>${g.members
              .map(implChip)
              .join(
                " ",
              )}</div>${g.evidence.length ? `<p class="ev">Evidence: ${g.evidence.map((e) => `<code>${esc(e)}</code>`).join(", ")}</p>` : ""}</div>`,
        )
        .join("")}</div>`
    : '<p class="empty">No equivalence groups were established.</p>';
  return section(
    "equivalence",
    "Equivalence map",
    "Implementations that compute the same method: every pair inside a group agrees to round-off (the float64 bound; the float32 bound where the pair runs in float32, as the sampler map's ladders do). The badge is the largest gap measured between any two members.",
    body,
  );
}

/** A gap relative to a scale, as a percentage (or "—" when either is missing). */
function relative(gap: number | null, scale: number | null | undefined): string {
  if (gap === null || scale === null || scale === undefined || !(scale > 0)) return "";
  const r = gap / scale;
  return `<br><span class="num" style="color:var(--muted)">${esc(r >= 0.01 ? `${(100 * r).toPrecision(3)}%` : `${r.toExponential(1)}×`)}</span>`;
}

function divergencesSection(report: Report): string {
  const pairs = divergingPairs(report);
  const models = modelLegend(pairs.map((p) => p.model));
  const rows = pairs.map((p) => [
    `${implChip(p.a)}<br>${implChip(p.b)}<br><span style="color:var(--muted);font-size:12.5px">${models.cell(p.model)} · ${esc(p.schedule ?? p.scenario)}</span>`,
    formatIndex(p.firstModelCall),
    `${num(p.maxGap)}${p.sigmaAtMaxGap ? `${relative(p.maxGap, p.sigmaAtMaxGap)}<span style="color:var(--muted);font-size:12px"> of σ = ${esc(formatGap(p.sigmaAtMaxGap))}</span>` : ""}`,
    `${num(p.outputGap)}${relative(p.outputGap, p.outputScale)}${p.outputScale ? `<span style="color:var(--muted);font-size:12px"> of data RMS ${esc(formatGap(p.outputScale))}</span>` : ""}`,
    sparkline(p.gapPerStep, p.roundoffBound, { outputGap: p.outputGap }),
    causeBadge(p) + ladderCellHtml(report, p.id),
    p.causePair ? `<code>${esc(p.causePair)}</code>` : '<span class="empty">—</span>',
    distributionHtml(p),
  ]);
  const body = rows.length
    ? `${table(
        [
          { label: "pair" },
          { label: "first model call", right: true },
          { label: "max gap", right: true },
          { label: "output gap", right: true },
          { label: "gap per model call" },
          { label: "root cause" },
          { label: "minimal pair" },
          { label: "distributions" },
        ],
        rows,
        `${models.legend} ${esc(DISTRIBUTION_NOTE)} Under each gap: the gap relative to σ at the model call where it is largest (inputs there are ~σ times the data), and the output gap relative to the data's scale (RMS of b's samples).`,
      )}`
    : '<p class="empty">No pair diverges beyond round-off.</p>';
  return section(
    "divergences",
    "Divergences",
    "Pairs whose trajectories differ beyond round-off, largest output gap first. Model calls are counted from 0. The sparkline is the gap (max |x<sub>a</sub> − x<sub>b</sub>|) at each model call's input, then at the output, on a log scale; its maximum is the max gap column. The dashed line is the round-off bound and the dot marks the first point above it.",
    body + laddersBlock(report),
  );
}

function ancestralSection(report: Report): string {
  const a = report.ancestral;
  const checks = a.checks.length
    ? table(
        [{ label: "check" }, { label: "max gap", right: true }, { label: "verdict" }],
        a.checks.map((c) => [
          esc(c.what),
          num(c.maxGap),
          c.verdict === "identical"
            ? '<span class="badge ok">identical</span>'
            : '<span class="badge warn">diverge</span>',
        ]),
      )
    : "";
  const body =
    `<div class="qa"><p>${esc(a.question)}</p><p class="a">${esc(a.answer)}</p></div>` +
    (a.derivation.length
      ? `<h3>Derivation</h3><ol>${a.derivation.map((d) => `<li>${esc(d)}</li>`).join("")}</ol>`
      : "") +
    (checks ? `<h3>Checks</h3>${checks}` : "");
  return section(
    "ancestral",
    "The seed question",
    "Ancestral samplers inject fresh noise at every step, so “same seed, same sample” depends on more than the update rule.",
    body,
  );
}

function causesSection(report: Report): string {
  if (report.causes.length === 0)
    return section("causes", "Root causes", "", '<p class="empty">No root cause was demonstrated.</p>');
  const cards = report.causes.map((c) => {
    const mp = c.minimalPair;
    const covers = report.pairs.filter((p) => p.cause === c.id);
    return (
      `<div class="cause" id="cause-${esc(c.id)}"><h3><code>${esc(c.id)}</code><span>${esc(c.title)}</span></h3><p>${esc(c.explanation)}</p>` +
      `<div>Minimal pair <code>${esc(mp.id)}</code>: ${implChip(mp.a)} vs ${implChip(mp.b)} ${verdictBadge(mp)}</div>` +
      `<div class="kv">` +
      `<div><span class="k">first model call</span>${esc(formatIndex(mp.firstModelCall))}</div>` +
      `<div><span class="k">max gap</span>${num(mp.maxGap)}</div>` +
      `<div><span class="k">output gap</span>${num(mp.outputGap)}</div>` +
      `<div><span class="k">NFE a / b</span>${mp.nfe.a} / ${mp.nfe.b}</div>` +
      `<div><span class="k">noise draws a / b</span>${mp.noiseDraws.a} / ${mp.noiseDraws.b}</div>` +
      `<div><span class="k">gap per model call, then output</span>${sparkline(mp.gapPerStep, mp.roundoffBound, { outputGap: mp.outputGap })}</div>` +
      `</div>` +
      (mp.note ? `<p style="margin:10px 0 0;font-size:13px;color:var(--muted)">${esc(mp.note)}</p>` : "") +
      (c.references.length || covers.length
        ? `<p style="margin:6px 0 0;font-size:13px;color:var(--muted)">${c.references.length ? `References: ${c.references.map(esc).join(", ")}. ` : ""}${covers.length ? `Explains ${covers.map((p) => `<code>${esc(p.id)}</code>`).join(", ")}.` : ""}</p>`
        : "") +
      `</div>`
    );
  });
  return section(
    "causes",
    "Root causes",
    "Each cause is demonstrated by a minimal pair: two runs that differ in that one thing only.",
    `<div class="causes">${cards.join("")}</div>`,
  );
}

/**
 * Long model descriptions abbreviated to M1, M2, ... in table cells (the full text on hover
 * and in the table's legend), so the numeric columns stay on the page.
 */
function modelLegend(models: readonly string[]): { cell: (m: string) => string; legend: string } {
  const keys = [...new Set(models)];
  const abbr = new Map(keys.map((m, i) => [m, `M${i + 1}`]));
  return {
    cell: (m) => `<abbr title="${esc(m)}">${abbr.get(m)}</abbr>`,
    legend: keys.length ? `Models: ${keys.map((m) => `<b>${abbr.get(m)}</b> = ${esc(m)}`).join("; ")}.` : "",
  };
}

function pairsSection(report: Report): string {
  const models = modelLegend(report.pairs.map((p) => p.model));
  const rows = report.pairs.map((p) => [
    `<code title="${esc(p.scenario)}">${esc(p.id)}</code><br>${implChip(p.a)}<br>${implChip(p.b)}`,
    `${models.cell(p.model)}<br><span style="color:var(--muted)">${p.dtype}</span>`,
    verdictBadge(p) + distributionBadge(p),
    formatIndex(p.firstModelCall),
    `${p.nfe.a} / ${p.nfe.b}`,
    `${p.noiseDraws.a} / ${p.noiseDraws.b}`,
    num(p.maxGap),
    num(p.outputGap),
    causeBadge(p),
  ]);
  const body = rows.length
    ? `<div class="scroll">${table(
        [
          { label: "pair" },
          { label: "model", nowrap: true },
          { label: "verdict" },
          { label: "first call", right: true },
          { label: "NFE", right: true, nowrap: true },
          { label: "draws", right: true, nowrap: true },
          { label: "max gap", right: true },
          { label: "output gap", right: true },
          { label: "cause" },
        ],
        rows,
        `${models.legend} ${esc(DISTRIBUTION_NOTE)}`,
      )}</div>`
    : '<p class="empty">No pairs were compared.</p>';
  return section(
    "pairs",
    "All pairs",
    "Every implementation-vs-implementation comparison (hover a pair id for its scenario).",
    body,
  );
}

/**
 * The title and notes of one accuracy panel: what is plotted against NFE, on which model (the
 * model text up to its first ";"), and below the axes the rest of it and, for a distance, how
 * its sampling floor was computed.
 */
export function accuracyPanelText(
  model: string,
  entries: readonly AccuracyResult[],
): { title: string; notes: string } {
  const cut = model.indexOf(";");
  const head = cut < 0 ? model : model.slice(0, cut);
  const rest = cut < 0 ? "" : model.slice(cut + 1).trim();
  const stochastic = entries.length > 0 && entries.every((e) => e.stochastic);
  const what = stochastic ? (entries[0].distanceName ?? "distance") : "error";
  const floor = entries.find((e) => e.distanceFloor !== undefined);
  const notes = [
    rest ? `${rest[0].toUpperCase()}${rest.slice(1)}.` : "",
    floor?.distanceFloor !== undefined
      ? `Sampling floor ${formatGap(floor.distanceFloor)}: the ${floor.distanceFloorMethod ?? "distance of exact samples"}; a sampler at or below it cannot be told apart from exact sampling with this many samples.`
      : "",
  ]
    .filter(Boolean)
    .join(" ");
  return {
    title: `${stochastic ? "Stochastic" : "Deterministic"} samplers: ${what} vs NFE — ${head}`,
    notes,
  };
}

function accuracySection(report: Report): string {
  const byModel = new Map<string, AccuracyResult[]>();
  for (const a of report.accuracy) byModel.set(a.model, [...(byModel.get(a.model) ?? []), a]);
  const plots =
    byModel.size === 0
      ? plotAccuracy([], { title: "Error vs NFE" })
      : [...byModel.entries()]
          .map(
            ([model, entries], i) =>
              `<figure>${plotAccuracy(entries, { ...accuracyPanelText(model, entries), idSuffix: String(i) })}</figure>`,
          )
          .join("");
  const models = modelLegend(report.accuracy.map((a) => a.model));
  const rows = report.accuracy.map((a) => [
    `<code>${esc(a.sampler)}</code>`,
    esc(a.library),
    models.cell(a.model),
    a.stochastic && a.fittedOrder === null
      ? '<span class="badge muted">stochastic</span>'
      : `<span class="num">${esc(formatOrder(a.fittedOrder))}</span>`,
    // a stochastic curve's points are its distance: shown once, named, with the floor
    a.distance?.length
      ? `<span style="font-size:12.5px">${esc(a.distanceName ?? "distance")}:</span> ${a.distance
          .map((d) => `<span class="num">${d.nfe}→${esc(formatGap(d.value))}</span>`)
          .join(
            " · ",
          )}${a.distanceFloor !== undefined ? `<br><span style="color:var(--muted);font-size:12.5px">sampling floor ${esc(formatGap(a.distanceFloor))}</span>` : ""}`
      : a.points
          .slice()
          .sort((x, y) => x.nfe - y.nfe)
          .map((p) => `<span class="num">${p.nfe}→${esc(formatGap(p.error))}</span>`)
          .join(" · "),
  ]);
  return section(
    "accuracy",
    "Accuracy",
    "Deterministic samplers: error against the exact ODE solution (the mixture denoiser makes it computable) versus model evaluations; on log-log axes a method of order p is a line of slope −p. Stochastic samplers have no pathwise target: their panel plots the W1 distance of their samples to the true mixture, with the sampling floor of that many exact samples drawn as a line.",
    `${byModel.size === 0 ? `<figure>${plots}</figure>` : plots}${rows.length ? `<h3>Measurements</h3>${table([{ label: "sampler" }, { label: "library", nowrap: true }, { label: "model", nowrap: true }, { label: "fitted order", right: true }, { label: "NFE → error (or distance)" }], rows, models.legend)}` : ""}`,
  );
}

function trajectoriesSection(report: Report, gif?: Uint8Array): string {
  const fig = report.figures.trajectories1d;
  const anim = gif
    ? `<figure class="anim"><img class="anim-trajectory" width="320" height="160" alt="Animation: particles of ${esc(fig.sampler)} moving from sigma max to 0 over the noised density" src="data:image/gif;base64,${Buffer.from(gif).toString("base64")}"><figcaption><b>Animation.</b> Each dot is one path at the current σ (shown bottom left, the bar runs from σ<sub>max</sub> to 0 on a log scale). The blue curve is the true density p(x; σ) and the orange outline the histogram of the dots on the same scale; counts at the corners are dots outside the window. As σ falls the mass splits into the two modes.</figcaption></figure>`
    : "";
  return section(
    "trajectories",
    "Trajectories of a 1-D mixture",
    `${fig.paths.length} sample paths of <code>${esc(fig.sampler)}</code> from σ<sub>max</sub> to 0, drawn over the noised data density p(x; σ). Paths are coloured by where they end: <i class="legend-dot" style="background:${pathColors.low}"></i>below 0, <i class="legend-dot" style="background:${pathColors.high}"></i>at or above 0.`,
    `<figure>${plotTrajectories(fig)}</figure>${anim}`,
  );
}

function onnxSection(report: Report): string {
  if (report.onnx.length === 0) return section("onnx", "ONNX", "", '<p class="empty">No ONNX runs.</p>');
  const blocks = report.onnx.map(
    (o) =>
      `<h3>${esc(o.device)} ${o.available ? '<span class="badge ok">available</span>' : '<span class="badge muted">not available</span>'}</h3>${o.message ? `<p style="margin:0 0 8px;color:var(--muted);font-size:13.5px">${esc(o.message)}</p>` : ""}${
        o.runs.length
          ? table(
              [
                { label: "model" },
                { label: "sampler" },
                { label: "dtype" },
                { label: "max gap to exact", right: true },
                { label: "RMS gap", right: true },
                { label: "time", right: true },
              ],
              o.runs.map((r) => [
                `<code>${esc(r.model)}</code>`,
                `<code>${esc(r.sampler)}</code>`,
                r.dtype,
                num(r.gapToExact),
                num(r.rmsToExact ?? null),
                `<span class="num">${esc(formatSeconds(r.seconds))}</span>`,
              ]),
            )
          : ""
      }${(o.skipped ?? []).map((k) => `<p class="empty">Skipped <code>${esc(k.model)}</code>: ${esc(k.reason)}.</p>`).join("")}`,
  );
  return section(
    "onnx",
    "ONNX",
    "Samplers driving ONNX denoisers through onnxruntime-node, compared with the exact mixture denoiser.",
    blocks.join(""),
  );
}

function fixturesSection(report: Report): string {
  const rank: Record<string, number> = { invalid: 0, error: 1, fail: 2, unsupported: 3, pass: 4 };
  const results = report.fixtures.results
    .slice()
    .sort((a, b) => (rank[a.status] ?? 9) - (rank[b.status] ?? 9) || a.id.localeCompare(b.id));
  const rows = results.map((r) => [
    `<code>${esc(r.id)}</code>`,
    statusBadge(r.status),
    num(r.maxAbsError),
    r.tolerance
      ? `<span class="num">${esc(formatGap(r.tolerance.abs))} / ${esc(formatGap(r.tolerance.rel))}</span>`
      : '<span class="empty">—</span>',
    r.firstDivergence
      ? `model call ${r.firstDivergence.modelCall}${r.firstDivergence.step !== null ? `, step ${r.firstDivergence.step}` : ""}: <code>${esc(r.firstDivergence.field)}</code> ${num(r.firstDivergence.maxAbs)}${r.message ? `<br><span style="color:var(--muted);font-size:12.5px">${esc(r.message)}</span>` : ""}`
      : r.message
        ? `<span style="color:var(--muted)">${esc(r.message)}</span>`
        : '<span class="empty">—</span>',
    `<span class="num">${esc(formatSeconds(r.seconds))}</span>`,
  ]);
  const s = report.fixtures.summary;
  const live = report.fixtures.results.filter((r) => r.live);
  const liveTable = live.length
    ? `<p>Fixtures on an ONNX network above are mode (a): every model call answered with PyTorch's recorded output. Mode (b) runs the network on onnxruntime (CPU), judged at a multiple of the fixture's tolerance:</p>${table(
        [
          { label: "fixture" },
          { label: "live status" },
          { label: "max abs error", right: true },
          { label: "tolerance" },
        ],
        live.map((r) => [
          `<code>${esc(r.id)}</code>`,
          statusBadge(r.live!.status),
          num(r.live!.maxAbsError),
          `${r.live!.toleranceScale}x fixture`,
        ]),
      )}`
    : "";
  return section(
    "fixtures",
    "Fixtures",
    `${s.passed} passed, ${s.failed} failed, ${s.unsupported} unsupported${s.invalid ? `, ${s.invalid} invalid (the file did not parse or validate; not replayed)` : ""}. Failures first.`,
    rows.length
      ? `<div class="scroll">${table([{ label: "fixture" }, { label: "status" }, { label: "max abs error", right: true }, { label: "tolerance abs / rel", right: true }, { label: "first divergence" }, { label: "time", right: true }], rows)}</div>${liveTable}`
      : '<p class="empty">No fixtures were replayed.</p>',
  );
}

function quirksSection(report: Report): string {
  if (report.quirks.length === 0)
    return section("quirks", "Quirks of the originals", "", '<p class="empty">Not computed in this run.</p>');
  const rows = report.quirks.map((q) => [
    esc(q.source),
    esc(q.summary),
    q.cause ? `<code>${esc(q.cause)}</code>` : "reproduced by the port",
    `${q.ok ? "" : "⚠ "}${esc(q.evidence)}`,
  ]);
  return section(
    "quirks",
    "Quirks of the originals",
    "Every quirk fixtures/PROVENANCE.md lists: a divergence between implementations points at the root cause whose minimal pair shows it; a behaviour the ports reproduce points at the fixtures that exercise it.",
    table(
      [{ label: "quirk", nowrap: true }, { label: "what" }, { label: "cause" }, { label: "evidence" }],
      rows,
    ),
  );
}

function problemsSection(report: Report): string {
  const unexplained = report.pairs.filter((p) => p.cause === "unexplained");
  if (report.problems.length === 0 && unexplained.length === 0) {
    return section("problems", "Problems", "", '<div class="alert ok" style="margin:0"><b>None.</b></div>');
  }
  const list = report.problems.length
    ? `<div class="alert bad"><b>⚠ ${plural(report.problems.length, "problem")} need attention</b><ul class="problems">${report.problems.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></div>`
    : "";
  const table2 = unexplained.length
    ? `<h3>Unexplained divergences</h3>${table(
        [
          { label: "pair" },
          { label: "first model call", right: true },
          { label: "max gap", right: true },
          { label: "output gap", right: true },
          { label: "note" },
        ],
        unexplained.map((p) => [
          `${implChip(p.a)}<br>${implChip(p.b)}`,
          formatIndex(p.firstModelCall),
          num(p.maxGap),
          num(p.outputGap),
          esc(p.note),
        ]),
      )}`
    : "";
  return section(
    "problems",
    "Problems",
    "Unexplained divergences and failed fixtures. These set a non-zero exit status.",
    list + table2,
  );
}

function footer(report: Report): string {
  const env = report.environment;
  const rows: [string, string][] = [
    ["run time", formatSeconds(report.durationSeconds)],
    ["generated", report.generatedAt],
    ["node", `${env.node} on ${env.platform}`],
    [
      "machine",
      `${env.cpus} CPUs, ${plural(env.workers, "worker")}${env.shard ? (env.shard.startsWith("merged") ? `, ${env.shard}` : `, shard ${env.shard}`) : ""}`,
    ],
    ...Object.entries(report.versions),
  ];
  return `<footer id="runtime"><b>Run</b><dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl></footer>`;
}

/** Renders index.html. The result is a complete document with no external references. */
export function renderHtml(report: Report, opts: RenderHtmlOptions = {}): string {
  const fx = report.fixtures.summary;
  const head = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="edmkit conformance">
<title>edmkit conformance — ${fx.passed} passed, ${fx.failed} failed</title>
<style>${css}</style>
</head>
<body>`;
  const header = `<header class="top"><div class="wrap"><h1>edmkit conformance <span>report</span></h1><p class="meta">Generated ${esc(report.generatedAt)} · ${esc(formatSeconds(report.durationSeconds))} · node ${esc(report.environment.node)} · ${esc(report.schema)}</p><nav class="toc">${htmlSections
    .map(([id, label]) => `<a href="#${id}">${esc(label)}</a>`)
    .join("")}</nav></div></header>`;
  const sections = [
    summarySection(report),
    equivalenceSection(report),
    divergencesSection(report),
    ancestralSection(report),
    samplerMapSectionHtml(report.samplerMap),
    causesSection(report),
    pairsSection(report),
    accuracySection(report),
    trajectoriesSection(report, opts.animationGif),
    section(
      "clouds",
      "2-D sample clouds",
      "Samples of each sampler from a 2-D Gaussian mixture, on shared axes.",
      `<figure>${plotClouds(report.figures.clouds2d)}</figure>`,
    ),
    section(
      "heatmap",
      "Pairwise divergence",
      "Output gap (max |x_a − x_b| over the final samples, the pairs tables' output gap) between every two implementations of one scenario, on a log colour scale: dark cells agree to round-off, bright cells diverge; hatched cells were not compared.",
      `<figure>${plotHeatmap(report.figures.heatmap)}</figure>`,
    ),
    onnxSection(report),
    imagesSectionHtml(report.images),
    quirksSection(report),
    fixturesSection(report),
    problemsSection(report),
  ];
  return `${head}\n${header}\n<main class="wrap">\n${sections.join("\n")}\n${footer(report)}\n</main>\n</body>\n</html>\n`;
}
