/**
 * The NaN rule with the check left to the step passes (issue 16): for a large batch whose
 * model output lies in the run's SIMD arena (written there, or copied in), its finiteness is
 * checked by the pass that reads it next. The error must be the one the immediate check gives:
 * the same message (step, sigma, and whether the point the model was asked about already held
 * the value), for a NaN or infinity anywhere (inside the kernels' whole iterations or among the
 * last few elements they leave to JS), at any model call, and for a finite but huge value that
 * makes x overflow a step later. The reference is the slice of rows holding the value, run with
 * the JS loops and the immediate check.
 */
import { NonFiniteModelOutputError, SIMD_MIN, SimdArena, tensor } from "@edmkit/core";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { edmSampler } from "../src/index.js";
import { configs, model, noise, type Poison, ROWS, SLICE_ROWS } from "./simd-runs.js";

const n = ROWS * 2;

/** The error message of a run (or "ok"). */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(NonFiniteModelOutputError);
    return (e as Error).message;
  }
}

/** What every settled deferred check returned (null: no kernel read the output). */
let settled: (number | null | undefined)[] = [];
beforeEach(() => {
  settled = [];
  const original = SimdArena.prototype.settleFiniteCheck;
  vi.spyOn(SimdArena.prototype, "settleFiniteCheck").mockImplementation(function (this: SimdArena) {
    const r = original.call(this);
    settled.push(r);
    return r;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

// the observed run checks at once (the observer sees the output first)
const deferred = configs.filter(([, o]) => o.observer === undefined);

describe.each([
  ["float32", "into"],
  ["float64", "into"],
  ["float32", "own"],
  ["float64", "own"],
] as const)("%s, model output: %s", (dtype, mode) => {
  const huge = dtype === "float32" ? 3e38 : 1.7e308;
  // (call, element, value): inside the whole iterations, in the last partial one, the last element
  const cases: [number, number, number][] = [
    [1, 1000, Number.NaN],
    [3, n - 3, Number.NaN],
    [2, n - 1, Number.POSITIVE_INFINITY],
    [4, 5000, Number.NEGATIVE_INFINITY],
    [2, 11, huge],
    [3, n - 2, -huge],
  ];
  test.each(deferred)("%s: same error as the immediate check", async (_name, opts) => {
    expect(n).toBeGreaterThanOrEqual(SIMD_MIN);
    const work = opts.dtype ?? dtype;
    const x0 = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let k = 0; k < n; k++) x0[k] = Math.sin(k * 0.37) * 1.2;
    const run = (x: Float32Array | Float64Array, rows: number, poison: Poison) =>
      edmSampler(model(work, mode, { uniform: true, poison }), tensor(x, [rows, 2]), {
        ...opts,
        numSteps: 6,
        noise: noise(poison.offset),
      });
    let errors = 0;
    for (const [call, at, value] of cases) {
      const got = await outcome(run(x0, ROWS, { call, at, value, offset: 0 }));
      const r = Math.floor(at / 2 / SLICE_ROWS) * SLICE_ROWS,
        rows = Math.min(SLICE_ROWS, ROWS - r);
      const want = await outcome(
        run(x0.slice(2 * r, 2 * (r + rows)), rows, { call, at, value, offset: 2 * r }),
      );
      expect({ call, at, value, got }).toEqual({ call, at, value, got: want });
      if (got !== "ok") errors++;
    }
    // the NaN and infinity cases at least fail
    expect(errors).toBeGreaterThanOrEqual(4);
    // the deferred checks were made by the step passes, which found the bad outputs
    expect(settled.filter((f) => f === null).length).toBe(0);
    expect(settled.filter((f) => typeof f === "number").length).toBeGreaterThanOrEqual(cases.length);
    expect(settled.filter((f) => typeof f === "number" && (f & 1) !== 0).length).toBeGreaterThanOrEqual(4);
  });
});
