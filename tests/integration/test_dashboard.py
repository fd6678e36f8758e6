"""The dashboard's counters on Tracardi's paths: /profile/count, /event/count, /session/count
and the counts by value of events and sessions, checked against the imported documents, with
and without a time range; roles and bad input."""
import datetime as dt
import json
import random

import pytest

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def imp(server, what, docs):
    body = "".join(json.dumps(d) + "\n" for d in docs)
    r = server.api_post("/%s/import" % what, body, headers=NDJSON)
    assert r.status == 200 and r.body["imported"] == len(docs), r
    return r


def iso(t):
    return t.isoformat()


@pytest.fixture
def data(server):
    rnd = random.Random(3)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    server.create_source("src-web", name="Web shop")
    server.create_source("src-app", name="Mobile app")
    events, sessions, profiles = [], [], []
    for i in range(240):
        t = now - dt.timedelta(hours=rnd.randint(0, 24 * 20))
        tags = rnd.sample(["a", "b", "c"], rnd.randint(0, 3))
        if rnd.random() < 0.1:
            tags = tags + tags  # a tag twice counts once
        events.append({
            "id": "ev-%03d" % i,
            "type": rnd.choice(["page-view", "purchase", "login"]),
            "source": {"id": rnd.choice(["src-web", "src-app", "gone"])},
            "metadata": {"time": {"insert": iso(t)},
                         "status": rnd.choice(["collected", "processed"]),
                         "channel": rnd.choice(["Web", "Mobile", None])},
            "tags": {"values": tags, "count": len(tags)},
            "os": {"name": rnd.choice(["Linux", "Windows", "iOS"])},
            "device": {"geo": {"country": {"name": rnd.choice(["Poland", "France", None])}}},
        })
    for i in range(90):
        t = now - dt.timedelta(hours=rnd.randint(0, 24 * 20))
        sessions.append({
            "id": "se-%03d" % i, "profile": {"id": "pr-%03d" % (i % 30)},
            "metadata": {"time": {"insert": iso(t)}, "channel": rnd.choice(["Web", "Mobile"])},
            "os": {"name": rnd.choice(["Linux", "Android"])},
            "app": {"name": rnd.choice(["Chrome", "Firefox", "Safari"])},
            "device": {"resolution": rnd.choice(["1920x1080", "390x844"]),
                       "geo": {"country": {"name": rnd.choice(["Poland", "Spain"])}}},
        })
    for i in range(30):
        t = now - dt.timedelta(days=rnd.randint(0, 20))
        profiles.append({"id": "pr-%03d" % i,
                         "metadata": {"time": {"insert": iso(t), "update": iso(t)}}})
    imp(server, "events", events)
    imp(server, "sessions", sessions)
    imp(server, "profiles", profiles)
    return {"now": now, "events": events, "sessions": sessions, "profiles": profiles}


def counted(docs, get, limit, names=None):
    counts = {}
    for d in docs:
        v = get(d)
        for x in (sorted(set(v)) if isinstance(v, list) else [v]):
            if isinstance(x, str):
                counts[x] = counts.get(x, 0) + 1
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:limit]
    return [{"name": (names or {}).get(k, k), "value": n} for k, n in rows]


def plain(rows):
    return [{"name": r["name"], "value": r["value"]} for r in rows]


def test_counts(server, data):
    assert server.api_get("/event/count").body == {"count": 240}
    assert server.api_get("/session/count").body == {"count": 90}
    assert server.api_get("/profile/count").body == {"count": 30}
    now = data["now"]
    since = now - dt.timedelta(days=5)
    r = server.api_get("/event/count?from=%d" % int(since.timestamp()))
    want = sum(1 for e in data["events"]
               if dt.datetime.fromisoformat(e["metadata"]["time"]["insert"]) >= since)
    assert r.status == 200 and r.body == {"count": want}
    r = server.api_get("/profile/count?from=%s&to=%s" % (
        (now - dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    want = sum(1 for p in data["profiles"]
               if now - dt.timedelta(days=10) <= dt.datetime.fromisoformat(
                   p["metadata"]["time"]["update"]) <= now)
    assert r.body == {"count": want}


EVENT_COUNTERS = {
    "/events/by_type": lambda e: e["type"],
    "/events/by_tag": lambda e: e["tags"]["values"],
    "/events/by_status": lambda e: e["metadata"]["status"],
    "/events/by_channel": lambda e: e["metadata"]["channel"],
    "/events/by_os_name": lambda e: e["os"]["name"],
    "/events/by_device_geo": lambda e: e["device"]["geo"]["country"]["name"],
}
SESSION_COUNTERS = {
    "/sessions/count/by_os_name": lambda s: s["os"]["name"],
    "/sessions/count/by_device_geo": lambda s: s["device"]["geo"]["country"]["name"],
    "/sessions/count/by_channel": lambda s: s["metadata"]["channel"],
    "/sessions/count/by_app": lambda s: s["app"]["name"],
    "/sessions/count/by_resolution": lambda s: s["device"]["resolution"],
}


def test_counts_by_value(server, data):
    for path, get in EVENT_COUNTERS.items():
        r = server.api_get(path)
        assert r.status == 200, (path, r)
        assert r.body == counted(data["events"], get, 15), path
    for path, get in SESSION_COUNTERS.items():
        r = server.api_get(path)
        assert r.status == 200, (path, r)
        assert r.body == counted(data["sessions"], get, 20), path
    # sources by their names, the id kept; a source that is gone by its id
    r = server.api_get("/events/by_source")
    names = {"src-web": "Web shop", "src-app": "Mobile app"}
    assert plain(r.body) == counted(data["events"], lambda e: e["source"]["id"], 15, names)
    assert {x.get("id") for x in r.body} == {"src-web", "src-app", None}


def test_counts_by_value_in_a_range(server, data):
    now = data["now"]
    lo, hi = now - dt.timedelta(days=12), now - dt.timedelta(days=2)

    def within(d):
        return lo <= dt.datetime.fromisoformat(d["metadata"]["time"]["insert"]) <= hi

    q = "?from=%s&to=%s" % (lo.strftime("%Y-%m-%dT%H:%M:%SZ"), int(hi.timestamp()))
    for path, get in EVENT_COUNTERS.items():
        r = server.api_get(path + q)
        assert r.body == counted([e for e in data["events"] if within(e)], get, 15), path
    for path, get in SESSION_COUNTERS.items():
        r = server.api_get(path + q)
        assert r.body == counted([s for s in data["sessions"] if within(s)], get, 20), path


def test_roles_and_errors(server, data):
    assert server.get("/event/count", admin=True).status == 401
    assert server.get("/events/by_type", admin=True, token="nope").status == 401
    for role in ("developer", "marketer", "maintainer"):
        email = "%s@example.com" % role
        server.add_user(email, "password-%s-1" % role, role)
        token = server.login(email, "password-%s-1" % role)
        for path in ["/profile/count", "/event/count", "/session/count"] + \
                list(EVENT_COUNTERS) + list(SESSION_COUNTERS) + ["/events/by_source"]:
            assert server.api_get(path, token=token).status == 200, (role, path)
    assert server.api_get("/event/count?from=yesterday").status == 422
    assert server.api_get("/events/by_type?to=2020-13-01").status == 422
    assert server.api_get("/events/by_type?from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z") \
        .status == 422
    # the counters do not shadow the documents' own routes
    assert server.api_get("/event/ev-001").status == 200
    assert server.api_get("/profile/pr-001").status == 200
