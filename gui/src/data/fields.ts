// Reading the documents of profiles, sessions and events: they are Tracardi's, deep and mostly
// optional, so everything here tolerates missing parts. Pure, tested in fields.test.ts.

export type Doc = Record<string, unknown>;

/** The value at a dotted path, or undefined. */
export function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export function str(v: unknown): string | undefined {
  if (typeof v === "string" && v.trim()) return v.trim();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** First non-empty text among the paths. */
export function pick(obj: unknown, ...paths: string[]): string | undefined {
  for (const p of paths) {
    const v = str(get(obj, p));
    if (v) return v;
  }
  return undefined;
}

/** A person's name, from whatever the profile has: pii, traits, or a display name. */
export function personName(p: unknown): string | undefined {
  const first = pick(p, "data.pii.firstname", "traits.firstname", "traits.first_name");
  const last = pick(p, "data.pii.lastname", "traits.lastname", "traits.last_name");
  const full = [first, last].filter(Boolean).join(" ");
  return full || pick(p, "data.pii.display_name", "traits.name", "traits.full_name", "pii.name", "traits.display_name");
}

export function personEmail(p: unknown): string | undefined {
  return pick(
    p,
    "data.contact.email.main",
    "data.contact.email.business",
    "data.contact.email.private",
    "traits.email",
    "pii.email",
    "traits.contact.email",
  );
}

export function personPhone(p: unknown): string | undefined {
  return pick(p, "data.contact.phone.main", "data.contact.phone.mobile", "data.contact.phone.business", "data.contact.phone.whatsapp", "traits.phone");
}

/** How many visits a profile had: the visit counter, else stats.visits. */
export function visitCount(p: unknown): number {
  const a = get(p, "metadata.time.visit.count");
  const b = get(p, "stats.visits");
  return Math.max(typeof a === "number" ? a : 0, typeof b === "number" ? b : 0);
}

export function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.values(v as object).every(isEmpty);
  return false;
}

/** The leaves of an object as dotted paths, empty values left out (nulls, "", [], {}),
 * lists of plain values kept whole. */
export function flatten(obj: unknown, prefix = ""): [string, unknown][] {
  if (obj === null || typeof obj !== "object") return isEmpty(obj) ? [] : [[prefix, obj]];
  if (Array.isArray(obj)) {
    if (!obj.length) return [];
    if (obj.every((x) => x === null || typeof x !== "object")) return [[prefix, obj]];
    return obj.flatMap((v, i) => flatten(v, prefix ? `${prefix}.${i}` : String(i)));
  }
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/** A value for reading: lists joined, objects as compact JSON. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** The first characters of a long id, for tables. */
export function shortId(id: unknown): string {
  const s = typeof id === "string" ? id : "";
  return s.length > 13 ? s.slice(0, 8) + "…" + s.slice(-4) : s || "—";
}

/** Device, OS and app of a session or event in a few words. */
export function deviceLine(d: unknown): string {
  const dev = [pick(d, "device.brand"), pick(d, "device.model") ?? pick(d, "device.name")].filter((x) => x && x !== "Other");
  const type = pick(d, "device.type");
  return [dev.join(" ") || undefined, type].filter(Boolean).join(" · ") || "—";
}
export function osLine(d: unknown): string {
  const n = pick(d, "os.name");
  return n ? [n, pick(d, "os.version")].filter(Boolean).join(" ") : "—";
}
export function appLine(d: unknown): string {
  const n = pick(d, "app.name");
  return n ? [n, pick(d, "app.version")].filter(Boolean).join(" ") : "—";
}

/** A consent's state from its `revoke` time: never expires, granted until, or expired. */
export function consentState(c: unknown, now = Date.now()): { state: "granted" | "expired"; until?: string } {
  const r = get(c, "revoke");
  if (typeof r !== "string" || !r) return { state: "granted" };
  const t = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(r) ? r : r + "Z").getTime();
  if (isNaN(t)) return { state: "granted", until: r };
  return { state: t > now ? "granted" : "expired", until: r };
}
