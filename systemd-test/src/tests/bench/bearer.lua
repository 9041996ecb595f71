-- A GET with the bench user's access token.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GH_BENCH_AT")
