/**
 * Statistics of the Images section, on images as flat rows of d pixels: PSNR and pixel gaps
 * between paired samples, the nearest training image, a two-sample permutation test on the
 * energy distance (is a divergence pathwise only, or distributional?) and the Fréchet distance
 * between Gaussians fitted to two sets of rows (a 64x64 covariance square root by a cyclic
 * Jacobi eigen-decomposition).
 */
import { TorchGenerator } from "@edmkit/core";

/** Peak-to-peak range of the digits' pixels (y = pixels / 8 - 1 lies in [-1, 1]). */
export const PIXEL_RANGE = 2;

/** PSNR (dB, peak = PIXEL_RANGE), max |a - b| and RMS of a - b over the first `count` values. */
export function pixelGaps(a: ArrayLike<number>, b: ArrayLike<number>, count = a.length) {
  let sq = 0,
    max = 0;
  for (let i = 0; i < count; i++) {
    const d = Math.abs(a[i] - b[i]);
    sq += d * d;
    if (d > max || Number.isNaN(d)) max = d;
  }
  const mse = sq / count;
  return { psnr: 10 * Math.log10((PIXEL_RANGE * PIXEL_RANGE) / mse), maxDiff: max, rmsDiff: Math.sqrt(mse) };
}

/** Euclidean distance of each row of `x` to its nearest row of `data` (both [*, d]). */
export function nearestDistances(x: ArrayLike<number>, data: Float64Array, d: number): number[] {
  const n = data.length / d;
  const out: number[] = [];
  for (let r = 0; r < x.length / d; r++) {
    let best = Infinity;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d && s < best; k++) {
        const t = x[r * d + k] - data[i * d + k];
        s += t * t;
      }
      if (s < best) best = s;
    }
    out.push(Math.sqrt(best));
  }
  return out;
}

/**
 * n indices drawn uniformly with replacement from 0..count-1, seeded (a 32-bit mulberry
 * generator: the draws only need to be reproducible, not torch's).
 */
export function resampleIndices(count: number, n: number, seed: number): Int32Array {
  let state = seed >>> 0;
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[k] = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * count);
  }
  return out;
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Energy distance between rows of x and rows of y, and a permutation test of "same
 * distribution": the pooled rows split at random `permutations` times. `floor` is the median
 * of the permuted statistics (the sampling noise of the statistic at these sizes), `pValue`
 * = (1 + #{permuted >= observed}) / (1 + permutations).
 */
export function energyTest(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  d: number,
  permutations = 199,
  seed = 0,
): { value: number; floor: number; pValue: number; permutations: number } {
  const nx = x.length / d,
    ny = y.length / d,
    n = nx + ny;
  const row = (i: number, k: number) => (i < nx ? x[i * d + k] : y[(i - nx) * d + k]);
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (row(i, k) - row(j, k)) ** 2;
      dist[i * n + j] = dist[j * n + i] = Math.sqrt(s);
    }
  // The statistic from the two groups' index lists: the within-group sums gathered, the cross
  // sum as the rest of the whole matrix's (each ordered pair once, as the definition counts).
  let total = 0;
  for (let k = 0; k < n * n; k++) total += dist[k];
  const xs = new Int32Array(nx),
    ys = new Int32Array(ny);
  const within = (idx: Int32Array) => {
    let s = 0;
    for (let a = 0; a < idx.length; a++) {
      const base = idx[a] * n;
      for (let b = 0; b < idx.length; b++) s += dist[base + idx[b]];
    }
    return s;
  };
  const stat = (inX: Uint8Array) => {
    let kx = 0,
      ky = 0;
    for (let i = 0; i < n; i++)
      if (inX[i]) xs[kx++] = i;
      else ys[ky++] = i;
    const xx = within(xs),
      yy = within(ys);
    return (total - xx - yy) / (nx * ny) - xx / (nx * nx) - yy / (ny * ny);
  };
  const labels = new Uint8Array(n);
  for (let i = 0; i < nx; i++) labels[i] = 1;
  const value = stat(labels);
  const gen = new TorchGenerator(seed);
  const perm: number[] = [];
  for (let p = 0; p < permutations; p++) {
    const u = gen.randn([n], "float64").data;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b]);
    labels.fill(0);
    for (let i = 0; i < nx; i++) labels[order[i]] = 1;
    perm.push(stat(labels));
  }
  const above = perm.filter((v) => v >= value).length;
  return { value, floor: median(perm), pValue: (1 + above) / (1 + permutations), permutations };
}

/** p below which two implementations' samples count as different distributions. */
export const DISTRIBUTIONAL_P = 0.01;

/**
 * Pathwise only or distributional: the energy test between a's first `n` rows and b's rows
 * n .. 2n-1 (disjoint seeds, so the two samples are independent even when a and b are
 * deterministic maps of the same latents).
 */
export function disjointSeedTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  d: number,
  n: number,
  permutations = 199,
  seed = 0,
): {
  value: number;
  floor: number;
  pValue: number;
  permutations: number;
  n: number;
  verdict: "pathwise" | "distributional";
} {
  const rows = (v: ArrayLike<number>, from: number) =>
    Float64Array.from({ length: n * d }, (_, k) => v[from * d + k]);
  const test = energyTest(rows(a, 0), rows(b, n), d, permutations, seed);
  return { ...test, n, verdict: test.pValue < DISTRIBUTIONAL_P ? "distributional" : "pathwise" };
}

/** Eigen-decomposition of a symmetric n x n matrix (row-major) by cyclic Jacobi rotations. */
export function symmetricEigen(
  a: ArrayLike<number>,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0,
      diag = 0;
    for (let p = 0; p < n; p++) {
      diag += m[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p],
            akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k],
            aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p],
            vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i];
  return { values, vectors: v };
}

/** Mean and (unbiased) covariance of the rows of x ([*, d]). */
export function meanCov(x: ArrayLike<number>, d: number): { mean: Float64Array; cov: Float64Array } {
  const rows = x.length / d;
  const mean = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let k = 0; k < d; k++) mean[k] += x[r * d + k] / rows;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < d; k++) c[k] = x[r * d + k] - mean[k];
    for (let i = 0; i < d; i++) {
      const ci = c[i] / (rows - 1);
      for (let j = i; j < d; j++) cov[i * d + j] += ci * c[j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i * d + j] = cov[j * d + i];
  return { mean, cov };
}

/** Symmetric square root V diag(sqrt(max(lambda, 0))) V^T. */
export function sqrtSymmetric(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k] * s;
      for (let j = 0; j < n; j++) out[i * n + j] += vik * vectors[j * n + k];
    }
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  return out;
}

/**
 * Fréchet distance between Gaussians fitted to the rows of x and y:
 * |mu_x - mu_y|^2 + tr(Cx + Cy - 2 (Cx^1/2 Cy Cx^1/2)^1/2).
 */
export function frechetDistance(x: ArrayLike<number>, y: ArrayLike<number>, d: number): number {
  const a = meanCov(x, d),
    b = meanCov(y, d);
  let m2 = 0,
    tr = 0;
  for (let k = 0; k < d; k++) {
    m2 += (a.mean[k] - b.mean[k]) ** 2;
    tr += a.cov[k * d + k] + b.cov[k * d + k];
  }
  const s = sqrtSymmetric(a.cov, d);
  const mid = matmul(matmul(s, b.cov, d), s, d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++) mid[i * d + j] = mid[j * d + i] = (mid[i * d + j] + mid[j * d + i]) / 2;
  const { values } = symmetricEigen(mid, d);
  let cross = 0;
  for (const l of values) cross += Math.sqrt(Math.max(l, 0));
  return m2 + tr - 2 * cross;
}
