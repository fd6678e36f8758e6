"""bench/merge.py: times merging two profiles that hold 10,000 tracked events each, three ways:
by hand (POST /profiles/merge), its undo (POST /merge/{id}/undo), and inside /track when the
second profile identifies with the first one's email (hashed ids shared: merged at once). Uses the
integration harness (CDPD_BIN).
  CDPD_BIN=build/cdpd /usr/bin/python3 bench/merge.py"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import conftest
from conftest import Server, new_id, page_view_event, payload

EVENTS = 10000


def person(srv, src):
    sid, pid = new_id("s"), None
    for _ in range(EVENTS // 100):
        r = srv.track(payload(src, sid, profile_id=pid, events=[page_view_event() for _ in range(100)]))
        assert r.status == 200, r
        pid = r.body["profile"]["id"]
    return pid, sid


def timed(what, fn):
    t0 = time.perf_counter()
    r = fn()
    ms = (time.perf_counter() - t0) * 1000
    print("%-44s %7.1f ms  -> %s" % (what, ms, r.status))
    assert r.status == 200, r
    return r


d = tempfile.mkdtemp(prefix="cdpd-merge-")
srv = Server(d + "/data")
srv.add_user(conftest.ADMIN_EMAIL, conftest.ADMIN_PASSWORD, "admin")
srv.start()
try:
    src = srv.create_source()
    a, sa = person(srv, src)
    b, sb = person(srv, src)
    total = lambda pid: srv.api_get("/events/profile/%s?limit=1" % pid).body["total"]
    print("events: a=%d b=%d" % (total(a), total(b)))
    r = timed("POST /profiles/merge (2 x %d events)" % EVENTS,
              lambda: srv.api_post("/profiles/merge", {"ids": [a, b]}))
    moved = r.body["absorbed"][0]["events"]
    print("events moved: %d, survivor now holds %d" % (moved, total(a)))
    timed("POST /merge/{id}/undo", lambda: srv.api_post("/merge/%s/undo" % r.body["id"]))
    print("after undo: a=%d b=%d" % (total(a), total(b)))
    ident = lambda pid, sid: srv.track(payload(src, sid, pid, events=[
        {"type": "identification", "properties": {"email": "bench@example.com"}}]))
    timed("/track identification of a (no merge)", lambda: ident(a, sa))
    timed("/track identification of b (merges a into b)", lambda: ident(b, sb))
    print("survivor %s holds %d events" % (srv.profile(a).body["id"], total(b)))
finally:
    srv.stop()
