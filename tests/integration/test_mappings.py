"""Event-to-profile mappings: fields of events of a type copied into the profile with set,
set-if-empty, append and increment, under an optional condition, before the flows run."""
import pytest

from conftest import new_id, payload


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def mapping(server, **doc):
    r = server.api_post("/event-to-profile", doc)
    assert r.status == 200, r
    return r.body


def test_mappings_copy_event_fields_into_the_profile(server):
    src = server.create_source()
    mapping(server, name="sign-up", event_type={"id": "sign-up", "name": "Sign up"},
            event_to_profile=[
                {"event": {"value": "properties.email", "ref": True}, "op": 0,
                 "profile": {"value": "data.contact.email.main", "ref": True}},
                {"event": "properties.name", "op": "set_if_empty", "profile": "data.pii.firstname"},
                {"event": "properties.tags", "op": 2, "profile": "traits.tags"},
                {"event": "properties.points", "op": "increment", "profile": "stats.counters.points"},
                {"event": "properties.missing", "op": 0, "profile": "traits.never"}])
    mapping(server, name="vip", event_type="sign-up", config={"condition": "event@properties.points > 50"},
            event_to_profile=[{"event": "properties.points", "op": 0, "profile": "traits.vip_points"}])
    sid = new_id("s")
    r = server.track(payload(src, sid, events=[{"type": "sign-up", "properties": {
        "email": "ann@example.com", "name": "Ann", "tags": ["a", "b"], "points": 10}}]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    p = server.profile(pid).body
    assert p["data"]["contact"]["email"]["main"] == "ann@example.com"
    assert p["data"]["pii"]["firstname"] == "Ann"
    assert p["traits"]["tags"] == ["a", "b"]
    assert p["stats"]["counters"]["points"] == 10
    assert "never" not in p["traits"] and "vip_points" not in p["traits"]
    server.track(payload(src, sid, events=[{"type": "sign-up", "properties": {
        "email": "ann@work.example", "name": "Anna", "tags": ["b", "c"], "points": 60}}]))
    p = server.profile(pid).body
    assert p["data"]["contact"]["email"]["main"] == "ann@work.example"  # set
    assert p["data"]["pii"]["firstname"] == "Ann"                       # set if empty
    assert p["traits"]["tags"] == ["a", "b", "c"]                        # append, no duplicates
    assert p["stats"]["counters"]["points"] == 70                        # increment
    assert p["traits"]["vip_points"] == 60                               # condition held


def test_mapping_validation(server):
    ok = {"name": "m", "event_type": "e",
          "event_to_profile": [{"event": "properties.x", "op": 0, "profile": "traits.x"}]}
    doc = mapping(server, **ok)
    assert doc["event_type"] == {"id": "e", "name": "e"} and doc["enabled"] is True
    assert server.api_get("/event-to-profile/%s" % doc["id"]).status == 200
    assert [m["id"] for m in server.api_get("/event-to-profiles").body["result"]] == [doc["id"]]
    for patch, needle in [({"name": ""}, "name"), ({"event_type": None}, "event_type"),
                          ({"event_to_profile": []}, "event_to_profile"),
                          ({"event_to_profile": [{"event": "properties.x", "op": 9,
                                                  "profile": "traits.x"}]}, "op"),
                          ({"event_to_profile": [{"event": "properties.x", "op": 0,
                                                  "profile": "metadata.x"}]}, "profile"),
                          ({"event_to_profile": [{"event": "", "op": 0,
                                                  "profile": "traits.x"}]}, "event"),
                          ({"config": {"condition": "event@x =="}}, "config.condition: at ")]:
        bad = dict(ok, **patch)
        r = server.api_post("/event-to-profile", bad)
        assert r.status == 422 and needle in r.body["detail"], (patch, r)
    assert server.api_delete("/event-to-profile/%s" % doc["id"]).status == 200
    assert server.api_get("/event-to-profile/%s" % doc["id"]).status == 404
