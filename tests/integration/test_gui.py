"""The GUI on the management listener (docs/api.md "The GUI"): the built files compiled into
the binary, served to browsers at / with caching and security headers, never on the collector
listener; and the first-run screen's routes, GET|POST /install, which create the first
administrator only while nobody can log in."""
import gzip
import re

import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, REPO

BUILT = (REPO / "gui" / "dist" / "index.html").exists()
HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_root_answers_json_to_clients_and_the_gui_to_browsers(server):
    r = server.get("/", admin=True)
    assert r.status == 200 and r.body["name"] == "cdpd" and r.body["listener"] == "admin"
    r = server.get("/", admin=True, headers=HTML)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<div id=\"root\">" in r.body or "not built" in r.body
    # the collector never serves the GUI
    r = server.get("/", headers=HTML)
    assert r.status == 200 and r.body["listener"] == "collector"
    assert server.get("/index.html").status == 404


@pytest.mark.skipif(not BUILT, reason="gui/dist not built (make gui)")
def test_assets_are_served_gzipped_and_cached(server):
    r = server.get("/", admin=True, headers=HTML)
    assert r.headers["Cache-Control"] == "no-cache"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    scripts = re.findall(r'src="\.?(/assets/[^"]+\.js)"', r.body)
    assert scripts, r.body
    plain = server.get(scripts[0], admin=True)
    assert plain.status == 200 and plain.headers["Content-Type"].startswith("text/javascript")
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Encoding" not in plain.headers
    z = server.get(scripts[0], admin=True, headers={"Accept-Encoding": "gzip, br"})
    assert z.headers["Content-Encoding"] == "gzip" and z.headers["Vary"] == "Accept-Encoding"
    assert int(z.headers["Content-Length"]) < len(plain.body.encode())
    # the same file exactly, once unzipped
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", server.admin_port, timeout=10)
    c.request("GET", scripts[0], headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(c.getresponse().read()).decode() == plain.body
    c.close()
    assert server.request("HEAD", scripts[0], admin=True).status == 200
    # unknown files are 404, API routes still answer as before
    assert server.get("/assets/nope.js", admin=True).status == 404
    assert server.get("/healthcheck", admin=True).status == 200


def test_install_creates_the_first_administrator_once(server_factory):
    s = server_factory.new(admin=False)
    assert s.get("/install", admin=True).body == {"users": False}
    # no one can log in yet
    assert s.login_raw(ADMIN_EMAIL, ADMIN_PASSWORD).status == 401
    bad = s.post("/install", {"email": "not-an-email", "password": "x"}, admin=True)
    assert bad.status == 422
    assert s.get("/install", admin=True).body == {"users": False}
    # roles in the body are ignored: the first user is an administrator
    r = s.post("/install", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                            "full_name": "First Admin", "roles": ["marketer"], "disabled": True},
               admin=True)
    assert r.status == 200, r.body
    assert r.body["roles"] == ["admin"] and r.body["disabled"] is False
    assert "password" not in r.body
    assert s.get("/install", admin=True).body == {"users": True}
    token = s.login()
    # the audit log, newest first: the login, the administrator, the failed login before
    log = s.api_get("/audit", token=token).body["result"]
    assert [(r["path"], r["status"]) for r in log] == [
        ("/user/token", 200), ("/install", 200), ("/user/token", 401)], log
    assert log[1]["after"]["email"] == ADMIN_EMAIL and log[1]["entity"]["id"] == r.body["id"]
    assert s.api_get("/users/0/10", token=token).body["total"] == 1
    # once anyone exists, /install creates nobody
    again = s.post("/install", {"email": "intruder@example.com", "password": "intruder-pw-1"},
                   admin=True)
    assert again.status == 409
    assert s.login_raw("intruder@example.com", "intruder-pw-1").status == 401
    assert s.api_get("/users/0/10", token=token).body["total"] == 1


def test_install_is_refused_when_users_exist(server):
    r = server.post("/install", {"email": "x@example.com", "password": "long-enough-1"}, admin=True)
    assert r.status == 409 and "log in" in r.body["detail"]
    assert server.post("/install", "{not json", admin=True).status == 422
