/**
 * @edmkit/diffusers: diffusers' EulerDiscreteScheduler, HeunDiscreteScheduler and
 * EulerAncestralDiscreteScheduler, reproduced with their float32 arithmetic, plus a
 * pipeline-style denoising loop and fixture replay.
 */
export * from "./betas.js";
export * from "./config.js";
export * from "./discrete-scheduler.js";
export * from "./euler-ancestral-discrete.js";
export * from "./euler-discrete.js";
export * from "./float32.js";
export * from "./generator.js";
export * from "./heun-discrete.js";
export * from "./incomplete-beta.js";
export * from "./loop.js";
export * from "./spacing.js";
export * from "./registry.js";
export * from "./replay.js";
