/**
 * GaussianMixture's blocked loops (components outer, rows inner, issue 16) against the
 * row-by-row formula they replaced, element for element (Object.is: same bits, NaN and -0
 * included), on random mixtures and inputs: float32 and float64, one σ for the batch, one σ
 * per row, and batches whose blocks mix both; sizes that leave a partial last block.
 */
import { describe, expect, test } from "vitest";
import { allocate, fastExp, GaussianMixture, libm, MT19937, type Tensor, tensor } from "../src/index.js";

/** The row-by-row formula of the previous implementation, operation for operation. */
function rowByRow(g: GaussianMixture, x: Tensor, sigma: ArrayLike<number>): Tensor {
  const { k, dim, means, variances, logWeights } = g;
  const pointMass = variances.some((v) => v === 0);
  const o = tensor(allocate(x.dtype, x.data.length), x.shape);
  const od = o.data,
    xs = x.data;
  const logits = new Float64Array(k),
    acc = new Float64Array(dim);
  for (let off = 0, r = 0; off < xs.length; off += dim, r++) {
    const s2 = sigma[r] * sigma[r];
    if (s2 === 0 && pointMass) {
      for (let d = 0; d < dim; d++) od[off + d] = xs[off + d];
      continue;
    }
    let maxLogit = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = variances[j] + s2;
      let d2 = 0;
      for (let d = 0; d < dim; d++) {
        const diff = xs[off + d] - means[j * dim + d];
        d2 += diff * diff;
      }
      const l = logWeights[j] - d2 / (2 * v) - 0.5 * dim * libm.log(v);
      logits[j] = l;
      if (l > maxLogit) maxLogit = l;
    }
    let z = 0;
    for (let j = 0; j < k; j++) {
      logits[j] = fastExp(logits[j] - maxLogit);
      z += logits[j];
    }
    acc.fill(0);
    for (let j = 0; j < k; j++) {
      const sh = variances[j] / (variances[j] + s2);
      for (let d = 0; d < dim; d++) {
        const mu = means[j * dim + d];
        acc[d] += logits[j] * (mu + sh * (xs[off + d] - mu));
      }
    }
    for (let d = 0; d < dim; d++) od[off + d] = acc[d] / z;
  }
  return o;
}

function firstMismatch(a: Tensor, b: Tensor): string | undefined {
  for (let i = 0; i < a.data.length; i++)
    if (!Object.is(a.data[i], b.data[i])) return `element ${i}: ${a.data[i]} vs ${b.data[i]}`;
  return undefined;
}

const rng = new MT19937(16);
const uniform = (lo: number, hi: number) => lo + ((hi - lo) * rng.nextUint32()) / 2 ** 32;

function randomMixture(dim: number, k: number, equalStds: boolean, pointMass: boolean): GaussianMixture {
  const std = uniform(0.05, 1);
  return new GaussianMixture({
    dim,
    weights: Array.from({ length: k }, () => uniform(0.1, 3)),
    means: Array.from({ length: k }, () => Array.from({ length: dim }, () => uniform(-3, 3))),
    // a few repeated stds among distinct ones when not all equal
    stds: Array.from({ length: k }, (_, j) =>
      pointMass && j === 0 ? 0 : equalStds ? std : j % 3 === 2 ? std : uniform(0.01, 1.5),
    ),
  });
}

const cases = [
  { name: "ring (dim 2, k 8, equal stds)", dim: 2, k: 8, equal: true, pm: false },
  { name: "dim 3, k 5, mixed stds", dim: 3, k: 5, equal: false, pm: false },
  { name: "dim 1, k 2, point mass", dim: 1, k: 2, equal: false, pm: true },
  { name: "dim 16, k 40, mixed stds", dim: 16, k: 40, equal: false, pm: false },
  { name: "dim 2, k 200 (small blocks)", dim: 2, k: 200, equal: false, pm: false },
];

describe("GaussianMixture: blocked loops equal the row-by-row formula bit for bit", () => {
  test.each(cases)("$name", ({ dim, k, equal, pm }) => {
    const g = randomMixture(dim, k, equal, pm);
    const rows = 700; // several blocks of 256 (or fewer rows for many components) and a partial one
    const x64 = Float64Array.from({ length: rows * dim }, () => uniform(-4, 4));
    // far-away points (the log-sum-exp path) and an exact mean
    x64[0] = 1e4;
    for (let d = 0; d < dim; d++) x64[dim + d] = g.means[d];
    const sigmas: [string, Float64Array][] = [
      ["shared", new Float64Array(rows).fill(uniform(0.01, 3))],
      ["per row", Float64Array.from({ length: rows }, () => Math.exp(uniform(-6, 4)))],
      // runs of equal σ that cross block boundaries, some σ = 0 (point mass: D = x)
      ["runs", Float64Array.from({ length: rows }, (_, r) => (r % 300 < 200 ? 0.7 : r % 7 === 0 ? 0 : 1.9))],
    ];
    for (const [label, sigma] of sigmas) {
      for (const dtype of ["float32", "float64"] as const) {
        const x = tensor(dtype === "float32" ? Float32Array.from(x64) : Float64Array.from(x64), [rows, dim]);
        const want = rowByRow(g, x, sigma);
        const got = g.denoiseSync(x, sigma);
        expect(got.dtype).toBe(dtype);
        expect(firstMismatch(got, want), `${label} ${dtype}`).toBeUndefined();
        // twice through the same instance (cached σ terms, reused scratch), and into an `out`
        const out = tensor(allocate(dtype, rows * dim), [rows, dim]);
        g.denoiseSync(x, sigma, out);
        expect(firstMismatch(out, want), `${label} ${dtype} (out)`).toBeUndefined();
      }
    }
  });
});
