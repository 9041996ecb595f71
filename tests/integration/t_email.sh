# shellcheck shell=bash
# "A && B || C" below means C when either failed, as intended.
# shellcheck disable=SC2015
# E-mail verification and change (sql/auth/008, fcgi/auth/email*.c),
# from the mail the real SMTP server received (t_mail.sh's server and
# mailer): sign-up, the link, the pages; a change confirmed from the new
# address, the notice at the old one, its undo; every link used twice,
# expired, guessed, replaced or for another purpose refused with nothing
# changed; addresses the outbox would refuse refused before anything is
# written.

EM_PW='tall-lamp-quiet-river-42'

# em_up: the case's relay and mailer; the outbox empty.
em_up() {
	mail_setup || return 1
	mail_server_start || { mail_teardown; return 1; }
	mail_start
}

# em_mails ADDR: the messages ADDR received, oldest first, one file a line.
em_mails() {
	local f
	for f in $(find "$MAIL_DIR/mail" -name '*.eml' 2>/dev/null | sort); do
		tr -d '\r' <"$f" | grep -qixF "To: $1" && printf '%s\n' "$f"
	done
}

em_count() {
	em_mails "$1" | wc -l
}

# em_wait ADDR N: until ADDR has received N messages (10 s); EM_FILE is
# the Nth.
em_wait() {
	EM_FILE=
	for _ in $(seq 100); do
		EM_FILE=$(em_mails "$1" | sed -n "${2}p")
		[ -n "$EM_FILE" ] && return 0
		sleep 0.1
	done
	fail "no message $2 to $1 within 10 s (outbox: $(mail_sql "SELECT string_agg(to_addr || ' ' || template || ' ' || state, '; ') FROM mail_outbox"))"
	return 1
}

# em_link PAGE: the link to PAGE in EM_FILE's text part, which its HTML
# part must hold too; sets EM_URL and EM_TOKEN.
em_link() {
	local text
	text=$(mail_show "$EM_FILE" '.parts[0].content')
	EM_URL=$(printf '%s' "$text" | grep -o "https://localhost:$GH_HTTPS_PORT/$1#token=[A-Za-z0-9_-]*" | head -n 1)
	EM_TOKEN=${EM_URL##*#token=}
	if [ "${#EM_TOKEN}" != 43 ]; then
		fail "no /$1 link with a 43-character token in the mail: ${text:0:400}"
		return 1
	fi
	mail_show "$EM_FILE" '.parts[1].content' | grep -qF "href=\"$EM_URL\"" ||
	    fail "the HTML part lacks the /$1 link"
}

em_subject() {
	mail_show "$EM_FILE" .headers.Subject
}

# em_post PATH TOKEN [curl args]: a link's token, as the pages post it.
em_post() {
	local path=$1 token=$2
	shift 2
	json_post "$path" "{\"token\":\"$token\"}" "$@"
}

em_outbox() {
	mail_sql "SELECT count(*) FROM mail_outbox"
}

# em_signup NAME [EMAIL]: a new account (EM_UID), signed in (AT, RT).
em_signup() {
	json_post /api/v1/auth/register \
	    "{\"username\":\"$1\",\"email\":\"${2:-$1@example.com}\",\"password\":\"$EM_PW\"}"
	expect_status 201
	EM_UID=$(printf '%s' "$BODY" | jq -r .user.id)
	login "$1" "$EM_PW"
	expect_status 200
}

# em_verified NAME: the account has a verified address.
em_verify_now() {
	em_wait "$1@example.com" 1 && em_link verify-email &&
	    em_post /api/v1/auth/email/verify "$EM_TOKEN"
	expect_status 200
}

# em_change AT NEW: asks for NEW with the password (202).
em_change() {
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $1" \
	    -H 'Content-Type: application/json' \
	    --data-raw "{\"email\":\"$2\",\"current_password\":\"$EM_PW\"}"
}

em_psql() {
	gh_as_pg psql -h "$GH_STATE/pg/sock" -U postgres -d gatehouse_auth -tAc "$1"
}

t_5v01_signup_mails_a_link_that_verifies() {
	local token
	em_up || return
	em_signup ev-ann
	expect_json .user.email_verified false
	# Unverified accounts sign in (GH_AUTH_REQUIRE_VERIFIED_EMAIL off).
	me "$AT"
	expect_status 200
	expect_json .user.email_verified false
	expect_json .user.email_change null
	em_wait ev-ann@example.com 1 || { mail_teardown; return; }
	[ "$(em_subject)" = "Confirm your e-mail address for Porte Dorée" ] ||
	    fail "subject: $(em_subject)"
	em_link verify-email || { mail_teardown; return; }
	mail_show "$EM_FILE" '.parts[0].content' | grep -qF 'Hello ev-ann,' || fail "no greeting"
	mail_show "$EM_FILE" '.parts[0].content' | grep -qF 'works for 24 hours' || fail "no validity"
	token=$EM_TOKEN
	# The database has the token's hash only, and the sent message's
	# params (which held it) are cleared.
	[ "$(em_psql "SELECT count(*) FROM email_tokens WHERE token_hash = sha256('$token'::bytea) AND user_id = '$EM_UID' AND purpose = 'verify' AND expires_at BETWEEN now() + interval '23 hours 59 minutes' AND now() + interval '24 hours'")" = 1 ] ||
	    fail "no hashed verify token valid 24 h"
	em_psql "SELECT count(*) FROM email_tokens t, users u WHERE encode(t.token_hash, 'hex') = '$token' OR u.email LIKE '%$token%'" | grep -qx 0 ||
	    fail "the token is stored in clear"
	mail_wait_sql "SELECT params::text FROM mail_outbox WHERE to_addr = 'ev-ann@example.com'" '{}' 5 ||
	    fail "the sent message keeps its params"
	em_post /api/v1/auth/email/verify "$token"
	expect_status 200
	expect_json .email ev-ann@example.com
	expect_json .username ev-ann
	expect_json .email_verified true
	me "$AT"
	expect_json .user.email_verified true
	login ev-ann "$EM_PW"
	expect_json .user.email_verified true
	[ "$(em_psql "SELECT count(*) FROM audit_log WHERE event = 'email_verified' AND user_id = '$EM_UID'")" = 1 ] ||
	    fail "not audited"
	# The admin list says so too.
	make_admin ev-admin1
	req GET '/api/v1/auth/admin/users?q=ev-ann' -H "Authorization: Bearer $AT"
	expect_json '.data[0].email_verified' true
	req GET '/api/v1/auth/admin/users?q=ev-admin1' -H "Authorization: Bearer $AT"
	expect_json '.data[0].email_verified' false
	mail_teardown
}

t_5v02_links_used_twice_expired_guessed_or_misplaced_change_nothing() {
	local good other verified_at n
	em_up || return
	em_signup ev-bob
	em_wait ev-bob@example.com 1 && em_link verify-email || { mail_teardown; return; }
	good=$EM_TOKEN
	# Malformed: 422 naming the field; missing; not JSON.
	for t in short "$(printf 'x%.0s' $(seq 42))!" "$(printf 'x%.0s' $(seq 44))" "${good:0:42}" ""; do
		em_post /api/v1/auth/email/verify "$t"
		expect_problem 422
		expect_json '.errors[0].field' token
	done
	json_post /api/v1/auth/email/verify '{}'
	expect_problem 422
	expect_json '.errors[0].field' token
	json_post /api/v1/auth/email/verify "{\"token\":\"$good\",\"extra\":1}"
	expect_problem 422
	expect_json '[.errors[].field] | join(",")' extra
	req POST /api/v1/auth/email/verify -H 'Content-Type: text/plain' --data-raw "token=$good"
	expect_problem 415
	# Guessed: well formed, unknown.
	em_post /api/v1/auth/email/verify "$(openssl rand 32 | openssl base64 -A | tr '+/' '-_' | tr -d '=')"
	expect_problem 404
	expect_json .reason unknown
	# For another step: the verify token is no confirmation or undo.
	for p in confirm undo; do
		em_post "/api/v1/auth/email/$p" "$good"
		expect_problem 404
		expect_json .reason unknown
	done
	[ "$(em_psql "SELECT email_verified_at IS NULL FROM users WHERE id = '$EM_UID'")" = t ] ||
	    fail "a refused link verified the address"
	# Another account's token verifies that account, whoever posts it.
	other=$AT
	em_signup ev-carol
	em_post /api/v1/auth/email/verify "$good" -H "Authorization: Bearer $AT"
	expect_status 200
	expect_json .username ev-bob
	me "$AT"
	expect_json .user.email_verified false
	me "$other"
	expect_json .user.email_verified true
	# Twice.
	verified_at=$(em_psql "SELECT email_verified_at FROM users WHERE username = 'ev-bob'")
	em_post /api/v1/auth/email/verify "$good"
	expect_problem 409
	expect_json .reason used
	[ "$(em_psql "SELECT email_verified_at FROM users WHERE username = 'ev-bob'")" = "$verified_at" ] ||
	    fail "a second use changed the account"
	# Expired: carol's link, a day and a second old.
	em_wait ev-carol@example.com 1 && em_link verify-email || { mail_teardown; return; }
	em_psql "UPDATE email_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE token_hash = sha256('$EM_TOKEN'::bytea)" >/dev/null
	em_post /api/v1/auth/email/verify "$EM_TOKEN"
	expect_problem 410
	expect_json .reason expired
	expect_json '.detail | test("expired")' true
	me "$AT"
	expect_json .user.email_verified false
	# For an address that is no longer the account's (changed by hand here:
	# the API's own ways replace the link, below).
	n=$(em_count ev-carol@example.com)
	req POST /api/v1/auth/me/email/verification -H "Authorization: Bearer $AT"
	expect_status 202
	em_wait ev-carol@example.com $((n + 1)) && em_link verify-email || { mail_teardown; return; }
	em_psql "UPDATE users SET email = 'ev-carol-2@example.com' WHERE username = 'ev-carol'" >/dev/null
	em_post /api/v1/auth/email/verify "$EM_TOKEN"
	expect_problem 409
	expect_json .reason address_changed
	[ "$(em_psql "SELECT email_verified_at IS NULL FROM users WHERE username = 'ev-carol'")" = t ] ||
	    fail "a link for the old address verified the new one"
	# A disabled account's link changes nothing either.
	em_psql "UPDATE users SET email = 'ev-carol@example.com' WHERE username = 'ev-carol'" >/dev/null
	em_psql "UPDATE users SET disabled = true WHERE username = 'ev-carol'" >/dev/null
	em_post /api/v1/auth/email/verify "$EM_TOKEN"
	expect_problem 403
	expect_json .reason disabled
	[ "$(em_psql "SELECT email_verified_at IS NULL FROM users WHERE username = 'ev-carol'")" = t ] ||
	    fail "a disabled account was verified"
	em_psql "UPDATE users SET disabled = false WHERE username = 'ev-carol'" >/dev/null
	em_post /api/v1/auth/email/verify "$EM_TOKEN"
	expect_status 200
	mail_teardown
}

t_5v03_resend_replaces_the_link_and_is_throttled() {
	local old before at2
	em_up || return
	em_signup ev-dan
	em_wait ev-dan@example.com 1 && em_link verify-email || { mail_teardown; return; }
	old=$EM_TOKEN
	req POST /api/v1/auth/me/email/verification
	expect_problem 401
	req POST /api/v1/auth/me/email/verification -H "Authorization: Bearer $AT"
	expect_status 202
	expect_json .sent_to ev-dan@example.com
	expect_json '.expires_at | test("^[0-9-]{10}T[0-9:]{8}Z$")' true
	em_wait ev-dan@example.com 2 && em_link verify-email || { mail_teardown; return; }
	[ "$EM_TOKEN" != "$old" ] || fail "the same token twice"
	# The older link is replaced: only the newest mail works.
	em_post /api/v1/auth/email/verify "$old"
	expect_problem 410
	expect_json .reason replaced
	# Per account: GH_EMAIL_MAIL_LIMIT (5) an hour; the sign-up's mail
	# is not counted.
	for _ in 2 3 4 5; do
		req POST /api/v1/auth/me/email/verification -H "Authorization: Bearer $AT"
		expect_status 202
	done
	before=$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-dan@example.com'")
	req POST /api/v1/auth/me/email/verification -H "Authorization: Bearer $AT"
	expect_problem 429
	expect_header retry-after
	expect_json '.detail | test("too many mails")' true
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-dan@example.com'")" = "$before" ] ||
	    fail "a throttled resend queued a mail"
	[ "$before" = 6 ] || fail "$before mails for a sign-up and 5 resends"
	# Per address: two accounts asking to move to one stranger's address
	# share its count (3 + 3 > 5), each within its own.
	em_signup ev-eve
	for _ in 1 2 3; do
		em_change "$AT" ev-stranger@example.com
		expect_status 202
	done
	at2=$AT
	em_signup ev-fay
	em_change "$AT" ev-stranger@example.com
	expect_status 202
	em_change "$AT" ev-stranger@example.com
	expect_status 202
	em_change "$AT" ev-stranger@example.com
	expect_problem 429
	expect_header retry-after
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-stranger@example.com'")" = 5 ] ||
	    fail "the stranger got $(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-stranger@example.com'") mails"
	# A verified address needs no link.
	em_wait ev-eve@example.com 1 && em_link verify-email &&
	    em_post /api/v1/auth/email/verify "$EM_TOKEN"
	req POST /api/v1/auth/me/email/verification -H "Authorization: Bearer $at2"
	expect_problem 409
	expect_json .reason verified
	mail_teardown
}

# em_auth_pool [VAR=value ...]: the auth pool again, with these settings
# (none: the suite's own).
em_auth_pool() {
	gh_pool_stop auth
	# shellcheck disable=SC2163  # the arguments are VAR=value
	( [ $# = 0 ] || export "$@"; gh_pool_start auth )
	pool_wait auth
}

t_5v04_unverified_signin_refused_when_required() {
	em_up || return
	# Off (the default): signs in; the other ~150 cases rely on it (and
	# the provider's admin, made here before the switch).
	em_signup ev-gus
	oa_setup
	em_auth_pool GH_AUTH_REQUIRE_VERIFIED_EMAIL=yes
	em_v04_required
	em_psql "DELETE FROM login_throttle" >/dev/null
	em_auth_pool
	mail_teardown
}

em_v04_required() {
	local stranger wrong n jar="$T_OUT/em-jar4" before
	json_post /api/v1/auth/login "{\"login\":\"ev-gus\",\"password\":\"$EM_PW\"}"
	expect_problem 403
	expect_json .email_verification_required true
	expect_json .verification_mailed true
	expect_json '.detail | test("new link was just sent")' true
	[ "$(printf '%s' "$BODY" | jq 'has("access_token")')" = false ] || fail "tokens with the refusal"
	# The refusal brought a new link (the sign-up's and this one).
	em_wait ev-gus@example.com 2 && em_link verify-email || return
	# Without the password nothing tells an unverified account from a
	# stranger: the same 401 as an unknown login.
	json_post /api/v1/auth/login "{\"login\":\"ev-gus\",\"password\":\"wrong-$EM_PW\"}"
	expect_problem 401
	wrong=$(printf '%s' "$BODY" | jq -c 'del(.request_id)')
	json_post /api/v1/auth/login "{\"login\":\"ev-nobody\",\"password\":\"wrong-$EM_PW\"}"
	expect_problem 401
	stranger=$(printf '%s' "$BODY" | jq -c 'del(.request_id, .instance)')
	[ "$(printf '%s' "$wrong" | jq -c 'del(.instance)')" = "$stranger" ] ||
	    fail "a wrong password for an unverified account: $wrong, a stranger: $stranger"
	[ "$(em_count ev-gus@example.com)" = 2 ] || fail "a wrong password mailed a link"
	# By e-mail too; the same in the provider's sign-in page.
	json_post /api/v1/auth/login "{\"login\":\"ev-gus@example.com\",\"password\":\"$EM_PW\"}"
	expect_problem 403
	rm -f "$jar"
	before=$(oa_psql "SELECT count(*) FROM idp_sessions")
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid email"
	oa_browser "$jar" "$URL" ev-gus
	expect_status 403
	printf '%s' "$BODY" | grep -q 'Confirm your e-mail address first' || fail "no message on the page: ${BODY:0:300}"
	[ -z "$CODE" ] || fail "a code for an unverified account"
	[ "$(oa_psql "SELECT count(*) FROM idp_sessions")" = "$before" ] || fail "a provider session anyway"
	# Within the mail throttle: past it, the refusal says a link was sent.
	n=$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-gus@example.com'")
	for _ in $(seq 5); do
		json_post /api/v1/auth/login "{\"login\":\"ev-gus\",\"password\":\"$EM_PW\"}"
	done
	expect_problem 403
	expect_json .verification_mailed false
	expect_json '.detail | test("short while ago")' true
	# The sign-up's, then five refusals' (GH_EMAIL_MAIL_LIMIT), not more.
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-gus@example.com'")" = 6 ] ||
	    fail "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-gus@example.com'") mails (was $n before the last five sign-ins)"
	# Verified with the newest link: in.
	em_wait ev-gus@example.com 6 && em_link verify-email || return
	em_post /api/v1/auth/email/verify "$EM_TOKEN"
	expect_status 200
	json_post /api/v1/auth/login "{\"login\":\"ev-gus\",\"password\":\"$EM_PW\"}"
	expect_status 200
	expect_json .user.email_verified true
	rm -f "$jar"
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid email"
	oa_browser "$jar" "$URL" ev-gus
	[ -n "$CODE" ] || fail "no code once verified: $STATUS ${BODY:0:200}"
	[ "$(em_psql "SELECT count(*) FROM audit_log WHERE event = 'login_unverified' AND user_id = (SELECT id FROM users WHERE username = 'ev-gus')")" = 8 ] ||
	    fail "not every refusal was audited"
}

t_5v05_change_confirm_notice_undo_ends_every_session() {
	local at1 rt1 at2 uid confirm undo n jar="$T_OUT/em-jar5"
	em_up || return
	em_signup ev-hal
	uid=$EM_UID
	em_verify_now ev-hal
	at1=$AT rt1=$RT
	login ev-hal "$EM_PW"
	at2=$AT
	# A third session, an app's, through the provider (its own sign-in).
	oa_setup
	rm -f "$jar"
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid email"
	oa_browser "$jar" "$URL" ev-hal
	[ -n "$CODE" ] || fail "no code for the app"
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_status 200
	# The password is asked, every bad field named at once.
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $at1" -H 'Content-Type: application/json' \
	    --data-raw '{"email":"ev-hal-new@example.com"}'
	expect_problem 422
	expect_json '[.errors[].field] | join(",")' current_password
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $at1" -H 'Content-Type: application/json' \
	    --data-raw '{"email":"ev-hal-new@example","username":"bad name"}'
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' email,username
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $at1" -H 'Content-Type: application/json' \
	    --data-raw "{\"email\":\"ev-hal-new@example.com\",\"current_password\":\"wrong-$EM_PW\"}"
	expect_problem 403
	expect_json '.errors[0].field' current_password
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-hal-new@example.com'")" = 0 ] ||
	    fail "a refused change mailed the new address"
	# Asked: pending, nothing replaced yet.
	em_change "$at1" ev-hal-new@example.com
	expect_status 202
	expect_json .user.email ev-hal@example.com
	expect_json .user.email_verified true
	expect_json .email_change.new_email ev-hal-new@example.com
	me "$at2"
	expect_json .user.email ev-hal@example.com
	expect_json .email_change.new_email ev-hal-new@example.com
	json_post /api/v1/auth/login "{\"login\":\"ev-hal-new@example.com\",\"password\":\"$EM_PW\"}"
	expect_problem 401
	em_wait ev-hal-new@example.com 1 && em_link confirm-email || { mail_teardown; return; }
	confirm=$EM_TOKEN
	[ "$(em_subject)" = "Confirm your new e-mail address for Porte Dorée" ] || fail "subject: $(em_subject)"
	mail_show "$EM_FILE" '.parts[0].content' | grep -qF 'use ev-hal-new@example.com for your Porte Dorée account' ||
	    fail "the confirmation names no address"
	# The confirm link verifies nothing and undoes nothing.
	em_post /api/v1/auth/email/verify "$confirm"
	expect_problem 404
	# Confirmed: the new address, verified; the old one told, with a way back.
	n=$(em_count ev-hal@example.com)
	em_post /api/v1/auth/email/confirm "$confirm"
	expect_status 200
	expect_json .email ev-hal-new@example.com
	expect_json .email_verified true
	me "$at1"
	expect_json .user.email ev-hal-new@example.com
	expect_json .user.email_verified true
	expect_json .email_change null
	em_post /api/v1/auth/email/confirm "$confirm"
	expect_problem 409
	expect_json .reason used
	em_wait ev-hal@example.com $((n + 1)) && em_link undo-email-change || { mail_teardown; return; }
	undo=$EM_TOKEN
	[ "$(em_subject)" = "The e-mail address of your Porte Dorée account was changed" ] || fail "subject: $(em_subject)"
	mail_show "$EM_FILE" '.parts[0].content' | grep -qF 'ev-hal-new@example.com.' ||
	    fail "the notice names no new address"
	mail_show "$EM_FILE" '.parts[0].content' | grep -qF 'works for 168 hours' || fail "no validity in the notice"
	# While the undo may be used, the old address is no one else's.
	json_post /api/v1/auth/register "{\"username\":\"ev-squatter\",\"email\":\"EV-HAL@example.com\",\"password\":\"$EM_PW\"}"
	expect_problem 409
	expect_json '.errors[0].field' email
	[ "$(em_psql "SELECT count(*) FROM users WHERE username = 'ev-squatter'")" = 0 ] || fail "the squatter got an account"
	# Undone: the old address back, verified; every session ends.
	[ "$(em_psql "SELECT count(*) FROM sessions WHERE user_id = '$uid' AND revoked_at IS NULL")" = 3 ] ||
	    fail "$(em_psql "SELECT count(*) FROM sessions WHERE user_id = '$uid' AND revoked_at IS NULL") sessions, 3 signed in"
	[ "$(em_psql "SELECT count(*) FROM idp_sessions WHERE user_id = '$uid' AND revoked_at IS NULL")" = 1 ] ||
	    fail "no provider session"
	em_post /api/v1/auth/email/undo "$undo"
	expect_status 200
	expect_json .email ev-hal@example.com
	expect_json .email_verified true
	expect_json .sessions_ended 3
	expect_header set-cookie
	[ "$(em_psql "SELECT count(*) FROM sessions WHERE user_id = '$uid' AND revoked_at IS NULL")" = 0 ] ||
	    fail "sessions left after the undo"
	[ "$(em_psql "SELECT count(*) FROM idp_sessions WHERE user_id = '$uid' AND revoked_at IS NULL")" = 0 ] ||
	    fail "provider sessions left after the undo"
	me "$at1"
	expect_problem 401
	me "$at2"
	expect_problem 401
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt1\"}"
	expect_problem 401
	[ "$(em_psql "SELECT email || ' ' || (email_verified_at IS NOT NULL) FROM users WHERE id = '$uid'")" = "ev-hal@example.com true" ] ||
	    fail "after the undo: $(em_psql "SELECT email, email_verified_at FROM users WHERE id = '$uid'")"
	[ "$(em_psql "SELECT string_agg(event, ',' ORDER BY id) FROM audit_log WHERE user_id = '$uid' AND event LIKE 'email_change%'")" = \
	    email_change_requested,email_change,email_change_undone ] ||
	    fail "audit: $(em_psql "SELECT string_agg(event, ',' ORDER BY id) FROM audit_log WHERE user_id = '$uid'")"
	[ "$(em_psql "SELECT string_agg(coalesce(detail->>'new_email', detail->>'email'), ',' ORDER BY id) FROM audit_log WHERE user_id = '$uid' AND event LIKE 'email_change%'")" = \
	    ev-hal-new@example.com,ev-hal-new@example.com,ev-hal@example.com ] ||
	    fail "the audit lines do not name the addresses"
	em_psql "SELECT detail->>'sessions_ended' FROM audit_log WHERE user_id = '$uid' AND event = 'email_change_undone'" | grep -qx 3 ||
	    fail "the undo's audit line does not count the sessions"
	em_post /api/v1/auth/email/undo "$undo"
	expect_problem 409
	expect_json .reason used
	# The account signs in again with the password (and should change it).
	login ev-hal "$EM_PW"
	expect_status 200
	expect_json .user.email ev-hal@example.com
	mail_teardown
}

t_5v06_change_taken_cancelled_replaced_or_case_only() {
	local first second
	em_up || return
	em_signup ev-ivy
	em_verify_now ev-ivy
	# An address in use now: 409 at once, nothing mailed.
	em_signup ev-jon
	em_change "$AT" EV-IVY@example.com
	expect_problem 409
	expect_json '.errors[0].field' email
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE lower(to_addr) = 'ev-ivy@example.com' AND template = 'email_change_confirm'")" = 0 ] ||
	    fail "the taken address was mailed"
	# An address never verified (a typo at sign-up may be a stranger's)
	# gets no notice and no way to take the account back.
	em_change "$AT" ev-jon-2@example.com
	expect_status 202
	em_wait ev-jon-2@example.com 1 && em_link confirm-email || { mail_teardown; return; }
	em_post /api/v1/auth/email/confirm "$EM_TOKEN"
	expect_status 200
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-jon@example.com' AND template <> 'verify_email'")" = 0 ] ||
	    fail "the unverified old address was told"
	[ "$(em_psql "SELECT count(*) FROM email_tokens WHERE purpose = 'undo' AND email = 'ev-jon@example.com'")" = 0 ] ||
	    fail "an undo link for an address never verified"
	json_post /api/v1/auth/register "{\"username\":\"ev-jon-typo\",\"email\":\"ev-jon@example.com\",\"password\":\"$EM_PW\"}"
	expect_status 201
	# Free when asked, taken before the confirmation: 409, nothing changed,
	# the link still unused.
	login ev-ivy "$EM_PW"
	em_change "$AT" ev-ivy-2@example.com
	expect_status 202
	em_wait ev-ivy-2@example.com 1 && em_link confirm-email || { mail_teardown; return; }
	json_post /api/v1/auth/register "{\"username\":\"ev-kim\",\"email\":\"ev-ivy-2@example.com\",\"password\":\"$EM_PW\"}"
	expect_status 201
	em_post /api/v1/auth/email/confirm "$EM_TOKEN"
	expect_problem 409
	expect_json .reason taken
	me "$AT"
	expect_json .user.email ev-ivy@example.com
	expect_json .user.email_verified true
	[ "$(em_psql "SELECT used_at IS NULL FROM email_tokens WHERE token_hash = sha256('$EM_TOKEN'::bytea)")" = t ] ||
	    fail "the refused confirmation spent its link"
	# A second change replaces the first; the current address cancels it.
	em_change "$AT" ev-ivy-3@example.com
	expect_status 202
	em_wait ev-ivy-3@example.com 1 && em_link confirm-email || { mail_teardown; return; }
	first=$EM_TOKEN
	em_change "$AT" ev-ivy-4@example.com
	expect_status 202
	em_wait ev-ivy-4@example.com 1 && em_link confirm-email || { mail_teardown; return; }
	second=$EM_TOKEN
	em_post /api/v1/auth/email/confirm "$first"
	expect_problem 410
	expect_json .reason replaced
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' \
	    --data-raw '{"email":"ev-ivy@example.com"}'
	expect_status 200
	expect_json .user.email ev-ivy@example.com
	me "$AT"
	expect_json .email_change null
	em_post /api/v1/auth/email/confirm "$second"
	expect_problem 410
	expect_json .reason replaced
	# Another case of the same address: the same mailbox, at once, still
	# verified, no password asked.
	req PATCH /api/v1/auth/me -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' \
	    --data-raw '{"email":"Ev-Ivy@Example.com"}'
	expect_status 200
	expect_json .user.email Ev-Ivy@Example.com
	expect_json .user.email_verified true
	# An expired confirmation.
	em_change "$AT" ev-ivy-5@example.com
	em_wait ev-ivy-5@example.com 1 && em_link confirm-email || { mail_teardown; return; }
	em_psql "UPDATE email_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE token_hash = sha256('$EM_TOKEN'::bytea)" >/dev/null
	em_post /api/v1/auth/email/confirm "$EM_TOKEN"
	expect_problem 410
	expect_json .reason expired
	me "$AT"
	expect_json .user.email Ev-Ivy@Example.com
	expect_json .email_change null
	mail_teardown
}

# em_long N: an address of N characters (194 to 256), well made:
# a local part of 64, labels of at most 63.
em_long() {
	local d=$(($1 - 64 - 1 - 61 - 1 - 61 - 1 - 4))
	printf '%s@%s.%s.%s.com' "$(printf 'l%.0s' $(seq 64))" \
	    "$(printf 'd%.0s' $(seq 61))" "$(printf 'e%.0s' $(seq 61))" \
	    "$(printf 'f%.0s' $(seq "$d"))"
}

t_5v07_addresses_the_outbox_refuses_are_422_with_nothing_written() {
	local users outbox tokens long json uid email
	em_up || return
	em_signup ev-lea
	uid=$EM_UID
	long=$(em_long 255)
	[ "${#long}" = 255 ] || fail "em_long made ${#long} characters"
	users=$(em_psql "SELECT count(*) FROM users")
	outbox=$(em_outbox)
	tokens=$(em_psql "SELECT count(*) FROM email_tokens")
	# JSON strings: CR/LF (header injection), tab, other controls, DEL,
	# too long, not ASCII (local part and domain), quoting, spaces.
	for json in 'ann\r\n@example.com' 'ann@example.com\r\nBcc: eve@example.com' \
	    'ann\n@example.com' 'a\tb@example.com' 'a\u0001b@example.com' \
	    'a\u001fb@example.com' 'a\u007fb@example.com' "$long" \
	    'ännchen@example.com' 'ann@exämple.com' 'ann@example.com\u2028' \
	    'a b@example.com' '<ann@example.com>' '\"ann\"@example.com' \
	    'ann@b@example.com' 'ann@example'; do
		json_post /api/v1/auth/register "{\"username\":\"ev-bad\",\"email\":\"$json\",\"password\":\"$EM_PW\"}"
		expect_problem 422
		expect_json '[.errors[].field] | join(",")' email
		req PATCH /api/v1/auth/me -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' \
		    --data-raw "{\"email\":\"$json\",\"current_password\":\"$EM_PW\"}"
		expect_problem 422
		expect_json '[.errors[].field] | join(",")' email
	done
	# What they are told.
	json_post /api/v1/auth/register "{\"username\":\"ev-bad\",\"email\":\"ann\\r\\n@example.com\",\"password\":\"$EM_PW\"}"
	expect_json '.errors[0].detail | test("control character")' true
	json_post /api/v1/auth/register "{\"username\":\"ev-bad\",\"email\":\"ännchen@example.com\",\"password\":\"$EM_PW\"}"
	expect_json '.errors[0].detail | test("plain ASCII")' true
	json_post /api/v1/auth/register "{\"username\":\"ev-bad\",\"email\":\"$long\",\"password\":\"$EM_PW\"}"
	expect_json '.errors[0].detail | test("254")' true
	# With every other bad field, named at once.
	json_post /api/v1/auth/register "{\"username\":\"b d\",\"email\":\"a\\rb@example.com\",\"password\":\"short\"}"
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' email,password,username
	# NUL is no JSON string jansson takes: malformed.
	json_post /api/v1/auth/register "{\"username\":\"ev-bad\",\"email\":\"a\\u0000b@example.com\",\"password\":\"$EM_PW\"}"
	expect_problem 400
	# An admin is held to the same rules.
	make_admin ev-admin7
	for json in 'ann\r\n@example.com' 'ännchen@example.com' "$long"; do
		req PATCH "/api/v1/auth/admin/users/$uid" -H "Authorization: Bearer $AT" \
		    -H 'Content-Type: application/json' --data-raw "{\"email\":\"$json\"}"
		expect_problem 422
		expect_json '[.errors[].field] | join(",")' email
	done
	[ "$(em_psql "SELECT count(*) FROM users")" = $((users + 1)) ] ||
	    fail "a bad address made an account"
	[ "$(em_psql "SELECT count(*) FROM users WHERE username = 'ev-bad'")" = 0 ] || fail "ev-bad exists"
	[ "$(em_outbox)" = "$((outbox + 1))" ] ||
	    fail "bad addresses queued mail: $(mail_sql "SELECT string_agg(to_addr, ' ') FROM mail_outbox")"
	[ "$(em_psql "SELECT count(*) FROM email_tokens")" = $((tokens + 1)) ] || fail "bad addresses made links"
	email=$(em_psql "SELECT email FROM users WHERE id = '$uid'")
	[ "$email" = ev-lea@example.com ] || fail "the address is now $email"
	# The longest address the outbox takes is taken, and mailed.
	long=$(em_long 254)
	json_post /api/v1/auth/register "{\"username\":\"ev-long\",\"email\":\"$long\",\"password\":\"$EM_PW\"}"
	expect_status 201
	em_wait "$long" 1
	# The database refuses what the service would, were a row written by hand.
	em_psql "UPDATE users SET email = E'ev-lea\\r\\n@example.com' WHERE id = '$uid'" >/dev/null 2>&1 &&
	    fail "the table took an address with CR/LF"
	em_psql "INSERT INTO users (username, email, password_hash) VALUES ('ev-hand', 'änn@example.com', '\$argon2id\$x')" >/dev/null 2>&1 &&
	    fail "the table took a non-ASCII address"
	mail_teardown
}

t_5v08_id_token_and_userinfo_say_email_verified() {
	local jar="$T_OUT/em-jar8" idt at
	em_up || return
	oa_setup
	em_signup ev-max
	rm -f "$jar"
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid email"
	oa_browser "$jar" "$URL" ev-max
	[ -n "$CODE" ] || { fail "no code: $STATUS $LOC"; mail_teardown; return; }
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_status 200
	idt=$(printf '%s' "$BODY" | jq -r .id_token)
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	[ "$(oa_part 2 "$idt" | jq -r '.email + " " + (.email_verified | tostring)')" = "ev-max@example.com false" ] ||
	    fail "before: $(oa_part 2 "$idt")"
	req GET "$OA/userinfo" -H "Authorization: Bearer $at"
	expect_json .email_verified false
	em_verify_now ev-max
	# UserInfo reads the account as it is now.
	req GET "$OA/userinfo" -H "Authorization: Bearer $at"
	expect_status 200
	expect_json .email ev-max@example.com
	expect_json .email_verified true
	# A new ID token says so.
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid email"
	oa_browser "$jar" "$URL" ev-max
	[ -n "$CODE" ] || { fail "no second code: $STATUS $LOC"; mail_teardown; return; }
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_status 200
	idt=$(printf '%s' "$BODY" | jq -r .id_token)
	[ "$(oa_part 2 "$idt" | jq -r '.email + " " + (.email_verified | tostring)')" = "ev-max@example.com true" ] ||
	    fail "after: $(oa_part 2 "$idt")"
	# Without the email scope, neither claim.
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid"
	oa_browser "$jar" "$URL" ev-max
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	idt=$(printf '%s' "$BODY" | jq -r .id_token)
	[ "$(oa_part 2 "$idt" | jq -c '[has("email"), has("email_verified")]')" = '[false,false]' ] ||
	    fail "without the scope: $(oa_part 2 "$idt")"
	mail_teardown
}

# em_browser URL SHOTS: tests/oidc/account-link.mjs on the link; BODY
# is its summary, with what every page must show.
em_browser() {
	local out
	out=$(LINK_URL="$1" LINK_SHOTS="$2" \
	    timeout 90 node "$OA_NODE_DIR/account-link.mjs" 2>"$T_OUT/account-link.err") ||
	    { fail "account-link.mjs on $1: $out $(head -c 500 "$T_OUT/account-link.err")"; return 1; }
	BODY=$out
	expect_json .status 200
	expect_json '.csp | test("script-src .self.; style-src .self.")' true
	expect_json '.csp | test("frame-ancestors .none.")' true
	expect_json .frame_options DENY
	# The token leaves the address bar at once; nothing is posted before
	# the click (a mail scanner that opens the link changes nothing).
	expect_json .url_after_load "${1%%#*}"
	expect_json .posts_before_click 0
	expect_json .ask_hidden true
	expect_json '.posts[0].content_type' application/json
	expect_json '.posts[0].body' "{\"token\":\"${1##*#token=}\"}"
	expect_json '.posts[0].referer' null
	# Again: the API's detail, and no second try offered.
	expect_json '.again_error' "this link was already used"
	expect_json .again_button_disabled true
	expect_json .again_done_hidden true
	expect_json .short_missing true
	expect_json .short_ask_hidden true
	# No script error, nothing the policy blocked.
	expect_json '.console | length' 0
}

t_5v09_browser_opens_the_mail_and_verifies_by_clicking() {
	local shots="$GH_STATE/logs/browser-email" f
	[ -x /usr/bin/chromium ] || { oa_missing /usr/bin/chromium; return 0; }
	oa_node_deps || return 0
	em_up || return
	em_signup ev-nia
	em_wait ev-nia@example.com 1 && em_link verify-email || { mail_teardown; return; }
	em_browser "$EM_URL" "$shots/verify" || { mail_teardown; return; }
	expect_json .title "Confirm your e-mail address"
	expect_json .button "Confirm my address"
	expect_json '.done | test("ev-nia@example.com is confirmed")' true
	expect_json '.posts[0].url' "$(gh_url /api/v1/auth/email/verify)"
	login ev-nia "$EM_PW"
	expect_json .user.email_verified true
	# The other two pages, the same way: a change confirmed, then undone.
	em_change "$AT" ev-nia-2@example.com
	expect_status 202
	em_wait ev-nia-2@example.com 1 && em_link confirm-email || { mail_teardown; return; }
	em_browser "$EM_URL" "$shots/confirm" || { mail_teardown; return; }
	expect_json .title "Confirm your new e-mail address"
	expect_json '.done | test("ev-nia-2@example.com is now the address of the account ev-nia")' true
	expect_json '.posts[0].url' "$(gh_url /api/v1/auth/email/confirm)"
	em_wait ev-nia@example.com 2 && em_link undo-email-change || { mail_teardown; return; }
	em_browser "$EM_URL" "$shots/undo" || { mail_teardown; return; }
	expect_json .title "Undo the change of your e-mail address"
	expect_json '.ask | test("signs out every session")' true
	expect_json '.done | test("ev-nia@example.com is the address of the account ev-nia again, and 2 session")' true
	expect_json '.posts[0].url' "$(gh_url /api/v1/auth/email/undo)"
	me "$AT"
	expect_status 401
	for f in verify/1-ask verify/2-done verify/3-again verify/4-short confirm/2-done undo/1-ask undo/2-done; do
		[ -s "$shots/$f.png" ] || fail "no screenshot $f"
	done
	if [ -n "${GH_TEST_SHOTS-}" ]; then
		for f in verify confirm undo; do
			mkdir -p "$GH_TEST_SHOTS/$f" && cp "$shots/$f"/*.png "$GH_TEST_SHOTS/$f/"
		done
	fi
	mail_teardown
}

t_5v10_admin_change_is_at_once_unverified_and_told() {
	local uid admin pending n user_at
	em_up || return
	em_signup ev-ola
	uid=$EM_UID
	em_verify_now ev-ola
	user_at=$AT
	em_change "$AT" ev-ola-mine@example.com
	expect_status 202
	em_wait ev-ola-mine@example.com 1 && em_link confirm-email || { mail_teardown; return; }
	pending=$EM_TOKEN
	make_admin ev-admin10
	admin=$AT
	n=$(em_count ev-ola@example.com)
	req PATCH "/api/v1/auth/admin/users/$uid" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"email":"ev-ola-new@example.com"}'
	expect_status 200
	expect_json .user.email ev-ola-new@example.com
	expect_json .user.email_verified false
	# The new address gets a link, the old one a notice without a way back,
	# and the change the user had pending is over.
	em_wait ev-ola-new@example.com 1 && em_link verify-email || { mail_teardown; return; }
	em_wait ev-ola@example.com $((n + 1)) || { mail_teardown; return; }
	[ "$(em_subject)" = "An administrator changed the e-mail address of your Porte Dorée account" ] ||
	    fail "subject: $(em_subject)"
	mail_show "$EM_FILE" '.parts[0].content' | grep -q 'token=' && fail "the admin's notice carries a link"
	em_post /api/v1/auth/email/confirm "$pending"
	expect_problem 410
	expect_json .reason replaced
	[ "$(em_psql "SELECT detail->>'by' || ' ' || (actor_id::text = (SELECT id::text FROM users WHERE username = 'ev-admin10')) FROM audit_log WHERE user_id = '$uid' AND event = 'email_change'")" = "admin true" ] ||
	    fail "audit: $(em_psql "SELECT event, actor_id, detail FROM audit_log WHERE user_id = '$uid' AND event = 'email_change'")"
	# The user's sessions go on; the new address verifies with its link.
	me "$user_at"
	expect_status 200
	expect_json .user.email ev-ola-new@example.com
	em_post /api/v1/auth/email/verify "$EM_TOKEN"
	expect_status 200
	expect_json .email ev-ola-new@example.com
	# Taken, and the admin's own address: refused, nothing changed.
	req PATCH "/api/v1/auth/admin/users/$uid" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"email":"EV-ADMIN10@example.com"}'
	expect_problem 409
	expect_json '.errors[0].field' email
	# An old address never verified is not told.
	em_signup ev-ola-2
	req PATCH "/api/v1/auth/admin/users/$EM_UID" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"email":"ev-ola-3@example.com"}'
	expect_status 200
	em_wait ev-ola-3@example.com 1
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'ev-ola-2@example.com' AND template = 'email_changed_by_admin'")" = 0 ] ||
	    fail "the unverified old address was told"
	req PATCH "/api/v1/auth/admin/users/$(em_psql "SELECT id FROM users WHERE username = 'ev-admin10'")" \
	    -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
	    --data-raw '{"email":"ev-admin10-x@example.com"}'
	expect_problem 409
	[ "$(em_psql "SELECT email || ' ' || (email_verified_at IS NOT NULL) FROM users WHERE id = '$uid'")" = "ev-ola-new@example.com true" ] ||
	    fail "after refusals: $(em_psql "SELECT email, email_verified_at FROM users WHERE id = '$uid'")"
	mail_teardown
}

# A thief who changes the address twice cannot keep the account: the
# owner's undo (the first change's) still works after the thief's own,
# and voids it when used first.
t_5v11_the_first_undo_wins() {
	local u_owner u_thief n1 n2
	em_up || return
	em_signup ev-pat
	em_verify_now ev-pat
	n1=$(em_count ev-pat@example.com)
	em_change "$AT" ev-pat-t1@example.com
	em_wait ev-pat-t1@example.com 1 && em_link confirm-email && em_post /api/v1/auth/email/confirm "$EM_TOKEN"
	expect_status 200
	em_wait ev-pat@example.com $((n1 + 1)) && em_link undo-email-change || { mail_teardown; return; }
	u_owner=$EM_TOKEN
	n2=$(em_count ev-pat-t1@example.com)
	em_change "$AT" ev-pat-t2@example.com
	em_wait ev-pat-t2@example.com 1 && em_link confirm-email && em_post /api/v1/auth/email/confirm "$EM_TOKEN"
	expect_status 200
	em_wait ev-pat-t1@example.com $((n2 + 1)) && em_link undo-email-change || { mail_teardown; return; }
	u_thief=$EM_TOKEN
	# The thief undoes the second change first: back to the thief's first
	# address, and the owner's undo still stands.
	em_post /api/v1/auth/email/undo "$u_thief"
	expect_status 200
	expect_json .email ev-pat-t1@example.com
	em_post /api/v1/auth/email/undo "$u_owner"
	expect_status 200
	expect_json .email ev-pat@example.com
	[ "$(em_psql "SELECT email FROM users WHERE username = 'ev-pat'")" = ev-pat@example.com ] ||
	    fail "the owner's address is not back"
	# The other order, on a second account: the owner's undo voids the thief's.
	em_signup ev-quin
	em_verify_now ev-quin
	n1=$(em_count ev-quin@example.com)
	em_change "$AT" ev-quin-t1@example.com
	em_wait ev-quin-t1@example.com 1 && em_link confirm-email && em_post /api/v1/auth/email/confirm "$EM_TOKEN"
	em_wait ev-quin@example.com $((n1 + 1)) && em_link undo-email-change || { mail_teardown; return; }
	u_owner=$EM_TOKEN
	login ev-quin "$EM_PW"
	n2=$(em_count ev-quin-t1@example.com)
	em_change "$AT" ev-quin-t2@example.com
	em_wait ev-quin-t2@example.com 1 && em_link confirm-email && em_post /api/v1/auth/email/confirm "$EM_TOKEN"
	em_wait ev-quin-t1@example.com $((n2 + 1)) && em_link undo-email-change || { mail_teardown; return; }
	u_thief=$EM_TOKEN
	em_post /api/v1/auth/email/undo "$u_owner"
	expect_status 200
	expect_json .email ev-quin@example.com
	em_post /api/v1/auth/email/undo "$u_thief"
	expect_problem 410
	expect_json .reason replaced
	[ "$(em_psql "SELECT email FROM users WHERE username = 'ev-quin'")" = ev-quin@example.com ] ||
	    fail "the thief's undo took the address back"
	# Once the undo has expired, the old address is free for others, and
	# the link changes nothing.
	login ev-pat "$EM_PW"
	n1=$(em_count ev-pat@example.com)
	em_change "$AT" ev-pat-3@example.com
	em_wait ev-pat-3@example.com 1 && em_link confirm-email && em_post /api/v1/auth/email/confirm "$EM_TOKEN"
	em_wait ev-pat@example.com $((n1 + 1)) && em_link undo-email-change || { mail_teardown; return; }
	json_post /api/v1/auth/register "{\"username\":\"ev-pat-squat\",\"email\":\"ev-pat@example.com\",\"password\":\"$EM_PW\"}"
	expect_problem 409
	em_psql "UPDATE email_tokens SET created_at = now() - interval '8 days', expires_at = now() - interval '1 second' WHERE token_hash = sha256('$EM_TOKEN'::bytea)" >/dev/null
	json_post /api/v1/auth/register "{\"username\":\"ev-pat-squat\",\"email\":\"ev-pat@example.com\",\"password\":\"$EM_PW\"}"
	expect_status 201
	em_post /api/v1/auth/email/undo "$EM_TOKEN"
	expect_problem 410
	expect_json .reason expired
	[ "$(em_psql "SELECT email FROM users WHERE username = 'ev-pat'")" = ev-pat-3@example.com ] ||
	    fail "an expired undo changed the address"
	mail_teardown
}

t_5v12_sweep_removes_dead_links_only() {
	local uid out
	em_signup ev-ray
	uid=$EM_UID
	em_psql "
	    INSERT INTO email_tokens (token_hash, user_id, purpose, email, created_at, expires_at, used_at, voided_at) VALUES
		(sha256('ev-old-used'), '$uid', 'verify', 'ev-ray@example.com', now() - interval '9 days', now() - interval '8 days', now() - interval '8 days 12 hours', NULL),
		(sha256('ev-old-void'), '$uid', 'change', 'x@example.com', now() - interval '9 days', now() + interval '1 day', NULL, now() - interval '8 days'),
		(sha256('ev-old-exp'), '$uid', 'verify', 'ev-ray@example.com', now() - interval '10 days', now() - interval '8 days', NULL, NULL),
		(sha256('ev-new-used'), '$uid', 'verify', 'ev-ray@example.com', now() - interval '2 days', now() - interval '1 day', now() - interval '1 day 12 hours', NULL),
		(sha256('ev-undo-live'), '$uid', 'undo', 'y@example.com', now() - interval '9 days', now() + interval '1 day', NULL, NULL);
	" >/dev/null || { fail "could not seed the links"; return; }
	out=$(hk_auth_sweep 2>&1) || fail "sweep: $out"
	printf '%s\n' "$out" | grep -q 'removed [3-9][0-9]* e-mail links' || fail "summary: $out"
	[ "$(em_psql "SELECT string_agg(convert_from(t.x, 'UTF8'), ',' ORDER BY t.x) FROM (SELECT token_hash, k.x FROM email_tokens, (VALUES ('ev-old-used'::bytea), ('ev-old-void'), ('ev-old-exp'), ('ev-new-used'), ('ev-undo-live')) k(x) WHERE token_hash = sha256(k.x)) t")" = ev-new-used,ev-undo-live ] ||
	    fail "left: $(em_psql "SELECT purpose, created_at FROM email_tokens WHERE user_id = '$uid'")"
}

# The relay is down while people sign up: every sign-up answers at once,
# and once the relay is back each verification mail arrives exactly once.
t_5v13_relay_down_at_sign_up_then_every_mail_once() {
	local i n=5
	mail_setup || return
	MAIL_PORT=$(gh_free_port)
	mail_start
	for i in $(seq "$n"); do
		json_post /api/v1/auth/register \
		    "{\"username\":\"ev-down$i\",\"email\":\"ev-down$i@example.com\",\"password\":\"$EM_PW\"}"
		expect_status 201
	done
	mail_wait_sql "SELECT count(*) FROM mail_outbox WHERE last_error LIKE 'Couldn''t connect%'" "$n" 10 ||
	    fail "no attempt recorded while the relay was down: $(mail_sql "SELECT template, state, attempts FROM mail_outbox" | tr '\n' ' ')"
	[ "$(mail_sql "SELECT string_agg(DISTINCT state, ',') || ' ' || count(*) FROM mail_outbox WHERE template = 'verify_email'")" = "queued $n" ] ||
	    fail "while down: $(mail_sql "SELECT state, count(*) FROM mail_outbox GROUP BY 1")"
	mail_server_start || { mail_teardown; return; }
	mail_wait_files "$n" 15 || fail "$(mail_files) of $n messages after the relay came back"
	sleep 1
	for i in $(seq "$n"); do
		[ "$(em_count "ev-down$i@example.com")" = 1 ] ||
		    fail "ev-down$i got $(em_count "ev-down$i@example.com") mails"
	done
	[ -z "$(mail_dups)" ] || fail "sent twice: $(mail_dups)"
	mail_teardown
}
