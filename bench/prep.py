#!/usr/bin/env python3
"""Prepare a cdpd data directory for bench/run.sh (standard library only).

  prep.py source --admin http://127.0.0.1:P2 --email E --password P
      gets a token and creates the event source "bench" (type rest, channel Web).
  prep.py send --url http://127.0.0.1:P1 --mode returning|new|batch --n N [--pairs F] [--threads 4]
      sends exactly N /track requests (used by bench/profile.sh for a fixed amount of work).
  prep.py pairs --url http://127.0.0.1:P1 --n 1000 --out pairs.txt [--threads 16]
      sends one /track per pair (fresh session id, no profile id), writes the returned
      "profile_id session_id" per line, then re-sends a few pairs and checks that the server
      answers with the same profile id (the profile is recognised as returning).

The payload has the same shape as bench/common.lua's (about 1 KB, one page-view event).
"""
import argparse
import http.client
import json
import sys
import threading
import urllib.parse
import urllib.request
import uuid

UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36")


def payload(session, profile, nevents=1):
    p = {"source": {"id": "bench"}, "session": {"id": session}}
    if profile:
        p["profile"] = {"id": profile}
    p["context"] = {
        "browser": {"local": {"browser": {
            "name": "Netscape", "engine": "Blink", "appVersion": "5.0", "userAgent": UA,
            "language": "en-US", "platform": "Win32", "vendor": "Google Inc.",
            "cookieEnabled": True}, "device": {"platform": "Win32"}}},
        "screen": {"local": {"width": 1920, "height": 1080, "innerWidth": 1903,
                             "innerHeight": 955}},
        "page": {"url": "https://shop.example.com/products/blue-shirt?utm_source=newsletter",
                 "path": "/products/blue-shirt", "title": "Blue shirt - Example shop"},
        "time": {"local": "11/29/2026, 6:35:00 AM", "tz": "Europe/Berlin"},
    }
    p["events"] = [{
        "type": "page-view",
        "properties": {"category": "shirts", "sku": "BS-%04d" % i, "price": 29.9,
                       "currency": "EUR", "in_stock": True},
        "context": {"page": {"url": "https://shop.example.com/products/bs-%04d?utm_source=newsletter" % i,
                             "title": "Blue shirt - Example shop",
                             "referer": {"host": "www.google.com"}}},
    } for i in range(1001, 1001 + nevents)]
    p["options"] = {"scrollDepth": 0}
    return json.dumps(p, separators=(",", ":")).encode()


def cmd_source(a):
    data = urllib.parse.urlencode({"username": a.email, "password": a.password}).encode()
    with urllib.request.urlopen(a.admin + "/user/token", data, timeout=10) as r:
        tok = json.load(r)["access_token"]
    body = json.dumps({"id": "bench", "name": "Bench", "type": ["rest"],
                       "channel": "Web"}).encode()
    req = urllib.request.Request(a.admin + "/event-source", body,
                                 {"Authorization": "Bearer " + tok,
                                  "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        src = json.load(r)
    if src.get("id") != "bench":
        sys.exit("prep: unexpected event-source answer: %r" % src)
    print("prep: event source 'bench' created")


def track(conn, path, body):
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError("/track answered %d: %s" % (r.status, data[:300]))
    return json.loads(data)


def cmd_pairs(a):
    u = urllib.parse.urlsplit(a.url)
    path = (u.path.rstrip("/") or "") + "/track"
    out = [None] * a.n
    errors = []
    lock = threading.Lock()
    nxt = [0]

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= a.n:
                break
            try:
                s = str(uuid.uuid4())
                res = track(conn, path, payload(s, None))
                pid, sid = res["profile"]["id"], res["session"]["id"]
                if not pid or sid != s:
                    raise RuntimeError("bad /track answer %r" % res)
                out[i] = (pid, sid)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.close()

    ts = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("prep: %d /track errors, first: %s" % (len(errors), errors[0]))
    if len({p for p, _ in out}) != a.n:
        sys.exit("prep: the server returned duplicate profile ids for new visitors")
    with open(a.out, "w") as f:
        for p, s in out:
            f.write("%s %s\n" % (p, s))

    # returning check: the same (profile, session) must come back with the same profile id
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    bad = 0
    for p, s in out[:: max(1, a.n // 20)]:
        res = track(conn, path, payload(s, p))
        if res["profile"]["id"] != p:
            bad += 1
    conn.close()
    print("prep: %d pairs written to %s; returning check: %d of %d mismatched"
          % (a.n, a.out, bad, len(out[:: max(1, a.n // 20)])))
    if bad:
        sys.exit(1)


def cmd_send(a):
    import random
    u = urllib.parse.urlsplit(a.url)
    path = (u.path.rstrip("/") or "") + "/track"
    pairs = []
    if a.mode != "new":
        pairs = [line.split() for line in open(a.pairs) if line.strip()]
    nev = a.batch if a.mode == "batch" else 1
    lock = threading.Lock()
    left = [a.n]
    fails = []

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        rnd = random.Random()
        while True:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            if a.mode == "new":
                body = payload(str(uuid.uuid4()), None)
            else:
                p, s = rnd.choice(pairs)
                body = payload(s, p, nev)
            try:
                track(conn, path, body)
            except Exception as e:  # noqa: BLE001
                with lock:
                    fails.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        conn.close()

    ts = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("send: %d requests (%s, %d events each), %d failed%s"
          % (a.n, a.mode, nev, len(fails), (": " + fails[0]) if fails else ""))
    if fails:
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    s = sp.add_parser("source")
    s.add_argument("--admin", required=True)
    s.add_argument("--email", default="admin@bench.local")
    s.add_argument("--password", default="benchpass1")
    p = sp.add_parser("pairs")
    p.add_argument("--url", required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=16)
    q = sp.add_parser("send")
    q.add_argument("--url", required=True)
    q.add_argument("--mode", choices=["returning", "new", "batch"], default="returning")
    q.add_argument("--n", type=int, default=2000)
    q.add_argument("--pairs")
    q.add_argument("--batch", type=int, default=100)
    q.add_argument("--threads", type=int, default=4)
    a = ap.parse_args()
    {"source": cmd_source, "pairs": cmd_pairs, "send": cmd_send}[a.cmd](a)


if __name__ == "__main__":
    main()
