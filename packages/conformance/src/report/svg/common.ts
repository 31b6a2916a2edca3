/**
 * Plot primitives shared by the SVG figures: scales, tick placement, colour maps and the SVG
 * envelope. Everything returns strings; no DOM is needed, so the report renders in Node.
 */
import { escapeXml } from "./format.js";

export type Scale = (v: number) => number;

/** Maps [d0, d1] linearly onto [r0, r1]. A degenerate domain maps to the middle of the range. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): Scale {
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Maps [d0, d1] (both > 0) onto [r0, r1] on a log10 axis. */
export function logScale(d0: number, d1: number, r0: number, r1: number): Scale {
  const inner = linearScale(Math.log10(d0), Math.log10(d1), r0, r1);
  return (v) => inner(Math.log10(v));
}

export const categorical = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#59a14f",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#9c755f",
  "#ff9da7",
  "#6b6ecf",
  "#bab0ac",
  "#2f4b7c",
] as const;

/** Library colours used by badges and chips in the HTML, and by plots where a library is the key. */
export const libraryColors: Record<string, string> = {
  "k-diffusion": "#4e79a7",
  diffusers: "#f28e2b",
  edm: "#59a14f",
  song2021: "#b07aa1",
  reference: "#7f7f7f",
};

type Rgb = [number, number, number];

function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbToHex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, "0")).join("")}`;
}

/** A colour map built from evenly spaced anchor colours, interpolated in RGB. t is clamped to [0, 1]. */
export function rampFrom(anchors: readonly string[]): (t: number) => string {
  const rgb = anchors.map(hexToRgb);
  return (t) => {
    const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (rgb.length - 1);
    const i = Math.min(rgb.length - 2, Math.floor(x));
    const f = x - i;
    const a = rgb[i];
    const b = rgb[i + 1];
    return rgbToHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]);
  };
}

/** Viridis (perceptually uniform, colour-blind safe), sampled at 9 anchors. */
export const viridis = rampFrom([
  "#440154",
  "#472d7b",
  "#3b528b",
  "#2c728e",
  "#21918c",
  "#28ae80",
  "#5ec962",
  "#addc30",
  "#fde725",
]);

/** Relative luminance of a #rrggbb colour, for choosing black or white text on it. */
export function luminance(hex: string): number {
  const [r, g, b] = hexToRgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Text colour readable on the given background. */
export function textOn(hex: string): string {
  return luminance(hex) > 0.36 ? "#1d2330" : "#ffffff";
}

export interface SvgFrame {
  /** CSS class on the <svg> root (the HTML and the browser test find plots by it). */
  className: string;
  width: number;
  height: number;
  /** Accessible title (also shown as a tooltip). */
  title: string;
  /** Longer description for screen readers. */
  description?: string;
}

/** Wraps plot content in a standalone, well-formed <svg> element scaled by its viewBox. */
export function svgDocument(frame: SvgFrame, body: string, defs = ""): string {
  const { className, width, height, title, description } = frame;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="${escapeXml(className)}" viewBox="0 0 ${width} ${height}" `,
    `width="${width}" height="${height}" role="img" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    description ? `<desc>${escapeXml(description)}</desc>` : "",
    defs ? `<defs>${defs}</defs>` : "",
    body,
    `</svg>`,
  ].join("");
}

/** An SVG <text> element; `attrs` are raw attribute text, `content` is escaped. */
export function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${Math.round(x * 10) / 10}" y="${Math.round(y * 10) / 10}"${attrs ? ` ${attrs}` : ""}>${escapeXml(content)}</text>`;
}

/** Approximate rendered width of a label in the system sans font (for layout, not exact). */
export function textWidth(content: string, fontSize = 12): number {
  let w = 0;
  for (const ch of content)
    w += /[ilj.,:;'|!()[\]]/.test(ch) ? 0.3 : /[mwMW@]/.test(ch) ? 0.85 : /[A-Z]/.test(ch) ? 0.66 : 0.55;
  return w * fontSize;
}

/** Shortens a label to fit `maxWidth` pixels, ending in "…". */
export function truncate(content: string, maxWidth: number, fontSize = 12): string {
  if (textWidth(content, fontSize) <= maxWidth) return content;
  let s = content;
  while (s.length > 1 && textWidth(`${s}…`, fontSize) > maxWidth) s = s.slice(0, -1);
  return `${s}…`;
}

/** The message drawn inside an empty plot, so a missing figure is visible rather than silent. */
export function emptyPlot(frame: SvgFrame, message: string): string {
  return svgDocument(
    { ...frame, height: Math.min(frame.height, 120) },
    `<rect x="0.5" y="0.5" width="${frame.width - 1}" height="${Math.min(frame.height, 120) - 1}" fill="#f6f7f9" stroke="#d5d9e0" rx="6"/>` +
      text(
        frame.width / 2,
        Math.min(frame.height, 120) / 2 + 4,
        message,
        'text-anchor="middle" fill="#6b7280"',
      ),
  );
}

/**
 * Breaks `content` at spaces into lines no wider than `maxWidth` (a single long word stays
 * whole). Bold text is measured 12% wider (textWidth estimates the regular weight).
 */
export function wrapText(content: string, maxWidth: number, fontSize = 12, bold = false): string[] {
  if (bold) return wrapText(content, maxWidth / 1.12, fontSize);
  const lines: string[] = [];
  let line = "";
  for (const word of content.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (!line || textWidth(next, fontSize) <= maxWidth) line = next;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
