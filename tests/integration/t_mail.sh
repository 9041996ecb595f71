# shellcheck shell=bash
# Mail: the outbox in the auth database (sql/auth/007_mail_outbox.sql)
# and gatehouse-mailer, against a real SMTP server
# (tests/integration/smtp-server.py, Debian's python3-aiosmtpd) that
# requires STARTTLS and AUTH, keeps every message it accepts as a file,
# and answers 4xx, 5xx or slowly when told to.  Messages are counted by
# Message-ID: none lost, none twice.  Each case starts its own server and
# mailers and stops them; the mailers log in as gatehouse_mailer, as the
# unit has them, under `timeout` so none outlives an interrupted suite.

MAIL_BIN="$GH_BUILDDIR/fcgi/mailer/gatehouse-mailer"
MAIL_SERVER="$GH_SRCDIR/tests/integration/smtp-server.py"
MAIL_DIR=	# the server's folder: mail/, envelopes/, mode, slow
MAIL_LOG=	# the mailers' log of the case
MAIL_PORT=
MAIL_SERVER_PID=
MAIL_PIDS=
MAIL_PID=
MAIL_ENV=()

# mail_sql SQL: rows, as the superuser (the tests' own view and changes).
mail_sql() {
	(cd / && gh_as_pg psql -X -q -t -A -v ON_ERROR_STOP=1 \
	    -h "$GH_STATE/pg/sock" -U postgres -d gatehouse_auth -c "$1")
}

# mail_app SQL: as the auth service would, as gatehouse_auth_app; an
# error prints its SQLSTATE ("ERROR:  23514").
mail_app() {
	(cd / && psql -X -q -t -A -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate \
	    -h "$GH_STATE/pg/sock" -U gatehouse_auth_app -d gatehouse_auth \
	    -c "$1" 2>&1)
}

# mail_enqueue TO TEMPLATE PARAMS: queues one, as the app role; prints its id.
mail_enqueue() {
	local q="SELECT mail_enqueue('$1', '$2', '$3'::jsonb)"
	mail_app "SET gatehouse.mail_domain = 'mail.test'; $q"
}

# mail_some N: queues N password_changed messages.
mail_some() {
	mail_sql "SELECT count(*) FROM (SELECT mail_enqueue('user' || i || '@example.com',
	    'password_changed', jsonb_build_object('username', 'user' || i))
	    FROM generate_series(1, $1) i) q" >/dev/null
}

mail_files() {
	find "$MAIL_DIR/mail" -name '*.eml' 2>/dev/null | wc -l
}

# Message-IDs the server got more than once, one a line.
mail_dups() {
	cat "$MAIL_DIR"/mail/*.eml 2>/dev/null | tr -d '\r' |
	    sed -n 's/^Message-ID: //p' | sort | uniq -d
}

# mail_wait_files N SECONDS: until the server holds N messages.
mail_wait_files() {
	local i
	for i in $(seq $(($2 * 10))); do
		[ "$(mail_files)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# mail_wait_sql SQL VALUE SECONDS: until SQL answers VALUE.
mail_wait_sql() {
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(mail_sql "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# Starts the SMTP server on MAIL_PORT (a fresh one unless set); extra
# arguments go to it (--implicit-tls).
mail_server_start() {
	: "${MAIL_PORT:=$(gh_free_port)}"
	rm -f "$MAIL_DIR/ready"
	/usr/bin/python3 "$MAIL_SERVER" serve "$MAIL_DIR" "$MAIL_PORT" \
	    "$MAIL_DIR/../cert.pem" "$MAIL_DIR/../key.pem" "$@" \
	    >>"$MAIL_DIR/../server.log" 2>&1 &
	MAIL_SERVER_PID=$!
	for _ in $(seq 100); do
		[ -e "$MAIL_DIR/ready" ] && return 0
		sleep 0.1
	done
	fail "the SMTP server did not start: $(tail -n 5 "$MAIL_DIR/../server.log")"
	return 1
}

mail_server_stop() {
	[ -n "$MAIL_SERVER_PID" ] || return 0
	kill -TERM "$MAIL_SERVER_PID" 2>/dev/null
	wait "$MAIL_SERVER_PID" 2>/dev/null
	MAIL_SERVER_PID=
}

# A case's setup: an empty outbox, a certificate for localhost, a server
# folder with the user and password it accepts, the mailer's settings.
mail_setup() {
	local base="$GH_STATE/mail"
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
	    { fail "python3-aiosmtpd is missing (script/bootstrap installs it)"; return 1; }
	[ -x "$MAIL_BIN" ] || { fail "no $MAIL_BIN (build first)"; return 1; }
	mkdir -p "$base"
	if [ ! -s "$base/cert.pem" ]; then
		(umask 077 && openssl req -x509 -newkey ec \
		    -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		    -subj /CN=localhost \
		    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		    -keyout "$base/key.pem" -out "$base/cert.pem" 2>/dev/null) ||
		    { fail "openssl could not make the relay's certificate"; return 1; }
	fi
	MAIL_DIR="$base/$T_NAME"
	MAIL_LOG="$base/$T_NAME.log"
	rm -rf "$MAIL_DIR"
	mkdir -p "$MAIL_DIR"
	: >"$MAIL_LOG"
	printf 'mailer\n' >"$MAIL_DIR/user"
	printf 'relay pass phrase 7\n' >"$MAIL_DIR/password"
	(umask 077 && printf 'relay pass phrase 7\n' >"$base/client-password" &&
	    printf 'not the pass phrase\n' >"$base/wrong-password")
	MAIL_PORT=
	MAIL_PIDS=
	mail_sql "DELETE FROM mail_outbox" >/dev/null ||
	    { fail "cannot empty the outbox"; return 1; }
	MAIL_ENV=(
	    "GH_DB=host=$GH_STATE/pg/sock port=5432 dbname=gatehouse_auth user=gatehouse_mailer"
	    GH_LOG_LEVEL=info
	    "GH_MAIL_FROM=Porte Dorée <no-reply@mail.test>"
	    GH_SMTP_USER=mailer
	    "GH_SMTP_PASSWORD_FILE=$base/client-password"
	    "GH_SMTP_CA_FILE=$base/cert.pem"
	    "GH_PUBLIC_URL=https://localhost:$GH_HTTPS_PORT/"
	    "GH_PRODUCT_NAME=Porte Dorée"
	    "GH_MAIL_TEMPLATES=$GH_SRCDIR/fcgi/mailer/templates"
	    GH_SMTP_TIMEOUT=3 GH_MAIL_LEASE=5
	    GH_MAIL_RETRY_MIN=1 GH_MAIL_RETRY_MAX=2
	)
}

# The URL goes last, once the server's port is known.
mail_url() {
	printf 'GH_SMTP_URL=%s://localhost:%s\n' "${1:-smtp}" "$MAIL_PORT"
}

# mail_once [VAR=value ...]: one --once run in the foreground; its status.
mail_once() {
	env "${MAIL_ENV[@]}" "$(mail_url)" "$@" timeout -k 10 60 "$MAIL_BIN" --once \
	    2>>"$MAIL_LOG"
}

# mail_start [VAR=value ...]: a mailer in the background, until the case
# stops it; MAIL_PID is its timeout wrapper, which passes TERM on.
#
# Under the sanitizers, LeakSanitizer's exit check of a mailer stopped by
# TERM was seen to spin forever once (its tracer never returned), in CI's
# run: the daemon runs without the leak check (the --once runs, which go
# through the same delivery code, keep it), and -k kills what TERM did not
# end.
mail_start() {
	env "${MAIL_ENV[@]}" "$(mail_url)" "$@" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    timeout -k 10 120 "$MAIL_BIN" 2>>"$MAIL_LOG" &
	MAIL_PID=$!
	MAIL_PIDS="$MAIL_PIDS $MAIL_PID"
}

# The mailer process itself, under its wrapper.
mail_child() {
	pgrep -P "$1" 2>/dev/null | head -n 1
}

# A case's end: its mailers and server stopped, and what the sanitizers
# and the log say of them.
mail_teardown() {
	local p
	for p in $MAIL_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $MAIL_PIDS; do
		wait "$p" 2>/dev/null
	done
	MAIL_PIDS=
	mail_server_stop
	if grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' \
	    "$MAIL_LOG" 2>/dev/null; then
		grep -A 20 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' \
		    "$MAIL_LOG" | head -n 40
		fail "sanitizer reports in the mailer's log"
	fi
	if grep -v '^{' "$MAIL_LOG" | grep -q .; then
		fail "the mailer wrote lines that are not JSON: $(grep -v '^{' "$MAIL_LOG" | head -n 3)"
	fi
}

# mail_show FILE FILTER: jq FILTER over the stored message, decoded.
mail_show() {
	/usr/bin/python3 "$MAIL_SERVER" show "$1" | jq -r "$2"
}

t_23_mail_delivered_with_its_headers() {
	local id f env mid user token='tok_AbC-123'
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	mail_start
	for _ in $(seq 50); do
		grep -q '"event":"start"' "$MAIL_LOG" && break
		sleep 0.1
	done
	# Idle now: only the notification of the commit can wake it this soon.
	sleep 0.5
	user='<b>Ann & "Co"</b>'
	id=$(mail_enqueue 'ann@example.com' verify_email \
	    "{\"username\": \"<b>Ann & \\\"Co\\\"</b>\", \"token\": \"$token\", \"valid_hours\": 24}")
	gh_is_uuid_like "$id" || { fail "mail_enqueue answered '$id'"; mail_teardown; return; }
	mail_wait_files 1 5 || fail "the message did not arrive within 5 s of its commit"
	mail_wait_sql "SELECT state || ' ' || attempts || ' ' || (sent_at IS NOT NULL) FROM mail_outbox WHERE id = '$id'" \
	    "sent 1 true" 5 || fail "the outbox says $(mail_sql "SELECT state, attempts FROM mail_outbox WHERE id = '$id'")"
	f=$(find "$MAIL_DIR/mail" -name '*.eml' | head -n 1)
	[ -n "$f" ] || { mail_teardown; return; }
	[ "$(mail_sql "SELECT params FROM mail_outbox WHERE id = '$id'")" = '{}' ] ||
	    fail "a sent message keeps its params (the token)"
	mid=$(mail_sql "SELECT message_id FROM mail_outbox WHERE id = '$id'")
	[ "$mid" = "<$id@mail.test>" ] || fail "stored Message-ID $mid"
	[ "$(mail_show "$f" '.headers["Message-ID"]')" = "$mid" ] ||
	    fail "Message-ID $(mail_show "$f" '.headers["Message-ID"]'), stored $mid"
	[ "$(mail_show "$f" .headers.From)" = "Porte Dorée <no-reply@mail.test>" ] ||
	    fail "From: $(mail_show "$f" .headers.From)"
	[ "$(mail_show "$f" .headers.To)" = ann@example.com ] ||
	    fail "To: $(mail_show "$f" .headers.To)"
	[ "$(mail_show "$f" .headers.Subject)" = "Confirm your e-mail address for Porte Dorée" ] ||
	    fail "Subject: $(mail_show "$f" .headers.Subject)"
	mail_show "$f" .raw_headers | grep -q '^Subject: =?UTF-8?B?' ||
	    fail "a non-ASCII subject is not an encoded-word"
	mail_show "$f" .headers.Date | grep -Eq '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000$' ||
	    fail "Date: $(mail_show "$f" .headers.Date)"
	[ "$(mail_show "$f" '.headers["MIME-Version"]')" = 1.0 ] || fail "no MIME-Version 1.0"
	[ "$(mail_show "$f" .content_type)" = multipart/alternative ] ||
	    fail "content type $(mail_show "$f" .content_type)"
	[ "$(mail_show "$f" '[.parts[] | .type + " " + .charset + " " + .encoding] | join(",")')" = \
	    "text/plain utf-8 quoted-printable,text/html utf-8 quoted-printable" ] ||
	    fail "parts: $(mail_show "$f" '[.parts[] | .type + " " + .encoding] | join(",")')"
	mail_show "$f" '.parts[0].content' | grep -qF "Hello $user," ||
	    fail "the text part lacks the name as given"
	mail_show "$f" '.parts[0].content' |
	    grep -qF "https://localhost:$GH_HTTPS_PORT/verify-email#token=$token" ||
	    fail "the text part lacks the link"
	mail_show "$f" '.parts[1].content' |
	    grep -qF 'Hello &lt;b&gt;Ann &amp; &quot;Co&quot;&lt;/b&gt;,' ||
	    fail "the HTML part does not escape the name"
	mail_show "$f" '.parts[1].content' | grep -qF '<b>Ann' &&
	    fail "the HTML part holds the name unescaped"
	mail_show "$f" '.parts[1].content' |
	    grep -qF "href=\"https://localhost:$GH_HTTPS_PORT/verify-email#token=$token\"" ||
	    fail "the HTML part lacks the link"
	env=$(cat "$MAIL_DIR"/envelopes/*.json)
	[ "$(printf '%s' "$env" | jq -r '.mail_from + " " + (.rcpt_tos | join(",")) + " " + (.tls | tostring) + " " + (.authenticated | tostring)')" = \
	    "no-reply@mail.test ann@example.com true true" ] || fail "envelope: $env"
	# One line for the message, with its ids and the relay's code, and
	# nothing of its params or body.
	grep '"event":"mail"' "$MAIL_LOG" | jq -e --arg id "$id" --arg mid "$mid" \
	    'select(.id == $id) | .message_id == $mid and .state == "sent" and
	    .attempts == 1 and .smtp_code == 250' >/dev/null ||
	    fail "the log line: $(grep '"event":"mail"' "$MAIL_LOG" | head -n 1)"
	[ "$(grep -c '"event":"mail"' "$MAIL_LOG")" = 1 ] || fail "not one log line for one message"
	grep -q "$token\|Ann" "$MAIL_LOG" && fail "the log holds the params"
	mail_teardown
}

# A uuid, as mail_enqueue returns.
gh_is_uuid_like() {
	[[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
}

t_23b_mail_unrenderable_fails_and_is_never_sent() {
	local a b
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	# verify_email has {{token}}: without it, the message cannot be whole.
	a=$(mail_enqueue 'ann@example.com' verify_email '{"username": "ann", "valid_hours": 24}')
	b=$(mail_enqueue 'bob@example.com' no_such_template '{}')
	mail_once || fail "--once exited $?"
	[ "$(mail_files)" = 0 ] || fail "$(mail_files) messages sent half-rendered"
	[ "$(mail_sql "SELECT state || ' ' || attempts FROM mail_outbox WHERE id = '$a'")" = "failed 1" ] ||
	    fail "missing placeholder: $(mail_sql "SELECT state FROM mail_outbox WHERE id = '$a'")"
	mail_sql "SELECT last_error FROM mail_outbox WHERE id = '$a'" | grep -qF '{{token}} has no value' ||
	    fail "last_error: $(mail_sql "SELECT last_error FROM mail_outbox WHERE id = '$a'")"
	mail_sql "SELECT state || ' ' || last_error FROM mail_outbox WHERE id = '$b'" |
	    grep -q '^failed .*no_such_template.subject' ||
	    fail "missing template: $(mail_sql "SELECT state, last_error FROM mail_outbox WHERE id = '$b'")"
	[ "$(grep '"event":"mail"' "$MAIL_LOG" | jq -r .state | sort | uniq -c | tr -s ' ')" = " 2 failed" ] ||
	    fail "log: $(grep '"event":"mail"' "$MAIL_LOG")"
	mail_teardown
}

t_23c_mail_over_implicit_tls() {
	local id f
	mail_setup || return
	mail_server_start --implicit-tls || { mail_teardown; return; }
	id=$(mail_enqueue 'ann@example.com' password_reset \
	    '{"username": "ann", "token": "t1", "valid_minutes": 30}')
	mail_once "$(mail_url smtps)" || fail "--once exited $?"
	[ "$(mail_files)" = 1 ] || fail "$(mail_files) messages over smtps://"
	f=$(find "$MAIL_DIR/mail" -name '*.eml' | head -n 1)
	[ -n "$f" ] && { [ "$(mail_show "$f" .headers.Subject)" = "Reset your Porte Dorée password" ] ||
	    fail "Subject: $(mail_show "$f" .headers.Subject)"; }
	[ "$(mail_sql "SELECT state FROM mail_outbox WHERE id = '$id'")" = sent ] || fail "not sent"
	mail_teardown
}

t_24_mail_enqueue_refuses_bad_input_and_queues_nothing() {
	local addr out long
	mail_setup || return
	long="$(printf 'a%.0s' $(seq 250))@example.com"
	for addr in "E'ann\\r\\n@example.com'" "E'ann@example.com\\r\\nBcc: eve@example.com'" \
	    "E'ann\\n@example.com'" "E'a\\tb@example.com'" "E'a\\x01b@example.com'" \
	    "'$long'" "'ann.example.com'" "'ann@b@example.com'" "'@example.com'" \
	    "'ann@'" "'ännchen@example.com'" "'ann@exämple.com'" "'a b@example.com'" \
	    "'<ann@example.com>'" "'\"ann\"@example.com'" "''" "NULL"; do
		out=$(mail_app "SELECT mail_enqueue($addr, 'verify_email', '{}')")
		[ "$out" = "ERROR:  23514" ] || fail "address $addr: $out"
	done
	for t in "'Verify_email'" "'1verify'" "'verify-email'" "'../verify_email'" \
	    "'verify_email/x'" "'a$(printf 'b%.0s' $(seq 41))'" "E'verify_email\\n'" \
	    "''" "NULL"; do
		out=$(mail_app "SELECT mail_enqueue('ann@example.com', $t, '{}')")
		[ "$out" = "ERROR:  23514" ] || fail "template $t: $out"
	done
	out=$(mail_app "SELECT mail_enqueue('ann@example.com', 'verify_email', '[1]')")
	[ "$out" = "ERROR:  22023" ] || fail "params not an object: $out"
	# The table refuses the same when a row is written without the function.
	out=$(mail_app "INSERT INTO mail_outbox (message_id, to_addr, template)
	    VALUES ('<00000000-0000-4000-8000-000000000000@mail.test>', E'a\\r\\nb@example.com', 'x')")
	[ "$out" = "ERROR:  23514" ] || fail "insert without the function: $out"
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox")" = 0 ] ||
	    fail "refused input left $(mail_sql "SELECT count(*) FROM mail_outbox") rows"
	# The longest address and template name allowed are taken.
	long="$(printf 'a%.0s' $(seq 240))@example.com"
	out=$(mail_app "SELECT mail_enqueue('$long', 'a$(printf 'b%.0s' $(seq 40))', '{}')")
	gh_is_uuid_like "$out" || fail "a 252-character address: $out"
	out=$(mail_app "SELECT message_id FROM mail_outbox")
	[[ $out =~ ^\<[0-9a-f-]{36}@gatehouse\.invalid\>$ ]] ||
	    fail "without gatehouse.mail_domain, Message-ID $out"
	mail_teardown
}

t_25_mail_relay_down_then_back_loses_nothing() {
	mail_setup || return
	MAIL_PORT=$(gh_free_port)
	mail_some 5
	mail_start
	# Down: every try fails on the connection, nothing is lost or failed.
	mail_wait_sql "SELECT count(*) FROM mail_outbox WHERE last_error LIKE 'Couldn''t connect%'" 1 10 ||
	    fail "no attempt recorded while the relay was down"
	sleep 2
	[ "$(mail_sql "SELECT string_agg(DISTINCT state, ',') || ' ' || count(*) FROM mail_outbox")" = "queued 5" ] ||
	    fail "while down: $(mail_sql "SELECT state, count(*) FROM mail_outbox GROUP BY 1")"
	mail_server_start || { mail_teardown; return; }
	mail_wait_files 5 15 || fail "$(mail_files) of 5 messages after the relay came back"
	mail_wait_sql "SELECT count(*) FROM mail_outbox WHERE state = 'sent'" 5 5 ||
	    fail "outbox: $(mail_sql "SELECT state, count(*) FROM mail_outbox GROUP BY 1")"
	sleep 1
	[ "$(mail_files)" = 5 ] || fail "$(mail_files) messages for 5"
	[ -z "$(mail_dups)" ] || fail "sent twice: $(mail_dups)"
	mail_teardown
}

t_26_mail_tempfail_retried_later_then_given_up() {
	local id out
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	printf 'tempfail\n' >"$MAIL_DIR/mode"
	id=$(mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}')
	mail_once || fail "--once exited $?"
	out=$(mail_sql "SELECT state, attempts, next_attempt_at > now(), last_error FROM mail_outbox WHERE id = '$id'")
	[ "$out" = "queued|1|t|451 4.3.0 Try again later (test tempfail)" ] || fail "after a 451: $out"
	grep '"event":"mail"' "$MAIL_LOG" | tail -n 1 |
	    jq -e '.state == "queued" and .smtp_code == 451 and .level == "warn"' >/dev/null ||
	    fail "log: $(grep '"event":"mail"' "$MAIL_LOG" | tail -n 1)"
	rm -f "$MAIL_DIR/mode"
	# Not before its time...
	mail_once || fail "--once exited $?"
	[ "$(mail_files)" = 0 ] || fail "retried before next_attempt_at"
	# ...and then delivered.
	mail_sql "UPDATE mail_outbox SET next_attempt_at = now() WHERE id = '$id'" >/dev/null
	mail_once || fail "--once exited $?"
	[ "$(mail_files)" = 1 ] || fail "$(mail_files) messages after the retry"
	[ "$(mail_sql "SELECT state || ' ' || attempts FROM mail_outbox WHERE id = '$id'")" = "sent 2" ] ||
	    fail "after the retry: $(mail_sql "SELECT state, attempts FROM mail_outbox WHERE id = '$id'")"
	# One that keeps failing past GH_MAIL_RETRY_FOR fails with the last answer.
	printf 'tempfail\n' >"$MAIL_DIR/mode"
	id=$(mail_enqueue 'bob@example.com' password_changed '{"username": "bob"}')
	mail_sql "UPDATE mail_outbox SET created_at = now() - interval '25 hours' WHERE id = '$id'" >/dev/null
	mail_once || fail "--once exited $?"
	out=$(mail_sql "SELECT state, attempts, last_error FROM mail_outbox WHERE id = '$id'")
	[ "$out" = "failed|1|451 4.3.0 Try again later (test tempfail)" ] || fail "past the retry window: $out"
	mail_teardown
}

t_27_mail_permfail_fails_at_once_with_the_answer() {
	local id out
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	printf 'permfail\n' >"$MAIL_DIR/mode"
	id=$(mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}')
	mail_once || fail "--once exited $?"
	out=$(mail_sql "SELECT state, attempts, last_error FROM mail_outbox WHERE id = '$id'")
	[ "$out" = "failed|1|550 5.1.1 <ann@example.com>: Recipient address rejected (test permfail)" ] ||
	    fail "after a 550: $out"
	[ "$(mail_files)" = 0 ] || fail "a refused message was stored"
	grep '"event":"mail"' "$MAIL_LOG" | tail -n 1 |
	    jq -e '.state == "failed" and .smtp_code == 550 and .level == "error"' >/dev/null ||
	    fail "log: $(grep '"event":"mail"' "$MAIL_LOG" | tail -n 1)"
	rm -f "$MAIL_DIR/mode"
	mail_once || fail "--once exited $?"
	[ "$(mail_files)" = 0 ] || fail "a failed message was tried again"
	mail_teardown
}

t_28_mail_two_senders_send_each_message_once() {
	local senders
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	printf '50\n' >"$MAIL_DIR/slow"
	mail_some 20
	mail_start GH_MAIL_BATCH=3
	mail_start GH_MAIL_BATCH=3
	mail_wait_files 20 30 || fail "$(mail_files) of 20 messages"
	mail_wait_sql "SELECT count(*) FROM mail_outbox WHERE state = 'sent'" 20 5 ||
	    fail "outbox: $(mail_sql "SELECT state, count(*) FROM mail_outbox GROUP BY 1")"
	sleep 1
	[ "$(mail_files)" = 20 ] || fail "$(mail_files) messages for 20"
	[ -z "$(mail_dups)" ] || fail "sent twice: $(mail_dups)"
	senders=$(grep '"event":"mail"' "$MAIL_LOG" | jq -r 'select(.state == "sent") | .pid' | sort -u | wc -l)
	[ "$senders" = 2 ] || fail "$senders mailers sent (both should have)"
	mail_teardown
}

# waiting: the server is in an RCPT pause with at least MS left.
mail_in_rcpt_pause() {
	local n until now
	read -r n until 2>/dev/null <"$MAIL_DIR/waiting" || return 1
	now=$(date +%s%N)
	[ "$n" -gt "$(mail_files)" ] && [ $(( (until - now) / 1000000 )) -ge "$1" ]
}

t_28b_mail_sender_killed_mid_batch_loses_and_repeats_nothing() {
	local child paused
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	printf '700\n' >"$MAIL_DIR/slow"
	mail_some 10
	mail_start
	mail_wait_files 3 20 || fail "the first messages did not arrive"
	# Killed while the relay has not yet accepted the message in hand:
	# never in the few milliseconds between a 250 and the outbox's update.
	paused=0
	for _ in $(seq 100); do
		mail_in_rcpt_pause 350 && { paused=1; break; }
		sleep 0.05
	done
	[ "$paused" = 1 ] || { fail "the relay was never seen in a pause"; mail_teardown; return; }
	child=$(mail_child "$MAIL_PID")
	[ -n "$child" ] || { fail "no mailer to kill"; mail_teardown; return; }
	kill -KILL "$child"
	wait "$MAIL_PID" 2>/dev/null
	MAIL_PIDS=
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE state = 'sending'")" -ge 1 ] ||
	    fail "no message was left in flight by the kill"
	rm -f "$MAIL_DIR/slow"
	# The leases run out (GH_MAIL_LEASE=5) and another start takes them.
	mail_start
	mail_wait_files 10 25 || fail "$(mail_files) of 10 messages after the restart"
	mail_wait_sql "SELECT count(*) FROM mail_outbox WHERE state = 'sent'" 10 5 ||
	    fail "outbox: $(mail_sql "SELECT state, count(*) FROM mail_outbox GROUP BY 1")"
	sleep 1
	[ "$(mail_files)" = 10 ] || fail "$(mail_files) messages for 10"
	[ -z "$(mail_dups)" ] || fail "sent twice: $(mail_dups)"
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE attempts = 2")" = 1 ] ||
	    fail "attempts: $(mail_sql "SELECT attempts, count(*) FROM mail_outbox GROUP BY 1")"
	mail_teardown
}

t_28c_mail_sigterm_finishes_the_message_in_flight() {
	local rc child paused
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	printf '700\n' >"$MAIL_DIR/slow"
	mail_some 4
	mail_start
	paused=0
	for _ in $(seq 100); do
		mail_in_rcpt_pause 350 && { paused=1; break; }
		sleep 0.05
	done
	[ "$paused" = 1 ] || { fail "the relay was never seen in a pause"; mail_teardown; return; }
	child=$(mail_child "$MAIL_PID")
	kill -TERM "$MAIL_PID"
	wait "$MAIL_PID"
	rc=$?
	MAIL_PIDS=
	[ "$rc" = 0 ] || fail "exit status $rc after TERM"
	[ -n "$child" ] && kill -0 "$child" 2>/dev/null && fail "the mailer is still running"
	[ "$(mail_files)" = 1 ] || fail "$(mail_files) messages: the one in flight should be finished, and only it"
	[ "$(mail_sql "SELECT state || ' ' || count(*) FROM mail_outbox GROUP BY state ORDER BY state")" = \
	    "$(printf 'queued 3\nsent 1')" ] ||
	    fail "after TERM: $(mail_sql "SELECT state, count(*) FROM mail_outbox GROUP BY 1")"
	[ "$(mail_sql "SELECT count(*) FROM mail_outbox WHERE state = 'queued' AND attempts = 0 AND locked_until IS NULL AND next_attempt_at <= now()")" = 3 ] ||
	    fail "the rest of the batch was not given back untried"
	rm -f "$MAIL_DIR/slow"
	mail_once || fail "--once exited $?"
	[ "$(mail_files)" = 4 ] || fail "$(mail_files) of 4 messages in the end"
	[ -z "$(mail_dups)" ] || fail "sent twice: $(mail_dups)"
	mail_teardown
}

t_29_mail_purge_removes_old_sent_and_failed_only() {
	local out
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	mail_some 5
	mail_sql "WITH r AS (SELECT id, row_number() OVER (ORDER BY to_addr) n FROM mail_outbox)
	    UPDATE mail_outbox m SET
	      state = (ARRAY['sent', 'sent', 'failed', 'failed', 'queued'])[n],
	      sent_at = (ARRAY[now() - interval '8 days', now() - interval '1 day', NULL, NULL, NULL])[n],
	      created_at = (ARRAY[now() - interval '9 days', now() - interval '2 days',
	        now() - interval '31 days', now() - interval '2 days', now() - interval '40 days'])[n],
	      next_attempt_at = now() + interval '1 day'
	    FROM r WHERE m.id = r.id" >/dev/null || { fail "cannot age the rows"; mail_teardown; return; }
	mail_once || fail "--once exited $?"
	out=$(mail_sql "SELECT string_agg(to_addr || '=' || state, ' ' ORDER BY to_addr) FROM mail_outbox")
	[ "$out" = "user2@example.com=sent user4@example.com=failed user5@example.com=queued" ] ||
	    fail "after the purge: $out"
	grep -q '"event":"purge".*removed 2 old messages' "$MAIL_LOG" ||
	    fail "no purge line: $(grep purge "$MAIL_LOG")"
	[ "$(mail_files)" = 0 ] || fail "the purge run sent something"
	mail_teardown
}

t_29b_mail_wrong_relay_password_is_retried_not_a_crash() {
	local id out
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	id=$(mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}')
	mail_once "GH_SMTP_PASSWORD_FILE=$GH_STATE/mail/wrong-password" ||
	    fail "--once exited $? with a wrong password"
	out=$(mail_sql "SELECT state, attempts, last_error FROM mail_outbox WHERE id = '$id'")
	[ "$out" = "queued|1|535 5.7.8 Authentication credentials invalid" ] || fail "after a 535: $out"
	[ "$(mail_files)" = 0 ] || fail "sent without logging in"
	mail_sql "UPDATE mail_outbox SET next_attempt_at = now(), created_at = now() - interval '2 days' WHERE id = '$id'" >/dev/null
	mail_once "GH_SMTP_PASSWORD_FILE=$GH_STATE/mail/wrong-password" || fail "--once exited $?"
	out=$(mail_sql "SELECT state, last_error FROM mail_outbox WHERE id = '$id'")
	[ "$out" = "failed|535 5.7.8 Authentication credentials invalid" ] || fail "past the retry window: $out"
	mail_teardown
}

t_29c_mail_untrusted_relay_certificate_is_not_sent_to() {
	local id out
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	id=$(mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}')
	# The system's CAs do not know the relay's self-signed certificate.
	mail_once GH_SMTP_CA_FILE= || fail "--once exited $?"
	out=$(mail_sql "SELECT state || ' ' || attempts FROM mail_outbox WHERE id = '$id'")
	[ "$out" = "queued 1" ] || fail "with an untrusted certificate: $out"
	mail_sql "SELECT last_error FROM mail_outbox WHERE id = '$id'" | grep -qi 'certificate' ||
	    fail "last_error: $(mail_sql "SELECT last_error FROM mail_outbox WHERE id = '$id'")"
	[ "$(mail_files)" = 0 ] || fail "sent to a relay whose certificate is not trusted"
	ls "$MAIL_DIR/envelopes" | grep -q . && fail "the relay saw an envelope"
	# Verification off (GH_SMTP_TLS_VERIFY=no) is what lets it through.
	mail_sql "UPDATE mail_outbox SET next_attempt_at = now() WHERE id = '$id'" >/dev/null
	mail_once GH_SMTP_CA_FILE= GH_SMTP_TLS_VERIFY=no || fail "--once exited $?"
	[ "$(mail_files)" = 1 ] || fail "not sent with verification off"
	grep -q 'GH_SMTP_TLS_VERIFY=no' "$MAIL_LOG" || fail "no warning that verification is off"
	mail_teardown
}

# mail_as_mailer DB SQL: one statement as gatehouse_mailer; an error
# prints its SQLSTATE.
mail_as_mailer() {
	(cd / && psql -X -q -t -A -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate \
	    -h "$GH_STATE/pg/sock" -U gatehouse_mailer -d "$1" -c "$2" 2>&1)
}

t_29d_mail_runs_as_its_own_role_that_reaches_only_the_outbox() {
	local id sql out users
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	mail_start
	id=$(mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}')
	mail_wait_files 1 10 || fail "the mailer, as gatehouse_mailer, sent nothing"
	mail_wait_sql "SELECT state FROM mail_outbox WHERE id = '$id'" sent 5 ||
	    fail "not marked sent: $(mail_sql "SELECT state, last_error FROM mail_outbox WHERE id = '$id'")"
	[ "$(mail_sql "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity WHERE application_name = 'gatehouse-mailer'")" = gatehouse_mailer ] ||
	    fail "the mailer's connections: $(mail_sql "SELECT usename, application_name FROM pg_stat_activity WHERE datname = 'gatehouse_auth'")"
	users=$(mail_sql "SELECT count(*) || '/' || count(*) FILTER (WHERE role = 'admin') FROM users")
	# What the role may not do, on the suite's own auth database.
	for sql in "SELECT count(*) FROM users" "SELECT count(*) FROM sessions" \
	    "SELECT count(*) FROM audit_log" "SELECT count(*) FROM schema_migrations" \
	    "UPDATE users SET role = 'admin'" "DELETE FROM sessions" \
	    "INSERT INTO mail_outbox (message_id, to_addr, template) VALUES ('<00000000-0000-4000-8000-00000000e7e0@mail.test>', 'eve@example.com', 'password_changed')" \
	    "SELECT mail_enqueue('eve@example.com', 'password_changed', '{}')" \
	    "UPDATE mail_outbox SET to_addr = 'eve@example.com'" \
	    "UPDATE mail_outbox SET template = 'password_reset'" \
	    "UPDATE mail_outbox SET message_id = '<x@mail.test>'" \
	    "TRUNCATE mail_outbox" "CREATE TEMP TABLE t (i int)" \
	    "CREATE TABLE t (i int)" "ALTER TABLE mail_outbox ADD COLUMN c int"; do
		out=$(mail_as_mailer gatehouse_auth "$sql")
		[ "$out" = "ERROR:  42501" ] || fail "as gatehouse_mailer, '$sql': $out"
	done
	for db in gatehouse_payments gatehouse_media; do
		out=$(mail_as_mailer "$db" "SELECT 1")
		case $out in
		*"permission denied for database"*) ;;
		*) fail "gatehouse_mailer connects to $db: $out" ;;
		esac
	done
	[ "$(mail_sql "SELECT count(*) || ' ' || min(state) || ' ' || min(to_addr) FROM mail_outbox")" = "1 sent ann@example.com" ] ||
	    fail "the refused statements changed the outbox: $(mail_sql "SELECT to_addr, state FROM mail_outbox")"
	[ "$(mail_sql "SELECT count(*) || '/' || count(*) FILTER (WHERE role = 'admin') FROM users")" = "$users" ] ||
	    fail "the refused statements changed users"
	mail_teardown
}

# mail_conf ARG...: a --once run with the case's settings, without each
# VAR named alone and with each VAR=value given; its status.
mail_conf() {
	local a kv drop=" " args=() set=()
	for a in "$@"; do
		case $a in
		*=*)	set+=("$a") ;;
		*)	drop+="$a "; args+=(-u "$a") ;;
		esac
	done
	for kv in "${MAIL_ENV[@]}" "$(mail_url)"; do
		[[ $drop == *" ${kv%%=*} "* ]] || args+=("$kv")
	done
	env "${args[@]}" "${set[@]}" timeout -k 10 60 "$MAIL_BIN" --once 2>>"$MAIL_LOG"
}

# The outbox row of the case, as a claim would leave it: untouched?
mail_untouched() {
	[ "$(mail_sql "SELECT state || ' ' || attempts || ' ' || (locked_until IS NULL) FROM mail_outbox WHERE id = '$1'")" = "queued 0 true" ]
}

t_29e_mail_unset_settings_named_in_one_line() {
	local id rc v line
	mail_setup || return
	MAIL_PORT=$(gh_free_port)
	id=$(mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}')
	for v in GH_MAIL_FROM GH_SMTP_URL GH_PUBLIC_URL; do
		: >"$MAIL_LOG"
		mail_conf "$v"
		rc=$?
		[ "$rc" = 78 ] || fail "without $v: exit $rc, wanted 78 (EX_CONFIG, not restarted)"
		[ "$(wc -l <"$MAIL_LOG")" = 1 ] || fail "without $v: $(wc -l <"$MAIL_LOG") lines: $(cat "$MAIL_LOG")"
		line=$(head -n 1 "$MAIL_LOG")
		printf '%s' "$line" | jq -e --arg v "$v" '.level == "error" and .event == "config" and
		    (.msg | startswith($v + " is not set: ") and contains("docs/operations.md"))' >/dev/null ||
		    fail "without $v: $line"
		for other in GH_MAIL_FROM GH_SMTP_URL GH_PUBLIC_URL; do
			[ "$other" = "$v" ] || ! grep -q "$other is not set" "$MAIL_LOG" ||
			    fail "without $v, the line also names $other"
		done
	done
	# An empty value is no value; all three missing: still one line.
	: >"$MAIL_LOG"
	mail_conf GH_SMTP_URL GH_PUBLIC_URL GH_MAIL_FROM=
	rc=$?
	[ "$rc" = 78 ] || fail "without all three: exit $rc"
	[ "$(wc -l <"$MAIL_LOG")" = 1 ] || fail "without all three: $(cat "$MAIL_LOG")"
	jq -e '.msg | test("^GH_MAIL_FROM is not set: .*; GH_SMTP_URL is not set: .*; GH_PUBLIC_URL is not set: ")' \
	    "$MAIL_LOG" >/dev/null || fail "the one line: $(cat "$MAIL_LOG")"
	mail_untouched "$id" || fail "a mailer that could not start touched the outbox: $(mail_sql "SELECT state, attempts FROM mail_outbox")"
	mail_teardown
}

t_29f_mail_bad_settings_each_named_and_the_outbox_untouched() {
	local id rc base="$GH_STATE/mail" c want
	mail_setup || return
	MAIL_PORT=$(gh_free_port)
	id=$(mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}')
	(umask 022 && printf 'relay pass phrase 7\n' >"$base/loose-password")
	chmod 644 "$base/loose-password"
	# setting(s) | what the line must say
	while IFS='|' read -r c want; do
		: >"$MAIL_LOG"
		# shellcheck disable=SC2086
		eval "mail_conf $c"
		rc=$?
		[ "$rc" = 78 ] || fail "$c: exit $rc, wanted 78"
		grep -q "\"level\":\"error\".*$want" "$MAIL_LOG" ||
		    fail "$c: no line saying '$want': $(head -c 600 "$MAIL_LOG")"
		if grep -v '^{' "$MAIL_LOG" | grep -q .; then
			fail "$c: lines that are not JSON: $(head -c 300 "$MAIL_LOG")"
		fi
	done <<-EOF
	"GH_MAIL_FROM=not an address"|GH_MAIL_FROM=not an address does not hold one plain ASCII address
	\$'GH_MAIL_FROM=Eve <eve@example.com>\\r\\nBcc: x@example.com'|GH_MAIL_FROM=.* has a control character
	"GH_MAIL_FROM=Eve <eve@exämple.com>"|GH_MAIL_FROM=.* does not hold one plain ASCII address
	"GH_PUBLIC_URL=javascript:alert(1)"|GH_PUBLIC_URL=javascript:alert(1) is not an http(s) URL
	'GH_PUBLIC_URL=https://x.example/"><script>'|GH_PUBLIC_URL=.* is not an http(s) URL
	"GH_SMTP_URL=http://localhost:25"|GH_SMTP_URL: the scheme must be smtp
	"GH_SMTP_URL=smtp://mailer:s3cret-in-url@localhost:25"|GH_SMTP_URL carries a user
	"GH_SMTP_URL=not a url"|GH_SMTP_URL is not a URL
	"GH_SMTP_PASSWORD_FILE=$base/loose-password"|GH_SMTP_PASSWORD_FILE=.*readable or writable by group or others
	"GH_SMTP_PASSWORD_FILE=$base/no-such-password"|GH_SMTP_PASSWORD_FILE=.*No such file
	GH_SMTP_PASSWORD_FILE|GH_SMTP_USER is set: GH_SMTP_PASSWORD_FILE must name a file
	GH_SMTP_USER|GH_SMTP_PASSWORD_FILE is set without GH_SMTP_USER
	"GH_SMTP_CA_FILE=$base/no-such-ca.pem"|GH_SMTP_CA_FILE=.* is not a file we can read
	"GH_SMTP_TLS_VERIFY=maybe"|GH_SMTP_TLS_VERIFY=maybe is not a boolean
	"GH_SMTP_TIMEOUT=0"|GH_SMTP_TIMEOUT=0 is too small
	"GH_SMTP_TIMEOUT=ten"|GH_SMTP_TIMEOUT=ten is invalid
	GH_MAIL_LEASE=3 GH_SMTP_TIMEOUT=3|GH_MAIL_LEASE=3 must be longer than GH_SMTP_TIMEOUT=3
	GH_MAIL_RETRY_MIN=10 GH_MAIL_RETRY_MAX=5|GH_MAIL_RETRY_MAX=5 is below GH_MAIL_RETRY_MIN=10
	"GH_MAIL_BATCH=0"|GH_MAIL_BATCH=0 is too small
	"GH_MAIL_BATCH=1e3"|GH_MAIL_BATCH=1e3 is invalid
	"GH_MAIL_KEEP=-1"|GH_MAIL_KEEP=-1 is too small
	"GH_MAIL_TEMPLATES=$base/no-such-folder"|GH_MAIL_TEMPLATES=.* is not a folder we can read
	\$'GH_PRODUCT_NAME=Evil\\nBcc: x@example.com'|GH_PRODUCT_NAME is not UTF-8 or has a control character
	"GH_LOG_LEVEL=loud"|GH_LOG_LEVEL=loud is not one of debug, info, warn, error
	EOF
	grep -q 's3cret-in-url' "$MAIL_LOG" "$GH_STATE/mail/$T_NAME.log" 2>/dev/null &&
	    fail "a password in GH_SMTP_URL was written to the log"
	# Several bad settings at once: each named in the same start.
	: >"$MAIL_LOG"
	mail_conf "GH_MAIL_FROM=nobody" "GH_PUBLIC_URL=ftp://x" "GH_MAIL_BATCH=0" \
	    "GH_MAIL_TEMPLATES=$base/no-such-folder"
	rc=$?
	[ "$rc" = 78 ] || fail "several bad settings: exit $rc"
	for want in GH_MAIL_FROM=nobody GH_PUBLIC_URL=ftp://x GH_MAIL_BATCH=0 GH_MAIL_TEMPLATES=; do
		grep -q "\"msg\":\"$want" "$MAIL_LOG" || fail "several bad settings: $want is not named: $(cat "$MAIL_LOG")"
	done
	mail_untouched "$id" || fail "a mailer that could not start touched the outbox: $(mail_sql "SELECT state, attempts FROM mail_outbox")"
	mail_teardown
}

# The statement docs/operations.md gives for sending a failed message
# again, with its id in place of the '…'.
mail_docs_requeue() {
	sed -n '/^-- send a failed one again$/,/;$/p' "$GH_SRCDIR/docs/operations.md" |
	    sed '1d' | sed "s/'…'/'$1'/"
}

t_29g_mail_failed_message_requeued_as_the_guide_says() {
	local id sent out sql
	mail_setup || return
	mail_server_start || { mail_teardown; return; }
	sql=$(mail_docs_requeue 00000000-0000-4000-8000-000000000000)
	case $sql in
	"UPDATE mail_outbox SET "*"WHERE id = '00000000-0000-4000-8000-000000000000'"*) ;;
	*) fail "no requeue statement in docs/operations.md: '$sql'"; mail_teardown; return ;;
	esac
	sent=$(mail_enqueue 'bob@example.com' password_changed '{"username": "bob"}')
	mail_once || fail "--once exited $?"
	printf 'permfail\n' >"$MAIL_DIR/mode"
	id=$(mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}')
	mail_sql "UPDATE mail_outbox SET created_at = now() - interval '3 days' WHERE id = '$id'" >/dev/null
	mail_once || fail "--once exited $?"
	# What the guide shows of it.
	out=$(mail_sql "$(sed -n "/^SELECT id, to_addr, template, attempts, created_at, last_error/,/;\$/p" \
	    "$GH_SRCDIR/docs/operations.md")")
	case $out in
	"$id|ann@example.com|password_changed|1|"*"|550 5.1.1 <ann@example.com>: Recipient address rejected (test permfail)") ;;
	*) fail "the guide's listing of failed messages: '$out'" ;;
	esac
	rm -f "$MAIL_DIR/mode"
	# The relay fixed, the guide's statement queues it again...
	out=$(mail_sql "$(mail_docs_requeue "$id")")
	[ "$(mail_sql "SELECT state || ' ' || (created_at > now() - interval '1 minute') FROM mail_outbox WHERE id = '$id'")" = "queued true" ] ||
	    fail "after the guide's requeue: $(mail_sql "SELECT state, created_at FROM mail_outbox WHERE id = '$id'")"
	# ...and a sent message is left alone by it.
	mail_sql "$(mail_docs_requeue "$sent")" >/dev/null
	[ "$(mail_sql "SELECT state FROM mail_outbox WHERE id = '$sent'")" = sent ] ||
	    fail "the guide's requeue changed a sent message"
	mail_once || fail "--once exited $?"
	[ "$(mail_files)" = 2 ] || fail "$(mail_files) messages: the requeued one and the first, once each"
	[ -z "$(mail_dups)" ] || fail "sent twice: $(mail_dups)"
	[ "$(mail_sql "SELECT state || ' ' || attempts FROM mail_outbox WHERE id = '$id'")" = "sent 2" ] ||
	    fail "the requeued message: $(mail_sql "SELECT state, attempts, last_error FROM mail_outbox WHERE id = '$id'")"
	mail_teardown
}

# script/server's mailer and local relay (stack.sh, gh_mail_start), on
# the suite's stack: GH_STATE/devmail, GH_STATE/run/{mailer,smtp-dev}.pid.
mail_dev_pids() {
	cat "$GH_STATE/run/mailer.pid" "$GH_STATE/run/smtp-dev.pid" 2>/dev/null
}

mail_dev_stop() {
	local p pids
	pids=$(mail_dev_pids)
	gh_mail_stop
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && fail "process $p of the dev mailer is still running after gh_mail_stop"
	done
	[ -z "$(mail_dev_pids)" ] || fail "pid files left by gh_mail_stop"
	if grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' \
	    "$GH_STATE/logs/mailer.log" 2>/dev/null; then
		grep -A 20 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' \
		    "$GH_STATE/logs/mailer.log" | head -n 40
		fail "sanitizer reports in the dev mailer's log"
	fi
}

t_29h_mail_script_server_mail_lands_in_a_folder_to_read() {
	local id f token='Tok_9-xY=z' out dir="$GH_STATE/devmail"
	mail_setup || return
	rm -rf "$dir"
	# The dev mailer runs as a daemon: no leak check at its TERM (see
	# mail_start).
	# (Not in a $(...): the relay ends with the shell that started it.)
	GH_MAILER= GH_SMTP_DEV_PORT=$(gh_free_port) GH_MAIL_FROM= GH_SMTP_URL=smtp://unused.example:25 \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" gh_mail_start >"$T_OUT/md" 2>&1 ||
	    { fail "gh_mail_start: $(cat "$T_OUT/md")"; mail_dev_stop; mail_teardown; return; }
	out=$(cat "$T_OUT/md")
	case $out in
	*"mail goes to a local relay"*"read it in $dir/mail/*.txt"*) ;;
	*) fail "gh_mail_start says: $out" ;;
	esac
	id=$(mail_enqueue 'ann@example.com' password_reset \
	    "{\"username\": \"ann\", \"token\": \"$token\", \"valid_minutes\": 30}")
	for _ in $(seq 100); do
		ls "$dir"/mail/*.txt >/dev/null 2>&1 && break
		sleep 0.1
	done
	f=$(ls "$dir"/mail/*.txt 2>/dev/null | head -n 1)
	if [ -n "$f" ]; then
		grep -qx "https://localhost:$GH_HTTPS_PORT/reset-password#token=$token" "$f" ||
		    fail "the readable copy lacks the whole link on a line: $(cat "$f")"
		grep -qx 'To: ann@example.com' "$f" || fail "no To: in $(head -n 6 "$f")"
		grep -qx 'From: "gatehouse (dev)" <no-reply@gatehouse.test>' "$f" ||
		    fail "From: $(grep '^From' "$f")"
		grep -qx 'Subject: Reset your gatehouse password' "$f" ||
		    fail "Subject: $(grep '^Subject' "$f")"
		[ -s "${f%.txt}.eml" ] || fail "no .eml beside $f"
		grep -q '=3D' "${f%.txt}.eml" ||
		    fail "the .eml is not the quoted-printable message as sent"
		out=$(cat "$dir"/envelopes/*.json)
		[ "$(printf '%s' "$out" | jq -r '(.tls | tostring) + " " + (.authenticated | tostring)')" = "true true" ] ||
		    fail "the dev relay was reached without STARTTLS or AUTH: $out"
		grep -q "mail to ann@example.com: \"Reset your gatehouse password\" in ${f%.txt}.txt" \
		    "$GH_STATE/logs/smtp-dev.log" || fail "the relay's log does not name the mail"
	else
		fail "no mail in $dir/mail: $(tail -n 5 "$GH_STATE/logs/mailer.log")"
	fi
	mail_wait_sql "SELECT state FROM mail_outbox WHERE id = '$id'" sent 5 ||
	    fail "outbox: $(mail_sql "SELECT state, last_error FROM mail_outbox WHERE id = '$id'")"
	[ "$(mail_sql "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity WHERE application_name = 'gatehouse-mailer'")" = gatehouse_mailer ] ||
	    fail "the dev mailer does not log in as gatehouse_mailer"
	if gh_is_root; then
		[ "$(ps -o user:32= -p "$(pgrep -P "$(cat "$GH_STATE/run/mailer.pid")" | head -n 1)" 2>/dev/null)" = gatehouse ] ||
		    fail "the dev mailer does not run as gatehouse"
	fi
	mail_dev_stop
	mail_teardown
}

t_29i_mail_script_server_other_mailer_modes_and_failures() {
	local out rc base="$GH_STATE/mail" port
	mail_setup || return
	# Unknown mode, relay without its settings: said, nothing started.
	for mode in bogus relay; do
		GH_MAILER=$mode GH_SMTP_URL= GH_MAIL_FROM= gh_mail_start >"$T_OUT/md" 2>&1
		rc=$?
		out=$(cat "$T_OUT/md")
		[ "$rc" = 1 ] || fail "GH_MAILER=$mode: status $rc"
		case $mode in
		bogus)	[[ $out == *"GH_MAILER=bogus is not local, relay or off; not started"* ]] ;;
		relay)	[[ $out == *"GH_MAILER=relay needs GH_SMTP_URL and GH_MAIL_FROM"*"not started"* ]] ;;
		esac || fail "GH_MAILER=$mode says: $out"
		[ -z "$(mail_dev_pids)" ] || fail "GH_MAILER=$mode left processes"
	done
	GH_MAILER=off gh_mail_start >"$T_OUT/md" 2>&1 || fail "GH_MAILER=off: status $?"
	out=$(cat "$T_OUT/md")
	[[ $out == *"mailer: off"* ]] || fail "GH_MAILER=off says: $out"
	[ -z "$(mail_dev_pids)" ] || fail "GH_MAILER=off started something"
	# The local relay's port taken: said, nothing left running.
	mail_server_start || { mail_teardown; return; }
	GH_MAILER=local GH_SMTP_DEV_PORT=$MAIL_PORT gh_mail_start >"$T_OUT/md" 2>&1
	rc=$?
	out=$(cat "$T_OUT/md")
	[ "$rc" = 1 ] && [[ $out == *"the local relay did not start on port $MAIL_PORT (GH_SMTP_DEV_PORT)"* ]] ||
	    fail "a taken port: status $rc, says: $out"
	[ -z "$(mail_dev_pids)" ] || fail "a taken port left processes"
	# A relay of the developer's: the case's server, with a password file
	# the worker user may read.
	cp "$base/client-password" "$base/dev-client-password"
	gh_is_root && chown "$(gh_worker_user)": "$base/dev-client-password"
	chmod 600 "$base/dev-client-password"
	install -m 644 "$base/cert.pem" "$base/dev-ca.pem"
	mail_enqueue 'ann@example.com' password_changed '{"username": "ann"}' >/dev/null
	GH_MAILER=relay GH_SMTP_URL=smtp://localhost:$MAIL_PORT \
	    GH_MAIL_FROM="Dev <dev@mail.test>" GH_SMTP_USER=mailer \
	    GH_SMTP_PASSWORD_FILE="$base/dev-client-password" GH_SMTP_CA_FILE="$base/dev-ca.pem" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" gh_mail_start >"$T_OUT/md" 2>&1 ||
	    fail "GH_MAILER=relay: $(cat "$T_OUT/md")"
	out=$(cat "$T_OUT/md")
	[[ $out == *"mailer: sending through smtp://localhost:$MAIL_PORT"* ]] || fail "GH_MAILER=relay says: $out"
	mail_wait_files 1 10 || fail "nothing reached the developer's relay"
	[ "$(cat "$MAIL_DIR"/envelopes/*.json 2>/dev/null | jq -r .mail_from)" = dev@mail.test ] ||
	    fail "envelope: $(cat "$MAIL_DIR"/envelopes/*.json 2>/dev/null)"
	mail_dev_stop
	# A setting the mailer refuses: its own line, and nothing left running.
	GH_MAILER=relay GH_SMTP_URL=smtp://localhost:$MAIL_PORT GH_MAIL_FROM=nobody \
	    GH_SMTP_USER= GH_SMTP_PASSWORD_FILE= gh_mail_start >"$T_OUT/md" 2>&1
	rc=$?
	out=$(cat "$T_OUT/md")
	[ "$rc" = 1 ] && [[ $out == *"mailer: did not start: GH_MAIL_FROM=nobody does not hold one plain ASCII address"* ]] ||
	    fail "a refused setting: status $rc, says: $out"
	[ -z "$(mail_dev_pids)" ] || fail "a mailer that did not start left pid files"
	mail_teardown
}
