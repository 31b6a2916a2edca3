/**
 * ONNX writer for the toy models of fixtures/models, in TypeScript on protobufjs: the exact
 * Gaussian-mixture denoiser, its discrete-time eps (or v / x0) variant, and the
 * EDM-preconditioned MLP with given weights. The graphs follow the formulas of FORMAT.md
 * and fixtures/models/README.md operation by operation in the order the shipped
 * (torch-exported) graphs evaluate them, so the rebuilt models give the shipped outputs to
 * the last bit where the constants agree. All are ONNX IR 8, opset 17, dynamic batch.
 */
import type { DType, GmmSpec, Prediction } from "@edmkit/core";
import { GraphBuilder } from "./graph-builder.js";
import { DataType, encodeModel, type ModelMessage } from "./proto.js";

export interface WriterOptions {
  /** Float type of inputs, outputs and constants (default float32). */
  dtype?: DType;
  /** Graph name (default: a name saying what it is). */
  name?: string;
}

function checkGmm(fn: string, spec: GmmSpec): void {
  const { dim, weights, means, stds } = spec;
  if (!Number.isInteger(dim) || dim < 1)
    throw new RangeError(`${fn}: gmm.dim must be a positive integer, got ${dim}`);
  const k = weights.length;
  if (k < 1 || means.length !== k || stds.length !== k) {
    throw new RangeError(
      `${fn}: gmm weights (${k}), means (${means.length}) and stds (${stds.length}) must have the same non-zero length`,
    );
  }
  for (let j = 0; j < k; j++) {
    if (!(weights[j] > 0))
      throw new RangeError(`${fn}: gmm.weights[${j}] must be positive, got ${weights[j]}`);
    if (!(stds[j] >= 0)) throw new RangeError(`${fn}: gmm.stds[${j}] must be non-negative, got ${stds[j]}`);
    if (means[j].length !== dim)
      throw new RangeError(`${fn}: gmm.means[${j}] has ${means[j].length} coordinates, expected ${dim}`);
  }
}

/**
 * Append D(x; sigma^2) of the mixture to the graph, given the names of x [B, dim] and of
 * sigma^2 [B]. Returns the name of D [B, dim].
 *
 *   v_k    = s_k^2 + sigma^2                                   [B, K]
 *   diff_k = x - mu_k                                          [B, K, dim]
 *   l_k    = log w_k - |diff_k|^2 / (2 v_k) - dim/2 log v_k
 *   r      = Softmax_k(l)  (= exp(l - logsumexp l): onnxruntime subtracts the row maximum)
 *   D      = sum_k r_k (mu_k + s_k^2 / v_k diff_k)
 */
function appendGmm(g: GraphBuilder, spec: GmmSpec, x: string, sigma2: string, prefix = ""): string {
  const k = spec.weights.length,
    dim = spec.dim;
  const variances = spec.stds.map((s) => s * s);
  const meansFlat = spec.means.flat();
  const logWeights = spec.weights.map((w) => Math.log(w));
  const p = (n: string) => `${prefix}${n}`;
  const vark = g.floats(p("variances"), variances, [1, k]);
  const mus = g.floats(p("means"), meansFlat, [1, k, dim]);
  const logw = g.floats(p("log_weights"), logWeights, [1, k]);
  const ax1 = g.int64s(p("axis_1"), [1]);
  const ax2 = g.int64s(p("axis_2"), [2]);
  const axLast = g.int64s(p("axis_last"), [-1]);

  const s2 = g.op("Unsqueeze", [sigma2, ax1], {}, p("sigma2_col"));
  const v = g.op("Add", [vark, s2], {}, p("v"));
  const xu = g.op("Unsqueeze", [x, ax1], {}, p("x_rows"));
  const diff = g.op("Sub", [xu, mus], {}, p("diff"));
  const sq = g.op("Mul", [diff, diff], {}, p("diff_sq"));
  const d2 = g.op("ReduceSum", [sq, axLast], { keepdims: 0 }, p("dist2"));
  const two = g.scalar(p("two"), 2);
  const v2 = g.op("Mul", [v, two], {}, p("two_v"));
  const q = g.op("Div", [d2, v2], {}, p("quad"));
  const l1 = g.op("Sub", [logw, q], {}, p("logit_a"));
  const lv = g.op("Log", [v], {}, p("log_v"));
  const half = g.scalar(p("half_dim"), dim / 2);
  const lvh = g.op("Mul", [lv, half], {}, p("log_norm"));
  const logits = g.op("Sub", [l1, lvh], {}, p("logits"));
  const r = g.op("Softmax", [logits], { axis: 1 }, p("resp"));
  const shrink = g.op("Div", [vark, v], {}, p("shrink"));
  const shu = g.op("Unsqueeze", [shrink, ax2], {}, p("shrink_col"));
  const sd = g.op("Mul", [shu, diff], {}, p("shrunk_diff"));
  const comp = g.op("Add", [mus, sd], {}, p("posterior_means"));
  const ru = g.op("Unsqueeze", [r, ax2], {}, p("resp_col"));
  const w = g.op("Mul", [ru, comp], {}, p("weighted"));
  const ax1b = g.int64s(p("axis_components"), [1]);
  return g.op("ReduceSum", [w, ax1b], { keepdims: 0 }, p("denoised"));
}

/**
 * The exact denoiser of a Gaussian mixture (FORMAT.md `gmm`): x [batch, dim], sigma [batch]
 * -> denoised [batch, dim], in `dtype` (constants rounded to it). sigma >= 0.
 */
export function gmmDenoiserModel(spec: GmmSpec, opts: WriterOptions = {}): ModelMessage {
  checkGmm("gmmDenoiserModel", spec);
  const dtype = opts.dtype ?? "float32";
  const g = new GraphBuilder(opts.name ?? `gmm${spec.dim}d-denoiser`, dtype);
  const x = g.input("x", ["batch", spec.dim]);
  const sigma = g.input("sigma", ["batch"]);
  const s2 = g.op("Mul", [sigma, sigma], {}, "sigma2");
  const d = appendGmm(g, spec, x, s2);
  g.output(d, "denoised", ["batch", spec.dim]);
  return g.model(
    `Exact Gaussian-mixture denoiser D(x; sigma) (${spec.weights.length} components, dim ${spec.dim}, ${dtype}); written by @edmkit/conformance.`,
  );
}

export interface DiscreteGmmGraphSpec {
  gmm: GmmSpec;
  /** alphas_cumprod of the training schedule (T entries); log sigma_j is computed in float64. */
  alphasCumprod: ArrayLike<number>;
  /** What the graph returns (default epsilon). */
  prediction?: Prediction;
  /** `index` (default): t indexes the table, clamped to [0, T-1]; `c_noise`: sigma = exp(4 t)
   *  (diffusers' continuous timesteps, FORMAT.md `time_map`). */
  timeMap?: "index" | "c_noise";
}

/** Output name per prediction type. */
const outputNameOf: Record<Prediction, string> = { epsilon: "eps", v_prediction: "v", sample: "denoised" };

/**
 * The discrete-time model on the mixture (FORMAT.md `discrete-eps`, `time_map: "index"`):
 * sample [batch, dim] (the scaled input x / sqrt(sigma^2 + 1)), timestep [batch] -> eps
 * (or v / x0) [batch, dim]. t is clamped to [0, T-1]; log sigma is interpolated linearly
 * between table entries floor(t) and ceil(t) (k-diffusion `t_to_sigma`);
 * x = sample * sqrt(sigma^2 + 1); eps = (x - D(x; sigma)) / sigma;
 * v = (eps - sigma D) / sqrt(sigma^2 + 1); x0 = D.
 * The table `log_sigmas` is log(sqrt((1 - a_j) / a_j)) computed in float64 and rounded to
 * `dtype` (the same numbers core's DiscreteGmmModel uses). With `timeMap: "c_noise"` there
 * is no table: sigma = exp(4 t), unclamped.
 */
export function discreteGmmModel(spec: DiscreteGmmGraphSpec, opts: WriterOptions = {}): ModelMessage {
  checkGmm("discreteGmmModel", spec.gmm);
  const T = spec.alphasCumprod.length;
  if (T < 1) throw new RangeError("discreteGmmModel: alphasCumprod must not be empty");
  const logSigmas = new Float64Array(T);
  for (let j = 0; j < T; j++) {
    const a = spec.alphasCumprod[j];
    if (!(a > 0 && a <= 1))
      throw new RangeError(`discreteGmmModel: alphasCumprod[${j}] must lie in (0, 1], got ${a}`);
    logSigmas[j] = Math.log(Math.sqrt((1 - a) / a));
  }
  const prediction = spec.prediction ?? "epsilon";
  const dtype = opts.dtype ?? "float32";
  const dim = spec.gmm.dim;
  const g = new GraphBuilder(opts.name ?? `gmm${dim}d-discrete-${prediction}`, dtype);
  const sample = g.input("sample", ["batch", dim]);
  const timestep = g.input("timestep", ["batch"]);
  let sigma: string;
  if ((spec.timeMap ?? "index") === "c_noise") {
    sigma = g.op("Exp", [g.op("Mul", [timestep, g.scalar("four", 4)], {}, "four_t")], {}, "sigma");
  } else {
    const table = g.floats("log_sigmas", logSigmas, [T]);
    const tc = g.op("Clip", [timestep, g.scalar("t_min", 0), g.scalar("t_max", T - 1)], {}, "t_clamped");
    const lo = g.op("Floor", [tc], {}, "t_floor");
    const hi = g.op("Ceil", [tc], {}, "t_ceil");
    const w = g.op("Sub", [tc, lo], {}, "t_frac");
    const omw = g.op("Sub", [g.scalar("one", 1), w], {}, "t_frac_c");
    const loI = g.op("Cast", [lo], { to: DataType.INT64 }, "t_floor_index");
    const lsLo = g.op("Gather", [table, loI], { axis: 0 }, "log_sigma_lo");
    const a = g.op("Mul", [omw, lsLo], {}, "log_sigma_lo_w");
    const hiI = g.op("Cast", [hi], { to: DataType.INT64 }, "t_ceil_index");
    const lsHi = g.op("Gather", [table, hiI], { axis: 0 }, "log_sigma_hi");
    const b = g.op("Mul", [w, lsHi], {}, "log_sigma_hi_w");
    const logSigma = g.op("Add", [a, b], {}, "log_sigma");
    sigma = g.op("Exp", [logSigma], {}, "sigma");
  }
  const s2 = g.op("Mul", [sigma, sigma], {}, "sigma2");
  const c2 = g.op("Add", [s2, g.scalar("one_b", 1)], {}, "sigma2_plus_1");
  const c = g.op("Sqrt", [c2], {}, "c_in_inv");
  const ax1 = g.int64s("axis_col", [1]);
  const cu = g.op("Unsqueeze", [c, ax1], {}, "c_in_inv_col");
  const x = g.op("Mul", [sample, cu], {}, "x");
  const d = appendGmm(g, spec.gmm, x, s2, "gmm/");
  let out: string;
  if (prediction === "sample") {
    out = d;
  } else {
    const diff = g.op("Sub", [x, d], {}, "x_minus_d");
    const su = g.op("Unsqueeze", [sigma, g.int64s("axis_col_b", [1])], {}, "sigma_col");
    const eps = g.op("Div", [diff, su], {}, "eps_value");
    if (prediction === "epsilon") out = eps;
    else {
      const sd = g.op("Mul", [su, d], {}, "sigma_d");
      const num = g.op("Sub", [eps, sd], {}, "v_num");
      out = g.op("Div", [num, cu], {}, "v_value");
    }
  }
  g.output(out, outputNameOf[prediction], ["batch", dim]);
  return g.model(
    `Discrete-time ${prediction} model on an exact Gaussian mixture (T = ${T}, dim ${dim}, ${dtype}); written by @edmkit/conformance.`,
  );
}

/** One dense layer: weight [out, in] row-major (as torch's nn.Linear holds it), bias [out]. */
export interface DenseLayer {
  weight: ArrayLike<number>;
  bias: ArrayLike<number>;
  inFeatures: number;
  outFeatures: number;
}

/** The EDM-preconditioned MLP of fixtures/models/README.md ("EDM MLPs"). */
export interface EdmMlpSpec {
  dim: number;
  sigmaData: number;
  /** Frequencies f of the sin/cos(f c_noise) features (README: 0.5, 1, 2). */
  frequencies: readonly number[];
  /** Dense layers, SiLU between them (none after the last). */
  layers: readonly DenseLayer[];
}

function checkMlp(spec: EdmMlpSpec): void {
  const fn = "edmMlpModel";
  if (!Number.isInteger(spec.dim) || spec.dim < 1)
    throw new RangeError(`${fn}: dim must be a positive integer, got ${spec.dim}`);
  if (!(spec.sigmaData > 0)) throw new RangeError(`${fn}: sigmaData must be positive, got ${spec.sigmaData}`);
  if (spec.layers.length < 1) throw new RangeError(`${fn}: at least one layer is needed`);
  let width = spec.dim + 1 + 2 * spec.frequencies.length;
  spec.layers.forEach((l, i) => {
    if (l.inFeatures !== width)
      throw new RangeError(`${fn}: layers[${i}].inFeatures is ${l.inFeatures}, expected ${width}`);
    if (l.weight.length !== l.inFeatures * l.outFeatures)
      throw new RangeError(
        `${fn}: layers[${i}].weight has ${l.weight.length} values, expected ${l.outFeatures} x ${l.inFeatures}`,
      );
    if (l.bias.length !== l.outFeatures)
      throw new RangeError(`${fn}: layers[${i}].bias has ${l.bias.length} values, expected ${l.outFeatures}`);
    width = l.outFeatures;
  });
  if (width !== spec.dim)
    throw new RangeError(`${fn}: the last layer has ${width} outputs, expected dim ${spec.dim}`);
}

/**
 * D(x; sigma) = c_skip x + c_out F([c_in x, c_noise, sin(f c_noise), cos(f c_noise)]) with
 * c_skip = sd^2 / (sigma^2 + sd^2), c_out = sigma sd / sqrt(sigma^2 + sd^2),
 * c_in = 1 / sqrt(sigma^2 + sd^2), c_noise = ln(sigma) / 4 (EDM, Karras et al. 2022, Table 1);
 * F = dense layers with SiLU (x * sigmoid(x)) between them. x [batch, dim], sigma [batch]
 * -> denoised [batch, dim]; sigma > 0.
 */
export function edmMlpModel(spec: EdmMlpSpec, opts: WriterOptions = {}): ModelMessage {
  checkMlp(spec);
  const dtype = opts.dtype ?? "float32";
  const dim = spec.dim,
    sd = spec.sigmaData;
  const g = new GraphBuilder(opts.name ?? `mlp${dim}d-edm`, dtype);
  const x = g.input("x", ["batch", dim]);
  const sigmaIn = g.input("sigma", ["batch"]);
  const s = g.op("Unsqueeze", [sigmaIn, g.int64s("axis_col", [1])], {}, "sigma_col");
  const s2 = g.op("Mul", [s, s], {}, "sigma2");
  const sd2 = g.scalar("sigma_data2", sd * sd);
  const sp = g.op("Add", [s2, sd2], {}, "sigma2_plus_sd2");
  const cSkip = g.op("Mul", [g.op("Reciprocal", [sp], {}, "inv_sigma2_plus_sd2"), sd2], {}, "c_skip");
  const root = g.op("Sqrt", [sp], {}, "sqrt_sigma2_plus_sd2");
  const cOut = g.op("Div", [g.op("Mul", [s, g.scalar("sigma_data", sd)], {}, "sigma_sd"), root], {}, "c_out");
  const cIn = g.op("Reciprocal", [root], {}, "c_in");
  const cNoise = g.op("Div", [g.op("Log", [s], {}, "log_sigma"), g.scalar("four", 4)], {}, "c_noise");
  const freqs = g.floats("frequencies", spec.frequencies, [1, spec.frequencies.length]);
  const phase = g.op("Mul", [cNoise, freqs], {}, "phase");
  const xin = g.op("Mul", [cIn, x], {}, "x_in");
  const feats = g.op(
    "Concat",
    [xin, cNoise, g.op("Sin", [phase], {}, "sin_phase"), g.op("Cos", [phase], {}, "cos_phase")],
    { axis: 1 },
    "features",
  );
  let h = feats;
  spec.layers.forEach((l, i) => {
    const wgt = g.floats(`layer${i}.weight`, l.weight, [l.outFeatures, l.inFeatures]);
    const bias = g.floats(`layer${i}.bias`, l.bias, [l.outFeatures]);
    h = g.op("Gemm", [h, wgt, bias], { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 }, `layer${i}_out`);
    if (i < spec.layers.length - 1) {
      // SiLU. float32: x * Sigmoid(x), as torch.onnx.export writes it (the shipped graphs).
      // float64: x / (1 + exp(-x)): onnxruntime's extended optimizations fuse x * Sigmoid(x)
      // into com.microsoft.QuickGelu, which has no float64 CPU kernel, so the float32 form
      // would not load at the default optimization level.
      h =
        dtype === "float64"
          ? g.op(
              "Div",
              [
                h,
                g.op(
                  "Add",
                  [
                    g.scalar(`layer${i}_one`, 1),
                    g.op("Exp", [g.op("Neg", [h], {}, `layer${i}_neg`)], {}, `layer${i}_exp`),
                  ],
                  {},
                  `layer${i}_den`,
                ),
              ],
              {},
              `layer${i}_silu`,
            )
          : g.op("Mul", [h, g.op("Sigmoid", [h], {}, `layer${i}_gate`)], {}, `layer${i}_silu`);
    }
  });
  const skip = g.op("Mul", [cSkip, x], {}, "skip");
  const net = g.op("Mul", [cOut, h], {}, "net_scaled");
  const d = g.op("Add", [skip, net], {}, "denoised_value");
  g.output(d, "denoised", ["batch", dim]);
  return g.model(
    `EDM-preconditioned MLP denoiser (dim ${dim}, sigma_data ${sd}, ${spec.layers.length} layers, ${dtype}); written by @edmkit/conformance.`,
  );
}

/** Serialize a model to ONNX protobuf bytes. */
export function serializeModel(model: ModelMessage): Uint8Array {
  return encodeModel(model);
}
