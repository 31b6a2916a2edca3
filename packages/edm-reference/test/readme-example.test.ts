/**
 * Runs the README's example exactly as written (its import of "@edmkit/edm" pointed at the
 * sources), so the README stays true.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";

describe("README example", () => {
  it("runs and its numbers are what the text says", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toContain('from "@edmkit/edm"');
    const code = `${block!.replace('from "@edmkit/edm"', 'from "../src/index.js"')}\nexport { x, exact, error, y, N };\n`;
    const dir = new URL("../.tmp/", import.meta.url);
    mkdirSync(dir, { recursive: true });
    const file = new URL("readme-example.ts", dir);
    writeFileSync(file, code);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const mod = await import(/* @vite-ignore */ file.href);
    log.mockRestore();
    expect(mod.N).toBe(64);
    expect(mod.x.data.length).toBe(8);
    // Heun with 64 steps: "about 5e-3" from the exact ODE solution
    expect(mod.error).toBeLessThan(1e-2);
    expect(mod.error).toBeGreaterThan(1e-3);
    // every sample ends near one of the two modes, deterministic and stochastic alike
    for (const v of [...mod.x.data, ...mod.y.data]) expect(Math.abs(Math.abs(v) - 1)).toBeLessThan(1);
    expect(Array.from(mod.y.data)).not.toEqual(Array.from(mod.x.data));
  });
});
