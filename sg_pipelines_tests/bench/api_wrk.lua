-- wrk script for the reporting API benchmark (bench/api.py): one record endpoint, paged.
--
-- wrk -s api_wrk.lua URL -- <path> <total records> <page size> <tokens file>
-- Each request asks the next page (wrapping round) with the next token from the file, so every
-- client pages through the whole record set under several tokens. A response counts as good
-- only when it is a 200 whose body holds records; `done` prints one JSON line for the harness.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  endpoint = args[1]
  total = tonumber(args[2])
  page = tonumber(args[3])
  tokens = {}
  for line in io.lines(args[4]) do
    if #line > 0 then table.insert(tokens, line) end
  end
  pages = math.max(1, math.ceil(total / page))
  counter = 0
  good = 0
  bad = 0
end

function request()
  counter = counter + 1
  local offset = (counter % pages) * page
  local token = tokens[(counter % #tokens) + 1]
  return wrk.format("GET", endpoint .. "?limit=" .. page .. "&offset=" .. offset,
    { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"records":[{', 1, true) then
    good = good + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local good_total, bad_total = 0, 0
  for _, thread in ipairs(threads) do
    good_total = good_total + thread:get("good")
    bad_total = bad_total + thread:get("bad")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "good": %d, "bad": %d, "duration_us": %d, '
      .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, good_total, bad_total, summary.duration,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
