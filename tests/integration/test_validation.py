"""Event validators: a JSON Schema per event type for the events' properties. An invalid event is
stored with metadata.valid false and the reason, is not routed into flows, and the reply's
warnings say why."""
import pytest

from conftest import new_id, payload
from test_flows import deploy, add_rule, loyalty_flow


@pytest.fixture
def server(server_factory):
    return server_factory.new()


SCHEMA = {"type": "object", "required": ["total"],
          "properties": {"total": {"type": "number", "minimum": 0},
                         "currency": {"enum": ["EUR", "USD"]}}}


def test_validator_crud_and_bad_schemas(server):
    r = server.api_post("/event-validator", {"name": "purchase", "event_type": "purchase",
                                             "validation": {"json_schema": SCHEMA}})
    assert r.status == 200, r
    v = r.body
    assert v["event_type"] == {"id": "purchase", "name": "purchase"} and v["enabled"] is True
    assert server.api_get("/event-validator/%s" % v["id"]).body["validation"]["json_schema"] == SCHEMA
    assert [x["id"] for x in server.api_get("/event-validators").body["result"]] == [v["id"]]
    for bad, needle in [
            ({"event_type": "a", "schema": {}}, "name"),
            ({"name": "x", "schema": {}}, "event_type"),
            ({"name": "x", "event_type": "a"}, "json_schema"),
            ({"name": "x", "event_type": "a", "schema": {"minimum": "ten"}},
             "json_schema: /minimum"),
            ({"name": "x", "event_type": "a", "schema": {"$ref": "http://example.com/s"}},
             "json_schema: /$ref")]:
        r = server.api_post("/event-validator", bad)
        assert r.status == 422 and needle in r.body["detail"], (bad, r)
    assert server.api_delete("/event-validator/%s" % v["id"]).status == 200
    assert server.api_get("/event-validator/%s" % v["id"]).status == 404


def test_invalid_events_are_stored_marked_and_not_routed(server):
    src = server.create_source()
    deploy(server, loyalty_flow("loyalty"))
    add_rule(server, "purchase", "loyalty", src)
    assert server.api_post("/event-validator", {"name": "purchase", "event_type": "purchase",
                                                "schema": SCHEMA}).status == 200
    r = server.track(payload(src, new_id("s"), events=[
        {"type": "purchase", "properties": {"total": -5}},
        {"type": "purchase", "properties": {"currency": "EUR"}},
        {"type": "purchase", "properties": {"total": 150, "currency": "EUR"}}]))
    assert r.status == 200, r
    assert len(r.body["warnings"]) == 2, r.body
    assert "/total" in r.body["warnings"][0] and "minimum" in r.body["warnings"][0]
    assert "total" in r.body["warnings"][1]
    assert r.body["response"]["loyalty"]["total"] == 150  # only the valid one ran the flow
    evs = [e for e in server.events_of(r.body["profile"]["id"]) if e["type"] == "purchase"]
    assert sorted(e["metadata"]["valid"] for e in evs) == [False, False, True]
    bad = [e for e in evs if not e["metadata"]["valid"]]
    assert all("validator `purchase`" in e["metadata"]["error"] for e in bad)
    assert all("processed_by" not in e["metadata"] or not e["metadata"]["processed_by"].get("flows")
               for e in bad)
