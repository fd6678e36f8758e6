// A donut of shares with its legend; the total sits in the hole.
import { arcPath, compact, donutArcs } from "./scale";
import type { NamedValue } from "./HBarList";
import "./charts.css";

export function Donut({ items, label, size = 140 }: { items: NamedValue[]; label: string; size?: number }) {
  // more than 6 slices are unreadable: the rest become "Other"
  const shown = items.length > 6 ? [...items.slice(0, 5), { name: "Other", value: items.slice(5).reduce((a, i) => a + i.value, 0) }] : items;
  const total = shown.reduce((a, i) => a + i.value, 0);
  const arcs = donutArcs(shown.map((i) => i.value));
  const c = size / 2;
  return (
    <div className="donut">
      <svg width={size} height={size} role="img" aria-label={`${label}: ${shown.map((i) => `${i.name || "(none)"} ${i.value}`).join(", ")}`}>
        {total === 0 && <circle cx={c} cy={c} r={c * 0.8} className="donut-empty" />}
        {arcs.map((a, k) =>
          a.end > a.start ? (
            <path key={k} className={`chart-bar chart-s${k % 6}`} d={arcPath(c, c, c * 0.58, c - 2, a.start, a.end)}>
              <title>{`${shown[k].name || "(none)"}: ${shown[k].value.toLocaleString()} (${Math.round((shown[k].value / total) * 100)}%)`}</title>
            </path>
          ) : null,
        )}
        <text x={c} y={c} dy="0.1em" textAnchor="middle" className="donut-total">
          {compact(total)}
        </text>
        <text x={c} y={c} dy="1.5em" textAnchor="middle" className="chart-axis">
          in all
        </text>
      </svg>
      <ul className="donut-legend">
        {shown.map((i, k) => (
          <li key={i.name}>
            <span className={`chart-swatch chart-s${k % 6}`} aria-hidden />
            <span className="donut-name" title={i.name}>
              {i.name || "(none)"}
            </span>
            <span className="muted donut-value">
              {i.value.toLocaleString()} · {total ? Math.round((i.value / total) * 100) : 0}%
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
