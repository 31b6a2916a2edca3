/** `edmkit sample --plot grid.png` on image models: the exact digits denoiser and the UNet. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { edmkit } from "./cli-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "edmkit-sample-images-"));

function pngSize(file: string): [number, number] {
  const b = readFileSync(file);
  expect(b.subarray(1, 4).toString("latin1")).toBe("PNG");
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe("edmkit sample on image models", () => {
  it.each([
    ["digits8x8", "k-diffusion/sample_euler"],
    ["fixtures/models/digits8x8-unet-edm.onnx", "k-diffusion/sample_heun"],
  ])(
    "--model %s --sampler %s --plot grid.png writes a 4x4 image grid",
    { timeout: 120_000 },
    (model, sampler) => {
      const plot = join(dir, `${model.replace(/\W/g, "_")}.png`);
      const out = join(dir, `${model.replace(/\W/g, "_")}.json`);
      const r = edmkit([
        "sample",
        "--model",
        model,
        "--sampler",
        sampler,
        "--batch",
        "16",
        "--steps",
        "12",
        "--plot",
        plot,
        "--out",
        out,
        "--json",
      ]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.plot).toMatchObject({ file: plot, images: 16, columns: 4 });
      expect(pngSize(plot)).toEqual([138, 138]);
      const doc = JSON.parse(readFileSync(out, "utf8"));
      expect(doc.samples).toHaveLength(16);
      expect(doc.samples[0]).toHaveLength(64);
      // Finite pixels of the order of [-1, 1] (the UNet overshoots a little).
      for (const row of doc.samples) for (const v of row) expect(Math.abs(v)).toBeLessThan(3);
    },
  );

  it("refuses an image grid as .svg", () => {
    const r = edmkit([
      "sample",
      "--model",
      "digits8x8",
      "--sampler",
      "k-diffusion/sample_euler",
      "--batch",
      "4",
      "--plot",
      join(dir, "g.svg"),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/image grids are drawn for 1x8x8 images as \.png/);
  });
});
