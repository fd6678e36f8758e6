// The report of a deploy or dry run: counts, and the ids per entity kind.
import { Table } from "../ui/kit";
import { kindLabel, type DeployReport, type KindRow } from "./helpers";

export function Summary({ r }: { r: DeployReport }) {
  return (
    <div className="adm-stats">
      <div className="adm-stat adm-added">
        <strong>{r.added}</strong>
        <span className="muted small">added</span>
      </div>
      <div className="adm-stat adm-changed">
        <strong>{r.changed}</strong>
        <span className="muted small">changed</span>
      </div>
      <div className="adm-stat adm-removed">
        <strong>{r.removed}</strong>
        <span className="muted small">removed</span>
      </div>
      <div className="adm-stat">
        <strong>{r.unchanged}</strong>
        <span className="muted small">unchanged</span>
      </div>
    </div>
  );
}

function Ids({ ids, kind }: { ids: string[]; kind: "added" | "changed" | "removed" }) {
  if (!ids.length) return <span className="muted">—</span>;
  return (
    <span className="adm-ids">
      {ids.map((i) => (
        <span key={i} className={`adm-id adm-id-${kind}`}>
          {i}
        </span>
      ))}
    </span>
  );
}

export function KindsTable({ rows }: { rows: KindRow[] }) {
  return (
    <Table
      rows={rows}
      rowKey={(r) => r.kind}
      columns={[
        {
          key: "kind",
          title: "Kind",
          render: (r) => (
            <span title={r.kind}>
              <strong>{kindLabel(r.kind)}</strong>
            </span>
          ),
        },
        { key: "added", title: "Added", render: (r) => <Ids ids={r.added} kind="added" /> },
        { key: "changed", title: "Changed", render: (r) => <Ids ids={r.changed} kind="changed" /> },
        { key: "removed", title: "Removed", render: (r) => <Ids ids={r.removed} kind="removed" /> },
        { key: "unchanged", title: "Unchanged", className: "num", render: (r) => r.unchanged },
      ]}
    />
  );
}
