# shellcheck shell=bash
# Grants of the password work once (lib/gh_grant.h): the purge spends its
# grant in its own transaction, as a row of the media database's
# used_grants, so a stolen or logged grant deletes nothing a second time
# and a purge that fails leaves its grant good.  The media helpers
# (t_media.sh, t_media_tags.sh) are used as they are.

# gr_claim GRANT CLAIM: a claim of the grant's payload.
gr_claim() {
	part 2 "$1" | jq -r ".$2"
}

# gr_spent JTI: the rows of used_grants with it (0 or 1).
gr_spent() {
	psql_media "SELECT count(*) FROM used_grants WHERE jti = '$1'"
}

# gr_hold_owner UID: a session of its own holds the lock that a purge (and
# an upload) of UID's media takes, until gr_release, so that a purge
# waits in its transaction, its grant written, for as long as a case needs.
gr_hold_owner() {
	(cd / && gh_as_pg psql -X -q -h "$GH_STATE/pg/sock" -U postgres \
	    -d 'dbname=gatehouse_media application_name=gr_holder' \
	    -c "SELECT pg_advisory_lock(hashtextextended('$1'::uuid::text, 5)); SELECT pg_sleep(120)" \
	    >/dev/null 2>&1) &
	GR_HOLDER=$!
	for _ in $(seq 100); do
		[ "$(psql_media "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'gr_holder' AND l.locktype = 'advisory' AND l.granted")" = 1 ] &&
		    return 0
		sleep 0.1
	done
	fail "the owner's lock could not be held"
	return 1
}

gr_release() {
	psql_media "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gr_holder'" >/dev/null
	wait "$GR_HOLDER" 2>/dev/null
}

# gr_waiting N: until N sessions of media workers wait on a lock.
gr_waiting() {
	local n
	for _ in $(seq 100); do
		n=$(psql_media "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gatehouse-media' AND wait_event_type = 'Lock'")
		[ "$n" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# gr_purge_bg NAME TOKEN GRANT: the token's user's purge in the background,
# into $T_OUT/NAME.{h,b,code}; GR_BG is its pid.
gr_purge_bg() {
	gh_curl -sk -X DELETE -D "$T_OUT/$1.h" -o "$T_OUT/$1.b" -w '%{http_code}' \
	    -H "Authorization: Bearer $2" -H "Gatehouse-Grant: $3" \
	    "$(gh_url /api/v1/media/users/me)" >"$T_OUT/$1.code" &
	GR_BG=$!
}

# A grant deletes once.  Sent again (a copy stolen or logged on its way),
# by any spelling of the route, it is 403 saying so, and what was uploaded
# since stays, row and file; no row is written.  An admin's grant spent on
# one account deletes no other.  A new grant works.
t_89lc_a_grant_deletes_once() {
	local at id g jti exp f1 f2 n up what adm q_at q_id qf
	tags_setup || return
	media_user gr-ada && at=$AT id=$UID_
	upload "$(unique_pdf)" application/pdf "" "$at"
	f1=$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")
	media_grant "$at"
	g=$GRANT
	jti=$(gr_claim "$g" jti) exp=$(gr_claim "$g" exp)
	[ "$(gr_spent "$jti")" = 0 ] || fail "a grant was spent before its use"
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $at" -H "Gatehouse-Grant: $g"
	expect_status 200
	expect_json .items 1
	[ ! -e "$GH_STATE/media/$f1" ] || fail "the file outlived the purge"
	# Spent, and kept as long as a verifier takes it: exp, and the leeway.
	[ "$(psql_media "SELECT purpose || ' ' || extract(epoch FROM expires_at)::bigint FROM used_grants WHERE jti = '$jti'")" = "delete_media $((exp + 30))" ] ||
	    fail "the spent grant's row: $(psql_media "SELECT * FROM used_grants WHERE jti = '$jti'")"
	upload "$(unique_pdf)" application/pdf "" "$at"
	expect_status 201
	f2=$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")
	n=$(psql_media "SELECT count(*) FROM used_grants")
	up=$(printf '%s' "$id" | tr a-f A-F)
	for what in me "$id" "$up"; do
		req DELETE "/api/v1/media/users/$what" -H "Authorization: Bearer $at" -H "Gatehouse-Grant: $g"
		expect_problem 403
		expect_json '.detail | test("already used")' true
		expect_json '.detail | test("ask for a new one")' true
	done
	[ -f "$GH_STATE/media/$f2" ] || fail "a replayed grant removed the file uploaded since"
	[ "$(psql_media "SELECT count(*) FROM media WHERE owner = '$id'")" = 1 ] ||
	    fail "a replayed grant removed the row uploaded since"
	[ "$(psql_media "SELECT count(*) FROM used_grants")" = "$n" ] || fail "a replay wrote a row"
	media_grant "$at"
	[ "$GRANT" != "$g" ] || fail "the new grant is the old one"
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $at" -H "Gatehouse-Grant: $GRANT"
	expect_status 200
	expect_json .items 1
	[ ! -e "$GH_STATE/media/$f2" ] || fail "the new grant left the file"
	# An admin's grant (forged like admin_token's), spent on gr-ada's
	# account, deletes nothing of gr-bo's: the key is the grant, not the
	# account.
	adm=$(forged_grant 00000000-0000-4000-8000-000000000001 admin)
	req DELETE "/api/v1/media/users/$id" -H "Authorization: Bearer $ADMIN" -H "Gatehouse-Grant: $adm"
	expect_status 200
	expect_json .items 0
	media_user gr-bo && q_at=$AT q_id=$UID_
	upload "$(unique_pdf)" application/pdf "" "$q_at"
	qf=$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")
	req DELETE "/api/v1/media/users/$q_id" -H "Authorization: Bearer $ADMIN" -H "Gatehouse-Grant: $adm"
	expect_problem 403
	expect_json '.detail | test("already used")' true
	[ -f "$GH_STATE/media/$qf" ] && [ "$(psql_media "SELECT count(*) FROM media WHERE owner = '$q_id'")" = 1 ] ||
	    fail "an admin's spent grant deleted another account's media"
}

# One grant in two purges at once: both in the database together (the
# owner's lock held meanwhile), exactly one deletes; the other is 403.
t_89ld_one_grant_twice_at_once_deletes_once() {
	local at id g f codes p1 p2
	tags_setup || return
	media_user gr-cy && at=$AT id=$UID_
	upload "$(unique_pdf)" application/pdf "" "$at"
	f=$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")
	media_grant "$at"
	g=$GRANT
	gr_hold_owner "$id" || return
	gr_purge_bg gr-first "$at" "$g"
	p1=$GR_BG
	gr_waiting 1 || fail "the first purge did not reach the owner's lock"
	gr_purge_bg gr-second "$at" "$g"
	p2=$GR_BG
	gr_waiting 2 || fail "the second purge did not reach the database"
	gr_release
	wait "$p1" "$p2"
	codes="$(cat "$T_OUT/gr-first.code") $(cat "$T_OUT/gr-second.code")"
	[ "$codes" = "200 403" ] || fail "the two purges answered $codes, wanted 200 403"
	[ "$(jq -r .items "$T_OUT/gr-first.b")" = 1 ] || fail "the first purge: $(cat "$T_OUT/gr-first.b")"
	jq -e '.detail | test("already used")' "$T_OUT/gr-second.b" >/dev/null ||
	    fail "the second purge: $(cat "$T_OUT/gr-second.b")"
	grep -qi '^content-type: application/problem+json' "$T_OUT/gr-second.h" ||
	    fail "the second purge's 403 is no problem+json"
	[ "$(gr_spent "$(gr_claim "$g" jti)")" = 1 ] || fail "the grant's row"
	[ ! -e "$GH_STATE/media/$f" ] || fail "the file outlived the purge"
}

# A purge that fails does not spend its grant: refused before any work
# (a bad id; another user's, by a user), or failed in its transaction
# after the grant was written (the database cancels it while it waits for
# the owner's lock: 503).  The same grant then deletes, once.
t_89le_a_failed_purge_leaves_its_grant_good() {
	local at id g jti f tom_n
	tags_setup || return
	media_user gr-dee && at=$AT id=$UID_
	upload "$(unique_pdf)" application/pdf "" "$at"
	f=$(psql_media "SELECT storage_path FROM media WHERE id = '$MID'")
	upload "$(unique_pdf)" application/pdf "" "$TOM"
	tom_n=$(psql_media "SELECT count(*) FROM media WHERE owner = '$TOM_ID'")
	media_grant "$at"
	g=$GRANT jti=$(gr_claim "$g" jti)
	req DELETE /api/v1/media/users/not-a-user -H "Authorization: Bearer $at" -H "Gatehouse-Grant: $g"
	expect_problem 404
	req DELETE "/api/v1/media/users/$TOM_ID" -H "Authorization: Bearer $at" -H "Gatehouse-Grant: $g"
	expect_problem 403
	expect_json '.detail | test("only the user themself or an admin")' true
	[ "$(psql_media "SELECT count(*) FROM media WHERE owner = '$TOM_ID'")" = "$tom_n" ] ||
	    fail "another user's media went"
	[ "$(gr_spent "$jti")" = 0 ] || fail "a refused purge spent the grant"
	gr_hold_owner "$id" || return
	gr_purge_bg gr-failed "$at" "$g"
	if gr_waiting 1; then
		psql_media "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'gatehouse-media' AND wait_event_type = 'Lock'" >/dev/null
	else
		fail "the purge did not reach the owner's lock"
	fi
	wait "$GR_BG"
	gr_release
	[ "$(cat "$T_OUT/gr-failed.code")" = 503 ] || fail "the cancelled purge: $(cat "$T_OUT/gr-failed.code")"
	[ "$(gr_spent "$jti")" = 0 ] || fail "a purge that failed spent the grant"
	[ -f "$GH_STATE/media/$f" ] && [ "$(psql_media "SELECT count(*) FROM media WHERE owner = '$id'")" = 1 ] ||
	    fail "a purge that failed deleted something"
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $at" -H "Gatehouse-Grant: $g"
	expect_status 200
	expect_json .items 1
	[ ! -e "$GH_STATE/media/$f" ] || fail "the file outlived the purge"
	[ "$(gr_spent "$jti")" = 1 ] || fail "the purge did not spend the grant"
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $at" -H "Gatehouse-Grant: $g"
	expect_problem 403
}

# Spent grants past their expiry go with the media sweep (a dry run only
# counts them); one that a verifier could still take stays.
t_89lf_sweep_removes_expired_used_grants() {
	local at jti n
	tags_setup || return
	media_user gr-eve && at=$AT
	media_grant "$at"
	jti=$(gr_claim "$GRANT" jti)
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $at" -H "Gatehouse-Grant: $GRANT"
	expect_status 200
	psql_media "
	    INSERT INTO used_grants (jti, purpose, used_at, expires_at) VALUES
		('gr89lf-old', 'delete_media', now() - interval '1 day', now() - interval '1 day' + interval '330 seconds'),
		('gr89lf-lapsed', 'delete_media', now() - interval '6 minutes', now() - interval '1 second'),
		('gr89lf-live', 'delete_media', now(), now() + interval '1 minute');
	" >/dev/null || { fail "could not seed used_grants"; return; }
	sweep --dry-run
	[ "$SWEEP_RC" = 0 ] || fail "dry run: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	n=$(sed -n 's/^would remove .*, \([0-9]*\) expired used grants,.*/\1/p' "$T_OUT/sweep.out")
	[ "${n:-0}" -ge 2 ] || fail "the dry run does not count them: $(tail -n 1 "$T_OUT/sweep.out")"
	[ "$(psql_media "SELECT count(*) FROM used_grants WHERE jti LIKE 'gr89lf%'")" = 3 ] ||
	    fail "the dry run removed rows"
	sweep
	[ "$SWEEP_RC" = 0 ] || fail "sweep: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	n=$(sed -n 's/^removed .*, \([0-9]*\) expired used grants,.*/\1/p' "$T_OUT/sweep.out")
	[ "${n:-0}" -ge 2 ] || fail "the summary does not count them: $(tail -n 1 "$T_OUT/sweep.out")"
	[ "$(psql_media "SELECT string_agg(jti, ',' ORDER BY jti) FROM used_grants WHERE jti LIKE 'gr89lf%'")" = gr89lf-live ] ||
	    fail "left: $(psql_media "SELECT string_agg(jti, ',' ORDER BY jti) FROM used_grants WHERE jti LIKE 'gr89lf%'")"
	[ "$(gr_spent "$jti")" = 1 ] || fail "the sweep removed a grant a verifier still takes"
	# Once it has expired, it goes too.
	psql_media "UPDATE used_grants SET expires_at = now() - interval '1 second' WHERE jti IN ('$jti', 'gr89lf-live')" >/dev/null
	sweep
	[ "$(gr_spent "$jti")" = 0 ] || fail "the sweep left an expired grant's row"
	[ "$(psql_media "SELECT count(*) FROM used_grants WHERE jti LIKE 'gr89lf%'")" = 0 ] ||
	    fail "the sweep left an expired seeded row"
}
