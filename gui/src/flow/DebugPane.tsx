// The debugger: a test event (and profile), or a stored event with its own profile and session,
// run through the graph on the canvas, with the run's node calls, errors, logs, profile changes,
// response and UX in tabs.
import { useState } from "react";
import { api } from "../api";
import { useApi } from "../ui/hooks";
import { Async, Badge, Button, Empty, ErrorBox, Tabs, TextField, timeAgo } from "../ui/kit";
import { JsonEditor, JsonView } from "../ui/json";
import "./debug.css";
import { formatRunTime, type DebugNode, type DebugResult } from "./graph";
import { NodeCalls } from "./NodePanel";

export type DebugInput = "event" | "profile" | "stored";

export function DebugPane(props: {
  input: DebugInput;
  onInput: (v: DebugInput) => void;
  storedId: string;
  onStoredId: (v: string) => void;
  /** the event types the Start node accepts (empty: any) — the stored events offered first */
  startTypes: string[];
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
  const input = props.input;
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
    ...(r?.event ? [{ id: "event", label: "Event" }] : []),
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
          <Button kind="primary" small busy={props.running} disabled={input === "stored" ? !props.storedId.trim() : !valid} onClick={props.onRun}>
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
              { id: "stored", label: "Stored event" },
            ]}
            value={input}
            onChange={(v) => props.onInput(v as DebugInput)}
          />
          {input === "stored" ? (
            <StoredEvent id={props.storedId} onId={props.onStoredId} types={props.startTypes} />
          ) : input === "event" ? (
            <JsonEditor key="event" label="Test event JSON" value={props.event} rows={8} onChange={props.onEvent} onValidity={setValid} />
          ) : (
            <JsonEditor key="profile" label="Test profile JSON" value={props.profile} rows={8} onChange={props.onProfile} onValidity={setValid} />
          )}
        </div>
        <div className="flow-debug-out">
          <Tabs tabs={tabs} value={tab} onChange={setTab} />
          <div className="flow-debug-tab">
            {props.error && <ErrorBox error={props.error} />}
            {!r && !props.error && <p className="muted">{input === "stored" ? "Pick a stored event" : "Edit the test event"} and press “Run debug”. Nodes that ran get a badge and the connections the payload took light up.</p>}
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
            {r && tab === "event" && <JsonView value={r.event} open={2} />}
            {r && tab === "raw" && <JsonView value={r} open={1} />}
          </div>
        </div>
      </div>
    </section>
  );
}

interface Found {
  total: number;
  result: { id: string; type?: string; metadata?: { time?: { insert?: string } } }[];
}

/** A stored event by id, or one of the latest events of the types the flow starts on. */
function StoredEvent({ id, onId, types }: { id: string; onId: (v: string) => void; types: string[] }) {
  const key = types.join("\n");
  const latest = useApi(
    (signal) =>
      api.post<Found>(
        "/event/select",
        { where: types.length ? types.map((t) => `type == ${JSON.stringify(t)}`).join(" OR ") : undefined, limit: 8 },
        { signal },
      ),
    [key],
  );
  return (
    <div className="flow-stored">
      <TextField label="Event ID" mono value={id} onChange={(v) => onId(v.trim())} placeholder="an event id from the explorer" />
      <div className="flow-stored-latest">
        <span className="muted small">
          Latest events{types.length ? ` of type ${types.join(", ")}` : ""}: the run uses the event's own profile and session.
        </span>
        <Async value={latest} empty={(d) => !d.result.length} emptyView={<Empty title="No stored events of these types yet" />}>
          {(d) => (
            <ul className="flow-stored-list" aria-label="Latest events">
              {d.result.map((e) => (
                <li key={e.id}>
                  <button
                    type="button"
                    className={`flow-stored-item${e.id === id ? " active" : ""}`}
                    aria-pressed={e.id === id}
                    onClick={() => onId(e.id)}
                  >
                    <Badge tone="info">{e.type ?? "?"}</Badge>
                    <span className="muted small">{e.metadata?.time?.insert ? timeAgo(e.metadata.time.insert) : ""}</span>
                    <span className="mono small flow-stored-id">{e.id}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </Async>
      </div>
    </div>
  );
}
