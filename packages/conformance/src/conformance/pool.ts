/**
 * Runs tasks on N worker threads (N = 1 runs them in this thread). Tasks are dealt out by
 * estimated cost so both cores stay busy; results come back in task order.
 */
import { Worker } from "node:worker_threads";
import { runTask, type SuiteContext, type TaskResult } from "./tasks.js";

/** Rough relative costs, so the heavy tasks do not all land on one worker. */
export function taskCost(id: string): number {
  if (id.startsWith("fixture:")) return 1;
  if (id.startsWith("accuracy:stochastic")) return 12;
  if (id.startsWith("accuracy:")) return 6;
  if (id.startsWith("onnx:")) return 20;
  return 8;
}

export async function runPool(
  ids: string[],
  ctx: SuiteContext,
  workers: number,
  onResult: (r: TaskResult) => void,
): Promise<TaskResult[]> {
  const results = new Map<string, TaskResult>();
  if (workers <= 1) {
    for (const id of ids) {
      const r = await runTask(id, ctx);
      results.set(id, r);
      onResult(r);
    }
    return ids.map((id) => results.get(id)!);
  }
  const buckets: { ids: string[]; load: number }[] = Array.from({ length: workers }, () => ({
    ids: [],
    load: 0,
  }));
  for (const id of [...ids].sort((a, b) => taskCost(b) - taskCost(a))) {
    const b = buckets.reduce((m, x) => (x.load < m.load ? x : m));
    b.ids.push(id);
    b.load += taskCost(id);
  }
  const self = import.meta.url;
  const workerUrl = new URL(self.endsWith(".ts") ? "./worker.ts" : "./worker.js", self);
  await Promise.all(
    buckets
      .filter((b) => b.ids.length)
      .map(
        (b) =>
          new Promise<void>((resolve, reject) => {
            // From TypeScript sources (tests, tsx) the worker registers tsx itself: loader
            // hooks of the parent thread do not reach worker threads on Node 20.
            const w = self.endsWith(".ts")
              ? new Worker(
                  `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); });`,
                  { eval: true, workerData: { ids: b.ids, ctx } },
                )
              : new Worker(workerUrl, { workerData: { ids: b.ids, ctx } });
            let got = 0;
            w.on("message", (r: TaskResult) => {
              results.set(r.id, r);
              onResult(r);
              if (++got === b.ids.length) resolve();
            });
            w.on("error", reject);
            w.on("exit", (code) => {
              if (got < b.ids.length)
                reject(
                  new Error(
                    `conformance worker exited with code ${code} after ${got} of ${b.ids.length} tasks`,
                  ),
                );
            });
          }),
      ),
  );
  return ids.map((id) => results.get(id)!);
}
