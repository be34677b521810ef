-- POST /webhooks/stripe with pre-signed events: thread N reads DIR/events_N.txt (one
-- "Stripe-Signature<TAB>body" per line) and sends them in order, wrapping around (a wrap
-- re-sends: a duplicate). Argument: DIR. Outcomes: "200:recorded", "200:duplicate", "400:…".
package.path = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") .. "/?.lua;" .. package.path
local report = require("report")
setup, done = report.setup, report.done

local sent = 0

function init(args)
  events = {}
  for line in io.lines(args[1] .. "/events_" .. tid .. ".txt") do
    local tab = string.find(line, "\t", 1, true)
    table.insert(events, {line:sub(1, tab - 1), line:sub(tab + 1)})
  end
  outcomes = {}
end

function request()
  sent = sent + 1
  local event = events[(sent - 1) % #events + 1]
  return wrk.format("POST", "/webhooks/stripe",
                    {["Content-Type"] = "application/json", ["Stripe-Signature"] = event[1]},
                    event[2])
end

function response(status, headers, body)
  local key
  if status == 200 then
    key = string.find(body or "", '"duplicate"%s*:%s*true') and "200:duplicate" or "200:recorded"
  else
    key = status .. ":" .. (string.match(body or "", '"code"%s*:%s*"([^"]+)"') or "?")
  end
  outcomes[key] = (outcomes[key] or 0) + 1
end
