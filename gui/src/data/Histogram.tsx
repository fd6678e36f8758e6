// Counts over time as a plain SVG bar chart, drawn at the pixel width of its box.
import { useEffect, useRef, useState } from "react";
import { formatDate } from "../ui/kit";
import type { Bucket } from "./search";

const H = 132; // chart height without the labels
const LABEL = 20;
const AXIS = 34; // room for the y labels

export function Histogram(props: { buckets: Bucket[]; label: string; onPick?: (b: Bucket) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [w, setW] = useState(600);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setW(Math.max(200, el.clientWidth)));
    ro.observe(el);
    setW(Math.max(200, el.clientWidth));
    return () => ro.disconnect();
  }, []);
  const { buckets } = props;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const top = niceMax(max);
  const n = Math.max(1, buckets.length);
  const plotW = w - AXIS;
  const slot = plotW / n;
  const barW = Math.max(1, slot - Math.min(4, slot * 0.25));
  // a label every few bars so they never collide
  const every = Math.max(1, Math.ceil(70 / slot));
  const total = buckets.reduce((s, b) => s + b.count, 0);
  return (
    <div className="data-hist" ref={ref}>
      <svg
        width={w}
        height={H + LABEL}
        role="img"
        aria-label={`${props.label}: ${total.toLocaleString()} over ${buckets.length} intervals`}
      >
        {[0, 0.5, 1].map((f) => {
          const y = H - f * (H - 8);
          return (
            <g key={f}>
              <line x1={AXIS} x2={w} y1={y} y2={y} className="data-hist-grid" />
              <text x={AXIS - 6} y={y + 4} textAnchor="end" className="data-hist-label">
                {fmtCount(top * f)}
              </text>
            </g>
          );
        })}
        {buckets.map((b, i) => {
          const h = (b.count / top) * (H - 8);
          const x = AXIS + i * slot + (slot - barW) / 2;
          return (
            <g key={b.time}>
              <rect
                x={x}
                y={H - h}
                width={barW}
                height={Math.max(h, b.count ? 1 : 0)}
                rx={Math.min(2, barW / 2)}
                className={`data-hist-bar${props.onPick && b.count ? " pickable" : ""}`}
                onClick={props.onPick && b.count ? () => props.onPick!(b) : undefined}
              >
                <title>{`${formatDate(b.time)}: ${b.count.toLocaleString()}`}</title>
              </rect>
              {/* a transparent column so thin bars are easy to hover */}
              <rect x={AXIS + i * slot} y={0} width={slot} height={H} fill="transparent" className="data-hist-hit" pointerEvents={b.count ? "all" : "none"} onClick={props.onPick && b.count ? () => props.onPick!(b) : undefined}>
                <title>{`${formatDate(b.time)}: ${b.count.toLocaleString()}`}</title>
              </rect>
              {i % every === 0 && (
                <text x={AXIS + i * slot + slot / 2} y={H + 14} textAnchor="middle" className="data-hist-label">
                  {b.date}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

function niceMax(v: number): number {
  if (v <= 10) return Math.max(2, Math.ceil(v / 2) * 2); // whole halves for small counts
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
function fmtCount(v: number): string {
  if (v >= 1e6) return (v / 1e6).toFixed(v % 1e6 ? 1 : 0) + "M";
  if (v >= 1e3) return (v / 1e3).toFixed(v % 1e3 ? 1 : 0) + "k";
  return String(Math.round(v * 10) / 10);
}
