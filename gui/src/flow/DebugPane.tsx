// The debugger: a test event (and profile) run through the graph on the canvas, with the run's
// node calls, errors, logs, profile changes, response and UX in tabs.
import { useState } from "react";
import { Badge, Button, ErrorBox, Tabs } from "../ui/kit";
import { JsonEditor, JsonView } from "../ui/json";
import { formatRunTime, type DebugNode, type DebugResult } from "./graph";
import { NodeCalls } from "./NodePanel";

export function DebugPane(props: {
  event: unknown;
  profile: unknown;
  onEvent: (v: unknown) => void;
  onProfile: (v: unknown) => void;
  onRun: () => void;
  running: boolean;
  result?: DebugResult;
  error?: string;
  selected?: { id: string; name: string; debug?: DebugNode };
  onSelectNode: (id: string) => void;
  onClose: () => void;
}) {
  const [input, setInput] = useState("event");
  const [tab, setTab] = useState("nodes");
  const [valid, setValid] = useState(true);
  const r = props.result;
  const nodes = Object.values(r?.debugInfo?.nodes ?? {}).sort((a, b) => (a.sequenceNumber ?? 0) - (b.sequenceNumber ?? 0));
  const errors = [...(r?.errors ?? [])];
  for (const e of r?.debugInfo?.flow?.error ?? []) if (!errors.includes(e)) errors.push(e);
  const changes = Object.entries(r?.changes ?? {}).flatMap(([doc, list]) => (list ?? []).map((c) => ({ doc, ...c })));
  const tabs = [
    { id: "nodes", label: `Nodes${r ? ` (${nodes.length})` : ""}` },
    { id: "node", label: props.selected ? `Node: ${props.selected.name}` : "Selected node" },
    { id: "errors", label: `Errors${r ? ` (${errors.length})` : ""}` },
    { id: "logs", label: `Logs${r ? ` (${r.logs?.length ?? 0})` : ""}` },
    { id: "changes", label: `Profile changes${r ? ` (${changes.length})` : ""}` },
    { id: "response", label: "Response" },
    { id: "ux", label: "UX" },
    { id: "raw", label: "Raw" },
  ];
  // a node clicked on the canvas shows its calls
  const [lastSel, setLastSel] = useState(props.selected?.id);
  if (props.selected?.id !== lastSel) {
    setLastSel(props.selected?.id);
    if (props.selected && r) setTab("node");
  }
  return (
    <section className="flow-debug" aria-label="Debugger">
      <div className="flow-debug-head">
        <h2>Debugger</h2>
        <span className="muted small flow-debug-note">Runs the graph on the canvas. Nothing is stored; remote calls and sleeps really happen.</span>
        <div className="row">
          <Button kind="primary" small busy={props.running} disabled={!valid} onClick={props.onRun}>
            Run debug
          </Button>
          <button type="button" className="icon-btn" aria-label="Close debugger" onClick={props.onClose}>
            ×
          </button>
        </div>
      </div>
      <div className="flow-debug-body">
        <div className="flow-debug-input">
          <Tabs
            tabs={[
              { id: "event", label: "Test event" },
              { id: "profile", label: "Test profile" },
            ]}
            value={input}
            onChange={setInput}
          />
          {input === "event" ? (
            <JsonEditor key="event" label="Test event JSON" value={props.event} rows={8} onChange={props.onEvent} onValidity={setValid} />
          ) : (
            <JsonEditor key="profile" label="Test profile JSON" value={props.profile} rows={8} onChange={props.onProfile} onValidity={setValid} />
          )}
        </div>
        <div className="flow-debug-out">
          <Tabs tabs={tabs} value={tab} onChange={setTab} />
          <div className="flow-debug-tab">
            {props.error && <ErrorBox error={props.error} />}
            {!r && !props.error && <p className="muted">Edit the test event and press “Run debug”. Nodes that ran get a badge and the connections the payload took light up.</p>}
            {r && tab === "nodes" && (
              <table className="table flow-debug-table">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Node</th>
                    <th>Calls</th>
                    <th>Outputs</th>
                    <th>Time</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {nodes.map((n) => {
                    const calls = n.calls ?? [];
                    const errs = Math.max(n.errors ?? 0, calls.filter((c) => c.error).length);
                    const outs = [...new Set(calls.flatMap((c) => (c.output?.results ?? []).map((x) => x.port)))];
                    return (
                      <tr key={n.id} className="clickable" onClick={() => props.onSelectNode(n.id)}>
                        <td>{(n.sequenceNumber ?? 0) + 1}</td>
                        <td>
                          <button type="button" className="flow-linkbtn" onClick={() => props.onSelectNode(n.id)}>
                            {n.name ?? n.id}
                          </button>{" "}
                          <span className="muted small">{n.plugin}</span>
                        </td>
                        <td>{calls.length}</td>
                        <td>{outs.length ? outs.map((p) => <Badge key={p} tone="info">{p}</Badge>) : <span className="muted">—</span>}</td>
                        <td className="muted">{formatRunTime(calls.reduce((s, c) => s + (c.profiler?.runTime ?? 0), 0))}</td>
                        <td>{errs ? <Badge tone="error">{errs} error{errs > 1 ? "s" : ""}</Badge> : <Badge tone="ok">ok</Badge>}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
            {r && tab === "node" && (props.selected ? <NodeCalls debug={props.selected.debug} /> : <p className="muted">Click a node on the canvas to see its input and output; double-click it for its settings.</p>)}
            {r && tab === "errors" &&
              (errors.length ? (
                <ul className="flow-list">
                  {errors.map((e, i) => (
                    <li key={i} className="flow-list-error">
                      {e}
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">No errors.</p>
              ))}
            {r && tab === "logs" &&
              (r.logs?.length ? (
                <ul className="flow-list">
                  {r.logs.map((l, i) => (
                    <li key={i}>
                      <Badge tone={l.type === "error" ? "error" : l.type === "warning" ? "warn" : "info"}>{l.type ?? "log"}</Badge> {l.message}
                      {l.node_id && (
                        <button type="button" className="flow-linkbtn small" onClick={() => props.onSelectNode(l.node_id!)}>
                          node
                        </button>
                      )}
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">No log messages.</p>
              ))}
            {r && tab === "changes" &&
              (changes.length ? (
                <table className="table flow-debug-table">
                  <thead>
                    <tr>
                      <th>Document</th>
                      <th>Field</th>
                      <th>Before</th>
                      <th>After</th>
                    </tr>
                  </thead>
                  <tbody>
                    {changes.map((c, i) => (
                      <tr key={i}>
                        <td>{c.doc}</td>
                        <td className="mono">{c.path}</td>
                        <td className="mono">{JSON.stringify(c.old) ?? "—"}</td>
                        <td className="mono">{JSON.stringify(c.new) ?? "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p className="muted">The run changed nothing in the profile, session or event.</p>
              ))}
            {r && tab === "response" && <JsonView value={r.response ?? {}} />}
            {r && tab === "ux" && (r.ux?.length ? <JsonView value={r.ux} /> : <p className="muted">No UX widgets.</p>)}
            {r && tab === "raw" && <JsonView value={r} open={1} />}
          </div>
        </div>
      </div>
    </section>
  );
}
