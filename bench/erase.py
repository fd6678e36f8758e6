"""bench/erase.py: times GET /profile/{id}/export and DELETE /profile/{id} of a profile holding
10,000 tracked events (plus a bystander with as many). Uses the integration harness (CDPD_BIN).
  CDPD_BIN=build/cdpd /usr/bin/python3 bench/erase.py [N]   # N: wait N x 0.1 s for indexing first"""
import sys, time, tempfile
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import conftest
from conftest import Server, new_id, page_view_event, payload

d = tempfile.mkdtemp(prefix="cdpd-erase-")
srv = Server(d + "/data")
srv.add_user(conftest.ADMIN_EMAIL, conftest.ADMIN_PASSWORD, "admin")
srv.start()
try:
    src = srv.create_source()
    pid = None
    for sid_n in range(2):  # the bystander first, then the person
        sid = new_id("s")
        pid = None
        for b in range(100):
            r = srv.track(payload(src, sid, profile_id=pid,
                                  events=[page_view_event() for _ in range(100)]))
            assert r.status == 200, r
            pid = r.body["profile"]["id"]
    if len(sys.argv) > 1:  # let the collector's upkeep index everything first
        for _ in range(int(sys.argv[1])):
            srv.track(payload(src, new_id("s")))
            time.sleep(0.1)
    t0 = time.perf_counter()
    x = srv.api_get("/profile/%s/export" % pid)
    print("export: %d events, %.1f ms, truncated=%s" % (len(x.body["events"]), (time.perf_counter() - t0) * 1000, x.body["truncated"]))
    n = srv.api_get("/events/profile/%s?limit=1" % pid).body["total"]
    conn = srv.db()
    wm = conn.execute("SELECT value FROM meta WHERE key='events-indexed'").fetchone()
    mx = conn.execute("SELECT max(seq), count(*) FROM event").fetchone()
    conn.close()
    print("events of the profile:", n, "| watermark:", wm, "max seq, all events:", mx)
    t0 = time.perf_counter()
    r = srv.api_delete("/profile/%s" % pid)
    dt = time.perf_counter() - t0
    print("DELETE ->", r.status, r.body)
    print("DELETE /profile took %.1f ms (HTTP round trip, incl. auth)" % (dt * 1000))
finally:
    srv.stop()
