import { describe, expect, it } from "vitest";
import {
  canvasToRecord, edgeActivity, findPlugin, nodeFromPlugin, nodeIdInError, nodeRuns, recordToCanvas, runtimeKey, type Plugin,
} from "./graph";
import { fieldsFromSchema, kindOf, oneOrMany, parseJsonText, parseNumberOrText, setAt, missingRequired } from "./schemaForm";

const ifPlugin: Plugin = {
  id: "if",
  start: false,
  spec: {
    module: "tracardi.process_engine.action.v1.if_action", className: "IfAction", inputs: ["payload"], outputs: ["true", "false"],
    init: { condition: "", pass_payload: true },
    schema: { type: "object", properties: { condition: { type: "string", format: "tql", title: "If condition statement" }, pass_payload: { type: "boolean" } }, required: ["condition"] },
  },
  metadata: { name: "If", group: ["Flow control"], type: "condNode" },
};

describe("schema form", () => {
  it("maps JSON Schema types to field kinds", () => {
    expect(kindOf({ type: "string" }).kind).toBe("text");
    expect(kindOf({ type: "string", format: "tql" }).kind).toBe("textarea");
    expect(kindOf({ type: "string", enum: ["a", "b"] })).toEqual({ kind: "select", options: ["a", "b"] });
    expect(kindOf({ type: "boolean" }).kind).toBe("boolean");
    expect(kindOf({ type: "integer" }).kind).toBe("number");
    expect(kindOf({ type: ["integer", "string"] })).toEqual({ kind: "numberOrText", numberFirst: true });
    expect(kindOf({ type: ["string", "number"] })).toEqual({ kind: "numberOrText", numberFirst: false });
    expect(kindOf({ type: ["object", "string"] }).kind).toBe("jsonText");
    expect(kindOf({ type: "array", items: { type: "string" } }).kind).toBe("tags");
    expect(kindOf({ type: "array", items: { anyOf: [{ type: "string" }, { type: "object" }] } }).kind).toBe("tagsLoose");
    expect(kindOf({ anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] }).kind).toBe("oneOrMany");
    expect(kindOf({ type: "object", additionalProperties: { type: ["string", "number"] } }).kind).toBe("map");
    expect(kindOf({ type: "object", propertyNames: { pattern: "x" } }).kind).toBe("map");
    expect(kindOf({ type: "object" }).kind).toBe("json");
  });
  it("builds labelled fields with required markers and nested groups", () => {
    const f = fieldsFromSchema({
      type: "object",
      properties: { traits: { type: "object", title: "Copy", properties: { set: { type: "object", propertyNames: {} } }, required: ["set"] }, ttl_x: { type: "integer" } },
      required: ["traits"],
    });
    expect(f[0]).toMatchObject({ key: "traits", label: "Copy", required: true, kind: "group" });
    expect(f[0].children![0]).toMatchObject({ path: ["traits", "set"], kind: "map", required: true });
    expect(f[1]).toMatchObject({ label: "Ttl x", required: false });
    expect(missingRequired(f, { traits: { set: {} } })).toEqual([]);
    expect(missingRequired(fieldsFromSchema(ifPlugin.spec.schema), { condition: "" })).toEqual(["condition"]);
  });
  it("sets nested values without touching the original", () => {
    const a = { traits: { set: { x: "1" } }, k: 1 };
    const b = setAt(a, ["traits", "set"], { y: "2" });
    expect(b).toEqual({ traits: { set: { y: "2" } }, k: 1 });
    expect(a.traits.set).toEqual({ x: "1" });
  });
  it("parses mixed values", () => {
    expect(parseNumberOrText("12", true)).toBe(12);
    expect(parseNumberOrText("12", false)).toBe("12");
    expect(parseNumberOrText("profile@x", true)).toBe("profile@x");
    expect(parseJsonText('{"a": 1}')).toEqual({ a: 1 });
    expect(parseJsonText("{ not json")).toBe("{ not json");
    expect(oneOrMany(["a"])).toBe("a");
    expect(oneOrMany(["a", "b"])).toEqual(["a", "b"]);
    expect(oneOrMany([])).toBe("");
  });
});

describe("flow record", () => {
  it("round-trips nodes and edges and drops xyflow's runtime keys", () => {
    const n = nodeFromPlugin(ifPlugin, { x: 20, y: 40 });
    expect(n.type).toBe("condNode");
    expect(n.data.spec.className).toBe("IfAction");
    expect(n.data.spec.schema).toBeUndefined();
    expect(n.data.spec.init).toEqual({ condition: "", pass_payload: true });
    expect(n.data.spec.init).not.toBe(ifPlugin.spec.init);
    const rec = canvasToRecord(
      { id: "f", name: "F", description: "", tags: [], type: "collection" },
      [{ ...n, selected: true, measured: { width: 1, height: 2 }, position: { x: 20.4, y: 40 } }],
      [{ id: "e", source: n.id, target: "x", sourceHandle: "true", targetHandle: "payload", selected: true, animated: true }],
    );
    const node = rec.flowGraph.nodes[0];
    expect(node.selected).toBeUndefined();
    expect(node.measured).toBeUndefined();
    expect(node.position).toEqual({ x: 20, y: 40 });
    expect(rec.flowGraph.edges[0]).toEqual({ id: "e", source: n.id, target: "x", sourceHandle: "true", targetHandle: "payload", type: "default", data: { name: "" } });
    const back = recordToCanvas(rec);
    expect(back.nodes[0].data).toEqual(n.data);
  });
  it("lays out nodes that come without positions", () => {
    const { nodes } = recordToCanvas({
      flowGraph: {
        nodes: [{ id: "a", data: { spec: { className: "start" } } }, { id: "b", data: { spec: { className: "end" } } }] as never,
        edges: [{ id: "e", source: "a", target: "b", sourceHandle: "payload", targetHandle: "payload" }],
      },
    });
    expect(nodes[0].position.y).toBeLessThan(nodes[1].position.y);
    expect(nodes[0].type).toBe("flowNode");
  });
  it("finds plugins by id, class or module", () => {
    expect(findPlugin([ifPlugin], { className: "if" })).toBe(ifPlugin);
    expect(findPlugin([ifPlugin], { className: "IfAction" })).toBe(ifPlugin);
    expect(findPlugin([ifPlugin], { className: "Nope" })).toBeUndefined();
  });
  it("compares what runs, not where nodes stand", () => {
    const a = { flowGraph: { nodes: [{ id: "a", position: { x: 0, y: 0 }, data: { spec: { className: "start" } } }], edges: [] } };
    const b = { flowGraph: { nodes: [{ id: "a", position: { x: 9, y: 9 }, data: { spec: { className: "start" } } }], edges: [] } };
    expect(runtimeKey(a)).toBe(runtimeKey(b));
  });
  it("finds the node a server error names", () => {
    expect(nodeIdInError("flowGraph: node `Big?` (n2): condition: is required", ["n1", "n2"])).toBe("n2");
    expect(nodeIdInError("flowGraph: the flow has no start node", ["n1"])).toBeUndefined();
  });
});

describe("debug info", () => {
  it("maps runs and active edges", () => {
    const r = {
      debugInfo: {
        nodes: {
          n1: { id: "n1", errors: 0, calls: [{ run: true, profiler: { runTime: 0.002 } }] },
          n2: { id: "n2", errors: 1, calls: [{ run: true, error: "boom" }] },
        },
        edges: { e1: { active: [true] }, e2: { active: [] } },
      },
    };
    const runs = nodeRuns(r);
    expect(runs.n1).toMatchObject({ ran: true, calls: 1, errors: 0, runTime: 0.002 });
    expect(runs.n2.errors).toBe(1);
    expect(edgeActivity(r)).toEqual({ e1: true, e2: false });
  });
});
