import { describe, expect, test } from "vitest";
import {
  absoluteOf,
  docTime,
  intervalSeconds,
  parseLocal,
  rangeFromParams,
  rangeProblem,
  rangeToParams,
  toDatetimeRange,
  toLocalInput,
  zoomRange,
} from "./range";

describe("absoluteOf", () => {
  test("UTC parts with a meridiem that keeps the 24-hour hour", () => {
    expect(absoluteOf(new Date("2024-05-01T00:30:15Z"))).toEqual({
      year: 2024, month: 5, date: 1, hour: 0, minute: 30, second: 15, meridiem: "AM", timeZone: "UTC",
    });
    // hour 12 with AM would be read as midnight by the server
    expect(absoluteOf(new Date("2024-05-01T12:00:00Z")).meridiem).toBe("PM");
    expect(absoluteOf(new Date("2024-12-31T23:59:59Z"))).toMatchObject({ hour: 23, meridiem: "PM", month: 12, date: 31 });
  });
});

describe("toDatetimeRange", () => {
  test("relative ranges are a negative delta from now", () => {
    expect(toDatetimeRange({ kind: "15m" })).toEqual({ minDate: { absolute: null, delta: { value: -15, entity: "minute" } }, maxDate: null });
    expect(toDatetimeRange({ kind: "7d" }).minDate?.delta).toEqual({ value: -7, entity: "day" });
  });
  test("all starts at 1970 and ends now", () => {
    const r = toDatetimeRange({ kind: "all" });
    expect(r.minDate?.absolute).toMatchObject({ year: 1970, month: 1, date: 1, hour: 0 });
    expect(r.maxDate).toBeNull();
  });
  test("absolute ranges convert local input times to UTC parts", () => {
    const from = "2024-05-01T10:00";
    const to = "2024-05-02T18:30";
    const r = toDatetimeRange({ kind: "abs", from, to });
    expect(r.minDate?.absolute).toEqual(absoluteOf(new Date(2024, 4, 1, 10, 0)));
    expect(r.maxDate?.absolute).toEqual(absoluteOf(new Date(2024, 4, 2, 18, 30)));
    expect(toDatetimeRange({ kind: "abs", from }).maxDate).toBeNull();
  });
});

describe("local inputs", () => {
  test("round trip", () => {
    const d = new Date(2024, 0, 9, 7, 5);
    expect(toLocalInput(d)).toBe("2024-01-09T07:05");
    expect(parseLocal("2024-01-09T07:05")?.getTime()).toBe(d.getTime());
    expect(parseLocal("2024-01-09T07:05:30")?.getSeconds()).toBe(30);
    expect(parseLocal("yesterday")).toBeUndefined();
    expect(parseLocal("")).toBeUndefined();
  });
  test("problems of absolute ranges", () => {
    expect(rangeProblem({ kind: "1h" })).toBeUndefined();
    expect(rangeProblem({ kind: "abs" })).toMatch(/starts/);
    expect(rangeProblem({ kind: "abs", from: "2024-01-02T00:00", to: "2024-01-01T00:00" })).toMatch(/before/);
    expect(rangeProblem({ kind: "abs", from: "2024-01-01T00:00", to: "2024-01-02T00:00" })).toBeUndefined();
    expect(rangeProblem({ kind: "abs", from: "2024-01-01T00:00" })).toBeUndefined();
  });
});

describe("URL params", () => {
  test("default, unknown and round trip", () => {
    expect(rangeFromParams(new URLSearchParams(""))).toEqual({ kind: "24h" });
    expect(rangeFromParams(new URLSearchParams("range=bogus"))).toEqual({ kind: "24h" });
    expect(rangeFromParams(new URLSearchParams("range=all&from=x"))).toEqual({ kind: "all" });
    const p = rangeToParams({ kind: "abs", from: "2024-01-01T00:00", to: "2024-01-02T00:00" }, new URLSearchParams("q=a&range=1h"));
    expect(p.get("q")).toBe("a");
    expect(rangeFromParams(p)).toEqual({ kind: "abs", from: "2024-01-01T00:00", to: "2024-01-02T00:00" });
    expect(rangeToParams({ kind: "7d" }, p).has("from")).toBe(false);
  });
});

test("intervalSeconds reads the server's bucket labels", () => {
  expect(intervalSeconds("+2m")).toBe(120);
  expect(intervalSeconds("+48m")).toBe(2880);
  expect(intervalSeconds("+1d")).toBe(86400);
  expect(intervalSeconds("30s")).toBe(30);
  expect(intervalSeconds("+692d")).toBe(692 * 86400);
  expect(intervalSeconds("soon")).toBeUndefined();
});

test("docTime goes by insert, profiles by update", () => {
  const d = { metadata: { time: { insert: "a", update: "b" } } };
  expect(docTime("event", d)).toBe("a");
  expect(docTime("session", d)).toBe("a");
  expect(docTime("profile", d)).toBe("b");
  expect(docTime("profile", { metadata: { time: { insert: "a", update: null } } })).toBe("a");
  expect(docTime("event", {})).toBeUndefined();
});

test("zoomRange widens a bar to whole minutes", () => {
  const r = zoomRange("2024-05-01T10:00:13Z", 13)!;
  expect(r.kind).toBe("abs");
  expect(parseLocal(r.from)!.getTime()).toBe(Date.parse("2024-05-01T10:00:00Z"));
  expect(parseLocal(r.to)!.getTime()).toBe(Date.parse("2024-05-01T10:01:00Z"));
  expect(rangeProblem(r)).toBeUndefined();
  const h = zoomRange("2024-05-01T10:00:00Z", 3600)!;
  expect(parseLocal(h.to)!.getTime()).toBe(Date.parse("2024-05-01T11:00:00Z"));
  expect(zoomRange("nope", 60)).toBeUndefined();
  expect(zoomRange("2024-05-01T10:00:00Z", undefined)).toBeUndefined();
});
