import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { dateInputToTs, deployRows, diffKeys, fieldErrors, kindLabel, localToIso, shortValue, stagingLooksEmpty, statusTone, tsToDateInput, userState, type User } from "./helpers";

describe("fieldErrors", () => {
  it("splits a 422 list by body field and joins messages of one field", () => {
    const body = {
      detail: [
        { loc: ["body", "email"], msg: "not an address" },
        { loc: ["body", "roles", 1], msg: "unknown role 'boss'" },
        { loc: ["body", "roles", 2], msg: "unknown role 'x'" },
        { msg: "something else" },
      ],
    };
    const r = fieldErrors(new ApiError(422, "m", body));
    expect(r.fields).toEqual({ email: "not an address", roles: "unknown role 'boss'; unknown role 'x'" });
    expect(r.form).toBe("something else");
  });
  it("puts a string detail (409) on the form", () => {
    const r = fieldErrors(new ApiError(409, "would leave no administrator", { detail: "would leave no administrator" }));
    expect(r).toEqual({ fields: {}, form: "would leave no administrator" });
  });
  it("takes plain errors", () => {
    expect(fieldErrors(new Error("offline"))).toEqual({ fields: {}, form: "offline" });
  });
});

describe("dates", () => {
  it("round-trips a date input through seconds", () => {
    const ts = dateInputToTs("2030-01-02")!;
    expect(tsToDateInput(ts)).toBe("2030-01-02");
    expect(dateInputToTs("")).toBeNull();
    expect(tsToDateInput(null)).toBe("");
  });
  it("turns a datetime-local value into ISO", () => {
    expect(localToIso("")).toBeUndefined();
    expect(localToIso("2030-01-02T03:04")).toMatch(/^2030-01-0\dT\d\d:04:00\.000Z$/);
    expect(localToIso("nonsense")).toBeUndefined();
  });
});

describe("userState", () => {
  const u = (o: Partial<User>): User => ({ id: "1", email: "a@b.c", full_name: "", roles: ["admin"], disabled: false, expiration_timestamp: null, ...o });
  it("tells disabled, expired and active apart", () => {
    expect(userState(u({ disabled: true })).label).toBe("Disabled");
    expect(userState(u({ expiration_timestamp: 1 })).label).toBe("Expired");
    expect(userState(u({ expired: true, expiration_timestamp: 1 })).label).toBe("Expired");
    expect(userState(u({})).label).toBe("Active");
    expect(userState(u({ expiration_timestamp: 4_000_000_000 }), 0).label).toMatch(/^Active until \d{4}-\d\d-\d\d$/);
  });
});

describe("deploy report", () => {
  const r = {
    added: 1,
    changed: 1,
    removed: 1,
    unchanged: 2,
    kinds: {
      segment: { added: [], changed: [], removed: [], unchanged: 2 },
      "event-source": { added: ["web"], changed: ["app"], removed: [], unchanged: 0 },
      rule: { removed: ["old"] },
    },
  };
  it("lists kinds with changes first, lists defaulted", () => {
    const rows = deployRows(r);
    expect(rows.map((x) => x.kind)).toEqual(["event-source", "rule", "segment"]);
    expect(rows[1]).toEqual({ kind: "rule", added: [], changed: [], removed: ["old"], unchanged: 0 });
    expect(deployRows(undefined)).toEqual([]);
  });
  it("sees an empty staging", () => {
    expect(stagingLooksEmpty(r)).toBe(false);
    expect(stagingLooksEmpty({ added: 0, changed: 0, removed: 3, unchanged: 0, kinds: {} })).toBe(true);
  });
  it("names kinds as words", () => {
    expect(kindLabel("flow-production")).toBe("Flow production");
    expect(kindLabel("")).toBe("");
  });
});

describe("diffKeys", () => {
  it("lists added, removed and changed keys, nested ones dotted", () => {
    const before = { name: "A", roles: ["marketer"], meta: { a: 1, b: 2 }, gone: true };
    const after = { name: "B", roles: ["marketer", "admin"], meta: { a: 1, c: 3 } };
    expect(diffKeys(before, after)).toEqual([
      { key: "gone", change: "removed", before: true },
      { key: "meta.b", change: "removed", before: 2 },
      { key: "meta.c", change: "added", after: 3 },
      { key: "name", change: "changed", before: "A", after: "B" },
      { key: "roles", change: "changed", before: ["marketer"], after: ["marketer", "admin"] },
    ]);
  });
  it("is empty for equal documents and handles creation and deletion", () => {
    expect(diffKeys({ a: [1] }, { a: [1] })).toEqual([]);
    expect(diffKeys(null, { a: 1 })).toEqual([{ key: "(document)", change: "added", after: { a: 1 } }]);
    expect(diffKeys({ a: 1 }, null)).toEqual([{ key: "(document)", change: "removed", before: { a: 1 } }]);
  });
});

describe("small formatters", () => {
  it("shortens values", () => {
    expect(shortValue(undefined)).toBe("—");
    expect(shortValue("x")).toBe('"x"');
    expect(shortValue("y".repeat(200), 10)).toHaveLength(10);
  });
  it("colours statuses", () => {
    expect(statusTone(200)).toBe("ok");
    expect(statusTone(409)).toBe("warn");
    expect(statusTone(500)).toBe("error");
  });
});
