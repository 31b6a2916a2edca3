/**
 * Where onnxruntime actually ran each node, read from its profiler: a profiled session
 * writes one "Node" event per kernel execution with `args.provider` (e.g.
 * "CPUExecutionProvider", "CUDAExecutionProvider"). This is the only way the JS API offers
 * to see the placement, so it is what OnnxDenoiser.placement() uses to prove a GPU run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";

export interface Placement {
  /** Number of distinct graph nodes run by each execution provider. */
  nodesByProvider: Record<string, number>;
  /** Provider of each node (by node name; ops fused by the optimizer appear under their fused name). */
  providerOfNode: Record<string, string>;
}

/** Parse an onnxruntime profile (JSON array of trace events) into a Placement. */
export function placementFromProfile(events: unknown): Placement {
  if (!Array.isArray(events)) throw new Error("onnxruntime profile: expected a JSON array of events");
  const providerOfNode: Record<string, string> = {};
  for (const e of events as { cat?: string; name?: string; args?: { provider?: string } }[]) {
    if (e?.cat !== "Node" || typeof e.name !== "string" || !e.args?.provider) continue;
    if (!e.name.endsWith("_kernel_time")) continue;
    providerOfNode[e.name.slice(0, -"_kernel_time".length)] = e.args.provider;
  }
  const nodesByProvider: Record<string, number> = {};
  for (const p of Object.values(providerOfNode)) nodesByProvider[p] = (nodesByProvider[p] ?? 0) + 1;
  return { nodesByProvider, providerOfNode };
}

/**
 * Create a profiled session with `options`, run `feeds` once, and report the placement.
 * The profile goes to a temporary folder that is removed afterwards.
 */
export async function profilePlacement(
  model: string | Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  feeds: Record<string, ort.Tensor>,
): Promise<Placement> {
  const dir = mkdtempSync(join(tmpdir(), "edmkit-ort-profile-"));
  try {
    const opts = { ...options, enableProfiling: true, profileFilePrefix: join(dir, "profile") };
    const session =
      typeof model === "string"
        ? await ort.InferenceSession.create(model, opts)
        : await ort.InferenceSession.create(model, opts);
    try {
      await session.run(feeds);
      session.endProfiling();
    } finally {
      await session.release();
    }
    const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    if (files.length === 0) throw new Error("onnxruntime wrote no profile; cannot tell where nodes ran");
    return placementFromProfile(JSON.parse(readFileSync(join(dir, files[0]), "utf8")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
