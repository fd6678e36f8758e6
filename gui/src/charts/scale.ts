// Pure arithmetic behind the SVG charts: axis bounds, ticks, labels, and turning the
// histogram answer of POST /{index}/select/histogram into stacked series.

/** The smallest "nice" number (1, 2, 2.5 or 5 times a power of ten) at or above `v`; 1 for 0. */
export function niceMax(v: number): number {
  if (!isFinite(v) || v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const n = m * p;
    if (n >= v - 1e-9) return n;
  }
  return 10 * p;
}

/** Tick values from 0 up to the first nice step at or above `v` (about `want` steps), whole
 * numbers only since these are counts; the last tick is the axis maximum. */
export function ticks(v: number, want = 4): number[] {
  const step = Math.max(1, niceMax(Math.max(v, 0) / Math.max(want, 1)));
  const n = Math.max(1, Math.ceil(v / step - 1e-9));
  return Array.from({ length: n + 1 }, (_, i) => Math.round(i * step));
}

/** 1234 → "1.2k", 2500000 → "2.5M": short labels for axes. */
export function compact(n: number): string {
  const a = Math.abs(n);
  const f = (x: number, s: string) => (Math.round(x * 10) / 10).toString().replace(/\.0$/, "") + s;
  if (a >= 1e9) return f(n / 1e9, "G");
  if (a >= 1e6) return f(n / 1e6, "M");
  if (a >= 1e4) return f(n / 1e3, "k");
  return String(n);
}

/** Every how many-th label fits when `count` labels of about `labelPx` share `widthPx`. */
export function labelEvery(count: number, widthPx: number, labelPx: number): number {
  if (count <= 0) return 1;
  const fit = Math.max(1, Math.floor(widthPx / Math.max(labelPx, 1)));
  return Math.max(1, Math.ceil(count / fit));
}

export interface HistogramRow {
  date: string;
  time: string;
  interval?: string;
  count?: number;
  [bucket: string]: unknown;
}
export interface HistogramAnswer {
  total: number;
  result: HistogramRow[];
  buckets: string[];
}
export interface SeriesPoint {
  label: string;
  time: string;
  values: number[]; // one per series, same order as `series`
}
export interface Series {
  series: string[];
  points: SeriesPoint[];
}

/** The histogram answer as stacked series: `buckets` names them ("count" when not grouped). */
export function histogramSeries(h: HistogramAnswer): Series {
  const series = h.buckets?.length ? h.buckets : ["count"];
  return {
    series,
    points: (h.result ?? []).map((r) => ({
      label: r.date,
      time: r.time,
      values: series.map((s) => {
        const v = r[s];
        return typeof v === "number" && isFinite(v) ? v : 0;
      }),
    })),
  };
}

/** The tallest stack of a series set. */
export function stackMax(points: SeriesPoint[]): number {
  return points.reduce((m, p) => Math.max(m, p.values.reduce((a, b) => a + b, 0)), 0);
}

/** Arcs of a donut: start and end angles (radians, clockwise from 12 o'clock) per value. */
export function donutArcs(values: number[]): { start: number; end: number }[] {
  const sum = values.reduce((a, b) => a + Math.max(b, 0), 0);
  let at = 0;
  return values.map((v) => {
    const span = sum > 0 ? (Math.max(v, 0) / sum) * Math.PI * 2 : 0;
    const arc = { start: at, end: at + span };
    at += span;
    return arc;
  });
}

/** The SVG path of a donut segment between radii `r0` < `r1`, centred on (cx, cy). */
export function arcPath(cx: number, cy: number, r0: number, r1: number, start: number, end: number): string {
  // a full circle cannot be one arc: stop a hair short so it still draws
  const e = end - start >= Math.PI * 2 ? start + Math.PI * 2 - 1e-4 : end;
  const pt = (r: number, a: number) => `${(cx + r * Math.sin(a)).toFixed(2)} ${(cy - r * Math.cos(a)).toFixed(2)}`;
  const large = e - start > Math.PI ? 1 : 0;
  return `M ${pt(r1, start)} A ${r1} ${r1} 0 ${large} 1 ${pt(r1, e)} L ${pt(r0, e)} A ${r0} ${r0} 0 ${large} 0 ${pt(r0, start)} Z`;
}

/** Adds an "other" series to a grouped histogram (which names only the top values) from the
 * ungrouped one of the same range: per bucket, the total less the named ones. */
export function withOther(grouped: Series, totals: Series, name = "other"): Series {
  const total = new Map(totals.points.map((p) => [p.time, p.values.reduce((a, b) => a + b, 0)]));
  const points = grouped.points.map((p) => {
    const named = p.values.reduce((a, b) => a + b, 0);
    return { ...p, values: [...p.values, Math.max((total.get(p.time) ?? named) - named, 0)] };
  });
  if (!points.some((p) => p.values[p.values.length - 1] > 0)) return grouped;
  return { series: [...grouped.series, name], points };
}
