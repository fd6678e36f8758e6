"""Refused /track requests: right status, a JSON detail, and nothing written."""
import json

import pytest

from conftest import new_id, payload


@pytest.fixture
def unchanged(server, request):
    """After a test body that passed: the collector's tables did not change (the refused
    request wrote nothing) and the server still answers /healthcheck on both listeners."""
    before = server.counts()
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.passed:
        return  # the failure is already reported; do not add a second one
    assert server.counts() == before, "a refused request wrote something"
    assert server.get("/healthcheck").status == 200
    assert server.get("/healthcheck", admin=True).status == 200


def detail_text(body):
    assert isinstance(body, dict) and "detail" in body, body
    return json.dumps(body["detail"]).lower()


def post_raw(server, text, ctype="application/json"):
    return server.post("/track", text, headers={"Content-Type": ctype})


def test_malformed_json(server, source, unchanged):
    text = '{"source": {"id": "%s"}, "session": {"id": "s1"}, "events": [{"type": "x"}' % source
    r = post_raw(server, text)
    assert r.status == 422, r
    assert "json" in detail_text(r.body), r.body


def test_malformed_json_trailing_garbage(server, source, unchanged):
    text = json.dumps(payload(source, new_id("s"))) + " }garbage"
    r = post_raw(server, text)
    assert r.status == 422, r
    assert "json" in detail_text(r.body), r.body


def test_empty_body(server, unchanged):
    r = post_raw(server, "")
    assert r.status == 422, r
    detail_text(r.body)


def test_json_array_payload(server, source, unchanged):
    r = server.track([payload(source, new_id("s"))])
    assert r.status == 422, r
    detail_text(r.body)


def test_missing_source_id(server, unchanged):
    p = payload("x", new_id("s"))
    p["source"] = {}
    r = server.track(p)
    assert r.status == 422, r
    assert "source" in detail_text(r.body), r.body


def test_missing_source(server, unchanged):
    p = payload("x", new_id("s"))
    del p["source"]
    r = server.track(p)
    assert r.status == 422, r
    assert "source" in detail_text(r.body), r.body


def test_source_id_not_a_string(server, unchanged):
    p = payload("x", new_id("s"))
    p["source"] = {"id": 12}
    r = server.track(p)
    assert r.status == 422, r


def test_event_without_type(server, source, unchanged):
    r = server.track(payload(source, new_id("s"), events=[{"properties": {"a": 1}}]))
    assert r.status == 422, r
    d = r.body["detail"]
    assert "type" in detail_text(r.body)
    if isinstance(d, list):
        assert d[0]["loc"] == ["body", "events", 0, "type"], d


def test_event_with_blank_type(server, source, unchanged):
    r = server.track(payload(source, new_id("s"), events=[{"type": "   "}]))
    assert r.status == 422, r
    assert "type" in detail_text(r.body)


def test_second_event_bad_refuses_whole_payload(server, source, unchanged):
    r = server.track(payload(source, new_id("s"),
                             events=[{"type": "good-one"}, {"type": 7}]))
    assert r.status == 422, r
    d = r.body["detail"]
    if isinstance(d, list):
        assert d[0]["loc"][:3] == ["body", "events", 1], d


def test_events_not_a_list(server, source, unchanged):
    r = server.track(payload(source, new_id("s"), events={"type": "page-view"}))
    assert r.status == 422, r
    assert "events" in detail_text(r.body)


@pytest.mark.parametrize("field,value", [
    ("session", "a-string"), ("profile", ["list"]), ("context", 5), ("properties", "x"),
    ("options", []),
])
def test_wrong_field_types(server, source, unchanged, field, value):
    p = payload(source, new_id("s"))
    p[field] = value
    r = server.track(p)
    assert r.status == 422, r
    assert field in detail_text(r.body), r.body


def test_unknown_source(server, unchanged):
    r = server.track(payload(new_id("nosuch"), new_id("s")))
    assert r.status == 401, r
    detail_text(r.body)


def test_disabled_source(server, unchanged):
    src = server.create_source(enabled=False)
    r = server.track(payload(src, new_id("s")))
    assert r.status == 403, r
    detail_text(r.body)


def test_internal_source_id_refused(server, unchanged):
    for sid in ("@internal-0053cfb8b750c197c49d", "@x", "@"):
        r = server.track(payload(sid, new_id("s")))
        assert r.status == 401, (sid, r)
        detail_text(r.body)


def test_get_track_is_405(server, unchanged):
    r = server.get("/track")
    assert r.status == 405, r
    assert "POST" in r.headers.get("Allow", ""), dict(r.headers)


def test_put_track_is_405(server, source, unchanged):
    r = server.request("PUT", "/track", payload(source, new_id("s")))
    assert r.status == 405, r


def test_delete_track_is_405(server, unchanged):
    assert server.request("DELETE", "/track").status == 405


def test_unknown_path_is_404(server, unchanged):
    assert server.get("/no/such/path").status == 404
    assert server.post("/trackx", {}).status == 404


def test_server_alive_after_bad_input(server, source):
    assert server.get("/healthcheck").status == 200
    r = server.track(payload(source, new_id("s")))
    assert r.status == 200, r
