/**
 * Replays every diffusers reference fixture (sampling runs and schedule files), one test per
 * file. A fixture that does not pass fails its test with the first divergence.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { ReplayResult, RunFixture } from "@edmkit/core";
import { loadFixture } from "@edmkit/core/node";
import { afterAll, describe, expect, it } from "vitest";
import { replayFixture, supportsFixture } from "../src/index.js";

const ROOT = fileURLToPath(new URL("../../../fixtures/reference/diffusers", import.meta.url));

function listJson(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? listJson(p) : name.endsWith(".json") ? [p] : [];
    });
}

const files = listJson(ROOT);
const rows: { file: string; kind: string; status: string; maxAbs: string; checks: string }[] = [];

describe("diffusers reference fixtures", () => {
  it("finds the fixture set", () => {
    expect(files.length).toBeGreaterThanOrEqual(94);
  });

  for (const file of files) {
    const name = relative(ROOT, file);
    it(name, async () => {
      const fx = loadFixture(file);
      expect(supportsFixture(fx)).toBe(true);
      const r: ReplayResult = await replayFixture(fx);
      rows.push({
        file: name,
        kind: "kind" in fx && fx.kind === "schedule" ? "schedule" : "run",
        status: r.status,
        maxAbs: Number.isNaN(r.maxAbsError) ? "-" : r.maxAbsError.toExponential(1),
        checks: `${r.checks.filter((c) => c.ok).length}/${r.checks.length}`,
      });
      const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? c.maxAbs}`);
      expect({ status: r.status, message: r.message, firstDivergence: r.firstDivergence, failed }).toEqual({
        status: "pass",
        message: undefined,
        firstDivergence: null,
        failed: [],
      });
    });
  }

  it("never throws: other libraries are 'unsupported', a broken entry is an 'error' result", async () => {
    const kd = join(ROOT, "..", "k-diffusion");
    const other = loadFixture(join(kd, listJson(kd).map((p) => relative(kd, p))[0]));
    expect(supportsFixture(other)).toBe(false);
    expect((await replayFixture(other)).status).toBe("unsupported");
    const fx = loadFixture(files.find((p) => p.endsWith("euler--gmm2d-ring8--sd-leading-eps-25.json"))!);
    const broken = structuredClone(fx);
    (broken.reference.call as Record<string, unknown>).set_timesteps = { num_inference_steps: 25, shift: 3 };
    const r = await replayFixture(broken);
    expect(r.status).toBe("error");
    expect(r.message).toMatch(/set_timesteps argument "shift" is not supported/);
    const wrongNoise = structuredClone(fx) as RunFixture;
    wrongNoise.noise.draws = [wrongNoise.noise.draws[0], wrongNoise.noise.draws[0]];
    expect((await replayFixture(wrongNoise)).checks.find((c) => c.name === "noise draws")?.ok).toBe(false);
  });

  afterAll(() => {
    const pass = (k: string) => rows.filter((r) => r.kind === k && r.status === "pass").length;
    const all = (k: string) => rows.filter((r) => r.kind === k).length;
    const w = Math.max(...rows.map((r) => r.file.length));
    const lines = rows.map(
      (r) =>
        `${r.file.padEnd(w)}  ${r.kind.padEnd(8)}  ${r.status.padEnd(5)}  ${r.maxAbs.padStart(8)}  ${r.checks}`,
    );
    console.log(
      [
        `${"fixture".padEnd(w)}  kind      status  max|err|  checks`,
        ...lines,
        `runs ${pass("run")}/${all("run")} pass, schedules ${pass("schedule")}/${all("schedule")} pass`,
      ].join("\n"),
    );
  });
});
