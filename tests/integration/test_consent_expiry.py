"""Consent expiry end to end with an injected clock: a consent granted with auto_revoke 30d lets a
rule's flow run; after a restart on the same data with CDPD_CLOCK_OFFSET=31d it has expired, the
flow no longer runs, and the profile still shows the grant with its (now past) revoke time. A
consent granted without auto_revoke keeps holding. Granting again renews from the moved clock."""
import datetime

import pytest

from conftest import new_id, payload

DAY = 86400


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def node(nid, cls, init=None, start=False):
    return {"id": nid, "type": "flowNode", "position": {"x": 0, "y": 0},
            "data": {"start": start, "spec": {"module": None, "className": cls, "init": init or {}},
                     "metadata": {"name": nid}}}


def edge(src, dst):
    return {"id": "%s-%s" % (src, dst), "source": src, "sourceHandle": "payload", "target": dst,
            "targetHandle": "payload", "type": "default", "data": {"name": ""}}


def marking_flow(fid, key):
    """start -> count the run in profile@stats.counters.<key> -> answer {"<key>": true}."""
    nodes = [node("start", "StartAction", {"event_types": []}, start=True),
             node("inc", "IncrementAction", {"field": "profile@stats.counters.%s" % key,
                                             "increment": 1}),
             node("resp", "CreateResponseAction", {"key": key, "body": {"ran": True}})]
    return {"id": fid, "name": fid, "description": "", "type": "collection",
            "flowGraph": {"nodes": nodes, "edges": [edge("start", "inc"), edge("inc", "resp")]}}


def setup_consent_rules(server, src):
    """Consent types analytics (auto_revoke 30d) and marketing (never expires), and one rule per
    type on `purchase` whose flow leaves a mark only for profiles holding that consent."""
    for doc in ({"id": "analytics", "name": "Analytics", "auto_revoke": "30d"},
                {"id": "marketing", "name": "Marketing"}):
        r = server.api_post("/consent/type", doc)
        assert r.status == 200, r
    for key in ("analytics", "marketing"):
        r = server.api_post("/flow/production", marking_flow("flow-" + key, key))
        assert r.status == 200, r
        r = server.api_post("/rule", {
            "id": "rule-" + key, "name": "needs " + key, "event_type": "purchase",
            "source": {"id": src, "name": src}, "flow": {"id": "flow-" + key, "name": key},
            "enabled": True, "properties": {"consents": [{"id": key, "name": key}]}})
        assert r.status == 200, r


def iso(s):
    return datetime.datetime.fromisoformat(s)


def real_now():
    return datetime.datetime.now(datetime.timezone.utc)


def days_from_real_now(s):
    return (iso(s) - real_now()).total_seconds() / DAY


def purchase(server, src, sid, pid):
    r = server.track(payload(src, sid, pid, events=[{"type": "purchase",
                                                     "properties": {"total": 10}}]))
    assert r.status == 200 and r.body["errors"] == [], r
    return r.body


def consent(server, src, sid, pid, consents=None, query=""):
    body = {"source": {"id": src}, "session": {"id": sid}, "profile": {"id": pid}}
    if consents is not None:
        body["consents"] = consents
    r = server.post("/customer/consent" + query, body)
    assert r.status == 200, r
    return r.body["consents"]


def test_consent_expires_after_the_clock_moves_31_days(server):
    src = server.create_source()
    setup_consent_rules(server, src)
    sid = new_id("s")
    pid = server.track(payload(src, sid)).body["profile"]["id"]

    # No consent: neither flow runs.
    assert purchase(server, src, sid, pid)["response"] == {}

    held = consent(server, src, sid, pid, {"analytics": True, "marketing": True})
    revoke = held["analytics"]["revoke"]
    assert 29.9 < days_from_real_now(revoke) < 30.1
    assert held["marketing"] == {"revoke": None}
    assert purchase(server, src, sid, pid)["response"] == {"analytics": {"ran": True},
                                                           "marketing": {"ran": True}}

    # 31 days later (the same data, the clock moved): analytics has expired.
    server.restart(env={"CDPD_CLOCK_OFFSET": "31d"})
    warning = [line for line in server.stderr_text().splitlines() if "CDPD_CLOCK_OFFSET" in line]
    assert warning and "warn" in warning[0] and "2678400 s" in warning[0], server.stderr_text()

    body = purchase(server, src, sid, pid)
    assert body["response"] == {"marketing": {"ran": True}}, body
    p = server.profile(pid).body
    assert p["stats"]["counters"] == {"analytics": 1, "marketing": 2}, p["stats"]
    # The expired grant is kept as written; its revoke time, now in the past, is what says it
    # ended. The grant without auto_revoke still holds.
    assert p["consents"] == {"analytics": {"revoke": revoke}, "marketing": {"revoke": None}}
    now = iso(p["metadata"]["time"]["update"])  # business times follow the injected clock
    assert 30.9 < (now - real_now()).total_seconds() / DAY < 31.1, p["metadata"]["time"]
    assert iso(revoke) < now
    last = [e for e in server.events_of(pid) if e["type"] == "purchase"]
    assert len(last) == 3
    moved = [e for e in last if (iso(e["metadata"]["time"]["insert"]) - real_now()).days >= 30]
    assert len(moved) == 1, [e["metadata"]["time"] for e in last]
    assert moved[0]["metadata"]["processed_by"]["rules"] == ["needs marketing"], moved[0]

    # all=true grants afresh what is no longer held (from the moved clock) and leaves the rest.
    held = consent(server, src, sid, pid, query="?all=true")
    assert 60.9 < days_from_real_now(held["analytics"]["revoke"]) < 61.1, held
    assert held["marketing"] == {"revoke": None}
    assert purchase(server, src, sid, pid)["response"] == {"analytics": {"ran": True},
                                                           "marketing": {"ran": True}}

    # Back on the real clock the renewed grant holds too (its revoke time is further ahead).
    server.restart(env={"CDPD_CLOCK_OFFSET": None})
    assert "CDPD_CLOCK_OFFSET" not in server.stderr_text()
    assert purchase(server, src, sid, pid)["response"] == {"analytics": {"ran": True},
                                                           "marketing": {"ran": True}}


def test_consent_holds_just_before_its_revoke_time(server):
    """29 days on, given in plain seconds, and an hour back: a 30-day grant still holds."""
    src = server.create_source()
    setup_consent_rules(server, src)
    sid = new_id("s")
    pid = server.track(payload(src, sid)).body["profile"]["id"]
    consent(server, src, sid, pid, {"analytics": True})
    server.restart(env={"CDPD_CLOCK_OFFSET": "%d" % (29 * DAY)})
    assert purchase(server, src, sid, pid)["response"] == {"analytics": {"ran": True}}
    server.restart(env={"CDPD_CLOCK_OFFSET": "-1h"})
    assert purchase(server, src, sid, pid)["response"] == {"analytics": {"ran": True}}


@pytest.mark.parametrize("bad", ["soon", "31 days", "1.5h", "31x", "-"])
def test_bad_clock_offset_refuses_to_start(server_factory, bad):
    s = server_factory.new(env={"CDPD_CLOCK_OFFSET": bad}, start=False, name="bad-offset")
    with pytest.raises(Exception) as e:
        s.start()
    assert "CDPD_CLOCK_OFFSET" in str(e.value), e.value
