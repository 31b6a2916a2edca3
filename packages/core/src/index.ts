export * from "./tensor.js";
export * from "./ops.js";
export * from "./numeric.js";
export * from "./contracts.js";
export * from "./errors.js";
export * from "./noise.js";
export * from "./denoisers/gmm.js";
export * from "./denoisers/discrete.js";
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
