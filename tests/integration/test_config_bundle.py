"""The configuration bundle: GET /config/export gives every config entity of an installation as
one document, POST /config/import?mode=merge|replace loads one into another: each entity checked
by its own route's checks, all written in one transaction or nothing. A bundle exported from one
server makes a fresh one route events through the same flows; resource credentials travel
sealed, and open only where the secret key is the same."""
import copy
import secrets
import sqlite3

import pytest

from conftest import new_id, payload
from test_flows import add_rule, deploy, loyalty_flow, purchase

KINDS = {"event-source", "consent-type", "segment", "event-validator", "event-reshaping",
         "event-to-profile", "identification-point", "flow", "flow-production", "rule",
         "resource", "destination", "setting"}
KEY = secrets.token_hex(32)  # one secret key for the servers that share sealed credentials
CREDENTIALS = {"production": {"url": "https://crm.example.com", "password": "s3cret-prod"},
               "test": {"url": "https://test.example.com", "password": "s3cret-test"}}


@pytest.fixture
def server(server_factory):
    return server_factory.new(env={"CDPD_SECRET_KEY": KEY})


def ok(r):
    assert r.status == 200, r
    return r.body


def configure(server):
    """One of each kind of config entity; returns the source id."""
    src = server.create_source("web-shop")
    deploy(server, loyalty_flow("loyalty"))
    ok(server.api_post("/flow/draft", dict(loyalty_flow("draft-only"), name="Not deployed")))
    add_rule(server, "purchase", "loyalty", src, id="loyalty-rule")
    ok(server.api_post("/segment", {"name": "Big spenders",
                                    "condition": "profile@traits.last_big_order > 100"}))
    ok(server.api_post("/consent/type", {"name": "Marketing e-mails", "auto_revoke": "30d"}))
    ok(server.api_post("/event-to-profile", {
        "name": "plan", "event_type": "purchase",
        "event_to_profile": [{"event": "properties.plan", "op": 0, "profile": "traits.plan"}]}))
    ok(server.api_post("/event-validator", {
        "name": "purchase", "event_type": "purchase",
        "schema": {"type": "object", "properties": {"total": {"type": "number"}}}}))
    ok(server.api_post("/event-reshape-schema", {
        "name": "amount", "event_type": "order",
        "reshaping": {"reshape_schema": {"properties": {"total": "event@properties.amount"}}}}))
    ok(server.api_post("/identification/point", {
        "name": "e-mail", "event_type": {"id": "sign-in", "name": "Sign in"},
        "fields": [{"profile_trait": {"value": "data.contact.email.main", "ref": True},
                    "event_property": {"value": "properties.email", "ref": True}}]}))
    ok(server.api_post("/resource", {"id": "crm", "name": "CRM", "type": "api",
                                     "credentials": CREDENTIALS}))
    ok(server.api_post("/destination", {
        "id": "to-crm", "name": "To the CRM", "resource": "crm",
        "destination": {"package": "tracardi.process_engine.destination.crm", "init": {}}}))
    ok(server.api_post("/setting", {"id": "gui", "name": "GUI", "type": "preferences",
                                    "content": {"theme": "dark"}}))
    return src


def export(server, token=None):
    r = server.api_get("/config/export", token=token)
    assert r.status == 200, r
    return r.body


def import_bundle(server, bundle, mode=None, token=None):
    path = "/config/import" + ("?mode=%s" % mode if mode else "")
    return server.api_post(path, bundle, token=token)


def ids(bundle, kind):
    return sorted(d["id"] for d in bundle["entities"][kind])


def test_export_then_import_into_a_fresh_server_routes_events(server, server_factory):
    src = configure(server)
    # something about a person, which no bundle carries
    t = server.track(payload(src, new_id("s"), events=[purchase(10)]))
    assert server.api_delete("/profile/%s" % t.body["profile"]["id"]).status == 200
    b = export(server)
    assert b["version"] == 1 and b["cdpd"] and b["exported"]
    assert set(b["entities"]) == KINDS
    assert b["skipped"] == []  # every kind stored is carried (erasure records never are)
    assert ids(b, "event-source") == ["web-shop"]
    assert ids(b, "flow") == ["draft-only", "loyalty"] and ids(b, "flow-production") == ["loyalty"]
    assert ids(b, "rule") == ["loyalty-rule"]
    assert ids(b, "consent-type") == ["marketing-e-mails"]
    for kind in ("segment", "event-to-profile", "event-validator", "event-reshaping",
                 "identification-point"):
        assert len(b["entities"][kind]) == 1, kind
    text = repr(b)
    assert "erasure" not in text and "admin@example.com" not in text and "pwhash" not in text
    assert "s3cret" not in text  # credentials travel sealed, as stored
    assert b["entities"]["resource"][0]["credentials"]["alg"]

    fresh = server_factory.new(name="fresh", env={"CDPD_SECRET_KEY": KEY})
    r = import_bundle(fresh, b)
    assert r.status == 200, r
    assert r.body["mode"] == "merge"
    assert r.body["imported"] == {k: len(v) for k, v in b["entities"].items()}
    # the bundle reads back the same (the timestamp of a resource or setting is its last save)
    again = export(fresh)
    for kind in KINDS:
        if kind in ("resource", "setting"):
            for d in again["entities"][kind] + b["entities"][kind]:
                d.pop("timestamp")
        assert again["entities"][kind] == b["entities"][kind], kind
    # with the same key the credentials open there
    assert ok(fresh.api_get("/resource/crm"))["credentials"] == CREDENTIALS
    assert ok(fresh.api_get("/destination/to-crm"))["resource"] == {"id": "crm"}
    # and the flow and rule it brought route events there
    sid = new_id("s")
    t = fresh.track(payload("web-shop", sid, events=[purchase(150)]))
    assert t.status == 200, t
    assert t.body["response"] == {"loyalty": {"total": 150, "tier": "gold"}}
    p = fresh.profile(t.body["profile"]["id"]).body
    assert p["traits"]["last_big_order"] == 150
    assert "big-spender" in p["segments"]


def test_merge_keeps_what_is_stored_and_replace_makes_the_config_the_bundle(server):
    configure(server)
    b = export(server)
    extra = ok(server.api_post("/segment", {"name": "Extra", "condition": "profile@traits.x == 1"}))
    changed = copy.deepcopy(b)
    changed["entities"]["segment"][0]["name"] = "Renamed"
    r = import_bundle(server, changed, mode="merge")
    assert r.status == 200, r
    segs = {s["id"]: s["name"] for s in server.api_get("/segments").body["result"]}
    assert segs[extra["id"]] == "Extra" and "Renamed" in segs.values()
    # replace: every kind the bundle names is what the bundle holds; others are left alone
    only = {"version": 1, "entities": {"segment": b["entities"]["segment"],
                                       "consent-type": []}}
    r = import_bundle(server, only, mode="replace")
    assert r.status == 200, r
    assert r.body["mode"] == "replace"
    assert r.body["imported"] == {"segment": 1, "consent-type": 0}
    assert r.body["deleted"] == {"segment": 2, "consent-type": 1}
    assert [s["name"] for s in server.api_get("/segments").body["result"]] == ["Big spenders"]
    assert server.api_get("/consents/type").body["total"] == 0
    assert server.api_get("/rule/loyalty-rule").status == 200  # rules were not named


def test_a_bad_entity_is_named_and_nothing_is_written(server):
    configure(server)
    b = export(server)
    fresh_segments = server.api_get("/segments").body["total"]
    cases = [
        (("rule", 0, "name", None), "entities.rule[0].name:"),
        # a draft need not compile, but must be a flow; a deployed copy must compile
        (("flow", 1, "flowGraph", "not a graph"), "entities.flow[1].flowGraph:"),
        (("flow-production", 0, "flowGraph",
          {"nodes": [{"id": "x", "data": {"spec": {"className": "Nope"}}}], "edges": []}),
         "entities.flow-production[0].flowGraph:"),
        (("segment", 0, "condition", "profile@a =="), "entities.segment[0].condition:"),
        (("event-validator", 0, "validation", {"json_schema": {"type": 5}}),
         "entities.event-validator[0].validation.json_schema:"),
        (("consent-type", 0, "enabled", "yes"), "entities.consent-type[0].enabled:"),
    ]
    for (kind, i, field, value), needle in cases:
        bad = copy.deepcopy(b)
        bad["entities"]["segment"].append({"name": "Must not land",
                                           "condition": "profile@traits.y == 1"})
        if value is None:
            bad["entities"][kind][i].pop(field)
        else:
            bad["entities"][kind][i][field] = value
        for mode in ("merge", "replace"):
            r = import_bundle(server, bad, mode=mode)
            assert r.status == 422 and r.body["detail"].startswith(needle), (kind, mode, r)
    assert server.api_get("/segments").body["total"] == fresh_segments
    # a rule needs its flow and source, in the bundle or (merging) stored
    bad = {"entities": {"rule": [dict(b["entities"]["rule"][0], flow={"id": "nowhere"})]}}
    r = import_bundle(server, bad)
    assert r.status == 422 and r.body["detail"].startswith("entities.rule[0].flow: no flow"), r
    only_rule = {"entities": {"rule": b["entities"]["rule"]}}
    assert import_bundle(server, only_rule).status == 200  # its flow is stored
    r = import_bundle(server, {"entities": {"rule": b["entities"]["rule"], "flow": []}},
                      mode="replace")
    assert r.status == 422 and "no flow `loyalty`" in r.body["detail"], r
    r = import_bundle(server, {"entities": {"rule": b["entities"]["rule"], "event-source": []}},
                      mode="replace")
    assert r.status == 422 and "entities.rule[0].source" in r.body["detail"], r
    # the shape of the bundle itself
    for body, needle in [([1], "body:"), ({"version": 2, "entities": {}}, "version:"),
                         ({"entities": []}, "entities:"),
                         ({"entities": {"user": []}}, "entities.user: not a kind"),
                         ({"entities": {"segment": {}}}, "entities.segment: expected a list"),
                         ({"entities": {"segment": [b["entities"]["segment"][0]] * 2}},
                          "entities.segment[1].id: "),
                         ({"entities": {"segment": [5]}}, "entities.segment[0]:")]:
        r = import_bundle(server, body)
        assert r.status == 422 and r.body["detail"].startswith(needle), (body, r)
    r = import_bundle(server, b, mode="everything")
    assert r.status == 422 and "mode" in r.body["detail"]
    assert server.api_get("/rule/loyalty-rule").status == 200


def test_sealed_credentials_need_the_same_key(server, server_factory):
    configure(server)
    b = export(server)
    other = server_factory.new(name="other-key")  # a secret key of its own
    r = import_bundle(other, b)
    assert r.status == 422, r
    assert r.body["detail"].startswith("entities.resource[0].credentials: sealed under another "
                                       "secret key"), r
    assert other.api_get("/resources").body["total"] == 0  # nothing was written
    # a hand-made bundle may hold credentials in clear: they are sealed on the way in
    mine = {"entities": {"resource": [{"id": "mail", "name": "Mail", "type": "smtp-server",
                                       "credentials": {"production": {"password": "pw-1"}}}]}}
    r = import_bundle(other, mine)
    assert r.status == 200, r
    stored = export(other)["entities"]["resource"][0]
    assert "pw-1" not in repr(stored) and stored["credentials"]["alg"]
    assert ok(other.api_get("/resource/mail"))["credentials"]["production"] == {"password": "pw-1"}
    masked = copy.deepcopy(mine)
    masked["entities"]["resource"][0]["credentials"]["production"] = "***"
    r = import_bundle(other, masked)
    assert r.status == 422 and "entities.resource[0].credentials.production" in r.body["detail"]
    # a destination needs its resource
    r = import_bundle(other, {"entities": {"destination": [b["entities"]["destination"][0]]}})
    assert r.status == 422, r
    assert r.body["detail"] == "entities.destination[0].resource: no resource `crm`"


def test_kinds_a_bundle_does_not_carry_are_named(server):
    configure(server)
    server.stop()
    conn = sqlite3.connect(str(server.db_path))
    conn.execute("INSERT INTO entity(kind, id, doc, updated) VALUES('future-kind', 'x', '{}', 0)")
    conn.commit()
    conn.close()
    server.start()
    b = export(server)
    assert b["skipped"] == ["future-kind"] and "future-kind" not in b["entities"]


def test_only_admins_export_and_import(server):
    configure(server)
    b = export(server)
    server.add_user("dev@example.com", "dev-password-1", "developer")
    dev = server.login("dev@example.com", "dev-password-1")
    assert server.get("/config/export", admin=True).status == 401
    assert server.post("/config/import", b, admin=True).status == 401
    assert server.api_get("/config/export", token=dev).status == 403
    assert import_bundle(server, b, token=dev).status == 403
    assert server.get("/config/export").status == 404  # not on the collector listener
