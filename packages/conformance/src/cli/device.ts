/**
 * One rule for a GPU provider that is not there (`conformance --device`, `sample --device`):
 * bad input, exit 2, one line naming the provider that is missing and pointing to
 * docs/gpu.md for how to get it. The device is probed by running a tiny graph on it
 * (@edmkit/onnx's probeDevice), so a provider that loads but finds no GPU counts as missing.
 */
import { type OnnxDevice, probeDevice, providerNames } from "@edmkit/onnx";
import { UsageError } from "../errors.js";

/** The first clause of a provider error: what is missing, without the installation essay. */
export function shortDeviceReason(message: string): string {
  const first = message
    .split("\n")[0]
    .replace(/^[^:\s]+\.onnx: /, "")
    .replace(/^device "[^"]+": /, "");
  const cut = first.search(/ \(|\. /);
  return (cut > 0 ? first.slice(0, cut) : first).replace(/\.$/, "");
}

/** Throws UsageError (exit 2) when `device` cannot run a graph here. */
export async function requireDevice(device: OnnxDevice, command: string): Promise<void> {
  if (device === "cpu") return;
  const probe = await probeDevice(device);
  if (probe.available) return;
  throw new UsageError(
    `${command}: --device ${device}: ${providerNames[device]} is not available here (${shortDeviceReason(probe.message)}); docs/gpu.md says how to get it`,
  );
}
