/**
 * Small pieces the DPM-Solver, EDM and flow-matching schedulers share: the schedule positions
 * of diffusers' `add_noise` / `scale_noise`, and the foreign-config sigma bounds of the
 * Karras / exponential / beta conversions.
 */
import type { Tensor } from "@edmkit/core";
import { checkTensor } from "./discrete-scheduler.js";

export interface NoisePositions {
  /** Schedule position per row (one entry broadcasts over the batch). */
  idx: number[];
  rows: number;
  /** Values per batch row. */
  per: number;
}

/**
 * The rows of `add_noise(original, noise, timesteps)` / `scale_noise` and their schedule
 * positions: `index_for_timestep` of each t without a begin index; otherwise the step index
 * (inpainting, after the first step) or the begin index (img2img, before it) for every row.
 */
export function noisePositions(
  s: {
    indexForTimestep(t: number): number;
    readonly beginIndex: number | null;
    readonly stepIndex: number | null;
  },
  who: string,
  sample: Tensor,
  noise: Tensor,
  timesteps: number | ArrayLike<number>,
): NoisePositions {
  checkTensor(who, "sample", sample);
  checkTensor(who, "noise", noise);
  if (sample.data.length !== noise.data.length)
    throw new RangeError(`${who}: noise has ${noise.data.length} values, sample ${sample.data.length}`);
  const ts = typeof timesteps === "number" ? [timesteps] : Array.from(timesteps);
  const rows = sample.shape.length === 0 ? 1 : sample.shape[0];
  if (ts.length !== 1 && ts.length !== rows)
    throw new RangeError(
      `${who}: ${ts.length} timesteps for a batch of ${rows} rows (give one, or one per row)`,
    );
  const idx =
    s.beginIndex === null
      ? ts.map((t) => s.indexForTimestep(t))
      : ts.map(() => s.stepIndex ?? (s.beginIndex as number));
  return { idx, rows, per: rows === 0 ? 0 : sample.data.length / rows };
}

/**
 * diffusers' Karras / exponential / beta conversions read `config.sigma_min` / `sigma_max`
 * when the config has them. Schedulers without such arguments still get them from a foreign
 * config (from_config keeps its extra keys, e.g. an Euler config's sigma_min); reproduced.
 */
export function foreignSigma(
  config: Readonly<Record<string, unknown>>,
  key: "sigma_min" | "sigma_max",
  who: string,
): number | null {
  const v = config[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number")
    throw new TypeError(`${who}: config ${key} must be a number or null, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * DPM-Solver's `index_for_timestep`: the Euler family's lookup (second match for a repeated
 * t), except that a t not in the schedule gives the LAST position instead of an error.
 */
export function lastIfAbsent(lookup: () => number, length: number): number {
  try {
    return lookup();
  } catch (e) {
    if (e instanceof RangeError) return length - 1;
    throw e;
  }
}
