-- wrk script: POST the same ~1 KB TrackerPayload to the bare libmicrohttpd server (hello_mhd).
-- Static body (wrk.body), so this is the cheapest request wrk can make: the "bare HTTP" reference.
-- usage: wrk -t1 -c64 -d10s --latency -s bench/post_hello.lua http://127.0.0.1:PORT/track
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = C.payload("0b6f3c1e-2a1d-4c2b-9d3e-5f7a8b9c0d11", "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "[" .. C.event(1001) .. "]")

C.install(function(body)
    if not body:find('"ok":true', 1, true) then return "bad" end
end, function(args)
    if tid == 1 then io.write(string.format("BENCH body_bytes=%d\n", #wrk.body)) end
end)
