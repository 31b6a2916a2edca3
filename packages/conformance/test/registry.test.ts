/**
 * The release path end to end against a local registry: start verdaccio on 127.0.0.1 (no
 * uplinks: it only holds what is published to it), publish every package of the workspace
 * with `changeset publish` (what `pnpm release` runs, here with --no-git-tag), then in a fresh
 * folder install exactly as the README says (`ONNXRUNTIME_NODE_INSTALL=skip npm install
 * @edmkit/conformance`, the @edmkit scope pointed at the local registry, everything else from
 * npm) and run `npx edmkit`. verdaccio comes from npm through `npx -y verdaccio@6.8.0`; where
 * it cannot be fetched the test is skipped with a message saying so.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const VERDACCIO = "verdaccio@6.8.0";
let scratch = "";

/**
 * The environment a user's shell has: without the npm_config_* / npm_package_* variables that
 * `pnpm test` sets for its scripts (npm warns about the pnpm-only ones on stderr).
 */
const userEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)),
);

let server: ChildProcess | undefined;
let skipped = "";
let registry = "";
let userconfig = "";
let env: NodeJS.ProcessEnv = {};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** verdaccio's CLI script, fetched into npx's cache, or null. */
function verdaccioBin(): string | null {
  const r = spawnSync("npx", ["-y", "-p", VERDACCIO, "sh", "-c", "command -v verdaccio"], {
    encoding: "utf8",
    timeout: 240_000,
  });
  const bin = r.status === 0 ? r.stdout.trim() : "";
  if (!bin) {
    skipped = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n").slice(-1)[0];
    return null;
  }
  return realpathSync(bin);
}

/** A PATH on which `pnpm` runs pnpm 10 (changeset publish spawns `pnpm publish`). */
function pathWithPnpm(): string {
  const has = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
  if (has.status === 0 && has.stdout.startsWith("10.")) return process.env.PATH ?? "";
  const r = spawnSync("npx", ["-y", "-p", "pnpm@10.34.9", "sh", "-c", "command -v pnpm"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`pnpm 10 not found: ${r.stderr}`);
  return `${dirname(r.stdout.trim())}${delimiter}${process.env.PATH ?? ""}`;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "edmkit-registry-"));
  const bin = verdaccioBin();
  if (!bin) return;
  const port = await freePort();
  registry = `http://127.0.0.1:${port}/`;
  writeFileSync(
    join(scratch, "config.yaml"),
    [
      `storage: ${join(scratch, "storage")}`,
      "auth:",
      "  htpasswd:",
      `    file: ${join(scratch, "htpasswd")}`,
      "    max_users: 1",
      "uplinks: {}",
      "max_body_size: 100mb",
      "packages:",
      '  "**":',
      "    access: $all",
      "    publish: $authenticated",
      "log: { type: stdout, format: pretty, level: error }",
      "",
    ].join("\n"),
  );
  server = spawn(
    process.execPath,
    [bin, "--config", join(scratch, "config.yaml"), "--listen", `127.0.0.1:${port}`],
    {
      stdio: "ignore",
    },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${registry}-/ping`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`verdaccio did not answer on ${registry} within 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // a user and its token, in a user npmrc of our own (never the real ~/.npmrc)
  const res = await fetch(`${registry}-/user/org.couchdb.user:edmkit`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "edmkit", password: "local-registry-test" }),
  });
  const { token } = (await res.json()) as { token: string };
  userconfig = join(scratch, "npmrc");
  writeFileSync(userconfig, `//127.0.0.1:${port}/:_authToken=${token}\n`);
  env = { ...userEnv, NPM_CONFIG_USERCONFIG: userconfig, PATH: pathWithPnpm() };
}, 300_000);

afterAll(() => {
  server?.kill();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("publish to a local registry with changesets, install from it as the README says", () => {
  test("changeset publish, ONNXRUNTIME_NODE_INSTALL=skip npm install @edmkit/conformance, npx edmkit", (ctx) => {
    if (!server) {
      process.stderr.write(
        `registry.test: SKIPPED: \`npx -y ${VERDACCIO}\` could not fetch verdaccio (${skipped}); run it with access to the npm registry\n`,
      );
      ctx.skip();
      return;
    }
    const publish = spawnSync("npx", ["changeset", "publish", "--no-git-tag"], {
      cwd: root,
      encoding: "utf8",
      env: { ...env, npm_config_registry: registry },
      timeout: 300_000,
    });
    expect(publish.status, publish.stdout + publish.stderr).toBe(0);
    const names = ["core", "k-diffusion", "diffusers", "edm", "onnx", "fixtures", "conformance"];
    for (const name of names) {
      const info = spawnSync("npm", ["view", `@edmkit/${name}`, "version", "--registry", registry], {
        encoding: "utf8",
        env,
      });
      const version = JSON.parse(readFileSync(join(root, dirOf(name), "package.json"), "utf8")).version;
      expect(info.stdout.trim(), `@edmkit/${name} on the local registry`).toBe(version);
    }

    const app = join(scratch, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    // the @edmkit scope from the local registry; zod, onnxruntime-node, ... from npm
    writeFileSync(join(app, ".npmrc"), `@edmkit:registry=${registry}\n`);
    const install = spawnSync("npm", ["install", "@edmkit/conformance"], {
      cwd: app,
      encoding: "utf8",
      env: { ...env, ONNXRUNTIME_NODE_INSTALL: "skip" },
      timeout: 300_000,
    });
    expect(install.status, install.stderr).toBe(0);

    const version = spawnSync("npx", ["edmkit", "--version"], { cwd: app, encoding: "utf8", env });
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(join(root, "packages/conformance/package.json"), "utf8")).version,
    );
    const run = spawnSync("npx", ["edmkit", "conformance", "--only", "fixture:fixtures/reference/edm"], {
      cwd: app,
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/fixtures: \d+ passed, 0 failed, 0 unsupported/);
  }, 900_000);
});

function dirOf(name: string): string {
  const dirs: Record<string, string> = {
    core: "packages/core",
    "k-diffusion": "packages/k-diffusion-port",
    diffusers: "packages/diffusers-port",
    edm: "packages/edm-reference",
    onnx: "packages/onnx",
    conformance: "packages/conformance",
    fixtures: "fixtures",
  };
  return dirs[name];
}
