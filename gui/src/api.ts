// The one way the GUI talks to cdpd: the management API on the same origin, with the bearer
// token of the logged-in user and the data context (production or staging) as `x-context`.

export type Role = "admin" | "developer" | "marketer" | "maintainer";
export type Context = "production" | "staging";

export interface Session {
  token: string;
  username: string;
  roles: Role[];
  expiresAt: number; // ms since epoch; slides forward with each successful call
  ttl: number; // seconds
}

const KEY = "cdpd.session";
const CTX_KEY = "cdpd.context";

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body?: unknown,
  ) {
    super(message);
  }
}

type Listener = () => void;
const listeners = new Set<Listener>();
export function onSessionChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function notify() {
  listeners.forEach((fn) => fn());
}

export function getSession(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || "null") as Session | null;
    if (s && s.expiresAt > Date.now()) return s;
  } catch {
    /* a damaged entry is no session */
  }
  return null;
}

function setSession(s: Session | null) {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
  notify();
}

export function getContext(): Context {
  return localStorage.getItem(CTX_KEY) === "staging" ? "staging" : "production";
}
export function setContext(c: Context) {
  localStorage.setItem(CTX_KEY, c);
  notify();
}

/** The message a failed response carries: Tracardi's {detail} (a string or a list of
 * {loc, msg}), else the status text. */
export function errorMessage(body: unknown, fallback: string): string {
  if (body && typeof body === "object" && "detail" in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === "string") return d;
    if (Array.isArray(d))
      return d
        .map((e) =>
          e && typeof e === "object" && "msg" in e
            ? `${Array.isArray((e as { loc?: unknown }).loc) ? (e as { loc: unknown[] }).loc.join(".") + ": " : ""}${(e as { msg: string }).msg}`
            : String(e),
        )
        .join("; ");
    return JSON.stringify(d);
  }
  return fallback;
}

export interface RequestOptions {
  body?: unknown; // JSON-encoded unless a URLSearchParams or string
  query?: Record<string, string | number | boolean | undefined>;
  context?: Context; // defaults to the selected one
  signal?: AbortSignal;
}

export async function request<T = unknown>(
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const s = getSession();
  if (s) headers.Authorization = `Bearer ${s.token}`;
  headers["x-context"] = opts.context ?? getContext();
  let body: BodyInit | undefined;
  if (opts.body instanceof URLSearchParams) {
    body = opts.body;
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  } else if (typeof opts.body === "string") {
    body = opts.body;
    headers["Content-Type"] = "application/json";
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] = "application/json";
  }
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== "") q.set(k, String(v));
    const qs = q.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body, signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "cdpd is not reachable: " + (e as Error).message);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (res.status === 401 && s && path !== "/user/token") {
    setSession(null); // the token expired or was revoked: back to the login screen
  }
  if (!res.ok) throw new ApiError(res.status, errorMessage(data, `${res.status} ${res.statusText}`), data);
  if (s) {
    // the server slides the expiry on use; keep our copy in step so the idle logout is right
    const fresh = getSession();
    if (fresh && fresh.token === s.token) {
      fresh.expiresAt = Date.now() + fresh.ttl * 1000;
      localStorage.setItem(KEY, JSON.stringify(fresh));
    }
  }
  return data as T;
}

export const api = {
  get: <T = unknown>(path: string, opts?: RequestOptions) => request<T>("GET", path, opts),
  post: <T = unknown>(path: string, body?: unknown, opts?: RequestOptions) =>
    request<T>("POST", path, { ...opts, body }),
  put: <T = unknown>(path: string, body?: unknown, opts?: RequestOptions) =>
    request<T>("PUT", path, { ...opts, body }),
  del: <T = unknown>(path: string, opts?: RequestOptions) => request<T>("DELETE", path, opts),
};

export async function login(username: string, password: string): Promise<Session> {
  const r = await request<{ access_token: string; roles: Role[]; expires_in: number }>("POST", "/user/token", {
    body: new URLSearchParams({ username, password }),
  });
  const s: Session = {
    token: r.access_token,
    username,
    roles: r.roles,
    ttl: r.expires_in,
    expiresAt: Date.now() + r.expires_in * 1000,
  };
  setSession(s);
  return s;
}

export async function logout(): Promise<void> {
  try {
    if (getSession()) await request("POST", "/user/logout");
  } catch {
    /* the token may be gone already; logging out locally is what matters */
  } finally {
    setSession(null);
  }
}

export function hasRole(s: Session | null, allowed: readonly Role[]): boolean {
  return !!s && s.roles.some((r) => allowed.includes(r));
}

/** The sets of roles of the API's route table (docs/api.md, Roles). */
export const ROLES = {
  any: ["admin", "developer", "marketer", "maintainer"] as Role[],
  adminDev: ["admin", "developer"] as Role[],
  marketing: ["admin", "developer", "marketer"] as Role[],
  admin: ["admin"] as Role[],
  maintenance: ["admin", "maintainer"] as Role[],
};
