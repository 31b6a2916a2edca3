/**
 * core and the three ports are platform-neutral: esbuild bundles them for the browser
 * (platform "browser", ESM) without any `node:` module or other Node built-in, and the bundle,
 * run in headless Chromium, computes the numbers the packages compute in Node
 * (test/browser/compute.ts: k-diffusion, diffusers and EDM samplers on a Gaussian mixture with
 * PyTorch-seeded noise): bit for bit, in float32 and in float64. Nothing whose value reaches a
 * sample calls the engine's Math.exp / Math.log / Math.pow (which differ by an ulp between V8
 * versions and Chromium): core's libm, fastExp and SLEEF ports are plain IEEE arithmetic.
 */
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bits, compute } from "./browser/compute.js";
import type { ThreadsResult } from "./browser/threads.js";
import { launchChromium } from "./chromium.js";

const testDir = dirname(fileURLToPath(import.meta.url));
const root = join(testDir, "../../..");

/** Node built-ins, with and without the `node:` prefix. */
const builtin = new RegExp(
  `^(node:.*|${builtinModules.map((m) => m.replace(/[/]/g, "\\/")).join("|")})(\\/.*)?$`,
);

/**
 * Bundle `contents` (resolved from test/browser) for the browser; every Node built-in import
 * is recorded (and left external) instead of failing the build, so a test can name them.
 */
async function bundle(contents: string): Promise<{ code: string; nodeImports: string[] }> {
  const nodeImports: string[] = [];
  const catchBuiltins: Plugin = {
    name: "catch-node-builtins",
    setup(b) {
      b.onResolve({ filter: builtin }, (args) => {
        nodeImports.push(`${relative(root, args.importer)} imports ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    stdin: { contents, resolveDir: join(testDir, "browser"), sourcefile: "entry.ts", loader: "ts" },
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    // workspace packages from their TypeScript sources, like the other tests
    conditions: ["@edmkit/source"],
    plugins: [catchBuiltins],
    logLevel: "silent",
  });
  return { code: result.outputFiles[0].text, nodeImports };
}

let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium("browser-bundle.test");
});

afterAll(async () => {
  await browser?.close();
});

describe("core and the ports in a browser", () => {
  it("the check sees Node built-ins: @edmkit/core/node needs node:fs", async () => {
    const { nodeImports } = await bundle(
      'import { loadFixtures } from "@edmkit/core/node";\nconsole.log(loadFixtures);',
    );
    expect(nodeImports.join("\n")).toMatch(/packages\/core\/src\/fixtures\/load\.ts imports node:fs/);
  });

  it("@edmkit/core, @edmkit/k-diffusion, @edmkit/diffusers, @edmkit/edm bundle with no Node built-in", async () => {
    const { nodeImports } = await bundle(
      [
        'export * from "@edmkit/core";',
        'export * as kdiffusion from "@edmkit/k-diffusion";',
        'export * as diffusers from "@edmkit/diffusers";',
        'export * as edm from "@edmkit/edm";',
      ].join("\n"),
    );
    expect(nodeImports).toEqual([]);
  });

  it("samplers of all three ports: float32 and float64 runs bit for bit as in Node", async () => {
    const { code, nodeImports } = await bundle(
      'import { compute } from "./compute.ts";\n(globalThis as { edmkitCompute?: unknown }).edmkitCompute = compute;',
    );
    expect(nodeImports).toEqual([]);
    const page = await browser!.newPage();
    try {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.addScriptTag({ content: code, type: "module" });
      await page.waitForFunction(() => "edmkitCompute" in globalThis);
      for (const dtype of ["float32", "float64"] as const) {
        const inBrowser = await page.evaluate(
          (d) => (globalThis as unknown as { edmkitCompute: (d: string) => Promise<Bits> }).edmkitCompute(d),
          dtype,
        );
        expect(errors).toEqual([]);
        const inNode = await compute(dtype);
        expect(Object.keys(inBrowser)).toEqual(Object.keys(inNode));
        for (const [name, words] of Object.entries(inNode)) {
          expect(words.length, name).toBe(64); // 16 samples x 2 coordinates x 2 words
          expect(inBrowser[name], name).toEqual(words);
        }
      }
    } finally {
      await page.close();
    }
  });

  it("SIMD threads in a cross-origin-isolated page: two threads = one, bit for bit", async () => {
    const worker = await bundle(
      [
        'import { serveSimdWorker } from "@edmkit/core";',
        "serveSimdWorker((h) => {",
        "  (self as unknown as { onmessage: (e: MessageEvent) => void }).onmessage = (e) => h(e.data);",
        "});",
      ].join("\n"),
    );
    const main = await bundle(
      'import { threadsCheck } from "./threads.ts";\n(globalThis as { edmkitThreads?: unknown }).edmkitThreads = threadsCheck;',
    );
    expect(worker.nodeImports).toEqual([]);
    expect(main.nodeImports).toEqual([]);
    const page = await browser!.newPage();
    try {
      // a page served with COOP/COEP (cross-origin isolated: SharedArrayBuffer and shared wasm
      // memory), from localhost (a secure context), by the test itself
      await page.route("http://localhost:8765/**", (route) =>
        route.fulfill({
          status: 200,
          contentType: "text/html",
          headers: {
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Embedder-Policy": "require-corp",
          },
          body: "<!doctype html><title>edmkit threads</title>",
        }),
      );
      await page.goto("http://localhost:8765/");
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.addScriptTag({ content: main.code, type: "module" });
      await page.waitForFunction(() => "edmkitThreads" in globalThis);
      const r = await page.evaluate(
        (src) =>
          (globalThis as unknown as { edmkitThreads: (s: string) => Promise<ThreadsResult> }).edmkitThreads(
            src,
          ),
        worker.code,
      );
      expect(errors).toEqual([]);
      expect(r.isolated).toBe(true);
      expect(r.threads).toBe(2);
      expect(r.poolCalls).toBeGreaterThan(0);
      for (const [name, [one, two]] of Object.entries(r.runs)) {
        expect(one.length, name).toBe(r.elements * 2);
        expect(two, name).toEqual(one);
      }
    } finally {
      await page.close();
    }
  });
});
