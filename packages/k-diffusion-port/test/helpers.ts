/** Shared test fixtures: small mixtures, deterministic noise, a few schedules. */
import { GaussianMixture, type NoiseRequest, type NoiseSource, type Tensor, tensor } from "@edmkit/core";

export const ring8 = new GaussianMixture({
  dim: 2,
  weights: Array(8).fill(1),
  means: Array.from({ length: 8 }, (_, k) => [
    2 * Math.cos((2 * Math.PI * k) / 8),
    2 * Math.sin((2 * Math.PI * k) / 8),
  ]),
  stds: Array(8).fill(0.15),
});

export const bimodal = new GaussianMixture({
  dim: 1,
  weights: [0.5, 0.5],
  means: [[-1], [1]],
  stds: [0.3, 0.3],
});

/** Deterministic unit normals (xorshift32 + Box-Muller), recording every request. */
export class SeededNoise implements NoiseSource {
  private state: number;
  readonly requests: (NoiseRequest | undefined)[] = [];
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  private uniform(): number {
    let s = this.state;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.state = s;
    return (s + 0.5) / 4294967296;
  }
  next(): number {
    return Math.sqrt(-2 * Math.log(this.uniform())) * Math.cos(2 * Math.PI * this.uniform());
  }
  randn(out: Tensor, request?: NoiseRequest): Tensor {
    this.requests.push(request);
    for (let k = 0; k < out.data.length; k++) out.data[k] = this.next();
    return out;
  }
}

/** x = latent * sigma_max for `rows` points of `dim` coordinates. */
export function latent(
  rows: number,
  dim: number,
  sigmaMax: number,
  seed = 1,
  dtype: "float32" | "float64" = "float64",
): Tensor {
  const n = new SeededNoise(seed);
  const data = new Float64Array(rows * dim);
  for (let k = 0; k < data.length; k++) data[k] = n.next() * sigmaMax;
  return tensor(data, [rows, dim], dtype);
}

export function bitEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return false;
  return true;
}
