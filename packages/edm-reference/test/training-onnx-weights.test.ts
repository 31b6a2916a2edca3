/**
 * The trainer's network is the shipped ONNX MLPs' graph (fixtures/models, "EDM MLPs"): the
 * float32 initializers of mlp1d-bimodal-edm.onnx / mlp2d-ring8-edm.onnx, read straight from
 * the protobuf and loaded through ToyMlpDenoiser.fromJSON, must reproduce the sidecars'
 * recorded accuracy against the exact mixture denoiser. A different feature order, weight
 * layout or preconditioning would be off by orders of magnitude.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GaussianMixture, tensor } from "@edmkit/core";
import { describe, expect, it } from "vitest";
import {
  gmmDataset,
  ToyMlpDenoiser,
  ToyRng,
  TOY_MLP_FORMAT,
  type ToyMlpJson,
} from "../src/training/index.js";

interface Field {
  field: number;
  wire: number;
  value: number | Uint8Array;
}

/** Minimal protobuf reader: the fields of one message (varint and length-delimited values). */
function readFields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = buf[i++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 2) {
      const len = varint();
      out.push({ field, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

/** Float initializers of an ONNX model: name -> { dims, values } (ModelProto.graph = 7, GraphProto.initializer = 5). */
function onnxInitializers(path: string): Map<string, { dims: number[]; values: Float32Array }> {
  const model = readFields(new Uint8Array(readFileSync(path)));
  const graph = model.find((f) => f.field === 7)!.value as Uint8Array;
  const result = new Map<string, { dims: number[]; values: Float32Array }>();
  for (const init of readFields(graph).filter((f) => f.field === 5)) {
    const fields = readFields(init.value as Uint8Array);
    const name = new TextDecoder().decode(fields.find((f) => f.field === 8)!.value as Uint8Array);
    const dims = fields.filter((f) => f.field === 1).map((f) => f.value as number);
    expect(fields.find((f) => f.field === 2)!.value, `${name} data_type`).toBe(1); // FLOAT
    const raw = fields.find((f) => f.field === 9)!.value as Uint8Array;
    const values = new Float32Array(raw.slice().buffer);
    result.set(name, { dims, values });
  }
  return result;
}

const fixture = (p: string): string =>
  fileURLToPath(new URL(`../../../fixtures/models/${p}`, import.meta.url));

describe.each([
  ["mlp1d-bimodal-edm", 1],
  ["mlp2d-ring8-edm", 2],
])("shipped ONNX MLP %s through ToyMlpDenoiser", (name, dim) => {
  const sidecar = JSON.parse(readFileSync(fixture(`${name}.json`), "utf8"));
  const inits = onnxInitializers(fixture(`${name}.onnx`));

  it("has the trainer's layer shapes and frequencies", () => {
    expect([...inits.keys()].filter((k) => k.startsWith("net."))).toEqual([
      "net.0.weight",
      "net.0.bias",
      "net.2.weight",
      "net.2.bias",
      "net.4.weight",
      "net.4.bias",
      "net.6.weight",
      "net.6.bias",
    ]);
    expect(inits.get("net.0.weight")!.dims).toEqual([128, dim + 7]);
    expect(inits.get("net.6.weight")!.dims).toEqual([dim, 128]);
    const freqs = [...inits.entries()].find(([k]) => !k.startsWith("net."))![1];
    expect(Array.from(freqs.values)).toEqual([0.5, 1, 2]);
  });

  it("reproduces the sidecar's RMSE against the exact mixture denoiser", () => {
    const layers = [0, 2, 4, 6].map((l) => {
      const w = inits.get(`net.${l}.weight`)!;
      return {
        name: `net.${l}`,
        in_features: w.dims[1],
        out_features: w.dims[0],
        weight: Array.from(w.values),
        bias: Array.from(inits.get(`net.${l}.bias`)!.values),
      };
    });
    const json: ToyMlpJson = {
      format: TOY_MLP_FORMAT,
      version: 1,
      parameterization: "denoiser",
      precond: "edm",
      architecture: {
        dim,
        hidden: 128,
        depth: 3,
        activation: "silu",
        frequencies: [0.5, 1, 2],
        input: "",
        parameters: sidecar.architecture.parameters,
      },
      sigma_data: sidecar.sigma_data,
      layers,
    };
    const model = ToyMlpDenoiser.fromJSON(json);
    expect(model.parameterCount).toBe(sidecar.architecture.parameters);
    const data = gmmDataset(sidecar.trained_on);
    const exact = new GaussianMixture(sidecar.trained_on);
    const rng = new ToyRng(31);
    const n = 8192;
    for (const { sigma: s, rmse_vs_exact: recorded } of sidecar.validation as {
      sigma: number;
      rmse_vs_exact: number;
    }[]) {
      const y = new Float64Array(n * dim);
      data.sampleInto(rng, y, n);
      const x = Float64Array.from(y, (v) => v + s * rng.normal());
      const sigma = new Float64Array(n).fill(s);
      const a = model.denoiseSync(tensor(x, [n, dim]), sigma).data;
      const b = exact.denoiseSync(tensor(x, [n, dim]), sigma).data;
      let e = 0;
      for (let i = 0; i < n * dim; i++) e += (a[i] - b[i]) ** 2;
      const rmse = Math.sqrt(e / n);
      // other draws than the sidecar's, so equal up to Monte-Carlo spread
      expect(rmse / recorded, `sigma ${s}: ${rmse} vs recorded ${recorded}`).toBeGreaterThan(0.8);
      expect(rmse / recorded, `sigma ${s}: ${rmse} vs recorded ${recorded}`).toBeLessThan(1.25);
    }
  });
});
