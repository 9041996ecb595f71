# shellcheck shell=bash
# Test primitives for the integration suite: requests through nginx over
# TLS, and assertions that record failures without stopping the suite.

T_FAILS=0
T_COUNT=0
T_NAME=
T_OUT=

# req METHOD PATH [curl args...]: sets STATUS, BODY, HEADERS (lowercased
# names), HTTPV.  Over HTTP/2 unless the caller passes --http1.1.
req() {
	local method=$1 path=$2 out
	shift 2
	out=$(curl -sk --http2 -X "$method" -D "$T_OUT/h" -o "$T_OUT/b" \
	    -w '%{http_code} %{http_version}' "$@" "$(gh_url "$path")") || true
	STATUS=${out%% *}
	HTTPV=${out##* }
	BODY=$(cat "$T_OUT/b" 2>/dev/null)
	HEADERS=$(tr -d '\r' <"$T_OUT/h" 2>/dev/null | sed 's/^\([^:]*\):/\L\1:/')
}

# pool_wait SVC: until the pool answers its ping again, after a restart.
pool_wait() {
	for _ in $(seq 50); do
		req GET "/api/v1/$1/ping"
		[ "$STATUS" = 200 ] && return 0
		sleep 0.1
	done
	fail "the $1 pool did not come back"
	return 1
}

fail() {
	printf '    FAIL %s: %s\n' "$T_NAME" "$*"
	T_FAILS=$((T_FAILS + 1))
	T_CASE_FAILED=1
}

expect_status() {
	[ "$STATUS" = "$1" ] || fail "status $STATUS, wanted $1 (body: ${BODY:0:300})"
}

# header NAME: the value of a response header, empty when absent.
header() {
	printf '%s\n' "$HEADERS" | sed -n "s/^$1: //Ip" | head -n 1
}

expect_header() {
	local v
	v=$(header "$1")
	if [ -z "$v" ]; then
		fail "no $1 header"
	elif [ -n "${2-}" ] && [ "$v" != "$2" ]; then
		fail "$1 is '$v', wanted '$2'"
	fi
}

# expect_json FILTER VALUE: jq -r on the body.
expect_json() {
	local v
	v=$(printf '%s' "$BODY" | jq -r "$1" 2>/dev/null) || v="<not json>"
	[ "$v" = "$2" ] || fail "$1 is '$v', wanted '$2' (body: ${BODY:0:300})"
}

expect_problem() {
	expect_status "$1"
	expect_header content-type application/problem+json
	expect_json .status "$1"
	expect_json '.request_id' "$(header x-request-id)"
}

# gh_missing TOOL: a tool a case needs is not here.  It skips; where the
# whole suite is required (script/test, CI), it is a failure.
gh_missing() {
	if [ "${GH_REQUIRE_INTEGRATION:-0}" = 1 ]; then
		fail "$1 is missing (script/bootstrap installs it)"
	else
		printf '    SKIP %s: no %s (script/bootstrap installs it)\n' "$T_NAME" "$1"
	fi
}

# gh_node_deps NAME: tests/NAME's npm packages from its committed lock,
# installed when missing or older than the lock; sets GH_NODE_DIR.  In a
# read-only source tree (make distcheck) the folder is copied to the
# build tree first, with tests/oidc/chromium.mjs, which every browser
# script imports.  1 (having skipped or failed) when it cannot be had.
gh_node_deps() {
	local d="$GH_SRCDIR/tests/$1" b="$GH_BUILDDIR/tests"
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		gh_missing node/npm
		return 1
	fi
	if [ ! -w "$d" ]; then
		mkdir -p "$b/$1" "$b/oidc" &&
		    cp "$d"/package.json "$d"/package-lock.json "$d"/*.mjs "$b/$1/" &&
		    cp "$GH_SRCDIR/tests/oidc/chromium.mjs" "$b/oidc/" ||
		    { fail "copying tests/$1"; return 1; }
		d="$b/$1"
	fi
	GH_NODE_DIR=$d
	if [ ! -d "$d/node_modules" ] || [ "$d/package-lock.json" -nt "$d/node_modules" ]; then
		npm ci --prefix "$d" --no-audit --no-fund >"$T_OUT/npm-ci-$1.log" 2>&1 ||
		    { fail "npm ci in tests/$1: $(tail -n 5 "$T_OUT/npm-ci-$1.log")"; return 1; }
		touch "$d/node_modules"
	fi
}

# Runs each function named t_* in the sourced files, in order.
run_cases() {
	local f
	for f in $(declare -F | awk '{print $3}' | grep '^t_'); do
		T_NAME=$f
		T_CASE_FAILED=0
		T_COUNT=$((T_COUNT + 1))
		"$f"
		if [ "$T_CASE_FAILED" = 0 ]; then
			printf 'ok   %s\n' "$f"
		else
			printf 'FAIL %s\n' "$f"
		fi
	done
}
