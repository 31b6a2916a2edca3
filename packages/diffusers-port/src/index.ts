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
export { type SchedulerSignature, schedulerSignature, schedulerSignatures } from "./signatures.js";
export {
  replayFixture,
  type ReplayOptions,
  setTimestepsArgs,
  stepArgs,
  supportsFixture,
} from "./replay.js";
