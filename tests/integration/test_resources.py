"""Resources (tracardi-api.md 2.8, docs/api.md): credentials for other systems, with a
production and a test set, sealed under the installation's secret key before they are stored.
Admins read them back, developers see "***", and a server with another key fails cleanly."""
import base64
import json
import os
import stat

import pytest

from conftest import new_id

DEVELOPER = ("dev@example.com", "developer-password-1")
MARKETER = ("mkt@example.com", "marketer-password-1")
SECRET = "pw-S3cr3t-never-in-the-db"


def new_server(factory):
    s = factory.new(start=False)
    s.add_user(*DEVELOPER, "developer")
    s.add_user(*MARKETER, "marketer")
    return s.start()


@pytest.fixture(scope="module")
def server(module_server_factory):
    """Shared by the tests that do not restart it."""
    return new_server(module_server_factory)


@pytest.fixture
def own_server(server_factory):
    """A server of the test's own, to restart."""
    return new_server(server_factory)


def resource(**fields):
    doc = {"id": new_id("res"), "name": "CRM", "type": "api",
           "credentials": {"production": {"url": "https://crm.example", "username": "cdp",
                                          "password": SECRET},
                           "test": {"url": "https://test.crm.example", "password": "test-pw"}}}
    doc.update(fields)
    return doc


def raw_row(server, rid):
    conn = server.db()
    try:
        row = conn.execute("SELECT doc FROM entity WHERE kind = 'resource' AND id = ?",
                           (rid,)).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def test_resource_round_trip_for_an_admin(server):
    doc = resource(tags=["crm"], groups="sales", icon="crm")
    r = server.api_post("/resource", doc)
    assert r.status == 200, r
    got = r.body
    assert got["credentials"] == doc["credentials"]
    assert got["type"] == {"id": "api", "name": "API endpoint"}
    assert got["enabled"] is True and got["tags"] == ["crm"] and got["groups"] == ["sales"]
    assert got["timestamp"] and got["destination"] is None
    r = server.api_get("/resource/%s" % doc["id"])
    assert r.status == 200, r
    assert r.body["credentials"] == doc["credentials"]
    assert r.body["name"] == "CRM"
    # Defaults for what is left out.
    r = server.api_post("/resource", {"name": "bare", "type": {"id": "custom", "name": "Mine"}})
    assert r.status == 200, r
    assert r.body["credentials"] == {"production": {}, "test": {}}
    assert r.body["type"] == {"id": "custom", "name": "Mine"} and r.body["tags"] == ["general"]
    assert server.api_get("/resource/%s" % r.body["id"]).body["credentials"] == \
        {"production": {}, "test": {}}


def test_the_store_holds_only_ciphertext(server):
    doc = resource()
    assert server.api_post("/resource", doc).status == 200
    text = raw_row(server, doc["id"])
    assert text is not None
    for plain in (SECRET, "test-pw", "crm.example", "password", "username"):
        assert plain not in text, plain
    stored = json.loads(text)
    sealed = stored["credentials"]
    assert set(sealed) == {"alg", "key_id", "nonce", "ciphertext"}
    assert len(base64.b64decode(sealed["nonce"])) == 24
    # Saving again seals with a new nonce.
    assert server.api_post("/resource", doc).status == 200
    again = json.loads(raw_row(server, doc["id"]))["credentials"]
    assert again["nonce"] != sealed["nonce"] and again["ciphertext"] != sealed["ciphertext"]


def test_the_key_file_is_made_private(own_server):
    server = own_server
    path = server.data_dir / "secret.key"
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, oct(mode)
    text = path.read_text().strip()
    assert len(text) == 64 and int(text, 16) >= 0
    # Restarting keeps the key, and what it sealed still opens.
    doc = resource()
    assert server.api_post("/resource", doc).status == 200
    server.restart()
    assert path.read_text().strip() == text
    server._token = None
    r = server.api_get("/resource/%s" % doc["id"])
    assert r.status == 200 and r.body["credentials"] == doc["credentials"], r


def test_another_key_fails_cleanly(own_server):
    server = own_server
    doc = resource()
    assert server.api_post("/resource", doc).status == 200
    other = base64.b64encode(os.urandom(32)).decode()
    server.restart(env={"CDPD_SECRET_KEY": other})
    server._token = None
    for path in ("/resource/%s" % doc["id"], "/resources"):
        r = server.api_get(path)
        assert r.status == 500, r
        assert r.body["detail"].startswith("cannot decrypt credentials: wrong secret key?"), r
        assert SECRET not in json.dumps(r.body)
    # Developers never open credentials, so they still read the rest.
    dev = server.login(*DEVELOPER)
    r = server.api_get("/resource/%s" % doc["id"], token=dev)
    assert r.status == 200 and r.body["credentials"] == {"production": "***", "test": "***"}
    # The right key, given in the environment as hex, opens them again.
    key = (server.data_dir / "secret.key").read_text().strip()
    server.restart(env={"CDPD_SECRET_KEY": key})
    server._token = None
    r = server.api_get("/resource/%s" % doc["id"])
    assert r.status == 200 and r.body["credentials"] == doc["credentials"], r
    # A malformed key stops the start with a message.
    server.stop()
    server.extra_env["CDPD_SECRET_KEY"] = "not-a-key"
    with pytest.raises(Exception) as e:
        server.start()
    assert "CDPD_SECRET_KEY" in str(e.value)
    server.extra_env.pop("CDPD_SECRET_KEY")
    server.start()


def test_tampered_ciphertext_is_refused(server_factory):
    s = server_factory.new()
    doc = resource()
    assert s.api_post("/resource", doc).status == 200
    s.stop()
    import sqlite3
    conn = sqlite3.connect(str(s.db_path))
    stored = json.loads(conn.execute("SELECT doc FROM entity WHERE kind = 'resource' AND id = ?",
                                     (doc["id"],)).fetchone()[0])
    ct = bytearray(base64.b64decode(stored["credentials"]["ciphertext"]))
    ct[3] ^= 1
    stored["credentials"]["ciphertext"] = base64.b64encode(bytes(ct)).decode()
    conn.execute("UPDATE entity SET doc = ? WHERE kind = 'resource' AND id = ?",
                 (json.dumps(stored), doc["id"]))
    # Credentials moved to another resource do not open there either.
    conn.execute("INSERT INTO entity(kind, id, doc, updated) VALUES('resource', 'moved', ?, 0)",
                 (json.dumps(dict(stored, id="moved")),))
    conn.commit()
    conn.close()
    s.start()
    s._token = None
    for rid in (doc["id"], "moved"):
        r = s.api_get("/resource/%s" % rid)
        assert r.status == 500, r
        assert "cannot decrypt credentials" in r.body["detail"], r
        assert "authentication" in r.body["detail"], r


def test_developers_see_masked_credentials_and_can_keep_them(server):
    dev = server.login(*DEVELOPER)
    doc = resource()
    r = server.api_post("/resource", doc, token=dev)
    assert r.status == 200, r
    assert r.body["credentials"] == {"production": "***", "test": "***"}
    got = server.api_get("/resource/%s" % doc["id"], token=dev).body
    assert got["credentials"] == {"production": "***", "test": "***"}
    listed = server.api_get("/resources", token=dev).body["result"]
    assert [x["credentials"] for x in listed if x["id"] == doc["id"]] == \
        [{"production": "***", "test": "***"}]
    # Sending the masked document back changes the name and keeps the secrets.
    got["name"] = "CRM renamed"
    got["credentials"]["test"] = {"url": "https://new-test"}
    assert server.api_post("/resource", got, token=dev).status == 200
    admin_view = server.api_get("/resource/%s" % doc["id"]).body
    assert admin_view["name"] == "CRM renamed"
    assert admin_view["credentials"] == {"production": doc["credentials"]["production"],
                                         "test": {"url": "https://new-test"}}
    # "***" for a resource that does not exist has nothing to keep.
    r = server.api_post("/resource", dict(resource(), credentials={"production": "***"}),
                        token=dev)
    assert r.status == 422 and "credentials.production" in r.body["detail"], r


def test_enable_disable_and_delete(server):
    doc = resource()
    assert server.api_post("/resource", doc).status == 200
    r = server.api_get("/resource/%s/enabled/off" % doc["id"])
    assert r.status == 200 and r.body["enabled"] is False, r
    assert r.body["credentials"] == doc["credentials"]
    assert server.api_get("/resource/%s" % doc["id"]).body["enabled"] is False
    assert server.api_get("/resource/%s/enabled/on" % doc["id"]).body["enabled"] is True
    assert server.api_get("/resource/nope/enabled/on").status == 404
    r = server.api_delete("/resource/%s" % doc["id"])
    assert r.status == 200 and r.body == {"deleted": 1}, r
    assert server.api_get("/resource/%s" % doc["id"]).status == 404
    assert server.api_delete("/resource/%s" % doc["id"]).status == 404


def test_resource_types(server):
    r = server.api_get("/resources/type/name")
    assert r.status == 200, r
    assert r.body["result"]["api"] == "API endpoint" and r.body["total"] == len(r.body["result"])
    r = server.api_get("/resources/type/configuration")
    assert r.status == 200
    assert set(r.body["result"]["smtp-server"]["config"]) >= {"smtp", "port", "password"}
    assert server.api_get("/resources/type/other").status == 422


def test_resource_routes_need_admin_or_developer(server):
    doc = resource()
    assert server.api_post("/resource", doc).status == 200
    mkt = server.login(*MARKETER)
    for method, path in (("GET", "/resources"), ("GET", "/resource/%s" % doc["id"]),
                         ("POST", "/resource"), ("DELETE", "/resource/%s" % doc["id"]),
                         ("GET", "/resource/%s/enabled/on" % doc["id"]),
                         ("GET", "/resources/type/name")):
        body = resource() if method == "POST" else None
        r = server.request(method, path, body, admin=True, token=mkt)
        assert r.status == 403, (method, path, r)
        r = server.request(method, path, body, admin=True)
        assert r.status == 401, (method, path, r)
    assert server.api_get("/resource/%s" % doc["id"]).status == 200


@pytest.mark.parametrize("patch,needle", [
    ({"name": ""}, "name:"),
    ({"name": None}, "name:"),
    ({"type": None}, "type:"),
    ({"type": 5}, "type:"),
    ({"id": 7}, "id:"),
    ({"credentials": []}, "credentials:"),
    ({"credentials": {"production": "x"}}, "credentials.production: must be an object"),
    ({"credentials": {"production": {}, "test": [1]}}, "credentials.test: must be an object"),
    ({"credentials": {"staging": {}}}, "credentials.staging"),
    ({"enabled": "yes"}, "enabled:"),
    ({"tags": [1]}, "tags[0]"),
    ({"groups": {}}, "groups:"),
    ({"icon": 3}, "icon:"),
    ({"description": 1}, "description:"),
    ({"destination": "x"}, "destination:"),
    ({"destination": {"init": {}}}, "destination.package"),
    ({"destination": {"package": "p", "init": 1}}, "destination.init: must be an object"),
])
def test_bad_resources_name_the_field(server, patch, needle):
    doc = dict(resource(), **patch)
    r = server.api_post("/resource", doc)
    assert r.status == 422, r
    assert needle in r.body["detail"], r
    if isinstance(doc["id"], str):
        assert server.api_get("/resource/%s" % doc["id"]).status == 404


def test_bad_json_and_non_object(server):
    r = server.api_post("/resource", "{nope")
    assert r.status == 422, r
    r = server.api_post("/resource", [1, 2])
    assert r.status == 422 and "body" in r.body["detail"], r


def test_the_key_file_option_and_the_environment(server_factory, tmp_path):
    keyfile = tmp_path / "keys" / "cdpd.key"
    keyfile.parent.mkdir()
    s = server_factory.new(args=["--secret-key-file", str(keyfile)])
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    assert not (s.data_dir / "secret.key").exists()
    doc = resource()
    assert s.api_post("/resource", doc).status == 200
    assert s.api_get("/resource/%s" % doc["id"]).body["credentials"] == doc["credentials"]
    # With the key in the environment no file is made at all.
    e = server_factory.new(env={"CDPD_SECRET_KEY": os.urandom(32).hex()})
    assert not (e.data_dir / "secret.key").exists()
    assert e.api_post("/resource", doc).status == 200
    assert e.api_get("/resource/%s" % doc["id"]).body["credentials"] == doc["credentials"]
