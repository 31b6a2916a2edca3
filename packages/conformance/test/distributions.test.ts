/**
 * Pathwise only or distributional: the energy test on disjoint seeds, the verdict every
 * divergent scenario pair gets (run on other latents), the same for the web-UI sampler map's
 * and the seed question's pairs, and the column it adds to the report.
 */
import { TorchGenerator } from "@edmkit/core";
import { beforeAll, describe, expect, it } from "vitest";
import { disjointSeedTest, energyTest } from "../src/conformance/images/stats.js";
import {
  DISTRIBUTION_N,
  DISTRIBUTION_SEED,
  runScenarios,
  type ScenarioDef,
} from "../src/conformance/scenarios.js";
import { SETUPS } from "../src/conformance/scenarios/setups.js";
import { comparePair } from "../src/conformance/trajectory.js";
import { mapDistributions, type SamplerMapValue, samplerMap } from "../src/conformance/webui.js";
import { mapContext } from "../src/conformance/webui-util.js";
import { distributionMarkdown } from "../src/report/distribution-cell.js";
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

describe("the sampler map's and the seed question's divergent pairs get the verdict too", () => {
  let v: SamplerMapValue;
  beforeAll(async () => {
    v = await samplerMap();
    await mapDistributions(v);
  }, 180_000);
  const pair = (id: string) => {
    const p = v.pairs.find((x) => x.id === id);
    if (!p) throw new Error(`no pair ${id}`);
    return p;
  };
  /** The drawn context the verdicts ran in (the scenarios' distribution seed, 2n latents). */
  const drawn = () =>
    mapContext(SETUPS["ring8-discrete"]({ batch: 2 * DISTRIBUTION_N, seed: DISTRIBUTION_SEED }));

  it("every divergent webui/* and seed/* pair is measured on 2n other latents and noise streams", () => {
    const divergent = v.pairs.filter(
      (p) => p.verdict === "diverge" && (p.id.startsWith("webui/") || p.id.startsWith("seed/")),
    );
    // 13 rows as shipped, the two ladders closed by the float32 envelope, the three seed pairs
    expect(divergent.length).toBe(18);
    for (const p of divergent) {
      expect(p.distribution, p.id).toBeDefined();
      expect(p.distribution!.n).toBe(DISTRIBUTION_N);
      expect(p.distribution!.seed).toBe(DISTRIBUTION_SEED);
      expect(p.distribution!.permutations).toBe(199);
    }
    // identical pairs (a ladder's last rung within the fixed float32 bound) are not tested
    expect(pair("webui/Euler/ladder").verdict).toBe("identical");
    expect(pair("webui/Euler/ladder").distribution).toBeUndefined();
    // each row shows its as-shipped pair's verdict
    for (const r of v.rows) expect(r.distribution, r.name).toEqual(pair(r.pair).distribution);
  });

  it("as measured: DDIM with clip_sample=True is distributional, every other pair pathwise only", () => {
    const clip = pair("webui/DDIM (class defaults)").distribution!;
    expect(clip.verdict).toBe("distributional");
    expect(clip.pValue).toBe(1 / 200);
    expect(clip.value).toBeGreaterThan(10 * clip.floor);
    for (const p of v.pairs.filter((x) => x.distribution && x.id !== "webui/DDIM (class defaults)")) {
      expect(p.distribution!.verdict, p.id).toBe("pathwise");
      expect(p.distribution!.pValue, p.id).toBeGreaterThanOrEqual(0.01);
    }
    // DDPM fixed_large (variance beta, not beta-tilde): a different rule, yet at N = 15 on the
    // ring its samples are within sampling error of Euler-a's (measured, not assumed)
    const large = pair("seed/ddpm-fixed_large-vs-kd-euler-a");
    expect(large.verdict).toBe("diverge");
    expect(large.distribution!.verdict).toBe("pathwise");
  });

  it("the recipes repeat the map's own runs exactly, and on the draw the noise stays aligned", async () => {
    const own = mapContext(SETUPS["ring8-discrete"]());
    const p = pair("seed/ddpm-fixed_small-vs-kd-euler-a");
    const [a, b] = await Promise.all([v.recipes.get(p.a.id)!(own), v.recipes.get(p.b.id)!(own)]);
    const again = comparePair(
      {
        id: p.id,
        scenario: p.scenario,
        model: p.model,
        dtype: p.dtype,
        cause: null,
        causePair: null,
        note: "",
      },
      a,
      b,
    );
    expect(again.maxGap).toBe(p.maxGap);
    expect(again.outputGap).toBe(p.outputGap);
    // on the drawn latents the two libraries' Euler-a runs still share each step's noise: their
    // samples differ by float32 round-off, not by independent draws (output gap << 1)
    const ctx = drawn();
    const d = await v.recipes.get("webui/diffusers/Euler a@rung1")!(ctx);
    const k = await v.recipes.get("webui/k-diffusion/Euler a")!(ctx);
    expect(k.output.length).toBe(2 * 2 * DISTRIBUTION_N);
    let gap = 0;
    for (let i = 0; i < k.output.length; i++) gap = Math.max(gap, Math.abs(d.output[i] - k.output[i]));
    expect(gap).toBeLessThan(1e-3);
    // and they are other samples than the map's
    const mine = await v.recipes.get("webui/k-diffusion/Euler a")!(own);
    expect(Array.from(k.output.subarray(0, 4))).not.toEqual(Array.from(mine.output.subarray(0, 4)));
  }, 60_000);

  it("the sampler map table shows it: under the verdict in index.html, a column in report.md", () => {
    const report = reportSchema.parse(
      JSON.parse(
        JSON.stringify({
          ...sampleReport(),
          samplerMap: { model: v.model, rows: v.rows, answers: v.answers },
        }),
      ),
    );
    const md = renderMarkdown(report);
    const mapMd = md.slice(md.indexOf("## Sampler map"), md.indexOf("## Root causes"));
    expect(mapMd).toContain("| ladder gap | distributions |");
    expect(mapMd).toContain(`on ${2 * DISTRIBUTION_N} other latents and noise streams`);
    for (const r of v.rows) {
      const line = mapMd
        .split("\n")
        .find((l) => l.startsWith(`| ${r.name.replace(/[*_]/g, (c) => `\\${c}`)} |`));
      expect(line, r.name).toMatch(
        new RegExp(`\\| ${distributionMarkdown(r).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\|$`),
      );
    }
    expect(mapMd).toContain("| **distributional** (energy");
    const html = renderHtml(report);
    const mapHtml = html.slice(
      html.indexOf('<section id="sampler-map">'),
      html.indexOf('<section id="causes">'),
    );
    expect(
      mapHtml.match(/<span class="badge bad" title="energy [^"]*">distributional<\/span>/g)?.length,
    ).toBe(1);
    expect(mapHtml.match(/>pathwise only<\/span>/g)?.length).toBe(v.rows.length - 1);
  });
});
