/**
 * The fused step kernels of LMS and the DPM++ multistep SDE samplers (issue 16); the rest, and
 * what fusing means and how the JS loops and the SIMD kernels relate, is in kernels.ts. One
 * public function per kernel: operand checks, then the SIMD kernel of the variant (which terms
 * are present) for large tensors, else one JS loop per dtype.
 */
import {
  checkOperands,
  SimdKernel,
  simdAdd as add,
  simdDiv as div,
  type SimdExpr,
  simdIn as inp,
  simdMul as mul,
  simdPar as par,
  simdSub as sub,
  type Tensor,
} from "@edmkit/core";
import { lmsUpdate, subDivInto } from "./op-kernels.js";

const f = Math.fround;

/** ((z · n1) · n2) · n3 with z the operand j and the scalars i, i + 1, i + 2. */
const noise3 = (j: number, i: number): SimdExpr => mul(mul(mul(inp(j), par(i)), par(i + 1)), par(i + 2));

/**
 * LMS of order 1..4: outputs d₀, x; operands x, denoised, then ds[1..order−1]; scalars sigma,
 * coeffs[0..3].
 */
const SIMD_LMS = [1, 2, 3, 4].map((order) => {
  const d = div(sub(inp(0), inp(1)), par(0));
  let acc = mul(par(1), d);
  for (let j = 1; j < order; j++) acc = add(acc, mul(par(1 + j), inp(1 + j)));
  return new SimdKernel({ inputs: 1 + order, params: 5, outputs: [d, add(inp(0), acc)] });
});

/**
 * One LMS step: d₀ = (x − denoised) / sigma written into `ds[0]` (the history the next steps
 * read), then x ← x + Σ_j coeffs[j]·ds[j] (lmsUpdate's sum, from 0, left to right).
 */
export function lmsStep(
  x: Tensor,
  denoised: Tensor,
  sigma: number,
  coeffs: ArrayLike<number>,
  ds: readonly Tensor[],
  order: number,
): Tensor {
  checkOperands("lmsStep", x, denoised);
  for (let j = 0; j < order; j++) checkOperands("lmsStep", x, ds[j]);
  if (order > 4) {
    subDivInto(ds[0], x, denoised, sigma);
    return lmsUpdate(x, coeffs, ds, order);
  }
  const o = x.data;
  const c0 = coeffs[0],
    c1 = order > 1 ? coeffs[1] : 0,
    c2 = order > 2 ? coeffs[2] : 0,
    c3 = order > 3 ? coeffs[3] : 0;
  const k = SIMD_LMS[order - 1];
  if (k.accepts(o, true)) {
    const ops = k.ops;
    ops[0] = ds[0].data;
    ops[1] = o;
    ops[2] = o;
    ops[3] = denoised.data;
    for (let j = 1; j < order; j++) ops[3 + j] = ds[j].data;
    k.run(sigma, c0, c1, c2, c3);
    return x;
  }
  // unused slots point at d0 and are multiplied by nothing (the loops below stop at `order`)
  const d0 = ds[0].data,
    d1 = (order > 1 ? ds[1] : ds[0]).data,
    d2 = (order > 2 ? ds[2] : ds[0]).data,
    d3 = (order > 3 ? ds[3] : ds[0]).data;
  if (o instanceof Float32Array) {
    const dn = denoised.data as Float32Array;
    lms32(
      o,
      dn,
      f(sigma),
      d0 as Float32Array,
      d1 as Float32Array,
      d2 as Float32Array,
      d3 as Float32Array,
      f(c0),
      f(c1),
      f(c2),
      f(c3),
      order,
    );
  } else {
    const dn = denoised.data as Float64Array;
    lms64(
      o,
      dn,
      sigma,
      d0 as Float64Array,
      d1 as Float64Array,
      d2 as Float64Array,
      d3 as Float64Array,
      c0,
      c1,
      c2,
      c3,
      order,
    );
  }
  return x;
}

function lms32(
  o: Float32Array,
  dn: Float32Array,
  s: number,
  d0: Float32Array,
  d1: Float32Array,
  d2: Float32Array,
  d3: Float32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  order: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = o[k];
    const d = f(f(xk - dn[k]) / s);
    d0[k] = d;
    let acc = f(c0 * d);
    if (order > 1) acc = f(acc + f(c1 * d1[k]));
    if (order > 2) acc = f(acc + f(c2 * d2[k]));
    if (order > 3) acc = f(acc + f(c3 * d3[k]));
    o[k] = xk + acc;
  }
}

function lms64(
  o: Float64Array,
  dn: Float64Array,
  s: number,
  d0: Float64Array,
  d1: Float64Array,
  d2: Float64Array,
  d3: Float64Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  order: number,
): void {
  for (let k = 0; k < o.length; k++) {
    const xk = o[k];
    const d = (xk - dn[k]) / s;
    d0[k] = d;
    let acc = c0 * d;
    if (order > 1) acc = acc + c1 * d1[k];
    if (order > 2) acc = acc + c2 * d2[k];
    if (order > 3) acc = acc + c3 * d3[k];
    o[k] = xk + acc;
  }
}

/**
 * DPM++(2M) SDE, by variant (bit 0: D_prev given, bit 1: z given): operands x, D, [D_prev],
 * [z]; scalars a, e, c, n1, n2, n3.
 */
const SIMD_SDE2M = [0, 1, 2, 3].map((v) => {
  const hasOld = (v & 1) !== 0,
    hasZ = (v & 2) !== 0;
  let t = add(mul(par(0), inp(0)), mul(par(1), inp(1)));
  if (hasOld) t = add(t, mul(par(2), sub(inp(1), inp(2))));
  if (hasZ) t = add(t, noise3(hasOld ? 3 : 2, 3));
  return new SimdKernel({ inputs: 2 + (hasOld ? 1 : 0) + (hasZ ? 1 : 0), params: 6, outputs: [t] });
});

/**
 * DPM++(2M) SDE's update in place: x ← a·x + e·D (axpby), then, when `old` is given,
 * + c·(D − D_prev) (addScaledDiff), then, when `z` is given, + ((z·n1)·n2)·n3 (addScaled3).
 */
export function sde2mStep(
  x: Tensor,
  a: number,
  e: number,
  denoised: Tensor,
  old: Tensor | null,
  c: number,
  z: Tensor | null,
  n1: number,
  n2: number,
  n3: number,
): Tensor {
  checkOperands("sde2mStep", x, denoised);
  if (old) checkOperands("sde2mStep", x, old);
  if (z) checkOperands("sde2mStep", x, z);
  const o = x.data;
  const k = SIMD_SDE2M[(old ? 1 : 0) + (z ? 2 : 0)];
  if (k.accepts(o)) {
    const ops = k.ops;
    ops[0] = o;
    ops[1] = o;
    ops[2] = denoised.data;
    let j = 3;
    if (old) ops[j++] = old.data;
    if (z) ops[j] = z.data;
    k.run(a, e, c, n1, n2, n3);
    return x;
  }
  // absent operands read D and are not used (the flags skip their terms)
  const dn = denoised.data,
    ol = (old ?? denoised).data,
    zs = (z ?? denoised).data;
  if (o instanceof Float32Array) {
    sde2m32(
      o,
      f(a),
      f(e),
      dn as Float32Array,
      ol as Float32Array,
      f(c),
      zs as Float32Array,
      f(n1),
      f(n2),
      f(n3),
      old !== null,
      z !== null,
    );
  } else {
    sde2m64(
      o,
      a,
      e,
      dn as Float64Array,
      ol as Float64Array,
      c,
      zs as Float64Array,
      n1,
      n2,
      n3,
      old !== null,
      z !== null,
    );
  }
  return x;
}

function sde2m32(
  o: Float32Array,
  a: number,
  e: number,
  dn: Float32Array,
  ol: Float32Array,
  c: number,
  zs: Float32Array,
  n1: number,
  n2: number,
  n3: number,
  hasOld: boolean,
  hasZ: boolean,
): void {
  for (let k = 0; k < o.length; k++) {
    const dk = dn[k];
    let t = f(f(a * o[k]) + f(e * dk));
    if (hasOld) t = f(t + f(c * f(dk - ol[k])));
    if (hasZ) t = f(t + f(f(f(zs[k] * n1) * n2) * n3));
    o[k] = t;
  }
}

function sde2m64(
  o: Float64Array,
  a: number,
  e: number,
  dn: Float64Array,
  ol: Float64Array,
  c: number,
  zs: Float64Array,
  n1: number,
  n2: number,
  n3: number,
  hasOld: boolean,
  hasZ: boolean,
): void {
  for (let k = 0; k < o.length; k++) {
    const dk = dn[k];
    let t = a * o[k] + e * dk;
    if (hasOld) t = t + c * (dk - ol[k]);
    if (hasZ) t = t + zs[k] * n1 * n2 * n3;
    o[k] = t;
  }
}

/**
 * DPM++(3M) SDE, by variant (order − 1 + 3 when z is given): operands x, D, [D₁], [D₂], [z];
 * scalars a, e, r0, r1, rsum, phi2, phi3, n1, n2, n3.
 */
const SIMD_SDE3M = [0, 1, 2, 3, 4, 5].map((v) => {
  const order = (v % 3) + 1,
    hasZ = v >= 3;
  let t = add(mul(par(0), inp(0)), mul(par(1), inp(1)));
  if (order === 3) {
    const p = div(sub(inp(1), inp(2)), par(2)),
      q = div(sub(inp(2), inp(3)), par(3));
    const diff = sub(p, q);
    const d1 = add(p, div(mul(diff, par(2)), par(4)));
    const d2 = div(diff, par(4));
    t = sub(add(t, mul(par(5), d1)), mul(par(6), d2));
  } else if (order === 2) {
    t = add(t, mul(par(5), div(sub(inp(1), inp(2)), par(2))));
  }
  if (hasZ) t = add(t, noise3(1 + order, 7));
  return new SimdKernel({ inputs: 1 + order + (hasZ ? 1 : 0), params: 10, outputs: [t] });
});

/**
 * DPM++(3M) SDE's update in place: x ← a·x + e·D (axpby); then the correction of the order
 * reached: third (den1 and den2 given): δ₀ = (D − D₁)/r0, δ₁ = (D₁ − D₂)/r1 (subDiv each) and
 * dpmpp3mCorrection(r0, rsum, phi2, phi3); second (den1 only): + phi2·((D − D₁)/r0)
 * (addScaledDiffDiv); then, when `z` is given, + ((z·n1)·n2)·n3 (addScaled3).
 */
export function sde3mStep(
  x: Tensor,
  a: number,
  e: number,
  denoised: Tensor,
  den1: Tensor | null,
  den2: Tensor | null,
  r0: number,
  r1: number,
  rsum: number,
  phi2: number,
  phi3: number,
  z: Tensor | null,
  n1: number,
  n2: number,
  n3: number,
): Tensor {
  checkOperands("sde3mStep", x, denoised);
  if (den1) checkOperands("sde3mStep", x, den1);
  if (den2) checkOperands("sde3mStep", x, den2);
  if (z) checkOperands("sde3mStep", x, z);
  const o = x.data;
  const order = den1 === null ? 1 : den2 === null ? 2 : 3;
  const k = SIMD_SDE3M[order - 1 + (z ? 3 : 0)];
  if (k.accepts(o, order > 1)) {
    const ops = k.ops;
    ops[0] = o;
    ops[1] = o;
    ops[2] = denoised.data;
    let j = 3;
    if (den1) ops[j++] = den1.data;
    if (den2) ops[j++] = den2.data;
    if (z) ops[j] = z.data;
    k.run(a, e, r0, r1, rsum, phi2, phi3, n1, n2, n3);
    return x;
  }
  // absent operands read D and are not used (the loops skip their terms)
  const dn = denoised.data,
    p1 = (den1 ?? denoised).data,
    p2 = (den2 ?? denoised).data,
    zs = (z ?? denoised).data;
  if (o instanceof Float32Array) {
    sde3m32(
      o,
      dn as Float32Array,
      p1 as Float32Array,
      p2 as Float32Array,
      zs as Float32Array,
      f(a),
      f(e),
      f(r0),
      f(r1),
      f(rsum),
      f(phi2),
      f(phi3),
      f(n1),
      f(n2),
      f(n3),
      order,
      z !== null,
    );
  } else {
    sde3m64(
      o,
      dn as Float64Array,
      p1 as Float64Array,
      p2 as Float64Array,
      zs as Float64Array,
      a,
      e,
      r0,
      r1,
      rsum,
      phi2,
      phi3,
      n1,
      n2,
      n3,
      order,
      z !== null,
    );
  }
  return x;
}

// one loop per order (the order is fixed for a call), so each loop's body is straight-line
function sde3m32(
  o: Float32Array,
  dn: Float32Array,
  p1: Float32Array,
  p2: Float32Array,
  zs: Float32Array,
  a: number,
  e: number,
  r0: number,
  r1: number,
  rs: number,
  phi2: number,
  phi3: number,
  n1: number,
  n2: number,
  n3: number,
  order: number,
  hasZ: boolean,
): void {
  const len = o.length;
  if (order === 3) {
    for (let k = 0; k < len; k++) {
      const dk = dn[k],
        d1k = p1[k];
      const p = f(f(dk - d1k) / r0),
        q = f(f(d1k - p2[k]) / r1);
      const diff = f(p - q);
      const d1 = f(p + f(f(diff * r0) / rs));
      const d2 = f(diff / rs);
      let t = f(f(a * o[k]) + f(e * dk));
      t = f(f(t + f(phi2 * d1)) - f(phi3 * d2));
      o[k] = hasZ ? t + f(f(f(zs[k] * n1) * n2) * n3) : t;
    }
  } else if (order === 2) {
    for (let k = 0; k < len; k++) {
      const dk = dn[k];
      let t = f(f(a * o[k]) + f(e * dk));
      t = f(t + f(phi2 * f(f(dk - p1[k]) / r0)));
      o[k] = hasZ ? t + f(f(f(zs[k] * n1) * n2) * n3) : t;
    }
  } else {
    for (let k = 0; k < len; k++) {
      const t = f(f(a * o[k]) + f(e * dn[k]));
      o[k] = hasZ ? t + f(f(f(zs[k] * n1) * n2) * n3) : t;
    }
  }
}

function sde3m64(
  o: Float64Array,
  dn: Float64Array,
  p1: Float64Array,
  p2: Float64Array,
  zs: Float64Array,
  a: number,
  e: number,
  r0: number,
  r1: number,
  rsum: number,
  phi2: number,
  phi3: number,
  n1: number,
  n2: number,
  n3: number,
  order: number,
  hasZ: boolean,
): void {
  const len = o.length;
  if (order === 3) {
    for (let k = 0; k < len; k++) {
      const dk = dn[k],
        d1k = p1[k];
      const p = (dk - d1k) / r0,
        q = (d1k - p2[k]) / r1;
      const diff = p - q;
      const d1 = p + (diff * r0) / rsum;
      const d2 = diff / rsum;
      const t = a * o[k] + e * dk + phi2 * d1 - phi3 * d2;
      o[k] = hasZ ? t + zs[k] * n1 * n2 * n3 : t;
    }
  } else if (order === 2) {
    for (let k = 0; k < len; k++) {
      const dk = dn[k];
      const t = a * o[k] + e * dk + phi2 * ((dk - p1[k]) / r0);
      o[k] = hasZ ? t + zs[k] * n1 * n2 * n3 : t;
    }
  } else {
    for (let k = 0; k < len; k++) {
      const t = a * o[k] + e * dn[k];
      o[k] = hasZ ? t + zs[k] * n1 * n2 * n3 : t;
    }
  }
}
