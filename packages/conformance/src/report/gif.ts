/**
 * The animated 1-D trajectory that the HTML report embeds: particles travelling from σ_max to
 * 0 over the noised density, drawn on the indexed-colour canvas and encoded as a GIF
 * (../graphics).
 */
import { encodeGif } from "../graphics/gif.js";
import { IndexedCanvas } from "../graphics/raster.js";
import type { Report } from "./schema.js";
import { densityRows } from "./svg/trajectories.js";

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
