"""The HTTP front: persistent connections, clients that hang up, odd requests."""
import http.client
import json
import socket
import time

from conftest import HTTP_TIMEOUT, new_id, page_view_event, payload


def test_keep_alive_connection_serves_many_tracks(server, source):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=HTTP_TIMEOUT)
    try:
        sid = new_id("s")
        pid = None
        for i in range(5):
            body = json.dumps(payload(source, sid, events=[page_view_event(eid=new_id("e"))]))
            conn.request("POST", "/track", body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = json.loads(r.read())
            assert r.status == 200, (i, r.status, data)
            pid = pid or data["profile"]["id"]
            assert data["profile"]["id"] == pid
        conn.request("GET", "/healthcheck")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        conn.request("POST", "/track", body="{", headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 422
    finally:
        conn.close()
    types = [e["type"] for e in server.events_of(pid)]
    assert types.count("page-view") == 5


def test_clients_hanging_up_do_not_hurt(server, source):
    """Clients that close before the answer (mid-body, or while the request waits for the
    pipeline) must not crash or wedge the server."""
    body = json.dumps(payload(source, new_id("s"))).encode()
    for i in range(30):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=HTTP_TIMEOUT)
        head = ("POST /track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % len(body)).encode()
        if i % 3 == 0:
            s.sendall(head + body[: len(body) // 2])  # hang up mid-body
        elif i % 3 == 1:
            s.sendall(head + body)  # hang up while the request is being processed
        else:
            s.sendall(head[:20])  # hang up mid-headers
        s.close()
    time.sleep(0.2)
    assert server.get("/healthcheck").status == 200
    sid = new_id("s")
    r = server.track(payload(source, sid))
    assert r.status == 200, r
    assert server.session(sid).status == 200


def test_head_healthcheck(server):
    r = server.request("HEAD", "/healthcheck")
    assert r.status == 200, r
    assert r.body == ""


def test_garbage_request_line_does_not_hurt(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=1)
    try:
        s.sendall(b"\x00\x01\x02 GARBAGE \xff\r\n\r\n")
        try:
            s.recv(4096)
        except OSError:
            pass
    finally:
        s.close()
    assert server.get("/healthcheck").status == 200


def test_every_response_has_process_time(server, source):
    for r in (server.get("/healthcheck"), server.get("/nope"), server.get("/track"),
              server.track(payload(source, new_id("s"))), server.post("/track", "{"),
              server.get("/event-sources", admin=True)):
        assert r.headers.get("X-Process-Time") is not None, (r.status, dict(r.headers))
