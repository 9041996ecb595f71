# shellcheck shell=bash
# Revocation that reaches every service: a token of an ended session, or of
# a user disabled or demoted, is refused at payment and at media within
# five seconds (auth's feed, gatehouse-revoked, the file the workers read),
# while other sessions' tokens keep working.

# rv_works TOKEN: 0 when payment and media both take the token.
rv_works() {
	req GET '/api/v1/payments?limit=1' -H "Authorization: Bearer $1"
	[ "$STATUS" = 200 ] || return 1
	req GET '/api/v1/media?limit=1' -H "Authorization: Bearer $1"
	[ "$STATUS" = 200 ]
}

# rv_refused_within TOKEN SECONDS: until both refuse it (401), or fail.
rv_refused_within() {
	local start now p m
	start=$(date +%s%N)
	while :; do
		req GET '/api/v1/payments?limit=1' -H "Authorization: Bearer $1"
		p=$STATUS
		req GET '/api/v1/media?limit=1' -H "Authorization: Bearer $1"
		m=$STATUS
		[ "$p" = 401 ] && [ "$m" = 401 ] && break
		now=$(date +%s%N)
		if [ $(( (now - start) / 1000000 )) -gt $(( $2 * 1000 )) ]; then
			fail "still taken after $2 s (payment $p, media $m)"
			return 1
		fi
		sleep 0.2
	done
	now=$(date +%s%N)
	RV_MS=$(( (now - start) / 1000000 ))
	printf '    refused everywhere after %s ms\n' "$RV_MS"
	expect_header www-authenticate
}

rv_user() {
	signup "$1"
	login "$1"
}

t_46a_logout_reaches_payment_and_media() {
	local a b
	rv_user rv-logout
	a=$AT
	login rv-logout
	b=$AT
	rv_works "$a" || fail "a fresh token was refused"
	req POST /api/v1/auth/logout -H "Authorization: Bearer $a"
	expect_status 204
	rv_refused_within "$a" 5
	rv_works "$b" || fail "the other session's token was refused"
}

t_46b_logout_all_reaches_payment_and_media() {
	local a b
	rv_user rv-all
	a=$AT
	login rv-all
	b=$AT
	req POST /api/v1/auth/logout-all -H "Authorization: Bearer $a"
	expect_status 204
	rv_refused_within "$a" 5
	rv_refused_within "$b" 5
	login rv-all
	rv_works "$AT" || fail "a new sign-in was refused"
}

t_46c_password_change_reaches_payment_and_media() {
	local a b
	rv_user rv-pw
	a=$AT
	login rv-pw
	b=$AT
	json_post /api/v1/auth/me/password \
	    "{\"current_password\":\"$PW\",\"new_password\":\"$PW-changed-now\"}" \
	    -H "Authorization: Bearer $b"
	expect_status 204
	rv_refused_within "$a" 5
	rv_works "$b" || fail "the session that changed the password was refused"
}

# An admin made with the sysadmin's command, as t_auth does.
rv_admin() {
	rv_user "$1"
	env "$(gh_pool_env auth | grep '^GH_DB=')" \
	    "$GH_STATE/bin/gatehouse-auth" --make-admin "$1" >/dev/null 2>&1 ||
	    fail "make-admin $1"
	login "$1"
}

t_46d_disabling_a_user_reaches_payment_and_media() {
	local victim vid admin
	rv_admin rv-admin-d
	admin=$AT
	rv_user rv-disabled
	victim=$AT vid=$UID_
	rv_works "$victim" || fail "a fresh token was refused"
	req PATCH "/api/v1/auth/admin/users/$vid" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"disabled":true}'
	expect_status 200
	rv_refused_within "$victim" 5
	rv_works "$admin" || fail "the admin's own token was refused"
}

t_46e_demoting_an_admin_reaches_payment_and_media() {
	local old oid boss
	rv_admin rv-boss
	boss=$AT
	rv_admin rv-demoted
	old=$AT
	oid=$(part 2 "$old" | jq -r .sub)
	req GET "/api/v1/payments?user_id=$(part 2 "$boss" | jq -r .sub)" \
	    -H "Authorization: Bearer $old"
	expect_status 200
	req PATCH "/api/v1/auth/admin/users/$oid" -H "Authorization: Bearer $boss" \
	    -H 'Content-Type: application/json' --data-raw '{"role":"user"}'
	expect_status 200
	rv_refused_within "$old" 5
	# Signed in again, as a user now: taken, without the admin's reach.
	sleep 1
	login rv-demoted
	rv_works "$AT" || fail "the demoted user's new token was refused"
	req GET "/api/v1/payments?user_id=$(part 2 "$boss" | jq -r .sub)" \
	    -H "Authorization: Bearer $AT"
	expect_problem 403
}

# The feeder gone: the list goes stale, tokens are still taken (fail open,
# the default: they expire within GH_ACCESS_TTL), and the workers say so;
# it comes back and revocation works again.
t_46f_feeder_down_then_back() {
	local a
	rv_user rv-feeder
	a=$AT
	gh_revoked_stop
	rv_works "$a" || fail "a token was refused with the feeder down"
	gh_revoked_start
	req POST /api/v1/auth/logout -H "Authorization: Bearer $a"
	rv_refused_within "$a" 5
}
