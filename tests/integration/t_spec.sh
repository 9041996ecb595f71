# shellcheck shell=bash
# The spec cannot drift: run checks every answer the cases get against
# docs/openapi.yaml with tools/openapi-check.  This case checks the
# checker: one real answer passes, and copies of it changed one way each
# (and answers the spec does not describe) are each named as a mismatch.

# sv_fake NAME METHOD PATH STATUS [SED-SCRIPT-FOR-HEADERS [BODY]]: an
# exchange in $T_OUT/sv, made from the ping's recorded one.
sv_fake() {
	local x="$T_OUT/sv/$1"
	sed -e "1s/ 200 / $4 /" -e "${5:-}" "$T_OUT/sv/ping.h" >"$x.h"
	if [ $# -ge 6 ]; then
		printf '%s' "$6" >"$x.b"
	else
		cp "$T_OUT/sv/ping.b" "$x.b"
	fi
	printf '%s\t%s\t%s\t%s\n' "sv_$1" "$2" "$(gh_url "$3")" "$x" \
	    >>"$T_OUT/sv/index"
}

# sv_check WANT...: the checker on $T_OUT/sv/index fails, naming each.
sv_check() {
	local out w
	if out=$(node "$T_SPEC_CHECK/check.mjs" "$GH_SRCDIR/docs/openapi.yaml" \
	    "$T_OUT/sv/index" "$GH_SRCDIR/nginx/snippets/gatehouse-errors.conf.in"); then
		fail "the checker passed what it must not: $out"
		return
	fi
	for w in "$@"; do
		printf '%s\n' "$out" | grep -qF -- "$w" || fail "the checker did not say '$w': $out"
	done
}

t_15s_answers_are_checked_against_the_spec() {
	local out
	if [ -z "$T_SPEC_CHECK" ]; then
		printf '    SKIP %s: no node (script/bootstrap installs it)\n' "$T_NAME"
		return 0
	fi
	rm -rf "$T_OUT/sv" && mkdir -p "$T_OUT/sv"
	req GET /api/v1/auth/ping
	expect_status 200
	cp "$REQ_H" "$T_OUT/sv/ping.h"
	cp "$REQ_B" "$T_OUT/sv/ping.b"
	printf 'sv_ping\tGET\t%s\t%s\n' "$(gh_url /api/v1/auth/ping)" \
	    "$T_OUT/sv/ping" >"$T_OUT/sv/index"
	out=$(node "$T_SPEC_CHECK/check.mjs" "$GH_SRCDIR/docs/openapi.yaml" \
	    "$T_OUT/sv/index" "$GH_SRCDIR/nginx/snippets/gatehouse-errors.conf.in") ||
	    fail "the checker refused the ping: $out"
	printf '%s\n' "$out" | grep -q '^openapi-check: 1 exchanges checked .*, 0 mismatches' ||
	    fail "the checker did not check the ping: $out"

	sv_fake status GET /api/v1/auth/ping 418
	sv_fake path GET /api/v1/auth/pong 200
	sv_fake method DELETE /api/v1/auth/ping 200
	sv_fake type GET /api/v1/auth/ping 200 's|^content-type: .*|content-type: text/plain|I'
	sv_fake body GET /api/v1/auth/ping 200 '' '{"status":1,"service":"auth"}'
	sv_fake json GET /api/v1/auth/ping 200 '' '{"status":'
	sv_fake header GET /api/v1/auth/ping 200 's|^x-request-id: .*|x-request-id: not-hex|I'
	sv_fake noid GET /api/v1/auth/ping 200 '/^x-request-id:/Id'
	# A problem the router did not make: not a generic 404.
	sv_fake problem GET /api/v1/auth/nothing 404 \
	    's|^content-type: .*|content-type: application/problem+json|I' \
	    '{"type":"about:blank","title":"Not Found","status":404,"detail":"gone"}'
	sv_check "FAIL sv_status: spec: GET /api/v1/auth/ping -> 418: status 418 is not one of" \
	    "FAIL sv_path: spec: GET /api/v1/auth/pong -> 200: the spec has no path /api/v1/auth/pong" \
	    "FAIL sv_method: spec: DELETE /api/v1/auth/ping -> 200: the spec has no DELETE on /api/v1/auth/ping" \
	    "FAIL sv_type: spec: GET /api/v1/auth/ping -> 200: content type 'text/plain' is not one of application/json" \
	    "FAIL sv_body: spec: GET /api/v1/auth/ping -> 200: body: /status must be string" \
	    "FAIL sv_json: spec: GET /api/v1/auth/ping -> 200: the body is not JSON" \
	    "FAIL sv_header: spec: GET /api/v1/auth/ping -> 200: header X-Request-Id: 'not-hex'" \
	    "FAIL sv_noid: spec: GET /api/v1/auth/ping -> 200: no X-Request-Id header, which the spec requires" \
	    "FAIL sv_problem: spec: GET /api/v1/auth/nothing -> 404: the spec has no path" \
	    "11 mismatches in 9 cases"
}
