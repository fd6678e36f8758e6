"""Destinations (tracardi-api.md 2.8, tracardi-flows.md 9, docs/api.md): where data is sent,
through a resource. Saving checks the condition, the mapping's references and the resource."""
import pytest

from conftest import new_id

DEVELOPER = ("dev@example.com", "developer-password-1")
MARKETER = ("mkt@example.com", "marketer-password-1")


@pytest.fixture(scope="module")
def server(module_server_factory):
    s = module_server_factory.new(start=False)
    s.add_user(*DEVELOPER, "developer")
    s.add_user(*MARKETER, "marketer")
    return s.start()


@pytest.fixture(scope="module")
def res(server):
    doc = {"id": new_id("res"), "name": "CRM", "type": "api",
           "credentials": {"production": {"url": "https://crm.example"}, "test": {}}}
    r = server.api_post("/resource", doc)
    assert r.status == 200, r
    return doc["id"]


def destination(res, **fields):
    doc = {"id": new_id("dst"), "name": "CRM webhook",
           "destination": {"package": "tracardi.process_engine.destination.http_connector.HttpConnector",
                           "init": {"method": "post", "timeout": 30}},
           "resource": {"id": res},
           "condition": "profile@data.contact.email.main EXISTS",
           "mapping": {"email": "profile@data.contact.email.main", "segments": "profile@segments",
                       "name?": "profile@data.pii.firstname", "fixed": "a literal",
                       "nested": {"list": ["event@type", 1]}}}
    doc.update(fields)
    return doc


def test_destination_round_trip(server, res):
    doc = destination(res, tags=["crm"], event_type="purchase",
                      source={"id": "web", "name": "Web"})
    r = server.api_post("/destination", doc)
    assert r.status == 200, r
    got = r.body
    assert got["destination"]["form"] == {} and got["destination"]["init"]["timeout"] == 30
    assert got["enabled"] is False and got["on_profile_change_only"] is True  # Tracardi's defaults
    assert got["event_type"] == {"id": "purchase", "name": "purchase"}
    assert got["source"] == {"id": "web", "name": "Web"}
    assert got["resource"] == {"id": res} and got["tags"] == ["crm"]
    assert got["mapping"] == doc["mapping"]
    r = server.api_get("/destination/%s" % doc["id"])
    assert r.status == 200 and r.body == got, r
    assert doc["id"] in [d["id"] for d in server.api_get("/destinations").body["result"]]
    # Optional parts default to "any", "" and {}.
    bare = {"name": "bare", "destination": {"package": "p"}, "resource": res}
    r = server.api_post("/destination", bare)
    assert r.status == 200, r
    assert r.body["condition"] == "" and r.body["mapping"] == {} and r.body["tags"] == []
    assert r.body["event_type"] == {"id": "", "name": ""} and r.body["resource"] == {"id": res}
    assert server.api_delete("/destination/%s" % r.body["id"]).body == {"deleted": 1}
    assert server.api_get("/destination/%s" % r.body["id"]).status == 404
    assert server.api_delete("/destination/%s" % r.body["id"]).status == 404


def test_a_used_resource_cannot_be_deleted(server):
    rid = new_id("res")
    assert server.api_post("/resource", {"id": rid, "name": "r", "type": "token"}).status == 200
    doc = destination(rid, name="uses it")
    assert server.api_post("/destination", doc).status == 200
    r = server.api_delete("/resource/%s" % rid)
    assert r.status == 409 and "uses it" in r.body["detail"], r
    assert server.api_delete("/destination/%s" % doc["id"]).status == 200
    assert server.api_delete("/resource/%s" % rid).status == 200
    # ... and a destination needs its resource to exist.
    r = server.api_post("/destination", doc)
    assert r.status == 422 and "resource.id" in r.body["detail"] and rid in r.body["detail"], r


@pytest.mark.parametrize("patch,needle", [
    ({"name": ""}, "name:"),
    ({"destination": None}, "destination:"),
    ({"destination": {"init": {}}}, "destination.package"),
    ({"destination": {"package": ""}}, "destination.package"),
    ({"destination": {"package": "p", "init": []}}, "destination.init: must be an object"),
    ({"destination": {"package": "p", "form": "x"}}, "destination.form: must be an object"),
    ({"condition": "profile@x =="}, "condition: at "),
    ({"condition": 5}, "condition:"),
    ({"mapping": []}, "mapping: must be an object"),
    ({"mapping": {"a": {"b": ["profile@data..x"]}}}, "mapping.a.b[0]: `profile@data..x`"),
    ({"resource": None}, "resource.id"),
    ({"resource": {"id": ""}}, "resource.id"),
    ({"resource": 5}, "resource:"),
    ({"resource": {"id": "no-such-resource"}}, "resource.id: no resource `no-such-resource`"),
    ({"enabled": 1}, "enabled:"),
    ({"on_profile_change_only": "no"}, "on_profile_change_only:"),
    ({"event_type": 3}, "event_type:"),
    ({"source": [1]}, "source:"),
    ({"tags": "x"}, "tags:"),
    ({"tags": ["a", 2]}, "tags[1]"),
])
def test_bad_destinations_name_the_field(server, res, patch, needle):
    doc = dict(destination(res), **patch)
    r = server.api_post("/destination", doc)
    assert r.status == 422, r
    assert needle in r.body["detail"], r
    assert server.api_get("/destination/%s" % doc["id"]).status == 404


def test_destination_routes_need_admin_or_developer(server, res):
    dev = server.login(*DEVELOPER)
    doc = destination(res)
    assert server.api_post("/destination", doc, token=dev).status == 200
    assert server.api_get("/destination/%s" % doc["id"], token=dev).status == 200
    mkt = server.login(*MARKETER)
    for method, path in (("GET", "/destinations"), ("GET", "/destination/%s" % doc["id"]),
                         ("POST", "/destination"), ("DELETE", "/destination/%s" % doc["id"])):
        body = destination(res) if method == "POST" else None
        r = server.request(method, path, body, admin=True, token=mkt)
        assert r.status == 403, (method, path, r)
        r = server.request(method, path, body, admin=True)
        assert r.status == 401, (method, path, r)
    assert server.api_get("/destination/%s" % doc["id"]).status == 200
