/**
 * diffusers' own full-loop tests of the DPM-Solver / EDM / flow-matching schedulers
 * (tests/schedulers/test_scheduler_dpm_multi.py, test_scheduler_edm_euler.py,
 * test_scheduler_edm_dpmsolver_multistep.py) run through this package's API, with the
 * assertions diffusers makes (|mean - expected| < 1e-3, sums as each test states). The dummy
 * model and samples are SchedulerCommonTest's (see diffusers-unit.test.ts), float32. The
 * flow-matching test file has no full-loop assertion; its scheduler is checked against the
 * recorded fixtures and by the invariants at the end.
 */
import { type Tensor, TorchGenerator, tensor } from "@edmkit/core";
import { describe, expect, it } from "vitest";
import {
  DPMSolverMultistepScheduler,
  EDMDPMSolverMultistepScheduler,
  EDMEulerScheduler,
  FlowMatchEulerDiscreteScheduler,
} from "../src/index.js";

const f = Math.fround;

/** dummy_sample_deter / dummy_noise_deter: arange(768) / 768 as (3, 8, 8, 4) permuted to (4, 3, 8, 8). */
function deter(reversed: boolean): Tensor {
  const d = new Float32Array(768);
  for (let b = 0; b < 4; b++)
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 8; h++)
        for (let w = 0; w < 8; w++) {
          const flat = c * 256 + h * 32 + w * 4 + b;
          d[b * 192 + c * 64 + h * 8 + w] = (reversed ? 767 - flat : flat) / 768;
        }
  return tensor(d, [4, 3, 8, 8]);
}

/** dummy_model: sample * t / (t + 1) with t cast to the sample's dtype (float32). */
function model(sample: Tensor, t: number): Tensor {
  const t32 = f(t),
    den = f(t32 + 1);
  return tensor(
    Float32Array.from(sample.data, (v) => f(v * t32) / den),
    sample.shape,
  );
}

function absStats(x: Tensor): { sum: number; mean: number } {
  let s = 0;
  for (const v of x.data) s += Math.abs(v);
  return { sum: s, mean: s / x.data.length };
}

const DPM_CONFIG = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: "linear",
  solver_order: 2,
  prediction_type: "epsilon",
  thresholding: false,
  sample_max_value: 1.0,
  algorithm_type: "dpmsolver++",
  solver_type: "midpoint",
  lower_order_final: false,
  euler_at_final: false,
  lambda_min_clipped: "-inf" as const,
  variance_type: null,
  final_sigmas_type: "sigma_min",
};

/** DPMSolverMultistepSchedulerTest.full_loop: 10 steps, no scale_model_input, generator seed 0. */
function dpmLoop(s: DPMSolverMultistepScheduler | EDMDPMSolverMultistepScheduler, start?: Tensor): Tensor {
  s.setTimesteps(10);
  const generator = new TorchGenerator(0);
  let sample = start ?? deter(false);
  for (const t of Array.from(s.timesteps))
    sample = s.step(model(sample, t), t, sample, { generator }).prevSample;
  return sample;
}

describe("DPMSolverMultistepSchedulerTest", () => {
  const make = (extra: Record<string, unknown> = {}) =>
    new DPMSolverMultistepScheduler({ ...DPM_CONFIG, ...extra });

  it("test_full_loop_no_noise", () => {
    expect(Math.abs(absStats(dpmLoop(make())).mean - 0.3301)).toBeLessThan(1e-3);
  });
  it("test_full_loop_no_noise_thres", () => {
    const s = make({ thresholding: true, dynamic_thresholding_ratio: 0.87, sample_max_value: 0.5 });
    expect(Math.abs(absStats(dpmLoop(s)).mean - 1.1364)).toBeLessThan(1e-3);
  });
  it("test_full_loop_with_v_prediction", () => {
    expect(Math.abs(absStats(dpmLoop(make({ prediction_type: "v_prediction" }))).mean - 0.2251)).toBeLessThan(
      1e-3,
    );
  });
  it("test_full_loop_with_lu_and_v_prediction", () => {
    const s = make({ prediction_type: "v_prediction", use_lu_lambdas: true });
    expect(Math.abs(absStats(dpmLoop(s)).mean - 0.1554)).toBeLessThan(1e-3);
  });
  it("test_full_loop_with_karras_and_v_prediction", () => {
    const s = make({ prediction_type: "v_prediction", use_karras_sigmas: true });
    expect(Math.abs(absStats(dpmLoop(s)).mean - 0.2096)).toBeLessThan(1e-3);
  });
  it("test_full_loop_with_noise (img2img from t_start = 5)", () => {
    const s = make();
    s.setTimesteps(10);
    const ts = Array.from(s.timesteps).slice(5 * s.order);
    let sample = s.addNoise(deter(false), deter(true), [ts[0]]);
    for (const t of ts) sample = s.step(model(sample, t), t, sample).prevSample;
    const { sum, mean } = absStats(sample);
    expect(Math.abs(sum - 318.4111)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.4146)).toBeLessThan(1e-3);
  });
  it("test_switch (from_config of its own config)", () => {
    const a = make();
    expect(Math.abs(absStats(dpmLoop(a)).mean - 0.3301)).toBeLessThan(1e-3);
    const b = DPMSolverMultistepScheduler.fromConfig(JSON.parse(JSON.stringify(a.config)));
    expect(Math.abs(absStats(dpmLoop(b)).mean - 0.3301)).toBeLessThan(1e-3);
  });
  it("test_solver_order_and_type: no NaN for every algorithm, form, order, prediction", () => {
    for (const algorithm_type of ["dpmsolver", "dpmsolver++"])
      for (const solver_type of ["midpoint", "heun"])
        for (const solver_order of [1, 2, 3])
          for (const prediction_type of ["epsilon", "sample"]) {
            const x = dpmLoop(
              make({
                algorithm_type,
                solver_type,
                solver_order,
                prediction_type,
              }),
            );
            expect(
              x.data.some(Number.isNaN),
              `${algorithm_type} ${solver_type} ${solver_order} ${prediction_type}`,
            ).toBe(false);
          }
  });
  it("test_full_loop_custom_timesteps: custom timesteps reproduce the spaced run", () => {
    for (const algorithm_type of ["dpmsolver++", "sde-dpmsolver++"])
      for (const prediction_type of ["epsilon", "sample", "v_prediction"]) {
        const a = dpmLoop(make({ algorithm_type, prediction_type }));
        const ref = make({ algorithm_type, prediction_type });
        ref.setTimesteps(10);
        const s = make({ algorithm_type, prediction_type });
        s.setTimesteps({ timesteps: ref.timesteps });
        const generator = new TorchGenerator(0);
        let x = deter(false);
        for (const t of Array.from(s.timesteps)) x = s.step(model(x, t), t, x, { generator }).prevSample;
        let d = 0;
        for (let k = 0; k < x.data.length; k++) d += Math.abs(x.data[k] - a.data[k]);
        expect(d).toBeLessThan(1e-5);
      }
  });
  it("refuses what diffusers refuses", () => {
    expect(() => make({ algorithm_type: "dpmsolver", final_sigmas_type: "zero" })).toThrow(
      /final_sigmas_type "zero".*dpmsolver/,
    );
    expect(() => make({ algorithm_type: "unipc" })).toThrow(/algorithm_type "unipc" is not implemented/);
    expect(() => make({ solver_type: "rk4" })).toThrow(/solver_type "rk4"/);
    expect(() => make({ use_karras_sigmas: true, use_beta_sigmas: true })).toThrow(/only one of/);
    expect(() => make({ algorithm_type: "deis", final_sigmas_type: "zero" })).toThrow(
      /final_sigmas_type "zero".*deis/,
    );
    expect(make({ algorithm_type: "deis", final_sigmas_type: "sigma_min" }).config.algorithm_type).toBe(
      "dpmsolver++",
    );
    const s = make({ use_karras_sigmas: true });
    expect(() => s.setTimesteps({ timesteps: [999, 500, 1] })).toThrow(/use_karras_sigmas/);
    expect(() => s.setTimesteps({ numInferenceSteps: 10, mu: 1 })).toThrow(/use_dynamic_shifting/);
    expect(() => make().step(deter(false), 999, deter(false))).toThrow(/setTimesteps/);
    const sde3 = make({ algorithm_type: "sde-dpmsolver", solver_order: 3, final_sigmas_type: "sigma_min" });
    expect(() => dpmLoop(sde3)).toThrow(/UnboundLocalError/);
  });
});

describe("EDMEulerSchedulerTest", () => {
  it("test_full_loop_no_noise / test_full_loop_device", () => {
    const s = new EDMEulerScheduler({ num_train_timesteps: 256, sigma_min: 0.002, sigma_max: 80.0 });
    s.setTimesteps(10);
    const init = f(s.initNoiseSigma);
    let sample = tensor(
      Float32Array.from(deter(false).data, (v) => v * init),
      [4, 3, 8, 8],
    );
    for (const t of Array.from(s.timesteps)) {
      const out = model(s.scaleModelInput(sample, t), t);
      sample = s.step(out, t, sample).prevSample;
    }
    const { sum, mean } = absStats(sample);
    expect(Math.abs(sum - 34.1855)).toBeLessThan(1e-3);
    expect(Math.abs(mean - 0.044)).toBeLessThan(1e-3);
  });
  it("refuses an unknown sigma_schedule or prediction_type", () => {
    expect(() => new EDMEulerScheduler({ sigma_schedule: "linear" })).toThrow(/sigma_schedule/);
    const s = new EDMEulerScheduler({ prediction_type: "sample" });
    s.setTimesteps(4);
    expect(() => s.step(deter(false), s.timesteps[0], deter(false))).toThrow(/prediction_type "sample"/);
  });
});

describe("EDMDPMSolverMultistepSchedulerTest", () => {
  const CONFIG = {
    sigma_min: 0.002,
    sigma_max: 80.0,
    sigma_data: 0.5,
    num_train_timesteps: 1000,
    solver_order: 2,
    prediction_type: "epsilon",
    thresholding: false,
    sample_max_value: 1.0,
    algorithm_type: "dpmsolver++",
    solver_type: "midpoint",
    lower_order_final: false,
    euler_at_final: false,
    final_sigmas_type: "sigma_min",
  };
  const make = (extra: Record<string, unknown> = {}) =>
    new EDMDPMSolverMultistepScheduler({ ...CONFIG, ...extra });

  it("test_full_loop_no_noise", () => {
    expect(Math.abs(absStats(dpmLoop(make())).mean - 0.0001)).toBeLessThan(1e-3);
  });
  it("test_full_loop_no_noise_thres", () => {
    const s = make({ thresholding: true, dynamic_thresholding_ratio: 0.87, sample_max_value: 0.5 });
    expect(Math.abs(absStats(dpmLoop(s)).mean - 0.008)).toBeLessThan(1e-3);
  });
  it("test_full_loop_with_v_prediction", () => {
    expect(Math.abs(absStats(dpmLoop(make({ prediction_type: "v_prediction" }))).mean - 0.0092)).toBeLessThan(
      1e-3,
    );
  });
  it("test_full_loop_with_noise (img2img from t_start = 5)", () => {
    const s = make();
    s.setTimesteps(10);
    const ts = Array.from(s.timesteps).slice(5 * s.order);
    let sample = s.addNoise(deter(false), deter(true), [ts[0]]);
    for (const t of ts) sample = s.step(model(sample, t), t, sample).prevSample;
    const { sum, mean } = absStats(sample);
    expect(Math.abs(sum - 8.1661)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.0106)).toBeLessThan(1e-3);
  });
  it("test_duplicated_timesteps", () => {
    const s = make();
    s.setTimesteps(1000);
    expect(s.timesteps.length).toBe(s.numInferenceSteps);
  });
  it("sde-dpmsolver++ at order 3: the upstream UnboundLocalError becomes a clear error at the same step", () => {
    const s = make({ algorithm_type: "sde-dpmsolver++", solver_order: 3 });
    s.setTimesteps(10);
    const generator = new TorchGenerator(0);
    let x = deter(false);
    const ts = Array.from(s.timesteps);
    for (let i = 0; i < 2; i++) x = s.step(model(x, ts[i]), ts[i], x, { generator }).prevSample;
    expect(() => s.step(model(x, ts[2]), ts[2], x, { generator })).toThrow(
      /"sde-dpmsolver\+\+" with solver_order 3.*UnboundLocalError/,
    );
  });
});

describe("FlowMatchEulerDiscreteScheduler", () => {
  it("construction: sigmas shifted, timesteps = sigma * T, sigma_max 1", () => {
    const s = new FlowMatchEulerDiscreteScheduler({ shift: 3.0 });
    expect(s.sigmaMax).toBe(1);
    expect(s.timesteps[0]).toBe(1000);
    s.setTimesteps(28);
    expect(s.sigmas.length).toBe(29);
    expect(s.sigmas[28]).toBe(0);
    for (let i = 0; i < 28; i++) expect(s.timesteps[i]).toBe(f(s.sigmas[i] * 1000));
  });
  it("refuses what diffusers refuses", () => {
    expect(() => new FlowMatchEulerDiscreteScheduler({ time_shift_type: "cubic" })).toThrow(
      /time_shift_type/,
    );
    expect(
      () => new FlowMatchEulerDiscreteScheduler({ use_karras_sigmas: true, use_beta_sigmas: true }),
    ).toThrow(/only one of/);
    const d = new FlowMatchEulerDiscreteScheduler({ use_dynamic_shifting: true });
    expect(() => d.setTimesteps(10)).toThrow(/mu must be passed/);
    const p = new FlowMatchEulerDiscreteScheduler();
    expect(() => p.setTimesteps({ numInferenceSteps: 3, sigmas: [1, 0.5] })).toThrow(/same length/);
  });
  it("stochastic_sampling draws one float32 tensor per step", () => {
    const s = new FlowMatchEulerDiscreteScheduler({ stochastic_sampling: true });
    s.setTimesteps(4);
    let x = deter(false);
    const generator = new TorchGenerator(0);
    for (const t of Array.from(s.timesteps)) x = s.step(model(x, t), t, x, { generator }).prevSample;
    expect(x.data.some(Number.isNaN)).toBe(false);
    expect(() => {
      const s2 = new FlowMatchEulerDiscreteScheduler({ stochastic_sampling: true });
      s2.setTimesteps(4);
      s2.step(deter(false), s2.timesteps[0], deter(false));
    }).toThrow(/no generator/);
  });
});
