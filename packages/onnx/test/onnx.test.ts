/**
 * OnnxDenoiser on the shipped toy models (fixtures/models): every model against the exact
 * float64 mixture denoiser of core, the recorded model calls of the k-diffusion and EDM
 * reference fixtures, the MLPs against their sidecar validation figures, signature and
 * call errors, buffers and dtypes at the boundary, and device selection.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  DiscreteGmmModel,
  GaussianMixture,
  type GmmSpec,
  isScheduleFixture,
  modelFromSpec,
  type RunFixture,
  tensor,
} from "@edmkit/core";
import { loadFixtures } from "@edmkit/core/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkDeviceAvailable,
  DataType,
  discreteGmmModel,
  GraphBuilder,
  gmmDenoiserModel,
  type ModelMessage,
  OnnxDenoiser,
  onnxDenoiserFromSpec,
  OnnxDeviceError,
  type OnnxSidecar,
  probeDevice,
  serializeModel,
  signatureFromModelBytes,
  signatureFromSession,
  toyModelNames,
} from "../src/index.js";

const modelsDir = fileURLToPath(new URL("../../../fixtures/models/", import.meta.url));
const referenceDir = fileURLToPath(new URL("../../../fixtures/reference/", import.meta.url));
const modelPath = (name: string) => `${modelsDir}${name}.onnx`;
const sidecarOf = (name: string): OnnxSidecar => JSON.parse(readFileSync(`${modelsDir}${name}.json`, "utf8"));

/** Deterministic uniforms (mulberry32) and normals (Box-Muller) for test inputs. */
function uniforms(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normals(u: () => number, n: number): Float64Array {
  const out = new Float64Array(n + (n % 2));
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u())),
      a = 2 * Math.PI * u();
    out[i] = r * Math.cos(a);
    out[i + 1] = r * Math.sin(a);
  }
  return out.subarray(0, n);
}

/** max over i of |a - b| / max(1, |b|) */
function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= m)) m = d;
  }
  return m;
}

const exactNames = toyModelNames.filter((n) => !n.startsWith("mlp"));
const loaded = new Map<string, OnnxDenoiser>();
beforeAll(async () => {
  for (const name of toyModelNames)
    loaded.set(name, await OnnxDenoiser.load(modelPath(name), { intraOpNumThreads: 1 }));
});
afterAll(async () => {
  for (const d of loaded.values()) await d.release();
});
const model = (name: string) => loaded.get(name)!;

describe("loading the shipped models", () => {
  it.each(toyModelNames)("%s: signature, parameterization and dtype follow the sidecar", (name) => {
    const d = model(name),
      sc = sidecarOf(name);
    expect(d.parameterization).toBe(sc.parameterization);
    expect(d.dtype).toBe(sc.dtype);
    expect(d.inputNames).toEqual(sc.inputs.map((i) => i.name));
    expect(d.outputName).toBe(sc.outputs[0].name);
    expect(d.signatureSource).toBe("session");
    expect(d.rank).toBe(2);
    const dim = name.includes("1d") ? 1 : 2;
    expect(d.rowShape).toEqual([dim]);
    // the protobuf fallback reads the same signature as onnxruntime's metadata
    expect(signatureFromModelBytes(readFileSync(modelPath(name)))).toEqual(d.signature);
    expect(d.signature.inputs[0]).toEqual({ name: sc.inputs[0].name, type: sc.dtype, shape: ["batch", dim] });
    expect(d.prediction).toBe(sc.parameterization === "discrete-eps" ? "epsilon" : "sample");
  });
});

describe("exact models against core's float64 mixture denoisers", () => {
  // float32 graphs see float32-rounded inputs; the reference gets the same rounded values
  const tol = (name: string) => (name.endsWith("-f64") ? 1e-12 : name.includes("discrete") ? 2e-5 : 5e-6);
  it.each(exactNames)("%s on held-out inputs (batch 104, sigma 0 .. 200, t -3 .. 1000)", async (name) => {
    const d = model(name);
    const dim = d.rowShape[0]!,
      B = 104,
      u = uniforms(11);
    const x = new Float64Array(B * dim).map(() => (u() - 0.5) * 8);
    const discrete = d.parameterization !== "denoiser";
    const edge = discrete ? [0, 0.5, 998.5, 999, 1000, -3, 12.25] : [0, 1e-4, 200, 80, 0.002];
    const c = new Float64Array(B).map(
      (_, i) => edge[i] ?? (discrete ? u() * 999 : Math.exp(Math.log(0.002) + u() * Math.log(80 / 0.002))),
    );
    const asGraph = (a: Float64Array) =>
      d.dtype === "float32" ? Float64Array.from(Float32Array.from(a)) : a;
    const xs = tensor(asGraph(x), [B, dim]),
      cs = asGraph(c);
    const ref = modelFromSpec(sidecarOf(name).denoiser as never);
    const expected =
      ref instanceof DiscreteGmmModel
        ? ref.predictSync(xs, cs)
        : (ref as GaussianMixture).denoiseSync(xs, cs);
    const got = discrete ? await d.predict(xs, cs) : await d.denoise(xs, cs);
    expect(got.dtype).toBe("float64");
    expect(got.shape).toEqual([B, dim]);
    const err = maxRelErr(got.data, expected.data);
    expect(err).toBeLessThanOrEqual(tol(name));
    if (d.dtype === "float32") expect(err).toBeGreaterThan(0); // it really ran in float32
  });
});

describe("recorded model calls of the k-diffusion and EDM reference fixtures", () => {
  const fixtures = loadFixtures(`${referenceDir}k-diffusion`, `${referenceDir}edm`)
    .map((l) => l.fixture)
    .filter((f): f is RunFixture => !isScheduleFixture(f));
  const key = (g: GmmSpec) => JSON.stringify([g.dim, g.weights, g.means, g.stds]);
  const ringTable = JSON.stringify(
    (sidecarOf("gmm2d-ring8-discrete-eps-f64").denoiser as { alphas_cumprod: number[] }).alphas_cumprod,
  );
  /** The shipped models whose graph implements a fixture's denoiser (float32 and float64 file). */
  function modelsFor(f: RunFixture): string[] {
    const den = f.denoiser;
    if (den.kind === "gmm") {
      for (const base of ["gmm1d-bimodal", "gmm2d-ring8"]) {
        if (key(sidecarOf(base).denoiser as GmmSpec) === key(den)) return [base, `${base}-f64`];
      }
    } else if (
      den.kind === "discrete-eps" &&
      den.gmm &&
      key(den.gmm) === key(sidecarOf("gmm2d-ring8").denoiser as GmmSpec) &&
      JSON.stringify(den.train) === JSON.stringify(sdTrain) &&
      (den.prediction ?? "epsilon") === "epsilon"
    ) {
      // SD scaled_linear schedule on the ring; the f32 fixture holds a float32 (CompVis-style) table
      return ["gmm2d-ring8-discrete-eps", "gmm2d-ring8-discrete-eps-f64"];
    }
    return [];
  }
  const sdTrain = (sidecarOf("gmm2d-ring8-discrete-eps-f64").denoiser as { train: unknown }).train;
  const cases = fixtures.flatMap((f) => modelsFor(f).map((m) => ({ f, m })));
  /** README "Checks": float64 files <= 3e-15 on float64 fixtures with the same table, float32
   *  files <= 1.4e-6 (gmm) / 5.4e-6 (discrete-eps, which also carries the table difference). */
  const tol = (m: string, f: RunFixture) => {
    const sameTable =
      f.denoiser.kind === "gmm" ||
      JSON.stringify((f.denoiser as { alphas_cumprod: number[] }).alphas_cumprod) === ringTable;
    if (m.endsWith("-f64") && f.dtype === "float64" && sameTable) return 1e-12;
    return m.includes("discrete") ? 2e-5 : 5e-6;
  };

  it("covers the fixtures README's checks name (1,257 gmm calls in 76 fixtures; 36 discrete-eps calls in 3)", () => {
    const gmm = cases.filter((c) => c.f.denoiser.kind === "gmm" && !c.m.endsWith("-f64"));
    const disc = cases.filter((c) => c.f.denoiser.kind === "discrete-eps" && !c.m.endsWith("-f64"));
    expect(gmm.length).toBe(76);
    expect(gmm.reduce((a, c) => a + c.f.model_calls.length, 0)).toBe(1257);
    expect(disc.length).toBe(3);
    expect(disc.reduce((a, c) => a + c.f.model_calls.length, 0)).toBe(36);
  });

  it.each(cases.map((c) => [c.f.id, c.m, c] as const))("%s through %s", async (_id, name, { f }) => {
    const d = model(name);
    const B = f.shape[0];
    const per = new Float64Array(B);
    let worst = 0,
      worstCall = -1;
    for (let k = 0; k < f.model_calls.length; k++) {
      const call = f.model_calls[k];
      per.fill(f.denoiser.kind === "gmm" ? call.sigma! : call.t!);
      const out = await d.run(tensor(Float64Array.from(call.x), f.shape), per);
      const e = maxRelErr(out.data, call.out);
      if (e > worst) {
        worst = e;
        worstCall = k;
      }
    }
    expect(worst, `worst at model_calls[${worstCall}]`).toBeLessThanOrEqual(tol(name, f));
  });
});

describe("EDM MLPs against their sidecar validation", () => {
  it.each(["mlp1d-bimodal-edm", "mlp2d-ring8-edm"])(
    "%s: RMSE vs the exact denoiser per sigma (8,192 draws)",
    async (name) => {
      const d = model(name);
      const sc = sidecarOf(name) as OnnxSidecar & { trained_on: GmmSpec };
      expect(d.parameterization).toBe("denoiser");
      const g = new GaussianMixture(sc.trained_on);
      const N = 8192,
        dim = g.dim,
        u = uniforms(7);
      const ratios: number[] = [];
      for (const row of sc.validation!) {
        const y = g.sample(
          N,
          new Float64Array(N).map(() => u()),
          normals(u, N * dim),
        );
        const n = normals(u, N * dim);
        const x = tensor(
          y.data.map((v, i) => v + row.sigma * n[i]),
          [N, dim],
        );
        const sig = new Float64Array(N).fill(row.sigma);
        const got = await d.denoise(x, sig),
          exact = g.denoiseSync(x, sig);
        let se = 0;
        for (let i = 0; i < N * dim; i++) se += (got.data[i] - exact.data[i]) ** 2;
        ratios.push(Math.sqrt(se / N) / row.rmse_vs_exact);
      }
      // sampling noise of 8,192 draws moves the figures by a few percent
      for (const r of ratios) {
        expect(r).toBeGreaterThan(0.8);
        expect(r).toBeLessThan(1.25);
      }
      expect(ratios.length).toBe(12);
    },
  );
});

/** A trivial graph with chosen inputs: output = x (Identity); other inputs are unused. */
function identityModel(
  inputs: { name: string; shape: (number | string)[]; type?: number }[],
  output: { name: string; shape: (number | string)[] } = { name: "denoised", shape: ["batch", 2] },
  from = inputs[0].name,
): Uint8Array {
  const g = new GraphBuilder("identity", "float32");
  for (const i of inputs) g.input(i.name, i.shape, i.type ?? DataType.FLOAT);
  const out = g.op("Identity", [from]);
  const t = inputs.find((i) => i.name === from)?.type ?? DataType.FLOAT;
  g.output(out, output.name, output.shape, t);
  return serializeModel(g.model());
}

describe("model validation errors", () => {
  const ring = sidecarOf("gmm2d-ring8");
  const load = (bytes: Uint8Array, opts: Parameters<typeof OnnxDenoiser.fromBytes>[1] = {}) =>
    OnnxDenoiser.fromBytes(bytes, { name: "gmm2d-ring8.onnx", sidecar: ring, ...opts });

  it("wrong rank of sigma", async () => {
    const bytes = identityModel([
      { name: "x", shape: ["batch", 2] },
      { name: "sigma", shape: ["batch", 1] },
    ]);
    await expect(load(bytes)).rejects.toThrow(
      'gmm2d-ring8.onnx: input "sigma" has rank 2 ([batch, 1]), expected rank 1 ([batch])',
    );
  });
  it("wrong rank of x", async () => {
    const bytes = identityModel(
      [
        { name: "x", shape: ["batch", 1, 2] },
        { name: "sigma", shape: ["batch"] },
      ],
      { name: "denoised", shape: ["batch", 1, 2] },
    );
    await expect(load(bytes)).rejects.toThrow(
      'input "x" has rank 3 ([batch, 1, 2]), expected rank 2 ([batch, dim])',
    );
  });
  it("wrong input name", async () => {
    const bytes = identityModel([
      { name: "x", shape: ["batch", 2] },
      { name: "noise_level", shape: ["batch"] },
    ]);
    await expect(load(bytes)).rejects.toThrow(
      'gmm2d-ring8.onnx: no input named "sigma" (expected by gmm2d-ring8.json); the model\'s inputs are "x" float32 [batch, 2], "noise_level" float32 [batch]',
    );
  });
  it("wrong output name", async () => {
    const bytes = identityModel(
      [
        { name: "x", shape: ["batch", 2] },
        { name: "sigma", shape: ["batch"] },
      ],
      { name: "out", shape: ["batch", 2] },
    );
    await expect(load(bytes)).rejects.toThrow(
      'no output named "denoised" (expected by gmm2d-ring8.json); the model\'s outputs are "out" float32 [batch, 2]',
    );
  });
  it("float type other than the sidecar's", async () => {
    const bytes = serializeModel(gmmDenoiserModel(ring.denoiser as GmmSpec, { dtype: "float64" }));
    await expect(load(bytes)).rejects.toThrow(
      'gmm2d-ring8.onnx: input "x" has element type float64, expected float32 (as gmm2d-ring8.json declares)',
    );
  });
  it("mixed float types", async () => {
    const bytes = identityModel([
      { name: "x", shape: ["batch", 2] },
      { name: "sigma", shape: ["batch"], type: DataType.DOUBLE },
    ]);
    await expect(load(bytes, { sidecar: false })).rejects.toThrow(
      'inputs "x" (float32), "sigma" (float64) and output "denoised" (float32) must share one float type',
    );
  });
  it("integer timestep without a sidecar", async () => {
    const bytes = identityModel(
      [
        { name: "sample", shape: ["batch", 2] },
        { name: "timestep", shape: ["batch"], type: DataType.INT64 },
      ],
      { name: "eps", shape: ["batch", 2] },
    );
    await expect(
      OnnxDenoiser.fromBytes(bytes, { name: "unet.onnx", parameterization: "discrete-eps" }),
    ).rejects.toThrow('unet.onnx: input "timestep" has element type int64, expected float32 or float64');
  });
  it("data dimension other than the sidecar's", async () => {
    const bytes = identityModel(
      [
        { name: "x", shape: ["batch", 3] },
        { name: "sigma", shape: ["batch"] },
      ],
      { name: "denoised", shape: ["batch", 3] },
    );
    await expect(load(bytes)).rejects.toThrow(
      'input "x" has 3 coordinates per row ([batch, 3]), expected dim 2 (as gmm2d-ring8.json declares)',
    );
  });
  it("output of another shape than x", async () => {
    const g = new GraphBuilder("bad", "float32");
    const x = g.input("x", ["batch", 2]);
    g.input("sigma", ["batch"]);
    const out = g.op("ReduceSum", [x, g.int64s("axes", [1])], { keepdims: 0 });
    g.output(out, "denoised", ["batch"]);
    await expect(load(serializeModel(g.model()))).rejects.toThrow(
      'output "denoised" has rank 1 ([batch]), expected rank 2 ([batch, dim])',
    );
  });
  it("extra input and fixed batch", async () => {
    const extra = identityModel([
      { name: "x", shape: ["batch", 2] },
      { name: "sigma", shape: ["batch"] },
      { name: "class_labels", shape: ["batch"] },
    ]);
    await expect(load(extra)).rejects.toThrow(
      'has an extra input "class_labels" float32 [batch]; OnnxDenoiser feeds only "x" and "sigma"',
    );
    const fixed = identityModel(
      [
        { name: "x", shape: [4, 2] },
        { name: "sigma", shape: [4] },
      ],
      { name: "denoised", shape: [4, 2] },
    );
    await expect(load(fixed)).rejects.toThrow(
      'input "x" has a fixed batch size 4 ([4, 2]), expected a dynamic batch axis',
    );
  });
  it("no sidecar and no parameterization for a discrete model", async () => {
    const bytes = serializeModel(
      discreteGmmModel({ gmm: ring.denoiser as GmmSpec, alphasCumprod: [0.9, 0.5, 0.1] }),
    );
    await expect(OnnxDenoiser.fromBytes(bytes, { name: "eps.onnx" })).rejects.toThrow(
      'eps.onnx: cannot tell what the model computes: no sidecar and no options.parameterization (one of denoiser, discrete-eps, discrete-v, discrete-sample); its inputs are "sample", "timestep"',
    );
    const ok = await OnnxDenoiser.fromBytes(bytes, { name: "eps.onnx", parameterization: "discrete-eps" });
    expect(ok.prediction).toBe("epsilon");
    expect(ok.inputNames).toEqual(["sample", "timestep"]);
    await ok.release();
  });
  it("options that contradict the sidecar, and a malformed sidecar", async () => {
    await expect(
      OnnxDenoiser.load(modelPath("gmm2d-ring8"), { parameterization: "discrete-eps" }),
    ).rejects.toThrow(
      'gmm2d-ring8.onnx: options.parameterization "discrete-eps" contradicts gmm2d-ring8.json ("denoiser"); pass sidecar: false to ignore the sidecar',
    );
    await expect(
      OnnxDenoiser.load(modelPath("gmm2d-ring8"), {
        sidecar: { ...ring, parameterization: "score" as never },
      }),
    ).rejects.toThrow("gmm2d-ring8.onnx sidecar: field `parameterization`:");
    await expect(
      OnnxDenoiser.load(modelPath("gmm2d-ring8"), { sidecar: { ...ring, inputs: [ring.inputs[0]] } }),
    ).rejects.toThrow("gmm2d-ring8.onnx sidecar: field `inputs`:");
  });
  it("a missing file", async () => {
    await expect(OnnxDenoiser.load(`${modelsDir}nope.onnx`)).rejects.toThrow(
      /^OnnxDenoiser\.load: cannot read .*nope\.onnx \(ENOENT\)$/,
    );
  });
});

describe("calls", () => {
  it("bad call arguments name the function, argument and expectation", async () => {
    const d = model("gmm2d-ring8"),
      e = model("gmm2d-ring8-discrete-eps");
    await expect(d.denoise(tensor(new Float64Array(6), [2, 3]), new Float64Array(2))).rejects.toThrow(
      "OnnxDenoiser.denoise: x has shape [2, 3], expected [batch, 2] (gmm2d-ring8.onnx)",
    );
    await expect(d.denoise(tensor(new Float64Array(4), [4]), new Float64Array(4))).rejects.toThrow(
      "OnnxDenoiser.denoise: x has shape [4], expected rank 2 [batch, 2] (gmm2d-ring8.onnx)",
    );
    await expect(d.denoise(tensor(new Float64Array(4), [2, 2]), new Float64Array(3))).rejects.toThrow(
      "OnnxDenoiser.denoise: 3 sigma values for 2 rows of x, expected one per row",
    );
    await expect(
      d.denoise(
        tensor(new Float64Array(4), [2, 2]),
        new Float64Array(2),
        tensor(new Float64Array(2), [1, 2]),
      ),
    ).rejects.toThrow("OnnxDenoiser.denoise: out has 2 elements (shape [1, 2]), expected 4 (shape [2, 2])");
    await expect(d.predict(tensor(new Float64Array(4), [2, 2]), new Float64Array(2))).rejects.toThrow(
      'OnnxDenoiser.predict: gmm2d-ring8.onnx is a "denoiser" model (D(x; sigma)); call denoise()',
    );
    await expect(e.denoise(tensor(new Float64Array(4), [2, 2]), new Float64Array(2))).rejects.toThrow(
      'OnnxDenoiser.denoise: gmm2d-ring8-discrete-eps.onnx is a "discrete-eps" model ((sample, timestep) -> epsilon); call predict()',
    );
  });

  it("converts dtypes at the boundary and writes into out", async () => {
    const f64 = model("gmm2d-ring8-f64"),
      f32 = model("gmm2d-ring8");
    const g = new GaussianMixture(sidecarOf("gmm2d-ring8").denoiser as GmmSpec);
    const x64 = new Float64Array([1.3, -0.2, 0.01, 2.2, -1.7, -1.1]),
      sig = new Float64Array([0.7, 0.05, 3]);
    // float32 tensor into the float64 graph: widened exactly, result rounded to float32
    const x32 = tensor(Float32Array.from(x64), [3, 2]);
    const r1 = await f64.denoise(x32, sig);
    expect(r1.dtype).toBe("float32");
    const wide = await f64.denoise(tensor(Float64Array.from(x32.data), [3, 2]), sig);
    expect(wide.dtype).toBe("float64");
    expect(Array.from(r1.data)).toEqual(Array.from(wide.data, Math.fround));
    const exact = g.denoiseSync(tensor(Float64Array.from(x32.data), [3, 2]), sig).data;
    expect(maxRelErr(wide.data, exact)).toBeLessThan(1e-15);
    // float64 tensor into the float32 graph: result widened into float64, close to float32 round-off
    const r2 = await f32.denoise(tensor(x64, [3, 2]), sig);
    expect(r2.dtype).toBe("float64");
    expect(Array.from(r2.data).every((v) => v === Math.fround(v))).toBe(true);
    expect(
      maxRelErr(
        r2.data,
        g.denoiseSync(
          tensor(Float64Array.from(Float32Array.from(x64)), [3, 2]),
          Float64Array.from(Float32Array.from(sig)),
        ).data,
      ),
    ).toBeLessThan(5e-6);
    // out of another dtype than x
    const out = tensor(new Float64Array(6), [3, 2]);
    const r3 = await f64.denoise(x32, sig, out);
    expect(r3).toBe(out);
    expect(maxRelErr(out.data, exact)).toBeLessThan(1e-15);
  });

  it("reuses buffers per batch size, evicts the least recently used, and never shares them between overlapping calls", async () => {
    const d = await OnnxDenoiser.load(modelPath("gmm1d-bimodal-f64"), { maxCachedShapes: 2 });
    const g = new GaussianMixture(sidecarOf("gmm1d-bimodal-f64").denoiser as GmmSpec);
    const u = uniforms(3);
    const inputs = [5, 1, 16, 5, 7, 1, 16].map((B) => ({
      x: tensor(
        new Float64Array(B).map(() => u() * 4 - 2),
        [B, 1],
      ),
      s: new Float64Array(B).map(() => u() * 3),
    }));
    const results = await Promise.all(inputs.map(({ x, s }) => d.denoise(x, s))); // overlapping calls
    for (let i = 0; i < inputs.length; i++) {
      expect(maxRelErr(results[i].data, g.denoiseSync(inputs[i].x, inputs[i].s).data)).toBeLessThan(1e-14);
    }
    for (let i = 0; i < inputs.length; i++) {
      // sequential calls, shapes cycling through the cache
      const r = await d.denoise(inputs[i].x, inputs[i].s);
      expect(Array.from(r.data)).toEqual(Array.from(results[i].data));
      expect(r.data).not.toBe(results[i].data); // each result belongs to its caller
    }
    for (const opts of [
      { reuseInputs: false },
      { preallocateOutputs: true },
      { preallocateOutputs: true, reuseInputs: false },
    ]) {
      const other = await OnnxDenoiser.load(modelPath("gmm1d-bimodal-f64"), {
        ...opts,
        intraOpNumThreads: 2,
        interOpNumThreads: 1,
      });
      const again = await Promise.all(inputs.map(({ x, s }) => other.denoise(x, s)));
      for (let i = 0; i < inputs.length; i++)
        expect(Array.from(again[i].data)).toEqual(Array.from(results[i].data));
      const r1 = await other.denoise(inputs[2].x, inputs[2].s),
        r2 = await other.denoise(inputs[2].x, inputs[2].s);
      expect(r1.data).not.toBe(r2.data);
      expect(Array.from(r1.data)).toEqual(Array.from(r2.data));
      await other.release();
    }
    // the input is copied when the call is made: changing x while the run is pending is safe
    const x = tensor(Float64Array.from(inputs[2].x.data), inputs[2].x.shape);
    const pending = d.denoise(x, inputs[2].s);
    x.data.fill(0);
    expect(Array.from((await pending).data)).toEqual(Array.from(results[2].data));
    await d.release();
    await expect(d.denoise(inputs[0].x, inputs[0].s)).rejects.toThrow(
      "OnnxDenoiser.denoise: gmm1d-bimodal-f64.onnx was released",
    );
  });

  it("reads the signature from the protobuf when the runtime has no metadata", () => {
    const bytes = readFileSync(modelPath("gmm2d-ring8-discrete-eps"));
    expect(
      signatureFromSession({ inputNames: ["sample", "timestep"], outputNames: ["eps"] }),
    ).toBeUndefined();
    expect(signatureFromModelBytes(bytes)).toEqual({
      inputs: [
        { name: "sample", type: "float32", shape: ["batch", 2] },
        { name: "timestep", type: "float32", shape: ["batch"] },
      ],
      outputs: [{ name: "eps", type: "float32", shape: ["batch", 2] }],
    });
  });

  it("rejects bad options", async () => {
    await expect(
      OnnxDenoiser.load(modelPath("gmm1d-bimodal"), {
        sessionOptions: { executionProviders: ["cuda", "cpu"] },
      }),
    ).rejects.toThrow(
      "OnnxDenoiser: choose the execution provider with options.device, not sessionOptions.executionProviders",
    );
    await expect(OnnxDenoiser.load(modelsDir)).rejects.toThrow(
      /^OnnxDenoiser\.load: .*models\/? is not a file$/,
    );
    await expect(OnnxDenoiser.load(modelPath("gmm1d-bimodal"), { intraOpNumThreads: -1 })).rejects.toThrow(
      "OnnxDenoiser: options.intraOpNumThreads must be a non-negative integer, got -1",
    );
    await expect(OnnxDenoiser.load(modelPath("gmm1d-bimodal"), { device: "tpu" as never })).rejects.toThrow(
      'OnnxDenoiser: options.device must be one of "cpu", "cuda", "webgpu", got "tpu"',
    );
  });

  it("infers a denoiser from inputs named x and sigma when there is no sidecar", async () => {
    const spec = sidecarOf("gmm1d-bimodal").denoiser as GmmSpec;
    const d = await OnnxDenoiser.fromBytes(serializeModel(gmmDenoiserModel(spec, { dtype: "float64" })));
    expect(d.parameterization).toBe("denoiser");
    expect(d.file).toBe("model.onnx");
    const x = tensor([0.3, -2, 1.1], [3, 1]),
      s = new Float64Array([0.1, 1, 10]);
    expect(
      maxRelErr((await d.denoise(x, s)).data, new GaussianMixture(spec).denoiseSync(x, s).data),
    ).toBeLessThan(1e-15);
    await d.release();
  });
});

describe("devices", () => {
  it("cpu: every node runs on the CPU execution provider", async () => {
    const d = model("mlp2d-ring8-edm");
    expect(d.device).toBe("cpu");
    const p = await d.placement();
    expect(Object.keys(p.nodesByProvider)).toEqual(["CPUExecutionProvider"]);
    expect(p.nodesByProvider.CPUExecutionProvider).toBeGreaterThanOrEqual(10);
    expect(p.providerOfNode["/net/net.0/Gemm"]).toBe("CPUExecutionProvider");
  });

  it("cuda: a clear error naming what is missing, or (with CUDA present) every node on the GPU", async () => {
    let preflight: unknown;
    try {
      checkDeviceAvailable("cuda");
    } catch (e) {
      preflight = e;
    }
    if (preflight) {
      // this machine: the postinstall that downloads the CUDA provider did not run
      expect(preflight).toBeInstanceOf(OnnxDeviceError);
      await expect(OnnxDenoiser.load(modelPath("gmm2d-ring8"), { device: "cuda" })).rejects.toThrow(
        /device "cuda": CUDA provider library .*libonnxruntime_providers_cuda\.so not found in .*bin\/napi-v6\/linux\/x64\. .*postinstall.*ONNXRUNTIME_NODE_INSTALL=cuda12 pnpm rebuild onnxruntime-node/s,
      );
      return;
    }
    const d = await OnnxDenoiser.load(modelPath("gmm2d-ring8"), { device: "cuda" }).catch((e: unknown) => e);
    if (d instanceof OnnxDenoiser) {
      expect(Object.keys((await d.placement()).nodesByProvider)).toEqual(["CUDAExecutionProvider"]);
      await d.release();
    } else {
      expect(d).toBeInstanceOf(OnnxDeviceError);
      expect((d as Error).message).toMatch(/^gmm2d-ring8\.onnx: device "cuda": /);
    }
  });

  it("webgpu: a clear error when there is no GPU adapter, or (with one) every node on the GPU", async () => {
    const d = await OnnxDenoiser.load(modelPath("gmm2d-ring8"), {
      device: "webgpu",
      logSeverityLevel: 4,
    }).catch((e: unknown) => e);
    if (d instanceof OnnxDenoiser) {
      expect(Object.keys((await d.placement()).nodesByProvider)).toEqual(["WebGpuExecutionProvider"]);
      await d.release();
    } else {
      expect(d).toBeInstanceOf(OnnxDeviceError);
      expect((d as Error).message).toMatch(
        /^gmm2d-ring8\.onnx: device "webgpu": WebGpuExecutionProvider found no GPU adapter \(.*\)\. .*Vulkan/,
      );
    }
  });

  it("probeDevice tries the device: the CPU works here; a GPU either works on every node or is reported unavailable", async () => {
    const cpu = await probeDevice("cpu");
    expect(cpu).toMatchObject({ device: "cpu", available: true });
    expect(cpu.message).toBe(
      `${cpu.placement!.nodesByProvider.CPUExecutionProvider} nodes ran on CPUExecutionProvider`,
    );
    expect(cpu.placement!.nodesByProvider.CPUExecutionProvider).toBeGreaterThan(10);
    for (const device of ["cuda", "webgpu"] as const) {
      const p = await probeDevice(device);
      if (p.available)
        expect(Object.keys(p.placement!.nodesByProvider)).toEqual([
          device === "cuda" ? "CUDAExecutionProvider" : "WebGpuExecutionProvider",
        ]);
      else expect(p.message).toMatch(new RegExp(`device "${device}": `));
    }
  });

  it("refuses to run nodes on the CPU when fallback is disabled, and says how to allow it", async () => {
    // onnxruntime's own fallback check, triggered on the CPU provider (assigned as "default CPU EP")
    await expect(
      OnnxDenoiser.load(modelPath("gmm1d-bimodal"), {
        logSeverityLevel: 4,
        sessionOptions: { extra: { session: { disable_cpu_ep_fallback: "1" } } },
      }),
    ).rejects.toThrow(/gmm1d-bimodal\.onnx: device "cpu": .*cannot run every node.*allowCpuNodes: true/);
  });
});

describe("fixture specs", () => {
  it("loads the model a fixture's onnx denoiser spec names, and checks its parameterization", async () => {
    const fixturesDir = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
    const d = await onnxDenoiserFromSpec(
      { kind: "onnx", file: "models/gmm2d-ring8-discrete-eps.onnx", parameterization: "discrete-eps" },
      fixturesDir,
    );
    expect([d.file, d.prediction]).toEqual(["gmm2d-ring8-discrete-eps.onnx", "epsilon"]);
    await d.release();
    await expect(
      onnxDenoiserFromSpec(
        { kind: "onnx", file: "models/gmm2d-ring8.onnx", parameterization: "discrete-eps" },
        fixturesDir,
      ),
    ).rejects.toThrow(
      'gmm2d-ring8.onnx: options.parameterization "discrete-eps" contradicts gmm2d-ring8.json ("denoiser")',
    );
    await expect(
      onnxDenoiserFromSpec(
        { kind: "onnx", file: "models/gmm2d-ring8.onnx", parameterization: "score" },
        fixturesDir,
      ),
    ).rejects.toThrow(
      'onnxDenoiserFromSpec: parameterization must be one of denoiser, discrete-eps, discrete-v, discrete-sample, got "score"',
    );
  });
});

describe("writer models served by OnnxDenoiser", () => {
  it("discrete v-prediction and sample graphs without a sidecar, with options", async () => {
    const spec = sidecarOf("gmm2d-ring8-discrete-eps-f64").denoiser as {
      gmm: GmmSpec;
      alphas_cumprod: number[];
    };
    for (const [prediction, parameterization] of [
      ["v_prediction", "discrete-v"],
      ["sample", "discrete-sample"],
    ] as const) {
      const m: ModelMessage = discreteGmmModel(
        { gmm: spec.gmm, alphasCumprod: spec.alphas_cumprod, prediction },
        { dtype: "float64" },
      );
      const d = await OnnxDenoiser.fromBytes(serializeModel(m), {
        parameterization,
        outputName: prediction === "sample" ? "denoised" : "v",
      });
      expect(d.prediction).toBe(prediction);
      const ref = new DiscreteGmmModel({ gmm: spec.gmm, alphasCumprod: spec.alphas_cumprod, prediction });
      const x = tensor([0.5, -0.4, 1.2, 0.3, -0.01, 0.02], [3, 2]),
        t = new Float64Array([3.5, 500, 999]);
      expect(maxRelErr((await d.predict(x, t)).data, ref.predictSync(x, t).data)).toBeLessThan(1e-13);
      await d.release();
    }
  });
});
