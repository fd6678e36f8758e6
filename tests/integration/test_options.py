"""Payload options (tracardi-api.md 1.2), per-event options.save, ?profile_less=true,
options.debugger and --system-events no."""
import pytest

from conftest import SYSTEM_EVENT_TYPES, is_uuid, new_id, page_view_event, payload


def test_save_session_false(server, source):
    sid, eid = new_id("s"), new_id("e")
    r = server.track(payload(source, sid, events=[page_view_event(eid=eid)],
                             options={"saveSession": False}))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    assert server.session(sid).status == 404
    assert server.profile(pid).status == 200
    ev = server.event(eid)
    assert ev.status == 200, ev
    assert ev.body["session"] is None, ev.body["session"]
    for e in server.events_of(pid):
        assert e["session"] is None, e
        assert e["type"] != "session-opened", e


def test_save_events_false(server, source):
    sid, eid = new_id("s"), new_id("e")
    before = server.counts()
    r = server.track(payload(source, sid, events=[page_view_event(eid=eid)],
                             options={"saveEvents": False}))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    assert server.events_of(pid) == []
    assert server.event(eid).status == 404
    assert server.profile(pid).status == 200
    assert server.session(sid).status == 200
    after = server.counts()
    assert after["event"] == before["event"], (before, after)


def test_save_profile_false(server, source):
    sid, eid = new_id("s"), new_id("e")
    before = server.counts()
    r = server.track(payload(source, sid, events=[page_view_event(eid=eid)],
                             options={"saveProfile": False}))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    assert server.profile(pid).status == 404
    ev = server.event(eid)
    assert ev.status == 200, ev
    assert ev.body["profile"] is None, ev.body["profile"]
    assert server.counts()["profile"] == before["profile"]


def test_event_option_save_false_skips_only_that_event(server, source):
    e_skip, e_keep = new_id("skip"), new_id("keep")
    events = [page_view_event(eid=e_skip, options={"save": False}),
              page_view_event(eid=e_keep, url="https://shop.example.com/two")]
    r = server.track(payload(source, new_id("s"), events=events))
    assert r.status == 200, r
    assert server.event(e_skip).status == 404
    assert server.event(e_keep).status == 200
    pvs = [e for e in server.events_of(r.body["profile"]["id"]) if e["type"] == "page-view"]
    assert [e["id"] for e in pvs] == [e_keep]


def test_profile_less(server, source):
    sid, eid = new_id("s"), new_id("e")
    before = server.counts()
    r = server.track(payload(source, sid, events=[page_view_event(eid=eid)]),
                     query="?profile_less=true")
    assert r.status == 200, r
    assert r.body["profile"]["id"] is None, r.body
    ev = server.event(eid)
    assert ev.status == 200, ev
    assert ev.body["profile"] is None
    assert ev.body["metadata"]["profile_less"] is True
    after = server.counts()
    assert after["profile"] == before["profile"], (before, after)
    new_events = server.stored_events(lambda d: d["id"] == eid or (
        d["type"] in SYSTEM_EVENT_TYPES and (d.get("session") or {}).get("id") == sid))
    assert eid in [e["id"] for e in new_events]
    assert "profile-created" not in [e["type"] for e in new_events]
    for e in new_events:
        assert e["profile"] is None, e


def test_profile_less_with_profile_id_in_payload_still_creates_nothing(server, source):
    r0 = server.track(payload(source, new_id("s")))
    pid = r0.body["profile"]["id"]
    eid = new_id("e")
    before = server.counts()
    r = server.track(payload(source, new_id("s"), profile_id=pid,
                             events=[page_view_event(eid=eid)]), query="?profile_less=true")
    assert r.status == 200, r
    assert r.body["profile"]["id"] is None
    assert server.event(eid).body["profile"] is None
    assert server.counts()["profile"] == before["profile"]


def test_debugger_returns_event_ids(server, source):
    eid = new_id("e")
    r = server.track(payload(source, new_id("s"), events=[page_view_event(eid=eid)],
                             options={"debugger": True}))
    assert r.status == 200, r
    ids = r.body["events"]
    assert isinstance(ids, list) and eid in ids, r.body
    stored = {e["id"] for e in server.events_of(r.body["profile"]["id"])}
    assert set(ids) == stored, (ids, stored)


def test_without_debugger_events_is_empty(server, source):
    r = server.track(payload(source, new_id("s"), options={"debugger": False}))
    assert r.status == 200, r
    assert r.body["events"] == []


def test_non_bool_option_values_are_ignored(server, source):
    """is_on(key, default): a non-bool value leaves the default (here: save the session)."""
    sid = new_id("s")
    r = server.track(payload(source, sid, options={"saveSession": "no", "saveEvents": 0}))
    assert r.status == 200, r
    assert server.session(sid).status == 200
    assert len(server.events_of(r.body["profile"]["id"])) == 4


@pytest.fixture(scope="module")
def quiet_server(module_server_factory):
    return module_server_factory.new(args=["--system-events", "no"], name="no-sysevents")


def test_system_events_can_be_switched_off(quiet_server):
    src = quiet_server.create_source()
    sid = new_id("s")
    r = quiet_server.track(payload(src, sid))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    types = [e["type"] for e in quiet_server.events_of(pid)]
    assert types == ["page-view"], types
    assert quiet_server.profile(pid).status == 200
    assert quiet_server.session(sid).status == 200
    assert not quiet_server.stored_events(lambda d: d["type"] in SYSTEM_EVENT_TYPES)


def test_system_events_switched_off_by_environment(server_factory):
    s = server_factory.new(env={"CDPD_SYSTEM_EVENTS": "no"}, name="env-no-sysevents")
    src = s.create_source()
    r = s.track(payload(src, new_id("s")))
    assert r.status == 200, r
    assert [e["type"] for e in s.events_of(r.body["profile"]["id"])] == ["page-view"]
    assert is_uuid(r.body["profile"]["id"])


def test_transitional_source_stores_no_session_and_no_events(server):
    src = server.create_source(transitional=True)
    sid, eid = new_id("s"), new_id("e")
    r = server.track(payload(src, sid, events=[page_view_event(eid=eid)]))
    assert r.status == 200, r
    assert server.session(sid).status == 404
    assert server.event(eid).status == 404
    assert server.events_from_source(src) == []
