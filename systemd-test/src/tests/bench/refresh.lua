-- POST /api/v1/auth/refresh over many sessions, each token used in turn.
-- A token is retired at its first use; later uses fall in the grace window
-- (the bench sets it longer than the run), so each request does the whole
-- rotation: lookup under a row lock, a new token, a signed access token.
local tokens = {}
local i = 0

function init(args)
	for line in io.lines(os.getenv("GH_BENCH_REFRESH_FILE")) do
		tokens[#tokens + 1] = line
	end
	i = math.random(#tokens)
end

function request()
	i = i % #tokens + 1
	return wrk.format("POST", "/api/v1/auth/refresh",
	    { ["Content-Type"] = "application/json" },
	    '{"refresh_token":"' .. tokens[i] .. '"}')
end
