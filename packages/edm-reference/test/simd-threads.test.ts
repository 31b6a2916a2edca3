/**
 * Whole sampler runs with core's SIMD worker threads (issue 16): a batch of THREAD_MIN elements
 * or more, with the model writing into the run's (shared) arena, cuts every step pass over two
 * threads; the result must equal the single-threaded run bit for bit, and a model output's
 * NaN found by a worker's part of a pass must raise the same error.
 */
import { NonFiniteModelOutputError, simdThreads, type Tensor, tensor, THREAD_MIN } from "@edmkit/core";
import { useSimdThreads } from "@edmkit/core/node";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { edmSampler } from "../src/index.js";
import { configs, model, noise } from "./simd-runs.js";

const ROWS = 36_000,
  n = ROWS * 2;

beforeAll(() => {
  expect(n).toBeGreaterThanOrEqual(THREAD_MIN);
});
afterAll(async () => {
  await useSimdThreads(1);
});

async function both(
  run: (x: Tensor) => Promise<Tensor>,
  x: Tensor,
): Promise<[Tensor | Error, Tensor | Error]> {
  const settle = (p: Promise<Tensor>) => p.catch((e: Error) => e);
  await useSimdThreads(1);
  expect(simdThreads()).toBeNull();
  const one = await settle(run(x));
  expect(await useSimdThreads(2)).toBe(2);
  const pool = simdThreads();
  if (pool === null) throw new Error("no pool");
  const calls = vi.spyOn(pool, "run");
  const two = await settle(run(x));
  // the passes were cut over the threads
  expect(calls.mock.results.some((r) => r.type === "return" && r.value !== null)).toBe(true);
  calls.mockRestore();
  expect(simdThreads()).toBe(pool);
  await useSimdThreads(1);
  return [one, two];
}

const some = configs.filter(([name]) =>
  ["euler", "heun, churn", "vp heun", "vp heun, churn", "vp euler, float64 arithmetic"].includes(name),
);

describe.each(["float32", "float64"] as const)("%s", (dtype) => {
  const x0 = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let k = 0; k < n; k++) x0[k] = Math.sin(k * 0.37) * 1.2;
  const x = tensor(x0, [ROWS, 2]);

  test.each(some)("%s: two threads = one, bit for bit", async (_name, opts) => {
    const m = model(opts.dtype ?? dtype, "into", { uniform: true });
    const [one, two] = await both((v) => edmSampler(m, v, { ...opts, numSteps: 6, noise: noise(0) }), x);
    if (one instanceof Error || two instanceof Error) throw one instanceof Error ? one : two;
    let differing = 0;
    for (let k = 0; k < n; k++) if (!Object.is(one.data[k], two.data[k])) differing++;
    expect(differing).toBe(0);
    expect(one.data.every(Number.isFinite)).toBe(true);
  });

  test.each(some)("%s: a NaN in the workers' part, same error", async (_name, opts) => {
    const poison = { call: 2, at: n - 100, value: Number.NaN, offset: 0 };
    const [one, two] = await both(
      (v) =>
        edmSampler(model(opts.dtype ?? dtype, "into", { uniform: true, poison }), v, {
          ...opts,
          numSteps: 6,
          noise: noise(0),
        }),
      x,
    );
    expect(one).toBeInstanceOf(NonFiniteModelOutputError);
    expect(two).toBeInstanceOf(NonFiniteModelOutputError);
    expect((two as Error).message).toBe((one as Error).message);
  });
});
