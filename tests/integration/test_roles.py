"""--roles (README, DESIGN §1): `--roles collector` runs no management listener and its
collector listener answers no management path (the API, its description, the metrics);
`--roles api` runs no collector listener and the management listener serves no collection
route. The harness's Server waits for both listeners, so these processes are started here."""
import socket
import subprocess
import time

from conftest import (ADMIN_EMAIL, ADMIN_PASSWORD, CDPD_BIN, HTTP_TIMEOUT, START_TIMEOUT,
                      STOP_TIMEOUT, Server, free_port, http_request, new_id, page_view_event,
                      payload)

MANAGEMENT_PATHS = [
    ("POST", "/user/token"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/event-sources"),
    ("GET", "/profile/x"),
    ("GET", "/users/0/10"),
    ("GET", "/audit"),
    ("GET", "/flows"),
    ("POST", "/flow/debug"),
    ("GET", "/config/export"),
    ("DELETE", "/event-source/x"),
]

COLLECTION_PATHS = [
    ("POST", "/track"),
    ("GET", "/collect/page-view/web"),
    ("POST", "/collect/page-view/web/s-1"),
    ("POST", "/customer/consent"),
]


def refused(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


class RoleProcess:
    def __init__(self, tmp_path, roles):
        self.data = tmp_path / "data"
        self.port, self.admin_port = free_port(), free_port()
        self.out = tmp_path / "stdout"
        self.err = tmp_path / "stderr"
        cmd = [CDPD_BIN, "serve", "--data", str(self.data), "--roles", roles,
               "--listen", "127.0.0.1:%d" % self.port,
               "--admin-listen", "127.0.0.1:%d" % self.admin_port]
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    def wait_ready(self, port):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.err.read_text()
            try:
                if http_request(port, "GET", "/healthcheck", timeout=2).status == 200 and \
                        "serving" in self.out.read_text():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("not ready: %s" % self.err.read_text())

    def stop(self):
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        assert code == 0, self.err.read_text()[-3000:]
        for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
            assert marker not in self.err.read_text()


def test_collector_role_serves_no_management_route(tmp_path):
    d = tmp_path / "c"
    d.mkdir()
    # an admin and a source exist in the store: they must still not be reachable
    setup = Server(d / "data")
    setup.add_user(ADMIN_EMAIL, ADMIN_PASSWORD, "admin")
    p = RoleProcess(d, "collector")
    try:
        p.wait_ready(p.port)
        out = p.out.read_text()
        assert "collector:  http://127.0.0.1:%d" % p.port in out
        assert "management:" not in out
        assert refused(p.admin_port), "a management listener is running"
        for method, path in MANAGEMENT_PATHS:
            body = "username=%s&password=%s" % (ADMIN_EMAIL, ADMIN_PASSWORD) \
                if path == "/user/token" else None
            r = http_request(p.port, method, path, body,
                             {"Content-Type": "application/x-www-form-urlencoded"}
                             if body else None, timeout=HTTP_TIMEOUT)
            assert r.status == 404, (method, path, r)
        # collection itself works (the source is unknown: 401 from the pipeline, not 404)
        r = http_request(p.port, "POST", "/track", payload("nope", new_id("s"),
                                                           events=[page_view_event()]))
        assert r.status == 401, r
    finally:
        p.stop()


def test_api_role_serves_no_collection_route(tmp_path):
    d = tmp_path / "a"
    d.mkdir()
    setup = Server(d / "data")
    setup.add_user(ADMIN_EMAIL, ADMIN_PASSWORD, "admin")
    p = RoleProcess(d, "api")
    try:
        p.wait_ready(p.admin_port)
        out = p.out.read_text()
        assert "management: http://127.0.0.1:%d" % p.admin_port in out
        assert "collector:" not in out
        assert refused(p.port), "a collector listener is running"
        for method, path in COLLECTION_PATHS:
            r = http_request(p.admin_port, method, path, {"source": {"id": "web"}})
            assert r.status == 404, (method, path, r)
        # the management API itself works, its description and metrics too
        r = http_request(p.admin_port, "GET", "/openapi.json")
        assert r.status == 200, r
        r = http_request(p.admin_port, "GET", "/metrics")
        assert r.status == 200 and "cdpd_http_requests_total" in r.body, r
    finally:
        p.stop()


def test_both_roles_keep_the_listeners_apart(server):
    """The default process: management paths are 404 on the collector listener, collection
    paths 404 on the management one."""
    for method, path in MANAGEMENT_PATHS:
        assert server.request(method, path).status == 404, (method, path)
    for method, path in COLLECTION_PATHS:
        assert server.request(method, path, {"source": {"id": "web"}}, admin=True).status == 404, \
            (method, path)


def test_no_serving_role_is_refused(tmp_path):
    r = subprocess.run([CDPD_BIN, "serve", "--data", str(tmp_path / "data"), "--roles", "worker",
                        "--listen", "127.0.0.1:%d" % free_port(),
                        "--admin-listen", "127.0.0.1:%d" % free_port()],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "nothing to do without --cache and --queue" in r.stderr
