import { useMemo, useState } from "react";
import { api } from "../api";
import { filterRows, short } from "../config/logic";
import { useApi } from "../ui/hooks";
import { Async, Badge, Drawer, Empty, Page, Table } from "../ui/kit";
import { JsonView } from "../ui/json";
import "../config/config.css";

interface EventType {
  id: string;
  name: string;
  group: string;
  description?: string;
  properties?: unknown;
  profile?: { event?: string; value?: unknown; op: string | number; profile: string }[];
  copy?: Record<string, string>;
  tags?: string[];
  state?: string;
}
interface Grouped {
  total: number;
  grouped: Record<string, EventType[]>;
}

export default function EventTypes() {
  const data = useApi((signal) => api.get<Grouped>("/event-types/build-in/by_type", { signal }), []);
  const [q, setQ] = useState("");
  const [open, setOpen] = useState<EventType | null>(null);
  return (
    <Page title="Built-in event types" subtitle="Event types cdpd knows: their properties, and what they do to the profile.">
      <Async value={data} empty={(d) => d.total === 0} emptyView={<Empty title="No built-in event types">This server offers none.</Empty>}>
        {(d) => (
          <>
            <div className="toolbar">
              <input className="input toolbar-filter" type="search" aria-label="Filter" placeholder="Filter event types…" value={q} onChange={(e) => setQ(e.target.value)} />
              <span className="muted small">{d.total} types · read-only</span>
            </div>
            <Groups data={d} q={q} onOpen={setOpen} />
          </>
        )}
      </Async>
      {open && <Details t={open} onClose={() => setOpen(null)} />}
    </Page>
  );
}

function Groups({ data, q, onOpen }: { data: Grouped; q: string; onOpen: (t: EventType) => void }) {
  const groups = useMemo(
    () =>
      Object.entries(data.grouped)
        .map(([g, list]) => [g, filterRows(list, q, (t) => [t.id, t.name, t.description, t.state, ...(t.tags ?? [])].join(" "))] as const)
        .filter(([, list]) => list.length),
    [data, q],
  );
  if (!groups.length) return <Empty title="Nothing matches">No event type contains “{q}”.</Empty>;
  return (
    <div className="cfg-groups">
      {groups.map(([g, list]) => (
        <section key={g} className="cfg-group" aria-label={g}>
          <h2>
            {g} <span className="muted small">({list.length})</span>
          </h2>
          <Table
            rows={list}
            rowKey={(t) => t.id}
            onRow={onOpen}
            columns={[
              {
                key: "name",
                title: "Event type",
                render: (t) => (
                  <>
                    <span className="cfg-name">{t.name}</span> <code className="muted">{t.id}</code>
                  </>
                ),
              },
              { key: "desc", title: "Description", render: (t) => <span className="muted">{t.description}</span> },
              {
                key: "profile",
                title: "Updates the profile",
                render: (t) => (t.profile?.length ? <span className="cfg-sub">{t.profile.map((p) => p.profile).join(", ")}</span> : <span className="muted">—</span>),
              },
              { key: "state", title: "Journey", render: (t) => (t.state ? <Badge>{t.state}</Badge> : "") },
            ]}
          />
        </section>
      ))}
    </div>
  );
}

function Details({ t, onClose }: { t: EventType; onClose: () => void }) {
  return (
    <Drawer title={t.name} onClose={onClose}>
      <dl className="cfg-kv">
        <dt>ID</dt>
        <dd>
          <code>{t.id}</code>
        </dd>
        <dt>Group</dt>
        <dd>{t.group}</dd>
        {t.description && (
          <>
            <dt>Description</dt>
            <dd>{t.description}</dd>
          </>
        )}
        {t.state && (
          <>
            <dt>Journey state</dt>
            <dd>
              <Badge>{t.state}</Badge>
            </dd>
          </>
        )}
        {!!t.tags?.length && (
          <>
            <dt>Tags</dt>
            <dd className="cfg-chips">
              {t.tags.map((x) => (
                <Badge key={x}>{x}</Badge>
              ))}
            </dd>
          </>
        )}
      </dl>
      <h3>Profile updates</h3>
      {t.profile?.length ? (
        <Table
          rows={t.profile}
          rowKey={(p) => p.event + p.profile}
          columns={[
            {
              key: "e",
              title: "From",
              // an operation takes an event field, or a constant (checkout-completed counts 1)
              render: (p) => (p.event ? <code>{p.event}</code> : <span>the value {JSON.stringify(p.value)}</span>),
            },
            { key: "o", title: "Operation", render: (p) => String(p.op) },
            { key: "p", title: "Profile field", render: (p) => <code>{p.profile}</code> },
          ]}
        />
      ) : (
        <p className="muted">None: this type does not change the profile by itself.</p>
      )}
      <h3>Copied into the event</h3>
      {t.copy && Object.keys(t.copy).length ? (
        <Table
          rows={Object.entries(t.copy)}
          rowKey={([k]) => k}
          columns={[
            { key: "f", title: "From", render: ([, v]) => <code>{v}</code> },
            { key: "t", title: "To", render: ([k]) => <code>{k}</code> },
          ]}
        />
      ) : (
        <p className="muted">Nothing.</p>
      )}
      <h3>Properties (JSON schema)</h3>
      {t.properties ? <JsonView value={t.properties} open={3} /> : <p className="muted">{short(t.properties) || "Any properties."}</p>}
    </Drawer>
  );
}
