-- GET /api/v1/auth/me with one access token: a token check and a query.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GH_BENCH_AT")
