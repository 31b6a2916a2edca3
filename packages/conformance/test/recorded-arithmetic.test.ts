/**
 * Sampler arithmetic against the originals with the model taken out (`--model recorded`):
 * every model call answers with the recorded output, so each later model input and the
 * output depend only on the port's update formulas and core's torch arithmetic. Every
 * float32 run must be bit-exact (DESIGN.md, "Faithfulness"); float64 runs stay within their
 * fixture tolerance. Exceptions are listed with their reason, never loosened silently.
 */
import { fileURLToPath } from "node:url";
import type { RunFixture } from "@edmkit/core";
import { loadFixtures } from "@edmkit/core/node";
import { describe, expect, test } from "vitest";
import { replayOne } from "../src/replay.js";

const root = fileURLToPath(new URL("../../../fixtures/reference", import.meta.url));
const runs = loadFixtures(root).filter((l) => (l.fixture as RunFixture).model_calls !== undefined);

/** float32 runs that are not bit-exact, with the reason (none today). */
const NOT_BIT_EXACT: Record<string, string> = {};

describe("replay --model recorded", () => {
  const f32 = runs.filter((l) => l.fixture.dtype === "float32");
  test("there are float32 runs to check", () => expect(f32.length).toBeGreaterThanOrEqual(12));

  for (const { path: file, fixture } of runs) {
    const exact = fixture.dtype === "float32" && !(fixture.id in NOT_BIT_EXACT);
    test(`${fixture.id} (${exact ? "bit-exact" : "within tolerance"})`, async () => {
      const r = await replayOne(file, fixture, { model: "recorded" });
      expect(r.status, r.message ?? JSON.stringify(r.firstDivergence)).toBe("pass");
      if (exact) {
        expect(r.maxAbsError).toBe(0);
        expect(r.callInputMaxAbs, "per-call input error").toEqual(r.callInputMaxAbs?.map(() => 0));
      }
    });
  }
});
