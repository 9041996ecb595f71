-- POST /api/v1/payments, each request with a fresh Idempotency-Key: the
-- threads are told apart by the number setup() gives each of them.
local threads = 0
local n = 0
local prefix

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function init(args)
	prefix = string.format("bench-%d-%d-", os.time(), tid)
end

function request()
	n = n + 1
	return wrk.format("POST", "/api/v1/payments", {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. os.getenv("GH_BENCH_AT"),
		["Idempotency-Key"] = prefix .. n,
	}, '{"amount":1999,"currency":"EUR","description":"bench"}')
end
