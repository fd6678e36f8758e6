"""Scale-out mode as separate processes on real engines, and its faults.

Each test starts its own cluster on loopback: a Redis server (AOF, fsync always), a PostgreSQL
server (initdb in the test's directory), one API, two collectors and two workers, all the same
binary with --roles. Load goes through both collectors from several threads, every request an
event carrying a unique number and incrementing a counter of its profile (an event-to-profile
mapping). Then a process or an engine is killed or restarted, and afterwards:

  - every event a collector acknowledged (2xx) is stored in PostgreSQL exactly once;
  - no acknowledged profile update is lost: each profile's counter counts at least its
    acknowledged events (and no more than its stored events).
"""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest

from conftest import (ADMIN_EMAIL, ADMIN_PASSWORD, CDPD_BIN, REPO, SCALEOUT, SLOW, START_TIMEOUT,
                      STOP_TIMEOUT, Server, ServerError, _ALL_PROCS, _ALL_PROCS_LOCK, free_port,
                      http_request, new_id, psql_rows)

pytestmark = pytest.mark.skipif(SCALEOUT, reason="makes clusters of its own")

EVENT = "fault-test"


def _wait(pred, timeout, what):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise ServerError("timed out waiting for %s" % what)


class Redis:
    def __init__(self, d):
        self.dir, self.port, self.proc = d, free_port(), None
        os.makedirs(d, exist_ok=True)

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--logfile", os.path.join(self.dir, "redis.log")], stdin=subprocess.DEVNULL)
        with _ALL_PROCS_LOCK:
            _ALL_PROCS.append(self.proc)
        _wait(lambda: subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                                     capture_output=True).returncode == 0, 10, "redis")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SHUTDOWN: the AOF is complete
            self.proc.wait(timeout=30)

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port


class Postgres:
    def __init__(self):
        # not under pytest's directories, which only root may enter (the server runs as the
        # postgres user when the tests run as root)
        self.dir = tempfile.mkdtemp(prefix="cdpd-it-pg-")
        d = self.dir
        r = subprocess.run([str(REPO / "deploy" / "pg-server.sh"), "start", d],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise ServerError("PostgreSQL did not start: %s" % r.stderr)
        self.url = r.stdout.strip()
        self.port = self.url.rsplit(":", 1)[1].split("/")[0]

    def stop(self, remove=False):
        subprocess.run([str(REPO / "deploy" / "pg-server.sh"), "stop", self.dir],
                       capture_output=True, timeout=120)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        r = subprocess.run([str(REPO / "deploy" / "pg-server.sh"), "start", self.dir, self.port],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def rows(self, sql):
        return psql_rows(self.url, sql)


class Node:
    """One cdpd process of the cluster."""

    def __init__(self, cluster, name, roles):
        self.cluster, self.name, self.roles = cluster, name, roles
        self.port = free_port() if roles in ("api", "collector") else None
        self.proc = None
        self.runs = 0

    def start(self):
        args = ["--roles", self.roles]
        if self.roles == "api":
            args += ["--admin-listen", "127.0.0.1:%d" % self.port]
        elif self.roles == "collector":
            args += ["--listen", "127.0.0.1:%d" % self.port]
        log = os.path.join(self.cluster.dir, "%s.%d.log" % (self.name, self.runs))
        self.runs += 1
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([CDPD_BIN, "serve", "--data", self.cluster.data] + args,
                                         stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                         env=self.cluster.env())
        with _ALL_PROCS_LOCK:
            _ALL_PROCS.append(self.proc)
        if self.port:
            _wait(lambda: self._answers(), START_TIMEOUT, "%s to answer" % self.name)

    def _answers(self):
        if self.proc.poll() is not None:
            raise ServerError("%s exited with %s" % (self.name, self.proc.returncode))
        try:
            return http_request(self.port, "GET", "/healthcheck", timeout=2).status == 200
        except OSError:
            return False

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise ServerError("%s did not stop on SIGTERM" % self.name)
            assert self.proc.returncode == 0, "%s exited %s" % (self.name, self.proc.returncode)


class Cluster:
    def __init__(self, d):
        self.dir = str(d)
        self.data = os.path.join(self.dir, "data")
        self.redis = Redis(os.path.join(self.dir, "redis"))
        self.redis.start()
        self.pg = Postgres()
        r = subprocess.run([CDPD_BIN, "user", "add", "--data", self.data, "--email", ADMIN_EMAIL,
                            "--password", ADMIN_PASSWORD, "--role", "admin"],
                           env=self.env(), capture_output=True, text=True, timeout=60 * SLOW)
        assert r.returncode == 0, r.stderr
        self.api = Node(self, "api", "api")
        self.api.start()  # first: it makes the salt and the secret key the others share
        self.collectors = [Node(self, "collector%d" % i, "collector") for i in (1, 2)]
        self.workers = [Node(self, "worker%d" % i, "worker") for i in (1, 2)]
        for n in self.collectors + self.workers:
            n.start()
        form = urllib.parse.urlencode({"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        r = http_request(self.api.port, "POST", "/user/token", form,
                         {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 200, r
        self.token = r.body["access_token"]
        self.source = new_id("src")
        assert self.api_post("/event-source", {"id": self.source, "name": "Load",
                                               "type": ["rest"], "channel": "web"}).status == 200
        assert self.api_post("/event-to-profile", {
            "name": "count", "event_type": EVENT,
            "event_to_profile": [{"event": "properties.one", "op": "increment",
                                  "profile": "stats.counters.hits"}]}).status == 200

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDPD_")}
        env.update(CDPD_STORE=self.pg.url, CDPD_CACHE=self.redis.url, CDPD_QUEUE=self.redis.url)
        return env

    def api_post(self, path, body):
        return http_request(self.api.port, "POST", path, body,
                            {"Authorization": "Bearer %s" % self.token})

    def api_get(self, path):
        # a pooled connection that PostgreSQL dropped (a restart) answers 503 once, then
        # connects again
        for _ in range(5):
            r = http_request(self.api.port, "GET", path, None,
                             {"Authorization": "Bearer %s" % self.token})
            if r.status != 503:
                break
        return r

    def backlog(self):
        r = http_request(self.api.port, "GET", "/storage/backlog", timeout=5)
        assert r.status == 200, r
        return sum(c["pending"] + c["lag"] for c in r.body["contexts"].values())

    def drain(self, timeout=60):
        _wait(lambda: self.backlog() == 0, timeout, "the storage backlog to drain")

    def stop(self):
        problems = []
        for n in self.collectors + self.workers + [self.api]:
            try:
                n.stop()
            except (ServerError, AssertionError) as e:
                problems.append(str(e))
        self.redis.stop()
        self.pg.stop(remove=True)
        for name in sorted(os.listdir(self.dir)):  # every run's log: no sanitizer reports
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text = f.read()
                try:
                    Server._check_sanitizer_text(text, name)
                except ServerError as e:
                    problems.append(str(e))
        return problems


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    yield c
    problems = c.stop()
    assert not problems, problems


class Load:
    """Threads sending one event a request, alternating between the collectors; each thread is
    one person (profile) with one session. Remembers which numbers were acknowledged."""

    def __init__(self, cluster, threads=4):
        self.cluster = cluster
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.next = 0
        self.acked = {}     # n -> profile id
        self.refused = {}   # status -> count
        self.profiles = []
        for i in range(threads):
            r = self.send(self.cluster.collectors[i % 2], None, new_id("s"))
            assert r.status == 200, r
            self.profiles.append((r.body["profile"]["id"], r.body["session"]["id"]))
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def number(self):
        with self.lock:
            self.next += 1
            return self.next

    def send(self, node, profile, session, n=0):
        body = {"source": {"id": self.cluster.source}, "session": {"id": session},
                "events": [{"type": EVENT, "properties": {"n": n, "one": 1}}]}
        if profile:
            body["profile"] = {"id": profile}
        return http_request(node.port, "POST", "/track", body, timeout=30)

    def run(self, i):
        profile, session = self.profiles[i]
        k = i
        while not self.stop_flag.is_set():
            k += 1
            node = self.cluster.collectors[k % 2]
            n = self.number()
            try:
                r = self.send(node, profile, session, n)
                status = r.status
            except OSError:
                status = "conn"
                time.sleep(0.01)
            with self.lock:
                if status == 200:
                    self.acked[n] = profile
                else:
                    self.refused[status] = self.refused.get(status, 0) + 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=60)

    def acked_count(self):
        with self.lock:
            return len(self.acked)

    def until_acked(self, more, timeout=60):
        target = self.acked_count() + more
        _wait(lambda: self.acked_count() >= target, timeout, "%d more acknowledged events" % more)


def check(cluster, load):
    """Every acknowledged event stored exactly once; no acknowledged profile update lost."""
    cluster.drain()
    rows = cluster.pg.rows("SELECT doc->'properties'->>'n', count(*) FROM production.event "
                           "WHERE type = '%s' AND (doc->'properties'->>'n')::int > 0 GROUP BY 1"
                           % EVENT)
    stored = {int(n): int(c) for n, c in rows}
    twice = {n: c for n, c in stored.items() if c != 1}
    assert not twice, "stored more than once: %r" % list(twice.items())[:10]
    missing = [n for n in load.acked if n not in stored]
    assert not missing, "acknowledged, not stored: %d of %d, e.g. %r" % (
        len(missing), len(load.acked), missing[:10])
    for pid, _ in load.profiles:
        acked = sum(1 for p in load.acked.values() if p == pid)
        events = int(cluster.pg.rows(
            "SELECT count(*) FROM production.event WHERE type = '%s' AND profile_id = '%s'"
            % (EVENT, pid))[0][0])
        r = cluster.api_get("/profile/%s" % pid)
        assert r.status == 200, r
        hits = r.body["stats"]["counters"]["hits"]
        # each person's first request (n = 0) counts too
        if not acked + 1 <= hits <= events:  # where did this person's events go?
            mine = ",".join(str(n) for n, p in load.acked.items() if p == pid)
            where = cluster.pg.rows("SELECT profile_id, session_id, count(*) FROM production.event "
                                    "WHERE type = '%s' AND (doc->'properties'->>'n')::int IN (%s) "
                                    "GROUP BY 1, 2" % (EVENT, mine))
            pytest.fail("profile %s: %d acknowledged, counter %d, %d stored; by profile and "
                        "session: %r" % (pid, acked, hits, events, where))
        rows = cluster.pg.rows("SELECT doc->'stats'->'counters'->>'hits' FROM production.profile "
                               "WHERE id = '%s'" % pid)
        assert int(rows[0][0]) == hits  # the shared store has the cache's version
    return stored


def test_two_collectors_share_profiles_without_losing_updates(cluster):
    with Load(cluster, threads=4) as load:
        load.until_acked(400)
    assert not load.refused, load.refused
    check(cluster, load)
    # stored entries leave the stream: it does not grow for ever
    def length():
        return http_request(cluster.api.port, "GET", "/storage/backlog").body[
            "contexts"]["production"]["length"]
    _wait(lambda: length() == 0, 10, "the stream to be trimmed")
    # the API reads what collectors wrote, events included
    pid = load.profiles[0][0]
    r = cluster.api_get("/events/profile/%s?limit=5" % pid)
    assert r.status == 200 and r.body["total"] >= 100, r


def test_collector_killed_under_load(cluster):
    with Load(cluster) as load:
        load.until_acked(100)
        cluster.collectors[0].kill()
        load.until_acked(100)  # the other collector goes on
        cluster.collectors[0].start()
        load.until_acked(100)
    check(cluster, load)


def test_worker_killed_in_the_middle_of_a_batch(cluster):
    with Load(cluster) as load:
        load.until_acked(100)
        cluster.workers[0].kill()
        load.until_acked(200)
    # the dead worker's unacknowledged entries go to the other after their lease
    check(cluster, load)
    assert not load.refused, load.refused
    cluster.workers[0].start()


def test_redis_restart_under_load(cluster):
    with Load(cluster) as load:
        load.until_acked(100)
        cluster.redis.stop()
        # while it is down, collectors refuse with a clear 503 instead of accepting
        r = load.send(cluster.collectors[0], load.profiles[0][0], load.profiles[0][1], 0)
        assert r.status == 503, r
        assert "unavailable" in r.body["detail"], r
        time.sleep(0.5)
        cluster.redis.start()  # same port, same AOF
        load.until_acked(100)  # they recover by themselves
    assert load.refused.get(503, 0) > 0
    check(cluster, load)


def test_postgres_restart_under_load(cluster):
    with Load(cluster) as load:
        load.until_acked(100)
        cluster.pg.stop()
        time.sleep(1)
        cluster.pg.start()
        load.until_acked(100)
    check(cluster, load)
