# shellcheck shell=bash
# Housekeeping: the sweeps delete what no rule needs any more, and nothing
# that is live.

hk_auth_sweep() {
	env "$(gh_pool_env auth | grep '^GH_DB=')" \
	    "$GH_STATE/bin/gatehouse-auth" --sweep "$@"
}

t_47_auth_sweep_removes_only_the_dead() {
	local uid out
	signup hk-sweeper
	uid=$UID_
	psql_auth "
	    INSERT INTO rate_counters (key, window_start, hits) VALUES
		('hk:old', now() - interval '2 days', 5), ('hk:new', now(), 1);
	    INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES
		('login:hk-old', 3, NULL, now() - interval '2 days'),
		('login:hk-locked', 9, now() + interval '1 hour', now() - interval '2 days'),
		('login:hk-new', 1, NULL, now());
	    INSERT INTO sessions (id, user_id, expires_at, revoked_at) VALUES
		('00000000-0000-4000-8000-00000000a001', '$uid', now() - interval '8 days', NULL),
		('00000000-0000-4000-8000-00000000a002', '$uid', now() + interval '1 day', now() - interval '8 days'),
		('00000000-0000-4000-8000-00000000a003', '$uid', now() - interval '1 day', NULL),
		('00000000-0000-4000-8000-00000000a004', '$uid', now() + interval '1 day', NULL);
	    INSERT INTO refresh_tokens (token_hash, session_id) VALUES
		(sha256('hk1'), '00000000-0000-4000-8000-00000000a001'),
		(sha256('hk4'), '00000000-0000-4000-8000-00000000a004');
	    INSERT INTO audit_log (at, event, user_id) VALUES
		(now() - interval '400 days', 'hk_old', '$uid'), (now(), 'hk_new', '$uid');
	" >/dev/null || { fail "could not seed the tables"; return; }
	out=$(hk_auth_sweep --dry-run 2>&1) || fail "dry run: $out"
	[ "$(psql_auth "SELECT count(*) FROM rate_counters WHERE key = 'hk:old'")" = 1 ] ||
	    fail "a dry run removed a row"
	out=$(hk_auth_sweep 2>&1) || fail "sweep: $out"
	printf '%s\n' "$out" | grep -q 'removed [1-9][0-9]* ended sessions' ||
	    fail "the summary names no ended session: $out"
	[ "$(psql_auth "SELECT string_agg(key, ',' ORDER BY key) FROM rate_counters WHERE key LIKE 'hk:%'")" = hk:new ] ||
	    fail "rate counters: $(psql_auth "SELECT string_agg(key, ',') FROM rate_counters WHERE key LIKE 'hk:%'")"
	[ "$(psql_auth "SELECT string_agg(key, ',' ORDER BY key) FROM login_throttle WHERE key LIKE 'login:hk-%'")" = login:hk-locked,login:hk-new ] ||
	    fail "throttles: $(psql_auth "SELECT string_agg(key, ',') FROM login_throttle WHERE key LIKE 'login:hk-%'")"
	[ "$(psql_auth "SELECT string_agg(right(id::text, 4), ',' ORDER BY id) FROM sessions WHERE user_id = '$uid' AND id::text LIKE '00000000-%'")" = a003,a004 ] ||
	    fail "sessions: $(psql_auth "SELECT string_agg(right(id::text, 4), ',') FROM sessions WHERE user_id = '$uid'")"
	[ "$(psql_auth "SELECT count(*) FROM refresh_tokens WHERE token_hash IN (sha256('hk1'), sha256('hk4'))")" = 1 ] ||
	    fail "the ended session's refresh token is still there, or the live one is gone"
	[ "$(psql_auth "SELECT string_agg(event, ',') FROM audit_log WHERE event LIKE 'hk_%'")" = hk_new ] ||
	    fail "audit: $(psql_auth "SELECT string_agg(event, ',') FROM audit_log WHERE event LIKE 'hk_%'")"
	# The live account still signs in.
	login hk-sweeper
	expect_status 200
	# Twice in a row: nothing left to do, and no error.
	out=$(hk_auth_sweep 2>&1) || fail "second sweep: $out"
}
