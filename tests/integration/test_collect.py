"""Webhook collection (/collect), bridge-type checks, CORS and client addresses."""
import urllib.parse

import pytest

from conftest import is_uuid, new_id, payload


@pytest.fixture
def webhook(server):
    return server.create_source(types=["webhook"])


def only_event(server, src):
    evs = server.events_from_source(src)
    assert len(evs) == 1, evs
    return evs[0]


def test_collect_get_query_string_is_properties(server, webhook):
    before = server.counts()
    r = server.get("/collect/purchase-made/%s?a=1&b=2" % webhook)
    assert r.status == 200, r
    assert r.body["profile"]["id"] is None, r.body
    ev = only_event(server, webhook)
    assert ev["type"] == "purchase-made"
    assert ev["properties"] == {"a": "1", "b": "2"}
    assert ev["profile"] is None
    assert ev["metadata"]["profile_less"] is True
    assert ev["session"] is None
    after = server.counts()
    assert after["profile"] == before["profile"] and after["session"] == before["session"], \
        (before, after)
    assert server.event(ev["id"]).status == 200


def test_collect_get_repeated_key_gives_list(server, webhook):
    r = server.get("/collect/multi/%s?a=1&a=2&b=x%%20y" % webhook)
    assert r.status == 200, r
    assert only_event(server, webhook)["properties"] == {"a": ["1", "2"], "b": "x y"}


def test_collect_post_json_body_is_properties(server, webhook):
    body = {"order": {"id": "o-1", "total": 99.5}, "items": [1, 2, 3], "ok": True}
    r = server.post("/collect/order-placed/%s" % webhook, body)
    assert r.status == 200, r
    assert r.body["profile"]["id"] is None
    ev = only_event(server, webhook)
    assert ev["type"] == "order-placed"
    assert ev["properties"] == body
    assert ev["metadata"]["profile_less"] is True


def test_collect_post_form_body_is_properties(server, webhook):
    form = urllib.parse.urlencode({"email": "a@b.example", "name": "Ann Lee"})
    r = server.post("/collect/form-sent/%s" % webhook, form,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r
    ev = only_event(server, webhook)
    assert ev["properties"] == {"email": "a@b.example", "name": "Ann Lee"}


def test_collect_post_raw_body(server, webhook):
    r = server.post("/collect/raw-thing/%s" % webhook, "just some text",
                    headers={"Content-Type": "text/plain"})
    assert r.status == 200, r
    assert only_event(server, webhook)["properties"] == {"body": "just some text"}


def test_collect_with_session_is_not_profile_less(server, webhook):
    sid = new_id("s")
    r = server.post("/collect/signed-up/%s/%s" % (webhook, sid), {"plan": "gold"})
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    assert is_uuid(pid), r.body
    assert r.body["session"]["id"] == sid
    assert server.profile(pid).status == 200
    s = server.session(sid)
    assert s.status == 200 and s.body["profile"]["id"] == pid, s
    evs = [e for e in server.events_of(pid) if e["type"] == "signed-up"]
    assert len(evs) == 1
    assert evs[0]["properties"] == {"plan": "gold"}
    assert evs[0]["metadata"]["profile_less"] is False
    assert evs[0]["session"]["id"] == sid


def test_collect_get_with_session(server, webhook):
    sid = new_id("s")
    r = server.get("/collect/clicked/%s/%s?x=1" % (webhook, sid))
    assert r.status == 200, r
    pid = r.body["profile"]["id"]
    assert is_uuid(pid)
    assert server.session(sid).status == 200
    assert [e["properties"] for e in server.events_of(pid) if e["type"] == "clicked"] == [{"x": "1"}]


def test_rest_only_source_refused_on_collect(server, source):
    before = server.counts()
    r = server.get("/collect/some-event/%s?a=1" % source)
    assert r.status == 403, r
    assert "detail" in r.body
    r = server.post("/collect/some-event/%s/%s" % (source, new_id("s")), {"a": 1})
    assert r.status == 403, r
    assert server.counts() == before


def test_webhook_only_source_refused_on_track(server, webhook):
    before = server.counts()
    r = server.track(payload(webhook, new_id("s")))
    assert r.status == 403, r
    assert "detail" in r.body
    assert server.counts() == before


def test_source_with_both_bridges_works_on_both(server):
    src = server.create_source(types=["rest", "webhook"])
    assert server.track(payload(src, new_id("s"))).status == 200
    assert server.get("/collect/ping/%s" % src).status == 200


def test_collect_unknown_source_is_401(server):
    before = server.counts()
    r = server.get("/collect/x/%s?a=1" % new_id("nosuch"))
    assert r.status == 401, r
    assert server.counts() == before


def test_cors_preflight(server):
    r = server.request("OPTIONS", "/track",
                       headers={"Origin": "https://shop.example.com",
                                "Access-Control-Request-Method": "POST",
                                "Access-Control-Request-Headers": "content-type"})
    assert r.status == 200, r
    assert r.headers.get("Access-Control-Allow-Origin") in ("https://shop.example.com", "*"), \
        dict(r.headers)
    assert "POST" in r.headers.get("Access-Control-Allow-Methods", ""), dict(r.headers)
    assert "content-type" in r.headers.get("Access-Control-Allow-Headers", "").lower() or \
        r.headers.get("Access-Control-Allow-Headers") == "*", dict(r.headers)


def test_cors_headers_on_post(server, source):
    r = server.track(payload(source, new_id("s")), headers={"Origin": "https://shop.example.com"})
    assert r.status == 200, r
    assert r.headers.get("Access-Control-Allow-Origin") in ("https://shop.example.com", "*"), \
        dict(r.headers)
    # Error answers carry them too, so the browser can read the error.
    r = server.track(payload(new_id("nosuch"), new_id("s")),
                     headers={"Origin": "https://shop.example.com"})
    assert r.status == 401, r
    assert r.headers.get("Access-Control-Allow-Origin") in ("https://shop.example.com", "*")


def test_client_ip_without_trusted_proxy_ignores_forwarded_for(server, source):
    sid = new_id("s")
    r = server.track(payload(source, sid), headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status == 200, r
    s = server.session(sid).body
    assert s["device"]["ip"] == "127.0.0.1", s["device"]


@pytest.fixture(scope="module")
def proxied(module_server_factory):
    return module_server_factory.new(args=["--trusted-proxies", "127.0.0.1"], name="proxied")


def test_client_ip_from_trusted_proxy_forwarded_for(proxied):
    src = proxied.create_source()
    sid = new_id("s")
    r = proxied.track(payload(src, sid), headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status == 200, r
    s = proxied.session(sid).body
    assert s["device"]["ip"] == "203.0.113.7", s["device"]


def test_client_ip_forwarded_chain_through_trusted_proxy(proxied):
    """Walking right to left, trusted hops are skipped: the first untrusted one is the client."""
    src = proxied.create_source()
    sid = new_id("s")
    r = proxied.track(payload(src, sid),
                      headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.7, 127.0.0.1"})
    assert r.status == 200, r
    assert proxied.session(sid).body["device"]["ip"] == "203.0.113.7"


def test_client_ip_trusted_proxy_without_header(proxied):
    src = proxied.create_source()
    sid = new_id("s")
    assert proxied.track(payload(src, sid)).status == 200
    assert proxied.session(sid).body["device"]["ip"] == "127.0.0.1"
