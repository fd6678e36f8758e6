// Pure helpers of the configuration screens (no React, no fetch): tested in logic.test.ts.

/** A config entity as the API answers it: an object with at least these, and whatever else. */
export interface Rec {
  id?: string;
  name?: string;
  description?: string;
  enabled?: boolean;
  [key: string]: unknown;
}

/** cdpd's 422 detail reads "<path>: <why>" (`event_to_profile[1].op: …`). Splits it; a message
 * without a path (or a sentence with a colon in it) gives path "". */
export function splitError(message: string): { path: string; text: string } {
  const m = /^([A-Za-z_][\w-]*(?:\[\d+\])?(?:\.[\w?@-]+(?:\[\d+\])?)*): (.+)$/s.exec(message);
  if (!m) return { path: "", text: message };
  return { path: m[1], text: m[2] };
}

/** The top-level key of an error path: `event_to_profile[1].op` → `event_to_profile`,
 * `reshaping.reshape_schema.properties.a` → `reshaping`. */
export function topKey(path: string): string {
  return path.split(/[.[]/)[0] ?? "";
}

/** Field errors from a server message: under the full path, every shorter prefix and the top
 * key, so a form can show it next to whichever control it has for that part. */
export function fieldErrors(message: string): Record<string, string> {
  const { path, text } = splitError(message);
  const out: Record<string, string> = {};
  if (!path) return out;
  const parts = path.split(".");
  for (let i = parts.length; i > 0; i--) {
    const p = parts.slice(0, i).join(".");
    out[p] ??= text;
    const bare = p.replace(/\[\d+\]$/, "");
    out[bare] ??= text;
  }
  return out;
}

/** The row index of an error path inside a list field: `event_to_profile[1].op` → 1. */
export function rowOfError(path: string, key: string): number | undefined {
  const m = new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\[(\\d+)\\]`).exec(path);
  return m ? Number(m[1]) : undefined;
}

/** Case-insensitive match of every word of `q` somewhere in the row's text. */
export function matches(text: string, q: string): boolean {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const t = text.toLowerCase();
  return words.every((w) => t.includes(w));
}

export function filterRows<T>(rows: T[], q: string, text: (r: T) => string): T[] {
  if (!q.trim()) return rows;
  return rows.filter((r) => matches(text(r), q));
}

/** The text a row is searched by: its name, id, description and any extra strings. */
export function searchText(r: Rec, ...extra: unknown[]): string {
  return [r.name, r.id, r.description, ...extra]
    .flat()
    .map((v) => (typeof v === "string" ? v : v && typeof v === "object" ? refId(v) : ""))
    .join(" ");
}

/** An id that may come as "<id>" or {id, name}; "" when absent. */
export function refId(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && "id" in v && typeof (v as { id: unknown }).id === "string") return (v as { id: string }).id;
  return "";
}

/** A field reference that may come as "path" or {value: "path", ref: true}. */
export function refValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && "value" in v) {
    const x = (v as { value: unknown }).value;
    return typeof x === "string" ? x : "";
  }
  return "";
}

/** The slug cdpd makes of a name for ids and machine names: "Big Spenders!" → "big-spenders". */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** A copy without the keys the server computes (counts, times), for saving back. */
export function without<T extends Rec>(r: T, keys: string[]): T {
  const out: Rec = { ...r };
  for (const k of keys) delete out[k];
  return out as T;
}

/** Operations of an event-to-profile pair: the API takes the number or the name. */
export const OPS = [
  { value: "set", label: "Set", code: 0 },
  { value: "set_if_empty", label: "Set if empty", code: 1 },
  { value: "append", label: "Append", code: 2 },
  { value: "increment", label: "Increment", code: 3 },
] as const;
export function opName(op: unknown): string {
  if (typeof op === "number") return OPS.find((o) => o.code === op)?.value ?? "set";
  if (typeof op === "string" && OPS.some((o) => o.value === op)) return op;
  return "set";
}

/** Durations of consent auto-revoke: "30d" ⇄ {n: 30, unit: "d"}; "" means never. */
export const UNITS = [
  { value: "m", label: "minutes" },
  { value: "h", label: "hours" },
  { value: "d", label: "days" },
  { value: "w", label: "weeks" },
  { value: "s", label: "seconds" },
] as const;
export function parseDuration(v: unknown): { n: string; unit: string } {
  if (typeof v !== "string" || !v.trim()) return { n: "", unit: "d" };
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v);
  if (!m) return { n: v, unit: "d" };
  const u = m[2].toLowerCase();
  const unit = u.startsWith("mo") ? "d" : u.startsWith("mi") || u === "m" ? "m" : (u[0] ?? "d");
  return { n: m[1], unit: UNITS.some((x) => x.value === unit) ? unit : "d" };
}
export function formatDuration(n: string, unit: string): string {
  const t = n.trim();
  return t ? `${t}${unit}` : "";
}

/** Rows of a key/value editor ⇄ an object of strings. Empty keys are dropped. */
export function pairsToObject(rows: { key: string; value: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) if (r.key.trim()) out[r.key.trim()] = r.value;
  return out;
}
export function objectToPairs(o: unknown): { key: string; value: string }[] {
  if (!o || typeof o !== "object" || Array.isArray(o)) return [];
  return Object.entries(o as Record<string, unknown>).map(([key, v]) => ({
    key,
    value: typeof v === "string" ? v : JSON.stringify(v),
  }));
}

/** Credentials of a resource as the form edits them: each value a string, typed back by the
 * type's template (a number where the template has one) on save. */
export function credentialsFromForm(rows: Record<string, string>, template: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rows)) {
    const t = template[k];
    if (typeof t === "number" && v.trim() !== "" && !isNaN(Number(v))) out[k] = Number(v);
    else if (typeof t === "boolean" && (v === "true" || v === "false")) out[k] = v === "true";
    else if (t === null && v === "") out[k] = null;
    else out[k] = v;
  }
  return out;
}

/** Whether credentials came back masked (a developer's view): "***" instead of an object. */
export function isSealed(v: unknown): boolean {
  return v === "***";
}

/** Short one-line text of a value, for table cells. */
export function short(v: unknown, max = 60): string {
  const s = typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v);
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** A JSON object that is not empty. */
export function nonEmptyObject(v: unknown): boolean {
  return !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0;
}

/** The page `page` of `size` rows. */
export function pageOf<T>(rows: T[], page: number, size: number): T[] {
  return rows.slice(page * size, page * size + size);
}
