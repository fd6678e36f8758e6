// The routing summary: event type → source → rules → workflows, from the lists of rules,
// sources and flows (Tracardi's "Event Routing Summary").
import { splitError, topKey } from "../config/logic";
import { refId, type EventSource, type FlowSummary, type Rule } from "./types";

export interface RouteRule {
  rule: Rule;
  flowId: string;
  flowName: string;
  flowMissing: boolean;
  flowDeployed: boolean;
}
export interface RouteSource {
  sourceId: string; // "" = any source
  sourceName: string;
  rules: RouteRule[];
}
export interface RouteType {
  eventType: string;
  sources: RouteSource[];
}

export function buildRouting(rules: Rule[], sources: EventSource[], flows: FlowSummary[]): RouteType[] {
  const srcName = new Map(sources.map((s) => [s.id, s.name]));
  const flow = new Map(flows.map((f) => [f.id, f]));
  const types = new Map<string, Map<string, RouteSource>>();
  for (const r of rules) {
    const et = refId(r.event_type) || "(no event type)";
    const sid = refId(r.source);
    let bySrc = types.get(et);
    if (!bySrc) types.set(et, (bySrc = new Map()));
    let rs = bySrc.get(sid);
    if (!rs) {
      rs = { sourceId: sid, sourceName: sid ? (srcName.get(sid) ?? r.source?.name ?? sid) : "Any source", rules: [] };
      bySrc.set(sid, rs);
    }
    const fid = refId(r.flow);
    const f = flow.get(fid);
    rs.rules.push({ rule: r, flowId: fid, flowName: f?.name ?? r.flow?.name ?? fid, flowMissing: !f, flowDeployed: !!f?.deployed });
  }
  const byName = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: "base" });
  return [...types.entries()]
    .sort(([a], [b]) => byName(a, b))
    .map(([eventType, bySrc]) => ({
      eventType,
      // "any source" first, then by name; rules in the order they run (by name)
      sources: [...bySrc.values()]
        .sort((a, b) => (a.sourceId === "" ? -1 : b.sourceId === "" ? 1 : byName(a.sourceName, b.sourceName)))
        .map((s) => ({ ...s, rules: s.rules.sort((a, b) => byName(a.rule.name, b.rule.name)) })),
    }));
}

/** Every tag of the rules, sorted, for the tag filter. */
export function ruleTags(rules: Rule[]): string[] {
  return [...new Set(rules.flatMap((r) => r.tags ?? []))].sort((a, b) => a.localeCompare(b));
}

/** Splits a 422 detail like `flow: no flow \`x\`` into the form field it names and the message. */
export function fieldError(detail: string, fields: readonly string[]): { field?: string; message: string } {
  const { path, text } = splitError(detail);
  const field = topKey(path);
  return field && fields.includes(field) ? { field, message: text } : { message: detail };
}
