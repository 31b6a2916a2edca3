/**
 * `__init__` parameters and defaults of the second set of ported diffusers schedulers
 * (KDPM2, KDPM2-ancestral, LMS, DDIM, DDPM), loaded through the same `resolveConfig` as the
 * first three (a scheduler_config.json loads as-is). Enumerated values are checked where
 * diffusers checks them.
 */
import { z } from "zod";

const num = z.number();
/** Optional[bool] in diffusers' signature: JSON null reads as false. */
const optBool = z
  .boolean()
  .nullable()
  .transform((v) => v ?? false);

const base = {
  num_train_timesteps: z.number().int().positive().default(1000),
  beta_start: num.default(0.0001),
  beta_end: num.default(0.02),
  beta_schedule: z.string().default("linear"),
  trained_betas: z.array(num).nullable().default(null),
  prediction_type: z.string().default("epsilon"),
};

const sigmaOptions = {
  use_karras_sigmas: optBool.default(false),
  use_exponential_sigmas: optBool.default(false),
  use_beta_sigmas: optBool.default(false),
};

/** `KDPM2DiscreteScheduler.__init__` (and KDPM2-ancestral's, identical): note beta_start/end. */
export const kdpm2DiscreteConfigSchema = z.object({
  ...base,
  beta_start: num.default(0.00085),
  beta_end: num.default(0.012),
  ...sigmaOptions,
  timestep_spacing: z.string().default("linspace"),
  steps_offset: z.number().int().default(0),
});

/** `LMSDiscreteScheduler.__init__`. */
export const lmsDiscreteConfigSchema = z.object({
  ...base,
  ...sigmaOptions,
  timestep_spacing: z.string().default("linspace"),
  steps_offset: z.number().int().default(0),
});

const clipAndThreshold = {
  clip_sample: z.boolean().default(true),
  thresholding: z.boolean().default(false),
  dynamic_thresholding_ratio: num.default(0.995),
  clip_sample_range: num.default(1.0),
  sample_max_value: num.default(1.0),
  timestep_spacing: z.string().default("leading"),
  steps_offset: z.number().int().default(0),
  rescale_betas_zero_snr: z.boolean().default(false),
};

/** `DDIMScheduler.__init__`. */
export const ddimConfigSchema = z.object({
  ...base,
  ...clipAndThreshold,
  set_alpha_to_one: z.boolean().default(true),
});

/** `DDPMScheduler.__init__`. */
export const ddpmConfigSchema = z.object({
  ...base,
  variance_type: z.string().default("fixed_small"),
  ...clipAndThreshold,
});

export type KDPM2DiscreteConfig = z.output<typeof kdpm2DiscreteConfigSchema>;
export type KDPM2DiscreteConfigInput = z.input<typeof kdpm2DiscreteConfigSchema>;
export type LMSDiscreteConfig = z.output<typeof lmsDiscreteConfigSchema>;
export type LMSDiscreteConfigInput = z.input<typeof lmsDiscreteConfigSchema>;
export type DDIMConfig = z.output<typeof ddimConfigSchema>;
export type DDIMConfigInput = z.input<typeof ddimConfigSchema>;
export type DDPMConfig = z.output<typeof ddpmConfigSchema>;
export type DDPMConfigInput = z.input<typeof ddpmConfigSchema>;

/** The sum check diffusers' Karras-family constructors make. */
export function checkOneSigmaSchedule(
  className: string,
  c: { use_karras_sigmas: boolean; use_exponential_sigmas: boolean; use_beta_sigmas: boolean },
): void {
  if (Number(c.use_beta_sigmas) + Number(c.use_exponential_sigmas) + Number(c.use_karras_sigmas) > 1) {
    throw new Error(
      `${className}: only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be true (diffusers raises ValueError)`,
    );
  }
}
