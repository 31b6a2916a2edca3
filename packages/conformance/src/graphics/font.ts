/**
 * The 3x5 pixel font of every raster edmkit draws (the CLI's PNG plots, the report's GIF
 * animation): glyphs, widths and text layout. Each glyph is 3 pixels wide (σ: 4) and
 * advances by its width plus one pixel, times the scale.
 */

/**
 * 3x5 glyphs, rows top to bottom, 3 bits per row (most significant bit = left column).
 * Upper case is drawn as lower case.
 */
const GLYPHS: Record<string, readonly number[]> = {
  "<": [1, 2, 4, 2, 1],
  ">": [4, 2, 1, 2, 4],
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
/** σ, 4 pixels wide (bit 3 = left column). */
const SIGMA = [0, 7, 10, 10, 4];

export interface Glyph {
  width: number;
  /** One bit mask per row, top to bottom; bit (width - 1 - col) is column col. */
  rows: readonly number[];
}

/** The glyph of a character (upper case as lower case; unknown characters as a box). */
export function glyph(ch: string): Glyph {
  if (ch === "σ") return { width: 4, rows: SIGMA };
  return { width: 3, rows: GLYPHS[ch] ?? GLYPHS[ch.toLowerCase()] ?? UNKNOWN };
}

/** The advance of a string: each glyph's width plus one pixel, times `scale`. */
export function textAdvance(s: string, scale: number): number {
  let w = 0;
  for (const ch of s) w += (glyph(ch).width + 1) * scale;
  return w;
}

/**
 * Draw `s` with its top-left corner at (left, top), one `fill(x, y, w, h)` per inked font
 * pixel; returns the advance.
 */
export function drawText(
  fill: (x: number, y: number, w: number, h: number) => void,
  left: number,
  top: number,
  s: string,
  scale: number,
): number {
  let cx = left;
  for (const ch of s) {
    const g = glyph(ch);
    for (let row = 0; row < 5; row++)
      for (let col = 0; col < g.width; col++)
        if (g.rows[row] & (1 << (g.width - 1 - col))) fill(cx + col * scale, top + row * scale, scale, scale);
    cx += (g.width + 1) * scale;
  }
  return cx - left;
}
