"""Settings (tracardi-api.md 2.15, docs/api.md): named documents of a type, listed all together
or by type."""
import pytest

from conftest import new_id

MARKETER = ("mkt@example.com", "marketer-password-1")
MAINTAINER = ("ops@example.com", "maintainer-password-1")


@pytest.fixture(scope="module")
def server(module_server_factory):
    s = module_server_factory.new(start=False)
    s.add_user(*MARKETER, "marketer")
    s.add_user(*MAINTAINER, "maintainer")
    return s.start()


def setting(**fields):
    doc = {"id": new_id("set"), "name": "Daily report", "type": "report",
           "content": {"query": "type = purchase"}, "config": {"hour": 6}}
    doc.update(fields)
    return doc


def test_setting_round_trip(server):
    doc = setting(description="sent at six", enabled=True)
    r = server.api_post("/setting", doc)
    assert r.status == 200, r
    got = r.body
    assert got["content"] == doc["content"] and got["config"] == {"hour": 6}
    assert got["enabled"] is True and got["description"] == "sent at six"
    assert got["timestamp"].startswith("20")
    r = server.api_get("/setting/%s" % doc["id"])
    assert r.status == 200 and r.body == got, r
    r = server.api_post("/setting", {"name": "defaults", "type": "x"})
    assert r.status == 200, r
    assert r.body["enabled"] is False and r.body["content"] == {} and r.body["config"] == {}
    assert r.body["description"] == "" and r.body["id"]
    assert server.api_delete("/setting/%s" % r.body["id"]).body == {"deleted": 1}
    assert server.api_get("/setting/%s" % r.body["id"]).status == 404
    assert server.api_delete("/setting/%s" % r.body["id"]).status == 404


def test_settings_by_type(server):
    kind = new_id("kind")
    ids = []
    for name in ("b", "a", "c"):
        doc = setting(name=name, type=kind)
        assert server.api_post("/setting", doc).status == 200
        ids.append(doc["id"])
    assert server.api_post("/setting", setting(type=new_id("other"))).status == 200
    r = server.api_get("/settings/%s?sort=name" % kind)
    assert r.status == 200, r
    assert r.body["total"] == 3 and [s["name"] for s in r.body["result"]] == ["a", "b", "c"]
    r = server.api_get("/settings/%s?sort=-name&start=1&limit=1" % kind)
    assert r.body["total"] == 3 and [s["name"] for s in r.body["result"]] == ["b"]
    assert server.api_get("/settings/nothing-of-this-type").body == {"total": 0, "result": []}
    everything = server.api_get("/settings?limit=1000").body
    assert everything["total"] >= 4 and set(ids) <= {s["id"] for s in everything["result"]}
    r = server.api_get("/settings?sort=type")
    types = [s["type"] for s in r.body["result"]]
    assert types == sorted(types, key=str.lower)


@pytest.mark.parametrize("patch,needle", [
    ({"name": ""}, "name:"),
    ({"type": ""}, "type:"),
    ({"type": None}, "type:"),
    ({"type": {"id": "x"}}, "type:"),
    ({"content": []}, "content: must be an object"),
    ({"config": "x"}, "config: must be an object"),
    ({"enabled": "true"}, "enabled:"),
    ({"description": 5}, "description:"),
    ({"id": []}, "id:"),
])
def test_bad_settings_name_the_field(server, patch, needle):
    r = server.api_post("/setting", dict(setting(), **patch))
    assert r.status == 422, r
    assert needle in r.body["detail"], r


def test_setting_routes_need_a_marketer_or_better(server):
    doc = setting()
    mkt = server.login(*MARKETER)
    assert server.api_post("/setting", doc, token=mkt).status == 200
    assert server.api_get("/setting/%s" % doc["id"], token=mkt).status == 200
    ops = server.login(*MAINTAINER)
    for method, path in (("GET", "/settings"), ("GET", "/settings/report"),
                         ("GET", "/setting/%s" % doc["id"]), ("POST", "/setting"),
                         ("DELETE", "/setting/%s" % doc["id"])):
        body = setting() if method == "POST" else None
        r = server.request(method, path, body, admin=True, token=ops)
        assert r.status == 403, (method, path, r)
        r = server.request(method, path, body, admin=True)
        assert r.status == 401, (method, path, r)
