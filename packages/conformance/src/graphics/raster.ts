/**
 * The rasters edmkit draws on, without a graphics dependency: an RGBA raster with alpha
 * blending (the CLI's PNG plots, text in the 5x7 font of ./font5x7.ts, with lower case) and an
 * indexed-colour canvas (the report's GIF animation, text in the 3x5 font of ./font.ts).
 */
import { drawText, textAdvance } from "./font.js";
import { drawText5x7, textAdvance5x7 } from "./font5x7.js";

export type Rgb = readonly [number, number, number];

/** "#rrggbb" to [r, g, b]. */
export function parseHex(color: string): Rgb {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) throw new RangeError(`parseHex: expected a color "#rrggbb", got "${color}"`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

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

  /** Text in the 5x7 font, `scale` pixels per font pixel; (x, y) is the left (or anchor) of the baseline. */
  text(
    x: number,
    y: number,
    s: string,
    color: Rgb,
    scale = 1,
    anchor: "start" | "middle" | "end" = "start",
  ): void {
    const width = Raster.textWidth(s, scale);
    const left = Math.round(anchor === "start" ? x : anchor === "middle" ? x - width / 2 : x - width);
    drawText5x7((px, py, w, h) => this.fillRect(px, py, w, h, color), left, Math.round(y), s, scale);
  }

  /** The inked width of `text` (its advance less the trailing gap). */
  static textWidth(s: string, scale = 1): number {
    return Math.max(0, textAdvance5x7(s, scale) - scale);
  }
}

/** An indexed-colour image. */
export class IndexedCanvas {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height);
  }

  clear(color: number): void {
    this.pixels.fill(color);
  }

  /** Fills [x, x+w) × [y, y+h), clipped to the canvas. */
  rect(x: number, y: number, w: number, h: number, color: number): void {
    const xa = Math.max(0, Math.round(x));
    const ya = Math.max(0, Math.round(y));
    const xb = Math.min(this.width, Math.round(x + w));
    const yb = Math.min(this.height, Math.round(y + h));
    for (let yy = ya; yy < yb; yy++)
      this.pixels.fill(color, yy * this.width + xa, yy * this.width + Math.max(xa, xb));
  }

  /** A filled disc of radius r centred at (cx, cy). */
  disc(cx: number, cy: number, r: number, color: number): void {
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++) {
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) {
        if (dx * dx + dy * dy > r * r + 0.5) continue;
        const x = Math.round(cx) + dx;
        const y = Math.round(cy) + dy;
        if (x >= 0 && y >= 0 && x < this.width && y < this.height) this.pixels[y * this.width + x] = color;
      }
    }
  }

  /** Draws text with the 3×5 font at pixel `scale`, top-left at (x, y); returns the width drawn. */
  text(x: number, y: number, s: string, color: number, scale = 2): number {
    return drawText((px, py, w, h) => this.rect(px, py, w, h, color), x, y, s, scale);
  }

  /** Width `text` would take. */
  static textWidth(s: string, scale = 2): number {
    return textAdvance(s, scale);
  }
}
