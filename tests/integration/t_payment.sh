# shellcheck shell=bash
# Payments: create under an Idempotency-Key, read, list, the state
# machine, refunds, the ledger and signed provider webhooks.

PAY_SIM="$GH_SRCDIR/script/payment-sim"
PAY_PW='tall-lamp-quiet-river-42'

psql_pay() {
	(cd / && gh_as_pg psql -X -h "$GH_STATE/pg/sock" -U postgres \
	    -d gatehouse_payments -tAc "$1")
}

# pay_login NAME: signs NAME up (once) and in; sets TOK and TOK_UID.
pay_login() {
	req POST /api/v1/auth/register -H 'Content-Type: application/json' \
	    --data-raw "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$PAY_PW\"}"
	req POST /api/v1/auth/login -H 'Content-Type: application/json' \
	    --data-raw "{\"login\":\"$1\",\"password\":\"$PAY_PW\"}"
	TOK=$(printf '%s' "$BODY" | jq -r .access_token)
	TOK_UID=$(printf '%s' "$BODY" | jq -r .user.id)
}

# Users, an admin and a webhook secret, made once for all the cases.
pay_setup() {
	[ -n "${PAY_A-}" ] && return 0
	pay_login pay_alice
	PAY_A=$TOK PAY_A_ID=$TOK_UID
	pay_login pay_bob
	PAY_B=$TOK
	pay_login pay_admin
	(cd / && gh_as_pg psql -X -h "$GH_STATE/pg/sock" -U postgres \
	    -d gatehouse_auth -tAc "UPDATE users SET role = 'admin' WHERE username = 'pay_admin'") >/dev/null
	pay_login pay_admin
	PAY_ADMIN=$TOK
	PAY_WH="$GH_STATE/webhook"
	"$PAY_SIM" keygen "$PAY_WH/secret"
	pay_own_secrets
}

pay_own_secrets() {
	if gh_is_root; then
		chown -R "$(gh_worker_user)": "$PAY_WH"
	fi
}

# pay_create TOKEN KEY BODY: POST /api/v1/payments.
pay_create() {
	req POST /api/v1/payments -H "Authorization: Bearer $1" \
	    -H "Idempotency-Key: $2" -H 'Content-Type: application/json' \
	    --data-raw "$3"
	REF=$(printf '%s' "$BODY" | jq -r .reference 2>/dev/null)
}

pay_as() {
	local tok=$1 method=$2 path=$3
	shift 3
	req "$method" "$path" -H "Authorization: Bearer $tok" "$@"
}

# pay_status TOKEN REF STATUS: an admin's transition.
pay_move() {
	pay_as "$1" POST "/api/v1/payments/$2/status" \
	    -H 'Content-Type: application/json' --data-raw "{\"status\":\"$3\"}"
}

pay_hook() {
	local out
	out=$(GH_WEBHOOK_URL=$(gh_url /api/v1/payments/webhook) \
	    GH_WEBHOOK_SECRET_FILE="$PAY_WH/secret" "$PAY_SIM" send -k "$@")
	STATUS=${out%% *}
	BODY=${out#* }
}

pay_count() {
	psql_pay "SELECT count(*) FROM $1"
}

# psql_app SQL: as the service's own role, the one its workers log in as.
# Prints rows, or psql's error (with its SQLSTATE) and fails.
psql_app() {
	(cd / && gh_as_pg psql -X -q -h "$GH_STATE/pg/sock" \
	    -U gatehouse_payment_app -d gatehouse_payments \
	    -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -tA -c "$1" 2>&1)
}

# pay_amounts: the page's amounts, newest first, as "5,4".
pay_amounts() {
	printf '%s' "$BODY" | jq -r '[.data[].amount] | join(",")'
}

t_70_payment_create_and_get() {
	local key
	pay_setup
	key="k70-$RANDOM$RANDOM"
	pay_create "$PAY_A" "$key" '{"amount":1999,"currency":"EUR","description":"Tea","metadata":{"order":"A-1"}}'
	expect_status 201
	expect_json .status pending
	expect_json .amount 1999
	expect_json .currency EUR
	expect_json .description Tea
	expect_json .metadata.order A-1
	expect_json .refunded_amount 0
	expect_json .user_id "$PAY_A_ID"
	expect_json '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' true
	[[ "$REF" =~ ^pay_[A-Za-z0-9_-]{22}$ ]] || fail "reference '$REF'"
	[ -z "$(header idempotent-replayed)" ] || fail "a first answer marked replayed"
	pay_as "$PAY_A" GET "/api/v1/payments/$REF"
	expect_status 200
	expect_json .reference "$REF"
	expect_json .amount 1999
	pay_as "$PAY_A" GET "/api/v1/payments/$REF/transactions"
	expect_status 200
	expect_json '.data | length' 1
	expect_json '.data[0].kind' created
	expect_json '.data[0].to_status' pending
	expect_json '.data[0].amount' 1999
	# A minimal body: no description nor metadata; JPY has no minor unit.
	pay_create "$PAY_A" "k70b-$RANDOM$RANDOM" '{"amount":500,"currency":"JPY"}'
	expect_status 201
	expect_json .description null
	expect_json '.metadata | length' 0
	pay_as "$PAY_A" GET /api/v1/payments/pay_AAAAAAAAAAAAAAAAAAAAAA
	expect_problem 404
	pay_as "$PAY_A" GET /api/v1/payments/not-a-reference
	expect_problem 404
	req GET "/api/v1/payments/$REF"
	expect_problem 401
}

t_71_payment_bad_inputs_write_nothing() {
	local before_p before_k big bad
	pay_setup
	before_p=$(pay_count payments)
	before_k=$(pay_count idempotency_keys)
	for bad in '0' '-5' '1.5' '"100"' '9007199254740992' 'null' 'true'; do
		pay_create "$PAY_B" "k71-$RANDOM$RANDOM" "{\"amount\":$bad,\"currency\":\"EUR\"}"
		expect_problem 422
		expect_json '.errors[0].field' amount
	done
	pay_create "$PAY_B" "k71-$RANDOM" '{"currency":"EUR"}'
	expect_problem 422
	expect_json '.errors[0].field' amount
	pay_create "$PAY_B" "k71-$RANDOM" '{"amount":100,"currency":"XYZ"}'
	expect_problem 422
	expect_json '.errors[0].field' currency
	pay_create "$PAY_B" "k71-$RANDOM" '{"amount":100,"currency":"eur"}'
	expect_problem 422
	expect_json '.errors[0].field' currency
	pay_create "$PAY_B" "k71-$RANDOM" '{"amount":100,"currency":"EURO"}'
	expect_problem 422
	expect_json '.errors[0].field' currency
	big=$(printf 'x%.0s' $(seq 5000))
	pay_create "$PAY_B" "k71-$RANDOM" "{\"amount\":100,\"currency\":\"EUR\",\"metadata\":{\"k\":\"$big\"}}"
	expect_problem 422
	expect_json '.errors[0].field' metadata
	pay_create "$PAY_B" "k71-$RANDOM" '{"amount":100,"currency":"EUR","metadata":[1]}'
	expect_problem 422
	expect_json '.errors[0].field' metadata
	pay_create "$PAY_B" "k71-$RANDOM" "{\"amount\":100,\"currency\":\"EUR\",\"description\":\"$(printf 'd%.0s' $(seq 501))\"}"
	expect_problem 422
	expect_json '.errors[0].field' description
	pay_create "$PAY_B" "k71-$RANDOM" '{"amount":100,"currency":"EUR","status":"succeeded"}'
	expect_problem 422
	expect_json '.errors[0].field' status
	pay_create "$PAY_B" "k71-$RANDOM" '{"amount":100,"currency":"EUR"'
	expect_problem 400
	# The key: missing, empty, too long, not visible ASCII.
	req POST /api/v1/payments -H "Authorization: Bearer $PAY_B" \
	    -H 'Content-Type: application/json' --data-raw '{"amount":100,"currency":"EUR"}'
	expect_problem 400
	expect_json '.detail | test("Idempotency-Key")' true
	req POST /api/v1/payments -H "Authorization: Bearer $PAY_B" \
	    -H 'Idempotency-Key;' -H 'Content-Type: application/json' \
	    --data-raw '{"amount":100,"currency":"EUR"}'
	expect_problem 400
	pay_create "$PAY_B" "$(printf 'k%.0s' $(seq 256))" '{"amount":100,"currency":"EUR"}'
	expect_problem 400
	expect_json '.detail | test("Idempotency-Key")' true
	pay_create "$PAY_B" "two words" '{"amount":100,"currency":"EUR"}'
	expect_problem 400
	# 255 characters is the limit, and is fine.
	pay_create "$PAY_B" "$(printf 'k%.0s' $(seq 255))" '{"amount":100,"currency":"EUR"}'
	expect_status 201
	req POST /api/v1/payments -H "Idempotency-Key: k71-anon" \
	    -H 'Content-Type: application/json' --data-raw '{"amount":100,"currency":"EUR"}'
	expect_problem 401
	[ "$(pay_count payments)" = $((before_p + 1)) ] ||
	    fail "payments: $(pay_count payments), wanted $((before_p + 1))"
	[ "$(pay_count idempotency_keys)" = $((before_k + 1)) ] ||
	    fail "keys: $(pay_count idempotency_keys), wanted $((before_k + 1))"
}

t_72_payment_idempotency_replay_and_mismatch() {
	local key ref first
	pay_setup
	key="k72-$RANDOM$RANDOM"
	pay_create "$PAY_A" "$key" '{"amount":700,"currency":"USD","metadata":{"a":1,"b":2}}'
	expect_status 201
	ref=$REF
	first=$BODY
	# The same body, members in another order: the first answer again.
	pay_create "$PAY_A" "$key" '{"metadata":{"b":2,"a":1},"currency":"USD","amount":700}'
	expect_status 201
	expect_header idempotent-replayed true
	[ "$REF" = "$ref" ] || fail "replay made $REF, first was $ref"
	[ "$BODY" = "$first" ] || fail "replayed body differs"
	pay_create "$PAY_A" "$key" '{"amount":701,"currency":"USD","metadata":{"a":1,"b":2}}'
	expect_problem 422
	expect_json '.detail | test("Idempotency-Key")' true
	[ "$(psql_pay "SELECT count(*) FROM payments WHERE reference = '$ref'")" = 1 ] ||
	    fail "the replay wrote a payment"
	# Keys are each user's own: bob's same key is a new payment.
	pay_create "$PAY_B" "$key" '{"amount":700,"currency":"USD","metadata":{"a":1,"b":2}}'
	expect_status 201
	[ "$REF" != "$ref" ] || fail "bob got alice's payment"
	# An expired key is a new key.
	psql_pay "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = '$key' AND user_id = '$PAY_A_ID'" >/dev/null
	pay_create "$PAY_A" "$key" '{"amount":700,"currency":"USD","metadata":{"a":1,"b":2}}'
	expect_status 201
	[ "$REF" != "$ref" ] || fail "an expired key replayed"
	[ -z "$(header idempotent-replayed)" ] || fail "expired key marked replayed"
	# A claim still in progress is 409; an abandoned one is taken over.
	psql_pay "INSERT INTO idempotency_keys (user_id, key, request_hash, expires_at) VALUES ('$PAY_A_ID', '$key-busy', repeat('0', 64), now() + interval '1 day')" >/dev/null
	pay_create "$PAY_A" "$key-busy" '{"amount":1,"currency":"USD"}'
	expect_problem 409
	expect_header retry-after
	psql_pay "UPDATE idempotency_keys SET created_at = now() - interval '1 hour' WHERE key = '$key-busy'" >/dev/null
	pay_create "$PAY_A" "$key-busy" '{"amount":1,"currency":"USD"}'
	expect_status 201
}

# pr_lock_ledger: a session of its own holds the ledger (transactions)
# locked until pr_unlock_ledger, so that a create waits in its
# transaction, its key claimed and its payment inserted, for as long as
# a case needs.
pr_lock_ledger() {
	(cd / && gh_as_pg psql -X -h "$GH_STATE/pg/sock" -U postgres -qtA \
	    -d 'dbname=gatehouse_payments application_name=pr_lock' \
	    -c 'BEGIN; LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT' \
	    >/dev/null 2>&1) &
	PR_LOCK=$!
	for _ in $(seq 50); do
		[ "$(psql_pay "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'transactions' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ] && return 0
		sleep 0.1
	done
	fail "the ledger was not locked"
}

pr_unlock_ledger() {
	psql_pay "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pr_lock'" >/dev/null
	wait "$PR_LOCK" 2>/dev/null
}

# pr_create_bg NAME KEY BODY: alice's create in the background, into
# $T_OUT/NAME.{h,b,code}; PR_BG is its pid.
pr_create_bg() {
	gh_curl -sk -X POST -D "$T_OUT/$1.h" -o "$T_OUT/$1.b" -w '%{http_code}' \
	    -H "Authorization: Bearer $PAY_A" -H "Idempotency-Key: $2" \
	    -H 'Content-Type: application/json' --data-raw "$3" \
	    "$(gh_url /api/v1/payments)" >"$T_OUT/$1.code" &
	PR_BG=$!
}

# pr_waiter: the session of the worker waiting for the ledger's lock.
pr_waiter() {
	local pid
	for _ in $(seq 50); do
		pid=$(psql_pay "SELECT pid FROM pg_stat_activity WHERE usename = 'gatehouse_payment_app' AND wait_event_type = 'Lock' LIMIT 1")
		[ -n "$pid" ] && { printf '%s\n' "$pid"; return 0; }
		sleep 0.1
	done
	return 1
}

# pr_retry_after_is_the_wait: a 409 of a key whose first request still
# runs, with Retry-After what is left of GH_IDEMPOTENCY_STALE (60 s).
pr_retry_after_is_the_wait() {
	local wait
	expect_problem 409
	wait=$(header retry-after)
	[[ $wait =~ ^[0-9]+$ ]] && [ "$wait" -ge 45 ] && [ "$wait" -le 60 ] ||
	    fail "Retry-After is '$wait', wanted the time until the claim is stale (about 60 s)"
	expect_json ".detail | test(\"retry in $wait s\")" true
}

# A key's first request that is still running, was killed with its
# worker, or died with the database: the retry is told the true wait
# while it runs, and runs at once when the first cannot commit any more
# (its session has gone, or it failed and released the key).
t_72b_payment_key_of_a_running_killed_or_failed_first_request() {
	local key pid
	pay_setup
	# Still running: 409 for as long as it may still commit, then its answer.
	key="k72b-run-$RANDOM$RANDOM"
	pr_lock_ledger
	pr_create_bg first "$key" '{"amount":7201,"currency":"EUR"}'
	pr_waiter >/dev/null || fail "the first create did not reach the ledger"
	pay_create "$PAY_A" "$key" '{"amount":7201,"currency":"EUR"}'
	pr_retry_after_is_the_wait
	pr_unlock_ledger
	wait "$PR_BG"
	[ "$(cat "$T_OUT/first.code")" = 201 ] || fail "first create: $(cat "$T_OUT/first.code")"
	pay_create "$PAY_A" "$key" '{"amount":7201,"currency":"EUR"}'
	expect_status 201
	expect_header idempotent-replayed true
	[ "$REF" = "$(jq -r .reference "$T_OUT/first.b")" ] || fail "replay made $REF"
	# Its worker killed: 502 (not sent again by nginx). Its session lives
	# on in the lock wait, so the key is still running; once the session
	# has gone, the retry runs at once, not after 60 s, and pays once.
	key="k72b-kill-$RANDOM$RANDOM"
	pr_lock_ledger
	pr_create_bg killed "$key" '{"amount":7202,"currency":"EUR"}'
	pid=$(pr_waiter) || fail "the create to kill did not reach the ledger"
	# shellcheck disable=SC2046 # a list of pids
	kill -KILL $(gh_pool_workers payment)
	wait "$PR_BG"
	[ "$(cat "$T_OUT/killed.code")" = 502 ] || fail "killed create: $(cat "$T_OUT/killed.code")"
	grep -qi '^retry-after: 5' "$T_OUT/killed.h" || fail "the 502 has no Retry-After"
	pool_wait payment
	pay_create "$PAY_A" "$key" '{"amount":7202,"currency":"EUR"}'
	pr_retry_after_is_the_wait
	pr_unlock_ledger
	for _ in $(seq 50); do
		[ "$(psql_pay "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")" = 0 ] && break
		sleep 0.1
	done
	pay_create "$PAY_A" "$key" '{"amount":7202,"currency":"EUR"}'
	expect_status 201
	[ -z "$(header idempotent-replayed)" ] || fail "a create that never committed was replayed"
	[ "$(psql_pay "SELECT count(*) FROM payments WHERE user_id = '$PAY_A_ID' AND amount = 7202")" = 1 ] ||
	    fail "not one payment of 7202"
	# Its session ended by the server and no new one to be had (as when
	# PostgreSQL stops under it): 503, and the key could not be released
	# then; once the database takes the worker again, the retry runs at
	# once. (The service's role refused logins stands for the server being
	# away, without a restart that every other pool would have to ride.)
	key="k72b-down-$RANDOM$RANDOM"
	pr_lock_ledger
	pr_create_bg down "$key" '{"amount":7203,"currency":"EUR"}'
	pid=$(pr_waiter) || fail "the create to cut off did not reach the ledger"
	psql_pay "ALTER ROLE gatehouse_payment_app NOLOGIN" >/dev/null
	psql_pay "SELECT pg_terminate_backend($pid)" >/dev/null
	wait "$PR_BG"
	psql_pay "ALTER ROLE gatehouse_payment_app LOGIN" >/dev/null
	pr_unlock_ledger
	[ "$(cat "$T_OUT/down.code")" = 503 ] || fail "create cut off: $(cat "$T_OUT/down.code")"
	grep -qi '^retry-after:' "$T_OUT/down.h" || fail "the 503 has no Retry-After"
	[ "$(psql_pay "SELECT state FROM idempotency_keys WHERE key = '$key'")" = in_progress ] ||
	    fail "no claim was left: this case tests nothing"
	pay_create "$PAY_A" "$key" '{"amount":7203,"currency":"EUR"}'
	expect_status 201
	[ "$(psql_pay "SELECT count(*) FROM payments WHERE user_id = '$PAY_A_ID' AND amount = 7203")" = 1 ] ||
	    fail "not one payment of 7203"
	# A failure the worker sees with the server up (its statement
	# canceled): 503, and the key released then and there.
	key="k72b-cancel-$RANDOM$RANDOM"
	pr_lock_ledger
	pr_create_bg cancel "$key" '{"amount":7204,"currency":"EUR"}'
	pid=$(pr_waiter) || fail "the create to cancel did not reach the ledger"
	psql_pay "SELECT pg_cancel_backend($pid)" >/dev/null
	wait "$PR_BG"
	[ "$(cat "$T_OUT/cancel.code")" = 503 ] || fail "canceled create: $(cat "$T_OUT/cancel.code")"
	[ "$(psql_pay "SELECT count(*) FROM idempotency_keys WHERE key = '$key'")" = 0 ] ||
	    fail "a failed create kept its key"
	pr_unlock_ledger
	pay_create "$PAY_A" "$key" '{"amount":7204,"currency":"EUR"}'
	expect_status 201
	[ "$(psql_pay "SELECT count(*) FROM payments WHERE user_id = '$PAY_A_ID' AND amount = 7204")" = 1 ] ||
	    fail "not one payment of 7204"
	rm -f "$T_OUT"/first.* "$T_OUT"/killed.* "$T_OUT"/down.* "$T_OUT"/cancel.*
}

t_73_payment_twenty_parallel_creates_one_payment() {
	local key i n n201 refs pids
	pay_setup
	key="k73-$RANDOM$RANDOM"
	pids=
	for i in $(seq 20); do
		gh_curl -sk --http2 -X POST -H "Authorization: Bearer $PAY_A" \
		    -H "Idempotency-Key: $key" -H 'Content-Type: application/json' \
		    --data-raw '{"amount":4242,"currency":"GBP"}' \
		    -o "$T_OUT/par$i" -w '%{http_code}' \
		    "$(gh_url /api/v1/payments)" >"$T_OUT/par$i.code" &
		pids="$pids $!"
	done
	# Only these: the pools were started from this shell too.
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$pids" ] && wait $pids
	n201=0
	for i in $(seq 20); do
		case $(cat "$T_OUT/par$i.code") in
		201) n201=$((n201 + 1)); jq -r .reference "$T_OUT/par$i" >>"$T_OUT/par.refs" ;;
		409) ;;
		*) fail "parallel create $i: $(cat "$T_OUT/par$i.code") $(cat "$T_OUT/par$i")" ;;
		esac
	done
	[ "$n201" -ge 1 ] || fail "no create succeeded"
	refs=$(sort -u "$T_OUT/par.refs" | wc -l)
	[ "$refs" = 1 ] || fail "$refs different references"
	rm -f "$T_OUT"/par*
	n=$(psql_pay "SELECT count(*) FROM payments p JOIN idempotency_keys k ON k.payment_id = p.id WHERE k.key = '$key'")
	[ "$n" = 1 ] || fail "$n payments for one key"
	n=$(psql_pay "SELECT count(*) FROM payments WHERE user_id = '$PAY_A_ID' AND amount = 4242")
	[ "$n" = 1 ] || fail "$n payments of 4242"
	# Afterwards the key replays.
	pay_create "$PAY_A" "$key" '{"amount":4242,"currency":"GBP"}'
	expect_status 201
	expect_header idempotent-replayed true
}

t_74_payment_other_users_see_404() {
	local ref
	pay_setup
	pay_create "$PAY_A" "k74-$RANDOM$RANDOM" '{"amount":300,"currency":"EUR"}'
	ref=$REF
	pay_as "$PAY_B" GET "/api/v1/payments/$ref"
	expect_problem 404
	pay_as "$PAY_B" POST "/api/v1/payments/$ref/cancel"
	expect_problem 404
	pay_as "$PAY_B" GET "/api/v1/payments/$ref/transactions"
	expect_problem 404
	pay_as "$PAY_B" GET /api/v1/payments?limit=100
	expect_status 200
	printf '%s' "$BODY" | jq -e --arg r "$ref" '.data[] | select(.reference == $r)' >/dev/null &&
	    fail "bob lists alice's payment"
	pay_as "$PAY_B" GET "/api/v1/payments?user_id=$PAY_A_ID"
	expect_problem 403
	pay_as "$PAY_B" GET "/api/v1/payments?starting_after=$ref"
	expect_problem 400
	pay_move "$PAY_B" "$ref" processing
	expect_problem 403
	# Still pending: nothing the others tried changed it.
	pay_as "$PAY_ADMIN" GET "/api/v1/payments/$ref"
	expect_status 200
	expect_json .status pending
	pay_as "$PAY_ADMIN" GET "/api/v1/payments?user_id=$PAY_A_ID&limit=100"
	expect_status 200
	expect_json "[.data[] | select(.reference == \"$ref\")] | length" 1
	expect_json "[.data[] | select(.user_id != \"$PAY_A_ID\")] | length" 0
}

t_75_payment_list_pagination() {
	local tok i after bad
	pay_setup
	pay_login pay_lister
	tok=$TOK
	for i in 1 2 3 4 5; do
		pay_create "$tok" "k75-$i-$RANDOM" "{\"amount\":$i,\"currency\":\"EUR\"}"
	done
	pay_as "$tok" GET "/api/v1/payments?limit=2"
	expect_status 200
	expect_json '[.data[].amount] | join(",")' "5,4"
	expect_json .has_more true
	after=$(printf '%s' "$BODY" | jq -r .next_starting_after)
	pay_as "$tok" GET "/api/v1/payments?limit=2&starting_after=$after"
	expect_json '[.data[].amount] | join(",")' "3,2"
	expect_json .has_more true
	after=$(printf '%s' "$BODY" | jq -r '.data[-1].reference')
	pay_as "$tok" GET "/api/v1/payments?limit=2&starting_after=$after"
	expect_json '[.data[].amount] | join(",")' "1"
	expect_json .has_more false
	pay_as "$tok" GET /api/v1/payments
	expect_json '.data | length' 5
	pay_as "$tok" GET "/api/v1/payments?status=canceled"
	expect_json '.data | length' 0
	pay_as "$tok" GET "/api/v1/payments?status=pending&created_gte=2000-01-01T00:00:00Z&created_lt=2999-01-01T00:00:00Z"
	expect_json '.data | length' 5
	pay_as "$tok" GET "/api/v1/payments?created_lt=2000-01-01T00:00:00Z"
	expect_json '.data | length' 0
	for bad in limit=0 limit=101 limit=abc limit= status=paid \
	    created_gte=yesterday created_lt=2024-13-01T00:00:00Z \
	    starting_after=nope user_id=123; do
		pay_as "$tok" GET "/api/v1/payments?$bad"
		expect_problem 400
		expect_json '.detail | startswith("'"${bad%%=*}"'")' true
	done
}

t_75b_payment_list_every_bad_parameter_at_once() {
	local after cursor
	pay_setup
	pay_as "$PAY_A" GET "/api/v1/payments?limit=0&status=paid&user_id=123"
	expect_problem 400
	expect_json '.errors | length' 3
	expect_json '[.errors[].field] | join(",")' "limit,status,user_id"
	expect_json '[.errors[].in] | unique | join(",")' query
	expect_json '.detail | test("^limit: .*; status: must be one of pending, processing, succeeded, failed, canceled, partially_refunded, refunded; user_id: ")' true
	# Given twice, badly encoded, empty: each named, with the others.
	pay_as "$PAY_A" GET "/api/v1/payments?limit=2&limit=3&created_gte=%zz&status=&starting_after=pay_x"
	expect_problem 400
	expect_json '[.errors[].field] | join(",")' "limit,starting_after,status,created_gte"
	expect_json '.errors[0].detail' "must be given once"
	pay_as "$PAY_A" GET "/api/v1/payments?cursor=not-a-cursor"
	expect_problem 400
	expect_json '.errors[0].field' cursor
	# A cursor that is not this list's key (a time and a UUID) is
	# refused, as is a cursor together with starting_after.
	pay_as "$PAY_A" GET "/api/v1/payments?cursor=$(printf '42' | base64 | tr '+/' '-_' | tr -d '=')"
	expect_problem 400
	expect_json '.errors[0].field' cursor
	pay_create "$PAY_A" "k75b-$RANDOM$RANDOM" '{"amount":75,"currency":"EUR"}'
	pay_create "$PAY_A" "k75b-$RANDOM$RANDOM" '{"amount":76,"currency":"EUR"}'
	pay_as "$PAY_A" GET "/api/v1/payments?limit=1"
	expect_status 200
	cursor=$(printf '%s' "$BODY" | jq -r .next_cursor)
	after=$(printf '%s' "$BODY" | jq -r .next_starting_after)
	pay_as "$PAY_A" GET "/api/v1/payments?limit=1&cursor=$cursor&starting_after=$after"
	expect_problem 400
	expect_json '.errors[0].field' starting_after
	# Parameters the list does not declare are left alone.
	pay_as "$PAY_A" GET "/api/v1/payments?limit=1&utm_source=x&_=1"
	expect_status 200
}

# The cursor holds the position of the page's last payment, so a change
# to that payment (here it leaves a status filter) does not move the
# start of the next page.
t_75c_payment_cursor_survives_a_change() {
	local tok uid i cursor after
	pay_setup
	pay_login pay_pager
	tok=$TOK uid=$TOK_UID
	for i in 1 2 3 4 5; do
		pay_create "$tok" "k75c-$i-$RANDOM" "{\"amount\":$i,\"currency\":\"EUR\"}"
	done
	pay_as "$tok" GET "/api/v1/payments?status=pending&limit=2"
	expect_status 200
	[ "$(pay_amounts)" = "5,4" ] || fail "first page: $(pay_amounts)"
	expect_json .has_more true
	expect_json '.next_cursor | test("^[A-Za-z0-9_-]+$")' true
	cursor=$(printf '%s' "$BODY" | jq -r .next_cursor)
	after=$(printf '%s' "$BODY" | jq -r .next_starting_after)
	expect_json '.data[1].reference' "$after"
	# The last payment of the page is canceled: it leaves the filter.
	pay_as "$tok" POST "/api/v1/payments/$after/cancel"
	expect_status 200
	pay_as "$tok" GET "/api/v1/payments?status=pending&limit=2&cursor=$cursor"
	expect_status 200
	[ "$(pay_amounts)" = "3,2" ] || fail "after the cursor: $(pay_amounts)"
	expect_json .has_more true
	cursor=$(printf '%s' "$BODY" | jq -r .next_cursor)
	pay_as "$tok" GET "/api/v1/payments?status=pending&limit=2&cursor=$cursor"
	[ "$(pay_amounts)" = "1" ] || fail "last page: $(pay_amounts)"
	expect_json .has_more false
	expect_json .next_cursor null
	expect_json .next_starting_after null
	# starting_after names the payment itself, which is still there.
	pay_as "$tok" GET "/api/v1/payments?status=pending&limit=2&starting_after=$after"
	[ "$(pay_amounts)" = "3,2" ] || fail "after the reference: $(pay_amounts)"
	# And the first page no longer holds it.
	pay_as "$tok" GET "/api/v1/payments?status=pending&limit=2"
	[ "$(pay_amounts)" = "5,3" ] || fail "first page again: $(pay_amounts)"
	# A cursor is a position, not a right: in another user's hands it
	# shows that user's own payments only.
	pay_as "$PAY_B" GET "/api/v1/payments?cursor=$cursor"
	expect_status 200
	expect_json "[.data[] | select(.user_id == \"$uid\")] | length" 0
}

t_76_payment_state_machine() {
	local ref ref2 i pids
	pay_setup
	pay_create "$PAY_A" "k76-$RANDOM$RANDOM" '{"amount":900,"currency":"EUR"}'
	ref=$REF
	pay_as "$PAY_A" POST "/api/v1/payments/$ref/cancel" \
	    -H 'Content-Type: application/json' --data-raw '{"reason":"changed my mind"}'
	expect_status 200
	expect_json .status canceled
	pay_as "$PAY_A" POST "/api/v1/payments/$ref/cancel"
	expect_problem 409
	expect_json .current_status canceled
	expect_json '.detail | test("canceled")' true
	pay_move "$PAY_ADMIN" "$ref" processing
	expect_problem 409
	expect_json .current_status canceled
	expect_json .allowed_from pending
	pay_as "$PAY_A" GET "/api/v1/payments/$ref/transactions"
	expect_json '[.data[].to_status] | join(",")' "pending,canceled"
	expect_json '.data[1].actor' owner
	expect_json '.data[1].reason' "changed my mind"

	pay_create "$PAY_A" "k76b-$RANDOM$RANDOM" '{"amount":900,"currency":"EUR"}'
	ref2=$REF
	pay_move "$PAY_ADMIN" "$ref2" succeeded
	expect_problem 409
	expect_json .current_status pending
	expect_json .allowed_from processing
	pay_move "$PAY_ADMIN" "$ref2" processing
	expect_status 200
	expect_json .status processing
	pay_move "$PAY_ADMIN" "$ref2" succeeded
	expect_status 200
	pay_move "$PAY_ADMIN" "$ref2" processing
	expect_problem 409
	expect_json .current_status succeeded
	pay_as "$PAY_A" POST "/api/v1/payments/$ref2/cancel"
	expect_problem 409
	pay_move "$PAY_ADMIN" "$ref2" refunded
	expect_problem 422
	expect_json '.errors[0].field' status
	pay_move "$PAY_ADMIN" pay_AAAAAAAAAAAAAAAAAAAAAA processing
	expect_problem 404
	pay_as "$PAY_ADMIN" GET "/api/v1/payments/$ref2/transactions"
	expect_json '[.data[].to_status] | join(",")' "pending,processing,succeeded"
	expect_json '.data[2].actor' admin
	expect_json '.data[2].actor_id | length > 0' true
	# Racing transitions: one wins, the others see the new state.
	pay_create "$PAY_A" "k76c-$RANDOM$RANDOM" '{"amount":900,"currency":"EUR"}'
	ref=$REF
	pids=
	for i in $(seq 8); do
		gh_curl -sk -X POST -H "Authorization: Bearer $PAY_A" \
		    -o /dev/null -w '%{http_code}\n' \
		    "$(gh_url "/api/v1/payments/$ref/cancel")" >>"$T_OUT/race" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$pids" ] && wait $pids
	[ "$(grep -c '^200$' "$T_OUT/race")" = 1 ] || fail "racing cancels: $(sort "$T_OUT/race" | uniq -c | tr '\n' ' ')"
	[ "$(grep -c '^409$' "$T_OUT/race")" = 7 ] || fail "racing cancels: $(sort "$T_OUT/race" | uniq -c | tr '\n' ' ')"
	rm -f "$T_OUT/race"
	[ "$(psql_pay "SELECT count(*) FROM transactions t JOIN payments p ON p.id = t.payment_id WHERE p.reference = '$ref' AND t.kind = 'status_change'")" = 1 ] ||
	    fail "racing cancels wrote more than one ledger row"
}

# PostgreSQL holds the machine too: a statement of the app role outside
# it is refused, whatever the service does.
t_76b_payment_transitions_enforced_by_postgres() {
	local want got ref out n
	pay_setup
	want=$("$GH_STATE/bin/gatehouse-payment" --transitions | LC_ALL=C sort)
	got=$(psql_pay "SELECT from_status || ' ' || to_status FROM payment_transitions" | LC_ALL=C sort)
	[ -n "$want" ] || fail "gatehouse-payment --transitions printed nothing"
	[ "$want" = "$got" ] ||
	    fail "the C table and payment_transitions differ: $(diff <(echo "$want") <(echo "$got") | tr '\n' ' ')"
	pay_create "$PAY_A" "k76b-$RANDOM$RANDOM" '{"amount":500,"currency":"EUR"}'
	ref=$REF
	# A jump, with the amounts made to fit the table's CHECKs.
	out=$(psql_app "UPDATE payments SET status = 'refunded', refunded_amount = amount WHERE reference = '$ref'") &&
	    fail "the app role moved a payment from pending to refunded"
	[[ $out == *23514*"cannot go from pending to refunded"* ]] || fail "refusal: $out"
	out=$(psql_app "UPDATE payments SET status = 'partially_refunded', refunded_amount = 1 WHERE reference = '$ref'") &&
	    fail "the app role moved a payment from pending to partially_refunded"
	[[ $out == *23514* ]] || fail "pending to partially_refunded: $out"
	# Step by step is no way round: the second step is refused, and the
	# statement's transaction with it.
	out=$(psql_app "BEGIN; UPDATE payments SET status = 'processing' WHERE reference = '$ref'; UPDATE payments SET status = 'refunded', refunded_amount = amount WHERE reference = '$ref'; COMMIT") &&
	    fail "the app role moved a payment from processing to refunded"
	[[ $out == *"cannot go from processing to refunded"* ]] || fail "processing to refunded: $out"
	# A change along the table passes (undone: it has no ledger row).
	out=$(psql_app "BEGIN; UPDATE payments SET status = 'processing' WHERE reference = '$ref' RETURNING status; ROLLBACK") ||
	    fail "pending to processing refused: $out"
	[ "$out" = processing ] || fail "pending to processing: $out"
	out=$(psql_app "INSERT INTO payments (reference, user_id, amount, currency, status) VALUES ('pay_AAAAAAAAAAAAAAAAAAAAAB', '$PAY_A_ID', 1, 'EUR', 'succeeded')") &&
	    fail "the app role created a succeeded payment"
	[[ $out == *23514* ]] || fail "insert: $out"
	# Nor may the app role change the machine itself.
	# The grants let it write rows (default privileges): the trigger says no.
	n=$(pay_count payment_transitions)
	for sql in "INSERT INTO payment_transitions VALUES ('pending', 'refunded')" \
	    "DELETE FROM payment_transitions" \
	    "UPDATE payment_transitions SET to_status = 'refunded' WHERE to_status = 'processing'"; do
		out=$(psql_app "$sql") && fail "the app role ran: $sql"
		[[ $out == *42501*"changed by migrations only"* ]] || fail "$sql: $out"
	done
	for sql in "TRUNCATE payment_transitions" "DROP TABLE payment_transitions CASCADE" \
	    "ALTER TABLE payments DISABLE TRIGGER payments_status_transition" \
	    "DROP TRIGGER payments_status_transition ON payments"; do
		out=$(psql_app "$sql") && fail "the app role ran: $sql"
	done
	[ "$(pay_count payment_transitions)" = "$n" ] || fail "payment_transitions changed"
	psql_app "SELECT count(*) FROM payment_transitions" | grep -qx "$n" ||
	    fail "the app role cannot read payment_transitions"
	pay_as "$PAY_A" GET "/api/v1/payments/$ref"
	expect_json .status pending
	expect_json .refunded_amount 0
	# The service's own changes never meet the trigger.
	pay_as "$PAY_A" POST "/api/v1/payments/$ref/cancel"
	expect_status 200
	expect_json .status canceled
	pay_move "$PAY_ADMIN" "$ref" processing
	expect_problem 409
	expect_json .allowed_from pending
	expect_json .allowed_next "none (final)"
	out=$(psql_app "UPDATE payments SET status = 'pending' WHERE reference = '$ref'") &&
	    fail "the app role moved a payment from canceled back to pending"
	[[ $out == *"cannot go from canceled to pending"* ]] || fail "canceled to pending: $out"
}

t_77_payment_refunds() {
	local ref i n bad pids
	pay_setup
	pay_create "$PAY_A" "k77-$RANDOM$RANDOM" '{"amount":1000,"currency":"EUR"}'
	ref=$REF
	pay_as "$PAY_ADMIN" POST "/api/v1/payments/$ref/refunds" \
	    -H 'Content-Type: application/json' --data-raw '{"amount":100}'
	expect_problem 409
	expect_json .current_status pending
	pay_move "$PAY_ADMIN" "$ref" processing
	pay_move "$PAY_ADMIN" "$ref" succeeded
	pay_as "$PAY_A" POST "/api/v1/payments/$ref/refunds" \
	    -H 'Content-Type: application/json' --data-raw '{"amount":100}'
	expect_problem 403
	for bad in 0 -1 1.5 '"10"'; do
		pay_as "$PAY_ADMIN" POST "/api/v1/payments/$ref/refunds" \
		    -H 'Content-Type: application/json' --data-raw "{\"amount\":$bad}"
		expect_problem 422
		expect_json '.errors[0].field' amount
	done
	pay_as "$PAY_ADMIN" POST "/api/v1/payments/$ref/refunds" \
	    -H 'Content-Type: application/json' --data-raw '{"amount":300,"reason":"broken cup"}'
	expect_status 201
	expect_json .payment.status partially_refunded
	expect_json .payment.refunded_amount 300
	pay_as "$PAY_ADMIN" POST "/api/v1/payments/$ref/refunds" \
	    -H 'Content-Type: application/json' --data-raw '{"amount":701}'
	expect_problem 409
	expect_json '.errors[0].field' amount
	# Ten refunds of 100 at once: 700 are left, so seven pass.
	pids=
	for i in $(seq 10); do
		gh_curl -sk -X POST -H "Authorization: Bearer $PAY_ADMIN" \
		    -H 'Content-Type: application/json' --data-raw '{"amount":100}' \
		    -o /dev/null -w '%{http_code}\n' \
		    "$(gh_url "/api/v1/payments/$ref/refunds")" >>"$T_OUT/refunds" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$pids" ] && wait $pids
	n=$(grep -c '^201$' "$T_OUT/refunds")
	[ "$n" = 7 ] || fail "$n parallel refunds passed: $(sort "$T_OUT/refunds" | uniq -c | tr '\n' ' ')"
	[ "$(grep -c '^409$' "$T_OUT/refunds")" = 3 ] || fail "refunds: $(sort "$T_OUT/refunds" | uniq -c | tr '\n' ' ')"
	rm -f "$T_OUT/refunds"
	pay_as "$PAY_A" GET "/api/v1/payments/$ref"
	expect_json .status refunded
	expect_json .refunded_amount 1000
	[ "$(psql_pay "SELECT sum(t.amount) FROM transactions t JOIN payments p ON p.id = t.payment_id WHERE p.reference = '$ref' AND t.kind = 'refund'")" = 1000 ] ||
	    fail "the ledger's refunds do not add up to 1000"
	pay_as "$PAY_ADMIN" POST "/api/v1/payments/$ref/refunds"
	expect_problem 409
	# No amount: the whole rest.
	pay_create "$PAY_A" "k77b-$RANDOM$RANDOM" '{"amount":250,"currency":"EUR"}'
	pay_move "$PAY_ADMIN" "$REF" processing
	pay_move "$PAY_ADMIN" "$REF" succeeded
	pay_as "$PAY_ADMIN" POST "/api/v1/payments/$REF/refunds"
	expect_status 201
	expect_json .amount 250
	expect_json .payment.status refunded
}

# pr_refund KEY REF BODY [TOKEN]: an admin's refund under a key.
pr_refund() {
	pay_as "${4:-$PAY_ADMIN}" POST "/api/v1/payments/$2/refunds" \
	    -H "Idempotency-Key: $1" -H 'Content-Type: application/json' \
	    --data-raw "$3"
}

# pr_refunds REF: how many refunds the ledger has for the payment.
pr_refunds() {
	psql_pay "SELECT count(*) FROM transactions t JOIN payments p ON p.id = t.payment_id WHERE p.reference = '$1' AND t.kind = 'refund'"
}

# A refund with an Idempotency-Key refunds once however often it is
# sent: the first answer again for the same key and body, 422 for
# another body or payment, 409 while it runs; only a refund made uses
# the key up.
t_77b_payment_refunds_with_an_idempotency_key() {
	local ref other key first i n pids
	pay_setup
	pay_create "$PAY_A" "k77c-$RANDOM$RANDOM" '{"amount":1000,"currency":"EUR"}'
	ref=$REF
	pay_move "$PAY_ADMIN" "$ref" processing
	pay_move "$PAY_ADMIN" "$ref" succeeded
	pay_create "$PAY_A" "k77d-$RANDOM$RANDOM" '{"amount":900,"currency":"EUR"}'
	other=$REF
	pay_move "$PAY_ADMIN" "$other" processing
	pay_move "$PAY_ADMIN" "$other" succeeded
	key="r77b-$RANDOM$RANDOM"
	pr_refund "$key" "$ref" '{"amount":100,"reason":"late"}'
	expect_status 201
	expect_json .payment.refunded_amount 100
	first=$BODY
	# Sent again, members in another order: the first answer, not a refund.
	pr_refund "$key" "$ref" '{"reason":"late", "amount":100}'
	expect_status 201
	expect_header idempotent-replayed true
	[ "$BODY" = "$first" ] || fail "the replay differs: $BODY"
	[ "$(pr_refunds "$ref")" = 1 ] || fail "$(pr_refunds "$ref") refunds for one key"
	# Another body, another payment, or a create: another request.
	pr_refund "$key" "$ref" '{"amount":101,"reason":"late"}'
	expect_problem 422
	expect_json '.detail | test("Idempotency-Key")' true
	pr_refund "$key" "$other" '{"amount":100,"reason":"late"}'
	expect_problem 422
	pay_create "$PAY_ADMIN" "$key" '{"amount":100,"reason":"late"}'
	expect_problem 422
	pay_create "$PAY_ADMIN" "$key" '{"amount":100,"currency":"EUR"}'
	expect_problem 422
	[ "$(pr_refunds "$other")" = 0 ] || fail "the other payment was refunded"
	# No body and {} ask the same: the rest, once.
	key="r77b-rest-$RANDOM$RANDOM"
	pay_as "$PAY_ADMIN" POST "/api/v1/payments/$other/refunds" -H "Idempotency-Key: $key"
	expect_status 201
	expect_json .amount 900
	pr_refund "$key" "$other" '{}'
	expect_status 201
	expect_header idempotent-replayed true
	expect_json .amount 900
	[ "$(pr_refunds "$other")" = 1 ] || fail "the rest was refunded $(pr_refunds "$other") times"
	# Ten at once with one key: one refund of 50; the others 409 (still
	# running, with Retry-After) or the first answer.
	key="r77b-par-$RANDOM$RANDOM"
	pids=
	for i in $(seq 10); do
		gh_curl -sk -X POST -H "Authorization: Bearer $PAY_ADMIN" \
		    -H "Idempotency-Key: $key" -H 'Content-Type: application/json' \
		    --data-raw '{"amount":50}' -o "$T_OUT/rpar$i" -w '%{http_code}\n' \
		    "$(gh_url "/api/v1/payments/$ref/refunds")" >>"$T_OUT/rpar.codes" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$pids" ] && wait $pids
	n=$(grep -c '^201$' "$T_OUT/rpar.codes")
	[ "$n" -ge 1 ] || fail "no parallel refund passed"
	[ "$(grep -cv '^\(201\|409\)$' "$T_OUT/rpar.codes")" = 0 ] ||
	    fail "parallel refunds: $(sort "$T_OUT/rpar.codes" | uniq -c | tr '\n' ' ')"
	[ "$(for i in $(seq 10); do jq -r 'select(.payment) | .payment.refunded_amount' "$T_OUT/rpar$i"; done | sort -u)" = 150 ] ||
	    fail "the parallel refunds' answers differ"
	rm -f "$T_OUT"/rpar*
	[ "$(pr_refunds "$ref")" = 2 ] || fail "$(pr_refunds "$ref") refunds, wanted 2"
	# A refund refused after its key was claimed (too much, or a payment
	# that cannot be refunded) frees the key: the retry runs, and may ask
	# for something else.
	key="r77b-fail-$RANDOM$RANDOM"
	pr_refund "$key" "$ref" '{"amount":5000}'
	expect_problem 409
	expect_json '.errors[0].field' amount
	pr_refund "$key" "$ref" '{"amount":5000}'
	expect_problem 409
	[ -z "$(header idempotent-replayed)" ] || fail "a refused refund was replayed"
	pr_refund "$key" "$ref" '{"amount":10}'
	expect_status 201
	[ -z "$(header idempotent-replayed)" ] || fail "a refused refund used its key up"
	expect_json .payment.refunded_amount 160
	pay_create "$PAY_A" "k77e-$RANDOM$RANDOM" '{"amount":300,"currency":"EUR"}'
	key="r77b-pending-$RANDOM$RANDOM"
	pr_refund "$key" "$REF" '{"amount":1}'
	expect_problem 409
	[ "$(psql_pay "SELECT count(*) FROM idempotency_keys WHERE key = '$key'")" = 0 ] ||
	    fail "a refund that was refused kept its key"
	pr_refund "$key" pay_AAAAAAAAAAAAAAAAAAAAAA '{"amount":1}'
	expect_problem 404
	# Bad keys and bad bodies are refused before anything is claimed.
	pr_refund "$(printf 'k%.0s' $(seq 256))" "$ref" '{"amount":1}'
	expect_problem 400
	expect_json '.detail | test("Idempotency-Key")' true
	pr_refund 'has space' "$ref" '{"amount":1}'
	expect_problem 400
	# An empty one (curl's "Name;" sends it so).
	pay_as "$PAY_ADMIN" POST "/api/v1/payments/$ref/refunds" \
	    -H 'Idempotency-Key;' -H 'Content-Type: application/json' \
	    --data-raw '{"amount":1}'
	expect_problem 400
	key="r77b-bad-$RANDOM$RANDOM"
	pr_refund "$key" "$ref" '{"amount":0}'
	expect_problem 422
	pr_refund "$key" "$ref" '{"amount":1}' "$PAY_A"
	expect_problem 403
	[ "$(psql_pay "SELECT count(*) FROM idempotency_keys WHERE key = '$key'")" = 0 ] ||
	    fail "a refused body claimed its key"
	[ "$(pr_refunds "$ref")" = 3 ] || fail "$(pr_refunds "$ref") refunds, wanted 3"
	pay_as "$PAY_A" GET "/api/v1/payments/$ref"
	expect_json .refunded_amount 160
}

t_78_payment_webhooks() {
	local ref id now events ledger sig
	pay_setup
	pay_create "$PAY_A" "k78-$RANDOM$RANDOM" '{"amount":1200,"currency":"EUR"}'
	ref=$REF
	id="msg_t78_$RANDOM$RANDOM"
	pay_hook -i "$id" payment.processing "$ref"
	[ "$STATUS" = 200 ] || fail "good event: $STATUS $BODY"
	expect_json .result applied
	expect_json .status processing
	# The same event again (a provider retry, or a replay): once only.
	pay_hook -i "$id" payment.processing "$ref"
	[ "$STATUS" = 200 ] || fail "duplicate: $STATUS"
	expect_json .result duplicate
	events=$(pay_count webhook_events)
	ledger=$(pay_count transactions)
	# Forged: another secret; a tampered body; no signature; late; early.
	openssl rand -base64 32 | sed 's/^/whsec_/' >"$T_OUT/forged"
	pay_hook -s "$T_OUT/forged" payment.succeeded "$ref"
	[ "$STATUS" = 401 ] || fail "forged: $STATUS $BODY"
	now=$(date +%s)
	sig=$(GH_WEBHOOK_SECRET_FILE="$PAY_WH/secret" "$PAY_SIM" send -n -i msg_tamper \
	    -t "$now" payment.failed "$ref" | sed -n 's/^webhook-signature: //p')
	req POST /api/v1/payments/webhook -H 'Content-Type: application/json' \
	    -H 'webhook-id: msg_tamper' -H "webhook-timestamp: $now" \
	    -H "webhook-signature: $sig" \
	    --data-raw "{\"type\":\"payment.succeeded\",\"data\":{\"reference\":\"$ref\"}}"
	expect_problem 401
	req POST /api/v1/payments/webhook -H 'Content-Type: application/json' \
	    --data-raw "{\"type\":\"payment.succeeded\",\"data\":{\"reference\":\"$ref\"}}"
	expect_problem 401
	pay_hook -t $((now - 400)) payment.succeeded "$ref"
	[ "$STATUS" = 401 ] || fail "late: $STATUS $BODY"
	pay_hook -t $((now + 400)) payment.succeeded "$ref"
	[ "$STATUS" = 401 ] || fail "early: $STATUS $BODY"
	pay_hook -x "v1,$(openssl rand -base64 32)" -i "$id-x" -t "$now" \
	    -b '{"type":"payment.succeeded"}' payment.succeeded "$ref"
	[ "$STATUS" = 422 ] || fail "no data.reference: $STATUS $BODY"
	pay_hook payment.succeeded pay_AAAAAAAAAAAAAAAAAAAAAA
	[ "$STATUS" = 404 ] || fail "unknown payment: $STATUS $BODY"
	[ "$(pay_count webhook_events)" = "$events" ] || fail "a refused event was recorded"
	[ "$(pay_count transactions)" = "$ledger" ] || fail "a refused event wrote the ledger"
	pay_as "$PAY_A" GET "/api/v1/payments/$ref"
	expect_json .status processing
	# Several signatures, the first a stale one: the good one counts.
	pay_hook -x "v1,$(openssl rand -base64 32)" payment.succeeded "$ref"
	[ "$STATUS" = 200 ] || fail "second signature: $STATUS $BODY"
	expect_json .result applied
	expect_json .status succeeded
	# Out of order: a late "processing" does not move it back.
	pay_hook payment.processing "$ref"
	[ "$STATUS" = 200 ] || fail "late processing: $STATUS"
	expect_json .result ignored
	expect_json .status succeeded
	pay_hook payment.failed "$ref"
	expect_json .result ignored
	pay_as "$PAY_A" GET "/api/v1/payments/$ref"
	expect_json .status succeeded
	pay_as "$PAY_A" GET "/api/v1/payments/$ref/transactions"
	expect_json '[.data[] | select(.kind == "webhook") | .to_status] | join(",")' "processing,succeeded"
	expect_json '[.data[] | select(.kind == "webhook") | .actor] | unique | join(",")' provider
	# Unknown event types are acknowledged and left alone.
	pay_hook payment.disputed "$ref"
	expect_json .result ignored
	# Rotation: a new secret, and the previous one still accepted.
	cp "$PAY_WH/secret" "$T_OUT/old-secret"
	"$PAY_SIM" keygen "$PAY_WH/secret"
	pay_own_secrets
	pay_create "$PAY_A" "k78b-$RANDOM$RANDOM" '{"amount":50,"currency":"EUR"}'
	pay_hook payment.canceled "$REF"
	[ "$STATUS" = 200 ] || fail "new secret: $STATUS $BODY"
	pay_create "$PAY_A" "k78c-$RANDOM$RANDOM" '{"amount":50,"currency":"EUR"}'
	pay_hook -s "$T_OUT/old-secret" payment.canceled "$REF"
	[ "$STATUS" = 200 ] || fail "previous secret: $STATUS $BODY"
	expect_json .result applied
	rm -f "$T_OUT/old-secret" "$T_OUT/forged"
}

# Whatever failed above, what is stored adds up.
t_79_payment_nothing_half_written() {
	local n
	pay_setup
	n=$(psql_pay "SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.payment_id = p.id AND t.kind = 'created')")
	[ "$n" = 0 ] || fail "$n payments without their creation in the ledger"
	n=$(psql_pay "SELECT count(*) FROM idempotency_keys WHERE state = 'in_progress' AND created_at > now() - interval '10 minutes'")
	[ "$n" = 0 ] || fail "$n keys left in progress"
	n=$(psql_pay "SELECT count(*) FROM idempotency_keys WHERE state = 'done' AND payment_id IS NULL")
	[ "$n" = 0 ] || fail "$n done keys without a payment"
	# Each payment's status is the last the ledger says, and its refunds add up.
	n=$(psql_pay "SELECT count(*) FROM payments p WHERE p.status <> (SELECT t.to_status FROM transactions t WHERE t.payment_id = p.id ORDER BY t.id DESC LIMIT 1) OR p.refunded_amount <> (SELECT coalesce(sum(t.amount), 0) FROM transactions t WHERE t.payment_id = p.id AND t.kind = 'refund')")
	[ "$n" = 0 ] || fail "$n payments disagree with their ledger"
	psql_pay "UPDATE transactions SET amount = 0" >/dev/null 2>&1 &&
	    fail "the ledger could be rewritten"
	return 0
}
