/**
 * The regularized incomplete beta function I_x(a, b) and its inverse, i.e. the CDF and the
 * quantile function (`scipy.stats.beta.cdf` / `scipy.stats.beta.ppf`) of the Beta(a, b)
 * distribution, in double precision. Only diffusers' beta sigmas (`use_beta_sigmas`) need it;
 * it moves to @edmkit/core when a second package does.
 *
 * - log Beta(a, b) from a Lanczos log-gamma (g = 607/128, 15 terms; relative error ~1e-15).
 * - I_x(a, b) from its continued fraction (modified Lentz), on the side of the symmetry
 *   I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges fast.
 * - The inverse solves I_x(a, b) = p by Halley's method on a bracket kept by bisection,
 *   working in whichever of x or 1 - x is the small tail, to ~1 ulp of the root.
 * Only deterministic elementary functions are used (core's correctly rounded `libm.log` and
 * `libm.sin`, `fastExp`, and `log1p` below), so the result has the same bits on every
 * JavaScript engine; the iterations call them many times, which rules out core's slower
 * BigInt-based `libm.exp` / `libm.log1p`.
 */
import { fastExp, libm } from "@edmkit/core";

/**
 * log(1 + x) from the correctly rounded log: log(u) + (x − (u − 1)) / u with u = 1 + x
 * (Goldberg's correction for the rounding of u), within about an ulp, deterministic.
 */
function log1p(x: number): number {
  const u = 1 + x;
  if (u === 1) return x;
  if (!(u > 0) || u === Infinity) return u === 0 ? -Infinity : u === Infinity ? u : NaN;
  return libm.log(u) + (x - (u - 1)) / u;
}

const LANCZOS_G = 607 / 128;
const LANCZOS = [
  0.99999999999999709182, 57.156235665862923517, -59.597960355475491248, 14.136097974741747174,
  -0.49191381609762019978, 0.33994649984811888699e-4, 0.46523628927048575665e-4, -0.98374475304879564677e-4,
  0.15808870322491248884e-3, -0.21026444172410488319e-3, 0.2174396181152126432e-3, -0.16431810653676389022e-3,
  0.84418223983852743293e-4, -0.2619083840158140867e-4, 0.36899182659531622704e-5,
];
const HALF_LOG_2PI = 0.91893853320467274178;

/** log Gamma(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be positive, got ${x}`);
  if (x < 0.5) {
    // reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
    return libm.log(Math.PI / libm.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let s = LANCZOS[0];
  for (let k = 1; k < LANCZOS.length; k++) s += LANCZOS[k] / (z + k);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * libm.log(t) - t + libm.log(s);
}

/** log B(a, b) = log Gamma(a) + log Gamma(b) - log Gamma(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300,
    EPS = 1e-17;
  const qab = a + b,
    qap = a + 1,
    qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** x^a (1-x)^b / (a B(a, b)) evaluated in logs. */
function frontFactor(x: number, a: number, b: number, lbeta: number): number {
  return fastExp(a * libm.log(x) + b * log1p(-x) - lbeta) / a;
}

/** Regularized incomplete beta I_x(a, b) for a, b > 0 and x in [0, 1]. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0))
    throw new RangeError(`regularizedIncompleteBeta: a and b must be positive, got a=${a}, b=${b}`);
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lb = logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return frontFactor(x, a, b, lb) * betaContinuedFraction(x, a, b);
  return 1 - frontFactor(1 - x, b, a, lb) * betaContinuedFraction(1 - x, b, a);
}

/**
 * Solve I_x(a, b) = p for x, working in the lower tail: the root of I_x(a, b) = p with
 * p <= 1/2 lies where the continued fraction is accurate.
 */
function lowerTailInverse(p: number, a: number, b: number): number {
  const lb = logBeta(a, b);
  const cdf = (x: number) =>
    x < (a + 1) / (a + b + 2)
      ? frontFactor(x, a, b, lb) * betaContinuedFraction(x, a, b)
      : 1 - frontFactor(1 - x, b, a, lb) * betaContinuedFraction(1 - x, b, a);
  const logPdf = (x: number) => (a - 1) * libm.log(x) + (b - 1) * log1p(-x) - lb;
  // Initial guess from the small-x behaviour I_x ~ x^a / (a B(a, b)), clamped into (0, 1).
  let x = fastExp((libm.log(p * a) + lb) / a);
  if (!(x > 0 && x < 1)) x = 0.5;
  let lo = 0,
    hi = 1;
  for (let it = 0; it < 200; it++) {
    const fx = cdf(x) - p;
    if (fx === 0) return x;
    if (fx < 0) lo = x;
    else hi = x;
    const pdf = fastExp(logPdf(x));
    const r = fx / pdf; // Newton step
    // Halley correction: f'' / f' = (a-1)/x - (b-1)/(1-x)
    const curv = (a - 1) / x - (b - 1) / (1 - x);
    let dx = r / (1 - 0.5 * Math.max(-1, Math.min(1, r * curv)));
    let next = x - dx;
    if (!(next > lo && next < hi)) {
      next = 0.5 * (lo + hi);
      dx = x - next;
    }
    if (Math.abs(dx) <= Math.abs(next) * 2e-16 || next === x || hi - lo <= Math.abs(next) * 1e-16)
      return next;
    x = next;
  }
  return x;
}

/**
 * Quantile of Beta(a, b): the x in [0, 1] with I_x(a, b) = p (scipy.stats.beta.ppf).
 * p = 0 gives 0 and p = 1 gives 1. For p > 1/2 the complementary problem
 * I_{1-x}(b, a) = 1 - p is solved and 1 - y returned, so both tails keep relative accuracy.
 */
export function betaPpf(p: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new RangeError(`betaPpf: a and b must be positive, got a=${a}, b=${b}`);
  if (!(p >= 0 && p <= 1)) {
    if (Number.isNaN(p)) return NaN;
    throw new RangeError(`betaPpf: p must lie in [0, 1], got ${p}`);
  }
  if (p === 0) return 0;
  if (p === 1) return 1;
  if (p <= 0.5) return lowerTailInverse(p, a, b);
  return 1 - lowerTailInverse(1 - p, b, a);
}
