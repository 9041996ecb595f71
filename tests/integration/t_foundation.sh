# shellcheck shell=bash
# Foundation: TLS front, routing, problems, request ids, limits, pools,
# and a database that goes away and comes back.

t_10_health_and_ping_over_http2() {
	local svc
	for svc in $GH_SERVICES; do
		req GET "/api/v1/$svc/health"
		expect_status 200
		[ "$HTTPV" = 2 ] || fail "$svc health over HTTP/$HTTPV, wanted 2"
		expect_json .database reachable
		expect_json .service "$svc"
		req GET "/api/v1/$svc/ping"
		expect_status 200
		expect_json .status ok
		expect_header cache-control no-store
	done
}

t_11_http1_also_served() {
	req GET /api/v1/payment/ping --http1.1
	expect_status 200
	[ "$HTTPV" = 1.1 ] || fail "HTTP/$HTTPV, wanted 1.1"
}

t_12_unknown_paths_are_404_problems() {
	req GET /api/v1/auth/no-such-thing	# the worker's 404
	expect_problem 404
	expect_json .instance /api/v1/auth/no-such-thing
	req GET /api/v1/nothing-here		# nginx's own 404
	expect_problem 404
	req GET /api/v1/media/ping/extra
	expect_problem 404
}

# raw_tls LINE: sends one raw HTTP/1.1 request over TLS; sets STATUS and
# BODY from the answer (nginx closes after a bad request).
raw_tls() {
	local out
	out=$(printf '%b' "$1" | timeout 5 openssl s_client -quiet \
	    -connect "localhost:$GH_HTTPS_PORT" -servername localhost \
	    2>/dev/null | tr -d '\r')
	STATUS=$(printf '%s\n' "$out" | sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p')
	BODY=$(printf '%s\n' "$out" | sed '1,/^$/d')
	HEADERS=$(printf '%s\n' "$out" | sed -n '2,/^$/p' | sed 's/^\([^:]*\):/\L\1:/')
}

# Requests nginx cannot parse are 400 problems, never its HTML 500 (the
# error pages are not named locations, which need a URI).
t_12b_malformed_requests_are_400_problems() {
	local v p
	for v in --http1.1 --http2; do
		for p in '/api/v1/%00' '/docs/../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' \
		    '/api/v1/auth/%zz'; do
			req GET "$p" "$v" --path-as-is
			case $STATUS in 400|404) ;; *) fail "$v $p: status $STATUS" ;; esac
			expect_header content-type application/problem+json
			expect_json .status "$STATUS"
		done
		req get /api/v1/auth/ping "$v"
		expect_problem 400
	done
	for p in 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n' 'GARBAGE\r\n\r\n' 'GET\r\n\r\n' 'GET /x\001y HTTP/1.1\r\nHost: localhost\r\n\r\n' \
	    'GET / HTTP/9.9\r\nHost: localhost\r\n\r\n' 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n' \
	    'GET / HTTP/1.1\r\nBad Header\r\n\r\n'; do
		raw_tls "$p"
		case $STATUS in 400|505) ;; *) fail "raw '$p': status '$STATUS'" ;; esac
		expect_header content-type application/problem+json
		expect_json .status "$STATUS"
	done
	if grep -q 'empty URI in redirect' "$GH_STATE"/logs/nginx-error.log 2>/dev/null; then
		fail "nginx logged an empty-URI redirect"
	fi
}

t_13_wrong_method_is_405_with_allow() {
	req POST /api/v1/auth/health -H 'Content-Type: application/json' -d '{}'
	expect_problem 405
	expect_header allow "GET, HEAD"
	req DELETE /api/v1/payment/ping
	expect_problem 405
}

t_14_http_redirects_to_https() {
	local out
	out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
	    "http://localhost:$GH_HTTP_PORT/api/v1/auth/ping?x=1")
	[ "$out" = "301 https://localhost:$GH_HTTPS_PORT/api/v1/auth/ping?x=1" ] ||
	    fail "redirect: $out"
}

t_15_request_id_returned_and_logged() {
	local id
	req GET /api/v1/auth/ping
	id=$(header x-request-id)
	[[ "$id" =~ ^[0-9a-f]{32}$ ]] || fail "X-Request-Id '$id'"
	# Only one X-Request-Id: the worker's own copy is not passed on.
	[ "$(printf '%s\n' "$HEADERS" | grep -ci '^x-request-id:')" = 1 ] ||
	    fail "X-Request-Id repeated"
	sleep 0.2
	grep -q "\"request_id\":\"$id\"" "$GH_STATE/logs/auth.log" ||
	    fail "request id $id not in the worker's log"
	grep "\"request_id\":\"$id\"" "$GH_STATE/logs/auth.log" | head -n 1 |
	    jq -e '.event == "request" and .status == 200 and
	    .path == "/api/v1/auth/ping"' >/dev/null ||
	    fail "the worker's log line is not the request's"
	grep -q "\"request_id\":\"$id\"" "$GH_STATE/logs/access.log" ||
	    fail "request id $id not in nginx's access log"
	tail -n 1 "$GH_STATE/logs/access.log" | jq -e '.upstream_addr != null
	    and .status != null and .request_time != null' >/dev/null ||
	    fail "access log line lacks upstream, status or time"
}

t_16_security_headers_on_every_answer() {
	local path
	for path in /api/v1/auth/ping /api/v1/auth/nope /api/v1/nothing; do
		req GET "$path"
		expect_header strict-transport-security
		expect_header x-content-type-options nosniff
		expect_header x-frame-options DENY
		expect_header referrer-policy
		expect_header x-request-id
	done
	req GET /api/v1/auth/ping
	[ -z "$(header server | grep -E '[0-9]')" ] || fail "server version shown"
}

t_17_oversized_body_is_413_problem() {
	head -c 2000000 /dev/zero | tr '\0' 'a' >"$T_OUT/big"
	req POST /api/v1/auth/ping -H 'Content-Type: application/json' \
	    --data-binary "@$T_OUT/big"
	expect_problem 413
}

t_18_only_tls_12_and_13() {
	gh_curl -sk -o /dev/null --tlsv1.2 --tls-max 1.2 "$(gh_url /api/v1/auth/ping)" ||
	    fail "TLS 1.2 refused"
	gh_curl -sk -o /dev/null --tlsv1.3 "$(gh_url /api/v1/auth/ping)" ||
	    fail "TLS 1.3 refused"
	if curl -sk -o /dev/null --tlsv1.1 --tls-max 1.1 \
	    "$(gh_url /api/v1/auth/ping)" 2>/dev/null; then
		fail "TLS 1.1 accepted"
	fi
}

t_19_docs_served() {
	req GET /docs/openapi.yaml
	expect_status 200
	printf '%s' "$BODY" | grep -q '^openapi: 3' || fail "not the OpenAPI file"
}

# The API reference at /docs/ (tools/docs-viewer): its page, scripts and
# styles from this origin, under a CSP that allows nothing else.
DV_CSP="default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

# dv_file PATH TYPE: served, whole, with TYPE and the page's headers.
dv_file() {
	req GET "$1"
	expect_status 200
	expect_header content-type "$2"
	expect_header content-security-policy "$DV_CSP"
	expect_header x-content-type-options nosniff
	expect_header x-frame-options DENY
	expect_header strict-transport-security
	expect_header x-request-id
}

t_19b1_docs_page_and_its_files() {
	local f
	dv_file /docs/ 'text/html; charset=utf-8'
	printf '%s' "$BODY" | grep -q '<script src="swagger-ui-bundle.js">' ||
	    fail "not the API reference: ${BODY:0:200}"
	# No inline script, handler or style for the CSP to refuse.
	printf '%s' "$BODY" | grep -Eiq '<script>|<style| style=| on[a-z]+=' &&
	    fail "inline script or style in the page"
	dv_file /docs/index.html 'text/html; charset=utf-8'
	dv_file /docs/swagger-ui-bundle.js 'application/javascript; charset=utf-8'
	[ "$(printf '%s' "$BODY" | wc -c)" -gt 1000000 ] || fail "the bundle is cut short"
	dv_file /docs/gatehouse-docs.js 'application/javascript; charset=utf-8'
	printf '%s' "$BODY" | grep -q "persistAuthorization: true" ||
	    fail "not our settings"
	dv_file /docs/swagger-ui.css 'text/css; charset=utf-8'
	dv_file /docs/favicon-32x32.png image/png
	for f in swagger-ui-LICENSE.txt swagger-ui-NOTICE.txt \
	    swagger-ui-bundle.js.LICENSE.txt; do
		dv_file "/docs/$f" 'text/plain; charset=utf-8'
	done
	dv_file /docs/openapi.yaml 'application/yaml; charset=utf-8'
	# Every file the page names is one of those.
	req GET /docs/
	for f in $(printf '%s' "$BODY" | sed -n 's/.*\(src\|href\)="\([^"]*\)".*/\2/p'); do
		case $f in
		swagger-ui-bundle.js | gatehouse-docs.js | swagger-ui.css | \
		    favicon-32x32.png | openapi.yaml) ;;
		*) fail "the page loads $f, which no case checks" ;;
		esac
	done
}

t_19b2_docs_refuses_what_is_not_there() {
	local p
	# The build's leftovers, the lock, the stamp, a source map: none is
	# served.
	for p in /docs/.stamp /docs/package.json /docs/package-lock.json \
	    /docs/node_modules/swagger-ui-dist/package.json \
	    /docs/swagger-ui-bundle.js.map /docs/build /docs/nope.js \
	    /docs/swagger-initializer.js; do
		req GET "$p"
		expect_problem 404
	done
	# Out of the folder: nginx resolves the dots before the alias.
	STATUS=$(curl -sk --path-as-is -o "$T_OUT/b" -w '%{http_code}' \
	    "$(gh_url /docs/../../../../../../etc/passwd)")
	[ "$STATUS" = 400 ] || [ "$STATUS" = 404 ] || fail "dot-dot: $STATUS"
	grep -q 'root:' "$T_OUT/b" && fail "dot-dot escaped the docs folder"
	req GET '/docs/..%2f..%2f..%2fetc%2fpasswd'
	[ "$STATUS" = 400 ] || [ "$STATUS" = 404 ] || fail "encoded dot-dot: $STATUS"
	printf '%s' "$BODY" | grep -q 'root:' && fail "encoded dot-dot escaped"
	# A static folder: nothing but GET and HEAD.
	req POST /docs/ -H 'Content-Type: application/json' --data-raw '{}'
	expect_problem 405
	req DELETE /docs/openapi.yaml
	expect_problem 405
}

# dv_shots: where the browser's screenshots are kept, beside the test
# logs (tests/integration/run.log) or in GH_TEST_SHOTS.
dv_shots() {
	printf '%s\n' "${GH_TEST_SHOTS:-$GH_BUILDDIR/tests/integration/screenshots}"
}

t_19b3_docs_try_it_in_a_browser() {
	local out rc shots="$GH_STATE/logs/browser" user=dora_docs f n e401
	[ -x /usr/bin/chromium ] || { oa_missing /usr/bin/chromium; return 0; }
	oa_node_deps || return 0
	rm -f "$(dv_shots)"/docs-*.png
	out=$(DOCS_URL="$(gh_url /docs/)" DOCS_SHOTS="$shots" \
	    DOCS_USER=$user DOCS_EMAIL=$user@example.test \
	    DOCS_PASSWORD='a docs reader, typing' \
	    timeout 120 node "$OA_NODE_DIR/docs.mjs" 2>"$T_OUT/docs.err")
	rc=$?
	# Kept whatever happened, the failure's own picture too.
	mkdir -p "$(dv_shots)" && cp "$shots"/docs-*.png "$(dv_shots)/" 2>/dev/null
	[ "$rc" = 0 ] ||
	    { fail "docs.mjs: $out $(head -c 500 "$T_OUT/docs.err")"; return; }
	BODY=$out
	expect_json .status 200
	expect_json .csp "$DV_CSP"
	# Nothing logged but the two 401s asked for, nothing refused,
	# nothing tried elsewhere.
	e401="Failed to load resource: the server responded with a status of 401 () @ $(gh_url /api/v1/auth/me)"
	expect_json '.console_errors | join(" | ")' "$e401 | $e401"
	expect_json '.csp_violations | join(" | ")' ''
	expect_json '.foreign | join(" | ")' ''
	expect_json .title gatehouse
	n=$(grep -c '^      operationId:' "$GH_SRCDIR/docs/openapi.yaml")
	expect_json .operations "$n"
	expect_json .ping.status 200
	expect_json .ping.json.status ok
	expect_json .ping.json.service auth
	expect_json .me_anonymous 401
	expect_json .register 201
	expect_json .login 200
	expect_json .me.status 200
	expect_json .me.username $user
	expect_json .sessions 200
	expect_json .payments 200
	expect_json .me_after_reload.status 200
	expect_json .me_after_reload.username $user
	expect_json .me_after_logout 401
	[ "$(psql_auth "SELECT count(*) FROM users WHERE username = '$user'")" = 1 ] ||
	    fail "the sign-up left no user"
	# The probe: each forbidden thing refused, and said so.
	expect_json .probe.image refused
	expect_json .probe.inline_ran false
	expect_json .probe.eval EvalError
	expect_json '.probe.violations | map(select(startswith("img-src https://cdn.example.invalid/"))) | length' 1
	expect_json '.probe.violations | map(select(. == "script-src-elem inline")) | length' 1
	expect_json '.probe.violations | map(select(. == "script-src eval")) | length' 1
	expect_json '.probe.foreign | join(" | ")' 'https://cdn.example.invalid/pixel.png csp'
	# ... and said so in the console, where a developer looks.
	expect_json '.probe.console_errors | map(select(test("^Loading the image .https://cdn.example.invalid/pixel.png. violates the following Content Security Policy"))) | length' 1
	expect_json '.probe.console_errors | map(select(test("^Executing inline script violates the following Content Security Policy"))) | length' 1
	for f in docs-1-loaded docs-2-ping docs-3-me-anonymous docs-4-authorize \
	    docs-5-me docs-6-me-after-reload; do
		[ -s "$(dv_shots)/$f.png" ] || fail "no screenshot $f"
	done
}

# From 127.0.0.2, which the suite does not exempt: the default 100/min
# with its burst lets the first ones through, then answers 429.
t_20_rate_limit_is_429_problem() {
	local i code n429=0 n200=0 url
	url="https://127.0.0.1:$GH_HTTPS_PORT/api/v1/auth/ping"
	for i in $(seq 40); do
		code=$(gh_curl -sk --interface 127.0.0.2 -o /dev/null \
		    -w '%{http_code}' "$url")
		case $code in
		200) n200=$((n200 + 1)) ;;
		429) n429=$((n429 + 1)) ;;
		esac
	done
	[ "$n200" -ge 15 ] || fail "only $n200 of 40 passed before the limit"
	[ "$n429" -ge 10 ] || fail "only $n429 of 40 limited"
	# One refused answer, read whole; on a slow machine the bucket may
	# have refilled by a token meanwhile, so a few tries.
	for i in $(seq 10); do
		out=$(gh_curl -sk --interface 127.0.0.2 -D "$T_OUT/h" \
		    -w '\n%{http_code}' "$url")
		STATUS=${out##*$'\n'} BODY=${out%$'\n'*}
		[ "$STATUS" = 429 ] && break
	done
	HEADERS=$(tr -d '\r' <"$T_OUT/h" | sed 's/^\([^:]*\):/\L\1:/')
	expect_problem 429
	expect_header retry-after
}

# slow_request TEXT: sends TEXT over TLS and then nothing, until nginx
# closes the connection (at most 15 s).
slow_request() {
	local pid in out
	coproc SLOW { timeout 15 openssl s_client -quiet -connect \
	    "127.0.0.1:$GH_HTTPS_PORT" 2>/dev/null; }
	pid=$SLOW_PID in=${SLOW[1]} out=${SLOW[0]}
	printf '%b' "$1" >&"$in"
	# Reading until EOF: nginx closing the connection ends s_client.
	cat <&"$out" >/dev/null
	wait "$pid" 2>/dev/null || true
}

# From 127.0.0.2 (not exempt): requests in progress at once are capped per
# address (GH_CONN_MAX, 6 here), so slow clients cannot hold every
# connection; a client that stops sending is let go after the timeouts.
t_20b_slow_clients_are_bounded() {
	local i pids=() n429 start end url
	url="https://127.0.0.1:$GH_HTTPS_PORT/api/v1/auth/ping"
	# Eight uploads that trickle one byte a second: the first six are
	# held, the rest refused at once.
	for i in $(seq 8); do
		( for _ in 1 2 3 4; do printf x; sleep 1; done ) |
		    curl -sk --http1.1 --interface 127.0.0.2 -o /dev/null \
		    -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
		    -T - "$url" >"$T_OUT/slow.$i" 2>/dev/null &
		pids+=($!)
		sleep 0.1
	done
	wait "${pids[@]}"
	n429=$(cat "$T_OUT"/slow.* | grep -c '^429$')
	[ "$n429" -ge 2 ] || fail "only $n429 of 8 slow uploads refused (cap 6): $(cat "$T_OUT"/slow.* | tr '\n' ' ')"
	# Headers that never end: the connection is closed after the header
	# timeout (2 s here), not held for a minute.
	start=$(date +%s)
	slow_request 'GET /api/v1/auth/ping HTTP/1.1\r\nHost: localhost\r\n'
	end=$(date +%s)
	[ $((end - start)) -lt 10 ] || fail "a client that stopped sending headers was held $((end - start)) s"
	# A body that stops: ended after the body timeout (3 s here).
	start=$(date +%s)
	slow_request 'POST /api/v1/auth/ping HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{'
	end=$(date +%s)
	[ $((end - start)) -lt 10 ] || fail "a stalled body was held $((end - start)) s"
	req GET /api/v1/auth/ping
	expect_status 200
}

pool_count() {
	gh_pool_workers "$1" | wc -l
}

# CORS: a listed origin gets its own origin back, with credentials, and
# its preflights are answered by nginx; any other origin gets nothing.
t_21_cors_for_listed_origins_only() {
	local v
	for v in --http1.1 --http2; do
		req GET /api/v1/auth/ping "$v" -H 'Origin: https://app.example.test'
		expect_status 200
		expect_header access-control-allow-origin https://app.example.test
		expect_header access-control-allow-credentials true
		expect_header vary Origin
		header access-control-expose-headers | grep -q X-Request-Id ||
		    fail "X-Request-Id is not exposed"
		# An error answer carries them too (the page must read its detail).
		req GET /api/v1/auth/me "$v" -H 'Origin: https://app.example.test'
		expect_problem 401
		expect_header access-control-allow-origin https://app.example.test

		req GET /api/v1/auth/ping "$v" -H 'Origin: https://evil.example'
		expect_status 200
		[ -z "$(header access-control-allow-origin)" ] || fail "an unlisted origin was allowed"
		[ -z "$(header access-control-allow-credentials)" ] || fail "credentials for an unlisted origin"
		expect_header vary Origin
		# No prefix, suffix or case games.
		for o in https://app.example.test.evil.example https://xapp.example.test \
		    http://app.example.test https://app.example.test:444 null; do
			req GET /api/v1/auth/ping "$v" -H "Origin: $o"
			[ -z "$(header access-control-allow-origin)" ] || fail "$o was allowed"
		done

		req OPTIONS /api/v1/payments "$v" -H 'Origin: https://app.example.test' \
		    -H 'Access-Control-Request-Method: POST' \
		    -H 'Access-Control-Request-Headers: authorization, content-type, idempotency-key'
		expect_status 204
		expect_header access-control-allow-origin https://app.example.test
		header access-control-allow-methods | grep -q POST || fail "POST not allowed"
		header access-control-allow-headers | grep -qi idempotency-key ||
		    fail "Idempotency-Key not allowed"
		expect_header access-control-max-age 600

		req OPTIONS /api/v1/payments "$v" -H 'Origin: https://app.example.test' \
		    -H 'Access-Control-Request-Method: POST' \
		    -H 'Access-Control-Request-Headers: content-type, x-evil'
		expect_problem 403
		[ -z "$(header access-control-allow-headers)" ] || fail "a preflight with x-evil was allowed"

		req OPTIONS /api/v1/payments "$v" -H 'Origin: https://evil.example' \
		    -H 'Access-Control-Request-Method: POST'
		expect_problem 403
		[ -z "$(header access-control-allow-origin)" ] || fail "an unlisted preflight was allowed"
	done
}

# An origin goes into nginx's configuration: anything but scheme://host[:port]
# is refused before a file is written.
t_22_cors_origins_are_checked() {
	local o out
	for o in 'https://a.example;' 'https://*.example' 'https://a.example/path' \
	    'ftp://a.example' 'https://a.example:1x' '"https://a.example"' \
	    'https://a.example$x' 'https://' 'https://-a.example'; do
		out=$(mktemp -d)
		if GH_CORS_ORIGINS="$o" "$GH_SRCDIR/nginx/gatehouse-nginx-render" --mode local \
		    --out "$out/conf" --state-dir "$out" >/dev/null 2>&1; then
			fail "origin '$o' was accepted"
		fi
		[ ! -e "$out/conf/gatehouse.conf" ] || fail "origin '$o' left a configuration"
		rm -rf "$out"
	done
}

t_30_killed_worker_is_replaced() {
	local victim i code ok=0 before after bad=
	before=$(gh_pool_workers auth | tr '\n' ' ')
	victim=$(gh_pool_workers auth | head -n 1)
	[ -n "$victim" ] || { fail "no auth workers"; return; }
	kill -KILL "$victim"
	# nginx keeps connections to the pool: one written into the dead
	# worker's in the instant before nginx reads their end is lost
	# (docs/operations.md, "FastCGI connections").  From then on,
	# nothing is.
	sleep 0.2
	for i in $(seq 30); do
		code=$(gh_curl -sk -o /dev/null -w '%{http_code}' \
		    "$(gh_url /api/v1/auth/ping)")
		if [ "$code" = 200 ]; then
			ok=$((ok + 1))
		else
			bad="$bad $i:$code"
		fi
	done
	[ "$ok" = 30 ] || fail "$ok of 30 requests succeeded after the kill (request:status$bad); nginx: $(grep -v '\[warn\]' "$GH_STATE/logs/nginx-error.log" | tail -n 3)"
	for i in $(seq 50); do
		[ "$(pool_count auth)" = "$GH_WORKERS" ] && break
		sleep 0.1
	done
	after=$(gh_pool_workers auth | tr '\n' ' ')
	[ "$(pool_count auth)" = "$GH_WORKERS" ] ||
	    fail "pool has $(pool_count auth) workers, wanted $GH_WORKERS"
	[ "$before" != "$after" ] || fail "no new worker"
	kill -0 "$victim" 2>/dev/null && fail "victim $victim still alive"
}

pg_pids() {
	local pm
	pm=$(head -n 1 "$GH_STATE/pg/data/postmaster.pid")
	printf '%s\n' "$pm"
	pgrep -P "$pm"
}

# A worker told to stop while a request runs finishes it, then exits.
# PostgreSQL is frozen so that a health check stays in flight.
t_35_sigterm_finishes_request_in_flight() {
	local w pids code
	for _ in 1 2 3 4 5 6; do req GET /api/v1/auth/health; done
	pids=$(pg_pids)
	kill -STOP $pids
	gh_curl -sk -o "$T_OUT/inflight" -w '%{http_code}' \
	    "$(gh_url /api/v1/auth/health)" >"$T_OUT/inflight.code" &
	local cpid=$!
	sleep 0.5
	w=$(gh_pool_workers auth | tr '\n' ' ')
	kill -TERM $w
	sleep 0.5
	kill -CONT $pids
	wait "$cpid"
	code=$(cat "$T_OUT/inflight.code")
	[ "$code" = 200 ] || fail "request in flight got $code"
	sleep 0.5
	for p in $w; do
		kill -0 "$p" 2>/dev/null && fail "worker $p did not exit"
	done
	grep -q '"event":"stop"' "$GH_STATE/logs/auth.log" ||
	    fail "no stop line in the log"
	for _ in $(seq 50); do
		[ "$(pool_count auth)" = "$GH_WORKERS" ] && break
		sleep 0.1
	done
	[ "$(pool_count auth)" = "$GH_WORKERS" ] || fail "pool not refilled"
}

t_40_database_down_then_back() {
	local before after i ok=0
	before=$(gh_pool_workers payment | tr '\n' ' ')
	for _ in 1 2 3 4; do req GET /api/v1/payment/health; done
	gh_pg_stop
	req GET /api/v1/payment/health
	expect_problem 503
	expect_header retry-after
	expect_json .database unreachable
	req GET /api/v1/payment/ping
	expect_status 200
	gh_pg_start
	for i in $(seq 10); do
		req GET /api/v1/payment/health
		[ "$STATUS" = 200 ] && ok=$((ok + 1))
	done
	[ "$ok" = 10 ] || fail "$ok of 10 health checks after the restart"
	after=$(gh_pool_workers payment | tr '\n' ' ')
	[ "$before" = "$after" ] || fail "workers restarted: $before -> $after"
}

# #16 item 2: every worker holds an idle connection when PostgreSQL
# restarts; once it is back, the first statement of each is a write (a
# sign-up, a payment's key claim), which must not be sent on the dead
# connection and answered 503 (a write that may have run is rightly not
# sent twice): the worker finds the dead idle connection before it sends.
t_40c_first_writes_after_a_restart_are_not_503() {
	local i n=$((GH_WORKERS * 4)) bad=
	pay_setup
	for i in $(seq "$n"); do
		pay_as "$PAY_A" GET '/api/v1/payments?limit=1'
		req GET /api/v1/auth/health
	done
	gh_pg_stop
	gh_pg_start
	for i in $(seq "$n"); do
		pay_create "$PAY_A" "k40c-$RANDOM-$i" '{"amount":100,"currency":"EUR"}'
		[ "$STATUS" = 201 ] || bad="$bad payment:$STATUS"
		signup "u40c${RANDOM}x$i"
		[ "$STATUS" = 201 ] || bad="$bad sign-up:$STATUS"
	done
	[ -z "$bad" ] || fail "first writes after the restart:$bad"
}

t_31_pools_unprivileged_sockets_for_nginx_only() {
	local svc w user mode
	for svc in $GH_SERVICES; do
		[ "$(pool_count "$svc")" = "$GH_WORKERS" ] ||
		    fail "$svc has $(pool_count "$svc") workers, wanted $GH_WORKERS"
		mode=$(stat -c '%a %G' "$GH_STATE/run/$svc.sock")
		if gh_is_root; then
			[ "$mode" = "660 www-data" ] || fail "$svc socket is $mode"
			for w in $(gh_pool_workers "$svc"); do
				user=$(ps -o user= -p "$w")
				[ "$user" = gatehouse ] || fail "$svc worker runs as $user"
			done
		else
			[ "${mode%% *}" = 660 ] || fail "$svc socket is $mode"
		fi
	done
}

# Only idempotent methods are retried on the next worker: nginx retries a
# POST only when told `non_idempotent`, which must never appear.
t_32_retry_only_idempotent() {
	local conf="$GH_STATE/conf/gatehouse.conf $GH_STATE/conf/snippets/gatehouse-fastcgi.conf"
	# shellcheck disable=SC2086
	grep -q '^[[:space:]]*fastcgi_next_upstream[[:space:]]\+error timeout;' \
	    $conf || fail "no fastcgi_next_upstream"
	# shellcheck disable=SC2086
	cat $conf | grep -v "^[[:space:]]*#" | grep -q non_idempotent &&
	    fail "non-idempotent requests are retried"
	return 0
}

t_45_pool_down_is_502_problem() {
	gh_pool_stop media
	req GET /api/v1/media/ping
	expect_problem 502
	gh_pool_start media
	pool_wait media
}

# A 502 or 504 of nginx's own says when to retry (a pool restarting, a
# worker killed under a request, a timeout are over in seconds), and
# keeps every header of an answer: its location adds one, which drops
# the inherited ones unless it includes them again.
fd_retry_answer() {
	expect_problem "$1"
	expect_header retry-after 5
	expect_header x-content-type-options nosniff
	expect_header strict-transport-security
	expect_header x-frame-options DENY
	expect_json '.detail | test("retry after 5 seconds")' true
}

# fd_nginx_reload: nginx again with its configuration files as they are
# now; returns once the workers of the old one have gone.
fd_nginx_reload() {
	local master old p alive
	master=$(gh_nginx_pid)
	old=$(pgrep -P "$master" | tr '\n' ' ')
	kill -HUP "$master"
	for _ in $(seq 100); do
		alive=0
		for p in $old; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && return 0
		sleep 0.1
	done
	fail "nginx's old workers did not go"
}

t_45b_bad_gateway_and_timeout_say_retry_after() {
	local pids w conf="$GH_STATE/conf/gatehouse.conf"
	# A pool down, over HTTP/2 and HTTP/1.1.
	gh_pool_stop media
	req GET /api/v1/media/ping
	fd_retry_answer 502
	req GET /api/v1/media/ping --http1.1
	fd_retry_answer 502
	gh_pool_start media
	pool_wait media
	# A worker killed under a POST: nginx does not send it again (it may
	# have run), and the client is told when to.  PostgreSQL is frozen so
	# that the request stays in its worker (users of t_payment.sh's).
	pay_setup
	for _ in 1 2 3 4; do req GET /api/v1/payment/health; done
	pids=$(pg_pids)
	kill -STOP $pids
	gh_curl -sk -X POST -D "$T_OUT/killed.h" -o "$T_OUT/killed.b" \
	    -H "Authorization: Bearer $PAY_A" -H "Idempotency-Key: k45b-$RANDOM" \
	    -H 'Content-Type: application/json' \
	    --data-raw '{"amount":45,"currency":"EUR"}' \
	    "$(gh_url /api/v1/payments)" &
	local cpid=$!
	sleep 0.5
	w=$(gh_pool_workers payment | tr '\n' ' ')
	# shellcheck disable=SC2086 # a list of pids
	kill -KILL $w
	wait "$cpid"
	kill -CONT $pids
	STATUS=$(sed -n '1s/^HTTP[^ ]* \([0-9]*\).*/\1/p' "$T_OUT/killed.h")
	BODY=$(cat "$T_OUT/killed.b")
	HEADERS=$(tr -d '\r' <"$T_OUT/killed.h" | sed 's/^\([^:]*\):/\L\1:/')
	fd_retry_answer 502
	pool_wait payment
	# A timeout: the pool's workers stopped, and nginx given a second.
	cp "$conf" "$T_OUT/gatehouse.conf.saved"
	sed -i 's/^\([[:space:]]*fastcgi_read_timeout\) 30s;/\1 1s;/' "$conf"
	grep -q 'fastcgi_read_timeout 1s;' "$conf" || fail "no read timeout to shorten"
	fd_nginx_reload
	w=$(gh_pool_workers payment | tr '\n' ' ')
	# shellcheck disable=SC2086 # a list of pids
	kill -STOP $w
	req GET /api/v1/payment/ping
	# shellcheck disable=SC2086 # a list of pids
	kill -CONT $w
	fd_retry_answer 504
	cp "$T_OUT/gatehouse.conf.saved" "$conf"
	fd_nginx_reload
	pool_wait payment
	rm -f "$T_OUT"/killed.* "$T_OUT/gatehouse.conf.saved"
}
