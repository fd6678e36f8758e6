// A user's first hour, through the GUI only: log in, create an event source, build a workflow
// from the palette, deploy it, route events into it with a rule, send /track as a site would,
// find the profile in the explorer with the workflow's change, and debug the workflow.
// Screenshots of the screens it passes go to SHOTS (docs/screenshots with `make screenshots`).
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

async function track(sourceId, profileId, events) {
  const r = await fetch(cdpd.collector + "/track", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      source: { id: sourceId },
      session: { id: "s-" + Math.random().toString(36).slice(2) },
      ...(profileId ? { profile: { id: profileId } } : {}),
      context: { page: { url: "https://shop.example.com/" } },
      events,
    }),
  });
  return { status: r.status, body: await r.json() };
}

test("log in and land on the dashboard", async () => {
  await login(page, cdpd);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.getByText("No events yet").waitFor();
});

test("create an event source and read its snippet", async () => {
  await menu(page, "Event sources").click();
  await page.getByRole("button", { name: /^(New event source|Create the first event source)$/ }).first().click();
  const form = page.getByRole("dialog", { name: "New event source" });
  await form.getByLabel("Name").fill("Web shop");
  await form.getByLabel("ID", { exact: true }).fill("web-shop");
  await form.getByLabel("Channel").fill("web");
  await form.getByRole("button", { name: "Save" }).click();
  await form.waitFor({ state: "detached" });
  const src = await api(cdpd, token, "GET", "/event-source/web-shop");
  assert.equal(src.status, 200);
  assert.equal(src.body.name, "Web shop");
  assert.deepEqual(src.body.type, ["rest"]);
  // a new source opens at once on what to paste into the site, which names it
  const drawer = page.getByRole("dialog", { name: "Web shop" });
  await drawer.getByRole("tab", { name: "Use" }).click();
  const snippet = await drawer.getByLabel("JavaScript snippet").innerText();
  assert.match(snippet, /web-shop/);
  assert.match(snippet, /\/track/);
  await shot(page, "event-source-snippet");
  await drawer.getByRole("button", { name: "Close" }).click();
});

let flowId;
test("build a workflow from the palette, configure it and deploy it", async () => {
  await menu(page, "Workflows").click();
  await page.getByRole("button", { name: "New workflow" }).first().click();
  const dlg = page.getByRole("dialog", { name: "New workflow" });
  await dlg.getByLabel("Name").fill("Loyalty");
  await dlg.getByLabel("Description").fill("A purchase makes a gold customer");
  await dlg.getByRole("button", { name: "Create" }).click();
  const palette = page.getByRole("complementary", { name: "Plugins" });
  await palette.waitFor();
  flowId = decodeURIComponent(page.url().split("#/flows/")[1]);
  assert.ok(flowId);
  // drag Copy data from the palette onto the canvas, then connect Start's port to it by dragging
  await palette.getByLabel("Filter plugins").fill("copy");
  await palette
    .getByRole("button", { name: "Copy data", exact: true })
    .dragTo(page.locator(".flow-canvas .react-flow__pane"), { targetPosition: { x: 480, y: 520 } });
  const copy = page.getByRole("group", { name: "Copy data", exact: true });
  await copy.waitFor();
  const start = page.getByRole("group", { name: "Start", exact: true });
  await start.locator(".react-flow__handle.source").dragTo(copy.locator(".react-flow__handle.target"));
  await page.getByRole("group", { name: "Connection from Start (payload) to Copy data" }).waitFor({ state: "attached" });
  // its settings: a form made from the plugin's schema
  await copy.dblclick();
  const panel = page.getByRole("complementary", { name: "Node settings" });
  await panel.getByLabel("Set to key 1").fill("profile@traits.tier");
  await panel.getByLabel("Set to value 1").fill("gold");
  await panel.getByLabel("Node name").fill("Make gold");
  await page.getByRole("group", { name: "Make gold", exact: true }).waitFor();
  await page.getByRole("button", { name: "Arrange" }).click();
  await page.waitForTimeout(500); // the view glides to fit the arranged nodes
  await shot(page, "flow-editor");
  // saved on its own, then deployed
  await page.locator(".flow-save", { hasText: /^Saved$/ }).waitFor();
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  await page.getByText("Deployed", { exact: true }).waitFor();
  const prod = await api(cdpd, token, "GET", "/flow/production/" + encodeURIComponent(flowId));
  assert.equal(prod.status, 200);
  const nodes = prod.body.flowGraph.nodes;
  const made = nodes.find((n) => n.data.metadata?.name === "Make gold");
  assert.deepEqual(made.data.spec.init.traits.set, { "profile@traits.tier": "gold" });
  assert.equal(prod.body.flowGraph.edges.length, 1);
  await page.getByRole("button", { name: "‹ Workflows" }).click();
  await page.getByRole("link", { name: "Loyalty" }).waitFor();
  await shot(page, "flows");
});

test("a rule routes purchases from the web shop into the workflow", async () => {
  await menu(page, "Trigger rules").click();
  await page.getByRole("button", { name: "New rule" }).first().click();
  const form = page.getByRole("dialog", { name: "New rule" });
  await form.getByLabel("Name").fill("Purchases earn loyalty");
  await form.getByLabel("Event type").fill("purchase");
  await form.getByLabel("Source").selectOption({ label: "Web shop" });
  await form.getByLabel("Workflow").selectOption({ label: "Loyalty" });
  await form.getByRole("button", { name: "Save" }).click();
  await form.waitFor({ state: "detached" });
  await page.getByRole("button", { name: "Purchases earn loyalty", exact: true }).waitFor();
  await shot(page, "rules");
  const rules = await api(cdpd, token, "GET", "/rules");
  assert.equal(rules.body.total, 1);
  const rule = rules.body.result[0];
  assert.equal(rule.event_type.id, "purchase");
  assert.equal(rule.source.id, "web-shop");
  assert.equal(rule.flow.id, flowId);
});

let profileId;
test("events sent to /track run the workflow; the explorer finds the profile it changed", async () => {
  const first = await track("web-shop", null, [{ type: "page-view", properties: { title: "Home" } }]);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  profileId = first.body.profile.id;
  const r = await track("web-shop", profileId, [{ type: "purchase", properties: { total: 120, sku: "BS-1" } }]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await menu(page, "Profiles").click();
  await page.getByLabel("Query").fill('traits.tier == "gold"');
  await page.getByRole("button", { name: "Search" }).click();
  const open = page.getByRole("button", { name: /^Open profile / });
  await open.first().waitFor();
  assert.equal(await open.count(), 1);
  await shot(page, "explorer-profiles");
  await open.first().click();
  await page.getByRole("tab", { name: "Overview" }).waitFor();
  await page.getByText("gold", { exact: true }).first().waitFor();
  assert.match(page.url(), new RegExp(profileId));
  await shot(page, "profile");
  await page.getByRole("tab", { name: "Timeline" }).click();
  await page.getByRole("list", { name: "Timeline" }).getByRole("button", { name: /purchase/ }).first().waitFor();
  await shot(page, "profile-timeline");
  // the events explorer shows them too, and the dashboard counts them
  await menu(page, "Events").click();
  await page.getByLabel("Query").fill('type == "purchase"');
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("button", { name: /^Open event purchase/ }).first().waitFor();
  await shot(page, "explorer-events");
  await menu(page, "Dashboard").click();
  await page.getByRole("heading", { name: "Events over time" }).waitFor();
  await page.getByRole("heading", { name: "Events by type" }).waitFor();
  await shot(page, "dashboard");
});

test("debug the workflow on a test event: each node's input and output on the canvas", async () => {
  await menu(page, "Workflows").click();
  await page.getByRole("link", { name: "Loyalty" }).click();
  await page.getByRole("button", { name: "Debug", exact: true }).click();
  const dbg = page.getByRole("region", { name: "Debugger" });
  await dbg.getByLabel("Test event JSON").fill(JSON.stringify({ type: "purchase", properties: { total: 75 } }));
  await dbg.getByRole("button", { name: "Run debug" }).click();
  const node = page.getByRole("group", { name: "Make gold", exact: true });
  await node.getByText("✓ ran").waitFor();
  await node.click();
  await dbg.getByRole("tab", { name: /^Node: Make gold/ }).waitFor();
  await dbg.getByText("payload", { exact: false }).first().waitFor();
  await dbg.getByRole("tab", { name: /Profile changes/ }).click();
  await dbg.getByText("traits.tier").first().waitFor();
  await dbg.getByText("gold").first().waitFor();
  await shot(page, "flow-debugger");
  // the debugger stores nothing
  const found = await api(cdpd, token, "POST", "/event/select", { where: "properties.total == 75" });
  assert.equal(found.body.total, 0);
});

test("on a phone the menu folds away and pages still work", async () => {
  const phone = await newPage(browser, { width: 390, height: 844 });
  await login(phone, cdpd);
  await phone.getByRole("heading", { name: "Dashboard" }).waitFor();
  await phone.getByRole("heading", { name: "Events by type" }).waitFor();
  await shot(phone, "phone-dashboard");
  await phone.getByRole("button", { name: "Menu" }).click();
  await menu(phone, "Profiles").click();
  await phone.getByRole("button", { name: /^Open profile / }).first().waitFor();
  await shot(phone, "phone-profiles");
  assert.deepEqual(phone.errors, []);
});

test("the GUI raised no error on the way", () => {
  assert.deepEqual(page.errors, []);
});
