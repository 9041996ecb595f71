-- POST /api/v1/auth/password/forgot for existing users: GH_BENCH_RESET_USERS
-- accounts bench-reset-1..N (tests/bench/run makes them), taken in turn
-- from a different start in each thread, so that no two requests in
-- flight wait on one account's row (N well above the connections).  Each request queues a real link
-- and its mail; the run raises the reset throttles so that none is
-- answered 429 or skips its mail.
local threads = 0
local n = 0
local users

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function init(args)
	users = tonumber(os.getenv("GH_BENCH_RESET_USERS") or "200")
	n = (tid - 1) * 97
end

function request()
	n = n + 1
	return wrk.format("POST", "/api/v1/auth/password/forgot", {
		["Content-Type"] = "application/json",
	}, string.format('{"login":"bench-reset-%d"}', n % users + 1))
end
