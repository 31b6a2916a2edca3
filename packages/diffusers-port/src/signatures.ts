/**
 * How each ported scheduler is called, as data: the `__init__` keyword arguments a config may
 * set (the keys of its config schema) and the options its `step()` takes. Tools that drive any
 * scheduler by name (the conformance runners, the `edmkit sample` CLI) read what a scheduler
 * accepts from here instead of keeping their own copies. A scheduler without an entry is not
 * driven by those tools yet (the conformance runner table leaves it out); it is replayed from
 * its fixtures.
 */
import {
  eulerAncestralDiscreteConfigSchema,
  eulerDiscreteConfigSchema,
  heunDiscreteConfigSchema,
} from "./config.js";
import { EULER_ANCESTRAL_STEP_OPTIONS } from "./euler-ancestral-discrete.js";
import { EULER_STEP_OPTIONS } from "./euler-discrete.js";
import { HEUN_STEP_OPTIONS } from "./heun-discrete.js";
import type { SchedulerName } from "./registry.js";

export interface SchedulerSignature {
  /** The `__init__` keyword arguments (config keys), snake_case as in scheduler_config.json. */
  readonly config: readonly string[];
  /** The options of `step()` beyond (model_output, timestep, sample), camelCase. */
  readonly step: readonly string[];
}

export const schedulerSignatures = {
  EulerDiscreteScheduler: { config: Object.keys(eulerDiscreteConfigSchema.shape), step: EULER_STEP_OPTIONS },
  HeunDiscreteScheduler: { config: Object.keys(heunDiscreteConfigSchema.shape), step: HEUN_STEP_OPTIONS },
  EulerAncestralDiscreteScheduler: {
    config: Object.keys(eulerAncestralDiscreteConfigSchema.shape),
    step: EULER_ANCESTRAL_STEP_OPTIONS,
  },
} as const satisfies Partial<Record<SchedulerName, SchedulerSignature>>;

/** The schedulers whose signature is stated here. */
export type SignedSchedulerName = keyof typeof schedulerSignatures;

export function isSignedScheduler(name: SchedulerName): name is SignedSchedulerName {
  return Object.hasOwn(schedulerSignatures, name);
}

/** A scheduler's signature, or the empty one (config only) for a scheduler without an entry. */
export function schedulerSignature(name: SchedulerName): SchedulerSignature {
  return isSignedScheduler(name) ? schedulerSignatures[name] : { config: [], step: [] };
}
