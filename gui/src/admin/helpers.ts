// Pure helpers of the administration screens (users, deployment, audit log, my account),
// kept apart from the components so they can be unit-tested.
import { ApiError, type Role } from "../api";

export interface User {
  id: string;
  email: string;
  full_name: string;
  roles: Role[];
  disabled: boolean;
  expiration_timestamp: number | null;
  preference?: Record<string, unknown>;
  expired?: boolean;
}

/** What each role may do (docs/api.md, Roles), one line each for the user form. */
export const ROLE_INFO: { role: Role; text: string }[] = [
  { role: "admin", text: "Everything: users, the audit log, erasure and merges, deploying staging to production." },
  { role: "developer", text: "Event sources, workflows, rules, event processing, resources and destinations." },
  { role: "marketer", text: "Segments, consent types and settings; reads profiles, sessions and events." },
  { role: "maintainer", text: "Maintenance: storage, system settings and logs; reads the data." },
];

/** Splits a 422's `{detail: [{loc, msg}]}` into messages per body field ("email", "roles"…);
 * whatever names no field (409s, plain strings) goes to `form`. */
export function fieldErrors(e: unknown): { fields: Record<string, string>; form?: string } {
  const fields: Record<string, string> = {};
  if (!(e instanceof ApiError)) return { fields, form: e instanceof Error ? e.message : String(e) };
  const body = e.body as { detail?: unknown } | undefined;
  const rest: string[] = [];
  if (body && Array.isArray(body.detail)) {
    for (const d of body.detail as { loc?: unknown[]; msg?: string }[]) {
      const loc = Array.isArray(d?.loc) ? d.loc : [];
      const name = loc[0] === "body" ? loc[1] : loc[0];
      if (typeof name === "string" && d.msg) fields[name] = fields[name] ? `${fields[name]}; ${d.msg}` : d.msg;
      else rest.push(d?.msg ?? JSON.stringify(d));
    }
    return { fields, form: rest.length ? rest.join("; ") : undefined };
  }
  return { fields, form: e.message };
}

/** Seconds since 1970 → the yyyy-mm-dd of a date input, in local time. */
export function tsToDateInput(ts: number | null | undefined): string {
  if (ts === null || ts === undefined) return "";
  const d = new Date(ts * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** yyyy-mm-dd (local midnight: the user cannot log in from that day on) → seconds, or null. */
export function dateInputToTs(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return null;
  return Math.floor(new Date(+m[1], +m[2] - 1, +m[3]).getTime() / 1000);
}

export type UserState = { label: string; tone: "ok" | "warn" | "error" | "neutral" };
export function userState(u: User, now = Date.now()): UserState {
  if (u.disabled) return { label: "Disabled", tone: "error" };
  if (u.expired || (u.expiration_timestamp !== null && u.expiration_timestamp * 1000 <= now))
    return { label: "Expired", tone: "warn" };
  if (u.expiration_timestamp !== null) return { label: "Active until " + tsToDateInput(u.expiration_timestamp), tone: "ok" };
  return { label: "Active", tone: "ok" };
}

// ---- deployment ----

export interface KindChange {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: number;
}
export interface DeployReport {
  dry_run?: boolean;
  deployed?: boolean;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  kinds: Record<string, Partial<KindChange>>;
}
export interface KindRow extends KindChange {
  kind: string;
}

/** The report's kinds as rows, those with changes first, each list defaulted. */
export function deployRows(r: DeployReport | undefined): KindRow[] {
  if (!r || !r.kinds || typeof r.kinds !== "object") return [];
  const rows = Object.entries(r.kinds).map(([kind, k]) => ({
    kind,
    added: Array.isArray(k?.added) ? k.added.map(String) : [],
    changed: Array.isArray(k?.changed) ? k.changed.map(String) : [],
    removed: Array.isArray(k?.removed) ? k.removed.map(String) : [],
    unchanged: typeof k?.unchanged === "number" ? k.unchanged : 0,
  }));
  const changes = (x: KindRow) => x.added.length + x.changed.length + x.removed.length;
  return rows.sort((a, b) => (changes(b) > 0 ? 1 : 0) - (changes(a) > 0 ? 1 : 0) || a.kind.localeCompare(b.kind));
}

/** Production has configuration and staging none: the server refuses such a deploy (409). */
export function stagingLooksEmpty(r: DeployReport | undefined): boolean {
  return !!r && r.removed > 0 && r.added === 0 && r.changed === 0 && r.unchanged === 0;
}

/** "web-flow" → "Web flow": kinds read better as words. */
export function kindLabel(kind: string): string {
  const s = kind.replace(/[-_]+/g, " ").trim();
  return s ? s[0].toUpperCase() + s.slice(1) : kind;
}

// ---- audit log ----

export interface AuditRecord {
  id: string;
  time: string;
  user: { id: string; email: string } | null;
  method: string;
  path: string;
  status: number;
  entity?: { kind?: string; id?: string; id_sha256?: string } | null;
  before?: unknown;
  after?: unknown;
  password_changed?: boolean;
  deploy?: Record<string, Partial<KindChange>>;
  dry_run?: boolean;
  [k: string]: unknown;
}

export interface KeyChange {
  key: string; // dotted path of the changed value
  change: "added" | "removed" | "changed";
  before?: unknown;
  after?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** The keys whose values differ between two documents, walking into nested objects (arrays are
 * compared whole: a list reads better as one before/after pair). */
export function diffKeys(before: unknown, after: unknown, prefix = ""): KeyChange[] {
  if (!isObj(before) || !isObj(after)) {
    if (JSON.stringify(before) === JSON.stringify(after)) return [];
    if (before === undefined || before === null) return [{ key: prefix || "(document)", change: "added", after }];
    if (after === undefined || after === null) return [{ key: prefix || "(document)", change: "removed", before }];
    return [{ key: prefix || "(document)", change: "changed", before, after }];
  }
  const out: KeyChange[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const k of keys) {
    const key = prefix ? `${prefix}.${k}` : k;
    const b = before[k];
    const a = after[k];
    if (!(k in before)) out.push({ key, change: "added", after: a });
    else if (!(k in after)) out.push({ key, change: "removed", before: b });
    else if (isObj(b) && isObj(a)) out.push(...diffKeys(b, a, key));
    else if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ key, change: "changed", before: b, after: a });
  }
  return out;
}

/** A value as one short line for a table cell. */
export function shortValue(v: unknown, max = 120): string {
  if (v === undefined) return "—";
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** A datetime-local input's value → the ISO time the audit API's `since` takes (UTC). */
export function localToIso(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function statusTone(status: number): "ok" | "warn" | "error" | "info" {
  if (status >= 500) return "error";
  if (status >= 400) return "warn";
  if (status >= 300) return "info";
  return "ok";
}
