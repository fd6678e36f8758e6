// The details of an event and of a session, shown in a drawer over the explorer.
import { useState } from "react";
import { api } from "../api";
import { useApi } from "../ui/hooks";
import { Async, Badge, Drawer, Empty, formatDate, Tabs } from "../ui/kit";
import { JsonView } from "../ui/json";
import { appLine, deviceLine, get, osLine, pick, shortId, type Doc } from "./fields";
import { Facts, KeyValue, ProfileLink, Section, SourceName, StatusBadge } from "./parts";
import { quote } from "./range";
import type { Found } from "./search";

export function EventDetails({ event, onSession }: { event: Doc; onSession?: (id: string) => void }) {
  const sessionId = pick(event, "session.id");
  const rules = get(event, "metadata.processed_by.rules");
  const flows = get(event, "metadata.processed_by.flows");
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
      {(Array.isArray(rules) && rules.length > 0) || (Array.isArray(flows) && flows.length > 0) ? (
        <Section title="Processed by">
          <KeyValue value={{ rules, flows }} />
        </Section>
      ) : null}
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
          { id: "json", label: "JSON" },
        ]}
        value={tab}
        onChange={setTab}
      />
      {tab === "details" ? <EventDetails event={event} onSession={onSession} /> : <JsonView value={event} />}
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
