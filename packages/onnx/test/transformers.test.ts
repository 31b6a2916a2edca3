/**
 * @edmkit/onnx/transformers: transformers.js model folders behind the core model
 * contracts, against core's exact mixtures and against the same graphs through OnnxDenoiser;
 * the TRANSFORMERS.md examples, run as written; and the rule that nothing else in edmkit
 * imports @huggingface/transformers.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  copyFileSync,
} from "node:fs";
import * as nodeFs from "node:fs";
import * as nodeOs from "node:os";
import * as nodePath from "node:path";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as core from "@edmkit/core";
import {
  DiscreteGmmModel,
  GaussianMixture,
  type GmmSpec,
  type Tensor,
  tensor,
  TorchGenerator,
} from "@edmkit/core";
import * as diffusers from "@edmkit/diffusers";
import { denoisingLoop, EulerDiscreteScheduler } from "@edmkit/diffusers";
import * as kdiffusion from "@edmkit/k-diffusion";
import { getSigmasKarras, sampleHeun } from "@edmkit/k-diffusion";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OnnxDenoiser } from "../src/index.js";
import * as entry from "../src/transformers.js";
import {
  fromTransformersTensor,
  loadTransformers,
  toTransformersTensor,
  TransformersDenoiser,
  writeTransformersModelFolder,
} from "../src/transformers.js";

const pkg = fileURLToPath(new URL("../", import.meta.url));
const repo = resolve(pkg, "../..");
const models = join(repo, "fixtures/models");
const sidecarOf = (name: string) => JSON.parse(readFileSync(join(models, `${name}.json`), "utf8"));

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "edmkit-transformers-test-"));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** max |a - b| / max(1, |b|) */
function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

/** Deterministic test points: x spread over [-4, 4]^2, sigma over 0 .. 80 (log-spaced). */
function points(n: number): { x: Tensor; sigma: Float64Array } {
  const g = new TorchGenerator(7).randn([n, 2], "float64");
  const x = tensor(
    Float64Array.from(g.data, (v) => 2 * v),
    [n, 2],
  );
  const sigma = Float64Array.from({ length: n }, (_, i) =>
    i === 0 ? 0 : 0.002 * (80 / 0.002) ** (i / (n - 1)),
  );
  return { x, sigma };
}

describe("writeTransformersModelFolder", () => {
  it("lays out config.json (model_type + the edmkit sidecar) and onnx/model.onnx", () => {
    const f = writeTransformersModelFolder(join(tmp, "layout"), join(models, "gmm2d-ring8.onnx"));
    expect(f.dir).toBe(join(tmp, "layout"));
    expect(readFileSync(f.modelPath)).toEqual(readFileSync(join(models, "gmm2d-ring8.onnx")));
    expect(f.modelPath).toBe(join(tmp, "layout/onnx/model.onnx"));
    const config = JSON.parse(readFileSync(join(tmp, "layout/config.json"), "utf8"));
    expect(config).toEqual(f.config);
    expect(config.model_type).toBe("edmkit-denoiser");
    const sc = sidecarOf("gmm2d-ring8");
    expect(config.edmkit).toEqual({ ...sc, file: "onnx/model.onnx" });
  });

  it("without a sidecar, describes the graph from its signature; modelType and bytes input", () => {
    const bytes = readFileSync(join(models, "gmm2d-ring8-discrete-eps.onnx"));
    const f = writeTransformersModelFolder(join(tmp, "nosidecar"), new Uint8Array(bytes), {
      parameterization: "discrete-eps",
      modelType: "my-unet",
    });
    expect(f.config.model_type).toBe("my-unet");
    expect(f.config.edmkit).toEqual({
      kind: "onnx",
      file: "onnx/model.onnx",
      parameterization: "discrete-eps",
      dtype: "float32",
      inputs: [
        { name: "sample", shape: ["batch", 2] },
        { name: "timestep", shape: ["batch"] },
      ],
      outputs: [{ name: "eps", shape: ["batch", 2] }],
    });
  });

  it("refuses a graph it cannot describe, and bad arguments, with the reason", () => {
    const path = join(models, "gmm2d-ring8-discrete-eps.onnx");
    expect(() => writeTransformersModelFolder(join(tmp, "refused"), path, { sidecar: false })).toThrow(
      /^writeTransformersModelFolder: .*gmm2d-ring8-discrete-eps\.onnx: cannot tell what the model computes: .*inputs are "sample", "timestep"/,
    );
    expect(() =>
      writeTransformersModelFolder(join(tmp, "refused"), path, { parameterization: "denoiser" }),
    ).toThrow(
      /options\.parameterization "denoiser" contradicts .*gmm2d-ring8-discrete-eps\.json \("discrete-eps"\)/,
    );
    expect(() => writeTransformersModelFolder(join(tmp, "refused"), join(tmp, "missing.onnx"))).toThrow(
      /^writeTransformersModelFolder: cannot read model .*missing\.onnx \(ENOENT\)/,
    );
    expect(() => writeTransformersModelFolder(join(tmp, "refused"), new Uint8Array([1, 2, 3]))).toThrow(
      /^writeTransformersModelFolder: model bytes is not an ONNX model/,
    );
    expect(existsSync(join(tmp, "refused"))).toBe(false);
  });
});

describe("TransformersDenoiser (gmm2d-ring8, float32 graph)", () => {
  let model: TransformersDenoiser;
  let onnx: OnnxDenoiser;
  let exact: GaussianMixture;
  const fetchCalls: unknown[] = [];

  beforeAll(async () => {
    writeTransformersModelFolder(join(tmp, "models/ring8"), join(models, "gmm2d-ring8.onnx"));
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((...args: unknown[]) => {
      fetchCalls.push(args[0]);
      return Promise.reject(new Error("no network in this test"));
    }) as typeof fetch;
    try {
      model = await TransformersDenoiser.fromPretrained("ring8", { localModelPath: join(tmp, "models") });
    } finally {
      globalThis.fetch = realFetch;
    }
    onnx = await OnnxDenoiser.load(join(models, "gmm2d-ring8.onnx"));
    exact = new GaussianMixture(sidecarOf("gmm2d-ring8").denoiser as GmmSpec);
  });
  afterAll(async () => {
    await model?.dispose();
    await onnx?.release();
  });

  it("loads offline from the folder, with what it sets on transformers.js' env", async () => {
    const tf = await loadTransformers();
    expect(fetchCalls).toEqual([]);
    expect(tf.env.allowRemoteModels).toBe(false);
    expect(tf.env.allowLocalModels).toBe(true);
    expect(tf.env.localModelPath).toBe(join(tmp, "models"));
    expect(model.model).toBeInstanceOf(tf.PreTrainedModel);
    expect(model.folder).toBe(join(tmp, "models/ring8"));
    expect(model.modelFile).toBe(join(tmp, "models/ring8/onnx/model.onnx"));
    expect(model.parameterization).toBe("denoiser");
    expect(model.dtype).toBe("float32");
    expect(model.inputNames).toEqual(["x", "sigma"]);
    expect(model.outputName).toBe("denoised");
    expect(model.rowShape).toEqual([2]);
  });

  it("D(x; sigma) equals core's exact float64 mixture to float32 accuracy", async () => {
    const { x, sigma } = points(64);
    const d = await model.denoise(x, sigma);
    expect(d.dtype).toBe("float64");
    expect(d.shape).toEqual([64, 2]);
    const ref = exact.denoiseSync(x, sigma);
    expect(maxRelErr(d.data, ref.data)).toBeLessThan(1e-5);
    // and is not trivially x: the points are spread over sigma, so D moves most of them
    expect(maxRelErr(d.data, x.data)).toBeGreaterThan(0.5);
  });

  it("equals the same graph through OnnxDenoiser bit for bit (float64 and float32 inputs, out)", async () => {
    const { x, sigma } = points(32);
    expect(Array.from((await model.denoise(x, sigma)).data)).toEqual(
      Array.from((await onnx.denoise(x, sigma)).data),
    );
    const x32 = tensor(Float32Array.from(x.data), x.shape);
    const a = await model.denoise(x32, sigma);
    expect(a.dtype).toBe("float32");
    expect(Array.from(a.data)).toEqual(Array.from((await onnx.denoise(x32, sigma)).data));
    const out = tensor(new Float64Array(64), [32, 2]);
    expect(await model.denoise(x32, sigma, out)).toBe(out);
    expect(Array.from(out.data)).toEqual(Array.from(a.data));
  });

  it("rounds float64 inputs to float32 on the way in", async () => {
    const x = tensor([1 + 2 ** -30, -0.5], [1, 2]); // 1 + 2^-30 rounds to 1 in float32
    const rounded = tensor([1, -0.5], [1, 2]);
    const s = new Float64Array([0.3 + 1e-12]);
    expect(Array.from((await model.denoise(x, s)).data)).toEqual(
      Array.from((await model.denoise(rounded, new Float64Array([Math.fround(0.3)]))).data),
    );
  });

  it("k-diffusion's sample_heun through it matches the exact TypeScript run and OnnxDenoiser's", async () => {
    const sigmas = getSigmasKarras(18, 0.002, 80);
    const x = new TorchGenerator(0).randn([64, 2], "float64");
    for (let i = 0; i < x.data.length; i++) x.data[i] *= sigmas[0];
    let calls = 0;
    const viaTransformers = await sampleHeun(model, x, sigmas, {
      observer: { onModelCall: () => void calls++ },
    });
    const viaExact = await sampleHeun(exact, x, sigmas);
    const viaOnnx = await sampleHeun(onnx, x, sigmas);
    expect(calls).toBe(2 * 18 - 1); // Heun: two calls per step, one for the last (into sigma = 0)
    expect(maxRelErr(viaTransformers.data, viaExact.data)).toBeLessThan(1e-5);
    expect(Array.from(viaTransformers.data)).toEqual(Array.from(viaOnnx.data));
    for (let b = 0; b < 64; b++) {
      expect(
        Math.abs(Math.hypot(viaTransformers.data[2 * b], viaTransformers.data[2 * b + 1]) - 2),
      ).toBeLessThan(0.75);
    }
  });

  it("checks calls: predict on a denoiser, wrong shapes, wrong row counts", async () => {
    await expect(model.predict(tensor([0, 0], [1, 2]), new Float64Array([1]))).rejects.toThrow(
      /^TransformersDenoiser\.predict: .*ring8 holds a "denoiser" model/,
    );
    await expect(model.denoise(tensor([0, 0, 0], [1, 3]), new Float64Array([1]))).rejects.toThrow(
      /^TransformersDenoiser\.denoise: x has shape \[1, 3\], expected \[batch, 2\]/,
    );
    await expect(model.denoise(tensor([0, 0], [1, 2]), new Float64Array([1, 2]))).rejects.toThrow(
      /2 sigma values for 1 rows of x/,
    );
  });
});

describe("TransformersDenoiser on other models", () => {
  it("a float64 graph (gmm2d-ring8-f64) is exact to float64 round-off", async () => {
    const f = writeTransformersModelFolder(join(tmp, "ring8-f64"), join(models, "gmm2d-ring8-f64.onnx"));
    const m = await TransformersDenoiser.fromPretrained(f.dir);
    try {
      expect(m.dtype).toBe("float64");
      const { x, sigma } = points(64);
      const ref = new GaussianMixture(sidecarOf("gmm2d-ring8-f64").denoiser as GmmSpec).denoiseSync(x, sigma);
      expect(maxRelErr((await m.denoise(x, sigma)).data, ref.data)).toBeLessThan(1e-12);
    } finally {
      await m.dispose();
    }
    await expect(m.denoise(tensor([0, 0], [1, 2]), new Float64Array([1]))).rejects.toThrow(/was disposed/);
  });

  it("discrete-eps through diffusers' EulerDiscreteScheduler + denoisingLoop matches the exact model and OnnxDenoiser", async () => {
    const f = writeTransformersModelFolder(
      join(tmp, "ring8-eps"),
      join(models, "gmm2d-ring8-discrete-eps.onnx"),
    );
    const unet = await TransformersDenoiser.fromPretrained(relative(process.cwd(), f.dir)); // a relative folder path
    const onnx = await OnnxDenoiser.load(join(models, "gmm2d-ring8-discrete-eps.onnx"));
    try {
      expect(unet.parameterization).toBe("discrete-eps");
      expect(unet.prediction).toBe("epsilon");
      expect(unet.inputNames).toEqual(["sample", "timestep"]);
      await expect(unet.denoise(tensor([0, 0], [1, 2]), new Float64Array([1]))).rejects.toThrow(
        /holds a "discrete-eps" model/,
      );
      const spec = sidecarOf("gmm2d-ring8-discrete-eps").denoiser;
      const exact = new DiscreteGmmModel({
        gmm: spec.gmm,
        alphasCumprod: spec.alphas_cumprod,
        prediction: "epsilon",
      });
      const run = async (m: typeof unet | typeof exact | typeof onnx) => {
        const scheduler = new EulerDiscreteScheduler({
          num_train_timesteps: 1000,
          beta_schedule: "scaled_linear",
          beta_start: 0.00085,
          beta_end: 0.012,
        });
        scheduler.setTimesteps(20);
        const latents = new TorchGenerator(3).randn([32, 2], "float32");
        return denoisingLoop(scheduler, m, latents);
      };
      const [a, b, c] = [await run(unet), await run(exact), await run(onnx)];
      expect(a.dtype).toBe("float32");
      expect(Array.from(a.data)).toEqual(Array.from(c.data));
      expect(maxRelErr(a.data, b.data)).toBeLessThan(1e-4);
      // single calls: eps equals the exact model's to float32 accuracy
      const s = tensor([0.1, 0.2, 1.5, -0.3], [2, 2]);
      const t = new Float64Array([999, 10.5]);
      expect(maxRelErr((await unet.predict(s, t)).data, exact.predictSync(s, t).data)).toBeLessThan(1e-5);
    } finally {
      await unet.dispose();
      await onnx.release();
    }
  });
});

describe("load errors name the folder and what is missing", () => {
  const fn = "TransformersDenoiser.fromPretrained";
  it("missing folder", async () => {
    await expect(TransformersDenoiser.fromPretrained("nowhere", { localModelPath: tmp })).rejects.toThrow(
      `${fn}: model folder ${join(tmp, "nowhere")} ("nowhere" under localModelPath ${tmp}) does not exist`,
    );
    await expect(TransformersDenoiser.fromPretrained(join(tmp, "nowhere2"))).rejects.toThrow(
      `model folder ${join(tmp, "nowhere2")} does not exist`,
    );
  });

  it("no config.json, bad config.json, no onnx/model.onnx, a file instead of a folder", async () => {
    const a = join(tmp, "noconfig");
    mkdirSync(join(a, "onnx"), { recursive: true });
    copyFileSync(join(models, "gmm2d-ring8.onnx"), join(a, "onnx/model.onnx"));
    await expect(TransformersDenoiser.fromPretrained(a)).rejects.toThrow(
      `${fn}: model folder ${a} has no config.json`,
    );
    writeFileSync(join(a, "config.json"), "[1]");
    await expect(TransformersDenoiser.fromPretrained(a)).rejects.toThrow(
      `${fn}: ${join(a, "config.json")} is not a valid config (not a JSON object)`,
    );

    const b = join(tmp, "nograph");
    mkdirSync(b, { recursive: true });
    writeFileSync(join(b, "config.json"), JSON.stringify({ model_type: "edmkit-denoiser" }));
    await expect(TransformersDenoiser.fromPretrained(b)).rejects.toThrow(
      `${fn}: model folder ${b} has no onnx/model.onnx (the graph transformers.js loads for dtype "fp32")`,
    );
    await expect(TransformersDenoiser.fromPretrained(b, { dtype: "q8" })).rejects.toThrow(
      `has no onnx/model_quantized.onnx`,
    );
    await expect(TransformersDenoiser.fromPretrained(join(b, "config.json"))).rejects.toThrow(
      /is not a folder/,
    );
  });

  it("wrong input names, contradicting options, a bad sidecar in config.json", async () => {
    // a folder made by hand: config.json with only a model_type (the graph decides)
    const c = join(tmp, "plain");
    mkdirSync(join(c, "onnx"), { recursive: true });
    copyFileSync(join(models, "gmm2d-ring8.onnx"), join(c, "onnx/model.onnx"));
    writeFileSync(join(c, "config.json"), JSON.stringify({ model_type: "edmkit-denoiser" }));
    const plain = await TransformersDenoiser.fromPretrained(c); // inputs x, sigma: a denoiser
    expect(plain.parameterization).toBe("denoiser");
    expect(plain.sidecar).toBeUndefined();
    await plain.dispose();
    await expect(TransformersDenoiser.fromPretrained(c, { inputNames: ["latent", "sigma"] })).rejects.toThrow(
      `${fn}: ${join(c, "onnx/model.onnx")}: no input named "latent" (expected by options); the model's inputs are "x" float32 [batch, 2], "sigma" float32 [batch]`,
    );
    await expect(
      TransformersDenoiser.fromPretrained(c, { parameterization: "discrete-eps" }),
    ).rejects.toThrow(/no input named "sample"/);

    const f = writeTransformersModelFolder(join(tmp, "withsidecar"), join(models, "gmm2d-ring8.onnx"));
    await expect(TransformersDenoiser.fromPretrained(f.dir, { outputName: "out" })).rejects.toThrow(
      /options\.outputName "out" contradicts .*config\.json \("edmkit"\) \("denoised"\)/,
    );
    writeFileSync(
      f.configPath,
      JSON.stringify({ model_type: "x", edmkit: { kind: "onnx", parameterization: "magic" } }),
    );
    await expect(TransformersDenoiser.fromPretrained(f.dir)).rejects.toThrow(
      /config\.json key "edmkit": field `parameterization`/,
    );
    await expect(
      TransformersDenoiser.fromPretrained(f.dir, { parameterization: "magic" as never }),
    ).rejects.toThrow(/options\.parameterization must be one of denoiser, discrete-eps/);
  });
});

describe("tensor conversions", () => {
  it("transformers.js -> core: dtype, dims and values, sharing the typed array", async () => {
    const { Tensor } = await loadTransformers();
    for (const [type, Ctor] of [
      ["float32", Float32Array],
      ["float64", Float64Array],
    ] as const) {
      const data = Ctor.from([0.1, -2, 3.5, 1e-3, 7, -0.25]);
      const t = new Tensor(type, data, [3, 2]);
      const c = fromTransformersTensor(t);
      expect(c.dtype).toBe(type);
      expect(c.shape).toEqual([3, 2]);
      expect(c.data).toBe(t.data); // no copy
      expect(Array.from(c.data)).toEqual(Array.from(data));
      const copied = fromTransformersTensor(t, { copy: true });
      expect(copied.data).not.toBe(t.data);
      expect(Array.from(copied.data)).toEqual(Array.from(data));
    }
    expect(() => fromTransformersTensor(new Tensor("int64", new BigInt64Array([1n]), [1]))).toThrow(
      'fromTransformersTensor: t has type "int64", expected "float32" or "float64"',
    );
    expect(() =>
      fromTransformersTensor({ type: "float32", data: new Float32Array(3), dims: [2, 2] }),
    ).toThrow("fromTransformersTensor: t has 3 values but dims [2, 2]");
  });

  it("core -> transformers.js: type, dims and values, sharing the typed array; round trip", async () => {
    const { Tensor } = await loadTransformers();
    for (const dtype of ["float32", "float64"] as const) {
      const c = tensor([1.5, -0.1, 2, 4, 1e-7, 9], [2, 1, 3], dtype);
      const t = await toTransformersTensor(c);
      expect(t).toBeInstanceOf(Tensor);
      expect(t.type).toBe(dtype);
      expect(t.dims).toEqual([2, 1, 3]);
      expect(t.data).toBe(c.data); // no copy
      const back = fromTransformersTensor(t);
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual(c.shape);
      expect(Array.from(back.data)).toEqual(Array.from(c.data));
      const copied = await toTransformersTensor(c, { copy: true });
      expect(copied.data).not.toBe(c.data);
      expect(Array.from(copied.data as Float64Array)).toEqual(Array.from(c.data));
    }
    await expect(
      toTransformersTensor({ data: new Float32Array(3), shape: [2], dtype: "float32" }),
    ).rejects.toThrow("toTransformersTensor: t has 3 values but shape [2]");
  });
});

/** `import { a, b } from "spec";` lines of a code block, and the code after them. */
function splitImports(code: string): { imports: { names: string[]; spec: string }[]; body: string } {
  const lines = code.split("\n");
  const imports: { names: string[]; spec: string }[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^import \{([^}]+)\} from "([^"]+)";$/.exec(lines[i]);
    if (!m) break;
    imports.push({
      names: m[1]
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      spec: m[2],
    });
  }
  return { imports, body: lines.slice(i).join("\n") };
}

describe("TRANSFORMERS.md", () => {
  const md = readFileSync(join(pkg, "TRANSFORMERS.md"), "utf8");
  const blocks = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const modules: Record<string, object> = {
    "node:fs": nodeFs,
    "node:os": nodeOs,
    "node:path": nodePath,
    "@edmkit/core": core,
    "@edmkit/k-diffusion": kdiffusion,
    "@edmkit/diffusers": diffusers,
    "@edmkit/onnx/transformers": entry,
  };

  /** Run a block as written (imports bound to the modules above, cwd = repository root). */
  async function runBlock(code: string): Promise<{ vars: Record<string, unknown>; logs: string[] }> {
    const { imports, body } = splitImports(code);
    const names: string[] = [],
      values: unknown[] = [];
    for (const { names: ns, spec } of imports) {
      const mod = modules[spec] as Record<string, unknown> | undefined;
      if (!mod) throw new Error(`TRANSFORMERS.md imports ${spec}, which this test does not provide`);
      for (const n of ns) {
        expect(mod[n], `${spec} exports ${n}`).toBeDefined();
        names.push(n);
        values.push(mod[n]);
      }
    }
    const declared = [...body.matchAll(/^const (\w+)/gm)].map((m) => m[1]);
    const logs: string[] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...a: unknown[]) => Promise<Record<string, unknown>>;
    const run = new AsyncFunction(...names, "console", `${body}\nreturn { ${declared.join(", ")} };`);
    const cwd = process.cwd();
    process.chdir(repo);
    try {
      const vars = await run(...values, { log: (...a: unknown[]) => logs.push(a.join(" ")) });
      return { vars, logs };
    } finally {
      process.chdir(cwd);
    }
  }

  it("has the two examples", () => {
    expect(blocks.length).toBe(2);
  });

  it("example 1: a local model folder + k-diffusion's sample_heun samples the ring, offline", async () => {
    const { vars, logs } = await runBlock(blocks[0]);
    try {
      const samples = vars.samples as Tensor;
      const x = new TorchGenerator(0).randn([64, 2], "float64");
      const sigmas = getSigmasKarras(18, 0.002, 80);
      for (let i = 0; i < x.data.length; i++) x.data[i] *= sigmas[0];
      const exact = await sampleHeun(
        new GaussianMixture(sidecarOf("gmm2d-ring8").denoiser as GmmSpec),
        x,
        sigmas,
      );
      expect(maxRelErr(samples.data, exact.data)).toBeLessThan(1e-5);
      const radii = vars.radii as number[];
      expect(radii.length).toBe(64);
      for (const r of radii) expect(Math.abs(r - 2)).toBeLessThan(0.75);
      expect(logs).toEqual([`radius ${Math.min(...radii).toFixed(2)} .. ${Math.max(...radii).toFixed(2)}`]);
      expect(statSync(join(vars.models as string, "ring8/onnx/model.onnx")).isFile()).toBe(true);
    } finally {
      rmSync(vars.models as string, { recursive: true, force: true });
    }
  });

  it("example 2: a discrete-eps folder through diffusers' EulerDiscreteScheduler", async () => {
    const { vars } = await runBlock(blocks[1]);
    try {
      const out = vars.out as Tensor;
      const latents = vars.latents as Tensor;
      expect((vars.unet as TransformersDenoiser).prediction).toBe("epsilon");
      const spec = sidecarOf("gmm2d-ring8-discrete-eps").denoiser;
      const scheduler = new EulerDiscreteScheduler({
        beta_schedule: "scaled_linear",
        beta_start: 0.00085,
        beta_end: 0.012,
      });
      scheduler.setTimesteps(20);
      const exact = await denoisingLoop(
        scheduler,
        new DiscreteGmmModel({ gmm: spec.gmm, alphasCumprod: spec.alphas_cumprod }),
        latents,
      );
      expect(out.shape).toEqual([64, 2]);
      expect(maxRelErr(out.data, exact.data)).toBeLessThan(1e-4);
    } finally {
      rmSync(dirname(vars.dir as string), { recursive: true, force: true });
    }
  });
});

describe("isolation: only this entry point touches @huggingface/transformers", () => {
  const packagesDir = join(repo, "packages");
  const mine = (file: string) =>
    file === join(pkg, "src/transformers.ts") ||
    file.startsWith(join(pkg, "src/transformers") + nodePath.sep);
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return sources(p);
      return /\.(c|m)?(t|j)sx?$/.test(e.name) ? [p] : [];
    });
  const files = readdirSync(packagesDir)
    .filter((d) => existsSync(join(packagesDir, d, "src")))
    .flatMap((d) => sources(join(packagesDir, d, "src")));
  const specifiers = (text: string) =>
    [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"']+)["']/g)].map(
      (m) => m[1],
    );

  it("no other source file of packages/*/src imports it, or this entry point", () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter(mine).length).toBeGreaterThanOrEqual(5);
    const offenders: string[] = [];
    for (const file of files.filter((f) => !mine(f))) {
      const text = readFileSync(file, "utf8");
      if (text.includes("@huggingface/transformers"))
        offenders.push(`${relative(repo, file)} mentions @huggingface/transformers`);
      for (const spec of specifiers(text)) {
        const target = spec.startsWith(".") ? resolve(dirname(file), spec).replace(/\.js$/, ".ts") : "";
        if (
          spec === "@edmkit/onnx/transformers" ||
          (target && (mine(target) || mine(`${target}.ts`) || target === join(pkg, "src/transformers")))
        ) {
          offenders.push(`${relative(repo, file)} imports ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it("this entry point loads it only by dynamic import (type imports aside)", () => {
    let dynamic = 0;
    for (const file of files.filter(mine)) {
      const text = readFileSync(file, "utf8");
      const where = relative(repo, file);
      for (const m of text.matchAll(
        /\b(?:import|export)\s+([^;]*?)\s*from\s*["']@huggingface\/transformers["']/g,
      )) {
        expect(m[1].startsWith("type "), `${where}: ${m[0]}`).toBe(true); // import type / export type only
      }
      expect(
        /\bimport\s*["']@huggingface\/transformers["']|\brequire\s*\(\s*["']@huggingface/.test(text),
        where,
      ).toBe(false);
      dynamic += [...text.matchAll(/(?<!typeof )\bimport\("@huggingface\/transformers"\)/g)].length;
    }
    expect(dynamic).toBe(1); // the one in loadTransformers()
  });
});
