/**
 * The named test mixtures of the fixtures, the conformance suite, the report and the CLI,
 * defined once: `gmm1d-bimodal` (weights 0.5/0.5, means -1 and 1, std 0.3) and `gmm2d-ring8`
 * (8 equal components at angles 2 pi k / 8 on a circle of radius 2, std 0.15).
 */
import * as libm from "../libm.js";
import { GaussianMixture, type GmmSpec } from "./gmm.js";

/** A mixture spec with its kind tag (a fixture-format `gmm` denoiser object). */
export type NamedGmmSpec = GmmSpec & { kind: "gmm"; weights: number[]; means: number[][]; stds: number[] };

/**
 * `count` equal components at angles 2 pi k / count on a circle of `radius`, each with std
 * `std` (defaults: the fixtures' gmm2d-ring8). sigma_data = sqrt(radius^2 / 2 + std^2).
 */
export function ringMixture(count = 8, radius = 2, std = 0.15): NamedGmmSpec {
  const means: number[][] = [];
  for (let k = 0; k < count; k++) {
    const angle = (2 * Math.PI * k) / count;
    means.push([radius * libm.cos(angle), radius * libm.sin(angle)]);
  }
  return {
    kind: "gmm",
    dim: 2,
    weights: new Array(count).fill(1 / count),
    means,
    stds: new Array(count).fill(std),
  };
}

/** The fixtures' 1-D bimodal mixture. sigma_data = sqrt(1.09) = 1.04403. */
export function bimodalMixture(): NamedGmmSpec {
  return { kind: "gmm", dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] };
}

/** Each named mixture by its name; every call returns a fresh spec. */
export const namedMixtures = {
  "gmm1d-bimodal": bimodalMixture,
  "gmm2d-ring8": () => ringMixture(),
} as const satisfies Record<string, () => NamedGmmSpec>;

export type MixtureName = keyof typeof namedMixtures;

export function isMixtureName(name: unknown): name is MixtureName {
  return typeof name === "string" && Object.hasOwn(namedMixtures, name);
}

/** The exact denoiser of a named mixture. */
export function namedMixtureDenoiser(name: MixtureName): GaussianMixture {
  return new GaussianMixture(namedMixtures[name]());
}
