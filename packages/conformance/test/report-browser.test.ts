/**
 * Opens the rendered report in headless Chromium (playwright-core, system browser) with
 * JavaScript disabled and checks that it renders: every section visible, every plot drawn with
 * a real size, the animation decoded, no network requests. Saves a full-page screenshot to
 * .tmp/report-screenshot.png for people to look at.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trajectoryAnimation } from "../src/report/gif.js";
import { renderHtml } from "../src/report/render-html.js";
import { sampleReport } from "./sample-report.js";
import { launchChromium, tablesWiderThanContainer } from "./chromium.js";
import { sampleImages } from "./images-fixture.js";
import { mapDistributions, samplerMap } from "../src/conformance/webui.js";
import { consistencyProblems, plotTextOverlaps } from "./report-consistency.js";
import { formatGap } from "../src/report/svg/format.js";

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const tmpDir = join(pkgDir, ".tmp");
const sections = [
  "summary",
  "equivalence",
  "divergences",
  "ancestral",
  "sampler-map",
  "causes",
  "accuracy",
  "trajectories",
  "clouds",
  "heatmap",
  "onnx",
  "images",
  "fixtures",
  "problems",
];
const plots = ["plot-trajectories", "plot-clouds", "plot-accuracy", "plot-heatmap"];

let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium("report-browser.test");
});

afterAll(async () => {
  await browser?.close();
});

describe("the HTML report in a browser", () => {
  it("renders every section and plot without JavaScript or network", async () => {
    expect(browser, "Chromium did not start").toBeDefined();
    // the sampler map as measured (its long scheduler calls are the widest cells of the page)
    const w = await samplerMap();
    // with its pathwise / distributional badges (fewer samples: only the cells' width matters here)
    await mapDistributions(w, 64);
    const report = {
      ...sampleReport(),
      images: sampleImages(),
      samplerMap: { model: w.model, rows: w.rows, answers: w.answers },
    };
    const html = renderHtml(report, { animationGif: trajectoryAnimation(report.figures.trajectories1d) });
    mkdirSync(tmpDir, { recursive: true });
    const file = join(tmpDir, "report-browser.html");
    writeFileSync(file, html);

    const context = await browser!.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const external: string[] = [];
    page.on("request", (r) => {
      const url = r.url();
      if (!url.startsWith("data:") && url !== pathToFileURL(file).href) external.push(url);
    });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });

    for (const id of sections) {
      await expect
        .poll(() => page.locator(`section#${id}`).isVisible(), { message: `section #${id} visible` })
        .toBe(true);
      const box = await page.locator(`section#${id}`).boundingBox();
      expect(box!.height, `#${id} height`).toBeGreaterThan(40);
    }

    for (const cls of plots) {
      const svgs = page.locator(`svg.${cls}`);
      expect(await svgs.count(), cls).toBeGreaterThan(0);
      for (let i = 0; i < (await svgs.count()); i++) {
        const svg = svgs.nth(i);
        const box = await svg.boundingBox();
        expect(box, cls).not.toBeNull();
        expect(box!.width, `${cls} width`).toBeGreaterThan(300);
        expect(box!.height, `${cls} height`).toBeGreaterThan(150);
        // Drawn elements with a real rendered size (not just present in the markup).
        const drawn = await svg.locator("path, circle, rect").evaluateAll(
          (els) =>
            els.filter((el) => {
              const r = el.getBoundingClientRect();
              return r.width > 0 || r.height > 0;
            }).length,
        );
        expect(drawn, `${cls} drawn elements`).toBeGreaterThanOrEqual(4);
      }
    }

    const img = page.locator("img.anim-trajectory");
    type ImageLike = { complete: boolean; naturalWidth: number; naturalHeight: number };
    await expect.poll(() => img.evaluate((el) => (el as unknown as ImageLike).complete)).toBe(true);
    const natural = await img.evaluate((el) => [
      (el as unknown as ImageLike).naturalWidth,
      (el as unknown as ImageLike).naturalHeight,
    ]);
    expect(natural).toEqual([320, 160]);
    expect(await img.isVisible()).toBe(true);

    // The Sampler map: one table row per web-UI sampler, each answer with its checks; in the navigation.
    expect(await page.locator("nav.toc a[href='#sampler-map']").count()).toBe(1);
    expect(await page.locator("#sampler-map table").first().locator("tbody tr").count()).toBe(w.rows.length);
    expect(await page.locator("#sampler-map .qa").count()).toBe(w.answers.length);

    // The Images section: every grid and difference map decoded from its data: URI.
    const digits = page.locator("#images img");
    expect(await digits.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      const el = digits.nth(i);
      await expect.poll(() => el.evaluate((e) => (e as unknown as ImageLike).complete)).toBe(true);
      const w = await el.evaluate((e) => (e as unknown as ImageLike).naturalWidth);
      expect(w).toBe(138);
      expect(await el.isVisible()).toBe(true);
    }

    // Layout sanity: nothing wider than the viewport (no horizontal page scroll).
    const overflow = Number(
      await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"),
    );
    expect(overflow).toBeLessThanOrEqual(0);
    // Every table fits its container at 1280 px: no column pushed off the page or into a scroll box.
    expect(await page.locator("table").count()).toBeGreaterThan(5);
    expect(await tablesWiderThanContainer(page)).toEqual([]);
    // ... and in print (A4 width, print stylesheet).
    await page.emulateMedia({ media: "print" });
    await page.setViewportSize({ width: 794, height: 1123 });
    expect(await tablesWiderThanContainer(page)).toEqual([]);
    await page.emulateMedia({ media: "screen" });
    await page.setViewportSize({ width: 1280, height: 900 });

    // One source per figure: every place that shows a pair's first divergent call, max gap or
    // output gap (All pairs, Divergences, the sparkline tooltips, the heatmap cells) shows the
    // number the pair carries, as the browser renders it.
    const mismatches = await consistencyProblems(page, report);
    expect(mismatches.checked).toBeGreaterThan(3 * report.pairs.length);
    expect(mismatches.problems).toEqual([]);

    // Plots: no title runs into a legend or off its figure, as laid out by the browser.
    expect(await plotTextOverlaps(page)).toEqual([]);

    await page.screenshot({ path: join(tmpDir, "report-screenshot.png"), fullPage: true });
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("the consistency and layout checks catch a wrong number and an overlapping title", async () => {
    expect(browser, "Chromium did not start").toBeDefined();
    const report = sampleReport();
    const p = report.pairs.find((x) => x.verdict === "diverge" && x.maxGap !== null && x.maxGap > 0)!;
    let html = renderHtml(report);
    // the first sparkline says max 0 (the issue's Heun case), one All pairs cell another max gap
    html = html.replace(/(<title>gap \(max[^<]*max )[^<]+(<\/title>)/, "$10$2");
    const allPairs = html.indexOf('id="pairs"');
    const cell = html.indexOf(`<span class="num">${formatGap(p.maxGap)}</span>`, allPairs);
    expect(cell).toBeGreaterThan(allPairs);
    html = `${html.slice(0, cell)}<span class="num">9.99</span>${html.slice(cell + `<span class="num">${formatGap(p.maxGap)}</span>`.length)}`;
    // the first Root causes card shows another max gap than its minimal pair
    const causes = html.indexOf('id="causes"');
    const kv = html.indexOf('<span class="k">max gap</span><span class="num">', causes);
    expect(kv).toBeGreaterThan(causes);
    const numAt = kv + '<span class="k">max gap</span><span class="num">'.length;
    html = `${html.slice(0, numAt)}7.77${html.slice(html.indexOf("</span>", numAt))}`;
    // a legend text moved onto the accuracy title
    html = html.replace(/(<svg[^>]*class="plot-accuracy"[^>]*>)/, '$1<text x="10" y="20">sampler</text>');
    const file = join(tmpDir, "report-browser-broken.html");
    writeFileSync(file, html);
    const context = await browser!.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    const { problems } = await consistencyProblems(page, report);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/sparkline: tooltip max 0, the pair's max gap/),
        `All pairs ${p.id} max gap: shows 9.99, the pair has ${formatGap(p.maxGap)}`,
        expect.stringMatching(/^Root causes [a-z0-9-]+ max gap: shows 7\.77, the pair has /),
      ]),
    );
    expect(await plotTextOverlaps(page)).toEqual(
      expect.arrayContaining([expect.stringMatching(/plot-accuracy 0 title .*: overlaps 'sampler'/)]),
    );
    await context.close();
  });
});
