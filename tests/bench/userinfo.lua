-- GET /api/v1/auth/oauth/userinfo with a bearer access token of an OAuth
-- session granted openid (the session is read on each request).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GH_BENCH_OIDC_AT")
