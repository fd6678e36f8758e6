-- Shared code for the wrk scripts of bench/ (loaded with dofile from the script's directory).
--
-- Provides: payload builders for Tracardi TrackerPayloads (~1 KB for one event), UUIDs,
-- the pairs-file reader, and the response accounting every script uses:
--   setup()/init() number the wrk threads, response() counts statuses and checks the body with
--   a per-script check function, done() sums the per-thread counters and prints one line
--     BENCH responses=N non2xx=N s4xx=N s5xx=N badbody=N errbody=N sock_connect=.. ...
--   which bench/run.sh parses (plus "BENCH first_bad ..." lines when something went wrong).

local M = {}

M.UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    .. "Chrome/120.0.0.0 Safari/537.36"

local hex = "0123456789abcdef"
local function hexn(n)
    local t = {}
    for i = 1, n do
        local k = math.random(1, 16)
        t[i] = hex:sub(k, k)
    end
    return table.concat(t)
end

-- random UUIDv4 text (36 chars)
function M.uuid()
    local k = math.random(1, 4)
    local v = ("89ab"):sub(k, k)
    return hexn(8) .. "-" .. hexn(4) .. "-4" .. hexn(3) .. "-" .. v .. hexn(3) .. "-" .. hexn(12)
end

-- context shared by all payloads: real Chrome UA, language, screen, page
local CONTEXT = '"context":{"browser":{"local":{"browser":{"name":"Netscape","engine":"Blink",'
    .. '"appVersion":"5.0","userAgent":"' .. M.UA .. '","language":"en-US","platform":"Win32",'
    .. '"vendor":"Google Inc.","cookieEnabled":true},"device":{"platform":"Win32"}}},'
    .. '"screen":{"local":{"width":1920,"height":1080,"innerWidth":1903,"innerHeight":955}},'
    .. '"page":{"url":"https://shop.example.com/products/blue-shirt?utm_source=newsletter",'
    .. '"path":"/products/blue-shirt","title":"Blue shirt - Example shop"},'
    .. '"time":{"local":"11/29/2026, 6:35:00 AM","tz":"Europe/Berlin"}}'

-- one page-view event (i selects the product so batched events differ a little)
function M.event(i)
    local sku = string.format("BS-%04d", i or 1001)
    local url = "https://shop.example.com/products/" .. sku:lower() .. "?utm_source=newsletter"
    return '{"type":"page-view","properties":{"category":"shirts","sku":"' .. sku
        .. '","price":29.9,"currency":"EUR","in_stock":true},"context":{"page":{"url":"' .. url
        .. '","title":"Blue shirt - Example shop","referer":{"host":"www.google.com"}}}}'
end

-- events: the already-joined JSON array text; profile may be nil (new visitor)
function M.payload(session, profile, events)
    local p = '{"source":{"id":"bench"},"session":{"id":"' .. session .. '"},'
    if profile then
        p = p .. '"profile":{"id":"' .. profile .. '"},'
    end
    return p .. CONTEXT .. ',"events":' .. events .. ',"options":{"scrollDepth":0}}'
end

function M.events(n)
    local t = {}
    for i = 1, n do
        t[i] = M.event(1000 + i)
    end
    return "[" .. table.concat(t, ",") .. "]"
end

-- "profile_id session_id" per line
function M.read_pairs(path)
    local f = assert(io.open(path, "r"), "cannot open pairs file " .. tostring(path))
    local pairs_, ids = {}, {}
    for line in f:lines() do
        local p, s = line:match("^(%S+)%s+(%S+)")
        if p then
            pairs_[#pairs_ + 1] = { p, s }
            ids[p] = true
        end
    end
    f:close()
    assert(#pairs_ > 0, "no pairs in " .. path)
    return pairs_, ids
end

-- ---- accounting ----------------------------------------------------------------------------

local threads = {}
local counter = 0

-- installs setup/init/response/done globals; check(body) returns nil when the body is fine,
-- "bad" when it is wrong (e.g. unexpected profile id), "err" when it reports errors.
-- init_extra(args) runs inside each thread after seeding the random generator.
function M.install(check, init_extra)
    function setup(thread)
        counter = counter + 1
        thread:set("tid", counter)
        threads[#threads + 1] = thread
    end

    function init(args)
        math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
        for _ = 1, 10 do math.random() end
        responses, non2xx, s4xx, s5xx, badbody, errbody = 0, 0, 0, 0, 0, 0
        first_bad = ""
        if init_extra then init_extra(args) end
    end

    function response(status, headers, body)
        responses = responses + 1
        if status < 200 or status > 299 then
            non2xx = non2xx + 1
            if status >= 500 then s5xx = s5xx + 1 elseif status >= 400 then s4xx = s4xx + 1 end
            if first_bad == "" then
                first_bad = "status=" .. status .. " body=" .. (body or ""):sub(1, 200)
            end
            return
        end
        if check then
            local r = check(body or "")
            if r == "bad" then
                badbody = badbody + 1
            elseif r == "err" then
                errbody = errbody + 1
            end
            if r and first_bad == "" then
                first_bad = "status=" .. status .. " " .. r .. " body=" .. (body or ""):sub(1, 200)
            end
        end
    end

    function done(summary, latency, requests)
        local t = { responses = 0, non2xx = 0, s4xx = 0, s5xx = 0, badbody = 0, errbody = 0 }
        local firsts = {}
        for _, th in ipairs(threads) do
            for k, _ in pairs(t) do
                t[k] = t[k] + (th:get(k) or 0)
            end
            local fb = th:get("first_bad")
            if fb and fb ~= "" then firsts[#firsts + 1] = fb end
        end
        local e = summary.errors
        io.write(string.format(
            "BENCH responses=%d non2xx=%d s4xx=%d s5xx=%d badbody=%d errbody=%d "
                .. "sock_connect=%d sock_read=%d sock_write=%d sock_timeout=%d wrk_status=%d "
                .. "requests=%d duration_us=%d\n",
            t.responses, t.non2xx, t.s4xx, t.s5xx, t.badbody, t.errbody,
            e.connect, e.read, e.write, e.timeout, e.status, summary.requests, summary.duration))
        for _, fb in ipairs(firsts) do
            io.write("BENCH first_bad " .. fb:gsub("\n", " ") .. "\n")
        end
    end
end

-- profile id in a /track response ("profile":{"id":"..."})
function M.profile_id(body)
    return body:match('"profile":%s*{%s*"id":%s*"([^"]*)"')
end

-- generic /track body check: a profile id must be present, "errors" must be empty
function M.track_check(pool)
    return function(body)
        local pid = M.profile_id(body)
        if not pid or pid == "" then return "bad" end
        if pool and not pool[pid] then return "bad" end
        if not body:find('"errors":[]', 1, true) then return "err" end
        return nil
    end
end

return M
