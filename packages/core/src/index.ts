export * from "./tensor.js";
export * from "./ops.js";
export * from "./numeric.js";
export * from "./contracts.js";
export * from "./noise.js";
export * from "./denoisers/gmm.js";
export * from "./denoisers/discrete.js";
export { EmpiricalDenoiser } from "./denoisers/empirical.js";
export {
  type Dataset,
  type DatasetDocument,
  DatasetError,
  datasetPoints,
  datasetSchema,
  type PixelTransform,
  parseDataset,
} from "./datasets/dataset.js";
export { attachDataset, findFixtureAsset, loadDataset } from "./datasets/load.js";
export * from "./fixtures/schema.js";
export * from "./fixtures/load.js";
export * from "./fixtures/replay.js";
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
