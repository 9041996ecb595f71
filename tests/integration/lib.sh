# shellcheck shell=bash
# Test primitives for the integration suite: requests through nginx over
# TLS, and assertions that record failures without stopping the suite.

T_FAILS=0
T_COUNT=0
# The failed cases' names, printed again as the run's last line (after
# the logs' tails), where a CI that keeps only the end of the log has it.
T_FAILED_CASES=
T_NAME=
T_OUT=

# Every exchange with the API is kept for tools/openapi-check, which run
# checks against docs/openapi.yaml after the cases: a line in
# $T_EXCHANGES/index (case, method, URL, file prefix) and the headers and
# body curl wrote (PREFIX.h, PREFIX.b), at the cost of two copies.  The
# prefix holds the time and the shell's pid, as cases send requests from
# subshells and in parallel.
T_EXCHANGES=

# gh_exchange_file: a fresh prefix in REPLY.
gh_exchange_file() {
	REPLY=$T_EXCHANGES/${EPOCHREALTIME//[!0-9]/}.$BASHPID
}

# gh_exchange_log METHOD URL PREFIX
gh_exchange_log() {
	[ -n "$T_EXCHANGES" ] || return 0
	printf '%s\t%s\t%s\t%s\n' "$T_NAME" "$1" "$2" "$3" >>"$T_EXCHANGES/index"
}

# gh_headers FILE: curl's -D file as HEADERS holds it (no CRs, each name
# lowercased), in REPLY; bash alone, no process per request.
gh_headers() {
	local line name out=
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line//$'\r'/}
		case $line in
		*:*)	name=${line%%:*}
			out+="${name,,}:${line#*:}"$'\n' ;;
		*)	out+="$line"$'\n' ;;
		esac
	done <"$1"
	while [[ $out == *$'\n' ]]; do
		out=${out%$'\n'}
	done
	REPLY=$out
}

# req METHOD PATH [curl args...]: sets STATUS, BODY, HEADERS (lowercased
# names), HTTPV; REQ_H and REQ_B are the files of the headers and the
# body, which are the exchange's record: read them, never write them.
# Over HTTP/2 unless the caller passes --http1.1.
req() {
	local method=$1 path=$2 out x
	shift 2
	gh_exchange_file
	x=${T_EXCHANGES:+$REPLY}
	x=${x:-$T_OUT/x}
	: >"$x.h"
	: >"$x.b"
	out=$(curl -sk --http2 -X "$method" -D "$x.h" -o "$x.b" \
	    -w '%{http_code} %{http_version} %{method} %{url_effective}' "$@" \
	    "$(gh_url "$path")") || true
	read -r STATUS HTTPV method out <<<"$out"
	gh_exchange_log "$method" "$out" "$x"
	REQ_H=$x.h
	REQ_B=$x.b
	BODY=$(<"$x.b")
	gh_headers "$x.h"
	HEADERS=$REPLY
}

# gh_curl [curl args...] URL: curl for a case that needs its own options,
# output or parallel runs, with the exchange recorded as req's are.  -D
# and -o are honoured; without -o the body goes to stdout, before what
# -w writes, as curl's would.  One URL only.
gh_curl() {
	local a=() d= o= w= x rc
	while [ $# -gt 0 ]; do
		case $1 in
		-D) d=$2; shift 2 ;;
		-o) o=$2; shift 2 ;;
		-w) w=$2; shift 2 ;;
		*) a+=("$1"); shift ;;
		esac
	done
	gh_exchange_file
	x=${T_EXCHANGES:+$REPLY}
	x=${x:-$T_OUT/x.$BASHPID}
	: >"$x.h"
	: >"$x.b"
	curl -D "$x.h" -o "$x.b" -w "%{method} %{url_effective}\n$w" "${a[@]}" \
	    >"$x.w"
	rc=$?
	{
		read -r REPLY
		gh_exchange_log "${REPLY%% *}" "${REPLY#* }" "$x"
		[ -n "$d" ] && cp "$x.h" "$d"
		if [ -z "$o" ]; then
			cat "$x.b" -
		elif [ "$o" != /dev/null ]; then
			cp "$x.b" "$o"
			cat
		else
			cat
		fi
	} <"$x.w"
	return "$rc"
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
	[ -z "${GH_STATE-}" ] || printf '%s: %s\n' "$T_NAME" "${*:0:400}" >>"$GH_STATE/failures"
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
		# The browser scripts record their answers under this case too
		# (tests/oidc/chromium.mjs).
		[ -z "$T_EXCHANGES" ] || export GH_EXCHANGES_DIR=$T_EXCHANGES GH_EXCHANGES_CASE=$f
		T_CASE_FAILED=0
		T_COUNT=$((T_COUNT + 1))
		"$f"
		if [ "$T_CASE_FAILED" = 0 ]; then
			printf 'ok   %s\n' "$f"
		else
			printf 'FAIL %s\n' "$f"
			T_FAILED_CASES="$T_FAILED_CASES $f"
		fi
	done
}
