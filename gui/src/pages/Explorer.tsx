// The data explorer: events, profiles and sessions searched with the condition language over a
// time range, a histogram of counts and a paged list. Its state lives in the URL's search
// params, so a reload or a shared link shows the same search.
import { useEffect, useMemo, useState } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { ApiError } from "../api";
import { EventDrawer, SessionDrawer } from "../data/details";
import { appLine, deviceLine, get, osLine, personEmail, personName, shortId, visitCount, type Doc } from "../data/fields";
import { Histogram } from "../data/Histogram";
import { ProfileLink, QueryHelp, SourceName, StatusBadge } from "../data/parts";
import {
  intervalSeconds,
  RELATIVE,
  zoomRange,
  rangeFromParams,
  rangeProblem,
  rangeToParams,
  toLocalInput,
  type Index,
  type RangeKind,
  type TimeRange,
} from "../data/range";
import { histogram, PAGE_SIZE, searchRange } from "../data/search";
import { useApi } from "../ui/hooks";
import { Badge, Button, Column, Empty, ErrorBox, formatDate, Loading, Page, Pager, Table, timeAgo } from "../ui/kit";
import "../data/data.css";

const KINDS: { index: Index; path: string; label: string; one: string }[] = [
  { index: "event", path: "/data/events", label: "Events", one: "event" },
  { index: "profile", path: "/data/profiles", label: "Profiles", one: "profile" },
  { index: "session", path: "/data/sessions", label: "Sessions", one: "session" },
];

const EXAMPLES: Record<Index, string[]> = {
  event: [
    'type == "purchase"',
    'type == ["page-view", "purchase"] AND source.id == "web"',
    "properties.total > 50",
    'metadata.status == "error" OR metadata.error == true',
    'metadata.time.insert > now.offset("-1h")',
  ],
  profile: [
    "data.contact.email.main EXISTS",
    'segments CONTAINS "vip"',
    'lowercase(data.pii.firstname) STARTS WITH "ada"',
    "metadata.time.visit.count >= 2",
    "traits.plan NOT EMPTY",
  ],
  session: [
    'os.name == "iOS"',
    'device.type == "mobile"',
    'profile.id == "…"',
    'device.geo.country.name == "Germany"',
    'utm.source EXISTS',
  ],
};

export default function Explorer() {
  const loc = useLocation();
  const kind = KINDS.find((k) => loc.pathname.startsWith(k.path)) ?? KINDS[0];
  // a fresh view per kind, so rows of one kind are never drawn with the columns of another
  return <ExplorerView key={kind.index} kind={kind} />;
}

function ExplorerView({ kind }: { kind: (typeof KINDS)[number] }) {
  const nav = useNavigate();
  const index = kind.index;
  const [params, setParams] = useSearchParams();
  const where = params.get("q") ?? "";
  const range = rangeFromParams(params);
  const page = Math.max(0, parseInt(params.get("page") ?? "0", 10) || 0);
  const [text, setText] = useState(where);
  useEffect(() => setText(where), [where]);
  const [tick, setTick] = useState(0);
  const [event, setEvent] = useState<Doc>();
  const [session, setSession] = useState<{ id: string; doc?: Doc }>();
  const problem = rangeProblem(range);
  const rangeKey = `${range.kind}|${range.from ?? ""}|${range.to ?? ""}`;

  const list = useApi(
    (signal) => (problem ? Promise.resolve(undefined) : searchRange(index, where, range, page, signal)),
    [index, where, rangeKey, page, tick],
  );
  const hist = useApi(
    (signal) => (problem ? Promise.resolve(undefined) : histogram(index, where, range, signal)),
    [index, where, rangeKey, tick],
  );

  const update = (fn: (p: URLSearchParams) => URLSearchParams) => setParams(fn(new URLSearchParams(params)));
  const search = (q: string) =>
    update((p) => {
      if (q.trim()) p.set("q", q.trim());
      else p.delete("q");
      p.delete("page");
      return p;
    });
  const setRange = (r: TimeRange) =>
    update((p) => {
      const n = rangeToParams(r, p);
      n.delete("page");
      return n;
    });
  const setPage = (n: number) =>
    update((p) => {
      if (n) p.set("page", String(n));
      else p.delete("page");
      return p;
    });
  // the query error of either call; the server names where and why
  const queryError = [list.error, hist.error].find((e) => e instanceof ApiError && e.status === 422) as ApiError | undefined;
  const otherError = [list.error, hist.error].find((e) => e && !(e instanceof ApiError && e.status === 422));

  const columns = useMemo(() => columnsOf(index), [index]);

  return (
    <Page
      title={kind.label}
      subtitle={`Search the ${kind.label.toLowerCase()} collected in this context.`}
      actions={
        <div className="data-switch" role="group" aria-label="Data type">
          {KINDS.map((k) => (
            <Link
              key={k.index}
              to={{ pathname: k.path, search: keepSearch(params) }}
              className={k.index === index ? "active" : ""}
              aria-current={k.index === index ? "page" : undefined}
            >
              {k.label}
            </Link>
          ))}
        </div>
      }
    >
      <form
        className="card data-query"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim() === where) setTick((t) => t + 1);
          else search(text);
        }}
      >
        <div className="data-query-row">
          <div className={`field data-query-field${queryError ? " field-invalid" : ""}`}>
            <label htmlFor="data-q">Query</label>
            <input
              id="data-q"
              className="mono"
              value={text}
              placeholder={`e.g. ${EXAMPLES[index][0]}   (empty = all ${kind.label.toLowerCase()})`}
              onChange={(e) => setText(e.target.value)}
              aria-invalid={!!queryError}
              aria-describedby={queryError ? "data-q-error" : undefined}
              spellCheck={false}
              autoComplete="off"
            />
          </div>
          <div className="field data-range-field">
            <label htmlFor="data-range">Time range</label>
            <select
              id="data-range"
              value={range.kind}
              onChange={(e) => {
                const k = e.target.value as RangeKind;
                if (k === "abs") {
                  const now = new Date();
                  setRange({ kind: "abs", from: toLocalInput(new Date(now.getTime() - 86400000)), to: toLocalInput(now) });
                } else setRange({ kind: k });
              }}
            >
              {RELATIVE.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.label}
                </option>
              ))}
              <option value="all">All time</option>
              <option value="abs">Between dates…</option>
            </select>
          </div>
          <div className="data-query-buttons">
            <Button kind="primary" type="submit">
              Search
            </Button>
            <Button onClick={() => setTick((t) => t + 1)} busy={list.loading && !!list.data} aria-label="Refresh">
              Refresh
            </Button>
          </div>
        </div>
        {range.kind === "abs" && (
          <div className="data-abs">
            <div className="field">
              <label htmlFor="data-from">From</label>
              <input id="data-from" type="datetime-local" value={range.from ?? ""} onChange={(e) => setRange({ ...range, from: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor="data-to">To</label>
              <input id="data-to" type="datetime-local" value={range.to ?? ""} onChange={(e) => setRange({ ...range, to: e.target.value })} />
            </div>
            <span className="muted small data-abs-hint">Your local time. Leave “To” empty for now.</span>
          </div>
        )}
        {queryError && (
          <div className="data-query-error" id="data-q-error" role="alert">
            <strong>Query error:</strong> {queryError.message}
            {caret(where, queryError.body)}
          </div>
        )}
        {problem && (
          <div className="data-query-error" role="alert">
            {problem}
          </div>
        )}
        <div className="data-query-foot">
          <QueryHelp examples={EXAMPLES[index]} onPick={(q) => search(q)} />
          {where && (
            <Button small kind="ghost" onClick={() => search("")}>
              Clear query
            </Button>
          )}
        </div>
      </form>

      {otherError && <ErrorBox error={otherError} retry={() => setTick((t) => t + 1)} />}

      {!queryError && !problem && (
        <>
          <div className="card data-hist-card">
            <div className="data-hist-head">
              <h2>{kind.label} over time</h2>
              <span className="muted small">
                {hist.data
                  ? `${hist.data.total >= 10000 ? "10,000+" : hist.data.total.toLocaleString()} in ${rangeLabel(range)}${hist.data.result[0]?.interval ? ` · bars of ${hist.data.result[0].interval.replace("+", "")}` : ""}`
                  : ""}
              </span>
            </div>
            {hist.data ? (
              hist.data.result.length ? (
                <Histogram
                  buckets={hist.data.result}
                  label={`${kind.label} over time`}
                  onPick={(b) => {
                    // zoom into the bar's interval
                    const z = zoomRange(b.time, intervalSeconds(b.interval));
                    if (z) setRange(z);
                  }}
                />
              ) : (
                <p className="muted data-none">Nothing in this range.</p>
              )
            ) : hist.loading ? (
              <Loading />
            ) : null}
          </div>

          {list.data === undefined ? (
            list.loading ? (
              <Loading />
            ) : null
          ) : list.data.result.length === 0 ? (
            <Empty title={`No ${kind.label.toLowerCase()} found`}>
              {where ? "Nothing matches the query in this time range." : "Nothing was collected in this time range."} Try a
              longer range{where ? " or another query" : ""}.
            </Empty>
          ) : (
            <div className={list.loading ? "data-stale" : undefined}>
              <Table
                rows={list.data.result}
                columns={columns}
                rowKey={(r) => String(r.id)}
                selected={index === "event" ? (event?.id as string) : session?.id}
                focusRows={false}
                onRow={(r) => {
                  if (index === "event") setEvent(r);
                  else if (index === "session") setSession({ id: String(r.id), doc: r });
                  else nav(`/data/profiles/${encodeURIComponent(String(r.id))}`);
                }}
              />
              <Pager page={page} size={PAGE_SIZE} total={list.data.total} onPage={setPage} />
            </div>
          )}
        </>
      )}

      {event && (
        <EventDrawer
          event={event}
          onClose={() => setEvent(undefined)}
          onSession={(id) => {
            setEvent(undefined);
            setSession({ id });
          }}
        />
      )}
      {session && (
        <SessionDrawer
          id={session.id}
          session={session.doc}
          onClose={() => setSession(undefined)}
          onEvent={(e) => {
            setSession(undefined);
            setEvent(e);
          }}
        />
      )}
    </Page>
  );
}

/** The query with a mark under the place the server names (1-based `position`). */
function caret(q: string, body: unknown) {
  const pos = (body as { position?: unknown })?.position;
  if (typeof pos !== "number" || !q || pos < 1 || pos > q.length + 1) return null;
  return (
    <div className="data-caret" aria-hidden>
      {q}
      {"\n" + " ".repeat(pos - 1) + "^"}
    </div>
  );
}

/** Keeps the range when switching between events, profiles and sessions; the query and page
 * belong to one kind of document. */
function keepSearch(p: URLSearchParams): string {
  const n = new URLSearchParams();
  for (const k of ["range", "from", "to"]) {
    const v = p.get(k);
    if (v) n.set(k, v);
  }
  const s = n.toString();
  return s ? "?" + s : "";
}

function rangeLabel(r: TimeRange): string {
  const rel = RELATIVE.find((x) => x.id === r.kind);
  if (rel) return rel.label.toLowerCase();
  if (r.kind === "all") return "all time";
  return `${r.from ? formatDate(new Date(r.from).toISOString()) : "…"} – ${r.to ? formatDate(new Date(r.to).toISOString()) : "now"}`;
}

/** The first cell is a button so a row can be opened from the keyboard; its click bubbles to the row. */
function Open({ children, label }: { children: React.ReactNode; label: string }) {
  return (
    <button type="button" className="data-rowbtn" aria-label={label}>
      {children}
    </button>
  );
}

function columnsOf(index: Index): Column<Doc>[] {
  if (index === "event")
    return [
      {
        key: "time",
        title: "Time",
        render: (e) => (
          <Open label={`Open event ${String(e.type)} of ${formatDate(get(e, "metadata.time.insert"))}`}>
            <span title={timeAgo(get(e, "metadata.time.insert"))}>{formatDate(get(e, "metadata.time.insert"))}</span>
          </Open>
        ),
      },
      { key: "type", title: "Type", render: (e) => <Badge tone="info">{String(e.type ?? "—")}</Badge> },
      { key: "source", title: "Source", render: (e) => <SourceName id={get(e, "source.id")} /> },
      { key: "profile", title: "Profile", render: (e) => <ProfileLink id={get(e, "profile.id")} /> },
      { key: "status", title: "Status", render: (e) => <StatusBadge event={e} /> },
    ];
  if (index === "profile")
    return [
      {
        key: "name",
        title: "Name",
        render: (p) => (
          <Open label={`Open profile ${personName(p) ?? personEmail(p) ?? String(p.id)}`}>
            {personName(p) ?? <span className="muted">Anonymous</span>}
          </Open>
        ),
      },
      { key: "email", title: "E-mail", render: (p) => personEmail(p) ?? <span className="muted">—</span> },
      { key: "visits", title: "Visits", className: "num", render: (p) => visitCount(p).toLocaleString() },
      {
        key: "last",
        title: "Last visit",
        render: (p) => formatDate(get(p, "metadata.time.visit.current") ?? get(p, "metadata.time.visit.last") ?? get(p, "metadata.time.update")),
      },
      {
        key: "segments",
        title: "Segments",
        render: (p) => {
          const s = Array.isArray(p.segments) ? (p.segments as string[]) : [];
          return s.length ? (
            <span className="data-chips">
              {s.slice(0, 4).map((x) => (
                <span key={x} className="chip data-chip">
                  {x}
                </span>
              ))}
              {s.length > 4 && <span className="muted small">+{s.length - 4}</span>}
            </span>
          ) : (
            <span className="muted">—</span>
          );
        },
      },
      { key: "id", title: "ID", render: (p) => <span className="mono muted" title={String(p.id)}>{shortId(p.id)}</span> },
    ];
  return [
    {
      key: "start",
      title: "Started",
      render: (s) => (
        <Open label={`Open session ${String(s.id)}`}>
          <span title={timeAgo(get(s, "metadata.time.insert"))}>{formatDate(get(s, "metadata.time.insert"))}</span>
        </Open>
      ),
    },
    { key: "id", title: "Session", render: (s) => <span className="mono" title={String(s.id)}>{shortId(s.id)}</span> },
    { key: "profile", title: "Profile", render: (s) => <ProfileLink id={get(s, "profile.id")} /> },
    { key: "device", title: "Device", render: (s) => deviceLine(s) },
    { key: "os", title: "OS", render: (s) => osLine(s) },
    { key: "app", title: "App", render: (s) => appLine(s) },
  ];
}
