# shellcheck shell=bash
# Password reset (fcgi/auth/reset.c, sql/auth/009_password_reset.sql):
# the link by mail, read from what the real SMTP server received
# (t_mail.sh's server and mailer), the new password, what it ends, the
# throttles, the bad tokens and passwords, an admin's reset, and the page
# in a real Chromium.  Users are named rs-*.

RS_PW2='a-brand-new-pass-phrase-9'

# rs_mail_up: a relay and a mailer for the case (mail_teardown ends them).
rs_mail_up() {
	mail_setup || return 1
	mail_server_start || { mail_teardown; return 1; }
	mail_start
}

# rs_kind FILE: what a stored message is, by its subject: link (a reset
# link, the user's or an admin's), notice (password changed) or other (a
# sign-up's address confirmation, ...).  Decoded once per message.
rs_kind() {
	local c="$T_OUT/rs-kind/${1##*/}" subject
	if [ ! -s "$c" ]; then
		mkdir -p "$T_OUT/rs-kind"
		subject=$(mail_show "$1" .headers.Subject)
		case $subject in
		"Reset your "*" password"|"Choose a new "*" password") echo link ;;
		"Your "*" password was changed") echo notice ;;
		*) echo other ;;
		esac >"$c"
	fi
	cat "$c"
}

# rs_mails ADDR [KIND]: the messages the relay took for ADDR (of KIND,
# link by default), oldest first.
rs_mails() {
	local e f
	grep -l -F "\"$1\"" "$MAIL_DIR"/envelopes/*.json 2>/dev/null | sort |
	    while read -r e; do
		e=${e%.json}
		f="${e/\/envelopes\//\/mail\/}.eml"
		[ "$(rs_kind "$f")" = "${2:-link}" ] && printf '%s\n' "$f"
	done
}

# rs_wait_mail ADDR N [SECONDS [KIND]]: until ADDR has N messages of KIND
# (link by default); RS_MAIL is the newest.
rs_wait_mail() {
	local i
	RS_MAIL=
	for i in $(seq $(( ${3:-10} * 10 ))); do
		if [ "$(rs_mails "$1" "${4:-link}" | wc -l)" -ge "$2" ]; then
			RS_MAIL=$(rs_mails "$1" "${4:-link}" | tail -n 1)
			return 0
		fi
		sleep 0.1
	done
	fail "$(rs_mails "$1" "${4:-link}" | wc -l) ${4:-link} messages for $1 after ${3:-10} s, wanted $2"
	return 1
}

# rs_token FILE: the token of the reset link in a stored message.
rs_token() {
	mail_show "$1" '.parts[0].content' |
	    sed -n 's/.*\/reset-password#token=\([A-Za-z0-9_-]*\).*/\1/p' | head -n 1
}

rs_forgot() {
	json_post /api/v1/auth/password/forgot "{\"login\":\"$1\"}" "${@:2}"
}

rs_reset() {
	json_post /api/v1/auth/password/reset "{\"token\":\"$1\",\"password\":\"$2\"}"
}

# rs_link NAME [LOGIN]: asks for NAME's link (with LOGIN, NAME by
# default) and reads it from the mail to NAME@example.com; RS_TOKEN.
rs_link() {
	local n
	n=$(rs_mails "$1@example.com" | wc -l)
	rs_forgot "${2:-$1}"
	expect_status 202
	RS_TOKEN=
	rs_wait_mail "$1@example.com" $((n + 1)) || return 1
	RS_TOKEN=$(rs_token "$RS_MAIL")
	[ ${#RS_TOKEN} = 43 ] || { fail "no token in the mail: '$RS_TOKEN'"; return 1; }
}

rs_sql() {
	psql_auth "$1"
}

t_5r01_reset_by_mail_ends_everything_and_sends_a_notice() {
	local uid at1 rt1 at2 rt2 f hash out
	rs_mail_up || return
	signup rs-ann
	uid=$UID_
	login rs-ann
	at1=$AT rt1=$RT
	login rs-ann@example.com
	at2=$AT rt2=$RT
	rv_works "$at1" || fail "a fresh token was refused at payment or media"
	rs_forgot rs-ann
	expect_status 202
	expect_header content-type application/json
	expect_json .valid_minutes 30
	rs_wait_mail rs-ann@example.com 1 || { mail_teardown; return; }
	f=$RS_MAIL
	[ "$(mail_show "$f" .headers.Subject)" = "Reset your Porte Dorée password" ] ||
	    fail "Subject: $(mail_show "$f" .headers.Subject)"
	mail_show "$f" '.parts[0].content' | grep -q '^Hello rs-ann,' || fail "the mail does not greet rs-ann"
	mail_show "$f" '.parts[0].content' | grep -q 'works for 30 minutes' || fail "the mail lacks the 30 minutes"
	RS_TOKEN=$(rs_token "$f")
	[ ${#RS_TOKEN} = 43 ] || { fail "token '$RS_TOKEN'"; mail_teardown; return; }
	mail_show "$f" '.parts[1].content' |
	    grep -qF "href=\"https://localhost:$GH_HTTPS_PORT/reset-password#token=$RS_TOKEN\"" ||
	    fail "the HTML part lacks the link"
	# The database holds the token's SHA-256 only, and the sent mail's
	# params (the token) are gone.
	hash=$(printf '%s' "$RS_TOKEN" | sha256sum | cut -d' ' -f1)
	[ "$(rs_sql "SELECT count(*) FROM password_resets WHERE user_id = '$uid' AND token_hash = decode('$hash', 'hex')")" = 1 ] ||
	    fail "no reset row with the token's hash"
	mail_wait_sql "SELECT count(*) FROM mail_outbox WHERE template = 'password_reset' AND state = 'sent' AND params = '{}'" 1 5 ||
	    fail "the sent mail keeps its params"
	(cd / && gh_as_pg pg_dump -h "$GH_STATE/pg/sock" -U postgres gatehouse_auth) >"$T_OUT/auth.dump" ||
	    fail "pg_dump failed"
	grep -qF "$RS_TOKEN" "$T_OUT/auth.dump" && fail "the token is in the database in clear"
	grep -rqF "$RS_TOKEN" "$GH_STATE/logs" "$MAIL_LOG" && fail "the token is in a log"
	# The link's owner does not even need to be signed in.
	rs_reset "$RS_TOKEN" "$RS_PW2"
	expect_status 200
	expect_json .username rs-ann
	expect_json .sessions_ended 2
	login rs-ann
	expect_problem 401
	login rs-ann "$RS_PW2"
	expect_status 200
	# Every old token is dead: access at auth and at payment and media,
	# refresh at auth.
	me "$at1"
	expect_problem 401
	me "$at2"
	expect_problem 401
	rv_refused_within "$at1" 5
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt1\"}"
	expect_problem 401
	json_post /api/v1/auth/refresh "{\"refresh_token\":\"$rt2\"}"
	expect_problem 401
	[ "$(rs_sql "SELECT count(*) FROM sessions WHERE user_id = '$uid' AND revoked_reason = 'password_reset'")" = 2 ] ||
	    fail "the sessions were not ended as password_reset"
	out=$(rs_sql "SELECT event || ' ' || coalesce(actor_id::text, '-') || ' ' || (detail->>'sessions_ended') FROM audit_log WHERE user_id = '$uid' AND event = 'password_reset'")
	[ "$out" = "password_reset $uid 2" ] || fail "audit: '$out'"
	[ "$(rs_sql "SELECT detail->>'outcome' FROM audit_log WHERE user_id = '$uid' AND event = 'password_reset_requested'")" = mailed ] ||
	    fail "the request is not in the audit trail"
	# The notice.
	rs_wait_mail rs-ann@example.com 1 10 notice || { mail_teardown; return; }
	[ "$(mail_show "$RS_MAIL" .headers.Subject)" = "Your Porte Dorée password was changed" ] ||
	    fail "second mail: $(mail_show "$RS_MAIL" .headers.Subject)"
	mail_show "$RS_MAIL" '.parts[0].content' | grep -q '^Hello rs-ann,' || fail "the notice does not greet rs-ann"
	mail_teardown
}

t_5r02_by_username_or_address_and_the_newest_link_only() {
	local first second
	rs_mail_up || return
	signup rs-bob
	json_post /api/v1/auth/password/forgot '{"login":"RS-Bob@Example.COM"}'
	expect_status 202
	rs_wait_mail rs-bob@example.com 1 || { mail_teardown; return; }
	first=$(rs_token "$RS_MAIL")
	[ "$(mail_show "$RS_MAIL" .headers.To)" = rs-bob@example.com ] ||
	    fail "To: $(mail_show "$RS_MAIL" .headers.To)"
	rs_link rs-bob RS-BOB || { mail_teardown; return; }
	second=$RS_TOKEN
	[ "$first" != "$second" ] || fail "the same token twice"
	# The newer request voided the older link.
	rs_reset "$first" "$RS_PW2"
	expect_problem 422
	expect_json '.errors[0].field' token
	expect_json '.errors[0].detail | test("newer link")' true
	login rs-bob
	expect_status 200
	rs_reset "$second" "$RS_PW2"
	expect_status 200
	login rs-bob "$RS_PW2"
	expect_status 200
	mail_teardown
}

# rs_answer LOGIN: the answer, as status, headers (but the request id and
# the date) and body in one text.
rs_answer() {
	rs_forgot "$1" "${@:2}"
	printf '%s\n%s\n%s\n' "$STATUS" \
	    "$(printf '%s\n' "$HEADERS" | grep -v -i '^x-request-id:\|^date:' | sort)" "$BODY"
}

t_5r03_unknown_disabled_or_held_back_accounts_answer_alike() {
	local known a uid admin n emil
	rs_mail_up || return
	make_admin rs-admin3
	admin=$AT
	signup rs-carl
	signup rs-emil
	# An address from before the outbox's rules, which it refuses: the
	# account gets no mail, and nothing tells (as superuser, past any
	# trigger that would refuse the address today).
	emil=$UID_
	rs_sql "SET session_replication_role = replica; UPDATE users SET email = 'rs-émil@example.com' WHERE id = '$emil'" >/dev/null
	signup rs-dora
	uid=$UID_
	req PATCH "/api/v1/auth/admin/users/$uid" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"disabled":true}'
	expect_status 200
	known=$(rs_answer rs-carl)
	[ "$(printf '%s' "$known" | head -n 1)" = 202 ] || fail "known: $known"
	for a in nobody-rs-here nobody-rs@example.com rs-dora rs-dora@example.com RS-CARL@example.com \
	    rs-emil; do
		[ "$(rs_answer "$a")" = "$known" ] ||
		    fail "$a is answered otherwise: $(diff <(printf '%s\n' "$known") <(rs_answer "$a") | head -n 10)"
	done
	# A non-ASCII address is no address to the rules (as at sign-up):
	# 422 by its spelling alone, an account's or not.
	a=$(rs_answer rs-émil@example.com | grep -v '^{')
	[ "$(printf '%s' "$a" | head -n 1)" = 422 ] || fail "a non-ASCII address: $a"
	[ "$(rs_answer nobody-rs-é@example.com | grep -v '^{')" = "$a" ] ||
	    fail "a stranger's non-ASCII address is answered otherwise"
	# rs-carl has had 2 links in the hour: the 3rd is mailed, the 4th is
	# past GH_PASSWORD_RESET_ACCOUNT_LIMIT (3), not mailed, and looks the
	# same.
	[ "$(rs_answer rs-carl)" = "$known" ] || fail "a held-back request is answered otherwise"
	[ "$(rs_answer rs-carl)" = "$known" ] || fail "a held-back request is answered otherwise"
	sleep 2
	n=$(rs_mails rs-carl@example.com | wc -l)
	[ "$n" = 3 ] || fail "$n mails for rs-carl, wanted 3 (the account's limit)"
	[ "$(rs_mails rs-dora@example.com | wc -l)" = 0 ] || fail "a disabled account got a link"
	# An admin is told plainly.
	req POST "/api/v1/auth/admin/users/$emil/password-reset" -H "Authorization: Bearer $admin"
	expect_problem 409
	expect_json '.detail | test("cannot be mailed")' true
	[ "$(rs_sql "SELECT string_agg(a.detail->>'outcome', ',' ORDER BY a.id) FROM audit_log a JOIN users u ON u.id = a.user_id WHERE a.event = 'password_reset_requested' AND u.username = 'rs-emil'")" = unmailable ] ||
	    fail "the unmailable account's requests are not audited as such"
	[ "$(rs_sql "SELECT count(*) FROM mail_outbox WHERE template LIKE 'password_reset%' AND to_addr NOT LIKE 'rs-carl@%'")" = 0 ] ||
	    fail "mail queued for another address"
	[ "$(rs_sql "SELECT count(*) FROM password_resets WHERE user_id = '$uid'")" = 0 ] ||
	    fail "a disabled account has a link"
	[ "$(rs_sql "SELECT string_agg(detail->>'outcome', ',' ORDER BY id) FROM audit_log WHERE event = 'password_reset_requested' AND user_id IS NULL AND at > now() - interval '1 minute'")" = unknown,unknown ] ||
	    fail "the unknown logins are not audited as such"
	[ "$(rs_sql "SELECT string_agg(detail->>'outcome', ',' ORDER BY id) FROM audit_log WHERE event = 'password_reset_requested' AND user_id = '$uid'")" = disabled,disabled ] ||
	    fail "the disabled account's requests are not audited as such"
	mail_teardown
}

# rs_from ADDR LOGIN: a request from another loopback address (the
# suite's own is exempt from nginx's rate limit, not from auth's).
rs_from() {
	BODY=$(gh_curl -sk --interface "$1" -D "$T_OUT/h" -H 'Content-Type: application/json' \
	    --data-raw "{\"login\":\"$2\"}" \
	    "https://127.0.0.1:$GH_HTTPS_PORT/api/v1/auth/password/forgot")
	HEADERS=$(tr -d '\r' <"$T_OUT/h" | sed 's/^\([^:]*\):/\L\1:/')
	STATUS=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$T_OUT/h")
}

t_5r04_throttles_per_login_per_address_and_per_account() {
	local i
	rs_mail_up || return
	gh_pool_stop auth
	GH_PASSWORD_RESET_LIMIT=2 GH_PASSWORD_RESET_NET_LIMIT=4 \
	    GH_PASSWORD_RESET_ACCOUNT_LIMIT=1 gh_pool_start auth
	pool_wait auth
	signup rs-erin
	# Per login typed, whatever its case, known or not: 429 alike.
	rs_from 127.0.0.5 rs-erin
	expect_status 202
	rs_from 127.0.0.5 RS-ERIN
	expect_status 202
	rs_from 127.0.0.5 rs-erin
	expect_problem 429
	expect_header retry-after
	expect_json '.detail | test("for this login")' true
	for i in 1 2; do
		rs_from 127.0.0.6 rs-nobody-at-all
		expect_status 202
	done
	rs_from 127.0.0.6 rs-nobody-at-all
	expect_problem 429
	expect_json '.detail | test("for this login")' true
	# Per client address, whatever the logins: the 5th from one address.
	for i in 1 2 3; do
		rs_from 127.0.0.7 "rs-spray-$i@example.com"
		expect_status 202
	done
	rs_from 127.0.0.7 rs-spray-4@example.com
	expect_status 202
	rs_from 127.0.0.7 rs-spray-5@example.com
	expect_problem 429
	expect_json '.detail | test("from this address")' true
	rs_from 127.0.0.8 rs-spray-5@example.com
	expect_status 202
	# Per account: rs-erin's second link (asked by address, another key)
	# is not sent, and not told.
	rs_from 127.0.0.8 rs-erin@example.com
	expect_status 202
	sleep 2
	[ "$(rs_mails rs-erin@example.com | wc -l)" = 1 ] ||
	    fail "$(rs_mails rs-erin@example.com | wc -l) mails for rs-erin past its limit of 1"
	[ "$(rs_sql "SELECT count(*) FROM password_resets r JOIN users u ON u.id = r.user_id WHERE u.username = 'rs-erin'")" = 1 ] ||
	    fail "a link past the account's limit"
	rs_sql "DELETE FROM rate_counters WHERE key LIKE 'reset:%'" >/dev/null
	gh_pool_stop auth
	gh_pool_start auth
	pool_wait auth
	mail_teardown
}

t_5r05_bad_tokens_change_nothing() {
	local uid t used hash guess
	rs_mail_up || return
	signup rs-fay
	uid=$UID_
	hash=$(rs_sql "SELECT password_hash FROM users WHERE id = '$uid'")
	rs_link rs-fay || { mail_teardown; return; }
	t=$RS_TOKEN
	guess=$(openssl rand 32 | b64url)
	# Guessed (well-formed, unknown), malformed, of the wrong type.
	rs_reset "$guess" "$RS_PW2"
	expect_problem 422
	expect_json '[.errors[].field] | join(",")' token
	expect_json '.errors[0].detail | test("matches no reset link")' true
	for bad in abc "${t}x" "${t:0:42}=" "${t:0:42}/" "${t:0:42}+" "${t:0:42}%" \
	    "${t:0:20} ${t:21}" "../../../${t:9}"; do
		rs_reset "$bad" "$RS_PW2"
		expect_problem 422
		expect_json '.errors[0].field' token
		expect_json '.errors[0].detail | test("not a reset token")' true
	done
	json_post /api/v1/auth/password/reset "{\"token\":\"$t\\u0000\",\"password\":\"$RS_PW2\"}"
	expect_problem 400
	json_post /api/v1/auth/password/reset "{\"token\":\"\",\"password\":\"$RS_PW2\"}"
	expect_problem 422
	expect_json '.errors[0].field' token
	json_post /api/v1/auth/password/reset "{\"token\":43,\"password\":\"$RS_PW2\"}"
	expect_problem 422
	expect_json '.errors[0].field' token
	json_post /api/v1/auth/password/reset '{}'
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' password,token
	json_post /api/v1/auth/password/reset "{\"token\":\"$t\",\"password\":\"$RS_PW2\",\"user_id\":\"$uid\"}"
	expect_problem 422
	expect_json '[.errors[].field] | join(",")' user_id
	json_post /api/v1/auth/password/reset "{\"token\":\"$t\",\"password\":\"$RS_PW2\""
	expect_problem 400
	req POST /api/v1/auth/password/reset -H 'Content-Type: text/plain' \
	    --data-raw "{\"token\":\"$t\",\"password\":\"$RS_PW2\"}"
	expect_problem 415
	# None of that spent the link or changed the password.
	[ "$(rs_sql "SELECT password_hash FROM users WHERE id = '$uid'")" = "$hash" ] ||
	    fail "the password changed"
	[ "$(rs_sql "SELECT count(*) FROM password_resets WHERE user_id = '$uid' AND used_at IS NULL AND voided_at IS NULL")" = 1 ] ||
	    fail "the link was spent"
	# Expired: nothing changes either, and it stays refused.
	rs_sql "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE user_id = '$uid'" >/dev/null
	rs_reset "$t" "$RS_PW2"
	expect_problem 422
	expect_json '.errors[0].field' token
	expect_json '.errors[0].detail | test("expired")' true
	[ "$(rs_sql "SELECT password_hash FROM users WHERE id = '$uid'")" = "$hash" ] ||
	    fail "an expired link changed the password"
	login rs-fay
	expect_status 200
	# Used twice: the second use changes nothing.
	rs_link rs-fay || { mail_teardown; return; }
	used=$RS_TOKEN
	rs_reset "$used" "$RS_PW2"
	expect_status 200
	hash=$(rs_sql "SELECT password_hash FROM users WHERE id = '$uid'")
	rs_reset "$used" "$RS_PW2-again"
	expect_problem 422
	expect_json '.errors[0].detail | test("already used")' true
	[ "$(rs_sql "SELECT password_hash FROM users WHERE id = '$uid'")" = "$hash" ] ||
	    fail "a used link changed the password"
	login rs-fay "$RS_PW2"
	expect_status 200
	# A dead link and a weak password: both named at once.
	rs_reset "$used" short
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' password,token
	expect_json '.detail | test("token: .*password: |password: .*token: ")' true
	mail_teardown
}

t_5r06_weak_new_passwords_are_named_and_keep_the_link() {
	local t uid
	rs_mail_up || return
	signup rs-gus
	uid=$UID_
	rs_link rs-gus || { mail_teardown; return; }
	t=$RS_TOKEN
	for pw in short-pw Password1234 aaaaaaaaaaaaaaaa rs-gus@example.com RS-GUS@EXAMPLE.COM \
	    "$(printf 'x%.0s' $(seq 129))"; do
		rs_reset "$t" "$pw"
		expect_problem 422
		expect_json '[.errors[].field] | join(",")' password
	done
	rs_reset "$t" Password1234
	expect_json '.errors[0].detail | test("common")' true
	rs_reset "$t" rs-gus@example.com
	expect_json '.errors[0].detail | test("username or the e-mail")' true
	rs_reset "$t" short-pw
	expect_json '.errors[0].detail | test("at least 12")' true
	json_post /api/v1/auth/password/reset "{\"token\":\"$t\",\"password\":12345678901234}"
	expect_problem 422
	expect_json '.errors[0].field' password
	[ "$(rs_sql "SELECT count(*) FROM password_resets WHERE user_id = '$uid' AND used_at IS NULL AND voided_at IS NULL")" = 1 ] ||
	    fail "a refused password spent the link"
	[ "$(rs_sql "SELECT count(*) FROM audit_log WHERE user_id = '$uid' AND event = 'password_reset'")" = 0 ] ||
	    fail "a refused password was audited as a reset"
	login rs-gus
	expect_status 200
	rs_reset "$t" "$RS_PW2"
	expect_status 200
	mail_teardown
}

t_5r07_second_factor_still_asked_after_a_reset() {
	local key uid
	rs_mail_up || return
	signup rs-hal
	uid=$UID_
	login rs-hal
	req POST /api/v1/auth/me/totp -H "Authorization: Bearer $AT"
	expect_status 201
	key=$(rs_sql "SELECT encode(secret, 'hex') FROM user_totp WHERE user_id = '$uid'")
	json_post /api/v1/auth/me/totp/confirm "{\"code\":\"$(totp_code "$key" -1)\",\"password\":\"$PW\"}" \
	    -H "Authorization: Bearer $AT"
	expect_status 200
	rs_link rs-hal || { mail_teardown; return; }
	rs_reset "$RS_TOKEN" "$RS_PW2"
	expect_status 200
	login rs-hal "$RS_PW2"
	expect_problem 401
	expect_json .mfa_required true
	json_post /api/v1/auth/login "{\"login\":\"rs-hal\",\"password\":\"$RS_PW2\",\"totp\":\"000000\"}"
	[ "$(totp_code "$key")" = 000000 ] || expect_problem 401
	json_post /api/v1/auth/login "{\"login\":\"rs-hal\",\"password\":\"$RS_PW2\",\"totp\":\"$(totp_code "$key")\"}"
	expect_status 200
	[ "$(rs_sql "SELECT confirmed_at IS NOT NULL FROM user_totp WHERE user_id = '$uid'")" = t ] ||
	    fail "the second factor is gone"
	mail_teardown
}

t_5r08_links_are_per_account_and_die_with_a_new_password_or_address() {
	local ta tb uid_a
	rs_mail_up || return
	signup rs-ida
	uid_a=$UID_
	signup rs-jon
	rs_link rs-ida || { mail_teardown; return; }
	ta=$RS_TOKEN
	rs_link rs-jon || { mail_teardown; return; }
	tb=$RS_TOKEN
	# rs-jon's request did not void rs-ida's link; rs-jon's link sets
	# rs-jon's password only, whoever is signed in when it is used.
	login rs-ida
	json_post /api/v1/auth/password/reset "{\"token\":\"$tb\",\"password\":\"$RS_PW2\"}" \
	    -H "Authorization: Bearer $AT"
	expect_status 200
	expect_json .username rs-jon
	login rs-ida
	expect_status 200
	login rs-jon "$RS_PW2"
	expect_status 200
	# A password changed while a link is open ends the link.
	login rs-ida
	json_post /api/v1/auth/me/password "{\"current_password\":\"$PW\",\"new_password\":\"$PW-changed\"}" \
	    -H "Authorization: Bearer $AT"
	expect_status 204
	rs_reset "$ta" "$RS_PW2"
	expect_problem 422
	expect_json '.errors[0].detail | test("changed since")' true
	login rs-ida "$PW-changed"
	expect_status 200
	# So does an address changed away from the one the link went to; a
	# change of case only is the same mailbox.
	rs_link rs-jon || { mail_teardown; return; }
	tb=$RS_TOKEN
	# (Set in the database: the check is the trigger's, whatever
	# changes the address.)
	rs_sql "UPDATE users SET email = 'RS-JON@example.com' WHERE username = 'rs-jon'" >/dev/null
	[ "$(rs_sql "SELECT count(*) FROM password_resets r JOIN users u ON u.id = r.user_id WHERE u.username = 'rs-jon' AND r.voided_at IS NULL AND r.used_at IS NULL")" = 1 ] ||
	    fail "a change of case voided the link"
	rs_sql "UPDATE users SET email = 'rs-jon-new@example.com' WHERE username = 'rs-jon'" >/dev/null
	rs_reset "$tb" "$RS_PW2-x"
	expect_problem 422
	expect_json '.errors[0].field' token
	login rs-jon "$RS_PW2"
	expect_status 200
	[ "$(rs_sql "SELECT count(*) FROM audit_log WHERE user_id = '$uid_a' AND event = 'password_reset'")" = 0 ] ||
	    fail "rs-ida's account was reset"
	mail_teardown
}

t_5r09_a_disabled_account_cannot_use_its_link() {
	local admin uid t hash
	rs_mail_up || return
	make_admin rs-admin9
	admin=$AT
	signup rs-kim
	uid=$UID_
	rs_link rs-kim || { mail_teardown; return; }
	t=$RS_TOKEN
	hash=$(rs_sql "SELECT password_hash FROM users WHERE id = '$uid'")
	req PATCH "/api/v1/auth/admin/users/$uid" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"disabled":true}'
	expect_status 200
	rs_reset "$t" "$RS_PW2"
	expect_problem 403
	expect_json '.detail | test("disabled")' true
	[ "$(rs_sql "SELECT password_hash FROM users WHERE id = '$uid'")" = "$hash" ] ||
	    fail "a disabled account's password changed"
	[ "$(rs_sql "SELECT count(*) FROM password_resets WHERE user_id = '$uid' AND used_at IS NULL")" = 1 ] ||
	    fail "the link was spent"
	# Enabled again within its half hour, the link works.
	req PATCH "/api/v1/auth/admin/users/$uid" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"disabled":false}'
	rs_reset "$t" "$RS_PW2"
	expect_status 200
	mail_teardown
}

t_5r10_admin_sends_a_reset_non_admin_refused() {
	local admin admin_id uid at_user n t
	rs_mail_up || return
	make_admin rs-admin10
	admin=$AT
	admin_id=$(printf '%s' "$BODY" | jq -r .user.id)
	signup rs-lea
	uid=$UID_
	login rs-lea
	at_user=$AT
	req POST "/api/v1/auth/admin/users/$uid/password-reset" -H "Authorization: Bearer $at_user"
	expect_problem 403
	req POST "/api/v1/auth/admin/users/$uid/password-reset"
	expect_problem 401
	req POST "/api/v1/auth/admin/users/00000000-0000-4000-8000-000000000000/password-reset" \
	    -H "Authorization: Bearer $admin"
	expect_problem 404
	req POST "/api/v1/auth/admin/users/not-a-uuid/password-reset" -H "Authorization: Bearer $admin"
	expect_problem 404
	req POST "/api/v1/auth/admin/users/$uid/password-reset" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"end_sessions":"yes","x":1}'
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' end_sessions,x
	[ "$(rs_sql "SELECT count(*) FROM password_resets WHERE user_id = '$uid'")" = 0 ] ||
	    fail "a refused request made a link"
	# Without end_sessions, the user stays signed in until they choose.
	req POST "/api/v1/auth/admin/users/$uid/password-reset" -H "Authorization: Bearer $admin"
	expect_status 202
	expect_json .user_id "$uid"
	expect_json .sessions_ended 0
	expect_json '.expires_at | test("^[0-9-]{10}T[0-9:]{8}Z$")' true
	rs_wait_mail rs-lea@example.com 1 || { mail_teardown; return; }
	[ "$(mail_show "$RS_MAIL" .headers.Subject)" = "Choose a new Porte Dorée password" ] ||
	    fail "Subject: $(mail_show "$RS_MAIL" .headers.Subject)"
	mail_show "$RS_MAIL" '.parts[0].content' | grep -q 'An administrator of Porte Dorée asked' ||
	    fail "the mail does not say an admin asked"
	me "$at_user"
	expect_status 200
	[ "$(rs_sql "SELECT actor_id::text || ' ' || (detail->>'by') FROM audit_log WHERE user_id = '$uid' AND event = 'password_reset_requested'")" = "$admin_id admin" ] ||
	    fail "the audit line does not name the admin"
	[ "$(rs_sql "SELECT requested_by FROM password_resets WHERE user_id = '$uid'")" = "$admin_id" ] ||
	    fail "the link does not say which admin"
	# With end_sessions, every session ends at once, and the older link
	# is void.
	t=$(rs_token "$RS_MAIL")
	json_post "/api/v1/auth/admin/users/$uid/password-reset" '{"end_sessions":true}' \
	    -H "Authorization: Bearer $admin"
	expect_status 202
	expect_json .sessions_ended 1
	me "$at_user"
	expect_problem 401
	rs_reset "$t" "$RS_PW2"
	expect_problem 422
	rs_wait_mail rs-lea@example.com 2 || { mail_teardown; return; }
	rs_reset "$(rs_token "$RS_MAIL")" "$RS_PW2"
	expect_status 200
	login rs-lea "$RS_PW2"
	expect_status 200
	# The admin's own count does not hold them back, and a disabled
	# account is refused plainly.
	for n in 1 2 3 4; do
		req POST "/api/v1/auth/admin/users/$uid/password-reset" -H "Authorization: Bearer $admin"
		expect_status 202
	done
	req PATCH "/api/v1/auth/admin/users/$uid" -H "Authorization: Bearer $admin" \
	    -H 'Content-Type: application/json' --data-raw '{"disabled":true}'
	req POST "/api/v1/auth/admin/users/$uid/password-reset" -H "Authorization: Bearer $admin"
	expect_problem 409
	mail_teardown
}

t_5r11_control_characters_in_the_login_are_refused_harmlessly() {
	local l before
	rs_mail_up || return
	signup rs-max
	before=$(rs_sql "SELECT count(*) FROM rate_counters")
	for l in 'rs-max\r\nBcc: eve@example.com' 'rs-max@example.com\r\nBcc: eve@example.com' \
	    'rs-max\n' 'rs-max\t' 'rs max' '\r\n' '' \
	    "$(printf 'a%.0s' $(seq 250))@example.com" 'rs-max@exa mple.com' '<rs-max@example.com>'; do
		json_post /api/v1/auth/password/forgot "{\"login\":\"$l\"}"
		expect_problem 422
		expect_json '[.errors[].field] | join(",")' login
		printf '%s' "$BODY" | grep -q 'eve@' && fail "the answer echoes the login: $BODY"
	done
	# A NUL is not even JSON to the parser.
	json_post /api/v1/auth/password/forgot '{"login":"rs-max\u0000"}'
	expect_problem 400
	json_post /api/v1/auth/password/forgot '{"login":["rs-max"]}'
	expect_problem 422
	json_post /api/v1/auth/password/forgot '{"login":"rs-max","email":"eve@example.com"}'
	expect_problem 422
	expect_json '[.errors[].field] | join(",")' email
	json_post /api/v1/auth/password/forgot '{}'
	expect_problem 422
	expect_json '.errors[0].field' login
	sleep 1
	[ "$(rs_sql "SELECT count(*) FROM mail_outbox WHERE template LIKE 'password_reset%'")" = 0 ] || fail "a refused request queued mail"
	[ "$(rs_sql "SELECT count(*) FROM password_resets r JOIN users u ON u.id = r.user_id WHERE u.username = 'rs-max'")" = 0 ] ||
	    fail "a refused request made a link"
	[ "$(rs_sql "SELECT count(*) FROM rate_counters")" = "$before" ] ||
	    fail "a refused request was counted"
	[ "$(rs_mails rs-max@example.com | wc -l)" = 0 ] || fail "the relay got a link"
	mail_teardown
}

t_5r12_a_reset_lifts_the_sign_in_delay() {
	local i
	rs_mail_up || return
	signup rs-ned
	for i in 1 2 3 4 5 6; do
		login rs-ned "wrong-password-$i"
		login rs-ned@example.com "wrong-password-$i"
	done
	# The delay those earned is seconds long, which a slow machine may
	# have spent already: hold it for ten minutes, so that only the reset
	# can lift it.
	[ "$(rs_sql "WITH u AS (UPDATE login_throttle
	    SET locked_until = now() + interval '10 minutes'
	    WHERE key IN ('user:$UID_', 'rs-ned', 'rs-ned@example.com')
	    RETURNING 1) SELECT count(*) FROM u")" -ge 1 ] ||
	    fail "no sign-in delay to hold"
	login rs-ned
	expect_problem 429
	rs_link rs-ned || { mail_teardown; return; }
	rs_reset "$RS_TOKEN" "$RS_PW2"
	expect_status 200
	login rs-ned "$RS_PW2"
	expect_status 200
	login rs-ned@example.com "$RS_PW2"
	expect_status 200
	# And the count starts again from nothing.
	login rs-ned wrong-password-7
	expect_problem 401
	login rs-ned "$RS_PW2"
	expect_status 200
	mail_teardown
}

t_5r13_the_pages_headers() {
	req GET /reset-password
	expect_status 200
	expect_header content-type 'text/html; charset=utf-8'
	header content-security-policy | grep -q "script-src 'self'" || fail "CSP: $(header content-security-policy)"
	header content-security-policy | grep -q "frame-ancestors 'none'" || fail "CSP: $(header content-security-policy)"
	expect_header cache-control no-store
	printf '%s' "$BODY" | grep -q '<script src="/account/reset-password.js"' || fail "the page does not load its script"
	printf '%s' "$BODY" | grep -qi '<script>\|style=\|onclick=\|onsubmit=' && fail "inline script or style on the page"
	req GET /account/reset-password.js
	expect_status 200
	header content-type | grep -q javascript || fail "script type: $(header content-type)"
	req GET /account/account.css
	expect_status 200
}

# rs_browser ARGS...: tests/oidc/reset.mjs in Debian's Chromium; its JSON
# summary in BODY.
rs_browser() {
	BODY=$(NODE_EXTRA_CA_CERTS="$GH_STATE/tls/cert.pem" \
	    RESET_SHOTS="${RS_SHOTS:-$GH_STATE/logs/browser-reset}" \
	    timeout 90 node "$OA_NODE_DIR/reset.mjs" "$@" 2>"$T_OUT/reset-browser.err") ||
	    { fail "reset.mjs $1: $BODY $(head -c 800 "$T_OUT/reset-browser.err")"; return 1; }
}

t_5r14_a_browser_asks_for_a_link_and_sets_the_password() {
	local link
	[ -x /usr/bin/chromium ] || { oa_missing /usr/bin/chromium; return 0; }
	oa_node_deps || return 0
	rs_mail_up || return
	signup rs-olga
	# The page without a token asks for a link.
	rs_browser request "$(gh_url /reset-password)" rs-olga@example.com || { mail_teardown; return; }
	expect_json .status 202
	expect_json '.message | test("on its way")' true
	expect_json '.console_errors | length' 0
	rs_wait_mail rs-olga@example.com 1 || { mail_teardown; return; }
	link=$(mail_show "$RS_MAIL" '.parts[1].content' |
	    sed -n 's/.*href="\([^"]*reset-password#token=[^"]*\)".*/\1/p' | head -n 1)
	[ -n "$link" ] || { fail "no link in the HTML part"; mail_teardown; return; }
	# The link from the mail: a mismatch caught on the page, a weak
	# password named by the API next to its input, then the new one.
	rs_browser reset "$link" "$RS_PW2" || { mail_teardown; return; }
	expect_json .mismatch_error "The two passwords differ."
	expect_json '.weak_error | test("common")' true
	expect_json .weak_status 422
	expect_json .status 200
	expect_json '.message | test("changed")' true
	expect_json .token_left_url true
	expect_json '.console_errors | length' 0
	login rs-olga "$RS_PW2"
	expect_status 200
	# The same link again: the page shows the API's detail.
	rs_browser reset "$link" "$RS_PW2-again" || { mail_teardown; return; }
	expect_json .status 422
	expect_json '.detail | test("already used")' true
	mail_teardown
}

t_5r15_the_sweep_removes_links_a_day_past_their_end() {
	local uid out
	signup rs-pia
	uid=$UID_
	rs_sql "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, used_at) VALUES
	    (sha256('rs-old'), '$uid', now() - interval '2 days', now() - interval '2 days' + interval '30 minutes', NULL),
	    (sha256('rs-used-old'), '$uid', now() - interval '3 days', now() - interval '3 days', now() - interval '3 days'),
	    (sha256('rs-recent'), '$uid', now() - interval '2 hours', now() - interval '90 minutes', NULL),
	    (sha256('rs-live'), '$uid', now(), now() + interval '30 minutes', NULL)" >/dev/null ||
	    { fail "could not seed the links"; return; }
	out=$(hk_auth_sweep 2>&1) || fail "sweep: $out"
	printf '%s\n' "$out" | grep -q '^removed 2 password reset links$' ||
	    fail "the summary: $out"
	[ "$(rs_sql "SELECT string_agg(convert_from(t.v, 'UTF8'), ',' ORDER BY t.v) FROM password_resets r
	    JOIN (VALUES ('rs-old'::bytea), ('rs-used-old'), ('rs-recent'), ('rs-live')) t(v) ON r.token_hash = sha256(t.v)")" = rs-live,rs-recent ] ||
	    fail "left: $(rs_sql "SELECT count(*) FROM password_resets WHERE user_id = '$uid'")"
}

t_5r16_a_reset_ends_provider_sessions_codes_and_half_done_sign_ins() {
	local uid other out
	rs_mail_up || return
	signup rs-quin
	uid=$UID_
	signup rs-rosa
	other=$UID_
	# What the OpenID provider keeps for a browser, seeded for both users:
	# a provider session, a code not yet exchanged, a sign-in waiting for
	# its second factor.
	rs_sql "INSERT INTO oauth_clients (id, name, type, redirect_uris)
	      VALUES ('rs-client-5r16', 'rs', 'public', '{https://rs.example.test/cb}');
	    INSERT INTO idp_sessions (token_hash, user_id, amr, expires_at)
	      SELECT sha256(('rs-idp-' || u)::bytea), u, '{pwd}', now() + interval '1 hour'
	      FROM unnest(ARRAY['$uid', '$other']::uuid[]) u;
	    INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge,
	      scope, auth_time, amr, expires_at)
	      SELECT sha256(('rs-code-' || u)::bytea), 'rs-client-5r16', u, 'https://rs.example.test/cb',
	        repeat('a', 43), 'openid', now(), '{pwd}', now() + interval '1 minute'
	      FROM unnest(ARRAY['$uid', '$other']::uuid[]) u;
	    INSERT INTO oauth_requests (handle_hash, csrf_hash, client_id, params, user_id,
	      mfa_until, expires_at)
	      SELECT sha256(('rs-req-' || u)::bytea), sha256('x'), 'rs-client-5r16', '{}', u,
	        now() + interval '5 minutes', now() + interval '10 minutes'
	      FROM unnest(ARRAY['$uid', '$other']::uuid[]) u" >/dev/null ||
	    { fail "could not seed the provider's rows"; mail_teardown; return; }
	rs_link rs-quin || { mail_teardown; return; }
	rs_reset "$RS_TOKEN" "$RS_PW2"
	expect_status 200
	out=$(rs_sql "SELECT (SELECT count(*) FROM idp_sessions WHERE user_id = '$uid' AND revoked_at IS NULL),
	    (SELECT count(*) FROM oauth_codes WHERE user_id = '$uid' AND expires_at > now()),
	    (SELECT count(*) FROM oauth_requests WHERE user_id = '$uid')")
	[ "$out" = "0|0|0" ] || fail "left live for the reset account (provider sessions|codes|sign-ins): $out"
	out=$(rs_sql "SELECT (SELECT count(*) FROM idp_sessions WHERE user_id = '$other' AND revoked_at IS NULL),
	    (SELECT count(*) FROM oauth_codes WHERE user_id = '$other' AND expires_at > now()),
	    (SELECT count(*) FROM oauth_requests WHERE user_id = '$other')")
	[ "$out" = "1|1|1" ] || fail "another account's were touched: $out"
	rs_sql "DELETE FROM oauth_clients WHERE id = 'rs-client-5r16'" >/dev/null
	mail_teardown
}

t_5r17_a_request_never_waits_on_the_relay() {
	local t0 ms
	mail_setup || return
	# A mailer whose relay is down: the request is answered at once, the
	# link waits in the outbox, and goes when the relay is back.
	MAIL_PORT=$(gh_free_port)
	mail_start
	signup rs-sam
	t0=$(date +%s%N)
	rs_forgot rs-sam
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	expect_status 202
	[ "$ms" -lt 1000 ] || fail "the request took $ms ms with the relay down"
	mail_wait_sql "SELECT count(*) FROM mail_outbox WHERE to_addr = 'rs-sam@example.com' AND template = 'password_reset' AND state = 'queued' AND attempts >= 1" 1 10 ||
	    fail "outbox: $(rs_sql "SELECT state, attempts, last_error FROM mail_outbox")"
	mail_server_start || { mail_teardown; return; }
	rs_wait_mail rs-sam@example.com 1 20 || { mail_teardown; return; }
	rs_reset "$(rs_token "$RS_MAIL")" "$RS_PW2"
	expect_status 200
	mail_teardown
}

t_5r18_requests_and_uses_at_once_leave_one_live_link_one_use() {
	local uid i codes pids f
	rs_mail_up || return
	signup rs-tea
	uid=$UID_
	: >"$T_OUT/codes"
	# Three requests at once (the account's limit): three links, of which
	# only the newest is live.
	pids=
	for i in 1 2 3; do
		gh_curl -sk -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
		    --data-raw '{"login":"rs-tea"}' "$(gh_url /api/v1/auth/password/forgot)" \
		    >>"$T_OUT/codes" &
		pids="$pids $!"
	done
	# (Not a bare wait: the relay and the mailer run in the background.)
	wait $pids
	[ "$(sort "$T_OUT/codes" | uniq -c | tr -s ' ')" = " 3 202" ] || fail "answers: $(cat "$T_OUT/codes")"
	[ "$(rs_sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE used_at IS NULL AND voided_at IS NULL) FROM password_resets WHERE user_id = '$uid'")" = "3 1" ] ||
	    fail "links (all, live): $(rs_sql "SELECT count(*), count(*) FILTER (WHERE voided_at IS NULL) FROM password_resets WHERE user_id = '$uid'")"
	rs_wait_mail rs-tea@example.com 3 || { mail_teardown; return; }
	# The live one, used twice at once: one use.
	for f in $(rs_mails rs-tea@example.com); do
		RS_TOKEN=$(rs_token "$f")
		[ "$(rs_sql "SELECT count(*) FROM password_resets WHERE token_hash = sha256('$RS_TOKEN'::bytea) AND voided_at IS NULL")" = 1 ] && break
	done
	: >"$T_OUT/codes"
	pids=
	for i in 1 2 3; do
		gh_curl -sk -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
		    --data-raw "{\"token\":\"$RS_TOKEN\",\"password\":\"$RS_PW2-$i\"}" \
		    "$(gh_url /api/v1/auth/password/reset)" >>"$T_OUT/codes" &
		pids="$pids $!"
	done
	wait $pids
	codes=$(sort "$T_OUT/codes" | uniq -c | tr -s ' ' | tr '\n' ',')
	[ "$codes" = " 1 200, 2 422," ] || fail "uses at once: $codes"
	[ "$(rs_sql "SELECT count(*) FROM audit_log WHERE user_id = '$uid' AND event = 'password_reset'")" = 1 ] ||
	    fail "more than one reset"
	mail_teardown
}
