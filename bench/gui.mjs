// bench/gui.mjs: what the GUI costs a browser. Starts cdpd on a fresh data directory, fills it
// with EVENTS events of PROFILES people (as /track would get them), then in headless Chromium
// measures, ROUNDS times each: a cold load of the dashboard (cache empty: the bytes over the
// wire, and the time until its charts are drawn), a warm load (cache full), opening the
// workflow editor, and a profiles search in the explorer. Prints a JSON summary (medians).
//
//   cd gui && node ../bench/gui.mjs            (EVENTS=20000 PROFILES=2000 ROUNDS=5)
//
// Timings come from the page's own clock (performance.now at navigation start until the named
// element is visible) and depend on this machine; compare them within one run.
import { api, apiToken, launch, login, startCdpd } from "../gui/e2e/harness.mjs";

const EVENTS = +(process.env.EVENTS || 20000);
const PROFILES = +(process.env.PROFILES || 2000);
const ROUNDS = +(process.env.ROUNDS || 5);
const ADMIN = { email: "admin@example.com", password: "admin-password-1" };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function fill(cdpd, token) {
  await api(cdpd, token, "POST", "/event-source", { id: "web", name: "Web", type: ["rest"] });
  // an identify event per person sets traits.tier, which the profile search looks for
  await api(cdpd, token, "POST", "/event-to-profile", {
    name: "tier",
    event_type: "identify",
    event_to_profile: [{ event: "properties.tier", op: 0, profile: "traits.tier" }],
  });
  const types = ["page-view", "product-view", "add-to-cart", "purchase"];
  const perProfile = Math.max(2, Math.floor(EVENTS / PROFILES));
  const batch = [];
  for (let p = 0; p < PROFILES; p++) {
    const events = Array.from({ length: perProfile - 1 }, (_, i) => ({
      type: types[(p + i) % types.length],
      properties: { n: i, total: (p * 7 + i) % 300 },
    }));
    events.push({ type: "identify", properties: { tier: p % 3 ? "silver" : "gold" } });
    batch.push(
      fetch(cdpd.collector + "/track", {
        method: "POST",
        body: JSON.stringify({
          source: { id: "web" },
          session: { id: `s-${p}` },
          profile: { id: `p-${p}` },
          events,
        }),
      }).then((r) => r.text()),
    );
    if (batch.length === 32) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}

/** Milliseconds from act() until `visible` shows, on the page's clock. */
async function timed(page, act, visible) {
  const t0 = await page.evaluate(() => performance.now()).catch(() => 0);
  await act();
  await visible.waitFor();
  const t1 = await page.evaluate(() => performance.now());
  // a full load restarts the page's clock at navigation start
  return t1 >= t0 ? t1 - t0 : t1;
}

const cdpd = await startCdpd();
try {
  await fetch(cdpd.admin + "/install", { method: "POST", body: JSON.stringify(ADMIN) });
  const token = await apiToken(cdpd, ADMIN);
  const t0 = Date.now();
  await fill(cdpd, token);
  const fillSeconds = (Date.now() - t0) / 1000;
  await api(cdpd, token, "POST", "/flow/draft", {
    id: "f1",
    name: "Bench flow",
    flowGraph: { nodes: [{ id: "start", position: { x: 0, y: 0 }, data: { spec: { className: "start" } } }], edges: [] },
  });
  const browser = await launch();
  const out = { events: EVENTS, profiles: PROFILES, rounds: ROUNDS, fill_seconds: fillSeconds };
  const cold = [], coldBytes = [], warm = [], editor = [], search = [];
  // one login; each round's cold load is a new browser context (empty cache) holding its token
  const lctx = await browser.newContext();
  const lpage = await lctx.newPage();
  await login(lpage, cdpd, ADMIN);
  const session = await lpage.evaluate(() => localStorage.getItem("cdpd.session"));
  await lctx.close();
  for (let r = 0; r < ROUNDS; r++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript((v) => localStorage.setItem("cdpd.session", v), session);
    const page = await ctx.newPage();
    let bytes = 0;
    page.on("response", (res) => (bytes += +(res.headers()["content-length"] || 0)));
    const dash = page.getByRole("heading", { name: "Events by type" });
    await page.goto("about:blank");
    cold.push(await timed(page, () => page.goto(cdpd.admin + "/#/"), dash));
    coldBytes.push(bytes);
    warm.push(await timed(page, () => page.reload(), dash));
    editor.push(
      await timed(page, () => page.goto(cdpd.admin + "/#/flows/f1"), page.getByRole("group", { name: "Start", exact: true })),
    );
    await page.goto(cdpd.admin + "/#/data/profiles");
    await page.getByLabel("Query").fill('traits.tier == "gold"');
    // until the answer to this query is in and the next frame (its rows) is drawn
    const t0 = await page.evaluate(() => performance.now());
    const answer = page.waitForResponse((r) => r.url().includes("/select/range") && (r.request().postData() || "").includes("gold"));
    await page.getByRole("button", { name: "Search" }).click();
    await answer;
    const t1 = await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(performance.now())))));
    search.push(t1 - t0);
    await ctx.close();
  }
  Object.assign(out, {
    dashboard_cold_ms: Math.round(median(cold)),
    dashboard_cold_bytes: median(coldBytes),
    dashboard_warm_ms: Math.round(median(warm)),
    editor_ms: Math.round(median(editor)),
    profile_search_ms: Math.round(median(search)),
  });
  console.log(JSON.stringify(out, null, 2));
  await browser.close();
} finally {
  await cdpd.stop();
}
