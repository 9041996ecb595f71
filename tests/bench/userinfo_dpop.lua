-- GET /api/v1/auth/oauth/userinfo with a DPoP-bound access token and a
-- proof of its key, each proof used once (a replay is refused): wrk cannot
-- sign ES256, so the bench makes them beforehand with node's crypto, a
-- file per phase and thread (proofs-<phase>-<thread>), and each thread
-- takes its own in turn.  What is measured over the bearer case is the
-- server's side: the proof's signature checked, its claims, and its jti
-- written to dpop_proofs.
local threads = 0
local proofs = {}
local i = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function init(args)
	local f = string.format("%s/proofs-%s-%d", os.getenv("GH_BENCH_PROOFS_DIR"),
	    os.getenv("GH_BENCH_PHASE"), tid)
	for line in io.lines(f) do
		proofs[#proofs + 1] = line
	end
end

function request()
	i = i % #proofs + 1
	return wrk.format("GET", "/api/v1/auth/oauth/userinfo", {
		["Authorization"] = "DPoP " .. os.getenv("GH_BENCH_DPOP_AT"),
		["DPoP"] = proofs[i],
	})
end
