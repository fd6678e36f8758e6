"""Event-source CRUD on the management API, and its effect on the collector."""
from conftest import new_id, payload


def test_event_source_crud(server):
    doc = {"id": "my-src", "name": "Web", "type": ["rest"], "channel": "Web"}
    r = server.api_post("/event-source", doc)
    assert r.status == 200, r
    for k, v in doc.items():
        assert r.body[k] == v, (k, r.body)
    assert r.body["enabled"] is True

    g = server.api_get("/event-source/my-src")
    assert g.status == 200, g
    assert g.body["id"] == "my-src" and g.body["name"] == "Web"
    assert g.body["type"] == ["rest"]

    lst = server.api_get("/event-sources")
    assert lst.status == 200, lst
    assert lst.body["total"] >= 1
    assert "my-src" in [s["id"] for s in lst.body["result"]]

    t = server.track(payload("my-src", new_id("s")))
    assert t.status == 200, t

    d = server.api_delete("/event-source/my-src")
    assert d.status == 200, d
    assert server.api_get("/event-source/my-src").status == 404
    assert "my-src" not in [s["id"] for s in server.api_get("/event-sources").body["result"]]

    before = server.counts()
    t = server.track(payload("my-src", new_id("s")))
    assert t.status == 401, t
    assert server.counts() == before


def test_delete_unknown_source_is_404(server):
    assert server.api_delete("/event-source/%s" % new_id("nosuch")).status == 404


def test_get_unknown_source_is_404(server):
    r = server.api_get("/event-source/%s" % new_id("nosuch"))
    assert r.status == 404, r
    assert "detail" in r.body


def test_event_sources_total_counts_all(server):
    ids = [server.create_source() for _ in range(3)]
    full = server.api_get("/event-sources?limit=1000").body
    assert full["total"] == len(full["result"])
    assert set(ids) <= {s["id"] for s in full["result"]}
    page = server.api_get("/event-sources?start=0&limit=1")
    assert page.status == 200, page
    assert len(page.body["result"]) == 1
    assert page.body["total"] == full["total"]


def test_source_replace_updates_collector(server):
    src = server.create_source()
    assert server.track(payload(src, new_id("s"))).status == 200
    r = server.api_post("/event-source", {"id": src, "name": "Off", "type": ["rest"],
                                          "enabled": False})
    assert r.status == 200, r
    assert server.track(payload(src, new_id("s"))).status == 403
    r = server.api_post("/event-source", {"id": src, "name": "On again", "type": ["rest"]})
    assert r.status == 200, r
    assert server.track(payload(src, new_id("s"))).status == 200


def test_source_without_id_gets_one(server):
    r = server.api_post("/event-source", {"name": "No id", "type": ["rest"]})
    assert r.status == 200, r
    sid = r.body["id"]
    assert isinstance(sid, str) and sid
    assert server.api_get("/event-source/%s" % sid).status == 200


def test_source_id_with_at_is_422(server):
    r = server.api_post("/event-source", {"id": "@x", "name": "Bad", "type": ["rest"]})
    assert r.status == 422, r
    assert "detail" in r.body
    assert server.api_get("/event-source/@x").status == 404


def test_source_without_name_is_422(server):
    sid = new_id("src")
    r = server.api_post("/event-source", {"id": sid, "type": ["rest"]})
    assert r.status == 422, r
    assert "name" in str(r.body["detail"])
    assert server.api_get("/event-source/%s" % sid).status == 404


def test_source_malformed_json_is_422(server):
    r = server.api_post("/event-source", '{"id": "bad-json", "name": ',
                        headers={"Content-Type": "application/json"})
    assert r.status == 422, r
    assert "detail" in r.body
    assert server.api_get("/event-source/bad-json").status == 404


def test_source_unknown_bridge_type_is_422(server):
    sid = new_id("src")
    r = server.api_post("/event-source", {"id": sid, "name": "x", "type": ["carrier-pigeon"]})
    assert r.status == 422, r
    assert server.api_get("/event-source/%s" % sid).status == 404


def test_source_bad_enabled_type_is_422(server):
    sid = new_id("src")
    r = server.api_post("/event-source", {"id": sid, "name": "x", "enabled": "yes"})
    assert r.status == 422, r


def test_a_javascript_source_takes_the_trackers_posts_to_track(server):
    """The JavaScript tracker (and the GUI's snippet) posts to /track: a source of type
    javascript takes that traffic, as a rest one does; webhooks it does not."""
    src = new_id("js")
    r = server.api_post("/event-source", {"id": src, "name": "Site", "type": ["javascript"]})
    assert r.status == 200, r
    assert server.track(payload(src, new_id("s"))).status == 200
    assert server.post("/collect/page-view/%s" % src, {"a": 1}).status == 403
