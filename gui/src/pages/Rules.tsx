// Trigger rules: which events run which workflow. A table with an enabled switch that saves at
// once, a form, and the routing summary (event type → source → rules → workflows).
import { useState } from "react";
import { api, getSession, hasRole, ROLES } from "../api";
import { buildRouting, ruleTags } from "../inbound/routing";
import { RuleForm, type EventTypeOption } from "../inbound/RuleForm";
import { refId, type Bucket, type ConsentType, type EventSource, type FlowSummary, type ListResult, type Rule } from "../inbound/types";
import "../inbound/inbound.css";
import { useApi } from "../ui/hooks";
import { Async, Badge, Button, Card, Confirm, Empty, Page, SelectField, Table, Tabs, TagList } from "../ui/kit";
import { toast, toastError } from "../ui/toast";

interface Refs {
  sources: EventSource[];
  flows: FlowSummary[];
  consents: ConsentType[];
  eventTypes: EventTypeOption[];
}

async function loadRefs(signal: AbortSignal): Promise<Refs> {
  const all = { query: { limit: 1000, sort: "name" }, signal };
  const [sources, flows, consents, seen, builtIn] = await Promise.all([
    api.get<ListResult<EventSource>>("/event-sources", all),
    api.get<ListResult<FlowSummary>>("/flows", all),
    // the rest only feeds suggestions: a failure leaves them empty rather than the page broken
    api.get<ListResult<ConsentType>>("/consents/type", all).catch(() => ({ total: 0, result: [] })),
    api.get<Bucket[]>("/events/by_type", { signal }).catch(() => [] as Bucket[]),
    api
      .get<{ grouped: Record<string, { id: string; name: string }[]> }>("/event-types/build-in/by_type", { signal })
      .catch(() => ({ grouped: {} as Record<string, { id: string; name: string }[]> })),
  ]);
  const types = new Map<string, string>();
  for (const b of seen) if (b.name) types.set(b.name, b.name);
  for (const g of Object.values(builtIn.grouped ?? {})) for (const t of g) if (!types.has(t.id)) types.set(t.id, t.name);
  return {
    sources: sources.result,
    flows: flows.result,
    consents: consents.result,
    eventTypes: [...types.entries()].map(([id, name]) => ({ id, name })),
  };
}

export default function Rules() {
  const canEdit = hasRole(getSession(), ROLES.adminDev);
  const rules = useApi((signal) => api.get<ListResult<Rule>>("/rules", { query: { limit: 1000, sort: "name" }, signal }), []);
  const refs = useApi(loadRefs, []);
  const [tab, setTab] = useState("rules");
  const [tag, setTag] = useState("");
  const [form, setForm] = useState<{ rule?: Rule }>();
  const [deleting, setDeleting] = useState<Rule>();
  const [saving, setSaving] = useState<string>();

  const sourceName = (r: Rule) => {
    const id = refId(r.source);
    if (!id) return undefined;
    return refs.data?.sources.find((s) => s.id === id)?.name ?? (r.source?.name && r.source.name !== id ? r.source.name : id);
  };
  const flowOf = (r: Rule) => refs.data?.flows.find((f) => f.id === refId(r.flow));

  const toggle = async (r: Rule, enabled: boolean) => {
    if (!rules.data) return;
    const before = rules.data;
    rules.setData({ ...before, result: before.result.map((x) => (x.id === r.id ? { ...x, enabled } : x)) });
    setSaving(r.id);
    try {
      await api.post("/rule", { ...r, enabled });
      toast(`${r.name}: ${enabled ? "enabled" : "disabled"}`);
    } catch (e) {
      rules.setData(before);
      toastError(e);
    } finally {
      setSaving(undefined);
    }
  };

  const newButton = canEdit && (
    <Button kind="primary" disabled={!refs.data} onClick={() => setForm({})}>
      New rule
    </Button>
  );

  return (
    <Page title="Trigger rules" subtitle="A rule runs a deployed workflow for every event of its type (from its source, or any source)." actions={newButton}>
      <Tabs
        value={tab}
        onChange={setTab}
        tabs={[
          { id: "rules", label: "Rules" },
          { id: "routing", label: "Routing" },
        ]}
      />
      <Async
        value={rules}
        empty={(d) => d.total === 0}
        emptyView={
          <Empty title="No rules yet">
            A rule connects an event type to a workflow.{" "}
            {refs.data && refs.data.flows.length === 0 ? (
              <>
                Create a <a href="#/flows">workflow</a> first, then a rule for it.
              </>
            ) : (
              "Create one with New rule."
            )}
          </Empty>
        }
      >
        {(d) => {
          const tags = ruleTags(d.result);
          const rows = tag ? d.result.filter((r) => r.tags?.includes(tag)) : d.result;
          if (tab === "routing") return <Routing rules={d.result} refs={refs.data} onOpen={(r) => canEdit && setForm({ rule: r })} />;
          return (
            <>
              {tags.length > 1 && (
                <div className="inb-toolbar">
                  <SelectField label="Tag" value={tag} onChange={setTag} options={[{ value: "", label: "All tags" }, ...tags.map((t) => ({ value: t, label: t }))]} />
                  <span className="muted small" style={{ paddingBottom: 8 }}>
                    {rows.length} of {d.total} rules
                  </span>
                </div>
              )}
              <Table
                rows={rows}
                rowKey={(r) => r.id}
                columns={[
                  {
                    key: "name",
                    title: "Name",
                    render: (r) => (
                      <div>
                        {canEdit ? (
                          <button type="button" className="inb-name-btn" onClick={() => setForm({ rule: r })} disabled={!refs.data}>
                            {r.name}
                          </button>
                        ) : (
                          <strong>{r.name}</strong>
                        )}
                        {r.description && <div className="muted small">{r.description}</div>}
                      </div>
                    ),
                  },
                  { key: "event", title: "Event type", render: (r) => <code>{refId(r.event_type)}</code> },
                  {
                    key: "source",
                    title: "Source",
                    render: (r) => sourceName(r) ?? <span className="muted">Any source</span>,
                  },
                  {
                    key: "flow",
                    title: "Workflow",
                    render: (r) => {
                      const f = flowOf(r);
                      const id = refId(r.flow);
                      return (
                        <span className="inb-node">
                          <a href={`#/flows/${encodeURIComponent(id)}`}>{f?.name ?? r.flow?.name ?? id}</a>
                          {refs.data && !f && <Badge tone="error">missing</Badge>}
                          {f && !f.deployed && <Badge tone="warn">not deployed</Badge>}
                        </span>
                      );
                    },
                  },
                  {
                    key: "consents",
                    title: "Consents",
                    render: (r) =>
                      r.properties?.consents?.length ? (
                        <span className="inb-badges">
                          {r.properties.consents.map((c) => (
                            <Badge key={refId(c)} tone="info">
                              {c.name || refId(c)}
                            </Badge>
                          ))}
                        </span>
                      ) : (
                        <span className="muted">—</span>
                      ),
                  },
                  {
                    key: "tags",
                    title: "Tags",
                    render: (r) => <TagList tags={r.tags} />,
                  },
                  {
                    key: "enabled",
                    title: "Enabled",
                    render: (r) => (
                      <label className="inb-toggle-only" title={r.enabled ? "Enabled: click to disable" : "Disabled: click to enable"}>
                        <input
                          type="checkbox"
                          aria-label={`Enabled: ${r.name}`}
                          checked={r.enabled}
                          disabled={!canEdit || saving === r.id}
                          onChange={(e) => toggle(r, e.target.checked)}
                        />
                        <span className="toggle-track" aria-hidden />
                      </label>
                    ),
                  },
                  ...(canEdit
                    ? [
                        {
                          key: "actions",
                          title: <></>,
                          render: (r: Rule) => (
                            <div className="inb-row-actions">
                              <Button small kind="danger" aria-label={`Delete rule ${r.name}`} onClick={() => setDeleting(r)}>
                                Delete
                              </Button>
                            </div>
                          ),
                        },
                      ]
                    : []),
                ]}
              />
            </>
          );
        }}
      </Async>
      {refs.error && <p className="inb-note inb-note-warn">Could not load sources and workflows: {refs.error.message}</p>}

      {form && refs.data && (
        <RuleForm
          rule={form.rule}
          {...refs.data}
          onClose={() => setForm(undefined)}
          onSaved={() => {
            setForm(undefined);
            rules.reload();
            refs.reload();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title="Delete rule"
          text={
            <>
              Delete the rule <strong>{deleting.name}</strong>? Events of type <code>{refId(deleting.event_type)}</code> will no longer run its
              workflow. The workflow itself stays.
            </>
          }
          onConfirm={async () => {
            await api.del(`/rule/${encodeURIComponent(deleting.id)}`);
            toast("Rule deleted");
            rules.reload();
          }}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </Page>
  );
}

function Routing({ rules, refs, onOpen }: { rules: Rule[]; refs?: Refs; onOpen: (r: Rule) => void }) {
  const tree = buildRouting(rules, refs?.sources ?? [], refs?.flows ?? []);
  return (
    <Card>
      <ul className="inb-tree" aria-label="Event routing">
        {tree.map((t) => (
          <li key={t.eventType}>
            <span className="inb-node">
              <span className="inb-node-kind">Event type</span>
              <code className="inb-type">{t.eventType}</code>
            </span>
            <ul>
              {t.sources.map((s) => (
                <li key={s.sourceId || "(any)"}>
                  <span className="inb-node">
                    <span className="inb-node-kind">Source</span>
                    {s.sourceId ? <strong>{s.sourceName}</strong> : <em className="muted">Any source</em>}
                  </span>
                  <ul>
                    {s.rules.map((r) => (
                      <li key={r.rule.id}>
                        <span className="inb-node">
                          <span className="inb-node-kind">Rule</span>
                          <button type="button" className="inb-name-btn" onClick={() => onOpen(r.rule)}>
                            {r.rule.name}
                          </button>
                          {!r.rule.enabled && <Badge tone="warn">disabled</Badge>}
                          <span className="inb-arrow" aria-hidden>
                            →
                          </span>
                          <span className="inb-node-kind">Workflow</span>
                          <a href={`#/flows/${encodeURIComponent(r.flowId)}`}>{r.flowName}</a>
                          {refs && r.flowMissing && <Badge tone="error">missing</Badge>}
                          {refs && !r.flowMissing && !r.flowDeployed && <Badge tone="warn">not deployed</Badge>}
                        </span>
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </Card>
  );
}
