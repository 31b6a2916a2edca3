/**
 * The 1-D trajectory figure: sample paths x(σ) from σ_max down to 0 drawn over the noised data
 * density p(x; σ). σ runs left to right on a log axis; σ = 0 (log of zero) gets its own slot at
 * the right edge behind an axis break.
 */
import type { Report } from "../schema.js";
import {
  emptyPlot,
  linearScale,
  logScale,
  rampFrom,
  svgDocument,
  text,
  textWidth,
  type Scale,
} from "./common.js";
import { linearTicks, logTicks } from "../../graphics/ticks.js";
import { formatTick, r1 } from "./format.js";

export type Trajectories1d = Report["figures"]["trajectories1d"];

/** Colours of paths that end below / at-or-above x = 0 (the two modes of a symmetric mixture). */
export const pathColors = { low: "#c0392b", high: "#117a8b" } as const;

/** Background ramp for the density: white (no mass) to a muted blue (the mode at that σ). */
export const densityRamp = rampFrom(["#ffffff", "#e6ecf6", "#c3d0ea", "#98acd8", "#7a93cc"]);

/**
 * The density grid as rows per σ: `rows[s][k] = log p(x[k]; sigma[s])`. The schema stores `logp`
 * as one row per σ; a grid stored the other way round (one row per x) is transposed here. When the
 * shape fits neither, an Error says what was expected.
 */
export function densityRows(density: Trajectories1d["density"]): number[][] {
  const { x, sigma, logp } = density;
  if (logp.length === 0 || x.length === 0 || sigma.length === 0) return [];
  if (logp.length === sigma.length && logp.every((row) => row.length === x.length)) return logp;
  if (logp.length === x.length && logp.every((row) => row.length === sigma.length)) {
    return sigma.map((_, s) => x.map((__, k) => logp[k][s]));
  }
  throw new Error(
    `densityRows: figures.trajectories1d.density.logp must be ${sigma.length} rows (one per sigma) of ${x.length} values (one per x), got ${logp.length} rows`,
  );
}

/**
 * A σ axis on [x0, x1]: log scale from σ_max (left) to the smallest positive σ, plus a slot for
 * σ = 0 at x1 when the grid reaches zero.
 */
export function sigmaAxis(allSigmas: readonly number[], x0: number, x1: number) {
  const positive = allSigmas.filter((s) => s > 0 && Number.isFinite(s));
  const hasZero = allSigmas.some((s) => s <= 0);
  const sMax = positive.length ? Math.max(...positive) : 1;
  const sMin = positive.length ? Math.min(...positive) : 1;
  const zeroWidth = hasZero ? Math.max(30, (x1 - x0) * 0.06) : 0;
  const logEnd = x1 - zeroWidth;
  const log: Scale = sMax > sMin ? logScale(sMax, sMin, x0, logEnd) : () => (x0 + logEnd) / 2;
  // σ = 0 sits a few pixels inside the frame so the end markers are not cut in half.
  const zeroX = x1 - 6;
  const pos = (s: number) => (s <= 0 ? zeroX : log(s));
  return { pos, sMax, sMin, hasZero, logEnd, zeroX };
}

/** Renders the trajectory plot as an inline <svg class="plot-trajectories">. */
export function plotTrajectories(fig: Trajectories1d): string {
  const width = 920;
  const height = 420;
  const frame = {
    className: "plot-trajectories",
    width,
    height,
    title: `1-D trajectories of ${fig.sampler}`,
    description: `${fig.paths.length} sample paths from sigma ${fig.sigmas[0] ?? "?"} down to ${fig.sigmas[fig.sigmas.length - 1] ?? "?"} over the noised data density.`,
  };
  if (fig.sigmas.length === 0 || fig.paths.length === 0) return emptyPlot(frame, "No trajectories recorded.");
  for (const [p, path] of fig.paths.entries()) {
    if (path.length !== fig.sigmas.length) {
      throw new Error(
        `plotTrajectories: figures.trajectories1d.paths[${p}] must have ${fig.sigmas.length} values (one per sigma), got ${path.length}`,
      );
    }
  }
  const rows = densityRows(fig.density);
  const m = { left: 58, right: 26, top: 44, bottom: 52 };
  const x0 = m.left;
  const x1 = width - m.right;
  const y0 = m.top;
  const y1 = height - m.bottom;
  const axis = sigmaAxis([...fig.sigmas, ...(rows.length ? fig.density.sigma : [])], x0, x1);

  // Vertical extent: the density grid's x range when there is one, else the paths' final spread.
  let lo: number;
  let hi: number;
  if (rows.length) {
    lo = Math.min(...fig.density.x);
    hi = Math.max(...fig.density.x);
  } else {
    const finals = fig.paths.map((p) => p[p.length - 1]).filter(Number.isFinite);
    lo = Math.min(...finals);
    hi = Math.max(...finals);
    const pad = (hi - lo) * 0.15 || 1;
    lo -= pad;
    hi += pad;
  }
  const y: Scale = linearScale(lo, hi, y1, y0);
  const parts: string[] = [];

  // Density background, one column per σ of the grid, merged into vertical runs of equal shade.
  if (rows.length) {
    const cols = fig.density.sigma.map((s, i) => ({ i, px: axis.pos(s) })).sort((a, b) => a.px - b.px);
    const xs = fig.density.x.map((v, k) => ({ k, py: y(v) })).sort((a, b) => a.py - b.py);
    const levels = 16;
    // One shade scale for the whole grid, so the spread-out density at large σ reads as faint.
    let peak = -Infinity;
    for (const row of rows) for (const v of row) if (Number.isFinite(v) && v > peak) peak = v;
    const rects: string[] = [];
    for (let c = 0; c < cols.length; c++) {
      const left = c === 0 ? x0 : (cols[c - 1].px + cols[c].px) / 2;
      const right = c === cols.length - 1 ? x1 : (cols[c].px + cols[c + 1].px) / 2;
      const row = rows[cols[c].i];
      let runStart = y0;
      let runLevel = -1;
      const flush = (end: number) => {
        if (runLevel > 0 && end > runStart) {
          rects.push(
            `<rect x="${r1(left)}" y="${r1(runStart)}" width="${r1(right - left + 0.4)}" height="${r1(end - runStart + 0.4)}" fill="${densityRamp(runLevel / levels)}"/>`,
          );
        }
      };
      for (let r = 0; r < xs.length; r++) {
        const top = r === 0 ? y0 : (xs[r - 1].py + xs[r].py) / 2;
        const v = Math.exp(row[xs[r].k] - peak); // p / max p over the whole grid
        const level = Number.isFinite(v) ? Math.round(Math.sqrt(v) * levels) : 0; // sqrt: tails stay visible
        if (level !== runLevel) {
          flush(top);
          runStart = top;
          runLevel = level;
        }
      }
      flush(y1);
    }
    parts.push(`<g clip-path="url(#traj-clip)">${rects.join("")}</g>`);
  }

  // Grid and axes.
  const yTicks = linearTicks(lo, hi, 6);
  parts.push(
    `<g stroke="#ffffff" stroke-opacity="0.7" stroke-width="1">${yTicks
      .map((t) => `<line x1="${x0}" x2="${x1}" y1="${r1(y(t))}" y2="${r1(y(t))}"/>`)
      .join("")}</g>`,
  );
  const sticks = logTicks(axis.sMin, axis.sMax);
  const axisY = y1 + 0.5;
  const tickMarks: string[] = [];
  for (const t of sticks.minor)
    tickMarks.push(`<line x1="${r1(axis.pos(t))}" x2="${r1(axis.pos(t))}" y1="${axisY}" y2="${axisY + 3}"/>`);
  for (const t of sticks.major)
    tickMarks.push(`<line x1="${r1(axis.pos(t))}" x2="${r1(axis.pos(t))}" y1="${axisY}" y2="${axisY + 6}"/>`);
  const tickLabels = sticks.major.map((t) =>
    text(axis.pos(t), axisY + 19, formatTick(t), 'text-anchor="middle"'),
  );
  // Label σ_max at the left end unless a major tick already sits close to it.
  if (!sticks.major.some((t) => Math.abs(axis.pos(t) - x0) < 36)) {
    tickMarks.push(`<line x1="${x0}" x2="${x0}" y1="${axisY}" y2="${axisY + 6}"/>`);
    tickLabels.push(
      text(x0, axisY + 19, formatTick(Number(axis.sMax.toPrecision(3))), 'text-anchor="middle"'),
    );
  }
  if (axis.hasZero) {
    tickMarks.push(`<line x1="${axis.zeroX}" x2="${axis.zeroX}" y1="${axisY}" y2="${axisY + 6}"/>`);
    tickLabels.push(text(axis.zeroX, axisY + 19, "0", 'text-anchor="middle"'));
  }
  parts.push(`<g stroke="#5b6472" stroke-width="1">${tickMarks.join("")}</g>`);
  parts.push(`<g fill="#3b4250" font-size="11">${tickLabels.join("")}</g>`);
  if (axis.hasZero) {
    // Axis line broken between the smallest positive σ and the σ = 0 slot.
    const bx = (axis.logEnd + x1) / 2;
    parts.push(
      `<path d="M${x0} ${axisY}H${r1(bx - 5)}M${r1(bx + 5)} ${axisY}H${x1}" stroke="#5b6472" fill="none"/>`,
      `<path d="M${r1(bx - 8)} ${axisY + 5}l6 -10M${r1(bx + 2)} ${axisY + 5}l6 -10" stroke="#5b6472" fill="none"/>`,
    );
  } else {
    parts.push(`<path d="M${x0} ${axisY}H${x1}" stroke="#5b6472" fill="none"/>`);
  }
  parts.push(
    `<path d="M${x0 - 0.5} ${y0}V${y1}" stroke="#5b6472" fill="none"/>`,
    `<g stroke="#5b6472">${yTicks.map((t) => `<line x1="${x0 - 6}" x2="${x0 - 0.5}" y1="${r1(y(t))}" y2="${r1(y(t))}"/>`).join("")}</g>`,
    `<g fill="#3b4250" font-size="11">${yTicks.map((t) => text(x0 - 9, y(t) + 4, formatTick(t), 'text-anchor="end"')).join("")}</g>`,
    text(
      (x0 + x1) / 2,
      height - 10,
      "noise level σ (log scale) — sampling runs left to right, ending at σ = 0",
      'text-anchor="middle" fill="#3b4250"',
    ),
    text(16, (y0 + y1) / 2, "x", 'text-anchor="middle" fill="#3b4250" font-style="italic" font-size="14"'),
  );

  // Paths.
  const last = fig.sigmas.length - 1;
  const sx = fig.sigmas.map((s) => r1(axis.pos(s)));
  const low: string[] = [];
  const high: string[] = [];
  const ends: string[] = [];
  for (const path of fig.paths) {
    const d = path
      .map(
        (v, i) =>
          `${i === 0 ? "M" : "L"}${sx[i]} ${r1(y(Math.max(lo - (hi - lo), Math.min(hi + (hi - lo), v))))}`,
      )
      .join("");
    const isLow = path[last] < 0;
    (isLow ? low : high).push(d);
    const color = isLow ? pathColors.low : pathColors.high;
    ends.push(
      `<circle cx="${sx[last]}" cy="${r1(y(path[last]))}" r="2.4" fill="${color}" stroke="#ffffff" stroke-width="0.6"/>`,
    );
  }
  parts.push(
    `<g clip-path="url(#traj-clip)" fill="none" stroke-width="1.1" stroke-opacity="0.55" stroke-linejoin="round">`,
    `<path stroke="${pathColors.low}" d="${low.join("")}"/>`,
    `<path stroke="${pathColors.high}" d="${high.join("")}"/>`,
    `</g>`,
    `<g clip-path="url(#traj-clip-ends)">${ends.join("")}</g>`,
  );

  // Legend across the top.
  const legend: string[] = [];
  let lx = x0;
  const ly = 22;
  const item = (swatch: string, label: string) => {
    legend.push(
      swatch.replace(/\{x\}/g, String(lx)).replace(/\{x2\}/g, String(lx + 22)),
      text(lx + 28, ly + 4, label, 'fill="#2b303a"'),
    );
    lx += 28 + textWidth(label) + 24;
  };
  item(
    `<line x1="{x}" x2="{x2}" y1="${ly}" y2="${ly}" stroke="${pathColors.low}" stroke-width="2.5"/>`,
    `paths ending at x < 0 (${low.length})`,
  );
  item(
    `<line x1="{x}" x2="{x2}" y1="${ly}" y2="${ly}" stroke="${pathColors.high}" stroke-width="2.5"/>`,
    `paths ending at x ≥ 0 (${high.length})`,
  );
  if (rows.length) {
    item(
      `<rect x="{x}" y="${ly - 6}" width="22" height="12" fill="url(#traj-ramp)" stroke="#c9cfd9"/>`,
      "density p(x; σ) (square-root shading)",
    );
  }
  const defs =
    `<clipPath id="traj-clip"><rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}"/></clipPath>` +
    `<clipPath id="traj-clip-ends"><rect x="${x0}" y="${y0 - 4}" width="${x1 - x0 + 4}" height="${y1 - y0 + 8}"/></clipPath>` +
    `<linearGradient id="traj-ramp">${[0, 0.25, 0.5, 0.75, 1].map((t) => `<stop offset="${t}" stop-color="${densityRamp(t)}"/>`).join("")}</linearGradient>`;
  parts.push(`<g>${legend.join("")}</g>`);
  parts.push(
    `<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="#d5d9e0"/>`,
  );
  return svgDocument(frame, parts.join(""), defs);
}
