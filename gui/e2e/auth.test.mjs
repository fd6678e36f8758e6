// First run, log in and out, and what each role sees.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADMIN, api, apiToken, launch, login, newPage, shot, startCdpd } from "./harness.mjs";

let cdpd, browser;
before(async () => {
  cdpd = await startCdpd();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await cdpd?.stop();
});

test("the first visit creates the first administrator, who is then logged in", async () => {
  const page = await newPage(browser);
  await page.goto(cdpd.admin + "/");
  await page.getByRole("heading", { name: "Welcome" }).waitFor();
  await page.getByLabel("Name").fill("Ada Admin");
  await page.getByLabel("E-mail").fill(ADMIN.email);
  await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await page.getByLabel("Repeat the password").fill("something-else-1");
  await page.getByRole("button", { name: "Create administrator" }).click();
  await page.getByText("The two passwords differ.").waitFor();
  await page.getByLabel("Repeat the password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
  await page.getByRole("link", { name: "Users" }).waitFor();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  assert.deepEqual(page.errors, []);
});

test("wrong credentials say so and keep the user on the login form", async () => {
  const page = await newPage(browser);
  await page.goto(cdpd.admin + "/#/login");
  await page.getByLabel("E-mail").fill(ADMIN.email);
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").innerText(), /incorrect|wrong|invalid|credentials/i);
  await shot(page, "login");
  await login(page, cdpd);
  assert.deepEqual(page.errors, []);
});

test("a marketer's menu holds only what a marketer may use", async () => {
  const token = await apiToken(cdpd);
  const marketer = { email: "mark@example.com", password: "marketer-password-1" };
  const r = await api(cdpd, token, "POST", "/user", { ...marketer, full_name: "Mark", roles: ["marketer"] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const page = await newPage(browser);
  await login(page, cdpd, marketer);
  const nav = page.getByRole("complementary", { name: "Main menu" });
  for (const name of ["Dashboard", "Profiles", "Segments", "Consent types"])
    await nav.getByRole("link", { name }).waitFor();
  for (const name of ["Workflows", "Users", "Event sources", "Audit log"])
    assert.equal(await nav.getByRole("link", { name }).count(), 0, name);
  // a page the role may not open is not there, even by its address
  await page.goto(cdpd.admin + "/#/users");
  await page.getByText("There is no such page").waitFor();
  assert.deepEqual(page.errors, []);
});
