"""Management API authentication (tracardi-api.md 4.1, docs/api.md): tokens, throttling,
roles, logout, and the split between the two listeners."""
import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, new_id, payload

MARKETER = ("marketer@example.com", "marketer-pass-1")
DEVELOPER = ("developer@example.com", "developer-pass-1")
THROTTLED = ("throttled@example.com", "throttled-pass-1")

PROTECTED = [
    ("GET", "/profile/x"),
    ("GET", "/session/x"),
    ("GET", "/event/x"),
    ("GET", "/events/profile/x"),
    ("GET", "/event-sources"),
    ("GET", "/event-source/x"),
    ("DELETE", "/event-source/x"),
    ("POST", "/event-source"),
    ("POST", "/user/logout"),
]


@pytest.fixture(scope="module")
def server(module_server_factory):
    s = module_server_factory.new(name="auth", start=False)
    s.add_user(*MARKETER, "marketer")
    s.add_user(*DEVELOPER, "developer")
    s.add_user(*THROTTLED, "admin")
    return s.start()


def call(server, method, path, token=None, auth_header=None):
    headers = {"Authorization": auth_header} if auth_header else None
    body = {"id": new_id("src"), "name": "n"} if method == "POST" else None
    return server.request(method, path, body, headers=headers, admin=True, token=token)


def test_login_ok(server):
    r = server.login_raw(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert r.status == 200, r
    assert isinstance(r.body["access_token"], str) and len(r.body["access_token"]) >= 32
    assert r.body["token_type"] == "bearer"
    assert r.body["roles"] == ["admin"]


def test_login_email_is_case_insensitive(server):
    r = server.login_raw(ADMIN_EMAIL.upper(), ADMIN_PASSWORD)
    assert r.status == 200, r


def test_login_gives_a_new_token_each_time(server):
    assert server.login() != server.login()


def test_login_wrong_password(server):
    r = server.login_raw(ADMIN_EMAIL, "wrong-password")
    assert r.status == 401, r
    assert "detail" in r.body


def test_login_unknown_user(server):
    r = server.login_raw("nobody-%s@example.com" % new_id(), "whatever-123")
    assert r.status == 401, r
    assert "detail" in r.body


def test_login_missing_fields(server):
    r = server.post("/user/token", "username=" + ADMIN_EMAIL, admin=True,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status in (400, 422), r


def test_login_throttled_after_six_failures(server):
    user, password = THROTTLED
    for i in range(6):
        r = server.login_raw(user, "wrong-%d" % i)
        assert r.status == 401, (i, r)
    r = server.login_raw(user, password)  # even the right password is refused for now
    assert r.status == 429, r
    assert "detail" in r.body
    assert int(r.headers.get("Retry-After", "0")) >= 1, dict(r.headers)
    # Another user from the same address is not affected.
    assert server.login_raw(ADMIN_EMAIL, ADMIN_PASSWORD).status == 200


@pytest.mark.parametrize("method,path", PROTECTED)
def test_no_token_is_401(server, method, path):
    r = call(server, method, path)
    assert r.status == 401, r
    assert "detail" in r.body


@pytest.mark.parametrize("method,path", PROTECTED)
def test_garbage_token_is_401(server, method, path):
    r = call(server, method, path, token="0123456789abcdef" * 4)
    assert r.status == 401, r


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "garbage",
                                    "Bearer a b c"])
def test_malformed_authorization_is_401(server, header):
    r = call(server, "GET", "/event-sources", auth_header=header)
    assert r.status == 401, (header, r)


def test_valid_token_works(server):
    r = server.api_get("/event-sources", token=server.login())
    assert r.status == 200, r


def test_logout_ends_token(server):
    token = server.login()
    assert server.api_get("/event-sources", token=token).status == 200
    r = server.api_post("/user/logout", token=token)
    assert r.status == 200, r
    r = server.api_get("/event-sources", token=token)
    assert r.status == 401, r
    r = server.api_get("/profile/x", token=token)
    assert r.status == 401, r
    # Other tokens of the same user live on.
    assert server.api_get("/event-sources").status == 200


def test_marketer_cannot_manage_sources(server):
    token = server.login(*MARKETER)
    r = server.api_post("/event-source", {"id": new_id("src"), "name": "m", "type": ["rest"]},
                        token=token)
    assert r.status == 403, r
    assert server.api_get("/event-sources", token=token).status == 403
    assert server.api_get("/event-source/x", token=token).status == 403


def test_marketer_can_read_profiles(server):
    token = server.login(*MARKETER)
    r = server.api_get("/profile/%s" % new_id("p"), token=token)
    assert r.status == 404, r
    src = server.create_source()
    t = server.track(payload(src, new_id("s")))
    assert t.status == 200, t
    pid = t.body["profile"]["id"]
    r = server.api_get("/profile/%s" % pid, token=token)
    assert r.status == 200, r
    assert r.body["id"] == pid
    assert server.api_get("/events/profile/%s" % pid, token=token).status == 200


def test_developer_can_manage_sources(server):
    token = server.login(*DEVELOPER)
    src = server.create_source(token=token)
    assert server.api_get("/event-source/%s" % src, token=token).status == 200


@pytest.mark.parametrize("method,path", [
    ("POST", "/user/token"), ("POST", "/user/logout"), ("GET", "/profile/x"),
    ("GET", "/session/x"), ("GET", "/event/x"), ("GET", "/events/profile/x"),
    ("GET", "/event-sources"), ("GET", "/event-source/x"), ("POST", "/event-source"),
    ("DELETE", "/event-source/x"),
])
def test_management_routes_absent_on_collector(server, method, path):
    r = server.request(method, path, {"a": 1} if method == "POST" else None,
                       token=server.token)
    assert r.status == 404, (method, path, r)


def test_login_on_collector_with_credentials_is_404(server):
    r = server.post("/user/token", "username=%s&password=%s" % (ADMIN_EMAIL, ADMIN_PASSWORD),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 404, r


def test_collector_routes_absent_on_management(server):
    src = server.create_source()
    r = server.post("/track", payload(src, new_id("s")), admin=True)
    assert r.status in (404, 405), r
    assert server.get("/collect/x/%s" % src, admin=True).status in (404, 405)


def test_token_expires_when_idle(server_factory):
    import time
    s = server_factory.new(args=["--token-ttl", "2"], name="short-ttl")
    token = s.login()
    # Used within the TTL, the token slides forward.
    for _ in range(3):
        time.sleep(1.0)
        assert s.api_get("/event-sources", token=token).status == 200
    time.sleep(3.2)
    r = s.api_get("/event-sources", token=token)
    assert r.status == 401, r


def test_login_throttle_not_bypassed_by_email_case(server_factory):
    """Logins are case-insensitive (the same account), so the failure count must be too:
    otherwise every case variant of an e-mail gets 5 more free guesses."""
    s = server_factory.new(name="throttle-case")
    for i in range(6):
        r = s.login_raw(ADMIN_EMAIL, "wrong-%d" % i)
        assert r.status == 401, (i, r)
    assert s.login_raw(ADMIN_EMAIL, "wrong-again").status == 429
    r = s.login_raw(ADMIN_EMAIL.upper(), "wrong-upper")
    assert r.status == 429, r


def _slot(key, slots=256):
    h = 5381
    for b in key.encode():
        h = (h * 33 + b) & 0xFFFFFFFF
    return h % slots


def test_login_throttle_not_reset_by_other_users_failures(server_factory):
    """Failed logins of another name in between must not reset this account's count. (The other
    name is chosen so that it lands in the same slot of the server's throttle table.)"""
    s = server_factory.new(name="throttle-reset")
    target_key = "%s|127.0.0.1" % ADMIN_EMAIL
    other = next(n for n in ("x%d@example.com" % i for i in range(100000))
                 if _slot("%s|127.0.0.1" % n) == _slot(target_key))
    failures = 0
    for round_ in range(2):
        for i in range(5):
            r = s.login_raw(ADMIN_EMAIL, "wrong-%d-%d" % (round_, i))
            assert r.status in (401, 429), r
            if r.status == 429:
                return  # throttled: correct
            failures += 1
        assert s.login_raw(other, "whatever-123").status == 401
    r = s.login_raw(ADMIN_EMAIL, "wrong-final")
    assert r.status == 429, "after %d failed logins of %s: %s %r" % (failures, ADMIN_EMAIL,
                                                                    r.status, r.body)
