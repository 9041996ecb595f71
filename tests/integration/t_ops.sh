# shellcheck shell=bash
# Operations: backups that restore. Data made through the API is backed
# up, destroyed, restored and read back through the API; a damaged set is
# refused; retention keeps and removes the right sets; two backups at once
# do not harm each other; verify says whether a set matches the live data.
# Runs last (t_9x): it replaces databases under the running workers.

OPS_BIN="$GH_SRCDIR/backup"

# Runs a backup tool against the test stack. PGHOST, PGPORT and PGUSER
# come from gh_pg_env; as root the tools run psql and pg_dump as postgres.
# GH_MEDIA_UNIT is empty: a restore here must never restart a real
# gatehouse-media running on this machine.
ops() {
	local tool=$1
	shift
	GH_BACKUP_DIR=${OPS_DIR:-$GH_STATE/backups} GH_MEDIA_DIR="$GH_STATE/media" \
	    GH_MEDIA_UNIT='' \
	    GH_DB_SETUP="$GH_SRCDIR/sql/gatehouse-db-setup" \
	    GH_SQL_DIR="$GH_SRCDIR/sql" \
	    "$OPS_BIN/$tool" "$@"
}

# tpsql DB SQL: one value or rows, as the superuser.
tpsql() {
	(cd / && gh_as_pg psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$1" -c "$2")
}

# The newest complete set in OPS_DIR.
newest_set() {
	find "${OPS_DIR:-$GH_STATE/backups}" -maxdepth 1 -name 'gatehouse-*' -type d |
	    sort | tail -n 1
}

# login_until NAME STATUS: logs in until the answer is STATUS (the workers'
# connections were closed by a restore and come back on the next request).
login_until() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		login "$1"
		[ "$STATUS" = "$2" ] && return 0
		sleep 0.3
	done
}

t_90_backup_destroy_restore_read_back() {
	local set media_mode owners out bad f svc
	OPS_DIR="$GH_STATE/backups"
	signup ops_alice
	expect_status 201
	local alice_id=$UID_
	signup ops_bob
	expect_status 201
	# A payment and an uploaded picture, through the API.
	local ref mid sha stored alice_at
	media_setup || return
	login ops_alice
	alice_at=$AT
	pay_create "$alice_at" ops-order-1 '{"amount":4200,"currency":"EUR","description":"ops"}'
	expect_status 201
	ref=$REF
	upload "$(mkfile png)" image/png "title=ops-picture" "$alice_at"
	expect_status 201
	mid=$MID
	sha=$(sha_of "$T_MEDIA_DIR/png")
	stored=$(stored_path "$sha")
	[ -n "$stored" ] || fail "the upload is not on disk"
	# And files put where the media service keeps them, as it would.
	mkdir -p "$GH_STATE/media/ab"
	printf 'picture bytes\n' >"$GH_STATE/media/ab/cdef.jpg"
	head -c 100000 /dev/urandom >"$GH_STATE/media/ab/big.bin"
	gh_is_root && chown -R gatehouse:www-data "$GH_STATE/media/ab"
	media_mode=$(stat -c '%a %U:%G' "$GH_STATE/media")
	# An upload being written: the media folder's tmp/ is not media.
	mkdir -p "$GH_STATE/media/tmp"
	printf 'half an upload\n' >"$GH_STATE/media/tmp/t90-partial"

	ops gatehouse-backup >"$T_OUT/backup.out" 2>"$T_OUT/backup.err" ||
	    { fail "backup failed: $(cat "$T_OUT/backup.err")"; return; }
	rm -f "$GH_STATE/media/tmp/t90-partial"
	set=$(newest_set)
	[ -n "$set" ] || { fail "no set made"; return; }
	for f in auth.dump payment.dump media.dump media.tar set.json MANIFEST.sha256; do
		[ -s "$set/$f" ] || fail "set lacks $f"
	done
	(cd "$set" && sha256sum --quiet -c MANIFEST.sha256) || fail "manifest does not match"
	ls -d "$OPS_DIR"/.in-progress-* 2>/dev/null && fail "in-progress folder left"
	jq -e '.databases.auth.migration | test("^[0-9]+_")' "$set/set.json" >/dev/null ||
	    fail "set.json lacks the auth schema version"
	[ "$(stat -c %a "$set")" = 700 ] || fail "set is mode $(stat -c %a "$set")"
	tar -tf "$set/media.tar" | grep -q '^\./tmp\(/\|$\)' && fail "media.tar holds tmp/"
	tar -tf "$set/media.tar" | grep -q '^\./ab/big\.bin$' || fail "media.tar lacks ab/big.bin"

	# Destroy: the accounts, a whole database, and the media files.
	tpsql gatehouse_auth "DELETE FROM users" >/dev/null || fail "cannot delete users"
	tpsql postgres "DROP DATABASE gatehouse_payments WITH (FORCE)" >/dev/null ||
	    fail "cannot drop gatehouse_payments"
	rm -rf "$GH_STATE/media/ab"
	rm -f "$stored"
	tpsql gatehouse_media "DELETE FROM media" >/dev/null || fail "cannot delete media rows"
	printf 'junk\n' >"$GH_STATE/media/junk.txt"
	login ops_alice
	expect_status 401

	ops gatehouse-restore "$set" --db all --media >"$T_OUT/restore.out" 2>&1 ||
	    fail "restore failed: $(cat "$T_OUT/restore.out")"

	login_until ops_alice 200
	expect_status 200
	expect_json .user.id "$alice_id"
	me "$AT"
	expect_status 200
	expect_json .user.username ops_alice
	# The payment and the picture are back, the file byte for byte.
	login_until ops_alice 200
	req GET "/api/v1/payments/$ref" -H "Authorization: Bearer $AT"
	expect_status 200
	expect_json .amount 4200
	req GET "/api/v1/media/$mid" -H "Authorization: Bearer $AT"
	expect_status 200
	download "/api/v1/media/$mid/file" "$AT"
	expect_status 200
	[ "$(sha_of "$T_OUT/dl")" = "$sha" ] || fail "the picture came back different"
	login_until ops_bob 200
	expect_status 200
	# The app role can still write: a new account after the restore.
	signup ops_carol
	expect_status 201
	# Tables stay the owner's; the app role keeps only its rights.
	owners=$(tpsql gatehouse_auth "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'")
	[ "$owners" = gatehouse_owner ] || fail "tables owned by $owners"
	bad=$(tpsql gatehouse_auth "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND has_table_privilege('gatehouse_auth_app', schemaname || '.' || tablename, 'TRUNCATE')")
	[ "$bad" = 0 ] || fail "app role may truncate $bad tables"
	out=$(tpsql gatehouse_auth "SELECT has_table_privilege('gatehouse_auth_app', 'public.schema_migrations', 'INSERT')")
	[ "$out" = f ] || fail "app role may write schema_migrations"
	out=$(tpsql gatehouse_payments "SELECT value FROM service_meta WHERE key = 'service'")
	[ "$out" = payment ] || fail "gatehouse_payments not restored: '$out'"
	tpsql postgres "SELECT datname FROM pg_database WHERE datname LIKE '%restore%'" |
	    grep -q . && fail "restore left databases behind"

	cmp -s "$GH_STATE/media/ab/cdef.jpg" <(printf 'picture bytes\n') ||
	    fail "media file not restored"
	[ -s "$GH_STATE/media/ab/big.bin" ] || fail "big media file not restored"
	[ -e "$GH_STATE/media/junk.txt" ] && fail "media made after the backup still there"
	[ "$(stat -c '%a %U:%G' "$GH_STATE/media")" = "$media_mode" ] ||
	    fail "media folder is $(stat -c '%a %U:%G' "$GH_STATE/media"), was $media_mode"
	if gh_is_root; then
		[ "$(stat -c %U "$GH_STATE/media/ab/cdef.jpg")" = gatehouse ] ||
		    fail "media file owner not kept"
	fi
	for f in "$GH_STATE"/.media.*; do
		[ -e "$f" ] && fail "restore left $f behind"
	done
	# Every service still answers with its database.
	for svc in $GH_SERVICES; do
		for _ in 1 2 3 4 5; do
			req GET "/api/v1/$svc/health"
			[ "$STATUS" = 200 ] && break
			sleep 0.3
		done
		expect_status 200
	done
	return 0
}

t_91_damaged_set_refused() {
	local good bad rc
	OPS_DIR="$GH_STATE/backups"
	good=$(newest_set)
	[ -n "$good" ] || { fail "no set from t_90"; return; }
	bad="$GH_STATE/backups-bad/gatehouse-20990101T000000Z"
	mkdir -p "${bad%/*}"
	cp -a "$good" "$bad"
	# One byte changed in the middle of the auth dump.
	printf 'X' | dd of="$bad/auth.dump" bs=1 seek=200 conv=notrunc status=none
	signup ops_dave
	expect_status 201
	rc=0
	OPS_DIR="${bad%/*}" ops gatehouse-restore "$bad" --db all --media \
	    >"$T_OUT/bad.out" 2>&1 || rc=$?
	[ "$rc" != 0 ] || fail "a damaged set was restored"
	grep -q 'refusing' "$T_OUT/bad.out" || fail "no refusal message: $(cat "$T_OUT/bad.out")"
	tail -n 1 "$T_OUT/bad.out" | jq -e '.level == "error"' >/dev/null ||
	    fail "no JSON error line"
	# Nothing was touched: the account made after the set still works.
	login ops_dave
	expect_status 200
	# A set without its manifest, or with a file the manifest lacks.
	rm "$bad/MANIFEST.sha256"
	OPS_DIR="${bad%/*}" ops gatehouse-restore "$bad" --check >/dev/null 2>&1 &&
	    fail "a set without a manifest passed the check"
	OPS_DIR="${bad%/*}" ops gatehouse-restore "$good" --check >/dev/null 2>&1 ||
	    fail "the good set failed the check"
	rm -rf "${bad%/*}"
}

# A small set that passes its manifest check.
ops_fake_set() {
	mkdir -p "$1"
	printf '{"fake":true}\n' >"$1/set.json"
	(cd "$1" && sha256sum set.json >MANIFEST.sha256)
}

ops_set_name() {
	printf 'gatehouse-%s\n' "$(date -u -d "$1" +%Y%m%dT%H%M%SZ)"
}

t_92_retention_keeps_and_removes_the_right_sets() {
	local d s s10 s8 s3 s1 prog_dir out
	d="$GH_STATE/backups-ret"
	rm -rf "$d"
	mkdir -p "$d"
	s10=$(ops_set_name '10 days ago')
	s8=$(ops_set_name '8 days ago')
	s3=$(ops_set_name '3 days ago')
	s1=$(ops_set_name '1 hour ago')
	for s in "$s10" "$s8" "$s3" "$s1"; do ops_fake_set "$d/$s"; done
	# Age is judged by the name: an old mtime on a young set changes
	# nothing, and a fresh mtime does not save an old one.
	touch -d '30 days ago' "$d/$s3"
	touch "$d/$s10"
	# A run in progress (or killed) and an unrelated folder are left alone.
	prog_dir="$d/.in-progress-$s10.abc123"
	mkdir -p "$prog_dir"
	touch -d '30 days ago' "$prog_dir"
	mkdir -p "$d/notes"
	OPS_DIR=$d ops gatehouse-backup --prune-only >"$T_OUT/ret.out" 2>&1 ||
	    fail "prune failed: $(cat "$T_OUT/ret.out")"
	[ -d "$d/$s10" ] && fail "10-day-old set kept"
	[ -d "$d/$s8" ] && fail "8-day-old set kept"
	[ -d "$d/$s3" ] || fail "3-day-old set removed"
	[ -d "$d/$s1" ] || fail "1-hour-old set removed"
	[ -d "$prog_dir" ] || fail "in-progress folder removed"
	[ -d "$d/notes" ] || fail "unrelated folder removed"
	# Settable: with 2 days, the 3-day-old one goes too.
	GH_BACKUP_KEEP_DAYS=2 OPS_DIR=$d ops gatehouse-backup --prune-only >/dev/null 2>&1 ||
	    fail "prune with 2 days failed"
	[ -d "$d/$s3" ] && fail "3-day-old set kept with 2 days"
	[ -d "$d/$s1" ] || fail "newest set removed"

	# Only old sets: the newest good one stays whatever its age; a newer
	# one whose checksums fail is not good and does not count.
	rm -rf "$d"/gatehouse-*
	s10=$(ops_set_name '10 days ago')
	s8=$(ops_set_name '9 days ago')
	s3=$(ops_set_name '8 days ago')
	for s in "$s10" "$s8" "$s3"; do ops_fake_set "$d/$s"; done
	printf 'rot\n' >>"$d/$s3/set.json"
	OPS_DIR=$d ops gatehouse-backup --prune-only >"$T_OUT/ret.out" 2>&1 ||
	    fail "prune failed: $(cat "$T_OUT/ret.out")"
	[ -d "$d/$s8" ] || fail "newest good set removed"
	[ -d "$d/$s10" ] && fail "older set kept"
	[ -d "$d/$s3" ] && fail "damaged old set kept"
	grep -q 'does not match' "$T_OUT/ret.out" || fail "damaged set not reported"
	out=$(GH_BACKUP_KEEP_DAYS=0 OPS_DIR=$d ops gatehouse-backup --prune-only 2>&1) ||
	    fail "prune with 0 days failed"
	[ -d "$d/$s8" ] || fail "newest good set removed with 0 days"
	rm -rf "$d"
}

t_93_two_backups_at_once() {
	local d rc1 rc2 n s rc f
	d="$GH_STATE/backups-two"
	rm -rf "$d"
	OPS_DIR=$d ops gatehouse-backup >"$T_OUT/b1.out" 2>&1 &
	local p1=$!
	OPS_DIR=$d ops gatehouse-backup >"$T_OUT/b2.out" 2>&1 &
	local p2=$!
	rc1=0; wait "$p1" || rc1=$?
	rc2=0; wait "$p2" || rc2=$?
	[ "$rc1" = 0 ] || fail "first backup: $rc1: $(cat "$T_OUT/b1.out")"
	[ "$rc2" = 0 ] || fail "second backup: $rc2: $(cat "$T_OUT/b2.out")"
	n=$(find "$d" -maxdepth 1 -name 'gatehouse-*' -type d | wc -l)
	[ "$n" = 2 ] || fail "$n sets, wanted 2 (one waited, then made its own)"
	grep -q 'waiting' "$T_OUT/b1.out" "$T_OUT/b2.out" || fail "neither run waited"
	for s in "$d"/gatehouse-*; do
		OPS_DIR=$d ops gatehouse-restore "$s" --check >/dev/null 2>&1 ||
		    fail "${s##*/} is damaged"
	done
	ls -d "$d"/.in-progress-* 2>/dev/null && fail "in-progress folder left"

	# --no-wait while the lock is held: status 75, a message, no set.
	flock "$d/.lock" sleep 3 &
	local holder=$!
	sleep 0.5
	rc=0
	OPS_DIR=$d ops gatehouse-backup --no-wait >"$T_OUT/nw.out" 2>&1 || rc=$?
	[ "$rc" = 75 ] || fail "--no-wait with the lock held: status $rc"
	grep -q 'another backup is running' "$T_OUT/nw.out" || fail "no message: $(cat "$T_OUT/nw.out")"
	# Waiting, but not long enough: 75 as well.
	rc=0
	GH_BACKUP_LOCK_WAIT=1 OPS_DIR=$d ops gatehouse-backup >"$T_OUT/nw.out" 2>&1 || rc=$?
	[ "$rc" = 75 ] || fail "lock wait timed out: status $rc"
	wait "$holder"
	n=$(find "$d" -maxdepth 1 -name 'gatehouse-*' -type d | wc -l)
	[ "$n" = 2 ] || fail "$n sets after the refused runs"
	ls -d "$d"/.in-progress-* 2>/dev/null && fail "in-progress folder left"
	rm -rf "$d"
}

t_94_verify_says_whether_the_set_matches() {
	local d rc
	d="$GH_STATE/backups-verify"
	rm -rf "$d"
	OPS_DIR=$d ops gatehouse-backup >/dev/null 2>&1 || { fail "backup failed"; return; }
	# Temporaries (uploads being written) are not compared.
	mkdir -p "$GH_STATE/media/tmp"
	printf 'half an upload\n' >"$GH_STATE/media/tmp/t94-partial"
	rc=0
	OPS_DIR=$d ops gatehouse-backup-verify >"$T_OUT/v.out" 2>&1 || rc=$?
	rm -f "$GH_STATE/media/tmp/t94-partial"
	[ "$rc" = 0 ] || fail "verify: $rc: $(cat "$T_OUT/v.out")"
	grep -q 'RESULT: .* matches' "$T_OUT/v.out" || fail "no result line"
	grep -q '^gatehouse-backup-verify: auth: same as live gatehouse_auth: [0-9]* tables' \
	    "$T_OUT/v.out" || fail "no auth line: $(cat "$T_OUT/v.out")"
	grep -q 'media: same as live' "$T_OUT/v.out" || fail "no media line"
	# A row and a file more in the live system: a difference.
	signup ops_erin
	expect_status 201
	printf 'new\n' >"$GH_STATE/media/late.txt"
	rc=0
	OPS_DIR=$d ops gatehouse-backup-verify >"$T_OUT/v.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "verify with a difference: status $rc"
	grep -q 'auth: DIFFERENT' "$T_OUT/v.out" || fail "auth difference not reported"
	grep -q '^    +public.users ' "$T_OUT/v.out" || fail "users not named: $(cat "$T_OUT/v.out")"
	grep -q '+late.txt' "$T_OUT/v.out" || fail "media difference not named"
	rm -f "$GH_STATE/media/late.txt"
	tpsql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'gh_verify%'" |
	    grep -q . && fail "scratch databases left"
	rm -rf "$d"
}

# ops_media_sql SQL: one value or rows of the live media database.
ops_media_sql() {
	tpsql gatehouse_media "$1"
}

# ops_hold_media_dump: a session holds a table of the media database that
# no request touches (schema_migrations), so that pg_dump of it waits
# there, its snapshot taken, until ops_release_media_dump.
ops_hold_media_dump() {
	(cd / && PGAPPNAME=ops-holder gh_as_pg psql -X -q -h "$GH_STATE/pg/sock" \
	    -U postgres -d gatehouse_media -c "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120)") \
	    >/dev/null 2>&1 &
	OPS_HOLDER=$!
	for _ in $(seq 100); do
		[ "$(ops_media_sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ops-holder' AND l.relation = 'schema_migrations'::regclass AND l.granted")" = 1 ] &&
		    return 0
		sleep 0.1
	done
	fail "the media database's table could not be held"
	return 1
}

ops_release_media_dump() {
	ops_media_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ops-holder'" >/dev/null
	wait "$OPS_HOLDER" 2>/dev/null
}

# ops_wait_media_dump: until pg_dump of the media database waits on it.
ops_wait_media_dump() {
	for _ in $(seq 300); do
		[ "$(ops_media_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = 'gatehouse_media' AND application_name = 'pg_dump' AND wait_event_type = 'Lock'")" -ge 1 ] &&
		    return 0
		sleep 0.1
	done
	fail "pg_dump of the media database never waited on the held table"
	return 1
}

# Whether every file the live media rows name is on disk, and every file
# named as the store names them is a row's: "missing=… extra=…".
ops_media_agree() {
	local named on_disk
	named=$(ops_media_sql "SELECT storage_path FROM media UNION ALL SELECT thumb_path FROM media WHERE thumb_path IS NOT NULL" | sort)
	on_disk=$(cd "$GH_STATE/media" && find . -path ./tmp -prune -o -type f -print |
	    sed 's|^\./||' | grep -E '^([0-9a-f]{2})/([0-9a-f]{2})/\1\2[0-9a-f]{28}$' | sort)
	printf 'missing=%s extra=%s\n' \
	    "$(comm -23 <(printf '%s\n' "$named") <(printf '%s\n' "$on_disk") | sed '/^$/d' | tr '\n' ' ')" \
	    "$(comm -13 <(printf '%s\n' "$named") <(printf '%s\n' "$on_disk") | sed '/^$/d' | tr '\n' ' ')"
}

# The media pool again, with the media cases' limits: t_90's restore
# swapped the folder under it (and t_94 made tmp/ as this user).
ops_media_pool() {
	media_setup || return 1
	if gh_is_root && [ -d "$GH_STATE/media/tmp" ]; then
		chown "$(gh_worker_user)": "$GH_STATE/media/tmp"
	fi
	gh_pool_stop media
	GH_MEDIA_MAX=1m GH_MEDIA_QUOTA=3m gh_pool_start media
	pool_wait media
}

# An item deleted and another uploaded while the backup runs, between
# the media dump's snapshot and the archive: the set holds the first
# with its file and neither the row nor the file of the second, and a
# sweep meanwhile leaves the stored files alone.
t_94b_backup_set_is_one_instant() {
	local d set keep gone gone_path new new_path bpid rc id purged purged_path f
	d="$GH_STATE/backups-instant"
	rm -rf "$d"
	ops_media_pool || return
	media_user ops_purged
	upload "$(unique_pdf)" application/pdf "title=ops-purged" "$AT"
	expect_status 201
	purged=$AT
	purged_path=$(ops_media_sql "SELECT storage_path FROM media WHERE id = '$MID'")
	upload "$(unique_pdf)" application/pdf "title=ops-keep" "$MIA"
	expect_status 201
	keep=$MID
	upload "$(unique_pdf)" application/pdf "title=ops-gone" "$MIA"
	expect_status 201
	gone=$MID
	gone_path=$(ops_media_sql "SELECT storage_path FROM media WHERE id = '$gone'")
	[ "$(ops_media_agree)" = "missing= extra=" ] ||
	    fail "the live media disagree before the backup: $(ops_media_agree)"

	ops_hold_media_dump || return
	OPS_DIR=$d ops gatehouse-backup >"$T_OUT/instant.out" 2>&1 &
	bpid=$!
	ops_wait_media_dump || { ops_release_media_dump; wait "$bpid"; return; }
	req DELETE "/api/v1/media/$gone" -H "Authorization: Bearer $MIA"
	expect_status 204
	media_grant "$purged"
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $purged" \
	    -H "Gatehouse-Grant: $GRANT"
	expect_status 200
	expect_json .items 1
	upload "$(unique_pdf)" application/pdf "title=ops-new" "$MIA"
	expect_status 201
	new=$MID
	new_path=$(ops_media_sql "SELECT storage_path FROM media WHERE id = '$new'")
	# The deleted item's file waits for the set; an old one, even, and a
	# sweep now leaves it (and says why).
	[ -e "$GH_STATE/media/$gone_path" ] ||
	    fail "the deleted item's file went while the backup needed it"
	[ -e "$GH_STATE/media/$purged_path" ] ||
	    fail "a deleted account's file went while the backup needed it"
	touch -d '3 hours ago' "$GH_STATE/media/$gone_path" "$GH_STATE/media/$purged_path"
	sweep
	[ "$SWEEP_RC" = 0 ] || fail "sweep during the backup: status $SWEEP_RC: $(cat "$T_OUT/sweep.err")"
	[ -e "$GH_STATE/media/$gone_path" ] ||
	    fail "a sweep during the backup removed a file the backup needs"
	grep -q 'stored files not looked at: a backup is archiving them' "$T_OUT/sweep.out" ||
	    fail "the sweep does not say why it left the stored files: $(tail -n 1 "$T_OUT/sweep.out")"
	ops_release_media_dump
	rc=0
	wait "$bpid" || rc=$?
	[ "$rc" = 0 ] || { fail "backup: $rc: $(cat "$T_OUT/instant.out")"; return; }
	set=$(OPS_DIR=$d newest_set)

	# The set, alone: rows and files agree.
	rc=0
	OPS_DIR=$d ops gatehouse-backup-verify --no-live "$set" >"$T_OUT/instant-v.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "verify --no-live: $rc: $(cat "$T_OUT/instant-v.out")"
	grep -q '^gatehouse-backup-verify: media: the set is whole: [0-9]* rows, [0-9]* files, each row with its files and each file with its row$' \
	    "$T_OUT/instant-v.out" || fail "no consistency line: $(cat "$T_OUT/instant-v.out")"
	for f in "$gone_path" "$purged_path"; do
		tar -tf "$set/media.tar" | grep -q "^\./$f\$" ||
		    fail "the set lacks $f, the file of a row it holds"
	done
	tar -tf "$set/media.tar" | grep -q "^\./$new_path\$" &&
	    fail "the set holds the file of a row it does not hold"

	# After the backup, the next sweep removes the deleted item's file.
	sweep
	[ ! -e "$GH_STATE/media/$gone_path" ] && [ ! -e "$GH_STATE/media/$purged_path" ] ||
	    fail "the deleted items' files outlived the backup and a sweep"
	[ "$(ops_media_agree)" = "missing= extra=" ] ||
	    fail "the live media disagree after the sweep: $(ops_media_agree)"

	# Restored, the set is what it was at its instant.
	ops gatehouse-restore "$set" --db media --media >"$T_OUT/instant-r.out" 2>&1 ||
	    { fail "restore: $(cat "$T_OUT/instant-r.out")"; return; }
	ops_media_pool
	[ "$(ops_media_agree)" = "missing= extra=" ] ||
	    fail "the restored media disagree: $(ops_media_agree)"
	for id in "$keep" "$gone"; do
		download "/api/v1/media/$id/file" "$MIA"
		[ "$STATUS" = 200 ] || fail "item $id of the set: its file is $STATUS"
	done
	req GET "/api/v1/media/$new" -H "Authorization: Bearer $MIA"
	expect_status 404
	[ -e "$GH_STATE/media/$new_path" ] && fail "the restore brought a file without its row"
	rm -rf "$d"
}

# A set made inconsistent by hand (a row's file and a thumbnail taken out
# of the archive, a stored file no row names put in, checksums made
# again), and a live system that lost a file: verify names each.
t_94c_verify_names_rows_without_files_and_files_without_rows() {
	local d set bad row row_path thumb_row thumb_path stray rc lost lost_id orphan
	d="$GH_STATE/backups-whole"
	rm -rf "$d"
	ops_media_pool || return
	upload "$(unique_pdf)" application/pdf "title=ops-whole" "$MIA"
	expect_status 201
	row=$MID
	row_path=$(ops_media_sql "SELECT storage_path FROM media WHERE id = '$row'")
	upload "$(mkfile png)" image/png "title=ops-thumb" "$MIA"
	expect_status 201
	thumb_row=$MID
	thumb_path=$(ops_media_sql "SELECT thumb_path FROM media WHERE id = '$thumb_row'")
	[ -n "$thumb_path" ] || fail "the picture has no thumbnail"
	OPS_DIR=$d ops gatehouse-backup >/dev/null 2>&1 || { fail "backup failed"; return; }
	set=$(OPS_DIR=$d newest_set)
	OPS_DIR=$d ops gatehouse-backup-verify --no-live "$set" >"$T_OUT/whole.out" 2>&1 ||
	    fail "a whole set failed: $(cat "$T_OUT/whole.out")"
	# A stored file no live row names (a deletion waiting for the sweep)
	# is in no set: no difference with the live folder.
	orphan="$GH_STATE/media/${row_path%/*}/${row_path:0:2}${row_path:3:2}$(openssl rand -hex 14)"
	printf 'orphan\n' >"$orphan"
	OPS_DIR=$d ops gatehouse-backup-verify "$set" >"$T_OUT/whole.out" 2>&1 ||
	    fail "an orphan in the live folder is a difference: $(cat "$T_OUT/whole.out")"
	rm -f "$orphan"

	bad="$d/gatehouse-20990101T000000Z"
	cp -a "$set" "$bad"
	stray="ab/cd/abcd$(openssl rand -hex 14)"
	tar --delete -f "$bad/media.tar" "./$row_path" "./$thumb_path" ||
	    { fail "cannot edit the archive"; return; }
	mkdir -p "$T_OUT/stray/ab/cd"
	printf 'no row names me\n' >"$T_OUT/stray/$stray"
	tar -C "$T_OUT/stray" -rf "$bad/media.tar" "./$stray"
	(cd "$bad" && sha256sum -- *.dump set.json media.tar >MANIFEST.sha256)
	rc=0
	OPS_DIR=$d ops gatehouse-backup-verify --no-live "$bad" >"$T_OUT/bad-v.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "verify of an inconsistent set: status $rc: $(cat "$T_OUT/bad-v.out")"
	grep -q "^    row without its file: media $row: $row_path\$" "$T_OUT/bad-v.out" ||
	    fail "the row without its file is not named: $(cat "$T_OUT/bad-v.out")"
	grep -q "^    row without its file: media $thumb_row: $thumb_path (thumbnail)\$" "$T_OUT/bad-v.out" ||
	    fail "the row without its thumbnail is not named: $(cat "$T_OUT/bad-v.out")"
	grep -q "^    file without a row: $stray\$" "$T_OUT/bad-v.out" ||
	    fail "the file without a row is not named: $(cat "$T_OUT/bad-v.out")"
	grep -q 'RESULT: .* DIFFERS' "$T_OUT/bad-v.out" || fail "no failing result line"
	# Against the live system too (whose rows are the set's here).
	rc=0
	OPS_DIR=$d ops gatehouse-backup-verify "$bad" >"$T_OUT/bad-v.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "verify of an inconsistent set against live: status $rc"
	grep -q "^    file without a row: $stray\$" "$T_OUT/bad-v.out" ||
	    fail "against live, the file without a row is not named: $(cat "$T_OUT/bad-v.out")"
	rm -rf "$bad"

	# A live row whose file someone removed by hand: the backup is made
	# (and says so), and verify names the row.
	upload "$(unique_pdf)" application/pdf "title=ops-lost" "$MIA"
	expect_status 201
	lost_id=$MID
	lost=$(ops_media_sql "SELECT storage_path FROM media WHERE id = '$lost_id'")
	rm -f "$GH_STATE/media/$lost"
	rc=0
	OPS_DIR=$d ops gatehouse-backup >"$T_OUT/lost.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "a backup of a system that lost a file: status $rc: $(cat "$T_OUT/lost.out")"
	grep -q "rows whose file is missing" "$T_OUT/lost.out" ||
	    fail "the backup does not say a row's file is missing: $(cat "$T_OUT/lost.out")"
	set=$(OPS_DIR=$d newest_set)
	jq -e '.media_rows_without_files == 1' "$set/set.json" >/dev/null ||
	    fail "set.json: $(cat "$set/set.json")"
	rc=0
	OPS_DIR=$d ops gatehouse-backup-verify --no-live "$set" >"$T_OUT/lost-v.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "verify of a set with a lost file: status $rc"
	grep -q "^    row without its file: media $lost_id: $lost\$" "$T_OUT/lost-v.out" ||
	    fail "the lost file's row is not named: $(cat "$T_OUT/lost-v.out")"
	req DELETE "/api/v1/media/$lost_id" -H "Authorization: Bearer $MIA"
	rm -rf "$d"
}

# A sweep holds the files' lock shared while it may remove stored files:
# a backup waits for it, up to GH_BACKUP_LOCK_WAIT, then fails and leaves
# nothing; once the sweep is done it goes ahead.
t_94d_backup_waits_for_a_sweep() {
	local d rc holder f
	d="$GH_STATE/backups-wait"
	rm -rf "$d"
	(cd / && PGAPPNAME=ops-sweeper gh_as_pg psql -X -q -h "$GH_STATE/pg/sock" \
	    -U postgres -d gatehouse_media \
	    -c "SELECT pg_advisory_lock_shared(hashtext('gatehouse'), hashtext('media files'))" \
	    -c "SELECT pg_sleep(120)") >/dev/null 2>&1 &
	holder=$!
	for _ in $(seq 100); do
		[ "$(ops_media_sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ops-sweeper' AND l.locktype = 'advisory' AND l.granted")" = 1 ] && break
		sleep 0.1
	done
	rc=0
	GH_BACKUP_LOCK_WAIT=1 OPS_DIR=$d ops gatehouse-backup >"$T_OUT/wait.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "a backup under a sweep's lock: status $rc: $(cat "$T_OUT/wait.out")"
	grep -q "the files' lock or the snapshot" "$T_OUT/wait.out" ||
	    fail "the cause is not said: $(cat "$T_OUT/wait.out")"
	for f in "$d"/gatehouse-* "$d"/.in-progress-*; do
		[ -e "$f" ] && fail "left behind: $f"
	done
	ops_media_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ops-sweeper'" >/dev/null
	wait "$holder" 2>/dev/null
	OPS_DIR=$d ops gatehouse-backup >"$T_OUT/wait.out" 2>&1 ||
	    fail "the backup after the sweep: $(cat "$T_OUT/wait.out")"
	[ -n "$(OPS_DIR=$d newest_set)" ] || fail "no set after the sweep"
	rm -rf "$d"
}

t_95_failed_backup_is_logged_and_leaves_nothing() {
	local d rc f
	d="$GH_STATE/backups-fail"
	rm -rf "$d"
	rc=0
	GH_DB_PAYMENTS=no_such_database OPS_DIR=$d ops gatehouse-backup \
	    >"$T_OUT/f.out" 2>"$T_OUT/f.err" || rc=$?
	[ "$rc" = 1 ] || fail "status $rc"
	jq -e 'select(.level == "error") | .service == "gatehouse-backup"' \
	    "$T_OUT/f.err" >/dev/null 2>&1 || fail "no JSON error line: $(cat "$T_OUT/f.err")"
	grep -q 'no_such_database' "$T_OUT/f.err" || fail "the cause is not named"
	for f in "$d"/* "$d"/.in-progress-*; do
		[ -e "$f" ] && fail "left behind: $f"
	done
	rm -rf "$d"
}

# The first-run command against the test cluster, in private folders:
# makes keys, secrets and settings once; a second run changes nothing.
t_96_first_run_is_safe_to_run_again() {
	local d out sum1 sum2 f
	d="$GH_STATE/first-run"
	rm -rf "$d"
	fr() {
		GH_ETC_DIR="$d/etc" GH_RUN_DIR="$d/run" GH_STATE_DIR="$d/lib" \
		    GH_BACKUP_DIR="$d/backups" GH_SQL_DIR="$GH_SRCDIR/sql" \
		    "$GH_SRCDIR/admin/gatehouse-first-run" --no-user
	}
	out=$(fr 2>&1) || fail "first run failed: $out"
	ls "$d"/etc/keys/*.pem >/dev/null 2>&1 || fail "no signing key"
	[ "$(find "$d/etc/keys" -name '*.pem' | wc -l)" = 1 ] || fail "not one key"
	ls "$d"/etc/keys-public/*.pub.pem >/dev/null 2>&1 || fail "no public key"
	for f in "$d"/etc/keys/*.pem "$d/etc/secrets/webhook-secret" \
	    "$d/etc/secrets/link-secret"; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "$f is mode $(stat -c %a "$f")"
	done
	[ "$(stat -c %a "$d/etc/keys")" = 700 ] || fail "keys folder mode"
	[ "$(stat -c %a "$d/etc/secrets")" = 700 ] || fail "secrets folder mode"
	[ "$(stat -c %a "$d/run")" = 2750 ] || fail "socket folder mode $(stat -c %a "$d/run")"
	grep -Eq '^[0-9a-f]{64}$' "$d/etc/secrets/webhook-secret" || fail "webhook secret"
	[ -s "$d/etc/gatehouse.env" ] || fail "no gatehouse.env"
	sum1=$(cat "$d"/etc/keys/*.pem "$d"/etc/secrets/* "$d/etc/gatehouse.env" | sha256sum)
	out=$(fr 2>&1) || fail "second run failed: $out"
	printf '%s\n' "$out" | grep -q 'nothing changed: everything' ||
	    fail "second run changed something: $out"
	sum2=$(cat "$d"/etc/keys/*.pem "$d"/etc/secrets/* "$d/etc/gatehouse.env" | sha256sum)
	[ "$sum1" = "$sum2" ] || fail "keys, secrets or settings changed"
	[ "$(find "$d/etc/keys" -name '*.pem' | wc -l)" = 1 ] || fail "a second key was made"
	unset -f fr
	rm -rf "$d"
}

# The production site as an administrator installs it: `make install`
# from this build, the site rendered by the installed
# gatehouse-nginx-render as docs/operations.md says, a certificate in
# place, and `nginx -t` on a main nginx.conf like Debian's that includes
# it. Everything lives in a temporary root (-p, -e): nothing in /etc or
# /var is read or written, except /etc/nginx/mime.types (read).
ops_nginx_t() { # ROOT: status of nginx -t, its output in ROOT/nginx-t.out
	local r=$1
	nginx -t -p "$r/" -e "$r/log/error.log" -c "$r/etc/nginx/nginx.conf" \
	    >"$r/nginx-t.out" 2>&1
}

# ops_render PROGRAM ARGS: as an administrator runs it, without this
# suite's GH_* settings.
ops_render() {
	env -i PATH="$PATH" "$@"
}

t_97_installed_production_site_passes_nginx_t() {
	local d r stage sbin render f out rc site
	d="$GH_STATE/prod-nginx"
	r="$d/root"
	stage="$d/stage"
	rm -rf "$d"
	mkdir -p "$r"/etc/nginx/{sites-enabled,conf.d,modules-enabled} "$r/log" \
	    "$r/run" "$r/lib"/{body,proxy,fastcgi,uwsgi,scgi} "$r/etc/gatehouse/tls"
	# make install, whatever the prefix this build was configured with.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$GH_BUILDDIR" \
	    install DESTDIR="$stage" >"$d/install.log" 2>&1 ||
	    { fail "make install failed: $(tail -n 20 "$d/install.log")"; return; }
	render=$(find "$stage" -path '*/sbin/gatehouse-nginx-render' -type f | head -n 1)
	[ -n "$render" ] || { fail "make install put no gatehouse-nginx-render in a sbin/"; return; }
	sbin=${render%/*}
	for f in gatehouse-auth gatehouse-payment gatehouse-media gatehouse-first-run \
	    gatehouse-db-setup gatehouse-migrate gatehouse-keygen gatehouse-backup \
	    gatehouse-restore gatehouse-backup-verify; do
		[ -x "$sbin/$f" ] || fail "make install put no $f in $sbin"
	done
	for f in share/gatehouse/nginx/gatehouse.conf.in \
	    share/gatehouse/nginx/snippets/gatehouse-headers.conf \
	    share/gatehouse/nginx/snippets/gatehouse-fastcgi.conf \
	    share/gatehouse/nginx/snippets/gatehouse-errors.conf.in \
	    share/gatehouse/docs/openapi.yaml share/gatehouse/web/index.html \
	    share/gatehouse/backup/gatehouse-backup-lib.sh \
	    share/doc/gatehouse/operations.md \
	    share/doc/gatehouse/examples/gatehouse.env.example \
	    lib/systemd/system/gatehouse.target \
	    lib/systemd/system/gatehouse-auth.service \
	    lib/tmpfiles.d/gatehouse.conf lib/sysusers.d/gatehouse.conf \
	    libexec/gatehouse/gatehouse-media-thumb; do
		[ -e "$sbin/../$f" ] || fail "make install put no $f beside $sbin"
	done

	# The guide's defaults: the paths it documents are the ones rendered.
	ops_render "$render" --mode production --out "$d/default" --conf-dir /etc/nginx/gatehouse \
	    --server-name api.example.com --ipv6 on >"$d/render.out" 2>&1 ||
	    { fail "render with the guide's options: $(cat "$d/render.out")"; return; }
	site="$d/default/gatehouse.conf"
	for f in 'listen 443 ssl http2;' 'listen \[::\]:443 ssl http2;' 'listen 80;' \
	    'server_name api.example.com;' \
	    'ssl_certificate     /etc/gatehouse/tls/cert.pem;' \
	    'ssl_certificate_key /etc/gatehouse/tls/key.pem;' \
	    'server unix:/run/gatehouse/auth.sock' 'server unix:/run/gatehouse/payment.sock' \
	    'server unix:/run/gatehouse/media.sock' \
	    'access_log /var/log/nginx/gatehouse-access.log gatehouse;' \
	    'include /etc/nginx/gatehouse/snippets/gatehouse-headers.conf;' \
	    'alias /var/lib/gatehouse/media/;' 'root /var/www/letsencrypt;' \
	    'return 301 https://$host$request_uri;'; do
		grep -q -- "$f" "$site" || fail "the default site lacks '$f'"
	done
	[ -r /etc/gatehouse/tls/cert.pem ] ||
	    grep -q 'certificate /etc/gatehouse/tls/cert.pem is not readable' "$d/render.out" ||
	    fail "no warning about the missing certificate: $(cat "$d/render.out")"

	# A self-signed certificate where the site will look, modes as the
	# guide says.
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 2 -subj /CN=api.example.com \
	    -keyout "$r/etc/gatehouse/tls/key.pem" \
	    -out "$r/etc/gatehouse/tls/cert.pem" 2>/dev/null) ||
	    { fail "openssl could not make a certificate"; return; }
	chmod 0644 "$r/etc/gatehouse/tls/cert.pem"

	# The guide's command; only the files nginx opens at `nginx -t` are
	# moved into the temporary root.
	ops_render "$render" --mode production --out "$r/etc/nginx/gatehouse" \
	    --conf-dir "$r/etc/nginx/gatehouse" --server-name "api.example.com" \
	    --cert "$r/etc/gatehouse/tls/cert.pem" --key "$r/etc/gatehouse/tls/key.pem" \
	    --access-log "$r/log/gatehouse-access.log" >"$d/render.out" 2>&1 ||
	    { fail "render: $(cat "$d/render.out")"; return; }
	grep -q warning "$d/render.out" && fail "render warned: $(cat "$d/render.out")"
	ln -s "$r/etc/nginx/gatehouse/gatehouse.conf" "$r/etc/nginx/sites-enabled/gatehouse.conf"
	cp /etc/nginx/mime.types "$r/etc/nginx/mime.types" 2>/dev/null ||
	    { fail "no /etc/nginx/mime.types"; return; }
	# Debian 12's /etc/nginx/nginx.conf, its paths moved into the root
	# (and the temp paths, compiled in as /var/lib/nginx, made explicit).
	cat >"$r/etc/nginx/nginx.conf" <<-NGINX
	user www-data;
	worker_processes auto;
	pid $r/run/nginx.pid;
	error_log $r/log/error.log;
	include $r/etc/nginx/modules-enabled/*.conf;

	events {
		worker_connections 768;
	}

	http {
		sendfile on;
		tcp_nopush on;
		types_hash_max_size 2048;
		include $r/etc/nginx/mime.types;
		default_type application/octet-stream;
		ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE
		ssl_prefer_server_ciphers on;
		access_log $r/log/access.log;
		gzip on;
		client_body_temp_path $r/lib/body;
		proxy_temp_path $r/lib/proxy;
		fastcgi_temp_path $r/lib/fastcgi;
		uwsgi_temp_path $r/lib/uwsgi;
		scgi_temp_path $r/lib/scgi;
		include $r/etc/nginx/conf.d/*.conf;
		include $r/etc/nginx/sites-enabled/*;
	}
	NGINX
	if ops_nginx_t "$r"; then
		grep -q 'test is successful' "$r/nginx-t.out" ||
		    fail "nginx -t said: $(cat "$r/nginx-t.out")"
		# No warning either (e.g. "protocol options redefined"); as an
		# ordinary user nginx says that it cannot switch to www-data.
		out=$(grep -F '[warn]' "$r/nginx-t.out" | grep -v '"user" directive') &&
		    fail "nginx -t warned: $out"
	else
		fail "nginx -t failed on the installed site: $(cat "$r/nginx-t.out")"
	fi

	# And it can fail: a certificate path that does not exist, a key that
	# is not the certificate's.
	ops_render "$render" --mode production --out "$r/etc/nginx/gatehouse" \
	    --conf-dir "$r/etc/nginx/gatehouse" --server-name "api.example.com" \
	    --cert "$r/etc/gatehouse/tls/missing.pem" --key "$r/etc/gatehouse/tls/key.pem" \
	    --access-log "$r/log/gatehouse-access.log" >/dev/null 2>&1
	rc=0
	ops_nginx_t "$r" || rc=$?
	[ "$rc" != 0 ] || fail "nginx -t passed with a missing certificate"
	grep -q 'missing.pem' "$r/nginx-t.out" || fail "nginx -t did not name the certificate: $(cat "$r/nginx-t.out")"
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$r/etc/gatehouse/tls/other.pem" 2>/dev/null)
	ops_render "$render" --mode production --out "$r/etc/nginx/gatehouse" \
	    --conf-dir "$r/etc/nginx/gatehouse" --server-name "api.example.com" \
	    --cert "$r/etc/gatehouse/tls/cert.pem" --key "$r/etc/gatehouse/tls/other.pem" \
	    --access-log "$r/log/gatehouse-access.log" >/dev/null 2>&1
	rc=0
	ops_nginx_t "$r" || rc=$?
	[ "$rc" != 0 ] || fail "nginx -t passed with a key that is not the certificate's"
	rm -rf "$d"
}

# Certificates by ACME HTTP-01 (certbot --webroot): the plain HTTP server
# serves the challenge files from the webroot and sends the rest to HTTPS.
t_98_acme_challenge_served_over_http() {
	local dir="$GH_STATE/acme/.well-known/acme-challenge" out
	mkdir -p "$dir"
	printf 'token-%s.thumbprint\n' "$$" >"$dir/tok_123-abc"
	chmod -R a+rX "$GH_STATE/acme"
	out=$(curl -s -w ' %{http_code}' \
	    "http://localhost:$GH_HTTP_PORT/.well-known/acme-challenge/tok_123-abc")
	[ "$out" = "token-$$.thumbprint
 200" ] || fail "challenge: '$out'"
	out=$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://localhost:$GH_HTTP_PORT/.well-known/acme-challenge/nope")
	[ "$out" = 404 ] || fail "missing challenge: $out"
	# Only the challenges: the rest of .well-known and the API redirect.
	out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
	    "http://localhost:$GH_HTTP_PORT/.well-known/jwks.json")
	[ "$out" = "301 https://localhost:$GH_HTTPS_PORT/.well-known/jwks.json" ] ||
	    fail "jwks over http: $out"
	rm -rf "$GH_STATE/acme/.well-known"
}

# The installed units as systemd itself rates them (offline: no boot
# here; `make check-systemd` boots them under a real systemd). Every
# service must rate "OK" or better, and the scoring must see the
# sandbox: the same unit stripped of it rates worse.
t_99_installed_units_rate_ok_with_systemd_analyze() {
	local stage="$GH_STATE/units-stage" root="$GH_STATE/units-root" dir u out
	command -v systemd-analyze >/dev/null 2>&1 ||
	    { fail "systemd-analyze is missing (script/bootstrap installs systemd)"; return; }
	rm -rf "$stage" "$root"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$GH_BUILDDIR" \
	    install DESTDIR="$stage" >"$GH_STATE/units-install.log" 2>&1 ||
	    { fail "make install failed: $(tail -n 20 "$GH_STATE/units-install.log")"; return; }
	dir=$(find "$stage" -path '*/lib/systemd/system' -type d | head -n 1)
	[ -n "$dir" ] || { fail "make install put no systemd units"; return; }
	# Offline, systemd-analyze finds units by name in the root's unit
	# folders, as systemd would: put them where an admin's copy goes.
	mkdir -p "$root/etc/systemd/system"
	cp "$dir"/* "$root/etc/systemd/system/"
	for u in gatehouse-auth gatehouse-payment gatehouse-media \
	    gatehouse-backup gatehouse-media-sweep gatehouse-revoked \
	    gatehouse-auth-sweep gatehouse-mailer gatehouse-payment-sweep; do
		[ -f "$dir/$u.service" ] || { fail "no $u.service installed"; continue; }
		out=$(cd / && systemd-analyze security --offline=true \
		    --root="$root" "$u.service" 2>&1)
		case $(printf '%s\n' "$out" | grep 'Overall exposure level') in
		*" OK"*|*" SAFE"*|*" PERFECT"*) ;;
		"") fail "$u: systemd-analyze security: $(printf '%s' "$out" | tail -n 3)" ;;
		*) fail "$u: $(printf '%s\n' "$out" | grep 'Overall exposure level')" ;;
		esac
	done
	grep -v -E '^(Protect|Private|Restrict|SystemCall|NoNewPriv|Capability|Lock|Memory|RemoveIPC|Keyring|ProcSubset|UMask|DevicePolicy)' \
	    "$dir/gatehouse-media.service" >"$root/etc/systemd/system/gatehouse-bare.service"
	out=$(cd / && systemd-analyze security --offline=true --root="$root" \
	    gatehouse-bare.service 2>&1 | grep 'Overall exposure level')
	case $out in
	"") fail "the stripped unit was not rated" ;;
	*" OK"*|*" SAFE"*|*" PERFECT"*) fail "a unit without its sandbox still rates: $out" ;;
	esac
	rm -rf "$stage" "$root"
}

# nginx reloads (docs/operations.md, "What a reload costs clients"): a
# client that sends an idempotent request again, once, on a new
# connection when its connection closed before any answer loses nothing,
# and a request in progress during a reload gets its whole answer.
t_97b_nginx_reload_loses_nothing_of_a_client_that_retries() {
	local out
	cat >"$T_OUT/reload.py" <<'EOF'
import http.client, json, os, signal, socket, ssl, sys, threading, time

port, master = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl._create_unverified_context()
ctx.set_alpn_protocols(["http/1.1"])
st = {"ok": 0, "fail": 0, "retried": 0, "errors": []}
lock = threading.Lock()
stop = threading.Event()

def conn():
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                       timeout=10)

def get(c):
    c.request("GET", "/api/v1/auth/ping")
    r = c.getresponse()
    r.read()
    if r.status != 200:
        raise RuntimeError("status %d" % r.status)

def loop():
    c = conn()
    while not stop.is_set():
        try:
            try:
                get(c)
            except (http.client.RemoteDisconnected, ConnectionError,
                    ssl.SSLEOFError):
                with lock:
                    st["retried"] += 1
                c.close()
                c = conn()
                get(c)
            with lock:
                st["ok"] += 1
        except Exception as e:
            with lock:
                st["fail"] += 1
                st["errors"].append(repr(e)[:200])
            c.close()
            c = conn()

def in_flight():
    body = b'{"login": "reload-nobody", "password": "not the password"}'
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                        server_hostname="localhost")
    s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
              % len(body) + body[:20])
    time.sleep(0.3)
    os.kill(master, signal.SIGHUP)
    time.sleep(0.7)
    s.sendall(body[20:])
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        if _ and b"content-length:" in head.lower():
            n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            if len(rest) >= n:
                break
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    try:
        detail = json.loads(rest).get("status")
    except ValueError:
        detail = None
    return status, detail

ts = [threading.Thread(target=loop) for _ in range(4)]
for t in ts:
    t.start()
time.sleep(1)
os.kill(master, signal.SIGHUP)
time.sleep(1)
st["in_flight"] = in_flight()
for _ in range(3):
    time.sleep(1)
    os.kill(master, signal.SIGHUP)
time.sleep(1)
stop.set()
for t in ts:
    t.join()
st["errors"] = st["errors"][:5]
print(json.dumps(st))
EOF
	out=$(/usr/bin/python3 "$T_OUT/reload.py" "$GH_HTTPS_PORT" "$(gh_nginx_pid)" 2>&1) ||
	    { fail "the reload client failed: $out"; return; }
	printf '%s' "$out" | jq -e '.fail == 0' >/dev/null ||
	    fail "requests lost across five reloads by a client that retries once: $out"
	printf '%s' "$out" | jq -e '.ok >= 500' >/dev/null ||
	    fail "too few requests to tell: $out"
	[ "$(printf '%s' "$out" | jq -c .in_flight)" = '[401,401]' ] ||
	    fail "a request in progress during a reload did not get its whole answer: $out"
	# nginx still serves, with one generation of workers left.
	req GET /api/v1/auth/ping
	expect_status 200
}
