#!/usr/bin/python3
"""Scale-out: the time from a collector's /track acknowledgement to the event being queryable in
PostgreSQL. Sends one /track with a fresh session id every --every seconds for --seconds; after
each 200, polls PostgreSQL (psycopg2, from Debian's python3-psycopg2) for an event of that
session every 0.5 ms, and records the time from the answer to the first row found. Prints one
line: LAG n=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. (and lost=.. if a row never appeared).

  cluster_lag.py --url http://127.0.0.1:8686 --pg postgres://cdpd@127.0.0.1:P/cdpd \
      --source bench --seconds 10 [--every 0.02]
"""
import argparse
import http.client
import json
import time
import urllib.parse
import uuid

import psycopg2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pg", required=True)
    ap.add_argument("--source", default="bench")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--every", type=float, default=0.02)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    db = psycopg2.connect(a.pg)
    db.autocommit = True
    cur = db.cursor()
    lags, lost = [], 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        sid = str(uuid.uuid4())
        body = json.dumps({"source": {"id": a.source}, "session": {"id": sid},
                           "events": [{"type": "lag-probe", "properties": {"n": 1}}]})
        conn.request("POST", "/track", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        acked = time.monotonic()
        if r.status != 200:
            continue
        while True:
            cur.execute("SELECT 1 FROM production.event WHERE session_id = %s AND type = "
                        "'lag-probe'", (sid,))
            if cur.fetchone():
                lags.append(time.monotonic() - acked)
                break
            if time.monotonic() - acked > a.timeout:
                lost += 1
                break
            time.sleep(0.0005)
        time.sleep(a.every)
    lags.sort()

    def pct(p):
        return 1000 * lags[min(len(lags) - 1, int(p * len(lags)))] if lags else float("nan")

    print("LAG n=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f lost=%d"
          % (len(lags), pct(0.5), pct(0.9), pct(0.99), 1000 * lags[-1] if lags else float("nan"),
             lost))


if __name__ == "__main__":
    main()
