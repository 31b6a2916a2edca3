/**
 * Toy EDM training on the CPU (Karras et al. 2022, section 5 / Table 1 "EDM" column):
 * ln sigma ~ N(P_mean, P_std^2), loss lambda(sigma) |D(y + sigma n; sigma) - y|^2 with
 * lambda = (sigma^2 + sd^2) / (sigma sd)^2, Adam, an optional OneCycle or warm-up learning
 * rate, and an exponential moving average of the weights. Every step draws a fresh batch
 * from the dataset with a seeded ToyRng, so a run is a pure function of its options.
 *
 * The loss is averaged over rows and coordinates (for dim > 1 this is 1/dim of EDM's
 * per-sample sum; only the scale of the reported number differs).
 */
import { ArgumentError } from "@edmkit/core";
import { resolveToyDataset, type ToyDataset, type ToyDatasetName } from "./datasets.js";
import { ToyMlpDenoiser } from "./model.js";
import {
  DEFAULT_FREQUENCIES,
  initParameters,
  MlpPass,
  type ToyMlpArchitecture,
  validateArchitecture,
} from "./network.js";
import { Adam, type AdamOptions, learningRate, type LrSchedule, validateLrSchedule } from "./optim.js";
import { ToyRng } from "./rng.js";

/** Training diverged: the loss became NaN or infinite (too high a learning rate, usually). */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
}

export interface TrainToyOptions {
  /** A dataset or its registry name (`gmm1d-bimodal`, `gmm2d-ring8`, `two-moons`, `swiss-roll`, `checkerboard`). */
  dataset: ToyDataset | ToyDatasetName;
  /** Optimizer steps (default 2000). */
  steps?: number;
  /** Fresh samples per step (default 256). */
  batchSize?: number;
  /** Peak learning rate (default 4e-3). */
  lr?: number;
  /** Hidden width (default 64; the shipped ONNX models use 128). */
  hidden?: number;
  /** Hidden layers (default 3). */
  depth?: number;
  /** sin/cos frequencies of c_noise (default [0.5, 1, 2]). */
  frequencies?: readonly number[];
  /** Seed of the initial weights and of every draw (default 0). */
  seed?: number;
  /** EDM sigma_data (default: the dataset's). */
  sigmaData?: number;
  /** Mean of ln sigma (default -1.2). */
  pMean?: number;
  /** Std of ln sigma (default 1.2). */
  pStd?: number;
  /** Learning-rate schedule (default "onecycle" with pctStart 0.05). */
  lrSchedule?: LrSchedule | "onecycle" | "constant";
  /** Decay of the weight EMA (default 0.995; 0 disables it, and `model` is then the last iterate). */
  emaDecay?: number;
  adam?: AdamOptions;
  /** Called every `progressEvery` steps (default 100) and after the last step. */
  onProgress?: (progress: ToyTrainingProgress) => void;
  progressEvery?: number;
}

export interface ToyTrainingProgress {
  /** Steps completed. */
  step: number;
  steps: number;
  /** Loss of the last step. */
  loss: number;
  /** Exponential moving average (0.99) of the loss. */
  lossEma: number;
  /** Learning rate of the last step. */
  lr: number;
  elapsedMs: number;
  stepsPerSecond: number;
}

export interface ToyTrainingResult {
  /** The trained denoiser: EMA weights (or the last iterate when emaDecay = 0). */
  model: ToyMlpDenoiser;
  /** The last iterate of the optimizer. */
  rawModel: ToyMlpDenoiser;
  /** Loss of every step, in order. */
  losses: Float64Array;
  dataset: ToyDataset;
  seconds: number;
  stepsPerSecond: number;
}

interface ResolvedOptions {
  dataset: ToyDataset;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  sigmaData: number;
  pMean: number;
  pStd: number;
  lrSchedule: LrSchedule;
  emaDecay: number;
  progressEvery: number;
}

function resolveOptions(fn: string, o: TrainToyOptions): { opts: ResolvedOptions; arch: ToyMlpArchitecture } {
  if (typeof o !== "object" || o === null) throw new ArgumentError(`${fn}: options must be an object`);
  const dataset = resolveToyDataset(o.dataset);
  const steps = o.steps ?? 2000;
  const batchSize = o.batchSize ?? 256;
  const lr = o.lr ?? 4e-3;
  const seed = o.seed ?? 0;
  const sigmaData = o.sigmaData ?? dataset.sigmaData;
  const pMean = o.pMean ?? -1.2;
  const pStd = o.pStd ?? 1.2;
  const emaDecay = o.emaDecay ?? 0.995;
  const progressEvery = o.progressEvery ?? 100;
  const schedule = o.lrSchedule ?? "onecycle";
  const lrSchedule: LrSchedule = typeof schedule === "string" ? ({ kind: schedule } as LrSchedule) : schedule;
  const posInt = (name: string, v: number): void => {
    if (!(Number.isInteger(v) && v >= 1))
      throw new ArgumentError(`${fn}: ${name} must be a positive integer, got ${v}`);
  };
  posInt("steps", steps);
  posInt("batchSize", batchSize);
  posInt("progressEvery", progressEvery);
  if (!(Number.isFinite(lr) && lr > 0))
    throw new ArgumentError(`${fn}: lr must be a positive number, got ${lr}`);
  if (!Number.isFinite(seed)) throw new ArgumentError(`${fn}: seed must be a finite number, got ${seed}`);
  if (!(Number.isFinite(sigmaData) && sigmaData > 0))
    throw new ArgumentError(`${fn}: sigmaData must be a positive number, got ${sigmaData}`);
  if (!Number.isFinite(pMean)) throw new ArgumentError(`${fn}: pMean must be a finite number, got ${pMean}`);
  if (!(Number.isFinite(pStd) && pStd >= 0))
    throw new ArgumentError(`${fn}: pStd must be a non-negative number, got ${pStd}`);
  if (!(emaDecay >= 0 && emaDecay < 1))
    throw new ArgumentError(`${fn}: emaDecay must be in [0, 1), got ${emaDecay}`);
  validateLrSchedule(fn, lrSchedule);
  const arch: ToyMlpArchitecture = {
    dim: dataset.dim,
    hidden: o.hidden ?? 64,
    depth: o.depth ?? 3,
    frequencies: [...(o.frequencies ?? DEFAULT_FREQUENCIES)],
  };
  validateArchitecture(fn, arch);
  return {
    opts: {
      dataset,
      steps,
      batchSize,
      lr,
      seed,
      sigmaData,
      pMean,
      pStd,
      lrSchedule,
      emaDecay,
      progressEvery,
    },
    arch,
  };
}

/**
 * Step-by-step trainer (trainToyDenoiser drives it). Draw order per step, all from one
 * ToyRng(seed) that first initialised the weights: the batch y [batch, dim], then the
 * ln-sigma normals [batch], then the noise n [batch, dim].
 */
export class ToyTrainer {
  readonly architecture: ToyMlpArchitecture;
  readonly dataset: ToyDataset;
  readonly losses: Float64Array;
  private readonly opts: ResolvedOptions;
  private readonly onProgress?: (progress: ToyTrainingProgress) => void;
  private readonly rng: ToyRng;
  private readonly params: Float64Array;
  private readonly ema: Float64Array;
  private readonly pass: MlpPass;
  private readonly adam: Adam;
  private readonly y: Float64Array;
  private readonly sigma: Float64Array;
  private readonly noise: Float64Array;
  private done = 0;
  private lossEma = NaN;
  private lastLr = NaN;
  private elapsedMs = 0;

  constructor(options: TrainToyOptions) {
    const { opts, arch } = resolveOptions("trainToyDenoiser", options);
    this.opts = opts;
    this.onProgress = options.onProgress;
    this.architecture = arch;
    this.dataset = opts.dataset;
    this.rng = new ToyRng(opts.seed);
    this.params = initParameters(arch, this.rng);
    this.ema = Float64Array.from(this.params);
    this.pass = new MlpPass(arch, opts.sigmaData, this.params, opts.batchSize, true);
    this.adam = new Adam(this.params.length, options.adam);
    this.y = new Float64Array(opts.batchSize * arch.dim);
    this.sigma = new Float64Array(opts.batchSize);
    this.noise = new Float64Array(opts.batchSize * arch.dim);
    this.losses = new Float64Array(opts.steps);
  }

  /** Steps completed so far. */
  get stepsDone(): number {
    return this.done;
  }

  get finished(): boolean {
    return this.done >= this.opts.steps;
  }

  /** One optimizer step on a fresh batch; returns its loss. */
  step(): number {
    if (this.finished) throw new Error(`ToyTrainer.step: all ${this.opts.steps} steps are done`);
    const start = performance.now();
    const { batchSize, pMean, pStd, emaDecay } = this.opts;
    const rng = this.rng;
    this.dataset.sampleInto(rng, this.y, batchSize);
    rng.normalInto(this.sigma);
    for (let r = 0; r < batchSize; r++) this.sigma[r] = Math.exp(pMean + pStd * this.sigma[r]);
    rng.normalInto(this.noise);
    const loss = this.pass.lossAndGrad(this.y, this.sigma, this.noise, batchSize);
    if (!Number.isFinite(loss)) {
      throw new TrainingDivergedError(
        `trainToyDenoiser: the loss became ${loss} at step ${this.done}; lower lr (now ${this.opts.lr})`,
      );
    }
    const lr = learningRate(this.opts.lrSchedule, this.opts.lr, this.done, this.opts.steps);
    this.adam.step(this.params, this.pass.grad, lr);
    if (emaDecay > 0) {
      // the usual warm-up of the decay, so early weights do not dominate the average
      const beta = Math.min(emaDecay, (1 + this.done) / (10 + this.done));
      const p = this.params,
        e = this.ema;
      for (let i = 0; i < p.length; i++) e[i] = beta * e[i] + (1 - beta) * p[i];
    }
    this.losses[this.done] = loss;
    this.lossEma = this.done === 0 ? loss : 0.99 * this.lossEma + 0.01 * loss;
    this.lastLr = lr;
    this.done++;
    this.elapsedMs += performance.now() - start;
    if (this.onProgress !== undefined && (this.done % this.opts.progressEvery === 0 || this.finished)) {
      this.onProgress(this.progress());
    }
    return loss;
  }

  progress(): ToyTrainingProgress {
    return {
      step: this.done,
      steps: this.opts.steps,
      loss: this.done > 0 ? this.losses[this.done - 1] : NaN,
      lossEma: this.lossEma,
      lr: this.lastLr,
      elapsedMs: this.elapsedMs,
      stepsPerSecond: this.elapsedMs > 0 ? (1000 * this.done) / this.elapsedMs : 0,
    };
  }

  /** The models and losses so far (copies: training may continue). */
  result(): ToyTrainingResult {
    const o = this.opts;
    const training: Record<string, unknown> = {
      trainer: "@edmkit/edm trainToyDenoiser",
      dataset: o.dataset.name,
      steps: this.done,
      batch: o.batchSize,
      optimizer: "Adam",
      lr: o.lr,
      lr_schedule: o.lrSchedule,
      P_mean: o.pMean,
      P_std: o.pStd,
      loss_weight: "(sigma^2+sigma_data^2)/(sigma*sigma_data)^2",
      ema_decay: o.emaDecay,
      seed: o.seed,
      final_loss_ema: this.lossEma,
      seconds: this.elapsedMs / 1000,
    };
    const rawModel = new ToyMlpDenoiser(this.architecture, o.sigmaData, Float64Array.from(this.params));
    const model =
      o.emaDecay > 0
        ? new ToyMlpDenoiser(this.architecture, o.sigmaData, Float64Array.from(this.ema))
        : rawModel.clone();
    model.training = { ...training, weights: o.emaDecay > 0 ? "ema" : "last" };
    rawModel.training = { ...training, weights: "last" };
    return {
      model,
      rawModel,
      losses: this.losses.slice(0, this.done),
      dataset: o.dataset,
      seconds: this.elapsedMs / 1000,
      stepsPerSecond: this.elapsedMs > 0 ? (1000 * this.done) / this.elapsedMs : 0,
    };
  }
}

/** Train a toy EDM denoiser synchronously (blocks the event loop for the whole run). */
export function trainToyDenoiserSync(options: TrainToyOptions): ToyTrainingResult {
  const trainer = new ToyTrainer(options);
  while (!trainer.finished) trainer.step();
  return trainer.result();
}

/**
 * Train a toy EDM denoiser; yields to the event loop about every 50 ms so progress can be
 * shown. Same result as trainToyDenoiserSync for the same options.
 */
export async function trainToyDenoiser(options: TrainToyOptions): Promise<ToyTrainingResult> {
  const trainer = new ToyTrainer(options);
  let last = performance.now();
  while (!trainer.finished) {
    trainer.step();
    const now = performance.now();
    if (now - last > 50) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = performance.now();
    }
  }
  return trainer.result();
}
