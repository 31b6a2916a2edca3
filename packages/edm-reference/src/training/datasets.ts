/**
 * Toy data distributions for training EDM denoisers, each a sampler with its sigma_data.
 *
 * sigma_data is EDM's per-coordinate standard deviation of the data,
 * sqrt(mean over coordinates of Var[y_d]), the same definition core's
 * `GaussianMixture.dataStd` uses (1.04403 for gmm1d-bimodal, 1.42215 for gmm2d-ring8, as
 * in fixtures/models). Every value below is computed in closed form; the tests check each
 * against a Monte-Carlo estimate.
 */
import {
  ArgumentError,
  bimodalMixture,
  GaussianMixture,
  type GmmSpec,
  libm,
  ringMixture,
} from "@edmkit/core";
import type { ToyRng } from "./rng.js";

export interface ToyDataset {
  /** Registry name (`gmm1d-bimodal`, `gmm2d-ring8`, `two-moons`, `swiss-roll`, `checkerboard`, or custom). */
  readonly name: string;
  readonly dim: number;
  /** EDM sigma_data: per-coordinate standard deviation (see the module comment). */
  readonly sigmaData: number;
  /** Exact mean of each coordinate. */
  readonly mean: readonly number[];
  /** The mixture itself when the dataset is a Gaussian mixture (its exact denoiser is then known). */
  readonly gmm?: GmmSpec;
  /** Write `n` fresh draws into `out` (row-major [n, dim], at least n*dim long). */
  sampleInto(rng: ToyRng, out: Float64Array | Float32Array, n: number): void;
}

function checkOut(name: string, dim: number, out: { length: number }, n: number): void {
  if (!Number.isInteger(n) || n < 0)
    throw new ArgumentError(`${name}.sampleInto: n must be a non-negative integer, got ${n}`);
  if (out.length < n * dim) {
    throw new ArgumentError(`${name}.sampleInto: out holds ${out.length} values, needs n*dim = ${n * dim}`);
  }
}

function positive(fn: string, arg: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0))
    throw new ArgumentError(`${fn}: ${arg} must be a positive number, got ${v}`);
}

function nonNegative(fn: string, arg: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0))
    throw new ArgumentError(`${fn}: ${arg} must be a non-negative number, got ${v}`);
}

/**
 * Samples of an isotropic Gaussian mixture (the FORMAT.md `gmm` object): pick component k
 * with probability w_k / sum(w), then y = mu_k + s_k n. sigma_data is the mixture's exact
 * per-coordinate std. Draw order: all n*dim unit normals, then one uniform per row.
 */
export function gmmDataset(spec: GmmSpec, name = "gmm"): ToyDataset {
  const mixture = new GaussianMixture(spec); // validates the spec
  const { dim, k } = mixture;
  const cumulative = new Float64Array(k);
  let total = 0;
  for (let j = 0; j < k; j++) cumulative[j] = total += spec.weights[j];
  for (let j = 0; j < k; j++) cumulative[j] /= total;
  cumulative[k - 1] = 1;
  const mean: number[] = [];
  for (let d = 0; d < dim; d++) {
    let m = 0;
    for (let j = 0; j < k; j++) m += (spec.weights[j] / total) * spec.means[j][d];
    mean.push(m);
  }
  const means = mixture.means;
  const stds = Float64Array.from(spec.stds);
  return {
    name,
    dim,
    sigmaData: mixture.dataStd,
    mean,
    gmm: {
      kind: "gmm",
      dim,
      weights: [...spec.weights],
      means: spec.means.map((m) => [...m]),
      stds: [...spec.stds],
    },
    sampleInto(rng, out, n) {
      checkOut(name, dim, out, n);
      // the n*dim unit normals first, then one uniform per row for its component
      rng.normalInto(n * dim === out.length ? out : out.subarray(0, n * dim));
      for (let r = 0; r < n; r++) {
        const u = rng.uniform();
        let j = 0;
        while (j < k - 1 && u >= cumulative[j]) j++;
        for (let d = 0; d < dim; d++) out[r * dim + d] = means[j * dim + d] + stds[j] * out[r * dim + d];
      }
    },
  };
}

/** The fixtures' `gmm1d-bimodal`: weights [0.5, 0.5], means -1 and 1, std 0.3. sigma_data = sqrt(1.09) = 1.04403. */
export function bimodal1d(): ToyDataset {
  return gmmDataset(bimodalMixture(), "gmm1d-bimodal");
}

/**
 * The fixtures' `gmm2d-ring8`: `count` equal components at angles 2 pi k / count on a circle
 * of `radius`, std `std` (defaults 8, 2, 0.15). sigma_data = sqrt(radius^2/2 + std^2) = 1.42215.
 */
export function ring8(options: { count?: number; radius?: number; std?: number } = {}): ToyDataset {
  const { count = 8, radius = 2, std = 0.15 } = options;
  if (!Number.isInteger(count) || count < 1)
    throw new ArgumentError(`ring8: count must be a positive integer, got ${count}`);
  positive("ring8", "radius", radius);
  nonNegative("ring8", "std", std);
  const name = count === 8 && radius === 2 && std === 0.15 ? "gmm2d-ring8" : `gmm2d-ring${count}`;
  return gmmDataset(ringMixture(count, radius, std), name);
}

/**
 * Two interleaving half circles (scikit-learn's make_moons layout), centred: t ~ U(0, pi),
 * upper moon (cos t, sin t), lower moon (1 - cos t, 1/2 - sin t), each with probability 1/2,
 * minus the mean (1/2, 1/4), times `scale`, plus N(0, noise^2) per coordinate
 * (defaults scale 1, noise 0.1).
 * Per coordinate: Var x = 3/4 scale^2, Var y = (9/16 - 1/pi) scale^2, each + noise^2, so
 * sigma_data = sqrt(((21/16 - 1/pi) scale^2 + 2 noise^2) / 2) = 0.71211 at the defaults.
 */
export function twoMoons(options: { noise?: number; scale?: number } = {}): ToyDataset {
  const { noise = 0.1, scale = 1 } = options;
  nonNegative("twoMoons", "noise", noise);
  positive("twoMoons", "scale", scale);
  const varX = 0.75 * scale * scale + noise * noise;
  const varY = (9 / 16 - 1 / Math.PI) * scale * scale + noise * noise;
  return {
    name: "two-moons",
    dim: 2,
    sigmaData: Math.sqrt((varX + varY) / 2),
    mean: [0, 0],
    sampleInto(rng, out, n) {
      checkOut("two-moons", 2, out, n);
      for (let r = 0; r < n; r++) {
        const t = Math.PI * rng.uniform();
        const upper = rng.uniform() < 0.5;
        const x = upper ? libm.cos(t) : 1 - libm.cos(t);
        const y = upper ? libm.sin(t) : 0.5 - libm.sin(t);
        out[2 * r] = (x - 0.5) * scale + noise * rng.normal();
        out[2 * r + 1] = (y - 0.25) * scale + noise * rng.normal();
      }
    },
  };
}

/**
 * A 2-D Swiss roll (the (x, z) plane of scikit-learn's make_swiss_roll), centred:
 * t ~ U(1.5 pi, 4.5 pi), point (t cos t, t sin t) minus its mean (2, 2/(3 pi)), times
 * `scale`, plus N(0, noise^2) per coordinate (defaults scale 0.2, noise 0.05).
 * With E[t^2] = 9.75 pi^2 and E[t^2 cos 2t] = -1/2:
 * Var x = ((9.75 pi^2 - 1/2)/2 - 4) scale^2, Var y = ((9.75 pi^2 + 1/2)/2 - 4/(9 pi^2)) scale^2,
 * each + noise^2; sigma_data = 1.35874 at the defaults.
 */
export function swissRoll(options: { noise?: number; scale?: number } = {}): ToyDataset {
  const { noise = 0.05, scale = 0.2 } = options;
  nonNegative("swissRoll", "noise", noise);
  positive("swissRoll", "scale", scale);
  const et2 = 9.75 * Math.PI * Math.PI;
  const meanX = 2;
  const meanY = 2 / (3 * Math.PI);
  const varX = ((et2 - 0.5) / 2 - meanX * meanX) * scale * scale + noise * noise;
  const varY = ((et2 + 0.5) / 2 - meanY * meanY) * scale * scale + noise * noise;
  return {
    name: "swiss-roll",
    dim: 2,
    sigmaData: Math.sqrt((varX + varY) / 2),
    mean: [0, 0],
    sampleInto(rng, out, n) {
      checkOut("swiss-roll", 2, out, n);
      for (let r = 0; r < n; r++) {
        const t = 1.5 * Math.PI * (1 + 2 * rng.uniform());
        out[2 * r] = (t * libm.cos(t) - meanX) * scale + noise * rng.normal();
        out[2 * r + 1] = (t * libm.sin(t) - meanY) * scale + noise * rng.normal();
      }
    },
  };
}

/**
 * A checkerboard: an n x n board (n even, default 4) of square cells of side `cell`
 * (default 1) centred on the origin; points are uniform on the cells whose column and row
 * indices have the same parity. Each coordinate is then uniform on the whole board side
 * L = n cell, so the mean is 0 and sigma_data = L / sqrt(12) (1.15470 at the defaults).
 */
export function checkerboard(options: { cells?: number; cell?: number } = {}): ToyDataset {
  const { cells = 4, cell = 1 } = options;
  if (!Number.isInteger(cells) || cells < 2 || cells % 2 !== 0) {
    throw new ArgumentError(`checkerboard: cells must be an even integer >= 2, got ${cells}`);
  }
  positive("checkerboard", "cell", cell);
  const side = cells * cell;
  const half = cells / 2;
  return {
    name: "checkerboard",
    dim: 2,
    sigmaData: side / Math.sqrt(12),
    mean: [0, 0],
    sampleInto(rng, out, n) {
      checkOut("checkerboard", 2, out, n);
      for (let r = 0; r < n; r++) {
        const i = rng.int(cells);
        const j = 2 * rng.int(half) + (i & 1);
        out[2 * r] = (i + rng.uniform()) * cell - side / 2;
        out[2 * r + 1] = (j + rng.uniform()) * cell - side / 2;
      }
    },
  };
}

/** Names accepted wherever a dataset may be given by name, with their default parameters. */
export const toyDatasets = {
  "gmm1d-bimodal": bimodal1d,
  "gmm2d-ring8": () => ring8(),
  "two-moons": () => twoMoons(),
  "swiss-roll": () => swissRoll(),
  checkerboard: () => checkerboard(),
} as const satisfies Record<string, () => ToyDataset>;

export type ToyDatasetName = keyof typeof toyDatasets;

/** A dataset by registry name, or the dataset itself. */
export function resolveToyDataset(dataset: ToyDataset | ToyDatasetName): ToyDataset {
  if (typeof dataset !== "string") return dataset;
  const make = (toyDatasets as Record<string, (() => ToyDataset) | undefined>)[dataset];
  if (!Object.hasOwn(toyDatasets, dataset) || make === undefined) {
    throw new ArgumentError(
      `resolveToyDataset: unknown dataset "${dataset}", expected one of ${Object.keys(toyDatasets).join(", ")}`,
    );
  }
  return make();
}
