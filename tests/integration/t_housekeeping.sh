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

# Browser sign-ins at the provider that were never finished: their
# requests (ten minutes) go an hour past their end; one still running,
# or just expired, stays.
t_47a_auth_sweep_removes_abandoned_authorization_requests() {
	local out
	psql_auth "
	    INSERT INTO oauth_clients (id, name, type, redirect_uris)
		VALUES ('hk-sweep-client', 'hk sweep', 'public', '{https://app.example.test/cb}')
		ON CONFLICT (id) DO NOTHING;
	    INSERT INTO oauth_requests (handle_hash, csrf_hash, client_id, params, created_at, expires_at) VALUES
		(sha256('hk-req-old'), sha256('c1'), 'hk-sweep-client', '{}', now() - interval '3 hours', now() - interval '2 hours'),
		(sha256('hk-req-just'), sha256('c2'), 'hk-sweep-client', '{}', now() - interval '15 minutes', now() - interval '5 minutes'),
		(sha256('hk-req-live'), sha256('c3'), 'hk-sweep-client', '{}', now(), now() + interval '10 minutes');
	" >/dev/null || { fail "could not seed oauth_requests"; return; }
	out=$(hk_auth_sweep --dry-run 2>&1) || fail "dry run: $out"
	[ "$(psql_auth "SELECT count(*) FROM oauth_requests WHERE client_id = 'hk-sweep-client'")" = 3 ] ||
	    fail "a dry run removed a request"
	out=$(hk_auth_sweep 2>&1) || fail "sweep: $out"
	printf '%s\n' "$out" | grep -q '^removed [1-9][0-9]* abandoned authorization requests$' ||
	    fail "the summary names no abandoned request: $out"
	[ "$(psql_auth "SELECT count(*) FROM oauth_requests WHERE handle_hash = sha256('hk-req-old')")" = 0 ] ||
	    fail "an authorization request two hours past its end is still there"
	[ "$(psql_auth "SELECT count(*) FROM oauth_requests WHERE handle_hash IN (sha256('hk-req-just'), sha256('hk-req-live'))")" = 2 ] ||
	    fail "a running or just expired authorization request was removed"
	psql_auth "DELETE FROM oauth_clients WHERE id = 'hk-sweep-client'" >/dev/null
}

# hk_payment_sweep ARGS...: gatehouse-payment --sweep on the test
# database (GH_DB=HK_PAY_DB when set), with HK_PAY_ENV (VAR=value words)
# added; output and status in HK_OUT and HK_RC.
hk_payment_sweep() {
	HK_RC=0
	# shellcheck disable=SC2086  # words, by design
	local db
	db=$(gh_pool_env payment | grep '^GH_DB=')
	HK_OUT=$(env "${HK_PAY_DB:-$db}" ${HK_PAY_ENV-} \
	    timeout 60 "$GH_STATE/bin/gatehouse-payment" --sweep "$@" 2>&1) ||
	    HK_RC=$?
}

# One row of each kind, dead or live, by what it is called here.
hk_pay_rows() {
	psql_pay "SELECT string_agg(key, ',' ORDER BY key) FROM idempotency_keys WHERE key LIKE 'hk47b%'"
	psql_pay "SELECT string_agg(id, ',' ORDER BY id) FROM webhook_events WHERE id LIKE 'msg_hk47b%'"
}

t_47b_payment_sweep_removes_only_the_dead() {
	local key ref first ledger payments before id n a
	pay_setup
	# Live: a key in its window and an event just received, through the API.
	key="hk47b-api-$RANDOM"
	pay_create "$PAY_A" "$key" '{"amount":470,"currency":"EUR"}'
	expect_status 201
	ref=$REF first=$BODY
	id="msg_hk47b_new_$RANDOM"
	pay_hook -i "$id" payment.processing "$ref"
	expect_json .result applied
	psql_pay "
	    INSERT INTO idempotency_keys (user_id, key, request_hash, state, response_status, response_body, created_at, expires_at) VALUES
		('$PAY_A_ID', 'hk47b-expired', repeat('a', 64), 'done', 201, '{}', now() - interval '2 days', now() - interval '1 day'),
		('$PAY_A_ID', 'hk47b-expired-busy', repeat('b', 64), 'in_progress', NULL, NULL, now() - interval '2 days', now() - interval '1 second'),
		('$PAY_A_ID', 'hk47b-live-busy', repeat('c', 64), 'in_progress', NULL, NULL, now(), now() + interval '1 day'),
		('$PAY_A_ID', 'hk47b-live-last', repeat('d', 64), 'done', 201, '{}', now() - interval '1 day', now() + interval '1 minute');
	    INSERT INTO webhook_events (id, type, reference, result, sent_at, received_at) VALUES
		('msg_hk47b_old', 'payment.succeeded', NULL, 'applied', now() - interval '40 days', now() - interval '40 days'),
		('msg_hk47b_29d', 'payment.failed', NULL, 'ignored', now() - interval '29 days', now() - interval '29 days');
	" >/dev/null || { fail "could not seed the tables"; return; }
	ledger=$(pay_count transactions)
	payments=$(pay_count payments)
	before=$(hk_pay_rows)

	# Bad settings and arguments: refused, nothing removed.
	for HK_PAY_ENV in GH_WEBHOOK_KEEP_DAYS=0 GH_WEBHOOK_KEEP_DAYS=3651 \
	    GH_WEBHOOK_KEEP_DAYS=30d GH_WEBHOOK_KEEP_DAYS=-5; do
		hk_payment_sweep
		[ "$HK_RC" = 1 ] || fail "$HK_PAY_ENV: status $HK_RC: $HK_OUT"
		printf '%s' "$HK_OUT" | grep -q 'GH_WEBHOOK_KEEP_DAYS=' ||
		    fail "$HK_PAY_ENV: the setting is not named: $HK_OUT"
	done
	HK_PAY_ENV=
	for a in --bogus --dry-run=yes -n; do
		hk_payment_sweep "$a"
		[ "$HK_RC" = 2 ] || fail "$a: status $HK_RC: $HK_OUT"
		printf '%s' "$HK_OUT" | grep -q '^usage: gatehouse-payment --sweep' ||
		    fail "$a: no usage: $HK_OUT"
	done
	HK_PAY_DB="GH_DB=host=$GH_STATE/pg/sock port=5432 dbname=gatehouse_media user=gatehouse_media_app" \
	    hk_payment_sweep
	[ "$HK_RC" = 1 ] || fail "another service's database: status $HK_RC: $HK_OUT"
	[ "$(hk_pay_rows)" = "$before" ] || fail "a refused sweep removed rows"

	hk_payment_sweep --dry-run
	[ "$HK_RC" = 0 ] || fail "dry run: status $HK_RC: $HK_OUT"
	n=$(printf '%s\n' "$HK_OUT" | sed -n 's/^would remove (a batch of) \([0-9]*\) expired idempotency keys$/\1/p')
	[ "${n:-0}" -ge 2 ] || fail "dry run: $HK_OUT"
	[ "$(hk_pay_rows)" = "$before" ] || fail "a dry run removed rows"

	hk_payment_sweep
	[ "$HK_RC" = 0 ] || fail "sweep: status $HK_RC: $HK_OUT"
	n=$(printf '%s\n' "$HK_OUT" | sed -n 's/^removed \([0-9]*\) expired idempotency keys$/\1/p')
	[ "${n:-0}" -ge 2 ] || fail "the summary: $HK_OUT"
	printf '%s\n' "$HK_OUT" | grep -q '^removed [1-9][0-9]* old webhook events$' ||
	    fail "the summary: $HK_OUT"
	[ "$(psql_pay "SELECT string_agg(key, ',' ORDER BY key) FROM idempotency_keys WHERE key LIKE 'hk47b%'")" = "$key,hk47b-live-busy,hk47b-live-last" ] ||
	    fail "keys: $(psql_pay "SELECT string_agg(key, ',' ORDER BY key) FROM idempotency_keys WHERE key LIKE 'hk47b%'")"
	[ "$(psql_pay "SELECT count(*) FROM webhook_events WHERE id LIKE 'msg_hk47b%'")" = 2 ] &&
	    [ "$(psql_pay "SELECT count(*) FROM webhook_events WHERE id IN ('$id', 'msg_hk47b_29d')")" = 2 ] ||
	    fail "events: $(psql_pay "SELECT string_agg(id, ',' ORDER BY id) FROM webhook_events WHERE id LIKE 'msg_hk47b%'")"
	[ "$(pay_count transactions)" = "$ledger" ] && [ "$(pay_count payments)" = "$payments" ] ||
	    fail "the sweep touched payments or the ledger"
	# What stayed still works: the key replays, the event is a duplicate.
	pay_create "$PAY_A" "$key" '{"amount":470,"currency":"EUR"}'
	expect_status 201
	expect_header idempotent-replayed true
	[ "$BODY" = "$first" ] || fail "the replay after the sweep differs"
	pay_hook -i "$id" payment.processing "$ref"
	expect_json .result duplicate
	# The retention is settable: with 20 days, the 29-day-old event goes.
	HK_PAY_ENV=GH_WEBHOOK_KEEP_DAYS=20 hk_payment_sweep
	[ "$HK_RC" = 0 ] || fail "GH_WEBHOOK_KEEP_DAYS=20: status $HK_RC: $HK_OUT"
	[ "$(psql_pay "SELECT count(*) FROM webhook_events WHERE id = 'msg_hk47b_29d'")" = 0 ] ||
	    fail "GH_WEBHOOK_KEEP_DAYS=20 kept a 29-day-old event"
	[ "$(psql_pay "SELECT count(*) FROM webhook_events WHERE id = '$id'")" = 1 ] ||
	    fail "GH_WEBHOOK_KEEP_DAYS=20 removed today's event"
	# Again: nothing left to do, and no error.
	hk_payment_sweep
	[ "$HK_RC" = 0 ] || fail "second sweep: $HK_OUT"
	printf '%s\n' "$HK_OUT" | grep -q '^removed 0 old webhook events$' ||
	    fail "second sweep: $HK_OUT"
	psql_pay "DELETE FROM idempotency_keys WHERE key LIKE 'hk47b-live%'" >/dev/null
}

# The temporaries in the media folder's tmp/ now, one a line.
hk_tmp_list() {
	find "$GH_STATE/media/tmp" -maxdepth 1 -type f 2>/dev/null | sort
}

# hk_media_pool [VAR=value...]: the media pool again, with the cases'
# small limits and the settings given.
hk_media_pool() {
	gh_pool_stop media
	(
		[ $# = 0 ] || export "$@"
		GH_MEDIA_MAX=1m GH_MEDIA_QUOTA=3m gh_pool_start media
	)
	pool_wait media
}

# A worker killed while it writes leaves temporaries; they go at the next
# sweep however young, and those whose writer lives stay however old.
# The decoder below holds the worker in the middle of an upload, with
# the upload's temporary and the thumbnail's open.
t_89na_temporaries_go_with_their_writer() {
	local stub="$GH_STATE/bin/thumb-hold" before after up th deco worker
	local fresh bg f
	media_setup || return
	cat >"$stub" <<-'STUB'
	#!/bin/sh
	[ "$1" = --check-sandbox ] && exit 0
	exec sleep 47
	STUB
	chmod 755 "$stub"
	hk_media_pool GH_MEDIA_THUMB_PROGRAM="$stub" GH_MEDIA_THUMB_SECONDS=60 || return
	before=$(hk_tmp_list)
	curl -sk -o /dev/null -H "Authorization: Bearer $MIA" \
	    -H 'Content-Type: image/png' --data-binary @"$(mkfile png)" \
	    "$(gh_url /api/v1/media)" &
	bg=$!
	deco=
	for _ in $(seq 100); do
		deco=$(pgrep -f '^sleep 47$' | head -n 1)
		[ -n "$deco" ] && break
		sleep 0.1
	done
	[ -n "$deco" ] || { fail "the decoder never ran"; kill "$bg"; return; }
	worker=$(ps -o ppid= -p "$deco" | tr -d ' ')
	after=$(hk_tmp_list)
	up= th=
	for f in $(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after")); do
		# The decoder writes the thumbnail: its descriptor 3.
		if [ "$(readlink "/proc/$deco/fd/3")" = "$f" ]; then th=$f; else up=$f; fi
	done
	[ -n "$up" ] && [ -n "$th" ] || { fail "not two new temporaries: $after"; kill -KILL "$deco"; return; }
	# Old, but their writers live: kept.
	touch -d '5 hours ago' "$up" "$th"
	# No writer, just made: goes.
	fresh="$GH_STATE/media/tmp/$(openssl rand -hex 16)"
	printf 'half' >"$fresh"
	gh_is_root && chown "$(gh_worker_user)": "$fresh"
	sweep
	[ "$SWEEP_RC" = 0 ] || fail "sweep: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	[ -e "$up" ] || fail "the upload's temporary was removed under its live worker"
	[ -e "$th" ] || fail "the thumbnail's temporary was removed under its live decoder"
	[ ! -e "$fresh" ] || fail "a young temporary without a writer was kept"
	grep -q '; kept .*, 2 temporaries being written' "$T_OUT/sweep.out" ||
	    fail "the summary does not count the live ones: $(tail -n 1 "$T_OUT/sweep.out")"
	# The worker dies (its lock goes with it); the decoder lives on.
	kill -KILL "$worker"
	wait "$bg" 2>/dev/null
	pool_wait media
	sweep
	[ "$SWEEP_RC" = 0 ] || fail "second sweep: status $SWEEP_RC"
	[ ! -e "$up" ] || fail "the killed worker's temporary is still there"
	[ -e "$th" ] || fail "the temporary its decoder still writes was removed"
	grep -q ', 1 temporaries being written' "$T_OUT/sweep.out" ||
	    fail "second summary: $(tail -n 1 "$T_OUT/sweep.out")"
	kill -KILL "$deco"
	for _ in $(seq 20); do kill -0 "$deco" 2>/dev/null || break; sleep 0.1; done
	sweep
	[ ! -e "$th" ] || fail "the dead decoder's temporary is still there"
	grep -q ', 0 temporaries being written' "$T_OUT/sweep.out" ||
	    fail "third summary: $(tail -n 1 "$T_OUT/sweep.out")"
	hk_media_pool
}

# Where the lock cannot be tried (here a file the sweep may not open; a
# filesystem without locks alike), age decides, against --grace as for
# stored orphans.
t_89nb_sweep_grace_decides_for_temporaries_it_cannot_tell() {
	local old mid
	media_setup || return
	old="$GH_STATE/media/tmp/$(openssl rand -hex 16)"
	mid="$GH_STATE/media/tmp/$(openssl rand -hex 16)"
	printf 'old' >"$old"
	printf 'mid' >"$mid"
	chmod 000 "$old" "$mid"
	touch -d '2 hours ago' "$old"
	touch -d '30 minutes ago' "$mid"
	sweep --dry-run
	[ "$SWEEP_RC" = 0 ] || fail "dry run: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	[ -e "$old" ] && [ -e "$mid" ] || fail "the dry run removed a temporary"
	sweep
	[ ! -e "$old" ] || fail "a temporary older than the grace was kept"
	[ -e "$mid" ] || fail "a temporary younger than the grace was removed"
	grep -q ', 1 temporaries younger than 3600 s whose writer is unknown' "$T_OUT/sweep.out" ||
	    fail "the summary does not say why: $(tail -n 1 "$T_OUT/sweep.out")"
	sweep --grace 600
	[ ! -e "$mid" ] || fail "--grace 600 did not apply to the temporary"
	grep -q ', 0 temporaries younger than 600 s whose writer is unknown' "$T_OUT/sweep.out" ||
	    fail "the summary with --grace 600: $(tail -n 1 "$T_OUT/sweep.out")"
	rm -f "$old" "$mid"
}

# Uploads' Idempotency-Keys past their window go with the media sweep;
# one still in it, or still being claimed, stays, and still replays.
t_89nc_sweep_removes_expired_upload_keys() {
	local f key first id n
	media_setup || return
	f=$(unique_pdf)
	key="hk89nc-api-$RANDOM"
	upload "$f" application/pdf "title=hk-key" "$MIA" -H "Idempotency-Key: $key"
	expect_status 201
	first=$BODY id=$MID
	psql_media "
	    INSERT INTO media_upload_keys (user_id, key, request_hash, state, response_status, response_body, media_id, created_at, expires_at) VALUES
		('$MIA_ID', 'hk89nc-old', repeat('a', 64), 'done', 201, '{}', gen_random_uuid(), now() - interval '2 days', now() - interval '1 day'),
		('$MIA_ID', 'hk89nc-old-busy', repeat('b', 64), 'in_progress', NULL, NULL, NULL, now() - interval '2 days', now() - interval '1 second'),
		('$MIA_ID', 'hk89nc-live-busy', repeat('c', 64), 'in_progress', NULL, NULL, NULL, now(), now() + interval '1 day'),
		('$MIA_ID', 'hk89nc-live', repeat('d', 64), 'done', 201, '{}', gen_random_uuid(), now() - interval '1 day', now() + interval '1 minute');
	" >/dev/null || { fail "could not seed media_upload_keys"; return; }
	sweep --dry-run
	[ "$SWEEP_RC" = 0 ] || fail "dry run: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	n=$(sed -n 's/^would remove .*, \([0-9]*\) expired upload keys;.*/\1/p' "$T_OUT/sweep.out")
	[ "${n:-0}" -ge 2 ] || fail "the dry run does not count them: $(tail -n 1 "$T_OUT/sweep.out")"
	[ "$(psql_media "SELECT count(*) FROM media_upload_keys WHERE key LIKE 'hk89nc%'")" = 5 ] ||
	    fail "the dry run removed keys"
	sweep
	[ "$SWEEP_RC" = 0 ] || fail "sweep: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	n=$(sed -n 's/^removed .*, \([0-9]*\) expired upload keys;.*/\1/p' "$T_OUT/sweep.out")
	[ "${n:-0}" -ge 2 ] || fail "the summary does not count them: $(tail -n 1 "$T_OUT/sweep.out")"
	[ "$(psql_media "SELECT string_agg(key, ',' ORDER BY key) FROM media_upload_keys WHERE key LIKE 'hk89nc%'")" = "$key,hk89nc-live,hk89nc-live-busy" ] ||
	    fail "keys: $(psql_media "SELECT string_agg(key, ',' ORDER BY key) FROM media_upload_keys WHERE key LIKE 'hk89nc%'")"
	upload "$f" application/pdf "title=hk-key" "$MIA" -H "Idempotency-Key: $key"
	expect_status 201
	expect_header idempotent-replayed true
	[ "$BODY" = "$first" ] || fail "the replay after the sweep differs"
	psql_media "DELETE FROM media_upload_keys WHERE key LIKE 'hk89nc-live%'" >/dev/null
	req DELETE "/api/v1/media/$id" -H "Authorization: Bearer $MIA"
}
