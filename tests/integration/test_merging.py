"""Identity resolution: profiles of one person merged by hashed contact ids as soon as they
share one, by Merge profiles nodes' keys, and by hand; every merge recorded and undoable, with
events and sessions following the profiles both ways."""
import json
import sqlite3
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import CDPD_BIN, new_id, payload
from test_flows import add_rule, deploy, edge, flow, node, start_node


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def identify(server, src, sid, pid=None, **props):
    r = server.track(payload(src, sid, pid, events=[
        {"type": "identification", "properties": props}]))
    assert r.status == 200, r
    return r.body["profile"]["id"]


def visit(server, src, pages=1, pid=None):
    """A new session of `pages` page views; returns (profile id, session id)."""
    sid = new_id("s")
    for i in range(pages):
        r = server.track(payload(src, sid, pid, events=[
            {"type": "page-view", "properties": {"n": i}}]))
        assert r.status == 200, r
        pid = r.body["profile"]["id"]
    return pid, sid


def events_of(server, pid):
    r = server.api_get("/events/profile/%s?limit=1000" % urllib.parse.quote(pid, safe=""))
    assert r.status == 200, r
    return r.body


def test_shared_email_merges_at_once_and_everything_follows(server):
    src = server.create_source()
    a, sa = visit(server, src, pages=3)
    identify(server, src, sa, a, email="ann@example.com", firstname="Ann")
    b, sb = visit(server, src, pages=2)
    assert b != a
    # b identifies with the same address (other case and spaces): it is merged into b at once
    got = identify(server, src, sb, b, email="  ANN@example.com ", lastname="Lee")
    assert got == b
    p = server.profile(b).body
    assert p["id"] == b and a in p["ids"] and b in p["ids"]
    assert any(i.startswith("emm-") for i in p["ids"])
    assert p["data"]["pii"]["firstname"] == "Ann" and p["data"]["pii"]["lastname"] == "Lee"
    assert p["data"]["anonymous"] is False
    assert p["metadata"]["time"]["visit"]["count"] == 2  # one per session, not doubled (#850)
    # the absorbed id resolves to the survivor, and only the survivor is a profile
    assert server.profile(a).body["id"] == b
    # events and sessions were re-pointed
    ev = events_of(server, b)
    assert ev["total"] == (3 + 1 + 3) + (2 + 1 + 3)  # page views, identification, system events
    assert all(e["profile"]["id"] == b for e in ev["result"])
    assert server.session(sa).body["profile"]["id"] == b
    # the old cookie keeps working: its next event lands on the survivor
    r = server.track(payload(src, sa, a, events=[{"type": "page-view"}]))
    assert r.body["profile"]["id"] == b
    # the merge was recorded with its cause
    merges = server.api_get("/merges?profile=%s" % a).body
    assert merges["total"] == 1
    m = merges["result"][0]
    assert m["survivor"]["id"] == b and [x["id"] for x in m["absorbed"]] == [a]
    assert m["cause"][0]["type"] == "shared-id" and m["undone"] is None
    assert m["absorbed"][0]["events"] == 3 + 1 + 3
    assert "profile" not in m["absorbed"][0]  # lists leave the snapshots out


def test_new_visitor_who_identifies_becomes_the_known_person(server):
    src = server.create_source()
    known, _ = visit(server, src, pages=2)
    identify(server, src, new_id("s"), known, email="bo@example.com")
    # a brand-new browser: the first request identifies; the known profile survives
    got = identify(server, src, new_id("s"), None, email="bo@example.com")
    assert got == known
    p = server.profile(known).body
    assert len([i for i in p["ids"] if not i.startswith(("emm-", "emb-", "emp-"))]) == 2


def merge_flow(fid, keys):
    return flow(fid, [start_node(), node("m1", "MergeProfilesAction", {"mergeBy": keys[:1]}),
                      node("m2", "MergeProfilesAction", {"mergeBy": keys})],
                [edge("start", "m1"), edge("m1", "m2")])


def test_merge_profiles_nodes_merge_by_all_their_keys(server):
    src = server.create_source()
    fid = new_id("flow")
    deploy(server, merge_flow(fid, ["profile@traits.customer", "profile@traits.region"]))
    add_rule(server, "login", fid)
    mapping = {"name": "login", "event_type": "login", "event_to_profile": [
        {"event": "properties.customer", "op": 0, "profile": "traits.customer"},
        {"event": "properties.region", "op": 0, "profile": "traits.region"}]}
    assert server.api_post("/event-to-profile", mapping).status == 200

    def login(customer, region):
        r = server.track(payload(src, new_id("s"), events=[
            {"type": "login", "properties": {"customer": customer, "region": region}}]))
        assert r.status == 200, r
        return r.body["profile"]["id"]

    p1 = login("c-1", "eu")
    p2 = login("c-1", "us")  # the second node's keys differ: not one person
    assert p2 != p1
    p3 = login("c-1", "eu")  # equal on every key of both nodes: merged (#875: all nodes count)
    doc = server.profile(p3).body
    assert p1 in doc["ids"] and p2 not in doc["ids"]
    m = server.api_get("/merges?profile=%s" % p1).body["result"][0]
    assert m["cause"][0]["type"] == "merge-profiles"
    assert m["cause"][0]["keys"] == ["profile@traits.customer", "profile@traits.region"]
    assert m["cause"][0]["rules"]


def test_merge_by_hand_and_undo_restore_everything(server):
    src = server.create_source()
    a, sa = visit(server, src, pages=2)
    server.track(payload(src, sa, a, events=[{"type": "identification", "properties": {
        "firstname": "Cy", "email": "cy@a.example"}}]))
    b, sb = visit(server, src, pages=3)
    server.track(payload(src, sb, b, events=[{"type": "identification", "properties": {
        "firstname": "Cyrus", "phone": "+1 555"}}]))
    before_a, before_b = server.profile(a).body, server.profile(b).body
    r = server.api_post("/profiles/merge", {"ids": [a, b], "survivor": a})
    assert r.status == 200, r
    mid = r.body["id"]
    merged = r.body["profile"]
    assert merged["id"] == a and b in merged["ids"]
    assert merged["data"]["pii"]["firstname"] == "Cy"
    assert merged["aux"]["conflicts"]["data.pii.firstname"] == ["Cy", "Cyrus"]
    assert merged["data"]["contact"]["phone"]["main"] == "+1 555"
    assert events_of(server, b)["total"] == events_of(server, a)["total"]
    full = server.api_get("/merge/%s" % mid).body
    assert full["absorbed"][0]["profile"]["id"] == b  # the snapshot an undo restores
    assert full["survivor"]["before"]["id"] == a

    r = server.api_post("/merge/%s/undo" % mid)
    assert r.status == 200, r
    assert r.body["undone"]
    pa, pb = server.profile(a).body, server.profile(b).body
    assert pb["id"] == b and b not in pa["ids"]
    for k in ("data", "traits", "stats", "ids"):
        assert pa[k] == before_a[k] and pb[k] == before_b[k]
    ea, eb = events_of(server, a), events_of(server, b)
    assert all(e["profile"]["id"] == a for e in ea["result"])
    assert all(e["profile"]["id"] == b for e in eb["result"])
    assert eb["total"] == 3 + 1 + 3 and ea["total"] == 2 + 1 + 3
    assert server.session(sb).body["profile"]["id"] == b
    # an undone merge cannot be undone twice
    r = server.api_post("/merge/%s/undo" % mid)
    assert r.status == 409 and "undone already" in r.body["detail"]


def test_undo_refuses_while_a_later_merge_builds_on_it(server):
    src = server.create_source()
    a, _ = visit(server, src)
    b, _ = visit(server, src)
    c, _ = visit(server, src)
    m1 = server.api_post("/profiles/merge", {"ids": [a, b]}).body["id"]
    m2 = server.api_post("/profiles/merge", {"ids": [c, a]}).body["id"]
    r = server.api_post("/merge/%s/undo" % m1)
    assert r.status == 409 and m2 in r.body["detail"]
    assert server.api_post("/merge/%s/undo" % m2).status == 200
    assert server.profile(a).body["id"] == a and server.profile(b).body["id"] == a
    assert server.api_post("/merge/%s/undo" % m1).status == 200
    assert [server.profile(x).body["id"] for x in (a, b, c)] == [a, b, c]


def test_manual_merge_errors(server):
    src = server.create_source()
    a, _ = visit(server, src)
    for body, status, needle in [
            ({}, 422, "ids"), ({"ids": [a]}, 422, "ids"), ({"ids": [a, a]}, 422, "nothing"),
            ({"ids": [a, "nope"]}, 404, "nope"), ({"ids": [a, 5]}, 422, "ids[1]"),
            ({"ids": [a, a], "survivor": 3}, 422, "survivor")]:
        r = server.api_post("/profiles/merge", body)
        assert r.status == status and needle in r.body["detail"], (body, r)
    assert server.api_get("/merge/nope").status == 404
    assert server.api_post("/merge/nope/undo").status == 404
    assert server.api_get("/merges").body["total"] == 0


def test_concurrent_requests_merging_the_same_people_end_in_one_profile(server):
    src = server.create_source()
    people = [visit(server, src, pages=2) for _ in range(6)]
    results, errors = [], []

    def go(pid, sid):
        try:
            results.append(identify(server, src, sid, pid, email="same@example.com"))
        except AssertionError as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=go, args=p) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    survivors = {server.profile(pid).body["id"] for pid, _ in people}
    assert len(survivors) == 1
    s = survivors.pop()
    p = server.profile(s).body
    assert all(pid in p["ids"] for pid, _ in people)
    assert p["metadata"]["time"]["visit"]["count"] == 6
    assert events_of(server, s)["total"] == 6 * (2 + 1 + 3)  # nothing lost


def test_erasure_takes_merge_records_too(server):
    src = server.create_source()
    a, _ = visit(server, src)
    b, _ = visit(server, src)
    mid = server.api_post("/profiles/merge", {"ids": [a, b]}).body["id"]
    exported = server.api_get("/profile/%s/export" % b).body
    assert [m["id"] for m in exported["merges"]] == [mid]
    assert exported["merges"][0]["absorbed"][0]["profile"]["id"] == b
    assert server.api_delete("/profile/%s" % b).status == 200
    assert server.api_get("/merge/%s" % mid).status == 404
    assert server.profile(a).status == 404 and server.profile(b).status == 404


def test_identification_point_finds_the_known_profile(server):
    src = server.create_source()
    known, _ = visit(server, src, pages=2)
    identify(server, src, new_id("s"), known, email="di@example.com", firstname="Di")
    point = {"name": "login by email", "event_type": {"id": "login", "name": "Login"},
             "source": {"id": "", "name": "any"}, "enabled": True,
             "fields": [{"profile_trait": {"value": "data.contact.email.main", "ref": True},
                         "event_property": {"value": "properties.email", "ref": True}}]}
    r = server.api_post("/identification/point", point)
    assert r.status == 200, r
    # another browser logs in: its new profile is merged into the known one, which survives
    r = server.track(payload(src, new_id("s"), events=[
        {"type": "login", "properties": {"email": "di@example.com"}}]))
    assert r.status == 200, r
    assert r.body["profile"]["id"] == known
    # an existing anonymous profile that logs in is merged too (it survives: it is the request's)
    anon, sid = visit(server, src, pages=3)
    r = server.track(payload(src, sid, anon, events=[
        {"type": "login", "properties": {"email": "di@example.com"}}]))
    assert r.body["profile"]["id"] == anon
    p = server.profile(anon).body
    assert known in p["ids"] and p["data"]["pii"]["firstname"] == "Di"
    m = server.api_get("/merges?profile=%s" % anon).body["result"][0]
    assert m["cause"][0]["type"] == "identification-point"
    assert m["cause"][0]["keys"] == {"data.contact.email.main": "di@example.com"}
    # no match, or a login without the field: nothing merges
    r = server.track(payload(src, new_id("s"), events=[
        {"type": "login", "properties": {"email": "nobody@example.com"}}]))
    assert r.body["profile"]["id"] not in (known, anon)


def test_profile_held_by_a_waiting_request_is_merged_when_free(server):
    """A's flow sleeps while B comes to share A's email: A is not touched under the waiting
    request (whose writes would be lost), B is marked merge_pending, and B's next event merges
    them; nothing either request wrote is lost."""
    src = server.create_source()
    nodes = [start_node(), node("zz", "SleepAction", {"wait": 1}, name="Nap"),
             node("copy", "CopyTraitAction", {"traits": {"set": {"profile@traits.woke": "`true`"}}})]
    deploy(server, flow("nap", nodes, [edge("start", "zz"), edge("zz", "copy")]))
    add_rule(server, "nap", "nap", src)
    a, sa = visit(server, src)
    identify(server, src, sa, a, email="eve@example.com")
    result = {}
    t = threading.Thread(target=lambda: result.update(r=server.track(payload(
        src, sa, a, events=[{"type": "nap", "properties": {}}]))))
    t.start()
    time.sleep(0.3)
    b, sb = visit(server, src)
    r = server.track(payload(src, sb, b, events=[
        {"type": "identification", "properties": {"email": "eve@example.com", "firstname": "Eve"}}]))
    assert r.status == 200 and r.body["profile"]["id"] == b, r
    assert any("merged later" in w for w in r.body["warnings"]), r.body
    assert server.profile(b).body["metadata"]["system"]["merge_pending"] is True
    t.join()
    assert result["r"].status == 200, result["r"]
    assert server.profile(a).body["traits"]["woke"] is True
    r = server.track(payload(src, sb, b, events=[{"type": "page-view"}]))
    assert r.body["profile"]["id"] == b
    p = server.profile(b).body
    assert a in p["ids"] and p["traits"]["woke"] is True and p["data"]["pii"]["firstname"] == "Eve"
    assert p["metadata"]["system"]["merge_pending"] is False
    assert server.profile(a).body["id"] == b


def test_job_merge_sweeps_existing_data(server):
    """Profiles stored before hashed ids existed (as imported data would be): `cdpd job merge`
    gives them their ids and merges those of one person, the oldest surviving."""
    src = server.create_source()
    old, _ = visit(server, src, pages=2)
    identify(server, src, new_id("s"), old, email="old@example.com")
    server.stop()
    conn = sqlite3.connect(str(server.db_path))  # forget the hashed ids, as data from before
    conn.execute("DELETE FROM profile_id WHERE alias LIKE 'emm-%'")
    conn.execute("UPDATE profile SET doc = json_set(doc, '$.ids', json_array(id))")
    conn.commit()
    conn.close()
    server.start()
    new, _ = visit(server, src, pages=1)
    identify(server, src, new_id("s"), new, email="OLD@example.com")
    other, _ = visit(server, src, pages=1)
    identify(server, src, new_id("s"), other, email="other@example.com")
    assert server.profile(new).body["id"] == new  # not merged: the old one had no hashed id
    server.stop()
    out = subprocess.run([CDPD_BIN, "job", "merge", "--data", str(server.data_dir)],
                         env=server._env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["merges"] == 1 and summary["absorbed"] == 1 and summary["profiles"] >= 3
    server.start()
    assert server.profile(new).body["id"] == old
    p = server.profile(old).body
    assert new in p["ids"] and any(i.startswith("emm-") for i in p["ids"])
    assert server.profile(other).body["id"] == other
    m = server.api_get("/merges?profile=%s" % old).body["result"][0]
    assert m["cause"][0]["type"] == "job" and m["survivor"]["id"] == old
    # a second sweep finds nothing more to do
    out = subprocess.run([CDPD_BIN, "job", "merge", "--data", str(server.data_dir)],
                         env=server._env(), capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout)["merges"] == 0
