-- load.lua drives one `make bench` scenario with wrk. Arguments (after --):
--   mode    get | header | once | rotate
--   file    values, one a line ("" for get); each thread takes every n-th line
--   threads number of wrk threads (to split the file)
--   expect  the status every response must have; others count as errors
--   method  GET or POST
--   path    request path
--   prefix  text before the value (header value or form body)
--   suffix  text after the value
--   header  the header the value goes in (mode header), else Content-Type
--   extra   more headers for every request, "Name: value" lines ("" for none)
-- Modes: get sends the same request; header cycles through the values in
-- a header (Bearer tokens); cycle cycles through the values as bodies;
-- once sends each value's body once (codes) and then a body that must
-- fail; rotate keeps a pool of refresh tokens, each response's
-- refresh_token going back into the pool (a chain per value).
-- done() prints one JSON line that the harness reads.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  mode, file, nthreads, expect = args[1], args[2], tonumber(args[3]), tonumber(args[4])
  method, path, prefix, suffix, hdr = args[5], args[6], args[7] or "", args[8] or "", args[9] or ""
  extra = {}
  for line in string.gmatch(args[10] or "", "[^\n]+") do
    local k, v = string.match(line, "^([^:]+):%s*(.*)$")
    if k then extra[k] = v end
  end
  pool, head, tail = {}, 1, 0
  if file ~= "" then
    local i = 0
    for line in io.lines(file) do
      if line ~= "" then
        if i % nthreads == tid - 1 then
          tail = tail + 1
          pool[tail] = line
        end
        i = i + 1
      end
    end
  end
  ok, bad, exhausted = 0, 0, 0
  fixed = nil
  if mode == "get" then
    fixed = wrk.format(method, path, headers())
  end
end

-- headers returns the extra headers plus name = value.
function headers(name, value)
  local h = {}
  for k, v in pairs(extra) do h[k] = v end
  if name then h[name] = value end
  return h
end

local function body_request(value)
  return wrk.format(method, path, headers("Content-Type", hdr), prefix .. value .. suffix)
end

function request()
  if fixed then
    return fixed
  end
  if mode == "header" or mode == "cycle" then
    local v = pool[head]
    head = head + 1
    if head > tail then head = 1 end
    if mode == "cycle" then
      return body_request(v)
    end
    return wrk.format(method, path, headers(hdr, prefix .. v .. suffix))
  end
  if head > tail then
    exhausted = exhausted + 1
    return body_request("exhausted")
  end
  local v = pool[head]
  pool[head] = nil
  head = head + 1
  return body_request(v)
end

function response(status, headers, body)
  if status == expect then
    ok = ok + 1
  else
    bad = bad + 1
  end
  if mode == "rotate" and status == 200 then
    local rt = string.match(body, '"refresh_token":"([^"]+)"')
    if rt then
      tail = tail + 1
      pool[tail] = rt
    end
  end
end

function done(summary, latency, requests)
  local ok_sum, bad_sum, ex_sum = 0, 0, 0
  for _, t in ipairs(threads) do
    ok_sum = ok_sum + (t:get("ok") or 0)
    bad_sum = bad_sum + (t:get("bad") or 0)
    ex_sum = ex_sum + (t:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"ok":%d,"bad_status":%d,"exhausted":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), ok_sum, bad_sum, ex_sum,
    e.connect + e.read + e.write + e.timeout))
end
