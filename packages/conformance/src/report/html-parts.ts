/** The building blocks of reports/index.html: its stylesheet, badges, sections and tables. */
import type { Impl, PairResult } from "./schema.js";
import { libraryColors } from "./svg/common.js";
import { escapeXml as esc, formatGap } from "./svg/format.js";

export const css = `
:root{--ink:#1d2330;--muted:#5f6878;--faint:#8a93a3;--line:#e3e6eb;--bg:#f4f5f7;--card:#fff;--ok:#2f8a4f;--ok-bg:#e6f4ea;--warn:#a85d00;--warn-bg:#fdf0dc;--bad:#b3261e;--bad-bg:#fde8e7;--accent:#2f5d9e;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1180px;margin:0 auto;padding:0 24px}
header.top{background:#1d2330;color:#fff;padding:22px 0 0}
header.top h1{margin:0;font-size:24px;font-weight:650;letter-spacing:-.01em}
header.top h1 span{color:#9fb3d9;font-weight:400}
header.top .meta{margin:4px 0 14px;color:#b9c2d0;font-size:13.5px}
nav.toc{display:flex;flex-wrap:wrap;gap:2px 4px;padding-bottom:10px}
nav.toc a{color:#d5dcea;text-decoration:none;font-size:13px;padding:3px 9px;border-radius:999px}
nav.toc a:hover{background:#2f3849;color:#fff}
main{padding:22px 0 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px;margin:0 0 18px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
h2{font-size:19px;margin:0 0 4px;letter-spacing:-.005em}
h3{font-size:16px;margin:18px 0 6px}
p.lead{margin:0 0 14px;color:var(--muted);font-size:14px}
code,.mono{font-family:var(--mono);font-size:.86em}
.num{font-family:var(--mono);font-size:.9em;font-variant-numeric:tabular-nums;white-space:nowrap}
table{border-collapse:collapse;width:100%;max-width:100%;font-size:13.5px}
table caption{caption-side:bottom;text-align:left;font-size:12.5px;color:var(--muted);padding:6px 2px}
th,td{text-align:left;padding:6px 9px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em;background:#fafbfc;vertical-align:bottom}
td.r,th.r{text-align:right}
td.nw{white-space:nowrap}
td code,td a{overflow-wrap:anywhere}
tbody tr:hover{background:#f8f9fb}
.scroll{overflow:auto;max-height:640px;border:1px solid var(--line);border-radius:8px}
.scroll table th{position:sticky;top:0;z-index:1}
.scroll-x{overflow-x:auto}
.spark{max-width:100%}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.ok{background:var(--ok-bg);color:var(--ok)}
.badge.warn{background:var(--warn-bg);color:var(--warn)}
.badge.bad{background:var(--bad-bg);color:var(--bad)}
.badge.muted{background:#eef0f3;color:var(--muted)}
.impl{display:inline-flex;align-items:center;gap:6px;font-family:var(--mono);font-size:12.5px;background:#f4f6f9;border:1px solid #e3e7ee;border-radius:6px;padding:1px 7px;margin:1px 2px 1px 0;max-width:100%;overflow-wrap:anywhere}
.impl i{width:8px;height:8px;border-radius:50%;display:inline-block;flex:none}
.alert{border-radius:8px;padding:12px 16px;margin:0 0 16px;font-size:14.5px}
.alert.bad{background:var(--bad-bg);border:1px solid #f3b9b5;color:#7d1a14}
.alert.ok{background:var(--ok-bg);border:1px solid #b9dfc5;color:#1e5e35}
.alert a{color:inherit;font-weight:600}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px}
.stat{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fcfcfd}
.stat .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.stat .v{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.3}
.stat .v small{font-size:14px;color:var(--muted);font-weight:500}
.stat .d{font-size:12.5px;color:var(--muted)}
.bar{display:flex;height:6px;border-radius:3px;overflow:hidden;background:#eef0f3;margin:8px 0 4px}
.bar .p{background:#3a9d5d}.bar .f{background:#d64541}.bar .u{background:#b8bec8}
.groups{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
.group{border:1px solid var(--line);border-left:4px solid #3a9d5d;border-radius:8px;padding:12px 14px}
.group h3{margin:0 0 8px;font-size:15px;display:flex;justify-content:space-between;gap:10px;align-items:baseline}
.group .ev{margin:8px 0 0;font-size:12.5px;color:var(--muted)}
.qa{border-left:4px solid var(--accent);background:#f3f6fb;border-radius:0 8px 8px 0;padding:12px 16px;margin:8px 0 12px}
.qa p{margin:2px 0}
.qa .a{font-weight:600}
.causes{display:grid;gap:12px}
.cause{border:1px solid var(--line);border-radius:8px;padding:14px 16px}
.cause h3{margin:0 0 4px;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.cause p{margin:4px 0 10px;color:#343b48}
.kv{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:6px 16px;font-size:13px;margin:8px 0 0}
.kv .k{display:block;color:var(--faint);font-size:11.5px;text-transform:uppercase;letter-spacing:.03em}
figure{margin:10px 0 0}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:13px;color:var(--muted);margin-top:6px}
.spark{display:block}
.anim{display:flex;gap:20px;align-items:center;flex-wrap:wrap;margin-top:16px;padding-top:16px;border-top:1px solid var(--line)}
.anim img{width:640px;max-width:100%;height:auto;image-rendering:pixelated;border:1px solid var(--line);border-radius:6px}
.anim figcaption{flex:1;min-width:220px}
.legend-dot{display:inline-block;width:10px;height:10px;border-radius:50%;vertical-align:-1px;margin-right:4px}
.sampler-map td{overflow-wrap:anywhere}.sampler-map td .badge{white-space:normal;overflow-wrap:normal}
ul.problems{margin:6px 0 0;padding-left:20px}
ul.problems li{margin:3px 0;color:#7d1a14}
footer{color:var(--muted);font-size:13px;padding:6px 2px 30px}
footer dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0 0}
footer dt{color:var(--faint)}footer dd{margin:0}
.empty{color:var(--muted);font-style:italic}
.rule{font-size:12.5px;color:var(--muted)}
section a{color:var(--accent);text-decoration:none}section a:hover{text-decoration:underline}
@media print{body{background:#fff}section{box-shadow:none;break-inside:auto}header.top{background:#fff;color:#000}nav.toc{display:none}.wrap{max-width:none;padding:0}.scroll,.scroll-x{overflow:visible;max-height:none;border:0}table{font-size:10.5px}th,td{padding:3px 5px}tr{break-inside:avoid}.sampler-map .num{white-space:normal;overflow-wrap:anywhere}}
`;

export function implChip(i: Impl): string {
  const color = libraryColors[i.library] ?? "#7f7f7f";
  return `<span class="impl" title="${esc(i.label)}"><i style="background:${color}"></i>${esc(i.id)}</span>`;
}

export function num(v: number | null | undefined): string {
  return `<span class="num">${esc(formatGap(v))}</span>`;
}

export function verdictBadge(p: PairResult): string {
  if (p.verdict === "identical") return '<span class="badge ok">identical</span>';
  if (p.verdict === "unsupported") return '<span class="badge muted">unsupported</span>';
  return '<span class="badge warn">diverge</span>';
}

export function causeBadge(p: PairResult): string {
  if (p.cause === "unexplained") return '<span class="badge bad">⚠ unexplained</span>';
  if (!p.cause) return '<span class="empty">—</span>';
  return `<a href="#cause-${esc(p.cause)}"><code>${esc(p.cause)}</code></a>`;
}

export function statusBadge(status: string): string {
  const cls = status === "pass" ? "ok" : status === "unsupported" ? "muted" : "bad";
  return `<span class="badge ${cls}">${esc(status)}</span>`;
}

export function section(id: string, title: string, lead: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${lead ? `<p class="lead">${lead}</p>` : ""}${body}</section>`;
}

export interface Column {
  label: string;
  right?: boolean;
  /** Keep the cell on one line (short labels such as library names). */
  nowrap?: boolean;
}

export function table(head: Column[], rows: string[][], caption?: string): string {
  const cls = (h: Column | undefined) => {
    const c = [h?.right ? "r" : "", h?.nowrap ? "nw" : ""].filter(Boolean).join(" ");
    return c ? ` class="${c}"` : "";
  };
  return `<table>${caption ? `<caption>${caption}</caption>` : ""}<thead><tr>${head.map((h) => `<th${h.right ? ' class="r"' : ""}>${esc(h.label)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${cls(head[i])}>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
