/**
 * A small RGBA raster and a PNG encoder on node:zlib, enough to draw the CLI's plots
 * (rectangles, lines, dots and a 3x5 pixel font) without a graphics dependency.
 */
import { deflateSync } from "node:zlib";

export type Rgb = readonly [number, number, number];

/** "#rrggbb" to [r, g, b]. */
export function parseHex(color: string): Rgb {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) throw new RangeError(`parseHex: expected a color "#rrggbb", got "${color}"`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * 3x5 glyphs, rows top to bottom, 3 bits per row (most significant bit = left column).
 * Upper case is drawn as lower case.
 */
const GLYPHS: Record<string, readonly number[]> = {
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [7, 1, 7, 4, 7],
  "3": [7, 1, 3, 1, 7],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7],
  "6": [7, 4, 7, 5, 7],
  "7": [7, 1, 1, 2, 2],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 7],
  a: [2, 5, 7, 5, 5],
  b: [6, 5, 6, 5, 6],
  c: [3, 4, 4, 4, 3],
  d: [6, 5, 5, 5, 6],
  e: [7, 4, 6, 4, 7],
  f: [7, 4, 6, 4, 4],
  g: [3, 4, 5, 5, 3],
  h: [5, 5, 7, 5, 5],
  i: [7, 2, 2, 2, 7],
  j: [1, 1, 1, 5, 2],
  k: [5, 5, 6, 5, 5],
  l: [4, 4, 4, 4, 7],
  m: [5, 7, 7, 5, 5],
  n: [6, 5, 5, 5, 5],
  o: [2, 5, 5, 5, 2],
  p: [6, 5, 6, 4, 4],
  q: [2, 5, 5, 6, 3],
  r: [6, 5, 6, 5, 5],
  s: [3, 4, 2, 1, 6],
  t: [7, 2, 2, 2, 2],
  u: [5, 5, 5, 5, 7],
  v: [5, 5, 5, 5, 2],
  w: [5, 5, 7, 7, 5],
  x: [5, 5, 2, 5, 5],
  y: [5, 5, 2, 2, 2],
  z: [7, 1, 2, 4, 7],
  ".": [0, 0, 0, 0, 2],
  ",": [0, 0, 0, 2, 4],
  "-": [0, 0, 7, 0, 0],
  "+": [0, 2, 7, 2, 0],
  _: [0, 0, 0, 0, 7],
  "/": [1, 1, 2, 4, 4],
  ":": [0, 2, 0, 2, 0],
  "=": [0, 7, 0, 7, 0],
  "(": [1, 2, 2, 2, 1],
  ")": [4, 2, 2, 2, 4],
  "[": [3, 2, 2, 2, 3],
  "]": [6, 2, 2, 2, 6],
  "%": [5, 1, 2, 4, 5],
  "'": [2, 2, 0, 0, 0],
  ";": [0, 2, 0, 2, 4],
  " ": [0, 0, 0, 0, 0],
};
const UNKNOWN = [7, 5, 5, 5, 7];

export class Raster {
  readonly rgba: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      this.rgba[4 * i] = background[0];
      this.rgba[4 * i + 1] = background[1];
      this.rgba[4 * i + 2] = background[2];
      this.rgba[4 * i + 3] = 255;
    }
  }

  /** Blend `color` over pixel (x, y) with opacity `alpha` (ignored outside the raster). */
  blend(x: number, y: number, color: Rgb, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const k = 4 * (y * this.width + x),
      p = this.rgba;
    p[k] = Math.round(p[k] + (color[0] - p[k]) * alpha);
    p[k + 1] = Math.round(p[k + 1] + (color[1] - p[k + 1]) * alpha);
    p[k + 2] = Math.round(p[k + 2] + (color[2] - p[k + 2]) * alpha);
  }

  fillRect(x: number, y: number, w: number, h: number, color: Rgb, alpha = 1): void {
    const x0 = Math.max(0, Math.round(x)),
      y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)),
      y1 = Math.min(this.height, Math.round(y + h));
    for (let j = y0; j < y1; j++) for (let i = x0; i < x1; i++) this.blend(i, j, color, alpha);
  }

  /** A line `width` pixels thick: dots stamped along it every half pixel. */
  line(x1: number, y1: number, x2: number, y2: number, color: Rgb, width = 1): void {
    const len = Math.hypot(x2 - x1, y2 - y1);
    const n = Math.max(1, Math.ceil(len * 2));
    const r = Math.max(0, (width - 1) / 2);
    const stamped = new Set<number>();
    for (let s = 0; s <= n; s++) {
      const cx = x1 + ((x2 - x1) * s) / n,
        cy = y1 + ((y2 - y1) * s) / n;
      for (let j = Math.floor(cy - r); j <= Math.ceil(cy + r); j++) {
        for (let i = Math.floor(cx - r); i <= Math.ceil(cx + r); i++) {
          if ((i - cx) ** 2 + (j - cy) ** 2 > r * r + 0.5) continue;
          const key = j * this.width + i;
          if (stamped.has(key)) continue;
          stamped.add(key);
          this.blend(i, j, color);
        }
      }
    }
  }

  polyline(points: readonly (readonly [number, number])[], color: Rgb, width = 1): void {
    for (let k = 1; k < points.length; k++)
      this.line(points[k - 1][0], points[k - 1][1], points[k][0], points[k][1], color, width);
  }

  disc(cx: number, cy: number, r: number, color: Rgb, alpha = 1): void {
    for (let j = Math.floor(cy - r); j <= Math.ceil(cy + r); j++) {
      for (let i = Math.floor(cx - r); i <= Math.ceil(cx + r); i++) {
        if ((i + 0.5 - cx) ** 2 + (j + 0.5 - cy) ** 2 <= r * r) this.blend(i, j, color, alpha);
      }
    }
  }

  /** Text in the 3x5 font, `scale` pixels per font pixel; (x, y) is the left (or anchor) of the baseline. */
  text(
    x: number,
    y: number,
    s: string,
    color: Rgb,
    scale = 2,
    anchor: "start" | "middle" | "end" = "start",
  ): void {
    const advance = 4 * scale;
    const width = s.length * advance - scale;
    let left = Math.round(anchor === "start" ? x : anchor === "middle" ? x - width / 2 : x - width);
    const top = Math.round(y - 5 * scale);
    for (const ch of s) {
      const glyph = GLYPHS[ch] ?? GLYPHS[ch.toLowerCase()] ?? UNKNOWN;
      for (let row = 0; row < 5; row++) {
        for (let col = 0; col < 3; col++) {
          if (glyph[row] & (4 >> col))
            this.fillRect(left + col * scale, top + row * scale, scale, scale, color);
        }
      }
      left += advance;
    }
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** PNG bytes of an 8-bit RGBA raster (filter 0 on every scanline, zlib-deflated). */
export function encodePng(raster: Raster): Uint8Array {
  const { width, height, rgba } = raster;
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const rows = new Uint8Array(height * (1 + 4 * width));
  for (let y = 0; y < height; y++)
    rows.set(rgba.subarray(4 * y * width, 4 * (y + 1) * width), y * (1 + 4 * width) + 1);
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
