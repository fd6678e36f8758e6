// Monitoring → Audit log: every change made through the API, newest first (admin only).
import { useState } from "react";
import { api } from "../api";
import { useApi, useDataContext, useDebounced } from "../ui/hooks";
import { Async, Badge, Button, Drawer, Empty, Page, Pager, Table, TextField, formatDate, timeAgo } from "../ui/kit";
import { JsonView } from "../ui/json";
import { deployRows, diffKeys, kindLabel, localToIso, shortValue, statusTone, type AuditRecord, type KeyChange } from "../admin/helpers";
import { KindsTable } from "../admin/DeployReport";
import "../admin/admin.css";

const SIZE = 50;
// kinds the server records (docs/api.md); offered as suggestions, any other may be typed
const KINDS = [
  "user",
  "user-preference",
  "event-source",
  "flow",
  "flow-production",
  "rule",
  "segment",
  "consent-type",
  "event-validator",
  "event-to-profile",
  "event-reshaping",
  "identification-point",
  "resource",
  "destination",
  "setting",
  "production",
  "profile",
  "erasure",
];

export default function Audit() {
  const ctx = useDataContext();
  const [page, setPage] = useState(0);
  const [user, setUser] = useState("");
  const [kind, setKind] = useState("");
  const [since, setSince] = useState("");
  const [open, setOpen] = useState<AuditRecord>();
  const fUser = useDebounced(user.trim());
  const fKind = useDebounced(kind.trim());
  const records = useApi(
    (signal) =>
      api.get<{ total: number; result: AuditRecord[] }>("/audit", {
        signal,
        query: { start: page * SIZE, limit: SIZE, user: fUser, kind: fKind, since: localToIso(since) },
      }),
    [page, fUser, fKind, since],
  );
  const filtered = !!(fUser || fKind || since);
  const set = (fn: (v: string) => void) => (v: string) => {
    fn(v);
    setPage(0);
  };

  return (
    <Page
      title="Audit log"
      subtitle={
        <>
          Every change made through the API, newest first, in {ctx === "staging" ? "staging" : "production"}. Staging keeps its own log;
          users' changes and deploys are in production's.
        </>
      }
      actions={<Button onClick={records.reload}>Refresh</Button>}
    >
      <div className="stack">
        <div className="card">
          <div className="adm-filters">
            <TextField label="User" value={user} onChange={set(setUser)} placeholder="E-mail or id of who acted" />
            <KindField value={kind} onChange={set(setKind)} />
            <TextField label="Since" type="datetime-local" value={since} onChange={set(setSince)} />
            <Button
              disabled={!user && !kind && !since}
              onClick={() => {
                setUser("");
                setKind("");
                setSince("");
                setPage(0);
              }}
            >
              Clear filters
            </Button>
          </div>
        </div>
        <div>
          <Async
            value={records}
            empty={(d) => d.result.length === 0}
            emptyView={
              <Empty title={filtered ? "No records match" : "No changes recorded yet"}>
                {filtered ? "Try other filters." : "Changes made in this context will be listed here."}
              </Empty>
            }
          >
            {(d) => (
              <>
                <Table
                  rows={d.result}
                  rowKey={(r) => r.id}
                  onRow={setOpen}
                  selected={open?.id}
                  columns={[
                    {
                      key: "time",
                      title: "Time",
                      render: (r) => (
                        <span className="adm-time">
                          {formatDate(r.time)}
                          <span className="muted small">{timeAgo(r.time)}</span>
                        </span>
                      ),
                    },
                    { key: "user", title: "User", render: (r) => r.user?.email ?? <span className="muted">command line</span> },
                    {
                      key: "action",
                      title: "Action",
                      render: (r) => (
                        <span className="adm-path">
                          <span className="adm-method">{r.method}</span>
                          {r.path}
                        </span>
                      ),
                    },
                    { key: "entity", title: "Entity", render: (r) => <EntityCell r={r} /> },
                    { key: "status", title: "Status", render: (r) => <Badge tone={statusTone(r.status)}>{r.status}</Badge> },
                  ]}
                />
                <Pager page={page} size={SIZE} total={d.total} onPage={setPage} />
              </>
            )}
          </Async>
        </div>
      </div>
      {open && <RecordDrawer r={open} onClose={() => setOpen(undefined)} />}
    </Page>
  );
}

function KindField(props: { value: string; onChange: (v: string) => void }) {
  // a text input with suggestions: the server takes any kind, and later versions add kinds
  return (
    <div className="field">
      <label htmlFor="adm-audit-kind">Entity kind</label>
      <input id="adm-audit-kind" list="adm-audit-kinds" value={props.value} placeholder="Any" onChange={(e) => props.onChange(e.target.value)} />
      <datalist id="adm-audit-kinds">
        {KINDS.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
    </div>
  );
}

function EntityCell({ r }: { r: AuditRecord }) {
  if (!r.entity?.kind) return <span className="muted">—</span>;
  const id = r.entity.id ?? (r.entity.id_sha256 ? `sha256 ${r.entity.id_sha256.slice(0, 12)}…` : "");
  // a user's id is a uuid: their e-mail, from the recorded document, says more
  const doc = (r.after ?? r.before) as { email?: unknown } | null | undefined;
  const email = r.entity.kind === "user" && doc && typeof doc.email === "string" ? doc.email : undefined;
  return (
    <span>
      <Badge>{r.entity.kind}</Badge> <span className="adm-path" title={id}>{email ?? id}</span>
    </span>
  );
}

function RecordDrawer({ r, onClose }: { r: AuditRecord; onClose: () => void }) {
  const hasDocs = (r.before !== undefined && r.before !== null) || (r.after !== undefined && r.after !== null);
  const changes = hasDocs ? diffKeys(r.before ?? null, r.after ?? null) : [];
  const deploy = r.deploy && typeof r.deploy === "object" ? r.deploy : undefined;
  return (
    <Drawer title="Audit record" onClose={onClose}>
      <dl className="adm-dl">
        <dt>Time</dt>
        <dd>{formatDate(r.time)}</dd>
        <dt>User</dt>
        <dd>{r.user ? `${r.user.email} (${r.user.id})` : "command line"}</dd>
        <dt>Request</dt>
        <dd className="adm-path">
          <span className="adm-method">{r.method}</span>
          {r.path}
        </dd>
        <dt>Status</dt>
        <dd>
          <Badge tone={statusTone(r.status)}>{r.status}</Badge>
        </dd>
        {r.entity?.kind && (
          <>
            <dt>Entity</dt>
            <dd>
              {kindLabel(r.entity.kind)}
              {r.entity.id && <span className="adm-path"> {r.entity.id}</span>}
              {r.entity.id_sha256 && <span className="adm-path muted"> sha256 {r.entity.id_sha256}</span>}
            </dd>
          </>
        )}
        {r.password_changed && (
          <>
            <dt>Password</dt>
            <dd>changed (the value is never recorded)</dd>
          </>
        )}
        {r.dry_run && (
          <>
            <dt>Dry run</dt>
            <dd>yes: nothing was changed</dd>
          </>
        )}
      </dl>
      {hasDocs && (
        <>
          <h3 className="adm-section-title">
            {r.before == null ? "Created with" : r.after == null ? "Deleted; it was" : `Changes (${changes.length})`}
          </h3>
          {r.before == null || r.after == null ? (
            <JsonView value={r.after ?? r.before} />
          ) : changes.length ? (
            <DiffTable changes={changes} />
          ) : (
            <p className="muted">The document did not change.</p>
          )}
        </>
      )}
      {deploy && (
        <>
          <h3 className="adm-section-title">{r.dry_run ? "Would have deployed" : "Deployed"}</h3>
          <KindsTable rows={deployRows({ added: 0, changed: 0, removed: 0, unchanged: 0, kinds: deploy })} />
        </>
      )}
      <h3 className="adm-section-title">Whole record</h3>
      <JsonView value={r} open={1} />
    </Drawer>
  );
}

function DiffTable({ changes }: { changes: KeyChange[] }) {
  return (
    <table className="adm-diff">
      <thead>
        <tr>
          <th style={{ width: "28%" }}>Field</th>
          <th>Before</th>
          <th>After</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.key}>
            <td className="adm-key">{c.key}</td>
            <td className={c.change === "added" ? undefined : "adm-before"}>{c.change === "added" ? <span className="muted">—</span> : shortValue(c.before)}</td>
            <td className={c.change === "removed" ? undefined : "adm-after"}>{c.change === "removed" ? <span className="muted">—</span> : shortValue(c.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
