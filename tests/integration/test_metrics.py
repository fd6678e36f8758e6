"""GET /metrics (docs/api.md, Metrics): Prometheus's text exposition format, parsed here line by
line; the counters move with /track requests, a failing flow, a merge and management calls;
requests are labelled with the route's template, never the raw path."""
import math
import re
import urllib.parse

import pytest

from conftest import new_id, page_view_event, payload

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE_RE = re.compile(r"^(%s)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$" % NAME)
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    try:
        return float(s)
    except ValueError:
        raise AssertionError("bad value %r" % s)


def parse_labels(text):
    labels, pos = {}, 0
    while pos < len(text):
        m = re.compile(LABEL).match(text, pos)
        assert m, "bad labels at %r" % text[pos:]
        k, v = m.group(1), m.group(2)
        assert k not in labels, "label %s twice" % k
        labels[k] = v.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        pos = m.end()
        if pos < len(text):
            assert text[pos] == ",", "expected , at %r" % text[pos:]
            pos += 1
    return labels


def parse(text):
    """Prometheus text format 0.0.4 -> {family: {"type", "help", "samples": [(name, labels,
    value)]}}; asserts on anything malformed."""
    assert text.endswith("\n"), "the last line must end with a newline"
    families, current = {}, None
    for line in text.split("\n")[:-1]:
        assert line.strip() == line and line, "blank or padded line %r" % line
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % NAME, line)
            assert m, "bad comment %r" % line
            kind, name, rest = m.groups()
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            if kind == "TYPE":
                assert rest in TYPES, line
                assert fam["type"] is None and not fam["samples"], "TYPE after samples: " + line
                fam["type"] = rest
            else:
                assert fam["help"] is None, "HELP twice: " + line
                fam["help"] = rest
            current = name
            continue
        m = SAMPLE_RE.match(line)
        assert m, "bad sample %r" % line
        name, labels, value = m.group(1), parse_labels(m.group(2) or ""), parse_value(m.group(3))
        fam_name = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[:-len(suffix)] in families and \
                    families[name[:-len(suffix)]]["type"] == "histogram":
                fam_name = name[:-len(suffix)]
        assert fam_name == current, "sample %s outside its family's block" % name
        families[fam_name]["samples"].append((name, labels, value))
    for name, fam in families.items():
        assert fam["type"], "%s has no TYPE" % name
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
        if fam["type"] == "counter":
            assert all(v >= 0 for _n, _l, v in fam["samples"]), name
    return families


def check_histogram(name, samples):
    """Buckets cumulative and ascending by le, +Inf last and equal to _count, per series."""
    series = {}
    for n, labels, v in samples:
        key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if n == name + "_bucket":
            s["buckets"].append((parse_value(labels["le"]), v))
        elif n == name + "_sum":
            s["sum"] = v
        elif n == name + "_count":
            s["count"] = v
    for key, s in series.items():
        les = [le for le, _ in s["buckets"]]
        assert les == sorted(les) and les[-1] == math.inf, (name, key, les)
        counts = [c for _, c in s["buckets"]]
        assert counts == sorted(counts), (name, key, counts)
        assert s["count"] == counts[-1], (name, key)
        assert s["sum"] is not None and s["sum"] >= 0, (name, key)


def value(fams, name, **labels):
    """The sample's value (0 when the series does not exist yet)."""
    fam = name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[:-len(suffix)] in fams:
            fam = name[:-len(suffix)]
    for n, l, v in fams.get(fam, {"samples": []})["samples"]:
        if n == name and l == labels:
            return v
    return 0


def scrape(server):
    r = server.get("/metrics", admin=True)
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    return r.body, parse(r.body)


def test_format_and_families(server):
    text, fams = scrape(server)
    for name, kind in [("cdpd_http_requests_total", "counter"),
                       ("cdpd_http_request_duration_seconds", "histogram"),
                       ("cdpd_events_collected_total", "counter"),
                       ("cdpd_flows_run_total", "counter"),
                       ("cdpd_flow_errors_total", "counter"),
                       ("cdpd_profile_merges_total", "counter"),
                       ("cdpd_pipeline_jobs", "gauge"),
                       ("cdpd_store_commit_duration_seconds", "histogram"),
                       ("process_resident_memory_bytes", "gauge"),
                       ("process_cpu_seconds_total", "counter"),
                       ("process_start_time_seconds", "gauge"),
                       ("cdpd_uptime_seconds", "gauge"),
                       ("cdpd_build_info", "gauge")]:
        assert name in fams, name
        assert fams[name]["type"] == kind, name
        assert fams[name]["help"], name
    assert value(fams, "process_resident_memory_bytes") > 1 << 20
    assert value(fams, "cdpd_uptime_seconds") >= 0
    assert value(fams, "cdpd_pipeline_jobs") == 0


def test_parser_refuses_malformed_text():
    for bad in ["x 1", "# TYPE x counter\nx{a=\"1\" 1\n", "# TYPE x counter\nx one\n",
                "# TYPE x histogram\nx_bucket{le=\"1\"} 2\nx_bucket{le=\"+Inf\"} 1\n"
                "x_sum 1\nx_count 1\n"]:
        with pytest.raises(AssertionError):
            parse(bad)


def test_public_and_only_on_management(server):
    assert server.get("/metrics", admin=True).status == 200  # no token
    assert server.get("/metrics").status == 404  # the public listener has no such route


def test_counters_move(server_factory):
    s = server_factory.new(name="metrics")
    src = s.create_source()
    _, before = scrape(s)
    track = dict(listener="collector", method="POST", route="/track")

    # three /track requests of two events each
    pid = None
    for i in range(3):
        r = s.track(payload(src, new_id("s"), profile_id=pid,
                            events=[page_view_event(), page_view_event(title="Two")]))
        assert r.status == 200, r
        pid = r.body["profile"]["id"]
    # an unknown source: refused, nothing collected
    assert s.track(payload("no-such-source", events=[page_view_event()])).status == 401
    # no such path
    assert s.get("/no/such/path").status == 404

    # a failing flow and a working one on a purchase
    flows = [("boom", [{"id": "start", "type": "flowNode", "position": {"x": 0, "y": 0},
                        "data": {"start": True, "spec": {"className": "StartAction",
                                                         "init": {"event_types": []}},
                                 "metadata": {"name": "Start"}}},
                       {"id": "boom", "type": "flowNode", "position": {"x": 0, "y": 0},
                        "data": {"spec": {"className": "RaiseErrorAction",
                                          "init": {"message": "no stock"}},
                                 "metadata": {"name": "Boom"}}}]),
             ("fine", [{"id": "start", "type": "flowNode", "position": {"x": 0, "y": 0},
                        "data": {"start": True, "spec": {"className": "StartAction",
                                                         "init": {"event_types": []}},
                                 "metadata": {"name": "Start"}}}])]
    for fid, nodes in flows:
        edges = [{"id": "e", "source": "start", "sourceHandle": "payload", "target": "boom",
                  "targetHandle": "payload"}] if fid == "boom" else []
        r = s.api_post("/flow/production", {"id": fid, "name": fid, "type": "collection",
                                            "flowGraph": {"nodes": nodes, "edges": edges}})
        assert r.status == 200, r
        r = s.api_post("/rule", {"id": "rule-" + fid, "name": "rule " + fid,
                                 "event_type": "purchase", "flow": {"id": fid, "name": fid},
                                 "source": {"id": src, "name": src}, "enabled": True})
        assert r.status == 200, r
    r = s.track(payload(src, new_id("s"), events=[{"type": "purchase", "properties": {}}]))
    assert r.status == 226, r
    assert any("no stock" in e for e in r.body["errors"]), r.body

    # a merge by hand of two profiles
    other = s.track(payload(src, new_id("s"), events=[page_view_event()])).body["profile"]["id"]
    r = s.api_post("/profiles/merge", {"ids": [pid, other]})
    assert r.status == 200, r

    # a management read by id: labelled with the template, not the id
    assert s.profile(pid).status == 200
    assert s.get("/profile/%s" % urllib.parse.quote(new_id("nobody")), admin=True,
                 token=s.token).status == 404

    text, after = scrape(s)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("cdpd_http_requests_total", code="200", **track) == 4
    assert moved("cdpd_http_requests_total", code="226", **track) == 1
    assert moved("cdpd_http_requests_total", code="401", **track) == 1
    assert moved("cdpd_http_request_duration_seconds_count", **track) == 6
    assert moved("cdpd_http_request_duration_seconds_sum", **track) > 0
    assert moved("cdpd_http_requests_total", listener="collector", method="", route="unmatched",
                 code="404") == 1
    profile = dict(listener="admin", method="GET", route="/profile/{id}")
    assert moved("cdpd_http_requests_total", code="200", **profile) == 1
    assert moved("cdpd_http_requests_total", code="404", **profile) == 1
    assert moved("cdpd_http_request_duration_seconds_count", **profile) == 2
    assert pid not in text and "nobody" not in text  # no raw paths, no ids

    assert moved("cdpd_events_collected_total") == 3 * 2 + 1 + 1
    assert moved("cdpd_flows_run_total") == 2
    assert moved("cdpd_flow_errors_total") == 1
    assert moved("cdpd_profile_merges_total") == 1
    assert moved("cdpd_store_commit_duration_seconds_count") >= 1
    assert value(after, "cdpd_pipeline_jobs") == 0
