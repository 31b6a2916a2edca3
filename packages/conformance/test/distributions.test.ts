/**
 * Pathwise only or distributional: the energy test on disjoint seeds, the verdict every
 * divergent scenario pair gets (run on other latents), and the column it adds to the report.
 */
import { TorchGenerator } from "@edmkit/core";
import { describe, expect, it } from "vitest";
import { disjointSeedTest, energyTest } from "../src/conformance/images/stats.js";
import { DISTRIBUTION_N, runScenarios, type ScenarioDef } from "../src/conformance/scenarios.js";
import { renderHtml } from "../src/report/render-html.js";
import { renderMarkdown } from "../src/report/render-markdown.js";
import { reportSchema } from "../src/report/schema.js";
import { sampleReport } from "./sample-report.js";

/** k-diffusion's Euler ancestral on the ring with eta = 1 and this s_noise. */
const ancestral = (sNoise: number) => ({
  id: `kd/euler_a(s_noise=${sNoise})`,
  library: "k-diffusion" as const,
  label: `sample_euler_ancestral, s_noise = ${sNoise}`,
  run: {
    runner: "k-diffusion" as const,
    sampler: "sample_euler_ancestral" as const,
    model: "mixture" as const,
    sigmas: "karras" as const,
    kwargs: { eta: 1, s_noise: sNoise },
    noise: "aligned" as const,
  },
});

describe("disjoint-seed energy test", () => {
  it("the statistic is the energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| of the samples", () => {
    const g = new TorchGenerator(9).randn([17 + 23, 3], "float64").data;
    const x = g.subarray(0, 17 * 3),
      y = g.subarray(17 * 3);
    const mean = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < a.length / 3; i++)
        for (let j = 0; j < b.length / 3; j++)
          s += Math.hypot(a[3 * i] - b[3 * j], a[3 * i + 1] - b[3 * j + 1], a[3 * i + 2] - b[3 * j + 2]);
      return s / ((a.length / 3) * (b.length / 3));
    };
    const t = energyTest(x, y, 3, 19, 2);
    expect(t.value).toBeCloseTo(2 * mean(x, y) - mean(x, x) - mean(y, y), 12);
    expect(t.pValue).toBeGreaterThanOrEqual(1 / 20);
    expect(t.permutations).toBe(19);
  });

  it("separates shifted Gaussians and not two halves of one", () => {
    const n = 200;
    const g = new TorchGenerator(3).randn([4 * n, 2], "float64").data;
    const a = g.subarray(0, 4 * n);
    const same = g.subarray(4 * n);
    const shifted = Float64Array.from(same, (v, k) => (k % 2 === 0 ? v + 0.6 : v));
    const far = disjointSeedTest(a, shifted, 2, n, 199, 1);
    expect(far.verdict).toBe("distributional");
    expect(far.pValue).toBe(1 / 200);
    expect(far.value).toBeGreaterThan(5 * far.floor);
    const near = disjointSeedTest(a, same, 2, n, 199, 1);
    expect(near.verdict).toBe("pathwise");
    expect(near.pValue).toBeGreaterThan(0.01);
    expect(near.n).toBe(n);
  });
});

describe("scenario pairs get a pathwise / distributional verdict", () => {
  it("measured on other seeds; an ancestral sampler robbed of its noise (s_noise 0) is distributional", {
    timeout: 60_000,
  }, async () => {
    const scenario: ScenarioDef = {
      id: "t",
      title: "test: Euler ancestral with s_noise 1 vs 1.003 vs 0",
      setup: "ring8",
      schedule: "Karras, N = 12",
      noise: "aligned by step",
      impls: [ancestral(1), ancestral(1.003), ancestral(0)],
      pairs: [
        {
          id: "t/s_noise-1.003",
          a: ancestral(1).id,
          b: ancestral(1.003).id,
          expect: "noise-scaling",
          note: "",
        },
        { id: "t/s_noise-0", a: ancestral(1).id, b: ancestral(0).id, expect: "noise-scaling", note: "" },
        { id: "t/same", a: ancestral(1).id, b: ancestral(1).id, expect: "equivalent", note: "" },
      ],
      minimal: [],
    };
    const { pairs } = await runScenarios([scenario]);
    const [slight, twice, same] = pairs;
    expect(slight.verdict).toBe("diverge");
    expect(slight.distribution?.verdict).toBe("pathwise");
    expect(slight.distribution?.n).toBe(DISTRIBUTION_N);
    expect(twice.verdict).toBe("diverge");
    expect(twice.distribution?.verdict).toBe("distributional");
    expect(twice.distribution!.pValue).toBeLessThan(0.01);
    // An identical pair is not tested: there is nothing to classify.
    expect(same.verdict).toBe("identical");
    expect(same.distribution).toBeUndefined();
    // The test runs on other latents than the pair's own 64 (more samples, another seed).
    expect(twice.distribution!.seed).not.toBe(20221128);
    reportSchema.shape.pairs.parse(pairs);
  });

  it("report.md and index.html show it in Divergences and All pairs", () => {
    const report = sampleReport();
    const d = report.pairs.find((p) => p.verdict === "diverge")!;
    d.distribution = {
      verdict: "distributional",
      value: 0.25,
      floor: 0.01,
      pValue: 0.005,
      permutations: 199,
      n: 256,
      seed: 31337,
    };
    const md = renderMarkdown(report);
    const rows = md
      .split("\n")
      .filter((l) => l.includes(`\`${d.a.id}\``) && l.includes("**distributional**"));
    expect(rows.length).toBe(2); // Divergences and All pairs
    expect(md).toContain("energy 0.25 / floor 0.01, p = 0.005, n = 256");
    const html = renderHtml(report);
    // Divergences: badge and figures; All pairs: the badge under the verdict, figures in its tooltip
    expect(html.match(/<span class="badge bad">distributional<\/span>/g)?.length).toBe(1);
    expect(html).toContain(
      '<span class="badge bad" title="energy 0.25 / floor 0.01, p = 0.005, n = 256">distributional</span>',
    );
  });
});
