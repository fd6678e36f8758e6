// Debugging a workflow on a real stored event, from both directions: the event explorer shows
// which rules and workflows processed an event and links to "Debug in <workflow>", which opens
// the editor replaying that event (with its own profile and session); nothing is stored.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, launch, login, menu, newPage, shot, startInstalled } from "./harness.mjs";

let cdpd, browser, page, token;
before(async () => {
  ({ cdpd, token } = await startInstalled());
  browser = await launch();
  page = await newPage(browser);
});
after(async () => {
  await browser?.close();
  await cdpd?.stop();
});

const node = (id, name, className, init, inputs, outputs, y) => ({
  id,
  type: inputs.length ? "flowNode" : "startNode",
  position: { x: 0, y },
  data: { name, spec: { className, module: "", init, inputs, outputs }, metadata: { name } },
});

// Start (purchases) → Make gold (Copy data) → Count purchases (Increment)
const FLOW = {
  id: "debug-loyalty",
  name: "Loyalty points",
  description: "",
  tags: [],
  type: "collection",
  flowGraph: {
    nodes: [
      node("n1", "Start", "start", { event_types: ["purchase"] }, [], ["payload"], 0),
      node("n2", "Make gold", "copy-data", { traits: { set: { "profile@traits.tier": "gold" } } }, ["payload"], ["payload", "error"], 150),
      node("n3", "Count purchases", "increment", { field: "profile@traits.purchases", increment: 1 }, ["payload"], ["payload", "error"], 300),
    ],
    edges: [
      { id: "e1", source: "n1", sourceHandle: "payload", target: "n2", targetHandle: "payload" },
      { id: "e2", source: "n2", sourceHandle: "payload", target: "n3", targetHandle: "payload" },
    ],
  },
};

async function eventCount() {
  const r = await api(cdpd, token, "POST", "/event/select", { limit: 1 });
  assert.equal(r.status, 200);
  return r.body.total;
}

let eventId, profileId;
test("set up through the API: a source, a deployed workflow, a rule and a tracked purchase", async () => {
  let r = await api(cdpd, token, "POST", "/event-source", { id: "shop", name: "Shop", type: ["rest"], channel: "web" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await api(cdpd, token, "POST", "/flow/production", FLOW);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await api(cdpd, token, "POST", "/rule", { name: "Purchases count", event_type: "purchase", source: "shop", flow: FLOW.id, enabled: true });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const t = await fetch(cdpd.collector + "/track", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ source: { id: "shop" }, session: { id: "s-debug-1" }, events: [{ type: "purchase", properties: { sku: "SKU-DEBUG-42", total: 99 } }] }),
  });
  const tb = await t.json();
  assert.equal(t.status, 200, JSON.stringify(tb));
  assert.deepEqual(tb.errors, []);
  profileId = tb.profile.id;
  const found = await api(cdpd, token, "POST", "/event/select", { where: 'type == "purchase"' });
  assert.equal(found.body.total, 1);
  const ev = found.body.result[0];
  eventId = ev.id;
  assert.deepEqual(ev.metadata.processed_by.flows, [FLOW.id]);
  const prof = await api(cdpd, token, "GET", "/profile/" + encodeURIComponent(profileId));
  assert.equal(prof.status, 200);
  assert.equal(prof.body.traits.tier, "gold");
  assert.equal(prof.body.traits.purchases, 1);
});

test("the event's drawer lists the workflow and rule that processed it, with a debug link", async () => {
  await login(page, cdpd);
  await menu(page, "Events").click();
  await page.getByRole("button", { name: /^Open event purchase/ }).first().click();
  const drawer = page.getByRole("dialog", { name: "Event purchase" });
  await drawer.getByRole("tab", { name: "Workflows (1)" }).click();
  const flows = drawer.getByRole("list", { name: "Workflows that ran the event" });
  await flows.getByText("Loyalty points", { exact: true }).waitFor();
  await flows.getByText(FLOW.id, { exact: true }).waitFor();
  await drawer.getByRole("list", { name: "Rules that matched the event" }).getByText("Purchases count").waitFor();
  const link = drawer.getByRole("link", { name: "Debug in Loyalty points" });
  assert.equal(await link.getAttribute("href"), `#/flows/${FLOW.id}?debug=${eventId}`);
  await shot(page, "event-routing");
});

test("“Debug in …” replays the stored event in the editor and stores nothing", async () => {
  const before = await eventCount();
  await page.getByRole("link", { name: "Debug in Loyalty points" }).click();
  const dbg = page.getByRole("region", { name: "Debugger" });
  await dbg.waitFor();
  assert.equal(await dbg.getByRole("tab", { name: "Stored event" }).getAttribute("aria-selected"), "true");
  assert.equal(await dbg.getByLabel("Event ID").inputValue(), eventId);
  for (const name of ["Start", "Make gold", "Count purchases"]) await page.getByRole("group", { name, exact: true }).getByText("✓ ran").waitFor();
  // the run starts from the stored profile (1 purchase), so the debug run counts the 2nd
  await dbg.getByRole("tab", { name: "Profile changes (1)" }).click();
  await dbg.getByRole("cell", { name: "traits.purchases" }).waitFor();
  await dbg.getByRole("cell", { name: "2", exact: true }).waitFor();
  // the event's own properties
  await dbg.getByRole("tab", { name: "Event", exact: true }).click();
  await dbg.getByText('"SKU-DEBUG-42"').waitFor();
  await dbg.getByText(`"${eventId}"`).first().waitFor();
  // the latest purchases are offered to pick from; this one is the picked one
  await dbg.getByRole("list", { name: "Latest events" }).getByRole("button", { pressed: true }).waitFor();
  await shot(page, "flow-debug-stored-event");
  // the link ran once and left a plain address
  assert.ok(!page.url().includes("debug="), page.url());
  // nothing stored: no new event, the profile still counts 1 purchase
  assert.equal(await eventCount(), before);
  const prof = await api(cdpd, token, "GET", "/profile/" + encodeURIComponent(profileId));
  assert.equal(prof.body.traits.purchases, 1);
  // running again from the button gives the same run
  await dbg.getByRole("button", { name: "Run debug" }).click();
  await dbg.getByRole("tab", { name: "Profile changes (1)" }).waitFor();
  assert.equal(await eventCount(), before);
});

test("an unknown event id shows the server's error", async () => {
  const dbg = page.getByRole("region", { name: "Debugger" });
  await dbg.getByLabel("Event ID").fill("no-such-event");
  await dbg.getByRole("button", { name: "Run debug" }).click();
  await dbg.getByText(/No stored event “no-such-event”.*event not found/).waitFor();
  assert.equal(await page.getByText("✓ ran").count(), 0);
  await shot(page, "flow-debug-unknown-event");
  // an address with ?debug= opens the debugger on that id and runs it at once
  await page.goto(`${cdpd.admin}/#/flows/${FLOW.id}?debug=${encodeURIComponent(eventId)}`);
  await page.getByRole("group", { name: "Count purchases", exact: true }).getByText("✓ ran").waitFor();
  assert.equal(await page.getByRole("region", { name: "Debugger" }).getByLabel("Event ID").inputValue(), eventId);
});

test("a marketer sees the workflow ids but no debug link", async () => {
  const marketer = { email: "mark@example.com", password: "marketer-password-1" };
  const r = await api(cdpd, token, "POST", "/user", { ...marketer, full_name: "Mark", roles: ["marketer"] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const mp = await newPage(browser);
  await login(mp, cdpd, marketer);
  await menu(mp, "Events").click();
  await mp.getByRole("button", { name: /^Open event purchase/ }).first().click();
  const drawer = mp.getByRole("dialog", { name: "Event purchase" });
  await drawer.getByRole("tab", { name: "Workflows (1)" }).click();
  await drawer.getByRole("list", { name: "Workflows that ran the event" }).getByText(FLOW.id, { exact: true }).first().waitFor();
  assert.equal(await drawer.getByRole("link", { name: /^Debug in/ }).count(), 0);
  assert.deepEqual(mp.errors, []);
  await mp.context().close();
});

test("the GUI raised no error on the way", () => {
  assert.deepEqual(page.errors, []);
});
