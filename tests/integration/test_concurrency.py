"""Parallel collection against one profile: no lost update of the visit counter."""
from concurrent.futures import ThreadPoolExecutor

from conftest import SYSTEM_EVENT_TYPES, new_id, page_view_event, payload, visit_count

N = 200
THREADS = 64


def test_parallel_visits_of_one_profile(server, source):
    first = server.track(payload(source, new_id("s")))
    assert first.status == 200, first
    pid = first.body["profile"]["id"]
    expected_visits = visit_count(server.profile(pid).body)
    assert expected_visits == 1

    def one(i):
        sid = new_id("s%d" % i)
        r = server.track(payload(source, sid, profile_id=pid,
                                 events=[page_view_event(eid=new_id("e%d" % i))]))
        return sid, r

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(one, range(N)))

    bad = [(sid, r.status, r.body) for sid, r in results if r.status != 200]
    assert not bad, bad[:5]
    for sid, r in results:
        assert r.body["profile"]["id"] == pid, r.body
        assert r.body["session"]["id"] == sid
        expected_visits += 1
    assert expected_visits == N + 1

    p = server.profile(pid)
    assert p.status == 200, p
    assert visit_count(p.body) == expected_visits

    events = server.events_of(pid)
    types = [e["type"] for e in events]
    assert types.count("page-view") == N + 1
    assert types.count("session-opened") == N + 1
    assert types.count("visit-started") == N + 1
    assert types.count("profile-created") == 1
    assert set(types) == SYSTEM_EVENT_TYPES | {"page-view"}
    for sid, _ in results[:20]:
        assert server.session(sid).body["profile"]["id"] == pid


def test_parallel_new_visitors_are_distinct(server, source):
    def one(i):
        return server.track(payload(source, new_id("s%d" % i)))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(one, range(N)))
    assert all(r.status == 200 for r in results), [r for r in results if r.status != 200][:3]
    pids = {r.body["profile"]["id"] for r in results}
    assert len(pids) == N


def test_parallel_calls_on_one_session(server, source):
    """Many calls on one session: one profile, one visit, every event stored."""
    sid = new_id("s")
    first = server.track(payload(source, sid))
    assert first.status == 200, first
    pid = first.body["profile"]["id"]

    def one(i):
        return server.track(payload(source, sid, events=[page_view_event(eid=new_id("e%d" % i))]))

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, range(100)))
    assert all(r.status == 200 for r in results), [r for r in results if r.status != 200][:3]
    assert {r.body["profile"]["id"] for r in results} == {pid}
    assert visit_count(server.profile(pid).body) == 1
    assert [e["type"] for e in server.events_of(pid)].count("page-view") == 101


def test_parallel_mixed_good_and_bad_requests(server, source):
    """Refused requests in the same group commit as accepted ones do not disturb them."""
    good_ids = []

    def one(i):
        if i % 3 == 0:
            return "bad", server.track(payload(new_id("nosuch"), new_id("s")))
        if i % 3 == 1:
            return "bad", server.track(payload(source, new_id("s"), events=[{"type": ""}]))
        eid = new_id("e%d" % i)
        good_ids.append(eid)
        return "good", server.track(payload(source, new_id("s"),
                                            events=[page_view_event(eid=eid)]))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(one, range(150)))
    for kind, r in results:
        if kind == "good":
            assert r.status == 200, r
        else:
            assert r.status in (401, 422), r
    for eid in good_ids:
        assert server.event(eid).status == 200, eid


def test_reads_during_writes(server, source):
    """The management API reads while the collector commits: no 5xx, no stale 404."""
    first = server.track(payload(source, new_id("s")))
    pid = first.body["profile"]["id"]

    def write(i):
        return server.track(payload(source, new_id("w%d" % i), profile_id=pid))

    def read(i):
        if i % 2:
            return server.profile(pid)
        return server.api_get("/events/profile/%s?limit=10" % pid)

    with ThreadPoolExecutor(max_workers=16) as pool:
        writes = [pool.submit(write, i) for i in range(120)]
        reads = [pool.submit(read, i) for i in range(120)]
        w = [f.result() for f in writes]
        rd = [f.result() for f in reads]
    assert all(r.status == 200 for r in w), [r for r in w if r.status != 200][:3]
    assert all(r.status == 200 for r in rd), [r for r in rd if r.status != 200][:3]
    assert visit_count(server.profile(pid).body) == 121
