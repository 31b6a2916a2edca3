/**
 * Error against the exact ODE solution versus the number of model evaluations, log-log, one
 * curve per sampler. On these axes a method of order p is a line of slope -p, so the fitted
 * order is printed in the legend and faint order-1 / order-2 guides sit behind the data.
 * Stochastic samplers have no pathwise target: their panel plots the distribution distance the
 * entries name (W1 to the true mixture), labelled as such, with its sampling floor drawn as a
 * line. The title spans the figure above the legend; the notes are wrapped under the axes.
 */
import type { AccuracyResult } from "../schema.js";
import {
  categorical,
  emptyPlot,
  logScale,
  svgDocument,
  text,
  textWidth,
  truncate,
  wrapText,
} from "./common.js";
import { logTicks } from "../../graphics/ticks.js";
import { formatGap, formatOrder, formatTick, r1 } from "./format.js";

type Shape = "circle" | "square" | "triangle" | "diamond";
const shapes: Shape[] = ["circle", "square", "triangle", "diamond"];

function marker(shape: Shape, x: number, y: number, color: string): string {
  const s = 3.6;
  switch (shape) {
    case "circle":
      return `<circle cx="${r1(x)}" cy="${r1(y)}" r="${s}" fill="${color}"/>`;
    case "square":
      return `<rect x="${r1(x - s)}" y="${r1(y - s)}" width="${2 * s}" height="${2 * s}" fill="${color}"/>`;
    case "triangle":
      return `<path d="M${r1(x)} ${r1(y - s - 1)}l${s + 0.6} ${2 * s}h${-2 * s - 1.2}z" fill="${color}"/>`;
    default:
      return `<path d="M${r1(x)} ${r1(y - s - 0.8)}l${s + 0.8} ${s + 0.8}l${-s - 0.8} ${s + 0.8}l${-s - 0.8} ${-s - 0.8}z" fill="${color}"/>`;
  }
}

/** The legend label of one curve. */
export function accuracyLabel(entry: AccuracyResult): string {
  return `${entry.sampler} (${entry.library})`;
}

/**
 * Renders one log-log panel as an inline <svg class="plot-accuracy"> (pass the curves of one
 * model; the HTML draws one panel per model).
 */
export function plotAccuracy(
  entries: readonly AccuracyResult[],
  opts: { title?: string; idSuffix?: string; notes?: string } = {},
): string {
  const title = opts.title ?? "Error vs NFE";
  const clipId = `acc-clip${opts.idSuffix ? `-${opts.idSuffix.replace(/[^A-Za-z0-9_-]/g, "_")}` : ""}`;
  const series = entries.map((e, i) => ({
    entry: e,
    color: categorical[i % categorical.length],
    shape: shapes[i % shapes.length],
    pts: e.points
      .filter((p) => p.nfe > 0 && p.error > 0 && Number.isFinite(p.error))
      .sort((a, b) => a.nfe - b.nfe),
  }));
  // A panel of stochastic samplers plots their distance to the true distribution, not an error.
  const distance =
    entries.length > 0 && entries.every((e) => e.stochastic) ? (entries[0].distanceName ?? null) : null;
  const floors = entries.flatMap((e) =>
    e.distanceFloor !== undefined && e.distanceFloor > 0 ? [e.distanceFloor] : [],
  );
  const floor = floors.length ? Math.max(...floors) : null;
  const legendFont = 12;
  const labelW = Math.min(
    300,
    Math.max(140, ...series.map((s) => textWidth(accuracyLabel(s.entry), legendFont))),
  );
  const legendW = 34 + labelW + 78;
  const plotW = 560;
  const width = 64 + plotW + 28 + legendW;
  const titleLines = wrapText(title, width - 16, 13, true);
  const noteLines = opts.notes ? wrapText(opts.notes, width - 16, 11) : [];
  const m = { left: 64, top: 22 + 17 * titleLines.length + 16, bottom: 50 };
  const plotH = Math.max(300, series.length * 20 + 40);
  const height = m.top + plotH + m.bottom + (noteLines.length ? 8 + 14 * noteLines.length : 0);
  const frame = {
    className: "plot-accuracy",
    width,
    height,
    title,
    description: series
      .map((s) => `${accuracyLabel(s.entry)} order ${formatOrder(s.entry.fittedOrder)}`)
      .join("; "),
  };
  const all = series.flatMap((s) => s.pts);
  if (all.length === 0) return emptyPlot(frame, "No accuracy measurements.");

  const nfeLo = Math.min(...all.map((p) => p.nfe));
  const nfeHi = Math.max(...all.map((p) => p.nfe));
  const errLo = Math.min(...all.map((p) => p.error), ...(floor === null ? [] : [floor]));
  const errHi = Math.max(...all.map((p) => p.error));
  // Pad by a fraction of a decade so points never sit on the frame.
  const xd0 = nfeLo / 1.25;
  const xd1 = nfeHi * 1.25;
  const yd0 = errLo / 2.5;
  const yd1 = errHi * 2.5;
  const x0 = m.left;
  const x1 = m.left + plotW;
  const y0 = m.top;
  const y1 = m.top + plotH;
  const sx = logScale(xd0, xd1, x0, x1);
  const sy = logScale(yd0, yd1, y1, y0);
  const xt = logTicks(xd0, xd1);
  const yt = logTicks(yd0, yd1);

  const parts: string[] = [];
  parts.push(
    `<rect x="${x0}" y="${y0}" width="${plotW}" height="${y1 - y0}" fill="#fbfbfc" stroke="#d5d9e0"/>`,
  );
  parts.push(
    `<g stroke="#eceef2">${xt.minor.map((t) => `<line x1="${r1(sx(t))}" x2="${r1(sx(t))}" y1="${y0}" y2="${y1}"/>`).join("")}${yt.minor
      .map((t) => `<line x1="${x0}" x2="${x1}" y1="${r1(sy(t))}" y2="${r1(sy(t))}"/>`)
      .join("")}</g>`,
    `<g stroke="#dde1e7">${xt.major.map((t) => `<line x1="${r1(sx(t))}" x2="${r1(sx(t))}" y1="${y0}" y2="${y1}"/>`).join("")}${yt.major
      .map((t) => `<line x1="${x0}" x2="${x1}" y1="${r1(sy(t))}" y2="${r1(sy(t))}"/>`)
      .join("")}</g>`,
    `<g fill="#3b4250" font-size="11" text-anchor="middle">${xt.major.map((t) => text(sx(t), y1 + 17, formatTick(t))).join("")}</g>`,
    `<g fill="#3b4250" font-size="11" text-anchor="end">${yt.major.map((t) => text(x0 - 7, sy(t) + 4, formatTick(t))).join("")}</g>`,
    text((x0 + x1) / 2, y1 + 38, "model evaluations (NFE, log scale)", 'text-anchor="middle" fill="#3b4250"'),
    text(
      16,
      (y0 + y1) / 2,
      distance ? `${distance} (log scale)` : "max |x − x_ODE| (log scale)",
      `text-anchor="middle" fill="#3b4250" transform="rotate(-90 16 ${r1((y0 + y1) / 2)})"`,
    ),
    ...titleLines.map((line, k) =>
      text(8, 20 + 17 * k, line, 'font-weight="600" fill="#1d2330" font-size="13"'),
    ),
    ...noteLines.map((line, k) => text(8, y1 + 58 + 14 * k, line, 'fill="#6b7280" font-size="11"')),
  );
  if (floor !== null) {
    const fy = r1(sy(floor));
    parts.push(
      `<line class="noise-floor" x1="${x0}" x2="${x1}" y1="${fy}" y2="${fy}" stroke="#6b7280" stroke-width="1.5" stroke-dasharray="8 3 2 3"/>`,
      text(x0 + 6, sy(floor) - 5, `sampling floor ${formatGap(floor)}`, 'fill="#4b5563" font-size="11"'),
    );
  }

  // Order guides: slope -1 and -2 through the upper-left data corner (not for a distance,
  // which has no order).
  const guides: string[] = [];
  for (const order of distance ? [] : [1, 2]) {
    const ya = errHi;
    const yb = errHi * (xd1 / nfeLo) ** -order;
    guides.push(
      `<path d="M${r1(sx(nfeLo))} ${r1(sy(ya))}L${r1(sx(xd1))} ${r1(sy(yb))}" stroke="#9aa3b2" stroke-dasharray="2 4" fill="none"/>`,
    );
    const nfeAt = Math.min(xd1 / 1.04, nfeLo * (errHi / (yd0 * 1.8)) ** (1 / order));
    const yAt = sy(errHi * (nfeAt / nfeLo) ** -order);
    if (yAt > y0 + 12)
      guides.push(
        text(sx(nfeAt) - 4, yAt - 7, `order ${order}`, 'text-anchor="end" fill="#8a93a3" font-size="10"'),
      );
  }
  parts.push(`<g clip-path="url(#${clipId})">${guides.join("")}</g>`);

  // Curves.
  for (const s of series) {
    if (s.pts.length === 0) continue;
    const d = s.pts.map((p, i) => `${i ? "L" : "M"}${r1(sx(p.nfe))} ${r1(sy(p.error))}`).join("");
    parts.push(
      `<path d="${d}" stroke="${s.color}" stroke-width="2" fill="none" stroke-linejoin="round"${s.entry.stochastic ? ' stroke-dasharray="6 3"' : ""}/>`,
      `<g>${s.pts.map((p) => marker(s.shape, sx(p.nfe), sy(p.error), s.color)).join("")}</g>`,
    );
  }

  // Legend with the fitted order of each curve.
  const lx = x1 + 28;
  parts.push(
    text(lx, y0 - 8, "sampler", 'font-weight="600" fill="#1d2330"'),
    text(
      lx + legendW - 4,
      y0 - 8,
      distance ? "at most NFE" : "fitted order",
      'font-weight="600" fill="#1d2330" text-anchor="end"',
    ),
  );
  series.forEach((s, i) => {
    const ly = y0 + 8 + i * 20;
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.entry.stochastic ? ' stroke-dasharray="6 3"' : ""}/>`,
      marker(s.shape, lx + 12, ly, s.color),
      text(lx + 32, ly + 4, truncate(accuracyLabel(s.entry), labelW, legendFont), 'fill="#1d2330"'),
      text(
        lx + legendW - 4,
        ly + 4,
        distance
          ? formatGap(s.pts.at(-1)?.error ?? null)
          : s.entry.stochastic && s.entry.fittedOrder === null
            ? "stochastic"
            : formatOrder(s.entry.fittedOrder),
        'text-anchor="end" fill="#1d2330" font-variant-numeric="tabular-nums"',
      ),
    );
  });
  if (series.some((s) => s.entry.stochastic)) {
    parts.push(
      text(
        lx,
        y0 + 8 + series.length * 20 + 8,
        "dashed: stochastic sampler",
        'fill="#6b7280" font-size="11"',
      ),
    );
  }
  if (floor !== null) {
    const ly = y0 + 8 + series.length * 20 + 26;
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="#6b7280" stroke-width="1.5" stroke-dasharray="8 3 2 3"/>`,
      text(lx + 32, ly, "sampling floor (exact samples)", 'fill="#6b7280" font-size="11"'),
    );
  }
  const defs = `<clipPath id="${clipId}"><rect x="${x0}" y="${y0}" width="${plotW}" height="${y1 - y0}"/></clipPath>`;
  return svgDocument(frame, parts.join(""), defs);
}
