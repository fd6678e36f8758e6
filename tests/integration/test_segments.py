"""Segments through the management API, and live segmentation by the collector: a segment is
added when its condition holds for a request and, with remove_when_false, removed when it no
longer does."""
import pytest

from conftest import new_id, payload


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def purchase(total):
    return {"type": "purchase", "properties": {"total": total}}


def add_segment(server, **doc):
    r = server.api_post("/segment", doc)
    assert r.status == 200, r
    return r.body


def segments_of(server, pid):
    return server.profile(pid).body.get("segments", [])


def test_segment_crud_and_validation(server):
    seg = add_segment(server, name="Big Spenders!", condition="event@properties.total > 100",
                      eventType=[{"id": "purchase", "name": "Purchase"}])
    assert seg["machine_name"] == "big-spenders"
    assert seg["eventType"] == ["purchase"]
    assert seg["enabled"] is True and seg["remove_when_false"] is False
    assert server.api_get("/segment/%s" % seg["id"]).body["name"] == "Big Spenders!"
    assert [s["id"] for s in server.api_get("/segments").body["result"]] == [seg["id"]]
    for bad, needle in [({"condition": "a"}, "name"),
                        ({"name": "x"}, "condition"),
                        ({"name": "x", "condition": "profile@a =="}, "condition: at "),
                        ({"name": "x", "condition": "profile@a == 1", "eventType": "purchase"},
                         "eventType"),
                        ({"name": "x", "condition": "profile@a == 1", "enabled": "yes"},
                         "enabled"),
                        ({"name": "!!!", "condition": "profile@a == 1"}, "machine_name")]:
        r = server.api_post("/segment", bad)
        assert r.status == 422 and needle in r.body["detail"], (bad, r)
    assert server.api_delete("/segment/%s" % seg["id"]).status == 200
    assert server.api_get("/segment/%s" % seg["id"]).status == 404
    assert server.api_delete("/segment/%s" % seg["id"]).status == 404


def test_live_segmentation_adds_and_removes(server):
    src = server.create_source()
    add_segment(server, name="Big order", condition="event@properties.total > 100",
                eventType=["purchase"], remove_when_false=True)
    add_segment(server, name="Ever big", condition="event@properties.total > 100",
                eventType=["purchase"])
    add_segment(server, name="Returning",
                condition="profile@metadata.time.visit.count >= 2")
    add_segment(server, name="Never", condition="profile@id EXISTS", enabled=False)
    sid = new_id("s")
    r = server.track(payload(src, sid, events=[purchase(200)]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    assert sorted(segments_of(server, pid)) == ["big-order", "ever-big"]
    # a page view does not evaluate purchase segments
    server.track(payload(src, sid, events=[{"type": "page-view", "properties": {"total": 1}}]))
    assert sorted(segments_of(server, pid)) == ["big-order", "ever-big"]
    # the condition fails: removed only where the segment says so
    server.track(payload(src, sid, events=[purchase(20)]))
    assert segments_of(server, pid) == ["ever-big"]
    # a second visit (new session for the same profile)
    server.track(payload(src, new_id("s"), profile_id=pid,
                         events=[{"type": "page-view", "properties": {}}]))
    assert sorted(segments_of(server, pid)) == ["ever-big", "returning"]
    p = server.profile(pid).body
    assert p["metadata"]["time"]["segmentation"]
    # membership counts
    other = server.track(payload(src, new_id("s"), events=[purchase(300)])).body["profile"]["id"]
    counts = {s["machine_name"]: s["count"] for s in server.api_get("/segments").body["result"]}
    assert counts == {"big-order": 1, "ever-big": 2, "returning": 1, "never": 0}, counts
    seg = [s for s in server.api_get("/segments").body["result"] if s["machine_name"] == "ever-big"][0]
    assert server.api_get("/segment/%s" % seg["id"]).body["count"] == 2
    assert other != pid


def test_segment_changes_apply_to_the_next_request(server):
    src = server.create_source()
    sid = new_id("s")
    r = server.track(payload(src, sid, events=[purchase(500)]))
    pid = r.body["profile"]["id"]
    assert segments_of(server, pid) == []
    seg = add_segment(server, name="Any purchase", condition="event@type == \"purchase\"",
                      eventType=["purchase"], remove_when_false=True)
    server.track(payload(src, sid, events=[purchase(5)]))
    assert segments_of(server, pid) == ["any-purchase"]
    seg["enabled"] = False
    assert server.api_post("/segment", seg).status == 200
    server.track(payload(src, sid, events=[{"type": "other", "properties": {}}]))
    assert segments_of(server, pid) == ["any-purchase"]  # disabled: neither added nor removed


def test_segments_need_a_marketer_or_better(server):
    server.add_user("m@example.com", "marketer-password-1", "marketer")
    server.add_user("o@example.com", "maintainer-password-1", "maintainer")
    tok = server.login("m@example.com", "marketer-password-1")
    assert server.api_get("/segments", token=tok).status == 200
    tok = server.login("o@example.com", "maintainer-password-1")
    assert server.api_get("/segments", token=tok).status == 403
    assert server.get("/segments", admin=True).status == 401
