-- wrk script: /track for new visitors, one ~1 KB page-view event per request.
-- Every request carries a fresh random session id and no profile, so the server creates a
-- profile and a session each time. A 2xx response without a profile id counts as badbody.
-- usage: wrk -t1 -c64 -d10s --latency -s bench/track_new.lua URL/track
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

local ev, hdr, path
C.install(C.track_check(nil), function(args)
    ev = "[" .. C.event(1001) .. "]"
    hdr = { ["Content-Type"] = "application/json" }
    path = wrk.path
    if tid == 1 then
        io.write(string.format("BENCH body_bytes=%d\n", #C.payload(C.uuid(), nil, ev)))
    end
end)

function request()
    return wrk.format("POST", path, hdr, C.payload(C.uuid(), nil, ev))
end
