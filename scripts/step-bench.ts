/**
 * What the step benches of the ports share (issue 16; not part of any package): CPU time, the
 * time format, the columns that set a step against the copy bandwidth, and the table printout.
 * Imported by packages/{k-diffusion-port,edm-reference,diffusers-port}/bench/step-bandwidth.ts.
 */
type DType = "float32" | "float64";
/** core's `copyTime` (`@edmkit/core/node`), passed in: this folder depends on no package. */
export type CopyTimeFn = (
  dtype: DType,
  n: number,
  reps?: number,
  inner?: number,
) => { wall: number; cpu: number; threads: number };

/** This process's CPU time (all threads), ms. */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export const fmtTime = (ms: number): string =>
  ms < 0.01 ? `${(ms * 1000).toFixed(2)} us` : `${ms.toFixed(3)} ms`;

export const median = (v: number[]): number => v.sort((a, b) => a - b)[v.length >> 1];

/** A copy's time as the ratio uses it: wall time over threads, CPU time on one. */
const copyMs = (c: { wall: number; cpu: number; threads: number }): number =>
  c.threads > 1 ? c.wall : c.cpu;

/** GB/s of a copy of n values of `dtype` (it reads and writes them once each), over the threads in use. */
export function copyBandwidth(copyTime: CopyTimeFn, dtype: DType, n: number, big: boolean): number {
  const elt = dtype === "float32" ? 4 : 8;
  return (2 * n * elt) / (copyMs(copyTime(dtype, n, big ? 30 : 10, big ? 1 : 20000)) * 1e6);
}

export interface StepCells {
  copyTime: CopyTimeFn;
  dtype: DType;
  /** Elements of x. */
  size: number;
  /** Arrays of x's size the step reads or writes. */
  arrays: number;
  /** Exact divisions an element. */
  divs: number;
  /** The step's time as the ratio uses it (wall over threads, CPU on one), ms. */
  stepMs: number;
  /** Threads the step was cut over. */
  threads: number;
  /** The copy bandwidth of x's size, GB/s (`copyBandwidth`). */
  copyGbs: number;
  /** ms of one lane division (`divisionTime`); NaN leaves out the division columns. */
  tDiv: number;
  /** Large rows also get `same-bytes` and the division columns. */
  big: boolean;
}

/**
 * The columns bytes/step, GB/s, copy GB/s, ratio, same-bytes (against a copy moving the step's
 * bytes: arrays/2 of x's size), div floor (the divisions alone at the measured rate, over the
 * threads) and div cap (the ratio a step that long would reach).
 */
export function stepCells(c: StepCells): string[] {
  const elt = c.dtype === "float32" ? 4 : 8,
    bytes = c.arrays * c.size * elt,
    gbs = bytes / (c.stepMs * 1e6);
  const same = c.big
    ? copyMs(c.copyTime(c.dtype, Math.round((c.arrays * c.size) / 2), 10)) / c.stepMs
    : Number.NaN;
  const floorMs = (c.divs * c.size * c.tDiv) / c.threads;
  const divs = c.big && c.divs > 0 && Number.isFinite(floorMs);
  return [
    `${bytes}`,
    gbs.toFixed(2),
    c.copyGbs.toFixed(2),
    (gbs / c.copyGbs).toFixed(2),
    c.big ? same.toFixed(2) : "",
    divs ? fmtTime(floorMs) : "",
    divs ? (bytes / (floorMs * 1e6) / c.copyGbs).toFixed(2) : "",
  ];
}

/** The header of `stepCells`. */
export const STEP_HEAD = ["bytes/step", "GB/s", "copy GB/s", "ratio", "same-bytes", "div floor", "div cap"];

/** Prints rows under `head`, the first `left` columns left-aligned. */
export function printTable(head: string[], rows: string[][], left: number): void {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c >= left ? v.padStart(w[c]) : v.padEnd(w[c]))).join("  ");
  console.log(line(head));
  console.log(w.map((k) => "-".repeat(k)).join("  "));
  for (const r of rows) console.log(line(r));
}
