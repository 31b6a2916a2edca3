/**
 * @edmkit/edm — the general EDM samplers of Karras et al. 2022 for any sigma(t), s(t) and
 * time discretization, the paper's presets, NVlabs' samplers reproduced, a reference ODE
 * solver and fixture replay.
 */
export * from "./dual.js";
export * from "./scalar-math.js";
export * from "./schedule.js";
export * from "./discretization.js";
export * from "./precond.js";
export * from "./presets.js";
export * from "./sampler.js";
export * from "./nvlabs.js";
export * from "./reference-ode.js";
export * from "./replay.js";
export * from "./training/index.js";
