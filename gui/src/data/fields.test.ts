import { expect, test } from "vitest";
import { consentState, deviceLine, flatten, get, osLine, personEmail, personName, shortId, visitCount } from "./fields";

const ada = {
  id: "p1",
  traits: { plan: "pro" },
  data: { pii: { firstname: "Ada", lastname: "Lovelace", display_name: null }, contact: { email: { main: "ada@example.com", private: null } } },
  metadata: { time: { visit: { count: 3 } } },
  stats: { visits: 0 },
};

test("get walks dotted paths", () => {
  expect(get(ada, "data.pii.firstname")).toBe("Ada");
  expect(get(ada, "data.nope.x")).toBeUndefined();
  expect(get(null, "a")).toBeUndefined();
});

test("a person's name and e-mail from pii, contact or traits", () => {
  expect(personName(ada)).toBe("Ada Lovelace");
  expect(personEmail(ada)).toBe("ada@example.com");
  expect(personName({ traits: { name: "Grace" } })).toBe("Grace");
  expect(personEmail({ traits: { email: "g@example.com" } })).toBe("g@example.com");
  expect(personName({ data: { pii: { firstname: " " } } })).toBeUndefined();
});

test("visits take the larger counter", () => {
  expect(visitCount(ada)).toBe(3);
  expect(visitCount({ stats: { visits: 5 } })).toBe(5);
  expect(visitCount({})).toBe(0);
});

test("flatten drops empty values and keeps plain lists", () => {
  expect(flatten({ a: { b: 1, c: null, d: "" }, e: [], f: ["x", "y"], g: [{ h: 2 }], i: {} })).toEqual([
    ["a.b", 1],
    ["f", ["x", "y"]],
    ["g.0.h", 2],
  ]);
  expect(flatten(false, "x")).toEqual([["x", false]]);
});

test("shortId and device lines", () => {
  expect(shortId("01a227f7-b3e8-7ca0-9938-401d283df20f")).toBe("01a227f7…f20f");
  expect(shortId("short")).toBe("short");
  expect(deviceLine({ device: { brand: "Apple", model: "iPhone", type: "mobile" } })).toBe("Apple iPhone · mobile");
  expect(deviceLine({ device: { name: "Other", type: "pc" } })).toBe("pc");
  expect(osLine({ os: { name: "iOS", version: "17.0" } })).toBe("iOS 17.0");
  expect(osLine({})).toBe("—");
});

test("consent state from the revoke time", () => {
  const now = Date.parse("2024-05-01T00:00:00Z");
  expect(consentState({ revoke: null }, now)).toEqual({ state: "granted" });
  expect(consentState({ revoke: "2024-06-01T00:00:00+00:00" }, now).state).toBe("granted");
  expect(consentState({ revoke: "2024-04-01T00:00:00" }, now).state).toBe("expired");
});
