#!/usr/bin/env python3
"""bench/search.py: times searches, histograms and the dashboard's counters over 1,000,000
profiles and 5,000,000 events (defaults) in the embedded store.

The data is written straight into a fresh data directory's SQLite file in the store's own
format (tables profile, profile_id, session, event, event_profile and the meta watermark of
src/store/store_sqlite.c; `cdpd user add` creates the schema first, with every index): profiles
as bench/segment_job.py makes them, and events as /track makes them (~1 KB: page views,
purchases, logins … of those profiles, with properties, over the last 30 days, written in time
order as they would arrive). Then a server starts on it and each request runs a few times on a
fresh connection: the first run (cold for that query) and the median of the rest are printed,
measured by the client, and for profile by id also on the server (X-Process-Time).

  CDPD_BIN=build/cdpd /usr/bin/python3 bench/search.py [PROFILES [EVENTS]] [--keep]
  CDPD_BIN=build/cdpd /usr/bin/python3 bench/search.py --reuse DATA_DIR    # time again

Standard library only.
"""
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import conftest  # noqa: E402
from conftest import Server  # noqa: E402
from segment_job import fill as fill_profiles  # noqa: E402

DAYS = 30
TYPES = [("page-view", 0.70), ("add-to-cart", 0.08), ("purchase", 0.05), ("login", 0.07),
         ("search", 0.06), ("logout", 0.04)]
SOURCES = ["web", "app", "pos"]
OS = ["Windows", "Linux", "Mac OS X", "iOS", "Android"]
COUNTRIES = ["Poland", "Germany", "France", "Spain", "United States", None]
CHANNELS = ["Web", "Mobile", "POS"]
TAGS = ["event:behavioral", "event:transactional", "event:session"]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06d+00:00" % int(
        (t % 1) * 1e6)


def uuid7(ms, rnd):
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | rnd.getrandbits(76)))


def event_doc(rnd, eid, etype, pid, sid, src, t):
    price = round(rnd.random() * 500, 2)
    props = {"title": "Product %d" % rnd.randint(1, 5000),
             "url": "https://shop.example.com/p/%d" % rnd.randint(1, 5000)}
    if etype in ("purchase", "add-to-cart"):
        props.update({"price": price, "currency": "EUR", "quantity": rnd.randint(1, 5)})
    when = iso(t)
    return {
        "id": eid, "name": etype.replace("-", " ").title(), "type": etype,
        "metadata": {"time": {"insert": when, "create": when, "update": None,
                              "process_time": round(rnd.random() / 100, 6), "total_time": None},
                     "ip": "10.%d.%d.%d" % (rnd.randint(0, 255), rnd.randint(0, 255),
                                            rnd.randint(0, 255)),
                     "status": "collected", "channel": rnd.choice(CHANNELS),
                     "processed_by": {"rules": [], "flows": [], "third_party": []},
                     "profile_less": False, "debug": False, "valid": True, "error": False,
                     "warning": False, "merge": False, "instance": {"id": "bench"}, "aux": {}},
        "source": {"id": src}, "session": {"id": sid, "start": when, "duration": 0,
                                           "tz": "Europe/Warsaw"},
        "profile": {"id": pid}, "properties": props, "traits": {}, "context": {},
        "request": {}, "config": {}, "tags": {"values": [rnd.choice(TAGS)], "count": 1},
        "journey": {"state": None},
        "os": {"name": rnd.choice(OS), "version": "10"},
        "app": {"name": "Chrome", "version": "120.0"},
        "device": {"name": "Other", "type": "desktop",
                   "geo": {"country": {"name": rnd.choice(COUNTRIES), "code": None}}},
        "hit": {"name": props["title"], "url": props["url"], "referer": None, "query": None,
                "category": None, "id": None},
        "utm": {}, "data": {}, "aux": {}}


def fill_events(db_path, n_events, pids, now):
    """Writes n_events events of the given profiles, in time order over the last DAYS days, and
    their event_profile index and watermark, as the pipeline would have; average doc size."""
    rnd = random.Random(43)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-500000")
    span = DAYS * 86400.0
    t0 = now - span
    types, weights = zip(*TYPES)
    rows, size = [], 0
    for i in range(n_events):
        t = t0 + span * i / n_events
        pid = pids[rnd.randrange(len(pids))]
        etype = rnd.choices(types, weights)[0]
        src = rnd.choice(SOURCES)
        sid = "s-" + pid[-12:] + "-%d" % (int(t) // 3600 % 7)
        eid = uuid7(int(t * 1000), rnd)
        doc = json.dumps(event_doc(rnd, eid, etype, pid, sid, src, t), separators=(",", ":"))
        size += len(doc)
        rows.append((eid, pid, sid, etype, src, int(t * 1e6), doc))
        if len(rows) == 50000:
            db.executemany("INSERT INTO event(id, profile_id, session_id, type, source_id,"
                           " inserted, doc) VALUES(?, ?, ?, ?, ?, ?, ?)", rows)
            db.commit()
            rows = []
    db.executemany("INSERT INTO event(id, profile_id, session_id, type, source_id, inserted,"
                   " doc) VALUES(?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.execute("INSERT INTO event_profile(profile_id, inserted, event_rowid)"
               " SELECT profile_id, inserted, rowid FROM event ORDER BY profile_id, inserted")
    db.execute("INSERT INTO meta(key, value) SELECT 'events-indexed', max(rowid) FROM event"
               " WHERE true ON CONFLICT(key) DO UPDATE SET value = excluded.value")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return size / max(n_events, 1)


def absolute(t):
    g = time.gmtime(t)
    return {"absolute": {"year": g.tm_year, "month": g.tm_mon, "date": g.tm_mday,
                         "hour": g.tm_hour, "minute": g.tm_min, "second": g.tm_sec,
                         "meridiem": "PM" if g.tm_hour >= 12 else "AM", "timeZone": 0}}


def timed(srv, method, path, body=None, runs=7):
    """(first, median of the rest) in ms, the server's X-Process-Time median, the last body."""
    times, server_times, last = [], [], None
    for _ in range(runs):
        t = time.perf_counter()
        r = srv.request(method, path, body, admin=True, token=srv.token)
        times.append((time.perf_counter() - t) * 1000)
        server_times.append(float(r.headers.get("X-Process-Time", "nan")) * 1000)
        assert r.status == 200, (path, r.status, r.body)
        last = r.body
    return times[0], statistics.median(times[1:]), statistics.median(server_times[1:]), last


def report(label, res, note=""):
    first, med, server, body = res
    extra = ""
    if isinstance(body, dict) and "total" in body:
        extra = " total %d" % body["total"]
        if isinstance(body.get("result"), list):
            extra += ", %d rows" % len(body["result"])
    print("%-62s first %8.1f ms  median %8.2f ms  (server %8.3f ms)%s%s"
          % (label, first, med, server, extra, note))


def bench(srv, now):
    conn = srv.db()
    pid = conn.execute("SELECT id FROM profile WHERE rowid = (SELECT max(rowid) / 2 FROM profile)"
                       ).fetchone()[0]
    conn.close()
    week = {"minDate": absolute(now - 7 * 86400), "maxDate": absolute(now)}
    day = {"minDate": {"delta": {"value": -1, "entity": "day"}}}
    month = {"minDate": {"delta": {"value": -30, "entity": "day"}}}
    print("-- profile by id")
    report("GET /profile/{id}", timed(srv, "GET", "/profile/" + pid, runs=21))
    print("-- event searches (a page of 25, newest first, total up to 10,000)")
    report("range 7 days, type == purchase",
           timed(srv, "POST", "/event/select/range/page/0",
                 dict(week, where='type == "purchase"')))
    report("range 7 days, type == purchase, page 40",
           timed(srv, "POST", "/event/select/range/page/40",
                 dict(week, where='type == "purchase"')))
    report("range 1 day, type == purchase AND properties.price > 400",
           timed(srv, "POST", "/event/select/range/page/0",
                 dict(day, where='type == "purchase" AND properties.price > 400')))
    report("range 7 days, os.name == \"iOS\" (JSON, no index)",
           timed(srv, "POST", "/event/select/range/page/0", dict(week, where='os.name == "iOS"')))
    report("range 1 day, properties.price > properties.quantity (in C)",
           timed(srv, "POST", "/event/select/range/page/0",
                 dict(day, where="properties.price > properties.quantity")))
    report("range 30 days, no condition",
           timed(srv, "POST", "/event/select/range/page/0", month))
    report("select (no range), type == \"login\", limit 20",
           timed(srv, "POST", "/event/select", {"where": 'type == "login"', "limit": 20}))
    print("-- event histograms")
    report("30 days, 1-day buckets, no condition",
           timed(srv, "POST", "/event/select/histogram", month))
    report("30 days, 1-day buckets, type == purchase",
           timed(srv, "POST", "/event/select/histogram", dict(month, where='type == "purchase"')))
    report("1 day, 48-minute buckets, no condition",
           timed(srv, "POST", "/event/select/histogram", day))
    report("7 days, 6h buckets, group_by=type",
           timed(srv, "POST", "/event/select/histogram?group_by=type&interval=6h", week, runs=3))
    print("-- profile searches")
    report("select traits.country == \"PL\", limit 20",
           timed(srv, "POST", "/profile/select", {"where": 'traits.country == "PL"'}, runs=3))
    report("range 1 day (metadata.time.update), limit 20",
           timed(srv, "POST", "/profile/select/range", day, runs=3))
    print("-- dashboard counters")
    report("GET /event/count", timed(srv, "GET", "/event/count", runs=3))
    report("GET /profile/count", timed(srv, "GET", "/profile/count", runs=3))
    report("GET /events/by_type", timed(srv, "GET", "/events/by_type", runs=3))
    report("GET /events/by_type?from=<7 days ago>",
           timed(srv, "GET", "/events/by_type?from=%d" % int(now - 7 * 86400), runs=3))
    report("GET /events/by_source", timed(srv, "GET", "/events/by_source", runs=3))
    report("GET /events/by_tag?from=<1 day ago> (JSON)",
           timed(srv, "GET", "/events/by_tag?from=%d" % int(now - 86400), runs=3))
    report("GET /events/by_os_name (JSON, all 5M)",
           timed(srv, "GET", "/events/by_os_name", runs=2))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--reuse" in sys.argv:
        data = args[0]
        srv = Server(data)
    else:
        n_profiles = int(args[0]) if args else 1000000
        n_events = int(args[1]) if len(args) > 1 else 5000000
        tmp = tempfile.mkdtemp(prefix="cdpd-search-")
        data = os.path.join(tmp, "data")
        srv = Server(data)
        srv.add_user(conftest.ADMIN_EMAIL, conftest.ADMIN_PASSWORD, "admin")  # the schema
        now = time.time()
        t0 = time.monotonic()
        avg = fill_profiles(str(srv.db_path), n_profiles)
        conn = sqlite3.connect(str(srv.db_path))
        pids = [r[0] for r in conn.execute("SELECT id FROM profile")]
        conn.close()
        print("filled %d profiles (%.0f bytes each) in %.0f s" % (n_profiles, avg,
                                                                  time.monotonic() - t0))
        t0 = time.monotonic()
        avg = fill_events(str(srv.db_path), n_events, pids, now)
        print("filled %d events (%.0f bytes each) in %.0f s; store %.1f GB"
              % (n_events, avg, time.monotonic() - t0, os.path.getsize(srv.db_path) / 1e9))
    srv.start()
    try:
        bench(srv, time.time())
    finally:
        srv.stop()
    if "--keep" in sys.argv and "--reuse" not in sys.argv:
        print("kept", data)
    elif "--reuse" not in sys.argv:
        subprocess.run(["rm", "-rf", os.path.dirname(data)])


if __name__ == "__main__":
    main()
