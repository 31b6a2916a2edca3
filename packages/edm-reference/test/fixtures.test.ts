/**
 * Replays every reference fixture of NVlabs' samplers (fixtures/reference/edm), one test
 * each, and prints a summary table.
 */
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { ReplayResult } from "@edmkit/core";
import { loadFixtures } from "@edmkit/core/node";
import { replayFixture, supportsFixture } from "../src/index.js";

const dir = fileURLToPath(new URL("../../../fixtures/reference/edm", import.meta.url));
const fixtures = loadFixtures(dir);
const rows: ReplayResult[] = [];

describe("NVlabs edm fixtures", () => {
  it("finds the fixture set", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(32);
  });

  for (const { fixture } of fixtures) {
    it(fixture.id, async () => {
      expect(supportsFixture(fixture)).toBe(true);
      // A fixture on an ONNX network is replayed with PyTorch's recorded outputs (mode a);
      // running the network itself needs @edmkit/onnx (conformance's replay does both).
      const onnx = "denoiser" in fixture && fixture.denoiser?.kind === "onnx";
      const r = await replayFixture(fixture, onnx ? { model: "recorded" } : {});
      rows.push(r);
      const failed = r.checks
        .filter((c) => !c.ok)
        .map((c) => `${c.name} (max ${c.maxAbs}${c.detail ? `, ${c.detail}` : ""})`);
      const why =
        r.message ??
        (r.firstDivergence
          ? `first divergence at ${r.firstDivergence.field} (step ${r.firstDivergence.step}, ${r.firstDivergence.maxAbs})`
          : "");
      expect(r.status, `${fixture.id}: ${why} ${failed.join("; ")}`).toBe("pass");
    });
  }

  afterAll(() => {
    const lines = rows.map((r) => {
      const calls = r.checks.find((c) => c.name === "model call inputs");
      const sched = r.checks
        .filter((c) => c.name.startsWith("schedule."))
        .reduce((m, c) => Math.max(m, c.maxAbs), 0);
      return `${r.status.padEnd(5)} ${r.id.padEnd(70)} out ${r.maxAbsError.toExponential(2).padStart(9)}  calls ${(calls?.maxAbs ?? NaN).toExponential(2).padStart(9)}  sched ${sched.toExponential(2).padStart(9)}`;
    });
    const pass = rows.filter((r) => r.status === "pass").length;
    console.log(`edm fixtures: ${pass}/${rows.length} pass\n${lines.join("\n")}`);
  });
});
