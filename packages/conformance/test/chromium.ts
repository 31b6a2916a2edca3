/**
 * Headless Chromium for the browser tests: a Chromium or Chrome already on the machine, driven
 * by playwright-core (which downloads no browser). findChromium is the one lookup every
 * browser test uses; the first of these that exists wins:
 *
 * 1. the environment: EDMKIT_CHROMIUM, then CHROME_PATH, PUPPETEER_EXECUTABLE_PATH;
 * 2. on PATH: chromium, chromium-browser, google-chrome, google-chrome-stable, chrome;
 * 3. the usual install locations (Debian/Ubuntu, Fedora, snap, macOS, Windows);
 * 4. browsers downloaded by Playwright (PLAYWRIGHT_BROWSERS_PATH or its cache folder) or
 *    Puppeteer (PUPPETEER_CACHE_DIR or ~/.cache/puppeteer), newest version first.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { homedir, platform } from "node:os";
import { delimiter, join } from "node:path";
import { type Browser, chromium } from "playwright-core";

const ENV_VARS = ["EDMKIT_CHROMIUM", "CHROME_PATH", "PUPPETEER_EXECUTABLE_PATH"];
const PATH_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  const exts = platform() === "win32" ? [".exe", ".cmd", ""] : [""];
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean))
    for (const ext of exts) if (isFile(join(dir, name + ext))) return join(dir, name + ext);
  return null;
}

function wellKnown(): string[] {
  const pf = [process.env.PROGRAMFILES, process.env["PROGRAMFILES(X86)"], process.env.LOCALAPPDATA];
  return [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/snap/bin/chromium",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    ...pf.filter((d): d is string => !!d).map((d) => join(d, "Google/Chrome/Application/chrome.exe")),
  ];
}

/** Sub-folders of dir whose name starts with prefix, newest (highest version) first. */
function versions(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(prefix))
    .sort((a, b) => b.localeCompare(a, "en", { numeric: true }))
    .map((n) => join(dir, n));
}

function downloaded(): string[] {
  const home = homedir();
  const playwright =
    process.env.PLAYWRIGHT_BROWSERS_PATH && process.env.PLAYWRIGHT_BROWSERS_PATH !== "0"
      ? process.env.PLAYWRIGHT_BROWSERS_PATH
      : platform() === "darwin"
        ? join(home, "Library/Caches/ms-playwright")
        : platform() === "win32"
          ? join(process.env.LOCALAPPDATA ?? home, "ms-playwright")
          : join(home, ".cache/ms-playwright");
  const inPlaywright = versions(playwright, "chromium").flatMap((d) => [
    join(d, "chrome-linux/chrome"),
    join(d, "chrome-linux64/chrome"),
    join(d, "chrome-mac/Chromium.app/Contents/MacOS/Chromium"),
    join(d, "chrome-win/chrome.exe"),
  ]);
  const puppeteer = process.env.PUPPETEER_CACHE_DIR ?? join(home, ".cache/puppeteer");
  const inPuppeteer = versions(join(puppeteer, "chrome")).flatMap((d) => [
    join(d, "chrome-linux64/chrome"),
    join(d, "chrome-mac-x64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing"),
    join(d, "chrome-mac-arm64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing"),
    join(d, "chrome-win64/chrome.exe"),
  ]);
  return [...inPlaywright, ...inPuppeteer];
}

/**
 * The Chromium the browser tests use, or null. A path set in one of the environment variables
 * that does not exist is an error, not skipped silently.
 */
export function findChromium(): string | null {
  for (const v of ENV_VARS) {
    const p = process.env[v];
    if (!p) continue;
    if (!isFile(p))
      throw new Error(`${v}=${p} is not a file; unset it or point it at a Chromium or Chrome binary`);
    return p;
  }
  for (const name of PATH_NAMES) {
    const p = onPath(name);
    if (p) return p;
  }
  return [...wellKnown(), ...downloaded()].find(isFile) ?? null;
}

export const howToGetChromium =
  "set EDMKIT_CHROMIUM (or CHROME_PATH) to a Chromium or Chrome binary, put chromium or google-chrome on PATH, " +
  "or install one: `apt-get install chromium` (Debian/Ubuntu), `npx playwright install chromium`";

/** Launch headless Chromium, or fail with one line saying how to get one (`who`: the test). */
export async function launchChromium(who: string): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`${who}: the browser test needs Chromium: ${howToGetChromium}`);
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Tables wider than their container on the open page: each table's rendered width against its
 * parent's content width and its section's inner right edge (a table inside a scrolling box
 * counts when it overflows the box). Returns "section #n: table w px > container c px" lines.
 */
export async function tablesWiderThanContainer(page: import("playwright-core").Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const out = [];
    document.querySelectorAll("table").forEach((t, i) => {
      const parent = t.parentElement;
      const sec = t.closest("section");
      const w = t.getBoundingClientRect().width;
      const cw = parent.clientWidth;
      const s = sec ? sec.getBoundingClientRect() : null;
      const pad = sec ? parseFloat(getComputedStyle(sec).paddingRight) : 0;
      const right = t.getBoundingClientRect().right;
      const where = (sec ? "#" + sec.id : "page") + " table " + i;
      if (w > cw + 1) out.push(where + ": table " + Math.round(w) + " px > container " + cw + " px");
      else if (s && right > s.right - pad + 1) out.push(where + ": table ends " + Math.round(right - (s.right - pad)) + " px past its section");
    });
    return out;
  })()`);
}
