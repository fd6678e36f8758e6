// The search calls of the data explorer (docs/api.md, "Searching profiles, sessions and events").
import { api } from "../api";
import { absoluteOf, docTime, toDatetimeRange, type Index, type TimeRange } from "./range";
import type { Doc } from "./fields";

export interface Found<T = Doc> {
  total: number;
  result: T[];
}
export interface Bucket {
  date: string;
  time: string;
  interval: string;
  count: number;
}

export const PAGE_SIZE = 25;
const MAX_TOTAL = 10000; // the server counts matches up to this, as Elasticsearch

export function searchRange(index: Index, where: string, range: TimeRange, page: number, signal?: AbortSignal) {
  return api.post<Found>(
    `/${index}/select/range`,
    { ...toDatetimeRange(range), where, start: page * PAGE_SIZE, limit: PAGE_SIZE },
    { signal },
  );
}

/** Counts over time. For "all" the server needs a start, so the histogram begins at the oldest
 * matching document (the last of the newest-first results) rather than at 1970. */
export async function histogram(index: Index, where: string, range: TimeRange, signal?: AbortSignal): Promise<Found<Bucket>> {
  let body = { ...toDatetimeRange(range), where };
  if (range.kind === "all") {
    const first = await api.post<Found>(`/${index}/select/range`, { ...body, limit: 1 }, { signal });
    if (!first.total) return { total: 0, result: [] };
    const last = await api.post<Found>(
      `/${index}/select/range`,
      { ...body, start: Math.min(first.total, MAX_TOTAL) - 1, limit: 1 },
      { signal },
    );
    const t = docTime(index, last.result[0]);
    const d = t ? new Date(t) : undefined;
    if (d && !isNaN(d.getTime())) {
      d.setUTCSeconds(0, 0);
      body = { ...body, minDate: { absolute: absoluteOf(d), delta: null } };
    }
  }
  return api.post<Found<Bucket>>(`/${index}/select/histogram`, body, { signal });
}
