-- wrk script for the core benchmark: every request POSTs a distinct invoice body, and the run ends
-- by printing one JSON line that bench/lib.ts reads. Usage: wrk ... -s create-invoices.lua URL -- TOKEN
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[1] and args[1] ~= "" then wrk.headers["Authorization"] = "Bearer " .. args[1] end
  prefix = "bench-" .. thread_id .. "-"
end

function request()
  counter = counter + 1
  local body = '{"price":{"amount":"10.00","currency":"USD"},"merchant_order_id":"' .. prefix .. counter
    .. '","payment_options":[{"asset":"BTC","network":"bitcoin-regtest"}]}'
  return wrk.format(nil, "/v1/invoices", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
