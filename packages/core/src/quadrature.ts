/**
 * Exact quadrature of polynomials, for the LMS coefficients (k-diffusion's `linear_multistep_coeff`
 * and diffusers' `LMSDiscreteScheduler.get_lms_coefficient` both call scipy `quad`).
 *
 * k-diffusion integrates each Lagrange basis polynomial with
 * `scipy.integrate.quad(fn, a, b, epsrel=1e-4)`. QUADPACK's QAGS starts with the 21-point
 * Gauss-Kronrod rule (QK21) on the whole interval; for a polynomial of degree <= 19 its
 * embedded 10-point Gauss rule is exact too, the error estimate is at rounding level, and
 * the first result is returned as is. `qk21` evaluates that rule with QUADPACK's constants
 * in QUADPACK's order of operations, so the coefficients agree with scipy's to the last bit
 * (given the same integrand arithmetic). It is exact for degree <= 31.
 * `gaussLegendre` gives an n-point rule (exact for degree <= 2n - 1) for higher degrees.
 */
import * as libm from "./libm.js";

/** Kronrod abscissae of QK21 (the odd-indexed ones are the 10-point Gauss nodes), QUADPACK. */
const XGK = [
  0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
  0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
  0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
  0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
  0.294392862701460198131126603103866, 0.14887433898163121088482600112972, 0.0,
];

/** Kronrod weights of QK21, QUADPACK. */
const WGK = [
  0.011694638867371874278064396062192, 0.03255816230796472747881897245939, 0.05475589657435199603138130024458,
  0.07503967481091995276704314091619, 0.093125454583697605535065465083366,
  0.109387158802297641899210590325805, 0.123491976262065851077208980223048,
  0.134709217311473325928054001771707, 0.142775938577060080797094273138717,
  0.147739104901338491374841515972068, 0.149445554002916905664936468389821,
];

/** Weights of the embedded 10-point Gauss rule, QUADPACK. */
const WG = [
  0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
  0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
  0.295524224714752870173892994651338,
];

export interface Qk21Result {
  /** The Kronrod estimate, what QAGS returns after an accepted first step. */
  result: number;
  /** The embedded Gauss estimate (equal to `result` up to rounding for degree <= 19). */
  gauss: number;
}

/** QUADPACK dqk21 on [a, b] (result and the embedded Gauss estimate, unscaled error omitted). */
export function qk21(f: (x: number) => number, a: number, b: number): Qk21Result {
  const centr = 0.5 * (a + b);
  const hlgth = 0.5 * (b - a);
  let resg = 0;
  const fc = f(centr);
  let resk = WGK[10] * fc;
  for (let j = 1; j <= 5; j++) {
    const jtw = 2 * j - 1; // Fortran xgk(2j), 0-based
    const absc = hlgth * XGK[jtw];
    const fsum = f(centr - absc) + f(centr + absc);
    resg = resg + WG[j - 1] * fsum;
    resk = resk + WGK[jtw] * fsum;
  }
  for (let j = 1; j <= 5; j++) {
    const jtwm1 = 2 * j - 2; // Fortran xgk(2j-1), 0-based
    const absc = hlgth * XGK[jtwm1];
    const fsum = f(centr - absc) + f(centr + absc);
    resk = resk + WGK[jtwm1] * fsum;
  }
  return { result: resk * hlgth, gauss: resg * hlgth };
}

const glCache = new Map<number, { nodes: Float64Array; weights: Float64Array }>();

/** Nodes and weights of the n-point Gauss-Legendre rule on [-1, 1] (Newton on P_n). */
export function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`gaussLegendre: n must be a positive integer, got ${n}`);
  const hit = glCache.get(n);
  if (hit) return hit;
  const nodes = new Float64Array(n),
    weights = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let x = libm.cos((Math.PI * (k + 0.75)) / (n + 0.5)); // initial guess (deterministic cos)
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p0 = 1,
        p1 = x;
      for (let j = 1; j < n; j++) {
        const p2 = ((2 * j + 1) * x * p1 - j * p0) / (j + 1);
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? x : p1,
        pm = n === 1 ? 1 : p0;
      dp = (n * (x * pn - pm)) / (x * x - 1);
      const dx = pn / dp;
      x -= dx;
      if (Math.abs(dx) <= 1e-16 * Math.max(1, Math.abs(x))) break;
    }
    nodes[k] = x;
    weights[k] = 2 / ((1 - x * x) * dp * dp);
  }
  const rule = { nodes, weights };
  glCache.set(n, rule);
  return rule;
}

/** Integral of f over [a, b] with the n-point Gauss-Legendre rule. */
export function integrateGaussLegendre(f: (x: number) => number, a: number, b: number, n: number): number {
  const { nodes, weights } = gaussLegendre(n);
  const c = 0.5 * (a + b),
    h = 0.5 * (b - a);
  let s = 0;
  for (let k = 0; k < n; k++) s += weights[k] * f(c + h * nodes[k]);
  return s * h;
}
