import { existsSync, mkdirSync, rmSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GaussianMixture, type Tensor, TorchGenerator } from "@edmkit/core";
import { ToyMlpDenoiser } from "@edmkit/edm";
import { main } from "../src/cli.js";
import { UsageError } from "../src/errors.js";
import { OnnxDenoiser } from "@edmkit/onnx";
import { edmkit, ROOT } from "./cli-helpers.js";

/** The training examples of README.md, run as written in a fresh folder. */
export const TRAIN_EXAMPLES = {
  ring8:
    "edmkit train --dataset ring8 --steps 300 --batch 256 --hidden 32 --seed 1 --out ring8.onnx --weights ring8-weights.json",
  sampleRing8:
    "edmkit sample --sampler k-diffusion/sample_dpmpp_2m --model ring8.onnx --steps 20 --batch 500 --out ring8-samples.json --plot ring8-samples.png",
  bimodal: "edmkit train --dataset bimodal1d --steps 1000 --hidden 32 --out bimodal.onnx --json",
  moons:
    "edmkit train --dataset two-moons --steps 200 --hidden 16 --out moons.onnx --weights moons-weights.json",
} as const;

let dir: string;
const results = new Map<string, ReturnType<typeof edmkit>>();

/** Points x = sqrt(sd^2 + sigma^2) z with sigma log-spaced over [0.002, 80]. */
function probe(rows: number, dim: number, sd: number): { x: Tensor; sigma: Float64Array } {
  const sigma = Float64Array.from({ length: rows }, (_, i) =>
    Math.exp(Math.log(0.002) + ((Math.log(80) - Math.log(0.002)) * i) / (rows - 1)),
  );
  const x = new TorchGenerator(99).randn([rows, dim]);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < dim; c++) x.data[r * dim + c] *= Math.sqrt(sd * sd + sigma[r] * sigma[r]);
  return { x, sigma };
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0,
    size = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    size = Math.max(size, Math.abs(b[i]));
  }
  return worst / size;
}

beforeAll(() => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  dir = mkdtempSync(join(ROOT, ".tmp", "cli-train-"));
  for (const [name, line] of Object.entries(TRAIN_EXAMPLES))
    results.set(name, edmkit(line.split(" ").slice(1), { cwd: dir }));
}, 180_000);

describe("edmkit train", () => {
  test("every example of README.md exits 0 and is shown in README.md as run here", () => {
    const doc = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const [name, line] of Object.entries(TRAIN_EXAMPLES)) {
      expect(doc, name).toContain(line);
      const r = results.get(name)!;
      expect(r.stderr, name).toBe("");
      expect(r.status, name).toBe(0);
    }
  });

  test("the exported ONNX graph computes the trained weights (float32: ~1e-7 relative); sidecar in the fixtures/models format", async () => {
    const r = results.get("ring8")!;
    expect(r.stdout).toMatch(
      /^trained gmm2d-ring8 \(2-D\): 300 steps, batch 256, hidden 32 x 3, 2498 parameters$/m,
    );
    expect(r.stdout).toMatch(/^final loss \d+\.\d{4} \(EMA \d+\.\d{4}\), [\d.]+ s/m);
    expect(r.stdout).toMatch(/wrote ring8\.onnx, ring8\.json, ring8-weights\.json/);
    const sidecar = JSON.parse(readFileSync(join(dir, "ring8.json"), "utf8"));
    expect(sidecar).toMatchObject({
      kind: "onnx",
      file: "ring8.onnx",
      parameterization: "denoiser",
      dtype: "float32",
      inputs: [
        { name: "x", shape: ["batch", "dim"] },
        { name: "sigma", shape: ["batch"] },
      ],
      outputs: [{ name: "denoised", shape: ["batch", "dim"] }],
      dataset: "gmm2d-ring8",
      trained_on: { kind: "gmm", dim: 2 },
      training: { steps: 300, batch: 256, seed: 1, weights: "ema" },
    });
    expect(sidecar.sigma_data).toBeCloseTo(1.42215, 5);
    expect(typeof sidecar.notes).toBe("string");
    expect(sidecar.training.final_loss).toBeGreaterThan(0);

    const weights = ToyMlpDenoiser.fromJSON(
      JSON.parse(readFileSync(join(dir, "ring8-weights.json"), "utf8")),
    );
    expect(weights.architecture).toMatchObject({ dim: 2, hidden: 32, depth: 3 });
    const onnx = await OnnxDenoiser.load(join(dir, "ring8.onnx"));
    try {
      expect(onnx.dtype).toBe("float32");
      const { x, sigma } = probe(512, 2, weights.sigmaData);
      const rel = relDiff((await onnx.denoise(x, sigma)).data, weights.denoiseSync(x, sigma).data);
      expect(rel).toBeGreaterThan(0); // float32 graph
      expect(rel).toBeLessThan(1e-5);
      expect(sidecar.export_check.max_rel_diff).toBeLessThan(1e-5);
    } finally {
      await onnx.release();
    }
  });

  test("edmkit sample runs the trained model; the float32 graph and the float64 weights give nearly the same samples", () => {
    const a = JSON.parse(readFileSync(join(dir, "ring8-samples.json"), "utf8"));
    expect(a).toMatchObject({ model: "ring8.onnx", shape: [500, 2], nfe: 20 });
    expect(existsSync(join(dir, "ring8-samples.png"))).toBe(true);
    const r = edmkit(
      [
        "sample",
        "--sampler",
        "k-diffusion/sample_dpmpp_2m",
        "--model",
        "ring8-weights.json",
        "--steps",
        "20",
        "--batch",
        "500",
        "--out",
        "ring8-f64.json",
      ],
      { cwd: dir },
    );
    expect([r.status, r.stderr]).toEqual([0, ""]);
    const b = JSON.parse(readFileSync(join(dir, "ring8-f64.json"), "utf8"));
    const fa = (a.samples as number[][]).flat(),
      fb = (b.samples as number[][]).flat();
    expect(fa.every(Number.isFinite)).toBe(true);
    let worst = 0;
    for (let i = 0; i < fa.length; i++) worst = Math.max(worst, Math.abs(fa[i] - fb[i]));
    expect(worst).toBeLessThan(1e-3);
  });

  test("training learns: after 1000 steps the 1-D model is much closer to the exact denoiser than at initialisation", async () => {
    const s = JSON.parse(results.get("bimodal")!.stdout);
    expect(s).toMatchObject({
      dataset: "gmm1d-bimodal",
      dim: 1,
      steps: 1000,
      batch: 256,
      hidden: 32,
      depth: 3,
      seed: 0,
      out: "bimodal.onnx",
      sidecar: "bimodal.json",
      weights: null,
    });
    expect(s.exportCheck.ok).toBe(true);
    expect(s.exportCheck.maxRelDiff).toBeLessThan(1e-5);
    expect(s.sigmaData).toBeCloseTo(1.04403, 5);
    expect(s.finalLoss).toBeGreaterThan(0);
    const exact = new GaussianMixture({ dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] });
    const untrained = ToyMlpDenoiser.create({ dim: 1, hidden: 32, sigmaData: s.sigmaData, seed: 0 });
    const onnx = await OnnxDenoiser.load(join(dir, "bimodal.onnx"));
    try {
      // noisy data x = y + sigma n (y from the mixture: variance 1 + 0.3^2) at sigma 0.2, 0.5, 1
      const rows = 600;
      const sigma = Float64Array.from({ length: rows }, (_, i) => [0.2, 0.5, 1][i % 3]);
      const x = new TorchGenerator(7).randn([rows, 1]);
      for (let i = 0; i < rows; i++) x.data[i] *= Math.sqrt(1.09 + sigma[i] ** 2);
      const want = exact.denoiseSync(x, sigma);
      const rmse = (d: Tensor) => {
        let acc = 0;
        for (let i = 0; i < rows; i++) acc += (d.data[i] - want.data[i]) ** 2;
        return Math.sqrt(acc / rows);
      };
      const trained = rmse(await onnx.denoise(x, sigma)),
        before = rmse(untrained.denoiseSync(x, sigma));
      expect(trained).toBeLessThan(0.5 * before);
    } finally {
      await onnx.release();
    }
  });

  test("a non-mixture dataset: no trained_on, the dataset named; the graph reproduces the weights", async () => {
    const sidecar = JSON.parse(readFileSync(join(dir, "moons.json"), "utf8"));
    expect(sidecar).toMatchObject({ dtype: "float32", dataset: "two-moons", training: { steps: 200 } });
    expect(sidecar.trained_on).toBeUndefined();
    expect(sidecar.sigma_data).toBeCloseTo(0.71211, 5);
    const weights = ToyMlpDenoiser.fromJSON(
      JSON.parse(readFileSync(join(dir, "moons-weights.json"), "utf8")),
    );
    expect(weights.architecture).toMatchObject({ dim: 2, hidden: 16, depth: 3 });
    const onnx = await OnnxDenoiser.load(join(dir, "moons.onnx"));
    try {
      const { x, sigma } = probe(256, 2, weights.sigmaData);
      expect(relDiff((await onnx.denoise(x, sigma)).data, weights.denoiseSync(x, sigma).data)).toBeLessThan(
        1e-5,
      );
    } finally {
      await onnx.release();
    }
  });

  test("bad input: exit 2 with one line; clear UsageErrors", async () => {
    const r = edmkit(["train", "--dataset", "spiral", "--out", "x.onnx"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      'edmkit: train: unknown dataset "spiral" (expected one of bimodal1d, ring8, two-moons, swiss-roll, checkerboard)\n',
    );
    writeFileSync(join(dir, "keep.json"), "{}");
    const out = join(dir, "never.onnx");
    const cases: [string[], RegExp][] = [
      [
        ["train", "--out", out],
        /--dataset is required \(bimodal1d, ring8, two-moons, swiss-roll, checkerboard\)/,
      ],
      [["train", "--dataset", "ring8"], /--out is required/],
      [["train", "--dataset", "ring8", "--out", join(dir, "model.pt")], /--out must end in \.onnx, got/],
      [
        ["train", "--dataset", "ring8", "--out", out, "--steps", "0"],
        /--steps must be an integer from 1 to 1000000, got "0"/,
      ],
      [["train", "--dataset", "ring8", "--out", out, "--lr=-1"], /--lr must be a positive number, got "-1"/],
      [
        ["train", "--dataset", "ring8", "--out", out, "--hidden", "x"],
        /--hidden must be an integer from 1 to 4096, got "x"/,
      ],
      [["train", "--dataset", "ring8", "--out", out, "--seed=1.5"], /--seed must be an integer/],
      [
        ["train", "--dataset", "ring8", "--out", out, "--weights", join(dir, "w.txt")],
        /--weights must end in \.json/,
      ],
      [
        ["train", "--dataset", "ring8", "--out", out, "--weights", join(dir, "never.json")],
        /--weights .*never\.json would overwrite the sidecar of .*never\.onnx/,
      ],
    ];
    for (const [args, message] of cases) {
      const err = await main(args).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, args.join(" ")).toBeInstanceOf(UsageError);
      expect((err as Error).message, args.join(" ")).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});

// the folder lives under the repository's git-ignored .tmp/ so the CLI resolves its dev
// dependencies (tsx) from there
afterAll(() => rmSync(dir, { recursive: true, force: true }));
