/**
 * fma32 / fma64 against exact rational arithmetic: every result must be the representable
 * value nearest to the exact a·b + c (ties to even), checked with BigInt against its two
 * neighbours, on random operands and on constructed cases where rounding twice goes wrong.
 */
import { describe, expect, test } from "vitest";
import { fma64Exact } from "../src/fma.js";
import { fma32, fma64 } from "../src/index.js";

const f = Math.fround;
/** Every finite double is an integer multiple of 2^-1074; products need twice that. */
const SCALE = 2200n;

/** x·2^2200 as an exact BigInt (x finite). */
function exact(x: number): bigint {
  if (x === 0) return 0n;
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  const hi = v.getUint32(0),
    lo = v.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = -1074;
  if (bexp !== 0) {
    m |= 1n << 52n;
    e = bexp - 1075;
  }
  const s = m << (SCALE + BigInt(e));
  return hi >>> 31 ? -s : s;
}

/** a·b + c scaled by 2^2200 (the product of two scaled values carries 2^4400). */
function exactFma(a: number, b: number, c: number): bigint {
  return (exact(a) * exact(b)) / (1n << SCALE) + exact(c); // exact: a·b is a multiple of 2^-2148
}

/** The representable neighbours of r in the given format (r finite). */
function neighbours(r: number, f32: boolean): [number, number] {
  if (f32) {
    const buf = new Float32Array(1),
      u = new Int32Array(buf.buffer);
    buf[0] = r;
    const i = u[0];
    const step = (d: number): number => {
      // moving the magnitude up or down in the bit pattern; through zero to the other sign
      if (r === 0) return d * 2 ** -149;
      u[0] = r > 0 ? i + d : i - d;
      const v = buf[0];
      u[0] = i;
      return v;
    };
    return [step(-1), step(1)];
  }
  const buf = new Float64Array(1),
    u = new BigInt64Array(buf.buffer);
  buf[0] = r;
  const i = u[0];
  const step = (d: bigint): number => {
    if (r === 0) return Number(d) * 2 ** -1074;
    u[0] = r > 0 ? i + d : i - d;
    const v = buf[0];
    u[0] = i;
    return v;
  };
  return [step(-1n), step(1n)];
}

function evenMantissa(r: number, f32: boolean): boolean {
  if (f32) {
    const buf = new Float32Array([r]);
    return (new Int32Array(buf.buffer)[0] & 1) === 0;
  }
  const buf = new Float64Array([r]);
  return (new BigInt64Array(buf.buffer)[0] & 1n) === 0n;
}

/** Overflow threshold (midpoint between the largest finite value and 2^emax+1), scaled. */
const OVERFLOW32 = exact(2 ** 128 - 2 ** 103);
const OVERFLOW64 = exact(2 ** 1023) * 2n - exact(2 ** 970);

/** Throws unless r is the correctly rounded a·b + c in the format. */
function assertCorrectlyRounded(a: number, b: number, c: number, r: number, f32: boolean): void {
  const where = `fma${f32 ? 32 : 64}(${a}, ${b}, ${c}) = ${r}`;
  const v = exactFma(a, b, c);
  const limit = f32 ? OVERFLOW32 : OVERFLOW64;
  if (r === Infinity || r === -Infinity) {
    const mag = r > 0 ? v : -v;
    expect(mag >= limit, `${where}: exact value below the overflow threshold`).toBe(true);
    return;
  }
  if (f32) expect(f(r), `${where}: not a float32`).toBe(r);
  const mag = v < 0n ? -v : v;
  // at the threshold itself the tie goes to the even 2^emax+1, i.e. to infinity
  expect(mag < limit, `${where}: should overflow`).toBe(true);
  const [down, up] = neighbours(r, f32);
  const R = exact(r);
  const lo = R + exact(down),
    hi = R + exact(up); // twice the midpoints
  const v2 = 2n * v;
  expect(lo <= v2 && v2 <= hi, `${where}: farther than half an ulp from the exact value`).toBe(true);
  if (v2 === lo || v2 === hi) expect(evenMantissa(r, f32), `${where}: tie not rounded to even`).toBe(true);
}

/** Deterministic xorshift32 in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

describe("fma32", () => {
  const rnd = rng(0x5eed);
  const F32 = new Float32Array(1),
    U32 = new Uint32Array(F32.buffer);
  const randomBits = (): number => {
    for (;;) {
      U32[0] = (rnd() * 4294967296) >>> 0;
      if (Number.isFinite(F32[0])) return F32[0];
    }
  };
  const sign = (): number => (rnd() < 0.5 ? -1 : 1);

  test("rounds a*b + c once, also where the double sum lands on a float32 midpoint", () => {
    const a = 1 + 2 ** -12; // a*a = 1 + 2^-11 + 2^-24: a float32 midpoint
    expect(fma32(a, a, 0)).toBe(1 + 2 ** -11); // tie to even
    expect(fma32(a, a, 2 ** -70)).toBe(1 + 2 ** -11 + 2 ** -23); // just above the tie: up
    expect(fma32(a, a, -(2 ** -70))).toBe(1 + 2 ** -11); // just below: down
    expect(f(a * a + 2 ** -70)).toBe(1 + 2 ** -11); // what two roundings give
    const step = f(1 / 9);
    expect(fma32(-step, 3, 1)).toBe(0.6666666865348816); // linspace(0, 1, 10)[6] in torch float32
    expect(f(1 - f(step * 3))).toBe(0.6666666269302368);
  });

  test("is correctly rounded on random float32 operands of every magnitude (BigInt reference)", () => {
    for (let k = 0; k < 4000; k++) {
      const a = randomBits(),
        b = randomBits(),
        c = randomBits();
      assertCorrectlyRounded(a, b, c, fma32(a, b, c), true);
    }
  });

  test("is correctly rounded where the double sum is a float32 midpoint but the exact sum is not", () => {
    let inexactMidpoints = 0;
    for (let k = 0; k < 4000; k++) {
      // a·b = h(1 - 2^-2j) with h half an ulp of c: c + a·b falls just short of (or beyond)
      // the midpoint above c by less than a double ulp
      const j = 8 + (k % 16);
      const h = 2 ** (Math.floor(rnd() * 200) - 100);
      const c = f((1 + Math.floor(rnd() * 2 ** 23) * 2 ** -23) * h * 2 ** 24) * sign();
      const a = f(h * (1 + 2 ** -j)) * sign(),
        b = f(1 - 2 ** -j) * sign();
      const r = fma32(a, b, c);
      assertCorrectlyRounded(a, b, c, r, true);
      if (r !== f(a * b + c)) inexactMidpoints++;
      const e1 = f(rnd()),
        e2 = f(rnd() * 0.5); // exact sums, often on a midpoint
      assertCorrectlyRounded(e2, 0.5, e1, fma32(e2, 0.5, e1), true);
    }
    expect(inexactMidpoints).toBeGreaterThan(100); // the cases where two roundings are wrong
  });

  test("subnormal results, overflow, signed zeros and non-finite operands", () => {
    for (let k = 0; k < 2000; k++) {
      const a = f(randomBits() * 1e-30),
        b = f(rnd() * 1e-10),
        c = f(rnd() * 1e-39) * sign();
      assertCorrectlyRounded(a, b, c, fma32(a, b, c), true);
    }
    const MAX = 3.4028234663852886e38;
    for (const [a, b, c] of [
      [MAX, 1, f(2 ** 103)], // exactly the overflow threshold: tie, rounds to +inf
      [2 ** 127, 2, -(2 ** 103)], // exact: 2^128 - 2^103, the threshold
      [2 ** 64, 2 ** 64, -(2 ** 103) - 2 ** 60], // below it: the largest float32
      [f(2 ** 64 * (1 + 2 ** -23)), f(2 ** 64 * (1 - 2 ** -23)), -(2 ** 103)], // threshold minus a sliver
      [MAX, 2, -MAX],
      [-MAX, 1, -MAX],
    ]) {
      assertCorrectlyRounded(a, b, c, fma32(a, b, c), true);
    }
    expect(fma32(f(2 ** 64 * (1 + 2 ** -23)), f(2 ** 64 * (1 - 2 ** -23)), -(2 ** 103))).toBe(MAX);
    // the double sum is exactly the threshold, the exact value just below it (c is a double)
    expect(fma32(2 ** 64, 2 ** 64, -(2 ** 103) - 2 ** 60)).toBe(MAX);
    expect(fma32(-(2 ** 64), 2 ** 64, 2 ** 103 + 2 ** 60)).toBe(-MAX);
    expect(fma32(2 ** 64, 2 ** 64, -(2 ** 103) + 2 ** 60)).toBe(Infinity);
    expect(fma32(Infinity, 1, 0)).toBe(Infinity);
    expect(fma32(Infinity, 0, 1)).toBeNaN();
    expect(fma32(1, 1, -Infinity)).toBe(-Infinity);
    expect(fma32(NaN, 1, 1)).toBeNaN();
    expect(Object.is(fma32(-0, 1, 0), 0)).toBe(true);
    expect(Object.is(fma32(-0, 1, -0), -0)).toBe(true);
  });
});

describe("fma64", () => {
  const rnd = rng(0xfade);
  const F64 = new Float64Array(1),
    U = new Uint32Array(F64.buffer);
  const randomBits = (): number => {
    for (;;) {
      U[0] = (rnd() * 4294967296) >>> 0;
      U[1] = (rnd() * 4294967296) >>> 0;
      if (Number.isFinite(F64[0])) return F64[0];
    }
  };

  test("rounds once", () => {
    expect(fma64(0.1, 10, -1)).toBe(5.551115123125783e-17);
    expect(0.1 * 10 - 1).toBe(0);
    expect(fma64(2, 3, 4)).toBe(10);
    expect(Object.is(fma64(0, 5, -0), 0)).toBe(true);
    expect(Object.is(fma64(-0, 5, -0), -0)).toBe(true);
    expect(fma64(1e308, 10, -Infinity)).toBe(-Infinity);
    expect(fma64(1e308, 10, 0)).toBe(Infinity);
    expect(fma64(Infinity, 0, 1)).toBeNaN();
    expect(Object.is(fma64(3, 1 / 3, -1), fma64(1 / 3, 3, -1))).toBe(true);
  });

  test("fma64(a, b, -a*b) is the exact product error (Dekker's TwoProduct)", () => {
    for (let k = 0; k < 500; k++) {
      const a = (rnd() - 0.5) * 8,
        b = (rnd() - 0.5) * 8;
      const p = a * b;
      const split = (v: number) => {
        const t = 134217729 * v;
        const hi = t - (t - v);
        return [hi, v - hi];
      };
      const [ah, al] = split(a),
        [bh, bl] = split(b);
      expect(fma64(a, b, -p)).toBe(ah * bh - p + ah * bl + al * bh + al * bl);
    }
  });

  test("the fast path (rounding to odd) equals the exact BigInt path, near ties and cancellations included", () => {
    const cases: [number, number, number][] = [];
    const int = (bits: number) => Math.floor(rnd() * 2 ** bits) + 1;
    for (let k = 0; k < 60_000; k++) {
      // few-bit operands: exact sums landing on or next to midpoints are frequent
      const a = int(27) * 2 ** Math.floor(rnd() * 60 - 30) * (rnd() < 0.5 ? -1 : 1),
        b = int(27) * 2 ** Math.floor(rnd() * 60 - 30);
      const c1 = int(30) * 2 ** Math.floor(rnd() * 80 - 40) * (rnd() < 0.5 ? -1 : 1);
      cases.push([a, b, c1]);
      // c cancelling the product's high part, leaving the low part and a few bits
      const p = a * b;
      cases.push([a, b, -p + (rnd() - 0.5) * Math.abs(p) * 2 ** -(40 + rnd() * 30)]);
      // moderate random doubles
      const x = (rnd() - 0.5) * 2 ** (rnd() * 400 - 200),
        y = (rnd() - 0.5) * 2 ** (rnd() * 400 - 200);
      cases.push([x, y, (rnd() - 0.5) * 2 ** (rnd() * 400 - 200)]);
      cases.push([x, y, -x * y * (1 + (rnd() - 0.5) * 2 ** -(rnd() * 60))]);
    }
    // zero factors, zero and tiny c, underflowing and overflowing products
    for (const [a, b, c] of [
      [0, 3, -0],
      [-0, 3, 0],
      [0, -3, -0],
      [0, 1e300, 1e-310],
      [1e-200, 1e-200, 0],
      [1e-200, -1e-200, -0],
      [1e200, 1e200, 1],
      [3, 5, 1e-320],
      [0, 2, Number.NaN],
      [0, 2, Number.NEGATIVE_INFINITY],
    ] as const)
      cases.push([a, b, c]);
    let fast = 0,
      differing = 0;
    for (const [a, b, c] of cases) {
      const ap = Math.abs(a * b);
      if (ap > 2 ** -900 && ap < 2 ** 900 && Math.abs(c) > 2 ** -900 && Math.abs(c) < 2 ** 900) fast++;
      if (!Object.is(fma64(a, b, c), fma64Exact(a, b, c))) {
        differing++;
        if (differing < 5)
          expect({ a, b, c, got: fma64(a, b, c) }).toEqual({ a, b, c, got: fma64Exact(a, b, c) });
      }
    }
    expect(fast).toBeGreaterThan(cases.length * 0.9); // the fast path was exercised
    expect(differing).toBe(0);
  });

  test("is correctly rounded on random doubles, moderate and extreme, and near subnormal results (BigInt reference)", () => {
    for (let k = 0; k < 1500; k++) {
      const a = (rnd() - 0.5) * 2 ** (rnd() * 80 - 40),
        b = (rnd() - 0.5) * 2 ** (rnd() * 80 - 40);
      const c = -a * b * (1 + (rnd() - 0.5) * 2 ** -(rnd() * 60)); // heavy cancellation
      assertCorrectlyRounded(a, b, c, fma64(a, b, c), false);
      const x = randomBits(),
        y = randomBits(),
        z = randomBits();
      assertCorrectlyRounded(x, y, z, fma64(x, y, z), false);
      const s = rnd() * 2 ** -540,
        t = rnd() * 2 ** -540,
        u = (rnd() - 0.5) * 2 ** -1070;
      assertCorrectlyRounded(s, t, u, fma64(s, t, u), false);
    }
  });
});
