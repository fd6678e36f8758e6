// The plugin palette: plugins grouped by their group, filtered by text; drag one onto the
// canvas, or click it to add it (below the selected node, connected to it).
import { useMemo, useState } from "react";
import { groupColour, groupIcon, groupOf, type Plugin } from "./graph";

export const DRAG_TYPE = "application/x-cdpd-plugin";

export function Palette(props: { plugins: Plugin[]; onAdd: (p: Plugin) => void; onClose?: () => void }) {
  const [q, setQ] = useState("");
  const groups = useMemo(() => {
    const t = q.trim().toLowerCase();
    const m = new Map<string, Plugin[]>();
    for (const p of props.plugins) {
      const g = groupOf(p);
      if (t && !`${p.metadata.name} ${p.metadata.desc ?? ""} ${g} ${p.id}`.toLowerCase().includes(t)) continue;
      m.set(g, [...(m.get(g) ?? []), p]);
    }
    return [...m.entries()];
  }, [props.plugins, q]);
  return (
    <aside className="flow-palette" aria-label="Plugins">
      <div className="flow-side-head">
        <h2>Plugins</h2>
        {props.onClose && (
          <button type="button" className="icon-btn" aria-label="Close plugins" onClick={props.onClose}>
            ×
          </button>
        )}
      </div>
      <input className="input flow-palette-filter" type="search" placeholder="Filter plugins" aria-label="Filter plugins" value={q} onChange={(e) => setQ(e.target.value)} />
      <p className="flow-palette-hint muted small">Drag onto the canvas, or click to add below the selected node.</p>
      <div className="flow-palette-list">
        {groups.length === 0 && <p className="muted small">No plugin matches “{q}”.</p>}
        {groups.map(([g, list]) => (
          <section key={g} className="flow-palette-group">
            <h3>{g}</h3>
            {list.map((p) => (
              <button
                key={p.id}
                type="button"
                className="flow-palette-item"
                draggable
                data-plugin={p.id}
                title={p.metadata.desc}
                style={{ ["--node-colour" as string]: groupColour(g) }}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_TYPE, p.id);
                  e.dataTransfer.setData("text/plain", p.metadata.name);
                  e.dataTransfer.effectAllowed = "copy";
                }}
                onClick={() => props.onAdd(p)}
              >
                <span className="flow-palette-icon" aria-hidden>
                  {groupIcon(g)}
                </span>
                <span className="flow-palette-name">{p.metadata.name}</span>
              </button>
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}
