/**
 * Fixtures whose denoiser is an ONNX network (the digits UNet, recorded from its PyTorch
 * weights): mode (a) answers every call with PyTorch's output and must be bit-exact (float32);
 * mode (b) runs the network on onnxruntime and must stay within the stated looser tolerance.
 */
import { isScheduleFixture, type RunFixture } from "@edmkit/core";
import { listFixtureFiles, loadFixture } from "@edmkit/core/node";
import { describe, expect, test } from "vitest";
import { LIVE_ONNX_TOLERANCE_SCALE, replayOne } from "../src/replay.js";
import { FIXTURES } from "./cli-helpers.js";

const files = listFixtureFiles(`${FIXTURES}reference`).filter((file) => {
  const f = loadFixture(file);
  return !isScheduleFixture(f) && (f as RunFixture).denoiser.kind === "onnx";
});

describe("onnx fixtures", () => {
  test("there are k-diffusion and edm runs on the digits UNet", () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });

  test.each(files.map((f) => [f.split("/").pop()!, f]))(
    "%s: mode (a) bit-exact, mode (b) within tolerance",
    async (_n, file) => {
      const fixture = loadFixture(file) as RunFixture;
      const r = await replayOne(file, fixture);
      expect(r.status, r.message).toBe("pass");
      expect(r.maxAbsError).toBe(0);
      for (const e of r.callInputMaxAbs ?? []) expect(e).toBe(0);
      expect(r.live, "live run").toBeDefined();
      expect(r.live!.status, r.live!.message).toBe("pass");
      expect(r.live!.toleranceScale).toBe(LIVE_ONNX_TOLERANCE_SCALE);
      // onnxruntime's kernels differ from PyTorch's in the last bits only: far inside 1x.
      expect(r.live!.maxAbsError).toBeGreaterThan(0);
      expect(r.live!.maxAbsError).toBeLessThan(fixture.tolerance!.abs);
      const recorded = await replayOne(file, fixture, { model: "recorded" });
      expect(recorded.live).toBeUndefined();
    },
  );
});
