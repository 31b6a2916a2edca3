/**
 * 2-D sample clouds, one small panel per sampler on shared axes, so spread and mode coverage can
 * be compared at a glance.
 */
import type { Report } from "../schema.js";
import { categorical, emptyPlot, linearScale, svgDocument, text, truncate } from "./common.js";
import { linearTicks } from "../../graphics/ticks.js";
import { formatTick, r1 } from "./format.js";

export type Clouds2d = Report["figures"]["clouds2d"];

/** The q-quantile (0..1) of values (sorted copy; linear interpolation). */
function quantile(values: number[], q: number): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const pos = (s.length - 1) * q;
  const i = Math.floor(pos);
  return i + 1 < s.length ? s[i] + (s[i + 1] - s[i]) * (pos - i) : s[i];
}

/** Renders the clouds as an inline <svg class="plot-clouds"> with up to 4 panels per row. */
export function plotClouds(clouds: Clouds2d): string {
  const perRow = Math.min(4, Math.max(1, clouds.length));
  const panel = 236;
  const gap = 22;
  const m = { left: 44, top: 12, bottom: 34 };
  const titleH = 22;
  const rows = Math.ceil(clouds.length / perRow);
  const width = m.left + perRow * panel + (perRow - 1) * gap + 12;
  const height = m.top + rows * (titleH + panel) + (rows - 1) * gap + m.bottom;
  const frame = {
    className: "plot-clouds",
    width: Math.max(width, 480),
    height,
    title: "2-D sample clouds per sampler",
    description: clouds.map((c) => `${c.sampler}: ${c.points.length} points`).join("; "),
  };
  if (clouds.length === 0) return emptyPlot(frame, "No 2-D samples recorded.");

  // Shared square window from robust quantiles of all points, so outliers do not squash the panels.
  const xs = clouds.flatMap((c) => c.points.map((p) => p[0]));
  const ys = clouds.flatMap((c) => c.points.map((p) => p[1]));
  let xlo = quantile(xs, 0.002);
  let xhi = quantile(xs, 0.998);
  let ylo = quantile(ys, 0.002);
  let yhi = quantile(ys, 0.998);
  const half = (Math.max(xhi - xlo, yhi - ylo) || 2) * 0.56;
  const cx = (xlo + xhi) / 2;
  const cy = (ylo + yhi) / 2;
  [xlo, xhi, ylo, yhi] = [cx - half, cx + half, cy - half, cy + half];
  const ticksX = linearTicks(xlo, xhi, 4);
  const ticksY = linearTicks(ylo, yhi, 4);

  const parts: string[] = [];
  const defs: string[] = [];
  clouds.forEach((cloud, i) => {
    const col = i % perRow;
    const row = Math.floor(i / perRow);
    const px = m.left + col * (panel + gap);
    const py = m.top + row * (titleH + panel + gap) + titleH;
    const sx = linearScale(xlo, xhi, px, px + panel);
    const sy = linearScale(ylo, yhi, py + panel, py);
    const color = categorical[i % categorical.length];
    const clipId = `cloud-clip-${i}`;
    defs.push(
      `<clipPath id="${clipId}"><rect x="${px}" y="${py}" width="${panel}" height="${panel}"/></clipPath>`,
    );
    parts.push(
      `<rect x="${px}" y="${py}" width="${panel}" height="${panel}" fill="#f7f8fa" stroke="#d5d9e0"/>`,
    );
    parts.push(
      `<g stroke="#e6e9ee">${ticksX.map((t) => `<line x1="${r1(sx(t))}" x2="${r1(sx(t))}" y1="${py}" y2="${py + panel}"/>`).join("")}${ticksY
        .map((t) => `<line x1="${px}" x2="${px + panel}" y1="${r1(sy(t))}" y2="${r1(sy(t))}"/>`)
        .join("")}</g>`,
    );
    // Each point is a zero-length segment with a round cap: one <path> per panel keeps the page small.
    const d = cloud.points
      .filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]))
      .map((p) => `M${r1(sx(p[0]))} ${r1(sy(p[1]))}h0`)
      .join("");
    parts.push(
      `<path clip-path="url(#${clipId})" d="${d}" stroke="${color}" stroke-opacity="0.55" stroke-width="3.4" stroke-linecap="round" fill="none"/>`,
    );
    parts.push(text(px, py - 7, truncate(cloud.sampler, panel, 12), 'font-weight="600" fill="#1d2330"'));
    parts.push(
      text(
        px + panel - 6,
        py + panel - 6,
        `n = ${cloud.points.length}`,
        'text-anchor="end" fill="#8a93a3" font-size="10"',
      ),
    );
    if (row === rows - 1 || i + perRow >= clouds.length) {
      parts.push(
        `<g fill="#4b5361" font-size="10" text-anchor="middle">${ticksX.map((t) => text(sx(t), py + panel + 14, formatTick(t))).join("")}</g>`,
      );
    }
    if (col === 0) {
      parts.push(
        `<g fill="#4b5361" font-size="10" text-anchor="end">${ticksY.map((t) => text(px - 6, sy(t) + 3.5, formatTick(t))).join("")}</g>`,
      );
    }
  });
  return svgDocument(frame, parts.join(""), defs.join(""));
}
