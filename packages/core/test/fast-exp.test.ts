/**
 * fastExp's int32-indexed power-of-two scaling (issue 16) against the previous formulation
 * (2^k built from its exponent bits for the float k, the subnormal range scaled in two steps),
 * bit for bit: the same reduction and polynomial, so only the scaling could differ.
 */
import { describe, expect, test } from "vitest";
import { fastExp, MT19937 } from "../src/index.js";

const bits = new DataView(new ArrayBuffer(8));
/** 2^k for an integer k in [-1022, 1023], from the exponent bits. */
function pow2(k: number): number {
  bits.setUint32(0, (k + 1023) << 20);
  bits.setUint32(4, 0);
  return bits.getFloat64(0);
}

/** The previous fastExp, written out. */
function previous(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x > 7.09782712893383973096e2) return Infinity;
  if (x < -7.4513321910194110842e2) return 0;
  const k = Math.floor(x * 1.442695040888963387 + 0.5);
  const hi = x - k * 6.9314718036912381649e-1;
  const lo = k * 1.90821492927058770002e-10;
  const r = hi - lo;
  const t = r * r;
  const c =
    r -
    t *
      (1.66666666666666019037e-1 +
        t *
          (-2.77777777770155933842e-3 +
            t *
              (6.61375632143793436117e-5 + t * (-1.6533902205465251539e-6 + t * 4.13813679705723846039e-8))));
  const y = 1 - (lo - (r * c) / (2 - c) - hi);
  if (k >= -1021) return k === 1024 ? y * 2 * pow2(1023) : y * pow2(k);
  return y * pow2(k + 1000) * pow2(-1000);
}

describe("fastExp", () => {
  test("equals the previous formulation bit for bit (whole range, subnormal and overflow edges, specials)", () => {
    const rng = new MT19937(1616);
    const u = () => rng.nextUint32() / 2 ** 32;
    const xs: number[] = [NaN, Infinity, -Infinity, 0, -0, 5e-324, -5e-324, 1e-300, 709.78, 709.79, -708.39];
    xs.push(
      7.09782712893383973096e2,
      -7.4513321910194110842e2,
      -745.1,
      -745.2,
      1024 * Math.LN2,
      -1021 * Math.LN2,
    );
    for (let i = 0; i < 100_000; i++) xs.push((2 * u() - 1) * 760); // every exponent k
    for (let i = 0; i < 50_000; i++) xs.push(-708 - 38 * u()); // subnormal results
    for (let i = 0; i < 20_000; i++) xs.push(708 + 2 * u()); // near overflow
    for (let i = 0; i < 20_000; i++) xs.push(-40 * u()); // the softmax range
    let bad = 0,
      first = "";
    for (const x of xs) {
      const got = fastExp(x),
        want = previous(x);
      if (!Object.is(got, want)) {
        if (bad++ === 0) first = `x = ${x}: ${got} vs ${want}`;
      }
    }
    expect(first).toBe("");
    expect(bad).toBe(0);
  });
});
