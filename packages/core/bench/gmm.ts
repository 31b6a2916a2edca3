/**
 * The exact Gaussian-mixture denoiser at a large batch (issue 16): ms per call and ns per
 * (row, component) pair, float32 and float64 input, one sigma for the whole batch (what a
 * sampler passes) and one sigma per row. Timed in wall time and in this process's CPU time
 * (which a busy machine's time slicing does not inflate); the per-pair figure uses CPU time.
 *
 *   node --import tsx bench/gmm.ts
 */
import { allocate, GaussianMixture, tensor } from "../src/index.js";

const B = 65_536;
const ring8 = new GaussianMixture({
  dim: 2,
  weights: Array(8).fill(1 / 8),
  means: Array.from({ length: 8 }, (_, j) => [
    2 * Math.cos((j * Math.PI) / 4),
    2 * Math.sin((j * Math.PI) / 4),
  ]),
  stds: Array(8).fill(0.1),
});
const wide = new GaussianMixture({
  dim: 16,
  weights: Array.from({ length: 32 }, (_, j) => 1 + (j % 3)),
  means: Array.from({ length: 32 }, (_, j) => Array.from({ length: 16 }, (_, d) => Math.sin(j * 1.7 + d))),
  stds: Array.from({ length: 32 }, (_, j) => 0.05 + 0.01 * j),
});

const rows: string[][] = [];
for (const [name, g] of [
  ["ring8 (dim 2, k 8)", ring8],
  ["dim 16, k 32", wide],
] as const) {
  for (const dtype of ["float32", "float64"] as const) {
    const n = B * g.dim;
    const x = tensor(allocate(dtype, n), [B, g.dim]);
    for (let k = 0; k < n; k++) x.data[k] = Math.sin(k * 0.37) * 3;
    const out = tensor(allocate(dtype, n), [B, g.dim]);
    for (const [label, sigma] of [
      ["shared sigma", new Float64Array(B).fill(1.3)],
      ["per-row sigma", Float64Array.from({ length: B }, (_, r) => 0.5 + (r % 97) * 0.01)],
    ] as const) {
      g.denoiseSync(x, sigma, out); // warm-up
      let wall = Infinity,
        cpu = Infinity;
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now(),
          c0 = process.cpuUsage();
        g.denoiseSync(x, sigma, out);
        const c = process.cpuUsage(c0);
        cpu = Math.min(cpu, (c.user + c.system) / 1000);
        wall = Math.min(wall, performance.now() - t0);
      }
      rows.push([
        name,
        dtype,
        label,
        `${wall.toFixed(2)} ms`,
        `${cpu.toFixed(2)} ms`,
        `${((cpu * 1e6) / (B * g.k)).toFixed(2)} ns`,
      ]);
    }
  }
}
const head = ["mixture", "dtype", "sigma", "wall/call (B=65536)", "cpu/call", "cpu per row·component"];
const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (r: string[]) => r.map((v, c) => (c >= 3 ? v.padStart(w[c]) : v.padEnd(w[c]))).join("  ");
console.log(line(head));
console.log(w.map((k) => "-".repeat(k)).join("  "));
for (const r of rows) console.log(line(r));
