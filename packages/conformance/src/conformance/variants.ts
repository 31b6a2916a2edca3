/**
 * Written-out loops with one switch each, for minimal pairs: two runs of the same loop that
 * differ in exactly one rule. Each variant's "library" setting is checked against the port
 * it mimics in the suite (they must be identical to round-off), which ties the rule to the
 * real implementations.
 */
import { type Denoiser, type NoiseSource, type Tensor, clone, perRow, zerosLike } from "@edmkit/core";

/**
 * Euler with EDM churn. `evaluate: "churned"` evaluates D at (x_hat, sigma_hat) as
 * k-diffusion and EDM do; `"stale"` evaluates at (x, sigma) before the noise is added and
 * reuses that eps at sigma_hat, as diffusers' EulerDiscreteScheduler.step does. A second
 * switch for cause ladders, `scalars: "float32"`, takes the per-step scalars as diffusers'
 * step holds them on float32 0-d tensors: sigma_hat = sigma * (gamma + 1), the churn amplitude
 * sqrt(sigma_hat^2 - sigma^2) and dt = sigma_next - sigma_hat, each operation rounded to
 * float32 (and s_tmin / s_tmax compared as float32); the default keeps them in float64.
 */
export async function eulerChurnLoop(
  model: Denoiser,
  x0: Tensor,
  sigmas: ArrayLike<number>,
  o: {
    sChurn: number;
    sTmin: number;
    sTmax: number;
    sNoise: number;
    evaluate: "churned" | "stale";
    scalars?: "float64" | "float32";
    noise: NoiseSource;
    track?: { step: number };
  },
): Promise<Tensor> {
  const x = clone(x0),
    eps = zerosLike(x0),
    b = x0.shape[0];
  const xd = x.data,
    ed = eps.data;
  const n = sigmas.length - 1;
  const r = o.scalars === "float32" ? Math.fround : (v: number) => v;
  for (let i = 0; i < n; i++) {
    if (o.track) o.track.step = i;
    const s = sigmas[i],
      next = sigmas[i + 1];
    const gamma = r(o.sTmin) <= s && s <= r(o.sTmax) ? Math.min(o.sChurn / n, Math.SQRT2 - 1) : 0;
    const sHat = r(s * r(gamma + 1));
    const root = r(Math.sqrt(r(r(sHat * sHat) - r(s * s))));
    const amp = o.sNoise * root;
    const dt = r(next - sHat);
    let dEval: Tensor | null = null;
    if (o.evaluate === "stale") dEval = await model.denoise(x, perRow(b, s));
    if (gamma > 0) {
      o.noise.randn(eps, { step: i });
      for (let k = 0; k < xd.length; k++) xd[k] += ed[k] * amp;
    }
    if (o.evaluate === "churned") {
      const d = await model.denoise(x, perRow(b, sHat));
      for (let k = 0; k < xd.length; k++) xd[k] += ((xd[k] - d.data[k]) / sHat) * dt;
    } else {
      // eps from the un-churned state, x0 = x_hat - sigma_hat * eps, derivative = eps
      const dd = dEval!.data;
      for (let k = 0; k < xd.length; k++) {
        const epsK = (xd[k] - (gamma > 0 ? ed[k] * o.sNoise * root : 0) - dd[k]) / s;
        xd[k] += epsK * dt;
      }
    }
  }
  return x;
}

/**
 * Heun on a sigma grid with a switch for the last step: `"sigma-zero"` (k-diffusion) takes
 * Euler only when the next sigma is 0; `"index"` (NVlabs) takes Euler on the last step
 * whatever its sigma.
 */
export async function heunLoop(
  model: Denoiser,
  x0: Tensor,
  sigmas: ArrayLike<number>,
  lastStep: "sigma-zero" | "index",
  track?: { step: number },
): Promise<Tensor> {
  const x = clone(x0),
    b = x0.shape[0],
    xd = x.data;
  const dCur = new Float64Array(xd.length),
    xNext = clone(x0);
  const n = sigmas.length - 1;
  for (let i = 0; i < n; i++) {
    if (track) track.step = i;
    const s = sigmas[i],
      next = sigmas[i + 1];
    const d = await model.denoise(x, perRow(b, s));
    for (let k = 0; k < xd.length; k++) dCur[k] = (xd[k] - d.data[k]) / s;
    const euler = lastStep === "sigma-zero" ? next === 0 : i === n - 1;
    if (euler) {
      for (let k = 0; k < xd.length; k++) xd[k] += dCur[k] * (next - s);
      continue;
    }
    for (let k = 0; k < xd.length; k++) xNext.data[k] = xd[k] + dCur[k] * (next - s);
    const d2 = await model.denoise(xNext, perRow(b, next));
    for (let k = 0; k < xd.length; k++) {
      const dNext = (xNext.data[k] - d2.data[k]) / next;
      xd[k] += ((dCur[k] + dNext) / 2) * (next - s);
    }
  }
  return x;
}
