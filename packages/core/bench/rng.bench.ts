/**
 * Micro benchmark of the torch-compatible generator and the correctly rounded libm.
 * Run: npx tsx bench/rng.bench.ts   (from packages/core)
 */
import { cos, log, sin } from "../src/libm.js";
import { TorchGenerator } from "../src/rng/torch-generator.js";

function time(label: string, reps: number, fn: () => void): void {
  fn(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  const ms = (performance.now() - t0) / reps;
  console.log(`${label.padEnd(44)} ${ms.toFixed(2).padStart(9)} ms`);
}

const N = 1_000_000;
const g = new TorchGenerator(0);
const out64 = new Float64Array(N);
const out32 = new Float32Array(N);
const words = new Uint32Array(N);

time(`MT19937 ${N} words`, 5, () => {
  for (let i = 0; i < N; i++) words[i] = g.nextUint32();
});
time(`randnInto float64 n=${N} (block path)`, 5, () => g.randnInto(out64));
time(`randnInto float32 n=${N} (block path)`, 5, () => g.randnInto(out32));
time(`randn([${N}]) float64 (allocating)`, 3, () => void g.randn([N], "float64"));
const small = new Float64Array(15);
time(`randnInto float64 n=15 x ${(N / 15) | 0} (scalar path)`, 3, () => {
  for (let i = 0; i < N / 15; i++) g.randnInto(small);
});

const xs = new Float64Array(N);
// inputs like torch's: log(1 - u) and sin/cos(2*pi*u), u uniform in [0, 1)
for (let i = 0; i < N; i++) xs[i] = 1 - (g.nextUint32() + 0.5) / 4294967296;
let acc = 0;
time(`libm log x ${N}`, 5, () => {
  for (let i = 0; i < N; i++) acc += log(xs[i]);
});
time(`Math.log x ${N}`, 5, () => {
  for (let i = 0; i < N; i++) acc += Math.log(xs[i]);
});
time(`libm sin + cos x ${N} (two reductions)`, 5, () => {
  for (let i = 0; i < N; i++) acc += sin(xs[i] * 6.283185307179586) + cos(xs[i] * 6.283185307179586);
});
time(`Math.sin + Math.cos x ${N}`, 5, () => {
  for (let i = 0; i < N; i++)
    acc += Math.sin(xs[i] * 6.283185307179586) + Math.cos(xs[i] * 6.283185307179586);
});
if (Number.isNaN(acc)) console.log("unexpected NaN");
