/**
 * The per-element passes of the Euler and Euler-ancestral `step()` (the scalar logic stays in
 * the schedulers, written once). Like core's and k-diffusion's element kernels, each pass is
 * specialised per dtype so the loop runs without a call per op: the float32 loop rounds every
 * torch op with `f` in the original's order, the float64 loop is the same expression in
 * doubles (`torchMath`'s ops, inlined). Both loops read the sample rounded to float32 first,
 * as diffusers' step does in a float64 run too.
 */
import type { DType } from "@edmkit/core";

const f = Math.fround;

type Data = Float32Array | Float64Array;

/** Inputs of one Euler step pass (0-d scalars already rounded as the scheduler holds them). */
export interface EulerElementArgs {
  x: Data;
  mo: Data;
  /** The churn noise, or null without churn. */
  noise: Data | null;
  pd: Data;
  xd: Data;
  /** 0 epsilon, 1 v_prediction, 2 sample. */
  mode: number;
  sigmaHat: number;
  dt: number;
  vOut: number;
  vDen: number;
  sNoiseT: number;
  churnScale: number;
}

/** x0 and the Euler step of EulerDiscreteScheduler.step, into pd and xd. */
export function eulerElements(dtype: DType, a: EulerElementArgs): void {
  const { x, mo, noise, pd, xd, mode, sigmaHat, dt, vOut, vDen, sNoiseT, churnScale } = a;
  const n = mo.length;
  // One pass per dtype, the arithmetic written out (`m`'s ops inline: each float32 op rounded
  // with f), so the loop runs without a call per op; the same operations as m's, in order.
  if (dtype === "float32") {
    for (let k = 0; k < n; k++) {
      let s = f(x[k]); // the sample is rounded to float32 first, as the original's step does
      // churn: add ε·s_noise·√(σ̂² − σ²), ε drawn in the model output's dtype
      if (noise !== null) s = f(s + f(f(noise[k] * sNoiseT) * churnScale));
      const e = mo[k];
      // x0 by prediction type: ε → x − σ̂·output; v → output·(−σ/√(σ² + 1)) + x/(σ² + 1);
      // sample → the output
      const x0 = mode === 0 ? f(s - f(sigmaHat * e)) : mode === 1 ? f(f(e * vOut) + f(s / vDen)) : e;
      const d = f(f(s - x0) / sigmaHat); // d = (x − x0)/σ̂
      pd[k] = x0;
      xd[k] = f(s + f(d * dt)); // Euler step x + d·(σ_{i+1} − σ̂)
    }
  } else {
    for (let k = 0; k < n; k++) {
      let s = f(x[k]); // rounded to float32 first, in a float64 run too
      if (noise !== null) s = s + noise[k] * sNoiseT * churnScale;
      const e = mo[k];
      // the v division is a float32 op unless churn promoted the sample to float64
      const x0 =
        mode === 0 ? s - sigmaHat * e : mode === 1 ? e * vOut + (noise !== null ? s / vDen : f(s / vDen)) : e;
      const d = (s - x0) / sigmaHat;
      pd[k] = x0;
      xd[k] = s + d * dt;
    }
  }
}

/** Inputs of one Euler-ancestral step pass. */
export interface EulerAncestralElementArgs {
  x: Data;
  mo: Data;
  /** The step's noise draw. */
  e: Data;
  pd: Data;
  xd: Data;
  /** 0 epsilon, 1 v_prediction. */
  mode: number;
  sigma: number;
  dt: number;
  vOut: number;
  vDen: number;
  sigmaUp: number;
}

/** x0, the Euler step to sigma_down and the noise times sigma_up, into pd and xd. */
export function eulerAncestralElements(dtype: DType, a: EulerAncestralElementArgs): void {
  const { x, mo, e, pd, xd, mode, sigma, dt, vOut, vDen, sigmaUp } = a;
  const n = mo.length;
  // One pass per dtype, the arithmetic written out (`m`'s ops inline: each float32 op rounded
  // with f), so the loop runs without a call per op; the same operations as m's, in order.
  if (dtype === "float32") {
    for (let k = 0; k < n; k++) {
      const s = f(x[k]); // the sample is rounded to float32 first, as the original's step does
      // x0 by prediction type: ε → x − σ·output; v → output·(−σ/√(σ² + 1)) + x/(σ² + 1), the
      // division done on the float32 sample
      const x0 = mode === 0 ? f(s - f(sigma * mo[k])) : f(f(mo[k] * vOut) + f(s / vDen));
      const d = f(f(s - x0) / sigma); // d = (x − x0)/σ
      pd[k] = x0;
      // Euler step to σ_down, then noise·σ_up added to the result
      xd[k] = f(f(s + f(d * dt)) + f(e[k] * sigmaUp));
    }
  } else {
    for (let k = 0; k < n; k++) {
      const s = f(x[k]); // rounded to float32 first, in a float64 run too
      const x0 = mode === 0 ? s - sigma * mo[k] : mo[k] * vOut + f(s / vDen);
      const d = (s - x0) / sigma;
      pd[k] = x0;
      xd[k] = s + d * dt + e[k] * sigmaUp;
    }
  }
}
