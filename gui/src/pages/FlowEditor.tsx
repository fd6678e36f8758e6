// The workflow editor: palette, canvas, node panel, debugger; the draft saves itself.
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";
import {
  addEdge, Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, useEdgesState, useNodesState, useReactFlow,
  type Connection, type Edge, type Node,
} from "@xyflow/react";
import { api, ApiError, getContext, type Context } from "../api";
import { useApi, useDataContext, useMedia } from "../ui/hooks";
import { Badge, Button, ErrorBox, Loading, Modal, SelectField, TagsField, TextField } from "../ui/kit";
import { toast } from "../ui/toast";
import { DebugPane, type DebugInput } from "../flow/DebugPane";
import { CanvasContext, FlowNode } from "../flow/FlowNode";
import { EdgePanel, NodePanel } from "../flow/NodePanel";
import { DRAG_TYPE, Palette } from "../flow/Palette";
import {
  canvasToRecord, edgeActivity, edgeId, findPlugin, layout, nodeFromPlugin, nodeIdInError, nodeName, nodeRuns, ports, recordToCanvas,
  runtimeKey, type CanvasEdge, type CanvasNode, type DebugResult, type FlowMeta, type FlowRecord, type NodeData, type Plugin, NODE_TYPES,
} from "../flow/graph";
import "../flow/flow.css";

const nodeTypes = Object.fromEntries(NODE_TYPES.map((t) => [t, FlowNode]));
const SAVE_DELAY = 1500;

interface Loaded {
  plugins: Plugin[];
  rec: FlowRecord;
  prod: FlowRecord | null;
}

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export default function FlowEditor() {
  const { id = "" } = useParams();
  const ctx = useDataContext();
  const nav = useNavigate();
  const value = useApi<Loaded>(
    async (signal) => {
      const path = encodeURIComponent(id);
      const [plugins, draft, prod] = await Promise.all([
        api.get<{ result: Plugin[] }>("/flow/action/plugins", { signal }),
        orNull(api.get<FlowRecord>(`/flow/draft/${path}`, { signal })),
        orNull(api.get<FlowRecord>(`/flow/production/${path}`, { signal })),
      ]);
      const rec = draft ?? prod;
      if (!rec) throw new ApiError(404, `There is no workflow “${id}” in ${getContext()}.`);
      return { plugins: plugins.result ?? [], rec, prod };
    },
    [id],
  );
  if (value.error)
    return (
      <section className="page">
        <div className="stack">
          <ErrorBox error={value.error} retry={value.reload} />
          <Button onClick={() => nav("/flows")}>‹ Back to workflows</Button>
        </div>
      </section>
    );
  if (!value.data) return <Loading label="Opening the workflow…" />;
  return (
    <ReactFlowProvider>
      <Editor key={`${ctx}:${id}:${value.data.rec.timestamp ?? ""}`} {...value.data} context={ctx} />
    </ReactFlowProvider>
  );
}

type SaveState = { saving: boolean; error?: string; errorNode?: string; failed?: string; what?: "save" | "problem" | "deploy" | "debug" };

function Editor({ plugins, rec, prod, context }: Loaded & { context: Context }) {
  const nav = useNavigate();
  const phone = useMedia("(max-width: 800px)");
  const rf = useReactFlow();
  // `?debug=<event id>`: a link (the explorer's "Debug in …") opens the debugger on that stored event
  const [search, setSearch] = useSearchParams();
  const replayId = search.get("debug") ?? "";
  const initial = useMemo(() => recordToCanvas(rec), [rec]);
  const [meta, setMeta] = useState<FlowMeta>(() => {
    const { flowGraph: _g, deployed: _d, timestamp: _t, ...m } = rec;
    void _g, _d, _t;
    return { ...m, name: rec.name ?? "", description: rec.description ?? "", tags: rec.tags ?? [], type: rec.type ?? "collection" };
  });
  const [nodes, setNodes, onNodesChange] = useNodesState<Node>(initial.nodes as unknown as Node[]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>(initial.edges as unknown as Edge[]);
  const cNodes = nodes as unknown as CanvasNode[];
  const cEdges = edges as unknown as CanvasEdge[];
  const json = useMemo(() => JSON.stringify(canvasToRecord(meta, cNodes, cEdges)), [meta, cNodes, cEdges]);
  const [savedJson, setSavedJson] = useState(json);
  const [prodKey, setProdKey] = useState<string | null>(prod ? runtimeKey(prod) : null);
  const [st, setSt] = useState<SaveState>({ saving: false });
  const [selNode, setSelNode] = useState<string>();
  const [panelOpen, setPanelOpen] = useState(true); // while debugging, a click shows the node's run; a double click its settings
  const [selEdge, setSelEdge] = useState<string>();
  const [paletteOpen, setPaletteOpen] = useState(!phone);
  const [detailsOpen, setDetailsOpen] = useState(false);
  const [deploying, setDeploying] = useState(false);
  // debugger
  const [debugOpen, setDebugOpen] = useState(!!replayId);
  const [debugInput, setDebugInput] = useState<DebugInput>(replayId ? "stored" : "event");
  const [storedId, setStoredId] = useState(replayId);
  const [debugEvent, setDebugEvent] = useState<unknown>(() => stored(`cdpd.flow.debug.event.${rec.id}`, { type: "page-view", properties: {} }));
  const [debugProfile, setDebugProfile] = useState<unknown>(() => stored(`cdpd.flow.debug.profile.${rec.id}`, {}));
  const [debugResult, setDebugResult] = useState<DebugResult>();
  const [debugError, setDebugError] = useState<string>();
  const [running, setRunning] = useState(false);

  const dirty = json !== savedJson;
  const latest = useRef({ json, savedJson, failed: st.failed });
  latest.current = { json, savedJson, failed: st.failed };
  const savingRef = useRef(false);

  const save = useCallback(
    async (body: string): Promise<boolean> => {
      if (savingRef.current) return false;
      savingRef.current = true;
      setSt((s) => ({ ...s, saving: true }));
      try {
        // a draft is kept even when it cannot run yet; the server says why in `problem`
        const r = await api.post<{ problem?: string }>("/flow/draft", body, { context });
        latest.current.savedJson = body; // before the re-render: leaving right now must see it saved
        setSavedJson(body);
        if (r?.problem) {
          const ids = (JSON.parse(body) as FlowRecord).flowGraph.nodes.map((n) => n.id);
          setSt({ saving: false, error: r.problem, errorNode: nodeIdInError(r.problem, ids), what: "problem" });
        } else setSt({ saving: false });
        return true;
      } catch (e) {
        const msg = (e as Error).message;
        const ids = (JSON.parse(body) as FlowRecord).flowGraph.nodes.map((n) => n.id);
        setSt({ saving: false, error: msg, errorNode: nodeIdInError(msg, ids), failed: body, what: "save" });
        return false;
      } finally {
        savingRef.current = false;
      }
    },
    [context],
  );

  // autosave: a quiet moment after the last change (not again for a body the server refused)
  useEffect(() => {
    if (!dirty || st.saving || json === st.failed) return;
    const t = setTimeout(() => void save(json), SAVE_DELAY);
    return () => clearTimeout(t);
  }, [json, dirty, st.saving, st.failed, save]);

  // leaving: the browser asks when something is unsaved; leaving the page saves what is pending
  useEffect(() => {
    const h = (e: BeforeUnloadEvent) => {
      if (latest.current.json !== latest.current.savedJson) e.preventDefault();
    };
    window.addEventListener("beforeunload", h);
    return () => {
      window.removeEventListener("beforeunload", h);
      const l = latest.current;
      if (l.json !== l.savedJson && l.json !== l.failed) void api.post("/flow/draft", l.json, { context }).catch(() => undefined);
    };
  }, [context]);

  useEffect(() => {
    sessionStorage.setItem(`cdpd.flow.debug.event.${rec.id}`, JSON.stringify(debugEvent));
    sessionStorage.setItem(`cdpd.flow.debug.profile.${rec.id}`, JSON.stringify(debugProfile));
  }, [debugEvent, debugProfile, rec.id]);

  const back = async () => {
    for (let i = 0; savingRef.current && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    let ok = latest.current.json === latest.current.savedJson;
    if (!ok && json !== st.failed) ok = await save(json);
    if (!ok && !window.confirm("The workflow has changes the server did not accept. Leave without saving them?")) return;
    nav("/flows");
  };

  const deploy = async () => {
    setDeploying(true);
    try {
      await api.post("/flow/production", json, { context });
      setSavedJson(json);
      setProdKey(runtimeKey(JSON.parse(json) as FlowRecord));
      setSt({ saving: false });
      toast("Deployed: rules run this version from the next event");
    } catch (e) {
      const msg = (e as Error).message;
      setSt({ saving: false, error: msg, errorNode: nodeIdInError(msg, cNodes.map((n) => n.id)), failed: st.failed, what: "deploy" });
    } finally {
      setDeploying(false);
    }
  };

  /** `replay`: a stored event id to run on now (a link), whatever the inputs hold. */
  const runDebug = async (replay?: string) => {
    const stored = replay !== undefined || debugInput === "stored";
    const eventId = (replay ?? storedId).trim();
    setRunning(true);
    setDebugError(undefined);
    try {
      const flow = JSON.parse(json) as FlowRecord;
      let r: DebugResult;
      if (stored) {
        // Tracardi's form: the flow as the body, the stored event (with its profile and session) by id
        r = await api.post<DebugResult>("/flow/debug", flow, { context, query: { event_id: eventId } });
      } else {
        const profile = debugProfile && typeof debugProfile === "object" && Object.keys(debugProfile).length ? debugProfile : undefined;
        r = await api.post<DebugResult>("/flow/debug", { flow, event: debugEvent, profile }, { context });
      }
      setDebugResult(r);
      if (st.what === "debug") setSt((s) => ({ ...s, error: undefined, errorNode: undefined, what: undefined }));
    } catch (e) {
      let msg = (e as Error).message;
      if (stored && e instanceof ApiError && e.status === 404) msg = `No stored event “${eventId}” in ${context}: ${msg}.`;
      setDebugResult(undefined);
      setDebugError(msg);
      const nid = nodeIdInError(msg, cNodes.map((n) => n.id));
      if (nid) setSt((s) => ({ ...s, errorNode: nid, error: msg, what: "debug" }));
    } finally {
      setRunning(false);
    }
  };

  // a replay link (also one followed while the editor is open) runs once, then leaves the
  // address plain so a reload does not run it again
  const replayed = useRef("");
  useEffect(() => {
    if (!replayId) {
      replayed.current = ""; // the same link followed again runs again
      return;
    }
    if (replayed.current === replayId) return;
    replayed.current = replayId;
    setDebugOpen(true);
    setPanelOpen(false);
    setDebugInput("stored");
    setStoredId(replayId);
    void runDebug(replayId);
    setSearch((p) => {
      const n = new URLSearchParams(p);
      n.delete("debug");
      return n;
    }, { replace: true });
  }, [replayId]);

  // the event types the Start node(s) accept: the stored events offered first
  const startTypes = useMemo(() => {
    const out = new Set<string>();
    for (const n of cNodes) {
      if (!findPlugin(plugins, n.data.spec)?.start) continue;
      const ts = (n.data.spec?.init as { event_types?: unknown } | undefined)?.event_types;
      if (Array.isArray(ts))
        for (const t of ts) {
          const v = typeof t === "string" ? t : t && typeof t === "object" ? (t as { id?: unknown }).id : undefined;
          if (typeof v === "string" && v) out.add(v);
        }
    }
    return [...out].sort();
  }, [cNodes, plugins]);

  // --- adding, connecting, selecting ---
  const select = useCallback(
    (nid?: string) => {
      setSelNode(nid);
      setSelEdge(undefined);
      setNodes((ns) => ns.map((n) => (!!n.selected === (n.id === nid) ? n : { ...n, selected: n.id === nid })));
    },
    [setNodes],
  );

  const addNode = (p: Plugin, at?: { x: number; y: number }) => {
    const sel = selNode ? cNodes.find((n) => n.id === selNode) : undefined;
    const selOut = sel ? ports(sel, findPlugin(plugins, sel.data.spec)).outputs : [];
    let pos = at;
    let link: CanvasEdge | undefined;
    const node = nodeFromPlugin(p, { x: 0, y: 0 });
    if (!pos && sel && selOut.length && (p.spec.inputs ?? []).length) {
      // below the selected node, connected from its first output
      const below = cNodes.filter((n) => edges.some((e) => e.source === sel.id && e.target === n.id)).length;
      pos = { x: sel.position.x + below * 240, y: sel.position.y + 140 };
      link = { id: edgeId(), source: sel.id, sourceHandle: selOut[0], target: node.id, targetHandle: (p.spec.inputs ?? ["payload"])[0], type: "default", data: { name: "" } };
    }
    if (!pos) {
      const el = document.querySelector(".flow-canvas")?.getBoundingClientRect();
      const c = el ? rf.screenToFlowPosition({ x: el.left + el.width / 2, y: el.top + el.height / 3 }) : { x: 0, y: 0 };
      pos = { x: c.x - 100, y: c.y };
      while (cNodes.some((n) => Math.abs(n.position.x - pos!.x) < 40 && Math.abs(n.position.y - pos!.y) < 40)) pos = { x: pos.x + 40, y: pos.y + 40 };
    }
    node.position = { x: Math.round(pos.x / 20) * 20, y: Math.round(pos.y / 20) * 20 };
    setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), { ...(node as unknown as Node), selected: true }]);
    if (link) setEdges((es) => [...es, link as unknown as Edge]);
    setSelNode(node.id);
    setSelEdge(undefined);
    setPanelOpen(true);
    if (phone) setPaletteOpen(false);
  };

  const onDrop = (e: DragEvent) => {
    const pid = e.dataTransfer.getData(DRAG_TYPE);
    const p = plugins.find((x) => x.id === pid);
    if (!p) return;
    e.preventDefault();
    const at = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    addNode(p, { x: at.x - 100, y: at.y - 24 });
  };

  const onConnect = useCallback(
    (c: Connection) => setEdges((es) => addEdge({ ...c, id: edgeId(), type: "default", data: { name: "" } }, es)),
    [setEdges],
  );

  const deleteNode = (nid: string) => {
    setNodes((ns) => ns.filter((n) => n.id !== nid));
    setEdges((es) => es.filter((e) => e.source !== nid && e.target !== nid));
    setSelNode(undefined);
  };
  const deleteEdge = (eid: string) => {
    setEdges((es) => es.filter((e) => e.id !== eid));
    setSelEdge(undefined);
  };
  const updateNodeData = (nid: string, d: NodeData) => setNodes((ns) => ns.map((n) => (n.id === nid ? { ...n, data: d } : n)));

  const arrange = () => {
    const laid = layout(cNodes.map((n) => ({ ...n, position: { ...n.position } })), cEdges);
    setNodes(laid as unknown as Node[]);
    setTimeout(() => rf.fitView({ padding: 0.2, duration: 300 }), 50);
  };

  // --- what the canvas shows ---
  const runs = useMemo(() => (debugResult ? nodeRuns(debugResult) : undefined), [debugResult]);
  const activity = useMemo(() => edgeActivity(debugResult), [debugResult]);
  const canvasInfo = useMemo(() => ({ plugins, runs, errorNode: st.errorNode }), [plugins, runs, st.errorNode]);
  const names = useMemo(() => new Map(cNodes.map((n) => [n.id, nodeName(n, findPlugin(plugins, n.data.spec))])), [cNodes, plugins]);
  const shownNodes = useMemo(() => nodes.map((n) => ({ ...n, ariaLabel: names.get(n.id) })), [nodes, names]);
  const shownEdges = useMemo(
    () =>
      edges.map((e) => {
        const a = activity[e.id];
        return {
          ...e,
          ariaLabel: `Connection from ${names.get(e.source) ?? e.source} (${e.sourceHandle ?? "payload"}) to ${names.get(e.target) ?? e.target}`,
          className: a === true ? "flow-edge-active" : a === false ? "flow-edge-idle" : undefined,
          animated: a === true,
          label: (e.data as { name?: string } | undefined)?.name || undefined,
        };
      }),
    [edges, activity, names],
  );

  const node = selNode ? cNodes.find((n) => n.id === selNode) : undefined;
  const edge = selEdge ? cEdges.find((e) => e.id === selEdge) : undefined;
  const deployedNow = prodKey !== null && prodKey === runtimeKey(JSON.parse(json) as FlowRecord);
  const saveLabel = st.saving ? "Saving…" : dirty ? "Not saved" : "Saved";

  return (
    <div className={`flow-editor${phone ? " flow-phone" : ""}`}>
      <header className="flow-top">
        <Button small kind="ghost" onClick={back} className="flow-back">
          ‹ Workflows
        </Button>
        <div className="flow-title">
          <input
            className="flow-name-input"
            aria-label="Workflow name"
            value={meta.name}
            placeholder="Name this workflow"
            onChange={(e) => setMeta({ ...meta, name: e.target.value })}
          />
          <input
            className="flow-desc-input"
            aria-label="Workflow description"
            value={meta.description}
            placeholder="Add a description"
            onChange={(e) => setMeta({ ...meta, description: e.target.value })}
          />
        </div>
        <div className="flow-markers" aria-live="polite">
          <span className={`flow-save flow-save-${st.saving ? "busy" : dirty ? "dirty" : "ok"}`} title={st.what === "save" ? st.error : undefined}>
            {saveLabel}
          </span>
          {deployedNow ? (
            <Badge tone="ok">Deployed</Badge>
          ) : prodKey === null ? (
            <Badge>Draft</Badge>
          ) : (
            <Badge tone="warn">Draft · changes not deployed</Badge>
          )}
        </div>
        <div className="flow-actions">
          {phone && (
            <Button small onClick={() => setPaletteOpen(!paletteOpen)} aria-pressed={paletteOpen}>
              Plugins
            </Button>
          )}
          <Button small onClick={() => setDetailsOpen(true)}>
            Details
          </Button>
          {!phone && (
            <Button small onClick={arrange} title="Lay the nodes out top to bottom">
              Arrange
            </Button>
          )}
          <Button
            small
            onClick={() => {
              setDebugOpen(!debugOpen);
              setPanelOpen(debugOpen);
              setTimeout(() => rf.fitView({ padding: 0.15, maxZoom: 1.1, duration: 200 }), 60);
            }}
            aria-pressed={debugOpen}
          >
            Debug
          </Button>
          <Button small kind="primary" busy={deploying} onClick={deploy}>
            Deploy
          </Button>
        </div>
      </header>
      {st.error && (
        <div className="flow-alert" role="alert">
          <strong>{st.what === "deploy"
              ? "Not deployed:"
              : st.what === "debug"
                ? "The debugger refused the flow:"
                : st.what === "problem"
                  ? "Saved, but it cannot run yet:"
                  : "Not saved:"}</strong>
          <span className="grow">{st.error}</span>
          {st.errorNode && cNodes.some((n) => n.id === st.errorNode) && (
            <Button
              small
              onClick={() => {
                select(st.errorNode);
                const n = cNodes.find((x) => x.id === st.errorNode);
                if (n) rf.setCenter(n.position.x + 100, n.position.y + 30, { zoom: 1.2, duration: 300 });
              }}
            >
              Show node
            </Button>
          )}
        </div>
      )}
      <div className="flow-main">
        {paletteOpen && !debugOpen && (
          <>
            {phone && <div className="flow-scrim" onClick={() => setPaletteOpen(false)} />}
            <Palette plugins={plugins} onAdd={(p) => addNode(p)} onClose={phone ? () => setPaletteOpen(false) : undefined} />
          </>
        )}
        <div className="flow-center">
          <div className="flow-canvas" onDrop={onDrop} onDragOver={(e) => {
            if (e.dataTransfer.types.includes(DRAG_TYPE)) {
              e.preventDefault();
              e.dataTransfer.dropEffect = "copy";
            }
          }}>
            <CanvasContext.Provider value={canvasInfo}>
              <ReactFlow
                nodes={shownNodes}
                edges={shownEdges}
                onNodesChange={onNodesChange}
                onEdgesChange={onEdgesChange}
                onConnect={onConnect}
                nodeTypes={nodeTypes}
                snapToGrid
                snapGrid={[20, 20]}
                fitView
                fitViewOptions={{ padding: 0.25, maxZoom: 1.1 }}
                minZoom={0.2}
                maxZoom={2}
                deleteKeyCode={["Delete", "Backspace"]}
                isValidConnection={(c) => c.source !== c.target}
                onNodeClick={(_, n) => {
                  setSelNode(n.id);
                  setSelEdge(undefined);
                  setPanelOpen(!debugOpen);
                }}
                onNodeDoubleClick={(_, n) => {
                  setSelNode(n.id);
                  setPanelOpen(true);
                }}
                zoomOnDoubleClick={false}
                onEdgeClick={(_, e) => {
                  setSelEdge(e.id);
                  setSelNode(undefined);
                }}
                onPaneClick={() => {
                  setSelNode(undefined);
                  setSelEdge(undefined);
                }}
                onNodesDelete={(del) => del.some((d) => d.id === selNode) && setSelNode(undefined)}
              >
                <Background gap={20} size={1.2} />
                <Controls position="bottom-right" />
                {!phone && !debugOpen && nodes.length > 8 && <MiniMap pannable zoomable position="bottom-left" nodeStrokeWidth={2} ariaLabel="Mini map" />}
              </ReactFlow>
            </CanvasContext.Provider>
            {cNodes.length === 0 && (
              <div className="flow-canvas-empty">
                <strong>An empty workflow</strong>
                <span className="muted">Add a Start node from the plugins, then connect what should happen.</span>
              </div>
            )}
          </div>
          {debugOpen && (
            <DebugPane
              input={debugInput}
              onInput={setDebugInput}
              storedId={storedId}
              onStoredId={setStoredId}
              startTypes={startTypes}
              event={debugEvent}
              profile={debugProfile}
              onEvent={setDebugEvent}
              onProfile={setDebugProfile}
              onRun={() => void runDebug()}
              running={running}
              result={debugResult}
              error={debugError}
              selected={node ? { id: node.id, name: names.get(node.id) ?? node.id, debug: debugResult?.debugInfo?.nodes?.[node.id] } : undefined}
              onSelectNode={(nid) => select(nid)}
              onClose={() => {
                setDebugOpen(false);
                setDebugResult(undefined);
                setDebugError(undefined);
              }}
            />
          )}
        </div>
        {node && panelOpen && (
          <>
            {phone && <div className="flow-scrim" onClick={() => setSelNode(undefined)} />}
            <NodePanel
              key={node.id}
              node={node}
              plugin={findPlugin(plugins, node.data.spec)}
              debug={debugResult?.debugInfo?.nodes?.[node.id]}
              hasDebug={!!debugResult}
              error={st.errorNode === node.id ? st.error : undefined}
              onChange={(d) => updateNodeData(node.id, d)}
              onDelete={() => deleteNode(node.id)}
              onClose={() => select(undefined)}
            />
          </>
        )}
        {!node && edge && (
          <>
            {phone && <div className="flow-scrim" onClick={() => setSelEdge(undefined)} />}
            <EdgePanel
              key={edge.id}
              edge={edge}
              from={names.get(edge.source) ?? edge.source}
              to={names.get(edge.target) ?? edge.target}
              onChange={(x) => setEdges((es) => es.map((e) => (e.id === x.id ? (x as unknown as Edge) : e)))}
              onDelete={() => deleteEdge(edge.id)}
              onClose={() => setSelEdge(undefined)}
            />
          </>
        )}
      </div>
      {detailsOpen && (
        <Modal
          title="Workflow details"
          onClose={() => setDetailsOpen(false)}
          footer={
            <Button kind="primary" onClick={() => setDetailsOpen(false)}>
              Done
            </Button>
          }
        >
          <TextField label="Name" value={meta.name} onChange={(v) => setMeta({ ...meta, name: v })} />
          <TextField label="Description" multiline rows={3} value={meta.description} onChange={(v) => setMeta({ ...meta, description: v })} />
          <TagsField label="Tags" value={meta.tags} onChange={(v) => setMeta({ ...meta, tags: v })} />
          <SelectField
            label="Type"
            value={meta.type}
            onChange={(v) => setMeta({ ...meta, type: v })}
            options={[
              { value: "collection", label: "Collection: runs on events" },
              { value: "segmentation", label: "Segmentation" },
            ]}
          />
          <p className="muted small">
            Id <span className="mono">{meta.id}</span> · changes save on their own.
          </p>
        </Modal>
      )}
    </div>
  );
}

function stored(key: string, fallback: unknown): unknown {
  try {
    const v = sessionStorage.getItem(key);
    return v ? JSON.parse(v) : fallback;
  } catch {
    return fallback;
  }
}
