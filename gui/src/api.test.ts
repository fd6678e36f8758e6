// Unit tests of the shared API client: error messages, roles, and request() against a mocked fetch.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, errorMessage, getContext, getSession, hasRole, login, logout, onSessionChange, request, ROLES, setContext, type Session } from "./api";

// The tests run in node: localStorage is a tiny in-memory stand-in.
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => (m.has(k) ? m.get(k)! : null),
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

interface Call {
  url: string;
  init: RequestInit;
}
let calls: Call[];
/** fetch answers `status` with `body` (an object is sent as JSON, a string as is). */
function answer(status: number, body?: unknown, statusText = "") {
  const fn = vi.fn(async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
    return new Response(text || null, { status, statusText });
  });
  vi.stubGlobal("fetch", fn);
  return fn;
}
const headers = (c: Call) => c.init.headers as Record<string, string>;

function storeSession(over: Partial<Session> = {}): Session {
  const s: Session = { token: "tok-1", username: "a@example.com", roles: ["admin"], ttl: 1800, expiresAt: Date.now() + 60_000, ...over };
  localStorage.setItem("cdpd.session", JSON.stringify(s));
  return s;
}

beforeEach(() => {
  vi.stubGlobal("localStorage", memoryStorage());
  calls = [];
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("errorMessage", () => {
  it("takes Tracardi's {detail} string", () => {
    expect(errorMessage({ detail: "user not found" }, "404 Not Found")).toBe("user not found");
  });
  it("joins a {detail} list of {loc, msg} with the location", () => {
    const body = {
      detail: [
        { loc: ["body", "email"], msg: "value is not a valid e-mail address", type: "value_error.email" },
        { loc: ["body", "roles", 0], msg: "unknown role 'boss'", type: "value_error.role" },
      ],
    };
    expect(errorMessage(body, "x")).toBe("body.email: value is not a valid e-mail address; body.roles.0: unknown role 'boss'");
  });
  it("leaves out a missing loc and stringifies odd list items", () => {
    expect(errorMessage({ detail: [{ msg: "bad" }, "plain", 3] }, "x")).toBe("bad; plain; 3");
  });
  it("stringifies any other detail", () => {
    expect(errorMessage({ detail: { why: "no" } }, "x")).toBe('{"why":"no"}');
  });
  it("falls back without a detail", () => {
    expect(errorMessage(undefined, "500 Internal Server Error")).toBe("500 Internal Server Error");
    expect(errorMessage("plain text", "fallback")).toBe("fallback");
    expect(errorMessage({ error: "x" }, "fallback")).toBe("fallback");
    expect(errorMessage(null, "fallback")).toBe("fallback");
  });
});

describe("hasRole", () => {
  const s = (roles: Session["roles"]): Session => ({ token: "t", username: "u", roles, ttl: 1, expiresAt: 0 });
  it("is false without a session", () => {
    expect(hasRole(null, ROLES.any)).toBe(false);
  });
  it("is true when any role is allowed", () => {
    expect(hasRole(s(["marketer"]), ROLES.marketing)).toBe(true);
    expect(hasRole(s(["maintainer", "developer"]), ROLES.adminDev)).toBe(true);
  });
  it("is false when none is", () => {
    expect(hasRole(s(["marketer"]), ROLES.admin)).toBe(false);
    expect(hasRole(s(["marketer"]), ROLES.adminDev)).toBe(false);
    expect(hasRole(s([]), ROLES.any)).toBe(false);
  });
  it("matches the route table's sets", () => {
    expect(ROLES.admin).toEqual(["admin"]);
    expect(ROLES.maintenance).toEqual(["admin", "maintainer"]);
    expect([...ROLES.any].sort()).toEqual(["admin", "developer", "maintainer", "marketer"]);
  });
});

describe("getSession and the context", () => {
  it("ignores an expired or damaged session", () => {
    storeSession({ expiresAt: Date.now() - 1 });
    expect(getSession()).toBeNull();
    localStorage.setItem("cdpd.session", "{not json");
    expect(getSession()).toBeNull();
  });
  it("defaults to production and remembers staging", () => {
    expect(getContext()).toBe("production");
    const seen = vi.fn();
    const off = onSessionChange(seen);
    setContext("staging");
    off();
    expect(getContext()).toBe("staging");
    expect(seen).toHaveBeenCalledTimes(1);
  });
});

describe("request", () => {
  it("sends the bearer token, Accept and the context", async () => {
    storeSession();
    answer(200, { ok: 1 });
    const r = await request("GET", "/users/0/25");
    expect(r).toEqual({ ok: 1 });
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe("/users/0/25");
    expect(calls[0].init.method).toBe("GET");
    expect(headers(calls[0]).Authorization).toBe("Bearer tok-1");
    expect(headers(calls[0]).Accept).toBe("application/json");
    expect(headers(calls[0])["x-context"]).toBe("production");
    expect(calls[0].init.body).toBeUndefined();
  });
  it("sends no Authorization without a session", async () => {
    answer(200, {});
    await request("GET", "/install");
    expect(headers(calls[0]).Authorization).toBeUndefined();
  });
  it("takes the selected context, or the one asked for", async () => {
    answer(200, {});
    setContext("staging");
    await request("GET", "/event-sources");
    await request("GET", "/production/dry-run", { context: "production" });
    expect(headers(calls[0])["x-context"]).toBe("staging");
    expect(headers(calls[1])["x-context"]).toBe("production");
  });
  it("builds the query string, leaving out empty values", async () => {
    answer(200, {});
    await request("GET", "/audit", { query: { start: 0, limit: 50, user: "a b@example.com", kind: "", since: undefined, x: false } });
    expect(calls[0].url).toBe("/audit?start=0&limit=50&user=a+b%40example.com&x=false");
  });
  it("appends to a path that has a query already, and adds no '?' for nothing", async () => {
    answer(200, {});
    await request("GET", "/production/deploy?dry_run=true", { query: { allow_empty: true } });
    await request("GET", "/audit", { query: { kind: "" } });
    expect(calls[0].url).toBe("/production/deploy?dry_run=true&allow_empty=true");
    expect(calls[1].url).toBe("/audit");
  });
  it("encodes bodies: objects as JSON, strings as they are, forms as forms", async () => {
    answer(200, {});
    await request("POST", "/user", { body: { email: "x@example.com" } });
    await request("POST", "/flow/draft", { body: '{"a":1}' });
    await request("POST", "/user/token", { body: new URLSearchParams({ username: "u", password: "p" }) });
    expect(calls[0].init.body).toBe('{"email":"x@example.com"}');
    expect(headers(calls[0])["Content-Type"]).toBe("application/json");
    expect(calls[1].init.body).toBe('{"a":1}');
    expect(headers(calls[1])["Content-Type"]).toBe("application/json");
    expect(String(calls[2].init.body)).toBe("username=u&password=p");
    expect(headers(calls[2])["Content-Type"]).toBe("application/x-www-form-urlencoded");
  });
  it("returns text that is not JSON as text, and nothing for an empty answer", async () => {
    answer(200, "# HELP x");
    expect(await request("GET", "/metrics")).toBe("# HELP x");
    answer(204);
    expect(await request("DELETE", "/x")).toBeUndefined();
  });
  it("throws ApiError with the status and the server's message", async () => {
    storeSession();
    answer(409, { detail: "admin@example.com is the last active administrator" }, "Conflict");
    const e = await request("DELETE", "/user/1").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(409);
    expect((e as ApiError).message).toBe("admin@example.com is the last active administrator");
    expect((e as ApiError).body).toEqual({ detail: "admin@example.com is the last active administrator" });
    expect(getSession()).not.toBeNull(); // only a 401 ends the session
  });
  it("keeps a 422's list in the body for per-field messages", async () => {
    const body = { detail: [{ loc: ["body", "password"], msg: "password must have at least 8 characters" }] };
    answer(422, body);
    const e = (await request("POST", "/user", { body: {} }).catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(422);
    expect(e.message).toBe("body.password: password must have at least 8 characters");
    expect(e.body).toEqual(body);
  });
  it("falls back to the status line when the answer has no detail", async () => {
    answer(502, "<html>bad gateway</html>", "Bad Gateway");
    const e = (await request("GET", "/x").catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(502);
    expect(e.message).toBe("502 Bad Gateway");
  });
  it("clears the session on a 401 and tells the listeners", async () => {
    storeSession();
    const seen = vi.fn();
    const off = onSessionChange(seen);
    answer(401, { detail: "token expired" });
    const e = (await request("GET", "/users/0/25").catch((x: unknown) => x)) as ApiError;
    off();
    expect(e.status).toBe(401);
    expect(e.message).toBe("token expired");
    expect(getSession()).toBeNull();
    expect(localStorage.getItem("cdpd.session")).toBeNull();
    expect(seen).toHaveBeenCalled();
  });
  it("does not clear the session on a 401 of /user/token or without a session", async () => {
    storeSession();
    answer(401, { detail: "wrong password" });
    await request("POST", "/user/token").catch(() => undefined);
    expect(getSession()).not.toBeNull();
  });
  it("keeps the session on a 403", async () => {
    storeSession();
    answer(403, { detail: "Access forbidden" });
    await request("GET", "/users/0/25").catch(() => undefined);
    expect(getSession()).not.toBeNull();
  });
  it("slides the stored expiry forward on success", async () => {
    const now = 1_000_000_000_000;
    vi.spyOn(Date, "now").mockReturnValue(now);
    storeSession({ expiresAt: now + 10_000, ttl: 1800 });
    answer(200, {});
    await request("GET", "/user-account");
    expect(getSession()!.expiresAt).toBe(now + 1_800_000);
  });
  it("says cdpd is unreachable when fetch fails, and passes aborts through", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );
    const e = (await request("GET", "/x").catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(0);
    expect(e.message).toBe("cdpd is not reachable: Failed to fetch");
    const abort = new DOMException("aborted", "AbortError");
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw abort;
      }),
    );
    await expect(request("GET", "/x")).rejects.toBe(abort);
  });
});

describe("login and logout", () => {
  it("stores the session the token route answers", async () => {
    vi.spyOn(Date, "now").mockReturnValue(5_000);
    answer(200, { access_token: "abc", token_type: "bearer", roles: ["marketer"], expires_in: 1800 });
    const s = await login("m@example.com", "secret-pass");
    expect(calls[0].url).toBe("/user/token");
    expect(calls[0].init.method).toBe("POST");
    expect(String(calls[0].init.body)).toBe("username=m%40example.com&password=secret-pass");
    expect(s).toEqual({ token: "abc", username: "m@example.com", roles: ["marketer"], ttl: 1800, expiresAt: 5_000 + 1_800_000 });
    expect(getSession()).toEqual(s);
  });
  it("logs out locally even when the server call fails", async () => {
    storeSession();
    answer(500, { detail: "boom" });
    await logout();
    expect(calls[0].url).toBe("/user/logout");
    expect(getSession()).toBeNull();
  });
});
