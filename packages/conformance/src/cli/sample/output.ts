/**
 * `edmkit sample`, part 4: the output. Writes the samples (.json or .npy) and the plot, and
 * prints the summary (text, or JSON with --json).
 */
import { writeFileAtomic } from "@edmkit/core/node";
import type { Tensor } from "@edmkit/core";
import { UsageError } from "../../errors.js";
import { digitsGridPng } from "../../report/images-section.js";
import { encodeNpy } from "../npy.js";
import { renderPlot } from "../plot.js";
import type { SampleArgs } from "./args.js";
import type { LoadedModel } from "./models.js";
import type { RunResult } from "./run.js";

function rowsOf(t: Tensor, dim: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < t.data.length / dim; r++)
    rows.push(Array.from(t.data.subarray(r * dim, (r + 1) * dim)));
  return rows;
}

function stats(
  t: Tensor,
  dim: number,
): { mean: (number | null)[]; std: (number | null)[]; nonFinite: number } {
  const rows = t.data.length / dim;
  const sum = new Float64Array(dim),
    sq = new Float64Array(dim),
    count = new Float64Array(dim);
  let nonFinite = 0;
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let c = 0; c < dim; c++) if (!Number.isFinite(t.data[r * dim + c])) ok = false;
    if (!ok) {
      nonFinite++;
      continue;
    }
    for (let c = 0; c < dim; c++) {
      const v = t.data[r * dim + c];
      sum[c] += v;
      count[c]++;
    }
  }
  const mean = Array.from(sum, (s, c) => (count[c] ? s / count[c] : null));
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let c = 0; c < dim; c++) if (!Number.isFinite(t.data[r * dim + c])) ok = false;
    if (ok) for (let c = 0; c < dim; c++) sq[c] += (t.data[r * dim + c] - mean[c]!) ** 2;
  }
  const std = Array.from(sq, (s, c) => (count[c] > 1 ? Math.sqrt(s / (count[c] - 1)) : null));
  return { mean, std, nonFinite };
}

const fmt = (v: number | null) => (v === null ? "-" : Number(v.toPrecision(4)).toString());

/** Write --out and --plot, print the summary; the exit status (1 when a sample is not finite). */
export function writeOutputs(
  args: SampleArgs,
  model: LoadedModel,
  result: RunResult,
  seconds: number,
): number {
  const { batch, seed, bins } = args;
  const values = {
    sampler: args.sampler,
    model: args.model,
    out: args.out,
    plot: args.plot,
    json: args.json,
  };
  const samples = result.samples;
  const shape = [batch, model.dim];
  const seedJson =
    typeof seed !== "bigint"
      ? seed
      : seed <= BigInt(Number.MAX_SAFE_INTEGER) && seed >= -BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(seed)
        : String(seed);

  if (values.out !== undefined) {
    if (/\.npy$/i.test(values.out)) writeFileAtomic(values.out, encodeNpy(samples.data, shape));
    else {
      const doc = {
        sampler: values.sampler,
        model: values.model,
        shape,
        seed: seedJson,
        steps: result.steps,
        dtype: samples.dtype,
        nfe: result.nfe,
        samples: rowsOf(samples, model.dim),
      };
      writeFileAtomic(values.out, `${JSON.stringify(doc)}\n`);
    }
  }
  let plot: Record<string, unknown> | undefined;
  if (values.plot !== undefined && model.shape) {
    const [c, h, w] = model.shape;
    if (model.shape.length !== 3 || c !== 1 || h !== 8 || w !== 8 || !/\.png$/i.test(values.plot))
      throw new UsageError(
        `sample: --plot ${values.plot}: image grids are drawn for 1x8x8 images as .png (the samples are ${model.shape.join("x")})`,
      );
    writeFileAtomic(values.plot, digitsGridPng(Array.from(samples.data)));
    plot = { file: values.plot, images: batch, columns: 4 };
  } else if (values.plot !== undefined) {
    const title = `${values.sampler}, ${result.steps ?? "adaptive"} steps, on ${values.model}`;
    const { bytes, summary } = renderPlot(values.plot, {
      samples: samples.data,
      rows: batch,
      dim: model.dim,
      mixture: model.mixture,
      title,
      ...(bins ? { bins } : {}),
    });
    writeFileAtomic(values.plot, bytes);
    plot = { file: values.plot, ...summary };
  }

  const st = stats(samples, model.dim);
  if (values.json) {
    const summary = {
      sampler: values.sampler,
      model: values.model,
      description: model.description,
      dtype: samples.dtype,
      shape,
      seed: seedJson,
      steps: result.steps,
      nfe: result.nfe,
      seconds,
      mean: st.mean,
      std: st.std,
      nonFinite: st.nonFinite,
      out: values.out ?? null,
      plot: plot ?? null,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const lines = [
      `${values.sampler} on ${model.description}`,
      `${batch} x ${model.dim} samples (${samples.dtype}), seed ${String(seed)}, ${result.steps ?? "adaptive"} steps, ${result.nfe} model calls, ${seconds.toFixed(2)} s`,
      `mean [${st.mean.map(fmt).join(", ")}]  std [${st.std.map(fmt).join(", ")}]`,
    ];
    const wrote = [values.out, values.plot].filter((f): f is string => f !== undefined);
    if (wrote.length) lines.push(`wrote ${wrote.join(", ")}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (st.nonFinite > 0) {
    process.stderr.write(`edmkit: ${st.nonFinite} of ${batch} samples hold NaN or infinity\n`);
    return 1;
  }
  return 0;
}
