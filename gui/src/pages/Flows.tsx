// The list of workflows: filter, create (with a Start node already placed), open, duplicate, delete.
import { useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, getSession, hasRole, ROLES } from "../api";
import { useApi } from "../ui/hooks";
import { Async, Badge, Button, Confirm, Empty, ErrorBox, Modal, Page, SelectField, Table, TagsField, TextField, timeAgo, formatDate } from "../ui/kit";
import { toast, toastError } from "../ui/toast";
import { nodeFromPlugin, uuid, type FlowRecord, type Plugin } from "../flow/graph";
import "../flow/flow.css";

interface FlowRow {
  id: string;
  name: string;
  description?: string;
  tags?: string[];
  type?: string;
  timestamp?: string;
  deployed?: boolean;
  nodes?: number;
}

const TYPES = [
  { value: "collection", label: "Collection: runs on collected events" },
  { value: "segmentation", label: "Segmentation" },
];

export default function Flows() {
  const nav = useNavigate();
  const canEdit = hasRole(getSession(), ROLES.adminDev);
  const list = useApi((signal) => api.get<{ total: number; result: FlowRow[] }>("/flows", { query: { limit: 1000, sort: "name" }, signal }), []);
  const [q, setQ] = useState("");
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<{ row: FlowRow; rules: number | null }>();
  const [busy, setBusy] = useState<string>();

  const rows = useMemo(() => {
    const t = q.trim().toLowerCase();
    const all = list.data?.result ?? [];
    if (!t) return all;
    return all.filter((f) => `${f.name} ${f.description ?? ""} ${(f.tags ?? []).join(" ")} ${f.id} ${f.type ?? ""}`.toLowerCase().includes(t));
  }, [list.data, q]);

  const duplicate = async (f: FlowRow) => {
    setBusy(f.id);
    try {
      const rec = await api.get<FlowRecord>(`/flow/draft/${encodeURIComponent(f.id)}`);
      const { deployed: _d, timestamp: _t, ...rest } = rec;
      void _d, _t;
      const copy = { ...rest, id: uuid(), name: `${rec.name} (copy)` };
      await api.post("/flow/draft", copy);
      toast(`Duplicated as “${copy.name}”`);
      list.reload();
    } catch (e) {
      toastError(e);
    } finally {
      setBusy(undefined);
    }
  };

  const askDelete = async (f: FlowRow) => {
    let rules: number | null = null;
    try {
      const r = await api.get<{ total?: number; result?: unknown[] } | unknown[]>(`/rules/by_flow/${encodeURIComponent(f.id)}`);
      rules = Array.isArray(r) ? r.length : (r.total ?? r.result?.length ?? 0);
    } catch {
      /* the count is a courtesy: delete works without it */
    }
    setDeleting({ row: f, rules });
  };

  return (
    <Page
      title="Workflows"
      subtitle="Graphs of plugins that run on events: rules route events into the deployed version."
      actions={
        canEdit && (
          <Button kind="primary" onClick={() => setCreating(true)}>
            New workflow
          </Button>
        )
      }
    >
      <Async
        value={list}
        empty={(d) => d.total === 0}
        emptyView={
          <Empty title="No workflows yet">
            A workflow is a graph of plugin nodes that reads and changes the event's profile, session and event, answers the page and
            calls other systems. Start it with a Start node, connect the steps, deploy it, then add a trigger rule that routes events
            into it.
            {canEdit && (
              <div>
                <Button kind="primary" onClick={() => setCreating(true)}>
                  New workflow
                </Button>
              </div>
            )}
          </Empty>
        }
      >
        {(d) => (
          <>
            <div className="toolbar">
              <input
                className="input toolbar-filter"
                type="search"
                aria-label="Filter workflows"
                placeholder="Filter by name, description or tag"
                value={q}
                onChange={(e) => setQ(e.target.value)}
              />
              <span className="muted small">{q.trim() ? `${rows.length} of ${d.result.length}` : `${d.total.toLocaleString()} in all`}</span>
            </div>
            {d.total > d.result.length && (
              <p className="muted small">
                Showing the first {d.result.length} of {d.total} workflows.
              </p>
            )}
            {rows.length === 0 ? (
              <Empty title="Nothing matches">No workflows contain “{q}”.</Empty>
            ) : (
              <Table
                rows={rows}
                rowKey={(f) => f.id}
                onRow={(f) => nav(`/flows/${encodeURIComponent(f.id)}`)}
                focusRows={false}
                columns={[
                  {
                    key: "name",
                    title: "Name",
                    render: (f) => (
                      <div>
                        <Link className="flow-list-name" to={`/flows/${encodeURIComponent(f.id)}`} onClick={(e) => e.stopPropagation()}>
                          {f.name || f.id}
                        </Link>
                        {f.description && <div className="flow-list-desc">{f.description}</div>}
                        {!!f.tags?.length && (
                          <div className="flow-tags">
                            {f.tags.map((t) => (
                              <Badge key={t} tone="info">
                                {t}
                              </Badge>
                            ))}
                          </div>
                        )}
                      </div>
                    ),
                  },
                  { key: "type", title: "Type", render: (f) => <span className="muted">{f.type ?? "collection"}</span> },
                  { key: "nodes", title: "Nodes", className: "num", render: (f) => f.nodes ?? "—" },
                  {
                    key: "status",
                    title: "Status",
                    render: (f) => (f.deployed ? <Badge tone="ok">Deployed</Badge> : <Badge>Draft</Badge>),
                  },
                  {
                    key: "changed",
                    title: "Last change",
                    render: (f) => (
                      <span className="muted" title={formatDate(f.timestamp)}>
                        {timeAgo(f.timestamp)}
                      </span>
                    ),
                  },
                  {
                    key: "actions",
                    title: <span className="sr-only">Actions</span>, // not a string: no "label:" prefix on phones
                    render: (f) =>
                      canEdit && (
                        <div className="flow-row-actions" onClick={(e) => e.stopPropagation()}>
                          <Button small aria-label={`Duplicate ${f.name}`} busy={busy === f.id} onClick={() => duplicate(f)}>
                            Duplicate
                          </Button>
                          <Button small kind="danger" aria-label={`Delete ${f.name}`} onClick={() => askDelete(f)}>
                            Delete
                          </Button>
                        </div>
                      ),
                  },
                ]}
              />
            )}
          </>
        )}
      </Async>
      {creating && <NewFlow onClose={() => setCreating(false)} onCreated={(id) => nav(`/flows/${encodeURIComponent(id)}`)} />}
      {deleting && (
        <Confirm
          title="Delete workflow"
          text={
            <>
              Delete “{deleting.row.name}”, its draft and its deployed version?
              {deleting.rules ? ` ${deleting.rules} trigger rule${deleting.rules > 1 ? "s route" : " routes"} events into it and will stop working.` : ""} This
              cannot be undone.
            </>
          }
          onConfirm={async () => {
            await api.del(`/flow/${encodeURIComponent(deleting.row.id)}`);
            toast(`Deleted “${deleting.row.name}”`);
            list.reload();
          }}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </Page>
  );
}

function NewFlow(props: { onClose: () => void; onCreated: (id: string) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [tags, setTags] = useState<string[]>([]);
  const [type, setType] = useState("collection");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string>();
  const create = async () => {
    if (!name.trim()) {
      setErr("Give the workflow a name.");
      return;
    }
    setBusy(true);
    setErr(undefined);
    try {
      // the server keeps no flow without a start node; place one where the user will begin
      const plugins = await api.get<{ result: Plugin[] }>("/flow/action/plugins");
      const start = plugins.result.find((p) => p.id === "start") ?? plugins.result.find((p) => p.start && !(p.spec.inputs ?? []).length);
      const nodes = start ? [nodeFromPlugin(start, { x: 0, y: 0 })] : [];
      const id = uuid();
      await api.post("/flow/draft", { id, name: name.trim(), description, tags, type, flowGraph: { nodes, edges: [] } });
      toast("Workflow created");
      props.onCreated(id);
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal
      title="New workflow"
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button kind="primary" busy={busy} onClick={create}>
            Create
          </Button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <TextField label="Name" value={name} onChange={setName} autoFocus required error={err && !name.trim() ? err : undefined} />
        <TextField label="Description" value={description} onChange={setDescription} multiline rows={3} />
        <TagsField label="Tags" value={tags} onChange={setTags} />
        <SelectField label="Type" value={type} onChange={setType} options={TYPES} />
        {err && name.trim() && <ErrorBox error={err} />}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}
