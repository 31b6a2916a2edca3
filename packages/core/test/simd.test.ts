/**
 * WebAssembly SIMD in core (issue 16): `allFinite` on large arrays (checked through SIMD lanes)
 * against a plain element loop with NaN / ±infinity at every kind of position (first and last
 * element, chunk edges, the tail the JS loop checks), and a compiled kernel against its
 * expression in JS, subnormals and signed zeros included.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  allFinite,
  axpby,
  axpy,
  SIMD_MIN,
  SimdArena,
  SimdKernel,
  simdAbs,
  simdAdd,
  simdConst,
  simdDiv,
  simdIn,
  simdMul,
  simdPar,
  simdPmax,
  simdSub,
  subDiv,
  tensor,
} from "../src/index.js";

const plainFinite = (a: ArrayLike<number>) => {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) return false;
  return true;
};

describe.each([Float32Array, Float64Array])("%s", (Ctor) => {
  test("allFinite of large arrays = an element loop", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: SIMD_MIN, max: 30000 }),
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 1, maxExcluded: true }),
            fc.constantFrom(NaN, Infinity, -Infinity),
          ),
          {
            maxLength: 2,
          },
        ),
        fc.constantFrom(0, 1, 2, 4095, 4096, 2047, 2048, -1, -2, -15, -16),
        (n, bad, edge) => {
          const a = new Ctor(n);
          for (let k = 0; k < n; k++) a[k] = ((k * 7919) % 1000) - 500 + (k % 3 === 0 ? 1e-42 : 0);
          if (a.length > 10) a[3] = -0;
          for (const [at, v] of bad) a[Math.floor(at * n)] = v;
          if (bad.length === 1) a[(edge + n) % n] = bad[0][1];
          expect(allFinite(a)).toBe(plainFinite(a));
        },
      ),
      { numRuns: 200 },
    );
    expect(allFinite(new Ctor(SIMD_MIN * 3 + 5).fill(3e38))).toBe(true);
  });

  test("axpy, axpby and subDiv on large tensors (SIMD) = on slices (their loops)", () => {
    const n = 9001,
      vals = [0, -0, 1e-40, -5e-324, 1.5, -2.25, 3e38, 1e308, NaN, Infinity, -Infinity, 7, 0.1];
    const mk = (m: number) => {
      const a = new Ctor(n);
      for (let i = 0; i < n; i++) a[i] = vals[(i * m) % vals.length] * (1 + ((i * 7) % 11) / 3);
      return a;
    };
    const ops: [
      string,
      (
        o: Float32Array | Float64Array,
        x: Float32Array | Float64Array,
        y: Float32Array | Float64Array,
      ) => void,
    ][] = [
      ["axpy", (o, x, y) => axpy(tensor(o, [o.length]), 0.3, tensor(x, [x.length]), tensor(y, [y.length]))],
      [
        "axpby",
        (o, x, y) => axpby(tensor(o, [o.length]), -1.7, tensor(x, [x.length]), 0.6, tensor(y, [y.length])),
      ],
      [
        "subDiv",
        (o, x, y) => subDiv(tensor(o, [o.length]), tensor(x, [x.length]), tensor(y, [y.length]), 0.7),
      ],
    ];
    for (const [name, op] of ops) {
      const x = mk(5),
        y = mk(3);
      const whole = new Ctor(n),
        sliced = new Ctor(n);
      op(whole, x, y);
      for (let a = 0; a < n; a += 1000)
        op(sliced.subarray(a, a + 1000), x.subarray(a, a + 1000), y.subarray(a, a + 1000));
      for (let i = 0; i < n; i++) {
        const [g, w] = [whole[i], sliced[i]];
        if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))))
          expect([name, i, g]).toEqual([name, i, w]);
      }
    }
  });

  test("a compiled kernel = its expression in JS", () => {
    // out0 = (a − b) / p0 · p1 + a, out1 = a · b (two outputs, one aliasing an input)
    const k = new SimdKernel({
      inputs: 2,
      params: 2,
      outputs: [
        simdAdd(simdMul(simdDiv(simdSub(simdIn(0), simdIn(1)), simdPar(0)), simdPar(1)), simdIn(0)),
        simdMul(simdIn(0), simdIn(1)),
      ],
    });
    expect(k.ready()).toBe(true);
    const f = Ctor === Float32Array ? Math.fround : (v: number) => v;
    const n = 10007,
      a = new Ctor(n),
      b = new Ctor(n);
    const vals = [0, -0, 1e-40, -5e-324, 1.5, -2.25, 3e38, 1e308, NaN, Infinity, -Infinity, 7];
    for (let i = 0; i < n; i++) {
      a[i] = vals[i % vals.length] * (1 + (i % 5));
      b[i] = vals[(i * 7) % vals.length] - (i % 3);
    }
    const [p0, p1] = [0.3, -1.7];
    const want0 = a.map((v, i) => f(f(f(f(v - b[i]) / f(p0)) * f(p1)) + v));
    const want1 = a.map((v, i) => f(v * b[i]));
    const out1 = new Ctor(n);
    k.ops.push(a, out1, a, b);
    k.run(p0, p1);
    for (let i = 0; i < n; i++) {
      for (const [got, want] of [
        [a[i], want0[i]],
        [out1[i], want1[i]],
      ]) {
        if (!(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))))
          expect([i, got]).toEqual([i, want]);
      }
    }
  });

  test("abs, pmax and a division by a power of two = their JS forms (NaN, signed zeros)", () => {
    // out0 = (y > x ? y : x) written pmax(x, y); out1 = |x| / 4 (made x · 0.25); out2 = pmax(|x|, y)
    const k = new SimdKernel({
      inputs: 2,
      params: 0,
      outputs: [
        simdPmax(simdIn(0), simdIn(1)),
        simdDiv(simdAbs(simdIn(0)), simdConst(4)),
        simdPmax(simdAbs(simdIn(0)), simdIn(1)),
      ],
    });
    expect(k.ready()).toBe(true);
    const f = Ctor === Float32Array ? Math.fround : (v: number) => v;
    const vals = [0, -0, 1e-40, -5e-324, 1.5, -2.25, 3e38, 1e308, NaN, Infinity, -Infinity, 7, -1e-45];
    const n = 10007,
      a = new Ctor(n),
      b = new Ctor(n);
    for (let i = 0; i < n; i++) {
      a[i] = vals[i % vals.length];
      b[i] = vals[Math.floor(i / vals.length) % vals.length];
    }
    const outs = [new Ctor(n), new Ctor(n), new Ctor(n)];
    k.ops.push(...outs, a, b);
    k.run();
    for (let i = 0; i < n; i++) {
      const x = a[i],
        y = b[i],
        ax = Math.abs(x);
      const want = [x < y ? y : x, f(ax / 4), ax < y ? y : ax];
      for (let o = 0; o < 3; o++) {
        const got = outs[o][i];
        if (!(Object.is(got, want[o]) || (Number.isNaN(got) && Number.isNaN(want[o]))))
          expect([o, x, y, got]).toEqual([o, x, y, want[o]]);
      }
    }
  });

  const put = (k: SimdKernel, ...arrays: (Float32Array | Float64Array)[]) => {
    arrays.forEach((x, j) => {
      k.ops[j] = x;
    });
  };

  test("kernels on an arena's arrays (in place) = their expression in JS; neighbours untouched", () => {
    const dtype = Ctor === Float32Array ? "float32" : "float64";
    const f = Ctor === Float32Array ? Math.fround : (v: number) => v;
    const n = 10007; // not whole 64-byte iterations: the kernels run into the padding
    expect(SimdArena.create(dtype, SIMD_MIN - 1, 2, true)).toBeNull();
    if (dtype === "float64") expect(SimdArena.create(dtype, n, 2)).toBeNull();
    const arena = SimdArena.create(dtype, n, 5, true) as SimdArena;
    const [a, b, c, d, guard] = [0, 1, 2, 3, 4].map(() => arena.alloc() as Float32Array | Float64Array);
    expect(arena.alloc()).toBeNull();
    expect(a).toBeInstanceOf(Ctor);
    expect(a.length).toBe(n);
    const vals = [0, -0, 1e-40, -5e-324, 1.5, -2.25, 3e38, 1e308, NaN, Infinity, -Infinity, 7];
    const fill = () => {
      for (let i = 0; i < n; i++) {
        a[i] = vals[i % vals.length] * (1 + (i % 5));
        b[i] = vals[(i * 7) % vals.length] - (i % 3);
        c[i] = 11;
        d[i] = 13;
        guard[i] = 17;
      }
    };
    const same = (got: ArrayLike<number>, want: ArrayLike<number>) => {
      for (let i = 0; i < n; i++) {
        const g = got[i],
          w = want[i];
        if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) expect([i, g]).toEqual([i, w]);
      }
    };
    const one = new SimdKernel({
      inputs: 2,
      params: 1,
      outputs: [simdSub(simdIn(0), simdMul(simdIn(1), simdPar(0)))],
    });
    const two = new SimdKernel({
      inputs: 2,
      params: 0,
      outputs: [simdAdd(simdIn(0), simdIn(1)), simdDiv(simdIn(0), simdIn(1))],
    });
    expect(one.ready() && two.ready()).toBe(true);
    // float64 takes SIMD on an arena's arrays without the caller's opt-in (no copies to pay for)
    expect(one.accepts(a)).toBe(true);
    expect(one.accepts(new Ctor(n))).toBe(Ctor === Float32Array);
    // one output written over its first input (in place), then into a separate array
    for (const into of ["a", "c"] as const) {
      fill();
      const want = a.map((v, i) => f(v - f(b[i] * f(0.7))));
      const out = into === "a" ? a : c;
      put(one, out, a, b);
      one.run(0.7);
      same(out, want);
      same(
        b,
        new Ctor(b).map((_, i) => vals[(i * 7) % vals.length] - (i % 3)),
      );
    }
    // two outputs: into separate arrays (in place); the second over an input (in place: no
    // later output reads it); the first over an input (the chunked path: in place, the second
    // output would read what the first wrote)
    for (const alias of ["none", "second", "first"] as const) {
      fill();
      const want0 = a.map((v, i) => f(v + b[i])),
        want1 = a.map((v, i) => f(v / b[i]));
      const out0 = alias === "first" ? a : c,
        out1 = alias === "second" ? b : d;
      put(two, out0, out1, a, b);
      two.run();
      same(out0, want0);
      same(out1, want1);
    }
    // the last iteration's padding writes stayed out of the next array
    expect(guard.every((v) => v === 17)).toBe(true);
    // an operand off the arena (a plain array): the chunked path, same values
    fill();
    const plain = new Ctor(b);
    const want = a.map((v, i) => f(v - f(plain[i] * f(2.5))));
    put(one, c, a, plain);
    one.run(2.5);
    same(c, want);
  });
});
