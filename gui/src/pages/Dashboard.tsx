// The dashboard: counters, events over time, where events come from, sessions by OS and channel,
// and the latest events that failed. Everything reloads every 30 seconds.
import { useEffect, useState } from "react";
import { api, getSession, hasRole, ROLES } from "../api";
import { BarChart } from "../charts/BarChart";
import { Donut } from "../charts/Donut";
import { HBarList } from "../charts/HBarList";
import { bucketLabel, histogramRequest, RANGES, secondsAgo, type RangeKey } from "../charts/range";
import { histogramSeries, withOther, type HistogramAnswer } from "../charts/scale";
import "../charts/charts.css";
import type { Bucket, FlowSummary, ListResult } from "../inbound/types";
import { useApi, type Loaded } from "../ui/hooks";
import { JsonView } from "../ui/json";
import { Async, Badge, Button, Card, Drawer, Empty, formatDate, Page, Table, timeAgo, Toggle } from "../ui/kit";

const REFRESH_MS = 30_000;

interface Counts {
  events: number;
  profiles: number;
  sessions: number;
  events24: number;
  profiles24: number;
  sessions24: number;
}

interface FailedEvent {
  id: string;
  type: string;
  source?: { id: string };
  profile?: { id: string } | null;
  metadata?: {
    time?: { insert?: string };
    valid?: boolean;
    error?: boolean | string;
    status?: string;
    processed_by?: { rules?: string[]; flows?: string[]; errors?: { flow: string; rule: string; message: string }[] };
  };
}

/** A tick that moves every 30 s while the tab is visible, and at once when it becomes visible. */
function useRefreshTick(): [number, () => void] {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const bump = () => !document.hidden && setTick((t) => t + 1);
    const t = setInterval(bump, REFRESH_MS);
    document.addEventListener("visibilitychange", bump);
    return () => {
      clearInterval(t);
      document.removeEventListener("visibilitychange", bump);
    };
  }, []);
  return [tick, () => setTick((t) => t + 1)];
}

export default function Dashboard() {
  const s = getSession();
  const inbound = hasRole(s, ROLES.adminDev);
  const [tick, refresh] = useRefreshTick();
  const [range, setRange] = useState<RangeKey>("24h");
  const [split, setSplit] = useState(false);
  const [updated, setUpdated] = useState<Date>();
  const [openEvent, setOpenEvent] = useState<FailedEvent>();

  const counts = useApi(async (signal) => {
    const n = (path: string, from?: number) =>
      api.get<{ count: number }>(path, { query: { from }, signal }).then((r) => r.count);
    const from = secondsAgo(24);
    const [events, profiles, sessions, events24, profiles24, sessions24] = await Promise.all([
      n("/event/count"),
      n("/profile/count"),
      n("/session/count"),
      n("/event/count", from),
      n("/profile/count", from),
      n("/session/count", from),
    ]);
    setUpdated(new Date());
    return { events, profiles, sessions, events24, profiles24, sessions24 } as Counts;
  }, [tick]);

  const hist = useApi(
    async (signal) => {
      const { body, interval } = histogramRequest(range);
      const get = (group_by?: string) => api.post<HistogramAnswer>("/event/select/histogram", body, { query: { interval, group_by }, signal });
      // grouped, the server names the 5 commonest types only: the plain count gives the rest
      const [all, grouped] = await Promise.all([get(), split ? get("type") : undefined]);
      const totals = histogramSeries(all);
      return { total: all.total, series: grouped ? withOther(histogramSeries(grouped), totals, "other types") : totals };
    },
    [range, split, tick],
  );

  const breakdown = useApi(async (signal) => {
    const get = (p: string) => api.get<Bucket[]>(p, { signal });
    const [byType, bySource, byOs, byChannel] = await Promise.all([
      get("/events/by_type"),
      get("/events/by_source"),
      get("/sessions/count/by_os_name"),
      get("/sessions/count/by_channel"),
    ]);
    return { byType, bySource, byOs, byChannel };
  }, [tick]);

  const failed = useApi(
    async (signal) => {
      // a flow that failed marks its event metadata.error = true; a validator that refused it
      // sets metadata.valid = false and puts the reason in metadata.error
      const [events, flows] = await Promise.all([
        api.post<ListResult<FailedEvent>>("/event/select", { where: "metadata.error == true OR metadata.valid == false", limit: 10 }, { signal }),
        inbound
          ? api.get<ListResult<FlowSummary>>("/flows", { query: { limit: 1000 }, signal }).then((r) => r.result).catch(() => [] as FlowSummary[])
          : Promise.resolve([] as FlowSummary[]),
      ]);
      return { events, flowNames: new Map(flows.map((f) => [f.id, f.name])) };
    },
    [tick],
  );

  const empty = counts.data?.events === 0;
  const sourceNames = new Map((breakdown.data?.bySource ?? []).filter((b) => b.id).map((b) => [b.id!, b.name]));

  return (
    <Page
      title="Dashboard"
      subtitle="What cdpd has collected."
      actions={
        <>
          {updated && <span className="muted small">Updated {updated.toLocaleTimeString()} · every 30 s</span>}
          <Button onClick={refresh} busy={counts.loading && !!counts.data}>
            Refresh
          </Button>
        </>
      }
    >
      <div className="stack">
        <Async value={counts}>
          {(c) => (
            <div className="grid dash-stats">
              <Stat label="Events" value={c.events} recent={c.events24} href="#/data/events" />
              <Stat label="Profiles" value={c.profiles} recent={c.profiles24} href="#/data/profiles" recentLabel="updated in the last 24 h" />
              <Stat label="Sessions" value={c.sessions} recent={c.sessions24} href="#/data/sessions" />
            </div>
          )}
        </Async>

        {empty ? (
          <Empty title="No events yet">
            <p className="dash-empty-text">Once a site or a server sends events to the collector, they show here.</p>
            {inbound ? (
              <div className="row dash-empty-links">
                <a className="btn btn-primary" href="#/sources">
                  Create an event source
                </a>
                <a className="btn btn-secondary" href="#/test">
                  Send a test event
                </a>
              </div>
            ) : (
              <p className="dash-empty-text">Ask an administrator or developer to set up an event source.</p>
            )}
          </Empty>
        ) : (
          <>
            <Card
              title="Events over time"
              actions={
                <div className="dash-controls">
                  <Toggle label="Split by type" checked={split} onChange={setSplit} />
                  <div className="dash-seg" role="group" aria-label="Time range">
                    {RANGES.map((r) => (
                      <button key={r.key} type="button" aria-pressed={range === r.key} className={range === r.key ? "active" : ""} onClick={() => setRange(r.key)}>
                        {r.label}
                      </button>
                    ))}
                  </div>
                </div>
              }
            >
              <Async value={hist}>
                {(h) => {
                  const sr = h.series;
                  return (
                    <>
                      <p className="muted small dash-total">
                        {h.total.toLocaleString()} events in the {RANGES.find((r) => r.key === range)!.label.toLowerCase()}
                      </p>
                      <BarChart
                        label={`Events, ${RANGES.find((r) => r.key === range)!.label.toLowerCase()}`}
                        series={sr.series}
                        points={sr.points}
                        xLabel={(p) => bucketLabel(p.time, range)}
                        tooltip={(p) => formatDate(p.time)}
                      />
                    </>
                  );
                }}
              </Async>
            </Card>

            <div className="grid-2">
              <Breakdown title="Events by type" value={breakdown} pick={(b) => b.byType} />
              <Breakdown
                title="Events by source"
                value={breakdown}
                pick={(b) => b.bySource.map((x) => (x.name.startsWith("@internal") ? { ...x, name: "cdpd (system events)" } : x))}
                hint="System events (profile-created, visit-started…) come from cdpd itself."
              />
            </div>
            <div className="grid-2">
              <Breakdown title="Sessions by operating system" value={breakdown} pick={(b) => b.byOs} donut />
              <Breakdown title="Sessions by channel" value={breakdown} pick={(b) => b.byChannel} donut />
            </div>
          </>
        )}

        {!empty && (
          <Card title="Recent errors">
            <Async
              value={failed}
              empty={(d) => d.events.total === 0}
              emptyView={<p className="muted dash-none">No failed events: no workflow has failed and no event was refused by a validator.</p>}
            >
              {(d) => (
                <>
                  <p className="muted small dash-total">
                    Events whose workflow failed or that a validator refused, newest first{d.events.total > d.events.result.length ? ` (latest ${d.events.result.length} of ${d.events.total.toLocaleString()})` : ""}.
                    Select one for its JSON.
                  </p>
                  <Table
                    rows={d.events.result}
                    rowKey={(e) => e.id}
                    onRow={setOpenEvent}
                    selected={openEvent?.id}
                    columns={[
                      {
                        key: "time",
                        title: "Time",
                        render: (e) => <span className="dash-nowrap" title={formatDate(e.metadata?.time?.insert)}>{timeAgo(e.metadata?.time?.insert)}</span>,
                      },
                      {
                        key: "type",
                        title: "Type",
                        render: (e) => (
                          <button type="button" className="dash-link-btn" onClick={() => setOpenEvent(e)} title="Show the event's JSON">
                            <code>{e.type}</code>
                          </button>
                        ),
                      },
                      {
                        key: "source",
                        title: "Source",
                        render: (e) => sourceNames.get(e.source?.id ?? "") ?? <span className="inb-id">{e.source?.id ?? "—"}</span>,
                      },
                      { key: "error", title: "Error", render: (e) => <ErrorText e={e} flowNames={d.flowNames} /> },
                    ]}
                  />
                </>
              )}
            </Async>
          </Card>
        )}
      </div>

      {openEvent && (
        <Drawer title={`Event ${openEvent.type}`} onClose={() => setOpenEvent(undefined)}>
          <div className="stack">
            {openEvent.profile?.id && (
              <p style={{ margin: 0 }}>
                <a href={`#/data/profiles/${encodeURIComponent(openEvent.profile.id)}`}>Open the profile of this event</a>
              </p>
            )}
            <JsonView value={openEvent} />
          </div>
        </Drawer>
      )}
    </Page>
  );
}

function ErrorText({ e, flowNames }: { e: FailedEvent; flowNames: Map<string, string> }) {
  const m = e.metadata ?? {};
  if (m.valid === false)
    return (
      <span>
        <Badge tone="warn">Invalid</Badge> {typeof m.error === "string" ? m.error : "refused by a validator"}
      </span>
    );
  const errors = m.processed_by?.errors ?? [];
  if (errors.length)
    return (
      <span>
        {errors.map((x, i) => (
          <span key={i} className="dash-error-line">
            <Badge tone="error">Workflow failed</Badge> {flowNames.get(x.flow) ?? x.flow}: {x.message}
          </span>
        ))}
      </span>
    );
  const flows = (m.processed_by?.flows ?? []).map((id) => flowNames.get(id) ?? id);
  return (
    <span>
      <Badge tone="error">Workflow failed</Badge> {flows.length ? <>in {flows.join(", ")}</> : "a workflow failed"}
    </span>
  );
}

function Stat(props: { label: string; value: number; recent: number; href: string; recentLabel?: string }) {
  return (
    <a className="card stat dash-stat" href={props.href}>
      <span className="stat-label">{props.label}</span>
      <span className="stat-value">{props.value.toLocaleString()}</span>
      <span className="muted small">
        {props.recent ? <strong className="dash-up">+{props.recent.toLocaleString()}</strong> : "none"} {props.recentLabel ?? "in the last 24 h"}
      </span>
    </a>
  );
}

interface Breakdowns {
  byType: Bucket[];
  bySource: Bucket[];
  byOs: Bucket[];
  byChannel: Bucket[];
}

function Breakdown(props: { title: string; value: Loaded<Breakdowns>; pick: (b: Breakdowns) => Bucket[]; donut?: boolean; hint?: string }) {
  return (
    <Card title={props.title}>
      <Async value={props.value} empty={(b) => props.pick(b).length === 0} emptyView={<p className="muted dash-none">Nothing recorded yet.</p>}>
        {(b) => {
          const items = props.pick(b).map((x) => ({ name: x.name, value: x.value }));
          return (
            <>
              {props.donut ? <Donut items={items} label={props.title} /> : <HBarList items={items} label={props.title} />}
              {props.hint && <p className="muted small dash-hint">{props.hint}</p>}
            </>
          );
        }}
      </Async>
    </Card>
  );
}
