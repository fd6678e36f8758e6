#!/usr/bin/env python3
"""Prepare a cdpd data directory for bench/run.sh (standard library only).

  prep.py source --admin http://127.0.0.1:P2 --email E --password P
      gets a token and creates the event source "bench" (type rest, channel Web).
  prep.py send --url http://127.0.0.1:P1 --mode returning|new|batch --n N [--pairs F] [--threads 4]
      sends exactly N /track requests (used by bench/profile.sh for a fixed amount of work).
  prep.py flows --admin http://127.0.0.1:P2 [--slow-url http://127.0.0.1:P3/slow]
      deploys the 5-node flow of the flow scenario (start -> if -> copy data -> increment ->
      add segment) with a rule for page-view events of "bench"; with --slow-url also a flow
      whose remote-call node POSTs there, with a rule for "slow" events.
  prep.py segments --admin http://127.0.0.1:P2 [--n 20]
      creates N live segments for page-view events (conditions on the event and the profile,
      half of them removing themselves when false).
  prep.py slowserver --port P [--delay 1.0]
      an HTTP server that answers every POST after --delay seconds (runs until killed).
  prep.py slowloop --url http://127.0.0.1:P1 --seconds S
      sends "slow" events for one profile back to back for S seconds; prints how many.
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


def login(a):
    data = urllib.parse.urlencode({"username": a.email, "password": a.password}).encode()
    with urllib.request.urlopen(a.admin + "/user/token", data, timeout=10) as r:
        return json.load(r)["access_token"]


def admin_post(a, tok, path, doc):
    req = urllib.request.Request(a.admin + path, json.dumps(doc).encode(),
                                 {"Authorization": "Bearer " + tok,
                                  "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def flow_doc(fid, nodes, edges):
    def node(nid, cls, init, start=False):
        return {"id": nid, "type": "flowNode", "position": {"x": 0, "y": 0},
                "data": {"start": start, "spec": {"className": cls, "init": init},
                         "metadata": {"name": nid}}}

    return {"id": fid, "name": fid,
            "flowGraph": {"nodes": [node(*n) for n in nodes],
                          "edges": [{"id": "e%d" % i, "source": e[0], "sourceHandle": e[1],
                                     "target": e[2], "targetHandle": "payload"}
                                    for i, e in enumerate(edges)]}}


def cmd_flows(a):
    tok = login(a)
    five = flow_doc("bench-flow", [
        ("start", "StartAction", {}, True),
        ("if", "IfAction", {"condition": "event@properties.price > 10"}),
        ("copy", "CopyTraitAction",
         {"traits": {"set": {"profile@traits.last_sku": "event@properties.sku"}}}),
        ("inc", "IncrementAction", {"field": "profile@stats.counters.views", "increment": 1}),
        ("seg", "AddSegmentAction", {"segment": "shoppers"}),
    ], [("start", "payload", "if"), ("if", "true", "copy"), ("copy", "payload", "inc"),
        ("inc", "payload", "seg")])
    admin_post(a, tok, "/flow/production", five)
    admin_post(a, tok, "/rule", {"id": "bench-rule", "name": "bench", "event_type": "page-view",
                                 "source": "bench", "flow": "bench-flow"})
    if a.slow_url:
        slow = flow_doc("bench-slow", [
            ("start", "StartAction", {}, True),
            ("call", "RemoteCallAction", {"endpoint": a.slow_url, "method": "POST",
                                          "timeout": 30, "body": {"type": "application/json",
                                                                  "content": {"x": 1}}}),
        ], [("start", "payload", "call")])
        admin_post(a, tok, "/flow/production", slow)
        admin_post(a, tok, "/rule", {"id": "bench-slow-rule", "name": "slow", "event_type": "slow",
                                     "source": "bench", "flow": "bench-slow"})
    print("prep: flows deployed%s" % (" (with the slow remote call)" if a.slow_url else ""))


def cmd_segments(a):
    tok = login(a)
    for i in range(a.n):
        cond = ("event@properties.price > %d" % (i * 3) if i % 2 == 0 else
                "profile@metadata.time.visit.count >= %d AND event@properties.in_stock == true"
                % (i // 2))
        admin_post(a, tok, "/segment", {"name": "bench segment %d" % i, "condition": cond,
                                        "eventType": ["page-view"],
                                        "remove_when_false": i % 4 == 0})
    print("prep: %d segments" % a.n)


def cmd_slowserver(a):
    import http.server
    import time

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(a.delay)
            body = b'{"ok":true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http.server.ThreadingHTTPServer(("127.0.0.1", a.port), H).serve_forever()


def cmd_slowloop(a):
    import time
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    session, n, t0 = str(uuid.uuid4()), 0, time.time()
    body = json.dumps({"source": {"id": "bench"}, "session": {"id": session},
                       "events": [{"type": "slow", "properties": {}}]}).encode()
    while time.time() - t0 < a.seconds:
        track(conn, "/track", body)
        n += 1
    print("slowloop: %d slow requests in %.1f s" % (n, time.time() - t0))


def cmd_source(a):
    tok = login(a)
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
    f = sp.add_parser("flows")
    f.add_argument("--admin", required=True)
    f.add_argument("--email", default="admin@bench.local")
    f.add_argument("--password", default="benchpass1")
    f.add_argument("--slow-url")
    g = sp.add_parser("segments")
    g.add_argument("--admin", required=True)
    g.add_argument("--email", default="admin@bench.local")
    g.add_argument("--password", default="benchpass1")
    g.add_argument("--n", type=int, default=20)
    w = sp.add_parser("slowserver")
    w.add_argument("--port", type=int, required=True)
    w.add_argument("--delay", type=float, default=1.0)
    lp = sp.add_parser("slowloop")
    lp.add_argument("--url", required=True)
    lp.add_argument("--seconds", type=float, default=10)
    q = sp.add_parser("send")
    q.add_argument("--url", required=True)
    q.add_argument("--mode", choices=["returning", "new", "batch"], default="returning")
    q.add_argument("--n", type=int, default=2000)
    q.add_argument("--pairs")
    q.add_argument("--batch", type=int, default=100)
    q.add_argument("--threads", type=int, default=4)
    a = ap.parse_args()
    {"source": cmd_source, "pairs": cmd_pairs, "send": cmd_send, "flows": cmd_flows,
     "segments": cmd_segments, "slowserver": cmd_slowserver,
     "slowloop": cmd_slowloop}[a.cmd](a)


if __name__ == "__main__":
    main()
