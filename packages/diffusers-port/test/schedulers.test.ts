/**
 * Behaviour of the three schedulers that the fixtures do not isolate: step-index rules,
 * Heun's stored state, noise consumption, add_noise / get_velocity, the float32 casts
 * (checked against the formulas), spacing edge cases and refusals.
 */
import {
  type NoiseSource,
  PerSampleTorchNoise,
  type Tensor,
  TorchGenerator,
  stackedRandn,
  tensor,
} from "@edmkit/core";
import { describe, expect, it } from "vitest";
import {
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
  denoisingLoop,
  drawNoise,
} from "../src/index.js";

const f = Math.fround;
const SD = { beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012 };

/** A NoiseSource that fills with a constant and counts its draws. */
class CountingNoise implements NoiseSource {
  count = 0;
  constructor(private readonly value = 0.5) {}
  randn(out: Tensor): Tensor {
    this.count++;
    out.data.fill(this.value);
    return out;
  }
}

const t64 = (v: number[], shape = [v.length, 1]) => tensor(Float64Array.from(v), shape);

describe("step index (index_for_timestep, set_begin_index)", () => {
  it("the first call finds t; a repeated t gives its SECOND position", () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps({ timesteps: [999, 999, 500, 0] });
    expect(s.indexForTimestep(999)).toBe(1);
    expect(s.indexForTimestep(500)).toBe(2);
    s.scaleModelInput(t64([1]), 999);
    expect(s.stepIndex).toBe(1);
  });
  it("after the first call t is ignored and the index only increments", () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps(5);
    const x = t64([1, 2]);
    s.step(t64([0.1, 0.2]), s.timesteps[0], x);
    expect(s.stepIndex).toBe(1);
    s.step(t64([0.1, 0.2]), 12345, x); // any t
    expect(s.stepIndex).toBe(2);
  });
  it("compares t in the schedule's dtype (float32 after set_timesteps, float64 for Euler-a at construction)", () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps(3);
    expect(s.timesteps[1]).toBe(499.5);
    expect(s.indexForTimestep(499.50001)).toBe(1); // float32(499.50001) == 499.5
    const a = new EulerAncestralDiscreteScheduler(SD);
    expect(a.timestepsDtype).toBe("float64");
    expect(a.indexForTimestep(999)).toBe(0);
    expect(() => a.indexForTimestep(999.00001)).toThrow(/not in the schedule/);
  });
  it("a timestep not in the schedule is a clear error", () => {
    const s = new HeunDiscreteScheduler(SD);
    s.setTimesteps(4);
    expect(() => s.step(t64([0]), 123.25, t64([0]))).toThrow(
      /HeunDiscreteScheduler: timestep 123.25 is not in the schedule \[999, 666/,
    );
  });
  it("Karras with sigma_max = 80 puts 999 twice: a pipeline loop starts at index 1 and fails at the end; set_begin_index(0) fixes it", async () => {
    const cfg = { ...SD, use_karras_sigmas: true, sigma_max: 80, sigma_min: 0.002 };
    const s = new EulerDiscreteScheduler(cfg);
    s.setTimesteps(8);
    expect([s.timesteps[0], s.timesteps[1]]).toEqual([999, 999]);
    const model = (x: Tensor) => tensor(new Float64Array(x.data.length), x.shape);
    await expect(denoisingLoop(s, model, t64([0.3]))).rejects.toThrow(
      /step index 8 is past the end of the schedule/,
    );
    const ok = new EulerDiscreteScheduler(cfg);
    ok.setTimesteps(8);
    ok.setBeginIndex(0);
    const out = await denoisingLoop(ok, model, t64([0.3]));
    expect(out.data[0]).toBeCloseTo(0.3 * 80, 9); // eps = 0: x stays at x_init
  });
  it("step() before setTimesteps runs on the construction-time training schedule, as in diffusers", () => {
    const s = new EulerDiscreteScheduler(SD);
    expect(s.timesteps.length).toBe(1000);
    expect(s.sigmas.length).toBe(1001);
    const r = s.step(t64([0]), 999, t64([2]));
    // eps = 0: x0 = x, derivative 0, prev = float32(x)
    expect(r.prevSample.data[0]).toBe(2);
    expect(s.stepIndex).toBe(1);
  });
  it("stepping past the end of the schedule is refused", () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps(1);
    s.step(t64([0]), 0, t64([1]));
    expect(() => s.step(t64([0]), 0, t64([1]))).toThrow(/past the end of the schedule/);
  });
  it("setBeginIndex checks its argument", () => {
    expect(() => new EulerDiscreteScheduler().setBeginIndex(-1)).toThrow(/non-negative integer/);
  });
});

describe("Euler step arithmetic (float32 quirks checked against the formulas)", () => {
  const s0 = () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps(10);
    return s;
  };
  it("a float64 run casts the sample to float32 first (epsilon)", () => {
    const s = s0();
    const x = 1.1,
      eps = 0.3; // 1.1 is not a float32
    const r = s.step(t64([eps]), s.timesteps[0], t64([x]));
    const sigma = s.sigmas[0],
      next = s.sigmas[1];
    const xs = f(x);
    const x0 = xs - sigma * eps;
    const d = (xs - x0) / sigma;
    expect(r.predOriginalSample.data[0]).toBe(x0);
    expect(r.prevSample.data[0]).toBe(xs + d * f(next - sigma));
    expect(r.prevSample.data[0]).not.toBe(x + ((x - (x - sigma * eps)) / sigma) * f(next - sigma));
  });
  it("v-prediction divides the float32 sample by float32(sigma^2 + 1) in float32", () => {
    const s = new EulerDiscreteScheduler({ ...SD, prediction_type: "v_prediction" });
    s.setTimesteps(10);
    const x = 0.7,
      v = -0.2;
    const r = s.step(t64([v]), s.timesteps[2], t64([x]));
    const sigma = s.sigmas[2];
    const den = f(f(sigma * sigma) + 1);
    const cOut = f(-sigma / f(Math.sqrt(den)));
    const x0 = v * cOut + f(f(x) / den);
    expect(r.predOriginalSample.data[0]).toBe(x0);
  });
  it("float32 tensors round every operation", () => {
    const s = s0();
    const x = tensor(Float32Array.of(1.5), [1, 1]),
      e = tensor(Float32Array.of(0.25), [1, 1]);
    const r = s.step(e, s.timesteps[0], x);
    const sigma = s.sigmas[0],
      dt = f(s.sigmas[1] - sigma);
    const x0 = f(1.5 - f(sigma * 0.25));
    const d = f(f(1.5 - x0) / sigma);
    expect(r.prevSample.dtype).toBe("float32");
    expect(r.prevSample.data[0]).toBe(f(1.5 + f(d * dt)));
  });
  it("churn: gamma = min(s_churn / (len(sigmas) - 1), sqrt2 - 1), noise drawn only where gamma > 0", () => {
    const s = s0();
    const noise = new CountingNoise(0.5);
    const sChurn = 2,
      sNoise = 1;
    const r = s.step(t64([0.1]), s.timesteps[0], t64([1]), { sChurn, sNoise, generator: noise });
    const sigma = s.sigmas[0];
    const gamma = Math.min(sChurn / (s.sigmas.length - 1), Math.SQRT2 - 1);
    const sh = f(sigma * f(gamma + 1));
    const c = f(Math.sqrt(f(f(sh * sh) - f(sigma * sigma))));
    const xc = 1 + 0.5 * sNoise * c;
    const x0 = xc - sh * 0.1;
    expect(noise.count).toBe(1);
    expect(r.predOriginalSample.data[0]).toBe(x0);
    expect(r.prevSample.data[0]).toBe(xc + ((xc - x0) / sh) * f(s.sigmas[1] - sh));
    // outside the window: no draw, no churn
    s.step(t64([0.1]), 0, t64([1]), { sChurn, sTmax: 1, generator: noise });
    expect(noise.count).toBe(1);
  });
  it("the churn window compares sigma with float32(s_tmin) / float32(s_tmax)", () => {
    const s = s0();
    const sigma = s.sigmas[0];
    const justAbove = sigma + sigma * 1e-12; // rounds to sigma in float32
    const noise = new CountingNoise();
    s.step(t64([0]), s.timesteps[0], t64([1]), { sChurn: 1, sTmin: justAbove, generator: noise });
    expect(noise.count).toBe(1);
  });
  it("a step that needs noise without a generator is refused", () => {
    const s = s0();
    expect(() => s.step(t64([0]), s.timesteps[0], t64([1]), { sChurn: 1 })).toThrow(
      /draws noise but no generator was given/,
    );
  });
  it("writes into given buffers, in place included, with the same values", () => {
    const a = s0(),
      b = s0();
    const x = t64([0.3, -1.2, 2.5], [3, 1]),
      e = t64([0.1, 0.2, -0.3], [3, 1]);
    const fresh = a.step(e, a.timesteps[0], x);
    const inPlace = tensor(Float64Array.from(x.data), x.shape);
    const pred = tensor(new Float64Array(3), [3, 1]);
    const r = b.step(e, b.timesteps[0], inPlace, { out: { prevSample: inPlace, predOriginalSample: pred } });
    expect(r.prevSample).toBe(inPlace);
    expect(Array.from(inPlace.data)).toEqual(Array.from(fresh.prevSample.data));
    expect(Array.from(pred.data)).toEqual(Array.from(fresh.predOriginalSample.data));
    expect(() => s0().step(e, 999, x, { out: { prevSample: tensor(new Float32Array(3), [3, 1]) } })).toThrow(
      /must be float64/,
    );
  });
  it("refuses mismatched shapes and bad prediction types", () => {
    const s = s0();
    expect(() => s.step(t64([0, 1]), 999, t64([0]))).toThrow(/model_output has 2 values but sample has 1/);
    expect(() => s.step(Float32Array.of(0) as never, 999, t64([0]))).toThrow(
      /model_output must be a Tensor .* got Float32Array/,
    );
    expect(() => s.scaleModelInput([1, 2] as never, 999)).toThrow(/scaleModelInput: sample must be a Tensor/);
    expect(() => s.step(t64([0]), 999, t64([0]), { s_churn: 1 } as never)).toThrow(
      /unknown option "s_churn"/,
    );
    const h = new HeunDiscreteScheduler();
    h.setTimesteps(2);
    expect(() => h.step(t64([0]), 999, t64([0]), { sChurn: 1 } as never)).toThrow(
      /HeunDiscreteScheduler.step: unknown option "sChurn"/,
    );
    const p = new EulerDiscreteScheduler({ prediction_type: "x0" });
    p.setTimesteps(2);
    expect(() => p.step(t64([0]), 999, t64([0]))).toThrow(/prediction_type "x0" must be one of/);
  });
});

describe("Euler-ancestral", () => {
  it("draws noise on every step, the last one (sigma_up = 0) included", async () => {
    const s = new EulerAncestralDiscreteScheduler(SD);
    s.setTimesteps(7);
    const noise = new CountingNoise(1);
    const out = await denoisingLoop(s, (x) => tensor(new Float64Array(x.data.length), x.shape), t64([0.5]), {
      noise,
    });
    expect(noise.count).toBe(7);
    expect(Number.isFinite(out.data[0])).toBe(true);
  });
  it("sigma_up / sigma_down in float32", () => {
    const s = new EulerAncestralDiscreteScheduler(SD);
    s.setTimesteps(4);
    const noise = new CountingNoise(1);
    const r = s.step(t64([0]), s.timesteps[0], t64([1]), { generator: noise });
    const sf = s.sigmas[0],
      st = s.sigmas[1];
    const to2 = f(st * st),
      from2 = f(sf * sf);
    const up = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
    const down = f(Math.sqrt(f(to2 - f(up * up))));
    // eps = 0: x0 = x, derivative 0, prev = x + 1 * sigma_up
    expect(r.prevSample.data[0]).toBe(1 + up);
    expect(down).toBeLessThan(st);
  });
  it("sample prediction raises NotImplementedError as in diffusers", () => {
    const s = new EulerAncestralDiscreteScheduler({ prediction_type: "sample" });
    s.setTimesteps(3);
    expect(() => s.step(t64([0]), s.timesteps[0], t64([0]), { generator: new CountingNoise() })).toThrow(
      /"sample" is not implemented/,
    );
  });
  it("one generator per batch row draws like torch.randn((1, ...), generator=g_b)", () => {
    const gens = [new TorchGenerator(1), new TorchGenerator(2)];
    const out = tensor(new Float32Array(2 * 24), [2, 24]);
    drawNoise("test", gens, out);
    const ref = stackedRandn([new TorchGenerator(1), new TorchGenerator(2)], [24], "float32");
    expect(Array.from(out.data)).toEqual(Array.from(ref.data));
    // and through step(): the same as core's PerSampleTorchNoise
    const a = new EulerAncestralDiscreteScheduler(SD),
      b = new EulerAncestralDiscreteScheduler(SD);
    a.setTimesteps(5);
    b.setTimesteps(5);
    const x = tensor(new Float32Array(48).fill(0.5), [2, 24]),
      e = tensor(new Float32Array(48).fill(0.1), [2, 24]);
    const ra = a.step(e, a.timesteps[0], x, { generator: [new TorchGenerator(7), new TorchGenerator(8)] });
    const rb = b.step(e, b.timesteps[0], x, { generator: new PerSampleTorchNoise([7, 8]) });
    expect(Array.from(ra.prevSample.data)).toEqual(Array.from(rb.prevSample.data));
    expect(() => drawNoise("test", [new TorchGenerator(1)], out)).toThrow(
      /1 generators for a batch of 2 rows/,
    );
  });
  it("refuses custom timesteps / sigmas (diffusers' set_timesteps has no such arguments)", () => {
    const s = new EulerAncestralDiscreteScheduler();
    expect(() => s.setTimesteps({ timesteps: [999, 500] } as never)).toThrow(
      /unknown option "timesteps".*no custom timesteps/,
    );
    expect(() => s.setTimesteps(-1)).toThrow(/non-negative integer/);
  });
});

describe("Heun's two phases", () => {
  it("interleaves timesteps (2N - 1) and sigmas (2N)", () => {
    const s = new HeunDiscreteScheduler(SD);
    s.setTimesteps(3);
    expect(Array.from(s.timesteps)).toEqual([999, 499.5, 499.5, 0, 0]);
    const sg = Array.from(s.sigmas);
    expect(sg.length).toBe(6);
    expect([sg[1] === sg[2], sg[3] === sg[4], sg[5]]).toEqual([true, true, 0]);
  });
  it("stores derivative, dt and sample in the predictor and averages in the corrector", () => {
    const s = new HeunDiscreteScheduler(SD);
    s.setTimesteps(3);
    const x = t64([1.25]);
    expect(s.stateInFirstOrder).toBe(true);
    const p = s.step(t64([0.5]), s.timesteps[0], x);
    const s0 = s.sigmas[0],
      s1 = s.sigmas[1];
    const d1 = (1.25 - (1.25 - s0 * 0.5)) / s0;
    const dt = f(s1 - s0);
    expect(s.stateInFirstOrder).toBe(false);
    expect(s.dt).toBe(dt);
    expect(s.prevDerivative!.data[0]).toBe(d1);
    expect(s.sample!.data[0]).toBe(1.25);
    expect(p.prevSample.data[0]).toBe(1.25 + d1 * dt);
    const xm = p.prevSample.data[0];
    const c = s.step(t64([0.4]), s.timesteps[1], p.prevSample);
    const d2 = (xm - (xm - s1 * 0.4)) / s1;
    expect(c.prevSample.data[0]).toBe(1.25 + ((d1 + d2) / 2) * dt);
    expect(s.stateInFirstOrder).toBe(true);
    expect(s.dt).toBe(null);
  });
  it("clip_sample clamps x0 to +-clip_sample_range", () => {
    const s = new HeunDiscreteScheduler({ ...SD, clip_sample: true, clip_sample_range: 0.5 });
    s.setTimesteps(2);
    const r = s.step(t64([-1]), s.timesteps[0], t64([0]));
    expect(r.predOriginalSample.data[0]).toBe(0.5);
  });
  it("setTimesteps clears the stored state; custom sigmas are refused", () => {
    const s = new HeunDiscreteScheduler(SD);
    s.setTimesteps(3);
    s.step(t64([0.5]), s.timesteps[0], t64([1]));
    s.setTimesteps(3);
    expect(s.stateInFirstOrder).toBe(true);
    expect(s.stepIndex).toBe(null);
    expect(() => s.setTimesteps({ sigmas: [1, 0] } as never)).toThrow(
      /unknown option "sigmas".*no custom sigmas/,
    );
    expect(() => s.setTimesteps(0)).toThrow(/positive integer/);
  });
  it("the denoising loop reports phases 1, 2, ..., and a final predictor into sigma 0", async () => {
    const s = new HeunDiscreteScheduler(SD);
    s.setTimesteps(3);
    const phases: unknown[] = [];
    await denoisingLoop(s, (x) => tensor(new Float64Array(x.data.length), x.shape), t64([1]), {
      observer: { onStep: (e) => phases.push(e.fields.phase) },
    });
    expect(phases).toEqual([1, 2, 1, 2, 1]);
  });
});

describe("add_noise and get_velocity", () => {
  it("add_noise: schedule lookup without a begin index, begin/step index with one", () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps(4);
    const x = t64([1, 2], [2, 1]),
      n = t64([0.5, -0.5], [2, 1]);
    const r = s.addNoise(x, n, [s.timesteps[1], s.timesteps[2]]);
    expect(Array.from(r.data)).toEqual([1 + 0.5 * s.sigmas[1], 2 - 0.5 * s.sigmas[2]]);
    const one = s.addNoise(x, n, s.timesteps[3]); // broadcast
    expect(Array.from(one.data)).toEqual([1 + 0.5 * s.sigmas[3], 2 - 0.5 * s.sigmas[3]]);
    s.setBeginIndex(2);
    expect(s.addNoise(x, n, 12345).data[0]).toBe(1 + 0.5 * s.sigmas[2]);
    s.step(t64([0, 0], [2, 1]), 0, x);
    expect(s.addNoise(x, n, 12345).data[0]).toBe(1 + 0.5 * s.sigmas[3]);
    expect(() => s.addNoise(x, n, [1, 2, 3])).toThrow(/3 timesteps for a batch of 2 rows/);
  });
  it("add_noise in float32 rounds the product and the sum", () => {
    const s = new EulerAncestralDiscreteScheduler(SD);
    s.setTimesteps(4);
    const x = tensor(Float32Array.of(0.1), [1]),
      n = tensor(Float32Array.of(0.3), [1]);
    expect(s.addNoise(x, n, s.timesteps[0]).data[0]).toBe(f(f(0.1) + f(f(0.3) * s.sigmas[0])));
  });
  it("get_velocity uses alphas_cumprod at the POSITION of t in the schedule (diffusers' indexing)", () => {
    const s = new EulerDiscreteScheduler(SD);
    const x = t64([1]),
      n = t64([0.5]);
    const v = s.getVelocity(x, n, [999]).data[0]; // position 0 of [999, ..., 0]
    const a = s.alphasCumprod[0];
    expect(v).toBe(Math.sqrt(a) * 0.5 - Math.sqrt(1 - a) * 1);
  });
});

describe("set_timesteps edge cases", () => {
  it("linspace: N = 1 gives [0], N = 3 gives 499.5", () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps(1);
    expect(Array.from(s.timesteps)).toEqual([0]);
    s.setTimesteps(3);
    expect(Array.from(s.timesteps)).toEqual([999, 499.5, 0]);
  });
  it("leading with steps_offset 1 and N = T reaches t = T (np.interp clamps the sigma)", () => {
    const s = new EulerDiscreteScheduler({ ...SD, timestep_spacing: "leading", steps_offset: 1 });
    s.setTimesteps(1000);
    expect(s.timesteps[0]).toBe(1000);
    expect(s.sigmas[0]).toBe(s.sigmas[1]); // t = 1000 and t = 999 both read table[999]
  });
  it("trailing spacing", () => {
    const s = new EulerDiscreteScheduler(SD);
    const t = new EulerDiscreteScheduler({ ...SD, timestep_spacing: "trailing" });
    t.setTimesteps(4);
    expect(Array.from(t.timesteps)).toEqual([999, 749, 499, 249]);
    expect(s.initNoiseSigma).toBe(s.sigmas[0]);
  });
  it("log_linear gives N + 2 sigmas for N timesteps and ends at the smallest training sigma", () => {
    const s = new EulerDiscreteScheduler({ ...SD, interpolation_type: "log_linear" });
    s.setTimesteps(10);
    expect(s.timesteps.length).toBe(10);
    expect(s.sigmas.length).toBe(12);
    expect(s.sigmas[11]).toBe(0);
    expect(s.sigmas[10]).toBeCloseTo(0.0292, 4);
  });
  it("final_sigmas_type sigma_min ends at sigma(t = 0) instead of 0", () => {
    const s = new EulerDiscreteScheduler({ ...SD, final_sigmas_type: "sigma_min" });
    s.setTimesteps(5);
    const a0 = s.alphasCumprod[0];
    expect(s.sigmas[5]).toBe(f(Math.sqrt(f(f(1 - a0) / a0))));
  });
  it("custom sigmas get _sigma_to_t timesteps; custom timesteps keep theirs", () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps({ sigmas: [s.sigmas[0], 0] });
    expect(s.timesteps[0]).toBe(999);
    s.setTimesteps({ timesteps: [900, 100] });
    expect(Array.from(s.timesteps)).toEqual([900, 100]);
    expect(s.numInferenceSteps).toBe(2);
  });
  it("continuous v-prediction timesteps are log(sigma) / 4", () => {
    const s = new EulerDiscreteScheduler({
      ...SD,
      prediction_type: "v_prediction",
      timestep_type: "continuous",
    });
    s.setTimesteps(4);
    for (let i = 0; i < 4; i++) expect(s.timesteps[i]).toBeCloseTo(Math.log(s.sigmas[i]) / 4, 6);
  });
  it("refusals name the conflict", () => {
    const s = new EulerDiscreteScheduler(SD);
    expect(() => s.setTimesteps({})).toThrow(/exactly one of numInferenceSteps, timesteps or sigmas/);
    expect(() => s.setTimesteps({ numInferenceSteps: 4, timesteps: [1] })).toThrow(/only one of/);
    expect(() => s.setTimesteps({ timesteps: [1], sigmas: [1, 0] })).toThrow(
      /only one of timesteps or sigmas/,
    );
    expect(() => s.setTimesteps(2.5)).toThrow(/non-negative integer/);
    expect(() => s.setTimesteps({ timesteps: [1, Number.NaN] })).toThrow(/timesteps\[1\] must be a number/);
    const k = new EulerDiscreteScheduler({ use_karras_sigmas: true });
    expect(() => k.setTimesteps({ timesteps: [999, 1] })).toThrow(/cannot be used with use_karras_sigmas/);
    const c = new EulerDiscreteScheduler({ prediction_type: "v_prediction", timestep_type: "continuous" });
    expect(() => c.setTimesteps({ timesteps: [999, 1] })).toThrow(/continuous/);
    const l = new EulerDiscreteScheduler({ timestep_spacing: "leading" });
    expect(() => l.setTimesteps(0)).toThrow(/must be positive with timestep_spacing "leading"/);
  });
  it("steps beyond num_train_timesteps are accepted as diffusers accepts them", () => {
    const s = new EulerDiscreteScheduler({ ...SD, num_train_timesteps: 100 });
    s.setTimesteps(150);
    expect(s.timesteps.length).toBe(150);
    expect(s.timesteps[0]).toBe(99);
  });
});

describe("denoisingLoop", () => {
  it("takes a function model or a DiscreteModel and reports every call and step", async () => {
    const s = new EulerDiscreteScheduler(SD);
    s.setTimesteps(6);
    const calls: number[] = [],
      steps: number[] = [];
    const out = await denoisingLoop(
      s,
      async (x, t) =>
        tensor(
          Float64Array.from(x.data, (v) => v * 0 + t / 1000),
          x.shape,
        ),
      t64([1, -1], [2, 1]),
      {
        observer: {
          onModelCall: (e) => calls.push(e.timestep![0]),
          onStep: (e) => steps.push(e.fields.step_index_after as number),
        },
      },
    );
    expect(calls).toEqual(Array.from(s.timesteps));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.shape).toEqual([2, 1]);
    await expect(denoisingLoop(s, "model" as never, t64([1]))).rejects.toThrow(/model must be a function/);
    s.setTimesteps(2);
    await expect(denoisingLoop(s, (_x) => tensor(new Float64Array(3), [3]), t64([1]))).rejects.toThrow(
      /returned 3 values at step 0, expected 1/,
    );
  });
  it("float32 latents with a float32 model stay float32", async () => {
    const s = new EulerAncestralDiscreteScheduler(SD);
    s.setTimesteps(4);
    const out = await denoisingLoop(
      s,
      (x) => tensor(new Float32Array(x.data.length), x.shape),
      tensor(Float32Array.of(1, 2), [2]),
      {
        generator: new TorchGenerator(0),
      },
    );
    expect(out.dtype).toBe("float32");
  });
});
