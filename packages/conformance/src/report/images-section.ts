/**
 * The Images section of index.html and report.md: per denoiser, a 4x4 grid of the 16 seeds
 * per implementation and an amplified difference map per pair (PNG data: URIs, so the page
 * stays one offline file), the pairs' PSNR and pixel gaps with their pathwise /
 * distributional verdict, the samples against the data (Fréchet distance, nearest training
 * image) and the error vs NFE against the probability-flow ODE.
 */
import { encodePng } from "../graphics/png.js";
import { Raster } from "../graphics/raster.js";
import { section, table } from "./html-parts.js";
import type { ImageDenoiser, ImagesReport } from "./images-schema.js";
import { escapeXml as esc, formatGap } from "./svg/format.js";

const SIDE = 8;
const ZOOM = 4;
const COLS = 4;
const GAP = 2;

/** Raster of up to 16 8x8 images (row-major values, one image after another), 4 per row. */
function tiles(values: readonly (number | null)[], shade: (v: number) => [number, number, number]): Raster {
  const count = Math.ceil(values.length / (SIDE * SIDE));
  const rows = Math.ceil(count / COLS);
  const w = COLS * SIDE * ZOOM + (COLS + 1) * GAP,
    h = rows * SIDE * ZOOM + (rows + 1) * GAP;
  const r = new Raster(w, h, [200, 200, 200]);
  for (let k = 0; k < count; k++) {
    const ox = GAP + (k % COLS) * (SIDE * ZOOM + GAP),
      oy = GAP + Math.floor(k / COLS) * (SIDE * ZOOM + GAP);
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const v = values[k * SIDE * SIDE + y * SIDE + x];
        r.fillRect(
          ox + x * ZOOM,
          oy + y * ZOOM,
          ZOOM,
          ZOOM,
          v === null || !Number.isFinite(v) ? [255, 0, 255] : shade(v),
        );
      }
  }
  return r;
}

/** Digits as ink on paper: y = -1 white, y = 1 black. */
export function gray(v: number): [number, number, number] {
  const g = Math.round(255 * (1 - Math.min(1, Math.max(0, (v + 1) / 2))));
  return [g, g, g];
}

/** PNG of an image grid (the CLI's `--plot grid.png` and the report). */
export function digitsGridPng(values: readonly (number | null)[]): Uint8Array {
  return encodePng(tiles(values, gray));
}

const dataUri = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString("base64")}`;

/** |a - b| times `gain`, white (0) to red (>= 1). */
function diffPng(a: readonly (number | null)[], b: readonly (number | null)[], gain: number): Uint8Array {
  const d = a.map((v, i) => (v === null || b[i] === null ? null : Math.abs(v - (b[i] as number)) * gain));
  return encodePng(
    tiles(d, (v) => {
      const t = Math.min(1, v);
      return [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))];
    }),
  );
}

/**
 * The amplification of a difference map: the largest of 1, 2, 5 times a power of ten that
 * keeps the largest gap at or below full red (so it shows between 40% and 100% red).
 */
export function diffGain(maxDiff: number | null): number {
  if (!maxDiff || !Number.isFinite(maxDiff)) return 1;
  const decade = 10 ** Math.floor(Math.log10(1 / maxDiff));
  for (const m of [5, 2]) if (m * decade * maxDiff <= 1) return m * decade;
  return decade;
}

const verdictText: Record<ImageDenoiser["pairs"][number]["verdict"], string> = {
  identical: '<span class="badge ok">identical</span>',
  pathwise: '<span class="badge warn">pathwise only</span>',
  distributional: '<span class="badge bad">distributional</span>',
};

const fmtDb = (v: number | null) => (v === null ? "∞ (equal)" : `${v.toFixed(1)} dB`);

function denoiserBlock(d: ImageDenoiser): string {
  if (!d.available) return `<h3>${esc(d.label)}</h3><p class="empty">Not run: ${esc(d.message)}</p>`;
  const img = (src: string, alt: string, title: string) =>
    `<figure class="digits"><img src="${src}" alt="${esc(alt)}" width="138" height="138"><figcaption>${title}</figcaption></figure>`;
  const byId = new Map(d.impls.map((i) => [i.id, i]));
  const families = [...new Set(d.impls.map((i) => i.family))];
  const grids = families
    .map(
      (f) =>
        `<div class="digit-row"><b>${esc(f)}</b>${d.impls
          .filter((i) => i.family === f)
          .map((i) =>
            img(
              dataUri(digitsGridPng(i.grid)),
              `${i.id} on ${d.id}`,
              `<code>${esc(i.id)}</code><br>${esc(i.label)} · ${i.nfe} NFE`,
            ),
          )
          .join("")}</div>`,
    )
    .join("");
  const rows = d.pairs.map((p) => {
    const a = byId.get(p.a)!,
      b = byId.get(p.b)!;
    const gain = diffGain(p.maxDiff);
    return [
      `<code>${esc(p.a)}</code> vs <code>${esc(p.b)}</code>`,
      esc(fmtDb(p.psnr)),
      esc(formatGap(p.maxDiff)),
      esc(formatGap(p.rmsDiff)),
      `${esc(formatGap(p.test.value))} / ${esc(formatGap(p.test.floor))} (p = ${p.test.pValue.toFixed(3)})`,
      verdictText[p.verdict],
      `<img class="diffmap" src="${dataUri(diffPng(a.grid, b.grid, gain))}" alt="${esc(`difference ${p.id} on ${d.id}`)}" width="69" height="69" title="|a - b| x ${gain}"><br><span class="num">×${formatGap(gain)}</span>`,
    ];
  });
  const fr = d.frechet
    ? `<p>Fréchet distance to the data set (pixel space, 64-d), ${esc(d.frechet.sampler)}, ${d.frechet.n.toLocaleString("en-US")} samples against the ${(d.frechet.halves[0] + d.frechet.halves[1]).toLocaleString("en-US")} training images: <b class="num">${esc(formatGap(d.frechet.value))}</b>. The data's own floors: ${d.frechet.n.toLocaleString("en-US")} training images drawn with replacement against all of them <span class="num">${esc(formatGap(d.frechet.dataFloor))}</span>; two disjoint random halves (${d.frechet.halves.join(" and ")}) against each other <span class="num">${esc(formatGap(d.frechet.halvesFloor))}</span>; ${esc(d.frechet.note)}.</p>`
    : "";
  const near = d.nearest.length
    ? `<p>Distance of each sample to its nearest training image (${esc(d.nearest[0].sampler)}, ${d.nearest[0].n} seeds): ${d.nearest
        .map(
          (n) =>
            `${n.nfe} NFE: ${(100 * n.fractionWithin).toFixed(0)}% within ${formatGap(n.threshold)} (median ${formatGap(n.medianDistance)})`,
        )
        .join(
          "; ",
        )}. The last step, D(x; 0), is the nearest training image itself, so every converged or not exact-denoiser sample lands on one; which one is what NFE decides (see the error vs NFE table).</p>`
    : "";
  return `<h3>${esc(d.label)}</h3><p class="lead">${esc(d.seeds)}.</p>${grids}${table(
    [
      { label: "pair" },
      { label: "PSNR", right: true },
      { label: "max |Δ|", right: true },
      { label: "RMS Δ", right: true },
      { label: "energy dist. / floor", right: true },
      { label: "verdict" },
      { label: "difference" },
    ],
    rows,
  )}${fr}${near}`;
}

export function imagesCss(): string {
  return "figure.digits{display:inline-block;margin:4px 10px 4px 0;vertical-align:top;max-width:170px;font-size:12px}figure.digits img,img.diffmap{image-rendering:pixelated;display:block}.digit-row{margin:6px 0}.digit-row>b{display:block}";
}

export function imagesSectionHtml(images: ImagesReport | undefined): string {
  if (!images) return section("images", "Images", "", '<p class="empty">Not computed in this run.</p>');
  const ode = images.ode
    ? `<h3>Error vs NFE against the probability-flow ODE</h3><p>${esc(images.ode.reference)}; ${images.ode.n} seeds. RMS and max pixel error of the sampler's output over all samples: one sample that lands on another training image than the reference's weighs a whole image's difference, so they can stay flat while most samples converge; the median per-sample RMS error, "same image" (fraction landing within 1e-3 of the reference's image) and "on a training image" (fraction within 1e-3 of their nearest training image; 100% at any NFE, since the last step, D(x; 0), returns a training image) show the fall with NFE.</p>${table(
        [
          { label: "sampler" },
          { label: "steps", right: true },
          { label: "NFE", right: true },
          { label: "RMS error", right: true },
          { label: "max error", right: true },
          { label: "median RMS", right: true },
          { label: "same image", right: true },
          { label: "on a training image", right: true },
        ],
        images.ode.curves.flatMap((c) =>
          c.points.map((p) => [
            esc(c.sampler),
            String(p.steps),
            String(p.nfe),
            esc(formatGap(p.rms)),
            esc(formatGap(p.max)),
            esc(formatGap(p.medianRms)),
            `${(100 * p.sameImage).toFixed(0)}%`,
            `${(100 * p.onTraining).toFixed(0)}%`,
          ]),
        ),
      )}`
    : "";
  return section(
    "images",
    "Images: 8x8 digits",
    "The same seeds through each implementation, on the exact denoiser of the data set and on a float32 UNet. A divergence is <b>pathwise only</b> when the two implementations' distributions agree within sampling error (energy-distance permutation test on disjoint seeds, p ≥ 0.01) and <b>distributional</b> when they do not; difference maps are |a − b| amplified by the factor shown.",
    `<style>${imagesCss()}</style>${images.denoisers.map(denoiserBlock).join("")}${ode}`,
  );
}

export function imagesMarkdown(images: ImagesReport | undefined): string[] {
  if (!images) return [];
  const out = ["## Images: 8x8 digits", ""];
  for (const d of images.denoisers) {
    out.push(`### ${d.label}`, "");
    if (!d.available) {
      out.push(`Not run: ${d.message}`, "");
      continue;
    }
    out.push("| pair | PSNR | max diff | energy dist. / floor (p) | verdict |", "|---|--:|--:|--:|---|");
    for (const p of d.pairs)
      out.push(
        `| \`${p.a}\` vs \`${p.b}\` | ${fmtDb(p.psnr)} | ${formatGap(p.maxDiff)} | ${formatGap(p.test.value)} / ${formatGap(p.test.floor)} (${p.test.pValue.toFixed(3)}) | ${p.verdict} |`,
      );
    out.push("");
    if (d.frechet)
      out.push(
        `Fréchet distance to the data (${d.frechet.n} samples, ${d.frechet.sampler}): ${formatGap(d.frechet.value)} (data floor: ${d.frechet.n} resampled training images ${formatGap(d.frechet.dataFloor)}, disjoint halves ${formatGap(d.frechet.halvesFloor)}).`,
        "",
      );
  }
  if (images.ode) {
    out.push(
      `Error vs NFE against the probability-flow ODE (exact denoiser, ${images.ode.n} seeds; RMS over all samples, median of the per-sample RMS, fraction on the reference's image, fraction within 1e-3 of a training image):`,
      "",
    );
    for (const c of images.ode.curves)
      out.push(
        `- ${c.sampler}: ${c.points.map((p) => `${p.nfe} NFE: RMS ${formatGap(p.rms)}, median ${formatGap(p.medianRms)}, same image ${(100 * p.sameImage).toFixed(0)}%, on a training image ${(100 * p.onTraining).toFixed(0)}%`).join("; ")}`,
      );
    out.push("");
  }
  return out;
}
