/**
 * Where a scheduler's random draws come from: diffusers' `randn_tensor(shape, generator=...,
 * dtype=...)` with
 * - one torch-compatible generator (core `TorchGenerator`): `torch.randn(shape, generator)`;
 * - an array of them, one per batch row: row b is `torch.randn((1, *shape[1:]),
 *   generator=generators[b])` (diffusers' list-of-generators branch);
 * - any core `NoiseSource` (recorded draws for fixture replay, `TorchNoise`, ...).
 * diffusers falls back to torch's global generator when none is given; there is no global
 * random state here, so a step that needs noise without a generator is an error.
 */
import { ArgumentError } from "@edmkit/core";
import type { NoiseRequest, NoiseSource, Tensor, TypedArray } from "@edmkit/core";

/** The part of core's `TorchGenerator` a scheduler uses: fill an array like torch.randn. */
export interface TorchGeneratorLike {
  randnInto(out: TypedArray): void;
}

export type Generator = TorchGeneratorLike | readonly TorchGeneratorLike[] | NoiseSource;

function isTorchGenerator(g: unknown): g is TorchGeneratorLike {
  return typeof g === "object" && g !== null && typeof (g as TorchGeneratorLike).randnInto === "function";
}

function isNoiseSource(g: unknown): g is NoiseSource {
  return typeof g === "object" && g !== null && typeof (g as NoiseSource).randn === "function";
}

/** Check a generator argument, with a message naming the caller (`who`.step). */
export function checkGenerator(who: string, g: unknown): asserts g is Generator | undefined {
  if (g === undefined || g === null) return;
  if (Array.isArray(g)) {
    g.forEach((x, i) => {
      if (!isTorchGenerator(x))
        throw new ArgumentError(`${who}.step: generator[${i}] is not a TorchGenerator`);
    });
    return;
  }
  if (!isTorchGenerator(g) && !isNoiseSource(g)) {
    throw new ArgumentError(
      `${who}.step: generator must be a TorchGenerator, an array of them (one per batch row) or a NoiseSource`,
    );
  }
}

/**
 * Fill `out` (shape and dtype of the model output) with unit normals from `g`, exactly as
 * diffusers' randn_tensor would draw them. `who` names the scheduler in error messages.
 */
export function drawNoise(
  who: string,
  g: Generator | undefined | null,
  out: Tensor,
  request?: NoiseRequest,
): Tensor {
  if (g === undefined || g === null) {
    throw new ArgumentError(
      `${who}.step: this step draws noise but no generator was given (diffusers would use torch's global ` +
        `generator); pass { generator: new TorchGenerator(seed) }, an array of them, or a NoiseSource`,
    );
  }
  if (Array.isArray(g)) {
    const rows = out.shape.length === 0 ? 1 : out.shape[0];
    if (g.length !== rows) {
      throw new ArgumentError(
        `${who}.step: ${g.length} generators for a batch of ${rows} rows (diffusers needs one per row)`,
      );
    }
    const per = rows === 0 ? 0 : out.data.length / rows;
    for (let b = 0; b < rows; b++)
      (g[b] as TorchGeneratorLike).randnInto(out.data.subarray(b * per, (b + 1) * per));
    return out;
  }
  if (isTorchGenerator(g)) {
    g.randnInto(out.data);
    return out;
  }
  const r = (g as NoiseSource).randn(out, request);
  if (r !== out) out.data.set(r.data);
  return out;
}
