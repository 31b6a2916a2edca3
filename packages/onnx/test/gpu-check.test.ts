/**
 * scripts/gpu-check.sh (docs/gpu.md) on a machine without a GPU: it must refuse with one clear
 * line, quickly, after running the CPU part it can and writing that part of its JSON.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

interface Cell {
  model: string;
  batch: number;
  cpu: { medianMs: number };
  gpu?: unknown;
  cpuVsFloat64: { maxRel: number };
}
interface CheckJson {
  format: string;
  ok: boolean;
  checks: { deviceAvailable: boolean };
  probe: { available: boolean };
  bench: { device: string | null; cells: Cell[] };
  stages: Record<string, { exit: number }>;
  conformance?: unknown;
}

const root = resolve(import.meta.dirname, "../../..");
const script = join(root, "scripts", "gpu-check.sh");

function runCheck(device: string) {
  const out = mkdtempSync(join(tmpdir(), "edmkit-gpu-check-test-"));
  const t0 = Date.now();
  const r = spawnSync(
    "bash",
    [script, device, out, "--models", "gmm2d-ring8,gmm1d-bimodal", "--batches", "512", "--reps", "2"],
    // no Vulkan driver and no carried libraries: the refusal this test is about
    {
      cwd: root,
      encoding: "utf8",
      timeout: 50_000,
      env: { ...process.env, VK_DRIVER_FILES: "/nonexistent.json", OUT: "" },
    },
  );
  const seconds = (Date.now() - t0) / 1000;
  let json: CheckJson | undefined;
  try {
    json = JSON.parse(readFileSync(join(out, "gpu-check.json"), "utf8"));
  } catch {}
  const md = (() => {
    try {
      return readFileSync(join(out, "gpu-check.md"), "utf8");
    } catch {
      return "";
    }
  })();
  rmSync(out, { recursive: true, force: true });
  return { ...r, seconds, json: json as CheckJson, md };
}

describe("scripts/gpu-check.sh without a GPU", () => {
  it("cuda: runs the CPU part, then refuses with one clear line (exit 3)", () => {
    const r = runCheck("cuda");
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(3);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^gpu-check: FAIL: device "cuda" is not available: .*libonnxruntime_providers_cuda\.so not found/,
    );
    expect(lines[0].length).toBeLessThan(400);
    expect(r.seconds).toBeLessThan(50);
    // the CPU part of the JSON
    expect(r.json.format).toBe("edmkit-gpu-check/1");
    expect(r.json.ok).toBe(false);
    expect(r.json.checks.deviceAvailable).toBe(false);
    expect(r.json.probe.available).toBe(false);
    expect(r.json.bench.device).toBeNull();
    expect(r.json.bench.cells.map((c) => `${c.model}@${c.batch}`)).toEqual([
      "gmm2d-ring8@512",
      "gmm1d-bimodal@512",
    ]);
    for (const c of r.json.bench.cells) {
      expect(c.cpu.medianMs).toBeGreaterThan(0);
      expect(c.gpu).toBeUndefined();
      // the float32 graph against its float64 twin, on the CPU (ONNX.md: <= 1.5e-6)
      expect(c.cpuVsFloat64.maxRel).toBeLessThan(2e-6);
    }
    expect(r.json.stages.probe.exit).toBe(3);
    expect(r.json.conformance).toBeUndefined();
    expect(r.md).toContain("NOT available");
  }, 60_000);

  it("webgpu without a Vulkan driver: the same refusal, naming the missing adapter", () => {
    const r = runCheck("webgpu");
    expect(r.status).toBe(3);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(/^gpu-check: FAIL: device "webgpu" is not available: .*no GPU adapter/);
    expect(r.json.bench.cells).toHaveLength(2);
  }, 60_000);

  it("refuses a device it does not know (exit 2)", () => {
    const r = spawnSync("bash", [script, "tpu"], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage: scripts/gpu-check.sh cuda|webgpu");
  });
});
