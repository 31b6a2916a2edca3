import { describe, expect, it } from "vitest";
import { encodeGif, lzwEncode } from "../src/graphics/gif.js";
import { animationPalette, trajectoryAnimation } from "../src/report/gif.js";
import { htmlSections, renderHtml } from "../src/report/render-html.js";
import { mdCode, mdText, renderMarkdown } from "../src/report/render-markdown.js";
import { fitOrder, karrasSchedule, mixtureLogDensity, sampleReport } from "./sample-report.js";
import { reportSchema, type Report } from "../src/report/schema.js";
import { formatGap, formatOrder, formatSeconds } from "../src/report/svg/format.js";
import { densityRows, plotTrajectories } from "../src/report/svg/trajectories.js";
import { plotHeatmap } from "../src/report/svg/heatmap.js";
import { plotAccuracy } from "../src/report/svg/accuracy.js";
import { plotClouds } from "../src/report/svg/clouds.js";

// ---------------------------------------------------------------------------------------------
// A tiny GIF decoder (independent of the encoder) used to check what the encoder writes.

interface DecodedGif {
  width: number;
  height: number;
  palette: Uint8Array;
  frames: { pixels: Uint8Array; delayCs: number }[];
  loops: boolean;
}

function decodeGif(bytes: Uint8Array): DecodedGif {
  let pos = 0;
  const u8 = () => {
    if (pos >= bytes.length) throw new Error("decodeGif: truncated");
    return bytes[pos++];
  };
  const u16 = () => u8() | (u8() << 8);
  const sig = String.fromCharCode(...bytes.subarray(0, 6));
  pos = 6;
  if (sig !== "GIF89a") throw new Error(`decodeGif: bad signature ${sig}`);
  const width = u16();
  const height = u16();
  const packed = u8();
  u8();
  u8();
  if (!(packed & 0x80)) throw new Error("decodeGif: no global colour table");
  const n = 1 << ((packed & 7) + 1);
  const palette = bytes.slice(pos, pos + 3 * n);
  pos += 3 * n;
  const frames: DecodedGif["frames"] = [];
  let delay = 0;
  let loops = false;
  const subBlocks = () => {
    const parts: number[] = [];
    for (let len = u8(); len; len = u8()) for (let i = 0; i < len; i++) parts.push(u8());
    return Uint8Array.from(parts);
  };
  for (;;) {
    const b = u8();
    if (b === 0x3b) break;
    if (b === 0x21) {
      const label = u8();
      const data = subBlocks();
      if (label === 0xf9) delay = data[1] | (data[2] << 8);
      if (label === 0xff && String.fromCharCode(...data.subarray(0, 11)) === "NETSCAPE2.0")
        loops = data[11] === 1 && data[12] === 0 && data[13] === 0; // sub-block 1, loop count 0 = forever
      continue;
    }
    if (b !== 0x2c) throw new Error(`decodeGif: unexpected block 0x${b.toString(16)} at ${pos - 1}`);
    const fx = u16();
    const fy = u16();
    const fw = u16();
    const fh = u16();
    const fp = u8();
    if (fx || fy || fw !== width || fh !== height || fp)
      throw new Error("decodeGif: expected full-frame, non-interlaced frames without local tables");
    const min = u8();
    frames.push({ pixels: lzwDecode(subBlocks(), min, width * height), delayCs: delay });
  }
  if (pos !== bytes.length) throw new Error(`decodeGif: ${bytes.length - pos} bytes after the trailer`);
  return { width, height, palette, frames, loops };
}

function lzwDecode(data: Uint8Array, min: number, count: number): Uint8Array {
  const clear = 1 << min;
  const eoi = clear + 1;
  const out = new Uint8Array(count);
  let o = 0;
  let dict: number[][] = [];
  let size = 0;
  let next = 0;
  let prev: number[] | null = null;
  const reset = () => {
    dict = [];
    for (let i = 0; i < clear; i++) dict[i] = [i];
    size = min + 1;
    next = eoi + 1;
    prev = null;
  };
  reset();
  let bit = 0;
  const read = () => {
    let c = 0;
    for (let i = 0; i < size; i++, bit++) {
      if (bit >> 3 >= data.length) throw new Error("lzwDecode: ran out of data");
      c |= ((data[bit >> 3] >> (bit & 7)) & 1) << i;
    }
    return c;
  };
  for (;;) {
    const code = read();
    if (code === clear) {
      reset();
      continue;
    }
    if (code === eoi) break;
    let entry: number[];
    if (code < next && dict[code]) entry = dict[code];
    else if (code === next && prev) entry = [...prev, prev[0]];
    else throw new Error(`lzwDecode: bad code ${code} (next ${next})`);
    if (prev && next < 4096) {
      dict[next++] = [...prev, entry[0]];
      if (next === 1 << size && size < 12) size++;
    }
    for (const v of entry) {
      if (o >= count) throw new Error("lzwDecode: too many pixels");
      out[o++] = v;
    }
    prev = entry;
  }
  if (o !== count) throw new Error(`lzwDecode: ${o} pixels, expected ${count}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// A small well-formedness checker for XML (SVG) and for the HTML we emit.

const voidHtml = new Set(["meta", "br", "img", "link", "input", "hr", "wbr", "source"]);

function checkMarkup(doc: string, mode: "xml" | "html"): void {
  const stack: string[] = [];
  const entity = /&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (s: string, at: number) => {
    for (let i = s.indexOf("&"); i >= 0; i = s.indexOf("&", i + 1)) {
      entity.lastIndex = i;
      if (!entity.test(s)) throw new Error(`bad '&' at ${at + i}: ${s.slice(i, i + 20)}`);
    }
    if (s.includes(">") && mode === "xml") throw new Error(`raw '>' in text at ${at}: ${s.slice(0, 40)}`);
  };
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
  let i = 0;
  while (i < doc.length) {
    const lt = doc.indexOf("<", i);
    const textEnd = lt < 0 ? doc.length : lt;
    checkText(doc.slice(i, textEnd), i);
    if (lt < 0) break;
    if (doc.startsWith("<!--", lt)) {
      const end = doc.indexOf("-->", lt);
      if (end < 0) throw new Error(`unclosed comment at ${lt}`);
      i = end + 3;
      continue;
    }
    if (mode === "html" && /^<!doctype html>/i.test(doc.slice(lt, lt + 15))) {
      i = lt + 15;
      continue;
    }
    tag.lastIndex = lt;
    const m = tag.exec(doc);
    if (!m) throw new Error(`malformed tag at ${lt}: ${doc.slice(lt, lt + 60)}`);
    const [, close, name, attrs, selfClose] = m;
    const names = [...attrs.matchAll(/\s+([A-Za-z_:][\w:.-]*)\s*=/g)].map((a) => a[1]);
    if (new Set(names).size !== names.length) throw new Error(`duplicate attribute in <${name}> at ${lt}`);
    for (const v of attrs.matchAll(/=\s*(?:"([^"]*)"|'([^']*)')/g))
      checkText((v[1] ?? v[2]).replace(/>/g, ""), lt);
    i = lt + m[0].length;
    const lname = mode === "html" ? name.toLowerCase() : name;
    if (close) {
      const top = stack.pop();
      if (top !== lname) throw new Error(`</${name}> at ${lt} closes <${top ?? "nothing"}>`);
    } else if (!selfClose && !(mode === "html" && voidHtml.has(lname))) {
      if (mode === "html" && (lname === "style" || lname === "script")) {
        const end = doc.indexOf(`</${lname}>`, i);
        if (end < 0) throw new Error(`unclosed <${lname}>`);
        i = end + lname.length + 3;
        continue;
      }
      stack.push(lname);
    }
  }
  if (stack.length) throw new Error(`unclosed elements: ${stack.join(" > ")}`);
}

function svgsOf(html: string): string[] {
  return [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)].map((m) => m[0]);
}

const report = sampleReport();
const gif = trajectoryAnimation(report.figures.trajectories1d);
const md = renderMarkdown(report);
const html = renderHtml(report, { animationGif: gif });

describe("sampleReport (synthetic test data)", () => {
  it("is schema-valid and deterministic", () => {
    expect(reportSchema.parse(report)).toEqual(report);
    expect(sampleReport()).toEqual(report);
    expect(report.versions["sample-report"]).toMatch(/synthetic/);
  });

  it("has the 1-D mixture density p(x; σ) with variance 0.09 + σ² on its grid", () => {
    const { density, sigmas, paths } = report.figures.trajectories1d;
    expect(sigmas.length).toBe(30);
    expect(paths.length).toBe(64);
    expect(sigmas[sigmas.length - 1]).toBe(0);
    const rows = densityRows(density);
    const k = density.x.findIndex((v) => Math.abs(v - 1) < 1e-9);
    // At σ = 0, x = 1: 0.5 N(1; 1, 0.09) + 0.5 N(1; -1, 0.09).
    const n = (x: number, m: number, v: number) =>
      Math.exp(-((x - m) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v);
    expect(Math.exp(rows[sigmas.length - 1][k])).toBeCloseTo(0.5 * n(1, 1, 0.09) + 0.5 * n(1, -1, 0.09), 12);
    const s = 5; // an intermediate σ
    expect(Math.exp(rows[s][k])).toBeCloseTo(
      0.5 * n(1, 1, 0.09 + sigmas[s] ** 2) + 0.5 * n(1, -1, 0.09 + sigmas[s] ** 2),
      12,
    );
    expect(mixtureLogDensity(0, 0)).toBeCloseTo(Math.log(n(0, 1, 0.09)), 12);
    // Deterministic Euler paths end in the two modes.
    const finals = paths.map((p) => p[p.length - 1]);
    expect(finals.every((v) => Math.abs(Math.abs(v) - 1) < 0.8)).toBe(true);
  });

  it("has convergence orders near 1 for Euler and 2 for Heun", () => {
    const order = (name: string) => report.accuracy.find((a) => a.sampler === name)!.fittedOrder!;
    expect(order("euler")).toBeGreaterThan(0.85);
    expect(order("euler")).toBeLessThan(1.3);
    expect(order("heun")).toBeGreaterThan(1.7);
    expect(
      fitOrder([
        { steps: 10, error: 1e-2 },
        { steps: 100, error: 1e-4 },
      ]),
    ).toBeCloseTo(2, 12);
    const ks = karrasSchedule(3, 0.002, 80, 7);
    expect(ks[0]).toBeCloseTo(80, 12);
    expect(ks[2]).toBeCloseTo(0.002, 12);
    expect(ks[3]).toBe(0);
  });
});

describe("formatters", () => {
  it("writes gaps, orders and durations one way", () => {
    expect(formatGap(3.552713678800501e-15)).toBe("3.55e-15");
    expect(formatGap(0.0123456)).toBe("0.0123");
    expect(formatGap(1.4)).toBe("1.4");
    expect(formatGap(0)).toBe("0");
    expect(formatGap(null)).toBe("n/a");
    expect(formatGap(123456)).toBe("1.23e+5");
    expect(formatOrder(1.987)).toBe("1.99");
    expect(formatSeconds(74.6)).toBe("1 min 15 s");
    expect(formatSeconds(3.2)).toBe("3.20 s");
  });

  it("escapes Markdown text and code spans", () => {
    expect(mdText("a|b <script>*x*_y_")).toBe("a\\|b &lt;script&gt;\\*x\\*\\_y\\_");
    expect(mdText("sigma_up = f(sigma_next)")).toBe("sigma_up = f(sigma_next)");
    expect(mdCode("sample_euler")).toBe("`sample_euler`");
    expect(mdCode("a`b")).toBe("``a`b``");
    expect(mdCode("x|y")).toBe("`x\\|y`");
  });
});

describe("renderMarkdown", () => {
  it("has every section, summary first", () => {
    const heads = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(heads).toEqual([
      "Summary",
      "The seed question",
      "Sampler map",
      "Root causes",
      "All pairs",
      "Accuracy",
      "ONNX",
      "Quirks of the originals",
      "Fixtures",
      "Problems",
      "Run time",
    ]);
    expect(md.startsWith("# edmkit conformance report")).toBe(true);
    // The problem banner sits above the summary.
    expect(md.indexOf("⚠ 2 problems")).toBeLessThan(md.indexOf("## Summary"));
  });

  it("carries the report's numbers", () => {
    const fx = report.fixtures;
    for (const [lib, b] of Object.entries(fx.byLibrary)) {
      expect(md).toContain(
        `| ${lib} | ${b.passed} | ${b.failed ? `**${b.failed}**` : "0"} | ${b.unsupported} |`,
      );
    }
    expect(md).toContain(
      `| **total** | **${fx.summary.passed}** | **${fx.summary.failed}** | **${fx.summary.unsupported}** |`,
    );
    for (const g of report.equivalence) expect(md).toContain(`| ${formatGap(g.maxGap)} |`);
    const allPairs = md.slice(md.indexOf("## All pairs"), md.indexOf("## Accuracy"));
    for (const p of report.pairs) {
      const row = allPairs.split("\n").find((l) => l.startsWith(`| \`${p.id}\``));
      expect(row, p.id).toBeDefined();
      expect(row).toContain(`| ${formatGap(p.maxGap)} | ${formatGap(p.outputGap)} |`);
    }
    const summary = md.slice(md.indexOf("## Summary"), md.indexOf("## The seed question"));
    for (const p of report.pairs.filter((x) => x.verdict === "diverge")) {
      expect(summary).toContain(`| ${p.firstStep} | ${formatGap(p.maxGap)} | ${formatGap(p.outputGap)} |`);
    }
    for (const c of report.causes) {
      expect(md).toContain(`### \`${c.id}\``);
      expect(md).toContain(
        `max gap ${formatGap(c.minimalPair.maxGap)}, output gap ${formatGap(c.minimalPair.outputGap)}`,
      );
    }
    for (const c of report.ancestral.checks) expect(md).toContain(`| ${formatGap(c.maxGap)} |`);
    for (const a of report.accuracy) {
      if (a.fittedOrder !== null) expect(md).toContain(`| ${formatOrder(a.fittedOrder)} |`);
      for (const p of a.points) expect(md).toContain(`${p.nfe} → ${formatGap(p.error)}`);
    }
    for (const r of report.fixtures.results) {
      expect(md).toContain(`| \`${r.id}\` |`);
      expect(md).toContain(formatGap(r.maxAbsError));
    }
    for (const o of report.onnx)
      for (const r of o.runs) expect(md).toContain(`| ${formatGap(r.gapToExact)} |`);
    expect(md).toContain(`- duration: ${formatSeconds(report.durationSeconds)}`);
  });

  it("flags unexplained divergences in the problems section", () => {
    const problems = md.slice(md.indexOf("## Problems"), md.indexOf("## Run time"));
    const unexplained = report.pairs.filter((p) => p.cause === "unexplained");
    expect(unexplained.length).toBeGreaterThan(0);
    expect(problems).toContain("⚠ Unexplained divergences");
    for (const p of unexplained)
      expect(problems).toContain(`| ${formatGap(p.maxGap)} | ${formatGap(p.outputGap)} |`);
  });

  it("keeps tables intact when text contains Markdown syntax", () => {
    const evil = structuredClone(report) as Report;
    evil.pairs[0].note = "a|b <script>alert(1)</script>";
    evil.pairs[0].model = "m|odel";
    const out = renderMarkdown(evil);
    expect(out).not.toContain("<script>");
    const row = out.split("\n").find((l) => l.startsWith(`| \`${evil.pairs[0].id}\``))!;
    // Unescaped pipes only as cell separators: 13 columns → 14 bars (the last: distributions).
    expect(row.replace(/\\\|/g, "").split("|").length - 1).toBe(14);
  });

  it("says so when there is nothing to report", () => {
    const empty: Report = {
      ...report,
      pairs: [],
      causes: [],
      equivalence: [],
      accuracy: [],
      onnx: [],
      problems: [],
    };
    const out = renderMarkdown(empty);
    expect(out).toContain("_No pair diverges._");
    expect(out).toContain("_No equivalence groups were established._");
    expect(out).toMatch(/## Problems\n\nNone\./);
  });
});

describe("renderHtml", () => {
  it("is one self-contained document", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:|\/\/)/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<script\b[^>]*\bsrc\s*=/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?(?:https?:|\/\/)/i);
    for (const m of html.matchAll(/\bsrc\s*=\s*"([^"]*)"/g)) expect(m[1].startsWith("data:")).toBe(true);
    for (const m of html.matchAll(/\bhref\s*=\s*"([^"]*)"/g)) expect(m[1].startsWith("#")).toBe(true);
    checkMarkup(html, "html");
  });

  it("has every section id once, and ids are unique", () => {
    const required = [
      "summary",
      "equivalence",
      "divergences",
      "ancestral",
      "causes",
      "accuracy",
      "trajectories",
      "clouds",
      "heatmap",
      "onnx",
      "fixtures",
      "problems",
    ];
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    for (const id of required) expect(ids.filter((x) => x === id).length, id).toBe(1);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [id] of htmlSections) expect(html).toContain(`<section id="${id}">`);
    // Every in-page link points at an existing id.
    for (const m of html.matchAll(/href="#([^"]+)"/g)) expect(ids).toContain(m[1]);
  });

  it("checks markup with a checker that catches real mistakes", () => {
    expect(() => checkMarkup("<svg><g></svg>", "xml")).toThrow(/closes <g>/);
    expect(() => checkMarkup("<svg><text x=1>a</text></svg>", "xml")).toThrow(/malformed tag/);
    expect(() => checkMarkup("<svg><text>a & b</text></svg>", "xml")).toThrow(/bad '&'/);
    expect(() => checkMarkup('<svg><rect x="1" x="2"/></svg>', "xml")).toThrow(/duplicate attribute/);
    expect(() => checkMarkup('<p><img src="data:,"><br></p>', "html")).not.toThrow();
  });

  it("embeds the four plots as well-formed SVG with drawn content", () => {
    const svgs = svgsOf(html);
    for (const cls of ["plot-trajectories", "plot-clouds", "plot-accuracy", "plot-heatmap"]) {
      const svg = svgs.find((s) => s.includes(`class="${cls}"`));
      expect(svg, cls).toBeDefined();
      expect(svg!).toMatch(/<(path|circle|rect)\b/);
    }
    for (const svg of svgs) checkMarkup(svg, "xml");
    // Trajectories: one polyline per path colour plus one end marker per path.
    const traj = svgs.find((s) => s.includes('class="plot-trajectories"'))!;
    expect(traj.match(/<circle\b/g)!.length).toBe(report.figures.trajectories1d.paths.length);
    // Heatmap: one cell per matrix entry, null cells hatched.
    const heat = svgs.find((s) => s.includes('class="plot-heatmap"'))!;
    const n = report.figures.heatmap.labels.length;
    expect(
      heat.match(
        /<rect x="[\d.]+" y="[\d.]+" width="\d+" height="\d+" fill="(?:#[0-9a-f]{6}|url\(#hm-hatch\))" stroke="#ffffff">/g,
      )!.length,
    ).toBe(n * n);
    const nulls = report.figures.heatmap.gaps.flat().filter((v) => v === null).length;
    expect(heat.match(/fill="url\(#hm-hatch\)" stroke="#ffffff"/g)!.length).toBe(nulls);
    // Accuracy: the legend shows each fitted order.
    const acc = svgs.find((s) => s.includes('class="plot-accuracy"'))!;
    for (const a of report.accuracy)
      if (a.fittedOrder !== null) expect(acc).toContain(`>${formatOrder(a.fittedOrder)}</text>`);
    // Clouds: one panel path per sampler with one segment per point.
    const clouds = svgs.find((s) => s.includes('class="plot-clouds"'))!;
    const dotCounts = [...clouds.matchAll(/d="((?:M[\d.-]+ [\d.-]+h0)+)"/g)].map(
      (m) => m[1].split("M").length - 1,
    );
    expect(dotCounts).toEqual(report.figures.clouds2d.map((c) => c.points.length));
  });

  it("shows the numbers of the summary, equivalence map and divergence table", () => {
    const top = html.slice(html.indexOf('<section id="summary">'), html.indexOf('<section id="ancestral">'));
    expect(top).toContain(`>${report.fixtures.summary.passed}<small> / 16</small>`);
    for (const g of report.equivalence) expect(top).toContain(`>${formatGap(g.maxGap)}<`);
    for (const p of report.pairs.filter((x) => x.verdict === "diverge")) {
      expect(top).toContain(`<span class="num">${formatGap(p.maxGap)}</span>`);
      expect(top).toContain(`<span class="num">${formatGap(p.outputGap)}</span>`);
    }
  });

  it("embeds the animation as a data: URI that decodes to the same GIF", () => {
    const m = html.match(/<img class="anim-trajectory"[^>]*src="data:image\/gif;base64,([A-Za-z0-9+/=]+)"/);
    expect(m).not.toBeNull();
    expect(Uint8Array.from(Buffer.from(m![1], "base64"))).toEqual(gif);
    expect(renderHtml(report)).not.toContain("anim-trajectory");
  });

  it("escapes text from the report", () => {
    const evil = structuredClone(report) as Report;
    evil.pairs[0].a.id = `<img src=x onerror="alert(1)">`;
    evil.figures.heatmap.labels[0] = `a<b & "c"`;
    evil.figures.clouds2d[0].sampler = "<script>bad()</script>";
    evil.problems.push("</section><script>x()</script>");
    const out = renderHtml(evil);
    expect(out).not.toContain("<img src=x");
    expect(out).not.toContain("<script>");
    expect(out).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(out).toContain("a&lt;b &amp; &quot;c&quot;");
    checkMarkup(out, "html");
    for (const svg of svgsOf(out)) checkMarkup(svg, "xml");
  });

  it("renders empty figures as visible placeholders", () => {
    const empty: Report = {
      ...report,
      accuracy: [],
      figures: {
        trajectories1d: { sampler: "none", sigmas: [], paths: [], density: { x: [], sigma: [], logp: [] } },
        clouds2d: [],
        heatmap: { scenario: "none", labels: [], gaps: [] },
      },
    };
    const out = renderHtml(empty);
    for (const cls of ["plot-trajectories", "plot-clouds", "plot-accuracy", "plot-heatmap"])
      expect(out).toContain(`class="${cls}"`);
    expect(out).toContain("No trajectories recorded.");
    for (const svg of svgsOf(out)) checkMarkup(svg, "xml");
  });
});

describe("SVG plots reject malformed figures with one clear message", () => {
  it("names the offending field", () => {
    const fig = structuredClone(report.figures.trajectories1d);
    fig.paths[3] = fig.paths[3].slice(1);
    expect(() => plotTrajectories(fig)).toThrow(
      /plotTrajectories: figures\.trajectories1d\.paths\[3\] must have 30 values/,
    );
    const hm = structuredClone(report.figures.heatmap);
    hm.gaps[2] = hm.gaps[2].slice(1);
    expect(() => plotHeatmap(hm)).toThrow(/plotHeatmap: figures\.heatmap\.gaps\[2\] must have 6 entries/);
    const d = structuredClone(report.figures.trajectories1d.density);
    d.logp = d.logp.slice(1);
    expect(() => densityRows(d)).toThrow(/densityRows: .*logp must be 30 rows/);
  });

  it("accepts a density grid stored one row per x (transposed)", () => {
    const d = report.figures.trajectories1d.density;
    const t = { ...d, logp: d.x.map((_, k) => d.sigma.map((__, s) => d.logp[s][k])) };
    expect(densityRows(t)).toEqual(d.logp);
    expect(plotTrajectories({ ...report.figures.trajectories1d, density: t })).toBe(
      plotTrajectories(report.figures.trajectories1d),
    );
    expect(plotAccuracy(report.accuracy)).toContain("plot-accuracy");
    expect(plotClouds(report.figures.clouds2d)).toContain("plot-clouds");
  });
});

describe("encodeGif", () => {
  it("round-trips frames through an independent decoder, including LZW table resets", () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) / 65536;
    const w = 97;
    const h = 61;
    const palette = Array.from({ length: 256 * 3 }, (_, i) => (i * 37) & 255);
    // Noise forces the dictionary to fill (clear codes); a gradient and a flat frame give long runs.
    const frames = [
      Uint8Array.from({ length: w * h }, () => Math.floor(rand() * 256)),
      Uint8Array.from({ length: w * h }, (_, i) => (i % w) & 255),
      new Uint8Array(w * h).fill(7),
    ];
    const bytes = encodeGif(frames, w, h, palette, [5, 10, 200]);
    expect(String.fromCharCode(...bytes.subarray(0, 6))).toBe("GIF89a");
    expect(bytes[bytes.length - 1]).toBe(0x3b);
    const g = decodeGif(bytes);
    expect([g.width, g.height, g.loops]).toEqual([w, h, true]);
    expect(g.frames.map((f) => f.delayCs)).toEqual([5, 10, 200]);
    g.frames.forEach((f, i) => {
      expect(f.pixels).toEqual(frames[i]);
    });
    expect(Array.from(g.palette)).toEqual(palette);
  });

  it("pads small palettes to a power of two and uses code size 2 for two colours", () => {
    const w = 40;
    const h = 30;
    const frames = [Uint8Array.from({ length: w * h }, (_, i) => ((i * 7) >> 3) & 1)];
    const bytes = encodeGif(frames, w, h, [0, 0, 0, 255, 255, 255, 255, 0, 0], 4);
    expect(bytes[10] & 7).toBe(1); // 2^(1+1) = 4 colours stored
    const g = decodeGif(bytes);
    expect(Array.from(g.palette)).toEqual([0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 0]);
    expect(g.frames[0].pixels).toEqual(frames[0]);
    const lzw = lzwEncode(new Uint8Array([0, 1, 0, 1]), 2);
    expect(lzw[lzw.length - 1]).toBe(0); // sub-block terminator
  });

  it("rejects bad input with one clear message", () => {
    const pal = [0, 0, 0, 255, 255, 255];
    expect(() => encodeGif([new Uint8Array(5)], 2, 2, pal, 1)).toThrow(
      "encodeGif: frames[0] must have width*height = 4 pixels, got 5",
    );
    expect(() => encodeGif([new Uint8Array([0, 1, 2, 0])], 2, 2, pal, 1)).toThrow(
      "encodeGif: frames[0][2] = 2 is not a palette index (palette has 2 colours)",
    );
    expect(() => encodeGif([], 2, 2, pal, 1)).toThrow(
      "encodeGif: frames must hold at least one frame, got 0",
    );
    expect(() => encodeGif([new Uint8Array(4)], 2, 2, [0, 0], 1)).toThrow(
      /encodeGif: palette must be flat RGB triples/,
    );
    expect(() => encodeGif([new Uint8Array(4)], 2, 2, pal, [1, 2])).toThrow(
      "encodeGif: delayCs must have one entry per frame (1), got 2",
    );
  });
});

describe("trajectoryAnimation", () => {
  const g = decodeGif(gif);
  const P = animationPalette;
  const W = g.width;
  const lo = -3;
  const hi = 3;
  // The animation maps x ∈ [lo, hi] onto pixel columns 8 .. W-8.
  const toX = (col: number) => lo + ((col - 8) / (W - 16)) * (hi - lo);

  it("is a small looping 320x160 GIF of 40 frames", () => {
    expect(gif.length).toBeLessThan(300_000);
    expect([g.width, g.height, g.frames.length, g.loops]).toEqual([320, 160, 40, true]);
    expect(g.frames[0].delayCs).toBeGreaterThan(g.frames[1].delayCs);
    expect(g.frames[39].delayCs).toBeGreaterThan(g.frames[1].delayCs);
    expect(Array.from(g.palette.subarray(0, 3 * P.rgb.length))).toEqual(P.rgb.flat());
  });

  it("ends with the particles where the paths end and the density peaked at the modes", () => {
    const last = g.frames[g.frames.length - 1].pixels;
    const finals = report.figures.trajectories1d.paths.map((p) => p[p.length - 1]);
    for (const [color, side] of [
      [P.low, finals.filter((v) => v < 0)],
      [P.high, finals.filter((v) => v >= 0)],
    ] as const) {
      const cols: number[] = [];
      for (let i = 0; i < last.length; i++) if (last[i] === color) cols.push(i % W);
      const meanX = toX(cols.reduce((a, b) => a + b, 0) / cols.length);
      const expected = side.reduce((a, b) => a + b, 0) / side.length;
      expect(Math.abs(meanX - expected)).toBeLessThan(0.06);
    }
    // Highest density-line pixel on each side of 0 sits at the mixture modes ±1 (σ = 0).
    for (const sign of [-1, 1]) {
      let best = { row: Infinity, col: 0 };
      for (let i = 0; i < last.length; i++) {
        const col = i % W;
        if (last[i] === P.densityLine && Math.sign(toX(col)) === sign && Math.floor(i / W) < best.row)
          best = { row: Math.floor(i / W), col };
      }
      expect(Math.abs(toX(best.col) - sign)).toBeLessThan(0.1);
    }
  });

  it("starts with most particles outside the window (σ_max = 80) and moves them in", () => {
    const inWindow = (f: Uint8Array) => f.reduce((n, v) => n + (v === P.low || v === P.high ? 1 : 0), 0);
    expect(inWindow(g.frames[0].pixels)).toBeLessThan(inWindow(g.frames[39].pixels) / 4);
  });

  it("rejects paths that do not match the sigma grid", () => {
    const fig = structuredClone(report.figures.trajectories1d);
    fig.paths[0] = [1, 2];
    expect(() => trajectoryAnimation(fig)).toThrow(
      "trajectoryAnimation: figures.trajectories1d.paths[0] must have 30 values (one per sigma), got 2",
    );
  });
});
