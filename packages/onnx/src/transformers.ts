/**
 * @edmkit/onnx/transformers: interop with transformers.js (@huggingface/transformers,
 * an optional peer dependency, loaded only by dynamic import from this entry point).
 *
 * transformers.js loads and runs ONNX models but has no diffusion schedulers or samplers;
 * edmkit has them. This entry point joins the two: a transformers.js model folder becomes a
 * core `Denoiser` / `DiscreteModel` any edmkit sampler can drive, tensors convert both ways,
 * and any edmkit ONNX model can be laid out as a folder transformers.js loads.
 */
export { loadTransformers, type TransformersModule } from "./transformers/module.js";
export {
  fromTransformersTensor,
  toTransformersTensor,
  type TensorConversionOptions,
  type TransformersTensorLike,
} from "./transformers/tensor.js";
export {
  EDMKIT_CONFIG_KEY,
  TRANSFORMERS_CONFIG_FILE,
  TRANSFORMERS_MODEL_FILE,
  type TransformersModelFolder,
  writeTransformersModelFolder,
  type WriteTransformersModelFolderOptions,
} from "./transformers/folder.js";
export { TransformersDenoiser, type TransformersDenoiserOptions } from "./transformers/denoiser.js";
export type { ContractOptions } from "./transformers/contract.js";
export type { OnnxParameterization, OnnxSidecar } from "./sidecar.js";
