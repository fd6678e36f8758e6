"""Request limits: --max-body (413), --max-depth (422 above 64), --max-events (422)."""
import json

import pytest

from conftest import json_depth, new_id, page_view_event, payload

MAX_BODY = 2048
MAX_EVENTS = 5


@pytest.fixture(scope="module")
def limited(module_server_factory):
    return module_server_factory.new(
        args=["--max-body", str(MAX_BODY), "--max-events", str(MAX_EVENTS)], name="limited")


def padded_payload(src, size):
    """A valid payload whose JSON encoding is exactly size bytes."""
    p = payload(src, new_id("s"), events=[page_view_event(properties={"pad": ""})])
    base = len(json.dumps(p).encode())
    assert base < size
    p["events"][0]["properties"]["pad"] = "x" * (size - base)
    assert len(json.dumps(p).encode()) == size
    return p


def nested_payload(src, depth):
    """A valid payload whose JSON nesting depth is exactly `depth`."""
    p = payload(src, new_id("s"), context={}, events=[page_view_event(properties={})])
    # depth so far: payload {1, events [2, event {3, properties {4
    inner = {}
    node = inner
    for _ in range(depth - 4 - 1):
        node["a"] = {}
        node = node["a"]
    p["events"][0]["properties"] = {"n": inner} if depth > 4 else {}
    p["events"][0]["context"] = {}
    assert json_depth(p) == depth, json_depth(p)
    return p


def test_body_at_limit_accepted(limited):
    src = limited.create_source()
    r = limited.track(padded_payload(src, MAX_BODY))
    assert r.status == 200, r


def test_body_over_limit_is_413(limited):
    src = limited.create_source()
    before = limited.counts()
    r = limited.track(padded_payload(src, MAX_BODY + 1))
    assert r.status == 413, r
    assert isinstance(r.body, dict) and "detail" in r.body, r.body
    r = limited.track(padded_payload(src, 64 * 1024))
    assert r.status == 413, r
    assert limited.counts() == before
    assert limited.get("/healthcheck").status == 200


def test_chunked_body_over_limit_is_413(limited):
    src = limited.create_source()
    before = limited.counts()
    body = json.dumps(padded_payload(src, 8 * 1024)).encode()
    r = limited.request("POST", "/track", body, headers={"Content-Type": "application/json"},
                        chunked=True)
    assert r.status == 413, r
    assert limited.counts() == before
    assert limited.get("/healthcheck").status == 200


def test_chunked_body_under_limit_accepted(limited):
    src = limited.create_source()
    body = json.dumps(padded_payload(src, 1500)).encode()
    r = limited.request("POST", "/track", body, headers={"Content-Type": "application/json"},
                        chunked=True)
    assert r.status == 200, r


def test_collect_body_over_limit_is_413(limited):
    src = limited.create_source(types=["webhook"])
    before = limited.counts()
    r = limited.post("/collect/big/%s" % src, {"pad": "x" * (MAX_BODY + 10)})
    assert r.status == 413, r
    assert limited.counts() == before


def test_max_body_from_environment(server_factory):
    s = server_factory.new(env={"CDPD_MAX_BODY": str(MAX_BODY)}, name="env-max-body")
    src = s.create_source()
    before = s.counts()
    r = s.track(padded_payload(src, MAX_BODY + 100))
    assert r.status == 413, r
    assert s.counts() == before
    assert s.track(padded_payload(src, MAX_BODY - 100)).status == 200


def test_flag_beats_environment(server_factory):
    s = server_factory.new(args=["--max-body", "4096"], env={"CDPD_MAX_BODY": str(MAX_BODY)},
                           name="flag-beats-env")
    src = s.create_source()
    assert s.track(padded_payload(src, 3000)).status == 200


def test_depth_64_accepted(server):
    src = server.create_source()
    r = server.track(nested_payload(src, 64))
    assert r.status == 200, r


def test_depth_65_is_422(server):
    src = server.create_source()
    before = server.counts()
    r = server.track(nested_payload(src, 65))
    assert r.status == 422, r
    assert "detail" in r.body
    assert "deep" in json.dumps(r.body["detail"]).lower() or "depth" in json.dumps(r.body).lower()
    assert server.counts() == before
    assert server.get("/healthcheck").status == 200


def test_very_deep_json_is_422(server):
    """100 000 nested arrays must be refused before a recursive parser sees them."""
    src = server.create_source()
    before = server.counts()
    text = '{"source":{"id":"%s"},"events":[{"type":"x","properties":{"a":%s%s}}]}' % (
        src, "[" * 100000, "]" * 100000)
    r = server.post("/track", text, headers={"Content-Type": "application/json"})
    assert r.status == 422, r
    assert server.counts() == before
    assert server.get("/healthcheck").status == 200


def test_collect_depth_65_is_422(server):
    src = server.create_source(types=["webhook"])
    before = server.counts()
    body = {}
    node = body
    for _ in range(64):
        node["a"] = {}
        node = node["a"]
    assert json_depth(body) == 65
    r = server.post("/collect/deep/%s" % src, body)
    assert r.status == 422, r
    assert server.counts() == before


def test_max_events_accepted(limited):
    src = limited.create_source()
    events = [page_view_event(eid=new_id("e")) for _ in range(MAX_EVENTS)]
    r = limited.track(payload(src, new_id("s"), events=events))
    assert r.status == 200, r
    for e in events:
        assert limited.event(e["id"]).status == 200


def test_too_many_events_is_422(limited):
    src = limited.create_source()
    before = limited.counts()
    events = [page_view_event() for _ in range(MAX_EVENTS + 1)]
    r = limited.track(payload(src, new_id("s"), events=events))
    assert r.status == 422, r
    assert "events" in json.dumps(r.body["detail"]), r.body
    assert limited.counts() == before
    assert limited.get("/healthcheck").status == 200
