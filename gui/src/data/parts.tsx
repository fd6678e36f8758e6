// Small shared pieces of the data screens.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { getSession, hasRole, ROLES } from "../api";
import { eventSources, useCached } from "../config/fields";
import { Badge, Empty, formatDate } from "../ui/kit";
import { flatten, get, shortId, show, type Doc } from "./fields";
import "./data.css";

/** Nested data as readable "path: value" rows; empty values are left out. */
export function KeyValue({ value, empty = "Nothing recorded", strip }: { value: unknown; empty?: string; strip?: string }) {
  const rows = flatten(value);
  if (!rows.length) return <p className="muted data-none">{empty}</p>;
  return (
    <dl className="data-kv">
      {rows.map(([k, v]) => (
        <div key={k} className="data-kv-row">
          <dt title={k}>{strip && k.startsWith(strip) ? k.slice(strip.length) : k}</dt>
          <dd>{looksLikeTime(k, v) ? formatDate(v) : show(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function looksLikeTime(k: string, v: unknown): boolean {
  return typeof v === "string" && /(^|\.)(insert|create|update|time|revoke|last|current|start)$/.test(k) && /^\d{4}-\d\d-\d\dT/.test(v);
}

/** A profile id as a link to its page; clicks do not reach the table row under it. */
export function ProfileLink({ id, children }: { id: unknown; children?: ReactNode }) {
  if (typeof id !== "string" || !id) return <span className="muted">—</span>;
  return (
    <Link to={`/data/profiles/${encodeURIComponent(id)}`} className="mono data-link" onClick={(e) => e.stopPropagation()} title={id}>
      {children ?? shortId(id)}
    </Link>
  );
}

export function StatusBadge({ event }: { event: Doc }) {
  const status = get(event, "metadata.status");
  if (get(event, "metadata.error") === true) return <Badge tone="error">error</Badge>;
  if (get(event, "metadata.valid") === false) return <Badge tone="warn">invalid</Badge>;
  if (get(event, "metadata.warning") === true) return <Badge tone="warn">{String(status ?? "warning")}</Badge>;
  return <Badge tone={status === "processed" ? "ok" : "neutral"}>{typeof status === "string" ? status : "—"}</Badge>;
}

/** Label/value pairs of known fields, in a grid. */
export function Facts({ items }: { items: [ReactNode, ReactNode][] }) {
  return (
    <dl className="data-facts">
      {items.map(([k, v], i) => (
        <div key={i}>
          <dt>{k}</dt>
          <dd>{v === undefined || v === null || v === "" ? <span className="muted">—</span> : v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Section({ title, children }: { title: ReactNode; children: ReactNode }) {
  return (
    <section className="data-section">
      <h3>{title}</h3>
      {children}
    </section>
  );
}

/** The short help of the query box: the language with examples per index. */
export function QueryHelp({ examples, onPick }: { examples: string[]; onPick: (q: string) => void }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const h = (e: MouseEvent) => ref.current && !ref.current.contains(e.target as Node) && setOpen(false);
    const k = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("mousedown", h);
    document.addEventListener("keydown", k);
    return () => {
      document.removeEventListener("mousedown", h);
      document.removeEventListener("keydown", k);
    };
  }, [open]);
  return (
    <div className="data-help" ref={ref}>
      <button type="button" className="btn btn-ghost btn-small" aria-expanded={open} aria-haspopup="dialog" onClick={() => setOpen(!open)}>
        Query help
      </button>
      {open && (
        <div className="data-help-pop" role="dialog" aria-label="Query help">
          <p>
            Conditions of Tracardi's language, on the documents' own fields (no <code>event@</code> prefix needed). Leave
            empty to see everything.
          </p>
          <ul>
            <li>
              <code>==  !=  &gt;  &gt;=  &lt;  &lt;=</code>, <code>BETWEEN 1 AND 5</code>
            </li>
            <li>
              <code>EXISTS</code>, <code>NOT EXISTS</code>, <code>EMPTY</code>, <code>IS NULL</code>
            </li>
            <li>
              <code>CONTAINS</code>, <code>STARTS WITH</code>, <code>ENDS WITH</code>
            </li>
            <li>
              <code>AND</code>, <code>OR</code>, <code>NOT (…)</code>, parentheses
            </li>
            <li>
              <code>now.offset("-1d")</code>, <code>datetime("2024-01-01")</code>, <code>lowercase(…)</code>
            </li>
          </ul>
          <p className="muted small">Examples (click to use):</p>
          <div className="data-help-examples">
            {examples.map((q) => (
              <button
                key={q}
                type="button"
                className="data-example mono"
                onClick={() => {
                  onPick(q);
                  setOpen(false);
                }}
              >
                {q}
              </button>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}

export function NotFound({ what, children }: { what: string; children?: ReactNode }) {
  return <Empty title={`${what} not found`}>{children}</Empty>;
}

const noSources = () => Promise.resolve([] as { id: string; name: string }[]);
/** An event source by its name (the id on hover); cdpd's own events as such. Only roles that may
 * list the sources ask for them; the others see the id. */
export function SourceName({ id }: { id: unknown }) {
  const may = hasRole(getSession(), ROLES.adminDev);
  const sources = useCached(may ? eventSources : noSources, []);
  if (typeof id !== "string" || !id) return <span className="muted">—</span>;
  if (id.startsWith("@internal")) return <span className="muted" title={id}>cdpd (system)</span>;
  const name = sources.find((s) => s.id === id)?.name;
  return <span title={name ? id : undefined}>{name ?? id}</span>;
}
