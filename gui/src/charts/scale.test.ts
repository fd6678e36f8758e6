import { describe, expect, it } from "vitest";
import { arcPath, compact, donutArcs, histogramSeries, labelEvery, niceMax, stackMax, ticks, withOther } from "./scale";
import { histogramRequest, secondsAgo } from "./range";

describe("niceMax", () => {
  it("rounds up to 1, 2, 2.5, 5 × 10^k", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(21)).toBe(25);
    expect(niceMax(180)).toBe(200);
    expect(niceMax(1001)).toBe(2000);
  });
});

describe("ticks", () => {
  it("starts at 0 and covers the value with whole steps", () => {
    expect(ticks(0)).toEqual([0, 1]);
    expect(ticks(3)).toEqual([0, 1, 2, 3]);
    expect(ticks(7)).toEqual([0, 2, 4, 6, 8]);
    const t = ticks(180);
    expect(t[0]).toBe(0);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(180);
    expect(t.length).toBeLessThanOrEqual(6);
    expect(t.every((x) => Number.isInteger(x))).toBe(true);
  });
});

describe("compact", () => {
  it("shortens big numbers", () => {
    expect(compact(950)).toBe("950");
    expect(compact(9999)).toBe("9999");
    expect(compact(12_300)).toBe("12.3k");
    expect(compact(2_500_000)).toBe("2.5M");
    expect(compact(3_000_000_000)).toBe("3G");
  });
});

describe("labelEvery", () => {
  it("thins labels that do not fit", () => {
    expect(labelEvery(24, 1000, 50)).toBe(2);
    expect(labelEvery(10, 1000, 50)).toBe(1);
    expect(labelEvery(30, 300, 60)).toBe(6);
    expect(labelEvery(0, 300, 60)).toBe(1);
  });
});

describe("histogramSeries", () => {
  it("reads the plain count", () => {
    const s = histogramSeries({
      total: 3,
      buckets: ["count"],
      result: [
        { date: "a", time: "2026-01-01T00:00:00Z", count: 1 },
        { date: "b", time: "2026-01-01T01:00:00Z", count: 2 },
      ],
    });
    expect(s.series).toEqual(["count"]);
    expect(s.points.map((p) => p.values)).toEqual([[1], [2]]);
  });
  it("reads grouped buckets, missing ones as 0", () => {
    const s = histogramSeries({
      total: 3,
      buckets: ["page-view", "purchase"],
      result: [{ date: "a", time: "t", "page-view": 2 }, { date: "b", time: "t2", purchase: 1, "page-view": 0 }],
    });
    expect(s.points.map((p) => p.values)).toEqual([
      [2, 0],
      [0, 1],
    ]);
    expect(stackMax(s.points)).toBe(2);
  });
});

describe("withOther", () => {
  const g = { series: ["a", "b"], points: [{ label: "1", time: "t1", values: [2, 1] }, { label: "2", time: "t2", values: [0, 0] }] };
  it("adds what the named groups leave out", () => {
    const t = { series: ["count"], points: [{ label: "1", time: "t1", values: [5] }, { label: "2", time: "t2", values: [1] }] };
    const w = withOther(g, t);
    expect(w.series).toEqual(["a", "b", "other"]);
    expect(w.points.map((p) => p.values)).toEqual([
      [2, 1, 2],
      [0, 0, 1],
    ]);
  });
  it("adds nothing when the groups are everything", () => {
    const t = { series: ["count"], points: [{ label: "1", time: "t1", values: [3] }] };
    expect(withOther(g, t)).toBe(g);
  });
});

describe("donut", () => {
  it("splits the circle by share", () => {
    const a = donutArcs([1, 1, 2]);
    expect(a[0].start).toBe(0);
    expect(a[1].end).toBeCloseTo(Math.PI);
    expect(a[2].end).toBeCloseTo(Math.PI * 2);
    expect(donutArcs([0, 0]).every((x) => x.end === 0)).toBe(true);
  });
  it("draws a whole circle as an almost-closed arc", () => {
    expect(arcPath(50, 50, 30, 40, 0, Math.PI * 2)).toMatch(/^M 50.00 10.00 A 40 40 0 1 1/);
  });
});

describe("range", () => {
  it("asks for buckets that suit the window", () => {
    expect(histogramRequest("24h").interval).toBe("1h");
    expect(histogramRequest("30d").body).toMatchObject({ minDate: { delta: { value: -30, entity: "day" } } });
    expect(secondsAgo(24, 86_400_000 * 2)).toBe(86_400);
  });
});
