/**
 * Ports of the helper functions of k-diffusion's `sampling.py`: `to_d`,
 * `get_ancestral_step` and `linear_multistep_coeff`.
 */
import { type DType, subDiv, type Tensor, torchMath, type TorchMath } from "@edmkit/core";
import { integrateGaussLegendre, qk21 } from "./quadrature.js";
import { fail, integer } from "./validate.js";

/**
 * Port of `to_d(x, sigma, denoised)`: the Karras ODE derivative `(x - denoised) / sigma`,
 * written into `out` (which may alias `x` or `denoised`). In float32 the difference is
 * rounded before the division, as the two torch ops do.
 */
export function toD(out: Tensor, x: Tensor, sigma: number, denoised: Tensor): Tensor {
  return subDiv(out, x, denoised, sigma);
}

export interface AncestralStep {
  sigmaDown: number;
  sigmaUp: number;
}

/**
 * Port of `get_ancestral_step(sigma_from, sigma_to, eta=1.)`: the noise level to step down
 * to and the noise to add back for an ancestral step,
 * `sigma_up = min(sigma_to, eta * sqrt(sigma_to^2 (sigma_from^2 - sigma_to^2) / sigma_from^2))`,
 * `sigma_down = sqrt(sigma_to^2 - sigma_up^2)`.
 * Quirks kept: eta == 0 short-circuits to `(sigma_to, 0)` without evaluating the formula;
 * sigma_up is clamped to sigma_to with Python's `min` (sigma_to wins a tie). Scalars are
 * 0-d tensors of `dtype` (every op rounded in float32).
 */
export function getAncestralStep(
  sigmaFrom: number,
  sigmaTo: number,
  eta = 1,
  dtype: DType = "float64",
): AncestralStep {
  return ancestralStep(torchMath(dtype), sigmaFrom, sigmaTo, eta);
}

/** `getAncestralStep` with the scalar math already chosen (used inside sampler loops). */
export function ancestralStep(m: TorchMath, sigmaFrom: number, sigmaTo: number, eta: number): AncestralStep {
  if (!eta) return { sigmaDown: sigmaTo, sigmaUp: 0 };
  // sigma_up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
  const to2 = m.pow(sigmaTo, 2),
    from2 = m.pow(sigmaFrom, 2);
  const up = m.mul(m.r(eta), m.pow(m.div(m.mul(to2, m.sub(from2, to2)), from2), 0.5));
  const sigmaUp = up < sigmaTo ? up : sigmaTo; // Python's min keeps sigma_to on a tie
  // sigma_down = (sigma_to ** 2 - sigma_up ** 2) ** 0.5
  const sigmaDown = m.pow(m.sub(to2, m.pow(sigmaUp, 2)), 0.5);
  return { sigmaDown, sigmaUp };
}

/**
 * Port of `linear_multistep_coeff(order, t, i, j)`: the integral over [t[i], t[i+1]] of the
 * Lagrange basis polynomial that is 1 at t[i-j] and 0 at the other nodes
 * t[i], t[i-1], ..., t[i-order+1].
 *
 * The original integrates it numerically (scipy `quad`, epsrel=1e-4). The integrand is a
 * polynomial of degree order-1, so it is integrated exactly here: up to order 20 with
 * QUADPACK's 21-point Gauss-Kronrod rule (what `quad` returns for such polynomials after its
 * first, accepted, evaluation: see quadrature.ts), beyond that with Gauss-Legendre of
 * ceil(order/2) nodes. The integrand follows the original's arithmetic: `t` is a numpy
 * array of the schedule's dtype (`tDtype`); in float32 the node differences in the
 * denominators are float32, everything else is float64 (numpy 1.x promotes a Python float
 * meeting a float32 scalar to float64). Throws, as the original does, when order - 1 > i.
 */
export function linearMultistepCoeff(
  order: number,
  t: ArrayLike<number>,
  i: number,
  j: number,
  tDtype: DType = "float64",
): number {
  const fn = "linear_multistep_coeff";
  integer(fn, "order", order, 1);
  integer(fn, "i", i, 0);
  integer(fn, "j", j, 0);
  if (order - 1 > i) fail(fn, `order ${order} too high for step ${i}`);
  if (j >= order) fail(fn, `j must be < order (${order}), got ${j}`);
  if (i + 1 >= t.length) fail(fn, `t has ${t.length} entries, step ${i} needs t[${i + 1}]`);
  const r = tDtype === "float32" ? Math.fround : (v: number) => v;
  const tj = t[i - j];
  const nodes: number[] = [];
  const dens: number[] = [];
  for (let k = 0; k < order; k++) {
    if (k === j) continue;
    nodes.push(t[i - k]);
    dens.push(r(tj - t[i - k]));
  }
  const basis = (tau: number): number => {
    let prod = 1;
    for (let k = 0; k < nodes.length; k++) prod *= (tau - nodes[k]) / dens[k];
    return prod;
  };
  if (order <= 20) return qk21(basis, t[i], t[i + 1]).result;
  return integrateGaussLegendre(basis, t[i], t[i + 1], Math.ceil(order / 2));
}
