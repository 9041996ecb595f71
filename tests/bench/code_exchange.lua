-- POST /api/v1/auth/oauth/token, the authorization-code exchange, each
-- request with a code of its own: a code works once, so the bench mints
-- them beforehand in the database (bench-<phase>-<thread>-<n>, phase
-- "warmup" or "run"), all for one public client, one verifier (PKCE
-- S256) and the scope "openid profile".  Each exchange does the whole
-- work: the code looked up under a row lock, the PKCE check, a session,
-- an access token and an ID token signed.
local threads = 0
local n = 0
local prefix, body

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function init(args)
	prefix = string.format("bench-%s-%d-", os.getenv("GH_BENCH_PHASE"), tid)
	body = "grant_type=authorization_code&client_id=" ..
	    os.getenv("GH_BENCH_CLIENT") ..
	    "&redirect_uri=https%3A%2F%2Fbench.example.test%2Fcb" ..
	    "&code_verifier=" .. os.getenv("GH_BENCH_VERIFIER") .. "&code="
end

function request()
	n = n + 1
	return wrk.format("POST", "/api/v1/auth/oauth/token",
	    { ["Content-Type"] = "application/x-www-form-urlencoded" },
	    body .. prefix .. n)
end
