/**
 * Execution providers for OnnxDenoiser: the CPU by default, CUDA or WebGPU when asked.
 *
 * A requested GPU never silently becomes the CPU:
 * - the session is created with the requested provider only (onnxruntime then fails to
 *   create it when the provider cannot start, instead of running everything on the CPU);
 * - before that, what can be checked cheaply is checked, so the error names what is
 *   missing (CUDA: the provider libraries that onnxruntime-node's postinstall downloads);
 * - by default (`allowCpuNodes: false`) onnxruntime's `session.disable_cpu_ep_fallback` is
 *   set, so a graph with any node the GPU provider cannot take fails to load rather than
 *   running those nodes on the CPU; `placement()` (profiling) reports where nodes ran.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";

export type OnnxDevice = "cpu" | "cuda" | "webgpu";
export const onnxDevices: readonly OnnxDevice[] = ["cpu", "cuda", "webgpu"];

/** onnxruntime's name for each device's execution provider (as profiles report it). */
export const providerNames: Record<OnnxDevice, string> = {
  cpu: "CPUExecutionProvider",
  cuda: "CUDAExecutionProvider",
  webgpu: "WebGpuExecutionProvider",
};

/** The requested device cannot be used; the message says what is missing. */
export class OnnxDeviceError extends Error {
  override name = "OnnxDeviceError";
  constructor(
    readonly device: OnnxDevice,
    message: string,
  ) {
    super(message);
  }
}

const ORT_VERSION = "1.30.0";

/** Folder holding onnxruntime-node's native binding and libraries for this platform. */
export function ortBinaryDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = dirname(req.resolve("onnxruntime-node/package.json"));
    return join(pkg, "bin", "napi-v6", process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** How to get the CUDA provider libraries installed (text reused in errors and docs). */
export const cudaInstallHelp =
  "onnxruntime-node does not ship its CUDA provider in the npm package: its postinstall script " +
  "(script/install.js) downloads libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so and " +
  "libonnxruntime_providers_tensorrt.so from the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux " +
  `${ORT_VERSION} (api.nuget.org) into bin/napi-v6/linux/x64/. pnpm 10 does not run dependency build scripts ` +
  "unless allowed, so they are missing. With network access: allow the script (add onnxruntime-node to " +
  "`onlyBuiltDependencies` in pnpm-workspace.yaml, or run `pnpm approve-builds`), then run " +
  "`ONNXRUNTIME_NODE_INSTALL=cuda12 pnpm rebuild onnxruntime-node` (on linux/x64 the script downloads them by " +
  "default; the variable forces it, as does the older ONNXRUNTIME_NODE_INSTALL_CUDA=v12; npm and yarn run the " +
  "script on install). The CUDA 12 runtime, cuBLAS and cuDNN 9 libraries must be on the library path at run time.";

/** Registered onnxruntime-node backends ("cpu", "webgpu", "cuda", ...). */
export function supportedBackends(): { name: string; bundled: boolean }[] {
  try {
    return ort.listSupportedBackends();
  } catch {
    return [{ name: "cpu", bundled: true }];
  }
}

/**
 * Checks that can be made before creating a session. Throws OnnxDeviceError naming what is
 * missing; returns normally when the device may work (the session creation decides).
 */
export function checkDeviceAvailable(device: OnnxDevice): void {
  if (device === "cpu") return;
  const platform = `${process.platform}/${process.arch}`;
  const backends = supportedBackends();
  const listed = backends.find((b) => b.name === device);
  if (!listed) {
    throw new OnnxDeviceError(
      device,
      `device "${device}": onnxruntime-node ${ORT_VERSION} has no ${providerNames[device]} for ${platform} ` +
        `(its backends here: ${backends.map((b) => b.name).join(", ")})` +
        (device === "cuda" ? "; the prebuilt binaries support CUDA on linux/x64 only" : ""),
    );
  }
  if (device === "cuda") {
    const dir = ortBinaryDir();
    if (!dir) throw new OnnxDeviceError(device, `device "cuda": cannot locate the onnxruntime-node package`);
    const needed = ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];
    const missing = needed.filter((f) => !existsSync(join(dir, f)));
    if (missing.length) {
      throw new OnnxDeviceError(
        device,
        `device "cuda": CUDA provider library ${missing.join(" and ")} not found in ${dir}. ${cudaInstallHelp}`,
      );
    }
  }
}

export interface ProviderOptions {
  device: OnnxDevice;
  deviceId?: number;
}

/** The `executionProviders` list for a device: the requested provider and nothing else. */
export function executionProvidersFor({
  device,
  deviceId,
}: ProviderOptions): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (device) {
    case "cpu":
      return ["cpu"];
    case "cuda":
      return [{ name: "cuda", deviceId: deviceId ?? 0 }];
    case "webgpu":
      return ["webgpu"];
  }
}

/** Turn onnxruntime's session-creation error into one that says what to do. */
export function explainSessionError(device: OnnxDevice, file: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  const short = msg.split("\n")[0].trim();
  if (/fallback to CPU EP has been explicitly disabled/i.test(msg)) {
    return new OnnxDeviceError(
      device,
      `${file}: device "${device}": ${providerNames[device]} started, but it cannot run every node of the graph ` +
        `and running the rest on the CPU was not allowed (allowCpuNodes: false). Pass allowCpuNodes: true to accept a ` +
        `mixed CPU/GPU placement (placement() then reports which nodes ran where)` +
        (device === "webgpu" ? "; note that the WebGPU provider has no float64 kernels" : "") +
        ".",
    );
  }
  if (device === "cuda") {
    if (/Failed to load (shared )?library|cannot open shared object|libcu|cudnn/i.test(msg)) {
      return new OnnxDeviceError(
        device,
        `${file}: device "cuda": ${providerNames.cuda} could not be loaded (${short}). Either the provider ` +
          `libraries are missing (${cudaInstallHelp}) or a CUDA 12 / cuDNN 9 library they link against is not on the library path.`,
      );
    }
    if (/CUDA failure|no CUDA-capable device|cudaErrorNoDevice|driver/i.test(msg)) {
      return new OnnxDeviceError(device, `${file}: device "cuda": no usable CUDA device (${short})`);
    }
    return new OnnxDeviceError(
      device,
      `${file}: device "cuda": ${providerNames.cuda} failed to start: ${short}`,
    );
  }
  if (device === "webgpu") {
    if (/adapter/i.test(msg)) {
      return new OnnxDeviceError(
        device,
        `${file}: device "webgpu": ${providerNames.webgpu} found no GPU adapter (${short}). onnxruntime-node's WebGPU ` +
          `provider uses Dawn, which on Linux needs a Vulkan loader (libvulkan.so.1) and a Vulkan driver for the GPU; on ` +
          `Windows D3D12, on macOS Metal.`,
      );
    }
    return new OnnxDeviceError(
      device,
      `${file}: device "webgpu": ${providerNames.webgpu} failed to start: ${short}`,
    );
  }
  return new Error(`${file}: onnxruntime could not load the model: ${short}`);
}
