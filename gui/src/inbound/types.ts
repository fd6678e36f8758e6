// Shapes of the config entities the inbound screens read and write (docs/api.md).

export interface ListResult<T> {
  total: number;
  result: T[];
}
export interface Ref {
  id: string;
  name?: string;
}

/** Bridge types an event source may have; only `rest` opens /track, only `webhook` /collect. */
export const BRIDGES = [
  { id: "rest", label: "REST API", hint: "POST /track: the JavaScript snippet and server calls" },
  { id: "webhook", label: "Webhook", hint: "GET or POST /collect/{event type}/{source id}" },
  { id: "redirect", label: "Redirect", hint: "stored for compatibility with Tracardi" },
  { id: "internal", label: "Internal", hint: "stored for compatibility with Tracardi" },
  { id: "javascript", label: "JavaScript", hint: "stored for compatibility; the snippet needs REST API" },
] as const;

export interface EventSource {
  id: string;
  name: string;
  type: string[];
  enabled: boolean;
  description?: string;
  channel?: string;
  tags?: string[];
  transitional?: boolean;
  timestamp?: string;
  [k: string]: unknown;
}

export interface Rule {
  id: string;
  name: string;
  event_type: Ref;
  source?: Ref | null;
  flow: Ref;
  enabled: boolean;
  tags?: string[];
  description?: string;
  type?: string;
  properties?: { consents?: Ref[]; [k: string]: unknown };
  metadata?: { time?: { insert?: string } };
  [k: string]: unknown;
}

export interface FlowSummary {
  id: string;
  name: string;
  description?: string;
  tags?: string[];
  type?: string;
  deployed?: boolean;
  nodes?: number;
}

export interface ConsentType {
  id: string;
  name: string;
  enabled?: boolean;
  description?: string;
}

/** One row of the dashboard counters (/events/by_type, /events/by_source, …). */
export interface Bucket {
  name: string;
  value: number;
  id?: string;
}

/** What /track and /collect answer. */
export interface TrackAnswer {
  task?: string;
  ux?: unknown[];
  response?: Record<string, unknown>;
  events?: string[];
  profile?: { id: string | null } | null;
  session?: { id: string | null } | null;
  errors?: string[];
  warnings?: string[];
}

/** A reference is `{id, name}` or a plain id; an empty id means none. */
export function refId(r: Ref | string | null | undefined): string {
  if (!r) return "";
  return typeof r === "string" ? r : r.id || "";
}
