/**
 * The per-element passes of the Euler and Euler-ancestral `step()` (the scalar logic stays in
 * the schedulers, written once). Like core's and k-diffusion's element kernels, each pass is
 * specialised per dtype so the loop runs without a call per op: the float32 loop rounds every
 * torch op with `f` in the original's order, the float64 loop is the same expression in
 * doubles (`torchMath`'s ops, inlined). Both loops read the sample rounded to float32 first,
 * as diffusers' step does in a float64 run too.
 *
 * Large tensors (SIMD_MIN elements or more, every array of the step's dtype) run instead through
 * WebAssembly SIMD kernels compiled from the same expressions (core's `SimdKernel`, the `SIMD_*`
 * specs below): IEEE operations per lane in the loops' order, so the results are the loops'
 * bit for bit, NaN payloads aside (test/simd-step-kernels.test.ts).
 */
import {
  type DType,
  SIMD_MIN,
  SimdKernel,
  simdAdd as add,
  simdConst as cst,
  simdDiv as div,
  type SimdExpr,
  simdIn as inp,
  simdMul as mul,
  simdPar as par,
  simdRound32 as r32,
  simdSub as sub,
} from "@edmkit/core";

const f = Math.fround;

type Data = Float32Array | Float64Array;

/** Whether every array (z optional) is of the dtype's type and large enough for SIMD. */
function simdArrays(dtype: DType, x: Data, mo: Data, z: Data | null, pd: Data, xd: Data): boolean {
  const w = dtype === "float64";
  return mo.length >= SIMD_MIN && is(x, w) && is(mo, w) && (z === null || is(z, w)) && is(pd, w) && is(xd, w);
}

const is = (a: Data, wide: boolean) => a instanceof Float64Array === wide;

/**
 * Euler by mode (0 epsilon, 1 v, 2 sample) and churn (+3): outputs pd, xd; operands x, mo,
 * [noise]; scalars sigmaHat, dt, vOut, vDen, sNoiseT, churnScale.
 */
const SIMD_EULER = [0, 1, 2, 3, 4, 5].map((v) => {
  const mode = v % 3,
    churn = v >= 3;
  let s: SimdExpr = r32(inp(0));
  if (churn) s = add(s, mul(mul(inp(2), par(4)), par(5)));
  const vTerm = churn ? div(s, par(3)) : r32(div(s, par(3)));
  const x0 = mode === 0 ? sub(s, mul(par(0), inp(1))) : mode === 1 ? add(mul(inp(1), par(2)), vTerm) : inp(1);
  const d = div(sub(s, x0), par(0));
  return new SimdKernel({ inputs: churn ? 3 : 2, params: 6, outputs: [x0, add(s, mul(d, par(1)))] });
});

/**
 * Euler-ancestral by mode (0 epsilon, 1 v): outputs pd, xd; operands x, mo, e; scalars sigma,
 * dt, vOut, vDen, sigmaUp.
 */
const SIMD_EULER_A = [0, 1].map((mode) => {
  const s = r32(inp(0));
  const x0 = mode === 0 ? sub(s, mul(par(0), inp(1))) : add(mul(inp(1), par(2)), r32(div(s, par(3))));
  const d = div(sub(s, x0), par(0));
  return new SimdKernel({
    inputs: 3,
    params: 5,
    outputs: [x0, add(add(s, mul(d, par(1))), mul(inp(2), par(4)))],
  });
});

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
  const k = SIMD_EULER[mode + (noise !== null ? 3 : 0)];
  if (simdArrays(dtype, x, mo, noise, pd, xd) && k.ready()) {
    const ops = k.ops;
    ops[0] = pd;
    ops[1] = xd;
    ops[2] = x;
    ops[3] = mo;
    if (noise !== null) ops[4] = noise;
    k.run(sigmaHat, dt, vOut, vDen, sNoiseT, churnScale);
    return;
  }
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
  const k = SIMD_EULER_A[mode];
  if (simdArrays(dtype, x, mo, e, pd, xd) && k.ready()) {
    const ops = k.ops;
    ops[0] = pd;
    ops[1] = xd;
    ops[2] = x;
    ops[3] = mo;
    ops[4] = e;
    k.run(sigma, dt, vOut, vDen, sigmaUp);
    return;
  }
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

/** The scalars of the DPM-Solver kernels: DpmUpdate's, then the conversion's (σ_t, α_t, σ). */
type DpmScalar = "a" | "b0" | "b1" | "b2" | "cn" | "c0" | "c1" | "cr" | "c2" | "st" | "alpha" | "sigma";
const UPDATE_SCALARS: readonly DpmScalar[] = ["a", "b0", "b1", "b2", "cn", "c0", "c1", "cr", "c2"];

/**
 * The DPM-Solver(++) update x_t of one order from the sample x, the newest converted output
 * m0, the older m1, m2 (as the order reads them) and the noise: the sample read as float32 and
 * its term rounded to float32, the noise term too (r32; the identity in the float32 kernel,
 * whose lanes are float32 anyway); applyDpmUpdate's operations in its order.
 */
function dpmUpdateExpr(
  order: number,
  x: SimdExpr,
  m0: SimdExpr,
  m1: SimdExpr,
  m2: SimdExpr,
  noise: SimdExpr | null,
  p: (s: DpmScalar) => SimdExpr,
): SimdExpr {
  let acc = r32(mul(p("a"), r32(x)));
  acc = add(acc, mul(p("b0"), m0));
  if (order === 2) acc = add(acc, mul(p("b1"), mul(p("c0"), sub(m0, m1))));
  else if (order === 3) {
    const d10 = mul(p("c0"), sub(m0, m1)),
      dd = sub(d10, mul(p("c1"), sub(m1, m2)));
    acc = add(acc, mul(p("b1"), add(d10, mul(p("cr"), dd))));
    acc = add(acc, mul(p("b2"), mul(p("c2"), dd)));
  }
  if (noise !== null) acc = add(acc, r32(mul(p("cn"), noise)));
  return acc;
}

/**
 * DPM-Solver(++) update by order (1..3) and noise (+3): output x_t; operands sample, m0, m1, m2
 * (as the order reads them), [noise]; scalars a, b0, b1, b2, cn, c0, c1, cr, c2 (DpmUpdate's).
 */
const SIMD_DPM_UPDATE = [0, 1, 2, 3, 4, 5].map((v) => {
  const order = (v % 3) + 1,
    noisy = v >= 3;
  const p = (s: DpmScalar) => par(UPDATE_SCALARS.indexOf(s));
  const acc = dpmUpdateExpr(order, inp(0), inp(1), inp(2), inp(3), noisy ? inp(1 + order) : null, p);
  return new SimdKernel({ inputs: 1 + order + (noisy ? 1 : 0), params: 9, outputs: [acc] });
});

/**
 * DPMSolverMultistep's (dpmsolver++) conversion of the model output to x0 and the update in one
 * pass, by prediction type (0 epsilon (x − σ_t·ε)/α_t, 1 v α_t·x − σ_t·v, 2 sample, 3 flow
 * x − σ·v, each op in the kernel's dtype as convert's loops do), order and noise (index
 * mode·6 + order − 1 + 3 if noisy): outputs x0 (the history's newest entry), x_t (last, so it
 * may be written over the sample); operands sample, output, m1, m2 (as the order reads them),
 * [noise]; scalars as `scalars` lists them. x0 is computed again where the update reads it (the
 * same operations, so the same value). Null where the scalars exceed a kernel's 10 (order 3,
 * noisy, with two conversion scalars).
 */
const SIMD_DPM_CONVERT_UPDATE = Array.from({ length: 24 }, (_, v) => {
  const mode = Math.floor(v / 6),
    order = (v % 3) + 1,
    noisy = v % 6 >= 3;
  const scalars: DpmScalar[] = [];
  const p = (s: DpmScalar) => {
    if (!scalars.includes(s)) scalars.push(s);
    return par(scalars.indexOf(s));
  };
  const x = inp(0),
    e = inp(1);
  const x0 =
    mode === 0
      ? div(sub(x, mul(p("st"), e)), p("alpha"))
      : mode === 1
        ? sub(mul(p("alpha"), x), mul(p("st"), e))
        : mode === 2
          ? e
          : sub(x, mul(p("sigma"), e));
  const acc = dpmUpdateExpr(order, x, x0, inp(2), inp(3), noisy ? inp(1 + order) : null, p);
  if (scalars.length > 10) return null;
  const inputs = 1 + order + (noisy ? 1 : 0);
  const kernel = new SimdKernel({ inputs, params: scalars.length, outputs: [x0, acc] });
  return { kernel, scalars, values: new Array<number>(10).fill(0) };
});

/** The coefficients of one DPM-Solver update (dpm-solver.ts's DpmUpdate). */
export interface DpmUpdateScalars {
  order: 1 | 2 | 3;
  a: number;
  b0: number;
  b1: number;
  b2: number;
  cn: number;
  c0: number;
  c1: number;
  cr: number;
  c2: number;
}

/**
 * applyDpmUpdate through SIMD when it applies: a large output, the sample, its term and the noise
 * term rounded to float32 (`Math.fround`, as DPMSolverMultistep's step passes them) and `round`
 * the output dtype's (Math.fround for float32, the identity for float64), the history in the
 * output's type. Returns false (nothing done) otherwise.
 */
export function dpmUpdateSimd(
  u: DpmUpdateScalars,
  sample: ArrayLike<number>,
  history: readonly Data[],
  noise: ArrayLike<number> | null,
  out: Data,
  castSample: (v: number) => number,
  sampleRound: (v: number) => number,
  round: (v: number) => number,
  noiseRound: (v: number) => number,
): boolean {
  const wide = out instanceof Float64Array,
    fr = Math.fround;
  if (out.length < SIMD_MIN || castSample !== fr || sampleRound !== fr || noiseRound !== fr) return false;
  if (wide ? round(0.1) !== 0.1 : round !== fr) return false;
  if (!(sample instanceof Float32Array || sample instanceof Float64Array)) return false;
  if (noise !== null && !(noise instanceof Float32Array || noise instanceof Float64Array)) return false;
  for (let j = 0; j < u.order; j++) if (!is(history[j], wide)) return false;
  const k = SIMD_DPM_UPDATE[u.order - 1 + (noise !== null ? 3 : 0)];
  if (!k.ready()) return false;
  const ops = k.ops;
  ops[0] = out;
  ops[1] = sample;
  for (let j = 0; j < u.order; j++) ops[2 + j] = history[j];
  if (noise !== null) ops[2 + u.order] = noise;
  k.run(u.a, u.b0, u.b1, u.b2, u.cn, u.c0, u.c1, u.cr, u.c2);
  return true;
}

/**
 * DPMSolverMultistep's step (dpmsolver++, prediction type `mode` as in SIMD_DPM_CONVERT_UPDATE,
 * no thresholding) in one SIMD pass when it applies: large float arrays, `out`, the newest
 * history entry x0 (written) and the older ones the order reads of one type. `history` is
 * newest first, as OutputHistory.recent gives it; st, alpha: σ_t and α_t of the step's sigma.
 * Writes x0 (the converted output) and `out`, as convert and applyDpmUpdate (with the float32
 * sample cast and roundings DPMSolverMultistep passes) would. False (nothing done) otherwise.
 */
export function dpmConvertUpdateSimd(
  mode: number,
  u: DpmUpdateScalars,
  conv: { st: number; alpha: number; sigma: number },
  sample: ArrayLike<number>,
  modelOutput: ArrayLike<number>,
  history: readonly Data[],
  noise: ArrayLike<number> | null,
  out: Data,
): boolean {
  const w = out instanceof Float64Array;
  if (out.length < SIMD_MIN || !isData(sample) || !isData(modelOutput)) return false;
  if (noise !== null && !isData(noise)) return false;
  for (let j = 0; j < u.order; j++) if (!is(history[j], w)) return false;
  const k = SIMD_DPM_CONVERT_UPDATE[mode * 6 + u.order - 1 + (noise !== null ? 3 : 0)];
  if (k === null || !k.kernel.ready()) return false;
  const ops = k.kernel.ops;
  ops[0] = history[0];
  ops[1] = out;
  ops[2] = sample;
  ops[3] = modelOutput;
  for (let j = 1; j < u.order; j++) ops[3 + j] = history[j];
  if (noise !== null) ops[3 + u.order] = noise;
  const v = k.values;
  for (let j = 0; j < k.scalars.length; j++) {
    const s = k.scalars[j];
    v[j] = s === "st" || s === "alpha" || s === "sigma" ? conv[s] : u[s];
  }
  k.kernel.run(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
  return true;
}

const isData = (a: ArrayLike<number>): a is Data => a instanceof Float32Array || a instanceof Float64Array;

/** x0 = (x − σ_t·ε) / α_t: output x0; operands x, ε; scalars σ_t, α_t. */
const SIMD_X0_EPS = new SimdKernel({
  inputs: 2,
  params: 2,
  outputs: [div(sub(inp(0), mul(par(0), inp(1))), par(1))],
});

/**
 * DPMSolverMultistep's epsilon-to-x0 conversion (dpmsolver++) through SIMD when every array is
 * of x0's type and large; each op rounded in that dtype, as its loop does. False otherwise.
 */
export function x0FromEpsSimd(
  x: ArrayLike<number>,
  eps: ArrayLike<number>,
  x0: Data,
  st: number,
  alpha: number,
): boolean {
  const w = x0 instanceof Float64Array;
  if (x0.length < SIMD_MIN || !(x instanceof Float32Array || x instanceof Float64Array)) return false;
  if (!(eps instanceof Float32Array || eps instanceof Float64Array) || !is(x, w) || !is(eps, w)) return false;
  if (!SIMD_X0_EPS.ready()) return false;
  const ops = SIMD_X0_EPS.ops;
  ops[0] = x0;
  ops[1] = x;
  ops[2] = eps;
  SIMD_X0_EPS.run(st, alpha);
  return true;
}

/** x0 at σ_in by mode (0 ε, 1 v, 2 sample) from sample s and output e: scalars σ_in, vOut, vDen. */
function heunX0(mode: number, s: SimdExpr, e: SimdExpr): SimdExpr {
  return mode === 0 ? sub(s, mul(par(0), e)) : mode === 1 ? add(mul(e, par(1)), div(s, par(2))) : e;
}

/**
 * Heun's predictor by mode: outputs d, the kept sample, x0, x_next; operands x, output;
 * scalars σ_in, vOut, vDen, σ̂, Δσ. x_next comes last, so it may be written over x in place
 * (core's rule: an output may be an input no later output reads).
 */
const SIMD_HEUN_PREDICT = [0, 1, 2].map((mode) => {
  const x0 = heunX0(mode, inp(0), inp(1));
  const d = div(sub(inp(0), x0), par(3));
  return new SimdKernel({ inputs: 2, params: 5, outputs: [d, inp(0), x0, add(inp(0), mul(d, par(4)))] });
});

/**
 * Heun's corrector by mode: outputs x0, x_next (last, so it may be written over x); operands
 * x, output, the kept d and sample; scalars σ_in, vOut, vDen, σ_next, Δσ.
 */
const SIMD_HEUN_CORRECT = [0, 1, 2].map((mode) => {
  const x0 = heunX0(mode, inp(0), inp(1));
  const d = div(add(inp(2), div(sub(inp(0), x0), par(3))), cst(2));
  return new SimdKernel({ inputs: 4, params: 5, outputs: [x0, add(inp(3), mul(d, par(4)))] });
});

/**
 * HeunDiscreteScheduler's predictor (`kept` null: writes d and the kept sample into `dd`,
 * `sd`) or corrector (reads them) through SIMD, when every array is of the step's dtype (the
 * sample included), the tensors are large and no clipping applies. False otherwise.
 */
export function heunSimd(
  predictor: boolean,
  mode: number,
  x: Data,
  mo: Data,
  dd: Data,
  sd: Data,
  pd: Data,
  xd: Data,
  sigmaIn: number,
  vOut: number,
  vDen: number,
  sigma: number,
  dt: number,
): boolean {
  const w = mo instanceof Float64Array;
  if (mo.length < SIMD_MIN || !is(x, w) || !is(dd, w) || !is(sd, w) || !is(pd, w) || !is(xd, w)) return false;
  const k = (predictor ? SIMD_HEUN_PREDICT : SIMD_HEUN_CORRECT)[mode];
  if (!k.ready()) return false;
  const ops = k.ops;
  if (predictor) {
    ops[0] = dd;
    ops[1] = sd;
    ops[2] = pd;
    ops[3] = xd;
    ops[4] = x;
    ops[5] = mo;
  } else {
    ops[0] = pd;
    ops[1] = xd;
    ops[2] = x;
    ops[3] = mo;
    ops[4] = dd;
    ops[5] = sd;
  }
  k.run(sigmaIn, vOut, vDen, sigma, dt);
  return true;
}

/** x / c: output the quotient; operand x; scalar c. */
const SIMD_DIVIDE = new SimdKernel({ inputs: 1, params: 1, outputs: [div(inp(0), par(0))] });

/**
 * `scale_model_input`'s x / c (each quotient rounded in the arrays' dtype, as its loop does)
 * through SIMD when x and `out` are large and of one type; false (nothing done) otherwise.
 */
export function divideSimd(x: Data, c: number, out: Data): boolean {
  const w = out instanceof Float64Array;
  if (out.length < SIMD_MIN || !is(x, w) || !SIMD_DIVIDE.ready()) return false;
  SIMD_DIVIDE.ops[0] = out;
  SIMD_DIVIDE.ops[1] = x;
  SIMD_DIVIDE.run(c);
  return true;
}
