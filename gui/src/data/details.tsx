// The details of an event and of a session, shown in a drawer over the explorer.
import { useState } from "react";
import { Link } from "react-router";
import { api, getSession, hasRole, ROLES } from "../api";
import { useApi, useSession } from "../ui/hooks";
import { Async, Badge, Drawer, Empty, formatDate, Tabs } from "../ui/kit";
import { JsonView } from "../ui/json";
import { appLine, deviceLine, get, osLine, pick, shortId, type Doc } from "./fields";
import { Facts, KeyValue, ProfileLink, Section, SourceName, StatusBadge } from "./parts";
import { quote } from "./range";
import type { Found } from "./search";

export function EventDetails({ event, onSession }: { event: Doc; onSession?: (id: string) => void }) {
  const sessionId = pick(event, "session.id");
  const tags = get(event, "tags.values");
  return (
    <>
      <Facts
        items={[
          ["Type", <Badge tone="info">{String(event.type ?? "—")}</Badge>],
          ["Time", formatDate(get(event, "metadata.time.insert"))],
          ["Source", <SourceName id={get(event, "source.id")} />],
          ["Status", <StatusBadge event={event} />],
          ["Profile", <ProfileLink id={get(event, "profile.id")} />],
          [
            "Session",
            sessionId &&
              (onSession ? (
                <button type="button" className="data-linkbtn mono" onClick={() => onSession(sessionId)} title={sessionId}>
                  {shortId(sessionId)}
                </button>
              ) : (
                <span className="mono" title={sessionId}>
                  {shortId(sessionId)}
                </span>
              )),
          ],
          ["Channel", pick(event, "metadata.channel")],
          ["Tags", Array.isArray(tags) && tags.length ? tags.join(", ") : undefined],
        ]}
      />
      <Section title="Properties">
        <KeyValue value={event.properties} />
      </Section>
      <Section title="Traits">
        <KeyValue value={event.traits} />
      </Section>
      <Section title="Context">
        <KeyValue value={event.context} />
      </Section>
      <Section title="Device">
        <Facts items={[["Device", deviceLine(event)], ["OS", osLine(event)], ["App", appLine(event)]]} />
      </Section>
    </>
  );
}

export function EventDrawer({ event, onClose, onSession }: { event: Doc; onClose: () => void; onSession?: (id: string) => void }) {
  const [tab, setTab] = useState("details");
  return (
    <Drawer title={`Event ${String(event.type ?? "")}`} onClose={onClose}>
      <Tabs
        tabs={[
          { id: "details", label: "Details" },
          { id: "routing", label: `Workflows (${routing(event).flows.length})` },
          { id: "json", label: "JSON" },
        ]}
        value={tab}
        onChange={setTab}
      />
      {tab === "details" ? <EventDetails event={event} onSession={onSession} /> : tab === "routing" ? <EventRouting event={event} /> : <JsonView value={event} />}
    </Drawer>
  );
}

/** A session by id (or given whole), with its events. */
export function SessionDrawer({ id, session, onClose, onEvent }: { id: string; session?: Doc; onClose: () => void; onEvent?: (e: Doc) => void }) {
  const [tab, setTab] = useState("details");
  const loaded = useApi((signal) => (session ? Promise.resolve(session) : api.get<Doc>(`/session/${encodeURIComponent(id)}`, { signal })), [id, session]);
  const events = useApi(
    (signal) => api.post<Found>("/event/select", { where: `session.id == ${quote(id)}`, limit: 200 }, { signal }),
    [id],
  );
  return (
    <Drawer title={`Session ${shortId(id)}`} onClose={onClose}>
      <Tabs
        tabs={[
          { id: "details", label: "Details" },
          { id: "events", label: `Events${events.data ? ` (${events.data.total})` : ""}` },
          { id: "json", label: "JSON" },
        ]}
        value={tab}
        onChange={setTab}
      />
      <Async value={loaded}>
        {(s) =>
          tab === "details" ? (
            <>
              <Facts
                items={[
                  ["ID", <span className="mono data-break">{String(s.id)}</span>],
                  ["Started", formatDate(get(s, "metadata.time.insert"))],
                  ["Last activity", formatDate(get(s, "metadata.time.update"))],
                  ["Profile", <ProfileLink id={get(s, "profile.id")} />],
                  ["Device", deviceLine(s)],
                  ["OS", osLine(s)],
                  ["App", appLine(s)],
                  ["Resolution", pick(s, "device.resolution", "app.resolution")],
                  ["Location", [pick(s, "device.geo.city"), pick(s, "device.geo.country.name")].filter(Boolean).join(", ")],
                  ["Channel", pick(s, "metadata.channel")],
                ]}
              />
              <Section title="UTM">
                <KeyValue value={s.utm} />
              </Section>
              <Section title="Properties">
                <KeyValue value={s.properties} />
              </Section>
              <Section title="Context">
                <KeyValue value={s.context} />
              </Section>
            </>
          ) : tab === "events" ? (
            <Async value={events} empty={(d) => !d.result.length} emptyView={<Empty title="No events in this session" />}>
              {(d) => (
                <ul className="data-mini-list">
                  {d.result.map((e) => (
                    <li key={String(e.id)}>
                      <button type="button" className="data-mini-row" onClick={() => onEvent?.(e)} disabled={!onEvent}>
                        <Badge tone="info">{String(e.type)}</Badge>
                        <span className="muted small">{formatDate(get(e, "metadata.time.insert"))}</span>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </Async>
          ) : (
            <JsonView value={s} />
          )
        }
      </Async>
    </Drawer>
  );
}

interface RoutingError {
  flow?: string;
  rule?: string;
  message?: string;
}

/** What `metadata.processed_by` says ran the event: rules, flows (ids) and failures. */
function routing(event: Doc) {
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x !== "") : []);
  const errs = get(event, "metadata.processed_by.errors");
  return {
    rules: list(get(event, "metadata.processed_by.rules")),
    flows: list(get(event, "metadata.processed_by.flows")),
    errors: Array.isArray(errs) ? (errs.filter((e) => e && typeof e === "object") as RoutingError[]) : [],
  };
}

const ROW = { display: "flex", justifyContent: "space-between", alignItems: "center", flexWrap: "wrap", gap: 8, padding: "8px 10px" } as const;

interface Named {
  id: string;
  name?: string;
}

/** The rules and workflows that processed an event, their failures, and a way to replay it in each workflow. */
export function EventRouting({ event }: { event: Doc }) {
  useSession();
  const canFlows = hasRole(getSession(), ROLES.adminDev); // flows and rules are for admins and developers only
  const { rules, flows, errors } = routing(event);
  const eventId = String(event.id ?? "");
  const none = !rules.length && !flows.length && !errors.length;
  const names = useApi(
    async (signal) => {
      if (!canFlows || none) return { flows: new Map<string, string>(), rules: new Map<string, string>() };
      const [f, r] = await Promise.all([
        api.get<{ result: Named[] }>("/flows", { query: { limit: 1000 }, signal }),
        api.get<{ result: Named[] }>("/rules", { query: { limit: 1000 }, signal }),
      ]);
      const map = (xs: Named[]) => new Map(xs.filter((x) => x.id).map((x) => [x.id, x.name || x.id]));
      return { flows: map(f.result ?? []), rules: map(r.result ?? []) };
    },
    [canFlows, none],
  );
  if (none) return <Empty title="No workflow ran this event">No rule routed it to a workflow, or it was only stored.</Empty>;
  return (
    <Async value={names}>
      {(n) => {
        const flowName = (id: string) => n.flows.get(id) ?? id;
        // cdpd records rules by name; an id (Tracardi's) is looked up
        const ruleName = (r: string) => n.rules.get(r) ?? r;
        return (
          <>
            <Section title={`Workflows (${flows.length})`}>
              {flows.length ? (
                <ul className="data-mini-list" aria-label="Workflows that ran the event">
                  {flows.map((f) => {
                    const failed = errors.filter((e) => e.flow === f);
                    return (
                      <li key={f} style={ROW}>
                        <div style={{ display: "flex", flexDirection: "column", gap: 2, minWidth: 0 }}>
                          <strong>{flowName(f)}</strong>
                          <span className="mono small muted" style={{ overflowWrap: "anywhere" }}>{f}</span>
                        </div>
                        <div style={{ display: "flex", alignItems: "center", gap: 8, flexWrap: "wrap" }}>
                          {failed.length ? <Badge tone="error">failed</Badge> : <Badge tone="ok">ran</Badge>}
                          {canFlows && (
                            <Link className="btn btn-secondary btn-small" style={{ textDecoration: "none" }} to={`/flows/${encodeURIComponent(f)}?debug=${encodeURIComponent(eventId)}`}>
                              Debug in {flowName(f)}
                            </Link>
                          )}
                        </div>
                      </li>
                    );
                  })}
                </ul>
              ) : (
                <p className="muted">No workflow ran.</p>
              )}
            </Section>
            <Section title={`Rules (${rules.length})`}>
              {rules.length ? (
                <ul className="data-mini-list" aria-label="Rules that matched the event">
                  {rules.map((r) => (
                    <li key={r} style={{ padding: "8px 10px" }}>
                      {ruleName(r)}
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">No rule matched.</p>
              )}
            </Section>
            {errors.length > 0 && (
              <Section title={`Errors (${errors.length})`}>
                <ul className="data-mini-list" aria-label="Workflow errors">
                  {errors.map((e, i) => (
                    <li key={i} style={{ padding: "8px 10px" }}>
                      <div className="small muted">
                        {e.flow ? `Workflow ${flowName(e.flow)}` : "Workflow ?"}
                        {e.rule ? ` · rule ${ruleName(e.rule)}` : ""}
                      </div>
                      <div style={{ color: "var(--error)" }}>{e.message ?? "failed"}</div>
                    </li>
                  ))}
                </ul>
              </Section>
            )}
            {!canFlows && <p className="muted small">Workflows and rules are shown by id: your role cannot open them.</p>}
          </>
        );
      }}
    </Async>
  );
}
