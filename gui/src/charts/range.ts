// The dashboard's time windows, as the body and bucket width of a histogram request.

export type RangeKey = "24h" | "7d" | "30d";

export const RANGES: { key: RangeKey; label: string }[] = [
  { key: "24h", label: "Last 24 hours" },
  { key: "7d", label: "Last 7 days" },
  { key: "30d", label: "Last 30 days" },
];

/** DatetimeRange body (minDate as a delta from now) and `interval` for a window. */
export function histogramRequest(key: RangeKey): { body: Record<string, unknown>; interval: string } {
  switch (key) {
    case "24h":
      return { body: deltaBody(-24, "hour"), interval: "1h" };
    case "7d":
      return { body: deltaBody(-7, "day"), interval: "6h" };
    case "30d":
      return { body: deltaBody(-30, "day"), interval: "1d" };
  }
}

function deltaBody(value: number, entity: string) {
  return { minDate: { absolute: null, delta: { value, entity } }, maxDate: null, where: "" };
}

/** Seconds since 1970 of `hours` ago, for the counters' `?from=`. */
export function secondsAgo(hours: number, now = Date.now()): number {
  return Math.floor(now / 1000) - hours * 3600;
}

/** A short label for a bucket start (ISO time) that suits the window. */
export function bucketLabel(iso: string, key: RangeKey): string {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  if (key === "24h") return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (key === "7d") return d.toLocaleString(undefined, { weekday: "short", hour: "2-digit" });
  return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
