// Administration through the GUI, each step checked on the server: a new developer logs in,
// sees a developer's menu and changes their password; the audit log shows who did what; an event
// source built in staging reaches production by a deploy.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADMIN, api, apiToken, launch, login, menu, newPage, shot, startInstalled } from "./harness.mjs";

const DEV = { email: "dev@example.com", password: "developer-password-1" };
const NEW_PASSWORD = "developer-password-2";

let cdpd, browser, page, token;
before(async () => {
  ({ cdpd, token } = await startInstalled());
  browser = await launch();
  page = await newPage(browser);
  await login(page, cdpd);
});
after(async () => {
  await browser?.close();
  await cdpd?.stop();
});

/** The management API in one data context (the harness's `api` speaks to production). */
async function apiIn(context, method, path) {
  const r = await fetch(cdpd.admin + path, { method, headers: { Authorization: `Bearer ${token}`, "x-context": context } });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/** A screenshot once the notices in the corner have faded (but those matching `keep`). */
async function screen(name, keep) {
  let notices = page.locator(".toasts .toast");
  if (keep) notices = notices.filter({ hasNotText: keep });
  await notices.first().waitFor({ state: "detached" });
  await shot(page, name);
}

async function logout() {
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in" }).waitFor();
}

let devId;
test("an administrator creates a developer in the Users screen", async () => {
  await menu(page, "Users").click();
  await page.getByRole("heading", { name: "Users" }).waitFor();
  await page.getByRole("button", { name: "New user" }).click();
  const form = page.getByRole("dialog", { name: "New user" });
  await form.getByLabel("E-mail").fill(DEV.email);
  await form.getByLabel("Full name").fill("Dev Eloper");
  await form.getByLabel("Password", { exact: true }).fill(DEV.password);
  // a new user starts as a marketer: make them a developer only
  await form.getByRole("checkbox", { name: "developer", exact: true }).check();
  await form.getByRole("checkbox", { name: "marketer", exact: true }).uncheck();
  await form.getByRole("button", { name: "Create user" }).click();
  await form.waitFor({ state: "detached" });
  const row = page.getByRole("row").filter({ hasText: DEV.email });
  await row.getByText("developer", { exact: true }).waitFor();
  await screen("users");
  const users = await api(cdpd, token, "GET", "/users/0/100");
  const dev = users.body.result.find((u) => u.email === DEV.email);
  assert.ok(dev, JSON.stringify(users.body));
  devId = dev.id;
  assert.deepEqual(dev.roles, ["developer"]);
  assert.equal(dev.full_name, "Dev Eloper");
  assert.equal(dev.disabled, false);
  assert.ok(await apiToken(cdpd, DEV), "the password set in the form works");
});

test("the developer logs in and sees a developer's menu", async () => {
  await logout();
  await login(page, cdpd, DEV);
  const nav = page.getByRole("complementary", { name: "Main menu" });
  for (const name of ["Workflows", "Event sources", "Trigger rules", "Resources"]) await menu(page, name).waitFor();
  for (const name of ["Users", "Audit log", "Deployment", "Merges"])
    assert.equal(await menu(page, name).count(), 0, name);
  await nav.getByText(DEV.email).waitFor();
});

test("the developer changes their own password in My account", async () => {
  await page.getByRole("complementary", { name: "Main menu" }).getByTitle("My account").click();
  await page.getByRole("heading", { name: "My account" }).waitFor();
  await page.getByText(DEV.email, { exact: true }).first().waitFor();
  // a wrong current password is refused and shown
  await page.getByLabel("Current password").fill("not-my-password");
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByLabel("Confirm password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator(".field-invalid, [role=alert]").first().waitFor();
  assert.ok(await apiToken(cdpd, DEV), "the old password still works after a refused change");
  await page.getByLabel("Current password").fill(DEV.password);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByRole("status").getByText(/Password changed/).waitFor();
  await assert.rejects(apiToken(cdpd, DEV), /login 401/);
  assert.ok(await apiToken(cdpd, { ...DEV, password: NEW_PASSWORD }));
  // this window stays logged in; the next login takes the new password
  await logout();
  await login(page, cdpd, { ...DEV, password: NEW_PASSWORD });
  await logout();
  await login(page, cdpd);
});

/** Waits until the audit table holds n rows, each naming `email` (the filter has applied). */
function onlyRowsOf(n, email) {
  return page.waitForFunction(
    ([n, email]) => {
      const trs = [...document.querySelectorAll("tbody tr")];
      return trs.length === n && trs.every((tr) => tr.textContent.includes(email));
    },
    [n, email],
  );
}

test("the audit log lists those actions, filtered by user", async () => {
  await menu(page, "Audit log").click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  const rows = page.locator("tbody tr");
  await rows.first().waitFor();
  await screen("audit");
  await page.getByLabel("User", { exact: true }).fill(DEV.email);
  // the developer's changes only: their password (the refused try and the change)
  const devAudit = await api(cdpd, token, "GET", "/audit?user=" + encodeURIComponent(DEV.email));
  assert.ok(devAudit.body.total >= 1, JSON.stringify(devAudit.body));
  assert.ok(devAudit.body.result.every((r) => r.user?.email === DEV.email));
  assert.ok(devAudit.body.result.some((r) => r.path === "/user-account" && r.status === 200), JSON.stringify(devAudit.body));
  await onlyRowsOf(devAudit.body.result.length, DEV.email);
  await rows.filter({ hasText: "/user-account" }).first().waitFor();
  // the administrator's creation of the user, found under their name
  await page.getByLabel("User", { exact: true }).fill(ADMIN.email);
  const adminAudit = await api(cdpd, token, "GET", "/audit?user=" + encodeURIComponent(ADMIN.email));
  assert.ok(adminAudit.body.result.some((r) => r.method === "POST" && r.path === "/user" && r.entity?.id === devId), JSON.stringify(adminAudit.body));
  await onlyRowsOf(adminAudit.body.result.length, ADMIN.email);
  const created = rows.filter({ hasText: "POST" }).filter({ hasText: DEV.email });
  assert.equal(await created.count(), 1);
  await created.first().click();
  const drawer = page.getByRole("dialog", { name: "Audit record" });
  await drawer.getByText("Created with").waitFor();
  await drawer.getByText(ADMIN.email).first().waitFor();
  await drawer.getByText(DEV.email).first().waitFor();
  await drawer.getByRole("button", { name: "Close" }).click();
  await drawer.waitFor({ state: "detached" });
});

test("an event source made in staging reaches production by a deploy", async () => {
  const ctx = page.getByRole("radiogroup", { name: "Data context" });
  await ctx.getByRole("radio", { name: "Staging" }).click();
  assert.equal(await ctx.getByRole("radio", { name: "Staging" }).getAttribute("aria-checked"), "true");
  await menu(page, "Event sources").click();
  await page.getByText(/^No [\w -]+ yet$/).waitFor(); // staging has none
  await page.getByRole("button", { name: "New event source" }).click();
  const form = page.getByRole("dialog", { name: "New event source" });
  await form.getByLabel("Name").fill("Staging shop");
  await form.getByLabel("ID", { exact: true }).fill("staging-shop");
  await form.getByRole("button", { name: "Save" }).click();
  await form.waitFor({ state: "detached" });
  await page.getByRole("dialog", { name: "Staging shop" }).getByRole("button", { name: "Close" }).click();
  assert.equal((await apiIn("staging", "GET", "/event-source/staging-shop")).status, 200);
  assert.equal((await apiIn("production", "GET", "/event-source/staging-shop")).status, 404, "made in staging only");

  await menu(page, "Deployment").click();
  await page.getByRole("heading", { name: "Deployment" }).waitFor();
  // the dry run: one event source to add
  const pending = page.getByText("Production will get 1 change.");
  await pending.waitFor();
  const row = page.getByRole("row").filter({ hasText: "staging-shop" });
  await row.waitFor();
  assert.equal(await row.locator(".adm-id-added", { hasText: "staging-shop" }).count(), 1);
  await screen("deploy");
  await page.getByRole("button", { name: "Deploy staging to production" }).click();
  const confirm = page.getByRole("dialog", { name: "Deploy staging to production" });
  await confirm.getByText(/1 added, 0 changed, 0 removed/).waitFor();
  await confirm.getByRole("button", { name: "Deploy", exact: true }).click();
  await confirm.waitFor({ state: "detached" });
  await page.getByRole("heading", { name: "Last deployment" }).waitFor();
  await page.getByText("Production already matches staging").waitFor();
  const prod = await apiIn("production", "GET", "/event-source/staging-shop");
  assert.equal(prod.status, 200);
  assert.equal(prod.body.name, "Staging shop");
  // the deploy is in production's audit log
  const log = await api(cdpd, token, "GET", "/audit?kind=production");
  assert.ok(log.body.result.some((r) => r.deploy && !r.dry_run), JSON.stringify(log.body));

  // back to production: the list shows the deployed source
  await ctx.getByRole("radio", { name: "Production" }).click();
  assert.equal(await ctx.getByRole("radio", { name: "Production" }).getAttribute("aria-checked"), "true");
  await menu(page, "Event sources").click();
  await page.getByRole("button", { name: "Staging shop", exact: true }).waitFor();
});

test("the GUI raised no error on the way", () => {
  assert.deepEqual(page.errors, []);
});
