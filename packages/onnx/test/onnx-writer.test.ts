/**
 * The TypeScript ONNX writer: the hand-written protobuf schema against the shipped bytes,
 * the eight toy models rebuilt by regenerateModels against the shipped ones, and
 * writer-built discrete-time graphs (eps, v, x0; index and c_noise time maps) against the
 * recorded model calls of the diffusers and k-diffusion fixtures whose mixtures or tables
 * no shipped model has.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type GmmSpec, isScheduleFixture, type RunFixture, tensor } from "@edmkit/core";
import { loadFixtures } from "@edmkit/core/node";
import { afterAll, describe, expect, it } from "vitest";
import {
  DataType,
  decodeModel,
  discreteGmmModel,
  edmMlpModel,
  encodeModel,
  extractEdmMlp,
  GraphBuilder,
  gmmDenoiserModel,
  OnnxDenoiser,
  rawBytes,
  regenerateModels,
  serializeModel,
  tensorValues,
  toyModelNames,
} from "../src/index.js";

const modelsDir = fileURLToPath(new URL("../../../fixtures/models/", import.meta.url));
const referenceDir = fileURLToPath(new URL("../../../fixtures/reference/", import.meta.url));
const shipped = (name: string) => readFileSync(`${modelsDir}${name}.onnx`);
const sidecarJson = (name: string) => JSON.parse(readFileSync(`${modelsDir}${name}.json`, "utf8"));

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= m)) m = d;
  }
  return m;
}

describe("onnx.proto subset", () => {
  it.each(toyModelNames)("%s: decoding and encoding again gives the shipped bytes", (name) => {
    const bytes = shipped(name);
    const m = decodeModel(bytes);
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ version: 17 }]);
    expect(m.producer_name).toBe("pytorch");
    expect(Buffer.from(encodeModel(m)).equals(bytes)).toBe(true);
  });

  it("raw tensor data round-trips little-endian float32, float64 and int64", () => {
    for (const [type, values] of [
      [DataType.FLOAT, [1.5, -0.1, 3e38]],
      [DataType.DOUBLE, [Math.PI, -1e-300]],
      [DataType.INT64, [-1, 2 ** 40, 0]],
    ] as const) {
      const t = { name: "t", dims: [values.length], data_type: type, raw_data: rawBytes(values, type) };
      const back = decodeModel(encodeModel({ graph: { initializer: [t] } })).graph!.initializer![0];
      expect(Array.from(tensorValues(back))).toEqual(
        type === DataType.FLOAT ? values.map(Math.fround) : values,
      );
    }
    expect(() => rawBytes([0.5], DataType.INT64)).toThrow("rawBytes: 0.5 is not an int64 value");
  });
});

describe("regenerateModels", () => {
  const out = mkdtempSync(join(tmpdir(), "edmkit-onnx-regen-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const written = regenerateModels(out, { modelsDir });

  it("writes all eight models with their sidecars", () => {
    expect(written.map((p) => p.slice(out.length + 1))).toEqual(toyModelNames.map((n) => `${n}.onnx`));
    expect(readdirSync(out).sort()).toEqual(toyModelNames.flatMap((n) => [`${n}.json`, `${n}.onnx`]).sort());
    for (const name of toyModelNames) {
      const m = decodeModel(readFileSync(join(out, `${name}.onnx`)));
      expect(m.ir_version).toBe(8);
      expect(m.opset_import).toEqual([{ domain: "", version: 17 }]);
      expect(m.graph!.input!.map((i) => i.type!.tensor_type!.shape!.dim![0])).toEqual([
        { dim_param: "batch" },
        { dim_param: "batch" },
      ]);
      const side = JSON.parse(readFileSync(join(out, `${name}.json`), "utf8"));
      expect(side.provenance.writer).toBe("@edmkit/conformance regenerateModels");
      expect({ ...side, provenance: undefined }).toEqual({ ...sidecarJson(name), provenance: undefined });
    }
  });

  it("rebuilds the MLP weights exactly from the shipped initializers", () => {
    for (const name of ["mlp1d-bimodal-edm", "mlp2d-ring8-edm"]) {
      const a = extractEdmMlp(shipped(name), name);
      const b = extractEdmMlp(readFileSync(join(out, `${name}.onnx`)), name);
      expect(b).toEqual(a);
      expect(a.frequencies).toEqual([0.5, 1, 2]);
      expect(a.layers.map((l) => [l.outFeatures, l.inFeatures])).toEqual([
        [128, a.dim + 7],
        [128, 128],
        [128, 128],
        [a.dim, 128],
      ]);
      const params = a.layers.reduce((s, l) => s + l.weight.length + l.bias.length, 0);
      expect(params).toBe(sidecarJson(name).architecture.parameters);
    }
  });

  // same operations in the same order as the torch-exported graphs: identical outputs, except
  // the float64 discrete table, whose float64 log differs from torch's in the last bit for 80
  // of 1,000 entries
  it.each(toyModelNames)("%s: the rebuilt model gives the shipped model's outputs", async (name) => {
    const a = await OnnxDenoiser.load(`${modelsDir}${name}.onnx`);
    const b = await OnnxDenoiser.load(join(out, `${name}.onnx`));
    expect([b.parameterization, b.dtype, b.inputNames, b.outputName]).toEqual([
      a.parameterization,
      a.dtype,
      a.inputNames,
      a.outputName,
    ]);
    const dim = a.rowShape[0]!,
      B = 96;
    const x = tensor(
      new Float64Array(B * dim).map((_, i) => 3.5 * Math.sin(1.7 * i + 0.3)),
      [B, dim],
    );
    const discrete = a.parameterization !== "denoiser";
    const c = new Float64Array(B).map((_, i) =>
      discrete
        ? ([0, 0.5, 998.5, 999, 1000, -2][i] ?? (i * 999.7) / B)
        : Math.exp(Math.log(0.002) + (i * Math.log(200 / 0.002)) / (B - 1)),
    );
    const ra = await a.run(x, c),
      rb = await b.run(x, c);
    if (name === "gmm2d-ring8-discrete-eps-f64") expect(maxRelErr(rb.data, ra.data)).toBeLessThan(1e-14);
    else expect(Array.from(rb.data)).toEqual(Array.from(ra.data));
    await a.release();
    await b.release();
  });
});

describe("writer-built discrete models against recorded calls", () => {
  const fixtures = loadFixtures(`${referenceDir}diffusers`, `${referenceDir}k-diffusion`)
    .map((l) => l.fixture)
    .filter((f): f is RunFixture => !isScheduleFixture(f) && f.denoiser.kind === "discrete-eps");

  it("finds every discrete-time run fixture (68 diffusers: 42 + 18 KDPM2 / LMS / DDIM / DDPM + 8 DPM-Solver; 7 k-diffusion)", () => {
    expect(fixtures.filter((f) => f.reference.library === "diffusers").length).toBe(68);
    expect(fixtures.filter((f) => f.reference.library === "k-diffusion").length).toBe(7);
  });

  // float64 runs: the recorders evaluated the model in float64 (<= 1e-12); float32 diffusers
  // runs: float64 model on float32 x, output rounded to float32 (the graph runs in float64
  // and the result is rounded the same way); the float32 k-diffusion run evaluated in float32
  it.each(fixtures.map((f) => [f.id, f] as const))("%s", async (_id, f) => {
    const den = f.denoiser as {
      gmm: GmmSpec;
      alphas_cumprod: number[];
      prediction?: "epsilon" | "v_prediction" | "sample";
      time_map?: "index" | "c_noise";
    };
    const prediction = den.prediction ?? "epsilon";
    const m = discreteGmmModel(
      { gmm: den.gmm, alphasCumprod: den.alphas_cumprod, prediction, timeMap: den.time_map ?? "index" },
      { dtype: "float64" },
    );
    const parameterization =
      prediction === "epsilon"
        ? "discrete-eps"
        : prediction === "v_prediction"
          ? "discrete-v"
          : "discrete-sample";
    const d = await OnnxDenoiser.fromBytes(serializeModel(m), { name: `${f.id}.onnx`, parameterization });
    const B = f.shape[0],
      t = new Float64Array(B);
    const f32 = f.dtype === "float32";
    const tol = !f32 ? 1e-12 : f.reference.library === "diffusers" ? 2.4e-7 : 2e-5;
    let worst = 0,
      at = -1;
    for (let k = 0; k < f.model_calls.length; k++) {
      const call = f.model_calls[k];
      t.fill(call.t!);
      const outT = tensor(new Float64Array(call.x.length), f.shape);
      const r = await d.predict(
        tensor(Float64Array.from(call.x), f.shape),
        t,
        f32 ? tensor(new Float32Array(call.x.length), f.shape) : outT,
      );
      const e = maxRelErr(r.data, call.out);
      if (e > worst) {
        worst = e;
        at = k;
      }
    }
    expect(worst, `worst at model_calls[${at}]`).toBeLessThanOrEqual(tol);
    await d.release();
  });
});

describe("writer input checks and graph structure", () => {
  const ring = sidecarJson("gmm2d-ring8").denoiser as GmmSpec;

  it("rejects inconsistent specs with one message naming the argument", () => {
    expect(() => gmmDenoiserModel({ ...ring, means: ring.means.slice(1) })).toThrow(
      "gmmDenoiserModel: gmm weights (8), means (7) and stds (8) must have the same non-zero length",
    );
    expect(() => gmmDenoiserModel({ ...ring, stds: ring.stds.map((s, i) => (i === 2 ? -1 : s)) })).toThrow(
      "gmmDenoiserModel: gmm.stds[2] must be non-negative, got -1",
    );
    expect(() => discreteGmmModel({ gmm: ring, alphasCumprod: [0.9, 0] })).toThrow(
      "discreteGmmModel: alphasCumprod[1] must lie in (0, 1], got 0",
    );
    const mlp = extractEdmMlp(shipped("mlp2d-ring8-edm"));
    expect(() => edmMlpModel({ ...mlp, sigmaData: 1.4, frequencies: [1, 2] })).toThrow(
      "edmMlpModel: layers[0].inFeatures is 9, expected 7",
    );
    expect(() => edmMlpModel({ ...mlp, sigmaData: 1.4, dim: 1 })).toThrow(
      "edmMlpModel: layers[0].inFeatures is 9, expected 8",
    );
    expect(() => edmMlpModel({ ...mlp, sigmaData: 0 })).toThrow(
      "edmMlpModel: sigmaData must be positive, got 0",
    );
  });

  it("the exact mixture graph has the shipped graph's operations, in order, without its Constant nodes", () => {
    for (const [name, dtype] of [
      ["gmm2d-ring8", "float32"],
      ["gmm1d-bimodal-f64", "float64"],
    ] as const) {
      const ops = (m: ReturnType<typeof decodeModel>) =>
        m.graph!.node!.map((n) => n.op_type).filter((o) => o !== "Constant");
      const ours = decodeModel(serializeModel(gmmDenoiserModel(sidecarJson(name).denoiser, { dtype })));
      expect(new Set(ops(ours))).toEqual(new Set(ops(decodeModel(shipped(name)))));
      expect(ops(ours).length).toBe(ops(decodeModel(shipped(name))).length);
      expect(ours.graph!.initializer!.find((t) => t.name === "variances")!.data_type).toBe(
        dtype === "float32" ? DataType.FLOAT : DataType.DOUBLE,
      );
    }
  });

  it("GraphBuilder refuses undefined inputs and taken names", () => {
    const g = new GraphBuilder("g", "float32");
    g.input("x", ["batch", 1]);
    expect(() => g.op("Relu", ["y"])).toThrow('GraphBuilder: Relu input "y" is not defined');
    expect(() => g.input("x", ["batch"])).toThrow('GraphBuilder: name "x" is taken');
  });
});

describe("float64 MLP graphs", () => {
  it("load at onnxruntime's default optimization level and agree with the float32 graph", async () => {
    const { extractEdmMlp, edmMlpModel, serializeModel, OnnxDenoiser } = await import("../src/index.js");
    const shipped = new Uint8Array(
      readFileSync(
        fileURLToPath(new URL("../../../fixtures/models/mlp1d-bimodal-edm.onnx", import.meta.url)),
      ),
    );
    const sidecar = JSON.parse(
      readFileSync(
        fileURLToPath(new URL("../../../fixtures/models/mlp1d-bimodal-edm.json", import.meta.url)),
        "utf8",
      ),
    );
    const spec = {
      ...extractEdmMlp(shipped),
      sigmaData: sidecar.sigma_data ?? sidecar.trained_on?.sigma_data,
    };
    expect(spec.sigmaData).toBeGreaterThan(1);
    const f64 = await OnnxDenoiser.fromBytes(serializeModel(edmMlpModel(spec, { dtype: "float64" })), {
      name: "mlp-f64.onnx",
      parameterization: "denoiser",
    });
    const f32 = await OnnxDenoiser.fromBytes(shipped, { name: "mlp-f32.onnx", parameterization: "denoiser" });
    const x = tensor([-2, -1, -0.3, 0, 0.4, 1.1, 2.5, 6], [8, 1]);
    const sigma = new Float64Array([0.002, 0.05, 0.3, 1, 2, 5, 20, 80]);
    const a = await f64.denoise(x, sigma),
      b = await f32.denoise(x, sigma);
    for (let i = 0; i < 8; i++)
      expect(Math.abs(a.data[i] - b.data[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(a.data[i])));
    await f64.release();
    await f32.release();
  });
});
