"""Workflows end to end: flows and rules through the management API, events routed into them by
/track, what the flows change in the store, what they answer, errors, remote calls, the
debugger and the plugin palette."""
import http.server
import json
import threading
import time

import pytest

from conftest import SLOW, new_id, payload

# Tracardi's own module paths (tracardi-flows.md §3.4): a flow composed in Tracardi imports as is.
START = ("tracardi.process_engine.action.v1.flow.start.start_action", "StartAction")
IF = ("tracardi.process_engine.action.v1.if_action", "IfAction")
ADD_SEGMENT = ("tracardi.process_engine.action.v1.segmentation.add.plugin", "AddSegmentAction")
UPDATE_PROFILE = ("tracardi.process_engine.action.v1.operations.update_profile_action",
                  "UpdateProfileAction")


@pytest.fixture
def server(server_factory):
    """A server of this test's own: rules and flows of one test must not route another's."""
    return server_factory.new()


def node(nid, cls, init=None, name=None, module=None, start=False):
    return {"id": nid, "type": "flowNode", "position": {"x": 0, "y": 0},
            "data": {"start": start,
                     "spec": {"module": module, "className": cls, "init": init or {}},
                     "metadata": {"name": name or nid}}}


def edge(src, dst, port="payload", eid=None, name=""):
    return {"id": eid or "%s-%s-%s" % (src, port, dst), "source": src, "sourceHandle": port,
            "target": dst, "targetHandle": "payload", "type": "default", "data": {"name": name}}


def flow(fid, nodes, edges, name=None):
    return {"id": fid, "name": name or fid, "description": "", "type": "collection",
            "flowGraph": {"nodes": nodes, "edges": edges}}


def start_node(nid="start"):
    return node(nid, "StartAction", {"event_types": []}, name="Start", start=True)


def deploy(server, doc):
    r = server.api_post("/flow/production", doc)
    assert r.status == 200, r
    return r.body


def add_rule(server, event_type, flow_id, source_id="", **extra):
    rule = {"id": new_id("rule"), "name": "rule for %s" % flow_id, "event_type": event_type,
            "flow": {"id": flow_id, "name": flow_id}, "enabled": True}
    if source_id:
        rule["source"] = {"id": source_id, "name": source_id}
    rule.update(extra)
    r = server.api_post("/rule", rule)
    assert r.status == 200, r
    return r.body


def loyalty_flow(fid):
    """start -> if total > 100 -> copy data -> increment -> add segment -> create response."""
    nodes = [
        start_node(),
        node("if", "IfAction", {"condition": "event@properties.total > 100"}, name="Big order?"),
        node("copy", "CopyTraitAction",
             {"traits": {"set": {"profile@traits.last_big_order": "event@properties.total"}}}),
        node("inc", "IncrementAction", {"field": "profile@stats.counters.big_orders",
                                        "increment": 1}),
        node("seg", "AddSegmentAction", {"segment": "big-spender"}),
        node("resp", "CreateResponseAction",
             {"key": "loyalty", "body": {"total": "event@properties.total", "tier": "gold"}}),
    ]
    edges = [edge("start", "if"), edge("if", "copy", "true"), edge("copy", "inc"),
             edge("inc", "seg"), edge("seg", "resp")]
    return flow(fid, nodes, edges, name="Loyalty")


def purchase(total):
    return {"type": "purchase", "properties": {"total": total}}


def test_rule_routes_event_into_flow_that_changes_profile(server):
    src = server.create_source()
    deploy(server, loyalty_flow("loyalty"))
    rule = add_rule(server, "purchase", "loyalty", src)

    sid = new_id("s")
    r = server.track(payload(src, sid, events=[purchase(120)]))
    assert r.status == 200, r
    assert r.body["response"] == {"loyalty": {"total": 120, "tier": "gold"}}
    assert r.body["errors"] == []
    pid = r.body["profile"]["id"]
    p = server.profile(pid).body
    assert p["traits"]["last_big_order"] == 120
    assert p["stats"]["counters"]["big_orders"] == 1
    assert "big-spender" in p["segments"]
    ev = [e for e in server.events_of(pid) if e["type"] == "purchase"]
    assert len(ev) == 1
    assert rule["name"] in ev[0]["metadata"]["processed_by"]["rules"]
    assert ev[0]["metadata"]["processed_by"]["flows"] == ["loyalty"]

    # The false branch does nothing; the counter only moves on big orders.
    r = server.track(payload(src, sid, events=[purchase(50)]))
    assert r.status == 200 and r.body["response"] == {}, r
    r = server.track(payload(src, sid, events=[purchase(500)]))
    assert r.status == 200 and r.body["response"]["loyalty"]["total"] == 500
    p = server.profile(pid).body
    assert p["stats"]["counters"]["big_orders"] == 2
    assert p["traits"]["last_big_order"] == 500


def test_flows_change_the_stored_event(server):
    src = server.create_source()
    nodes = [start_node(),
             node("tag", "CopyTraitAction",
                  {"traits": {"set": {"event@properties.flagged": "`true`",
                                      "event@context.page.title": "renamed",
                                      "profile@traits.seen": "event@properties.sku"}}}),
             node("rm", "DeleteTraitAction", {"delete": ["event@properties.secret"]})]
    deploy(server, flow("tagger", nodes, [edge("start", "tag"), edge("tag", "rm")]))
    add_rule(server, "view", "tagger", src)
    ev = {"type": "view", "properties": {"sku": "A1", "secret": "x", "n": 1},
          "context": {"page": {"title": "original", "url": "https://x.example/"}}}
    r = server.track(payload(src, new_id("s"), events=[ev, dict(ev, type="other")],
                             options={"debugger": True}))
    assert r.status == 200, r
    stored = {e["type"]: e for e in server.events_of(r.body["profile"]["id"])}
    assert stored["view"]["properties"] == {"sku": "A1", "n": 1, "flagged": True}
    assert stored["view"]["context"]["page"]["title"] == "renamed"
    # the other event of the same payload is untouched
    assert stored["other"]["properties"] == {"sku": "A1", "secret": "x", "n": 1}
    assert stored["other"]["context"]["page"]["title"] == "original"
    assert server.profile(r.body["profile"]["id"]).body["traits"]["seen"] == "A1"


def test_events_of_other_types_or_sources_run_nothing(server):
    src, other = server.create_source(), server.create_source()
    deploy(server, loyalty_flow("loyalty"))
    add_rule(server, "purchase", "loyalty", src)
    r = server.track(payload(other, new_id("s"), events=[purchase(1000)]))
    assert r.status == 200 and r.body["response"] == {}
    r = server.track(payload(src, new_id("s"), events=[{"type": "page-view",
                                                        "properties": {"total": 1000}}]))
    assert r.status == 200 and r.body["response"] == {}
    p = server.profile(r.body["profile"]["id"]).body
    assert "big-spender" not in p.get("segments", [])


def test_rule_without_source_matches_any_source_and_disabled_rules_do_not_run(server):
    a, b = server.create_source(), server.create_source()
    deploy(server, loyalty_flow("loyalty"))
    rule = add_rule(server, "purchase", "loyalty")
    for src in (a, b):
        r = server.track(payload(src, new_id("s"), events=[purchase(200)]))
        assert r.body["response"]["loyalty"]["total"] == 200, r
    rule["enabled"] = False
    assert server.api_post("/rule", rule).status == 200
    r = server.track(payload(a, new_id("s"), events=[purchase(200)]))
    assert r.status == 200 and r.body["response"] == {}, r


def test_failing_node_stops_its_flow_gives_226_and_keeps_the_data(server):
    src = server.create_source()
    nodes = [start_node(), node("cut", "CutOutTraitAction", {"trait": "event@properties.nosuch"},
                                name="Cut"),
             node("copy", "CopyTraitAction",
                  {"traits": {"set": {"profile@traits.after": "`true`"}}})]
    deploy(server, flow("failing", nodes, [edge("start", "cut"), edge("cut", "copy", "trait")]))
    deploy(server, flow("thrower", [start_node(), node("boom", "RaiseErrorAction",
                                                        {"message": "no stock"}, name="Boom")],
                        [edge("start", "boom")]))
    deploy(server, loyalty_flow("loyalty"))
    for fid in ("failing", "thrower", "loyalty"):
        add_rule(server, "purchase", fid, src)
    r = server.track(payload(src, new_id("s"), events=[purchase(300)]))
    assert r.status == 226, r
    assert len(r.body["errors"]) == 2, r.body
    assert any("`Cut`" in e for e in r.body["errors"]), r.body
    assert any("`Boom`" in e and "no stock" in e for e in r.body["errors"]), r.body
    # The other flow still ran, and everything was stored.
    assert r.body["response"]["loyalty"]["total"] == 300
    p = server.profile(r.body["profile"]["id"]).body
    assert "after" not in p.get("traits", {})
    assert "big-spender" in p["segments"]
    ev = [e for e in server.events_of(p["id"]) if e["type"] == "purchase"]
    assert len(ev) == 1 and ev[0]["metadata"]["error"] is True
    # why, and in which flow, stays with the event
    errs = ev[0]["metadata"]["processed_by"]["errors"]
    assert sorted(e["flow"] for e in errs) == ["failing", "thrower"], errs
    assert any("`Boom`" in e["message"] and "no stock" in e["message"] for e in errs), errs


@pytest.mark.parametrize("graph,needle", [
    ({"nodes": [start_node(), node("x", "NoSuchAction", name="Mystery")],
      "edges": [edge("start", "x")]}, "Mystery"),
    ({"nodes": [node("a", "IfAction", {"condition": "event@x == 1"})], "edges": []},
     "no start node"),
    ({"nodes": [start_node(), node("a", "LogAction", {"message": "a"}, name="A"),
                node("b", "LogAction", {"message": "b"}, name="B")],
      "edges": [edge("start", "a"), edge("a", "b"), edge("b", "a")]}, "cycle"),
    ({"nodes": [start_node(), node("if", "IfAction", {"condition": "event@x == "},
                                   name="Broken if")],
      "edges": [edge("start", "if")]}, "Broken if"),
    ({"nodes": [start_node(), node("if", "IfAction", {"condition": "event@x == 1"})],
      "edges": [edge("start", "if", "nope")]}, "nope"),
    ({"nodes": [start_node()], "edges": [edge("start", "ghost")]}, "ghost"),
])
def test_invalid_flows_are_refused_naming_the_node(server, graph, needle):
    fid = new_id("f")
    r = server.api_post("/flow/production", {"id": fid, "name": "bad", "flowGraph": graph})
    assert r.status == 422, r
    assert needle in r.body["detail"], r.body
    assert server.api_get("/flow/production/" + fid).status == 404
    # a draft is work in progress: kept, with what stops it from running
    r = server.api_post("/flow/draft", {"id": fid, "name": "bad", "flowGraph": graph})
    assert r.status == 200, r
    assert needle in r.body["problem"], r.body
    d = server.api_get("/flow/draft/" + fid)
    assert d.status == 200 and "problem" not in d.body and d.body["deployed"] is False
    assert server.api_get("/flow/production/" + fid).status == 404


def test_a_draft_must_still_be_a_flow(server):
    for body in ({"name": "no graph"}, {"id": 5, "name": "x", "flowGraph": {}},
                 {"id": "x", "flowGraph": {"nodes": [], "edges": []}}):
        assert server.api_post("/flow/draft", body).status == 422, body


def test_flow_written_in_tracardi_format_imports_unchanged(server):
    # tracardi-flows.md §3.4, with its module paths, metadata and unknown keys.
    doc = {"id": "f-loyalty", "name": "Loyalty", "type": "collection", "tags": ["General"],
           "lock": False,
           "wf_schema": {"version": "0.8.1", "uri": "http://www.tracardi.com/2021/WFSchema"},
           "flowGraph": {
               "nodes": [
                   {"id": "n1", "type": "startNode", "position": {"x": 0, "y": 0},
                    "data": {"start": True, "spec": {"module": START[0], "className": START[1],
                             "inputs": [], "outputs": ["payload"],
                             "init": {"event_types": [], "debug": False}},
                             "metadata": {"name": "Start", "type": "startNode"}}},
                   {"id": "n2", "type": "condNode", "position": {"x": 0, "y": 150},
                    "data": {"start": False, "spec": {"module": IF[0], "className": IF[1],
                             "inputs": ["payload"], "outputs": ["true", "false"],
                             "init": {"condition": "event@properties.total > 100"}},
                             "metadata": {"name": "Big order?", "type": "condNode"}}},
                   {"id": "n3", "type": "flowNode", "position": {"x": -200, "y": 300},
                    "data": {"start": False, "spec": {"module": ADD_SEGMENT[0],
                             "className": ADD_SEGMENT[1], "inputs": ["payload"],
                             "outputs": ["payload", "error"], "init": {"segment": "big-spender"}},
                             "metadata": {"name": "Add segment", "type": "flowNode"}}},
                   {"id": "n4", "type": "flowNode", "position": {"x": -200, "y": 450},
                    "data": {"start": False, "spec": {"module": UPDATE_PROFILE[0],
                             "className": UPDATE_PROFILE[1], "inputs": ["payload"],
                             "outputs": [], "init": None},
                             "metadata": {"name": "Update profile", "type": "flowNode"}}}],
               "edges": [
                   {"id": "e1", "source": "n1", "sourceHandle": "payload", "target": "n2",
                    "targetHandle": "payload", "type": "default", "data": {"name": ""}},
                   {"id": "e2", "source": "n2", "sourceHandle": "true", "target": "n3",
                    "targetHandle": "payload", "type": "default", "data": {"name": ""}},
                   {"id": "e3", "source": "n3", "sourceHandle": "payload", "target": "n4",
                    "targetHandle": "payload", "type": "default", "data": {"name": ""}}]}}
    assert deploy(server, doc)["id"] == "f-loyalty"
    got = server.api_get("/flow/production/f-loyalty")
    assert got.status == 200 and got.body["flowGraph"] == doc["flowGraph"]
    src = server.create_source()
    add_rule(server, "purchase", "f-loyalty", src)
    r = server.track(payload(src, new_id("s"), events=[purchase(101)]))
    assert r.status == 200, r
    assert server.profile(r.body["profile"]["id"]).body["segments"] == ["big-spender"]


def test_draft_and_production_lifecycle(server):
    doc = loyalty_flow(new_id("f"))
    fid = doc["id"]
    r = server.api_post("/flow/draft", doc)
    assert r.status == 200 and r.body["deployed"] is False, r
    assert server.api_get("/flow/draft/%s" % fid).status == 200
    assert server.api_get("/flow/production/%s" % fid).status == 404
    # A rule on a draft-only flow is accepted but runs nothing (with a warning) until deploy.
    src = server.create_source()
    add_rule(server, "purchase", fid, src)
    r = server.track(payload(src, new_id("s"), events=[purchase(999)]))
    assert r.status == 200 and r.body["response"] == {}
    assert any("not deployed" in w for w in r.body["warnings"]), r.body
    deploy(server, doc)
    r = server.track(payload(src, new_id("s"), events=[purchase(999)]))
    assert r.body["response"]["loyalty"]["total"] == 999, r
    lst = server.api_get("/flows").body
    mine = [f for f in lst["result"] if f["id"] == fid]
    assert mine and mine[0]["deployed"] is True and "flowGraph" not in mine[0]
    assert server.api_delete("/flow/%s" % fid).status == 200
    assert server.api_get("/flow/draft/%s" % fid).status == 404
    assert server.api_delete("/flow/%s" % fid).status == 404
    r = server.track(payload(src, new_id("s"), events=[purchase(999)]))
    assert r.status == 200 and r.body["response"] == {}


def test_rules_api(server):
    src = server.create_source()
    deploy(server, loyalty_flow("fa"))
    deploy(server, loyalty_flow("fb"))
    ra = add_rule(server, "purchase", "fa", src)
    rb = add_rule(server, "signup", "fb")
    assert ra["event_type"] == {"id": "purchase", "name": "purchase"}
    assert server.api_get("/rule/%s" % ra["id"]).body["flow"]["id"] == "fa"
    # references given by id get the names of what they point to
    assert ra["flow"]["name"] == server.api_get("/flow/draft/fa").body["name"]
    assert ra["source"] == {"id": src, "name": "Test source"}
    assert rb["source"] == {"id": "", "name": ""}
    ids = lambda r: sorted(x["id"] for x in r.body["result"])
    assert ids(server.api_get("/rules")) == sorted([ra["id"], rb["id"]])
    assert ids(server.api_get("/rules/by_flow/fb")) == [rb["id"]]
    assert ids(server.api_get("/rules/by_event_type/purchase")) == [ra["id"]]
    assert server.api_delete("/rule/%s" % ra["id"]).status == 200
    assert server.api_get("/rule/%s" % ra["id"]).status == 404
    for bad, needle in [({"name": "x", "flow": "fa"}, "event_type"),
                        ({"name": "x", "event_type": "a"}, "flow"),
                        ({"name": "x", "event_type": "a", "flow": "nosuch"}, "nosuch"),
                        ({"name": "x", "event_type": "a", "flow": "fa", "source": "nosrc"},
                         "nosrc"),
                        ({"event_type": "a", "flow": "fa"}, "name"),
                        ({"name": "x", "event_type": "a", "flow": "fa", "enabled": "yes"},
                         "enabled")]:
        r = server.api_post("/rule", bad)
        assert r.status == 422 and needle in r.body["detail"], (bad, r)
    assert server.api_post("/rule", "{not json").status == 422


def test_two_flows_merge_responses_and_concatenate_ux(server):
    src = server.create_source()
    for fid, key in (("fa", "a"), ("fb", "b")):
        nodes = [start_node(),
                 node("resp", "CreateResponseAction",
                      {"key": "shared", "body": {key: "event@type"}}),
                 node("ux", "ux-tag", {"tag": "div", "props": {"class": key},
                                       "content": "hello {{event@type}}"})]
        deploy(server, flow(fid, nodes, [edge("start", "resp"), edge("resp", "ux")]))
        add_rule(server, "greet", fid, src)
    r = server.track(payload(src, new_id("s"), events=[{"type": "greet", "properties": {}}]))
    assert r.status == 200, r
    assert r.body["response"] == {"shared": {"a": "greet", "b": "greet"}}
    assert [u["props"]["class"] for u in r.body["ux"]] == ["a", "b"]
    assert r.body["ux"][0]["content"] == "hello greet"


def test_debugger_traces_nodes_and_stores_nothing(server):
    before = server.counts()
    doc = loyalty_flow("dbg")
    r = server.api_post("/flow/debug", {
        "flow": doc,
        "event": {"type": "purchase", "properties": {"total": 150}},
        "profile": {"id": "p-debug", "traits": {"name": "Ann"}}})
    assert r.status == 200, r
    nodes = r.body["debugInfo"]["nodes"]
    assert set(nodes) == {"start", "if", "copy", "inc", "seg", "resp"}
    call = nodes["if"]["calls"][0]
    assert call["output"]["results"][0]["port"] == "true"
    assert call["profiler"]["runTime"] >= 0
    assert r.body["response"] == {"loyalty": {"total": 150, "tier": "gold"}}
    changed = {c["path"]: c for c in r.body["changes"]["profile"]}
    assert changed["traits.last_big_order"]["new"] == 150
    assert "old" not in changed["traits.last_big_order"]
    assert changed["segments"]["new"] == ["big-spender"]
    assert r.body["profile"]["traits"]["name"] == "Ann"
    assert server.counts() == before

    # A failing node shows in the trace with its error.
    bad = flow("dbg2", [start_node(), node("boom", "RaiseErrorAction", {"message": "stop"})],
               [edge("start", "boom")])
    r = server.api_post("/flow/debug", {"flow": bad})
    assert r.status == 200, r
    assert r.body["debugInfo"]["nodes"]["boom"]["errors"] == 1
    assert "stop" in r.body["errors"][0]
    assert server.api_post("/flow/debug", {"flow": {"flowGraph": {"nodes": []}}}).status == 422


def test_plugin_palette(server):
    r = server.api_get("/flow/action/plugins")
    assert r.status == 200, r
    plugins = r.body["result"]
    assert r.body["total"] == len(plugins) >= 30
    by_class = {p["spec"]["className"]: p for p in plugins}
    for cls in ("StartAction", "IfAction", "CopyTraitAction", "IncrementAction",
                "AddSegmentAction", "RemoteCallAction", "JoinPayloads", "SleepAction"):
        assert cls in by_class, cls
    ifp = by_class["IfAction"]
    assert ifp["spec"]["outputs"] == ["true", "false"]
    assert ifp["spec"]["schema"]["type"] == "object"
    assert "condition" in ifp["spec"]["schema"]["properties"]
    assert sum(len(v) for v in r.body["grouped"].values()) == len(plugins)
    q = server.api_get("/flow/action/plugins?query=segment").body["result"]
    assert q and all("egment" in (p["metadata"]["name"] + p["id"] + p["metadata"]["group"][0])
                     for p in q)


def test_flow_routes_need_a_developer(server):
    server.add_user("m@example.com", "marketer-password-1", "marketer")
    tok = server.login("m@example.com", "marketer-password-1")
    assert server.api_get("/flows", token=tok).status == 403
    assert server.get("/flows", admin=True).status == 401
    # and the collector listener does not serve them at all
    assert server.get("/flows").status == 404


# --- remote calls --------------------------------------------------------------------------

class Remote:
    """A local HTTP server for remote-call nodes: /echo answers what it got, /slow waits."""

    def __init__(self, delay=1.5 * SLOW):
        self.hits = []
        remote = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                remote.hits.append((self.path, body))
                if self.path.startswith("/slow"):
                    time.sleep(delay)
                out = json.dumps({"got": json.loads(body or "null"), "score": 42}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def remote():
    r = Remote()
    yield r
    r.close()


def remote_flow(fid, url):
    nodes = [start_node(),
             node("call", "RemoteCallAction",
                  {"endpoint": url, "method": "POST", "timeout": 10,
                   "body": {"type": "application/json",
                            "content": {"email": "event@properties.email"}}}),
             node("copy", "CopyTraitAction",
                  {"traits": {"set": {"profile@traits.score": "payload@content.score"}}}),
             node("inc", "IncrementAction", {"field": "profile@stats.counters.calls",
                                             "increment": 1})]
    return flow(fid, nodes, [edge("start", "call"), edge("call", "copy", "response"),
                             edge("copy", "inc")])


def test_remote_call_node(server, remote):
    src = server.create_source()
    deploy(server, remote_flow("remote", "http://127.0.0.1:%d/echo" % remote.port))
    add_rule(server, "signup", "remote", src)
    r = server.track(payload(src, new_id("s"), events=[
        {"type": "signup", "properties": {"email": "ann@example.com"}}]))
    assert r.status == 200, r
    assert remote.hits == [("/echo", json.dumps({"email": "ann@example.com"},
                                                separators=(",", ":")))] or \
        json.loads(remote.hits[0][1]) == {"email": "ann@example.com"}
    p = server.profile(r.body["profile"]["id"]).body
    assert p["traits"]["score"] == 42 and p["stats"]["counters"]["calls"] == 1


def test_slow_remote_call_holds_only_its_own_profile(server, remote):
    """While one flow waits on a slow server, other profiles are served; requests for the same
    session wait their turn and no update is lost."""
    src = server.create_source()
    deploy(server, remote_flow("slow", "http://127.0.0.1:%d/slow" % remote.port))
    add_rule(server, "slow", "slow", src)
    inc = flow("inc", [start_node(), node("inc", "IncrementAction",
                                          {"field": "profile@stats.counters.calls",
                                           "increment": 1})], [edge("start", "inc")])
    deploy(server, inc)
    add_rule(server, "fast", "inc", src)

    sid = new_id("s")
    first = server.track(payload(src, sid, events=[{"type": "fast", "properties": {}}]))
    pid = first.body["profile"]["id"]
    order, results = [], {}

    def send(key, p):
        results[key] = server.track(p)
        order.append(key)

    slow = threading.Thread(target=send, args=("slow", payload(src, sid, events=[
        {"type": "slow", "properties": {"email": "x@example.com"}}])))
    slow.start()
    while not remote.hits:
        time.sleep(0.01)
    same = threading.Thread(target=send, args=("same", payload(src, sid, events=[
        {"type": "fast", "properties": {}}])))
    same.start()
    for i in range(20):
        send("other%d" % i, payload(src, new_id("s"), events=[{"type": "fast",
                                                               "properties": {}}]))
    slow.join()
    same.join()
    assert all(r.status == 200 for r in results.values()), results
    # Others were answered while the slow call waited; the same session waited its turn, so
    # neither update of the profile was lost.
    assert order.index("slow") > max(order.index("other%d" % i) for i in range(20)), order
    p = server.profile(pid).body
    assert p["stats"]["counters"]["calls"] == 3  # first, slow (after its call), same
    assert p["traits"]["score"] == 42


def test_remote_call_failure_goes_to_error_port(server):
    src = server.create_source()
    nodes = [start_node(),
             node("call", "RemoteCallAction",
                  {"endpoint": "http://127.0.0.1:1/nothing", "method": "POST", "timeout": 2,
                   "body": {"type": "application/json", "content": {}}}),
             node("copy", "CopyTraitAction",
                  {"traits": {"set": {"profile@traits.remote_failed": "`true`"}}})]
    deploy(server, flow("failing-remote", nodes, [edge("start", "call"),
                                                  edge("call", "copy", "error")]))
    add_rule(server, "ping", "failing-remote", src)
    r = server.track(payload(src, new_id("s"), events=[{"type": "ping", "properties": {}}]))
    assert r.status == 200, r
    assert server.profile(r.body["profile"]["id"]).body["traits"]["remote_failed"] is True


def test_flow_time_limit(server_factory):
    server = server_factory.new(args=["--flow-timeout-ms", "300"])
    src = server.create_source()
    nodes = [start_node(), node("zz", "SleepAction", {"wait": 5}, name="Nap"),
             node("copy", "CopyTraitAction",
                  {"traits": {"set": {"profile@traits.woke": "`true`"}}})]
    deploy(server, flow("nap", nodes, [edge("start", "zz"), edge("zz", "copy")]))
    add_rule(server, "nap", "nap", src)
    r = server.track(payload(src, new_id("s"), events=[{"type": "nap", "properties": {}}]))
    assert r.status == 226, r
    assert "time limit" in r.body["errors"][0], r.body
    assert "woke" not in server.profile(r.body["profile"]["id"]).body.get("traits", {})


def test_shutdown_cuts_waits_short_and_answers_parked_requests(server, remote):
    """SIGTERM while a flow waits on a slow server: the wait ends with an error outcome, the
    flow goes on from the node's error port, the request is answered and stored, and the process
    exits cleanly (the harness checks the exit status)."""
    src = server.create_source()
    nodes = [start_node(),
             node("call", "RemoteCallAction",
                  {"endpoint": "http://127.0.0.1:%d/slow" % remote.port, "method": "POST",
                   "timeout": 30, "body": {"type": "application/json", "content": {}}}),
             node("copy", "CopyTraitAction",
                  {"traits": {"set": {"profile@traits.call_failed": "`true`"}}})]
    deploy(server, flow("slow", nodes, [edge("start", "call"), edge("call", "copy", "error")]))
    add_rule(server, "slow", "slow", src)
    sid, result = new_id("s"), {}
    t = threading.Thread(target=lambda: result.update(r=server.track(payload(
        src, sid, events=[{"type": "slow", "properties": {}}]))))
    t.start()
    while not remote.hits:
        time.sleep(0.01)
    assert server.stop() == 0
    t.join()
    r = result["r"]
    assert r.status == 200, r
    server.start()
    p = server.profile(r.body["profile"]["id"]).body
    assert p["traits"]["call_failed"] is True
    assert [e["type"] for e in server.events_of(p["id"]) if e["type"] == "slow"] == ["slow"]


def test_acknowledged_flow_changes_survive_kill9(server):
    src = server.create_source()
    deploy(server, loyalty_flow("loyalty"))
    add_rule(server, "purchase", "loyalty", src)
    pids = [server.track(payload(src, new_id("s"), events=[purchase(150 + i)])).body["profile"]["id"]
            for i in range(20)]
    server.kill()
    server.start()
    for i, pid in enumerate(pids):
        p = server.profile(pid).body
        assert p["traits"]["last_big_order"] == 150 + i and "big-spender" in p["segments"], p


def test_rule_with_required_consents_runs_only_for_profiles_that_granted_them(server):
    src = server.create_source()
    grant = flow("grant", [start_node(), node("add", "ConsentAdder",
                                               {"consents": "event@properties.consents"})],
                 [edge("start", "add")])
    deploy(server, grant)
    add_rule(server, "opt-in", "grant", src)
    deploy(server, loyalty_flow("loyalty"))
    add_rule(server, "purchase", "loyalty", src,
             properties={"consents": [{"id": "marketing", "name": "Marketing"}]})
    sid = new_id("s")
    r = server.track(payload(src, sid, events=[purchase(500)]))
    assert r.status == 200 and r.body["response"] == {}, r
    r = server.track(payload(src, sid, events=[{"type": "opt-in",
                                                "properties": {"consents": {"marketing": True}}}]))
    assert r.status == 200, r
    r = server.track(payload(src, sid, events=[purchase(500)]))
    assert r.body["response"]["loyalty"]["total"] == 500, r


def test_profile_erased_while_its_request_waits_is_not_written_back(server, remote):
    src = server.create_source()
    deploy(server, remote_flow("slow", "http://127.0.0.1:%d/slow" % remote.port))
    add_rule(server, "slow", "slow", src)
    sid = new_id("s")
    pid = server.track(payload(src, sid)).body["profile"]["id"]
    result = {}
    t = threading.Thread(target=lambda: result.update(r=server.track(payload(
        src, sid, events=[{"type": "slow", "properties": {"email": "x@example.com"}}]))))
    t.start()
    while not remote.hits:
        time.sleep(0.01)
    assert server.api_delete("/profile/%s" % pid).status == 200
    t.join()
    assert result["r"].status == 409, result["r"]
    assert server.profile(pid).status == 404
    assert server.session(sid).status == 404
