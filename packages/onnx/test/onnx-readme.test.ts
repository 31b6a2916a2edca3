/**
 * The examples of ONNX.md, as written there (imports from the package's sources instead of
 * "@edmkit/onnx", model paths resolved from the repository root).
 */
import { fileURLToPath } from "node:url";
import { GaussianMixture, perRow, tensor } from "@edmkit/core";
import { expect, it } from "vitest";
import {
  gmmDenoiserModel,
  OnnxDenoiser,
  OnnxDeviceError,
  type Placement,
  serializeModel,
} from "../src/index.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));

it("ONNX.md: Euler sampling with the ring mixture's ONNX denoiser lands on the ring", async () => {
  // --- example 1 ---
  const model = await OnnxDenoiser.load(`${repo}fixtures/models/gmm2d-ring8.onnx`);
  // Karras et al. noise levels, sigma_max = 80 .. sigma_min = 0.002, then 0
  const n = 32,
    sMin = 0.002,
    sMax = 80,
    rho = 7;
  const sigmas = Array.from(
    { length: n },
    (_, i) => (sMax ** (1 / rho) + (i / (n - 1)) * (sMin ** (1 / rho) - sMax ** (1 / rho))) ** rho,
  ).concat(0);
  const batch = 8;
  const x = tensor(
    Float64Array.from({ length: batch * 2 }, (_, i) => sMax * Math.cos(2.4 * i + 1)),
    [batch, 2],
  );
  const denoised = tensor(new Float64Array(batch * 2), [batch, 2]);
  for (let i = 0; i < n; i++) {
    await model.denoise(x, perRow(batch, sigmas[i]), denoised); // D(x; sigma) into `denoised`
    const h = sigmas[i + 1] - sigmas[i];
    for (let k = 0; k < x.data.length; k++) x.data[k] += ((x.data[k] - denoised.data[k]) / sigmas[i]) * h;
  }
  await model.release();
  // --- end ---
  for (let b = 0; b < batch; b++) {
    const r = Math.hypot(x.data[2 * b], x.data[2 * b + 1]);
    expect(Math.abs(r - 2)).toBeLessThan(0.3); // the mixture's components sit on the radius-2 circle
  }
});

it("ONNX.md: a discrete-time eps model, and a mixture graph written in TypeScript", async () => {
  // --- example 2 ---
  const unet = await OnnxDenoiser.load(`${repo}fixtures/models/gmm2d-ring8-discrete-eps.onnx`);
  const eps = await unet.predict(tensor([0.1, 0.2], [1, 2]), new Float64Array([999])); // (sample, timestep) -> eps
  // --- example 3 ---
  const spec = { dim: 1, weights: [0.5, 0.5], means: [[-1], [1]], stds: [0.3, 0.3] };
  const bytes = serializeModel(gmmDenoiserModel(spec, { dtype: "float64" }));
  const d = await OnnxDenoiser.fromBytes(bytes, { name: "bimodal.onnx" }); // inputs x, sigma: a denoiser
  const out = await d.denoise(tensor([0.5], [1, 1]), new Float64Array([0.2]));
  // --- end ---
  expect(unet.prediction).toBe("epsilon");
  expect(eps.shape).toEqual([1, 2]);
  // at t = T-1 (sigma ~ 14.6) the data is almost pure noise: eps ~ x / sigma ~ sample
  expect(Math.abs(eps.data[0] - 0.1)).toBeLessThan(0.02);
  expect(out.data[0]).toBeCloseTo(
    new GaussianMixture(spec).denoiseSync(tensor([0.5], [1, 1]), [0.2]).data[0],
    14,
  );
  await unet.release();
  await d.release();
});

it("ONNX.md: asking for a GPU that is not there is an error, never a CPU run", async () => {
  const r: Placement | Error = await OnnxDenoiser.load(`${repo}fixtures/models/gmm2d-ring8.onnx`, {
    device: "webgpu",
    logSeverityLevel: 4,
  })
    .then(async (m) => {
      const p = await m.placement();
      await m.release();
      return p;
    })
    .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  if (r instanceof Error) expect(r).toBeInstanceOf(OnnxDeviceError);
  else expect(Object.keys(r.nodesByProvider)).toEqual(["WebGpuExecutionProvider"]);
});
