"""A person's rights over what is held about them: DELETE /profile/{id} erases the profile, all
its ids, sessions and events (and their index entries) and leaves an audit record without
personal data; GET /profile/{id}/export hands everything over as one document."""
import hashlib
import json
import time
import urllib.parse

import pytest

from conftest import new_id, page_view_event, payload


# The tables erasure covers, and the columns that may name a profile.
ID_COLUMNS = {"profile": ("id",), "profile_id": ("alias", "profile_id"),
              "session": ("profile_id",), "event": ("profile_id",),
              "event_profile": ("profile_id",)}


def q(s):
    return urllib.parse.quote(s, safe="")


def identify_flow(fid):
    """Copies event@properties.ids and .email into the profile: the way a profile gets a second
    id (and personal data) through /track."""
    def node(nid, cls, init, start=False):
        return {"id": nid, "type": "flowNode", "position": {"x": 0, "y": 0},
                "data": {"start": start, "spec": {"module": None, "className": cls,
                                                  "init": init},
                         "metadata": {"name": nid}}}
    nodes = [node("start", "StartAction", {"event_types": []}, start=True),
             node("copy", "CopyTraitAction",
                  {"traits": {"set": {"profile@ids": "event@properties.ids",
                                      "profile@traits.email": "event@properties.email"}}})]
    edges = [{"id": "e1", "source": "start", "sourceHandle": "payload", "target": "copy",
              "targetHandle": "payload", "type": "default", "data": {"name": ""}}]
    return {"id": fid, "name": fid, "description": "", "type": "collection",
            "flowGraph": {"nodes": nodes, "edges": edges}}


@pytest.fixture(scope="module")
def identify_source(server):
    """A source whose "identify" events run identify_flow."""
    src = server.create_source()
    fid = new_id("identify")
    r = server.api_post("/flow/production", identify_flow(fid))
    assert r.status == 200, r
    r = server.api_post("/rule", {"id": new_id("rule"), "name": "identify", "enabled": True,
                                  "event_type": "identify", "flow": {"id": fid, "name": fid},
                                  "source": {"id": src, "name": src}})
    assert r.status == 200, r
    return src


def make_person(server, src, n_events=3):
    """A profile with two sessions, an alias and an e-mail in its traits. Returns
    (pid, alias, email, [session ids], [event ids])."""
    s1, s2 = new_id("s"), new_id("s")
    eids = [new_id("e") for _ in range(2 * n_events)]
    r = server.track(payload(src, s1, events=[page_view_event(eid=e) for e in eids[:n_events]]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    alias, email = new_id("alias"), "%s@example.com" % new_id("person")
    ident = {"type": "identify", "id": new_id("e"),
             "properties": {"ids": [pid, alias], "email": email}}
    r = server.track(payload(src, s2, profile_id=pid,
                             events=[page_view_event(eid=e) for e in eids[n_events:]] + [ident]))
    assert r.status == 200, r
    assert r.body["profile"]["id"] == pid
    eids.append(ident["id"])
    p = server.profile(alias)
    assert p.status == 200 and p.body["id"] == pid, p
    assert p.body["traits"]["email"] == email
    return pid, alias, email, [s1, s2], eids


def rows_naming(server, ids):
    """(table, column, value) of every row that names one of ids."""
    found = []
    conn = server.db()
    try:
        for table, cols in ID_COLUMNS.items():
            for col in cols:
                for i in ids:
                    n = conn.execute("SELECT count(*) FROM %s WHERE %s = ?" % (table, col),
                                     (i,)).fetchone()[0]
                    if n:
                        found.append((table, col, i))
    finally:
        conn.close()
    return found


def text_containing(server, needles):
    """(table, column) of every text value anywhere in the database that contains a needle."""
    found = []
    conn = server.db()
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for t in tables:
            cols = [r[1] for r in conn.execute("PRAGMA table_info(%s)" % t)]
            for c in cols:
                for needle in needles:
                    n = conn.execute(
                        "SELECT count(*) FROM %s WHERE typeof(%s) = 'text' AND instr(%s, ?)"
                        % (t, c, c), (needle,)).fetchone()[0]
                    if n:
                        found.append((t, c, needle))
    finally:
        conn.close()
    return found


def test_erase_by_secondary_id(server, identify_source):
    src = identify_source
    pid, alias, email, sids, eids = make_person(server, src)
    other, _, other_email, other_sids, other_eids = make_person(server, src)
    events = server.events_of(pid)
    assert {e["id"] for e in events} >= set(eids)
    other_before = server.api_get("/profile/%s/export" % q(other)).body

    r = server.api_delete("/profile/%s" % q(alias))
    assert r.status == 200, r
    assert r.body["deleted"] == {"profiles": 1, "ids": 2, "sessions": 2,
                                 "events": len(events)}, r.body
    audit_id = r.body["erasure"]

    for i in (pid, alias):
        assert server.profile(i).status == 404
        assert server.api_get("/events/profile/%s" % q(i)).body == {"total": 0, "result": []}
        assert server.api_get("/profile/%s/export" % q(i)).status == 404
    for sid in sids:
        assert server.session(sid).status == 404
    for e in events:
        assert server.event(e["id"]).status == 404
    assert rows_naming(server, [pid, alias]) == []
    # Nothing personal is left in any table: ids, e-mail, session and event ids.
    assert text_containing(server, [pid, alias, email] + sids + eids) == []

    # The audit record holds counts and a hash, not the id.
    conn = server.db()
    try:
        rows = conn.execute("SELECT id, doc FROM entity WHERE kind = 'erasure' AND id = ?",
                            (audit_id,)).fetchall()
    finally:
        conn.close()
    assert len(rows) == 1
    audit = json.loads(rows[0][1])
    assert audit["id"] == audit_id
    assert audit["profile_id_hash"] == hashlib.sha256(pid.encode()).hexdigest()
    assert (audit["ids"], audit["sessions"], audit["events"]) == (2, 2, len(events))
    assert audit["time"] and audit["by"]
    assert pid not in rows[0][1] and alias not in rows[0][1] and email not in rows[0][1]

    # The other person is untouched, and the collector goes on with them.
    assert server.api_get("/profile/%s/export" % q(other)).body["events"] == \
        other_before["events"]
    assert server.profile(other).body["traits"]["email"] == other_email
    r = server.track(payload(src, other_sids[1], profile_id=other))
    assert r.status == 200 and r.body["profile"]["id"] == other, r

    assert server.api_delete("/profile/%s" % q(pid)).status == 404


def indexed_upto(server):
    conn = server.db()
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'events-indexed'").fetchone()
        last = conn.execute("SELECT max(seq) FROM event").fetchone()[0]
    finally:
        conn.close()
    return int(row[0]) if row else 0, last


def test_erased_events_stay_gone_after_indexing(server, identify_source):
    """The per-profile event index is built in bulk after the writes; erasure right after
    tracking must leave nothing for it to bring back."""
    pid, alias, _, _, _ = make_person(server, identify_source, n_events=20)
    _, last = indexed_upto(server)
    assert server.api_delete("/profile/%s" % q(pid)).status == 200
    # More traffic makes the collector run its upkeep (at most every 0.1 s, between batches)
    # until the index has gone past every erased event.
    other_src = server.create_source()
    for _ in range(200):
        assert server.track(payload(other_src, new_id("s"))).status == 200
        if indexed_upto(server)[0] >= last:
            break
        time.sleep(0.05)
    assert indexed_upto(server)[0] >= last
    assert rows_naming(server, [pid, alias]) == []
    assert server.api_get("/events/profile/%s" % q(pid)).body["total"] == 0


def test_export_holds_everything(server, identify_source):
    pid, alias, email, sids, eids = make_person(server, identify_source)
    r = server.api_get("/profile/%s/export" % q(alias))
    assert r.status == 200, r
    x = r.body
    assert x["profile"]["id"] == pid and x["profile"]["traits"]["email"] == email
    assert sorted(x["ids"]) == sorted([pid, alias])
    assert sorted(s["id"] for s in x["sessions"]) == sorted(sids)
    exported = {e["id"] for e in x["events"]}
    assert exported >= set(eids)
    assert exported == {e["id"] for e in server.events_of(pid)}
    assert x["truncated"] is False
    assert x["exported"]


def test_unknown_profile_is_404(server):
    assert server.api_delete("/profile/%s" % new_id("nosuch")).status == 404
    assert server.api_get("/profile/%s/export" % new_id("nosuch")).status == 404


def test_erasure_and_export_need_an_admin(server, source):
    r = server.track(payload(source, new_id("s")))
    pid = r.body["profile"]["id"]
    for method, path in (("DELETE", "/profile/%s" % pid), ("GET", "/profile/%s/export" % pid)):
        assert server.request(method, path, admin=True).status == 401
        assert server.request(method, path, admin=True, token="not-a-token").status == 401
    email, password = "%s@example.com" % new_id("marketer"), "marketer-password-1"
    server.add_user(email, password, "marketer")
    token = server.login(email, password)
    assert server.api_delete("/profile/%s" % pid, token=token).status == 403
    assert server.api_get("/profile/%s/export" % pid, token=token).status == 403
    assert server.profile(pid).status == 200
