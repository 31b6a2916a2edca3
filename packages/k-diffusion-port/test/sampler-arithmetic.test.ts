/**
 * The samplers' own arithmetic against the recordings, with the model taken out: each model
 * call returns the recorded output, so every later model input depends only on the port's
 * update formulas, scalar math and float32 rounding. Samplers whose updates use no
 * transcendental function beyond sqrt (Euler, Heun, Euler-ancestral, LMS with its QUADPACK
 * rule) and every float32 run must reproduce every model input bit for bit; the others go
 * through exp/log/expm1, where V8's libm and the reference's glibc/SLEEF may differ in the
 * last bit, and must stay within a few ulps of the largest |x| of the call. The DPM-Solver
 * samplers amplify those last-bit differences (third-order coefficients like
 * expm1(h)/h - 1 cancel; the adaptive controller feeds them back into h), so they get a
 * wider, still float64-tight, bound.
 */
import { fileURLToPath } from "node:url";
import {
  allocate,
  type DiscreteModel,
  type Denoiser,
  ReplayNoise,
  type RunFixture,
  type Tensor,
  tensor,
} from "@edmkit/core";
import { loadFixtures } from "@edmkit/core/node";
import { describe, expect, test } from "vitest";
import { callSampler, DiscreteEpsDDPMDenoiser } from "../src/index.js";

const dir = fileURLToPath(new URL("../../../fixtures/reference/k-diffusion", import.meta.url));
const runs = loadFixtures(dir)
  .map((l) => l.fixture)
  .filter((f): f is RunFixture => f.kind !== "schedule");

const BIT_EXACT = new Set(["sample_euler", "sample_heun", "sample_euler_ancestral", "sample_lms"]);
const AMPLIFYING = new Set(["sample_dpm_fast", "sample_dpm_adaptive"]);

/** Unit in the last place of the largest |value| (float32 or float64). */
function ulpOfMax(values: ArrayLike<number>, dtype: string): number {
  let mx = 0;
  for (let k = 0; k < values.length; k++) mx = Math.max(mx, Math.abs(values[k]));
  return 2 ** (Math.floor(Math.log2(mx)) - (dtype === "float32" ? 23 : 52));
}

async function replayWithRecordedOutputs(f: RunFixture): Promise<{ worst: number[]; output: Tensor }> {
  let k = 0;
  const worst: number[] = [];
  const respond = (x: Tensor): Tensor => {
    const call = f.model_calls[k++];
    const u = ulpOfMax(call.x, f.dtype);
    let w = 0;
    for (let j = 0; j < call.x.length; j++) w = Math.max(w, Math.abs(x.data[j] - call.x[j]) / u);
    worst.push(w);
    const out = tensor(allocate(f.dtype, call.out.length), f.shape);
    out.data.set(call.out);
    return out;
  };
  let model: Denoiser;
  if (f.reference.wrapper) {
    const inner: DiscreteModel = { prediction: "epsilon", predict: async (x) => respond(x) };
    const den = f.denoiser as { alphas_cumprod: number[] };
    const table =
      f.dtype === "float32" ? Float32Array.from(den.alphas_cumprod) : Float64Array.from(den.alphas_cumprod);
    model = new DiscreteEpsDDPMDenoiser(inner, table, {
      quantize: f.reference.wrapper.call.quantize === true,
    });
  } else {
    model = { denoise: async (x: Tensor) => respond(x) };
  }
  const noise = new ReplayNoise(f.noise.draws.slice(1));
  const call: Record<string, unknown> = {};
  const subst: Record<string, unknown> = {
    "<denoiser>": model,
    "<x_init>": tensor(Float64Array.from(f.x_init), f.shape, f.dtype),
    "<schedule.sigmas>": f.schedule.sigmas,
    "<noise.draws[1:]>": noise,
    "<steps>": undefined,
  };
  for (const [key, v] of Object.entries(f.reference.call))
    call[key] = typeof v === "string" && v in subst ? subst[v] : v;
  if (!Object.values(f.reference.call).includes("<noise.draws[1:]>") && f.noise.draws.length > 1)
    call.noise = noise;
  const result = (await callSampler(f.reference.entry, call)) as Tensor | { x: Tensor };
  const output = "x" in result ? result.x : result; // sample_dpm_adaptive with return_info
  expect(k).toBe(f.model_calls.length);
  noise.assertExhausted();
  return { worst, output };
}

describe("sampler arithmetic driven by the recorded model outputs", () => {
  for (const f of runs) {
    const exact = f.dtype === "float32" || BIT_EXACT.has(f.reference.entry);
    const bound = exact ? 0 : AMPLIFYING.has(f.reference.entry) ? 512 : 16;
    test(`${f.id} (${exact ? "bit-exact" : `<= ${bound} ulp`})`, async () => {
      const { worst, output } = await replayWithRecordedOutputs(f);
      expect(
        Math.max(...worst),
        `model-input error per call in ulps: ${worst.join(",")}`,
      ).toBeLessThanOrEqual(bound);
      const u = ulpOfMax(f.output, f.dtype);
      let wOut = 0;
      for (let j = 0; j < f.output.length; j++)
        wOut = Math.max(wOut, Math.abs(output.data[j] - f.output[j]) / u);
      expect(wOut).toBeLessThanOrEqual(bound);
    });
  }
});
