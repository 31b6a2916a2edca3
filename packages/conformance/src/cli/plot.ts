/**
 * Plots of a batch of samples for `edmkit sample --plot`: 1-D data as a density histogram
 * (with the true density overlaid when the data distribution is a known Gaussian mixture),
 * 2-D data (or the first two coordinates) as a scatter plot with equal axis scales (with the
 * mixture's component means and 2-std circles when known). One scene description is
 * rendered to SVG or, through the small rasterizer of png.ts, to PNG.
 */
import { GaussianMixture, type GmmSpec } from "@edmkit/core";
import { encodePng } from "../graphics/png.js";
import { parseHex, Raster } from "../graphics/raster.js";
import { textWidth as svgTextWidth } from "../report/svg/common.js";
import { linearTicks, PLOT_STEPS } from "../graphics/ticks.js";

export interface PlotInput {
  /** Row-major [rows, dim]. */
  samples: ArrayLike<number>;
  rows: number;
  dim: number;
  /** The data distribution, when known: drawn over the samples. */
  mixture?: GmmSpec;
  title: string;
  /** Histogram bins (1-D; default 40). */
  bins?: number;
}

type Item =
  | { kind: "rect"; cls: string; x: number; y: number; w: number; h: number; fill: string; opacity?: number }
  | {
      kind: "line";
      cls: string;
      x1: number;
      y1: number;
      x2: number;
      y2: number;
      stroke: string;
      width: number;
    }
  | { kind: "polyline"; cls: string; points: [number, number][]; stroke: string; width: number }
  | {
      kind: "circle";
      cls: string;
      cx: number;
      cy: number;
      r: number;
      fill?: string;
      stroke?: string;
      opacity?: number;
    }
  | {
      kind: "text";
      cls: string;
      x: number;
      y: number;
      text: string;
      anchor: "start" | "middle" | "end";
      size: number;
    };

export interface Scene {
  width: number;
  height: number;
  items: Item[];
}

export interface PlotSummary {
  kind: "histogram" | "scatter";
  /** Samples drawn (finite rows). */
  points: number;
  /** Rows left out because a coordinate was NaN or infinite. */
  dropped: number;
  bins?: number;
  density: boolean;
}

const W = 640,
  H = 480;
const M = { left: 64, right: 24, top: 56, bottom: 48 };
const TITLE_SIZE = 14;
const BLUE = "#1f77b4",
  RED = "#d62728",
  GREY = "#444444",
  LIGHT = "#dddddd";

function fmtTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(4)));
}

function finiteRows(input: PlotInput, cols: number): { data: Float64Array; n: number; dropped: number } {
  const { samples, rows, dim } = input;
  const data = new Float64Array(rows * cols);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let c = 0; c < cols; c++) if (!Number.isFinite(samples[r * dim + c])) ok = false;
    if (!ok) continue;
    for (let c = 0; c < cols; c++) data[n * cols + c] = samples[r * dim + c];
    n++;
  }
  return { data: data.subarray(0, n * cols), n, dropped: rows - n };
}

function range(values: ArrayLike<number>, stride: number, offset: number, n: number): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i * stride + offset];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) {
    const c = Number.isFinite(lo) ? lo : 0;
    return [c - 1, c + 1];
  }
  return [lo, hi];
}

function axes(
  items: Item[],
  x0: number,
  x1: number,
  y0: number,
  y1: number,
  xTicks: number[],
  yTicks: number[],
  sx: (v: number) => number,
  sy: (v: number) => number,
): void {
  const left = M.left,
    right = W - M.right,
    top = M.top,
    bottom = H - M.bottom;
  for (const t of xTicks) {
    if (t < x0 || t > x1) continue;
    items.push({
      kind: "line",
      cls: "grid",
      x1: sx(t),
      y1: top,
      x2: sx(t),
      y2: bottom,
      stroke: LIGHT,
      width: 1,
    });
    items.push({
      kind: "text",
      cls: "tick",
      x: sx(t),
      y: bottom + 18,
      text: fmtTick(t),
      anchor: "middle",
      size: 11,
    });
  }
  for (const t of yTicks) {
    if (t < y0 || t > y1) continue;
    items.push({
      kind: "line",
      cls: "grid",
      x1: left,
      y1: sy(t),
      x2: right,
      y2: sy(t),
      stroke: LIGHT,
      width: 1,
    });
    items.push({
      kind: "text",
      cls: "tick",
      x: left - 6,
      y: sy(t) + 4,
      text: fmtTick(t),
      anchor: "end",
      size: 11,
    });
  }
  items.push({
    kind: "line",
    cls: "axis",
    x1: left,
    y1: bottom,
    x2: right,
    y2: bottom,
    stroke: GREY,
    width: 1,
  });
  items.push({ kind: "line", cls: "axis", x1: left, y1: top, x2: left, y2: bottom, stroke: GREY, width: 1 });
}

function histogramScene(input: PlotInput, items: Item[]): PlotSummary {
  const { data, n, dropped } = finiteRows(input, 1);
  const bins = input.bins ?? 40;
  const mixture = input.mixture?.stds.every((s) => s > 0) ? new GaussianMixture(input.mixture) : undefined;
  let [lo, hi] = range(data, 1, 0, n);
  const pad = 0.05 * (hi - lo);
  lo -= pad;
  hi += pad;
  const width = (hi - lo) / bins;
  const counts = new Float64Array(bins);
  for (let i = 0; i < n; i++) counts[Math.min(bins - 1, Math.floor((data[i] - lo) / width))]++;
  const heights = counts.map((c) => (n > 0 ? c / (n * width) : 0));
  const curve: [number, number][] = [];
  if (mixture) {
    const p = new Float64Array(1);
    for (let k = 0; k <= 400; k++) {
      p[0] = lo + ((hi - lo) * k) / 400;
      curve.push([p[0], Math.exp(mixture.logDensity(p, 0))]);
    }
  }
  const yMax = 1.08 * Math.max(1e-12, ...heights, ...curve.map((c) => c[1]));
  const left = M.left,
    right = W - M.right,
    top = M.top,
    bottom = H - M.bottom;
  const sx = (v: number) => left + ((v - lo) / (hi - lo)) * (right - left);
  const sy = (v: number) => bottom - (v / yMax) * (bottom - top);
  axes(
    items,
    lo,
    hi,
    0,
    yMax,
    linearTicks(lo, hi, 6, PLOT_STEPS),
    linearTicks(0, yMax, 5, PLOT_STEPS),
    sx,
    sy,
  );
  for (let b = 0; b < bins; b++) {
    const x = sx(lo + b * width),
      y = sy(heights[b]);
    items.push({
      kind: "rect",
      cls: "bar",
      x,
      y,
      w: sx(lo + (b + 1) * width) - x,
      h: bottom - y,
      fill: BLUE,
      opacity: 0.6,
    });
  }
  if (mixture)
    items.push({
      kind: "polyline",
      cls: "density",
      points: curve.map(([x, y]) => [sx(x), sy(y)]),
      stroke: RED,
      width: 2,
    });
  items.push({
    kind: "text",
    cls: "label",
    x: (left + right) / 2,
    y: H - 10,
    text: "x",
    anchor: "middle",
    size: 12,
  });
  items.push({
    kind: "text",
    cls: "label",
    x: right,
    y: top - 6,
    text: `histogram of ${n} samples, ${bins} bins${mixture ? "; red: true density" : ""}`,
    anchor: "end",
    size: 11,
  });
  return { kind: "histogram", points: n, dropped, bins, density: mixture !== undefined };
}

function scatterScene(input: PlotInput, items: Item[]): PlotSummary {
  const { data, n, dropped } = finiteRows(input, 2);
  const spec =
    input.mixture && input.mixture.dim === input.dim && input.dim === 2 ? input.mixture : undefined;
  let [x0, x1] = range(data, 2, 0, n);
  let [y0, y1] = range(data, 2, 1, n);
  if (spec) {
    for (const m of spec.means) {
      x0 = Math.min(x0, m[0]);
      x1 = Math.max(x1, m[0]);
      y0 = Math.min(y0, m[1]);
      y1 = Math.max(y1, m[1]);
    }
  }
  const left = M.left,
    right = W - M.right,
    top = M.top,
    bottom = H - M.bottom;
  // equal scales: widen the tighter range around its centre
  const pw = right - left,
    ph = bottom - top;
  const per = 1.1 * Math.max((x1 - x0) / pw, (y1 - y0) / ph);
  const cx = (x0 + x1) / 2,
    cy = (y0 + y1) / 2;
  [x0, x1] = [cx - (per * pw) / 2, cx + (per * pw) / 2];
  [y0, y1] = [cy - (per * ph) / 2, cy + (per * ph) / 2];
  const sx = (v: number) => left + ((v - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => bottom - ((v - y0) / (y1 - y0)) * ph;
  axes(items, x0, x1, y0, y1, linearTicks(x0, x1, 6, PLOT_STEPS), linearTicks(y0, y1, 6, PLOT_STEPS), sx, sy);
  const r = n > 5000 ? 1.2 : 1.8,
    opacity = n > 5000 ? 0.3 : 0.5;
  for (let i = 0; i < n; i++)
    items.push({
      kind: "circle",
      cls: "pt",
      cx: sx(data[2 * i]),
      cy: sy(data[2 * i + 1]),
      r,
      fill: BLUE,
      opacity,
    });
  if (spec) {
    spec.means.forEach((m, k) => {
      const mx = sx(m[0]),
        my = sy(m[1]);
      items.push({
        kind: "circle",
        cls: "component",
        cx: mx,
        cy: my,
        r: (2 * spec.stds[k]) / per,
        stroke: RED,
      });
      items.push({
        kind: "line",
        cls: "mean",
        x1: mx - 4,
        y1: my,
        x2: mx + 4,
        y2: my,
        stroke: RED,
        width: 2,
      });
      items.push({
        kind: "line",
        cls: "mean",
        x1: mx,
        y1: my - 4,
        x2: mx,
        y2: my + 4,
        stroke: RED,
        width: 2,
      });
    });
  }
  const what = input.dim > 2 ? `first 2 of ${input.dim} coordinates, ` : "";
  items.push({
    kind: "text",
    cls: "label",
    x: (left + right) / 2,
    y: H - 10,
    text: "x[0]",
    anchor: "middle",
    size: 12,
  });
  items.push({
    kind: "text",
    cls: "label",
    x: 14,
    y: (top + bottom) / 2,
    text: "x[1]",
    anchor: "middle",
    size: 12,
  });
  items.push({
    kind: "text",
    cls: "label",
    x: right,
    y: top - 6,
    text: `${what}${n} samples${spec ? "; red: component means, 2 std" : ""}`,
    anchor: "end",
    size: 11,
  });
  return { kind: "scatter", points: n, dropped, density: spec !== undefined };
}

const TITLE_X = 12;

/** Width of a title in whichever rendering is wider: the SVG's sans-serif or the PNG's 5x7 font. */
function titleWidth(s: string): number {
  return Math.max(svgTextWidth(s, TITLE_SIZE), Raster.textWidth(s, 1));
}

/**
 * A title broken at spaces into at most two lines that fit `maxWidth` (the second ends in "…"
 * when even two are not enough), so no title runs off the image.
 */
export function titleLines(title: string, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of title.split(" ")) {
    const next = line ? `${line} ${word}` : word;
    if (titleWidth(next) <= maxWidth || !line) line = next;
    else {
      lines.push(line);
      line = word;
    }
  }
  lines.push(line);
  const fit = (s: string) => {
    if (titleWidth(s) <= maxWidth) return s;
    let t = s;
    while (t.length > 1 && titleWidth(`${t}…`) > maxWidth) t = t.slice(0, -1);
    return `${t}…`;
  };
  if (lines.length <= 2) return lines.map(fit);
  return [fit(lines[0]), fit(lines.slice(1).join(" "))];
}

/** The scene of a plot, and what it shows. */
export function plotScene(input: PlotInput): { scene: Scene; summary: PlotSummary } {
  if (!(input.dim >= 1) || input.samples.length !== input.rows * input.dim) {
    throw new RangeError(
      `plotScene: ${input.samples.length} values do not make ${input.rows} rows of dim ${input.dim}`,
    );
  }
  if (input.bins !== undefined && !(Number.isInteger(input.bins) && input.bins >= 1))
    throw new RangeError(`plotScene: bins must be a positive integer, got ${input.bins}`);
  const items: Item[] = [{ kind: "rect", cls: "background", x: 0, y: 0, w: W, h: H, fill: "#ffffff" }];
  const summary = input.dim === 1 ? histogramScene(input, items) : scatterScene(input, items);
  const dropped = summary.dropped ? ` (${summary.dropped} non-finite rows left out)` : "";
  const lines = titleLines(`${input.title}${dropped}`, W - 2 * TITLE_X);
  for (const [k, line] of lines.entries())
    items.push({
      kind: "text",
      cls: "title",
      x: TITLE_X,
      y: 20 + 16 * k,
      text: line,
      anchor: "start",
      size: TITLE_SIZE,
    });
  return { scene: { width: W, height: H, items }, summary };
}

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n2 = (v: number) => String(Math.round(v * 100) / 100);

/** The scene as a standalone SVG document. */
export function renderSvg(scene: Scene): string {
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}" font-family="sans-serif">`,
  ];
  for (const it of scene.items) {
    switch (it.kind) {
      case "rect":
        out.push(
          `<rect class="${it.cls}" x="${n2(it.x)}" y="${n2(it.y)}" width="${n2(it.w)}" height="${n2(it.h)}" fill="${it.fill}"${it.opacity !== undefined ? ` fill-opacity="${it.opacity}"` : ""}/>`,
        );
        break;
      case "line":
        out.push(
          `<line class="${it.cls}" x1="${n2(it.x1)}" y1="${n2(it.y1)}" x2="${n2(it.x2)}" y2="${n2(it.y2)}" stroke="${it.stroke}" stroke-width="${it.width}"/>`,
        );
        break;
      case "polyline":
        out.push(
          `<polyline class="${it.cls}" points="${it.points.map(([x, y]) => `${n2(x)},${n2(y)}`).join(" ")}" fill="none" stroke="${it.stroke}" stroke-width="${it.width}"/>`,
        );
        break;
      case "circle": {
        const paint = it.fill
          ? `fill="${it.fill}"${it.opacity !== undefined ? ` fill-opacity="${it.opacity}"` : ""}`
          : `fill="none" stroke="${it.stroke}"`;
        out.push(`<circle class="${it.cls}" cx="${n2(it.cx)}" cy="${n2(it.cy)}" r="${n2(it.r)}" ${paint}/>`);
        break;
      }
      case "text":
        out.push(
          `<text class="${it.cls}" x="${n2(it.x)}" y="${n2(it.y)}" text-anchor="${it.anchor}" font-size="${it.size}">${esc(it.text)}</text>`,
        );
        break;
    }
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

/** The scene rasterized to PNG (text in the 5x7 pixel font, titles in black). */
export function renderPng(scene: Scene): Uint8Array {
  const img = new Raster(scene.width, scene.height);
  for (const it of scene.items) {
    switch (it.kind) {
      case "rect":
        img.fillRect(it.x, it.y, it.w, it.h, parseHex(it.fill), it.opacity ?? 1);
        break;
      case "line":
        img.line(it.x1, it.y1, it.x2, it.y2, parseHex(it.stroke), it.width);
        break;
      case "polyline":
        img.polyline(it.points, parseHex(it.stroke), it.width);
        break;
      case "circle":
        if (it.fill) img.disc(it.cx, it.cy, Math.max(it.r, 1), parseHex(it.fill), it.opacity ?? 1);
        else {
          const steps = Math.max(16, Math.ceil(it.r * 4));
          const pts: [number, number][] = [];
          for (let k = 0; k <= steps; k++)
            pts.push([
              it.cx + it.r * Math.cos((2 * Math.PI * k) / steps),
              it.cy + it.r * Math.sin((2 * Math.PI * k) / steps),
            ]);
          img.polyline(pts, parseHex(it.stroke ?? GREY));
        }
        break;
      case "text":
        img.text(it.x, it.y, it.text, parseHex(it.cls === "title" ? "#000000" : GREY), 1, it.anchor);
        break;
    }
  }
  return encodePng(img);
}

/** Render for a file name: `.svg` or `.png`. */
export function renderPlot(
  path: string,
  input: PlotInput,
): { bytes: string | Uint8Array; summary: PlotSummary } {
  const { scene, summary } = plotScene(input);
  if (/\.svg$/i.test(path)) return { bytes: renderSvg(scene), summary };
  if (/\.png$/i.test(path)) return { bytes: renderPng(scene), summary };
  throw new RangeError(`renderPlot: the plot file must end in .svg or .png, got ${path}`);
}
