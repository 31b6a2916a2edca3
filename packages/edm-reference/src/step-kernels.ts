/**
 * The sampler's update as fused per-element passes (issue 16): what `runPlan` used to do with
 * one core kernel per op (the derivative `subDiv` or `axpby`, then `axpy`; for the second-order
 * correction also the blend `axpby`) in one pass over memory. Each element goes through the
 * same operations in the same order, every float32 op rounded where the core kernel would
 * round it (a value a kernel would store in a float32 buffer is rounded with `f` before its
 * next use), so results are bit-identical to the kernel chain.
 *
 * The derivative d = f(x, t) is (x − D)/σ when the schedule is the identity (core's `subDiv`),
 * else a·x − b·D (core's `axpby` with −b).
 */
import { checkOperands, type Tensor } from "@edmkit/core";

const f = Math.fround;

export interface Deriv {
  identity: boolean;
  sigma: number;
  a: number;
  b: number;
}

/**
 * d = f(x, D) (written into `dOut` when given, for a later correction), then
 * out = x + step·d (core's `axpy`).
 */
export function derivStep(
  out: Tensor,
  dOut: Tensor | null,
  x: Tensor,
  D: Tensor,
  g: Deriv,
  step: number,
): void {
  checkOperands("derivStep", out, x, D);
  if (dOut) checkOperands("derivStep", out, dOut);
  const o = out.data,
    xs = x.data,
    ds = D.data,
    len = o.length;
  const keep = dOut !== null,
    dd = (dOut ?? out).data;
  if (o instanceof Float32Array) {
    const s32 = f(g.sigma),
      a32 = f(g.a),
      b32 = f(-g.b),
      h32 = f(step);
    for (let k = 0; k < len; k++) {
      const xk = xs[k];
      const d = g.identity ? f(f(xk - ds[k]) / s32) : f(f(a32 * xk) + f(b32 * ds[k]));
      if (keep) dd[k] = d;
      o[k] = xk + f(h32 * d);
    }
  } else {
    const s = g.sigma,
      a = g.a,
      b = -g.b;
    for (let k = 0; k < len; k++) {
      const xk = xs[k];
      const d = g.identity ? (xk - ds[k]) / s : a * xk + b * ds[k];
      if (keep) dd[k] = d;
      o[k] = xk + step * d;
    }
  }
}

/**
 * The second-order correction: d′ = f(x′, D′), the blend c1·d + c2·d′ (core's `axpby`), then
 * out = x + step·blend (core's `axpy`).
 */
export function correctStep(
  out: Tensor,
  x: Tensor,
  d: Tensor,
  xPrime: Tensor,
  D2: Tensor,
  g: Deriv,
  c1: number,
  c2: number,
  step: number,
): void {
  checkOperands("correctStep", out, x, d, xPrime, D2);
  const o = out.data,
    xs = x.data,
    ds = d.data,
    xp = xPrime.data,
    d2 = D2.data,
    len = o.length;
  if (o instanceof Float32Array) {
    const s32 = f(g.sigma),
      a32 = f(g.a),
      b32 = f(-g.b),
      c132 = f(c1),
      c232 = f(c2),
      h32 = f(step);
    for (let k = 0; k < len; k++) {
      const xpk = xp[k];
      const dp = g.identity ? f(f(xpk - d2[k]) / s32) : f(f(a32 * xpk) + f(b32 * d2[k]));
      const blend = f(f(c132 * ds[k]) + f(c232 * dp));
      o[k] = xs[k] + f(h32 * blend);
    }
  } else {
    const s = g.sigma,
      a = g.a,
      b = -g.b;
    for (let k = 0; k < len; k++) {
      const xpk = xp[k];
      const dp = g.identity ? (xpk - d2[k]) / s : a * xpk + b * d2[k];
      const blend = c1 * ds[k] + c2 * dp;
      o[k] = xs[k] + step * blend;
    }
  }
}
