// Event sources: where events come from. The list, a form to create and edit, and a drawer with
// the details, how to send events to the source (snippet, curl, webhook URL) and its JSON.
import { useState } from "react";
import { api, getSession, hasRole, ROLES } from "../api";
import { SourceForm } from "../inbound/SourceForm";
import { UsePanel } from "../inbound/UsePanel";
import { BRIDGES, type EventSource, type ListResult } from "../inbound/types";
import "../inbound/inbound.css";
import { useApi } from "../ui/hooks";
import { JsonView } from "../ui/json";
import { Async, Badge, Button, Confirm, Drawer, Empty, formatDate, Page, Pager, Table, Tabs, timeAgo } from "../ui/kit";
import { toast } from "../ui/toast";

const PAGE = 50;

export default function Sources() {
  const canEdit = hasRole(getSession(), ROLES.adminDev);
  const [page, setPage] = useState(0);
  const list = useApi(
    (signal) => api.get<ListResult<EventSource>>("/event-sources", { query: { start: page * PAGE, limit: PAGE, sort: "name" }, signal }),
    [page],
  );
  const [openId, setOpenId] = useState<string>();
  const [tab, setTab] = useState("details");
  const [form, setForm] = useState<{ source?: EventSource }>();
  const [deleting, setDeleting] = useState<EventSource>();
  const open = list.data?.result.find((s) => s.id === openId);

  return (
    <Page
      title="Event sources"
      subtitle="Every event names its source. A source with the REST API bridge takes /track (the JavaScript snippet), one with the Webhook bridge takes /collect."
      actions={
        canEdit && (
          <Button kind="primary" onClick={() => setForm({})}>
            New event source
          </Button>
        )
      }
    >
      <Async
        value={list}
        empty={(d) => d.total === 0}
        emptyView={
          <Empty title="No event sources yet">
            Create one to start collecting events: its id goes into the tracker snippet or the webhook URL.
            {canEdit && (
              <div style={{ marginTop: 10 }}>
                <Button kind="primary" onClick={() => setForm({})}>
                  Create the first event source
                </Button>
              </div>
            )}
          </Empty>
        }
      >
        {(d) => (
          <>
            <Table
              rows={d.result}
              rowKey={(s) => s.id}
              selected={openId}
              focusRows={false}
              onRow={(s) => {
                setOpenId(s.id);
                setTab("details");
              }}
              columns={[
                {
                  key: "name",
                  title: "Name",
                  render: (s) => (
                    <div>
                      {/* a button too, so the drawer opens from the keyboard */}
                      <button type="button" className="inb-name-btn" onClick={() => setOpenId(s.id)}>
                        {s.name}
                      </button>
                      {s.description && <div className="muted small">{s.description}</div>}
                    </div>
                  ),
                },
                { key: "type", title: "Type", render: (s) => <BridgeBadges types={s.type} /> },
                { key: "channel", title: "Channel", render: (s) => s.channel || <span className="muted">—</span> },
                {
                  key: "enabled",
                  title: "Enabled",
                  render: (s) => (s.enabled ? <Badge tone="ok">Enabled</Badge> : <Badge tone="warn">Disabled</Badge>),
                },
                { key: "id", title: "ID", render: (s) => <span className="inb-id">{s.id}</span> },
              ]}
            />
            <Pager page={page} size={PAGE} total={d.total} onPage={setPage} />
          </>
        )}
      </Async>

      {open && (
        <Drawer
          title={open.name}
          onClose={() => setOpenId(undefined)}
          actions={
            canEdit && (
              <>
                <Button small onClick={() => setForm({ source: open })}>
                  Edit
                </Button>
                <Button small kind="danger" onClick={() => setDeleting(open)}>
                  Delete
                </Button>
              </>
            )
          }
        >
          <Tabs
            value={tab}
            onChange={setTab}
            tabs={[
              { id: "details", label: "Details" },
              { id: "use", label: "Use" },
              { id: "json", label: "JSON" },
            ]}
          />
          {tab === "details" && <Details source={open} />}
          {tab === "use" && <UsePanel source={open} />}
          {tab === "json" && <JsonView value={open} />}
        </Drawer>
      )}

      {form && (
        <SourceForm
          source={form.source}
          onClose={() => setForm(undefined)}
          onSaved={(s) => {
            setForm(undefined);
            list.reload();
            // a new source opens on its "Use" tab: the snippet is what one wants next
            if (!form.source) {
              setOpenId(s.id);
              setTab("use");
            }
          }}
        />
      )}

      {deleting && (
        <Confirm
          title="Delete event source"
          text={
            <>
              Delete <strong>{deleting.name}</strong>? The collector will refuse its events (401) from then on. Events already stored stay.
            </>
          }
          onConfirm={async () => {
            await api.del(`/event-source/${encodeURIComponent(deleting.id)}`);
            toast("Event source deleted");
            setOpenId(undefined);
            list.reload();
          }}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </Page>
  );
}

function BridgeBadges({ types }: { types: string[] }) {
  return (
    <span className="inb-badges">
      {(types ?? []).map((t) => (
        <Badge key={t} tone={t === "rest" || t === "webhook" ? "info" : "neutral"}>
          {BRIDGES.find((b) => b.id === t)?.label ?? t}
        </Badge>
      ))}
    </span>
  );
}

interface Selected {
  total: number;
  result: { id: string; type: string; metadata?: { time?: { insert?: string } } }[];
}

function Details({ source }: { source: EventSource }) {
  // how much it has collected: the search counts up to 10,000, as Tracardi's does
  const stats = useApi(
    (signal) => api.post<Selected>("/event/select", { where: `source.id == ${JSON.stringify(source.id)}`, limit: 1 }, { signal }),
    [source.id],
  );
  return (
    <dl className="inb-kv">
      <dt>Name</dt>
      <dd>{source.name}</dd>
      <dt>ID</dt>
      <dd>
        <code>{source.id}</code>
      </dd>
      <dt>Bridge types</dt>
      <dd>
        <BridgeBadges types={source.type} />
      </dd>
      <dt>Status</dt>
      <dd>
        {source.enabled ? <Badge tone="ok">Enabled</Badge> : <Badge tone="warn">Disabled</Badge>}{" "}
        {source.transitional && <Badge tone="neutral">Transitional: events are not stored</Badge>}
      </dd>
      <dt>Description</dt>
      <dd>{source.description || <span className="muted">—</span>}</dd>
      <dt>Channel</dt>
      <dd>{source.channel || <span className="muted">—</span>}</dd>
      <dt>Tags</dt>
      <dd>
        {source.tags?.length ? (
          <span className="inb-badges">
            {source.tags.map((t) => (
              <Badge key={t}>{t}</Badge>
            ))}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </dd>
      <dt>Created</dt>
      <dd>{formatDate(source.timestamp)}</dd>
      <dt>Events</dt>
      <dd>
        {stats.error ? (
          <span className="muted">{stats.error.message}</span>
        ) : !stats.data ? (
          <span className="muted">Counting…</span>
        ) : stats.data.total === 0 ? (
          <span className="muted">None yet</span>
        ) : (
          <>
            {stats.data.total >= 10000 ? "10,000 or more" : stats.data.total.toLocaleString()}
            {stats.data.result[0] && (
              <span className="muted">
                {" "}
                · last {timeAgo(stats.data.result[0].metadata?.time?.insert)} ({stats.data.result[0].type})
              </span>
            )}
          </>
        )}
      </dd>
    </dl>
  );
}
