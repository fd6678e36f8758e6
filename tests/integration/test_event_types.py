"""Tracardi's built-in event types: listed by the API, and their profile operations applied to
every event of the type before mappings and flows."""
import pytest

from conftest import new_id, payload


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def test_built_in_event_types_are_listed(server):
    r = server.api_get("/event-types/build-in/by_type")
    assert r.status == 200, r
    ids = {t["id"] for ts in r.body["grouped"].values() for t in ts}
    assert r.body["total"] == len(ids) >= 17
    for must in ("identification", "sign-up", "sign-in", "profile-update", "consent-update",
                 "page-view", "checkout-completed", "order-completed", "add-to-cart",
                 "increase-interest", "decrease-interest"):
        assert must in ids, must
    t = server.api_get("/event-type/build-in/sign-up").body
    assert t["properties"]["type"] == "object" and t["profile"]
    assert server.api_get("/event-type/build-in/no-such-type").status == 404


def test_built_in_profile_operations_apply(server):
    src = server.create_source()
    sid = new_id("s")
    r = server.track(payload(src, sid, events=[
        {"type": "sign-up", "properties": {"email": "ann@example.com", "firstname": "Ann"}},
        {"type": "increase-interest", "properties": {"interest": "shoes", "value": 2}},
        {"type": "checkout-completed", "properties": {"value": 120.5}}]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    p = server.profile(pid).body
    assert p["data"]["contact"]["email"]["main"] == "ann@example.com"
    assert p["data"]["pii"]["firstname"] == "Ann"
    assert p["interests"]["shoes"] == 2
    assert p["data"]["metrics"]["ltcocv"] == 120.5
    server.track(payload(src, sid, events=[
        {"type": "decrease-interest", "properties": {"interest": "shoes"}},
        {"type": "checkout-completed", "properties": {"value": 10}}]))
    p = server.profile(pid).body
    assert p["interests"]["shoes"] == 1
    assert p["data"]["metrics"]["ltcocv"] == 130.5
