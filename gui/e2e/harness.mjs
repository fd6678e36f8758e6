// What every browser test needs: a real cdpd on free loopback ports with its own data
// directory, Debian's Chromium driven by playwright-core, and a few API calls for setup.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "..", "..");
const BIN = process.env.CDPD_BIN || join(REPO, "build", "cdpd");
// `make screenshots` writes them into the docs; a test run keeps them beside the tests
export const SHOTS = process.env.SCREENSHOT_DIR || join(here, "..", "e2e-out");

export const ADMIN = { email: "admin@example.com", password: "admin-password-1" };

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitReady(url, proc, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`cdpd exited with ${proc.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`cdpd did not answer ${url}`);
}

/** cdpd with its first administrator (ADMIN) made through POST /install, and their token. */
export async function startInstalled() {
  const cdpd = await startCdpd();
  const r = await fetch(cdpd.admin + "/install", {
    method: "POST",
    body: JSON.stringify({ ...ADMIN, full_name: "Ada Admin" }),
  });
  if (r.status !== 200) throw new Error(`install: ${r.status} ${await r.text()}`);
  return { cdpd, token: await apiToken(cdpd) };
}

/** Starts cdpd; `stop()` ends it and removes its data. */
export async function startCdpd() {
  const dir = mkdtempSync(join(tmpdir(), "cdpd-e2e-"));
  const [cport, aport] = [await freePort(), await freePort()];
  const proc = spawn(
    BIN,
    ["serve", "--data", join(dir, "data"), "--listen", `127.0.0.1:${cport}`, "--admin-listen", `127.0.0.1:${aport}`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  // a test process that dies without its after() must not leave a server running
  const orphan = () => proc.kill("SIGKILL");
  process.on("exit", orphan);
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const admin = `http://127.0.0.1:${aport}`;
  const collector = `http://127.0.0.1:${cport}`;
  await waitReady(admin + "/healthcheck", proc);
  await waitReady(collector + "/healthcheck", proc);
  return {
    admin,
    collector,
    stderr: () => stderr,
    async stop() {
      process.off("exit", orphan);
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A page that fails the test on any uncaught error in the GUI. */
export async function newPage(browser, viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  // what the Content-Security-Policy blocked would break the GUI quietly: count it as an error
  page.on("console", (m) => m.type() === "error" && /Content Security Policy/i.test(m.text()) && page.errors.push(m.text()));
  return page;
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name + ".png") });
}

/** The management API, for setup and for checking what the GUI stored. */
export async function apiToken(cdpd, user = ADMIN) {
  const r = await fetch(cdpd.admin + "/user/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username: user.email, password: user.password }),
  });
  if (!r.ok) throw new Error(`login ${r.status}`);
  return (await r.json()).access_token;
}

export async function api(cdpd, token, method, path, body) {
  const r = await fetch(cdpd.admin + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/** Logs in through the login form. */
export async function login(page, cdpd, user = ADMIN) {
  await page.goto(cdpd.admin + "/#/login");
  await page.getByLabel("E-mail").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}

/** A link of the main menu (the sidebar; on a phone, open it first with "Menu"). */
export function menu(page, name) {
  return page.getByRole("complementary", { name: "Main menu" }).getByRole("link", { name, exact: true });
}
