/**
 * core's SIMD threads in a browser page (run by browser-bundle.test.ts in headless Chromium, on
 * a cross-origin-isolated page): a pool of one `Worker` running `serveSimdWorker` (its bundle
 * passed in as source), and k-diffusion's Heun and DPM++(2M) on a batch above THREAD_MIN with
 * a model writing into the run's arena, run on one thread and on two; the results as float64
 * words, so the test compares them bit for bit.
 */
import {
  type Denoiser,
  type DType,
  setSimdThreads,
  SimdThreads,
  type SimdWorkerHandle,
  simdThreads,
  type Tensor,
  tensor,
  THREAD_MIN,
} from "@edmkit/core";
import { getSigmasKarras, sampleDpmpp2m, sampleHeun } from "@edmkit/k-diffusion";

export interface ThreadsResult {
  isolated: boolean;
  elements: number;
  /** Threads the two-thread runs were cut over. */
  threads: number;
  /** Kernel calls cut over the threads (the workers computed their parts). */
  poolCalls: number;
  /** Per run: the float64 words on one thread, then on two. */
  runs: Record<string, [number[], number[]]>;
}

/** D(x; σ) element-wise, rounded in the dtype, into the buffer the sampler passes. */
function model(dtype: DType): Denoiser {
  const r = dtype === "float32" ? Math.fround : (v: number) => v;
  const denoise = async (x: Tensor, s: number, out?: Tensor) => {
    const o =
      out ??
      tensor(
        dtype === "float32" ? new Float32Array(x.data.length) : new Float64Array(x.data.length),
        x.shape,
      );
    const a = r(1 / (1 + s * s)),
      b = r((0.3 * s) / (1 + s * s));
    for (let k = 0; k < x.data.length; k++) {
      const v = x.data[k];
      o.data[k] = r(r(v * a) + r(b * r(v / r(1 + r(v * v)))));
    }
    return o;
  };
  return { denoise: (x, sigma, out) => denoise(x, sigma[0], out), denoiseUniform: denoise };
}

function words(t: Tensor): number[] {
  const f = Float64Array.from(t.data);
  return Array.from(new Uint32Array(f.buffer));
}

/** What this page needs of the browser's globals (the project's TS lib has no DOM types). */
interface BrowserGlobals {
  Worker: new (url: string, options: { type: "module" }) => SimdWorkerHandle;
  crossOriginIsolated?: boolean;
}
const browser = globalThis as typeof globalThis & BrowserGlobals;

export async function threadsCheck(workerSource: string): Promise<ThreadsResult> {
  const rows = Math.ceil(THREAD_MIN / 2) + 500,
    n = rows * 2;
  const sigmas = getSigmasKarras(6, 0.05, 20);
  const runs: ThreadsResult["runs"] = {};
  const cases: [string, (x: Tensor, d: DType) => Promise<Tensor>][] = [
    ["heun", (x, d) => sampleHeun(model(d), x, sigmas)],
    ["dpmpp_2m", (x, d) => sampleDpmpp2m(model(d), x, sigmas)],
  ];
  const input = (d: DType): Tensor => {
    const a = d === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let k = 0; k < n; k++) a[k] = Math.sin(k * 0.37) * 12;
    return tensor(a, [rows, 2]);
  };
  setSimdThreads(null);
  for (const d of ["float32", "float64"] as const)
    for (const [name, run] of cases) runs[`${name} ${d}`] = [words(await run(input(d), d)), []];
  const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
  const pool = new SimdThreads([new browser.Worker(url, { type: "module" })]);
  for (let t = 0; !pool.ready && t < 500; t++) await new Promise((r) => setTimeout(r, 10));
  setSimdThreads(pool);
  let poolCalls = 0;
  const run = pool.run.bind(pool);
  pool.run = (...args: Parameters<SimdThreads["run"]>) => {
    const r = run(...args);
    if (r !== null) poolCalls++; // a call the workers took part in
    return r;
  };
  for (const d of ["float32", "float64"] as const)
    for (const [name, r] of cases) runs[`${name} ${d}`][1] = words(await r(input(d), d));
  const threads = simdThreads()?.threads ?? 1;
  setSimdThreads(null);
  return { isolated: browser.crossOriginIsolated === true, elements: n, threads, poolCalls, runs };
}
