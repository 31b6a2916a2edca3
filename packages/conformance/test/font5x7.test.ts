/**
 * The PNG plots' 5x7 font (issue 14 item 5): real lower case, descenders below the baseline,
 * every printable ASCII character drawn, and titles that fit the image.
 */
import { describe, expect, test } from "vitest";
import { CAP_HEIGHT, glyph5x7, textAdvance5x7 } from "../src/graphics/font5x7.js";
import { Raster } from "../src/graphics/raster.js";
import { plotScene, renderPng, titleLines } from "../src/cli/plot.js";
import { textWidth as svgTextWidth } from "../src/report/svg/common.js";

const BOX = glyph5x7("\u0001");

/** Inked rows and columns of `s` drawn black at baseline y = 20 on a white raster. */
function ink(s: string): { rows: Set<number>; cols: Set<number> } {
  const r = new Raster(200, 40);
  r.fillRect(0, 0, 200, 40, [255, 255, 255]);
  r.text(10, 20, s, [0, 0, 0]);
  const rows = new Set<number>(),
    cols = new Set<number>();
  for (let y = 0; y < 40; y++)
    for (let x = 0; x < 200; x++)
      if (r.rgba[(y * 200 + x) * 4] < 128) {
        rows.add(y);
        cols.add(x);
      }
  return { rows, cols };
}

describe("the 5x7 font", () => {
  test("every printable ASCII character has its own glyph; lower case differs from upper case", () => {
    for (let c = 32; c < 127; c++) {
      const ch = String.fromCharCode(c);
      expect(glyph5x7(ch), JSON.stringify(ch)).not.toBe(BOX);
    }
    for (const ch of "abcdefghijklmnopqrstuvwxyz")
      expect(glyph5x7(ch).rows, ch).not.toEqual(glyph5x7(ch.toUpperCase()).rows);
    expect(glyph5x7("σ")).not.toBe(BOX);
  });

  test("capitals stand on the baseline; g, j, p, q, y hang two rows below it; x-height is 5", () => {
    const cap = ink("H");
    expect(Math.min(...cap.rows)).toBe(20 - CAP_HEIGHT);
    expect(Math.max(...cap.rows)).toBe(19);
    for (const ch of "gjpqy") expect(Math.max(...ink(ch).rows), ch).toBe(21);
    const x = ink("x");
    expect([Math.min(...x.rows), Math.max(...x.rows)]).toEqual([15, 19]);
  });

  test("widths: the inked extent is the advance less one pixel; narrow glyphs are narrow", () => {
    for (const s of ["sample_heun", "Wl", "0.002"]) {
      const { cols } = ink(s);
      expect(Math.max(...cols) - 10 + 1, s).toBeLessThanOrEqual(Raster.textWidth(s));
    }
    expect(textAdvance5x7("i")).toBeLessThan(textAdvance5x7("m"));
    expect(Raster.textWidth("mmmm")).toBe(4 * 6 - 1);
  });
});

describe("plot titles fit the image", () => {
  test("a long title wraps to two lines, each narrower than the image in both renderings", () => {
    const title =
      "k-diffusion/sample_dpmpp_2s_ancestral, 12 steps, on fixtures/models/a-rather-long-model-name-for-a-test.onnx";
    const lines = titleLines(title, 616);
    expect(lines).toHaveLength(2);
    expect(lines.join(" ")).toBe(title);
    for (const l of lines) {
      expect(svgTextWidth(l, 14)).toBeLessThanOrEqual(616);
      expect(Raster.textWidth(l)).toBeLessThanOrEqual(616);
    }
    const huge = titleLines(`${title} ${title} ${title}`, 616);
    expect(huge).toHaveLength(2);
    expect(huge[1].endsWith("…")).toBe(true);
    expect(titleLines("short", 616)).toEqual(["short"]);
  });

  test("the PNG draws the title's ink inside the image, above the plot frame", () => {
    const samples = Float64Array.from({ length: 200 }, (_, i) => Math.sin(i));
    const title = "a title with lower case letters and a descender: gjpqy ".repeat(3).trim();
    const { scene } = plotScene({ samples, rows: 200, dim: 1, title });
    const titles = scene.items.filter((it) => it.kind === "text" && it.cls === "title");
    expect(titles.length).toBe(2);
    const png = renderPng(scene);
    expect(png.length).toBeGreaterThan(1000);
    for (const t of titles)
      if (t.kind === "text") {
        expect(t.x + Raster.textWidth(t.text)).toBeLessThanOrEqual(scene.width);
        expect(t.y + 2).toBeLessThan(56 - 12);
      }
  });
});
