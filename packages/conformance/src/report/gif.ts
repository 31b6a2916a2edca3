/**
 * A minimal GIF89a encoder (global palette, LZW, looping) and the animated 1-D trajectory that
 * the HTML report embeds: particles travelling from σ_max to 0 over the noised density. No
 * dependencies: frames are drawn by the small indexed-colour rasterizer below.
 */
import type { Report } from "./schema.js";
import { densityRows } from "./svg/trajectories.js";

/** Growable byte buffer. */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b & 255;
  }

  u16(v: number): void {
    this.byte(v & 255);
    this.byte((v >> 8) & 255);
  }

  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * LZW-compresses one frame of palette indices the way GIF expects: variable-width codes from
 * minCodeSize + 1 up to 12 bits, packed least-significant bit first, a clear code first and
 * whenever the 4096-entry table fills, and the end-of-information code last. Returns the code
 * stream already split into ≤ 255-byte sub-blocks with the 0 terminator.
 */
export function lzwEncode(pixels: Uint8Array, minCodeSize: number): Uint8Array {
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  const out = new Bytes();
  let block = new Uint8Array(255);
  let blockLen = 0;
  let acc = 0; // bit accumulator
  let accBits = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code: number) => {
    acc |= code << accBits;
    accBits += codeSize;
    while (accBits >= 8) {
      block[blockLen++] = acc & 255;
      acc >>>= 8;
      accBits -= 8;
      if (blockLen === 255) {
        out.byte(255);
        out.bytes(block);
        block = new Uint8Array(255);
        blockLen = 0;
      }
    }
  };
  // Dictionary: key = prefix code * 256 + next index → code.
  const table = new Map<number, number>();
  let next = eoi + 1;
  emit(clear);
  if (pixels.length > 0) {
    let prefix = pixels[0];
    for (let i = 1; i < pixels.length; i++) {
      const k = pixels[i];
      const key = prefix * 256 + k;
      const found = table.get(key);
      if (found !== undefined) {
        prefix = found;
        continue;
      }
      emit(prefix);
      if (next === 4096) {
        // Table full: start over (the decoder resets on the clear code).
        emit(clear);
        table.clear();
        next = eoi + 1;
        codeSize = minCodeSize + 1;
      } else {
        // The decoder widens its codes once its table reaches 2^codeSize entries; it adds each
        // entry one code later than we do, so we widen when `next` reaches that size here.
        if (next >= 1 << codeSize) codeSize++;
        table.set(key, next++);
      }
      prefix = k;
    }
    emit(prefix);
  }
  emit(eoi);
  if (accBits > 0) {
    block[blockLen++] = acc & 255;
  }
  if (blockLen > 0) {
    out.byte(blockLen);
    out.bytes(block.subarray(0, blockLen));
  }
  out.byte(0);
  return out.result();
}

/**
 * Encodes an animated GIF89a.
 * @param frames one Uint8Array of palette indices per frame, row-major, width*height each
 * @param palette flat RGB bytes, 2 to 256 colours (padded to a power of two in the file)
 * @param delayCs delay per frame in hundredths of a second (one number for all, or one per frame)
 * The animation loops forever (NETSCAPE2.0 extension); frames replace each other (disposal 1).
 */
export function encodeGif(
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  palette: ArrayLike<number>,
  delayCs: number | readonly number[],
): Uint8Array {
  if (!Number.isInteger(width) || width < 1 || width > 65535)
    throw new Error(`encodeGif: width must be an integer in 1..65535, got ${width}`);
  if (!Number.isInteger(height) || height < 1 || height > 65535)
    throw new Error(`encodeGif: height must be an integer in 1..65535, got ${height}`);
  if (frames.length === 0) throw new Error("encodeGif: frames must hold at least one frame, got 0");
  if (palette.length % 3 !== 0 || palette.length < 6 || palette.length > 768) {
    throw new Error(
      `encodeGif: palette must be flat RGB triples for 2..256 colours, got ${palette.length} values`,
    );
  }
  const colors = palette.length / 3;
  const delays = typeof delayCs === "number" ? frames.map(() => delayCs) : delayCs;
  if (delays.length !== frames.length)
    throw new Error(
      `encodeGif: delayCs must have one entry per frame (${frames.length}), got ${delays.length}`,
    );
  frames.forEach((f, i) => {
    if (f.length !== width * height)
      throw new Error(
        `encodeGif: frames[${i}] must have width*height = ${width * height} pixels, got ${f.length}`,
      );
    for (let p = 0; p < f.length; p++) {
      if (f[p] >= colors)
        throw new Error(
          `encodeGif: frames[${i}][${p}] = ${f[p]} is not a palette index (palette has ${colors} colours)`,
        );
    }
  });
  delays.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 0 || d > 65535)
      throw new Error(`encodeGif: delayCs[${i}] must be an integer in 0..65535, got ${d}`);
  });

  let tableBits = 1; // the file stores 2^tableBits colours
  while (1 << tableBits < colors) tableBits++;
  const out = new Bytes();
  out.ascii("GIF89a");
  // Logical screen descriptor: global colour table present, 8-bit colour resolution.
  out.u16(width);
  out.u16(height);
  out.byte(0x80 | (7 << 4) | (tableBits - 1));
  out.byte(0); // background colour index
  out.byte(0); // pixel aspect ratio: unspecified
  for (let i = 0; i < 1 << tableBits; i++) {
    out.byte(i < colors ? palette[3 * i] : 0);
    out.byte(i < colors ? palette[3 * i + 1] : 0);
    out.byte(i < colors ? palette[3 * i + 2] : 0);
  }
  // NETSCAPE2.0 application extension: loop count 0 = forever.
  out.byte(0x21);
  out.byte(0xff);
  out.byte(11);
  out.ascii("NETSCAPE2.0");
  out.byte(3);
  out.byte(1);
  out.u16(0);
  out.byte(0);
  const minCodeSize = Math.max(2, tableBits);
  frames.forEach((frame, i) => {
    // Graphic control extension: disposal "leave in place", no transparency, the frame's delay.
    out.byte(0x21);
    out.byte(0xf9);
    out.byte(4);
    out.byte(1 << 2);
    out.u16(delays[i]);
    out.byte(0);
    out.byte(0);
    // Image descriptor: full-screen frame, no local colour table, not interlaced.
    out.byte(0x2c);
    out.u16(0);
    out.u16(0);
    out.u16(width);
    out.u16(height);
    out.byte(0);
    out.byte(minCodeSize);
    out.bytes(lzwEncode(frame, minCodeSize));
  });
  out.byte(0x3b);
  return out.result();
}

// ---------------------------------------------------------------------------------------------
// Rasterizer: an indexed-colour canvas with rectangles, discs and a 3×5 pixel font.

/** 3×5 glyphs (σ is 4 wide): '#' is ink. */
const glyphs: Record<string, string[]> = {
  "0": ["###", "#.#", "#.#", "#.#", "###"],
  "1": [".#.", "##.", ".#.", ".#.", "###"],
  "2": ["###", "..#", "###", "#..", "###"],
  "3": ["###", "..#", ".##", "..#", "###"],
  "4": ["#.#", "#.#", "###", "..#", "..#"],
  "5": ["###", "#..", "###", "..#", "###"],
  "6": ["###", "#..", "###", "#.#", "###"],
  "7": ["###", "..#", "..#", ".#.", ".#."],
  "8": ["###", "#.#", "###", "#.#", "###"],
  "9": ["###", "#.#", "###", "..#", "###"],
  ".": ["...", "...", "...", "...", ".#."],
  "-": ["...", "...", "###", "...", "..."],
  "=": ["...", "###", "...", "###", "..."],
  " ": ["..", "..", "..", "..", ".."],
  "<": ["..#", ".#.", "#..", ".#.", "..#"],
  ">": ["#..", ".#.", "..#", ".#.", "#.."],
  x: ["...", "#.#", ".#.", "#.#", "..."],
  σ: ["....", ".###", "#.#.", "#.#.", ".#.."],
};

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

  /** Draws text with the 3×5 font at pixel `scale`; returns the width drawn. */
  text(x: number, y: number, s: string, color: number, scale = 2): number {
    let cx = x;
    for (const ch of s) {
      const g = glyphs[ch] ?? glyphs[" "];
      for (let row = 0; row < 5; row++) {
        for (let col = 0; col < g[row].length; col++) {
          if (g[row][col] === "#") this.rect(cx + col * scale, y + row * scale, scale, scale, color);
        }
      }
      cx += (g[0].length + 1) * scale;
    }
    return cx - x;
  }

  /** Width `text` would take. */
  static textWidth(s: string, scale = 2): number {
    let w = 0;
    for (const ch of s) w += ((glyphs[ch] ?? glyphs[" "])[0].length + 1) * scale;
    return w;
  }
}

// ---------------------------------------------------------------------------------------------
// The trajectory animation.

/** Palette of the animation (indices used by the frames). */
export const animationPalette = {
  background: 0,
  axis: 1,
  text: 2,
  densityFill: 3,
  densityLine: 4,
  histogram: 5,
  low: 6,
  high: 7,
  barTrack: 8,
  barFill: 9,
  rgb: [
    [255, 255, 255],
    [200, 205, 214],
    [43, 48, 58],
    [220, 229, 244],
    [47, 93, 158],
    [224, 123, 57],
    [192, 57, 43],
    [17, 122, 139],
    [233, 236, 241],
    [108, 122, 145],
  ],
} as const;

export interface TrajectoryAnimationOptions {
  width?: number;
  height?: number;
  /** Number of frames from σ_max to 0 (default 40). */
  frames?: number;
  /** Delay between frames in centiseconds (default 8); the first and last frames are held longer. */
  delayCs?: number;
}

function fmtSigma(s: number): string {
  if (s <= 0) return "0";
  if (s >= 100) return s.toFixed(0);
  if (s >= 10) return s.toFixed(1);
  if (s >= 1) return s.toFixed(2);
  return s.toFixed(3);
}

/** Linear interpolation of a density row at σ between the grid rows that bracket it. */
function densityAt(rows: number[][], sigmas: readonly number[], sigma: number): Float64Array | null {
  if (rows.length === 0) return null;
  const order = sigmas.map((s, i) => ({ s, i })).sort((a, b) => a.s - b.s);
  const pick = (i: number) => Float64Array.from(rows[i], Math.exp);
  if (sigma <= order[0].s) return pick(order[0].i);
  if (sigma >= order[order.length - 1].s) return pick(order[order.length - 1].i);
  let j = 0;
  while (order[j + 1].s < sigma) j++;
  const a = pick(order[j].i);
  const b = pick(order[j + 1].i);
  const f = (sigma - order[j].s) / (order[j + 1].s - order[j].s);
  for (let k = 0; k < a.length; k++) a[k] += (b[k] - a[k]) * f;
  return a;
}

/**
 * Renders the 1-D trajectory figure as a looping GIF: at each frame the particles (one per path,
 * coloured by the side of 0 they end on) sit at their interpolated position, over the density
 * p(x; σ) at the current σ and the particles' histogram on the same scale; a bar at the bottom
 * shows σ going from σ_max to 0 on a log scale. Particles outside the window are counted at its
 * edges. Default size 320×160, 40 frames.
 */
export function trajectoryAnimation(
  fig: Report["figures"]["trajectories1d"],
  opts: TrajectoryAnimationOptions = {},
): Uint8Array {
  const W = opts.width ?? 320;
  const H = opts.height ?? 160;
  const nFrames = opts.frames ?? 40;
  const delay = opts.delayCs ?? 8;
  const S = fig.sigmas.length;
  if (S < 2)
    throw new Error(
      `trajectoryAnimation: figures.trajectories1d.sigmas must hold at least 2 sigmas, got ${S}`,
    );
  if (!Number.isInteger(nFrames) || nFrames < 2)
    throw new Error(`trajectoryAnimation: opts.frames must be an integer >= 2, got ${nFrames}`);
  if (W < 120 || H < 90)
    throw new Error(`trajectoryAnimation: the animation needs at least 120x90 pixels, got ${W}x${H}`);
  fig.paths.forEach((p, i) => {
    if (p.length !== S)
      throw new Error(
        `trajectoryAnimation: figures.trajectories1d.paths[${i}] must have ${S} values (one per sigma), got ${p.length}`,
      );
  });
  const P = animationPalette;
  const rows = densityRows(fig.density);
  const xs = fig.density.x;
  let lo = xs.length ? Math.min(...xs) : -3;
  let hi = xs.length ? Math.max(...xs) : 3;
  if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];

  // Layout.
  const plotL = 8;
  const plotR = W - 8;
  const plotT = 8;
  const base = Math.round(H * 0.7);
  const stripT = base + 4;
  const stripH = Math.round(H * 0.09);
  const barY = H - 14;
  const px = (v: number) => plotL + ((v - lo) / (hi - lo)) * (plotR - plotL);

  // Fixed vertical scale: the highest density anywhere on the grid (the data density, usually).
  let peak = 0;
  for (const row of rows) for (const v of row) peak = Math.max(peak, Math.exp(v));
  if (!(peak > 0)) peak = 1;
  const yOf = (p: number) => base - Math.min(1, p / (peak * 1.12)) * (base - plotT);

  const sMax = Math.max(...fig.sigmas.filter((s) => s > 0));
  const sMinPos = Math.min(...fig.sigmas.filter((s) => s > 0));
  const final = fig.paths.map((p) => p[S - 1]);
  const jitter = fig.paths.map((_, i) => ((i * 0.6180339887) % 1) * (stripH - 2) + 1);
  const bins = Math.max(8, Math.min(48, Math.round(Math.sqrt(Math.max(1, fig.paths.length)) * 3)));
  const binW = (hi - lo) / bins;
  const frames: Uint8Array[] = [];
  const delays: number[] = [];
  const canvas = new IndexedCanvas(W, H);

  for (let f = 0; f < nFrames; f++) {
    const t = (f * (S - 1)) / (nFrames - 1);
    const i = Math.min(S - 2, Math.floor(t));
    const u = t - i;
    const sigma = fig.sigmas[i] + (fig.sigmas[i + 1] - fig.sigmas[i]) * u;
    const pos = fig.paths.map((p) => p[i] + (p[i + 1] - p[i]) * u);
    canvas.clear(P.background);

    // Density at this σ: filled area with a 2-pixel outline.
    const dens = densityAt(rows, fig.density.sigma, sigma);
    if (dens) {
      let k = 0;
      let prevY = -1;
      for (let x = plotL; x < plotR; x++) {
        const v = lo + ((x + 0.5 - plotL) / (plotR - plotL)) * (hi - lo);
        while (k < xs.length - 2 && xs[k + 1] < v) k++;
        const fk = xs.length > 1 ? Math.min(1, Math.max(0, (v - xs[k]) / (xs[k + 1] - xs[k]))) : 0;
        const p = xs.length > 1 ? dens[k] + (dens[k + 1] - dens[k]) * fk : dens[0];
        const y = Math.round(yOf(p));
        canvas.rect(x, y, 1, base - y, P.densityFill);
        const ya = prevY < 0 ? y : Math.min(prevY, y);
        const yb = prevY < 0 ? y : Math.max(prevY, y);
        canvas.rect(x, ya - 1, 1, yb - ya + 2, P.densityLine);
        prevY = y;
      }
    }

    // Histogram of the particles as a density on the same scale (outline only).
    const counts = new Float64Array(bins);
    let offLeft = 0;
    let offRight = 0;
    for (const v of pos) {
      if (v < lo) offLeft++;
      else if (v >= hi) offRight++;
      else counts[Math.min(bins - 1, Math.floor((v - lo) / binW))]++;
    }
    let prevTop = base;
    for (let b = 0; b <= bins; b++) {
      const top = b < bins ? Math.round(yOf(counts[b] / (fig.paths.length * binW))) : base;
      const xEdge = Math.round(px(lo + b * binW));
      canvas.rect(xEdge, Math.min(prevTop, top), 1, Math.abs(prevTop - top) + 1, P.histogram);
      if (b < bins && top < base)
        canvas.rect(xEdge, top, Math.round(px(lo + (b + 1) * binW)) - xEdge + 1, 1, P.histogram);
      prevTop = top;
    }

    // Baseline and particles.
    canvas.rect(plotL, base, plotR - plotL, 1, P.axis);
    pos.forEach((v, p) => {
      if (v < lo || v >= hi) return;
      canvas.disc(px(v), stripT + jitter[p], 1.3, final[p] < 0 ? P.low : P.high);
    });
    if (offLeft) canvas.text(plotL, plotT, `<${offLeft}`, P.text, 2);
    if (offRight) {
      const s = `${offRight}>`;
      canvas.text(plotR - IndexedCanvas.textWidth(s, 2), plotT, s, P.text, 2);
    }

    // σ read-out and progress bar (log scale from σ_max to the smallest positive σ, then 0).
    const label = `σ=${fmtSigma(sigma)}`;
    canvas.text(plotL, barY - 2, label, P.text, 2);
    const bx0 = plotL + IndexedCanvas.textWidth("σ=00.00", 2) + 8;
    const bx1 = plotR;
    canvas.rect(bx0, barY, bx1 - bx0, 6, P.barTrack);
    const frac =
      sigma <= 0
        ? 1
        : sMax > sMinPos
          ? Math.min(1, Math.max(0, Math.log(sMax / Math.max(sigma, sMinPos)) / Math.log(sMax / sMinPos))) *
            0.95
          : 0.5;
    const fill = sigma <= 0 ? 1 : frac;
    canvas.rect(bx0, barY, Math.round((bx1 - bx0) * fill), 6, P.barFill);
    frames.push(canvas.pixels.slice());
    delays.push(f === 0 ? 60 : f === nFrames - 1 ? 200 : delay);
  }
  return encodeGif(frames, W, H, P.rgb.flat(), delays);
}
