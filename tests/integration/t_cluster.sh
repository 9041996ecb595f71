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

# cl_tcp_pool NAME PORT ALLOW: a payment pool on tcp:127.0.0.1:PORT that
# accepts connections from ALLOW only; 0 once it listens.
cl_tcp_pool() {
	(
		export GH_PAYMENT_LISTEN="tcp:127.0.0.1:$2" FCGI_WEB_SERVER_ADDRS="$3"
		gh_pool_start payment "$1"
	)
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "pool $1 does not listen on 127.0.0.1:$2"
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

# cl_restore: the suite's own payment pool and configuration again.
cl_restore() {
	cl_pool_kill pay-a
	cl_pool_kill pay-b
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
	pa=$(gh_free_port)
	pb=$(gh_free_port)
	while [ "$pb" = "$pa" ]; do pb=$(gh_free_port); done
	cl_tcp_pool pay-a "$pa" 127.0.0.1 || { cl_restore; return; }
	cl_tcp_pool pay-b "$pb" 127.0.0.1 || { cl_restore; return; }
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
	pa=$(gh_free_port)
	cl_tcp_pool pay-a "$pa" 127.0.0.9,127.0.0.10 || { cl_restore; return; }
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
