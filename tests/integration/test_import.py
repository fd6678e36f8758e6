"""Bulk imports: POST /profiles/import, /sessions/import and /events/import with NDJSON bodies
(and Tracardi's JSON array): defaults filled, bad lines reported with their reasons while the
good ones are stored, hashed contact ids and merges for profiles, events found by their person
whichever comes first, the import body limit, and speed."""
import json
import time
import urllib.parse

import pytest

from conftest import SLOW, is_uuid, new_id, payload

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def server(server_factory):
    return server_factory.new()


def ndjson(docs):
    return "".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in docs)


def imp(server, what, docs, token=None, headers=None):
    body = docs if isinstance(docs, (str, bytes)) else ndjson(docs)
    return server.api_post("/%s/import" % what, body, token=token,
                           headers=NDJSON if headers is None else headers)


def events_of(server, pid):
    r = server.api_get("/events/profile/%s?limit=1000" % urllib.parse.quote(pid, safe=""))
    assert r.status == 200, r
    return r.body


def test_profiles_are_imported_with_defaults_and_hashed_ids(server):
    r = imp(server, "profiles", [
        {"id": "imp-1", "data": {"contact": {"email": {"main": "Ann@Example.com"}},
                                 "pii": {"firstname": "Ann"}},
         "traits": {"plan": "gold"}, "segments": ["vip"],
         "metadata": {"time": {"insert": "2023-05-01T10:00:00+00:00"}}},
        {"id": "imp-2", "stats": {"visits": 4}, "consents": {"marketing": {"revoke": None}}},
    ])
    assert r.status == 200, r
    assert r.body["imported"] == 2 and r.body["documents"] == 2
    assert r.body["rejected"] == [] and r.body["rejected_total"] == 0
    assert r.body["merged"] == 0 and r.body["replaced"] == 0

    p = server.profile("imp-1").body
    assert p["traits"] == {"plan": "gold"} and p["segments"] == ["vip"]
    assert p["data"]["pii"]["firstname"] == "Ann"
    assert p["data"]["pii"]["lastname"] is None  # defaults of a new profile fill the rest
    assert p["data"]["contact"]["phone"]["main"] is None
    assert p["stats"] == {"visits": 0, "views": 0, "counters": {}}
    assert p["metadata"]["time"]["insert"] == "2023-05-01T10:00:00+00:00"
    assert p["metadata"]["time"]["visit"]["count"] == 0
    assert p["active"] is True and p["data"]["anonymous"] is False
    assert p["ids"][0] == "imp-1"
    assert any(i.startswith("emm-") for i in p["ids"])  # as if collected
    q = server.profile("imp-2").body
    assert q["stats"]["visits"] == 4 and q["consents"] == {"marketing": {"revoke": None}}
    assert q["data"]["anonymous"] is True and q["ids"] == ["imp-2"]
    assert q["metadata"]["time"]["insert"]  # defaulted to now


def test_bad_lines_are_reported_and_the_good_ones_stored(server):
    deep = "{" + '"a":{' * 80 + "}" * 80 + "}"
    lines = [
        json.dumps({"id": "ok-1"}),                                  # 1
        "",                                                          # 2 blank: skipped
        '{"id": "broken"',                                           # 3
        "[1, 2]",                                                    # 4
        json.dumps({"name": "no id"}),                               # 5
        json.dumps({"id": 17}),                                      # 6
        json.dumps({"id": "bad-traits", "traits": [1]}),             # 7
        json.dumps({"id": "bad-contact", "data": {"contact": {"email": "x@y.z"}}}),  # 8
        json.dumps({"id": "bad-ids", "ids": ["bad-ids", 5]}),        # 9
        json.dumps({"id": "bad-time", "metadata": {"time": {"insert": "yesterday"}}}),  # 10
        json.dumps({"id": "bad-visits", "stats": {"visits": "many"}}),  # 11
        deep,                                                        # 12
        "   " + json.dumps({"id": "ok-2"}) + "  \r",                 # 13
    ]
    r = imp(server, "profiles", "\n".join(lines))
    assert r.status == 200, r
    assert r.body["imported"] == 2 and r.body["documents"] == 12
    assert r.body["rejected_total"] == 10
    rej = {x["line"]: x for x in r.body["rejected"]}
    assert sorted(rej) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "malformed JSON" in rej[3]["error"]
    assert rej[4]["error"] == "expected a JSON object"
    assert rej[5]["error"].startswith("id:") and rej[6]["error"].startswith("id:")
    assert rej[7] == {"line": 7, "id": "bad-traits", "error": "traits: expected an object"}
    assert rej[8]["error"] == "data.contact.email: expected an object"
    assert rej[9]["error"].startswith("ids[1]: expected a string")
    assert rej[10]["error"].startswith("metadata.time.insert:")
    assert rej[11]["error"] == "stats.visits: expected a number"
    assert "deeper" in rej[12]["error"]
    assert server.profile("ok-1").status == 200 and server.profile("ok-2").status == 200
    for bad in ("bad-traits", "bad-contact", "bad-ids", "bad-time", "bad-visits"):
        assert server.profile(bad).status == 404


def test_rejections_are_counted_past_the_listed_ones(server):
    lines = ["{}"] * 1500 + [json.dumps({"id": "last"})]
    r = imp(server, "profiles", "\n".join(lines))
    assert r.status == 200, r
    assert r.body["imported"] == 1 and r.body["rejected_total"] == 1500
    assert len(r.body["rejected"]) == 1000 and r.body["rejected"][-1]["line"] == 1000


def test_a_json_array_body_as_tracardi_sends_it(server):
    r = server.api_post("/profiles/import", [{"id": "arr-1"}, {"id": 2}, {"id": "arr-3"}])
    assert r.status == 200, r
    assert r.body["imported"] == 2
    assert r.body["rejected"] == [{"index": 1, "error": r.body["rejected"][0]["error"]}]
    assert server.profile("arr-3").status == 200
    # an array that is not one array is refused whole, before anything is written
    r = server.api_post("/profiles/import", '[{"id": "arr-4"}, {"id": "arr-5"',
                        headers={"Content-Type": "application/json"})
    assert r.status == 422 and "not one JSON array" in r.body["detail"], r
    assert server.profile("arr-4").status == 404
    r = server.api_post("/profiles/import", '[{"id": "arr-6"}] x',
                        headers={"Content-Type": "application/json"})
    assert r.status == 422, r
    # as NDJSON, the same bytes are one (bad) line
    r = imp(server, "profiles", '[{"id": "arr-7"}]')
    assert r.status == 200 and r.body["rejected_total"] == 1 and r.body["imported"] == 0
    # empty bodies import nothing
    for body, headers in (("", NDJSON), ("[]", {"Content-Type": "application/json"})):
        r = imp(server, "profiles", body, headers=headers)
        assert r.status == 200 and r.body["documents"] == 0, r


def test_only_admins_import(server):
    server.add_user("dev@example.com", "dev-password-1", "developer")
    server.add_user("mk@example.com", "mk-password-1", "marketer")
    body = ndjson([{"id": "auth-1"}])
    for what in ("profiles", "sessions", "events"):
        r = server.post("/%s/import" % what, body, admin=True, headers=NDJSON)
        assert r.status == 401, r
        r = server.post("/%s/import" % what, body, admin=True, headers=NDJSON, token="nope")
        assert r.status == 401, r
        for email, pw in (("dev@example.com", "dev-password-1"), ("mk@example.com", "mk-password-1")):
            r = imp(server, what, body, token=server.login(email, pw))
            assert r.status == 403, r
    assert server.profile("auth-1").status == 404
    # the token is checked before a large body is read: a stranger's 5 MB is refused at once
    big = "x" * (5 << 20)
    r = server.post("/events/import", big, admin=True, headers=NDJSON)
    assert r.status == 401, r
    # the import routes are not on the collector listener
    r = server.post("/profiles/import", body, headers=NDJSON)
    assert r.status == 404


def test_events_are_found_by_their_person_whichever_comes_first(server):
    # events of a profile not imported yet
    r = imp(server, "events", [
        {"id": "ev-1", "type": "Page View", "profile": {"id": "late"},
         "session": {"id": "s-late"}, "metadata": {"time": {"insert": "2024-01-01T00:00:00Z"}},
         "properties": {"n": 1}},
        {"type": "purchase", "profile": {"id": "late"}, "properties": {"total": 5}},
        {"type": "purchase", "profile": {"id": "old-id-of-z"}},
        {"type": "page-view"},
    ])
    assert r.status == 200, r
    assert r.body["imported"] == 4 and r.body["rejected"] == []
    assert events_of(server, "late")["total"] == 2  # found before the profile exists
    e = server.event("ev-1").body
    assert e["type"] == "page-view" and e["name"] == "Page View"
    assert e["metadata"]["time"]["insert"] == "2024-01-01T00:00:00Z"
    assert e["properties"] == {"n": 1} and e["source"] == {} and e["metadata"]["valid"] is True
    assert e["metadata"]["profile_less"] is False
    ids = [x["id"] for x in events_of(server, "late")["result"]]
    other = [i for i in ids if i != "ev-1"][0]
    assert is_uuid(other)  # ids made for events that had none
    # the profiles come later; one knows the old id as one of its ids
    r = imp(server, "profiles", [{"id": "late"}, {"id": "z", "ids": ["z", "old-id-of-z"]}])
    assert r.status == 200 and r.body["imported"] == 2, r
    assert events_of(server, "late")["total"] == 2
    assert events_of(server, "z")["total"] == 1
    assert server.profile("old-id-of-z").body["id"] == "z"
    # events imported after their profile, by the profile's alias
    r = imp(server, "events", [{"type": "login", "profile": {"id": "old-id-of-z"}}])
    assert r.status == 200 and r.body["imported"] == 1
    assert events_of(server, "z")["total"] == 2
    # and with events collected by /track for the same person
    src = server.create_source()
    t = server.track(payload(src, new_id("s"), "late", events=[{"type": "page-view"}]))
    assert t.status == 200 and t.body["profile"]["id"] == "late", t
    assert events_of(server, "late")["total"] >= 3


def test_bad_events_are_rejected_with_reasons(server):
    r = imp(server, "events", [
        {"type": "ok", "profile": {"id": "p"}},
        {"profile": {"id": "p"}},
        {"type": "  "},
        {"type": 5},
        {"type": "x", "profile": "p"},
        {"type": "x", "profile": {"id": 7}},
        {"type": "x", "session": {"id": ["s"]}},
        {"type": "x", "metadata": {"time": {"insert": "2024-13-45"}}},
        {"type": "x", "properties": "none"},
        {"id": "", "type": "x"},
    ])
    assert r.status == 200, r
    assert r.body["imported"] == 1 and r.body["rejected_total"] == 9
    errs = [x["error"] for x in r.body["rejected"]]
    assert errs[0].startswith("type:") and errs[1].startswith("type:") and errs[2].startswith("type:")
    assert errs[3].startswith("profile:")
    assert errs[4].startswith("profile.id:")
    assert errs[5].startswith("session.id:")
    assert errs[6].startswith("metadata.time.insert:")
    assert errs[7] == "properties: expected an object"
    assert errs[8].startswith("id:")
    assert all("id" not in x for x in r.body["rejected"][:8])  # no made-up ids in reports


def test_sessions_import(server):
    r = imp(server, "sessions", [
        {"id": "ses-1", "profile": {"id": "pp"}, "metadata": {"channel": "Web"},
         "context": {"x": 1}},
        {"id": "ses-2"},
        {"profile": {"id": "pp"}},
    ])
    assert r.status == 200, r
    assert r.body["imported"] == 2 and r.body["rejected"][0]["line"] == 3
    s = server.session("ses-1").body
    assert s["profile"]["id"] == "pp" and s["context"] == {"x": 1}
    assert s["metadata"]["channel"] == "Web" and s["metadata"]["status"] == "started"
    assert s["metadata"]["time"]["insert"]


def test_shared_ids_merge_with_stored_profiles(server):
    src = server.create_source()
    sid = new_id("s")
    t = server.track(payload(src, sid, events=[
        {"type": "identification", "properties": {"email": "bo@example.com", "firstname": "Bo"}}]))
    assert t.status == 200, t
    collected = t.body["profile"]["id"]
    assert any(i.startswith("emm-") for i in server.profile(collected).body["ids"])
    # an imported profile with the same address (older than the collected one) is merged with it
    r = imp(server, "profiles", [
        {"id": "crm-bo", "data": {"contact": {"email": {"main": "BO@example.com "}},
                                  "pii": {"lastname": "Berg"}},
         "traits": {"crm": True}, "metadata": {"time": {"insert": "2020-01-01T00:00:00Z"}}},
    ])
    assert r.status == 200, r
    assert r.body["imported"] == 1 and r.body["merged"] == 1
    p = server.profile(collected).body
    assert p["id"] == "crm-bo"  # the oldest survives, as `cdpd job merge` decides
    assert collected in p["ids"] and "crm-bo" in p["ids"]
    assert p["data"]["pii"]["firstname"] == "Bo" and p["data"]["pii"]["lastname"] == "Berg"
    assert p["traits"]["crm"] is True
    assert events_of(server, "crm-bo")["total"] >= 1  # the collected events followed
    m = server.api_get("/merges?profile=crm-bo").body
    assert m["total"] == 1 and m["result"][0]["cause"][0]["type"] == "import"
    # two lines of one import sharing an id end as one person
    r = imp(server, "profiles", [
        {"id": "twin-a", "data": {"contact": {"phone": {"mobile": "+48 600 100 200"}}}},
        {"id": "twin-b", "data": {"contact": {"phone": {"mobile": "+48 600 100 200"}}}},
    ])
    assert r.status == 200 and r.body["merged"] == 1, r
    assert server.profile("twin-a").body["id"] == server.profile("twin-b").body["id"]


def test_reimport_replaces_the_profile_and_keeps_its_ids(server):
    r = imp(server, "profiles", [{"id": "re-1", "ids": ["re-1", "legacy-re"], "traits": {"a": 1}}])
    assert r.status == 200 and r.body["replaced"] == 0
    r = imp(server, "profiles", [{"id": "re-1", "traits": {"b": 2}}])
    assert r.status == 200 and r.body["replaced"] == 1 and r.body["merged"] == 0, r
    p = server.profile("legacy-re").body
    assert p["id"] == "re-1" and p["traits"] == {"b": 2}
    assert set(p["ids"]) == {"re-1", "legacy-re"}


def test_import_body_limit(server_factory):
    s = server_factory.new(args=["--max-body", "100000", "--max-import-body", "2000000"])
    # a body beyond --max-body is fine on the import routes ...
    lines = [{"id": "lim-%d" % i, "traits": {"pad": "x" * 200}} for i in range(5000)]
    body = ndjson(lines)
    assert 100000 < len(body) < 2000000 < 2 * len(body)
    r = imp(s, "profiles", body)
    assert r.status == 200 and r.body["imported"] == 5000, r
    # ... but not elsewhere
    big = {"id": "src", "name": "x" * 200000, "type": ["rest"]}
    assert s.api_post("/event-source", big).status == 413
    # beyond --max-import-body is 413, by Content-Length or by what arrives
    r = imp(s, "profiles", body * 2)
    assert r.status == 413, r
    r = s.post("/profiles/import", (body * 2).encode(), admin=True, token=s.token, headers=NDJSON,
               chunked=True)
    assert r.status == 413, r
    # one document larger than --max-body is rejected, the others stored
    r = imp(s, "profiles", [{"id": "huge", "traits": {"pad": "x" * 150000}}, {"id": "small"}])
    assert r.status == 200 and r.body["imported"] == 1, r
    assert "larger than --max-body" in r.body["rejected"][0]["error"]


def test_large_import_is_fast(server):
    n = 20000
    profiles = ndjson({"id": "big-%d" % i,
                       "data": {"contact": {"email": {"main": "user%d@example.com" % i}},
                                "pii": {"firstname": "User %d" % i}},
                       "traits": {"i": i}} for i in range(n))
    events = ndjson({"type": "page-view", "profile": {"id": "big-%d" % (i % 1000)},
                     "session": {"id": "bs-%d" % (i % 3000)}, "properties": {"i": i}}
                    for i in range(n))
    t0 = time.monotonic()
    r = imp(server, "profiles", profiles)
    t1 = time.monotonic()
    assert r.status == 200 and r.body["imported"] == n, r.body.get("detail")
    r = imp(server, "events", events)
    t2 = time.monotonic()
    assert r.status == 200 and r.body["imported"] == n, r.body.get("detail")
    # a few seconds each on a slow machine (under a second here): far from a request per line
    assert t1 - t0 < 15 * SLOW and t2 - t1 < 15 * SLOW, (t1 - t0, t2 - t1)
    assert server.counts()["profile"] == n
    assert events_of(server, "big-7")["total"] == n // 1000
    p = server.profile("big-19999").body
    assert p["traits"] == {"i": 19999} and len(p["ids"]) == 2
