// Merge records (docs/api.md, "Merging profiles"): a list, its details, and undo. Used by the
// Merges page and the profile page's Merges tab; every call here is admin-only.
import { useState } from "react";
import { api } from "../api";
import { useApi } from "../ui/hooks";
import { Async, Badge, Button, Column, Confirm, Drawer, formatDate, Tabs } from "../ui/kit";
import { JsonView } from "../ui/json";
import { toast } from "../ui/toast";
import { personEmail, personName, shortId } from "./fields";
import { Facts, KeyValue, ProfileLink, Section } from "./parts";

export interface Cause {
  type: string;
  keys?: string[];
  rules?: string[];
  event?: string;
  by?: string;
}
export interface MergeRecord {
  id: string;
  time: string;
  survivor: { id: string; before?: Record<string, unknown> };
  absorbed: { id: string; ids?: string[]; sessions?: string[]; events?: number; profile?: Record<string, unknown> }[];
  cause: Cause[];
  undone: string | null | boolean;
}

const CAUSE: Record<string, string> = {
  "shared-id": "Shared id",
  "merge-profiles": "Merge profiles node",
  "identification-point": "Identification point",
  api: "By hand",
  job: "Merge job",
  import: "Import",
};

/** User ids of "by" as e-mails, looked up once per page. */
const users = new Map<string, Promise<string>>();
function userEmail(id: string): Promise<string> {
  if (!users.has(id))
    users.set(
      id,
      api.get<{ email?: string }>(`/user/${encodeURIComponent(id)}`).then(
        (u) => u.email ?? id,
        () => id,
      ),
    );
  return users.get(id)!;
}
function UserName({ id }: { id: string }) {
  const u = useApi(() => userEmail(id), [id]);
  return <span title={id}>{u.data ?? shortId(id)}</span>;
}

export function CauseView({ cause }: { cause: Cause[] }) {
  if (!cause?.length) return <span className="muted">—</span>;
  return (
    <span className="data-cause">
      {cause.map((c, i) => (
        <span key={i} className="data-cause">
          <Badge tone={c.type === "api" ? "info" : "neutral"}>{CAUSE[c.type] ?? c.type}</Badge>
          {c.keys?.length ? <span className="mono small">{c.keys.join(", ")}</span> : null}
          {c.by && (
            <span className="small muted">
              by <UserName id={c.by} />
            </span>
          )}
        </span>
      ))}
    </span>
  );
}

export function mergeColumns(opts: { onUndo?: (m: MergeRecord) => void; highlight?: string[] }): Column<MergeRecord>[] {
  const cols: Column<MergeRecord>[] = [
    {
      key: "time",
      title: "Time",
      render: (m) => (
        <button type="button" className="data-rowbtn data-nowrap" aria-label={`Open merge of ${formatDate(m.time)}`}>
          {formatDate(m.time)}
        </button>
      ),
    },
    { key: "kept", title: "Kept profile", render: (m) => <ProfileLink id={m.survivor?.id} /> },
    {
      key: "merged",
      title: "Merged profiles",
      render: (m) => (
        <span className="data-merge-profiles">
          {m.absorbed.map((a) => (
            <span key={a.id}>
              <span className="mono" title={a.id}>
                {shortId(a.id)}
              </span>{" "}
              <span className="muted small">
                {a.sessions?.length ?? 0} sessions · {a.events ?? 0} events
              </span>
            </span>
          ))}
        </span>
      ),
    },
    { key: "cause", title: "Why", render: (m) => <CauseView cause={m.cause} /> },
    {
      key: "status",
      title: "Status",
      render: (m) => (m.undone ? <Badge tone="warn">Undone</Badge> : <Badge tone="ok">Merged</Badge>),
    },
  ];
  if (opts.onUndo)
    cols.push({
      key: "actions",
      title: <span className="sr-only">Actions</span>,
      className: "num",
      render: (m) =>
        m.undone ? null : (
          <Button
            small
            onClick={(e) => {
              e.stopPropagation();
              opts.onUndo!(m);
            }}
          >
            Undo
          </Button>
        ),
    });
  return cols;
}

/** Asks, then undoes a merge; the server refuses (409) when a later merge must be undone first. */
export function UndoMerge({ merge, onClose, onDone }: { merge: MergeRecord; onClose: () => void; onDone: () => void }) {
  return (
    <Confirm
      title="Undo merge"
      confirm="Undo merge"
      text={
        <>
          The {merge.absorbed.length === 1 ? "merged profile gets" : `${merge.absorbed.length} merged profiles get`} their ids, sessions and
          events back, and the kept profile <span className="mono">{shortId(merge.survivor.id)}</span> returns to how it was before the
          merge. Events collected since the merge stay with the kept profile.
        </>
      }
      onConfirm={async () => {
        await api.post(`/merge/${encodeURIComponent(merge.id)}/undo`);
        toast("Merge undone");
        onDone();
      }}
      onClose={onClose}
    />
  );
}

/** The whole record with the profiles as they were. */
export function MergeDrawer({ id, onClose, onUndo }: { id: string; onClose: () => void; onUndo?: (m: MergeRecord) => void }) {
  const rec = useApi((signal) => api.get<MergeRecord>(`/merge/${encodeURIComponent(id)}`, { signal }), [id]);
  const [tab, setTab] = useState("details");
  return (
    <Drawer
      title="Merge"
      onClose={onClose}
      actions={
        rec.data && !rec.data.undone && onUndo ? (
          <Button small kind="danger" onClick={() => onUndo(rec.data!)}>
            Undo merge
          </Button>
        ) : null
      }
    >
      <Tabs
        tabs={[
          { id: "details", label: "Details" },
          { id: "json", label: "JSON" },
        ]}
        value={tab}
        onChange={setTab}
      />
      <Async value={rec}>
        {(m) =>
          tab === "json" ? (
            <JsonView value={m} />
          ) : (
            <>
              <Facts
                items={[
                  ["Time", formatDate(m.time)],
                  ["Kept profile", <ProfileLink id={m.survivor.id} />],
                  ["Why", <CauseView cause={m.cause} />],
                  ["Status", m.undone ? <Badge tone="warn">Undone{typeof m.undone === "string" ? ` ${formatDate(m.undone)}` : ""}</Badge> : <Badge tone="ok">Merged</Badge>],
                ]}
              />
              <Section title="Kept profile before the merge">
                <ProfileSummary p={m.survivor.before} />
              </Section>
              {m.absorbed.map((a, i) => (
                <Section key={a.id} title={m.absorbed.length > 1 ? `Merged profile ${i + 1}` : "Merged profile"}>
                  <Facts
                    items={[
                      ["Sessions", a.sessions?.length ?? 0],
                      ["Events", a.events ?? 0],
                      ["Profile", <ProfileLink id={a.id} />],
                    ]}
                  />
                  <ul className="data-ids">
                    {(a.ids?.length ? a.ids : [a.id]).map((x) => (
                      <li key={x}>
                        {x}
                        {x === a.id && <span className="muted"> (profile id)</span>}
                      </li>
                    ))}
                  </ul>
                  <ProfileSummary p={a.profile} />
                </Section>
              ))}
            </>
          )
        }
      </Async>
    </Drawer>
  );
}

function ProfileSummary({ p }: { p?: Record<string, unknown> }) {
  if (!p) return <p className="muted data-none">Not recorded</p>;
  const person = { name: personName(p), email: personEmail(p) };
  return <KeyValue value={{ ...person, traits: p.traits, segments: p.segments }} empty="No personal data or traits" />;
}
