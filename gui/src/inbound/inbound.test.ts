import { describe, expect, it } from "vitest";
import { curlTrack, curlWebhook, defaultCollectorUrl, jsSnippet, jsString, normalizeCollectorUrl, shellQuote, webhookUrl } from "./snippet";
import { buildPayload, testerProblem, trackUrl, type TesterForm } from "./payload";
import { buildRouting, fieldError, ruleTags } from "./routing";
import type { EventSource, FlowSummary, Rule } from "./types";

describe("collector URL", () => {
  it("defaults to this host on port 8686", () => {
    expect(defaultCollectorUrl({ protocol: "http:", hostname: "cdp.example.com" })).toBe("http://cdp.example.com:8686");
    expect(defaultCollectorUrl({ protocol: "https:", hostname: "10.0.0.5" })).toBe("https://10.0.0.5:8686");
    expect(defaultCollectorUrl({ protocol: "http:", hostname: "::1" })).toBe("http://[::1]:8686");
  });
  it("is normalised before use", () => {
    expect(normalizeCollectorUrl(" http://a:8686// ")).toBe("http://a:8686");
    expect(normalizeCollectorUrl("a:8686")).toBe("http://a:8686");
    expect(normalizeCollectorUrl("")).toBe("");
  });
});

describe("quoting", () => {
  it("keeps </script> out of the inline script", () => {
    expect(jsString("</script><b>")).not.toContain("</");
    expect(JSON.parse(jsString("</script>"))).toBe("</script>");
  });
  it("quotes for the shell", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe("jsSnippet", () => {
  const s = jsSnippet("http://cdp.test:8686/", "src-1", "Web shop");
  it("is one inline script with the source and collector", () => {
    expect(s.match(/<script>/g)).toHaveLength(1);
    expect(s.trim().endsWith("</script>")).toBe(true);
    expect(s).toContain('var COLLECTOR = "http://cdp.test:8686";');
    expect(s).toContain('var SOURCE = "src-1";');
    expect(s).toContain("for the event source Web shop");
  });
  it("runs: sends a page-view, keeps the ids, and track() sends the next with them", async () => {
    const js = s.replace(/^[\s\S]*?<script>/, "").replace(/<\/script>\s*$/, "");
    const sent: { url: string; body: Record<string, unknown>; headers: Record<string, string> }[] = [];
    const mem = () => {
      const m = new Map<string, string>();
      return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    };
    const w: Record<string, unknown> = { localStorage: mem(), sessionStorage: mem() };
    const d = { readyState: "complete", title: "Home", referrer: "https://google.com/x", addEventListener() {} };
    let n = 0;
    const fetch = async (url: string, init: { body: string; headers: Record<string, string> }) => {
      sent.push({ url, body: JSON.parse(init.body), headers: init.headers });
      n++;
      return { ok: true, status: 200, json: async () => ({ profile: { id: "p1" }, session: { id: "s" + n } }) };
    };
    const g = { navigator: { userAgent: "UA", language: "en" }, screen: { width: 1, height: 2 }, location: { href: "https://shop/x" }, fetch, URL, Intl };
    new Function(...Object.keys(g), "window", "document", js)(...Object.values(g), w, d);
    const api = w.cdpd as { track: (t: string, p?: object) => Promise<unknown>; profileId: () => string };
    await api.track("purchase", { total: 5 });
    expect(sent).toHaveLength(2);
    expect(sent[0].url).toBe("http://cdp.test:8686/track");
    expect(sent[0].headers["Content-Type"]).toMatch(/^text\/plain/);
    expect(sent[0].body).toMatchObject({ source: { id: "src-1" }, events: [{ type: "page-view", context: { page: { title: "Home", referer: { host: "google.com" } } } }] });
    expect(sent[0].body.profile).toBeUndefined();
    expect(sent[1].body).toMatchObject({ profile: { id: "p1" }, session: { id: "s1" }, events: [{ type: "purchase", properties: { total: 5 } }] });
    expect(api.profileId()).toBe("p1");
  });
});

describe("curl and webhook", () => {
  it("builds the /track call", () => {
    const c = curlTrack("http://h:8686", "src-1");
    expect(c).toContain("curl -X POST 'http://h:8686/track'");
    expect(c).toContain('"id": "src-1"');
  });
  it("builds the webhook URL", () => {
    expect(webhookUrl("http://h:8686/", "sign up", "hook")).toBe("http://h:8686/collect/sign%20up/hook");
    expect(webhookUrl("http://h:8686", "", "hook", "s1")).toBe("http://h:8686/collect/event-type/hook/s1");
    expect(curlWebhook("http://h/collect/a/b")).toContain("'http://h/collect/a/b'");
  });
});

describe("tester payload", () => {
  const f: TesterForm = {
    sourceId: "web",
    profileId: " p1 ",
    sessionId: "",
    eventType: " purchase ",
    properties: { total: 5 },
    tags: ["t"],
    sessionProperties: {},
    debug: true,
    profileLess: false,
    browserContext: false,
  };
  it("sends only what was filled in", () => {
    expect(buildPayload(f)).toEqual({
      source: { id: "web" },
      profile: { id: "p1" },
      options: { debugger: true },
      events: [{ type: "purchase", properties: { total: 5 }, tags: ["t"] }],
    });
  });
  it("drops the profile when profile-less and adds the browser context when asked", () => {
    const p = buildPayload({ ...f, profileLess: true, browserContext: true, sessionId: "s", properties: [1] }, {
      userAgent: "UA",
      language: "en",
      width: 3,
      height: 4,
      tz: "UTC",
      url: "http://x",
    });
    expect(p.profile).toBeUndefined();
    expect(p.session).toEqual({ id: "s" });
    expect(p.context).toMatchObject({ screen: { local: { width: 3 } }, time: { tz: "UTC" } });
    expect((p.events as { properties: unknown }[])[0].properties).toEqual({});
    expect(trackUrl("http://c:1/", true)).toBe("http://c:1/track?profile_less=true");
  });
  it("says what is missing", () => {
    expect(testerProblem({ ...f, sourceId: "" }, "http://c")).toMatch(/source/);
    expect(testerProblem({ ...f, eventType: " " }, "http://c")).toMatch(/event type/);
    expect(testerProblem(f, " ")).toMatch(/collector/);
    expect(testerProblem(f, "http://c")).toBeUndefined();
  });
});

describe("routing", () => {
  const rule = (id: string, name: string, et: string, src: string, flow: string, tags: string[] = []): Rule => ({
    id,
    name,
    event_type: { id: et, name: et },
    source: { id: src, name: src },
    flow: { id: flow, name: flow },
    enabled: true,
    tags,
  });
  const sources: EventSource[] = [{ id: "web", name: "Web shop", type: ["rest"], enabled: true }];
  const flows: FlowSummary[] = [{ id: "f1", name: "Loyalty", deployed: true }];
  it("groups by type, then source (any first), with flow names", () => {
    const r = buildRouting(
      [rule("1", "b", "purchase", "web", "f1", ["x"]), rule("2", "a", "purchase", "", "gone", ["y", "x"]), rule("3", "c", "page-view", "web", "f1")],
      sources,
      flows,
    );
    expect(r.map((t) => t.eventType)).toEqual(["page-view", "purchase"]);
    expect(r[1].sources.map((s) => s.sourceName)).toEqual(["Any source", "Web shop"]);
    expect(r[1].sources[0].rules[0]).toMatchObject({ flowId: "gone", flowMissing: true, flowDeployed: false });
    expect(r[1].sources[1].rules[0]).toMatchObject({ flowName: "Loyalty", flowDeployed: true });
    expect(ruleTags([rule("1", "b", "p", "", "f", ["x", "a"]), rule("2", "c", "p", "", "f", ["x"])])).toEqual(["a", "x"]);
  });
  it("maps a 422 detail to its field", () => {
    expect(fieldError("flow: no flow `nope`", ["flow", "name"])).toEqual({ field: "flow", message: "no flow `nope`" });
    expect(fieldError("event_type: required", ["event_type"])).toEqual({ field: "event_type", message: "required" });
    expect(fieldError("something else", ["flow"])).toEqual({ message: "something else" });
  });
});
