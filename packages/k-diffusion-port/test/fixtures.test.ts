/**
 * Replays every reference fixture of k-diffusion (fixtures/reference/k-diffusion): one test
 * per file, then a table of id, status, max abs error and first divergence.
 */
import { fileURLToPath } from "node:url";
import type { ReplayResult } from "@edmkit/core";
import { loadFixtures } from "@edmkit/core/node";
import { afterAll, describe, expect, test } from "vitest";
import { replayFixture } from "../src/index.js";

const dir = fileURLToPath(new URL("../../../fixtures/reference/k-diffusion", import.meta.url));
const fixtures = loadFixtures(dir);
const results: ReplayResult[] = [];

function divergence(r: ReplayResult): string {
  if (r.message) return r.message;
  if (!r.firstDivergence) {
    const bad = r.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ""}`);
    return bad.join("; ");
  }
  const d = r.firstDivergence;
  return `${d.field} (step ${d.step ?? "?"}, |diff| ${d.maxAbs.toExponential(2)})`;
}

describe("k-diffusion reference fixtures", () => {
  test("the fixture folder is not empty", () => {
    expect(fixtures.length).toBeGreaterThan(50);
  });

  for (const { fixture } of fixtures) {
    test(fixture.id, async () => {
      // A fixture on an ONNX network is replayed with PyTorch's recorded outputs (mode a);
      // running the network itself needs @edmkit/onnx (conformance's replay does both).
      const onnx = "denoiser" in fixture && fixture.denoiser?.kind === "onnx";
      const r = await replayFixture(fixture, onnx ? { model: "recorded" } : {});
      results.push(r);
      expect(r.status, `${fixture.id}: ${divergence(r)}`).toBe("pass");
    });
  }

  afterAll(() => {
    const rows = results.map((r) => ({
      id: r.id.replace(/^k-diffusion\//, ""),
      status: r.status,
      maxAbsError: Number.isNaN(r.maxAbsError) ? "-" : r.maxAbsError.toExponential(2),
      firstDivergence: r.status === "pass" ? "" : divergence(r),
    }));
    const w = Math.max(...rows.map((x) => x.id.length));
    const lines = rows.map(
      (x) => `${x.id.padEnd(w)}  ${x.status.padEnd(11)}  ${x.maxAbsError.padStart(9)}  ${x.firstDivergence}`,
    );
    const passed = results.filter((r) => r.status === "pass").length;
    console.log(
      `\n${"fixture".padEnd(w)}  ${"status".padEnd(11)}  ${"max |err|".padStart(9)}  first divergence\n${lines.join("\n")}\n${passed}/${results.length} passed`,
    );
  });
});
