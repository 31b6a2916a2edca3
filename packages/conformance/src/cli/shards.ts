/**
 * Shards of one conformance run and their merge.
 *
 * Every run writes `shard.json` beside `tasks.json`: the whole task list of the suite it is
 * part of (after `--only`), which shard of it this run computed, and the package versions.
 * `edmkit merge` accepts only a set of shards that is one complete, consistent split of one
 * suite: the same task list, the same versions, the same n, every shard i of n exactly once,
 * every task exactly once. Its output lists the tasks in suite order, whatever order the
 * folders were given in, so a merged report equals the single run's apart from timings.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { taskCost } from "../conformance/pool.js";
import { type TaskResult, taskResultSchema } from "../conformance/task-results.js";
import { UsageError } from "../errors.js";

export const SHARD_FORMAT = "edmkit-shard/1";

const shardManifestSchema = z.object({
  format: z.literal(SHARD_FORMAT),
  shard: z.object({ i: z.number().int().min(1), n: z.number().int().min(1) }).nullable(),
  suite: z.array(z.string()),
  versions: z.record(z.string(), z.string()),
  /** Worker threads the shard ran on (absent in manifests of older runs). */
  workers: z.number().int().min(0).optional(),
});
export type ShardManifest = z.infer<typeof shardManifestSchema>;

const taskResultsSchema = z.array(taskResultSchema);

/**
 * The tasks shard i of n computes, in suite order. The suite is split by estimated cost
 * (pool.ts's taskCost), not by index: tasks are dealt heaviest first (ties in suite order) to
 * the shard with the least load so far (ties to the lower shard), so the split is
 * deterministic and every shard carries about 1/n of the work. merge checks against it.
 */
export function shardOf(suite: string[], shard: { i: number; n: number }): string[] {
  const order = suite.map((id, k) => ({ id, k, c: taskCost(id) })).sort((a, b) => b.c - a.c || a.k - b.k);
  const load = new Array<number>(shard.n).fill(0);
  const mine = new Set<number>();
  for (const t of order) {
    let best = 0;
    for (let s = 1; s < shard.n; s++) if (load[s] < load[best]) best = s;
    load[best] += t.c;
    if (best === shard.i - 1) mine.add(t.k);
  }
  return suite.filter((_, k) => mine.has(k));
}

function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  const where = i.path.length ? `field \`${i.path.join(".")}\`` : "the document";
  return `${where}: ${i.message}`;
}

function readJson<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new UsageError(`merge: ${file} is not a file`);
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`merge: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`merge: ${file} is not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new UsageError(`merge: ${file} is not ${what}: ${firstIssue(r.error)}`);
  return r.data;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

/**
 * Read and check the shard folders; returns the task results in suite order, the shared
 * manifest and the longest shard's duration.
 */
export function readShardSet(dirs: string[]): {
  results: TaskResult[];
  manifest: ShardManifest;
  seconds: number;
  /** Each shard's worker threads, in shard order (0 where an older manifest does not say). */
  workers: number[];
} {
  const shards = dirs.map((dir) => {
    const tasksFile = join(dir, "tasks.json");
    const manifestFile = join(dir, "shard.json");
    if (!existsSync(tasksFile))
      throw new UsageError(`merge: ${tasksFile} not found (is ${dir} the --out of a conformance shard?)`);
    if (!existsSync(manifestFile))
      throw new UsageError(
        `merge: ${manifestFile} not found (${dir} was written by an older edmkit; run its shard again)`,
      );
    const manifest = readJson(manifestFile, shardManifestSchema, "an edmkit shard manifest");
    const results = readJson(tasksFile, taskResultsSchema, "a list of task results");
    let seconds = 0;
    const rep = join(dir, "report.json");
    if (existsSync(rep)) {
      const r = readJson(rep, z.object({ durationSeconds: z.number() }), "an edmkit report");
      seconds = r.durationSeconds;
    }
    return { dir, manifest, results, seconds };
  });

  const first = shards[0];
  const n = first.manifest.shard?.n ?? 1;
  for (const s of shards) {
    const m = s.manifest;
    if (!sameList(m.suite, first.manifest.suite))
      throw new UsageError(
        `merge: ${s.dir} and ${first.dir} are shards of different suites (different task lists: other fixtures, --only or --device)`,
      );
    if (JSON.stringify(m.versions) !== JSON.stringify(first.manifest.versions))
      throw new UsageError(
        `merge: ${s.dir} was run with other package versions than ${first.dir} (${JSON.stringify(m.versions)} vs ${JSON.stringify(first.manifest.versions)})`,
      );
    const sn = m.shard?.n ?? 1;
    if (sn !== n)
      throw new UsageError(
        `merge: ${s.dir} is shard ${m.shard?.i ?? 1}/${sn} but ${first.dir} is of a ${n}-way split`,
      );
  }
  const byIndex = new Map<number, string>();
  for (const s of shards) {
    const i = s.manifest.shard?.i ?? 1;
    const other = byIndex.get(i);
    if (other !== undefined)
      throw new UsageError(`merge: shard ${i}/${n} is given twice (${other} and ${s.dir})`);
    byIndex.set(i, s.dir);
  }
  const missing = Array.from({ length: n }, (_, k) => k + 1).filter((i) => !byIndex.has(i));
  if (missing.length)
    throw new UsageError(
      `merge: incomplete set: shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${n}`).join(", ")} missing`,
    );

  const byId = new Map<string, TaskResult>();
  for (const s of shards) {
    const expected = s.manifest.shard ? shardOf(s.manifest.suite, s.manifest.shard) : s.manifest.suite;
    const got = s.results.map((r) => r.id);
    if (!sameList([...got].sort(), [...expected].sort()))
      throw new UsageError(
        `merge: ${s.dir}/tasks.json does not hold exactly the tasks of shard ${s.manifest.shard?.i ?? 1}/${n} (${got.length} results for ${expected.length} tasks)`,
      );
    for (const r of s.results) byId.set(r.id, r);
  }
  return {
    results: first.manifest.suite.map((id) => byId.get(id)!),
    manifest: first.manifest,
    seconds: Math.max(...shards.map((s) => s.seconds)),
    workers: [...shards]
      .sort((a, b) => (a.manifest.shard?.i ?? 1) - (b.manifest.shard?.i ?? 1))
      .map((s) => s.manifest.workers ?? 0),
  };
}
