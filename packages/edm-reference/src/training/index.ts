/**
 * Toy EDM training in plain TypeScript: datasets, the EDM-preconditioned MLP of
 * fixtures/models, its hand-written forward/backward pass, Adam, and the trainer.
 */
export { ToyRng } from "./rng.js";
export {
  bimodal1d,
  checkerboard,
  gmmDataset,
  resolveToyDataset,
  ring8,
  swissRoll,
  toyDatasets,
  twoMoons,
  type ToyDataset,
  type ToyDatasetName,
} from "./datasets.js";
export {
  DEFAULT_FREQUENCIES,
  edmPrecond,
  initParameters,
  inputWidth,
  layerLayout,
  MlpPass,
  parameterCount,
  type LayerLayout,
  type ToyMlpArchitecture,
} from "./network.js";
export {
  TOY_MLP_FORMAT,
  TOY_MLP_FORMAT_VERSION,
  ToyMlpDenoiser,
  type ToyMlpJson,
  type ToyMlpOptions,
} from "./model.js";
export { Adam, learningRate, type AdamOptions, type LrSchedule } from "./optim.js";
export {
  ToyTrainer,
  trainToyDenoiser,
  trainToyDenoiserSync,
  TrainingDivergedError,
  type ToyTrainingProgress,
  type ToyTrainingResult,
  type TrainToyOptions,
} from "./train.js";
