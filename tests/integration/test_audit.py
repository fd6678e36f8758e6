"""The audit log of management changes (docs/api.md "Audit log"): every successful change
recorded with who, what and when; config entities and users with their documents before and
after (never password hashes, tokens or secrets); a person's data only as the route and hashed
ids, so an erasure leaves nothing of them; GET /audit with its filters."""
import hashlib
import json
import subprocess
import time
import urllib.parse

import pytest

from conftest import ADMIN_EMAIL, CDPD_BIN, new_id, payload
from test_flows import flow, start_node
from test_users import make_user


@pytest.fixture(scope="module")
def server(module_server_factory):
    return module_server_factory.new(name="audit")


def audit(server, token=None, **query):
    q = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    r = server.api_get("/audit" + ("?" + q if q else ""), token=token)
    assert r.status == 200, r
    assert isinstance(r.body["total"], int) and isinstance(r.body["result"], list)
    return r.body


def newest(server, **query):
    return audit(server, limit=1, **query)["result"][0]


def me(server):
    return server.api_get("/user-account").body


def test_entity_create_update_delete_with_before_and_after(server):
    sid = new_id("src")
    doc = {"id": sid, "name": "First", "type": ["rest"], "channel": "Web"}
    assert server.api_post("/event-source", doc).status == 200
    rec = newest(server)
    admin = me(server)
    assert rec["user"] == {"id": admin["id"], "email": ADMIN_EMAIL}
    assert rec["method"] == "POST" and rec["path"] == "/event-source" and rec["status"] == 200
    assert rec["entity"] == {"kind": "event-source", "id": sid}
    assert rec["before"] is None and rec["after"]["name"] == "First"
    assert rec["time"].endswith("+00:00") and rec["id"]

    doc["name"] = "Second"
    assert server.api_post("/event-source", doc).status == 200
    rec = newest(server)
    assert rec["before"]["name"] == "First" and rec["after"]["name"] == "Second"

    assert server.api_delete("/event-source/%s" % sid).status == 200
    rec = newest(server)
    assert rec["method"] == "DELETE" and rec["path"] == "/event-source/%s" % sid
    assert rec["entity"] == {"kind": "event-source", "id": sid}
    assert rec["before"]["name"] == "Second" and rec["after"] is None


def test_reads_and_failures_are_not_recorded(server):
    total = audit(server)["total"]
    server.api_get("/event-sources")
    server.api_get("/user-account")
    assert server.api_post("/event-source", {"name": 5}).status == 422
    assert server.api_delete("/event-source/%s" % new_id()).status == 404
    assert server.api_post("/user", {}).status == 422
    # POSTs that only read are not changes
    r = server.api_post("/profile/select", {"where": "", "limit": 1})
    assert r.status == 200, r
    fid = new_id("flow")
    r = server.api_post("/flow/debug", {"flow": flow(fid, [start_node()], []),
                                        "event": {"type": "page-view", "properties": {}}})
    assert r.status == 200, r
    assert audit(server)["total"] == total


def test_the_guard_records_method_path_and_entity(server):
    """The guard records every change with the route's entity, whatever the handler attaches."""
    fid = new_id("flow")
    r = server.api_post("/flow/draft", flow(fid, [start_node()], []))
    assert r.status == 200, r
    rec = newest(server)
    assert rec["method"] == "POST" and rec["path"] == "/flow/draft" and rec["status"] == 200
    assert rec["entity"]["kind"] == "flow"
    assert server.api_delete("/flow/%s" % fid).status == 200
    rec = newest(server)
    assert rec["path"] == "/flow/%s" % fid and rec["entity"] == {"kind": "flow", "id": fid}


def test_user_changes_without_hashes(server):
    password = "first-pass-%s" % new_id()
    doc, email, _ = make_user(server, ["marketer"], password=password)
    uid = doc["id"]
    rec = newest(server, kind="user")
    assert rec["path"] == "/user" and rec["entity"] == {"kind": "user", "id": uid}
    assert rec["before"] is None and rec["after"]["email"] == email
    assert rec["after"]["roles"] == ["marketer"]

    assert server.api_post("/user/%s" % uid, {"roles": ["developer"]}).status == 200
    rec = newest(server, kind="user")
    assert rec["before"]["roles"] == ["marketer"] and rec["after"]["roles"] == ["developer"]
    assert "password_changed" not in rec

    assert server.api_post("/user/%s" % uid, {"password": "second-pass-1"}).status == 200
    rec = newest(server, kind="user")
    assert rec["password_changed"] is True

    token = server.login(email, "second-pass-1")
    r = server.api_post("/user-account", {"password": "third-pass-1",
                                          "old_password": "second-pass-1"}, token=token)
    assert r.status == 200, r
    rec = newest(server, kind="user")
    assert rec["user"]["id"] == uid and rec["path"] == "/user-account"
    assert rec["password_changed"] is True

    assert server.api_delete("/user/%s" % uid).status == 200
    rec = newest(server, kind="user")
    assert rec["method"] == "DELETE" and rec["before"]["id"] == uid and rec["after"] is None

    text = json.dumps(audit(server, limit=1000))
    for secret in ("$argon2", "pwhash", password, "second-pass-1", "third-pass-1", token):
        assert secret not in text, secret
    conn = server.db()
    try:
        stored = " ".join(r[0] for r in conn.execute("SELECT doc FROM audit"))
    finally:
        conn.close()
    assert "$argon2" not in stored and password not in stored


def test_secrets_in_documents_are_redacted(server):
    sid = new_id("setting")
    r = server.api_post("/setting", {"id": sid, "name": "Mail", "type": "smtp", "config": {
        "host": "h.example", "api_token": "s3cr3t", "password": "pw-%s" % sid}})
    assert r.status == 200, r
    rec = newest(server, kind="setting")
    assert rec["entity"] == {"kind": "setting", "id": sid}
    assert rec["after"]["config"] == {"host": "h.example", "api_token": "[redacted]",
                                      "password": "[redacted]"}
    text = json.dumps(audit(server, limit=1000))
    assert "s3cr3t" not in text and "pw-%s" % sid not in text
    # the setting itself is kept as given
    assert server.api_get("/setting/%s" % sid).body["config"]["api_token"] == "s3cr3t"


def test_preferences_are_recorded_by_key_only(server):
    r = server.api_post("/user/preference/recent", {"profiles": ["p-%s" % new_id()]})
    assert r.status == 200, r
    rec = newest(server)
    assert rec["path"] == "/user/preference/recent"
    assert rec["entity"] == {"kind": "user-preference", "id": "recent"}
    assert "before" not in rec and "after" not in rec
    assert server.api_delete("/user/preference/recent").status == 200
    assert newest(server)["method"] == "DELETE"
    r = server.api_post("/user-account", {"preference": {"x": "private"}})
    assert r.status == 200, r
    rec = newest(server)
    assert rec["entity"]["kind"] == "user" and "preference" not in rec["after"]
    assert "private" not in json.dumps(rec)


def test_filters_and_paging(server):
    _, email, password = make_user(server, ["developer"])
    token = server.login(email, password)
    since = time.time()
    time.sleep(0.01)
    for i in range(3):
        server.create_source(token=token, name="dev %d" % i)
    mine = audit(server, user=email, kind="event-source")
    assert mine["total"] == 3 and all(r["user"]["email"] == email for r in mine["result"])
    uid = server.api_get("/user-account", token=token).body["id"]
    assert audit(server, user=uid, kind="event-source")["total"] == 3
    assert audit(server, user=email.upper(), kind="event-source")["total"] == 3
    assert audit(server, user=email)["total"] == 4  # and the login
    assert audit(server, user=email, kind="segment")["total"] == 0
    recent = audit(server, since="%d" % int(since))
    assert recent["total"] >= 3
    iso = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(since + 3600))
    assert audit(server, since=iso)["total"] == 0
    page = audit(server, user=email, kind="event-source", start=1, limit=1)
    assert page["total"] == 3 and len(page["result"]) == 1
    assert page["result"][0]["id"] == mine["result"][1]["id"]  # newest first
    r = server.api_get("/audit?since=last-tuesday")
    assert r.status == 422, r


def test_logins_are_recorded_failed_or_not(server):
    user, email, password = make_user(server, ["marketer"])
    uid = user["id"]
    server.login(email, password)
    assert server.login_raw(email, "not-the-password").status == 401
    assert server.login_raw("nobody-%s@example.com" % new_id(), "whatever-1").status == 401
    recs = audit(server, user=email, kind="token")["result"]
    assert [(r["method"], r["path"], r["status"]) for r in recs] == [
        ("POST", "/user/token", 401), ("POST", "/user/token", 200)], recs
    assert all(r["user"] == {"id": uid, "email": email} for r in recs)
    assert "not-the-password" not in json.dumps(recs)
    # an unknown user's attempt is recorded with the name it gave and no id
    rec = newest(server, kind="token")
    assert rec["status"] == 401 and rec["user"]["id"] is None
    assert rec["user"]["email"].startswith("nobody-")


def test_audit_needs_an_admin(server):
    assert server.get("/audit", admin=True).status == 401
    for role in ("developer", "marketer", "maintainer"):
        _, email, password = make_user(server, [role])
        assert server.api_get("/audit", token=server.login(email, password)).status == 403


def test_cli_user_add_is_recorded(server):
    email = "%s@example.com" % new_id("cli")
    server.add_user(email, "cli-password-1", "maintainer")
    rec = newest(server, kind="user")
    assert rec["method"] == "CLI" and rec["path"] == "cdpd user add"
    assert rec["user"] == {"id": None, "email": None}
    assert rec["after"]["email"] == email and "$argon2" not in json.dumps(rec)


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def test_person_data_leaves_nothing_personal(server_factory):
    """Merges, their undo and an erasure are recorded with the route and hashed ids only; after
    the erasure, nothing in the audit log names the person."""
    s = server_factory.new(name="audit-person")
    src = s.create_source()
    email = "%s@person.example" % new_id("p")
    pids, sids = [], []
    for _ in range(3):
        sid = new_id("s")
        r = s.track(payload(src, sid, events=[{"type": "identification", "properties": {
            "firstname": "Zebulon", "email": email}}] if not pids else None))
        assert r.status == 200, r
        pids.append(r.body["profile"]["id"])
        sids.append(sid)
    pids = list(dict.fromkeys(pids))
    assert len(pids) == 3, pids
    r = s.api_post("/profiles/merge", {"ids": pids[:2]})
    assert r.status == 200, r
    mid = r.body["id"]
    assert s.api_post("/merge/%s/undo" % mid).status == 200
    r = s.api_post("/profiles/merge", {"ids": pids[:2]})
    assert r.status == 200, r
    r = s.api_delete("/profile/%s" % pids[1])
    assert r.status == 200, r

    log = audit(s, limit=1000)["result"]
    erase = [x for x in log if x["method"] == "DELETE" and x["entity"]["kind"] == "profile"]
    assert len(erase) == 1
    assert erase[0]["path"] == "/profile/{id}"
    assert erase[0]["entity"] == {"kind": "profile", "id_sha256": sha(pids[1])}
    undo = [x for x in log if x["path"] == "/merge/{id}/undo"]
    assert len(undo) == 1 and undo[0]["entity"]["id_sha256"] == sha(mid)
    merges = [x for x in log if x["path"] == "/profiles/merge"]
    assert len(merges) == 2 and all("before" not in x and "after" not in x for x in merges)

    conn = s.db()
    try:
        stored = " ".join(r[0] for r in conn.execute("SELECT doc FROM audit"))
    finally:
        conn.close()
    for needle in pids + sids + [email, "Zebulon", mid]:
        assert needle not in stored, needle
        assert needle not in json.dumps(log), needle


def test_flows_and_rules_are_recorded_with_documents(server):
    fid = new_id("flow")
    doc = flow(fid, [start_node()], [], name="Audited")
    assert server.api_post("/flow/draft", doc).status == 200
    rec = newest(server)
    assert rec["entity"] == {"kind": "flow", "id": fid}
    assert rec.get("before") is None and rec["after"]["name"] == "Audited"
    doc["name"] = "Deployed"
    assert server.api_post("/flow/production", doc).status == 200
    rec = newest(server)
    assert rec["entity"]["kind"] == "flow-production"
    assert rec["before"]["name"] == "Audited" and rec["after"]["name"] == "Deployed"
    rule = {"id": new_id("rule"), "name": "r", "event_type": "x",
            "flow": {"id": fid, "name": fid}, "enabled": True}
    assert server.api_post("/rule", rule).status == 200
    rec = newest(server)
    assert rec["entity"] == {"kind": "rule", "id": rule["id"]} and rec["after"]["name"] == "r"
    assert server.api_delete("/flow/%s" % fid).status == 200
    rec = newest(server)
    assert rec["before"]["name"] == "Deployed" and rec.get("after") is None
