// Menu icons as inline SVG: the fonts of some browsers lack the Unicode symbols we used, which
// then render as empty boxes. 20×20 strokes in currentColor, so they follow the link's colour.
import type { ReactNode } from "react";

const paths = {
  dashboard: (
    <>
      <rect x="3" y="3" width="6" height="8" rx="1.5" />
      <rect x="11" y="3" width="6" height="5" rx="1.5" />
      <rect x="3" y="13" width="6" height="4" rx="1.5" />
      <rect x="11" y="10" width="6" height="7" rx="1.5" />
    </>
  ),
  events: <path d="M11 2 4 11h5l-1 7 7-9h-5l1-7z" />,
  profiles: (
    <>
      <circle cx="10" cy="7" r="3.5" />
      <path d="M3.5 17.5c.8-3.2 3.3-5 6.5-5s5.7 1.8 6.5 5" />
    </>
  ),
  sessions: (
    <>
      <circle cx="10" cy="10" r="7" />
      <path d="M10 6v4l2.5 2.5" />
    </>
  ),
  merges: <path d="M5 3v4c0 3 5 4 5 7v3M15 3v4c0 3-5 4-5 7M7.5 15.5 10 18l2.5-2.5" />,
  sources: (
    <>
      <path d="M3 10h10M9.5 6.5 13 10l-3.5 3.5" />
      <path d="M16.5 3v14" />
    </>
  ),
  tester: <path d="M3 17l3.5-1L16 6.5 13.5 4 4 13.5 3 17zM11.5 6l2.5 2.5" />,
  workflows: (
    <>
      <rect x="2.5" y="3" width="5" height="4" rx="1" />
      <rect x="12.5" y="3" width="5" height="4" rx="1" />
      <rect x="7.5" y="13" width="5" height="4" rx="1" />
      <path d="M5 7v2.5h10V7M10 9.5V13" />
    </>
  ),
  rules: <path d="M4.5 18V3M4.5 3.5h10l-2 3.5 2 3.5h-10" />,
  segments: (
    <>
      <path d="M10 3a7 7 0 1 0 7 7h-7V3z" />
      <path d="M12.5 2.5a5.5 5.5 0 0 1 5 5h-5v-5z" />
    </>
  ),
  consents: (
    <>
      <path d="M10 2.5 4 5v4.5c0 4 2.6 6.8 6 8 3.4-1.2 6-4 6-8V5l-6-2.5z" />
      <path d="m7.5 10 2 2 3.5-4" />
    </>
  ),
  identification: (
    <>
      <rect x="2.5" y="4.5" width="15" height="11" rx="2" />
      <circle cx="7.5" cy="9.5" r="2" />
      <path d="M5 13.5c.5-1.2 1.4-1.8 2.5-1.8s2 .6 2.5 1.8M12 8.5h3.5M12 11.5h3.5" />
    </>
  ),
  mappings: (
    <>
      <path d="M3 6h9M9 3l3 3-3 3" />
      <path d="M17 14H8M11 11l-3 3 3 3" />
    </>
  ),
  validators: (
    <>
      <rect x="3" y="3" width="14" height="14" rx="2.5" />
      <path d="m6.5 10 2.5 2.5 4.5-5" />
    </>
  ),
  reshaping: <path d="M4 7a6 6 0 0 1 11-1.5M16 13a6 6 0 0 1-11 1.5M15.5 2.5v3.5H12M4.5 17.5V14H8" />,
  eventTypes: <path d="M3.5 5h13M3.5 10h13M3.5 15h8" />,
  destinations: (
    <>
      <path d="M8 4H4.5A1.5 1.5 0 0 0 3 5.5v10A1.5 1.5 0 0 0 4.5 17h10a1.5 1.5 0 0 0 1.5-1.5V12" />
      <path d="M11 3h6v6M17 3l-8 8" />
    </>
  ),
  resources: (
    <>
      <circle cx="7" cy="10" r="3.5" />
      <path d="M10.5 10H18M15 10v3M17.5 10v2" />
    </>
  ),
  users: (
    <>
      <circle cx="7.5" cy="7" r="3" />
      <path d="M2 17c.6-2.8 2.7-4.5 5.5-4.5S12.4 14.2 13 17" />
      <path d="M13 4.2a3 3 0 0 1 0 5.6M15 12.8c1.5.6 2.6 2.1 3 4.2" />
    </>
  ),
  settings: (
    <>
      <circle cx="10" cy="10" r="2.5" />
      <path d="M10 2.5v2M10 15.5v2M2.5 10h2M15.5 10h2M4.7 4.7l1.4 1.4M13.9 13.9l1.4 1.4M4.7 15.3l1.4-1.4M13.9 6.1l1.4-1.4" />
    </>
  ),
  deploy: (
    <>
      <path d="M10 13V3M6 7l4-4 4 4" />
      <path d="M3.5 13v2.5A1.5 1.5 0 0 0 5 17h10a1.5 1.5 0 0 0 1.5-1.5V13" />
    </>
  ),
  audit: (
    <>
      <path d="M5.5 2.5h6l4 4v11h-10z" />
      <path d="M11.5 2.5v4h4M8 10.5h5M8 13.5h5" />
    </>
  ),
  logout: (
    <>
      <path d="M8 3.5H5A1.5 1.5 0 0 0 3.5 5v10A1.5 1.5 0 0 0 5 16.5h3" />
      <path d="M8.5 10H17M13.5 6.5 17 10l-3.5 3.5" />
    </>
  ),
  menu: <path d="M3 5.5h14M3 10h14M3 14.5h14" />,
} satisfies Record<string, ReactNode>;

export type IconName = keyof typeof paths;

/** A small line icon; decorative (aria-hidden), the text next to it carries the name. */
export function Icon({ name, size = 18 }: { name: IconName; size?: number }) {
  const p = paths[name];
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 20 20"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.6"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {p}
    </svg>
  );
}
