/**
 * @edmkit/core: tensors and kernels, the Denoiser / NoiseSource contracts, PyTorch-compatible
 * RNG, exact Gaussian-mixture denoisers and the fixture schema. Platform-neutral: file
 * loading is in `@edmkit/core/node`.
 */
export {
  allocate,
  assertSameShape,
  batchSize,
  clone,
  type DType,
  dtypeOf,
  numel,
  rowSize,
  sameShape,
  tensor,
  type Tensor,
  type TypedArray,
  zeros,
  zerosLike,
} from "./tensor.js";
export {
  add,
  allFinite,
  axpby,
  axpy,
  checkOperands,
  copyInto,
  divScalar,
  fill,
  lerp,
  lerpScalar,
  lerpScalar32,
  maxAbsDiff,
  scale,
  scaleRows,
  sub,
  subDiv,
} from "./ops.js";
export {
  fround,
  numpyInterp,
  numpyLinspace,
  roundHalfEven,
  roundTo,
  roundToFloat32,
  torchLinspace,
  ulpDistance,
  ulpDistance32,
} from "./numeric.js";
export {
  type Denoiser,
  denoiserFromFunction,
  type DiscreteModel,
  type ModelCallEvent,
  type NoiseRequest,
  type NoiseSource,
  observeDenoiser,
  UniformSigma,
  observeDiscreteModel,
  perRow,
  type Prediction,
  type SamplerObserver,
  type StepEvent,
} from "./contracts.js";
export {
  NoiseReplayError,
  ReplayNoise,
} from "./noise.js";
export {
  GaussianMixture,
  type GmmSpec,
} from "./denoisers/gmm.js";
export {
  DenoiserAsDiscreteModel,
  DiscreteGmmModel,
  type DiscreteGmmSpec,
  sigmasFromAlphasCumprod,
  type TimeMap,
} from "./denoisers/discrete.js";
export { EmpiricalDenoiser, type EmpiricalOptions } from "./denoisers/empirical.js";
export { EdmPrecondGmmModel, type EdmPrecondSpec } from "./denoisers/edm-precond.js";
export { FlowGmmModel, type FlowSpec } from "./denoisers/flow.js";
export {
  bimodalMixture,
  isMixtureName,
  type MixtureName,
  type NamedGmmSpec,
  namedMixtureDenoiser,
  namedMixtures,
  ringMixture,
} from "./denoisers/named-mixtures.js";
export {
  type Dataset,
  type DatasetDocument,
  DatasetError,
  datasetPoints,
  datasetSchema,
  type PixelTransform,
  parseDataset,
} from "./datasets/dataset.js";
export { fastExp } from "./fast-exp.js";
export {
  denoiserSchema,
  type DenoiserSpec,
  type DiscreteEpsFixtureSpec,
  discreteEpsSchema,
  type EdmPrecondFixtureSpec,
  edmPrecondSchema,
  empiricalSchema,
  type FlowFixtureSpec,
  flowDenoiserSchema,
  type Fixture,
  fixtureSchema,
  type GmmFixtureSpec,
  gmmSchema,
  isScheduleFixture,
  type ModelCallRecord,
  modelCallSchema,
  noiseSchema,
  onnxDenoiserSchema,
  parseInf,
  referenceSchema,
  type RunFixture,
  runFixtureSchema,
  type ScheduleFixture,
  scheduleFixtureSchema,
  scheduleSchema,
  stepSchema,
  type Tolerance,
  toleranceSchema,
  trainSchema,
} from "./fixtures/schema.js";
export {
  FixtureError,
  parseFixture,
} from "./fixtures/parse.js";
export {
  checkRequestedLength,
  type CompareOptions,
  compareReplay,
  compareValues,
  type Divergence,
  errorResult,
  type ModelSource,
  modelFromSpec,
  type Numeric,
  type RecordedCall,
  RecordedModel,
  Recorder,
  replayModel,
  type ReplayCheck,
  type ReplayRecording,
  type ReplayResult,
  type ReplayStatus,
  type Tol,
} from "./fixtures/replay.js";
export {
  ArgumentError,
  checkFiniteModelOutput,
  type DeferredModelCheck,
  NonFiniteModelOutputError,
  settleModelCheck,
} from "./errors.js";
export { MT19937, normalizeSeed, type Seed } from "./rng/mt19937.js";
export {
  TorchGenerator,
  TORCH_DEFAULT_SEED,
  perSampleGenerators,
  stackedRandn,
} from "./rng/torch-generator.js";
export { TorchNoise, PerSampleTorchNoise } from "./rng/torch-noise.js";
export * as libm from "./libm.js";
export { fma32, fma64 } from "./fma.js";
export { SIMD_MIN, SimdArena, SimdKernel, THREAD_MIN } from "./simd.js";
export {
  setSimdThreads,
  SimdThreads,
  type SimdWorkerHandle,
  type SimdWorkerMessage,
  simdThreads,
} from "./simd-threads.js";
export { serveSimdWorker } from "./simd-worker.js";
export {
  add as simdAdd,
  cst as simdConst,
  div as simdDiv,
  type Expr as SimdExpr,
  inp as simdIn,
  type KernelSpec as SimdSpec,
  r32 as simdRound32,
  abs as simdAbs,
  pmax as simdPmax,
  mul as simdMul,
  par as simdPar,
  sub as simdSub,
} from "./simd-emit.js";
export { sleefExpf, sleefLogf, torchExpF32 } from "./sleef-f32.js";
export {
  libcMath,
  powTensor,
  rounderFor,
  type Rounder,
  type ScalarFunctions,
  sleefExp,
  sleefExpm1,
  sleefLog,
  sleefPow,
  type TorchMath,
  torchMath,
} from "./torch-math.js";
export { sleefSinf } from "./sleef-f32.js";
export { gaussLegendre, integrateGaussLegendre, type Qk21Result, qk21 } from "./quadrature.js";
