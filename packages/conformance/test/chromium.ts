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
