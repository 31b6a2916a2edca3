/**
 * What users install must work, not only the workspace links: pack every package with
 * pnpm (workspace:^ ranges become real versions), install the tarballs with npm into a
 * scratch project outside the workspace exactly as the READMEs say
 * (`ONNXRUNTIME_NODE_INSTALL=skip npm install ...`, install scripts on), import each package,
 * run the example of each package's README there (from a folder holding a copy of
 * fixtures/models, as a clone of the repository does), and run the installed `edmkit` binary,
 * `edmkit conformance` with its defaults (the fixtures of @edmkit/fixtures) included.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { listFixtureFiles } from "@edmkit/core/node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const packages = ["core", "k-diffusion-port", "diffusers-port", "edm-reference", "onnx", "conformance"];
/** The published names of the code packages. */
const codeNames = ["core", "k-diffusion", "diffusers", "edm", "onnx", "conformance"];
/** Folders of every published package: the code packages and the fixtures (fixtures/ itself). */
const packageDirs = [...packages.map((p) => join("packages", p)), "fixtures"];
let scratch = "";

/**
 * The environment a user's shell has: without the npm_config_* / npm_package_* variables that
 * `pnpm test` sets for its scripts (npm warns about the pnpm-only ones on stderr).
 */
const userEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)),
);

let tarballs: string[] = [];

const requireHere = createRequire(import.meta.url);
/** attw's CLI (it works on a local tarball, offline). */
const attwBin = join(dirname(requireHere.resolve("@arethetypeswrong/cli/package.json")), "dist/index.js");
/** publint on a tarball, through its API (its CLI packs with a package manager instead). */
const publintCheck = fileURLToPath(new URL("./publint-tarball.mjs", import.meta.url));

function pnpm(args: string[], cwd: string): string {
  const execpath = process.env.npm_execpath;
  const [cmd, pre] =
    execpath && /pnpm/.test(execpath) ? [process.execPath, [execpath]] : ["npx", ["-y", "pnpm@10.34.9"]];
  return execFileSync(cmd, [...pre, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** tsx's ESM loader from the workspace, for the README examples in TypeScript. */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href;

/** The first ```ts or ```js block of a README: TypeScript runs with tsx, JavaScript with plain node. */
function readmeExample(pkgDir: string): { lang: "ts" | "js"; code: string } {
  const text = readFileSync(join(root, "packages", pkgDir, "README.md"), "utf8");
  const m = /```(ts|js)\n([\s\S]*?)```/.exec(text);
  if (!m) throw new Error(`packages/${pkgDir}/README.md has no \`\`\`ts or \`\`\`js example`);
  return { lang: m[1] as "ts" | "js", code: m[2] };
}

/** Every file an exports map points at. */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === "string") return [exports];
  if (exports && typeof exports === "object") return Object.values(exports).flatMap(exportTargets);
  return [];
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "edmkit-pack-"));
  const tgz = join(scratch, "tarballs");
  for (const p of packageDirs) pnpm(["pack", "--pack-destination", tgz], join(root, p));
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({ name: "scratch", private: true, type: "module" }),
  );
  // README examples load the models shipped in the repository, as from a clone of it
  cpSync(join(root, "fixtures/models"), join(scratch, "fixtures/models"), { recursive: true });
  tarballs = readdirSync(tgz).map((f) => join(tgz, f));
  expect(tarballs).toHaveLength(packageDirs.length);
  // What the READMEs tell users to run: onnxruntime-node's postinstall would fetch CUDA
  // libraries from api.nuget.org (outside npm) on Linux x64; ONNXRUNTIME_NODE_INSTALL=skip
  // keeps it to the CPU and WebGPU providers the npm package ships.
  execFileSync("npm", ["install", "--no-audit", "--no-fund", ...tarballs], {
    cwd: scratch,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...userEnv, ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("packed packages installed with npm outside the workspace", () => {
  test("each tarball holds dist, README and package.json, and no sources or tests", () => {
    for (const name of codeNames) {
      const dir = join(scratch, "node_modules", "@edmkit", name);
      const files = readdirSync(dir);
      expect(files).toContain("dist");
      expect(files).toContain("README.md");
      expect(files).not.toContain("src");
      expect(files).not.toContain("test");
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      expect(JSON.stringify(pkg.dependencies ?? {})).not.toContain("workspace:");
    }
  });

  test("every package ships LICENSE (MIT) and lists CHANGELOG.md and keywords; fixtures ship their folders", () => {
    for (const name of [...codeNames, "fixtures"]) {
      const dir = join(scratch, "node_modules", "@edmkit", name);
      expect(readFileSync(join(dir, "LICENSE"), "utf8")).toContain("Copyright (c) 2026 edmkit contributors");
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      expect(pkg.license).toBe("MIT");
      expect(pkg.files).toContain("CHANGELOG.md");
      expect(pkg.keywords).toContain("edmkit");
    }
    const fixtures = readdirSync(join(scratch, "node_modules/@edmkit/fixtures"));
    for (const f of ["reference", "models", "datasets", "rng", "FORMAT.md"]) expect(fixtures).toContain(f);
  });

  test.each(packageDirs)(
    "publint --strict and attw --profile esm-only find nothing in the tarball of %s",
    (p) => {
      const name = JSON.parse(readFileSync(join(root, p, "package.json"), "utf8")).name as string;
      const tgz = tarballs.find((t) => t.includes(`${name.replace("@", "").replace("/", "-")}-`))!;
      const lint = spawnSync(process.execPath, [publintCheck, tgz], { encoding: "utf8" });
      expect(lint.stdout + lint.stderr).toBe("");
      expect(lint.status).toBe(0);
      if (p === "fixtures") return; // data only: no entry points to type
      const attw = spawnSync(process.execPath, [attwBin, "--profile", "esm-only", "--format", "ascii", tgz], {
        encoding: "utf8",
      });
      expect(attw.status, attw.stdout + attw.stderr).toBe(0);
    },
  );

  test("exports name only shipped files: no @edmkit/source condition, no source maps", () => {
    for (const name of codeNames) {
      const dir = join(scratch, "node_modules", "@edmkit", name);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      expect(JSON.stringify(pkg.exports)).not.toContain("@edmkit/source");
      for (const target of exportTargets(pkg.exports))
        expect(existsSync(join(dir, target)), `${name}: ${target}`).toBe(true);
      const dist = readdirSync(join(dir, "dist"), { recursive: true, encoding: "utf8" });
      expect(dist.filter((f) => f.endsWith(".map"))).toEqual([]);
      for (const f of dist.filter((f) => /\.(js|d\.ts)$/.test(f)))
        expect(readFileSync(join(dir, "dist", f), "utf8"), `${name}/dist/${f}`).not.toContain(
          "sourceMappingURL",
        );
    }
  });

  test("require() from CommonJS loads each entry, or fails with ERR_REQUIRE_ESM on a Node without require(esm)", () => {
    const entries = codeNames.flatMap((name) => {
      const pkg = JSON.parse(
        readFileSync(join(scratch, "node_modules/@edmkit", name, "package.json"), "utf8"),
      );
      return (
        Object.keys(pkg.exports)
          // ./transformers needs the optional peer @huggingface/transformers, not installed here
          .filter((k) => k !== "./package.json" && k !== "./transformers")
          .map((k) => `@edmkit/${name}${k.slice(1)}`)
      );
    });
    expect(entries.length).toBeGreaterThanOrEqual(codeNames.length);
    const [major, minor] = process.versions.node.split(".").map(Number);
    const requireEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
    const file = join(scratch, "require-check.cjs");
    for (const entry of entries) {
      writeFileSync(
        file,
        `const m = require(${JSON.stringify(entry)});\nconsole.log(Object.keys(m).length);\n`,
      );
      // as this Node runs it, and as a Node without require(esm) (before 20.19 / 22.12) does
      for (const flags of requireEsm ? [[], ["--no-experimental-require-module"]] : [[]]) {
        const r = spawnSync(process.execPath, [...flags, file], { cwd: scratch, encoding: "utf8" });
        if (requireEsm && flags.length === 0) {
          expect(r.status, `${entry}: ${r.stderr}`).toBe(0);
          expect(Number(r.stdout)).toBeGreaterThan(0);
        } else expect(r.stderr, entry).toContain("ERR_REQUIRE_ESM");
        expect(r.stderr).not.toContain("ERR_PACKAGE_PATH_NOT_EXPORTED");
      }
    }
  });

  test.each(packages)("the README example of %s runs against the installed package", (p) => {
    const { lang, code } = readmeExample(p);
    const file = join(scratch, `example-${p}.${lang === "ts" ? "ts" : "mjs"}`);
    writeFileSync(file, code);
    const r = spawnSync(process.execPath, lang === "ts" ? ["--import", tsxLoader, file] : [file], {
      cwd: scratch,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim().length).toBeGreaterThan(0);
  });

  test("edmkit --version prints the installed version", () => {
    const r = spawnSync("npx", ["edmkit", "--version"], { cwd: scratch, encoding: "utf8", env: userEnv });
    const pkg = JSON.parse(readFileSync(join(root, "packages/conformance/package.json"), "utf8"));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.status).toBe(0);
  });

  test("npx edmkit conformance runs the whole suite with its defaults on the installed fixtures", () => {
    const r = spawnSync("npx", ["edmkit", "conformance"], {
      cwd: scratch,
      env: userEnv,
      encoding: "utf8",
      timeout: 240_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(join(scratch, "reports/report.json"), "utf8"));
    const fixtures = listFixtureFiles(join(root, "fixtures/reference"));
    expect(report.fixtures.summary).toEqual({
      passed: fixtures.length,
      failed: 0,
      unsupported: 0,
      invalid: 0,
    });
    expect(
      report.fixtures.results.every((f: { file: string }) => f.file.startsWith("fixtures/reference/")),
    ).toBe(true);
    expect(report.problems).toEqual([]);
    for (const name of ["core", "k-diffusion", "diffusers", "edm", "onnx", "fixtures", "conformance"])
      expect(report.versions[`@edmkit/${name}`]).toMatch(/^\d+\.\d+\.\d+/);
  }, 300_000);

  test("the installed edmkit binary replays a bundled fixture", () => {
    const fixture = join(root, "fixtures/reference/k-diffusion/sample_euler__gmm1d-bimodal__karras12.json");
    const r = spawnSync(join(scratch, "node_modules/.bin/edmkit"), ["replay", "--json", fixture], {
      cwd: scratch,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toEqual({ passed: 1, failed: 0, unsupported: 0 });
  });
});
