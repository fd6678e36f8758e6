"""Reading what the collector stored: GET /profile, /session, /event, /events/profile."""
from conftest import new_id, page_view_event, payload


def test_unknown_ids_are_404(server):
    for path in ("/profile/", "/session/", "/event/"):
        r = server.api_get(path + new_id("nosuch"))
        assert r.status == 404, (path, r)
        assert "detail" in r.body


def test_events_of_unknown_profile_is_empty(server):
    r = server.api_get("/events/profile/%s" % new_id("nosuch"))
    assert r.status == 200, r
    assert r.body["total"] == 0 and r.body["result"] == []


def test_events_of_profile_newest_first(server, source):
    sid = new_id("s")
    first = server.track(payload(source, sid, events=[page_view_event(eid=new_id("first"))]))
    pid = first.body["profile"]["id"]
    last_eid = new_id("last")
    r = server.track(payload(source, sid, events=[page_view_event(eid=last_eid)]))
    assert r.status == 200, r
    events = server.events_of(pid)
    assert events[0]["id"] == last_eid, [e["id"] for e in events]


def test_events_of_profile_paging(server, source):
    sid = new_id("s")
    r = server.track(payload(source, sid, events=[page_view_event(eid=new_id("e"))
                                                  for _ in range(10)]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    everything = server.api_get("/events/profile/%s?limit=1000" % pid).body
    n = len(everything["result"])
    assert n == 13  # 10 page views + 3 system events
    assert everything["total"] == n
    page1 = server.api_get("/events/profile/%s?start=0&limit=5" % pid).body
    page2 = server.api_get("/events/profile/%s?start=5&limit=5" % pid).body
    page3 = server.api_get("/events/profile/%s?start=10&limit=5" % pid).body
    ids = [e["id"] for p in (page1, page2, page3) for e in p["result"]]
    assert ids == [e["id"] for e in everything["result"]]
    assert [len(p["result"]) for p in (page1, page2, page3)] == [5, 5, 3]
    # "total" is the number of matching events, not the size of the page
    # (as in GET /event-sources and Tracardi's list responses).
    assert page1["total"] == n, page1["total"]


def test_session_document_shape(server, source):
    sid = new_id("s")
    r = server.track(payload(source, sid, properties={"cart": 3},
                             context=dict(payload(source)["context"], time={"tz": "Europe/Berlin"})))
    assert r.status == 200, r
    s = server.session(sid).body
    for key in ("id", "metadata", "profile", "device", "os", "app", "utm", "context",
                "properties"):
        assert key in s, (key, s)
    assert s["properties"].get("cart") == 3
    assert s["metadata"]["time"]["insert"]
    assert "utm" not in s["context"], s["context"]
    p = server.profile(r.body["profile"]["id"]).body
    assert p["metadata"]["time"]["visit"]["tz"] == "Europe/Berlin"
