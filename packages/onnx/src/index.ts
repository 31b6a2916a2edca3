/**
 * @edmkit/onnx: OnnxDenoiser (onnxruntime-node behind the core model
 * contracts), the sidecar schema, model signature checks, device selection, and a small
 * ONNX writer that rebuilds the toy models of fixtures/models from their specs.
 */
export {
  type AttributeMessage,
  AttributeType,
  DataType,
  dataTypeName,
  decodeModel,
  encodeModel,
  type GraphMessage,
  type ModelMessage,
  ModelProtoType,
  type NodeMessage,
  onnxDescriptor,
  type TensorMessage,
  type TensorShapeDim,
  type ValueInfo,
} from "./proto.js";
export {
  loadSidecar,
  type OnnxParameterization,
  type OnnxSidecar,
  parameterizations,
  parseSidecar,
  predictionOf,
  type SidecarIo,
  sidecarPathFor,
  sidecarSchema,
} from "./sidecar.js";
export {
  type CheckedSignature,
  checkSignature,
  type ExpectedSignature,
  formatShape,
  type ModelSignature,
  signatureFromModelBytes,
  signatureFromSession,
  type ValueSignature,
} from "./signature.js";
export {
  checkDeviceAvailable,
  cudaInstallHelp,
  executionProvidersFor,
  explainSessionError,
  type OnnxDevice,
  OnnxDeviceError,
  onnxDevices,
  ortBinaryDir,
  providerNames,
  type ProviderOptions,
  supportedBackends,
} from "./device.js";
export {
  type Placement,
  placementFromProfile,
  profilePlacement,
} from "./placement.js";
export {
  OnnxDenoiser,
  onnxDenoiserFromSpec,
  type OnnxDenoiserOptions,
} from "./denoiser.js";
export {
  type AttrValue,
  floatType,
  GraphBuilder,
  IR_VERSION,
  OPSET,
  PRODUCER,
  rawBytes,
  tensorValues,
} from "./graph-builder.js";
export {
  type DenseLayer,
  type DiscreteGmmGraphSpec,
  discreteGmmModel,
  edmMlpModel,
  type EdmMlpSpec,
  gmmDenoiserModel,
  serializeModel,
  type WriterOptions,
} from "./writer.js";
export {
  defaultModelsDir,
  extractEdmMlp,
  rebuildToyModel,
  regenerateModels,
  toyModelNames,
} from "./regenerate.js";
export {
  type DeviceProbe,
  probeDevice,
} from "./probe.js";
