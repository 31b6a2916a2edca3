/**
 * `useSimdThreads`: SIMD worker threads under Node (simd-threads.ts says what they do).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { MAX_WORKERS, setSimdThreads, SimdThreads } from "./simd-threads.js";

/** How long the workers may take to start (ms). */
const START_MS = 10_000;

/**
 * Starts `threads − 1` worker threads (default: the machine's available parallelism, at most
 * 16) for the SIMD kernels of large tensors and makes them the pool every kernel uses, once all
 * have started; 1 stops the pool. Resolves to the threads a kernel call is cut over (1: none);
 * rejects, leaving no pool, when a worker fails to start. The workers are `unref`'d: they do not
 * keep the process alive. From the TypeScript sources (the tests) the built worker script
 * (dist/simd-worker-node.js) is run: build first.
 */
export async function useSimdThreads(threads = availableParallelism()): Promise<number> {
  const count = Math.max(0, Math.min(MAX_WORKERS, Math.floor(threads) - 1));
  setSimdThreads(null);
  if (count === 0 || typeof SharedArrayBuffer === "undefined") return 1;
  const fromSource = import.meta.url.endsWith(".ts");
  const script = new URL(
    fromSource ? "../dist/simd-worker-node.js" : "./simd-worker-node.js",
    import.meta.url,
  );
  const workers = Array.from({ length: count }, () => new Worker(script));
  const pool = new SimdThreads(workers);
  try {
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      for (const w of workers) {
        w.once("error", (e) => reject(new Error(`SIMD worker thread failed to start: ${e.message}`)));
        w.once("exit", (code) =>
          reject(new Error(`SIMD worker thread exited (code ${code}) while starting`)),
        );
      }
      const poll = () => {
        if (pool.ready) resolve();
        else if (Date.now() - t0 > START_MS)
          reject(new Error(`SIMD worker threads did not start in ${START_MS / 1000} s`));
        else setTimeout(poll, 2);
      };
      poll();
    });
  } catch (e) {
    pool.stop();
    throw e;
  }
  for (const w of workers) {
    w.removeAllListeners("error");
    w.removeAllListeners("exit");
    // a worker that fails later takes the pool out of use (its calls fall back to one thread)
    w.on("error", () => pool.fail());
    w.unref();
  }
  setSimdThreads(pool);
  return pool.threads;
}
