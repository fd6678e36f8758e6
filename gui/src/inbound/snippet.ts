// What a site needs to send events to a source: the inline tracker, a curl call, the webhook URL.

/** The collector's default address as seen from this browser: same host, port 8686. */
export function defaultCollectorUrl(loc: { protocol: string; hostname: string } = window.location): string {
  const host = loc.hostname.includes(":") ? `[${loc.hostname}]` : loc.hostname || "localhost";
  return `${loc.protocol === "https:" ? "https:" : "http:"}//${host}:8686`;
}

/** A collector URL without trailing slashes (and with a scheme), ready to join with a path. */
export function normalizeCollectorUrl(u: string): string {
  let s = u.trim().replace(/\/+$/, "");
  if (s && !/^https?:\/\//i.test(s)) s = "http://" + s;
  return s;
}

/** A JS string literal that is safe inside an inline <script> (no `</script>` can end it). */
export function jsString(v: string): string {
  return JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** Single-quoted for a POSIX shell. */
export function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * The inline tracker for a page. It sends a page-view on load and offers
 * `window.cdpd.track(type, properties)`; calls run one after another so that the profile and
 * session ids of one answer go with the next request. The profile id is kept in localStorage
 * (it follows the visitor), the session id in sessionStorage (it ends with the tab).
 * The body goes as text/plain: a "simple" CORS request, so no preflight round trip.
 */
export function jsSnippet(collectorUrl: string, sourceId: string, sourceName?: string): string {
  const url = normalizeCollectorUrl(collectorUrl);
  return `<!-- cdpd tracker${sourceName ? ` for the event source ${sourceName.replace(/--/g, "- -")}` : ""} -->
<script>
(function (w, d) {
  var COLLECTOR = ${jsString(url)};
  var SOURCE = ${jsString(sourceId)};
  var PROFILE_KEY = "cdpd.profile", SESSION_KEY = "cdpd.session";
  function store(name) {
    try { var s = w[name]; s.setItem("cdpd.test", "1"); s.removeItem("cdpd.test"); return s; } catch (e) { return null; }
  }
  var local = store("localStorage"), session = store("sessionStorage");
  function read(s, k) { return s ? s.getItem(k) : null; }
  function keep(s, k, v) { if (s && v) s.setItem(k, v); }
  function zone() { try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return null; } }
  function refHost() { try { return d.referrer ? new URL(d.referrer).host : null; } catch (e) { return null; } }
  function send(type, properties) {
    var payload = {
      source: { id: SOURCE },
      context: {
        browser: { local: { browser: { userAgent: navigator.userAgent, language: navigator.language } } },
        screen: { local: { width: screen.width, height: screen.height } },
        time: { tz: zone() }
      },
      events: [{
        type: type,
        properties: properties || {},
        time: { create: new Date().toISOString() },
        context: { page: { url: location.href, title: d.title, referer: { host: refHost() } } }
      }]
    };
    var profile = read(local, PROFILE_KEY), sess = read(session, SESSION_KEY);
    if (profile) payload.profile = { id: profile };
    if (sess) payload.session = { id: sess };
    return fetch(COLLECTOR + "/track", {
      method: "POST",
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(payload),
      keepalive: true
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error("cdpd: " + r.status + " " + (body && body.detail ? JSON.stringify(body.detail) : ""));
        if (body && body.profile && body.profile.id) keep(local, PROFILE_KEY, body.profile.id);
        if (body && body.session && body.session.id) keep(session, SESSION_KEY, body.session.id);
        return body;
      });
    });
  }
  var queue = Promise.resolve();
  function track(type, properties) {
    var result = queue.then(function () { return send(type, properties); });
    queue = result.catch(function () {});
    return result;
  }
  w.cdpd = {
    track: track,
    profileId: function () { return read(local, PROFILE_KEY); },
    sessionId: function () { return read(session, SESSION_KEY); }
  };
  function pageView() {
    track("page-view", {}).catch(function (e) { if (w.console) console.warn(e); });
  }
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", pageView); else pageView();
})(window, document);
</script>`;
}

/** A /track call from a server or a terminal. */
export function curlTrack(collectorUrl: string, sourceId: string): string {
  const url = normalizeCollectorUrl(collectorUrl);
  const body = JSON.stringify(
    {
      source: { id: sourceId },
      events: [{ type: "purchase", properties: { order_id: "A-1001", total: 49.9, currency: "EUR" } }],
    },
    null,
    2,
  );
  return `# Later calls for the same visitor: add "profile": {"id": "…"} and "session": {"id": "…"}
# with the ids the previous answer returned.
curl -X POST ${shellQuote(url + "/track")} \\
  -H 'Content-Type: application/json' \\
  -d ${shellQuote(body)}`;
}

/** The webhook address of a source for one event type; with a session id the event gets a profile. */
export function webhookUrl(collectorUrl: string, eventType: string, sourceId: string, sessionId?: string): string {
  const seg = (s: string) => encodeURIComponent(s.trim());
  const url = normalizeCollectorUrl(collectorUrl);
  return `${url}/collect/${seg(eventType || "event-type")}/${seg(sourceId)}${sessionId?.trim() ? "/" + seg(sessionId) : ""}`;
}

export function curlWebhook(url: string): string {
  return `curl -X POST ${shellQuote(url)} \\
  -H 'Content-Type: application/json' \\
  -d '{"email": "jane@example.com", "newsletter": true}'`;
}
