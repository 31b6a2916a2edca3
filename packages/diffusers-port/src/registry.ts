/**
 * The ported schedulers under their diffusers class names, and construction by name the way
 * `getattr(diffusers, name).from_config(config)` works.
 */
import { ArgumentError } from "@edmkit/core";
import { DDIMScheduler } from "./ddim.js";
import { DDPMScheduler } from "./ddpm.js";
import { EulerAncestralDiscreteScheduler } from "./euler-ancestral-discrete.js";
import { EulerDiscreteScheduler } from "./euler-discrete.js";
import { HeunDiscreteScheduler } from "./heun-discrete.js";
import { KDPM2AncestralDiscreteScheduler } from "./kdpm2-ancestral-discrete.js";
import { KDPM2DiscreteScheduler } from "./kdpm2-discrete.js";
import { LMSDiscreteScheduler } from "./lms-discrete.js";
import { DPMSolverMultistepScheduler } from "./dpmsolver-multistep.js";
import { EDMDPMSolverMultistepScheduler } from "./edm-dpmsolver-multistep.js";
import { EDMEulerScheduler } from "./edm-euler.js";
import { FlowMatchEulerDiscreteScheduler } from "./flow-match-euler-discrete.js";

export const schedulers = {
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  KDPM2DiscreteScheduler,
  KDPM2AncestralDiscreteScheduler,
  LMSDiscreteScheduler,
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EDMEulerScheduler,
  EDMDPMSolverMultistepScheduler,
  FlowMatchEulerDiscreteScheduler,
} as const;

export type SchedulerName = keyof typeof schedulers;
export type AnyScheduler =
  | EulerDiscreteScheduler
  | HeunDiscreteScheduler
  | EulerAncestralDiscreteScheduler
  | KDPM2DiscreteScheduler
  | KDPM2AncestralDiscreteScheduler
  | LMSDiscreteScheduler
  | DDIMScheduler
  | DDPMScheduler
  | DPMSolverMultistepScheduler
  | EDMEulerScheduler
  | EDMDPMSolverMultistepScheduler
  | FlowMatchEulerDiscreteScheduler;

export function isSchedulerName(name: unknown): name is SchedulerName {
  return typeof name === "string" && Object.hasOwn(schedulers, name);
}

/**
 * Build the scheduler `name` from a config (`SchedulerClass.from_config(config, **overrides)`).
 * Without a name the config's own `_class_name` is used, which must then be one of the ported
 * classes.
 */
export function createScheduler(
  name: SchedulerName | null,
  config: Record<string, unknown> = {},
  overrides: Record<string, unknown> = {},
): AnyScheduler {
  const cls = name ?? config._class_name;
  if (!isSchedulerName(cls)) {
    throw new ArgumentError(
      `createScheduler: ${JSON.stringify(cls)} is not a ported scheduler; expected one of ${Object.keys(schedulers).join(", ")}`,
    );
  }
  return new schedulers[cls](config, overrides);
}
