// The configuration screens, through the GUI only, each change checked on the server: a mapping
// that copies a trait from events, a segment run over the stored profiles, a consent type, a
// resource and a destination that sends through it, the enabled switch, a condition the server
// refuses, and deleting with the confirmation.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, launch, login, menu, newPage, shot, startInstalled } from "./harness.mjs";

let cdpd, browser, page, token;
before(async () => {
  ({ cdpd, token } = await startInstalled());
  // the events below need a source; sources have their own tests (journey)
  const src = await api(cdpd, token, "POST", "/event-source", { id: "web-shop", name: "Web shop", type: ["rest"], enabled: true });
  assert.equal(src.status, 200, JSON.stringify(src.body));
  browser = await launch();
  page = await newPage(browser);
  await login(page, cdpd);
});
after(async () => {
  await browser?.close();
  await cdpd?.stop();
});

async function track(profileId, events) {
  const r = await fetch(cdpd.collector + "/track", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      source: { id: "web-shop" },
      session: { id: "s-" + Math.random().toString(36).slice(2) },
      ...(profileId ? { profile: { id: profileId } } : {}),
      events,
    }),
  });
  return { status: r.status, body: await r.json() };
}

/** A screenshot once the notices in the corner have faded (but those matching `keep`). */
async function screen(name, keep) {
  let notices = page.locator(".toasts .toast");
  if (keep) notices = notices.filter({ hasNotText: keep });
  await notices.first().waitFor({ state: "detached" });
  await shot(page, name);
}

/** The empty state of a list screen ("No segments yet"). */
function emptyList() {
  return page.getByText(/^No [\w -]+ yet$/);
}

/** The list's "New …" button, then its form. */
async function openNew(label, title) {
  await page.getByRole("button", { name: label, exact: true }).click();
  const form = page.getByRole("dialog", { name: title });
  await form.waitFor();
  return form;
}

async function save(form) {
  await form.getByRole("button", { name: "Save", exact: true }).click();
  await form.waitFor({ state: "detached" });
}

let profileId;
test("an event-to-profile mapping copies a field of sign-up events into the profile's traits", async () => {
  await menu(page, "Event to profile").click();
  await page.getByRole("heading", { name: "Event to profile" }).waitFor();
  await emptyList().waitFor();
  const form = await openNew("New mapping", "New mapping");
  await form.getByLabel("Name", { exact: true }).fill("Tier from sign-ups");
  await form.getByLabel("Event type", { exact: true }).fill("sign-up");
  await form.getByLabel("Event field 1").fill("properties.tier");
  await form.getByLabel("Profile field 1").fill("traits.tier");
  await save(form);
  await page.getByRole("cell", { name: "Tier from sign-ups", exact: true }).waitFor();
  const list = await api(cdpd, token, "GET", "/event-to-profiles");
  assert.equal(list.body.total, 1);
  const m = list.body.result[0];
  assert.equal(m.name, "Tier from sign-ups");
  assert.equal(typeof m.event_type === "string" ? m.event_type : m.event_type.id, "sign-up");
  assert.equal(m.event_to_profile.length, 1);
  const ref = (v) => (typeof v === "string" ? v : v.value);
  const pair = m.event_to_profile[0];
  assert.equal(ref(pair.event), "properties.tier");
  assert.equal(ref(pair.profile), "traits.tier");
  assert.ok(pair.op === "set" || pair.op === 0, JSON.stringify(pair));

  // a sign-up now sets the trait (before any segment exists)
  const r = await track(null, [{ type: "sign-up", properties: { tier: "gold" } }]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  profileId = r.body.profile.id;
  const p = await api(cdpd, token, "GET", "/profile/" + encodeURIComponent(profileId));
  assert.equal(p.status, 200);
  assert.equal(p.body.traits.tier, "gold");
  assert.deepEqual(p.body.segments ?? [], []);
  // and one that does not match, so the segment below has to choose
  const other = await track(null, [{ type: "sign-up", properties: { tier: "silver" } }]);
  assert.equal(other.status, 200, JSON.stringify(other.body));
});

test("a segment created afterwards takes in the matching profile when segmentation runs", async () => {
  await menu(page, "Segments").click();
  await page.getByRole("heading", { name: "Segments" }).waitFor();
  await emptyList().waitFor();
  const form = await openNew("New segment", "New segment");
  await form.getByLabel("Name", { exact: true }).fill("Gold customers");
  await form.getByLabel("Description").fill("Profiles whose tier is gold");
  await form.getByLabel("Condition", { exact: true }).fill('profile@traits.tier == "gold"');
  // the preview counts over the stored profiles before saving
  await form.getByRole("button", { name: "Count matching profiles" }).click();
  await form.getByText("1 profile match now").waitFor();
  await save(form);
  const row = page.getByRole("row").filter({ hasText: "Gold customers" });
  await row.waitFor();
  const before = await api(cdpd, token, "GET", "/segments");
  assert.equal(before.body.total, 1);
  const seg = before.body.result[0];
  assert.equal(seg.name, "Gold customers");
  assert.equal(seg.condition, 'profile@traits.tier == "gold"');
  assert.equal(seg.enabled, true);
  assert.equal(seg.count, 0, "no profile is in it before segmentation runs");

  await page.getByRole("button", { name: "Run segmentation now" }).click();
  await page.getByRole("status").getByText(/Segmentation ran over 2 profiles: 1 added, 0 removed/).waitFor();
  await row.locator('td[data-label="Profiles"]', { hasText: /^1$/ }).waitFor();
  await screen("segments", /^Segmentation ran/);
  const after = await api(cdpd, token, "GET", "/segments");
  assert.equal(after.body.total, 1);
  assert.equal(after.body.result[0].count, 1);
  const p = await api(cdpd, token, "GET", "/profile/" + encodeURIComponent(profileId));
  assert.deepEqual(p.body.segments, [seg.machine_name ?? "gold-customers"]);
});

test("a condition the server cannot parse is shown in the form, and nothing is saved", async () => {
  const form = await openNew("New segment", "New segment");
  await form.getByLabel("Name", { exact: true }).fill("Broken");
  await form.getByLabel("Condition", { exact: true }).fill("profile@traits.tier ==");
  await form.getByRole("button", { name: "Save", exact: true }).click();
  // the server's 422 names the condition: the message sits at the field and above the buttons
  await form.getByRole("alert").getByText(/expected a value after '=='/).waitFor();
  await form.locator(".field-invalid").getByText(/expected a value after '=='/).waitFor();
  assert.equal(await form.isVisible(), true);
  const list = await api(cdpd, token, "GET", "/segments");
  assert.equal(list.body.total, 1);
  assert.deepEqual(
    list.body.result.map((s) => s.name),
    ["Gold customers"],
  );
  await form.getByRole("button", { name: "Cancel" }).click();
  await form.waitFor({ state: "detached" });
  assert.equal(await page.getByRole("row").filter({ hasText: "Broken" }).count(), 0);
});

test("create a consent type", async () => {
  await menu(page, "Consent types").click();
  await emptyList().waitFor();
  const form = await openNew("New consent type", "New consent type");
  await form.getByLabel("Name", { exact: true }).fill("Marketing e-mails");
  await form.getByLabel("Description").fill("News and offers by e-mail");
  await form.getByLabel("Default value").selectOption("deny");
  await form.getByLabel("Auto-revoke after").fill("30");
  await form.getByLabel("Auto-revoke unit").selectOption({ label: "days" });
  await form.getByLabel("Tags").fill("email");
  await form.getByLabel("Tags").press("Enter");
  await save(form);
  await page.getByRole("row").filter({ hasText: "Marketing e-mails" }).getByText("after 30 days").waitFor();
  await screen("consents");
  const c = await api(cdpd, token, "GET", "/consent/type/marketing-e-mails");
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.name, "Marketing e-mails");
  assert.equal(c.body.description, "News and offers by e-mail");
  assert.equal(c.body.default_value, "deny");
  assert.equal(c.body.revokable, true);
  assert.equal(c.body.auto_revoke, "30d");
  assert.deepEqual(c.body.tags, ["email"]);
});

let resourceId;
test("create an HTTP resource with a production URL", async () => {
  await menu(page, "Resources").click();
  await emptyList().waitFor();
  const form = await openNew("New resource", "New resource");
  await form.getByLabel("Type", { exact: true }).selectOption({ label: "API endpoint" });
  await form.getByLabel("Name", { exact: true }).fill("CRM webhook");
  await form.getByLabel("Production url").fill("https://crm.example.com/hook");
  await form.getByLabel("Test url").fill("https://test.crm.example.com/hook");
  await save(form);
  await page.getByRole("row").filter({ hasText: "CRM webhook" }).waitFor();
  await screen("resources");
  const list = await api(cdpd, token, "GET", "/resources");
  assert.equal(list.body.total, 1);
  resourceId = list.body.result[0].id;
  const r = await api(cdpd, token, "GET", "/resource/" + encodeURIComponent(resourceId));
  assert.equal(r.body.name, "CRM webhook");
  assert.equal(typeof r.body.type === "string" ? r.body.type : r.body.type.id, "api");
  assert.equal(r.body.credentials.production.url, "https://crm.example.com/hook");
  assert.equal(r.body.credentials.test.url, "https://test.crm.example.com/hook");
});

let destinationId;
test("a destination sends through that resource; its switch turns it off", async () => {
  await menu(page, "Destinations").click();
  await emptyList().waitFor();
  const form = await openNew("New destination", "New destination");
  await form.getByLabel("Name", { exact: true }).fill("CRM sync");
  await form.getByLabel("Resource", { exact: true }).selectOption({ label: "CRM webhook" });
  await form.getByLabel("Only when").fill('profile@segments == "gold-customers"');
  await save(form);
  const row = page.getByRole("row").filter({ hasText: "CRM sync" });
  await row.getByText("CRM webhook").waitFor();
  const list = await api(cdpd, token, "GET", "/destinations");
  assert.equal(list.body.total, 1);
  const d = list.body.result[0];
  destinationId = d.id;
  assert.equal(typeof d.resource === "string" ? d.resource : d.resource.id, resourceId);
  assert.equal(d.condition, 'profile@segments == "gold-customers"');
  assert.equal(d.on_profile_change_only, true);
  assert.equal(d.enabled, true);

  const sw = row.getByRole("checkbox", { name: "Enable CRM sync" });
  assert.equal(await sw.isChecked(), true);
  // the switch follows the server: it turns off once the save is done
  await sw.click();
  await page.getByRole("status").getByText("Destination disabled").waitFor();
  await row.locator("input:not(:checked)").waitFor({ state: "attached" });
  const off = await api(cdpd, token, "GET", "/destination/" + encodeURIComponent(destinationId));
  assert.equal(off.body.enabled, false);
  assert.equal(off.body.name, "CRM sync", "the switch changes nothing else");
  assert.equal(await sw.isChecked(), false);
  await screen("destinations");
});

test("a resource a destination uses cannot be deleted: the confirmation says why", async () => {
  await menu(page, "Resources").click();
  await page.getByRole("button", { name: "Delete CRM webhook" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete resource" });
  await confirm.getByText("CRM webhook").waitFor();
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await confirm.getByRole("alert").waitFor();
  assert.match(await confirm.getByRole("alert").innerText(), /destination/i);
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await confirm.waitFor({ state: "detached" });
  const r = await api(cdpd, token, "GET", "/resource/" + encodeURIComponent(resourceId));
  assert.equal(r.status, 200);
});

test("delete the destination from its form, after confirming", async () => {
  await menu(page, "Destinations").click();
  await page.getByRole("row").filter({ hasText: "CRM sync" }).click();
  const form = page.getByRole("dialog", { name: "Edit destination" });
  await form.getByRole("button", { name: "Delete", exact: true }).click();
  const confirm = page.getByRole("dialog", { name: "Delete destination" });
  // cancelling keeps it
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await confirm.waitFor({ state: "detached" });
  assert.equal((await api(cdpd, token, "GET", "/destination/" + encodeURIComponent(destinationId))).status, 200);
  await form.getByRole("button", { name: "Delete", exact: true }).click();
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await confirm.waitFor({ state: "detached" });
  await form.waitFor({ state: "detached" });
  await emptyList().waitFor();
  assert.equal((await api(cdpd, token, "GET", "/destination/" + encodeURIComponent(destinationId))).status, 404);
  assert.equal((await api(cdpd, token, "GET", "/destinations")).body.total, 0);
});

test("delete the consent type from the list's button", async () => {
  await menu(page, "Consent types").click();
  await page.getByRole("button", { name: "Delete Marketing e-mails" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete consent type" });
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await confirm.waitFor({ state: "detached" });
  await emptyList().waitFor();
  assert.equal((await api(cdpd, token, "GET", "/consent/type/marketing-e-mails")).status, 404);
});

test("the GUI raised no error on the way", () => {
  assert.deepEqual(page.errors, []);
});
