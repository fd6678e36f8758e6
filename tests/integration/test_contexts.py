"""Production and staging (docs/api.md "Production and staging"): config entities, profiles,
sessions and events of the two contexts are kept apart; the management API works on production
and on staging with `x-context: staging`; a collector started with `--context staging` stores
what it collects in staging only; users and tokens are production's whatever the header says;
GET /production/deploy copies staging's configuration to production in one go (and its dry run
says what would change without changing it), and the production collector runs it from its
next batch."""
import json
import sqlite3
import subprocess
import urllib.parse

import pytest

from conftest import CDPD_BIN, SLOW, Server, new_id, payload
from test_flows import add_rule, deploy as deploy_flow, loyalty_flow, purchase
from test_users import make_user

STAGING = {"x-context": "staging"}
PRODUCTION = {"x-context": "production"}


def call(server, method, path, body=None, ctx=None, token=None):
    return server.request(method, path, body, headers=ctx, admin=True,
                          token=token or server.token)


def get(server, path, ctx=None, token=None):
    return call(server, "GET", path, ctx=ctx, token=token)


def post(server, path, body, ctx=None, token=None):
    r = call(server, "POST", path, body, ctx=ctx, token=token)
    return r


def source_doc(sid, name="Web site"):
    return {"id": sid, "name": name, "type": ["rest"], "channel": "Web"}


def rows(db_path, sql, args=()):
    conn = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def staging_db(server):
    return server.db_path.parent / "staging" / "cdpd.db"


def twin(server_factory, server, args=(), name="twin"):
    """A second server process on the same data directory."""
    s = Server(server.data_dir, args=args, name=name, env=server.extra_env)
    server_factory.servers.append(s)
    return s.start()


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def test_config_entities_are_kept_apart(server):
    stg, prod = new_id("stg"), new_id("prod")
    assert post(server, "/event-source", source_doc(stg), ctx=STAGING).status == 200
    assert post(server, "/event-source", source_doc(prod), ctx=PRODUCTION).status == 200

    assert get(server, "/event-source/%s" % stg, ctx=STAGING).status == 200
    assert get(server, "/event-source/%s" % stg).status == 404
    assert get(server, "/event-source/%s" % stg, ctx=PRODUCTION).status == 404
    assert get(server, "/event-source/%s" % prod).status == 200
    assert get(server, "/event-source/%s" % prod, ctx=STAGING).status == 404
    ids = lambda r: sorted(d["id"] for d in r.body["result"])
    assert ids(get(server, "/event-sources", ctx=STAGING)) == [stg]
    assert ids(get(server, "/event-sources")) == [prod]

    # Deleting in one context leaves the other alone.
    assert call(server, "DELETE", "/event-source/%s" % prod, ctx=STAGING).status == 404
    assert get(server, "/event-source/%s" % prod).status == 200

    # Other kinds too, and each context keeps the audit log of its own changes.
    seg = post(server, "/segment", {"name": "Stg only", "condition": "profile@traits.x == 1"},
               ctx=STAGING)
    assert seg.status == 200, seg
    assert get(server, "/segment/%s" % seg.body["id"], ctx=STAGING).status == 200
    assert get(server, "/segment/%s" % seg.body["id"]).status == 404
    staging_log = get(server, "/audit?kind=segment", ctx=STAGING).body["result"]
    assert [r["entity"]["id"] for r in staging_log] == [seg.body["id"]]
    assert get(server, "/audit?kind=segment").body["total"] == 0

    # Staging lives in a store of its own; production's data directory is unchanged.
    assert staging_db(server).exists()
    assert rows(server.db_path, "SELECT id FROM entity WHERE kind = 'event-source'") == [(prod,)]
    assert rows(staging_db(server), "SELECT id FROM entity WHERE kind = 'event-source'") == [
        (stg,)]


def test_context_header_checks(server):
    r = get(server, "/event-sources", ctx={"x-context": "test"})
    assert r.status == 422 and "x-context" in r.body["detail"], r
    assert get(server, "/event-sources", ctx={"x-context": ""}).status == 422
    # Authentication and roles come first.
    r = server.request("GET", "/event-sources", headers={"x-context": "test"}, admin=True)
    assert r.status == 401, r
    _, email, pw = make_user(server, ["marketer"])
    marketer = server.login(email, pw)
    r = get(server, "/event-sources", ctx={"x-context": "test"}, token=marketer)
    assert r.status == 403, r


def test_users_and_tokens_are_productions(server):
    # Login works with either header and the token works in both contexts.
    for ctx in (STAGING, PRODUCTION, {"x-context": "nonsense"}):
        form = urllib.parse.urlencode({"username": "admin@example.com",
                                       "password": "admin-password-1"})
        r = server.post("/user/token", form, admin=True, headers=dict(
            ctx, **{"Content-Type": "application/x-www-form-urlencoded"}))
        assert r.status == 200, r
        tok = r.body["access_token"]
        assert get(server, "/event-sources", ctx=STAGING, token=tok).status == 200
        assert get(server, "/event-sources", token=tok).status == 200

    # A user made with the staging header is a user of the installation: it can log in, and
    # is listed and found whatever the header.
    email = "%s@example.com" % new_id("u")
    r = post(server, "/user", {"email": email, "password": "pw-%s" % new_id(),
                               "roles": ["developer"]}, ctx=STAGING)
    assert r.status == 200, r
    uid = r.body["id"]
    assert get(server, "/user/%s" % uid).status == 200
    assert get(server, "/user/%s" % uid, ctx=STAGING).status == 200
    assert rows(server.db_path, "SELECT count(*) FROM user WHERE id = ?", (uid,)) == [(1,)]
    assert rows(staging_db(server), "SELECT count(*) FROM user") == [(0,)]
    # The caller's own account too; logout with the staging header ends the token.
    tok = server.login()
    assert get(server, "/user-account", ctx=STAGING, token=tok).body["email"] == "admin@example.com"
    assert call(server, "POST", "/user/logout", ctx=STAGING, token=tok).status == 200
    assert get(server, "/event-sources", token=tok).status == 401
    assert rows(staging_db(server), "SELECT count(*) FROM token") == [(0,)]


def test_staging_collector_keeps_test_traffic_in_staging(server_factory, server):
    src = new_id("src")
    assert post(server, "/event-source", source_doc(src), ctx=STAGING).status == 200
    stg = twin(server_factory, server, args=["--context", "staging"],
               name="staging")

    sid = new_id("s")
    r = stg.track(payload(src, sid))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    # The production collector does not know the staging source.
    assert server.track(payload(src, new_id("s"))).status in (401, 403)

    assert get(server, "/profile/%s" % pid, ctx=STAGING).status == 200
    assert get(server, "/session/%s" % sid, ctx=STAGING).status == 200
    events = get(server, "/events/profile/%s" % pid, ctx=STAGING).body["result"]
    assert any(e["type"] == "page-view" for e in events)
    assert get(server, "/event/%s" % events[0]["id"], ctx=STAGING).status == 200
    assert get(server, "/profile/%s" % pid).status == 404
    assert get(server, "/session/%s" % sid).status == 404
    assert get(server, "/event/%s" % events[0]["id"]).status == 404
    assert server.counts() == {"event": 0, "profile": 0, "session": 0}

    # The salt of hashed ids is the installation's, the same in both stores.
    salt = "SELECT value FROM meta WHERE key = 'salt'"
    assert rows(server.db_path, salt) == rows(staging_db(server), salt) != []

    # A production collector on the same data directory never sees staging's visitors.
    prod_src = server.create_source()
    r = server.track(payload(prod_src, sid, profile_id=pid))
    assert r.status == 200, r
    assert r.body["profile"]["id"] != pid  # an unknown profile id gets a new profile
    assert get(server, "/profile/%s" % pid, ctx=STAGING).body["id"] == pid
    assert len(get(server, "/events/profile/%s" % pid, ctx=STAGING).body["result"]) == len(events)


def test_bad_context_option_is_refused(server):
    r = subprocess.run([CDPD_BIN, "serve", "--data", str(server.data_dir), "--context", "test",
                        "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
                       env=server._env(), capture_output=True, text=True, timeout=30 * SLOW)
    assert r.returncode != 0 and "context must be production or staging" in r.stderr


def build_staging(server, src):
    """Staging: a source, the loyalty flow deployed with a rule on purchases."""
    assert post(server, "/event-source", source_doc(src, "Shop"), ctx=STAGING).status == 200
    r = post(server, "/flow/production", loyalty_flow("loyalty"), ctx=STAGING)
    assert r.status == 200, r
    rule = {"id": "rule-loyalty", "name": "loyalty", "event_type": "purchase",
            "flow": {"id": "loyalty", "name": "loyalty"}, "enabled": True}
    assert post(server, "/rule", rule, ctx=STAGING).status == 200


def test_dry_run_reports_and_changes_nothing(server):
    src, old = new_id("src"), new_id("old")
    build_staging(server, src)
    assert post(server, "/event-source", source_doc(src, "Shop (old name)")).status == 200
    assert post(server, "/event-source", source_doc(old, "Gone after deploy")).status == 200
    before = rows(server.db_path, "SELECT kind, id, doc FROM entity ORDER BY kind, id")

    for path in ("/production/deploy?dry_run=true", "/production/dry-run"):
        r = get(server, path)
        assert r.status == 200, r
        rep = r.body
        assert rep["dry_run"] is True and rep["deployed"] is False
        assert rep["kinds"]["event-source"] == {"added": [], "changed": [src], "removed": [old],
                                                "unchanged": 0}
        assert rep["kinds"]["flow-production"]["added"] == ["loyalty"]
        assert rep["kinds"]["rule"]["added"] == ["rule-loyalty"]
        assert (rep["added"], rep["changed"], rep["removed"]) == (
            sum(len(k["added"]) for k in rep["kinds"].values()), 1, 1)
    assert rows(server.db_path, "SELECT kind, id, doc FROM entity ORDER BY kind, id") == before
    assert get(server, "/production/deploy?dry_run=maybe").status == 422


def test_deploy_routes_production_events_into_staging_flow(server, server_factory):
    src, old = new_id("src"), new_id("old")
    build_staging(server, src)
    assert post(server, "/event-source", source_doc(src, "Shop (old name)")).status == 200
    assert post(server, "/event-source", source_doc(old)).status == 200
    # Records about people and the people themselves stay where they are.
    stg_collector = twin(server_factory, server, args=["--context", "staging"],
                          name="staging")
    r = stg_collector.track(payload(src, new_id("s")))
    assert r.status == 200, r
    assert call(server, "DELETE", "/profile/%s" % r.body["profile"]["id"],
                ctx=STAGING).status == 200
    assert rows(staging_db(server), "SELECT count(*) FROM entity WHERE kind = 'erasure'") == [(1,)]

    # The production collector has loaded its configuration (a batch ran) before the deploy.
    sid = new_id("s")
    r = server.track(payload(src, sid, events=[purchase(120)]))
    assert r.status == 200 and r.body["response"] == {}, r

    r = get(server, "/production/deploy")
    assert r.status == 200, r
    assert r.body["deployed"] is True and r.body["dry_run"] is False
    assert r.body["kinds"]["event-source"]["removed"] == [old]
    assert "erasure" not in r.body["kinds"]

    # Production now runs staging's configuration, from the collector's next batch on.
    r = server.track(payload(src, sid, events=[purchase(150)]))
    assert r.status == 200, r
    assert r.body["response"] == {"loyalty": {"total": 150, "tier": "gold"}}
    assert get(server, "/event-source/%s" % old).status == 404
    assert get(server, "/event-source/%s" % src).body["name"] == "Shop"
    assert get(server, "/rule/rule-loyalty").status == 200
    assert rows(server.db_path, "SELECT count(*) FROM entity WHERE kind = 'erasure'") == [(0,)]
    # Staging is unchanged, and deploying again changes nothing.
    assert get(server, "/event-source/%s" % src, ctx=STAGING).status == 200
    again = get(server, "/production/deploy").body
    assert (again["added"], again["changed"], again["removed"]) == (0, 0, 0)

    # The deploy is in production's audit log, with what it changed.
    log = get(server, "/audit?limit=20").body["result"]
    deploys = [rec for rec in log if rec.get("path", "").startswith("/production/deploy")]
    assert deploys and deploys[-1]["deploy"]["event-source"]["removed"] == [old]


def test_deploy_refuses_an_empty_staging(server):
    prod = server.create_source()
    r = get(server, "/production/deploy")
    assert r.status == 409 and "allow_empty" in r.body["detail"], r
    assert get(server, "/event-source/%s" % prod).status == 200
    # The dry run says what would go.
    r = get(server, "/production/dry-run")
    assert r.status == 200 and r.body["kinds"]["event-source"]["removed"] == [prod]
    r = get(server, "/production/deploy?allow_empty=true")
    assert r.status == 200 and r.body["removed"] == 1, r
    assert get(server, "/event-source/%s" % prod).status == 404


def test_deploy_is_for_admins(server):
    for role in ("developer", "marketer", "maintainer"):
        _, email, pw = make_user(server, [role])
        tok = server.login(email, pw)
        for path in ("/production/deploy", "/production/dry-run",
                     "/production/deploy?dry_run=true"):
            assert get(server, path, token=tok).status == 403, (role, path)
    r = server.request("GET", "/production/deploy", admin=True)
    assert r.status == 401


def test_jobs_take_the_context(server, server_factory):
    src = new_id("src")
    assert post(server, "/event-source", source_doc(src), ctx=STAGING).status == 200
    assert post(server, "/segment", {"name": "Everyone", "condition": "profile@id EXISTS"},
                ctx=STAGING).status == 200
    stg = twin(server_factory, server, args=["--context", "staging"])
    pid = stg.track(payload(src, new_id("s"))).body["profile"]["id"]
    stg.stop()

    def job(name, *args):
        r = subprocess.run([CDPD_BIN, "job", name, "--data", str(server.data_dir)] + list(args),
                           env=server._env(), capture_output=True, text=True, timeout=120 * SLOW)
        server._check_sanitizer_text(r.stderr, "cdpd job")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    assert job("segment")["profiles"] == 0  # production has no profiles
    assert job("segment", "--context", "staging")["profiles"] == 1
    assert "everyone" in get(server, "/profile/%s" % pid, ctx=STAGING).body["segments"]
    assert job("merge", "--context", "staging")["profiles"] == 1
