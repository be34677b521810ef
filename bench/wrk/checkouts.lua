-- POST /checkouts, a new checkout_session_id on every request, one unit of one of the SKUs
-- (round robin). Arguments: run id, bearer key ("-" for none), comma-separated SKUs.
-- Outcomes: "201:completed" (status and the checkout's status) or "409:insufficient_stock"
-- (status and the problem's code).
package.path = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") .. "/?.lua;" .. package.path
local report = require("report")
setup, done = report.setup, report.done

local counter = 0

function init(args)
  run_id = args[1]
  skus = {}
  for sku in string.gmatch(args[3], "[^,]+") do table.insert(skus, sku) end
  headers = {["Content-Type"] = "application/json"}
  if args[2] ~= "-" then headers["Authorization"] = "Bearer " .. args[2] end
  outcomes = {}
end

function request()
  counter = counter + 1
  local sku = skus[(counter + tid) % #skus + 1]
  local body = string.format(
    '{"checkout_session_id":"cs_%s_%d_%d","currency":"usd",' ..
    '"customer":{"id":"cus_bench","email":"ada@example.com"},' ..
    '"items":[{"sku":"%s","quantity":1}],"payment_method":"pm_card_visa"}',
    run_id, tid, counter, sku)
  return wrk.format("POST", "/checkouts", headers, body)
end

function response(status, headers, body)
  local pattern = status >= 400 and '"code"%s*:%s*"([^"]+)"' or '"status"%s*:%s*"([^"]+)"'
  local key = status .. ":" .. (string.match(body or "", pattern) or "?")
  outcomes[key] = (outcomes[key] or 0) + 1
end
