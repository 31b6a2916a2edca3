/**
 * Pairwise divergence heatmap: the output gap (max |x_a - x_b| over the final samples, the
 * pairs table's "output gap") between every two implementations of one scenario, on
 * a log colour scale (round-off agreement and real divergence differ by ten orders of magnitude).
 * Pairs that were not compared (null) are hatched, never coloured as if they agreed.
 */
import type { Report } from "../schema.js";
import {
  emptyPlot,
  linearScale,
  svgDocument,
  text,
  textOn,
  textWidth,
  truncate,
  viridis,
  wrapText,
} from "./common.js";
import { escapeXml, formatGap, r1, superscript } from "./format.js";

export type Heatmap = Report["figures"]["heatmap"];

/** The short in-cell label: one significant digit in exponent form ("4e-15"), "0" for zero. */
function cellLabel(v: number): string {
  if (v === 0) return "0";
  const abs = Math.abs(v);
  return abs >= 1e-2 && abs < 100 ? String(Number(v.toPrecision(2))) : v.toExponential(0);
}

/** Renders the heatmap as an inline <svg class="plot-heatmap">. */
export function plotHeatmap(hm: Heatmap): string {
  const n = hm.labels.length;
  const cell = Math.max(34, Math.min(62, Math.floor(520 / Math.max(1, n))));
  const labelFont = 12;
  const labelW =
    Math.min(300, Math.max(80, ...hm.labels.map((l, i) => textWidth(`${i + 1}  ${l}`, labelFont)))) + 8;
  const gridW = n * cell;
  const width = Math.max(560, labelW + 12 + gridW + 30);
  // the title wraps to the figure's width (a long scenario text is never clipped)
  const titleLines = wrapText(`scenario: ${hm.scenario}`, width - 16, 13, true);
  const m = { left: labelW + 12, top: 24 + 17 * titleLines.length + 12 };
  const height = m.top + gridW + 84;
  const frame = { className: "plot-heatmap", width, height, title: `Pairwise output gap, ${hm.scenario}` };
  if (n === 0) return emptyPlot(frame, "No pairwise comparison recorded.");
  for (const [i, row] of hm.gaps.entries()) {
    if (row.length !== n)
      throw new Error(
        `plotHeatmap: figures.heatmap.gaps[${i}] must have ${n} entries (one per label), got ${row.length}`,
      );
  }
  if (hm.gaps.length !== n)
    throw new Error(
      `plotHeatmap: figures.heatmap.gaps must have ${n} rows (one per label), got ${hm.gaps.length}`,
    );

  const positive = hm.gaps.flat().filter((v): v is number => v !== null && v > 0 && Number.isFinite(v));
  const eLo = positive.length ? Math.floor(Math.log10(Math.min(...positive))) : -16;
  const eHi = positive.length ? Math.max(eLo + 1, Math.ceil(Math.log10(Math.max(...positive)))) : 0;
  const colorOf = (v: number) => viridis(v <= 0 ? 0 : (Math.log10(v) - eLo) / (eHi - eLo));

  const parts: string[] = [];
  const gx = m.left;
  const gy = m.top;
  for (const [k, line] of titleLines.entries())
    parts.push(text(8, 20 + 17 * k, line, 'font-weight="600" fill="#1d2330" font-size="13"'));
  for (let i = 0; i < n; i++) {
    parts.push(
      text(
        gx - 10,
        gy + i * cell + cell / 2 + 4,
        truncate(`${hm.labels[i]}`, labelW - 26, labelFont),
        'text-anchor="end" fill="#1d2330"',
      ),
    );
    parts.push(
      text(gx - labelW + 6, gy + i * cell + cell / 2 + 4, String(i + 1), 'fill="#8a93a3" font-size="11"'),
    );
    parts.push(
      text(
        gx + i * cell + cell / 2,
        gy - 8,
        String(i + 1),
        'text-anchor="middle" fill="#8a93a3" font-size="11"',
      ),
    );
  }
  const cells: string[] = [];
  const labels: string[] = [];
  const fs = cell >= 48 ? 10 : 9;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = hm.gaps[i][j];
      const x = gx + j * cell;
      const y = gy + i * cell;
      const tip = `${hm.labels[i]} vs ${hm.labels[j]}: ${v === null ? "not compared" : `output gap ${formatGap(v)}`}`;
      if (v === null || !Number.isFinite(v)) {
        cells.push(
          `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="url(#hm-hatch)" stroke="#ffffff"><title>${escapeXml(tip)}</title></rect>`,
        );
        labels.push(
          text(
            x + cell / 2,
            y + cell / 2 + 3.5,
            "n/a",
            `text-anchor="middle" fill="#6b7280" font-size="${fs}"`,
          ),
        );
        continue;
      }
      const color = colorOf(v);
      cells.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${color}" stroke="#ffffff"><title>${escapeXml(tip)}</title></rect>`,
      );
      labels.push(
        text(
          x + cell / 2,
          y + cell / 2 + 3.5,
          cellLabel(v),
          `text-anchor="middle" fill="${textOn(color)}" font-size="${fs}"`,
        ),
      );
    }
  }
  parts.push(`<g>${cells.join("")}</g>`, `<g pointer-events="none">${labels.join("")}</g>`);

  // Colour bar (log scale) and the n/a swatch.
  const barY = gy + gridW + 30;
  const barX = gx;
  const barW = Math.max(200, Math.min(gridW, 360));
  const stops = Array.from(
    { length: 11 },
    (_, k) => `<stop offset="${k / 10}" stop-color="${viridis(k / 10)}"/>`,
  ).join("");
  parts.push(
    `<rect x="${barX}" y="${barY}" width="${barW}" height="12" fill="url(#hm-bar)" stroke="#c9cfd9"/>`,
    text(barX, barY - 6, "output gap max |x_a − x_b| (log colour scale)", 'fill="#3b4250" font-size="11"'),
  );
  const bs = linearScale(eLo, eHi, barX, barX + barW);
  const step = Math.max(1, Math.ceil((eHi - eLo) / 8));
  const ticks: string[] = [];
  for (let e = eLo; e <= eHi; e += step) {
    ticks.push(
      `<line x1="${r1(bs(e))}" x2="${r1(bs(e))}" y1="${barY + 12}" y2="${barY + 16}" stroke="#5b6472"/>`,
    );
    ticks.push(
      text(bs(e), barY + 28, `10${superscript(e)}`, 'text-anchor="middle" fill="#3b4250" font-size="10"'),
    );
  }
  parts.push(ticks.join(""));
  const sw = barX + barW + 24;
  if (sw + 110 < width) {
    parts.push(
      `<rect x="${sw}" y="${barY - 2}" width="16" height="16" fill="url(#hm-hatch)" stroke="#c9cfd9"/>`,
      text(sw + 22, barY + 10, "not compared", 'fill="#3b4250" font-size="11"'),
    );
  }
  const defs =
    `<linearGradient id="hm-bar">${stops}</linearGradient>` +
    `<pattern id="hm-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
    `<rect width="6" height="6" fill="#eef0f3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c3c8d1" stroke-width="2"/></pattern>`;
  return svgDocument(frame, parts.join(""), defs);
}
