// The right-hand panel of a node: its name, the generated config form, raw JSON, runtime flags,
// plugin documentation and, after a debug run, what the node did.
import { useState } from "react";
import { Badge, Button, Tabs, TextField, Toggle } from "../ui/kit";
import { JsonEditor, JsonView } from "../ui/json";
import { ConfigForm } from "./ConfigForm";
import { formatRunTime, groupColour, groupOf, nodeName, ports, type CanvasEdge, type CanvasNode, type DebugNode, type NodeData, type Plugin } from "./graph";

export function NodePanel(props: {
  node: CanvasNode;
  plugin?: Plugin;
  debug?: DebugNode;
  hasDebug: boolean;
  error?: string;
  onChange: (d: NodeData) => void;
  onDelete: () => void;
  onClose: () => void;
}) {
  const { node, plugin } = props;
  const [tab, setTab] = useState(props.hasDebug ? "debug" : "config");
  const data = node.data;
  const spec = data.spec ?? {};
  const setSpec = (patch: Partial<NodeData["spec"]>) => props.onChange({ ...data, spec: { ...spec, ...patch } });
  const group = groupOf(plugin, node);
  const { inputs, outputs } = ports(node, plugin);
  const tabs = [
    { id: "config", label: "Config" },
    { id: "json", label: "Advanced (JSON)" },
    { id: "info", label: "Plugin" },
    ...(props.hasDebug ? [{ id: "debug", label: "Debug" }] : []),
  ];
  return (
    <aside className="flow-panel" aria-label="Node settings">
      <div className="flow-side-head">
        <div className="flow-panel-title">
          <span className="flow-dot" style={{ background: groupColour(group) }} aria-hidden />
          <h2>{nodeName(node, plugin)}</h2>
        </div>
        <button type="button" className="icon-btn" aria-label="Close node settings" onClick={props.onClose}>
          ×
        </button>
      </div>
      <div className="flow-panel-body">
        {props.error && (
          <div className="state state-error flow-panel-error" role="alert">
            {props.error}
          </div>
        )}
        <TextField
          label="Node name"
          value={data.metadata?.name ?? ""}
          placeholder={plugin?.metadata.name}
          onChange={(v) => props.onChange({ ...data, metadata: { ...(data.metadata ?? {}), name: v } })}
        />
        <Tabs tabs={tabs} value={tabs.some((t) => t.id === tab) ? tab : "config"} onChange={setTab} />
        {tab === "config" &&
          (plugin ? (
            <ConfigForm schema={plugin.spec.schema} value={spec.init ?? {}} onChange={(v) => setSpec({ init: v })} />
          ) : (
            <p className="muted">This node's plugin ({spec.className ?? "none"}) is not in the palette: edit its configuration as JSON.</p>
          ))}
        {tab === "json" && (
          <>
            <JsonEditor label="Configuration (init)" value={spec.init ?? {}} rows={12} onChange={(v) => setSpec({ init: v })} />
            <h3>Runtime</h3>
            <Toggle label="Skip" hint="the input goes out on every port, unprocessed" checked={!!spec.skip} onChange={(v) => setSpec({ skip: v })} />
            <Toggle label="Block flow" hint="the node and what only it feeds do not run" checked={!!spec.block_flow} onChange={(v) => setSpec({ block_flow: v })} />
            <Toggle
              label="Append input payload"
              hint="the output is merged over the input"
              checked={!!spec.append_input_payload}
              onChange={(v) => setSpec({ append_input_payload: v })}
            />
            <Toggle label="Debug only" hint="runs only in the debugger" checked={!!data.debug} onChange={(v) => props.onChange({ ...data, debug: v })} />
          </>
        )}
        {tab === "info" && (
          <div className="flow-info">
            <p>{plugin?.metadata.desc ?? "Unknown plugin."}</p>
            <dl>
              <dt>Plugin</dt>
              <dd>
                {plugin?.metadata.name ?? "—"} <span className="muted">({plugin?.id ?? spec.className})</span>
              </dd>
              <dt>Group</dt>
              <dd>{group}</dd>
              <dt>Inputs</dt>
              <dd>{inputs.length ? inputs.map((p) => <Badge key={p}>{p}</Badge>) : <span className="muted">none: a start node</span>}</dd>
              <dt>Outputs</dt>
              <dd>{outputs.length ? outputs.map((p) => <Badge key={p} tone="info">{p}</Badge>) : <span className="muted">none: the branch ends here</span>}</dd>
              <dt>Class</dt>
              <dd className="mono">{[spec.module, spec.className].filter(Boolean).join(".")}</dd>
              <dt>Node id</dt>
              <dd className="mono">{node.id}</dd>
              {plugin?.spec.version && (
                <>
                  <dt>Version</dt>
                  <dd>
                    {plugin.spec.version}
                    {plugin.spec.license ? ` · ${plugin.spec.license}` : ""}
                  </dd>
                </>
              )}
            </dl>
          </div>
        )}
        {tab === "debug" && <NodeCalls debug={props.debug} />}
      </div>
      <div className="flow-panel-foot">
        <Button kind="danger" small onClick={props.onDelete}>
          Delete node
        </Button>
      </div>
    </aside>
  );
}

/** What the last debug run did in a node: one block per call. */
export function NodeCalls({ debug }: { debug?: DebugNode }) {
  if (!debug) return <p className="muted">This node did not run in the last debug run.</p>;
  const calls = debug.calls ?? [];
  return (
    <div className="flow-calls">
      <p className="muted small">
        Ran {calls.length}× · order {debug.sequenceNumber ?? "—"} · {formatRunTime(calls.reduce((s, c) => s + (c.profiler?.runTime ?? 0), 0))}
      </p>
      {calls.map((c, i) => (
        <div key={i} className={`flow-call${c.error ? " flow-call-error" : ""}`}>
          <div className="flow-call-head">
            <strong>Call {i + 1}</strong>
            {c.error ? <Badge tone="error">error</Badge> : <Badge tone="ok">ok</Badge>}
            <span className="muted small">{formatRunTime(c.profiler?.runTime ?? 0)}</span>
          </div>
          {c.error && <div className="state state-error">{c.error}</div>}
          <div className="flow-call-io">
          <div>
          <h3>
            Input <span className="muted small">port {c.input?.params?.port ?? "—"}{c.input?.edge?.id ? ` · edge ${c.input.edge.id.slice(0, 8)}` : ""}</span>
          </h3>
          <JsonView value={c.input?.params?.value ?? null} open={1} />
          </div>
          <div>
          <h3>Output</h3>
          {(c.output?.results ?? []).length === 0 ? (
            <p className="muted small">Nothing went out.</p>
          ) : (
            (c.output?.results ?? []).map((r, j) => (
              <div key={j}>
                <div className="small">
                  port <Badge tone="info">{r.port}</Badge>
                </div>
                <JsonView value={r.value} open={1} />
              </div>
            ))
          )}
          </div>
          </div>
        </div>
      ))}
    </div>
  );
}

/** The panel of a selected connection: its name (a Join node keys its inputs by it) and delete. */
export function EdgePanel(props: { edge: CanvasEdge; from: string; to: string; onChange: (e: CanvasEdge) => void; onDelete: () => void; onClose: () => void }) {
  return (
    <aside className="flow-panel" aria-label="Connection settings">
      <div className="flow-side-head">
        <h2>Connection</h2>
        <button type="button" className="icon-btn" aria-label="Close connection settings" onClick={props.onClose}>
          ×
        </button>
      </div>
      <div className="flow-panel-body">
        <p className="small">
          <strong>{props.from}</strong> <Badge tone="info">{props.edge.sourceHandle ?? "payload"}</Badge> → <strong>{props.to}</strong>{" "}
          <Badge>{props.edge.targetHandle ?? "payload"}</Badge>
        </p>
        <TextField
          label="Connection name"
          hint="A Join node stores the payload of this connection under this name."
          value={props.edge.data?.name ?? ""}
          onChange={(v) => props.onChange({ ...props.edge, data: { ...(props.edge.data ?? {}), name: v } })}
        />
      </div>
      <div className="flow-panel-foot">
        <Button kind="danger" small onClick={props.onDelete}>
          Delete connection
        </Button>
      </div>
    </aside>
  );
}
