/**
 * Port of k-diffusion's `sample_lms` (sampling.py).
 */
import type { Denoiser, Tensor } from "@edmkit/core";
import { lmsStep } from "../kernels.js";
import { linearMultistepCoeff } from "../utils.js";
import { integer } from "../validate.js";
import { type SamplerHooks, SamplerRun, type SigmasInput } from "./common.js";

export interface LmsOptions extends SamplerHooks {
  /** Number of past derivatives combined (default 4). */
  order?: number;
}

/**
 * Port of `sample_lms(model, x, sigmas, order=4)`: linear multistep (Adams-Bashforth in
 * sigma) on the Karras ODE. The order ramps up as min(i + 1, order) (quirk 12); the
 * coefficients integrate the Lagrange basis over [sigmas[i], sigmas[i+1]] exactly (see
 * `linearMultistepCoeff`) on the schedule in x's dtype (the original's numpy copy of
 * sigmas), and the update sums `coeff * d` newest first as Python's `sum` does.
 */
export async function sampleLms(
  model: Denoiser,
  x: Tensor,
  sigmas: SigmasInput,
  options: LmsOptions = {},
): Promise<Tensor> {
  const run = new SamplerRun("sample_lms", model, x, sigmas, options);
  const order = integer(run.fn, "order", options.order ?? 4, 1);
  const { x: xs, sigmas: s, m } = run;
  const den = run.buffer();
  // Ring of derivative buffers; `ds[0]` is the newest (the original's ds[-1]).
  const pool: Tensor[] = [];
  for (let k = 0; k < Math.min(order, run.steps); k++) pool.push(run.buffer());
  const ds: Tensor[] = [];
  const coeffs = new Float64Array(order);
  for (let i = 0; i < run.steps; i++) {
    run.step = i;
    const denoised = await run.denoise(xs, s[i], den);
    // Reuse the oldest buffer once `order` derivatives are held.
    const d = ds.length === order ? (ds.pop() as Tensor) : pool[ds.length];
    ds.unshift(d); // filled with d = (x − D)/σ_i by lmsStep below
    if (run.reporting) await run.report({ x: xs, i, sigma: s[i], sigma_hat: s[i], denoised });
    const curOrder = Math.min(i + 1, order);
    for (let j = 0; j < curOrder; j++) coeffs[j] = linearMultistepCoeff(curOrder, s, i, j, m.dtype);
    // d₀ = to_d(x, σ_i, D) into ds[0] and the update, one fused pass
    lmsStep(xs, denoised, s[i], coeffs, ds, curOrder);
  }
  return run.result();
}
