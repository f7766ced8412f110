-- wrk script for bench/run.sh. BENCH_OP=get: GET /get/bench-key-<random> among BENCH_KEYS keys that
-- the harness wrote first. BENCH_OP=set: POST /set with a key no other request of the run uses
-- (thread id, counter and BENCH_TAG), so every request is a new write. done() prints one RESULT line,
-- with how many requests took longer than BENCH_SLOW_MS (250 by default).
local op = os.getenv("BENCH_OP") or "get"
local keys = tonumber(os.getenv("BENCH_KEYS") or "1000")
local tag = os.getenv("BENCH_TAG") or "run"
local slow_us = 1000 * tonumber(os.getenv("BENCH_SLOW_MS") or "250")
local threads = 0
local counter = 0

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

function init(args)
  math.randomseed(os.time() + 7919 * (thread_id or 0))
end

function request()
  if op == "set" then
    counter = counter + 1
    local key = string.format("bench-set-%s-%d-%d", tag, thread_id or 0, counter)
    return wrk.format("POST", "/set", {["Content-Type"] = "application/json"},
      string.format('{"key":"%s","value":"v%d"}', key, counter))
  end
  return wrk.format("GET", "/get/bench-key-" .. math.random(0, keys - 1))
end

-- Requests slower than slow_us: wrk keeps every latency in its histogram but only answers
-- percentiles, so find by bisection the smallest percentile above slow_us.
local function slower_than(latency, total)
  if total == 0 or latency.max <= slow_us then return 0 end
  local low, high = 0, 100  -- percentile(low) <= slow_us < percentile(high)
  for _ = 1, 60 do
    local middle = (low + high) / 2
    if latency:percentile(middle) <= slow_us then low = middle else high = middle end
  end
  return math.floor(total * (100 - high) / 100 + 0.5)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f slow=%d requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    slower_than(latency, summary.requests), summary.requests, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
