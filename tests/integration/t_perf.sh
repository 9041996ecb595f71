# shellcheck shell=bash
# How a worker ends a request (lib/gh_app.c, answer_end): the answer is
# sent before the log line, and the connection is closed at once when
# the whole request was read, or the careful way (its side shut, what
# nginx still sends read away) when it was not.  Either way every answer
# must arrive whole and nginx must see no reset, whatever of the body
# the worker read: none, all of it, or none of a large one it refused.

# pf_errors: lines of nginx's error log about an upstream cut short.
pf_errors() {
	grep -c 'reset by peer\|prematurely closed\|broken pipe\|upstream sent' \
	    "$GH_STATE/logs/nginx-error.log" 2>/dev/null || true
}

# pf_whole STATUS WHAT: the last answer is STATUS with a JSON body whole.
pf_whole() {
	expect_status "$1"
	printf '%s' "$BODY" | jq -e . >/dev/null 2>&1 ||
	    fail "$2: the body is not whole JSON: ${BODY:0:200}"
}

t_20c_answers_whole_whatever_of_the_body_was_read() {
	local before big upload i
	before=$(pf_errors)
	signup pf-body
	login pf-body
	big="$T_OUT/pf-big.json"
	# A JSON body of 200 KiB: larger than the worker's limit, so it is
	# refused from its Content-Length, none of it read.
	{ printf '{"amount":500,"currency":"EUR","description":"'
	  head -c 204800 /dev/zero | tr '\0' x
	  printf '"}'; } >"$big"
	upload="$T_OUT/pf-upload.pdf"
	{ printf '%%PDF-1.4\n'; head -c 2097152 /dev/urandom; } >"$upload"
	for i in $(seq 5); do
		req GET /api/v1/payment/ping
		pf_whole 200 "a GET, no body"
		json_post /api/v1/payments '{"amount":500,"currency":"EUR"}' \
		    -H "Authorization: Bearer $AT" -H "Idempotency-Key: pf-$i"
		pf_whole 201 "a body read whole"
		# Refused before the body is read: a bad token, a bad key.
		req POST /api/v1/payments -H 'Content-Type: application/json' \
		    -H "Authorization: Bearer not.a.token" --data-binary @"$big"
		pf_whole 401 "an unread body, a bad token"
		req POST /api/v1/payments -H 'Content-Type: application/json' \
		    -H "Authorization: Bearer $AT" --data-binary @"$big"
		[ "$STATUS" = 400 ] || [ "$STATUS" = 413 ] ||
		    fail "an unread body too large: status $STATUS"
		pf_whole "$STATUS" "an unread body too large"
		# A body sent in chunks, with no Content-Length from the client.
		req POST /api/v1/payments -H 'Content-Type: application/json' \
		    -H "Authorization: Bearer $AT" -H "Idempotency-Key: pf-c-$i" \
		    -H 'Transfer-Encoding: chunked' --http1.1 \
		    --data-raw '{"amount":700,"currency":"EUR"}'
		pf_whole 201 "a chunked body"
		expect_json .amount 700
		# A media upload of 2 MiB without a token: refused unread.
		req POST '/api/v1/media?title=pf&filename=pf.pdf' \
		    -H 'Content-Type: application/pdf' --data-binary @"$upload"
		pf_whole 401 "an unread upload"
	done
	[ "$(pf_errors)" = "$before" ] ||
	    fail "nginx logged upstream errors: $(grep 'reset by peer\|prematurely closed\|broken pipe\|upstream sent' "$GH_STATE/logs/nginx-error.log" | tail -n 3)"
}

# Kept FastCGI connections (fastcgi_keep_conn, upstream keepalive): a
# worker waits on all of its connections and on the listening socket at
# once (lib/gh_app.c), so idle kept connections, more of them than the
# pool has workers, never keep a new one waiting; and a worker that
# stops asks nginx to close the ones it keeps instead of closing them
# under a request nginx may be writing.

# pf_kept SVC: connections the pool's workers hold now (their end of each
# accepted connection names the pool's socket; the listening one is not
# connected).
pf_kept() {
	ss -xHn state established 2>/dev/null |
	    awk -v s="$GH_STATE/run/$1.sock" '$4 == s' | wc -l
}

# pf_burst SVC N: N pings of SVC in progress at once, so that nginx opens
# a connection for each: the pool's workers are stopped (SIGSTOP) while
# one curl sends them over N connections, and nginx's connections wait in
# the socket's queue with their requests; then the workers go on, take
# them all and answer, and nginx keeps up to 16 per nginx worker.  (Sent
# freely, pings end too fast to meet at nginx on a quick machine.)
pf_burst() {
	local url i w pid
	url=$(gh_url "/api/v1/$1/ping")
	for i in $(seq "$2"); do
		printf 'url = "%s"\noutput = "/dev/null"\n' "$url"
	done >"$T_OUT/pf-burst"
	w=$(gh_pool_workers "$1")
	# shellcheck disable=SC2086 # the pids, one argument each
	kill -STOP $w
	curl -sk --http1.1 --max-time 20 --parallel --parallel-immediate \
	    --parallel-max "$2" -K "$T_OUT/pf-burst" &
	pid=$!
	sleep 1.5
	# shellcheck disable=SC2086
	kill -CONT $w
	wait "$pid"
}

t_20d_kept_connections_never_stall_the_pool() {
	local conf=$GH_STATE/conf held i slow=0 t0 t1
	grep -q '^[[:space:]]*fastcgi_keep_conn[[:space:]]\+on;' \
	    "$conf/snippets/gatehouse-fastcgi.conf" || fail "fastcgi_keep_conn is not on"
	[ "$(grep -c '^[[:space:]]*keepalive 16;' "$conf/gatehouse.conf")" = 3 ] ||
	    fail "the three upstreams do not keep 16 connections"
	# Many at once: nginx opens a connection for each that finds none
	# idle, and keeps up to 16 per nginx worker when they are done.
	pf_burst payment 96
	held=$(pf_kept payment)
	[ "$held" -gt "$GH_WORKERS" ] ||
	    fail "nginx keeps $held connections to $GH_WORKERS workers: too few to prove anything"
	# Each pinned worker would leave the next request waiting until
	# nginx closed a kept connection (60 s).
	for i in $(seq 20); do
		t0=$EPOCHREALTIME
		req GET /api/v1/payment/ping --max-time 5 --http1.1
		t1=$EPOCHREALTIME
		expect_status 200
		(( ${t1/./} - ${t0/./} < 2000000 )) || slow=$((slow + 1))
	done
	[ "$slow" = 0 ] || fail "$slow of 20 pings waited 2 s or more with $held kept connections"
	# Reused: a burst through nginx's one connection per request would
	# open as many, a kept one opens none.
	[ "$(pf_kept payment)" -le 64 ] || fail "more connections than nginx may keep: $(pf_kept payment)"
}

# Writes under workers that stop (SIGTERM, SIGHUP) and are replaced:
# not one answered 502, each create is there once.
t_20e_a_worker_that_stops_loses_no_write() {
	local stop="$T_OUT/pf-stop" codes="$T_OUT/pf-codes" w n bad i pids=
	signup pf-stop
	login pf-stop
	rm -f "$stop" "$codes".*
	for w in 1 2 3; do
		(
			i=0
			while [ ! -e "$stop" ]; do
				i=$((i + 1))
				gh_curl -sk --http1.1 -o /dev/null -w '%{http_code}\n' \
				    -X POST -H 'Content-Type: application/json' \
				    -H "Authorization: Bearer $AT" \
				    -H "Idempotency-Key: pf-stop-$w-$i" \
				    --data-raw '{"amount":120,"currency":"EUR"}' \
				    "$(gh_url /api/v1/payments)" >>"$codes.$w"
			done
		) &
		pids="$pids $!"
	done
	sleep 0.5
	for i in $(seq 8); do
		for w in $(gh_pool_workers payment); do
			if [ $((i % 2)) = 0 ]; then kill -TERM "$w"; else kill -HUP "$w"; fi
			sleep 0.3
		done
	done
	sleep 0.5
	touch "$stop"
	# shellcheck disable=SC2086 # the writers' pids, not the stack's
	wait $pids
	n=$(cat "$codes".* | wc -l)
	bad=$(cat "$codes".* | grep -vx 201 | sort | uniq -c | tr -s ' \n' ' ')
	[ "$n" -ge 30 ] || fail "only $n creates were sent"
	[ -z "$bad" ] || fail "of $n creates while workers stopped, some were not 201:$bad"
	[ "$(psql_pay "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'pf-stop-%'")" = "$n" ] ||
	    fail "not $n keys in the database: $(psql_pay "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'pf-stop-%'")"
	pool_wait payment
}

# The same at the protocol's level, as nginx would see it, with this
# suite's FastCGI client on the payment pool's socket: the stopping
# worker asks for its kept connection to be closed, answers a request
# written into it meanwhile, and exits once it is closed.
t_20f_a_stopping_worker_releases_its_kept_connection() {
	local old w left i
	old=$(gh_pool_workers payment)
	# shellcheck disable=SC2086 # the pids, one argument each
	/usr/bin/python3 "$GH_SRCDIR/tests/integration/fcgi-client.py" release \
	    "$GH_STATE/run/payment.sock" $old >"$T_OUT/pf-release" 2>&1 ||
	    fail "$(cat "$T_OUT/pf-release")"
	for i in $(seq 30); do
		left=
		for w in $old; do
			kill -0 "$w" 2>/dev/null && left="$left $w"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || fail "workers still running 3 s after their connections closed:$left"
	pool_wait payment
}

# pf_held SVC PID: the connections worker PID of SVC's pool holds now.
pf_held() {
	ss -xHnp state established 2>/dev/null |
	    awk -v s="$GH_STATE/run/$1.sock" '$4 == s' | grep -c "pid=$2,"
}

# A worker about to spend long on a request (a password's Argon2) asks
# nginx to close the other, idle connections it holds, so that the
# requests nginx sends next go to a worker that is free rather than wait
# behind it (lib/gh_app.c, gh_app_slow).
t_20g_a_slow_request_lets_go_of_the_idle_connections() {
	local w n pid i
	local -A held
	signup pf-slow
	# The worker nginx hands the sign-in must hold other connections:
	# kept ones are spread over the workers as they raced to accept them.
	for i in 1 2 3; do
		pf_burst auth 96
		held=()
		for w in $(gh_pool_workers auth); do
			held[$w]=$(pf_held auth "$w")
		done
		login pf-slow
		expect_status 200
		pid=$(grep '"path":"/api/v1/auth/login"' "$GH_STATE/logs/auth.log" |
		    tail -n 1 | jq -r .pid)
		[ "${held[$pid]:-0}" -lt 2 ] || break
	done
	[ "${held[$pid]:-0}" -ge 2 ] ||
	    fail "the worker that checked the password held ${held[$pid]:-0} connections before: too few to prove anything"
	sleep 0.5
	n=$(pf_held auth "$pid")
	[ "$n" -le 1 ] || fail "the worker that checked a password still holds $n of its ${held[$pid]} connections"
}
