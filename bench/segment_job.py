#!/usr/bin/env python3
"""bench/segment_job.py: times `cdpd job segment` over N stored profiles (default 1,000,000)
and 20 segments.

The profiles are written straight into a fresh data directory's SQLite file in the store's own
format (tables profile and profile_id of src/store/store_sqlite.c; `cdpd user add` creates the
schema first): documents shaped like the ones /track makes (~1.4 KB), with varied traits,
stats, contact data and visit times over the last year. The 20 segments are created through the
management API of a briefly started server; two of them are conditions the store cannot
translate (a field compared with a field, datetime() of a field) and are evaluated in C. Then
the job runs twice with the server stopped: the first run fills the segments, the second finds
(almost) nothing to change. Standard library only.

With --load, the first run happens while the server runs and a client sends /track for 1000 of
the stored profiles back to back (one connection per request); the script prints the latency of
those requests before and during the run.

  CDPD_BIN=build/cdpd /usr/bin/python3 bench/segment_job.py [N] [--load] [--keep]
"""
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import conftest  # noqa: E402
from conftest import Server, page_view_event, payload  # noqa: E402

SEGMENTS = [
    # name, condition, remove_when_false
    ("VIP", "profile@traits.vip == true", True),
    ("Gold tier", 'profile@traits.tier == "gold"', True),
    ("Silver or bronze", 'profile@traits.tier == ["silver", "bronze"]', True),
    ("Young adults", "profile@traits.age BETWEEN 18 AND 30", True),
    ("Seniors", "profile@traits.age >= 65", False),
    ("Poland", 'profile@traits.country == "PL"', True),
    ("EU", 'profile@traits.country == ["PL", "DE", "FR", "ES", "IT", "NL"]', True),
    ("Big spenders", "profile@traits.ltv > 500", False),
    ("Frequent visitors", "profile@stats.visits >= 20", True),
    ("Browsers", "profile@stats.views > 100 AND profile@stats.visits < 5", True),
    ("Newsletter", 'profile@traits.tags CONTAINS "newsletter"', True),
    ("Has e-mail", "profile@data.contact.email.main NOT EMPTY", False),
    ("Gmail", 'profile@data.contact.email.main ENDS WITH "@gmail.com"', True),
    ("Dormant 30 days", 'profile@metadata.time.visit.last < now.offset("-30d")', True),
    ("Active this week", 'profile@metadata.time.visit.last > now.offset("-7d")', True),
    ("New this month", 'profile@metadata.time.insert > now.offset("-30d")', True),
    ("Anonymous", "profile@data.anonymous == true", True),
    ("A names", 'lowercase(profile@data.pii.firstname) STARTS WITH "a"', False),
    # evaluated in C: a field against a field, datetime() of a field
    ("Many views per visit", "profile@stats.views > profile@stats.visits", True),
    ("Born before 1970", 'datetime(profile@data.pii.birthday) < datetime("1970-01-01T00:00:00Z")',
     True),
]

COUNTRIES = ["PL", "DE", "FR", "ES", "IT", "NL", "US", "GB", "BR", "IN"]
TIERS = ["gold", "silver", "bronze", None, None]
TAGS = ["newsletter", "promo", "b2b", "churn-risk", "app"]
NAMES = ["Ann", "Adam", "Bob", "Carla", "alex", "Dora", "Ewa", "Zoe", None]
DOMAINS = ["gmail.com", "example.com", "wp.pl", "yahoo.com"]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000000+00:00"


def profile_doc(rnd, pid, now):
    insert = now - rnd.randint(0, 365 * 86400)
    last = insert + rnd.randint(0, int(now - insert))
    name = rnd.choice(NAMES)
    email = "%s%d@%s" % ((name or "user").lower(), rnd.randint(1, 9999), rnd.choice(DOMAINS)) \
        if rnd.random() < 0.6 else None
    tier = rnd.choice(TIERS)
    traits = {"age": rnd.randint(14, 90), "country": rnd.choice(COUNTRIES),
              "vip": rnd.random() < 0.05, "ltv": round(rnd.random() * 1000, 2),
              "tags": rnd.sample(TAGS, rnd.randint(0, 3))}
    if tier:
        traits["tier"] = tier
    visits = rnd.randint(1, 40)
    return {
        "id": pid, "ids": [pid],
        "metadata": {"time": {"insert": iso(insert), "create": iso(insert), "update": iso(last),
                              "segmentation": None,
                              "visit": {"last": iso(last), "current": iso(last),
                                        "count": visits, "tz": "Europe/Warsaw"}},
                     "aux": {}, "status": None, "fields": {}, "system": {}},
        "stats": {"visits": visits, "views": rnd.randint(0, 300), "counters": {}},
        "traits": traits, "segments": [], "interests": {}, "consents": {}, "active": True,
        "aux": {"geo": {}},
        "data": {
            "anonymous": email is None,
            "pii": {"firstname": name, "lastname": None, "display_name": None,
                    "birthday": "19%02d-%02d-15T00:00:00Z" % (rnd.randint(30, 99),
                                                              rnd.randint(1, 12)),
                    "gender": None, "language": {"native": None, "spoken": ["en-US"]}},
            "contact": {"email": {"main": email, "private": None, "business": None},
                        "phone": {"main": None, "business": None, "mobile": None,
                                  "whatsapp": None}, "app": {},
                        "address": {"town": None, "county": None, "country": None,
                                    "postcode": None, "street": None, "other": None},
                        "confirmations": []},
            "identifier": {"id": None, "badge": None, "passport": None, "credit_card": None,
                           "token": None, "coupons": None},
            "devices": {"push": [], "other": [], "last": {}},
            "media": {"image": None, "webpage": None, "social": {}}, "preferences": {},
            "job": {"position": None, "company": {}},
            "metrics": {"ltv": None, "ltcosc": None, "ltcocc": None, "ltcop": None,
                        "ltcosv": None, "ltcocv": None, "next": None, "custom": {}},
            "loyalty": {"codes": [], "card": {}}}}


def fill(db_path, n):
    """Writes n profiles (and their ids) into the store file; returns the average doc size."""
    rnd = random.Random(42)
    now = time.time()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous=OFF")
    base = int(now * 1000) - n  # time-ordered ids, as cdpd's UUIDv7 profile ids are
    size = 0
    rows, ids = [], []
    for i in range(n):
        pid = str(uuid.UUID(int=((base + i) << 80) | (0x7 << 76) | rnd.getrandbits(76)))
        doc = json.dumps(profile_doc(rnd, pid, now), separators=(",", ":"))
        size += len(doc)
        rows.append((pid, doc, int(now)))
        ids.append((pid, pid))
        if len(rows) == 20000:
            db.executemany("INSERT INTO profile(id, doc, updated) VALUES(?, ?, ?)", rows)
            db.executemany("INSERT INTO profile_id(alias, profile_id) VALUES(?, ?)", ids)
            db.commit()
            rows, ids = [], []
    db.executemany("INSERT INTO profile(id, doc, updated) VALUES(?, ?, ?)", rows)
    db.executemany("INSERT INTO profile_id(alias, profile_id) VALUES(?, ?)", ids)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return size / max(n, 1)


class Load(threading.Thread):
    """Sends /track for stored profiles back to back, recording (start, seconds, status)."""

    def __init__(self, srv, src, pids):
        super().__init__(daemon=True)
        self.srv, self.src, self.pids = srv, src, pids
        self.samples, self.stop = [], False

    def run(self):
        i = 0
        while not self.stop:
            pid = self.pids[i % len(self.pids)]
            i += 1
            t0 = time.monotonic()
            try:
                status = self.srv.track(payload(self.src, "s-" + pid, profile_id=pid,
                                                events=[page_view_event()])).status
            except OSError:
                status = 0
            self.samples.append((t0, time.monotonic() - t0, status))


def latency(samples, t_from, t_to):
    xs = sorted(d for t, d, _ in samples if t_from <= t < t_to)
    bad = sum(1 for t, _, st in samples if t_from <= t < t_to and st != 200)
    if not xs:
        return "no requests"
    pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000  # noqa: E731
    return "%d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d not 200" % (
        len(xs), pick(0.5), pick(0.99), xs[-1] * 1000, bad)


def run_job(data):
    t0 = time.monotonic()
    r = subprocess.run([conftest.CDPD_BIN, "job", "segment", "--data", data],
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("cdpd job segment failed: %s" % r.stderr)
    return wall, json.loads(r.stdout)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1000000
    tmp = tempfile.mkdtemp(prefix="cdpd-segjob-")
    srv = Server(os.path.join(tmp, "data"))
    srv.add_user(conftest.ADMIN_EMAIL, conftest.ADMIN_PASSWORD, "admin")  # makes the schema
    t0 = time.monotonic()
    avg = fill(str(srv.db_path), n)
    print("filled %d profiles (%.0f bytes each) in %.1f s; store %.0f MB"
          % (n, avg, time.monotonic() - t0, os.path.getsize(srv.db_path) / 1e6))
    srv.start()
    load = None
    try:
        for name, cond, rwf in SEGMENTS:
            r = srv.api_post("/segment", {"name": name, "condition": cond,
                                          "remove_when_false": rwf})
            assert r.status == 200, r
        if "--load" in sys.argv:
            conn = srv.db()
            pids = [row[0] for row in conn.execute(
                "SELECT id FROM profile WHERE rowid % ? = 0 LIMIT 1000", (max(n // 1000, 1),))]
            conn.close()
            load = Load(srv, srv.create_source(), pids)
            load.start()
            time.sleep(10)
            t_job = time.monotonic()
            wall, s = run_job(str(srv.data_dir))
            t_end = time.monotonic()
            time.sleep(2)
            load.stop = True
            load.join()
            print("first run, with the server under /track load: %.1f s, %d joined, %d left"
                  % (wall, sum(x["added"] for x in s["segments"]),
                     sum(x["removed"] for x in s["segments"])))
            print("  /track before the run:", latency(load.samples, 0, t_job))
            print("  /track during the run:", latency(load.samples, t_job, t_end))
    finally:
        srv.stop()
    for label in ("second run", "third run") if load else ("first run", "second run"):
        wall, s = run_job(str(srv.data_dir))
        added = sum(x["added"] for x in s["segments"])
        removed = sum(x["removed"] for x in s["segments"])
        if label == "first run":
            print("joined per segment:", ", ".join("%s %d" % (x["machine_name"], x["added"])
                                                   for x in s["segments"]))
        print("%s: %.1f s wall (%.1f s in the job), %d profiles, %d segments (%d translated, "
              "%d in C), %d joined, %d left"
              % (label, wall, s["seconds"], s["profiles"], len(s["segments"]),
                 len(s["translated"]), len(s["fallback"]), added, removed))
    if "--keep" in sys.argv:
        print("kept", tmp)
    else:
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
