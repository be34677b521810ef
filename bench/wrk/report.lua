-- Shared by the wrk scripts of bench.side_by_side: each thread counts its responses in the
-- global table `outcomes`; done() merges them and prints one line "WRK_JSON {...}" with the
-- latency percentiles (microseconds), wrk's error counts and the outcomes.
local report = {}
local threads = {}

function report.setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local function json_object(t)
  local parts = {}
  for k, v in pairs(t) do
    table.insert(parts, string.format('"%s":%s', k, tostring(v)))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function report.done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("outcomes") or {}) do
      merged[k] = (merged[k] or 0) + v
    end
  end
  local lat = {min = latency.min, max = latency.max, mean = math.floor(latency.mean),
               p50 = latency:percentile(50), p90 = latency:percentile(90),
               p99 = latency:percentile(99), p999 = latency:percentile(99.9)}
  local e = summary.errors
  io.write("WRK_JSON ", json_object({
    requests = summary.requests, duration_us = summary.duration, bytes = summary.bytes,
    errors = json_object({connect = e.connect, read = e.read, write = e.write,
                          status = e.status, timeout = e.timeout}),
    latency_us = json_object(lat), outcomes = json_object(merged)}), "\n")
end

return report
