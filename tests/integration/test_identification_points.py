"""Identification points: which events name the person (by event type, from a source or any) and
which event properties match which profile fields. Here: the management API and its checks."""
import pytest


@pytest.fixture
def server(server_factory):
    return server_factory.new()


FIELD = {"profile_trait": {"value": "data.contact.email.main", "ref": True},
         "event_property": {"value": "properties.email", "ref": True}}


def point(server, **doc):
    r = server.api_post("/identification/point", doc)
    assert r.status == 200, r
    return r.body


def test_identification_point_crud(server):
    src = server.create_source()
    doc = point(server, name="e-mail at sign-in",
                event_type={"id": "sign-in", "name": "Sign in"},
                source={"id": src, "name": "Web"}, fields=[FIELD],
                settings={"conflict_aux_field": "conflict"})
    assert doc["id"] and doc["enabled"] is True and doc["description"] == ""
    assert doc["event_type"] == {"id": "sign-in", "name": "Sign in"}
    assert doc["source"] == {"id": src, "name": "Web"}
    assert doc["fields"] == [FIELD]
    assert doc["settings"] == {"conflict_aux_field": "conflict"}
    got = server.api_get("/identification/point/%s" % doc["id"])
    assert got.status == 200 and got.body == doc
    # Plain strings become Tracardi's {value, ref}; no source means any.
    other = point(server, id="login", name="login", event_type="sign-up", fields=[
        {"profile_trait": "data.identifier.token", "event_property": "event@properties.login"}])
    assert other["source"] == {"id": "", "name": ""}
    assert other["fields"] == [{"profile_trait": {"value": "data.identifier.token", "ref": True},
                                "event_property": {"value": "event@properties.login",
                                                   "ref": True}}]
    assert other["settings"] == {}
    listed = server.api_get("/identification/points").body
    assert listed["total"] == 2
    assert sorted(d["id"] for d in listed["result"]) == sorted([doc["id"], "login"])
    # Saving again replaces.
    again = point(server, **dict(other, enabled=False))
    assert server.api_get("/identification/point/login").body["enabled"] is False
    assert again["id"] == "login"
    assert server.api_delete("/identification/point/login").status == 200
    assert server.api_get("/identification/point/login").status == 404
    assert server.api_delete("/identification/point/login").status == 404
    assert server.api_get("/identification/points").body["total"] == 1


def test_identification_point_validation(server):
    ok = {"name": "p", "event_type": "sign-in", "fields": [FIELD]}
    for patch, needle in [
            ({"name": ""}, "name"),
            ({"event_type": None}, "event_type"),
            ({"event_type": {"name": "no id"}}, "event_type"),
            ({"source": 5}, "source"),
            ({"fields": []}, "fields"),
            ({"fields": None}, "fields"),
            ({"fields": [{"profile_trait": "data.contact.email.main"}]},
             "fields[0].event_property"),
            ({"fields": [FIELD, {"profile_trait": "metadata.time.insert",
                                 "event_property": "properties.x"}]},
             "fields[1].profile_trait: a profile field under data"),
            ({"fields": [{"profile_trait": "data", "event_property": "properties.x"}]},
             "fields[0].profile_trait"),
            ({"fields": [{"profile_trait": "traits.x", "event_property": "properties..x"}]},
             "fields[0].event_property"),
            ({"fields": [{"profile_trait": "traits.x", "event_property": "session@context.x"}]},
             "fields[0].event_property"),
            ({"fields": [FIELD, {"profile_trait": "profile@data.contact.email.main",
                                 "event_property": "properties.other"}]},
             "fields[1].profile_trait: data.contact.email.main is already in fields[0]"),
            ({"settings": []}, "settings"),
            ({"enabled": 1}, "enabled")]:
        r = server.api_post("/identification/point", dict(ok, **patch))
        assert r.status == 422 and needle in r.body["detail"], (patch, r)
    r = server.api_post("/identification/point", [1, 2])
    assert r.status == 422 and "body" in r.body["detail"]


def test_identification_points_need_a_developer(server):
    assert server.get("/identification/points", admin=True).status == 401
    assert server.post("/identification/point", {"name": "p"}, admin=True).status == 401
