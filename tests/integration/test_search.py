"""Searches through the API: POST /{index}/select, /{index}/select/range[/page/{n}] and
/{index}/select/histogram for profiles, sessions and events.

A property test imports a few hundred events of varied fields and times, then checks random
conditions (and time ranges, pages, histograms) against an evaluator written here from the
condition language's rules (tql.h), over the documents as stored. Plus collected data, Tracardi's
DatetimeRange forms, errors (a bad condition's position and reason, bad ranges), and roles."""
import datetime as dt
import json
import random
import urllib.parse

import pytest

from conftest import ADMIN_EMAIL, new_id, page_view_event, payload

NDJSON = {"Content-Type": "application/x-ndjson"}
NEVENTS = 360
MISSING = object()


@pytest.fixture(scope="module")
def data(server):
    """Events imported with varied fields and times over the last ten days, as stored."""
    rnd = random.Random(7)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    docs = []
    values = [None, True, False, 0, 1, -1, 1.5, 10, 250, "", "a", "abc", "ABC", "b", "red",
              "blue", ["a", "b"], ["red"], [], [1, 2], {"x": 1}]
    for i in range(NEVENTS):
        t = now - dt.timedelta(minutes=rnd.randint(0, 10 * 24 * 60), seconds=rnd.randint(0, 59))
        props = {}
        for k in ("price", "color", "tags", "n"):
            if rnd.random() < 0.8:
                props[k] = rnd.choice(values)
        docs.append({
            "id": "ev-%04d" % i,
            "type": rnd.choice(["page-view", "purchase", "login", "add-to-cart"]),
            "source": {"id": rnd.choice(["web", "app"])},
            "profile": {"id": "pr-%03d" % rnd.randint(0, 40)},
            "session": {"id": "se-%03d" % rnd.randint(0, 80)},
            "metadata": {"time": {"insert": t.isoformat()}},
            "properties": props,
        })
    body = "".join(json.dumps(d) + "\n" for d in docs)
    r = server.api_post("/events/import", body, headers=NDJSON)
    assert r.status == 200 and r.body["imported"] == NEVENTS, r
    stored = {d["id"]: d for d in server.stored_events() if d["id"].startswith("ev-")}
    assert len(stored) == NEVENTS
    # in the order stored (the import's), for ties of time
    return {"now": now, "docs": [stored[d["id"]] for d in docs]}


# --- an evaluator of the condition language, for the property test --------------------------

def resolve(doc, path):
    cur = doc
    for k in path.split("."):
        if not isinstance(cur, dict) or k not in cur:
            return MISSING
        cur = cur[k]
    return cur


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_time(v):
    if not isinstance(v, str):
        return None
    try:
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


class Time:
    def __init__(self, t):
        self.t = t


def equal(v, c):
    if isinstance(c, Time):
        t = parse_time(v)
        return t is not None and t == c.t
    if isinstance(c, list):
        if isinstance(v, list):
            return len(v) == len(c) and all(equal(a, b) for a, b in zip(v, c))
        return any(equal(v, item) for item in c if not isinstance(item, list))
    if c is None:
        return v is None
    if isinstance(c, bool):
        return isinstance(v, bool) and v == c
    if is_num(c):
        return is_num(v) and float(v) == float(c)
    if isinstance(c, str):
        return isinstance(v, str) and v == c
    return False


def order(v, c):
    """-1, 0, 1, or None when v and c do not compare."""
    if isinstance(c, Time):
        t = parse_time(v)
        if t is None:
            return None
        return (t > c.t) - (t < c.t)
    if is_num(c) and is_num(v):
        return (v > c) - (v < c)
    if isinstance(c, str) and isinstance(v, str):
        a, b = v.encode(), c.encode()
        return (a > b) - (a < b)
    return None


def test_holds(doc, t):
    field, op, c = t
    v = resolve(doc, field)
    if op == "EXISTS":
        return v is not MISSING
    if op == "NOT EXISTS":
        return v is MISSING
    if v is MISSING:
        return False
    if op == "==":
        return equal(v, c)
    if op == "!=":
        return not equal(v, c)
    if op == "CONTAINS":
        if isinstance(v, str):
            return isinstance(c, str) and c in v
        if isinstance(v, list):
            return any(equal(item, c) for item in v if not isinstance(item, list))
        if isinstance(v, dict):
            return isinstance(c, str) and c in v
        return False
    o = order(v, c)
    if o is None:
        return False
    return {">": o > 0, ">=": o >= 0, "<": o < 0, "<=": o <= 0}[op]


test_holds.__test__ = False  # not a pytest test


def holds(doc, cond):
    kind = cond[0]
    if kind == "and":
        return all(holds(doc, c) for c in cond[1:])
    if kind == "or":
        return any(holds(doc, c) for c in cond[1:])
    if kind == "not":
        return not holds(doc, cond[1])
    return test_holds(doc, cond[1])


def text_of_const(c, now):
    if isinstance(c, Time):
        return 'datetime("%s")' % c.t.isoformat()
    return json.dumps(c)


def text_of(cond, now):
    kind = cond[0]
    if kind in ("and", "or"):
        return "(" + (" %s " % kind.upper()).join(text_of(c, now) for c in cond[1:]) + ")"
    if kind == "not":
        return "NOT " + text_of(cond[1], now)
    field, op, c = cond[1]
    if op in ("EXISTS", "NOT EXISTS"):
        return "%s %s" % (field, op)
    return "%s %s %s" % (field, op, text_of_const(c, now))


FIELDS = ["properties.price", "properties.color", "properties.tags", "properties.n", "type",
          "source.id", "id", "metadata.time.insert", "properties"]
CONSTS = [None, True, 0, 1, 1.5, 10, 100, "", "a", "abc", "red", "blue", "page-view",
          "purchase", "ev-0100", "web", ["a", "b"], ["page-view", "login"], ["red", 1], []]


def random_test(rnd, now):
    field = rnd.choice(FIELDS)
    op = rnd.choice(["==", "!=", ">", ">=", "<", "<=", "CONTAINS", "EXISTS", "NOT EXISTS"])
    if field == "metadata.time.insert" and rnd.random() < 0.8:
        c = Time(now - dt.timedelta(hours=rnd.randint(0, 240)))
    else:
        c = rnd.choice(CONSTS)
    if op == "CONTAINS" and isinstance(c, list):
        c = "a"
    return ("test", (field, op, c))


def random_condition(rnd, now):
    k = rnd.randint(0, 5)
    a, b, c = (random_test(rnd, now) for _ in range(3))
    if k <= 1:
        return a
    if k == 2:
        return ("and", a, b)
    if k == 3:
        return ("or", a, b)
    if k == 4:
        return ("and", ("not", a), ("or", b, c))
    return ("and", a, b, ("not", c))


def newest_first(docs):
    keyed = [(parse_time(d["metadata"]["time"]["insert"]), i, d) for i, d in enumerate(docs)]
    keyed.sort(key=lambda x: (x[0], x[1]), reverse=True)
    return [d for _, _, d in keyed]


def ids(docs):
    return [d["id"] for d in docs]


def select(server, index, body, suffix="", token=None):
    return server.api_post("/%s/select%s" % (index, suffix), body, token=token)


# --- the property test ------------------------------------------------------------------------

def test_search_agrees_with_the_evaluator(server, data):
    rnd = random.Random(11)
    now, docs = data["now"], data["docs"]
    ordered = newest_first(docs)
    for _ in range(150):
        cond = random_condition(rnd, now)
        text = text_of(cond, now)
        want = [d for d in ordered if holds(d, cond)]
        r = select(server, "event", {"where": text, "limit": 1000})
        assert r.status == 200, (text, r)
        got = [d for d in r.body["result"] if d["id"].startswith("ev-")]
        assert ids(got) == ids(want), text
        # a time range of whole hours, and a page of it
        lo = now - dt.timedelta(hours=rnd.randint(24, 240))
        hi = lo + dt.timedelta(hours=rnd.randint(1, 72))
        want = [d for d in want if lo <= parse_time(d["metadata"]["time"]["insert"]) <= hi]
        start, limit = rnd.randint(0, 5), rnd.randint(1, 20)
        r = select(server, "event", {"where": text, "minDate": absolute(lo),
                                     "maxDate": absolute(hi), "start": start, "limit": limit},
                   "/range")
        assert r.status == 200, (text, r)
        assert r.body["total"] == len(want), text
        assert ids(r.body["result"]) == ids(want)[start:start + limit], text


def absolute(t):
    return {"absolute": {"year": t.year, "month": t.month, "date": t.day, "hour": t.hour,
                         "minute": t.minute, "second": t.second,
                         "meridiem": "PM" if t.hour >= 12 else "AM", "timeZone": 0}}


def test_histogram_agrees(server, data):
    now, docs = data["now"], data["docs"]
    lo = (now - dt.timedelta(days=7)).replace(minute=0, second=0)
    hi = now
    for where, pick in [("", lambda d: True),
                        ('type == "purchase"', lambda d: d["type"] == "purchase"),
                        ("properties.price > 1", lambda d: holds(
                            d, ("test", ("properties.price", ">", 1))))]:
        r = select(server, "event", {"where": where, "minDate": absolute(lo),
                                     "maxDate": absolute(hi)}, "/histogram?interval=6h")
        assert r.status == 200, r
        width = 6 * 3600
        first = int(lo.timestamp()) // width
        counts = {}
        total = 0
        for d in docs:
            t = parse_time(d["metadata"]["time"]["insert"])
            if pick(d) and lo <= t <= hi:
                b = int(t.timestamp()) // width - first
                counts[b] = counts.get(b, 0) + 1
                total += 1
        assert r.body["total"] == total
        assert r.body["buckets"] == ["count"]
        got = [row["count"] for row in r.body["result"]]
        assert got == [counts.get(i, 0) for i in range(len(got))]
        assert sum(got) == total
        row = r.body["result"][0]
        assert row["interval"] == "+6h" and "speed" in row and "date" in row
        assert row["time"].startswith(dt.datetime.fromtimestamp(
            first * width, dt.timezone.utc).strftime("%Y-%m-%dT%H:00:00"))


def test_histogram_picks_its_interval_and_groups(server, data):
    now, docs = data["now"], data["docs"]
    # 30 days over 30: one bucket a day, labelled as Tracardi's (yy-mm-dd)
    r = select(server, "event", {"minDate": {"delta": {"value": -30, "entity": "day"}}},
               "/histogram")
    assert r.status == 200, r
    assert all(row["interval"] == "+1d" for row in r.body["result"])
    assert len(r.body["result"]) in (30, 31)
    assert r.body["total"] == sum(row["count"] for row in r.body["result"]) >= NEVENTS
    assert len(r.body["result"][0]["date"]) == 8
    # a day: 48-minute buckets
    r = select(server, "event", {"minDate": {"delta": {"value": -1, "entity": "day"}}},
               "/histogram")
    assert r.body["result"][0]["interval"] == "+48m"
    # counts per type: the top five values, each a series
    r = select(server, "event", {"where": 'id STARTS WITH "ev-"',
                                 "minDate": {"delta": {"value": -11, "entity": "day"}}},
               "/histogram?group_by=type&interval=1d")
    assert r.status == 200, r
    by_type = {}
    for d in docs:
        by_type[d["type"]] = by_type.get(d["type"], 0) + 1
    assert sorted(r.body["buckets"]) == sorted(by_type)
    for name in by_type:
        assert sum(row[name] for row in r.body["result"]) == by_type[name]
    assert r.body["total"] == NEVENTS


def test_pages_of_25(server, data):
    docs = newest_first(data["docs"])
    body = {"where": 'id STARTS WITH "ev-"', "minDate": {"delta": {"value": -11, "entity": "day"}}}
    r0 = select(server, "event", body, "/range/page/0")
    r2 = select(server, "event", body, "/range/page/2")
    assert r0.status == r2.status == 200
    assert r0.body["total"] == NEVENTS
    assert ids(r0.body["result"]) == ids(docs)[:25]
    assert ids(r2.body["result"]) == ids(docs)[50:75]


def test_select_defaults_and_paging(server, data):
    r = select(server, "event", {})
    assert r.status == 200 and len(r.body["result"]) == 20 and r.body["total"] >= NEVENTS
    r = server.api_post("/event/select", "")  # no body at all: Tracardi's defaults
    assert r.status == 200 and len(r.body["result"]) == 20
    want = ids(newest_first([d for d in data["docs"] if d["type"] == "login"]))
    r = select(server, "event", {"where": 'type == "login"', "start": 3, "limit": 4})
    assert r.body["total"] == len(want) and ids(r.body["result"]) == want[3:7]
    r = select(server, "event", {"where": 'event@type == "login"', "limit": 1000})
    assert ids(r.body["result"]) == want  # its own source may be written too


def test_profiles_and_sessions_of_collected_data(server):
    src = server.create_source()
    pid, sid = new_id("p"), new_id("s")
    r = server.track(payload(src, sid, profile_id=pid, events=[page_view_event()]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    r = select(server, "profile", {"where": 'id == "%s"' % pid})
    assert r.status == 200 and ids(r.body["result"]) == [pid] and r.body["total"] == 1
    r = select(server, "profile", {"where": "metadata.time.visit.count >= 1 AND id == \"%s\"" % pid})
    assert ids(r.body["result"]) == [pid]
    r = select(server, "session", {"where": 'profile.id == "%s"' % pid})
    assert ids(r.body["result"]) == [sid]
    r = select(server, "session", {"where": 'id == "%s"' % sid,
                                   "minDate": {"delta": {"value": -5, "entity": "minute"}}},
               "/range")
    assert ids(r.body["result"]) == [sid]
    r = select(server, "profile", {"where": 'id == "%s"' % pid,
                                   "minDate": {"delta": {"value": -5, "entity": "minute"}}},
               "/range")
    assert ids(r.body["result"]) == [pid]  # profiles go by metadata.time.update
    r = select(server, "event", {"where": 'session.id == "%s" AND type == "page-view"' % sid})
    assert r.body["total"] == 1 and r.body["result"][0]["session"]["id"] == sid


def test_range_forms(server, data):
    now = data["now"]
    docs = data["docs"]
    slack = dt.timedelta(minutes=2)  # the server's now is a little later than this test's

    def count(body):
        body = dict(body, where='id STARTS WITH "ev-"', limit=0)
        r = select(server, "event", body, "/range")
        assert r.status == 200, r
        return r.body["total"]

    def in_range(lo, hi):
        return sum(1 for d in docs if lo <= parse_time(d["metadata"]["time"]["insert"]) <= hi)

    # maxDate missing: now; minDate a delta from it
    n = count({"minDate": {"delta": {"value": -2, "entity": "day"}}})
    lo = now - dt.timedelta(days=2)
    assert in_range(lo + slack, now) <= n <= in_range(lo - slack, now)
    # a delta on maxDate is anchored at minDate's absolute time
    lo = now - dt.timedelta(days=5)
    assert count({"minDate": absolute(lo), "maxDate": {"delta": {"value": 36, "entity": "hour"}}}) \
        == in_range(lo, lo + dt.timedelta(hours=36))
    # and a delta on minDate at maxDate's
    assert count({"minDate": {"delta": {"value": -36, "entity": "hour"}}, "maxDate": absolute(lo)}) \
        == in_range(lo - dt.timedelta(hours=36), lo)
    # 12-hour clock with the meridiem
    t = (now - dt.timedelta(days=3)).replace(hour=15, minute=0, second=0)
    a = absolute(t)
    a["absolute"]["hour"] = 3
    assert count({"minDate": a, "maxDate": absolute(t + dt.timedelta(hours=12))}) == \
        in_range(t, t + dt.timedelta(hours=12))
    # weeks and null dates
    n = count({"minDate": {"absolute": None, "delta": {"value": -1, "entity": "week"}},
               "maxDate": None})
    lo = now - dt.timedelta(weeks=1)
    assert in_range(lo + slack, now) <= n <= in_range(lo - slack, now)


def test_bad_requests(server, data):
    r = select(server, "event", {"where": 'type == "a" AND'})
    assert r.status == 422
    assert r.body["position"] == 16 and "expected" in r.body["reason"]
    assert r.body["detail"].startswith("where: at 16:")
    r = select(server, "event", {"where": "type === 1"})
    assert r.status == 422 and r.body["position"] > 0, r
    r = select(server, "event", {"where": 'profile@traits.x == 1'})
    assert r.status == 422 and "profile@" in r.body["detail"]
    r = select(server, "event", {"where": 5})
    assert r.status == 422
    r = select(server, "event", {"limit": 5000})
    assert r.status == 422 and "limit" in r.body["detail"]
    r = select(server, "event", {"limit": "ten"})
    assert r.status == 422
    r = select(server, "flow", {})
    assert r.status == 404
    r = server.api_post("/event/select", "{not json")
    assert r.status == 422
    r = server.api_post("/event/select?query_type=kql", {})
    assert r.status == 422
    now = data["now"]
    # ranges: minDate after maxDate, equal, bad parts, bad deltas
    r = select(server, "event", {"minDate": absolute(now), "maxDate": absolute(
        now - dt.timedelta(hours=1))}, "/range")
    assert r.status == 422 and "Incorrect time range" in r.body["detail"]
    r = select(server, "event", {"minDate": absolute(now), "maxDate": absolute(now)}, "/range")
    assert r.status == 422
    bad = absolute(now)
    bad["absolute"]["month"] = 13
    r = select(server, "event", {"minDate": bad}, "/range")
    assert r.status == 422 and "minDate.absolute.month" in r.body["detail"]
    bad = absolute(dt.datetime(2023, 2, 1))
    bad["absolute"]["date"] = 30
    r = select(server, "event", {"minDate": bad}, "/range")
    assert r.status == 422 and "no day 30" in r.body["detail"]
    r = select(server, "event", {"minDate": {"delta": {"value": -1, "entity": "fortnight"}}},
               "/range")
    assert r.status == 422 and "entity" in r.body["detail"]
    r = select(server, "event", {"minDate": {"delta": {"value": "x", "entity": "day"}}}, "/range")
    assert r.status == 422
    r = select(server, "event", {}, "/range/page/x")
    assert r.status == 422
    r = select(server, "event", {"minDate": {"delta": {"value": -400, "entity": "day"}}},
               "/histogram?interval=1m")
    assert r.status == 422 and "buckets" in r.body["detail"]
    r = select(server, "event", {}, "/histogram?interval=5y")
    assert r.status == 422
    r = select(server, "event", {}, "/histogram?group_by=a%20b")
    assert r.status == 422


def test_roles(server, data):
    body = {"where": 'type == "login"'}
    assert select(server, "event", body, token="not-a-token").status == 401
    r = server.request("POST", "/event/select", body, admin=True)
    assert r.status == 401
    for role in ("developer", "marketer", "maintainer"):
        email = "%s-search@example.com" % role
        server.add_user(email, "password-%s-1" % role, role)
        token = server.login(email, "password-%s-1" % role)
        day = {"minDate": {"delta": {"value": -1, "entity": "day"}}}
        for index in ("profile", "session", "event"):
            assert select(server, index, body if index == "event" else {}, token=token).status \
                == 200
            assert select(server, index, day, "/range", token=token).status == 200
            assert select(server, index, day, "/histogram", token=token).status == 200
    # Every role may search: there is no role to refuse (403) here.
    assert ADMIN_EMAIL
