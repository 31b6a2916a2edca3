/**
 * The report's plots say what they plot (issue 14 item 5): the stochastic accuracy panel is W1
 * to the true mixture with its sampling floor, computed and checked against exact samples;
 * titles never run into the legend or off the figure; diffusers is in the heatmap.
 */
import { TorchGenerator } from "@edmkit/core";
import { describe, expect, test } from "vitest";
import {
  STOCHASTIC_SAMPLES,
  stochasticAccuracy,
  w1SamplingFloor,
  wassersteinToBimodal,
} from "../src/conformance/accuracy.js";
import { heatmap } from "../src/conformance/figures.js";
import { accuracyPanelText } from "../src/report/render-html.js";
import type { AccuracyResult } from "../src/report/schema.js";
import { plotAccuracy } from "../src/report/svg/accuracy.js";
import { textWidth } from "../src/report/svg/common.js";
import { plotHeatmap } from "../src/report/svg/heatmap.js";

/** n exact samples of the bimodal mixture (weights 1/2, means -1 and 1, std 0.3). */
function exactBimodal(g: TorchGenerator, n: number): Float64Array {
  const z = g.randn([n], "float64").data;
  const coin = g.randn([n], "float64").data;
  return Float64Array.from(z, (v, i) => (coin[i] < 0 ? -1 : 1) + 0.3 * v);
}

interface SvgText {
  x: number;
  y: number;
  attrs: string;
  content: string;
}

function texts(svg: string): SvgText[] {
  return [...svg.matchAll(/<text x="([-\d.]+)" y="([-\d.]+)"([^>]*)>([^<]*)<\/text>/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    attrs: m[3],
    content: m[4].replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'"),
  }));
}

const svgWidth = (svg: string) => Number(/viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg)![1]);
const svgHeight = (svg: string) => Number(/viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg)![2]);

describe("the W1 sampling floor", () => {
  test("equals the mean W1 of exact samples of the mixture (Monte Carlo, 100 sets of 4000)", () => {
    const floor = w1SamplingFloor(STOCHASTIC_SAMPLES);
    expect(floor).toBeGreaterThan(0.01);
    expect(floor).toBeLessThan(0.03);
    const g = new TorchGenerator(2024);
    let sum = 0;
    const reps = 100;
    for (let r = 0; r < reps; r++) sum += wassersteinToBimodal(exactBimodal(g, STOCHASTIC_SAMPLES));
    const mean = sum / reps;
    // one W1 of 4000 samples scatters by ~40% of its mean; the mean of 100 by ~4%
    expect(Math.abs(mean - floor) / floor).toBeLessThan(0.1);
  });

  test("scales as 1 / sqrt(n)", () => {
    expect(w1SamplingFloor(16_000) * 2).toBeCloseTo(w1SamplingFloor(4000), 12);
  });

  test("a stochastic accuracy curve carries it, and its W1 at the most NFE sits within a few floors", async () => {
    const a = await stochasticAccuracy("sample_euler_ancestral");
    expect(a.distanceName).toBe("W1 to the true mixture");
    expect(a.distanceFloor).toBe(w1SamplingFloor(STOCHASTIC_SAMPLES));
    expect(a.distanceFloorMethod).toMatch(/4000 exact samples/);
    const last = a.points.at(-1)!.error;
    expect(last).toBeGreaterThan(a.distanceFloor! / 3);
    expect(last).toBeLessThan(a.distanceFloor! * 4);
  }, 60_000);
});

function stochasticEntry(sampler: string, errors: number[]): AccuracyResult {
  const points = errors.map((e, i) => ({ nfe: 4 * 2 ** i, steps: 4 * 2 ** i, error: e }));
  return {
    sampler,
    library: "k-diffusion",
    model: "gmm1d-bimodal (exact), 4000 samples",
    points,
    fittedOrder: null,
    stochastic: true,
    distance: points.map((p) => ({ nfe: p.nfe, value: p.error })),
    distanceName: "W1 to the true mixture",
    distanceFloor: 0.017,
    distanceFloorMethod: "expected W1 of 4000 exact samples of the mixture",
  };
}

describe("accuracy panels", () => {
  const stochastic = [
    stochasticEntry("sample_euler_ancestral", [0.4, 0.3, 0.13, 0.07, 0.032]),
    stochasticEntry("sample_dpmpp_2s_ancestral", [0.19, 0.12, 0.07, 0.018, 0.013]),
  ];

  test("the stochastic panel is labelled W1, draws the floor, and has no order guides", () => {
    const svg = plotAccuracy(stochastic, accuracyPanelText(stochastic[0].model, stochastic));
    const t = texts(svg).map((x) => x.content);
    expect(t).toContain("W1 to the true mixture (log scale)");
    expect(t.join(" ")).not.toMatch(/error vs exact|order 1|order 2/);
    expect(t).toContain("sampling floor 0.017");
    expect(svg).toMatch(/<line class="noise-floor" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)" y2="\1"/);
    expect(t.some((s) => s.startsWith("Stochastic samplers: W1 to the true mixture vs NFE"))).toBe(true);
    // the floor line sits between the points it separates: only the 0.013 marker is below it
    const floorY = Number(/class="noise-floor"[^>]*y1="([\d.]+)"/.exec(svg)![1]);
    const ys = [...svg.matchAll(/<(?:circle cx="[\d.]+" cy|rect x="[\d.]+" y)="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(ys.filter((y) => y > floorY)).toHaveLength(1);
  });

  test("titles stand above the legend, fit the figure, and the notes are drawn in full", () => {
    const model =
      "gmm2d-ring8 (exact), Karras 0.002..80 then 0; error = max |x - x_ODE| over 32 samples (the low-order first steps of multistep methods and the final step into sigma = 0 bound the observed order at these N)";
    const det: AccuracyResult[] = ["sample_euler", "sample_heun", "sample_dpmpp_2m"].map((s, k) => ({
      sampler: s,
      library: "k-diffusion",
      model,
      points: [4, 8, 16, 32].map((n) => ({ nfe: n, steps: n, error: 2 / n ** (k + 1) })),
      fittedOrder: k + 1,
      stochastic: false,
    }));
    for (const [entries, m] of [
      [det, model],
      [stochastic, stochastic[0].model],
    ] as const) {
      const panel = accuracyPanelText(m, entries);
      const svg = plotAccuracy(entries, panel);
      const all = texts(svg);
      const titles = all.filter(
        (x) => x.attrs.includes('font-weight="600"') && x.attrs.includes('font-size="13"'),
      );
      const header = all.find((x) => x.content === "sampler")!;
      expect(titles.length).toBeGreaterThan(0);
      for (const x of titles) {
        expect(x.y, x.content).toBeLessThan(header.y - 12);
        expect(x.x + textWidth(x.content, 13) * 1.12, x.content).toBeLessThanOrEqual(svgWidth(svg));
      }
      // every word of the notes is drawn, inside the figure
      const notes = all.filter((x) => x.attrs.includes('font-size="11"') && x.attrs.includes("#6b7280"));
      const drawn = notes.map((x) => x.content).join(" ");
      for (const word of panel.notes.split(/\s+/).filter(Boolean)) expect(drawn).toContain(word);
      for (const x of notes) expect(x.y).toBeLessThanOrEqual(svgHeight(svg));
    }
    expect(accuracyPanelText(model, det).title).toBe(
      "Deterministic samplers: error vs NFE — gmm2d-ring8 (exact), Karras 0.002..80 then 0",
    );
    expect(accuracyPanelText(model, det).notes).toMatch(/^Error = max \|x - x_ODE\| over 32 samples/);
  });
});

describe("the heatmap", () => {
  test("diffusers EDMEuler is a row: float32 round-off from sample_euler, Heun's gap from Heun", async () => {
    const hm = await heatmap();
    const d = hm.labels.indexOf("diffusers EDMEuler (float32)");
    expect(d).toBeGreaterThanOrEqual(0);
    expect(hm.ids![d]).toBe("diffusers/EDMEulerScheduler@heatmap");
    const euler = hm.labels.indexOf("k-diffusion euler");
    const heun = hm.labels.indexOf("k-diffusion heun");
    const toEuler = hm.gaps[d][euler]!;
    expect(toEuler).toBeGreaterThan(0);
    expect(toEuler).toBeLessThan(1e-5);
    expect(hm.gaps[d][heun]!).toBeCloseTo(hm.gaps[euler][heun]!, 4);
    expect(hm.gaps[d][euler]).toBe(hm.gaps[euler][d]);
  }, 60_000);

  test("its title wraps inside the figure", () => {
    const n = 10;
    const labels = Array.from({ length: n }, (_, i) => `implementation ${i + 1}`);
    const hm = {
      scenario:
        "deterministic samplers of k-diffusion, EDM, NVlabs and diffusers, gmm2d-ring8, Karras N = 12, the scenarios' latents: max |output_a - output_b| (the output gap of the pairs table where the pair is one)",
      labels,
      gaps: labels.map((_, i) => labels.map((__, j) => (i === j ? null : 10 ** -(i + j)))),
    };
    const svg = plotHeatmap(hm);
    const titles = texts(svg).filter((x) => x.attrs.includes('font-weight="600"'));
    expect(titles.length).toBeGreaterThan(1);
    expect(titles.map((x) => x.content).join(" ")).toBe(`scenario: ${hm.scenario}`);
    for (const x of titles) expect(x.x + textWidth(x.content, 13) * 1.12).toBeLessThanOrEqual(svgWidth(svg));
  });
});
