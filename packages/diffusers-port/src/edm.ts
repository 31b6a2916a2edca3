/**
 * What diffusers' EDMEulerScheduler and EDMDPMSolverMultistepScheduler share: the EDM
 * preconditioning inside the scheduler (`precondition_inputs`, `precondition_noise`,
 * `precondition_outputs`, `_get_conditioning_c_in`), the Karras / exponential sigma
 * schedules (`_compute_karras_sigmas`, `_compute_exponential_sigmas`), `init_noise_sigma`
 * and `scale_model_input`. No training table: sigmas and timesteps (c_noise) are float32.
 */
import { type DType, type Tensor, libcMath, powTensor, torchLinspace, torchMath } from "@edmkit/core";
import { z } from "zod";
import { DiscreteScheduler, checkTensor } from "./discrete-scheduler.js";

/** The `__init__` parameters (and defaults) both EDM schedulers take. */
export const edmConfigKeys = {
  sigma_min: z.number().default(0.002),
  sigma_max: z.number().default(80.0),
  sigma_data: z.number().default(0.5),
  sigma_schedule: z.string().default("karras"),
  num_train_timesteps: z.number().int().positive().default(1000),
  prediction_type: z.string().default("epsilon"),
  rho: z.number().default(7.0),
};

const T32 = torchMath("float32");
const f = Math.fround;

/** The EDM keys both schedulers take. */
export interface EdmConfigBase {
  sigma_min: number;
  sigma_max: number;
  sigma_data: number;
  sigma_schedule: string;
  num_train_timesteps: number;
  prediction_type: string;
  rho: number;
  final_sigmas_type: string;
}

/**
 * `_compute_karras_sigmas(ramp)`: (max^(1/rho) + ramp (min^(1/rho) - max^(1/rho)))^rho with
 * the two roots in Python floats and the rest as torch ops in the ramp's dtype (float64 in
 * EDM-Euler, float32 in EDM-DPM-Solver, whose ramp is a default-dtype linspace); the power is
 * torch's tensor pow of that dtype. A sigma_min / sigma_max of 0 falls back to the config
 * value (Python's `or`).
 */
export function edmKarras(ramp: ArrayLike<number>, dtype: DType, c: EdmConfigBase): Float64Array {
  const m = torchMath(dtype);
  const minInv = libcMath.pow(c.sigma_min, 1 / c.rho),
    maxInv = libcMath.pow(c.sigma_max, 1 / c.rho);
  const span = m.r(minInv - maxInv),
    base = new Float64Array(ramp.length);
  for (let i = 0; i < base.length; i++) base[i] = m.add(m.r(maxInv), m.mul(ramp[i], span));
  return powTensor(base, c.rho, dtype);
}

/**
 * `_compute_exponential_sigmas(ramp)`: exp(linspace(log sigma_min, log sigma_max, len(ramp)))
 * reversed; the linspace is a default-dtype (float32) torch linspace, the exp SLEEF's expf,
 * the logs Python's. Only the ramp's length matters.
 */
export function edmExponential(count: number, c: EdmConfigBase): Float64Array {
  const lin = torchLinspace(libcMath.log(c.sigma_min), libcMath.log(c.sigma_max), count, "float32");
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = T32.exp(lin[count - 1 - i]);
  return out;
}

/** `precondition_noise`: c_noise = 0.25 log(sigma) on the float32 sigmas (SLEEF logf). */
export function cNoise(sigmas: ArrayLike<number>, count = sigmas.length): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = T32.mul(0.25, T32.log(sigmas[i]));
  return out;
}

/** The EDM scalings of one float32 sigma, computed on 0-dim float32 tensors. */
export interface EdmScalings {
  cIn: number;
  cSkip: number;
  cOut: number;
}

/**
 * `_get_conditioning_c_in` and the scalars of `precondition_outputs`: with v = sigma^2 +
 * sigma_data^2 (sigma_data^2 a Python float rounded to float32), c_in = 1 / sqrt(v);
 * c_skip = sigma_data^2 / v evaluated as torch's reflected division (reciprocal of v times
 * sigma_data^2); c_out = sigma sigma_data / sqrt(v), negated for v_prediction. Any other
 * prediction type is diffusers' ValueError, raised when a step needs it.
 */
export function edmScalings(who: string, sigma: number, c: EdmConfigBase): EdmScalings {
  const sd2 = f(c.sigma_data * c.sigma_data);
  const v = T32.add(T32.mul(sigma, sigma), sd2);
  const root = T32.sqrt(v);
  const cIn = T32.div(1, root);
  const cSkip = T32.mul(T32.div(1, v), sd2);
  let cOut: number;
  if (c.prediction_type === "epsilon") cOut = T32.div(T32.mul(sigma, f(c.sigma_data)), root);
  else if (c.prediction_type === "v_prediction") cOut = T32.div(T32.mul(-sigma, f(c.sigma_data)), root);
  else
    throw new Error(
      `${who}: prediction_type ${JSON.stringify(c.prediction_type)} is not supported; use "epsilon" or "v_prediction"`,
    );
  return { cIn, cSkip, cOut };
}

/** The EDM schedulers' common surface on top of the shared step-index bookkeeping. */
export abstract class EdmScheduler extends DiscreteScheduler {
  abstract override readonly init: EdmConfigBase;
  /** diffusers' `is_scale_input_called`. */
  isScaleInputCalled = false;

  /** `init_noise_sigma`: (sigma_max^2 + 1)^0.5 in Python floats (80.00624975587844 by default). */
  override get initNoiseSigma(): number {
    const s = this.init.sigma_max;
    return Math.sqrt(s * s + 1);
  }

  /**
   * Port of `scale_model_input`: sample * c_in(sigma) (`precondition_inputs`), c_in a float32
   * scalar; sets the step index on the first call like diffusers.
   */
  override scaleModelInput(sample: Tensor, timestep: number, out?: Tensor): Tensor {
    checkTensor(this.className, "sample", sample, "scaleModelInput");
    const i = this.currentStepIndex("scaleModelInput", timestep, false);
    const { cIn } = edmScalings(`${this.className}.scaleModelInput`, this.sigmasHeld[i], {
      ...this.init,
      prediction_type: "epsilon",
    });
    const o = this.outTensor("scaleModelInput", out, sample.shape, sample.dtype, "out");
    const r = torchMath(sample.dtype).r;
    for (let k = 0; k < o.data.length; k++) o.data[k] = r(sample.data[k] * cIn);
    this.isScaleInputCalled = true;
    return o;
  }

  /** Check the values diffusers' constructor checks (sigma_schedule) and build the training schedule. */
  protected static checkSchedule(who: string, c: EdmConfigBase): void {
    if (c.sigma_schedule !== "karras" && c.sigma_schedule !== "exponential")
      throw new Error(
        `${who}: sigma_schedule must be "karras" or "exponential", got ${JSON.stringify(c.sigma_schedule)}`,
      );
  }
}
