/**
 * Core's SIMD worker threads (simd-threads.ts) and the deferred finiteness check of an arena
 * (SimdArena.deferFiniteCheck): parts that tile a call, a kernel cut over two threads equal to
 * one thread bit for bit, `allFinite` finding a NaN in any part, and a checking kernel's flags.
 */
import { afterAll, describe, expect, test, vi } from "vitest";
import {
  allFinite,
  SimdArena,
  SimdKernel,
  simdAdd,
  simdDiv,
  simdIn,
  simdMul,
  simdPar,
  simdSub,
  simdThreads,
  THREAD_MIN,
} from "../src/index.js";
import { EmpiricalDenoiser, tensor as mkTensor } from "../src/index.js";
import { loadDataset, useSimdThreads } from "../src/node.js";
import { FIXTURES } from "./helpers.js";
import { PART_ALIGN, partStart } from "../src/simd-threads.js";

afterAll(async () => {
  await useSimdThreads(1);
});

test("parts tile the call at multiples of PART_ALIGN", () => {
  for (const n of [0, 1, 15, 16, 17, 1000, 65_537, 1_000_003]) {
    for (const parts of [1, 2, 3, 4, 7]) {
      let prev = 0;
      for (let p = 1; p <= parts; p++) {
        const at = partStart(n, parts, p);
        expect(at).toBeGreaterThanOrEqual(prev);
        if (at < n) expect(at % PART_ALIGN).toBe(0);
        prev = at;
      }
      expect(partStart(n, parts, 0)).toBe(0);
      expect(partStart(n, parts, parts)).toBe(n);
    }
  }
});

// x + ((x − d) / s) · dt, the Euler step
const EULER = new SimdKernel({
  inputs: 2,
  params: 2,
  outputs: [simdAdd(simdIn(0), simdMul(simdDiv(simdSub(simdIn(0), simdIn(1)), simdPar(0)), simdPar(1)))],
});

describe.each(["float32", "float64"] as const)("%s", (dtype) => {
  const n = THREAD_MIN * 2 + 37;

  async function arena(threads: number) {
    await useSimdThreads(threads);
    const a = SimdArena.create(dtype, n, 2, true);
    if (a === null) throw new Error("no arena");
    const x = a.alloc(),
      d = a.alloc();
    if (x === null || d === null) throw new Error("no slots");
    for (let k = 0; k < n; k++) {
      x[k] = Math.sin(k * 0.7) * 9;
      d[k] = Math.cos(k * 0.3) * 5;
    }
    return { a, x, d };
  }

  function euler(x: Float32Array | Float64Array, d: Float32Array | Float64Array): number {
    expect(EULER.accepts(x, true)).toBe(true);
    EULER.ops[0] = x;
    EULER.ops[1] = x;
    EULER.ops[2] = d;
    return EULER.run(2.7, -0.35);
  }

  test("a kernel cut over two threads = one thread, bit for bit", async () => {
    const one = await arena(1);
    euler(one.x, one.d);
    const two = await arena(2);
    expect(simdThreads()?.threads).toBe(2);
    expect(two.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    euler(two.x, two.d);
    let differing = 0;
    for (let k = 0; k < n; k++) if (!Object.is(one.x[k], two.x[k])) differing++;
    expect(differing).toBe(0);
  });

  test("allFinite over the threads finds a NaN or infinity in any part", async () => {
    const { d } = await arena(2);
    expect(allFinite(d)).toBe(true);
    for (const at of [5, n >> 1, n - 40, n - 1]) {
      for (const v of [Number.NaN, Number.NEGATIVE_INFINITY]) {
        const keep = d[at];
        d[at] = v;
        expect({ at, v, finite: allFinite(d) }).toEqual({ at, v, finite: false });
        d[at] = keep;
      }
    }
    expect(allFinite(d)).toBe(true);
  });

  test.each([1, 2])(
    "the deferred check, %i thread(s): flags of d and x as the kernel reads them",
    async (threads) => {
      for (const [at, where, want] of [
        [-1, "d", 0],
        [100, "d", 1],
        [n - 3, "d", 1],
        [n >> 1, "x", 2],
        [n - 1, "x", 2],
      ] as const) {
        const { a, x, d } = await arena(threads);
        if (at >= 0) (where === "d" ? d : x)[at] = Number.NaN;
        expect(a.deferFiniteCheck(d, x)).toBe(true);
        expect(a.deferFiniteCheck(d, x)).toBe(false); // one at a time
        euler(x, d);
        expect({ at, where, flags: a.settleFiniteCheck() }).toEqual({ at, where, flags: want });
        expect(a.settleFiniteCheck()).toBeUndefined();
      }
    },
  );

  test("x not read by the kernel: looked at only when d failed, as the model saw it", async () => {
    const SCALE = new SimdKernel({ inputs: 1, params: 1, outputs: [simdMul(simdIn(0), simdPar(0))] });
    for (const [dBad, xBad, want] of [
      [false, false, 0],
      [false, true, 0],
      [true, false, 1],
      [true, true, 3],
    ] as const) {
      await useSimdThreads(1);
      const a = SimdArena.create(dtype, n, 3, true);
      const x = a?.alloc(),
        d = a?.alloc(),
        o = a?.alloc();
      if (!a || !x || !d || !o) throw new Error("no arena");
      d.fill(1);
      if (dBad) d[77] = Number.NaN;
      if (xBad) x[100] = Number.POSITIVE_INFINITY;
      expect(a.deferFiniteCheck(d, x)).toBe(true);
      SCALE.ops[0] = o;
      SCALE.ops[1] = d;
      SCALE.run(0.5);
      expect({ dBad, xBad, flags: a.settleFiniteCheck() }).toEqual({ dBad, xBad, flags: want });
    }
  });

  test("a deferred check no kernel made settles to null", async () => {
    const { a, x, d } = await arena(1);
    expect(a.deferFiniteCheck(d, x)).toBe(true);
    expect(a.settleFiniteCheck()).toBeNull();
  });
});

describe("the empirical denoiser over the threads", () => {
  test.each([true, false])(
    "digits, SIMD %s: rows cut over two threads = one thread, bit for bit",
    async (simd) => {
      const digits = loadDataset(`${FIXTURES}datasets/digits8x8.json`);
      const den = EmpiricalDenoiser.fromDataset(digits, { scale: 0.125, shift: -1 }, { simd });
      for (const f32 of [false, true]) {
        const rows = 300 + (f32 ? 37 : 0),
          n = rows * 64;
        const x = f32 ? new Float32Array(n) : new Float64Array(n),
          sigma = new Float64Array(rows);
        for (let r = 0; r < rows; r++) sigma[r] = [0.02, 0.3, 1.5, 8][r % 4];
        for (let k = 0; k < n; k++)
          x[k] = den.points[(k * 7) % den.points.length] + Math.sin(k) * sigma[Math.floor(k / 64)];
        await useSimdThreads(1);
        const one = den.denoiseSync(mkTensor(x, [rows, 64]), sigma).data;
        expect(await useSimdThreads(2)).toBe(2);
        const pool = simdThreads();
        if (pool === null) throw new Error("no pool");
        const spy = vi.spyOn(pool, "runTask");
        const two = den.denoiseSync(mkTensor(x, [rows, 64]), sigma).data;
        expect(spy).toHaveBeenCalledTimes(1);
        spy.mockRestore();
        let differing = 0;
        for (let k = 0; k < n; k++) if (!Object.is(one[k], two[k])) differing++;
        expect({ f32, differing }).toEqual({ f32, differing: 0 });
        expect(two).toBeInstanceOf(f32 ? Float32Array : Float64Array);
      }
      await useSimdThreads(1);
    },
  );
});
