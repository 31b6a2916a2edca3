/**
 * The same seed gives the same bits on every supported Node: every fixture replayed and a few
 * `edmkit sample` runs across the ports compute identical results
 * (test/node-versions/digest.mjs) on this Node and on Node 22 and 24, fetched with
 * `npx -y node@22` / `node@24` from the npm registry (the `node` package). A version that
 * cannot be fetched (no registry, no npx cache) is skipped with a message saying so.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";

const pkgDir = fileURLToPath(new URL("../", import.meta.url));
const digestScript = fileURLToPath(new URL("./node-versions/digest.mjs", import.meta.url));
const fixtures = fileURLToPath(new URL("../../../fixtures/reference", import.meta.url));
const others = ["22", "24"];

/** The binary of Node `major` from the npm registry (npx caches it), or why it is not there. */
function fetchNode(major: string): { path: string } | { why: string } {
  const r = spawnSync("npx", ["-y", `node@${major}`, "-p", "process.execPath"], {
    encoding: "utf8",
    timeout: 180_000,
  });
  const path = r.stdout?.trim();
  if (r.status === 0 && path) return { path };
  return { why: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n").slice(-1)[0] };
}

function digest(node: string): {
  node: string;
  replay: Record<string, unknown>;
  samples: Record<string, string>;
} {
  const r = spawnSync(node, [digestScript, fixtures], {
    cwd: pkgDir,
    encoding: "utf8",
    timeout: 300_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${node} digest.mjs: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

let here: ReturnType<typeof digest>;
beforeAll(() => {
  here = digest(process.execPath);
}, 300_000);

describe(`identical results on Node ${process.versions.node} and Node ${others.join(", ")}`, () => {
  test("this Node replays every fixture and runs the samplers", () => {
    expect(Object.keys(here.replay).length).toBeGreaterThan(200);
    expect(Object.keys(here.samples)).toHaveLength(7);
  });

  test.for(others)("Node %s computes the same bits", { timeout: 600_000 }, (major, ctx) => {
    const got = fetchNode(major);
    if ("why" in got) {
      process.stderr.write(
        `node-versions.test: SKIPPED Node ${major}: \`npx -y node@${major}\` could not fetch it (${got.why}); ` +
          "run the test with access to the npm registry to compare it\n",
      );
      ctx.skip();
      return;
    }
    const there = digest(got.path);
    expect(there.node.startsWith(`v${major}.`)).toBe(true);
    expect(there.samples).toEqual(here.samples);
    const differing = Object.keys(here.replay).filter(
      (id) => JSON.stringify(here.replay[id]) !== JSON.stringify(there.replay[id]),
    );
    expect(differing, `fixtures replayed differently on ${there.node}`).toEqual([]);
    expect(Object.keys(there.replay).sort()).toEqual(Object.keys(here.replay).sort());
  });
});
