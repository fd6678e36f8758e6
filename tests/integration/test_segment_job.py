"""Batch segmentation: `cdpd job segment` re-evaluates every profile against every enabled segment
(adding, and with remove_when_false removing, the machine name), while the server runs or after
it stopped; its JSON summary says which conditions the store answered in SQL and which were
evaluated in C; `cdpd serve --segment-interval N` runs the same job on a schedule."""
import json
import subprocess
import time

import pytest

from conftest import CDPD_BIN, SCALEOUT, SLOW, new_id, payload


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def job(server, *args, data=True):
    cmd = [CDPD_BIN, "job", "segment"] + (["--data", str(server.data_dir)] if data else [])
    r = subprocess.run(cmd + list(args), env=server._env(), capture_output=True, text=True,
                       timeout=120 * SLOW)
    server._check_sanitizer_text(r.stderr, "cdpd job segment")
    return r


def run_job(server, *args):
    r = job(server, *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def add_segment(server, **doc):
    r = server.api_post("/segment", doc)
    assert r.status == 200, r
    return r.body


# Traits of the profiles: (tier, age, tags).
PEOPLE = [("gold", 41, ["a", "b"]), ("silver", 17, ["b"]), ("Silver", 70, []),
          (None, 30, ["a"]), ("gold", 12, None), ("bronze", None, ["c", "a"]),
          ("gold", 65, ["a"]), (None, None, None)]

SEGMENTS = [
    # name, condition, remove_when_false, expected membership from (tier, age, tags)
    ("Gold", 'profile@traits.tier == "gold"', True, lambda t, a, g: t == "gold"),
    ("Adults", "profile@traits.age >= 18", True, lambda t, a, g: a is not None and a >= 18),
    ("Tag a", 'profile@traits.tags CONTAINS "a"', False, lambda t, a, g: bool(g) and "a" in g),
    ("Silverish", 'lowercase(profile@traits.tier) == "silver"', True,
     lambda t, a, g: t is not None and t.lower() == "silver"),
    ("No tier", "profile@traits.tier NOT EXISTS", True, lambda t, a, g: t is None),
    ("Recent", 'profile@metadata.time.insert > now.offset("-1h")', True, lambda t, a, g: True),
    # an event field: there is no event in a batch run, so it is evaluated in C, as missing
    ("Seniors or event", 'event@type == "identify" OR profile@traits.age > 60', True,
     lambda t, a, g: a is not None and a > 60),
]


def track_people(server, src):
    server.api_post("/event-to-profile", {
        "name": "identify", "event_type": "identify",
        "event_to_profile": [{"event": "properties.tier", "op": 0, "profile": "traits.tier"},
                             {"event": "properties.age", "op": 0, "profile": "traits.age"},
                             {"event": "properties.tags", "op": 0, "profile": "traits.tags"}]})
    pids = []
    for tier, age, tags in PEOPLE:
        props = {k: v for k, v in (("tier", tier), ("age", age), ("tags", tags)) if v is not None}
        r = server.track(payload(src, new_id("s"), events=[{"type": "identify",
                                                            "properties": props}]))
        assert r.status == 200, r
        pids.append(r.body["profile"]["id"])
    return pids


def segments_of(server, pid):
    return server.profile(pid).body.get("segments", [])


def test_job_adds_and_removes_while_the_server_runs(server):
    src = server.create_source()
    # A live segment first: the profiles tracked now join it; its condition changes later.
    gold = add_segment(server, name="Gold", condition='profile@traits.tier == "gold"',
                       eventType=["identify"], remove_when_false=True)
    pids = track_people(server, src)
    gold_pids = [p for p, person in zip(pids, PEOPLE) if person[0] == "gold"]
    assert all(segments_of(server, p) == ["gold"] for p in gold_pids)
    gold["condition"] = 'profile@traits.tier == "platinum"'  # now nobody holds it
    assert server.api_post("/segment", gold).status == 200
    for name, cond, rwf, _ in SEGMENTS[1:]:
        add_segment(server, name=name, condition=cond, remove_when_false=rwf)
    add_segment(server, name="Off", condition="profile@id EXISTS", enabled=False)

    summary = run_job(server)
    assert summary["job"] == "segment" and summary["profiles"] == len(PEOPLE)
    if not SCALEOUT:  # scale-out evaluates in C and writes through the shared cache
        assert summary["fallback"] == ["seniors-or-event"]
        assert sorted(summary["translated"]) == ["adults", "gold", "no-tier", "recent",
                                                 "silverish", "tag-a"]
    by_name = {s["machine_name"]: s for s in summary["segments"]}
    assert by_name["gold"]["removed"] == len(gold_pids) and by_name["gold"]["added"] == 0
    assert by_name["recent"]["added"] == len(PEOPLE)
    assert "off" not in by_name and summary["skipped"] == []

    expected = {}
    for pid, person in zip(pids, PEOPLE):
        want = sorted(s[0].lower().replace(" ", "-") for s in SEGMENTS[1:] if s[3](*person))
        assert sorted(segments_of(server, pid)) == want, (person, want)
        p = server.profile(pid).body
        assert p["metadata"]["time"]["segmentation"], p
        for m in want:
            expected[m] = expected.get(m, 0) + 1
    counts = {s["machine_name"]: s["count"] for s in server.api_get("/segments").body["result"]}
    assert counts == dict({"gold": 0, "off": 0}, **{
        s[0].lower().replace(" ", "-"): expected.get(s[0].lower().replace(" ", "-"), 0)
        for s in SEGMENTS[1:]}), counts

    # A second run changes nothing; the collector keeps working on the changed profiles, and
    # live segmentation and the job agree on them.
    again = run_job(server)
    assert all(s["added"] == 0 and s["removed"] == 0 for s in again["segments"]), again
    r = server.track(payload(src, new_id("s"), profile_id=pids[1],
                             events=[{"type": "identify", "properties": {"age": 19}}]))
    assert r.status == 200
    assert "adults" in segments_of(server, pids[1])
    # ... except where the condition reads the event: live, `event@type == "identify"` held;
    # in a batch run there is no event.
    assert "seniors-or-event" in segments_of(server, pids[1])
    third = run_job(server)
    changes = {s["machine_name"]: (s["added"], s["removed"]) for s in third["segments"]
               if s["added"] or s["removed"]}
    assert changes == {"seniors-or-event": (0, 1)}, third


def test_the_job_runs_from_the_api(server):
    """POST /segments/run: the same job at once, for the GUI's "Run segmentation now"."""
    src = server.create_source()
    pids = track_people(server, src)
    add_segment(server, name="Adults", condition="profile@traits.age >= 18",
                remove_when_false=True)
    assert all("adults" not in segments_of(server, p) for p in pids)  # nobody tracked since
    r = server.api_post("/segments/run", {})
    assert r.status == 200, r
    assert r.body["job"] == "segment" and r.body["profiles"] == len(PEOPLE)
    adults = [p for p, (t, a, g) in zip(pids, PEOPLE) if a is not None and a >= 18]
    assert [s["added"] for s in r.body["segments"]] == [len(adults)]
    assert all("adults" in segments_of(server, p) for p in adults)
    counts = {s["machine_name"]: s["count"] for s in server.api_get("/segments").body["result"]}
    assert counts == {"adults": len(adults)}
    # on staging it runs on staging's profiles: none
    r = server.api_post("/segments/run", {}, headers={"x-context": "staging"})
    assert r.status == 200 and r.body["profiles"] == 0, r
    # a marketer may run it, a maintainer may not
    for role, status in (("marketer", 200), ("maintainer", 403)):
        email = new_id(role) + "@example.com"
        assert server.api_post("/user", {"email": email, "password": "pass-word-1",
                                         "roles": [role]}).status == 200
        assert server.api_post("/segments/run", {}, token=server.login(email, "pass-word-1")
                               ).status == status


def test_job_after_the_server_stopped_and_by_store_url(server):
    src = server.create_source()
    pids = track_people(server, src)
    add_segment(server, name="Adults", condition="profile@traits.age >= 18",
                remove_when_false=True)
    server.stop()
    r = job(server, "--store", "sqlite:%s" % server.db_path, data=False)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["translated"] == ["adults"]
    adults = sum(1 for t, a, g in PEOPLE if a is not None and a >= 18)
    assert summary["segments"][0]["added"] == adults
    server.start()
    members = [p for p in pids if "adults" in segments_of(server, p)]
    assert len(members) == adults


def test_job_errors_are_clear(server, tmp_path):
    r = job(server, "--store", "nosuch://somewhere", data=False)
    assert r.returncode != 0 and "no store backend for 'nosuch:'" in r.stderr, r.stderr
    r = subprocess.run([CDPD_BIN, "job", "frobnicate"], capture_output=True, text=True,
                       timeout=60 * SLOW)
    assert r.returncode == 2 and "unknown job 'frobnicate'" in r.stderr
    r = job(server, "--bogus", "1")
    assert r.returncode != 0 and "unknown option '--bogus'" in r.stderr
    blocked = tmp_path / "file"
    blocked.write_text("x")
    r = subprocess.run([CDPD_BIN, "job", "segment", "--data", str(blocked / "sub")],
                       capture_output=True, text=True, timeout=60 * SLOW)
    assert r.returncode != 0 and "cdpd:" in r.stderr


def test_serve_runs_the_job_on_a_schedule(server_factory):
    server = server_factory.new(args=["--segment-interval", "1"])
    src = server.create_source()
    pids = track_people(server, src)
    add_segment(server, name="Adults", condition="profile@traits.age >= 18",
                remove_when_false=True)
    adults = [p for p, (t, a, g) in zip(pids, PEOPLE) if a is not None and a >= 18]
    deadline = time.monotonic() + 15 * SLOW
    while time.monotonic() < deadline:
        if all("adults" in segments_of(server, p) for p in adults):
            break
        time.sleep(0.2)
    assert all("adults" in segments_of(server, p) for p in adults)
    assert "segment job:" in server.stderr_text()
    assert server.stop() == 0  # the schedule's thread stops with the server


def test_segment_interval_zero_disables_the_schedule(server_factory):
    server = server_factory.new(args=["--segment-interval", "0"])
    src = server.create_source()
    pids = track_people(server, src)
    add_segment(server, name="Adults", condition="profile@traits.age >= 18")
    time.sleep(1.5)
    assert all("adults" not in segments_of(server, p) for p in pids)
    assert "segment job" not in server.stderr_text()
