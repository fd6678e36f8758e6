"""Event reshaping: schemas whose object templates rewrite an event's properties and context and
the session's context before validation, mappings and flows; and the built-in event types'
copies of event properties into the event's data and hit, which read the reshaped event."""
import pytest

from conftest import new_id, payload


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def schema(server, **doc):
    r = server.api_post("/event-reshape-schema", doc)
    assert r.status == 200, r
    return r.body


def reshaping(properties=None, context=None, session=None):
    rs = {}
    for key, tpl in (("properties", properties), ("context", context), ("session", session)):
        if tpl is not None:
            rs[key] = tpl
    return {"reshape_schema": rs}


def events_of_type(server, pid, type_):
    return [e for e in server.events_of(pid) if e["type"] == type_]


def test_reshape_schema_crud_and_validation(server):
    doc = schema(server, name="purchase", event_type="purchase",
                 reshaping=reshaping(properties={"total": "event@properties.amount"}))
    assert doc["event_type"] == "purchase" and doc["enabled"] is True
    assert doc["event_source"] == {"id": "", "name": ""}
    assert doc["tags"] == [] and doc["description"] == ""
    got = server.api_get("/event-reshape-schema/%s" % doc["id"])
    assert got.status == 200 and got.body == doc
    listed = server.api_get("/event-reshape-schemas").body
    assert listed["total"] == 1 and [d["id"] for d in listed["result"]] == [doc["id"]]
    ok = {"name": "x", "event_type": "e", "reshaping": reshaping(properties={"a": 1})}
    for patch, needle in [
            ({"name": ""}, "name"),
            ({"event_type": None}, "event_type"),
            ({"event_type": ""}, "event_type"),
            ({"reshaping": None}, "reshaping.reshape_schema"),
            ({"reshaping": reshaping()}, "reshaping.reshape_schema: give"),
            ({"reshaping": reshaping(properties="event@properties")},
             "reshaping.reshape_schema.properties: expected an object template"),
            ({"reshaping": reshaping(session=[1])},
             "reshaping.reshape_schema.session: expected an object template"),
            ({"reshaping": reshaping(properties={"user": {"mail": "event@properties..mail"}})},
             "reshaping.reshape_schema.properties.user.mail: `event@properties..mail` is not"),
            ({"reshaping": reshaping(context={"l": ["ok", "profile@traits.tier"]})},
             "reshaping.reshape_schema.context.l[1]"),
            ({"event_source": 7}, "event_source"),
            ({"enabled": "yes"}, "enabled")]:
        r = server.api_post("/event-reshape-schema", dict(ok, **patch))
        assert r.status == 422 and needle in r.body["detail"], (patch, r)
    assert server.api_delete("/event-reshape-schema/%s" % doc["id"]).status == 200
    assert server.api_get("/event-reshape-schema/%s" % doc["id"]).status == 404
    assert server.api_delete("/event-reshape-schema/%s" % doc["id"]).status == 404


def test_reshaping_runs_before_validation_and_mappings(server):
    src = server.create_source()
    schema(server, name="purchase", event_type="purchase", reshaping=reshaping(
        properties={"total": "event@properties.amount", "currency": "event@context.cur",
                    "lines": ["event@properties.item", "fixed", 3], "gone": "event@properties.nope",
                    "coupon?": "event@properties.coupon", "note": "paid in full"},
        context={"raw": "event@properties"},
        session={"campaign": "event@properties.campaign", "was": "session@context.tz"}))
    # The validator and the mapping only know the reshaped form.
    r = server.api_post("/event-validator", {
        "name": "purchase", "event_type": "purchase",
        "schema": {"type": "object", "required": ["total", "currency"],
                   "properties": {"total": {"type": "number"}}}})
    assert r.status == 200, r
    r = server.api_post("/event-to-profile", {
        "name": "total", "event_type": "purchase",
        "event_to_profile": [{"event": "properties.total", "op": "increment",
                              "profile": "traits.spent"}]})
    assert r.status == 200, r
    sid = new_id("s")
    raw = {"amount": 12.5, "item": {"sku": "a-1"}, "campaign": "spring", "coupon": ""}
    r = server.track(payload(src, sid, context={"tz": "Europe/Berlin"}, events=[
        {"type": "purchase", "properties": raw, "context": {"cur": "EUR"}}]))
    assert r.status == 200, r
    assert r.body["warnings"] == [], r.body
    pid = r.body["profile"]["id"]
    (ev,) = events_of_type(server, pid, "purchase")
    assert ev["metadata"]["valid"] is True
    assert ev["properties"] == {"total": 12.5, "currency": "EUR",
                                "lines": [{"sku": "a-1"}, "fixed", 3], "gone": None,
                                "note": "paid in full"}
    assert ev["context"] == {"raw": raw}
    assert server.session(sid).body["context"] == {"campaign": "spring", "was": "Europe/Berlin"}
    assert server.profile(pid).body["traits"]["spent"] == 12.5
    # The system events of the request are left alone.
    for e in server.events_of(pid):
        if e["type"] in ("profile-created", "session-opened", "visit-started"):
            assert e["properties"] == {}, e


def test_reshaping_schema_matching(server):
    web, app = server.create_source(), server.create_source()
    schema(server, name="b any", event_type="click",
           reshaping=reshaping(properties={"by": "b any"}))
    schema(server, name="a app only", event_type="click", event_source={"id": app, "name": "App"},
           reshaping=reshaping(properties={"by": "a app only"}))
    schema(server, name="0 off", event_type="click", enabled=False,
           reshaping=reshaping(properties={"by": "0 off"}))
    schema(server, name="context only", event_type="view", reshaping=reshaping(
        properties={}, context={"page": "event@properties.page"}))
    r = server.track(payload(app, new_id("s"), events=[{"type": "click", "properties": {}}]))
    assert r.status == 200, r
    assert events_of_type(server, r.body["profile"]["id"], "click")[0]["properties"] == \
        {"by": "a app only"}
    r = server.track(payload(web, new_id("s"), events=[
        {"type": "click", "properties": {"x": 1}},
        {"type": "view", "properties": {"page": "/home"}},
        {"type": "other", "properties": {"x": 2}}]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    assert events_of_type(server, pid, "click")[0]["properties"] == {"by": "b any"}
    (view,) = events_of_type(server, pid, "view")
    assert view["properties"] == {"page": "/home"} and view["context"] == {"page": "/home"}
    assert events_of_type(server, pid, "other")[0]["properties"] == {"x": 2}


def test_reshaping_invalid_result_is_marked(server):
    """Validation sees the reshaped event: a template that drops a required field makes the
    event invalid, stored and marked."""
    src = server.create_source()
    schema(server, name="strip", event_type="purchase",
           reshaping=reshaping(properties={"total": "event@properties.missing"}))
    assert server.api_post("/event-validator", {
        "name": "v", "event_type": "purchase",
        "schema": {"type": "object", "properties": {"total": {"type": "number"}}}}).status == 200
    r = server.track(payload(src, new_id("s"), events=[
        {"type": "purchase", "properties": {"total": 3}}]))
    assert r.status == 200, r
    assert len(r.body["warnings"]) == 1 and "total" in r.body["warnings"][0], r.body
    (ev,) = events_of_type(server, r.body["profile"]["id"], "purchase")
    assert ev["metadata"]["valid"] is False and ev["properties"] == {"total": None}


def test_schema_changes_apply_to_the_next_request(server):
    src = server.create_source()
    sid = new_id("s")
    r = server.track(payload(src, sid, events=[{"type": "e", "properties": {"a": 1}}]))
    pid = r.body["profile"]["id"]
    doc = schema(server, name="s", event_type="e",
                 reshaping=reshaping(properties={"b": "event@properties.a"}))
    server.track(payload(src, sid, events=[{"type": "e", "properties": {"a": 2}}]))
    assert server.api_delete("/event-reshape-schema/%s" % doc["id"]).status == 200
    server.track(payload(src, sid, events=[{"type": "e", "properties": {"a": 3}}]))
    got = sorted((e["properties"] for e in events_of_type(server, pid, "e")),
                 key=lambda p: p.get("a", p.get("b")))
    assert got == [{"a": 1}, {"b": 2}, {"a": 3}]


def test_built_in_types_copy_into_event_data_and_hit(server):
    src = server.create_source()
    t = server.api_get("/event-type/build-in/page-view").body
    assert t["copy"] == {"hit.page.category": "properties.category"}
    grouped = server.api_get("/event-types/build-in/by_type").body["grouped"]
    su = [x for x in grouped["Identity"] if x["id"] == "sign-up"][0]
    assert su["copy"]["data.contact.email.main"] == "properties.email"
    # A reshaped search event: the copy reads the reshaped properties.
    schema(server, name="search", event_type="search",
           reshaping=reshaping(properties={"query": "event@properties.q"}))
    r = server.track(payload(src, new_id("s"), events=[
        {"type": "page-view", "properties": {"category": "shoes"},
         "context": {"page": {"url": "https://shop.example.com/shoes", "title": "Shoes"}}},
        {"type": "search", "properties": {"q": "red boots"}},
        {"type": "checkout-started", "properties": {"id": "c-1", "order_id": "o-1",
                                                    "value": 99.5, "currency": "EUR"}},
        {"type": "sign-up", "properties": {"email": "ann@example.com", "firstname": "Ann"}}]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    (pv,) = events_of_type(server, pid, "page-view")
    assert pv["hit"]["page"] == {"category": "shoes"}
    assert pv["hit"]["url"] == "https://shop.example.com/shoes"
    (se,) = events_of_type(server, pid, "search")
    assert se["hit"]["page"]["search"] == {"query": "red boots"}
    (co,) = events_of_type(server, pid, "checkout-started")
    assert co["data"]["ec"] == {"order": {"id": "o-1"},
                                "checkout": {"id": "c-1", "value": 99.5, "currency": "EUR"}}
    (up,) = events_of_type(server, pid, "sign-up")
    assert up["data"]["contact"]["email"]["main"] == "ann@example.com"
    assert up["data"]["pii"]["firstname"] == "Ann"
    p = server.profile(pid).body
    assert p["data"]["metrics"]["ltcosv"] == 99.5
    assert p["data"]["contact"]["email"]["main"] == "ann@example.com"


def test_reshaping_needs_a_developer(server):
    r = server.get("/event-reshape-schemas", admin=True)
    assert r.status == 401
