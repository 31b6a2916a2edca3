/**
 * Checks of a rendered report page in the browser (report-browser.test.ts):
 *
 * - consistencyProblems: one source per figure. Every place that shows a pair's first divergent
 *   model call, max gap or output gap — its All pairs row, its Divergences row, the sparkline
 *   tooltip of that row, its heatmap cell, and for a cause's minimal pair its Root causes card
 *   and that card's sparkline, its Sampler map row — must show the numbers the pair carries, formatted one way
 *   (formatGap). Reads the page as rendered, not the HTML string.
 * - plotTextOverlaps: no plot title overlaps another text of its figure or leaves the figure.
 */
import type { Page } from "playwright-core";
import type { Report } from "../src/report/schema.js";
import { formatGap } from "../src/report/svg/format.js";

interface Row {
  section: string;
  headers: string[];
  codes: string[];
  impls: string[];
  /** Each cell's first number (its first .num), else its text. */
  cells: string[];
  sparks: string[];
}

interface CauseCard {
  id: string;
  /** label -> value of the card's key-value list (the value's first .num, else its text). */
  kv: Record<string, string>;
  sparks: string[];
}

interface PageData {
  rows: Row[];
  heatTips: string[];
  cards: CauseCard[];
}

function readPage(page: Page): Promise<PageData> {
  return page.evaluate(`(() => {
    const rows = [];
    document.querySelectorAll("section table").forEach((t) => {
      const section = t.closest("section").id;
      const headers = [...t.querySelectorAll("thead th")].map((th) => th.textContent.trim());
      t.querySelectorAll("tbody tr").forEach((tr) => {
        const tds = [...tr.children];
        if (!tds.length) return;
        rows.push({
          section,
          headers,
          codes: [...tds[0].querySelectorAll("code")].map((c) => c.textContent.trim()),
          impls: [...tds[0].querySelectorAll(".impl")].map((c) => c.textContent.trim()),
          cells: tds.map((td) => (td.querySelector(".num") || td).textContent.trim()),
          sparks: [...tr.querySelectorAll("svg.spark > title")].map((s) => s.textContent),
        });
      });
    });
    const heatTips = [...document.querySelectorAll("svg.plot-heatmap rect > title")].map((s) => s.textContent);
    const cards = [...document.querySelectorAll("section#causes .cause[id^='cause-']")].map((card) => {
      const kv = {};
      card.querySelectorAll(".kv > div").forEach((d) => {
        const k = d.querySelector(".k");
        if (!k) return;
        const num = d.querySelector(".num");
        kv[k.textContent.trim()] = num ? num.textContent.trim() : d.textContent.slice(k.textContent.length).trim();
      });
      const sparks = [...card.querySelectorAll("svg.spark > title")].map((t) => t.textContent);
      return { id: card.id.slice("cause-".length), kv, sparks };
    });
    return { rows, heatTips, cards };
  })()`) as Promise<PageData>;
}

const call = (v: number | null) => (v === null ? "—" : String(v));

export async function consistencyProblems(
  page: Page,
  report: Report,
): Promise<{ checked: number; problems: string[] }> {
  const { rows, heatTips, cards } = await readPage(page);
  const problems: string[] = [];
  let checked = 0;
  function checkSparks(where: string, sparks: string[], p: Report["pairs"][number]) {
    if (sparks.length === 0) problems.push(`${where}: no sparkline`);
    for (const tip of sparks) {
      checked++;
      const max = /max ([^\s,]+)$/.exec(tip)?.[1];
      if (max !== formatGap(p.maxGap))
        problems.push(`${where} sparkline: tooltip max ${max}, the pair's max gap ${formatGap(p.maxGap)}`);
      const last = /last ([^\s,]+),/.exec(tip)?.[1];
      if (tip.includes("then at the output") && last !== formatGap(p.outputGap))
        problems.push(
          `${where} sparkline: tooltip last ${last}, the pair's output gap ${formatGap(p.outputGap)}`,
        );
    }
  }
  const expectCell = (where: string, row: Row, header: string, want: string) => {
    const k = row.headers.indexOf(header);
    if (k < 0) return problems.push(`${where}: no column "${header}"`);
    checked++;
    if (row.cells[k] !== want)
      problems.push(`${where} ${header}: shows ${row.cells[k]}, the pair has ${want}`);
  };
  for (const p of report.pairs) {
    const all = rows.filter((r) => r.section === "pairs" && r.codes[0] === p.id);
    if (all.length !== 1) problems.push(`All pairs: ${all.length} rows for ${p.id}`);
    for (const r of all) {
      expectCell(`All pairs ${p.id}`, r, "first call", call(p.firstModelCall));
      expectCell(`All pairs ${p.id}`, r, "max gap", formatGap(p.maxGap));
      expectCell(`All pairs ${p.id}`, r, "output gap", formatGap(p.outputGap));
    }
    if (p.verdict !== "diverge") continue;
    const div = rows.filter(
      (r) =>
        r.section === "divergences" &&
        r.headers[0] === "pair" &&
        r.impls[0] === p.a.id &&
        r.impls[1] === p.b.id,
    );
    if (div.length === 0) problems.push(`Divergences: no row for ${p.id}`);
    for (const r of div) {
      const where = `Divergences ${p.id}`;
      expectCell(where, r, "first model call", call(p.firstModelCall));
      expectCell(where, r, "max gap", formatGap(p.maxGap));
      expectCell(where, r, "output gap", formatGap(p.outputGap));
      checkSparks(where, r.sparks, p);
    }
  }
  // the Sampler map's rows show their pair's gaps
  for (const row of report.samplerMap.rows) {
    const p = report.pairs.find((x) => x.id === row.pair);
    if (!p) continue;
    const r = rows.find(
      (x) => x.section === "sampler-map" && x.headers[0] === "sampler" && x.cells[0] === row.name,
    );
    if (!r) {
      problems.push(`Sampler map: no row ${row.name}`);
      continue;
    }
    expectCell(`Sampler map ${row.name}`, r, "max gap", formatGap(p.maxGap));
    expectCell(`Sampler map ${row.name}`, r, "output gap", formatGap(p.outputGap));
  }
  for (const c of report.causes) {
    const where = `Root causes ${c.id}`;
    const card = cards.find((x) => x.id === c.id);
    if (!card) {
      problems.push(`${where}: no card`);
      continue;
    }
    const p = c.minimalPair;
    for (const [label, want] of [
      ["first model call", call(p.firstModelCall)],
      ["max gap", formatGap(p.maxGap)],
      ["output gap", formatGap(p.outputGap)],
    ] as const) {
      checked++;
      if (card.kv[label] !== want)
        problems.push(`${where} ${label}: shows ${card.kv[label]}, the pair has ${want}`);
    }
    checkSparks(where, card.sparks, p);
  }
  const hm = report.figures.heatmap;
  for (const p of report.pairs) {
    const i = hm.ids?.indexOf(p.a.id) ?? -1,
      j = hm.ids?.indexOf(p.b.id) ?? -1;
    if (i < 0 || j < 0) continue;
    for (const [x, y] of [
      [i, j],
      [j, i],
    ]) {
      const tip = heatTips.find((t) => t.startsWith(`${hm.labels[x]} vs ${hm.labels[y]}:`));
      checked++;
      if (tip !== `${hm.labels[x]} vs ${hm.labels[y]}: output gap ${formatGap(p.outputGap)}`)
        problems.push(`heatmap ${p.id}: cell says "${tip}", the pair's output gap ${formatGap(p.outputGap)}`);
    }
  }
  return { checked, problems };
}

/** Titles of the accuracy and heatmap plots that overlap another text or leave their figure. */
export function plotTextOverlaps(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const out = [];
    document.querySelectorAll("svg.plot-accuracy, svg.plot-heatmap").forEach((svg, n) => {
      const frame = svg.getBoundingClientRect();
      const all = [...svg.querySelectorAll("text")];
      const titles = all.filter((t) => t.getAttribute("font-weight") === "600" && t.getAttribute("font-size") === "13");
      if (!titles.length) out.push(svg.getAttribute("class") + " " + n + ": no title");
      for (const t of titles) {
        const a = t.getBoundingClientRect();
        const name = svg.getAttribute("class") + " " + n + " title '" + t.textContent + "'";
        if (a.right > frame.right + 1 || a.left < frame.left - 1 || a.top < frame.top - 1)
          out.push(name + ": outside its figure");
        for (const o of all) {
          if (o === t) continue;
          const b = o.getBoundingClientRect();
          if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
            out.push(name + ": overlaps '" + o.textContent + "'");
        }
      }
    });
    return out;
  })()`) as Promise<string[]>;
}
