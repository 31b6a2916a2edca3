/** Headless Chromium for the browser tests: the system browser, driven by playwright-core. */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Launch headless Chromium, or fail with one line saying how to install it (`who`: the test). */
export async function launchChromium(who: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${who}: the browser test needs Chromium at ${CHROMIUM} (install it with \`apt-get install chromium\`)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
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
