-- wrk script: /track with returning profiles, 100 page-view events per request (BATCH env var
-- or the second script argument changes the count). events/s = requests/s x events per request.
-- Same pairs file and checks as track_returning.lua.
-- usage: wrk -t1 -c64 -d10s --latency -s bench/track_batch.lua URL/track -- PAIRS_FILE [N]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

local pairs_, pool, evs, hdr, path

C.install(function(body) return pool_check(body) end, function(args)
    pairs_, pool = C.read_pairs(args[1])
    pool_check = C.track_check(pool)
    local n = tonumber(args[2] or os.getenv("BATCH") or "100")
    evs = C.events(n)
    hdr = { ["Content-Type"] = "application/json" }
    path = wrk.path
    if tid == 1 then
        local b = C.payload(pairs_[1][2], pairs_[1][1], evs)
        io.write(string.format("BENCH pairs=%d events_per_request=%d body_bytes=%d\n",
            #pairs_, n, #b))
    end
end)

function request()
    local pr = pairs_[math.random(1, #pairs_)]
    return wrk.format("POST", path, hdr, C.payload(pr[2], pr[1], evs))
end
