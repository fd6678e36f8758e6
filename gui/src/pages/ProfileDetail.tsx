// One person: who they are, what they did (events and sessions), their consents and merges,
// and, for admins, export and erasure.
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, ApiError, getSession, hasRole, ROLES } from "../api";
import { EventDetails, SessionDrawer } from "../data/details";
import { consentState, flatten, get, isEmpty, personEmail, personName, personPhone, pick, shortId, visitCount, deviceLine, osLine, appLine, type Doc } from "../data/fields";
import { MergeDrawer, mergeColumns, UndoMerge, type MergeRecord } from "../data/merges";
import { Facts, KeyValue, Section } from "../data/parts";
import { quote } from "../data/range";
import type { Found } from "../data/search";
import { useApi, useSession } from "../ui/hooks";
import { Async, Badge, Button, Card, Confirm, Empty, ErrorBox, formatDate, Loading, Page, Table, Tabs, timeAgo } from "../ui/kit";
import { JsonView } from "../ui/json";
import { toast, toastError } from "../ui/toast";
import "../data/data.css";

type Profile = Doc & { id: string; ids?: string[] };

export default function ProfileDetail() {
  useSession();
  const { id = "" } = useParams();
  const nav = useNavigate();
  const [params, setParams] = useSearchParams();
  const admin = hasRole(getSession(), ROLES.admin);
  const [tick, setTick] = useState(0);
  const profile = useApi((signal) => api.get<Profile>(`/profile/${encodeURIComponent(id)}`, { signal }), [id, tick]);
  const [erase, setErase] = useState(false);
  const [exporting, setExporting] = useState(false);
  const tabs = [
    { id: "overview", label: "Overview" },
    { id: "timeline", label: "Timeline" },
    { id: "consents", label: "Consents" },
    ...(admin ? [{ id: "merges", label: "Merges" }] : []),
    { id: "json", label: "JSON" },
  ];
  const tab = tabs.some((t) => t.id === params.get("tab")) ? params.get("tab")! : "overview";

  if (profile.error instanceof ApiError && profile.error.status === 404)
    return (
      <Page title="Profile not found" subtitle={<span className="mono">{id}</span>}>
        <Empty title="No profile has this id">
          It may have been erased, or the id is wrong. An id of a profile that was merged into another opens the profile it was merged
          into, so this one is not held by anyone now.
          <div style={{ marginTop: 12 }}>
            <Link to="/data/profiles" className="btn">
              Back to profiles
            </Link>
          </div>
        </Empty>
      </Page>
    );
  if (profile.error) return <Page title="Profile"><ErrorBox error={profile.error} retry={profile.reload} /></Page>;
  if (!profile.data) return <Page title="Profile"><Loading /></Page>;

  const p = profile.data;
  const name = personName(p);
  const email = personEmail(p);
  const merged = p.id !== id;

  const doExport = async () => {
    setExporting(true);
    try {
      const data = await api.get(`/profile/${encodeURIComponent(p.id)}/export`);
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `profile-${p.id}.json`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      toast("Export downloaded");
    } catch (e) {
      toastError(e);
    } finally {
      setExporting(false);
    }
  };

  return (
    <Page
      title={name ?? email ?? "Anonymous profile"}
      subtitle={
        <span className="data-profile-sub">
          {name && email && <span>{email}</span>}
          <span className="mono small">{p.id}</span>
          {get(p, "data.anonymous") === false && <Badge tone="ok">identified</Badge>}
        </span>
      }
      actions={
        <>
          <Button onClick={() => setTick((t) => t + 1)}>Refresh</Button>
          {admin && (
            <>
              <Button onClick={doExport} busy={exporting}>
                Export
              </Button>
              <Button kind="danger" onClick={() => setErase(true)}>
                Delete
              </Button>
            </>
          )}
        </>
      }
    >
      {merged && (
        <div className="data-notice" role="note">
          The id <span className="mono">{id}</span> was merged into this profile, which holds its data now.
        </div>
      )}
      <Tabs
        tabs={tabs}
        value={tab}
        onChange={(t) => {
          const n = new URLSearchParams(params);
          if (t === "overview") n.delete("tab");
          else n.set("tab", t);
          setParams(n, { replace: true });
        }}
      />
      {tab === "overview" && <Overview p={p} />}
      {tab === "timeline" && <Timeline p={p} />}
      {tab === "consents" && <Consents p={p} />}
      {tab === "merges" && admin && <ProfileMerges p={p} onChange={() => setTick((t) => t + 1)} />}
      {tab === "json" && <JsonView value={p} open={2} />}
      {erase && (
        <Confirm
          title="Delete this person"
          confirm="Delete everything"
          text={
            <>
              This erases the profile {name || email ? <strong>{name ?? email}</strong> : <span className="mono">{shortId(p.id)}</span>}{" "}
              with all its ids, <strong>and all its sessions and events</strong>, and the records of merges it took part in. It cannot be
              undone. Export it first if you need a copy.
            </>
          }
          onConfirm={async () => {
            const r = await api.del<{ deleted?: { sessions?: number; events?: number } }>(`/profile/${encodeURIComponent(p.id)}`);
            toast(`Profile deleted, with ${r.deleted?.sessions ?? 0} sessions and ${r.deleted?.events ?? 0} events`);
            nav("/data/profiles");
          }}
          onClose={() => setErase(false)}
        />
      )}
    </Page>
  );
}

function Overview({ p }: { p: Profile }) {
  const segments = Array.isArray(p.segments) ? (p.segments as string[]) : [];
  const interests = (p.interests ?? {}) as Record<string, unknown>;
  const data = (p.data ?? {}) as Record<string, unknown>;
  const { pii, contact, ...rest } = data as { pii?: unknown; contact?: unknown; anonymous?: unknown } & Record<string, unknown>;
  delete (rest as Record<string, unknown>).anonymous;
  const lastVisit = get(p, "metadata.time.visit.current") ?? get(p, "metadata.time.visit.last");
  return (
    <div className="stack">
      <div className="data-stats">
        <div className="card stat">
          <span className="stat-value">{visitCount(p).toLocaleString()}</span>
          <span className="stat-label">Visits</span>
        </div>
        <div className="card stat">
          <span className="stat-value small-value" title={formatDate(lastVisit)}>
            {lastVisit ? timeAgo(lastVisit) : "—"}
          </span>
          <span className="stat-label">Last visit</span>
        </div>
        <div className="card stat">
          <span className="stat-value small-value">{formatDate(get(p, "metadata.time.insert"))}</span>
          <span className="stat-label">First seen</span>
        </div>
        <div className="card stat">
          <span className="stat-value small-value">{formatDate(get(p, "metadata.time.update"))}</span>
          <span className="stat-label">Updated</span>
        </div>
      </div>
      <div className="grid-2">
        <Card title="Person">
          <Facts
            items={[
              ["Name", personName(p)],
              ["E-mail", personEmail(p)],
              ["Phone", personPhone(p)],
              ["Language", pick(p, "data.pii.language.native")],
              ["Location", [pick(p, "data.devices.last.geo.city"), pick(p, "data.devices.last.geo.country.name")].filter(Boolean).join(", ")],
              ["Active", p.active === false ? "no" : "yes"],
            ]}
          />
          <Section title="Segments">
            {segments.length ? (
              <div className="data-chips">
                {segments.map((s) => (
                  <span key={s} className="chip data-chip">
                    {s}
                  </span>
                ))}
              </div>
            ) : (
              <p className="muted data-none">In no segment</p>
            )}
          </Section>
          <Section title="Interests">
            {Object.keys(interests).length ? (
              <div className="data-chips">
                {Object.entries(interests).map(([k, v]) => (
                  <span key={k} className="chip data-chip">
                    {k}: {typeof v === "number" ? Math.round(v * 100) / 100 : String(v)}
                  </span>
                ))}
              </div>
            ) : (
              <p className="muted data-none">No interests</p>
            )}
          </Section>
        </Card>
        <Card title="IDs">
          <ul className="data-ids">
            {(p.ids ?? [p.id]).map((x) => (
              <li key={x}>
                {x}
                {x === p.id && <span className="muted"> (profile id)</span>}
              </li>
            ))}
          </ul>
        </Card>
      </div>
      <Card title="Traits">
        <KeyValue value={p.traits} empty="No traits" />
      </Card>
      <div className="grid-2">
        <Card title="Personal data">
          <KeyValue value={pii} empty="No personal data" />
        </Card>
        <Card title="Contact">
          <KeyValue value={contact} empty="No contact data" />
        </Card>
      </div>
      {!isEmpty(rest) && (
        <Card title="Other data">
          <KeyValue value={rest} />
        </Card>
      )}
      {flatten(p.stats).some(([, v]) => v !== 0) && (
        <Card title="Statistics">
          <KeyValue value={p.stats} />
        </Card>
      )}
    </div>
  );
}

type Item = { kind: "event"; time: string; doc: Doc } | { kind: "session"; time: string; doc: Doc };
const EV_PAGE = 50;

function Timeline({ p }: { p: Profile }) {
  const [limit, setLimit] = useState(EV_PAGE);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [session, setSession] = useState<Doc>();
  const ids = p.ids?.length ? p.ids : [p.id];
  const events = useApi(
    (signal) => api.get<Found>(`/events/profile/${encodeURIComponent(p.id)}`, { query: { start: 0, limit }, signal }),
    [p.id, limit],
  );
  const sessions = useApi(
    (signal) =>
      api.post<Found>("/session/select", { where: `profile.id == [${ids.map(quote).join(", ")}]`, limit: 1000 }, { signal }),
    [ids.join(",")],
  );
  const items = useMemo(() => {
    const ev = events.data?.result ?? [];
    const list: Item[] = ev.map((e) => ({ kind: "event", time: String(get(e, "metadata.time.insert") ?? ""), doc: e }));
    // sessions only as far back as the events shown, so "Load more" keeps the order honest
    const oldest = ev.length && (events.data?.total ?? 0) > ev.length ? list[list.length - 1].time : "";
    for (const s of sessions.data?.result ?? []) {
      const t = String(get(s, "metadata.time.insert") ?? "");
      if (!oldest || t >= oldest) list.push({ kind: "session", time: t, doc: s });
    }
    // newest first; at the same instant the session comes before (below) its first events
    return list.sort((a, b) => (a.time === b.time ? (a.kind === "session" ? 1 : -1) : a.time < b.time ? 1 : -1));
  }, [events.data, sessions.data]);

  if (events.error) return <ErrorBox error={events.error} retry={events.reload} />;
  if (sessions.error) return <ErrorBox error={sessions.error} retry={sessions.reload} />;
  if (!events.data || !sessions.data) return <Loading />;
  if (!items.length) return <Empty title="No events or sessions yet" />;
  const toggle = (k: string) => {
    const n = new Set(open);
    if (n.has(k)) n.delete(k);
    else n.add(k);
    setOpen(n);
  };
  return (
    <>
      <p className="muted small">
        {plural(events.data.total, "event")} in {plural(sessions.data.total, "session")}, newest first.
      </p>
      <ol className="data-timeline" aria-label="Timeline">
        {items.map((it) => {
          const d = it.doc;
          if (it.kind === "session")
            return (
              <li key={"s" + String(d.id)} className="data-tl-item data-tl-session">
                <div className="data-tl-card">
                  <button type="button" className="data-tl-head" onClick={() => setSession(d)}>
                    <strong>Session started</strong>
                    <span className="grow data-tl-summary">
                      {[deviceLine(d), osLine(d), appLine(d)].filter((x) => x !== "—").join(" · ")}
                    </span>
                    <span className="data-tl-time">{formatDate(it.time)}</span>
                  </button>
                </div>
              </li>
            );
          const k = "e" + String(d.id);
          const expanded = open.has(k);
          const props = d.properties && typeof d.properties === "object" ? Object.entries(d.properties as object) : [];
          return (
            <li key={k} className="data-tl-item">
              <div className="data-tl-card">
                <button type="button" className="data-tl-head" aria-expanded={expanded} onClick={() => toggle(k)}>
                  <span className="data-tl-caret" aria-hidden>
                    {expanded ? "▾" : "▸"}
                  </span>
                  <Badge tone="info">{String(d.type)}</Badge>
                  <span className="grow data-tl-summary small">
                    {props
                      .slice(0, 3)
                      .map(([a, b]) => `${a}: ${typeof b === "object" ? JSON.stringify(b) : String(b)}`)
                      .join(" · ")}
                  </span>
                  <span className="data-tl-time">{formatDate(it.time)}</span>
                </button>
                {expanded && (
                  <div className="data-tl-body">
                    <EventDetails event={d} />
                    <Section title="JSON">
                      <JsonView value={d} open={1} />
                    </Section>
                  </div>
                )}
              </div>
            </li>
          );
        })}
      </ol>
      {events.data.total > events.data.result.length && (
        <div className="data-more">
          <Button busy={events.loading} onClick={() => setLimit(limit + EV_PAGE)}>
            Load more
          </Button>
        </div>
      )}
      {session && <SessionDrawer id={String(session.id)} session={session} onClose={() => setSession(undefined)} />}
    </>
  );
}

function Consents({ p }: { p: Profile }) {
  const consents = (p.consents ?? {}) as Record<string, unknown>;
  const canReadTypes = hasRole(getSession(), ROLES.marketing);
  // names of consent types, when the role may read them; ids are shown otherwise
  const types = useApi(
    (signal) =>
      canReadTypes
        ? api.get<{ result: { id: string; name?: string; revokable?: boolean }[] }>("/consents/type", { query: { limit: 1000 }, signal }).catch(() => ({ result: [] }))
        : Promise.resolve({ result: [] }),
    [canReadTypes],
  );
  const rows = Object.entries(consents).map(([id, c]) => ({ id, c, ...consentState(c) }));
  if (!rows.length) return <Empty title="No consents">This person has not granted any consent.</Empty>;
  const typeOf = (id: string) => types.data?.result.find((t) => t.id === id);
  return (
    <Table
      rows={rows}
      rowKey={(r) => r.id}
      columns={[
        {
          key: "type",
          title: "Consent",
          render: (r) => (
            <span>
              {typeOf(r.id)?.name ?? r.id}
              {typeOf(r.id)?.name && <span className="muted small mono"> {r.id}</span>}
            </span>
          ),
        },
        {
          key: "state",
          title: "State",
          render: (r) => (r.state === "granted" ? <Badge tone="ok">Granted</Badge> : <Badge tone="warn">Expired</Badge>),
        },
        {
          key: "revoke",
          title: "Expires",
          render: (r) =>
            r.until ? (
              <span>
                {formatDate(r.until)} <span className="muted small">({r.state === "granted" ? "in " + timeUntil(r.until) : "ended"})</span>
              </span>
            ) : (
              <span className="muted">Never</span>
            ),
        },
        {
          key: "revokable",
          title: "Revokable",
          render: (r) => {
            const t = typeOf(r.id);
            return t?.revokable === undefined ? "—" : t.revokable ? "yes" : "no";
          },
        },
      ]}
    />
  );
}

function timeUntil(v: string): string {
  const t = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : v + "Z").getTime();
  const s = Math.max(0, Math.round((t - Date.now()) / 1000));
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

function ProfileMerges({ p, onChange }: { p: Profile; onChange: () => void }) {
  const list = useApi(
    (signal) => api.get<{ total: number; result: MergeRecord[] }>("/merges", { query: { profile: p.id, limit: 200 }, signal }),
    [p.id],
  );
  const [open, setOpen] = useState<string>();
  const [undo, setUndo] = useState<MergeRecord>();
  return (
    <>
      <Async
        value={list}
        empty={(d) => !d.result.length}
        emptyView={<Empty title="No merges">This profile has not been merged with another.</Empty>}
      >
        {(d) => (
          <Table
            rows={d.result}
            columns={mergeColumns({ onUndo: setUndo })}
            rowKey={(m) => m.id}
            onRow={(m) => setOpen(m.id)}
            selected={open}
          />
        )}
      </Async>
      {open && <MergeDrawer id={open} onClose={() => setOpen(undefined)} onUndo={setUndo} />}
      {undo && (
        <UndoMerge
          merge={undo}
          onClose={() => setUndo(undefined)}
          onDone={() => {
            setOpen(undefined);
            list.reload();
            onChange();
          }}
        />
      )}
    </>
  );
}


function plural(n: number, noun: string): string {
  return `${n.toLocaleString()} ${noun}${n === 1 ? "" : "s"}`;
}
