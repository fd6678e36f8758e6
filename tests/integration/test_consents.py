"""Consent types through the management API; POST /customer/consent (no authentication) and
consent-update events granting and withdrawing them on the profile."""
import datetime

import pytest

from conftest import new_id, payload


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def add_type(server, **doc):
    r = server.api_post("/consent/type", doc)
    assert r.status == 200, r
    return r.body


def consent(server, body, query=""):
    return server.post("/customer/consent" + query, body)


def test_consent_type_crud_and_validation(server):
    t = add_type(server, name="Marketing e-mails", auto_revoke="30d")
    assert t["id"] == "marketing-e-mails"
    assert t["revokable"] is True and t["enabled"] is True and t["default_value"] == "deny"
    assert server.api_get("/consent/type/marketing-e-mails").body["auto_revoke"] == "30d"
    assert [x["id"] for x in server.api_get("/consents/type").body["result"]] == [t["id"]]
    for bad, needle in [({}, "name"), ({"name": "x", "auto_revoke": "soon"}, "auto_revoke"),
                        ({"name": "x", "default_value": "maybe"}, "default_value"),
                        ({"name": "x", "revokable": "no"}, "revokable")]:
        r = server.api_post("/consent/type", bad)
        assert r.status == 422 and needle in r.body["detail"], (bad, r)
    assert server.api_delete("/consent/type/marketing-e-mails").status == 200
    assert server.api_get("/consent/type/marketing-e-mails").status == 404


def test_customer_consent_grants_withdraws_and_refuses_unknown(server):
    src = server.create_source()
    add_type(server, id="marketing", name="Marketing")
    add_type(server, id="analytics", name="Analytics", auto_revoke="30d")
    add_type(server, id="terms", name="Terms", revokable=False)
    add_type(server, id="old", name="Old", enabled=False)
    sid = new_id("s")
    pid = server.track(payload(src, sid)).body["profile"]["id"]

    r = consent(server, {"source": {"id": src}, "session": {"id": sid},
                         "consents": {"marketing": True, "analytics": True}})
    assert r.status == 200, r
    assert r.body["profile"]["id"] == pid
    assert r.body["consents"]["marketing"] == {"revoke": None}
    revoke = datetime.datetime.fromisoformat(r.body["consents"]["analytics"]["revoke"])
    days = (revoke - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
    assert 29.9 < days < 30.1
    p = server.profile(pid).body
    assert set(p["consents"]) == {"marketing", "analytics"}
    assert p["aux"]["consents"]["granted"] is True

    r = consent(server, {"source": {"id": src}, "session": {"id": sid},
                         "consents": {"marketing": False}})
    assert r.status == 200 and set(r.body["consents"]) == {"analytics"}, r

    for bad, status in [({"nosuch": True}, 403), ({"old": True}, 403), ({"terms": False}, 403),
                        ({"marketing": "yes"}, 422)]:
        r = consent(server, {"source": {"id": src}, "session": {"id": sid}, "consents": bad})
        assert r.status == status, (bad, r)
    assert set(server.profile(pid).body["consents"]) == {"analytics"}  # nothing changed

    r = consent(server, {"source": {"id": src}, "session": {"id": sid}}, "?all=true")
    assert r.status == 200 and set(r.body["consents"]) == {"marketing", "analytics", "terms"}, r
    # every update is recorded as a consent-update event of the profile
    assert sum(e["type"] == "consent-update" for e in server.events_of(pid)) == 3


def test_customer_consent_bad_requests(server):
    src = server.create_source()
    assert consent(server, "{nope").status == 422
    assert consent(server, {"consents": {}}).status == 422
    assert consent(server, {"source": {"id": src}, "consents": []}).status == 422
    assert consent(server, {"source": {"id": "no-such-source"}, "consents": {}}).status == 401
    # the management listener does not serve it
    assert server.post("/customer/consent", {"source": {"id": src}}, admin=True).status == 404


def test_consent_update_event_with_unknown_consent_is_invalid_and_not_routed(server):
    src = server.create_source()
    add_type(server, id="marketing", name="Marketing")
    r = server.track(payload(src, new_id("s"), events=[
        {"type": "consent-update", "properties": {"consents": {"marketing": True}}},
        {"type": "consent-update", "properties": {"consents": {"nosuch": True}}}]))
    assert r.status == 200, r
    assert any("nosuch" in w for w in r.body["warnings"]), r.body
    pid = r.body["profile"]["id"]
    assert set(server.profile(pid).body["consents"]) == {"marketing"}
    evs = [e for e in server.events_of(pid) if e["type"] == "consent-update"]
    assert sorted(e["metadata"]["valid"] for e in evs) == [False, True]
