"""Sending to destinations (tracardi-flows.md 9): the worker role's dispatch worker sends changed
profiles to profile destinations and stored events to event destinations, as Tracardi's HTTP
connector does, to a real HTTP server on loopback started here. Runs in both modes: the
embedded outbox and, with CDPD_SCALEOUT=1, the change stream."""
import base64
import http.server
import json
import threading
import time

import pytest

from conftest import SLOW, free_port, new_id, payload


class Sink:
    """An HTTP server that records every request it is sent."""

    def __init__(self, status=200):
        self.port, self.got, self.status = free_port(), [], status
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                sink.got.append({"path": self.path, "headers": dict(self.headers),
                                 "body": json.loads(body) if body else None})
                self.send_response(sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_POST

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait(self, n, path=None, timeout=15):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            got = [g for g in self.got if path is None or g["path"] == path]
            if len(got) >= n:
                return got
            time.sleep(0.05)
        raise AssertionError("%d requests to %s expected, got %r" % (n, path, self.got))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.close()


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def resource(server, url, **creds):
    doc = {"id": new_id("res"), "name": "Hook", "type": "api",
           "credentials": {"production": dict(url=url, **creds), "test": {}}}
    r = server.api_post("/resource", doc)
    assert r.status == 200, r
    return doc["id"]


def destination(server, res, **fields):
    doc = {"id": new_id("dst"), "name": "Hook", "enabled": True,
           "destination": {"package": "tracardi.process_engine.destination.http_connector.HttpConnector",
                           "init": {"method": "post", "timeout": 5, "headers": {"X-Test": "1"}}},
           "resource": {"id": res}}
    doc.update(fields)
    r = server.api_post("/destination", doc)
    assert r.status == 200, r
    return doc["id"]


def test_profile_and_event_destinations_are_sent_to(server, sink):
    src = server.create_source()
    res = resource(server, sink.url("/profile"), username="user", password="secret")
    destination(server, res, mapping={"email": "profile@data.contact.email.main",
                                      "visits": "profile@metadata.time.visit.count",
                                      "missing": "profile@traits.nothing"},
                condition="profile@data.contact.email.main NOT EMPTY")
    res2 = resource(server, sink.url("/event"))
    destination(server, res2, on_profile_change_only=False, event_type="purchase",
                mapping={"sku": "event@properties.sku", "profile": "profile@id",
                         "session": "session@id"})
    destination(server, res2, name="Off", enabled=False, mapping={"x": "event@type"})

    sid = new_id("s")
    # no e-mail yet: the profile destination's condition does not hold
    r = server.track(payload(src, sid, events=[{"type": "page-view", "properties": {}}]))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    r = server.track(payload(src, sid, profile_id=pid, events=[
        {"type": "identification", "properties": {"email": "ann@example.com"}},
        {"type": "purchase", "properties": {"sku": "BS-1"}}]))
    assert r.status == 200, r

    got = sink.wait(1, "/profile")
    assert len(got) == 1, got  # the first request's profile had no e-mail
    body = got[0]["body"]
    assert body["data"] == {"email": "ann@example.com", "visits": 1, "missing": None}
    assert body["changes"] == []
    h = {k.lower(): v for k, v in got[0]["headers"].items()}
    assert h["authorization"] == "Basic " + base64.b64encode(b"user:secret").decode()
    assert h["x-test"] == "1" and h["content-type"] == "application/json"

    got = sink.wait(1, "/event")
    assert [g["body"]["data"] for g in got] == [{"sku": "BS-1", "profile": pid, "session": sid}]
    # the disabled destination, and events of other types, sent nothing
    time.sleep(0.5)
    assert len([g for g in sink.got if g["path"] == "/event"]) == 1


def test_a_failing_destination_is_logged_and_the_rest_goes_on(server, sink):
    src = server.create_source()
    destination(server, resource(server, "http://127.0.0.1:%d/nobody" % free_port()),
                name="Down", mapping={"id": "profile@id"})
    destination(server, resource(server, sink.url("/ok")), name="Up",
                mapping={"id": "profile@id"})
    r = server.track(payload(src, new_id("s")))
    assert r.status == 200, r  # collection never waits for destinations
    got = sink.wait(1, "/ok")
    assert got[0]["body"]["data"] == {"id": r.body["profile"]["id"]}
    deadline = time.monotonic() + 10 * SLOW
    while time.monotonic() < deadline:
        text = server.get("/metrics", admin=True).body
        text = text if isinstance(text, str) else text.decode()
        # the sink sees the send a moment before the worker counts it
        if "cdpd_destination_errors_total 1" in text and "cdpd_destination_sends_total 1" in text:
            break
        time.sleep(0.1)
    assert "cdpd_destination_errors_total 1" in text
    assert "cdpd_destination_sends_total 1" in text
