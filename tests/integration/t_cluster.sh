# shellcheck shell=bash
# Pools on TCP behind nginx, as on several hosts (issue #15): the pool's
# allow list, the renderer's app hosts, load spread over two pools, a dead
# one left out and taken back.  Two payment pools on loopback ports stand
# for two app hosts; the suite's unix-socket payment pool is put back at
# the end of each case.

# cl_render [renderer options...]: the suite's nginx configuration again
# (as gh_nginx_conf writes it) with the options given, and nginx reloaded.
cl_render() {
	"$GH_SRCDIR/nginx/gatehouse-nginx-render" --mode local \
	    --out "$GH_STATE/conf" --state-dir "$GH_STATE" \
	    --https-port "$GH_HTTPS_PORT" --http-port "$GH_HTTP_PORT" \
	    --socket-dir "$GH_STATE/run" --rate-exempt "$GH_RATE_EXEMPT" \
	    --docs-root "$GH_SRCDIR/docs" --web-root "${GH_WEB_ROOT:-$GH_SRCDIR/web}" \
	    --media-root "$GH_STATE/media" "$@" >/dev/null ||
	    { fail "the renderer refused $*"; return 1; }
	fd_nginx_reload
}

# cl_tcp_pool NAME PORT ALLOW [quiet]: a payment pool on
# tcp:127.0.0.1:PORT that accepts connections from ALLOW only; 0 once it
# listens (its log says why not: spawn-fcgi's bind).
cl_tcp_pool() {
	(
		export GH_PAYMENT_LISTEN="tcp:127.0.0.1:$2" FCGI_WEB_SERVER_ADDRS="$3"
		gh_pool_start payment "$1"
	)
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		kill -0 "$(gh_pool_pid "$1")" 2>/dev/null || break
		sleep 0.1
	done
	cl_pool_kill "$1"
	[ -n "${4-}" ] || fail "pool $1 does not listen on 127.0.0.1:$2"
	return 1
}

# cl_tcp_pool_new NAME ALLOW: cl_tcp_pool on a port of its own, CL_PORT:
# below the ephemeral range (a client's source port there looks free to
# gh_free_port but cannot be bound), tried again on another when taken
# between the look and spawn-fcgi's bind (suites run side by side).
cl_tcp_pool_new() {
	local i
	for i in 1 2 3 4 5; do
		CL_PORT=$((20000 + RANDOM % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$CL_PORT") 2>/dev/null && continue
		cl_tcp_pool "$1" "$CL_PORT" "$2" quiet && return 0
	done
	fail "pool $1 found no port to listen on in 5 tries"
	return 1
}

# cl_pool_kill NAME: every process of the pool at once, as when its host
# dies (no TERM, no request finished).
cl_pool_kill() {
	local pid
	pid=$(gh_pool_pid "$1") || return 0
	# shellcheck disable=SC2046 # a list of pids
	kill -KILL "$pid" $(gh_pool_workers "$1") 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$GH_STATE/run/$1.pid"
}

# cl_restore: the suite's own payment pool and configuration again (the
# TCP pools told to stop, so that a sanitizer build reports at exit).
cl_restore() {
	gh_pool_stop pay-a
	gh_pool_stop pay-b
	gh_pool_stop payment
	gh_pool_start payment
	cl_render
	pool_wait payment
}

# cl_upstreams N: the upstream_addr of the last N requests in the access
# log, one a line.
cl_upstreams() {
	tail -n "$1" "$GH_STATE/logs/access.log" | jq -r .upstream_addr
}

# A pool on TCP must say whom it accepts: without an allow list, or with
# anything but IPv4 addresses in it or in its listen address, it refuses
# to start, and nothing listens.
t_33a_tcp_pool_refuses_a_bad_listen_or_allow_list() {
	local port pool="$GH_BUILDDIR/admin/gatehouse-pool" bin case listen allow
	port=$(gh_free_port)
	bin="$GH_BUILDDIR/fcgi/payment/gatehouse-payment"
	for case in "tcp:127.0.0.1:$port|" "tcp:127.0.0.1:$port|*" \
	    "tcp:127.0.0.1:$port|127.0.0.1," "tcp:127.0.0.1:$port|,127.0.0.1" \
	    "tcp:127.0.0.1:$port|127.0.0.1,,127.0.0.2" "tcp:127.0.0.1:$port|10.0.0.0/8" \
	    "tcp:127.0.0.1:$port|::1" "tcp:127.0.0.1:$port|localhost" \
	    "tcp:127.0.0.1:$port|127.0.0.256" "tcp:127.0.0.1:$port|127.0.0.1 127.0.0.2" \
	    "tcp:0.0.0.0:$port|127.0.0.1" "tcp:127.0.0.1:0|127.0.0.1" \
	    "tcp:127.0.0.1:65536|127.0.0.1" "tcp:127.0.0.1|127.0.0.1" \
	    "tcp:localhost:$port|127.0.0.1" "tcp:[::1]:$port|127.0.0.1" \
	    "tcp:127.0.0.01:$port|127.0.0.1" "tcp::$port|127.0.0.1"; do
		listen=${case%%|*}
		allow=${case#*|}
		if FCGI_WEB_SERVER_ADDRS=$allow timeout 5 "$pool" "$listen" "$bin" \
		    >"$T_OUT/pool.out" 2>&1; then
			fail "gatehouse-pool started on '$listen' allowing '$allow'"
		fi
		grep -q 'gatehouse-pool: error: ' "$T_OUT/pool.out" ||
		    fail "no error for '$listen' allowing '$allow': $(head -c 200 "$T_OUT/pool.out")"
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			fail "something listens on $port after '$listen' allowing '$allow'"
		fi
	done
}

# App hosts go into nginx's configuration: anything but ADDR:PORT (IPv4 or
# bracketed IPv6) is refused before a file is written, and a good list
# makes one server line per host with its passive check.
t_33b_app_hosts_are_checked() {
	local h out opt
	for opt in --auth-hosts --payment-hosts --media-hosts; do
		for h in '10.0.0.2' '10.0.0.2:' ':9001' '10.0.0.2:0' '10.0.0.2:65536' \
		    '10.0.0.256:9001' '10.0.0.02:9001' '10.0.0:9001' 'app1:9001' \
		    '10.0.0.2:9001;' '10.0.0.2:9001 down' '10.0.0.2:9001 10.0.0.2:9001' \
		    '0.0.0.0:9001' '10.0.0.2:90x1' '10.0.0.2:9001$x' '[fd00::2:9001' \
		    'fd00::2:9001' '*:9001' 'unix:/tmp/x.sock' '10.0.0.2:9001{' \
		    "10.0.0.2:9001
10.0.0.3:9001"; do
			out=$(mktemp -d)
			if "$GH_SRCDIR/nginx/gatehouse-nginx-render" --mode local \
			    --out "$out/conf" --state-dir "$out" "$opt" "$h" \
			    >"$out/log" 2>&1; then
				fail "$opt '$h' was accepted"
			fi
			grep -q -- "error: $opt" "$out/log" ||
			    fail "$opt '$h': the error does not name the option: $(cat "$out/log")"
			[ ! -e "$out/conf/gatehouse.conf" ] || fail "$opt '$h' left a configuration"
			rm -rf "$out"
		done
	done
	out=$(mktemp -d)
	GH_MEDIA_HOSTS='10.0.0.2:9003,[fd00::3]:9003' \
	    "$GH_SRCDIR/nginx/gatehouse-nginx-render" --mode local \
	    --out "$out/conf" --state-dir "$out" \
	    --auth-hosts '10.0.0.2:9001 10.0.0.3:9001' >/dev/null 2>&1 ||
	    fail "good host lists were refused"
	sed -n '/^upstream gh_auth/,/^}/p' "$out/conf/gatehouse.conf" >"$out/up-auth"
	sed -n '/^upstream gh_payment/,/^}/p' "$out/conf/gatehouse.conf" >"$out/up-pay"
	sed -n '/^upstream gh_media/,/^}/p' "$out/conf/gatehouse.conf" >"$out/up-media"
	grep -q '^    server 10.0.0.2:9001 max_fails=3 fail_timeout=10s;$' "$out/up-auth" &&
	    grep -q '^    server 10.0.0.3:9001 max_fails=3 fail_timeout=10s;$' "$out/up-auth" &&
	    grep -q '^    zone gh_auth ' "$out/up-auth" ||
	    fail "auth's upstream: $(cat "$out/up-auth")"
	[ "$(grep -c "server unix:$out/run/payment.sock max_fails=0;" "$out/up-pay")" = 2 ] ||
	    fail "payment's upstream is not its socket twice: $(cat "$out/up-pay")"
	grep -q '^    server \[fd00::3\]:9003 max_fails=3' "$out/up-media" ||
	    fail "media's upstream: $(cat "$out/up-media")"
	rm -rf "$out"
}

# Two pools on TCP share the load; every process of one is killed (its
# host died) under reads and creates: no request fails, the dead one is
# left out, and it takes load again once it is back.
t_33c_tcp_pools_share_spread_and_fail_over() {
	local pa pb ups bad= i code ref
	pay_setup
	cl_tcp_pool_new pay-a 127.0.0.1 || { cl_restore; return; }
	pa=$CL_PORT
	cl_tcp_pool_new pay-b 127.0.0.1 || { cl_restore; return; }
	pb=$CL_PORT
	gh_pool_stop payment
	cl_render --payment-hosts "127.0.0.1:$pa 127.0.0.1:$pb" || { cl_restore; return; }
	for i in $(seq 12); do
		pay_as "$PAY_A" GET '/api/v1/payments?limit=1'
		[ "$STATUS" = 200 ] || bad="$bad read:$STATUS"
	done
	ups=$(cl_upstreams 12 | sort | uniq -c | tr -s ' \n' ' ')
	case $ups in
	*"127.0.0.1:$pa"*"127.0.0.1:$pb"*|*"127.0.0.1:$pb"*"127.0.0.1:$pa"*) ;;
	*) fail "the load did not reach both pools: $ups" ;;
	esac
	cl_pool_kill pay-b
	for i in $(seq 20); do
		pay_as "$PAY_A" GET '/api/v1/payments?limit=1'
		[ "$STATUS" = 200 ] || bad="$bad read:$STATUS"
		pay_create "$PAY_A" "k33c-$RANDOM-$i" '{"amount":33,"currency":"EUR"}'
		[ "$STATUS" = 201 ] || bad="$bad create:$STATUS"
	done
	[ -z "$bad" ] || fail "requests failed with a pool down:$bad"
	# Left out: the last requests went straight to the live pool, with no
	# attempt at the dead one first ("b, a" in upstream_addr).
	ups=$(cl_upstreams 10 | sort -u | tr '\n' ' ')
	[ "$ups" = "127.0.0.1:$pa " ] || fail "the dead pool is still tried: $ups"
	cl_tcp_pool pay-b "$pb" 127.0.0.1 || { cl_restore; return; }
	# fail_timeout (10 s) passes, then one request tries it again.
	sleep 10.5
	for i in $(seq 12); do
		pay_as "$PAY_A" GET '/api/v1/payments?limit=1'
		[ "$STATUS" = 200 ] || fail "read after the pool came back: $STATUS"
	done
	cl_upstreams 12 | grep -qx "127.0.0.1:$pb" ||
	    fail "the pool that came back takes no load: $(cl_upstreams 12 | tr '\n' ' ')"
	# The creates made while one pool was dead are all there, once each.
	ref=$(psql_pay "SELECT count(*), count(DISTINCT p.id) FROM idempotency_keys k
	    JOIN payments p ON p.id = k.payment_id WHERE k.key LIKE 'k33c-%'" 2>/dev/null)
	[ "$ref" = "20|20" ] || fail "payments of the 20 creates (keys|payments): $ref"
	cl_restore
}

# A pool on TCP answers nginx only if nginx's address is on its list: from
# any other, libfcgi closes the connection at accept, and nginx says 502.
t_33d_tcp_pool_accepts_only_its_nginx() {
	local pa
	cl_tcp_pool_new pay-a 127.0.0.9,127.0.0.10 || { cl_restore; return; }
	pa=$CL_PORT
	gh_pool_stop payment
	cl_render --payment-hosts "127.0.0.1:$pa" || { cl_restore; return; }
	req GET /api/v1/payment/ping
	expect_problem 502
	cl_pool_kill pay-a
	cl_tcp_pool pay-a "$pa" 127.0.0.9,127.0.0.1 || { cl_restore; return; }
	req GET /api/v1/payment/ping
	expect_status 200
	[ "$(cl_upstreams 1)" = "127.0.0.1:$pa" ] ||
	    fail "answered by $(cl_upstreams 1), not the TCP pool"
	cl_restore
}

# cl_psql SOCKET PORT SQL: as postgres, on one of the two servers.
cl_psql() {
	(cd / && gh_as_pg psql -X -q -h "$1" -p "$2" -U postgres \
	    -d gatehouse_payments -v ON_ERROR_STOP=1 -tAc "$3")
}

# cl_create_retrying KEY: a create that the client retries with the same
# key on 502 and 503, as a client should, up to 6 times; STATUS is the last
# answer, CL_503 counts the 503s (each with Retry-After, or it fails).
cl_create_retrying() {
	local i
	for i in 1 2 3 4 5 6; do
		pay_create "$PAY_A" "$1" '{"amount":34,"currency":"EUR"}'
		case $STATUS in
		502) ;;
		503)	CL_503=$((CL_503 + 1))
			expect_header retry-after ;;
		*)	return 0 ;;
		esac
	done
}

# The primary moves under the payment pool, whose connection string names
# both servers and asks for the writable one: the old primary is made
# read-only, the streaming replica caught up and promoted (pg_ctl
# promote), as a switchover does.  A write on a connection still with the
# old primary is refused by it (25006): answered 503 with Retry-After, its
# connection dropped, and the next request finds the new primary; a
# connection that only read leaves the old one by itself (the server
# reports default_transaction_read_only).  No worker restarts, and every
# create answered 201 is on the new primary exactly once.
t_34_db_primary_moves_no_wrong_answer() {
	local bin a="$GH_STATE/pg/sock" b="$GH_STATE/pg2/sock" data="$GH_STATE/pg2/data"
	local lsn before after i keys= k refs= n
	bin=$(gh_pg_bin)
	pay_setup
	mkdir -p "$b"
	touch "$GH_STATE/logs/postgres-b.log"
	gh_is_root && chown -R postgres: "$GH_STATE/pg2" "$GH_STATE/logs/postgres-b.log"
	gh_as_pg "$bin/pg_basebackup" -h "$a" -p 5432 -U postgres -D "$data" \
	    -R -X stream -c fast >"$T_OUT/basebackup.log" 2>&1 ||
	    { fail "pg_basebackup: $(tail -n 3 "$T_OUT/basebackup.log")"; return; }
	gh_as_pg "$bin/pg_ctl" -D "$data" -l "$GH_STATE/logs/postgres-b.log" -w -t 60 \
	    -o "-c listen_addresses='' -c unix_socket_directories='$b' -p 5433 -c fsync=off" \
	    start >/dev/null || { fail "the replica did not start"; cl_db_restore; return; }
	gh_pool_stop payment
	GH_PG_CONN="host=$a,$b port=5432,5433 target_session_attrs=read-write" \
	    gh_pool_start payment
	pool_wait payment
	before=$(gh_pool_workers payment | tr '\n' ' ')
	for i in 1 2 3 4; do
		pay_create "$PAY_A" "k34-before-$RANDOM-$i" '{"amount":34,"currency":"EUR"}'
		expect_status 201
		refs="$refs $REF"
		pay_as "$PAY_A" GET "/api/v1/payments/$REF"
		expect_status 200
	done
	[ "$(cl_psql "$b" 5433 'SELECT pg_is_in_recovery()')" = t ] ||
	    fail "the second server is not a replica"

	# The switchover: no commit is lost (the replica replays all of it).
	cl_psql "$a" 5432 'ALTER SYSTEM SET default_transaction_read_only = on' &&
	    cl_psql "$a" 5432 'SELECT pg_reload_conf()' >/dev/null
	lsn=$(cl_psql "$a" 5432 'SELECT pg_current_wal_lsn()')
	for i in $(seq 100); do
		[ "$(cl_psql "$b" 5433 "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
		sleep 0.1
	done
	gh_as_pg "$bin/pg_ctl" -D "$data" -w promote >/dev/null || fail "promote failed"

	# A write first: refused by the old primary, so 503 and Retry-After;
	# retried, it lands on the new one.
	set -- $refs
	pay_as "$PAY_A" POST "/api/v1/payments/$1/cancel"
	expect_problem 503
	expect_header retry-after
	for i in 1 2 3 4 5; do
		[ "$STATUS" = 503 ] || break
		pay_as "$PAY_A" POST "/api/v1/payments/$1/cancel"
	done
	expect_status 200
	expect_json .status canceled
	[ "$(cl_psql "$b" 5433 "SELECT status FROM payments WHERE reference = '$1'")" = canceled ] ||
	    fail "the cancel is not on the new primary"
	grep -q 'refused a write as read-only' "$GH_STATE/logs/payment.log" ||
	    fail "no log line for the refused write"
	# Creates under a client that retries 503: each once, on the new one.
	CL_503=0
	for i in $(seq 8); do
		k="k34-after-$RANDOM-$i"
		cl_create_retrying "$k"
		[ "$STATUS" = 201 ] || fail "create $k ended $STATUS"
		keys="$keys,'$k'"
		pay_as "$PAY_A" GET "/api/v1/payments/$REF"
		expect_status 200
	done
	n=$(cl_psql "$b" 5433 "SELECT count(*), count(DISTINCT payment_id) FROM idempotency_keys
	    WHERE key IN (${keys#,}) AND payment_id IS NOT NULL")
	[ "$n" = "8|8" ] || fail "the 8 creates on the new primary (keys|payments): $n"
	n=$(cl_psql "$a" 5432 "SELECT count(*) FROM idempotency_keys WHERE key IN (${keys#,})")
	[ "$n" = 0 ] || fail "$n creates went to the old primary"
	for set in $refs; do
		[ "$(cl_psql "$b" 5433 "SELECT count(*) FROM payments WHERE reference = '$set'")" = 1 ] ||
		    fail "payment $set of before the switch is not on the new primary once"
	done
	# Readers too have left the old primary.
	for i in 1 2 3 4 5 6; do pay_as "$PAY_A" GET '/api/v1/payments?limit=1'; done
	n=$(cl_psql "$a" 5432 "SELECT count(*) FROM pg_stat_activity WHERE usename = 'gatehouse_payment_app'")
	[ "$n" = 0 ] || fail "$n payment connections stay with the old primary"
	after=$(gh_pool_workers payment | tr '\n' ' ')
	[ "$before" = "$after" ] || fail "workers restarted: $before -> $after"
	echo "    (503s while the primary moved, 8 creates: $CL_503)"
	cl_db_restore
}

# The suite's single server again: the replica goes, the old primary is
# writable, the payment pool back on it (what the new primary took is
# dropped with it: right for a test only).
cl_db_restore() {
	local data="$GH_STATE/pg2/data"
	gh_pool_stop payment
	[ -f "$data/postmaster.pid" ] &&
	    gh_as_pg "$(gh_pg_bin)/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$GH_STATE/pg2"
	cl_psql "$GH_STATE/pg/sock" 5432 'ALTER SYSTEM RESET default_transaction_read_only' &&
	    cl_psql "$GH_STATE/pg/sock" 5432 'SELECT pg_reload_conf()' >/dev/null
	gh_pool_start payment
	pool_wait payment
}
