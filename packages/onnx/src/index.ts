/**
 * ONNX support of @edmkit/conformance: OnnxDenoiser (onnxruntime-node behind the core model
 * contracts), the sidecar schema, model signature checks, device selection, and a small
 * ONNX writer that rebuilds the toy models of fixtures/models from their specs.
 */
export * from "./proto.js";
export * from "./sidecar.js";
export * from "./signature.js";
export * from "./device.js";
export * from "./placement.js";
export * from "./denoiser.js";
export * from "./graph-builder.js";
export * from "./writer.js";
export * from "./regenerate.js";
export * from "./probe.js";
