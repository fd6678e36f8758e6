// Pure logic of the workflow editor: the server's flow record <-> the canvas' nodes and edges,
// new nodes from palette plugins, and the debugger's answer mapped onto nodes and edges.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = Record<string, unknown>;

export interface PluginSpec {
  module?: string;
  className?: string;
  inputs?: string[];
  outputs?: string[];
  init?: unknown;
  schema?: JsonSchema;
  version?: string;
  license?: string;
  [k: string]: unknown;
}
export interface Plugin {
  id: string;
  start?: boolean;
  spec: PluginSpec;
  metadata: { name: string; desc?: string; group?: string[]; type?: string; purpose?: string[] };
}
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  format?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  [k: string]: unknown;
}

export interface NodeData extends Obj {
  start?: boolean;
  debug?: boolean;
  spec: PluginSpec & { skip?: boolean; block_flow?: boolean; append_input_payload?: boolean };
  metadata?: { name?: string; [k: string]: unknown };
}
/** A node as the canvas holds it (xyflow's Node, loosely: extra keys of the record are kept). */
export interface CanvasNode {
  id: string;
  type?: string;
  position: { x: number; y: number };
  data: NodeData;
  [k: string]: unknown;
}
export interface CanvasEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
  type?: string;
  data?: { name?: string; [k: string]: unknown };
  [k: string]: unknown;
}
export interface FlowMeta {
  id: string;
  name: string;
  description: string;
  tags: string[];
  type: string;
  [k: string]: unknown;
}
export interface FlowRecord extends FlowMeta {
  flowGraph: { nodes: CanvasNode[]; edges: CanvasEdge[] };
  deployed?: boolean;
  timestamp?: string;
}

/** The node renderers the canvas registers: Tracardi's `metadata.type` names. */
export const NODE_TYPES = ["flowNode", "startNode", "condNode", "flowNodeWithEvents"];

/** Keys xyflow adds to nodes and edges while editing; they are not part of the flow. */
const RUNTIME_NODE_KEYS = new Set([
  "selected", "dragging", "measured", "resizing", "positionAbsolute", "internals", "width", "height",
  "className", "ariaLabel", "style", "focusable", "draggable", "selectable", "connectable", "deletable", "hidden",
]);
const RUNTIME_EDGE_KEYS = new Set(["selected", "className", "animated", "style", "ariaLabel", "label", "markerEnd", "zIndex", "focusable", "hidden"]);

/** Random ids without crypto.randomUUID, which only exists on https or localhost. */
export function uuid(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** The palette plugin a node uses: by cdpd id, by class name or by module + class. */
export function findPlugin(plugins: Plugin[], spec: PluginSpec | undefined): Plugin | undefined {
  if (!spec) return undefined;
  const cls = spec.className;
  return (
    plugins.find((p) => spec.module && p.spec.module === spec.module && p.spec.className === cls) ??
    plugins.find((p) => cls && (p.spec.className === cls || p.id === cls))
  );
}

export function nodeName(n: CanvasNode, plugin?: Plugin): string {
  return n.data?.metadata?.name || plugin?.metadata.name || n.data?.spec?.className || n.id;
}

/** A fresh node of a palette plugin, its config a copy of the plugin's defaults. */
export function nodeFromPlugin(p: Plugin, position: { x: number; y: number }): CanvasNode {
  const { schema: _schema, ...spec } = p.spec; // the schema comes from the palette; no need to store it
  void _schema;
  return {
    id: uuid(),
    type: p.metadata.type && NODE_TYPES.includes(p.metadata.type) ? p.metadata.type : "flowNode",
    position,
    data: {
      start: !!p.start,
      debug: false,
      spec: { ...clone(spec), init: clone(p.spec.init ?? {}) },
      metadata: { ...clone(p.metadata) },
    },
  };
}

export function edgeId(): string {
  return uuid().replace(/-/g, "");
}

/** The inputs/outputs of a node: its own spec's, else its plugin's. */
export function ports(n: CanvasNode, plugin?: Plugin): { inputs: string[]; outputs: string[] } {
  const s = n.data?.spec ?? {};
  return {
    inputs: Array.isArray(s.inputs) ? s.inputs : plugin?.spec.inputs ?? [],
    outputs: Array.isArray(s.outputs) ? s.outputs : plugin?.spec.outputs ?? [],
  };
}

/** Canvas nodes and edges of a stored flow; nodes without a position are laid out by depth. */
export function recordToCanvas(rec: Partial<FlowRecord>): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const g = rec.flowGraph ?? { nodes: [], edges: [] };
  const rawNodes = Array.isArray(g.nodes) ? g.nodes : [];
  const rawEdges = Array.isArray(g.edges) ? g.edges : [];
  const nodes: CanvasNode[] = rawNodes.map((n) => ({
    ...n,
    type: n.type && NODE_TYPES.includes(n.type) ? n.type : "flowNode",
    data: { ...(n.data ?? {}), spec: n.data?.spec ?? {} } as NodeData,
    position: validPos(n.position) ? n.position : (undefined as unknown as { x: number; y: number }),
  }));
  const edges: CanvasEdge[] = rawEdges.map((e) => ({ ...e, sourceHandle: e.sourceHandle ?? "payload", targetHandle: e.targetHandle ?? "payload" }));
  if (nodes.some((n) => !n.position)) layout(nodes, edges, true);
  return { nodes, edges };
}

function validPos(p: unknown): p is { x: number; y: number } {
  return !!p && typeof (p as { x: unknown }).x === "number" && typeof (p as { y: unknown }).y === "number";
}

/** Places nodes in rows by their depth from the start nodes (all of them, or only those without a position). */
export function layout(nodes: CanvasNode[], edges: CanvasEdge[], onlyMissing = false): CanvasNode[] {
  const depth = new Map<string, number>();
  const ids = new Set(nodes.map((n) => n.id));
  const incoming = new Map<string, string[]>();
  for (const e of edges) if (ids.has(e.source) && ids.has(e.target)) incoming.set(e.target, [...(incoming.get(e.target) ?? []), e.source]);
  const visiting = new Set<string>();
  const d = (id: string): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (visiting.has(id)) return 0; // a cycle: the server refuses it anyway
    visiting.add(id);
    const v = Math.max(-1, ...(incoming.get(id) ?? []).map(d)) + 1;
    visiting.delete(id);
    depth.set(id, v);
    return v;
  };
  const rows = new Map<number, CanvasNode[]>();
  for (const n of nodes) rows.set(d(n.id), [...(rows.get(d(n.id)) ?? []), n]);
  for (const [r, list] of rows)
    list.forEach((n, i) => {
      if (onlyMissing && n.position) return;
      n.position = { x: (i - (list.length - 1) / 2) * 280, y: r * 160 };
    });
  return nodes;
}

/** The record the server stores: the flow's fields and the graph without xyflow's runtime keys. */
export function canvasToRecord(meta: FlowMeta, nodes: CanvasNode[], edges: CanvasEdge[]): FlowRecord {
  const { deployed: _d, timestamp: _t, flowGraph: _g, nodes: _n, ...rest } = meta as FlowMeta & Obj;
  void _d, _t, _g, _n;
  return {
    ...rest,
    id: meta.id,
    name: meta.name,
    description: meta.description,
    tags: meta.tags,
    type: meta.type,
    flowGraph: {
      nodes: nodes.map((n) => {
        const o: Obj = {};
        for (const [k, v] of Object.entries(n)) if (!RUNTIME_NODE_KEYS.has(k)) o[k] = v;
        o.position = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
        return o as CanvasNode;
      }),
      edges: edges.map((e) => {
        const o: Obj = {};
        for (const [k, v] of Object.entries(e)) if (!RUNTIME_EDGE_KEYS.has(k)) o[k] = v;
        if (!o.type) o.type = "default";
        if (!o.data) o.data = { name: "" };
        return o as CanvasEdge;
      }),
    },
  };
}

/** JSON with sorted keys, to compare records whatever order the server wrote them in. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return "[" + v.map(stableStringify).join(",") + "]";
  const o = v as Obj;
  return (
    "{" +
    Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => JSON.stringify(k) + ":" + stableStringify(o[k]))
      .join(",") +
    "}"
  );
}

/** What is deployed: the graph, name and type compared, positions left out (moving a node changes nothing that runs). */
export function runtimeKey(rec: Partial<FlowRecord>): string {
  const g = rec.flowGraph ?? { nodes: [], edges: [] };
  return stableStringify({
    nodes: (g.nodes ?? []).map((n) => ({ id: n.id, data: n.data })),
    edges: (g.edges ?? []).map((e) => ({ s: e.source, t: e.target, sh: e.sourceHandle, th: e.targetHandle, n: e.data?.name ?? "" })),
  });
}

/** The node a server message names: "… node `Big order?` (n2): …". */
export function nodeIdInError(msg: string | undefined, nodeIds: string[]): string | undefined {
  if (!msg) return undefined;
  const m = /node `[^`]*` \(([^)\s]+)\)/.exec(msg);
  if (m && nodeIds.includes(m[1])) return m[1];
  return nodeIds.find((id) => msg.includes(`(${id})`));
}

// --- the debugger's answer ---

export interface DebugCall {
  run?: boolean;
  input?: { edge?: { id: string } | null; params?: { port?: string; value?: unknown } };
  output?: { results?: { port: string; value: unknown }[] };
  profiler?: { startTime?: number; endTime?: number; runTime?: number };
  init?: unknown;
  error?: string | null;
}
export interface DebugNode {
  id: string;
  name?: string;
  plugin?: string;
  sequenceNumber?: number;
  executionNumber?: number;
  errors?: number;
  warnings?: number;
  profiler?: { startTime?: number; endTime?: number; runTime?: number };
  calls?: DebugCall[];
}
export interface DebugResult {
  debugInfo?: {
    flow?: { id?: string; name?: string; error?: string[] };
    nodes?: Record<string, DebugNode>;
    edges?: Record<string, { active?: boolean[] }>;
  };
  errors?: string[];
  logs?: { type?: string; message?: string; node_id?: string; flow_id?: string }[];
  ux?: unknown[];
  response?: unknown;
  merge?: unknown[];
  changes?: Record<string, { path: string; old?: unknown; new?: unknown }[]>;
  profile?: unknown;
  session?: unknown;
  event?: unknown;
}

export interface NodeRun {
  ran: boolean;
  calls: number;
  errors: number;
  runTime: number; // seconds, all calls
  order?: number;
}

/** Per node: whether it ran, how often, with how many errors. */
export function nodeRuns(r: DebugResult | undefined): Record<string, NodeRun> {
  const out: Record<string, NodeRun> = {};
  for (const [id, n] of Object.entries(r?.debugInfo?.nodes ?? {})) {
    const calls = n.calls ?? [];
    const errs = Math.max(n.errors ?? 0, calls.filter((c) => c.error).length);
    out[id] = {
      ran: calls.some((c) => c.run !== false) || (n.executionNumber ?? 0) > 0,
      calls: calls.length,
      errors: errs,
      runTime: calls.reduce((s, c) => s + (c.profiler?.runTime ?? 0), 0) || (n.profiler?.runTime ?? 0),
      order: n.sequenceNumber,
    };
  }
  return out;
}

/** Per edge: true when a payload went over it, false when the run left it idle; absent when unknown. */
export function edgeActivity(r: DebugResult | undefined): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [id, e] of Object.entries(r?.debugInfo?.edges ?? {})) out[id] = (e.active ?? []).some(Boolean);
  return out;
}

export function formatRunTime(sec: number): string {
  if (!isFinite(sec)) return "—";
  if (sec < 0.001) return `${Math.round(sec * 1e6)} µs`;
  if (sec < 1) return `${(sec * 1000).toFixed(1)} ms`;
  return `${sec.toFixed(2)} s`;
}

/** A colour per palette group, so the canvas reads at a glance. */
const GROUP_COLOURS: Record<string, string> = {
  "Input/Output": "#16a34a",
  "Flow control": "#7c3aed",
  Operations: "#0891b2",
  "Error reporting": "#dc2626",
  Time: "#ca8a04",
  "Data processing": "#2563eb",
  Stats: "#0d9488",
  Segmentation: "#db2777",
  Consents: "#65a30d",
  "UIX Widgets": "#ea580c",
  String: "#4f46e5",
  Regex: "#9333ea",
  Connectors: "#475569",
};
const GROUP_ICONS: Record<string, string> = {
  "Input/Output": "▶",
  "Flow control": "◇",
  Operations: "⚙",
  "Error reporting": "!",
  Time: "◷",
  "Data processing": "⇄",
  Stats: "±",
  Segmentation: "◑",
  Consents: "✓",
  "UIX Widgets": "▣",
  String: "S",
  Regex: "*",
  Connectors: "⇆",
};
export function groupOf(p?: Plugin, n?: CanvasNode): string {
  const g = p?.metadata.group ?? (n?.data?.metadata?.group as string[] | undefined);
  return (Array.isArray(g) ? g[0] : typeof g === "string" ? g : undefined) ?? "Other";
}
export function groupColour(group: string): string {
  return GROUP_COLOURS[group] ?? "#64748b";
}
export function groupIcon(group: string): string {
  return GROUP_ICONS[group] ?? "●";
}
