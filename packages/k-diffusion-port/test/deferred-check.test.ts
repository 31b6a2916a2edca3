/**
 * The NaN rule with the check left to the step kernels (issue 16): for a large batch whose
 * model writes into the run's SIMD arena, a model output's finiteness is checked by the kernel
 * that reads it next (SamplerRun.denoise / settle). The error must be the one the immediate
 * check gives: the same message (sampler, step, sigma, and whether x already held the value),
 * for a NaN or infinity anywhere (inside the kernels' whole iterations or among the last few
 * elements they leave to JS), at any model call, and for a finite but huge value that makes x
 * overflow a step later. The reference is the slice of rows holding the value, run with the JS
 * loops and the immediate check.
 */
import { NonFiniteModelOutputError, SIMD_MIN, SimdArena, tensor } from "@edmkit/core";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { model, noise, type Poison, ROWS, runs, SLICE_ROWS } from "./simd-runs.js";

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

describe.each(["float32", "float64"] as const)("%s", (dtype) => {
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
  test.each(runs)("%s: same error as the immediate check", async (_name, run) => {
    expect(n).toBeGreaterThanOrEqual(SIMD_MIN);
    const x0 = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let k = 0; k < n; k++) x0[k] = Math.sin(k * 0.37) * 12;
    let errors = 0;
    for (const [call, at, value] of cases) {
      const poison: Poison = { call, at, value, offset: 0 };
      const got = await outcome(
        run(model(dtype, true, { uniform: true, poison }), tensor(x0, [ROWS, 2]), noise(0)),
      );
      const r = Math.floor(at / 2 / SLICE_ROWS) * SLICE_ROWS,
        rows = Math.min(SLICE_ROWS, ROWS - r);
      const slice = tensor(x0.slice(2 * r, 2 * (r + rows)), [rows, 2]);
      const want = await outcome(
        run(model(dtype, true, { poison: { ...poison, offset: 2 * r } }), slice, noise(2 * r)),
      );
      expect({ call, at, value, got }).toEqual({ call, at, value, got: want });
      if (got !== "ok") errors++;
    }
    // the NaN and infinity cases at least fail
    expect(errors).toBeGreaterThanOrEqual(4);
    // the deferred checks were made by step kernels (at most two a run left to the fallback
    // pass: where the original's update is a copy or a plain axpby, the first step of a
    // multistep sampler and the step into 0), and the kernels found the bad outputs
    const byKernel = settled.filter((f) => typeof f === "number").length;
    expect(settled.filter((f) => f === null).length).toBeLessThanOrEqual(2 * cases.length);
    expect(byKernel).toBeGreaterThanOrEqual(cases.length);
    expect(settled.filter((f) => typeof f === "number" && (f & 1) !== 0).length).toBeGreaterThanOrEqual(4);
  });
});
