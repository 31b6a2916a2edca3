/**
 * Whether a device can run a graph here, found by trying: a one-component float32 mixture
 * denoiser (written in memory) is loaded on the device and profiled once. Unlike
 * `checkDeviceAvailable`, which only checks what can be seen without starting the provider,
 * this catches a WebGPU provider without an adapter or a CUDA provider without a GPU.
 */
import { OnnxDenoiser } from "./denoiser.js";
import { type OnnxDevice, providerNames } from "./device.js";
import type { Placement } from "./placement.js";
import { gmmDenoiserModel, serializeModel } from "./writer.js";

export interface DeviceProbe {
  device: OnnxDevice;
  available: boolean;
  /** Why not, or which provider ran the probe's nodes. */
  message: string;
  placement?: Placement;
}

export async function probeDevice(
  device: OnnxDevice,
  opts: { deviceId?: number } = {},
): Promise<DeviceProbe> {
  const bytes = serializeModel(
    gmmDenoiserModel({ dim: 1, weights: [1], means: [[0]], stds: [1] }, { dtype: "float32", name: "probe" }),
  );
  let model: OnnxDenoiser;
  try {
    model = await OnnxDenoiser.fromBytes(bytes, {
      name: "probe.onnx",
      device,
      deviceId: opts.deviceId,
      logSeverityLevel: 4,
    });
  } catch (e) {
    return { device, available: false, message: e instanceof Error ? e.message : String(e) };
  }
  try {
    const placement = await model.placement();
    const providers = Object.keys(placement.nodesByProvider);
    const want = providerNames[device];
    if (providers.length !== 1 || providers[0] !== want) {
      const found = Object.entries(placement.nodesByProvider)
        .map(([p, n]) => `${n} on ${p}`)
        .join(", ");
      return {
        device,
        available: false,
        message: `device "${device}": the probe graph ran ${found || "no nodes"}, expected all on ${want}`,
        placement,
      };
    }
    return {
      device,
      available: true,
      message: `${placement.nodesByProvider[want]} nodes ran on ${want}`,
      placement,
    };
  } finally {
    await model.release();
  }
}
