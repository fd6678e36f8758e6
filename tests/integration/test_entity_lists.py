"""Every config-entity list pages and sorts the same way (docs/api.md, Lists):
?start=&limit=&sort=name|-name|id|-id|enabled|<a field of the kind>, by id when no sort is
given, ties broken by id, and 422 naming the allowed fields for any other sort."""
import urllib.parse

import pytest

NAMES = {1: "Charlie", 2: "alpha", 3: "Bravo"}  # by name (case aside): 2, 3, 1


def named(d, key):
    v = d.get(key)
    return v.get("id") if isinstance(v, dict) else v


def start_node():
    return {"id": "start", "type": "flowNode", "position": {"x": 0, "y": 0},
            "data": {"start": True, "spec": {"className": "StartAction",
                                             "init": {"event_types": []}},
                     "metadata": {"name": "Start"}}}


# kind: (POST path, list path, body(i, id, name), {extra sort field: value of a document})
KINDS = {
    "event-source": ("/event-source", "/event-sources",
                     lambda i, eid, name: {"id": eid, "name": name, "type": ["rest"],
                                           "channel": ["Web", "app", "Mobile"][i - 1]},
                     {"channel": lambda d: d["channel"], "timestamp": lambda d: d["timestamp"]}),
    "segment": ("/segment", "/segments",
                lambda i, eid, name: {"id": eid, "name": name,
                                      "condition": "profile@traits.x == %d" % i},
                {"machine_name": lambda d: d["machine_name"]}),
    "consent-type": ("/consent/type", "/consents/type",
                     lambda i, eid, name: {"id": eid, "name": name, "revokable": i != 2,
                                           "required": i == 3},
                     {"revokable": lambda d: d["revokable"], "required": lambda d: d["required"]}),
    "event-validator": ("/event-validator", "/event-validators",
                        lambda i, eid, name: {"id": eid, "name": name, "event_type": "t%d" % (4 - i),
                                              "validation": {"json_schema": {"type": "object"}}},
                        {"event_type": lambda d: named(d, "event_type")}),
    "event-to-profile": ("/event-to-profile", "/event-to-profiles",
                         lambda i, eid, name: {"id": eid, "name": name, "event_type": "t%d" % i,
                                               "event_to_profile": [{"event": "properties.x",
                                                                     "op": 0,
                                                                     "profile": "traits.x"}]},
                         {"event_type": lambda d: named(d, "event_type")}),
    "event-reshaping": ("/event-reshape-schema", "/event-reshape-schemas",
                        lambda i, eid, name: {"id": eid, "name": name, "event_type": "t%d" % i,
                                              "reshaping": {"reshape_schema": {
                                                  "properties": {"a": "event@properties.b"}}}},
                        {"event_type": lambda d: named(d, "event_type")}),
    "identification-point": ("/identification/point", "/identification/points",
                             lambda i, eid, name: {
                                 "id": eid, "name": name, "event_type": "t%d" % (i % 2),
                                 "fields": [{"profile_trait": "data.contact.email.main",
                                             "event_property": "properties.email"}]},
                             {"event_type": lambda d: named(d, "event_type")}),
    "flow": ("/flow/draft", "/flows",
             lambda i, eid, name: {"id": eid, "name": name, "type": "collection",
                                   "flowGraph": {"nodes": [start_node()], "edges": []}},
             {"type": lambda d: d["type"], "timestamp": lambda d: d["timestamp"]}),
    "rule": ("/rule", "/rules",
             lambda i, eid, name: {"id": eid, "name": name, "event_type": "t%d" % (3 - i),
                                   "flow": {"id": "flow-%d" % i, "name": "flow %d" % i}},
             {"event_type": lambda d: named(d, "event_type"),
              "flow": lambda d: d["flow"]["name"]}),
    "resource": ("/resource", "/resources",
                 lambda i, eid, name: {"id": eid, "name": name, "type": ["token", "api", "aws"][i - 1],
                                       "enabled": i == 1,
                                       "credentials": {"production": {"token": "t%d" % i}}},
                 {"type": lambda d: d["type"]["id"], "timestamp": lambda d: d["timestamp"]}),
    "destination": ("/destination", "/destinations",
                    lambda i, eid, name: {"id": eid, "name": name, "enabled": i != 1,
                                          "destination": {"package": "p"},
                                          "resource": {"id": "resource-%d" % (4 - i)},
                                          "event_type": "t%d" % i},
                    {"resource": lambda d: d["resource"]["id"],
                     "event_type": lambda d: named(d, "event_type")}),
    "setting": ("/setting", "/settings",
                lambda i, eid, name: {"id": eid, "name": name, "type": ["b", "A", "c"][i - 1]},
                {"type": lambda d: d["type"], "timestamp": lambda d: d["timestamp"]}),
}


@pytest.fixture(scope="module")
def server(module_server_factory):
    """One server holding exactly three entities of every kind (ids <kind>-1..3)."""
    s = module_server_factory.new(name="lists")
    for kind, (post, _, body, _) in KINDS.items():  # dicts keep order: flows before rules
        for i in (1, 2, 3):
            r = s.api_post(post, body(i, "%s-%d" % (kind, i), NAMES[i]))
            assert r.status == 200, (kind, i, r)
    return s


def listing(server, kind, query=""):
    r = server.api_get(KINDS[kind][1] + query)
    assert r.status == 200, (kind, query, r)
    return r.body


def ids(body):
    return [int(d["id"].rsplit("-", 1)[1]) for d in body["result"]]


def key(v):
    """A value as the store orders it: missing first, text without regard to case."""
    return (0, 0) if v is None else (1, v.lower() if isinstance(v, str) else v)


@pytest.mark.parametrize("kind", list(KINDS))
def test_default_order_is_by_id_and_pages(server, kind):
    body = listing(server, kind)
    assert body["total"] == 3 and ids(body) == [1, 2, 3]
    body = listing(server, kind, "?start=1&limit=1")
    assert body["total"] == 3 and ids(body) == [2]
    body = listing(server, kind, "?start=2&limit=5")
    assert body["total"] == 3 and ids(body) == [3]
    body = listing(server, kind, "?start=3")
    assert body["total"] == 3 and body["result"] == []


@pytest.mark.parametrize("kind", list(KINDS))
def test_sort_by_name_and_id(server, kind):
    assert ids(listing(server, kind, "?sort=name")) == [2, 3, 1]
    assert ids(listing(server, kind, "?sort=-name")) == [1, 3, 2]
    assert ids(listing(server, kind, "?sort=id")) == [1, 2, 3]
    assert ids(listing(server, kind, "?sort=-id")) == [3, 2, 1]
    # Paging applies after sorting.
    body = listing(server, kind, "?sort=name&start=1&limit=1")
    assert body["total"] == 3 and ids(body) == [3]
    body = listing(server, kind, "?sort=-name&limit=2")
    assert ids(body) == [1, 3]


@pytest.mark.parametrize("kind", list(KINDS))
def test_sort_by_the_kinds_own_fields(server, kind):
    for field, value in dict(KINDS[kind][3], enabled=lambda d: d.get("enabled")).items():
        for desc in (False, True):
            body = listing(server, kind, "?sort=%s%s" % ("-" if desc else "", field))
            values = [key(value(d)) for d in body["result"]]
            assert values == sorted(values, reverse=desc), (kind, field, desc, values)
            # Equal values keep the order of their ids.
            got = list(zip(values, ids(body)))
            assert got == sorted(got, reverse=desc), (kind, field, desc, got)


@pytest.mark.parametrize("kind", list(KINDS))
def test_unknown_sort_fields_are_refused(server, kind):
    for bad in ("nope", "-nope", "name;drop table entity", "$.name", "-"):
        r = server.api_get(KINDS[kind][1] + "?sort=" + urllib.parse.quote(bad))
        assert r.status == 422, (kind, bad, r)
        assert r.body["detail"].startswith("sort: "), r
        assert "id, name, enabled" in r.body["detail"], r
        for field in KINDS[kind][3]:
            assert field in r.body["detail"], (field, r)
    assert listing(server, kind)["total"] == 3  # nothing was harmed


def test_flows_list_without_graphs_and_segments_with_counts(server):
    for f in listing(server, "flow", "?sort=-name")["result"]:
        assert "flowGraph" not in f and f["nodes"] == 1
    for s in listing(server, "segment", "?sort=name&limit=2")["result"]:
        assert s["count"] == 0


def test_resources_list_their_credentials_to_admins(server):
    body = listing(server, "resource", "?sort=-name")
    assert [d["credentials"]["production"]["token"] for d in body["result"]] == ["t1", "t3", "t2"]
