/** The one Chromium lookup of the browser tests: environment, then PATH, then known places. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { findChromium } from "./chromium.js";

const saved = { ...process.env };
let dir = "";

function fakeBinary(path: string): string {
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, 0o755);
  return path;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "edmkit-chromium-"));
  for (const v of ["EDMKIT_CHROMIUM", "CHROME_PATH", "PUPPETEER_EXECUTABLE_PATH"]) delete process.env[v];
});

afterEach(() => {
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});

describe("findChromium", () => {
  test("EDMKIT_CHROMIUM wins over CHROME_PATH and PATH", () => {
    const a = fakeBinary(join(dir, "a"));
    process.env.CHROME_PATH = fakeBinary(join(dir, "b"));
    process.env.EDMKIT_CHROMIUM = a;
    expect(findChromium()).toBe(a);
    delete process.env.EDMKIT_CHROMIUM;
    expect(findChromium()).toBe(join(dir, "b"));
  });

  test("a variable naming a missing file is an error, not skipped", () => {
    process.env.CHROME_PATH = join(dir, "missing");
    expect(() => findChromium()).toThrow(/CHROME_PATH=.*missing is not a file/);
  });

  test("on PATH: chromium before google-chrome", () => {
    const bin = join(dir, "bin");
    mkdirSync(bin);
    fakeBinary(join(bin, "google-chrome"));
    process.env.PATH = bin;
    expect(findChromium()).toBe(join(bin, "google-chrome"));
    fakeBinary(join(bin, "chromium"));
    expect(findChromium()).toBe(join(bin, "chromium"));
  });

  test.runIf(process.platform === "linux")("a Playwright download, newest version first", () => {
    process.env.PATH = join(dir, "empty");
    process.env.PLAYWRIGHT_BROWSERS_PATH = join(dir, "pw");
    for (const v of ["chromium-999", "chromium-1200"]) {
      mkdirSync(join(dir, "pw", v, "chrome-linux"), { recursive: true });
      fakeBinary(join(dir, "pw", v, "chrome-linux/chrome"));
    }
    const found = findChromium();
    // a system Chromium in a well-known place comes before downloaded ones
    if (!found?.startsWith("/usr/") && !found?.startsWith("/snap/"))
      expect(found).toBe(join(dir, "pw/chromium-1200/chrome-linux/chrome"));
  });
});
