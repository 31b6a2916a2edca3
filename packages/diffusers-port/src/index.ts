/**
 * @edmkit/diffusers: diffusers' EulerDiscreteScheduler, HeunDiscreteScheduler and
 * EulerAncestralDiscreteScheduler, reproduced with their float32 arithmetic, plus a
 * pipeline-style denoising loop and fixture replay.
 */
export {
  alphasCumprodFromBetas,
  type AlphaTransform,
  type BetaConfig,
  betasForAlphaBar,
  betasFromConfig,
  descendingSigmasWithZero,
  linearBetas,
  rescaleZeroTerminalSnr,
  scaledLinearBetas,
  sigmasFromAlphasCumprodF32,
  trainingTables,
  type TrainingTables,
} from "./betas.js";
export {
  type EulerAncestralDiscreteConfig,
  type EulerAncestralDiscreteConfigInput,
  eulerAncestralDiscreteConfigSchema,
  type EulerDiscreteConfig,
  type EulerDiscreteConfigInput,
  eulerDiscreteConfigSchema,
  type HeunDiscreteConfig,
  type HeunDiscreteConfigInput,
  heunDiscreteConfigSchema,
  resolveConfig,
  type ResolvedConfig,
  type SchedulerConfigJson,
} from "./config.js";
export {
  type BaseStepOptions,
  checkNumbers,
  checkOptionKeys,
  checkTensor,
  describeIndex,
  DiscreteScheduler,
  promote,
  type SchedulerOutput,
  type SetTimestepsOptions,
  type StepOutBuffers,
} from "./discrete-scheduler.js";
export type { StepBufferRole } from "./step-buffers.js";
export {
  type AlphaSigma,
  applyDpmUpdate,
  type DpmAlgorithm,
  dpmCoefficients,
  type DpmSolverType,
  dpmStepOrder,
  dpmStepUpdate,
  type DpmUpdate,
  OutputHistory,
  thresholdSample,
} from "./dpm-solver.js";
export {
  type DPMSolverMultistepConfig,
  type DPMSolverMultistepConfigInput,
  dpmSolverMultistepConfigSchema,
  DPMSolverMultistepScheduler,
  type DPMSolverOutput,
  type DPMSolverSetTimestepsOptions,
  type DPMSolverStepOptions,
  vpAlphaSigma,
} from "./dpmsolver-multistep.js";
export {
  cNoise,
  type EdmConfigBase,
  edmConfigKeys,
  edmExponential,
  edmKarras,
  EdmScheduler,
  type EdmScalings,
  edmScalings,
} from "./edm.js";
export {
  type EDMEulerConfig,
  type EDMEulerConfigInput,
  edmEulerConfigSchema,
  EDMEulerScheduler,
  type EDMEulerSetTimestepsOptions,
  type EDMEulerStepOptions,
} from "./edm-euler.js";
export {
  type EDMDPMSolverMultistepConfig,
  type EDMDPMSolverMultistepConfigInput,
  edmDpmSolverMultistepConfigSchema,
  EDMDPMSolverMultistepScheduler,
  type EDMDPMSolverStepOptions,
} from "./edm-dpmsolver-multistep.js";
export {
  type FlowMatchEulerDiscreteConfig,
  type FlowMatchEulerDiscreteConfigInput,
  flowMatchEulerDiscreteConfigSchema,
  FlowMatchEulerDiscreteScheduler,
  type FlowMatchSetTimestepsOptions,
  type FlowMatchStepOptions,
} from "./flow-match-euler-discrete.js";
export { foreignSigma, lastIfAbsent, type NoisePositions, noisePositions } from "./schedule-index.js";
export {
  EULER_ANCESTRAL_STEP_OPTIONS,
  EulerAncestralDiscreteScheduler,
  type EulerAncestralStepOptions,
} from "./euler-ancestral-discrete.js";
export {
  EULER_STEP_OPTIONS,
  EulerDiscreteScheduler,
  type EulerStepOptions,
} from "./euler-discrete.js";
export {
  cumprodF32,
  numpyLogF32,
  sqrtSigmaSqPlusOneF32,
} from "./float32.js";
export {
  checkGenerator,
  drawNoise,
  type Generator,
  type TorchGeneratorLike,
} from "./generator.js";
export {
  HEUN_STEP_OPTIONS,
  HeunDiscreteScheduler,
  type HeunSetTimestepsOptions,
  type HeunStepOptions,
} from "./heun-discrete.js";
export {
  betaPpf,
  logBeta,
  logGamma,
  regularizedIncompleteBeta,
} from "./incomplete-beta.js";
export {
  denoisingLoop,
  type DenoisingLoopOptions,
  type EulerStepKwargs,
  type LoopModel,
  type LoopScheduler,
} from "./loop.js";
export {
  betaSigmas,
  exponentialSigmas,
  interpolateSigmas,
  karrasSigmas,
  logLinearSigmas,
  logSigmaTable,
  numpyArange,
  sigmaToT,
  spacedTimesteps,
  type TimestepSpacing,
} from "./spacing.js";
export {
  type AnyScheduler,
  createScheduler,
  isSchedulerName,
  type SchedulerName,
  schedulers,
} from "./registry.js";
export {
  isSignedScheduler,
  type SchedulerSignature,
  type SignedSchedulerName,
  schedulerSignature,
  schedulerSignatures,
} from "./signatures.js";
export {
  replayFixture,
  type ReplayOptions,
  setTimestepsArgs,
  stepArgs,
  supportsFixture,
} from "./replay.js";
export {
  checkOneSigmaSchedule,
  type DDIMConfig,
  type DDIMConfigInput,
  ddimConfigSchema,
  type DDPMConfig,
  type DDPMConfigInput,
  ddpmConfigSchema,
  type KDPM2DiscreteConfig,
  type KDPM2DiscreteConfigInput,
  kdpm2DiscreteConfigSchema,
  type LMSDiscreteConfig,
  type LMSDiscreteConfigInput,
  lmsDiscreteConfigSchema,
} from "./family-config.js";
export {
  deinterleave,
  interleaveRepeat,
  KDPM2Base,
  type KDPM2SetTimestepsOptions,
  type KDPM2StepOptions,
  logMidpointsF32,
  sigmaToTFloat32,
  spacedSigmaSchedule,
} from "./kdpm2-common.js";
export { KDPM2DiscreteScheduler } from "./kdpm2-discrete.js";
export { KDPM2AncestralDiscreteScheduler } from "./kdpm2-ancestral-discrete.js";
export { LMSDiscreteScheduler, type LMSStepOptions, lmsCoefficient } from "./lms-discrete.js";
export {
  AlphaScheduler,
  type AlphaSchedulerConfig,
  integerTimesteps,
  sigmoidBetas,
} from "./alpha-scheduler.js";
export { DDIMScheduler, type DDIMStepOptions } from "./ddim.js";
export { DDPMScheduler, type DDPMSetTimestepsOptions, type DDPMStepOptions } from "./ddpm.js";
