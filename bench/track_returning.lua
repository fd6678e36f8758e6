-- wrk script: /track with returning profiles, one ~1 KB page-view event per request.
-- The pairs file ("profile_id session_id" per line) is prepared by bench/run.sh (bench/prep.py):
-- each pair was created by one /track, so the profile exists and the session is known.
-- Every request picks a random pair. A 2xx response whose profile.id is not in the pool counts
-- as badbody (the server did not recognise the returning profile); non-empty "errors" as errbody.
-- usage: wrk -t1 -c64 -d10s --latency -s bench/track_returning.lua URL/track -- PAIRS_FILE
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

local reqs, pool = {}, nil

C.install(function(body) return pool_check(body) end, function(args)
    local pairs_
    pairs_, pool = C.read_pairs(args[1])
    pool_check = C.track_check(pool)
    local ev = "[" .. C.event(1001) .. "]"
    local hdr = { ["Content-Type"] = "application/json" }
    local path = wrk.path
    local minb, maxb = math.huge, 0
    for i, pr in ipairs(pairs_) do
        local b = C.payload(pr[2], pr[1], ev)
        minb, maxb = math.min(minb, #b), math.max(maxb, #b)
        reqs[i] = wrk.format("POST", path, hdr, b)
    end
    if tid == 1 then
        io.write(string.format("BENCH pairs=%d body_bytes=%d-%d\n", #reqs, minb, maxb))
    end
end)

function request()
    return reqs[math.random(1, #reqs)]
end
