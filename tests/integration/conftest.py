"""Integration test harness for cdpd.

Each test talks to real `cdpd serve` processes over HTTP on 127.0.0.1 only. A server gets its
own temporary data directory, free ports picked here, and is stopped (SIGTERM, then SIGKILL if
it hangs) when its fixture ends. With CDPD_ASAN=1 the binary is a sanitizer build: timeouts
grow, and every server's stderr is checked for sanitizer reports and its exit status after
SIGTERM must be 0 (the exit check is made for plain builds too).

Environment:
  CDPD_BIN       path of the cdpd binary (default: <repo>/build/cdpd)
  CDPD_ASAN      "1" when CDPD_BIN is an ASan/UBSan build
  CDPD_SCALEOUT  "1": every server runs in scale-out mode, on a PostgreSQL database and a Redis
                 database of its own (one PostgreSQL and one Redis server for the whole run,
                 started here), its storage worker in the same process. Reads through the
                 management API and the direct store helpers first wait until the storage
                 backlog is empty; tests that open the embedded store's SQLite file are skipped.
"""
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import namedtuple
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CDPD_BIN = os.environ.get("CDPD_BIN") or str(REPO / "build" / "cdpd")
ASAN = os.environ.get("CDPD_ASAN", "") not in ("", "0", "no", "false")
SLOW = 5 if ASAN else 1
HTTP_TIMEOUT = 20 * SLOW
START_TIMEOUT = 10 * SLOW
STOP_TIMEOUT = 15 * SLOW

SCALEOUT = os.environ.get("CDPD_SCALEOUT", "") not in ("", "0", "no", "false")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")

CHROME_WINDOWS_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"

INTERNAL_SOURCE_PREFIX = "@internal"
SYSTEM_EVENT_TYPES = {"profile-created", "session-opened", "visit-started"}

# Every process started by this harness, so leftovers can be SIGKILLed at the end of the run.
_ALL_PROCS = []
_ALL_PROCS_LOCK = threading.Lock()

Response = namedtuple("Response", "status headers body")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def new_id(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4())


def is_uuid(s):
    try:
        uuid.UUID(str(s))
        return True
    except ValueError:
        return False


def _decode(raw, headers):
    if raw == b"":
        return ""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def http_request(port, method, path, body=None, headers=None, timeout=None, chunked=False):
    """One request on a fresh connection. body: dict/list (sent as JSON), str or bytes.
    Returns Response(status, headers, json-or-text); JSON `null` gives None, no body ""."""
    hdrs = dict(headers or {})
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout or HTTP_TIMEOUT)
    send_err = None  # the server may answer (413) and close before it read everything
    try:
        if chunked:
            conn.putrequest(method, path)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            step = 1024
            try:
                for i in range(0, len(data or b""), step):
                    part = data[i:i + step]
                    conn.send(b"%x\r\n%s\r\n" % (len(part), part))
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError) as e:
                send_err = e
        else:
            try:
                conn.request(method, path, body=data, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError) as e:
                send_err = e
        try:
            resp = conn.getresponse()
            raw = resp.read()
        except Exception:
            if send_err is not None:
                raise send_err
            raise
        return Response(resp.status, resp.headers, _decode(raw, resp.headers))
    finally:
        conn.close()


class ServerError(Exception):
    pass


class _Engines:
    """Scale-out mode: one PostgreSQL and one Redis server for the run, a database of each per
    cdpd server."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pg_dir = self.redis_proc = None
        self.pg_base = self.redis_port = None
        self.n = 0

    def _start(self):
        import tempfile
        self.pg_dir = tempfile.mkdtemp(prefix="cdpd-it-pg-")
        r = subprocess.run([str(REPO / "deploy" / "pg-server.sh"), "start", self.pg_dir],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise ServerError("PostgreSQL did not start: %s" % r.stderr)
        self.pg_base = r.stdout.strip().rsplit("/", 1)[0]
        self.redis_port = free_port()
        self.redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--databases", "100000",
             "--dir", self.pg_dir, "--logfile", os.path.join(self.pg_dir, "redis.log")],
            stdin=subprocess.DEVNULL)
        with _ALL_PROCS_LOCK:
            _ALL_PROCS.append(self.redis_proc)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.redis_port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError("redis-server did not start")
                time.sleep(0.05)

    def new_env(self):
        """CDPD_STORE, CDPD_CACHE, CDPD_QUEUE of a fresh PostgreSQL and Redis database."""
        with self.lock:
            if self.pg_base is None:
                self._start()
            self.n += 1
            n = self.n
        db = "t%d" % n
        r = subprocess.run(["psql", "-q", self.pg_base + "/postgres", "-c",
                            "CREATE DATABASE %s" % db], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise ServerError("CREATE DATABASE %s: %s" % (db, r.stderr))
        redis = "redis://127.0.0.1:%d/%d" % (self.redis_port, n)
        return {"CDPD_STORE": "%s/%s" % (self.pg_base, db), "CDPD_CACHE": redis,
                "CDPD_QUEUE": redis}

    def stop(self):
        if self.redis_proc is not None:
            self.redis_proc.terminate()
            self.redis_proc.wait(timeout=30)
        if self.pg_dir is not None:
            subprocess.run([str(REPO / "deploy" / "pg-server.sh"), "stop", self.pg_dir],
                           capture_output=True, timeout=120)
            subprocess.run(["rm", "-rf", self.pg_dir])


ENGINES = _Engines()


def psql_rows(url, sql):
    """Rows of a query (tab-separated fields) through psql."""
    r = subprocess.run(["psql", "-qtA", "-F", "\t", url, "-c", sql], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise ServerError("psql %s: %s" % (sql, r.stderr))
    return [line.split("\t") for line in r.stdout.splitlines() if line]


class Server:
    """One cdpd process (restartable) on its own data directory."""

    def __init__(self, data_dir, args=(), env=None, name="cdpd"):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.args = list(args)
        # scale-out: a database of each engine, unless env names the ones to share
        self.extra_env = dict(ENGINES.new_env() if SCALEOUT and "CDPD_STORE" not in (env or {})
                              else {})
        self.extra_env.update(env or {})
        self.name = name
        self.proc = None
        self.port = None
        self.admin_port = None
        self.runs = []  # (stdout path, stderr path, how it ended, exit code)
        self._token = None

    # --- process control ---------------------------------------------------------------

    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDPD_")}
        env.update(self.extra_env)
        return env

    def add_user(self, email, password, role):
        r = subprocess.run(
            [CDPD_BIN, "user", "add", "--data", str(self.data_dir), "--email", email,
             "--password", password, "--role", role],
            env=self._env(), capture_output=True, text=True, timeout=60 * SLOW)
        if r.returncode != 0:
            raise ServerError("cdpd user add %s failed (%d): %s%s"
                              % (email, r.returncode, r.stdout, r.stderr))
        self._check_sanitizer_text(r.stderr, "cdpd user add")

    def start(self):
        assert self.proc is None, "already running"
        last_err = None
        for attempt in range(5):
            port, admin_port = free_port(), free_port()
            if port == admin_port:
                continue
            n = len(self.runs)
            out_path = self.data_dir.parent / ("%s.run%d.stdout" % (self.data_dir.name, n))
            err_path = self.data_dir.parent / ("%s.run%d.stderr" % (self.data_dir.name, n))
            cmd = [CDPD_BIN, "serve", "--data", str(self.data_dir),
                   "--listen", "127.0.0.1:%d" % port,
                   "--admin-listen", "127.0.0.1:%d" % admin_port] + self.args
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=self._env(),
                                        stdin=subprocess.DEVNULL)
            with _ALL_PROCS_LOCK:
                _ALL_PROCS.append(proc)
            self.proc, self.port, self.admin_port = proc, port, admin_port
            self.runs.append([out_path, err_path, "running", None])
            ok, last_err = self._wait_ready()
            if ok:
                return self
            # Not ready: collect it and retry only if the ports were taken meanwhile.
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
            self.runs[-1][2:] = ["failed-start", proc.returncode]
            self.proc = None
            stderr = err_path.read_text(errors="replace")
            if "cannot listen" not in stderr and "in use" not in stderr:
                break
        raise ServerError("cdpd did not start: %s" % last_err)

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.runs[-1][1].read_text(errors="replace")
                return False, "exited with %s: %s" % (self.proc.returncode, err[-2000:])
            try:
                a = http_request(self.port, "GET", "/healthcheck", timeout=2)
                b = http_request(self.admin_port, "GET", "/healthcheck", timeout=2)
                if a.status == 200 and b.status == 200:
                    out = self.runs[-1][0].read_text(errors="replace")
                    want_c = "collector:  http://127.0.0.1:%d" % self.port
                    want_m = "management: http://127.0.0.1:%d" % self.admin_port
                    if want_c in out and want_m in out:
                        return True, None
                    last = "listening but stdout lacks the URL lines: %r" % out
                else:
                    last = "healthcheck answered %s/%s" % (a.status, b.status)
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.05)
        return False, "not ready after %ss: %s" % (START_TIMEOUT, last)

    def stop(self):
        """SIGTERM and wait; returns the exit code (SIGKILL after STOP_TIMEOUT)."""
        if self.proc is None:
            return None
        proc, how = self.proc, "sigterm"
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)
                how = "sigterm-timeout-killed"
        else:
            how = "died"
        self.runs[-1][2:] = [how, proc.returncode]
        self.proc = None
        return proc.returncode

    def kill(self):
        """SIGKILL (a crash) and wait."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            how = "sigkill"
        else:
            how = "died"
        proc.wait(timeout=STOP_TIMEOUT)
        self.runs[-1][2:] = [how, proc.returncode]
        self.proc = None
        return proc.returncode

    def restart(self, env=None):
        """Stops and starts again on the same data. env (a dict) first updates the extra
        environment (CDPD_* ones included) for this and later runs; a None value removes one."""
        self.stop()
        for k, v in (env or {}).items():
            if v is None:
                self.extra_env.pop(k, None)
            else:
                self.extra_env[k] = v
        return self.start()

    def stderr_text(self, run=-1):
        return self.runs[run][1].read_text(errors="replace")

    @staticmethod
    def _check_sanitizer_text(text, what):
        for m in SANITIZER_MARKERS:
            if m in text:
                i = text.index(m)
                raise ServerError("%s: sanitizer report %r:\n%s" % (what, m, text[max(0, i - 200):i + 3000]))

    def check_clean(self):
        """Raises if any run printed a sanitizer report, or a SIGTERMed run did not exit 0."""
        problems = []
        for out_path, err_path, how, code in self.runs:
            text = err_path.read_text(errors="replace")
            try:
                self._check_sanitizer_text(text, "%s (%s)" % (self.name, err_path.name))
            except ServerError as e:
                problems.append(str(e))
            if how == "sigterm" and code != 0:
                problems.append("%s: exit status %s after SIGTERM (%s):\n%s"
                                % (self.name, code, err_path.name, text[-3000:]))
            elif how in ("died", "sigterm-timeout-killed"):
                problems.append("%s: %s, exit status %s (%s):\n%s"
                                % (self.name, how, code, err_path.name, text[-3000:]))
        if problems:
            raise ServerError("\n\n".join(problems))

    # --- HTTP helpers ------------------------------------------------------------------

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def admin_url(self):
        return "http://127.0.0.1:%d" % self.admin_port

    def settle(self, timeout=20):
        """Scale-out: waits until the storage workers have stored every change published."""
        if not SCALEOUT or self.proc is None or self.proc.poll() is not None:
            return
        deadline = time.monotonic() + timeout * SLOW
        while True:
            r = http_request(self.admin_port, "GET", "/storage/backlog", timeout=5)
            if r.status != 200:
                return  # no API here, or the queue is down: nothing to wait for
            left = sum(c["pending"] + c["lag"] for c in r.body["contexts"].values())
            if left == 0:
                return
            if time.monotonic() > deadline:
                raise ServerError("storage backlog still %d after %ss" % (left, timeout))
            time.sleep(0.01)

    def request(self, method, path, body=None, headers=None, admin=False, token=None, **kw):
        if admin:
            self.settle()
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = "Bearer %s" % token
        return http_request(self.admin_port if admin else self.port, method, path, body, hdrs, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def track(self, payload, query="", headers=None):
        return self.post("/track" + query, payload, headers=headers)

    # management API (admin listener)
    def login(self, username=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        """POST /user/token with form fields; returns the bearer token (asserts 200)."""
        r = self.login_raw(username, password)
        assert r.status == 200, "login %s: %s %r" % (username, r.status, r.body)
        return r.body["access_token"]

    def login_raw(self, username, password):
        form = urllib.parse.urlencode({"username": username, "password": password})
        return self.post("/user/token", form, admin=True,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})

    @property
    def token(self):
        """A cached admin token (the admin user must exist)."""
        if self._token is None:
            self._token = self.login()
        return self._token

    def api_get(self, path, token=None):
        return self.get(path, admin=True, token=token or self.token)

    def api_post(self, path, body=None, token=None, **kw):
        return self.post(path, body, admin=True, token=token or self.token, **kw)

    def api_delete(self, path, token=None):
        return self.request("DELETE", path, admin=True, token=token or self.token)

    def create_source(self, source_id=None, types=("rest",), token=None, **fields):
        """POST /event-source; returns the source id (asserts 200)."""
        doc = {"id": source_id or new_id("src"), "name": "Test source",
               "type": list(types), "channel": "Web"}
        doc.update(fields)
        r = self.api_post("/event-source", doc, token=token)
        assert r.status == 200, "create source: %s %r" % (r.status, r.body)
        return doc["id"]

    def profile(self, pid):
        return self.api_get("/profile/%s" % urllib.parse.quote(pid, safe=""))

    def session(self, sid):
        return self.api_get("/session/%s" % urllib.parse.quote(sid, safe=""))

    def event(self, eid):
        return self.api_get("/event/%s" % urllib.parse.quote(eid, safe=""))

    def events_of(self, pid, limit=1000):
        """All events of a profile (list); asserts 200."""
        r = self.api_get("/events/profile/%s?limit=%d" % (urllib.parse.quote(pid, safe=""), limit))
        assert r.status == 200, "events of %s: %s %r" % (pid, r.status, r.body)
        return r.body["result"]

    # --- direct read-only look at the store ----------------------------------------------

    @property
    def db_path(self):
        if SCALEOUT:
            pytest.skip("reads the embedded store's SQLite file")
        return self.data_dir / "cdpd.db"

    def db(self):
        if SCALEOUT:
            pytest.skip("reads the embedded store's SQLite file")
        conn = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    def counts(self):
        """Row counts of the collector's tables: {'event': n, 'profile': n, 'session': n}."""
        if SCALEOUT:
            self.settle()
            return {t: int(psql_rows(self.extra_env["CDPD_STORE"],
                                     "SELECT count(*) FROM production.%s" % t)[0][0])
                    for t in ("event", "profile", "session")}
        conn = self.db()
        try:
            return {t: conn.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
                    for t in ("event", "profile", "session")}
        finally:
            conn.close()

    def stored_events(self, where=None):
        """Every stored event document (parsed), optionally filtered by a predicate."""
        if SCALEOUT:
            self.settle()
            docs = [json.loads(row[0]) for row in psql_rows(
                self.extra_env["CDPD_STORE"], "SELECT doc::text FROM production.event")]
            return [d for d in docs if where is None or where(d)]
        conn = self.db()
        try:
            docs = [json.loads(row[0]) for row in conn.execute("SELECT doc FROM event")]
        finally:
            conn.close()
        return [d for d in docs if where is None or where(d)]

    def events_from_source(self, source_id):
        return self.stored_events(lambda d: (d.get("source") or {}).get("id") == source_id)


class ServerFactory:
    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.servers = []

    def new(self, args=(), env=None, admin=True, start=True, name="cdpd"):
        """A server on a fresh data dir; with admin=True the admin user is created first."""
        d = self.tmp.mktemp(name) / "data"
        s = Server(d, args=args, env=env, name=name)
        self.servers.append(s)
        if admin:
            s.add_user(ADMIN_EMAIL, ADMIN_PASSWORD, "admin")
        if start:
            s.start()
        return s

    def close(self, already_failed=False):
        """Stops every server and checks it (sanitizer reports, exit status). When the test
        itself already failed, the findings are printed into its report instead of being
        raised as a second (teardown) error."""
        problems = []
        for s in self.servers:
            try:
                s.stop()
            except Exception as e:  # keep stopping the others
                problems.append("%s: stop failed: %r" % (s.name, e))
                if s.proc is not None:
                    s.proc.kill()
        for s in self.servers:
            try:
                s.check_clean()
            except ServerError as e:
                problems.append(str(e))
        self.servers = []
        if problems and already_failed:
            sys.stderr.write("server checks at teardown:\n%s\n" % "\n\n".join(problems))
        elif problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def server_factory(tmp_path_factory, request):
    """Function-scoped: start servers with server_factory.new(args=[...])."""
    f = ServerFactory(tmp_path_factory)
    yield f
    rep = getattr(request.node, "rep_call", None)
    f.close(already_failed=rep is not None and rep.failed)


@pytest.fixture(scope="module")
def module_server_factory(tmp_path_factory):
    f = ServerFactory(tmp_path_factory)
    yield f
    f.close()


@pytest.fixture(scope="module")
def server(module_server_factory):
    """A default server shared by the tests of one module (tests use their own sources)."""
    return module_server_factory.new(name="shared")


@pytest.fixture
def source(server):
    """A fresh REST event source on the module's server."""
    return server.create_source()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the item (item.rep_call) for fixtures' teardown checks."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_sessionfinish(session, exitstatus):
    with _ALL_PROCS_LOCK:
        procs = [p for p in _ALL_PROCS if p is not ENGINES.redis_proc]
    for p in procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    ENGINES.stop()


# --- payload builders ---------------------------------------------------------------------

def page_view_event(url="https://shop.example.com/home", title="Home", referer="www.google.com",
                    etype="page-view", properties=None, eid=None, **extra):
    e = {"type": etype,
         "properties": properties if properties is not None else {"title": title},
         "context": {"page": {"url": url, "title": title, "referer": {"host": referer}}}}
    if eid:
        e["id"] = eid
    e.update(extra)
    return e


def browser_context(ua=CHROME_WINDOWS_UA):
    return {"browser": {"local": {"browser": {"userAgent": ua, "language": "en-US"}}},
            "screen": {"local": {"width": 1920, "height": 1080}},
            "utm": {"source": "google", "campaign": "x"}}


def payload(source_id, session_id=None, profile_id=None, events=None, context=None, options=None,
            **extra):
    """A TrackerPayload. session_id/profile_id None leaves the key out."""
    p = {"source": {"id": source_id}}
    if session_id is not None:
        p["session"] = {"id": session_id}
    if profile_id is not None:
        p["profile"] = {"id": profile_id}
    p["events"] = [page_view_event()] if events is None else events
    p["context"] = browser_context() if context is None else context
    if options is not None:
        p["options"] = options
    p.update(extra)
    return p


def json_depth(v):
    if isinstance(v, dict):
        return 1 + max([json_depth(x) for x in v.values()] or [0])
    if isinstance(v, list):
        return 1 + max([json_depth(x) for x in v] or [0])
    return 0


def visit_count(profile_doc):
    return profile_doc["metadata"]["time"]["visit"]["count"]
