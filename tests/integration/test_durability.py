"""Durability: a 2xx answer means the writes are committed (--sync full), so they survive
SIGKILL; and SIGTERM stops the server cleanly, answering or refusing what is in flight."""
import http.client
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import SLOW, new_id, page_view_event, payload, visit_count

CHAINS = 4
CALLS_PER_CHAIN = 75  # 300 calls in all


def run_chain(server, src, n):
    """n calls of one visitor, each a new session (a visit); returns what was acknowledged."""
    pid = None
    acked = []  # (session id, event id, profile id)
    for i in range(n):
        sid, eid = new_id("s"), new_id("e")
        r = server.track(payload(src, sid, profile_id=pid, events=[page_view_event(eid=eid)]))
        assert 200 <= r.status < 300, r
        if pid is not None:
            assert r.body["profile"]["id"] == pid, r.body
        pid = r.body["profile"]["id"]
        acked.append((sid, eid, pid))
    return pid, acked


import pytest


@pytest.mark.parametrize("sync", [None, "normal"], ids=["sync-full-default", "sync-normal"])
def test_acknowledged_writes_survive_sigkill(server_factory, sync):
    # --sync full is the default; normal must still survive a crash of cdpd (not of the machine)
    s = server_factory.new(args=["--sync", sync] if sync else [], name="durable")
    src = s.create_source()
    with ThreadPoolExecutor(max_workers=CHAINS) as pool:
        chains = list(pool.map(lambda _: run_chain(s, src, CALLS_PER_CHAIN), range(CHAINS)))
    assert sum(len(a) for _, a in chains) == CHAINS * CALLS_PER_CHAIN

    s.kill()
    s.start()

    for pid, acked in chains:
        p = s.profile(pid)
        assert p.status == 200, p
        assert visit_count(p.body) == CALLS_PER_CHAIN
        events = s.events_of(pid)
        types = [e["type"] for e in events]
        assert types.count("page-view") == CALLS_PER_CHAIN
        assert types.count("session-opened") == CALLS_PER_CHAIN
        assert types.count("visit-started") == CALLS_PER_CHAIN
        assert types.count("profile-created") == 1
        stored_ids = {e["id"] for e in events}
        for sid, eid, _ in acked:
            assert eid in stored_ids, eid
            r = s.session(sid)
            assert r.status == 200, (sid, r)
            assert r.body["profile"]["id"] == pid
    # The restarted server keeps working on the same data.
    r = s.track(payload(src, new_id("s"), profile_id=chains[0][0]))
    assert r.status == 200 and r.body["profile"]["id"] == chains[0][0], r
    assert visit_count(s.profile(chains[0][0]).body) == CALLS_PER_CHAIN + 1


def load(server, src, stop, acked, failed, lock):
    while not stop.is_set():
        sid, eid = new_id("s"), new_id("e")
        try:
            r = server.track(payload(src, sid, events=[page_view_event(eid=eid)]))
        except (OSError, http.client.HTTPException):
            with lock:
                failed.append(sid)
            time.sleep(0.01)
            continue
        with lock:
            if 200 <= r.status < 300:
                acked.append((sid, eid, r.body["profile"]["id"]))
            else:
                failed.append((sid, r.status))


def test_sigkill_under_load_keeps_every_acknowledged_write(server_factory):
    s = server_factory.new(name="kill-under-load")
    src = s.create_source()
    stop, lock = threading.Event(), threading.Lock()
    acked, failed = [], []
    threads = [threading.Thread(target=load, args=(s, src, stop, acked, failed, lock))
               for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30 * SLOW
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= 200:
                break
        time.sleep(0.01)
    s.kill()  # while requests are in flight
    stop.set()
    for t in threads:
        t.join(timeout=60 * SLOW)
    with lock:
        acked = list(acked)
    assert len(acked) >= 200, (len(acked), failed[:5])

    s.start()
    for sid, eid, pid in acked:
        assert s.session(sid).status == 200, sid
        assert s.event(eid).status == 200, eid
        assert s.profile(pid).status == 200, pid


def sigterm_under_load(s, src, nthreads, min_acked):
    """Starts nthreads clients, SIGTERMs the server once min_acked requests were answered,
    keeps the load going while it shuts down, and returns what was acknowledged. The server
    must exit 0."""
    stop, lock = threading.Event(), threading.Lock()
    acked, failed = [], []
    threads = [threading.Thread(target=load, args=(s, src, stop, acked, failed, lock))
               for _ in range(nthreads)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30 * SLOW
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= min_acked:
                break
        time.sleep(0.005)
    proc = s.proc
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30 * SLOW)
    stop.set()
    for t in threads:
        t.join(timeout=60 * SLOW)
    s.runs[-1][2:] = ["sigterm", proc.returncode]
    s.proc = None
    assert proc.returncode == 0, s.stderr_text()[-3000:]
    with lock:
        return list(acked)


def test_sigterm_under_load_exits_cleanly(server_factory):
    """SIGTERM while clients keep sending: the server exits 0, every answered request was
    either refused or committed."""
    s = server_factory.new(name="term-under-load")
    src = s.create_source()
    acked = sigterm_under_load(s, src, 8, 100)
    s.start()
    for sid, eid, pid in acked:
        assert s.session(sid).status == 200, sid
        assert s.event(eid).status == 200, eid


def test_restart_keeps_users_sources_and_tokens(server_factory):
    s = server_factory.new(name="restart")
    src = s.create_source()
    token = s.login()
    r = s.track(payload(src, new_id("s")))
    pid = r.body["profile"]["id"]
    s.restart()
    assert s.api_get("/event-source/%s" % src, token=token).status == 200
    assert s.profile(pid).status == 200
    assert s.track(payload(src, new_id("s"), profile_id=pid)).body["profile"]["id"] == pid
    assert visit_count(s.profile(pid).body) == 2


def test_repeated_sigterm_under_load(server_factory):
    """Several stop/start cycles under load, so a request racing the shutdown gets a chance
    to hit the window between the pipeline's end and the listener's end."""
    s = server_factory.new(name="term-cycles")
    src = s.create_source()
    acked_all = []
    for cycle in range(5):
        acked_all.extend(sigterm_under_load(s, src, 16, 40))
        s.start()
    for sid, eid, pid in acked_all:
        assert s.event(eid).status == 200, eid
