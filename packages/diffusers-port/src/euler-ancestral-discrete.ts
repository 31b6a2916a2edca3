/**
 * Port of diffusers `EulerAncestralDiscreteScheduler`
 * (schedulers/scheduling_euler_ancestral_discrete.py): k-diffusion's "Euler a" (ancestral
 * sampling with eta = 1) as a scheduler.
 */
import { eulerAncestralElements } from "./step-kernels.js";
import { ArgumentError, type Tensor, torchMath } from "@edmkit/core";
import { trainingTables, descendingSigmasWithZero } from "./betas.js";
import {
  type EulerAncestralDiscreteConfig,
  type EulerAncestralDiscreteConfigInput,
  type SchedulerConfigJson,
  eulerAncestralDiscreteConfigSchema,
  resolveConfig,
} from "./config.js";
import {
  type BaseStepOptions,
  DiscreteScheduler,
  type SchedulerOutput,
  checkOptionKeys,
} from "./discrete-scheduler.js";
import { sqrtSigmaSqPlusOneF32 } from "./float32.js";
import { checkGenerator, drawNoise } from "./generator.js";
import { interpolateSigmas, spacedTimesteps } from "./spacing.js";

const f = Math.fround;
const CLASS = "EulerAncestralDiscreteScheduler";
/** The options `step()` takes (generator; `out` is ours). */
export const EULER_ANCESTRAL_STEP_OPTIONS = ["generator", "out"] as const;

export type EulerAncestralStepOptions = BaseStepOptions;

export class EulerAncestralDiscreteScheduler extends DiscreteScheduler {
  readonly order = 1;
  readonly init: EulerAncestralDiscreteConfig;
  /** diffusers' `is_scale_input_called`. */
  isScaleInputCalled = false;

  constructor(
    config: SchedulerConfigJson<EulerAncestralDiscreteConfigInput> = {},
    overrides: Partial<EulerAncestralDiscreteConfigInput> = {},
  ) {
    const resolved = resolveConfig(CLASS, eulerAncestralDiscreteConfigSchema, config, overrides);
    const c = resolved.init;
    const tables = trainingTables(CLASS, c, ["linear", "scaled_linear", "squaredcos_cap_v2"]);
    super(CLASS, resolved, tables);
    this.init = c;
    this.sigmasHeld = descendingSigmasWithZero(tables.trainSigmas);
    // the construction-time timesteps are a float64 numpy linspace (set_timesteps makes float32 ones)
    const ts = new Float64Array(c.num_train_timesteps);
    for (let i = 0; i < ts.length; i++) ts[i] = c.num_train_timesteps - 1 - i;
    this.timestepsHeld = ts;
  }

  static fromConfig(
    config: SchedulerConfigJson<EulerAncestralDiscreteConfigInput>,
    overrides: Partial<EulerAncestralDiscreteConfigInput> = {},
  ): EulerAncestralDiscreteScheduler {
    return new EulerAncestralDiscreteScheduler(config, overrides);
  }

  protected override afterScaleModelInput(): void {
    this.isScaleInputCalled = true;
  }

  /**
   * Port of `set_timesteps(num_inference_steps)`: spaced float32 timesteps, sigmas by np.interp
   * of the float32 table plus a final 0, stored float32. diffusers' Euler-ancestral has no
   * custom timesteps/sigmas and no Karras/exponential/beta options.
   */
  setTimesteps(arg: number | { numInferenceSteps?: number | null }): void {
    const who = `${CLASS}.setTimesteps`;
    const o = typeof arg === "number" ? { numInferenceSteps: arg } : (arg ?? {});
    checkOptionKeys(
      who,
      o,
      ["numInferenceSteps"],
      " (diffusers' Euler-ancestral set_timesteps has no custom timesteps or sigmas)",
    );
    const n = o.numInferenceSteps;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw new ArgumentError(`${who}: numInferenceSteps must be a non-negative integer, got ${String(n)}`);
    }
    const c = this.init;
    this.numInferenceSteps = n;
    const timesteps = spacedTimesteps(who, c.timestep_spacing, n, c.num_train_timesteps, c.steps_offset);
    const base = interpolateSigmas(timesteps, this.trainSigmas);
    const sigmas = new Float32Array(base.length + 1);
    sigmas.set(Float32Array.from(base));
    this.sigmasHeld = sigmas;
    this.timestepsHeld = timesteps;
    this.resetRunState();
  }

  /**
   * Port of `step(model_output, timestep, sample, generator)`:
   * - the sample is cast to float32, the step runs in the model output's dtype;
   * - x0: epsilon x − σ·ε; v_prediction v·(−σ/√(σ² + 1)) +
   *   x/(σ² + 1) (that division on the float32 sample); "sample" raises
   *   NotImplementedError in diffusers and here;
   * - σ_up = √(σ_to²(σ_from² − σ_to²)/σ_from²) and σ_down = √(σ_to² − σ_up²), all
   *   float32;
   * - x = x + ((x − x0)/σ)·(σ_down − σ), then + noise·σ_up with
   *   one draw on EVERY step, including the last where sigma_up = 0.
   */
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: EulerAncestralStepOptions = {},
  ): SchedulerOutput {
    const who = "step";
    this.checkStepInputs(who, modelOutput, sample, options, EULER_ANCESTRAL_STEP_OPTIONS);
    checkGenerator(CLASS, options.generator);
    const pt = this.init.prediction_type;
    if (pt === "sample")
      throw new ArgumentError(
        `${CLASS}.step: prediction_type "sample" is not implemented (diffusers raises NotImplementedError)`,
      );
    if (pt !== "epsilon" && pt !== "v_prediction") {
      throw new ArgumentError(
        `${CLASS}.step: prediction_type ${JSON.stringify(pt)} must be one of "epsilon" or "v_prediction"`,
      );
    }
    const i = this.currentStepIndex(who, timestep, true);
    const sigmas = this.sigmasHeld;
    const sigma = sigmas[i];
    const sFrom = sigma,
      sTo = sigmas[i + 1];
    const to2 = f(sTo * sTo),
      from2 = f(sFrom * sFrom);
    const sigmaUp = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
    const sigmaDown = f(Math.sqrt(f(to2 - f(sigmaUp * sigmaUp))));
    const dt = f(sigmaDown - sigma);

    const dtype = modelOutput.dtype;
    const prev = this.outTensor(who, options.out?.prevSample, modelOutput.shape, dtype, "out.prevSample");
    const pred = this.outTensor(
      who,
      options.out?.predOriginalSample,
      modelOutput.shape,
      dtype,
      "out.predOriginalSample",
    );
    const noiseT = this.scratch("noise", modelOutput.shape, dtype);
    drawNoise(CLASS, options.generator, noiseT, { step: i, sigma, sigmaNext: sTo });

    const m = torchMath(dtype); // the step runs in the model output's dtype; 0-d sigma scalars are float32
    const mode = pt === "epsilon" ? 0 : 1;
    const vDen = f(f(sigma * sigma) + 1);
    const vOut = f(-sigma / sqrtSigmaSqPlusOneF32(sigma));
    const mo = modelOutput.data,
      x = sample.data,
      e = noiseT.data,
      pd = pred.data,
      xd = prev.data;
    eulerAncestralElements(m.dtype, { x, mo, e, pd, xd, mode, sigma, dt, vOut, vDen, sigmaUp });
    this.stepIndexHeld = i + 1;
    return { prevSample: prev, predOriginalSample: pred };
  }
}
