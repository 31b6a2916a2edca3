/**
 * Reliability audit defects 24 and 28 (ONNX part): a sidecar's declared mixture is checked
 * against the graph at load, and bad inputs to a call are refused with a clear ArgumentError
 * instead of a NaN result or a confusing message.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ArgumentError, tensor } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import { OnnxDenoiser } from "../src/index.js";

const models = fileURLToPath(new URL("../../../fixtures/models/", import.meta.url));
const sidecar = (name: string) => JSON.parse(readFileSync(`${models}${name}.json`, "utf8"));

describe("a sidecar's declared mixture must be what the graph computes (defect 24)", () => {
  test("the shipped sidecars load (float64 and float32 graphs)", async () => {
    for (const name of ["gmm1d-bimodal-f64", "gmm1d-bimodal"]) {
      const m = await OnnxDenoiser.load(`${models}${name}.onnx`);
      await m.release();
    }
  });

  test("a sidecar declaring another mixture is refused, naming the field", async () => {
    for (const name of ["gmm1d-bimodal-f64", "gmm1d-bimodal"]) {
      const wrong = sidecar(name);
      wrong.denoiser.means = [[-2], [2]];
      const load = OnnxDenoiser.load(`${models}${name}.onnx`, { sidecar: wrong });
      await expect(load).rejects.toThrow(ArgumentError);
      await expect(OnnxDenoiser.load(`${models}${name}.onnx`, { sidecar: wrong })).rejects.toThrow(
        /does not compute the mixture .* declares \(field `denoiser`\)/,
      );
    }
  });
});

describe("call inputs are checked (defect 28)", () => {
  test("NaN sigma, x beyond float32 for a float32 graph, data shorter than the shape", async () => {
    const m = await OnnxDenoiser.load(`${models}gmm1d-bimodal.onnx`);
    try {
      const x = tensor(new Float64Array([0.5, -0.5]), [2, 1]);
      await expect(m.denoise(x, Float64Array.from([1, Number.NaN]))).rejects.toThrow(
        /sigma\[1\] is NaN; expected a finite number/,
      );
      await expect(
        m.denoise(tensor(new Float64Array([1e39, 0]), [2, 1]), Float64Array.from([1, 1])),
      ).rejects.toThrow(/within float32 range/);
      const short = { data: new Float64Array(1), shape: [2, 1], dtype: "float64" as const };
      await expect(m.denoise(short, Float64Array.from([1, 1]))).rejects.toThrow(
        /holds 1 values for shape \[2, 1\] \(2 expected\)/,
      );
      const ok = await m.denoise(x, Float64Array.from([1, 1]));
      expect(Number.isFinite(ok.data[0])).toBe(true);
    } finally {
      await m.release();
    }
  });
});
