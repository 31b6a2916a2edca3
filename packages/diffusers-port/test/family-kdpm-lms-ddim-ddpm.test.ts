/**
 * diffusers' own tests of the second set of schedulers (tests/schedulers/
 * test_scheduler_kdpm2_discrete.py, test_scheduler_kdpm2_ancestral.py, test_scheduler_lms.py,
 * test_scheduler_ddim.py, test_scheduler_ddpm.py), run through this package's API with
 * SchedulerCommonTest's dummy model and samples. Each full-loop assertion is the one diffusers
 * makes (|result_sum - expected| < 1e-2, |result_mean - expected| < 1e-3 unless diffusers
 * uses another bound). The Karras-family loops reassign `sample = scale_model_input(sample,
 * t)` as written upstream; DDIM's loop passes eta positionally and calls no
 * scale_model_input; DDPM's loops run all 1000 training timesteps with plain integer t and
 * no set_timesteps. `torch.manual_seed(0)` is core's TorchGenerator(0).
 */
import { type Tensor, TorchGenerator } from "@edmkit/core";
import { describe, expect, it } from "vitest";
import {
  DDIMScheduler,
  DDPMScheduler,
  KDPM2AncestralDiscreteScheduler,
  KDPM2DiscreteScheduler,
  LMSDiscreteScheduler,
} from "../src/index.js";
import { deterministic, dummyModel, expectDiffusers, times } from "./scheduler-test-helpers.js";

const N = 10;
type KarrasFamily = KDPM2DiscreteScheduler | KDPM2AncestralDiscreteScheduler | LMSDiscreteScheduler;

function karrasConfig(extra: Record<string, unknown> = {}) {
  return { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: "linear", ...extra };
}

/** test_full_loop_* of the KDPM2 / LMS tests; `withNoise` starts at t_start = N - 2 with add_noise. */
function karrasLoop(s: KarrasFamily, opts: { withNoise?: boolean; generator?: boolean } = {}): Tensor {
  s.setTimesteps(N);
  const generator = opts.generator ? new TorchGenerator(0) : undefined;
  let sample = times(deterministic(false), s.initNoiseSigma);
  let timesteps = Array.from(s.timesteps);
  if (opts.withNoise) {
    timesteps = timesteps.slice((N - 2) * s.order);
    sample = s.addNoise(sample, deterministic(true), [timesteps[0]]);
  }
  for (const t of timesteps) {
    sample = s.scaleModelInput(sample, t);
    sample = s.step(dummyModel(sample, t), t, sample, generator ? { generator } : {}).prevSample;
  }
  return sample;
}

describe("KDPM2DiscreteSchedulerTest", () => {
  it("test_full_loop_no_noise / test_full_loop_device", () => {
    expectDiffusers(karrasLoop(new KDPM2DiscreteScheduler(karrasConfig())), 20.4125, 0.0266);
  });
  it("test_full_loop_with_v_prediction", () => {
    const s = new KDPM2DiscreteScheduler(karrasConfig({ prediction_type: "v_prediction" }));
    expectDiffusers(karrasLoop(s), 4.6934e-7, 6.1112e-10);
  });
  it("test_full_loop_with_noise", () => {
    expectDiffusers(
      karrasLoop(new KDPM2DiscreteScheduler(karrasConfig()), { withNoise: true }),
      70408.4062,
      91.6776,
    );
  });
  it("test_beta_sigmas / test_exponential_sigmas build finite schedules; more than one is refused", () => {
    for (const k of ["use_beta_sigmas", "use_exponential_sigmas", "use_karras_sigmas"]) {
      const s = new KDPM2DiscreteScheduler(karrasConfig({ [k]: true }));
      s.setTimesteps(N);
      expect(s.timesteps.length).toBe(2 * N - 1);
      expect(Array.from(s.sigmas).every(Number.isFinite)).toBe(true);
    }
    expect(() => new KDPM2DiscreteScheduler({ use_karras_sigmas: true, use_beta_sigmas: true })).toThrow(
      /only one of use_beta_sigmas/,
    );
  });
  it("refuses prediction_type sample at step (NotImplementedError in diffusers)", () => {
    const s = new KDPM2DiscreteScheduler(karrasConfig({ prediction_type: "sample" }));
    s.setTimesteps(N);
    const x = deterministic(false);
    expect(() => s.step(x, s.timesteps[0], x)).toThrow(/"sample" is not implemented/);
  });
});

describe("KDPM2AncestralDiscreteSchedulerTest", () => {
  it("test_full_loop_no_noise / test_full_loop_device", () => {
    const x = karrasLoop(new KDPM2AncestralDiscreteScheduler(karrasConfig()), { generator: true });
    expectDiffusers(x, 13979.9433, 18.203, 1e-2, 5e-3);
  });
  it("test_full_loop_with_v_prediction", () => {
    const s = new KDPM2AncestralDiscreteScheduler(karrasConfig({ prediction_type: "v_prediction" }));
    expectDiffusers(karrasLoop(s, { generator: true }), 331.8133, 0.432);
  });
  it("test_full_loop_with_noise", () => {
    const x = karrasLoop(new KDPM2AncestralDiscreteScheduler(karrasConfig()), {
      withNoise: true,
      generator: true,
    });
    expectDiffusers(x, 93087.3437, 121.2074, 1e-2, 5e-3);
  });
  it("draws noise only in the second stage (N - 1 draws for N steps)", () => {
    const s = new KDPM2AncestralDiscreteScheduler(karrasConfig());
    s.setTimesteps(N);
    let draws = 0;
    const generator = { randnInto: (a: Float32Array | Float64Array) => (draws++, a.fill(0)) };
    let x = deterministic(false);
    for (const t of s.timesteps)
      x = s.step(dummyModel(s.scaleModelInput(x, t), t), t, x, { generator }).prevSample;
    expect(draws).toBe(N - 1);
  });
});

describe("LMSDiscreteSchedulerTest", () => {
  it("test_full_loop_no_noise / test_full_loop_device", () => {
    expectDiffusers(karrasLoop(new LMSDiscreteScheduler(karrasConfig())), 1006.388, 1.31);
  });
  it("test_full_loop_with_v_prediction", () => {
    const s = new LMSDiscreteScheduler(karrasConfig({ prediction_type: "v_prediction" }));
    expectDiffusers(karrasLoop(s), 0.0017, 2.2676e-6);
  });
  it("test_full_loop_device_karras_sigmas", () => {
    const s = new LMSDiscreteScheduler(karrasConfig({ use_karras_sigmas: true }));
    expectDiffusers(karrasLoop(s), 3812.9927, 4.9648);
  });
  it("test_full_loop_with_noise", () => {
    expectDiffusers(
      karrasLoop(new LMSDiscreteScheduler(karrasConfig()), { withNoise: true }),
      27663.6895,
      36.0204,
    );
  });
  it("caps the order by the steps taken and keeps at most `order` derivatives", () => {
    const s = new LMSDiscreteScheduler(karrasConfig());
    s.setTimesteps(N);
    let x = deterministic(false);
    for (const [i, t] of Array.from(s.timesteps).slice(0, 5).entries()) {
      x = s.step(dummyModel(s.scaleModelInput(x, t), t), t, x, { order: 3 }).prevSample;
      expect(s.derivatives.length).toBe(Math.min(i + 1, 3));
    }
  });
});

function ddimConfig(extra: Record<string, unknown> = {}) {
  return {
    num_train_timesteps: 1000,
    beta_start: 0.0001,
    beta_end: 0.02,
    beta_schedule: "linear",
    clip_sample: true,
    ...extra,
  };
}

/** DDIMSchedulerTest.full_loop: no init_noise_sigma, no scale_model_input, eta positional. */
function ddimLoop(extra: Record<string, unknown> = {}, withNoise = false): Tensor {
  const s = new DDIMScheduler(ddimConfig(extra));
  const eta = 0.0;
  let sample = deterministic(false);
  s.setTimesteps(N);
  let timesteps = Array.from(s.timesteps);
  if (withNoise) {
    timesteps = timesteps.slice(8 * s.order);
    sample = s.addNoise(sample, deterministic(true), [timesteps[0]]);
  }
  for (const t of timesteps) sample = s.step(dummyModel(sample, t), t, sample, eta).prevSample;
  return sample;
}

describe("DDIMSchedulerTest", () => {
  it("test_full_loop_no_noise", () => expectDiffusers(ddimLoop(), 172.0067, 0.223967));
  it("test_full_loop_with_v_prediction", () =>
    expectDiffusers(ddimLoop({ prediction_type: "v_prediction" }), 52.5302, 0.0684));
  it("test_full_loop_with_set_alpha_to_one", () =>
    expectDiffusers(ddimLoop({ set_alpha_to_one: true, beta_start: 0.01 }), 149.8295, 0.1951));
  it("test_full_loop_with_no_set_alpha_to_one", () =>
    expectDiffusers(ddimLoop({ set_alpha_to_one: false, beta_start: 0.01 }), 149.0784, 0.1941));
  it("test_full_loop_with_noise (upstream's failure message still quotes the old 218.4379 / 0.2844)", () =>
    expectDiffusers(ddimLoop({}, true), 354.5418, 0.4616));
  it("test_variance", () => {
    const s = new DDIMScheduler(ddimConfig());
    for (const [t, p, v] of [
      [0, 0, 0],
      [420, 400, 0.14771],
      [980, 960, 0.3246],
      [487, 486, 0.00979],
      [999, 998, 0.02],
    ])
      expect(Math.abs(s.getVariance(t, p) - v)).toBeLessThan(1e-5);
  });
  it("test_steps_offset", () => {
    const s = new DDIMScheduler(ddimConfig({ steps_offset: 1 }));
    s.setTimesteps(5);
    expect(Array.from(s.timesteps)).toEqual([801, 601, 401, 201, 1]);
  });
  it("test_num_inference_steps_zero_raises, and more steps than training timesteps", () => {
    const s = new DDIMScheduler(ddimConfig());
    expect(() => s.setTimesteps(0)).toThrow(/numInferenceSteps/);
    expect(() => s.setTimesteps(1001)).toThrow(/cannot be larger than num_train_timesteps/);
  });
  it("test_thresholding runs on 4-D samples; a 2-D sample is refused as diffusers' reshape fails", () => {
    for (const pt of ["epsilon", "v_prediction"]) {
      const s = new DDIMScheduler(
        ddimConfig({ thresholding: true, prediction_type: pt, sample_max_value: 2 }),
      );
      s.setTimesteps(N);
      const x = deterministic(false);
      const out = s.step(dummyModel(x, 901), 901, x).predOriginalSample;
      expect(Array.from(out.data).every((v) => Math.abs(v) <= 1)).toBe(true);
    }
    const s = new DDIMScheduler(ddimConfig({ thresholding: true }));
    s.setTimesteps(N);
    const flat = { ...deterministic(false), shape: [4, 192] };
    expect(() => s.step(flat, 901, flat)).toThrow(/at least 3 axes/);
  });
  it("refuses both a generator and varianceNoise when eta > 0", () => {
    const s = new DDIMScheduler(ddimConfig());
    s.setTimesteps(N);
    const x = deterministic(false);
    expect(() =>
      s.step(x, 901, x, { eta: 1, generator: new TorchGenerator(0), varianceNoise: deterministic(true) }),
    ).toThrow(/either generator or varianceNoise/);
  });
});

function ddpmConfig(extra: Record<string, unknown> = {}) {
  return {
    num_train_timesteps: 1000,
    beta_start: 0.0001,
    beta_end: 0.02,
    beta_schedule: "linear",
    variance_type: "fixed_small",
    clip_sample: true,
    ...extra,
  };
}

/** DDPMSchedulerTest's loop over reversed(range(1000)) with plain integer t (no set_timesteps). */
function ddpmLoop(extra: Record<string, unknown> = {}, withNoise = false): Tensor {
  const s = new DDPMScheduler(ddpmConfig(extra));
  const generator = new TorchGenerator(0);
  let sample = deterministic(false);
  let timesteps: number[] = [];
  if (withNoise) {
    timesteps = Array.from(s.timesteps).slice((s.length - 2) * s.order);
    sample = s.addNoise(sample, deterministic(true), [timesteps[0]]);
  } else for (let t = s.length - 1; t >= 0; t--) timesteps.push(t);
  for (const t of timesteps) sample = s.step(dummyModel(sample, t), t, sample, { generator }).prevSample;
  return sample;
}

describe("DDPMSchedulerTest", () => {
  it("test_full_loop_no_noise", () => expectDiffusers(ddpmLoop(), 258.9606, 0.3372));
  it("test_full_loop_with_v_prediction", () =>
    expectDiffusers(ddpmLoop({ prediction_type: "v_prediction" }), 202.0296, 0.2631));
  it("test_full_loop_with_noise", () => expectDiffusers(ddpmLoop({}, true), 387.9466, 0.5051));
  it("test_variance", () => {
    const s = new DDPMScheduler(ddpmConfig());
    for (const [t, v] of [
      [0, 0],
      [487, 0.00979],
      [999, 0.02],
    ])
      expect(Math.abs(s.getVariance(t) - v)).toBeLessThan(1e-5);
  });
  it("test_custom_timesteps", () => {
    const s = new DDPMScheduler(ddpmConfig());
    const ts = [100, 87, 50, 1, 0];
    s.setTimesteps({ timesteps: ts });
    Array.from(s.timesteps).forEach((t, i) => {
      expect(s.previousTimestep(t)).toBe(i === ts.length - 1 ? -1 : ts[i + 1]);
    });
  });
  it("test_custom_timesteps_increasing_order / _passing_both / _too_large", () => {
    const s = new DDPMScheduler(ddpmConfig());
    expect(() => s.setTimesteps({ timesteps: [100, 87, 50, 51, 0] })).toThrow(/descending order/);
    expect(() => s.setTimesteps({ numInferenceSteps: 5, timesteps: [100, 87, 50, 1, 0] })).toThrow(
      /only one of numInferenceSteps or timesteps/,
    );
    expect(() => s.setTimesteps({ timesteps: [1000] })).toThrow(/must start before num_train_timesteps/);
  });
  it("test_variance_type: an unknown type falls through to the clamped posterior variance", () => {
    const other = new DDPMScheduler(ddpmConfig({ variance_type: "other" }));
    const small = new DDPMScheduler(ddpmConfig());
    expect(other.getVariance(487)).toBe(small.getVariance(487));
    expect(new DDPMScheduler(ddpmConfig({ variance_type: "fixed_large" })).getVariance(487)).toBe(
      Math.fround(1 - Math.fround(small.alphasCumprod[487] / small.alphasCumprod[486])),
    );
  });
});
