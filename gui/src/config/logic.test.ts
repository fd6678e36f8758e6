import { describe, expect, it } from "vitest";
import {
  credentialsFromForm,
  fieldErrors,
  filterRows,
  formatDuration,
  isSealed,
  objectToPairs,
  opName,
  pageOf,
  pairsToObject,
  parseDuration,
  refId,
  refValue,
  rowOfError,
  searchText,
  short,
  slug,
  splitError,
  topKey,
  without,
} from "./logic";

describe("server errors", () => {
  it("splits cdpd's `path: why` details", () => {
    expect(splitError("condition: at 18: expected a value after '>', found end of input")).toEqual({
      path: "condition",
      text: "at 18: expected a value after '>', found end of input",
    });
    expect(splitError("event_to_profile[1].profile: a profile field under data")).toEqual({
      path: "event_to_profile[1].profile",
      text: "a profile field under data",
    });
    expect(splitError("Not Found")).toEqual({ path: "", text: "Not Found" });
    expect(splitError("cannot decrypt credentials: wrong secret key?").path).toBe("");
  });
  it("gives the error under every prefix of its path", () => {
    const e = fieldErrors("reshaping.reshape_schema.properties.a: `event@properties..x` is not a reference");
    expect(e["reshaping.reshape_schema.properties"]).toMatch(/not a reference/);
    expect(e["reshaping"]).toMatch(/not a reference/);
    const f = fieldErrors("fields[0].profile_trait: a profile field under data");
    expect(f["fields"]).toBeDefined();
    expect(f["fields[0].profile_trait"]).toBeDefined();
    expect(fieldErrors("something broke")).toEqual({});
  });
  it("finds the top key and the row of a list error", () => {
    expect(topKey("event_to_profile[1].op")).toBe("event_to_profile");
    expect(topKey("config.condition")).toBe("config");
    expect(rowOfError("event_to_profile[1].op", "event_to_profile")).toBe(1);
    expect(rowOfError("name", "event_to_profile")).toBeUndefined();
  });
});

describe("filtering and paging", () => {
  const rows = [
    { id: "a", name: "Big Spenders", description: "bought a lot" },
    { id: "b", name: "Newsletter", description: "" },
  ];
  it("matches every word, case-insensitively", () => {
    expect(filterRows(rows, "big LOT", (r) => searchText(r))).toHaveLength(1);
    expect(filterRows(rows, "", (r) => searchText(r))).toHaveLength(2);
    expect(filterRows(rows, "zzz", (r) => searchText(r))).toHaveLength(0);
  });
  it("searches references by id", () => {
    expect(searchText({ id: "x" }, { id: "purchase", name: "Purchase" })).toContain("purchase");
  });
  it("pages", () => {
    expect(pageOf([1, 2, 3, 4, 5], 1, 2)).toEqual([3, 4]);
    expect(pageOf([1, 2, 3], 5, 2)).toEqual([]);
  });
});

describe("references and values", () => {
  it("reads ids and field references in both of the API's shapes", () => {
    expect(refId("purchase")).toBe("purchase");
    expect(refId({ id: "purchase", name: "Purchase" })).toBe("purchase");
    expect(refId(null)).toBe("");
    expect(refValue({ value: "data.contact.email.main", ref: true })).toBe("data.contact.email.main");
    expect(refValue("properties.email")).toBe("properties.email");
    expect(refValue(undefined)).toBe("");
  });
  it("slugs names like the server", () => {
    expect(slug("Big Spenders!")).toBe("big-spenders");
    expect(slug("  Marketing  e-mails ")).toBe("marketing-e-mails");
  });
  it("drops computed keys", () => {
    expect(without({ id: "a", count: 3, name: "x" }, ["count"])).toEqual({ id: "a", name: "x" });
  });
  it("names operations given as numbers or names", () => {
    expect(opName(0)).toBe("set");
    expect(opName(2)).toBe("append");
    expect(opName("increment")).toBe("increment");
    expect(opName("bogus")).toBe("set");
  });
  it("shortens long values", () => {
    expect(short("abcdef", 4)).toBe("abc…");
    expect(short({ a: 1 })).toBe('{"a":1}');
    expect(short(undefined)).toBe("");
  });
});

describe("durations", () => {
  it("parses and formats consent auto-revoke", () => {
    expect(parseDuration("30d")).toEqual({ n: "30", unit: "d" });
    expect(parseDuration("12 hours")).toEqual({ n: "12", unit: "h" });
    expect(parseDuration("90m")).toEqual({ n: "90", unit: "m" });
    expect(parseDuration("5 minutes")).toEqual({ n: "5", unit: "m" });
    expect(parseDuration("")).toEqual({ n: "", unit: "d" });
    expect(formatDuration("30", "d")).toBe("30d");
    expect(formatDuration(" ", "d")).toBe("");
  });
});

describe("key/value rows and credentials", () => {
  it("turns rows into an object and back", () => {
    const o = pairsToObject([
      { key: "X-Api", value: "1" },
      { key: " ", value: "dropped" },
    ]);
    expect(o).toEqual({ "X-Api": "1" });
    expect(objectToPairs({ a: "b", n: 5 })).toEqual([
      { key: "a", value: "b" },
      { key: "n", value: "5" },
    ]);
    expect(objectToPairs(null)).toEqual([]);
  });
  it("types credentials by the resource type's template", () => {
    expect(credentialsFromForm({ host: "db", port: "5432", extra: "x" }, { host: "<host>", port: 5432 })).toEqual({
      host: "db",
      port: 5432,
      extra: "x",
    });
    expect(credentialsFromForm({ port: "abc" }, { port: 1 })).toEqual({ port: "abc" });
    expect(credentialsFromForm({ virtual_host: "" }, { virtual_host: null })).toEqual({ virtual_host: null });
  });
  it("recognises masked credentials", () => {
    expect(isSealed("***")).toBe(true);
    expect(isSealed({})).toBe(false);
  });
});
