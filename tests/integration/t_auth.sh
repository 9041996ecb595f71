# shellcheck shell=bash
# Auth: sign-up, sign-in, tokens and their attacks, refresh rotation,
# sessions, throttling, keys.

FORGE="$GH_BUILDDIR/tests/tools/jwt-forge"
PW='tall-lamp-quiet-river-42'

json_post() {
	local path=$1 body=$2
	shift 2
	req POST "$path" -H 'Content-Type: application/json' --data-raw "$body" "$@"
}

# signup NAME: registers NAME with $PW; sets UID_ from the answer.
signup() {
	json_post /api/v1/auth/register \
	    "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$PW\"}"
	UID_=$(printf '%s' "$BODY" | jq -r .user.id)
}

# login LOGIN [PASSWORD]: sets AT (access) and RT (refresh).
login() {
	json_post /api/v1/auth/login "{\"login\":\"$1\",\"password\":\"${2:-$PW}\"}" "${@:3}"
	AT=$(printf '%s' "$BODY" | jq -r .access_token 2>/dev/null)
	RT=$(printf '%s' "$BODY" | jq -r .refresh_token 2>/dev/null)
}

me() {
	req GET /api/v1/auth/me -H "Authorization: Bearer $1"
}

b64url() {
	openssl base64 -A | tr '+/' '-_' | tr -d '='
}

# part N TOKEN: the Nth part of a JWT, decoded.
part() {
	local s
	s=$(printf '%s' "$2" | cut -d. -f"$1" | tr '_-' '/+')
	while [ $(( ${#s} % 4 )) != 0 ]; do s="$s="; done
	printf '%s' "$s" | base64 -d 2>/dev/null
}

t_50_register() {
	signup alice
	expect_status 201
	expect_json .user.username alice
	expect_json .user.email alice@example.com
	expect_json .user.role user
	[[ "$UID_" =~ ^[0-9a-f-]{36}$ ]] || fail "id '$UID_'"
	expect_json '.user.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' true
	printf '%s' "$BODY" | grep -qi 'argon2\|password' && fail "hash or password in the answer"
	return 0
}

t_51_register_bad_input() {
	json_post /api/v1/auth/register '{}'
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' "email,password,username"
	json_post /api/v1/auth/register '{"username":"bob","email":"bob@example.com","password":"tall-lamp-quiet-river-42"'
	expect_problem 400
	json_post /api/v1/auth/register '{"username":7,"email":"b@example.com","password":"tall-lamp-quiet-river-42"}'
	expect_problem 422
	expect_json '.errors[0].field' username
	json_post /api/v1/auth/register "{\"username\":\"$(printf 'x%.0s' $(seq 41))\",\"email\":\"b@example.com\",\"password\":\"$PW\"}"
	expect_problem 422
	expect_json '.errors[0].field' username
	json_post /api/v1/auth/register "{\"username\":\"bad name\",\"email\":\"b@example.com\",\"password\":\"$PW\"}"
	expect_json '.errors[0].field' username
	json_post /api/v1/auth/register "{\"username\":\"bob\",\"email\":\"not-an-email\",\"password\":\"$PW\"}"
	expect_problem 422
	expect_json '.errors[0].field' email
	json_post /api/v1/auth/register '{"username":"bob","email":"bob@example.com","password":"short-pw"}'
	expect_problem 422
	expect_json '.errors[0].field' password
	json_post /api/v1/auth/register '{"username":"bob","email":"bob@example.com","password":"Password1234"}'
	expect_problem 422
	expect_json '.errors[0].detail | test("common")' true
	json_post /api/v1/auth/register '{"username":"bobbobbobbob","email":"bob@example.com","password":"BOBBOBBOBBOB"}'
	expect_problem 422
	json_post /api/v1/auth/register "{\"username\":\"bob\",\"email\":\"bob@example.com\",\"password\":\"$PW\",\"role\":\"admin\"}"
	expect_problem 422
	expect_json '.errors[0].field' role
	req POST /api/v1/auth/register -H 'Content-Type: text/plain' --data-raw x
	expect_problem 415
	# Nothing of these was kept.
	json_post /api/v1/auth/login "{\"login\":\"bob\",\"password\":\"$PW\"}"
	expect_status 401
}

t_52_duplicates_in_other_case_are_409() {
	signup carol
	expect_status 201
	json_post /api/v1/auth/register "{\"username\":\"CAROL\",\"email\":\"new@example.com\",\"password\":\"$PW\"}"
	expect_problem 409
	expect_json '.errors[0].field' username
	json_post /api/v1/auth/register "{\"username\":\"carol2\",\"email\":\"Carol@EXAMPLE.com\",\"password\":\"$PW\"}"
	expect_problem 409
	expect_json '.errors[0].field' email
}

t_53_login_and_me() {
	signup dave
	login dave
	expect_status 200
	expect_json .token_type Bearer
	expect_json .expires_in 900
	expect_json .user.username dave
	[ "${#RT}" -ge 43 ] || fail "refresh token too short: ${#RT}"
	local cookie
	cookie=$(header set-cookie)
	case $cookie in
	gh_refresh=*HttpOnly*) ;;
	*) fail "cookie '$cookie'" ;;
	esac
	for attr in 'Secure' 'SameSite=Strict' 'Path=/api/v1/auth'; do
		printf '%s' "$cookie" | grep -q "$attr" || fail "cookie lacks $attr"
	done
	me "$AT"
	expect_status 200
	expect_json .user.username dave
	login dave@example.com
	expect_status 200
	login DAVE
	expect_status 200
}

t_54_unknown_user_and_wrong_password_look_alike() {
	local a b
	signup erin
	login erin 'wrong-password-123'
	expect_problem 401
	a=$(printf '%s' "$BODY" | jq -r .detail)
	login nobody-here 'wrong-password-123'
	expect_problem 401
	b=$(printf '%s' "$BODY" | jq -r .detail)
	[ "$a" = "$b" ] || fail "different answers: '$a' and '$b'"
}

t_55_me_needs_a_valid_token() {
	req GET /api/v1/auth/me
	expect_problem 401
	expect_header www-authenticate 'Bearer realm="gatehouse"'
	me not.a.token
	expect_problem 401
	header www-authenticate | grep -q 'error="invalid_token"' ||
	    fail "no invalid_token in WWW-Authenticate"
	req GET /api/v1/auth/me -H "Authorization: Basic YWxpY2U6eA=="
	expect_problem 401
}

# Each trap with a token the test builds itself.
t_56_token_attacks() {
	local kid pub now h p tok sid c
	signup frank
	login frank
	kid=$(part 1 "$AT" | jq -r .kid)
	sid=$(part 2 "$AT" | jq -r .sid)
	[ -n "$kid" ] && [ "$kid" != null ] || { fail "no kid in the token"; return; }
	pub=$(ls "$GH_STATE"/keys-public/*.pub.pem | head -n 1)
	key="$GH_STATE/keys/$kid.pem"
	now=$(date +%s)
	c="\"sub\":\"$UID_\",\"sid\":\"$sid\",\"jti\":\"t\""
	p="{\"iss\":\"gatehouse\",\"aud\":\"gatehouse-api\",$c,\"role\":\"admin\",\"iat\":$now,\"exp\":$((now + 600))}"

	# Sanity: a token the forge signs with the real key is accepted, so
	# each refusal below is the trap's doing and nothing else.
	tok=$("$FORGE" es256 "$key" "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"$kid\"}" \
	    "{\"iss\":\"gatehouse\",\"aud\":\"gatehouse-api\",$c,\"role\":\"user\",\"iat\":$now,\"exp\":$((now + 600))}")
	me "$tok"
	expect_status 200

	check_refused() {
		me "$2"
		if [ "$STATUS" != 401 ]; then
			fail "$1: status $STATUS"
		else
			header www-authenticate | grep -q 'Bearer' ||
			    fail "$1: no WWW-Authenticate"
		fi
	}
	check_refused "alg none" "$("$FORGE" none - '{"alg":"none","typ":"at+jwt"}' "$p")"
	check_refused "alg none with kid" "$("$FORGE" none - "{\"alg\":\"none\",\"kid\":\"$kid\"}" "$p")"
	check_refused "HS256 with the public key" \
	    "$("$FORGE" hs256 "$pub" "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"$kid\"}" "$p")"
	check_refused "unknown kid" \
	    "$("$FORGE" es256 "$key" '{"alg":"ES256","typ":"at+jwt","kid":"nope"}' "$p")"
	check_refused "expired" \
	    "$("$FORGE" es256 "$key" "{\"alg\":\"ES256\",\"kid\":\"$kid\"}" \
	    "{\"iss\":\"gatehouse\",\"aud\":\"gatehouse-api\",$c,\"role\":\"user\",\"iat\":$((now - 7200)),\"exp\":$((now - 3600))}")"
	check_refused "nbf in the future" \
	    "$("$FORGE" es256 "$key" "{\"alg\":\"ES256\",\"kid\":\"$kid\"}" \
	    "{\"iss\":\"gatehouse\",\"aud\":\"gatehouse-api\",$c,\"role\":\"user\",\"nbf\":$((now + 3600)),\"exp\":$((now + 7200))}")"
	check_refused "wrong audience" \
	    "$("$FORGE" es256 "$key" "{\"alg\":\"ES256\",\"kid\":\"$kid\"}" \
	    "{\"iss\":\"gatehouse\",\"aud\":\"someone-else\",$c,\"role\":\"user\",\"exp\":$((now + 600))}")"
	check_refused "wrong issuer" \
	    "$("$FORGE" es256 "$key" "{\"alg\":\"ES256\",\"kid\":\"$kid\"}" \
	    "{\"iss\":\"evil\",\"aud\":\"gatehouse-api\",$c,\"role\":\"user\",\"exp\":$((now + 600))}")"
	# The real token with its role changed to admin: signature breaks.
	h=$(printf '%s' "$AT" | cut -d. -f1)
	tok="$h.$(printf '%s' "$p" | b64url).$(printf '%s' "$AT" | cut -d. -f3)"
	check_refused "tampered payload" "$tok"
	check_refused "no signature" "$(printf '%s' "$AT" | cut -d. -f1,2)."
	unset -f check_refused
}

t_57_refresh_rotation_and_reuse() {
	local rt1 rt2 at1
	signup grace
	login grace
	at1=$AT
	rt1=$RT
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt1\"}"
	expect_status 200
	rt2=$(printf '%s' "$BODY" | jq -r .refresh_token)
	[ "$rt2" != "$rt1" ] || fail "refresh token not rotated"
	# rt2 works; then rt1, retired and past the grace window, is reuse.
	sleep "${GH_TEST_GRACE_WAIT:-2.5}"
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt1\"}"
	expect_problem 401
	expect_json '.detail | test("already used")' true
	# The whole family is revoked: rt2 and the family's access tokens too.
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt2\"}"
	expect_problem 401
	me "$at1"
	expect_problem 401
	json_post /api/v1/auth/refresh '{"refresh_token":"made-up-token"}'
	expect_problem 401
	json_post /api/v1/auth/refresh '{"refresh_token":7}'
	expect_problem 422
}

t_58_refresh_grace_window_for_two_tabs() {
	local rt
	signup heidi
	login heidi
	rt=$RT
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt\"}"
	expect_status 200
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt\"}"
	expect_status 200
	me "$AT"
	expect_status 200
}

t_59_refresh_by_cookie() {
	signup ivan
	login ivan
	req POST /api/v1/auth/refresh -H "Cookie: gh_refresh=$RT"
	expect_status 200
	expect_json .user.username ivan
	req POST /api/v1/auth/refresh
	expect_problem 401
}

t_60_logout_and_logout_all() {
	local at_a rt_a at_b rt_b
	signup judy
	login judy
	at_a=$AT rt_a=$RT
	login judy
	at_b=$AT rt_b=$RT
	req POST /api/v1/auth/logout -H "Authorization: Bearer $at_a"
	expect_status 204
	me "$at_a"
	expect_problem 401
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt_a\"}"
	expect_problem 401
	me "$at_b"
	expect_status 200
	req POST /api/v1/auth/logout-all -H "Authorization: Bearer $at_b"
	expect_status 204
	me "$at_b"
	expect_problem 401
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt_b\"}"
	expect_problem 401
}

t_61_failed_logins_throttled_then_recover() {
	local i
	signup mallory
	for i in 1 2 3 4 5 6; do
		login mallory "wrong-password-$i"
		expect_status 401
	done
	login mallory
	expect_problem 429
	expect_header retry-after
	sleep 1.5
	login mallory
	expect_status 200
	login mallory 'wrong-again-123'
	expect_status 401
	# An unknown name is throttled the same way: nothing to tell apart.
	for i in 1 2 3 4 5 6; do login ghost-user "wrong-password-$i"; done
	login ghost-user
	expect_problem 429
}

t_62_availability() {
	signup oscar
	req GET '/api/v1/auth/availability?username=OSCAR'
	expect_status 200
	expect_json .available false
	req GET '/api/v1/auth/availability?username=free-name'
	expect_json .available true
	req GET '/api/v1/auth/availability?email=oscar@example.com'
	expect_json .available false
	req GET '/api/v1/auth/availability'
	expect_problem 400
	# A bad query parameter is 400 in every service, named in errors[].
	req GET '/api/v1/auth/availability?username=a%20b'
	expect_problem 400
	expect_json '.errors[0].field' username
	expect_json '.errors[0].in' query
	req GET '/api/v1/auth/availability?username=a%20b&email=nope'
	expect_problem 400
	expect_json '[.errors[].field] | sort | join(",")' "email,username"
	req GET '/api/v1/auth/availability?username=oscar&username=other'
	expect_problem 400
	expect_json '.errors[0].field' username
}

# Sign-ups are counted per address (another loopback address here, as
# the suite's own is let through), before the password is hashed.
t_62b_register_throttled_per_address() {
	local i code
	gh_pool_stop auth
	GH_REGISTER_LIMIT=3 gh_pool_start auth
	pool_wait auth
	for i in 1 2 3; do
		code=$(gh_curl -sk --interface 127.0.0.3 -o /dev/null -w '%{http_code}' \
		    -H 'Content-Type: application/json' --data-raw \
		    "{\"username\":\"flood$i\",\"email\":\"flood$i@example.com\",\"password\":\"a long pass phrase $i\"}" \
		    "https://127.0.0.1:$GH_HTTPS_PORT/api/v1/auth/register")
		[ "$code" = 201 ] || fail "sign-up $i from a fresh address: $code"
	done
	BODY=$(gh_curl -sk --interface 127.0.0.3 -D "$T_OUT/h" -H 'Content-Type: application/json' \
	    --data-raw '{"username":"flood4","email":"flood4@example.com","password":"a long pass phrase 4"}' \
	    "https://127.0.0.1:$GH_HTTPS_PORT/api/v1/auth/register")
	HEADERS=$(tr -d '\r' <"$T_OUT/h" | sed 's/^\([^:]*\):/\L\1:/')
	STATUS=$(printf '%s' "$BODY" | jq -r .status)
	expect_problem 429
	expect_header retry-after
	expect_json '.detail | test("sign-ups")' true
	[ "$(psql_auth "SELECT count(*) FROM users WHERE username = 'flood4'")" = 0 ] ||
	    fail "the refused sign-up made an account"
	# Another address is not held back by this one.
	code=$(gh_curl -sk --interface 127.0.0.4 -o /dev/null -w '%{http_code}' \
	    -H 'Content-Type: application/json' --data-raw \
	    '{"username":"flood-other","email":"flood-other@example.com","password":"a long pass phrase 5"}' \
	    "https://127.0.0.1:$GH_HTTPS_PORT/api/v1/auth/register")
	[ "$code" = 201 ] || fail "a sign-up from another address: $code"
	gh_pool_stop auth
	gh_pool_start auth
	pool_wait auth
}

t_63_jwks() {
	local kid
	signup peggy
	login peggy
	kid=$(part 1 "$AT" | jq -r .kid)
	req GET /.well-known/jwks.json
	expect_status 200
	expect_json '.keys[0].kty' EC
	expect_json '.keys[0].crv' P-256
	expect_json "[.keys[].kid] | index(\"$kid\") != null" true
	expect_json '[.keys[] | has("d")] | any' false
}

psql_auth() {
	gh_as_pg psql -h "$GH_STATE/pg/sock" -U postgres -d gatehouse_auth -tAc "$1"
}

t_64_profile_update() {
	signup quentin
	login quentin
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' --data-raw '{"username":"quentin2"}'
	expect_status 200
	expect_json .user.username quentin2
	expect_json .user.email quentin@example.com
	signup rita
	# A new address needs the password (t_email.sh has the rest of it).
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' \
	    --data-raw "{\"email\":\"RITA@example.com\",\"current_password\":\"$PW\"}"
	expect_problem 409
	expect_json '.errors[0].field' email
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' --data-raw '{"role":"admin"}'
	expect_problem 422
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' --data-raw '{}'
	expect_problem 422
	login quentin2
	expect_status 200
}

t_65_password_change_ends_other_sessions() {
	local at_a at_b rt_b
	signup sybil
	login sybil
	at_a=$AT
	login sybil
	at_b=$AT rt_b=$RT
	req POST /api/v1/auth/me/password -H "Authorization: Bearer $at_a" \
	    -H 'Content-Type: application/json' \
	    --data-raw '{"current_password":"wrong-password-1","new_password":"brand-new-secret-77"}'
	expect_problem 403
	expect_json '.errors[0].field' current_password
	req POST /api/v1/auth/me/password -H "Authorization: Bearer $at_a" \
	    -H 'Content-Type: application/json' \
	    --data-raw "{\"current_password\":\"$PW\",\"new_password\":\"password1234\"}"
	expect_problem 422
	expect_json '.errors[0].field' new_password
	req POST /api/v1/auth/me/password -H "Authorization: Bearer $at_a" \
	    -H 'Content-Type: application/json' \
	    --data-raw "{\"current_password\":\"$PW\",\"new_password\":\"brand-new-secret-77\"}"
	expect_status 204
	me "$at_a"
	expect_status 200
	me "$at_b"
	expect_problem 401
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt_b\"}"
	expect_problem 401
	login sybil
	expect_status 401
	login sybil brand-new-secret-77
	expect_status 200
}

t_66_account_deletion_leaves_no_row() {
	local uid
	signup trent
	uid=$UID_
	login trent
	req DELETE /api/v1/auth/me -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' --data-raw '{"password":"wrong-password-1"}'
	expect_problem 403
	req DELETE /api/v1/auth/me -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' --data-raw "{\"password\":\"$PW\"}"
	expect_status 204
	[ "$(psql_auth "SELECT (SELECT count(*) FROM users WHERE id = '$uid') + (SELECT count(*) FROM sessions WHERE user_id = '$uid')")" = 0 ] ||
	    fail "rows left behind"
	[ "$(psql_auth "SELECT count(*) FROM audit_log WHERE user_id = '$uid' AND event = 'account_deleted'")" = 1 ] ||
	    fail "deletion not in the audit trail"
	me "$AT"
	expect_problem 401
	login trent
	expect_status 401
}

t_67_sessions_list_and_end() {
	local at_a sid_b n
	signup uma
	login uma
	at_a=$AT
	login uma "$PW" -A 'second-browser/1.0'
	sid_b=$(part 2 "$AT" | jq -r .sid)
	req GET /api/v1/auth/sessions -H "Authorization: Bearer $at_a"
	expect_status 200
	n=$(printf '%s' "$BODY" | jq '.sessions | length')
	[ "$n" = 2 ] || fail "$n sessions, wanted 2"
	expect_json '[.sessions[] | select(.current)] | length' 1
	req DELETE "/api/v1/auth/sessions/$sid_b" -H "Authorization: Bearer $at_a"
	expect_status 204
	me "$AT"
	expect_problem 401
	req DELETE "/api/v1/auth/sessions/$sid_b" -H "Authorization: Bearer $at_a"
	expect_problem 404
	req DELETE "/api/v1/auth/sessions/not-a-uuid" -H "Authorization: Bearer $at_a"
	expect_problem 404
	# Another user's session cannot be ended by id.
	signup victor
	login victor
	req DELETE "/api/v1/auth/sessions/$(part 2 "$AT" | jq -r .sid)" \
	    -H "Authorization: Bearer $at_a"
	expect_problem 404
	me "$AT"
	expect_status 200
}

t_68_admin() {
	local admin_at wendy_id out
	signup root-admin
	login root-admin
	req GET /api/v1/auth/admin/users -H "Authorization: Bearer $AT"
	expect_problem 403
	out=$(env "$(gh_pool_env auth | grep '^GH_DB=')" \
	    "$GH_STATE/bin/gatehouse-auth" --make-admin root-admin 2>&1) ||
	    fail "make-admin: $out"
	env "$(gh_pool_env auth | grep '^GH_DB=')" \
	    "$GH_STATE/bin/gatehouse-auth" --make-admin no-such-user >/dev/null 2>&1 &&
	    fail "make-admin of an unknown user succeeded"
	login root-admin
	admin_at=$AT
	expect_json .user.role admin
	signup yolanda
	signup wendy
	wendy_id=$UID_
	req GET '/api/v1/auth/admin/users?q=WEND' -H "Authorization: Bearer $admin_at"
	expect_status 200
	expect_json '.data[0].username' wendy
	req GET '/api/v1/auth/admin/users?limit=2' -H "Authorization: Bearer $admin_at"
	expect_json '.data | length' 2
	expect_json .has_more true
	local last
	last=$(printf '%s' "$BODY" | jq -r '.data[1].id')
	req GET "/api/v1/auth/admin/users?limit=2&starting_after=$last" -H "Authorization: Bearer $admin_at"
	expect_status 200
	printf '%s' "$BODY" | jq -e --arg l "$last" '[.data[].id] | index($l) == null' >/dev/null ||
	    fail "the cursor repeated a user"
	req GET '/api/v1/auth/admin/users?limit=0' -H "Authorization: Bearer $admin_at"
	expect_problem 400
	req PATCH "/api/v1/auth/admin/users/$wendy_id" -H "Authorization: Bearer $admin_at" \
	    -H 'Content-Type: application/json' --data-raw '{"role":"superuser"}'
	expect_problem 422
	login wendy
	local wendy_at=$AT
	req PATCH "/api/v1/auth/admin/users/$wendy_id" -H "Authorization: Bearer $admin_at" \
	    -H 'Content-Type: application/json' --data-raw '{"disabled":true}'
	expect_status 200
	expect_json .user.disabled true
	login wendy
	expect_problem 403
	me "$wendy_at"
	expect_problem 401
	req PATCH "/api/v1/auth/admin/users/$wendy_id" -H "Authorization: Bearer $admin_at" \
	    -H 'Content-Type: application/json' --data-raw '{"disabled":false,"role":"admin"}'
	expect_json .user.role admin
	login wendy
	expect_status 200
	req PATCH "/api/v1/auth/admin/users/$(part 2 "$admin_at" | jq -r .sub)" \
	    -H "Authorization: Bearer $admin_at" \
	    -H 'Content-Type: application/json' --data-raw '{"role":"user"}'
	expect_problem 409
	[ "$(psql_auth "SELECT count(*) FROM audit_log WHERE event = 'role_change'")" -ge 2 ] ||
	    fail "role changes not audited"
	# Wendy, admin now, is demoted: her token still says admin, and must
	# not be enough.
	login wendy
	local wendy_admin_at=$AT
	req PATCH "/api/v1/auth/admin/users/$wendy_id" -H "Authorization: Bearer $admin_at" \
	    -H 'Content-Type: application/json' --data-raw '{"role":"user"}'
	expect_status 200
	req GET /api/v1/auth/admin/users -H "Authorization: Bearer $wendy_admin_at"
	expect_problem 403
	req PATCH "/api/v1/auth/admin/users/$wendy_id" -H "Authorization: Bearer $wendy_admin_at" \
	    -H 'Content-Type: application/json' --data-raw '{"role":"admin"}'
	expect_problem 403
}

t_61b_parallel_guesses_are_counted_one_by_one() {
	local i n401 pids=
	signup zelda
	for i in $(seq 12); do
		gh_curl -sk -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
		    --data-raw "{\"login\":\"zelda\",\"password\":\"wrong-guess-$i-xx\"}" \
		    "$(gh_url /api/v1/auth/login)" >>"$T_OUT/guesses" &
		pids="$pids $!"
	done
	# Only these: the pools are this shell's jobs too.
	wait $pids
	n401=$(grep -c '^401$' "$T_OUT/guesses")
	# Five free, the sixth locks: never more than six real checks.
	[ "$n401" -le 6 ] || fail "$n401 of 12 parallel guesses were checked"
	[ "$(grep -c '^429$' "$T_OUT/guesses")" -ge 6 ] || fail "too few refused"
	# The account is counted under its own key too: typing the e-mail
	# instead of the name is no way round it.
	local typed account
	typed=$(psql_auth "SELECT failures FROM login_throttle WHERE key = 'login:zelda'")
	account=$(psql_auth "SELECT failures FROM login_throttle WHERE key = 'user:$UID_'")
	[ -n "$account" ] && [ "$account" = "$typed" ] && [ "$account" = "$n401" ] ||
	    fail "counts: typed '$typed', account '$account', checked $n401"
}

t_57b_grace_reuse_leaves_one_live_token() {
	local rt rt2 rt3
	signup gina
	login gina
	rt=$RT
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt\"}"
	rt2=$(printf '%s' "$BODY" | jq -r .refresh_token)
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt\"}"
	expect_status 200
	rt3=$(printf '%s' "$BODY" | jq -r .refresh_token)
	sleep "${GH_TEST_GRACE_WAIT:-2.5}"
	# rt2 was retired by the second use of rt: it is reuse now, and the
	# whole family goes, rt3 with it.
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt2\"}"
	expect_problem 401
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt3\"}"
	expect_problem 401
}

# A new key: tokens signed before still work, new ones carry the new kid.
# The verifying services get the public key before auth signs with it.
t_69_key_rotation() {
	local old_at old_kid new_kid
	signup xavier
	login xavier
	old_at=$AT
	old_kid=$(part 1 "$AT" | jq -r .kid)
	sleep 1	# kids carry the second they were made
	"$GH_SRCDIR/admin/gatehouse-keygen" --public "$GH_STATE/keys-public" \
	    "$GH_STATE/keys" >/dev/null || { fail "keygen failed"; return; }
	local svc
	for svc in payment media auth; do
		gh_pool_stop "$svc"
		gh_pool_start "$svc"
	done
	gh_wait_ready
	req GET /.well-known/jwks.json
	expect_json '.keys | length' 2
	me "$old_at"
	expect_status 200
	login xavier
	new_kid=$(part 1 "$AT" | jq -r .kid)
	[ "$new_kid" != "$old_kid" ] || fail "still signing with $old_kid"
	[[ "$new_kid" > "$old_kid" ]] || fail "new kid $new_kid sorts before $old_kid"
	me "$AT"
	expect_status 200
}

# totp_code HEXKEY [STEPS]: the RFC 6238 code of now (+ STEPS periods).
totp_code() {
	local step mac off bin
	step=$(( $(date +%s) / 30 + ${2:-0} ))
	mac=$(printf "$(printf '%016x' "$step" | sed 's/../\\x&/g')" |
	    openssl dgst -sha1 -mac HMAC -macopt "hexkey:$1" | sed 's/^.*= //')
	off=$(( 16#${mac:39:1} ))
	bin=$(( 16#${mac:$((off * 2)):8} & 0x7fffffff ))
	printf '%06d\n' $(( bin % 1000000 ))
}

t_63b_totp_second_factor() {
	local key uri codes rc1
	signup yusuf
	login yusuf
	req POST /api/v1/auth/me/totp -H "Authorization: Bearer $AT"
	expect_status 201
	uri=$(printf '%s' "$BODY" | jq -r .otpauth_uri)
	case $uri in
	otpauth://totp/gatehouse:yusuf\?secret=*issuer=gatehouse*) ;;
	*) fail "otpauth URI '$uri'" ;;
	esac
	key=$(psql_auth "SELECT encode(secret, 'hex') FROM user_totp WHERE user_id = '$UID_'")
	# Not on until confirmed: sign-in still needs no code.
	login yusuf
	expect_status 200
	expect_json .user.totp_enabled false
	json_post /api/v1/auth/me/totp/confirm "{\"code\":\"000000\",\"password\":\"$PW\"}" -H "Authorization: Bearer $AT"
	[ "$(totp_code "$key")" = 000000 ] || expect_problem 422
	json_post /api/v1/auth/me/totp/confirm "{\"code\":\"12345\",\"password\":\"$PW\"}" -H "Authorization: Bearer $AT"
	expect_problem 422
	# A stolen access token alone cannot turn the factor on.
	json_post /api/v1/auth/me/totp/confirm "{\"code\":\"$(totp_code "$key" -1)\",\"password\":\"wrong-password-1\"}" \
	    -H "Authorization: Bearer $AT"
	expect_problem 403
	json_post /api/v1/auth/me/totp/confirm "{\"code\":\"$(totp_code "$key" -1)\",\"password\":\"$PW\"}" \
	    -H "Authorization: Bearer $AT"
	expect_status 200
	expect_json '.recovery_codes | length' 10
	rc1=$(printf '%s' "$BODY" | jq -r '.recovery_codes[0]')
	req GET /api/v1/auth/me -H "Authorization: Bearer $AT"
	expect_json .user.totp_enabled true
	# Now sign-in asks for the code, only after the right password.
	login yusuf
	expect_problem 401
	expect_json .mfa_required true
	login yusuf wrong-password-99
	expect_problem 401
	expect_json .mfa_required null
	json_post /api/v1/auth/login "{\"login\":\"yusuf\",\"password\":\"$PW\",\"totp\":\"$(totp_code "$key" -1)\"}"
	expect_problem 401
	json_post /api/v1/auth/login "{\"login\":\"yusuf\",\"password\":\"$PW\",\"totp\":\"$(totp_code "$key")\"}"
	expect_status 200
	AT=$(printf '%s' "$BODY" | jq -r .access_token)
	# A recovery code works once.
	json_post /api/v1/auth/login "{\"login\":\"yusuf\",\"password\":\"$PW\",\"recovery_code\":\"$rc1\"}"
	expect_status 200
	json_post /api/v1/auth/login "{\"login\":\"yusuf\",\"password\":\"$PW\",\"recovery_code\":\"$rc1\"}"
	expect_problem 401
	# Turning it off needs the password and a code.
	req DELETE /api/v1/auth/me/totp -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' \
	    --data-raw "{\"password\":\"wrong-password-99\",\"code\":\"$(totp_code "$key" 1)\"}"
	expect_problem 403
	req DELETE /api/v1/auth/me/totp -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' \
	    --data-raw "{\"password\":\"$PW\",\"code\":\"$(totp_code "$key" 1)\"}"
	expect_status 204
	login yusuf
	expect_status 200
	expect_json .user.totp_enabled false
}

# Wrong passwords on signed-in actions count like sign-in failures.
t_65b_password_checks_are_throttled() {
	local i uid
	signup pavel
	uid=$UID_
	login pavel
	for i in 1 2 3 4 5 6; do
		req POST /api/v1/auth/me/password -H "Authorization: Bearer $AT" \
		    -H 'Content-Type: application/json' \
		    --data-raw "{\"current_password\":\"wrong-password-$i\",\"new_password\":\"brand-new-secret-77\"}"
		expect_problem 403
	done
	req DELETE /api/v1/auth/me -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' --data-raw "{\"password\":\"$PW\"}"
	expect_problem 429
	expect_header retry-after
	# The delay is seconds long, which a slow machine may have spent by
	# now: hold it, so that what is checked is that a sign-in counts the
	# same failures, not the clock.
	[ "$(psql_auth "WITH u AS (UPDATE login_throttle
	    SET locked_until = now() + interval '10 minutes'
	    WHERE key = 'user:$uid' RETURNING 1) SELECT count(*) FROM u")" = 1 ] ||
	    fail "the password checks left no delay on the account"
	login pavel
	expect_problem 429
}

# The one password re-check refuses a disabled account, on every action
# that asks for the password.  The account is disabled after its session
# was checked and before its password is: a lock on the throttle table
# holds the request in between.  Turning on a second factor used to let
# it through.
t_65c_password_recheck_refuses_a_disabled_account() {
	local uid key pid
	signup olga
	uid=$UID_
	login olga
	req POST /api/v1/auth/me/totp -H "Authorization: Bearer $AT"
	expect_status 201
	key=$(psql_auth "SELECT encode(secret, 'hex') FROM user_totp WHERE user_id = '$uid'")
	psql_auth "BEGIN; LOCK TABLE login_throttle IN ACCESS EXCLUSIVE MODE;
	    SELECT pg_sleep(1.5); UPDATE users SET disabled = true WHERE id = '$uid';
	    COMMIT;" >/dev/null &
	pid=$!
	sleep 0.5
	json_post /api/v1/auth/me/totp/confirm "{\"code\":\"$(totp_code "$key")\",\"password\":\"$PW\"}" \
	    -H "Authorization: Bearer $AT"
	wait "$pid"
	expect_problem 401
	expect_json .detail 'the account is gone or disabled'
	[ "$(psql_auth "SELECT count(*) FROM user_totp WHERE user_id = '$uid' AND confirmed_at IS NOT NULL")" = 0 ] ||
	    fail "a disabled account turned its second factor on"
	[ "$(psql_auth "SELECT count(*) FROM recovery_codes WHERE user_id = '$uid'")" = 0 ] ||
	    fail "a disabled account was given recovery codes"
}

# Every bad field of a sign-up is named in one answer.
t_51b_register_names_every_bad_field() {
	json_post /api/v1/auth/register '{"username":"a b","email":"not-an-email","password":"short"}'
	expect_problem 422
	expect_json '.errors | length' 3
	expect_json '[.errors[].field] | sort | join(",")' "email,password,username"
	expect_json '[.errors[].pointer] | sort | join(",")' "#/email,#/password,#/username"
	# A common password is named along with a bad e-mail.
	json_post /api/v1/auth/register '{"username":"newbie","email":"newbie@","password":"Password1234"}'
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' "email,password"
	expect_json '[.errors[] | select(.field == "password") | .detail | test("common")] | any' true
	# The rule across fields, alone.
	json_post /api/v1/auth/register '{"username":"longname-here","email":"ln@example.com","password":"LONGNAME-HERE"}'
	expect_problem 422
	expect_json '.errors[0].field' password
	expect_json '.errors[0].detail | test("username")' true
	json_post /api/v1/auth/login '{"login":"newbie","password":"Password1234"}'
	expect_status 401
}

t_64b_profile_and_password_name_every_bad_field() {
	signup ursula
	login ursula
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' \
	    --data-raw '{"username":"no spaces","email":"ursula@"}'
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' "email,username"
	req POST /api/v1/auth/me/password -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' \
	    --data-raw '{"current_password":"","new_password":"short"}'
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' "current_password,new_password"
	req POST /api/v1/auth/me/password -H "Authorization: Bearer $AT" \
	    -H 'Content-Type: application/json' \
	    --data-raw '{"new_password":"xxxxxxxxxxxxxxxx","extra":1}'
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' "current_password,extra,new_password"
	# Nothing changed, and no wrong password was counted.
	me "$AT"
	expect_json .user.username ursula
	[ "$(psql_auth "SELECT count(*) FROM login_throttle WHERE key = 'user:$UID_'")" = 0 ] ||
	    fail "a refused request counted a failure"
	login ursula
	expect_status 200
}

# make_admin NAME: signs NAME up, makes it an admin; sets AT to its token.
make_admin() {
	local out
	signup "$1"
	out=$(env "$(gh_pool_env auth | grep '^GH_DB=')" \
	    "$GH_STATE/bin/gatehouse-auth" --make-admin "$1" 2>&1) ||
	    fail "make-admin: $out"
	login "$1"
}

t_68b_admin_list_parameters() {
	local at
	make_admin param-admin
	at=$AT
	req GET '/api/v1/auth/admin/users?limit=abc' -H "Authorization: Bearer $at"
	expect_problem 400
	expect_json '.errors[0].field' limit
	expect_json '.errors[0].in' query
	req GET '/api/v1/auth/admin/users?limit=101' -H "Authorization: Bearer $at"
	expect_problem 400
	req GET '/api/v1/auth/admin/users?limit=1&limit=2' -H "Authorization: Bearer $at"
	expect_problem 400
	expect_json '.errors[0].detail | test("once")' true
	req GET '/api/v1/auth/admin/users?cursor=not-a-cursor' -H "Authorization: Bearer $at"
	expect_problem 400
	expect_json '.errors[0].field' cursor
	req GET '/api/v1/auth/admin/users?q=' -H "Authorization: Bearer $at"
	expect_problem 400
	expect_json '.errors[0].field' q
	req GET '/api/v1/auth/admin/users?q=%zz' -H "Authorization: Bearer $at"
	expect_problem 400
	# Every bad one at once.
	req GET '/api/v1/auth/admin/users?limit=0&starting_after=nope&q=' -H "Authorization: Bearer $at"
	expect_problem 400
	expect_json '[.errors[].field] | sort | join(",")' "limit,q,starting_after"
	expect_json '[.errors[].in] | unique | join(",")' query
	# Undeclared parameters are ignored; a non-admin learns nothing.
	req GET '/api/v1/auth/admin/users?limit=1&utm_source=x' -H "Authorization: Bearer $at"
	expect_status 200
	expect_json '.data | length' 1
	signup plain-user
	login plain-user
	req GET '/api/v1/auth/admin/users?limit=0' -H "Authorization: Bearer $AT"
	expect_problem 403
}

# The cursor holds the last user's position, not the user: deleting that
# user between two pages does not empty the next one.
t_68c_admin_cursor_survives_a_deleted_user() {
	local at c b a cur ids seen
	make_admin pager-admin
	at=$AT
	signup pgdel-a; a=$UID_
	signup pgdel-b; b=$UID_
	signup pgdel-c; c=$UID_
	req GET '/api/v1/auth/admin/users?q=pgdel&limit=2' -H "Authorization: Bearer $at"
	expect_status 200
	expect_json '[.data[].id] | join(",")' "$c,$b"
	expect_json .has_more true
	cur=$(printf '%s' "$BODY" | jq -r .next_cursor)
	[ -n "$cur" ] && [ "$cur" != null ] || { fail "no next_cursor"; return; }
	psql_auth "DELETE FROM users WHERE id = '$b'" >/dev/null
	req GET "/api/v1/auth/admin/users?q=pgdel&limit=2&cursor=$cur" -H "Authorization: Bearer $at"
	expect_status 200
	expect_json '[.data[].id] | join(",")' "$a"
	expect_json .has_more false
	expect_json .next_cursor null
	# starting_after=<id> still works (deprecated for cursor).
	req GET "/api/v1/auth/admin/users?q=pgdel&limit=1&starting_after=$c" -H "Authorization: Bearer $at"
	expect_status 200
	expect_json '[.data[].id] | join(",")' "$a"
	# Walking every page one user at a time sees each user once.
	seen=
	cur=
	for _ in $(seq 200); do
		req GET "/api/v1/auth/admin/users?limit=1${cur:+&cursor=$cur}" -H "Authorization: Bearer $at"
		[ "$STATUS" = 200 ] || { fail "page: status $STATUS"; return; }
		seen="$seen $(printf '%s' "$BODY" | jq -r '.data[].id')"
		cur=$(printf '%s' "$BODY" | jq -r '.next_cursor // empty')
		[ -n "$cur" ] || break
	done
	ids=$(psql_auth "SELECT count(*) FROM users")
	[ "$(printf '%s\n' $seen | sort -u | wc -l)" = "$ids" ] ||
	    fail "walked $(printf '%s\n' $seen | sort -u | wc -l) distinct users of $ids"
	[ "$(printf '%s\n' $seen | wc -l)" = "$ids" ] || fail "a user was listed twice"
}
