/**
 * The EDM-preconditioned toy MLP of fixtures/models (`mlp1d-bimodal-edm`, `mlp2d-ring8-edm`):
 *
 *   D(x; s) = c_skip(s) x + c_out(s) F(c_in(s) x, c_noise(s))
 *   c_skip = sd^2 / (s^2 + sd^2), c_out = s sd / sqrt(s^2 + sd^2), c_in = 1 / sqrt(s^2 + sd^2),
 *   c_noise = ln(s) / 4                                        (sd = sigma_data)
 *
 * F is an MLP on the row [c_in x (dim values), c_noise, sin(f c_noise) for each f,
 * cos(f c_noise) for each f] -> hidden -> ... -> hidden -> dim with SiLU between layers
 * (`depth` hidden layers, 3 in the shipped models; frequencies [0.5, 1, 2]). The input order
 * and the weight layout are the ones of the shipped ONNX graphs (a `Concat` of those pieces
 * in that order, then `Gemm` layers with transB = 1): weights are row-major [out, in] as
 * torch's `nn.Linear` stores them, and layer i is named `net.{2i}` (torch `nn.Sequential`
 * indices, SiLU modules in between), so trained weights map onto that graph one to one.
 *
 * All parameters live in one Float64Array (layer by layer: weight then bias), so Adam, EMA
 * and serialization work on a flat vector. `MlpPass` owns every buffer a forward or
 * forward + backward pass needs for up to `capacity` rows; nothing is allocated per pass.
 */
import { libm } from "@edmkit/core";
import type { ToyRng } from "./rng.js";
import { columnSums, gemmABt, silu, siluBackward, siluForward, transpose } from "./kernels.js";

export interface ToyMlpArchitecture {
  /** Data dimension (1 for the bimodal mixture, 2 for the 2-D sets). */
  readonly dim: number;
  /** Width of every hidden layer. */
  readonly hidden: number;
  /** Number of hidden layers (3 in the shipped models). */
  readonly depth: number;
  /** Frequencies f of the sin/cos(f c_noise) features ([0.5, 1, 2] in the shipped models). */
  readonly frequencies: readonly number[];
}

export const DEFAULT_FREQUENCIES: readonly number[] = Object.freeze([0.5, 1, 2]);

export interface LayerLayout {
  /** torch name of the layer (`net.0`, `net.2`, ...). */
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Offset of the row-major [out, in] weight in the flat parameter vector. */
  readonly weightOffset: number;
  /** Offset of the bias [out]. */
  readonly biasOffset: number;
}

/** Width of F's input row: dim + 1 + 2 * (number of frequencies). */
export function inputWidth(arch: ToyMlpArchitecture): number {
  return arch.dim + 1 + 2 * arch.frequencies.length;
}

/** Throws one clear message when `arch` is not a usable architecture. */
export function validateArchitecture(fn: string, arch: ToyMlpArchitecture): void {
  const posInt = (name: string, v: unknown): void => {
    if (!(typeof v === "number" && Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`${fn}: architecture.${name} must be a positive integer, got ${String(v)}`);
    }
  };
  posInt("dim", arch.dim);
  posInt("hidden", arch.hidden);
  posInt("depth", arch.depth);
  if (
    !Array.isArray(arch.frequencies) ||
    !arch.frequencies.every((f) => typeof f === "number" && Number.isFinite(f))
  ) {
    throw new RangeError(
      `${fn}: architecture.frequencies must be an array of finite numbers, got ${JSON.stringify(arch.frequencies)}`,
    );
  }
}

/** Layers in order, with their offsets in the flat parameter vector. */
export function layerLayout(arch: ToyMlpArchitecture): LayerLayout[] {
  const layers: LayerLayout[] = [];
  let offset = 0;
  for (let l = 0; l <= arch.depth; l++) {
    const inFeatures = l === 0 ? inputWidth(arch) : arch.hidden;
    const outFeatures = l === arch.depth ? arch.dim : arch.hidden;
    layers.push({
      name: `net.${2 * l}`,
      inFeatures,
      outFeatures,
      weightOffset: offset,
      biasOffset: offset + inFeatures * outFeatures,
    });
    offset += (inFeatures + 1) * outFeatures;
  }
  return layers;
}

/** Number of trainable parameters (34,305 for dim 1 / hidden 128 / depth 3 / 3 frequencies). */
export function parameterCount(arch: ToyMlpArchitecture): number {
  const layers = layerLayout(arch);
  const last = layers[layers.length - 1];
  return last.biasOffset + last.outFeatures;
}

/**
 * Fresh parameters with torch `nn.Linear`'s default initialisation: weight and bias
 * uniform in [-1/sqrt(in), 1/sqrt(in)] (the distribution, not torch's random stream).
 */
export function initParameters(arch: ToyMlpArchitecture, rng: ToyRng): Float64Array {
  const params = new Float64Array(parameterCount(arch));
  for (const layer of layerLayout(arch)) {
    const bound = 1 / Math.sqrt(layer.inFeatures);
    const end = layer.biasOffset + layer.outFeatures;
    for (let i = layer.weightOffset; i < end; i++) params[i] = bound * (2 * rng.uniform() - 1);
  }
  return params;
}

/** EDM preconditioning coefficients for one sigma. */
export function edmPrecond(
  sigma: number,
  sigmaData: number,
): { cSkip: number; cOut: number; cIn: number; cNoise: number } {
  const v = sigma * sigma + sigmaData * sigmaData;
  const root = Math.sqrt(v);
  return {
    cSkip: (sigmaData * sigmaData) / v,
    cOut: (sigma * sigmaData) / root,
    cIn: 1 / root,
    cNoise: libm.log(sigma) / 4,
  };
}

/**
 * Buffers and code for one forward (and optionally backward) pass of the network over up to
 * `capacity` rows, bound to one parameter vector (changes to `params` are seen by the next pass).
 */
export class MlpPass {
  readonly inWidth: number;
  /** Gradient of the last `lossAndGrad` w.r.t. every parameter (same layout as params). */
  readonly grad: Float64Array;
  /** Denoised output D of the last forward pass, row-major [rows, dim]. */
  readonly denoised: Float64Array;

  private readonly W: Float64Array[] = [];
  private readonly b: Float64Array[] = [];
  private readonly gW: Float64Array[] = [];
  private readonly gb: Float64Array[] = [];
  private readonly features: Float64Array;
  private readonly z: Float64Array[] = [];
  private readonly a: Float64Array[] = [];
  private readonly sig: Float64Array[] = [];
  private readonly F: Float64Array;
  private readonly xIn: Float64Array;
  private readonly cSkip: Float64Array;
  private readonly cOut: Float64Array;
  private readonly weight: Float64Array;
  // backward scratch
  private readonly gF: Float64Array;
  private readonly gA0: Float64Array;
  private readonly gA1: Float64Array;
  private readonly gT: Float64Array;
  private readonly xT: Float64Array;
  private readonly wT: Float64Array;

  constructor(
    readonly arch: ToyMlpArchitecture,
    readonly sigmaData: number,
    readonly params: Float64Array,
    readonly capacity: number,
    readonly withGrad: boolean,
  ) {
    validateArchitecture("MlpPass", arch);
    const count = parameterCount(arch);
    if (params.length !== count) {
      throw new RangeError(`MlpPass: params holds ${params.length} values, the architecture needs ${count}`);
    }
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`MlpPass: capacity must be a positive integer, got ${capacity}`);
    const { dim, hidden, depth } = arch;
    this.inWidth = inputWidth(arch);
    this.grad = new Float64Array(withGrad ? count : 0);
    for (const layer of layerLayout(arch)) {
      const wEnd = layer.weightOffset + layer.inFeatures * layer.outFeatures;
      this.W.push(params.subarray(layer.weightOffset, wEnd));
      this.b.push(params.subarray(layer.biasOffset, layer.biasOffset + layer.outFeatures));
      if (withGrad) {
        this.gW.push(this.grad.subarray(layer.weightOffset, wEnd));
        this.gb.push(this.grad.subarray(layer.biasOffset, layer.biasOffset + layer.outFeatures));
      }
    }
    this.features = new Float64Array(capacity * this.inWidth);
    for (let l = 0; l < depth; l++) {
      this.z.push(new Float64Array(capacity * hidden));
      this.a.push(new Float64Array(capacity * hidden));
      this.sig.push(new Float64Array(withGrad ? capacity * hidden : 0));
    }
    this.F = new Float64Array(capacity * dim);
    this.denoised = new Float64Array(capacity * dim);
    this.xIn = new Float64Array(withGrad ? capacity * dim : 0);
    this.cSkip = new Float64Array(capacity);
    this.cOut = new Float64Array(capacity);
    this.weight = new Float64Array(capacity);
    const widest = Math.max(this.inWidth, hidden, dim);
    this.gF = new Float64Array(withGrad ? capacity * dim : 0);
    this.gA0 = new Float64Array(withGrad ? capacity * hidden : 0);
    this.gA1 = new Float64Array(withGrad ? capacity * hidden : 0);
    this.gT = new Float64Array(withGrad ? capacity * widest : 0);
    this.xT = new Float64Array(withGrad ? capacity * widest : 0);
    this.wT = new Float64Array(withGrad ? widest * widest : 0);
  }

  /**
   * D(x; sigma) for `rows` rows of x (row-major [rows, dim], any numeric array) into
   * `this.denoised`. `train` keeps what the backward pass needs.
   */
  forward(x: ArrayLike<number>, sigma: ArrayLike<number>, rows: number, train = false): Float64Array {
    if (rows > this.capacity)
      throw new RangeError(`MlpPass.forward: ${rows} rows exceed the capacity ${this.capacity}`);
    const { dim, hidden, depth, frequencies } = this.arch;
    const nf = frequencies.length;
    const inW = this.inWidth;
    const sd2 = this.sigmaData * this.sigmaData;
    const U = this.features;
    for (let r = 0; r < rows; r++) {
      const s = sigma[r];
      if (!(s > 0 && s < Infinity)) {
        throw new RangeError(
          `ToyMlpDenoiser: sigma[${r}] must be a finite number > 0 (c_noise = ln(sigma)/4), got ${s}`,
        );
      }
      const v = s * s + sd2;
      const root = Math.sqrt(v);
      const cIn = 1 / root;
      const cNoise = libm.log(s) / 4;
      this.cSkip[r] = sd2 / v;
      this.cOut[r] = (s * this.sigmaData) / root;
      this.weight[r] = v / (s * s * sd2);
      const o = r * inW;
      for (let d = 0; d < dim; d++) U[o + d] = cIn * x[r * dim + d];
      U[o + dim] = cNoise;
      for (let j = 0; j < nf; j++) {
        const angle = frequencies[j] * cNoise;
        U[o + dim + 1 + j] = libm.sin(angle);
        U[o + dim + 1 + nf + j] = libm.cos(angle);
      }
    }
    let input = U;
    let width = inW;
    for (let l = 0; l < depth; l++) {
      gemmABt(input, this.W[l], this.z[l], rows, hidden, width, this.b[l]);
      if (train) siluForward(this.z[l], this.a[l], this.sig[l], rows * hidden);
      else silu(this.z[l], this.a[l], rows * hidden);
      input = this.a[l];
      width = hidden;
    }
    gemmABt(input, this.W[depth], this.F, rows, dim, width, this.b[depth]);
    const D = this.denoised;
    for (let r = 0; r < rows; r++) {
      const cs = this.cSkip[r],
        co = this.cOut[r];
      for (let d = 0; d < dim; d++) {
        const i = r * dim + d;
        D[i] = cs * x[i] + co * this.F[i];
      }
    }
    return D;
  }

  /**
   * EDM training loss on one batch and its gradient (into `this.grad`):
   * x = y + sigma n, loss = mean over rows and coordinates of lambda(sigma) (D(x; sigma) - y)^2
   * with lambda = (sigma^2 + sd^2) / (sigma sd)^2. `y`, `noise`: [rows, dim]; `sigma`: [rows].
   */
  lossAndGrad(
    y: ArrayLike<number>,
    sigma: ArrayLike<number>,
    noise: ArrayLike<number>,
    rows: number,
  ): number {
    if (!this.withGrad)
      throw new Error("MlpPass.lossAndGrad: this pass was built without gradient buffers (withGrad = false)");
    const loss = this.lossInternal(y, sigma, noise, rows, true);
    this.backward(rows);
    return loss;
  }

  /** The same loss without the backward pass. */
  loss(y: ArrayLike<number>, sigma: ArrayLike<number>, noise: ArrayLike<number>, rows: number): number {
    return this.lossInternal(y, sigma, noise, rows, false);
  }

  private lossInternal(
    y: ArrayLike<number>,
    sigma: ArrayLike<number>,
    noise: ArrayLike<number>,
    rows: number,
    train: boolean,
  ): number {
    const { dim } = this.arch;
    const n = rows * dim;
    const x = this.withGrad ? this.xIn : new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      const s = sigma[r];
      for (let d = 0; d < dim; d++) x[r * dim + d] = y[r * dim + d] + s * noise[r * dim + d];
    }
    const D = this.forward(x, sigma, rows, train);
    const scale = 1 / n;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const w = this.weight[r];
      const co = this.cOut[r];
      for (let d = 0; d < dim; d++) {
        const i = r * dim + d;
        const e = D[i] - y[i];
        total += w * e * e;
        // dLoss/dF = dLoss/dD * c_out
        if (train) this.gF[i] = 2 * scale * w * e * co;
      }
    }
    return total * scale;
  }

  private backward(rows: number): void {
    const { dim, hidden, depth } = this.arch;
    let G = this.gF;
    let gWidth = dim;
    let spare = this.gA0;
    for (let l = depth; l >= 0; l--) {
      const X = l === 0 ? this.features : this.a[l - 1];
      const xWidth = l === 0 ? this.inWidth : hidden;
      // dW = G^T X, both transposed so the kernel's inner loop runs over rows contiguously
      transpose(G, this.gT, rows, gWidth);
      transpose(X, this.xT, rows, xWidth);
      gemmABt(this.gT, this.xT, this.gW[l], gWidth, xWidth, rows, null);
      columnSums(G, this.gb[l], rows, gWidth);
      if (l > 0) {
        // dX = G W = G (W^T)^T, then through SiLU
        transpose(this.W[l], this.wT, gWidth, xWidth);
        gemmABt(G, this.wT, spare, rows, xWidth, gWidth, null);
        siluBackward(spare, this.z[l - 1], this.sig[l - 1], rows * hidden);
        G = spare;
        spare = spare === this.gA0 ? this.gA1 : this.gA0;
        gWidth = hidden;
      }
    }
  }
}
