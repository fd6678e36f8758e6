// Time ranges of the data explorer and their conversion to Tracardi's DatetimeRange
// (docs/api.md, "Searching profiles, sessions and events"). Pure functions, tested in range.test.ts.

export type Index = "event" | "profile" | "session";

export const RELATIVE = [
  { id: "15m", label: "Last 15 minutes", value: -15, entity: "minute" },
  { id: "1h", label: "Last hour", value: -1, entity: "hour" },
  { id: "24h", label: "Last 24 hours", value: -24, entity: "hour" },
  { id: "7d", label: "Last 7 days", value: -7, entity: "day" },
  { id: "30d", label: "Last 30 days", value: -30, entity: "day" },
] as const;

export type RangeKind = (typeof RELATIVE)[number]["id"] | "all" | "abs";

/** What the URL holds: a relative range id, "all", or "abs" with two datetime-local strings. */
export interface TimeRange {
  kind: RangeKind;
  from?: string; // "2024-05-01T10:00" in the browser's local time
  to?: string;
}

export const DEFAULT_RANGE: RangeKind = "24h";

export interface Absolute {
  year: number;
  month: number;
  date: number;
  hour: number;
  minute: number;
  second: number;
  meridiem: "AM" | "PM";
  timeZone: string;
}
export interface RangeDate {
  absolute: Absolute | null;
  delta: { value: number; entity: string } | null;
}
export interface DatetimeRange {
  minDate: RangeDate | null;
  maxDate: RangeDate | null;
}

/** A moment as the server reads an absolute date: UTC parts on the 24-hour clock. The server
 * needs every part, meridiem included, and turns hour 12 with "AM" into 0, so the meridiem
 * follows the hour rather than being fixed. */
export function absoluteOf(d: Date): Absolute {
  const hour = d.getUTCHours();
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    date: d.getUTCDate(),
    hour,
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    meridiem: hour >= 12 ? "PM" : "AM",
    timeZone: "UTC",
  };
}

/** A datetime-local input's value ("2024-05-01T10:00", local time) as a Date, or undefined. */
export function parseLocal(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/.exec(v);
  if (!m) return undefined;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
  return isNaN(d.getTime()) ? undefined : d;
}

/** A Date as a datetime-local input's value, in local time, to the minute. */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Why an absolute range cannot be searched, or undefined when it can. */
export function rangeProblem(r: TimeRange): string | undefined {
  if (r.kind !== "abs") return undefined;
  const from = parseLocal(r.from);
  const to = parseLocal(r.to);
  if (!from) return "Choose when the range starts.";
  if (r.to && !to) return "The end of the range is not a valid time.";
  if (from.getTime() >= (to ?? new Date()).getTime()) return "The start must be before the end.";
  return undefined;
}

/** The DatetimeRange body of a range. "all" starts at 1970 (the server has no open start);
 * an absolute range without an end runs to now. */
export function toDatetimeRange(r: TimeRange): DatetimeRange {
  const rel = RELATIVE.find((x) => x.id === r.kind);
  if (rel) return { minDate: { absolute: null, delta: { value: rel.value, entity: rel.entity } }, maxDate: null };
  if (r.kind === "abs") {
    const from = parseLocal(r.from) ?? new Date(0);
    const to = parseLocal(r.to);
    return {
      minDate: { absolute: absoluteOf(from), delta: null },
      maxDate: to ? { absolute: absoluteOf(to), delta: null } : null,
    };
  }
  return { minDate: { absolute: absoluteOf(new Date(0)), delta: null }, maxDate: null };
}

/** The range kept in the URL's search params (range, from, to). */
export function rangeFromParams(p: URLSearchParams): TimeRange {
  const k = p.get("range") ?? DEFAULT_RANGE;
  const known = k === "all" || k === "abs" || RELATIVE.some((x) => x.id === k);
  const kind = (known ? k : DEFAULT_RANGE) as RangeKind;
  if (kind !== "abs") return { kind };
  return { kind, from: p.get("from") ?? undefined, to: p.get("to") ?? undefined };
}

export function rangeToParams(r: TimeRange, p: URLSearchParams): URLSearchParams {
  const n = new URLSearchParams(p);
  n.set("range", r.kind);
  n.delete("from");
  n.delete("to");
  if (r.kind === "abs") {
    if (r.from) n.set("from", r.from);
    if (r.to) n.set("to", r.to);
  }
  return n;
}

/** Seconds of a histogram interval as the server labels it: "+2m", "+48m", "+1d", "+692d", "30s". */
export function intervalSeconds(v: string | undefined): number | undefined {
  const m = /^\+?(\d+)\s*([smhdwy])$/.exec((v ?? "").trim());
  if (!m) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }[m[2] as "s"];
  return +m[1] * unit;
}

/** The time of a document that ranges and histograms go by: an event's and a session's
 * metadata.time.insert, a profile's metadata.time.update. */
export function docTime(index: Index, doc: unknown): string | undefined {
  const t = (doc as { metadata?: { time?: Record<string, unknown> } })?.metadata?.time;
  const v = index === "profile" ? (t?.update ?? t?.insert) : t?.insert;
  return typeof v === "string" ? v : undefined;
}

/** A JSON string literal of the condition language. */
export function quote(s: string): string {
  return JSON.stringify(s);
}

/** The absolute range of a histogram bar, widened to whole minutes (what datetime-local
 * inputs hold), so a bar of seconds still gives a range that contains it. */
export function zoomRange(start: string, seconds: number | undefined): TimeRange | undefined {
  const from = new Date(start);
  if (!seconds || isNaN(from.getTime())) return undefined;
  const MIN = 60000;
  const lo = Math.floor(from.getTime() / MIN) * MIN;
  const hi = Math.max(lo + MIN, Math.ceil((from.getTime() + seconds * 1000) / MIN) * MIN);
  return { kind: "abs", from: toLocalInput(new Date(lo)), to: toLocalInput(new Date(hi)) };
}
