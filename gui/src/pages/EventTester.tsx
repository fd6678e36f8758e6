// Event tester: compose a tracker payload, send it to the collector's /track as a site would,
// and look at what came back (profile, session, response, ux, errors).
import { useMemo, useState } from "react";
import { api } from "../api";
import { useCollectorUrl } from "../inbound/collector";
import { buildPayload, testerProblem, trackUrl, type BrowserInfo, type TesterForm } from "../inbound/payload";
import type { Bucket, EventSource, ListResult, TrackAnswer } from "../inbound/types";
import "../inbound/inbound.css";
import { useApi, useDataContext } from "../ui/hooks";
import { JsonEditor, JsonView } from "../ui/json";
import { Async, Badge, Button, Card, Empty, ErrorBox, Field, Page, SelectField, TagsField, TextField } from "../ui/kit";
import { toast } from "../ui/toast";

interface Result {
  status: number;
  ms: number;
  body: TrackAnswer | null;
  sent: Record<string, unknown>;
}

function browserInfo(): BrowserInfo {
  let tz: string | null = null;
  try {
    tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    /* an old browser: no time zone */
  }
  return {
    userAgent: navigator.userAgent,
    language: navigator.language,
    width: window.screen.width,
    height: window.screen.height,
    tz,
    url: window.location.href,
  };
}

function newId(): string {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
}

export default function EventTester() {
  const ctx = useDataContext();
  const data = useApi(
    async (signal) => {
      const [sources, types] = await Promise.all([
        api.get<ListResult<EventSource>>("/event-sources", { query: { limit: 1000, sort: "name" }, signal }),
        api.get<Bucket[]>("/events/by_type", { signal }).catch(() => [] as Bucket[]),
      ]);
      return { sources: sources.result, types: types.map((t) => t.name).filter(Boolean) };
    },
    [],
  );
  return (
    <Page title="Event tester" subtitle="Send an event to the collector as a site would, and see what cdpd answers.">
      <Async
        value={data}
        empty={(d) => d.sources.length === 0}
        emptyView={
          <Empty title="No event sources yet">
            Events are sent to a source. <a href="#/sources">Create an event source</a> with the REST API bridge first.
          </Empty>
        }
      >
        {(d) => <Tester key={ctx} sources={d.sources} types={d.types} />}
      </Async>
    </Page>
  );
}

function Tester({ sources, types }: { sources: EventSource[]; types: string[] }) {
  const [collector, setCollector] = useCollectorUrl();
  const ctx = useDataContext();
  const usable = sources.filter((s) => s.type?.includes("rest"));
  const [f, setF] = useState<TesterForm>(() => ({
    sourceId: (usable.find((s) => s.enabled) ?? usable[0] ?? sources[0]).id,
    profileId: "",
    sessionId: "",
    eventType: "page-view",
    properties: {},
    tags: [],
    sessionProperties: {},
    debug: true,
    profileLess: false,
    browserContext: true,
  }));
  const [jsonOk, setJsonOk] = useState({ properties: true, session: true });
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result>();
  const [failure, setFailure] = useState<string>();
  const set = <K extends keyof TesterForm>(k: K, v: TesterForm[K]) => setF((o) => ({ ...o, [k]: v }));
  const source = sources.find((s) => s.id === f.sourceId);
  const payload = useMemo(() => buildPayload(f, browserInfo()), [f]);
  const problem = testerProblem(f, collector) ?? (!jsonOk.properties || !jsonOk.session ? "Fix the JSON first." : undefined);

  const send = async () => {
    setBusy(true);
    setFailure(undefined);
    const t0 = performance.now();
    try {
      const res = await fetch(trackUrl(collector, f.profileLess), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      const text = await res.text();
      let body: TrackAnswer | null = null;
      try {
        body = text ? (JSON.parse(text) as TrackAnswer) : null;
      } catch {
        body = { errors: [text] };
      }
      setResult({ status: res.status, ms: Math.round(performance.now() - t0), body, sent: payload });
      if (res.ok) toast(res.status === 226 ? "Sent; a workflow reported errors" : "Event sent", res.status === 226 ? "info" : "ok");
    } catch (e) {
      // fetch fails only when nothing answered (wrong URL, collector down, CORS)
      setResult(undefined);
      setFailure(`No answer from ${trackUrl(collector, f.profileLess)}: ${(e as Error).message}. Check the collector URL.`);
    } finally {
      setBusy(false);
    }
  };

  const detail = result?.body && "detail" in (result.body as object) ? (result.body as { detail: unknown }).detail : undefined;
  const profileId = result?.body?.profile?.id ?? undefined;
  const sessionId = result?.body?.session?.id ?? undefined;

  return (
    <div className="inb-tester">
      <Card title="Payload">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!problem) send();
          }}
        >
          <TextField label="Collector URL" value={collector} onChange={setCollector} mono hint="cdpd's collector listener (port 8686 by default); CORS is open there." />
          {ctx === "staging" && (
            <p className="inb-note inb-note-warn">
              You are on staging. A collector stores into production unless it was started with <code>--context staging</code>: send to
              that one to try staging's sources and rules.
            </p>
          )}
          <SelectField
            label="Source"
            value={f.sourceId}
            onChange={(v) => set("sourceId", v)}
            options={sources.map((s) => ({
              value: s.id,
              label: `${s.name}${s.enabled ? "" : " (disabled)"}${s.type?.includes("rest") ? "" : " (no REST API)"}`,
            }))}
            hint={
              source && !source.type?.includes("rest") ? (
                <span className="inb-warn-text">This source lacks the REST API bridge: /track answers 403.</span>
              ) : source && !source.enabled ? (
                <span className="inb-warn-text">This source is disabled: /track answers 403.</span>
              ) : undefined
            }
          />
          <Field label="Event type">
            {(id) => (
              <>
                <input id={id} className="mono" list={`${id}-types`} value={f.eventType} onChange={(e) => set("eventType", e.target.value)} autoComplete="off" />
                <datalist id={`${id}-types`}>
                  {types.map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <TextField label="Profile ID" value={f.profileId} onChange={(v) => set("profileId", v)} mono placeholder="empty: a new profile" />
          <div className="inb-inline-field">
            <TextField label="Session ID" value={f.sessionId} onChange={(v) => set("sessionId", v)} mono placeholder="empty: cdpd starts a new session" />
            <Button onClick={() => set("sessionId", newId())}>New session ID</Button>
          </div>
          <JsonEditor label="Event properties" value={f.properties} rows={6} onChange={(v) => set("properties", v)} onValidity={(ok) => setJsonOk((o) => ({ ...o, properties: ok }))} />
          <TagsField label="Event tags" value={f.tags} onChange={(v) => set("tags", v)} />
          <details className="inb-details">
            <summary>More options</summary>
            <JsonEditor
              label="Session properties"
              value={f.sessionProperties}
              rows={3}
              onChange={(v) => set("sessionProperties", v)}
              onValidity={(ok) => setJsonOk((o) => ({ ...o, session: ok }))}
            />
            <label className="inb-check">
              <input type="checkbox" aria-label="Debug" checked={f.debug} onChange={(e) => set("debug", e.target.checked)} />
              <span>
                Debug <span className="field-hint">the answer lists the ids of the stored events (options.debugger)</span>
              </span>
            </label>
            <label className="inb-check">
              <input type="checkbox" aria-label="Send this browser's context" checked={f.browserContext} onChange={(e) => set("browserContext", e.target.checked)} />
              <span>
                Send this browser's context <span className="field-hint">user agent, language, screen, time zone</span>
              </span>
            </label>
            <label className="inb-check">
              <input type="checkbox" aria-label="Profile-less" checked={f.profileLess} onChange={(e) => set("profileLess", e.target.checked)} />
              <span>
                Profile-less <span className="field-hint">no profile is loaded or made (?profile_less=true)</span>
              </span>
            </label>
          </details>
          <div className="inb-send">
            <Button kind="primary" type="submit" busy={busy} disabled={!!problem}>
              Send
            </Button>
            {problem && <span className="muted small">{problem}</span>}
          </div>
        </form>
      </Card>

      <div className="stack">
        {failure && <ErrorBox error={failure} />}
        {result ? (
          <Card
            title="Response"
            actions={
              profileId || sessionId ? (
                <Button
                  small
                  onClick={() => {
                    setF((o) => ({ ...o, profileId: profileId ?? o.profileId, sessionId: sessionId ?? o.sessionId }));
                    toast("The next event goes to this profile and session");
                  }}
                >
                  Use these IDs
                </Button>
              ) : undefined
            }
          >
            <div className="inb-status">
              <Badge tone={result.status === 200 ? "ok" : result.status === 226 ? "warn" : "error"}>HTTP {result.status}</Badge>
              <span className="muted small">{result.ms} ms</span>
            </div>
            {detail !== undefined && <ErrorBox error={typeof detail === "string" ? detail : JSON.stringify(detail)} />}
            {result.body === null && <p className="muted">The collector answered null: there were no events to process.</p>}
            {result.body && detail === undefined && (
              <>
                <dl className="inb-kv" style={{ marginBottom: 12 }}>
                  <dt>Profile</dt>
                  <dd>
                    {profileId ? (
                      <>
                        <code>{profileId}</code> · <a href={`#/data/profiles/${encodeURIComponent(profileId)}`}>Open profile</a>
                      </>
                    ) : (
                      <span className="muted">none (profile-less)</span>
                    )}
                  </dd>
                  <dt>Session</dt>
                  <dd>{sessionId ? <code>{sessionId}</code> : <span className="muted">none</span>}</dd>
                  {!!result.body.events?.length && (
                    <>
                      <dt>Stored events</dt>
                      <dd>
                        {result.body.events.map((id) => (
                          <div key={id}>
                            <code>{id}</code>
                          </div>
                        ))}
                      </dd>
                    </>
                  )}
                </dl>
                {!!result.body.errors?.length && (
                  <ul className="inb-errors" aria-label="Errors">
                    {result.body.errors.map((e, i) => (
                      <li key={i}>{e}</li>
                    ))}
                  </ul>
                )}
                {!!result.body.warnings?.length && (
                  <ul className="inb-errors inb-warnings" aria-label="Warnings">
                    {result.body.warnings.map((e, i) => (
                      <li key={i}>{e}</li>
                    ))}
                  </ul>
                )}
                <h3>Workflow response</h3>
                {result.body.response && Object.keys(result.body.response).length ? (
                  <JsonView value={result.body.response} />
                ) : (
                  <p className="muted small">No workflow wrote a response.</p>
                )}
                <h3>UX widgets</h3>
                {result.body.ux?.length ? <JsonView value={result.body.ux} /> : <p className="muted small">No workflow added a UX widget.</p>}
              </>
            )}
            <details className="inb-details" style={{ marginTop: 12 }}>
              <summary>Whole answer</summary>
              <JsonView value={result.body} />
            </details>
          </Card>
        ) : (
          !failure && (
            <Card title="Response">
              <p className="muted" style={{ margin: 0 }}>
                Nothing sent yet. The answer of the collector shows here.
              </p>
            </Card>
          )
        )}
        <Card title="What will be sent">
          <p className="muted small" style={{ marginTop: 0 }}>
            <code>POST {trackUrl(collector, f.profileLess)}</code>
          </p>
          <JsonView value={payload} open={3} />
        </Card>
      </div>
    </div>
  );
}
