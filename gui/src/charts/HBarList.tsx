// Horizontal bars as a list: the name, a bar as long as its share of the largest, the count.
import { compact } from "./scale";
import "./charts.css";

export interface NamedValue {
  name: string;
  value: number;
  href?: string;
}

export function HBarList({ items, label }: { items: NamedValue[]; label: string }) {
  const max = items.reduce((m, i) => Math.max(m, i.value), 0) || 1;
  return (
    <ul className="hbar" aria-label={label}>
      {items.map((i) => (
        <li key={i.name} className="hbar-item">
          <div className="hbar-head">
            <span className="hbar-name" title={i.name}>
              {i.href ? <a href={i.href}>{i.name || "(none)"}</a> : i.name || "(none)"}
            </span>
            <span className="hbar-value" title={i.value.toLocaleString()}>
              {compact(i.value)}
            </span>
          </div>
          <div className="hbar-track" aria-hidden>
            <div className="hbar-fill" style={{ width: `${Math.max((i.value / max) * 100, 1.5)}%` }} />
          </div>
        </li>
      ))}
    </ul>
  );
}
