/**
 * What one Node version computes, as one JSON document on stdout, for node-versions.test.ts:
 * the replay of every fixture under argv[2] (the built @edmkit/conformance, every field of
 * every result except timings, numbers in shortest round-trip form, so equal text is equal
 * bits), and the SHA-256 of the samples (.npy) of a few `edmkit sample` runs across the ports.
 * Not `edmkit train`: toy training (@edmkit/edm) still uses V8's Math.exp/log/sin/cos, and its
 * weights after 50 steps differ in the last bits between Node 20 (or 22) and Node 24.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collectFixtureFiles, loadAll, replayOne } from "@edmkit/conformance";

const cli = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

/** Drop timings (the only fields allowed to differ between runs). */
function untimed(value) {
  if (Array.isArray(value)) return value.map(untimed);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== "seconds")
        .map(([k, v]) => [k, untimed(v)]),
    );
  return value;
}

const replay = {};
for (const { file, fixture } of loadAll(collectFixtureFiles([process.argv[2]]))) {
  const r = await replayOne(file, fixture);
  replay[fixture.id] = untimed({ ...r, file: undefined });
}

const runs = [
  ["k-diffusion/sample_dpmpp_2m_sde", "gmm2d-ring8", "--eta", "1"],
  ["k-diffusion/sample_dpm_adaptive", "gmm1d-bimodal"],
  ["k-diffusion/sample_euler_ancestral", "gmm2d-ring8", "--schedule", "exponential"],
  ["edm/heun", "gmm2d-ring8", "--preset", "vp"],
  ["edm/edm_sampler", "gmm1d-bimodal", "--churn", "40"],
  ["diffusers/EulerAncestralDiscreteScheduler", "gmm2d-ring8-discrete"],
  ["diffusers/HeunDiscreteScheduler", "gmm2d-ring8-discrete", "--schedule", "karras"],
];
const dir = mkdtempSync(join(tmpdir(), "edmkit-node-versions-"));
const sha = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");
function edmkit(args) {
  const r = spawnSync(process.execPath, [cli, ...args, "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`edmkit ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
}
const samples = {};
try {
  for (const [sampler, model, ...extra] of runs) {
    const out = join(dir, "samples.npy");
    edmkit(["sample", "--sampler", sampler, "--model", model, "--batch", "64", "--out", out, ...extra]);
    samples[[sampler, model, ...extra].join(" ")] = sha(out);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ node: process.version, replay, samples })}\n`);
