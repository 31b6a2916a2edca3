/**
 * @edmkit/k-diffusion: a faithful TypeScript port of k-diffusion's samplers and schedules
 * (`k_diffusion/sampling.py`) and model wrappers (`k_diffusion/external.py`).
 */
export {
  appendZero,
  getSigmasExponential,
  getSigmasKarras,
  getSigmasPolyexponential,
  getSigmasVp,
  type KarrasOptions,
  type PolyexponentialOptions,
  type ScheduleOptions,
  type VpOptions,
} from "./schedules.js";
export {
  ancestralStep,
  type AncestralStep,
  getAncestralStep,
  linearMultistepCoeff,
  toD,
} from "./utils.js";
export {
  CompVisDenoiser,
  CompVisVDenoiser,
  DiscreteEpsDDPMDenoiser,
  DiscreteSchedule,
  type DiscreteScheduleOptions,
  DiscreteVDDPMDenoiser,
  type DiscreteWrapperOptions,
  OpenAIDenoiser,
  type OpenAIDenoiserOptions,
  VDenoiser,
} from "./external.js";
export { qk21, gaussLegendre, integrateGaussLegendre } from "./quadrature.js";
export { KDiffusionArgumentError } from "./validate.js";
export type { SamplerHooks, SigmasInput, StepCallback, StepPayload } from "./samplers/common.js";
export { sampleEuler, sampleEulerAncestral } from "./samplers/euler.js";
export type { ChurnOptions, EulerAncestralOptions, EulerOptions } from "./samplers/euler.js";
export { sampleHeun } from "./samplers/heun.js";
export type { HeunOptions } from "./samplers/heun.js";
export { sampleDpm2, sampleDpm2Ancestral } from "./samplers/dpm2.js";
export type { Dpm2AncestralOptions, Dpm2Options } from "./samplers/dpm2.js";
export { sampleLms } from "./samplers/lms.js";
export type { LmsOptions } from "./samplers/lms.js";
export { sampleDpmpp2m, sampleDpmpp2sAncestral } from "./samplers/dpmpp.js";
export type { Dpmpp2mOptions, Dpmpp2sAncestralOptions } from "./samplers/dpmpp.js";
export { sampleDpmpp2mSde, sampleDpmpp3mSde, sampleDpmppSde } from "./samplers/dpmpp-sde.js";
export type {
  Dpmpp2mSdeOptions,
  Dpmpp3mSdeOptions,
  DpmppSdeOptions,
  SdeOptions,
} from "./samplers/dpmpp-sde.js";
export { dpmFastSchedule, sampleDpmAdaptive, sampleDpmFast } from "./samplers/dpm-solver.js";
export type {
  DpmAdaptiveInfo,
  DpmAdaptiveOptions,
  DpmAdaptiveResult,
  DpmCallbackPayload,
  DpmFastOptions,
  DpmFastSchedule,
} from "./samplers/dpm-solver.js";
export {
  callSampler,
  callSchedule,
  convertKwargs,
  samplers,
  samplerSignatures,
  schedules,
  scheduleSignatures,
  wrappers,
} from "./registry.js";
export type { SamplerName, Signature } from "./registry.js";
export { replayFixture, supportsFixture } from "./replay.js";
export type { ReplayOptions } from "./replay.js";
