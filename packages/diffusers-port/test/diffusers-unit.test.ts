/**
 * diffusers' own scheduler tests (tests/schedulers/test_scheduler_euler.py,
 * test_scheduler_heun.py, test_scheduler_euler_ancestral.py with SchedulerCommonTest's
 * dummy_model / dummy_sample_deter / dummy_noise_deter), run through this package's API.
 * Each assertion is the one diffusers makes: |result_sum - expected| < 1e-2 and
 * |result_mean - expected| < 1e-3 (1e-2 where diffusers uses it), and the custom
 * timesteps / sigmas equivalences (sum |a - b| < 1e-5).
 *
 * The tests' loop reassigns `sample = scale_model_input(sample, t)` and steps on the scaled
 * sample; that is reproduced as written. Tensors are float32 like torch's defaults, and
 * `torch.manual_seed(0)` is core's TorchGenerator(0).
 */
import { type Tensor, TorchGenerator } from "@edmkit/core";
import { describe, expect, it } from "vitest";
import {
  type AnyScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
} from "../src/index.js";
import { deterministic, dummyModel, expectDiffusers, sumMean, times } from "./scheduler-test-helpers.js";

const NUM_INFERENCE_STEPS = 10;

function config(extra: Record<string, unknown> = {}) {
  return { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: "linear", ...extra };
}

/** The tests' full loop; `withNoise` is test_full_loop_with_noise (img2img from t_start). */
function fullLoop(scheduler: AnyScheduler, opts: { withNoise?: boolean } = {}): Tensor {
  const generator = new TorchGenerator(0);
  let sample = times(deterministic(false), scheduler.initNoiseSigma);
  let timesteps: number[] = Array.from(scheduler.timesteps);
  if (opts.withNoise) {
    const tStart = NUM_INFERENCE_STEPS - 2;
    timesteps = timesteps.slice(tStart * scheduler.order);
    sample = scheduler.addNoise(sample, deterministic(true), [timesteps[0]]);
  }
  for (const t of timesteps) {
    sample = scheduler.scaleModelInput(sample, t);
    const modelOutput = dummyModel(sample, t);
    sample =
      scheduler instanceof HeunDiscreteScheduler
        ? scheduler.step(modelOutput, t, sample).prevSample
        : scheduler.step(modelOutput, t, sample, { generator }).prevSample;
  }
  return sample;
}

function make<S extends AnyScheduler>(
  C: new (c: Record<string, unknown>) => S,
  extra: Record<string, unknown> = {},
): S {
  const s = new C(config(extra));
  s.setTimesteps(NUM_INFERENCE_STEPS);
  return s;
}

function absDiffSum(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i] - b.data[i]);
  return s;
}

describe("EulerDiscreteSchedulerTest", () => {
  it("test_full_loop_no_noise / test_full_loop_device", () => {
    expectDiffusers(fullLoop(make(EulerDiscreteScheduler)), 10.0807, 0.0131);
  });
  it("test_full_loop_with_v_prediction", () => {
    expectDiffusers(
      fullLoop(make(EulerDiscreteScheduler, { prediction_type: "v_prediction" })),
      0.0002,
      2.2676e-6,
    );
  });
  it("test_full_loop_device_karras_sigmas", () => {
    expectDiffusers(
      fullLoop(make(EulerDiscreteScheduler, { use_karras_sigmas: true })),
      124.52299499511719,
      0.16213932633399963,
    );
  });
  it("test_full_loop_with_noise", () => {
    expectDiffusers(fullLoop(make(EulerDiscreteScheduler), { withNoise: true }), 57062.9297, 74.3007);
  });
  it("test_custom_timesteps", () => {
    for (const prediction_type of ["epsilon", "sample", "v_prediction"])
      for (const interpolation_type of ["linear", "log_linear"])
        for (const final_sigmas_type of ["sigma_min", "zero"]) {
          const extra = { prediction_type, interpolation_type, final_sigmas_type };
          const a = fullLoop(make(EulerDiscreteScheduler, extra));
          const ref = make(EulerDiscreteScheduler, extra);
          const s = new EulerDiscreteScheduler(config(extra));
          s.setTimesteps({ timesteps: ref.timesteps });
          expect(absDiffSum(a, fullLoop(s)), JSON.stringify(extra)).toBeLessThan(1e-5);
        }
  });
  it("test_custom_sigmas", () => {
    for (const prediction_type of ["epsilon", "sample", "v_prediction"])
      for (const final_sigmas_type of ["sigma_min", "zero"]) {
        const extra = { prediction_type, final_sigmas_type };
        const a = fullLoop(make(EulerDiscreteScheduler, extra));
        const ref = make(EulerDiscreteScheduler, extra);
        const s = new EulerDiscreteScheduler(config(extra));
        s.setTimesteps({ sigmas: ref.sigmas });
        expect(absDiffSum(a, fullLoop(s)), JSON.stringify(extra)).toBeLessThan(1e-5);
      }
  });
});

describe("HeunDiscreteSchedulerTest", () => {
  it("test_full_loop_no_noise / test_full_loop_device", () => {
    expectDiffusers(fullLoop(make(HeunDiscreteScheduler)), 0.1233, 0.0002);
  });
  it("test_full_loop_with_v_prediction", () => {
    expectDiffusers(
      fullLoop(make(HeunDiscreteScheduler, { prediction_type: "v_prediction" })),
      4.6934e-7,
      6.1112e-10,
    );
  });
  it("test_full_loop_device_karras_sigmas", () => {
    expectDiffusers(
      fullLoop(make(HeunDiscreteScheduler, { use_karras_sigmas: true })),
      0.00015,
      1.9869554535034695e-7,
      1e-2,
      1e-2,
    );
  });
  it("test_full_loop_with_noise", () => {
    expectDiffusers(fullLoop(make(HeunDiscreteScheduler), { withNoise: true }), 75074.8906, 97.7538);
  });
  it("test_custom_timesteps", () => {
    for (const prediction_type of ["epsilon", "sample", "v_prediction"])
      for (const timestep_spacing of ["linspace", "leading"]) {
        const extra = { prediction_type, timestep_spacing };
        const a = fullLoop(make(HeunDiscreteScheduler, extra));
        const ts = make(HeunDiscreteScheduler, extra).timesteps;
        // torch.cat([timesteps[:1], timesteps[1::2]]): one entry per solver step
        const custom = [ts[0], ...Array.from(ts).filter((_, i) => i % 2 === 1)];
        const s = new HeunDiscreteScheduler(config(extra));
        s.setTimesteps({ timesteps: custom });
        expect(absDiffSum(a, fullLoop(s)), JSON.stringify(extra)).toBeLessThan(1e-5);
      }
  });
});

describe("EulerAncestralDiscreteSchedulerTest (torch.manual_seed(0) noise)", () => {
  it("test_full_loop_no_noise / test_full_loop_device", () => {
    expectDiffusers(fullLoop(make(EulerAncestralDiscreteScheduler)), 152.3192, 0.1983);
  });
  it("test_full_loop_with_v_prediction", () => {
    expectDiffusers(
      fullLoop(make(EulerAncestralDiscreteScheduler, { prediction_type: "v_prediction" })),
      108.4439,
      0.1412,
    );
  });
  it("test_full_loop_with_noise", () => {
    expectDiffusers(fullLoop(make(EulerAncestralDiscreteScheduler), { withNoise: true }), 56163.0508, 73.129);
  });
  it("draws from the generator: another seed gives another result", () => {
    const s = make(EulerAncestralDiscreteScheduler);
    const other = (() => {
      const g = new TorchGenerator(1);
      let x = times(deterministic(false), s.initNoiseSigma);
      for (const t of Array.from(s.timesteps)) {
        x = s.scaleModelInput(x, t);
        x = s.step(dummyModel(x, t), t, x, { generator: g }).prevSample;
      }
      return sumMean(x).sum;
    })();
    expect(Math.abs(other - 152.3192)).toBeGreaterThan(1);
  });
});

type SigmaScheduler = EulerDiscreteScheduler | HeunDiscreteScheduler | EulerAncestralDiscreteScheduler;

describe("config round trip (check_over_configs: save_config + from_pretrained)", () => {
  it("a scheduler rebuilt from its own config steps identically", () => {
    for (const C of [
      EulerDiscreteScheduler,
      HeunDiscreteScheduler,
      EulerAncestralDiscreteScheduler,
    ] as const) {
      const a = make(C as never, {
        beta_schedule: "scaled_linear",
        timestep_spacing: "leading",
        steps_offset: 1,
      }) as SigmaScheduler;
      const b = new (C as new (c: Record<string, unknown>) => SigmaScheduler)(
        JSON.parse(JSON.stringify(a.config)),
      );
      b.setTimesteps(NUM_INFERENCE_STEPS);
      expect(Array.from(b.sigmas)).toEqual(Array.from(a.sigmas));
      expect(Array.from(b.timesteps)).toEqual(Array.from(a.timesteps));
      expect(absDiffSum(fullLoop(a), fullLoop(b))).toBe(0);
    }
  });
});
