// A bar chart over time in plain SVG: one bar per bucket, stacked when there are several series.
import { compact, labelEvery, stackMax, ticks, type SeriesPoint } from "./scale";
import { useWidth } from "./useWidth";
import "./charts.css";

export function BarChart(props: {
  series: string[];
  points: SeriesPoint[];
  height?: number;
  label: string; // what the chart shows, for screen readers
  xLabel?: (p: SeriesPoint) => string; // axis label of a bucket
  tooltip?: (p: SeriesPoint) => string; // heading of a bucket's tooltip
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const height = props.height ?? 220;
  const pad = { top: 10, right: 8, bottom: 26, left: 40 };
  const w = Math.max(width - pad.left - pad.right, 10);
  const h = height - pad.top - pad.bottom;
  const tk = ticks(stackMax(props.points), 4);
  const max = tk[tk.length - 1] || 1;
  const n = props.points.length;
  const slot = n ? w / n : w;
  const barW = Math.max(1, Math.min(slot * 0.72, 48));
  const every = labelEvery(n, w, 64);
  const y = (v: number) => pad.top + h - (v / max) * h;
  const multi = props.series.length > 1;
  const total = props.points.reduce((a, p) => a + p.values.reduce((x, y) => x + y, 0), 0);
  return (
    <div className="chart" ref={ref}>
      <svg width={width} height={height} role="img" aria-label={`${props.label}: ${total.toLocaleString()} in all`}>
        {tk.map((t) => (
          <g key={t}>
            <line className="chart-grid" x1={pad.left} x2={pad.left + w} y1={y(t)} y2={y(t)} />
            <text className="chart-axis" x={pad.left - 6} y={y(t)} dy="0.32em" textAnchor="end">
              {compact(t)}
            </text>
          </g>
        ))}
        {props.points.map((p, i) => {
          const x = pad.left + i * slot + (slot - barW) / 2;
          let acc = 0;
          const sum = p.values.reduce((a, b) => a + b, 0);
          const tip =
            (props.tooltip ? props.tooltip(p) : p.label) +
            (multi
              ? "\n" + props.series.map((s, k) => `${s}: ${p.values[k].toLocaleString()}`).join("\n") + `\nAll: ${sum.toLocaleString()}`
              : `: ${sum.toLocaleString()}`);
          return (
            <g key={p.time || i}>
              <title>{tip}</title>
              {/* a full-height hit area, so thin or empty buckets still show their tooltip */}
              <rect className="chart-hit" x={pad.left + i * slot} y={pad.top} width={slot} height={h} />
              {p.values.map((v, k) => {
                if (v <= 0) return null;
                const y0 = y(acc);
                acc += v;
                const y1 = y(acc);
                return <rect key={k} className={`chart-bar chart-s${k % 6}`} x={x} y={y1} width={barW} height={Math.max(y0 - y1, 1)} rx={barW > 6 ? 2 : 0} />;
              })}
              {i % every === 0 && (
                <text className="chart-axis" x={pad.left + i * slot + slot / 2} y={height - 8} textAnchor="middle">
                  {props.xLabel ? props.xLabel(p) : p.label}
                </text>
              )}
            </g>
          );
        })}
        <line className="chart-base" x1={pad.left} x2={pad.left + w} y1={y(0)} y2={y(0)} />
      </svg>
      {multi && <Legend names={props.series} />}
    </div>
  );
}

export function Legend({ names }: { names: string[] }) {
  return (
    <ul className="chart-legend">
      {names.map((s, k) => (
        <li key={s}>
          <span className={`chart-swatch chart-s${k % 6}`} aria-hidden />
          {s || "(none)"}
        </li>
      ))}
    </ul>
  );
}
