"""POST /track: the happy path, read back through the management API (tracardi-api.md 1.1-1.4)."""
from conftest import (CHROME_WINDOWS_UA, INTERNAL_SOURCE_PREFIX, SYSTEM_EVENT_TYPES,
                      browser_context, is_uuid, new_id, page_view_event, payload, visit_count)

RESPONSE_KEYS = {"task", "ux", "response", "events", "profile", "session", "errors", "warnings"}


def full_payload(src, sid):
    return {
        "source": {"id": src},
        "session": {"id": sid},
        "events": [{
            "type": "page-view",
            "properties": {"title": "Home", "price": 12.5, "tags": ["a", "b"]},
            "context": {"page": {"url": "https://shop.example.com/home?x=1", "title": "Home page",
                                 "referer": {"host": "www.google.com"}}},
        }],
        "context": {
            "browser": {"local": {"browser": {"userAgent": CHROME_WINDOWS_UA,
                                              "language": "en-US"}}},
            "screen": {"local": {"width": 1920, "height": 1080}},
            "utm": {"source": "google", "campaign": "x"},
        },
    }


def test_track_page_view_response(server, source):
    sid = new_id("s")
    r = server.track(full_payload(source, sid))
    assert r.status == 200, r
    assert RESPONSE_KEYS <= set(r.body), r.body
    assert is_uuid(r.body["task"])
    assert r.body["ux"] == []
    assert r.body["response"] == {}
    assert r.body["events"] == []
    assert r.body["errors"] == [] and r.body["warnings"] == []
    assert r.body["session"] == {"id": sid}
    assert is_uuid(r.body["profile"]["id"])
    assert r.headers.get("Content-Type", "").startswith("application/json")
    pt = r.headers.get("X-Process-Time")
    assert pt is not None, dict(r.headers)
    assert float(pt) >= 0


def test_track_then_read_profile(server, source):
    r = server.track(full_payload(source, new_id("s")))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    p = server.profile(pid)
    assert p.status == 200, p
    assert p.body["id"] == pid
    assert pid in p.body["ids"]
    assert visit_count(p.body) == 1


def test_track_then_read_session(server, source):
    sid = new_id("s")
    r = server.track(full_payload(source, sid))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    s = server.session(sid)
    assert s.status == 200, s
    doc = s.body
    assert doc["id"] == sid
    assert doc["profile"]["id"] == pid
    assert doc["os"]["name"] == "Windows", doc["os"]
    assert doc["app"]["name"] == "Chrome", doc["app"]
    assert doc["device"]["resolution"] == "1920x1080", doc["device"]
    assert doc["utm"]["source"] == "google", doc["utm"]
    assert doc["utm"]["campaign"] == "x", doc["utm"]


def test_track_then_read_events_of_profile(server, source):
    sid = new_id("s")
    r = server.track(full_payload(source, sid))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    events = server.events_of(pid)
    by_type = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)
    assert sorted(by_type) == sorted(SYSTEM_EVENT_TYPES | {"page-view"}), sorted(by_type)
    assert all(len(v) == 1 for v in by_type.values()), {k: len(v) for k, v in by_type.items()}
    pv = by_type["page-view"][0]
    assert pv["source"]["id"] == source
    assert pv["profile"]["id"] == pid
    assert pv["session"]["id"] == sid
    assert pv["hit"]["url"] == "https://shop.example.com/home?x=1"
    assert pv["hit"]["name"] == "Home page"
    assert pv["properties"] == {"title": "Home", "price": 12.5, "tags": ["a", "b"]}
    for t in SYSTEM_EVENT_TYPES:
        e = by_type[t][0]
        assert e["source"]["id"].startswith(INTERNAL_SOURCE_PREFIX), e["source"]
        assert e["profile"]["id"] == pid


def test_track_then_read_single_event(server, source):
    sid = new_id("s")
    r = server.track(full_payload(source, sid))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    pv = [e for e in server.events_of(pid) if e["type"] == "page-view"][0]
    g = server.event(pv["id"])
    assert g.status == 200, g
    assert g.body["id"] == pv["id"]
    assert g.body["type"] == "page-view"
    assert g.body["name"] == "Page View"
    assert g.body["hit"]["url"] == "https://shop.example.com/home?x=1"
    assert g.body["profile"]["id"] == pid
    assert g.body["session"]["id"] == sid
    assert server.event(new_id("no-such-event")).status == 404


def test_event_type_is_normalised(server, source):
    eid = new_id("e")
    r = server.track(payload(source, new_id("s"),
                             events=[page_view_event(etype="Page View ", eid=eid)]))
    assert r.status == 200, r
    g = server.event(eid)
    assert g.status == 200, g
    assert g.body["type"] == "page-view"
    assert g.body["name"] == "Page View"


def test_client_event_id_tags_and_options_are_kept(server, source):
    eid = new_id("e")
    ev = page_view_event(eid=eid, tags=["x", "y"], options={"save": True, "custom": 1})
    r = server.track(payload(source, new_id("s"), events=[ev]))
    assert r.status == 200, r
    g = server.event(eid)
    assert g.status == 200, g
    assert g.body["tags"] == {"values": ["x", "y"], "count": 2}
    assert g.body["config"] == {"save": True, "custom": 1}


def test_unknown_fields_are_ignored(server, source):
    p = payload(source, new_id("s"))
    p["something_new"] = {"deep": [1, 2, {"x": None}]}
    p["metadata"] = {"time": {"insert": "1999-01-01T00:00:00"}}
    p["debug"] = True
    p["device"] = {"id": "ignored"}
    p["events"][0]["unknown_event_field"] = "whatever"
    r = server.track(p)
    assert r.status == 200, r
    assert is_uuid(r.body["profile"]["id"])
    assert server.profile(r.body["profile"]["id"]).status == 200


def test_empty_events_returns_null(server, source):
    before = server.counts()
    sid = new_id("s")
    r = server.track(payload(source, sid, events=[]))
    assert r.status == 200, r
    assert r.body is None, r.body
    assert server.counts() == before
    assert server.session(sid).status == 404


def test_request_headers_stored_without_cookie_and_authorization(server, source):
    eid = new_id("e")
    r = server.track(payload(source, new_id("s"), events=[page_view_event(eid=eid)]),
                     headers={"Cookie": "secret=1", "Authorization": "Bearer xyz",
                              "X-Custom-Header": "kept"})
    assert r.status == 200, r
    ev = server.event(eid).body
    headers = ev["request"]["headers"]
    assert headers.get("x-custom-header") == "kept", headers
    assert "cookie" not in headers and "authorization" not in headers, headers


def test_second_call_on_same_session_adds_events_without_new_visit(server, source):
    sid = new_id("s")
    r1 = server.track(payload(source, sid))
    assert r1.status == 200, r1
    pid = r1.body["profile"]["id"]
    r2 = server.track(payload(source, sid, profile_id=pid,
                              events=[page_view_event(url="https://shop.example.com/cart")]))
    assert r2.status == 200, r2
    assert r2.body["profile"]["id"] == pid
    assert r2.body["session"]["id"] == sid
    assert visit_count(server.profile(pid).body) == 1
    types = sorted(e["type"] for e in server.events_of(pid))
    assert types == sorted(["page-view", "page-view"] + list(SYSTEM_EVENT_TYPES)), types


def test_healthcheck_and_root_on_both_listeners(server):
    for admin in (False, True):
        for path in ("/healthcheck", "/"):
            r = server.get(path, admin=admin)
            assert r.status == 200, (admin, path, r)
            assert isinstance(r.body, dict), r.body
    assert server.get("/healthcheck").body.get("status") == "ok"


def test_client_insert_time_is_kept(server, source):
    eid = new_id("e")
    ev = page_view_event(eid=eid, time={"insert": "2021-03-04T05:06:07.000008",
                                        "create": "2021-03-04T05:06:00"})
    r = server.track(payload(source, new_id("s"), events=[ev]))
    assert r.status == 200, r
    t = server.event(eid).body["metadata"]["time"]
    assert t["insert"].startswith("2021-03-04T05:06:07"), t
    assert t["create"].startswith("2021-03-04T05:06:00"), t


def test_properties_round_trip(server, source):
    props = {"text": "Grüße, 東京, emoji \U0001F600", "quote": "a\"b\\c\n\t",
             "float": 0.1, "neg": -17, "int": 123456789, "zero": 0, "t": True,
             "f": False, "none": None, "list": [1, "two", {"three": [3]}],
             "nested": {"a": {"b": {"c": "d"}}}, "empty": {}, "empty_list": []}
    eid = new_id("e")
    r = server.track(payload(source, new_id("s"), events=[page_view_event(eid=eid,
                                                                          properties=props)]))
    assert r.status == 200, r
    assert server.event(eid).body["properties"] == props


def test_safe_integer_property_round_trips(server, source):
    """Integers up to 2**53-1 are exact in every JSON implementation (RFC 8259 section 6);
    order numbers and other ids sent as such must come back unchanged, and as integers."""
    props = {"max_safe": 9007199254740991, "order_no": 9007199254740000,
             "ts_us": 1700000000123456, "e15": 1000000000000000}
    eid = new_id("e")
    r = server.track(payload(source, new_id("s"), events=[page_view_event(eid=eid,
                                                                          properties=props)]))
    assert r.status == 200, r
    got = server.event(eid).body["properties"]
    assert got == props
    assert all(isinstance(v, int) for v in got.values()), got


def test_large_integer_property_round_trips(server, source):
    """Integers beyond 2**53 (Tracardi keeps them: Python ints, ES _source is the raw JSON)."""
    props = {"order_no": 9007199254740993, "big": 12345678901234567890}
    eid = new_id("e")
    r = server.track(payload(source, new_id("s"), events=[page_view_event(eid=eid,
                                                                          properties=props)]))
    assert r.status == 200, r
    assert server.event(eid).body["properties"] == props


def test_x_context_header_is_echoed(server, source):
    r = server.track(payload(source, new_id("s")), headers={"X-Context": "staging"})
    assert r.status == 200, r
    assert r.headers.get("X-Context") == "staging"


def test_session_activity_time_reaches_the_store(server_factory):
    """A returning request that changes nothing but the session's activity time is answered
    before that time is written; it reaches the store within about a second even when no
    further traffic comes, and survives a crash after that."""
    import time
    s = server_factory.new(name="session-times")
    src = s.create_source()
    sid = new_id("s")
    assert s.track(payload(src, sid, events=[page_view_event()])).status == 200
    first = s.session(sid).body["metadata"]["time"]["update"]
    time.sleep(0.05)
    assert s.track(payload(src, sid, events=[page_view_event()])).status == 200
    deadline = time.time() + 5
    while time.time() < deadline:
        now = s.session(sid).body["metadata"]["time"]
        if now["update"] != first:
            break
        time.sleep(0.2)
    assert now["update"] > first
    assert now["duration"] > 0
    s.kill()
    s.start()
    assert s.session(sid).body["metadata"]["time"]["update"] == now["update"]
