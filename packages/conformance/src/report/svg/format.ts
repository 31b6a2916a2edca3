/**
 * Text helpers shared by the Markdown and HTML renderings and the SVG plots: escaping and the
 * one way every number in the report is written, so the same gap reads the same everywhere.
 */

/** Escapes text for XML/HTML element content and double- or single-quoted attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      default:
        return "&#39;";
    }
  });
}

/**
 * A gap or error: "n/a" for null (not measured), "0" for exact zero, exponent notation below
 * 1e-3 or from 1e5 up (e.g. "3.55e-15"), three significant digits otherwise ("0.0123", "12.3").
 */
export function formatGap(value: number | null | undefined): string {
  if (value === null || value === undefined) return "n/a";
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e5) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}

/** A fitted convergence order, two decimals ("1.98"), "n/a" when it could not be fitted. */
export function formatOrder(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "n/a";
  return value.toFixed(2);
}

/** A duration: "0.42 s", "12.3 s", "3 min 12 s", "1 h 02 min". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "n/a";
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, "0")} s`;
  return `${Math.floor(total / 3600)} h ${String(Math.floor((total % 3600) / 60)).padStart(2, "0")} min`;
}

/** A nullable integer (step, model call): "—" when absent. */
export function formatIndex(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : String(value);
}

/** Unicode superscript for an integer exponent, e.g. -13 → "⁻¹³" (tick labels like 10⁻¹³). */
export function superscript(n: number): string {
  const sup = "⁰¹²³⁴⁵⁶⁷⁸⁹";
  return String(n)
    .split("")
    .map((c) => (c === "-" ? "⁻" : (sup[Number(c)] ?? c)))
    .join("");
}

/** A tick label: plain for 1e-3 ≤ |v| < 1e4, "10⁻⁶" for exact powers of ten, "2×10⁻⁶" otherwise. */
export function formatTick(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e-3 && abs < 1e4) return String(Number(value.toPrecision(4)));
  const exp = Math.floor(Math.log10(abs) + 1e-9);
  const mant = Number((value / 10 ** exp).toPrecision(2));
  return mant === 1 ? `10${superscript(exp)}` : `${mant}×10${superscript(exp)}`;
}

/** Rounds a coordinate for SVG output (1 decimal keeps files small and is sub-pixel). */
export function r1(v: number): string {
  return String(Math.round(v * 10) / 10);
}
