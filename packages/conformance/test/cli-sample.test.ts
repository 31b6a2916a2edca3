import {
  existsSync,
  mkdirSync,
  rmSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  copyFileSync,
} from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import {
  ArgumentError,
  DiscreteGmmModel,
  GaussianMixture,
  namedMixtures,
  type GmmSpec,
  scale,
  TorchGenerator,
  TorchNoise,
  zerosLike,
} from "@edmkit/core";
import { denoisingLoop, EulerAncestralDiscreteScheduler } from "@edmkit/diffusers";
import { edmSampler, samplers as edmSamplers } from "@edmkit/edm";
import { samplers, samplerSignatures, schedules } from "@edmkit/k-diffusion";
import { main } from "../src/cli.js";
import { edmkit, FIXTURES, ROOT } from "./cli-helpers.js";

/** The examples of README.md, run as written (from a folder where fixtures/ is the repository's). */
export const SAMPLE_EXAMPLES = {
  heun1d:
    "edmkit sample --sampler k-diffusion/sample_heun --model gmm1d-bimodal --steps 30 --batch 2000 --seed 0 --out heun.json --plot heun.svg --bins 30",
  heun1dNpy:
    "edmkit sample --sampler k-diffusion/sample_heun --model gmm1d-bimodal --steps 30 --batch 2000 --seed 0 --out heun.npy",
  ancestral2d:
    "edmkit sample --sampler k-diffusion/sample_euler_ancestral --model gmm2d-ring8 --steps 25 --batch 500 --seed 42 --out ring.json --plot ring.png",
  dpm2mF32:
    "edmkit sample --sampler k-diffusion/sample_dpmpp_2m --model gmm2d-ring8 --schedule exponential --sigma-min 0.01 --sigma-max 40 --steps 15 --batch 64 --dtype float32 --out ring-f32.npy",
  edmHeun:
    "edmkit sample --sampler edm/heun --preset edm --model gmm1d-bimodal --steps 18 --batch 256 --seed 3 --out edm-heun.json",
  edmSampler:
    "edmkit sample --sampler edm/edm_sampler --model gmm1d-bimodal --steps 18 --churn 10 --batch 256 --seed 3 --out nvlabs.json",
  eulerA:
    "edmkit sample --sampler diffusers/EulerAncestralDiscreteScheduler --model gmm2d-ring8-discrete --steps 25 --batch 500 --seed 42 --out euler-a.json --plot euler-a.svg",
  heunDiffusers1d:
    "edmkit sample --sampler diffusers/HeunDiscreteScheduler --model gmm1d-bimodal --schedule karras --steps 30 --batch 2000 --json",
  onnx: "edmkit sample --sampler k-diffusion/sample_dpmpp_2m --model fixtures/models/gmm2d-ring8.onnx --steps 20 --batch 256 --out onnx.json",
  exact:
    "edmkit sample --sampler k-diffusion/sample_dpmpp_2m --model gmm2d-ring8 --steps 20 --batch 256 --out exact.json",
  adaptive:
    'edmkit sample --sampler k-diffusion/sample_dpm_adaptive --model gmm2d-ring8-discrete --kwargs \'{"rtol":0.01,"atol":0.001}\' --batch 64 --json',
} as const;

const BIMODAL: GmmSpec = namedMixtures["gmm1d-bimodal"]();
const RING: GmmSpec = namedMixtures["gmm2d-ring8"]();
const SD = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  num_train_timesteps: 1000,
};

let dir: string;

/** Split a command line on spaces, keeping '...' together (enough for the examples). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

function run(example: string) {
  const args = words(example);
  expect(args[0]).toBe("edmkit");
  return edmkit(args.slice(1), { cwd: dir });
}

function samplesOf(file: string): { doc: Record<string, unknown>; flat: number[] } {
  const doc = JSON.parse(readFileSync(join(dir, file), "utf8"));
  return { doc, flat: (doc.samples as number[][]).flat() };
}

/** Number of positions where the two differ (=== on numbers: bit-for-bit up to the sign of 0). */
function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!(a[i] === b[i])) n++;
  return n;
}

/** A tiny .npy reader: magic, version 1.0, the header dict, little-endian data. */
function readNpy(buf: Buffer): {
  descr: string;
  shape: number[];
  data: Float64Array | Float32Array;
  headerEnd: number;
} {
  expect([...buf.subarray(0, 6)]).toEqual([0x93, ...Buffer.from("NUMPY")]);
  expect([buf[6], buf[7]]).toEqual([1, 0]);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString("latin1", 10, 10 + hlen);
  expect(header.endsWith("\n")).toBe(true);
  expect(header).toMatch(/'fortran_order': False/);
  const descr = /'descr': '([^']+)'/.exec(header)![1];
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = 10 + hlen;
  const width = descr === "<f8" ? 8 : 4;
  expect(buf.length).toBe(off + n * width);
  const data = width === 8 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++)
    data[i] = width === 8 ? buf.readDoubleLE(off + 8 * i) : buf.readFloatLE(off + 4 * i);
  return { descr, shape, data, headerEnd: off };
}

/** Well-formed XML (as far as the SVG writer's subset goes): tags nest, attributes are quoted. */
function checkXml(text: string): Map<string, number> {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, "");
  const stack: string[] = [];
  const counts = new Map<string, number>();
  let last = 0;
  for (const m of body.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<>]*")*)\s*(\/?)>/g)) {
    expect(body.slice(last, m.index)).not.toMatch(/[<>]/); // text between tags holds no stray markup
    last = m.index! + m[0].length;
    const [, close, name, attrs, selfClose] = m;
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClose) stack.push(name);
    const cls = /class="([^"]+)"/.exec(attrs)?.[1];
    if (cls) counts.set(cls, (counts.get(cls) ?? 0) + 1);
  }
  expect(body.slice(last).trim()).toBe("");
  expect(stack).toEqual([]);
  expect(body.startsWith("<svg")).toBe(true);
  return counts;
}

function halves(values: number[]): [number, number] {
  const s = [...values].sort((a, b) => a - b);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return [mean(s.slice(0, s.length / 2)), mean(s.slice(s.length / 2))];
}

const results = new Map<string, ReturnType<typeof edmkit>>();

beforeAll(() => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  dir = mkdtempSync(join(ROOT, ".tmp", "cli-sample-"));
  symlinkSync(FIXTURES, join(dir, "fixtures"));
  for (const [name, line] of Object.entries(SAMPLE_EXAMPLES)) results.set(name, run(line));
}, 180_000);

describe("edmkit sample", () => {
  test("every example of README.md exits 0 and is shown in README.md as run here", () => {
    const doc = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const [name, line] of Object.entries(SAMPLE_EXAMPLES)) {
      expect(doc, name).toContain(line);
      const r = results.get(name)!;
      expect(r.stderr, name).toBe("");
      expect(r.status, name).toBe(0);
    }
  });

  test("k-diffusion sample_heun: bit for bit the package API with the same seed; 1-D modes at +-1", async () => {
    const { doc, flat } = samplesOf("heun.json");
    expect(doc).toMatchObject({
      sampler: "k-diffusion/sample_heun",
      model: "gmm1d-bimodal",
      shape: [2000, 1],
      seed: 0,
      steps: 30,
      dtype: "float64",
      nfe: 59,
    });
    // torch.manual_seed(0); x = torch.randn([2000, 1]) * sigmas[0]; sample_heun(model, x, sigmas)
    const gen = new TorchGenerator(0);
    const latents = gen.randn([2000, 1]);
    const sigmas = schedules.get_sigmas_karras(30, 0.002, 80);
    const x = scale(zerosLike(latents), latents, sigmas[0]);
    const direct = await samplers.sample_heun(new GaussianMixture(BIMODAL), x, sigmas, {
      noise: new TorchNoise(gen),
    });
    expect(mismatches(flat, direct.data)).toBe(0);
    const [lo, hi] = halves(flat);
    expect(Math.abs(lo + 1)).toBeLessThan(0.05);
    expect(Math.abs(hi - 1)).toBeLessThan(0.05);
  });

  test(".npy holds the same numbers as .json ('<f8', C order, 64-byte aligned header)", () => {
    const npy = readNpy(readFileSync(join(dir, "heun.npy")));
    expect(npy.descr).toBe("<f8");
    expect(npy.shape).toEqual([2000, 1]);
    expect(npy.headerEnd % 64).toBe(0);
    expect(mismatches(npy.data, samplesOf("heun.json").flat)).toBe(0);
  });

  test("float32 run: '<f4' .npy, bit for bit the float32 package API (schedule and latents in float32)", async () => {
    const npy = readNpy(readFileSync(join(dir, "ring-f32.npy")));
    expect(npy.descr).toBe("<f4");
    expect(npy.shape).toEqual([64, 2]);
    const gen = new TorchGenerator(0);
    const latents = gen.randn([64, 2], "float32");
    const sigmas = schedules.get_sigmas_exponential(15, 0.01, 40, { dtype: "float32" });
    const x = scale(zerosLike(latents), latents, sigmas[0]);
    const direct = await samplers.sample_dpmpp_2m(new GaussianMixture(RING), x, sigmas);
    expect(direct.dtype).toBe("float32");
    expect(mismatches(npy.data, direct.data)).toBe(0);
  });

  test("1-D histogram SVG: well-formed, one bar per bin, the true density overlaid", () => {
    const counts = checkXml(readFileSync(join(dir, "heun.svg"), "utf8"));
    expect(counts.get("bar")).toBe(30);
    expect(counts.get("density")).toBe(1);
    expect(counts.get("pt")).toBeUndefined();
  });

  test("ancestral noise continues the latents' generator (torch.manual_seed + randn_like), bit for bit; PNG scatter", async () => {
    const { doc, flat } = samplesOf("ring.json");
    expect(doc).toMatchObject({ shape: [500, 2], seed: 42, steps: 25, nfe: 25 });
    const gen = new TorchGenerator(42);
    const latents = gen.randn([500, 2]);
    const sigmas = schedules.get_sigmas_karras(25, 0.002, 80);
    const x = scale(zerosLike(latents), latents, sigmas[0]);
    const direct = await samplers.sample_euler_ancestral(new GaussianMixture(RING), x, sigmas, {
      noise_sampler: new TorchNoise(gen),
    });
    expect(mismatches(flat, direct.data)).toBe(0);
    // radius of the ring: most samples within 3 std of radius 2
    const radii = doc.samples as number[][];
    const near = radii.filter(([a, b]) => Math.abs(Math.hypot(a, b) - 2) < 0.45).length;
    expect(near / radii.length).toBeGreaterThan(0.95);
    // PNG: signature, IHDR 640 x 480 RGBA, IDAT inflates to height * (1 + 4 * width) bytes
    const png = readFileSync(join(dir, "ring.png"));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.toString("latin1", 12, 16)).toBe("IHDR");
    const [w, h] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect([w, h, png[24], png[25]]).toEqual([640, 480, 8, 6]);
    const idatLen = png.readUInt32BE(33);
    expect(png.toString("latin1", 37, 41)).toBe("IDAT");
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect(raw.length).toBe(h * (1 + 4 * w));
    let coloured = 0; // pixels that are neither white nor grey: the blue dots and red means
    for (let y = 0; y < h; y++)
      for (let x0 = 0; x0 < w; x0++) {
        const k = y * (1 + 4 * w) + 1 + 4 * x0;
        if (Math.max(raw[k], raw[k + 1], raw[k + 2]) - Math.min(raw[k], raw[k + 1], raw[k + 2]) > 40)
          coloured++;
      }
    expect(coloured).toBeGreaterThan(500);
  });

  test("edm/heun equals edmSampler, edm/edm_sampler equals NVlabs' edm_sampler, bit for bit", async () => {
    const gmm = new GaussianMixture(BIMODAL);
    const a = samplesOf("edm-heun.json");
    expect(a.doc).toMatchObject({ steps: 18, nfe: 35 });
    const g1 = new TorchGenerator(3);
    const direct1 = await edmSampler(gmm, g1.randn([256, 1]), {
      preset: "edm",
      numSteps: 18,
      solver: "heun",
      noise: new TorchNoise(g1),
    });
    expect(mismatches(a.flat, direct1.data)).toBe(0);

    const b = samplesOf("nvlabs.json");
    const g2 = new TorchGenerator(3);
    const direct2 = await edmSamplers.edm_sampler(
      gmm,
      g2.randn([256, 1]),
      { num_steps: 18, S_churn: 10 },
      { randn_like: new TorchNoise(g2) },
    );
    expect(mismatches(b.flat, direct2.data)).toBe(0);
    expect(mismatches(a.flat, b.flat)).toBeGreaterThan(200); // churn changed the samples
  });

  test("diffusers EulerAncestral on the discrete ring equals the package's denoisingLoop, bit for bit; scatter SVG has one point per sample", async () => {
    const { flat } = samplesOf("euler-a.json");
    const scheduler = new EulerAncestralDiscreteScheduler(SD);
    scheduler.setTimesteps(25);
    const model = new DiscreteGmmModel({ gmm: RING, alphasCumprod: scheduler.alphasCumprod });
    const gen = new TorchGenerator(42);
    const direct = await denoisingLoop(scheduler, model, gen.randn([500, 2]), { generator: gen });
    expect(mismatches(flat, direct.data)).toBe(0);
    const counts = checkXml(readFileSync(join(dir, "euler-a.svg"), "utf8"));
    expect(counts.get("pt")).toBe(500);
    expect(counts.get("component")).toBe(8);
    expect(counts.get("bar")).toBeUndefined();
  });

  test("diffusers Heun (Karras sigmas) on the 1-D mixture: modes at +-1; --json summary", () => {
    const s = JSON.parse(results.get("heunDiffusers1d")!.stdout);
    expect(s).toMatchObject({
      sampler: "diffusers/HeunDiscreteScheduler",
      shape: [2000, 1],
      steps: 30,
      nfe: 59,
      nonFinite: 0,
      out: null,
      plot: null,
    });
    // the two modes have weight 1/2 and the same spread: mean 0, std sqrt(1 + 0.3^2)
    expect(Math.abs(s.mean[0])).toBeLessThan(0.06);
    expect(Math.abs(s.std[0] - Math.sqrt(1.09))).toBeLessThan(0.03);
  });

  test("ONNX gmm2d-ring8.onnx (float32) vs the exact mixture: the same samples to ~1e-6", () => {
    const onnx = samplesOf("onnx.json").flat,
      exact = samplesOf("exact.json").flat;
    let worst = 0;
    for (let i = 0; i < onnx.length; i++) worst = Math.max(worst, Math.abs(onnx[i] - exact[i]));
    expect(worst).toBeGreaterThan(0); // float32 graph: not bit-identical
    expect(worst).toBeLessThan(1e-4);
  });

  test("dpm_adaptive with --kwargs chooses its own steps", () => {
    const s = JSON.parse(results.get("adaptive")!.stdout);
    expect(s.steps).toBeNull();
    expect(s.nfe).toBeGreaterThan(5);
    expect(s.nonFinite).toBe(0);
  });

  test("the discrete ONNX model and the built-in gmm2d-ring8-discrete agree under diffusers Euler", () => {
    const args = [
      "sample",
      "--sampler",
      "diffusers/EulerDiscreteScheduler",
      "--steps",
      "12",
      "--batch",
      "128",
      "--seed",
      "5",
    ];
    const a = edmkit(
      [...args, "--model", "fixtures/models/gmm2d-ring8-discrete-eps.onnx", "--out", "d-onnx.json"],
      { cwd: dir },
    );
    const b = edmkit([...args, "--model", "gmm2d-ring8-discrete", "--out", "d-exact.json"], { cwd: dir });
    expect([a.status, b.status, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    const x = samplesOf("d-onnx.json").flat,
      y = samplesOf("d-exact.json").flat;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  test("every sampler of every package runs on a fitting model (in process)", async () => {
    const out = join(dir, "sweep.json");
    const runs: string[][] = [
      ...Object.keys(samplerSignatures).map((s) => [
        "--sampler",
        `k-diffusion/${s}`,
        "--model",
        "gmm2d-ring8-discrete",
      ]),
      ...["euler", "heun", "midpoint"].flatMap((s) =>
        ["vp", "ve", "iddpm", "edm"].map((p) => [
          "--sampler",
          `edm/${s}`,
          "--preset",
          p,
          "--model",
          "gmm2d-ring8",
        ]),
      ),
      ["--sampler", "edm/edm_sampler", "--model", "gmm2d-ring8-discrete"],
      ...["EulerDiscreteScheduler", "HeunDiscreteScheduler", "EulerAncestralDiscreteScheduler"].map((s) => [
        "--sampler",
        `diffusers/${s}`,
        "--model",
        "gmm2d-ring8",
      ]),
    ];
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      for (const r of runs) {
        const what = r.join(" ");
        // Euler on VE's grid from sigma = 100 needs many more steps (Karras et al. 2022, Fig. 2)
        const n = r[1] === "edm/euler" && r[3] === "ve" ? "80" : "24";
        const steps = r[1] === "k-diffusion/sample_dpm_adaptive" ? [] : ["--steps", n];
        expect(await main(["sample", ...r, ...steps, "--batch", "32", "--out", out]), what).toBe(0);
        const doc = JSON.parse(readFileSync(out, "utf8"));
        expect(doc.shape, what).toEqual([32, 2]);
        expect(doc.nfe, what).toBeGreaterThanOrEqual(10);
        const rows = doc.samples as number[][];
        expect(rows.flat().every(Number.isFinite), what).toBe(true);
        // every run lands on the ring (radius 2, std 0.15): median radius within 0.3 of 2
        const radii = rows.map(([a, b]) => Math.hypot(a, b)).sort((a, b) => a - b);
        expect(Math.abs(radii[16] - 2), what).toBeLessThan(0.3);
      }
    } finally {
      write.mockRestore();
    }
  });

  test("bad input from the command line: exit 2, one line on stderr, nothing on stdout", () => {
    const cases: [string[], RegExp][] = [
      [
        ["sample", "--sampler", "k-diffusion/sample_nope", "--model", "gmm1d-bimodal"],
        /^edmkit: sample: unknown sampler "k-diffusion\/sample_nope" \(expected one of .*k-diffusion\/sample_dpm_adaptive.*edm\/edm_sampler/,
      ],
      [
        ["sample", "--sampler", "k-diffusion/sample_euler", "--model", "missing.onnx"],
        /^edmkit: sample: --model missing\.onnx: no such file$/m,
      ],
      [
        ["sample", "--sampler", "k-diffusion/sample_euler", "--model", "gmm1d-bimodal", "--steps", "2.5"],
        /^edmkit: sample: --steps must be an integer from 1 to 10000, got "2\.5"$/m,
      ],
      [
        [
          "sample",
          "--sampler",
          "k-diffusion/sample_euler",
          "--model",
          "gmm1d-bimodal",
          "--kwargs",
          '{"order":2}',
        ],
        /sample_euler: unexpected keyword argument 'order'/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = edmkit(args, { cwd: dir });
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stdout, args.join(" ")).toBe("");
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr.trimEnd().split("\n"), args.join(" ")).toHaveLength(1);
    }
  });

  test("bad input: one clear UsageError naming the option, before anything is written", async () => {
    mkdirSync(join(dir, "bad"), { recursive: true });
    // a discrete-time ONNX model whose sidecar has no alphas_cumprod: nothing to wrap it with
    copyFileSync(join(FIXTURES, "models/gmm2d-ring8-discrete-eps.onnx"), join(dir, "bad/eps.onnx"));
    const sc = JSON.parse(readFileSync(join(FIXTURES, "models/gmm2d-ring8-discrete-eps.json"), "utf8"));
    delete sc.denoiser;
    writeFileSync(join(dir, "bad/eps.json"), JSON.stringify(sc));
    writeFileSync(join(dir, "bad/notjson.json"), "{");
    writeFileSync(join(dir, "bad/other.json"), JSON.stringify({ kind: "unet" }));
    const base = [
      "sample",
      "--sampler",
      "k-diffusion/sample_euler",
      "--model",
      "gmm1d-bimodal",
      "--out",
      join(dir, "bad/never.json"),
    ];
    const cases: [string[], RegExp][] = [
      [
        ["sample", "--sampler", "k-diffusion/sample_euler", "--model", "gmm3d"],
        /unknown model "gmm3d" \(built-in: gmm1d-bimodal, gmm2d-ring8, gmm2d-ring8-discrete/,
      ],
      [
        ["sample", "--sampler", "k-diffusion/sample_euler", "--model", join(dir, "bad/notjson.json")],
        /notjson\.json is not valid JSON/,
      ],
      [
        ["sample", "--sampler", "k-diffusion/sample_euler", "--model", join(dir, "bad/other.json")],
        /other\.json: field `kind`: .*expected a denoiser object of kind gmm, discrete-eps or onnx/,
      ],
      [["sample", "--model", "gmm1d-bimodal"], /--sampler is required/],
      [["sample", "--sampler", "k-diffusion/sample_euler"], /--model is required/],
      [[...base, "--batch=-3"], /--batch must be an integer from 1 to 1000000, got "-3"/],
      [[...base, "--sigma-min", "abc"], /--sigma-min must be a positive number, got "abc"/],
      [
        [...base, "--sigma-min", "3", "--sigma-max", "2"],
        /--sigma-max \(2\) must be greater than --sigma-min \(3\)/,
      ],
      [
        [...base, "--sigma-min", "100"],
        /sigma_max > sigma_min, got 100\.\.80 \(the other end is the model's\)/,
      ],
      [[...base, "--seed", "1.5"], /--seed must be an integer, got "1\.5"/],
      [[...base, "--churn=-1"], /--churn must be a number >= 0, got "-1"/],
      [
        [...base, "--schedule", "cosine"],
        /unknown schedule "cosine" .*karras, exponential, polyexponential, vp/,
      ],
      [
        [...base, "--schedule", "vp", "--sigma-max", "10"],
        /--schedule vp takes no --sigma-min, --sigma-max or --rho/,
      ],
      [
        [...base, "--schedule", "exponential", "--rho", "3"],
        /--rho does not apply to --schedule exponential/,
      ],
      [[...base, "--eta", "1"], /--eta does not apply to k-diffusion\/sample_euler \(it takes .*--churn/],
      [[...base, "--preset", "vp"], /--preset does not apply to k-diffusion\/sample_euler/],
      [[...base, "--dtype", "float16"], /--dtype must be float64 or float32, got "float16"/],
      [[...base, "--device", "tpu"], /--device must be one of cpu, cuda, webgpu/],
      [[...base, "--device", "cuda"], /--device cuda applies to ONNX models only/],
      [[...base, "--dim", "3"], /--dim 3 contradicts the model's dim 1/],
      [
        ["sample", "--sampler", "k-diffusion/sample_euler", "--model", "gmm1d-bimodal", "--out", "x.csv"],
        /--out must end in \.json or \.npy, got "x\.csv"/,
      ],
      [[...base, "--plot", "x.jpg"], /--plot must end in \.svg or \.png, got "x\.jpg"/],
      [[...base, "--kwargs", "[1]"], /--kwargs must be a JSON object/],
      [[...base, "--kwargs", "{"], /--kwargs is not valid JSON/],
      [[...base, "stray"], /unexpected argument "stray"/],
      [
        [
          "sample",
          "--sampler",
          "k-diffusion/sample_dpm_adaptive",
          "--model",
          "gmm1d-bimodal",
          "--steps",
          "5",
        ],
        /--steps does not apply to k-diffusion\/sample_dpm_adaptive/,
      ],
      [
        [
          "sample",
          "--sampler",
          "k-diffusion/sample_dpm_fast",
          "--model",
          "gmm1d-bimodal",
          "--schedule",
          "karras",
        ],
        /--schedule does not apply to k-diffusion\/sample_dpm_fast/,
      ],
      [
        ["sample", "--sampler", "edm/heun", "--model", "gmm1d-bimodal", "--preset", "vp", "--rho", "3"],
        /--rho applies to --preset edm only/,
      ],
      [
        ["sample", "--sampler", "edm/heun", "--model", "gmm1d-bimodal", "--preset", "cosine"],
        /unknown preset "cosine" \(expected one of vp, ve, iddpm, edm\)/,
      ],
      [
        ["sample", "--sampler", "edm/heun", "--model", "gmm1d-bimodal", "--eta", "1"],
        /--eta does not apply to edm\/heun/,
      ],
      [
        ["sample", "--sampler", "edm/edm_sampler", "--model", "gmm1d-bimodal", "--steps", "1"],
        /edm_sampler: num_steps must be an integer >= 2/,
      ],
      [
        [
          "sample",
          "--sampler",
          "edm/edm_sampler",
          "--model",
          "gmm1d-bimodal",
          "--kwargs",
          '{"solver":"euler"}',
        ],
        /edm_sampler: unexpected keyword argument 'solver'/,
      ],
      [
        [
          "sample",
          "--sampler",
          "diffusers/EulerAncestralDiscreteScheduler",
          "--model",
          "gmm1d-bimodal",
          "--schedule",
          "karras",
        ],
        /--schedule does not apply to diffusers\/EulerAncestralDiscreteScheduler/,
      ],
      [
        [
          "sample",
          "--sampler",
          "diffusers/HeunDiscreteScheduler",
          "--model",
          "gmm1d-bimodal",
          "--churn",
          "1",
        ],
        /--churn does not apply to diffusers\/HeunDiscreteScheduler/,
      ],
      [
        [
          "sample",
          "--sampler",
          "diffusers/EulerDiscreteScheduler",
          "--model",
          "gmm1d-bimodal",
          "--sigma-max",
          "10",
        ],
        /--sigma-max does not apply to diffusers\/EulerDiscreteScheduler/,
      ],
      [
        [
          "sample",
          "--sampler",
          "diffusers/EulerDiscreteScheduler",
          "--model",
          "gmm1d-bimodal",
          "--schedule",
          "cosine",
        ],
        /unknown schedule "cosine" for diffusers\/EulerDiscreteScheduler \(expected one of karras, exponential, beta/,
      ],
      [
        [
          "sample",
          "--sampler",
          "diffusers/EulerDiscreteScheduler",
          "--model",
          "gmm1d-bimodal",
          "--timestep-spacing",
          "odd",
        ],
        /--timestep-spacing must be linspace, leading or trailing/,
      ],
      [
        [
          "sample",
          "--sampler",
          "diffusers/EulerDiscreteScheduler",
          "--model",
          "gmm1d-bimodal",
          "--config",
          join(dir, "nope.json"),
        ],
        /--config .*nope\.json: no such file/,
      ],
      [
        [
          "sample",
          "--sampler",
          "diffusers/EulerDiscreteScheduler",
          "--model",
          "gmm2d-ring8-discrete",
          "--config",
          join(dir, "bad/vcfg.json"),
        ],
        /prediction_type "v_prediction" but the model predicts "epsilon"/,
      ],
      [
        ["sample", "--sampler", "k-diffusion/sample_heun", "--model", join(dir, "bad/eps.onnx")],
        /k-diffusion\/sample_heun needs a D\(x; sigma\) model, and .*eps\.onnx.* has no alphas_cumprod table/,
      ],
      [
        ["sample", "--sampler", "edm/heun", "--model", join(dir, "bad/eps.onnx")],
        /edm\/heun needs a D\(x; sigma\) model/,
      ],
    ];
    writeFileSync(join(dir, "bad/vcfg.json"), JSON.stringify({ ...SD, prediction_type: "v_prediction" }));
    for (const [args, message] of cases) {
      const what = args.join(" ");
      const err = await main(args).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(ArgumentError);
      expect((err as Error).message, what).toMatch(message);
      expect((err as Error).message, what).not.toContain("\n");
    }
    expect(existsSync(join(dir, "bad/never.json"))).toBe(false);
  });
});

// the folder lives under the repository's git-ignored .tmp/ so the CLI resolves its dev
// dependencies (tsx) from there
afterAll(() => rmSync(dir, { recursive: true, force: true }));
