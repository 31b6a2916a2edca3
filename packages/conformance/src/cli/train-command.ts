/**
 * `edmkit train`: train @edmkit/edm's toy EDM denoiser on a toy dataset and export it as an
 * ONNX graph with the project's writer (the layout of fixtures/models/mlp*-edm.onnx), plus a
 * sidecar JSON in the fixtures/models format and optionally the weights JSON.
 */
import { basename, extname, resolve } from "node:path";
import { allFinite, type DType, TorchGenerator } from "@edmkit/core";
import {
  type ToyDatasetName,
  TrainingDivergedError,
  trainToyDenoiser,
  type ToyTrainingProgress,
} from "@edmkit/edm";
import { checkWritableFile, stageFile } from "@edmkit/core/node";
import { parseCommandArgs, parseNumberOption, positiveInt } from "./args.js";
import { UsageError } from "../errors.js";
import {
  edmMlpModel,
  type EdmMlpSpec,
  IR_VERSION,
  OnnxDenoiser,
  OPSET,
  PRODUCER,
  serializeModel,
} from "@edmkit/onnx";
import { Progress } from "./progress.js";

/** Dataset names of the CLI (short names first) and the @edmkit/edm registry names they stand for. */
const DATASETS: Record<string, ToyDatasetName> = {
  bimodal1d: "gmm1d-bimodal",
  ring8: "gmm2d-ring8",
  "two-moons": "two-moons",
  "swiss-roll": "swiss-roll",
  checkerboard: "checkerboard",
  "gmm1d-bimodal": "gmm1d-bimodal",
  "gmm2d-ring8": "gmm2d-ring8",
};

export const trainHelp = `edmkit train --dataset NAME --out model.onnx [options]

Trains a toy EDM denoiser (the MLP of fixtures/models/mlp*-edm.onnx: EDM preconditioning,
SiLU, sin/cos features of c_noise) with @edmkit/edm's trainToyDenoiser on the CPU, exports it
to ONNX with edmkit's writer and writes a sidecar model.json next to it.

  --dataset NAME   bimodal1d, ring8, two-moons, swiss-roll or checkerboard
  --out FILE       the ONNX file to write (.onnx); the sidecar goes to FILE with .json
  --steps N        optimizer steps (default 2000, at most 1000000)
  --batch B        fresh samples per step (default 256, at most 65536)
  --lr X           peak learning rate, OneCycle schedule (default 0.004)
  --hidden H       hidden width (default 64, at most 4096; the shipped models use 128)
  --depth D        hidden layers (default 3, at most 32)
  --seed S         seed of the weights and of every draw, any integer (default 0)
  --weights FILE   also write the float64 weights JSON (ToyMlpDenoiser.fromJSON reads it)
  --json           print a JSON summary on stdout and nothing else

Every output path is checked before training (exit 2 if one cannot be written). The files are
written under temporary names and renamed into place only when training converged (finite
loss and weights) and the export check passed; otherwise nothing is written and an existing
model of that name stays as it was.

Exit status: 0 done, 1 training diverged (NaN or infinite loss or weights) or the exported
graph does not reproduce the trained model, 2 bad input.`;

const parseNumber = (name: string, v: string | undefined, ok: (x: number) => boolean, expected: string) =>
  parseNumberOption("train", name, v, ok, expected);

/**
 * max |ONNX - model| / max |model| over 256 points x ~ N(0, sd^2 + sigma^2) with sigma
 * log-spaced over [0.002, 80]: how faithfully the exported graph computes the trained model.
 */
async function exportCheck(
  bytes: Uint8Array,
  sidecar: Record<string, unknown>,
  model: Awaited<ReturnType<typeof trainToyDenoiser>>["model"],
): Promise<{ maxAbs: number; relative: number; finite: boolean }> {
  const rows = 256,
    dim = model.architecture.dim;
  const onnx = await OnnxDenoiser.fromBytes(bytes, { sidecar: sidecar as never, name: String(sidecar.file) });
  try {
    const sigma = Float64Array.from({ length: rows }, (_, i) =>
      Math.exp(Math.log(0.002) + ((Math.log(80) - Math.log(0.002)) * i) / (rows - 1)),
    );
    const x = new TorchGenerator(12345).randn([rows, dim]);
    for (let r = 0; r < rows; r++) {
      const s = Math.sqrt(model.sigmaData ** 2 + sigma[r] ** 2);
      for (let c = 0; c < dim; c++) x.data[r * dim + c] *= s;
    }
    const want = model.denoiseSync(x, sigma);
    const got = await onnx.denoise(x, sigma);
    let maxAbs = 0,
      scale = 0;
    for (let k = 0; k < want.data.length; k++) {
      maxAbs = Math.max(maxAbs, Math.abs(got.data[k] - want.data[k]));
      scale = Math.max(scale, Math.abs(want.data[k]));
    }
    const finite = allFinite(want.data) && allFinite(got.data);
    return { maxAbs, relative: maxAbs / Math.max(scale, 1e-300), finite };
  } finally {
    await onnx.release();
  }
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        dataset: { type: "string" },
        out: { type: "string" },
        steps: { type: "string" },
        batch: { type: "string" },
        lr: { type: "string" },
        hidden: { type: "string" },
        depth: { type: "string" },
        seed: { type: "string" },
        weights: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    "train",
  );
  if (values.help) {
    process.stdout.write(`${trainHelp}\n`);
    return 0;
  }
  if (positionals.length)
    throw new UsageError(
      `train: unexpected argument "${positionals[0]}" (options start with --; see edmkit train --help)`,
    );
  const names = Object.keys(DATASETS).slice(0, 5).join(", ");
  if (!values.dataset) throw new UsageError(`train: --dataset is required (${names})`);
  const dataset = Object.hasOwn(DATASETS, values.dataset) ? DATASETS[values.dataset] : undefined;
  if (!dataset) throw new UsageError(`train: unknown dataset "${values.dataset}" (expected one of ${names})`);
  if (!values.out) throw new UsageError("train: --out is required (the .onnx file to write)");
  if (extname(values.out).toLowerCase() !== ".onnx")
    throw new UsageError(`train: --out must end in .onnx, got "${values.out}"`);
  const out = values.out;
  const sidecarPath = out.replace(/\.onnx$/i, ".json");
  if (values.weights !== undefined) {
    if (extname(values.weights).toLowerCase() !== ".json")
      throw new UsageError(`train: --weights must end in .json, got "${values.weights}"`);
    if (resolve(values.weights) === resolve(sidecarPath))
      throw new UsageError(
        `train: --weights ${values.weights} would overwrite the sidecar of ${out}; choose another name`,
      );
  }
  const upTo = (max: number) => (x: number) => positiveInt(x) && x <= max;
  const steps = parseNumber("steps", values.steps, upTo(1e6), "an integer from 1 to 1000000") ?? 2000;
  const batchSize = parseNumber("batch", values.batch, upTo(65536), "an integer from 1 to 65536") ?? 256;
  const lr = parseNumber("lr", values.lr, (x) => Number.isFinite(x) && x > 0, "a positive number") ?? 4e-3;
  const hidden = parseNumber("hidden", values.hidden, upTo(4096), "an integer from 1 to 4096") ?? 64;
  const depth = parseNumber("depth", values.depth, upTo(32), "an integer from 1 to 32") ?? 3;
  // any integer, negative too, like sample --seed (ToyRng mixes the sign in)
  const seed =
    parseNumber("seed", values.seed, (x) => Number.isSafeInteger(x), "an integer in (-2^53, 2^53)") ?? 0;
  // float32 graphs only, like the shipped models: onnxruntime's extended optimizations fuse the
  // writer's x * Sigmoid(x) into QuickGelu, which has no float64 kernel on the CPU
  const dtype: DType = "float32";

  // before the work: every output path must be writable
  checkWritableFile(out, "train: --out");
  checkWritableFile(sidecarPath, "train: the sidecar");
  if (values.weights !== undefined) checkWritableFile(values.weights, "train: --weights");

  const every = Math.max(1, Math.floor(steps / 100));
  const progress = new Progress(Math.ceil(steps / every), "train", values.json);
  let last: ToyTrainingProgress | undefined;
  let result: Awaited<ReturnType<typeof trainToyDenoiser>>;
  try {
    result = await trainToyDenoiser({
      dataset,
      steps,
      batchSize,
      lr,
      hidden,
      depth,
      seed,
      progressEvery: every,
      onProgress: (p) => {
        last = p;
        progress.tick(`step ${p.step}/${p.steps} loss ${p.lossEma.toFixed(4)}`);
      },
    });
  } catch (e) {
    progress.end();
    if (!(e instanceof TrainingDivergedError)) throw e;
    return diverged(e.message, out);
  }
  progress.end();
  const { model, losses, seconds } = result;
  const finalLoss = losses[losses.length - 1];
  const finalLossEma = last?.lossEma ?? finalLoss;
  const weights = model.toJSON();
  const arch = model.architecture;
  // the graph holds the weights in float32: beyond its range they become infinite there
  const float32 = (a: number[]) => a.every((v) => Math.abs(v) <= 3.4028234663852886e38);
  if (!Number.isFinite(finalLoss) || !weights.layers.every((l) => float32(l.weight) && float32(l.bias)))
    return diverged(`final loss ${finalLoss}; the weights hold NaN or values beyond float32`, out);

  const spec: EdmMlpSpec = {
    dim: arch.dim,
    sigmaData: model.sigmaData,
    frequencies: arch.frequencies,
    layers: weights.layers.map((l) => ({
      weight: l.weight,
      bias: l.bias,
      inFeatures: l.in_features,
      outFeatures: l.out_features,
    })),
  };
  const stem = basename(out).replace(/\.onnx$/i, "");
  const bytes = serializeModel(edmMlpModel(spec, { dtype, name: stem }));
  const gmm = result.dataset.gmm;
  const sidecar: Record<string, unknown> = {
    kind: "onnx",
    file: basename(out),
    parameterization: "denoiser",
    dtype,
    inputs: [
      { name: "x", shape: ["batch", "dim"] },
      { name: "sigma", shape: ["batch"] },
    ],
    outputs: [{ name: "denoised", shape: ["batch", "dim"] }],
    architecture: {
      precond: "EDM (Karras et al. 2022): D = c_skip x + c_out F(c_in x, c_noise), c_noise = ln(sigma)/4",
      F: `MLP [c_in*x (${arch.dim}), c_noise, sin(f c_noise), cos(f c_noise) for f in [${arch.frequencies.join(", ")}]] -> ${new Array(arch.depth).fill(arch.hidden).join(" -> ")} -> ${arch.dim}, SiLU`,
      parameters: model.parameterCount,
    },
    dataset: result.dataset.name,
    ...(gmm ? { trained_on: { ...gmm, kind: "gmm" } } : {}),
    sigma_data: model.sigmaData,
    training: { ...model.training, final_loss: finalLoss, final_loss_ema: finalLossEma, seconds },
    notes: `sigma must be > 0 (c_noise = ln(sigma)/4). A learned approximation trained with edmkit train on ${result.dataset.name}; the graph holds the EMA weights rounded to float32.`,
    provenance: {
      writer: `edmkit train (${PRODUCER.name} ${PRODUCER.version})`,
      ir_version: IR_VERSION,
      opset: OPSET,
    },
  };
  const check = await exportCheck(bytes, sidecar, model);
  if (!check.finite)
    return diverged("the trained model's output, or its float32 export's, holds NaN or infinity", out);
  sidecar.export_check = {
    points: 256,
    max_abs_diff: check.maxAbs,
    max_rel_diff: check.relative,
    against: "the float64 trained model (weights JSON)",
  };

  const tolerance = 1e-4;
  const ok = check.relative <= tolerance;
  // staged under temporary names; renamed over the targets only when every check passed
  const staged = [
    stageFile(out, bytes),
    stageFile(sidecarPath, `${JSON.stringify(sidecar, null, 1)}\n`),
    ...(values.weights !== undefined ? [stageFile(values.weights, `${JSON.stringify(weights)}\n`)] : []),
  ];
  if (!ok) {
    for (const f of staged) f.abort();
    process.stderr.write(
      `edmkit: the exported graph differs from the trained model by ${check.relative.toExponential(2)} relative (expected <= ${tolerance}); nothing written, ${out} is unchanged\n`,
    );
    return 1;
  }
  for (const f of staged) f.commit();
  if (values.json) {
    const summary = {
      dataset: result.dataset.name,
      dim: arch.dim,
      steps,
      batch: batchSize,
      lr,
      hidden,
      depth,
      seed,
      parameters: model.parameterCount,
      sigmaData: model.sigmaData,
      finalLoss,
      finalLossEma,
      seconds,
      stepsPerSecond: result.stepsPerSecond,
      dtype,
      exportCheck: { maxAbsDiff: check.maxAbs, maxRelDiff: check.relative, ok },
      out,
      sidecar: sidecarPath,
      weights: values.weights ?? null,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const files = [out, sidecarPath, ...(values.weights !== undefined ? [values.weights] : [])];
    process.stdout.write(
      `${[
        `trained ${result.dataset.name} (${arch.dim}-D): ${steps} steps, batch ${batchSize}, hidden ${hidden} x ${depth}, ${model.parameterCount} parameters`,
        `final loss ${finalLoss.toFixed(4)} (EMA ${finalLossEma.toFixed(4)}), ${seconds.toFixed(1)} s (${result.stepsPerSecond.toFixed(0)} steps/s)`,
        `ONNX export (float32) vs trained model: max relative difference ${check.relative.toExponential(2)}`,
        `wrote ${files.join(", ")}`,
      ].join("\n")}\n`,
    );
  }
  return 0;
}

/** Training diverged: exit 1, nothing written (an existing model of that name stays as it was). */
function diverged(why: string, out: string): number {
  process.stderr.write(
    `edmkit: train: training diverged (${oneLineOf(why)}); lower --lr. Nothing written, ${out} is unchanged\n`,
  );
  return 1;
}

const oneLineOf = (s: string) => s.split("\n")[0];
