# shellcheck shell=bash
# tests/bench/peers.sh: the benchmark's peers, sourced by tests/bench/run
# (which has started the stack and defined bench_url, parse_wrk, goal,
# rollup_kib, ratio_of and mib).
#
# The authenticated read GET /api/v1/payments/{reference}, served three
# ways behind the same nginx (the same server block, so the same TLS,
# headers, rate limit and access log) from the same database row:
#   gatehouse  the payment pool ($GH_WORKERS libfcgi workers)
#   express    tests/bench/peers/express: Express, pg and jsonwebtoken
#              from npm (the committed package-lock.json), installed by
#              `npm ci` into $GH_BENCH_CACHE; Node's cluster, one worker
#              per core; at /peers/express/
#   fastapi    tests/bench/peers/fastapi: Debian 12's python3-fastapi,
#              python3-uvicorn with python3-uvloop and python3-httptools,
#              gunicorn with uvicorn.workers.UvicornWorker (one worker per
#              core), python3-asyncpg, python3-jwt; apt-get installs them
#              when the bench runs as root; at /peers/fastapi/
# Each peer logs in as a role of its own that may only SELECT payments.
# nginx keeps connections to the peers (upstream keepalive, as a proxy to
# an HTTP server is set up), as it does to gatehouse's pools.
#
# Measured for each, in rounds that alternate the targets (gatehouse,
# express, fastapi, gatehouse, ...): requests/s, p50 and p99 (wrk
# --latency), CPU microseconds per request of the app's processes, of its
# PostgreSQL backends (by role) and of nginx's workers (utime + stime from
# /proc/<pid>/stat, before and after), Pss (/proc/<pid>/smaps_rollup) per
# worker and per pool when idle (after the rounds) and loaded (halfway
# through each run, the largest), and the cold start: from starting the
# pool to its first 200 through nginx.
#
# Settings: GH_BENCH_PEERS=0 skips all of this; GH_BENCH_PEER_ROUNDS
# rounds (3); GH_BENCH_CACHE where npm's install is kept between runs
# (${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-bench).
# shellcheck disable=SC2154  # threads, conns, duration, ... are run's

peers_all="gatehouse express fastapi"
peers_rounds=${GH_BENCH_PEER_ROUNDS:-3}
peers_cache=${GH_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-bench}
peers_clk=$(getconf CLK_TCK)
# Debian's packages of the FastAPI peer, and what each gives Python.
peers_debs="python3-fastapi python3-uvicorn python3-uvloop python3-httptools gunicorn python3-asyncpg python3-jwt python3-cryptography"
peers_pymods="fastapi, uvicorn.workers, uvloop, httptools, gunicorn, asyncpg, jwt, cryptography"
declare -A peer_skip peer_port peer_path peer_role peer_cold
declare -A peer_rps peer_p50 peer_p99 peer_reqs peer_bad peer_rounds_rps
declare -A peer_cpu_app peer_cpu_pg peer_cpu_nginx peer_nworkers
declare -A peer_idle_w peer_idle_pool peer_load_w peer_load_pool peer_idle_uss

peer_log() {
	printf '%s\n' "$GH_STATE/logs/peer-$1.log"
}

# ---------------------------------------------------------------- install

# The npm packages, once per lock file in the cache; a copy of the peer
# with them in the state folder, where the worker user reads it.
peer_install_express() {
	local src="$GH_SRCDIR/tests/bench/peers/express" key dir
	local dst="$GH_STATE/peers/express"
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		peer_skip[express]="node and npm are missing (script/bootstrap installs Debian's nodejs and npm)"
		return 1
	fi
	if ! node -e 'process.exit(typeof require("node:os").availableParallelism === "function" ? 0 : 1)' 2>/dev/null; then
		peer_skip[express]="node $(node --version) is too old (Express 5 and os.availableParallelism need 18.14 or later)"
		return 1
	fi
	key=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c 1-16)
	dir="$peers_cache/express-$key"
	if [ ! -f "$dir/node_modules/.package-lock.json" ]; then
		gh_say "peers: npm ci of the Express peer into $dir"
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp" || { peer_skip[express]="cannot make $dir.tmp"; return 1; }
		cp "$src/package.json" "$src/package-lock.json" "$dir.tmp/"
		if ! (cd "$dir.tmp" && npm ci --omit=dev --no-audit --no-fund) \
		    >>"$(peer_log express)" 2>&1; then
			peer_skip[express]="npm ci failed: $(tail -n 2 "$(peer_log express)" | tr '\n' ' ')"
			rm -rf "$dir.tmp"
			return 1
		fi
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	mkdir -p "$dst"
	cp "$src/app.js" "$src/server.js" "$src/package.json" "$dst/"
	cp -R "$dir/node_modules" "$dst/"
	chmod -R a+rX "$GH_STATE/peers"
}

# Debian's packages, by apt-get when we are root and they are missing.
peer_install_fastapi() {
	local dst="$GH_STATE/peers/fastapi" log
	log=$(peer_log fastapi)
	# shellcheck disable=SC2086  # the lists split on purpose
	if ! /usr/bin/python3 -c "import $peers_pymods" 2>/dev/null ||
	    [ ! -x /usr/bin/gunicorn ]; then
		if ! gh_is_root; then
			peer_skip[fastapi]="Debian's packages are missing; as root the bench installs them, or: apt-get install $peers_debs"
			return 1
		fi
		gh_say "peers: apt-get install $peers_debs"
		# shellcheck disable=SC2086
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    --no-install-recommends $peers_debs >>"$log" 2>&1; then
			# An old package list: once more after an update.
			# shellcheck disable=SC2086
			apt-get update -q >>"$log" 2>&1
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			    --no-install-recommends $peers_debs >>"$log" 2>&1 || {
				peer_skip[fastapi]="apt-get install failed: $(tail -n 2 "$log" | tr '\n' ' ')"
				return 1
			}
		fi
		/usr/bin/python3 -c "import $peers_pymods" >>"$log" 2>&1 || {
			peer_skip[fastapi]="installed, but Python cannot import them: $(tail -n 1 "$log")"
			return 1
		}
	fi
	mkdir -p "$dst"
	cp "$GH_SRCDIR/tests/bench/peers/fastapi/app.py" "$dst/"
	chmod -R a+rX "$GH_STATE/peers"
}

# ---------------------------------------------------------------- database

peer_psql() {
	gh_as_pg psql -h "$GH_STATE/pg/sock" -U postgres -d "$(gh_db_for payment)" \
	    -qtAX -v ON_ERROR_STOP=1 -c "$1"
}

# A role of the peer's own that may read payments and nothing else; made
# anew with each bench's cluster.
peer_role() {
	local role=$1 db grants
	db=$(gh_db_for payment)
	peer_psql "CREATE ROLE $role LOGIN;
	    GRANT CONNECT ON DATABASE $db TO $role;
	    GRANT USAGE ON SCHEMA public TO $role;
	    GRANT SELECT ON public.payments TO $role" >/dev/null ||
	    gh_die "peers: could not make the role $role"
	grants=$(peer_psql "SELECT string_agg(table_name || ':' || privilege_type, ' ')
	    FROM information_schema.role_table_grants WHERE grantee = '$role'")
	[ "$grants" = "payments:SELECT" ] ||
	    gh_die "peers: $role may do more than read payments: $grants"
}

# The PostgreSQL backends logged in as a role.
peer_pg_pids() {
	peer_psql "SELECT pid FROM pg_stat_activity WHERE usename = '$1'"
}

# ---------------------------------------------------------------- nginx

# The peers' locations in the HTTPS server of the rendered site (the last
# server block: its closing brace is the file's last "}" line), their
# upstreams after it; then a reload.
peer_nginx() {
	local conf="$GH_STATE/conf/gatehouse.conf" last name blocks='' ups=''
	for name in express fastapi; do
		[ -z "${peer_skip[$name]-}" ] || continue
		blocks="$blocks
    # ---- bench peer (tests/bench/peers.sh): $name
    location /peers/$name/ {
        proxy_pass http://gh_peer_$name/;
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_set_header Host \$host;
        proxy_set_header X-Request-Id \$request_id;
        proxy_set_header X-Forwarded-For \$remote_addr;
        proxy_set_header X-Forwarded-Proto https;
        proxy_hide_header X-Powered-By;
    }"
		ups="$ups
upstream gh_peer_$name {
    server 127.0.0.1:${peer_port[$name]};
    keepalive 64;
}"
	done
	[ -n "$blocks" ] || return 0
	last=$(grep -n '^}$' "$conf" | tail -n 1 | cut -d: -f1)
	[ -n "$last" ] || gh_die "peers: no server block's end in $conf"
	{
		head -n $((last - 1)) "$conf"
		printf '%s\n}\n%s\n' "$blocks" "$ups"
		tail -n +$((last + 1)) "$conf"
	} >"$conf.peers" && mv "$conf.peers" "$conf"
	nginx -t -q -c "$GH_STATE/conf/nginx.conf" -p "$GH_STATE" \
	    2>"$GH_STATE/logs/nginx-test.log" ||
	    { cat "$GH_STATE/logs/nginx-test.log" >&2; gh_die "peers: nginx -t failed"; }
	kill -HUP "$(gh_nginx_pid)" || gh_die "peers: could not reload nginx"
	# Reloaded once a peer's path is no longer the static 404.
	for name in express fastapi; do
		[ -z "${peer_skip[$name]-}" ] || continue
		for _ in $(seq 100); do
			[ "$(curl -sk -o /dev/null -w '%{http_code}' \
			    "$(bench_url "/peers/$name/")")" != 404 ] && return 0
			sleep 0.05
		done
		gh_die "peers: nginx did not take the peers' locations"
	done
}

# ---------------------------------------------------------------- processes

peer_pidfile() {
	printf '%s\n' "$GH_STATE/run/peer-$1.pid"
}

# Starts a peer's pool in the background, as the worker user under root
# (setpriv execs, so the pid is the pool's first process).
peer_start() {
	local name=$1 dir="$GH_STATE/peers/$1" user
	set --
	if gh_is_root; then
		user=$(gh_worker_user)
		set -- setpriv --reuid="$user" --regid="$user" --init-groups --
	fi
	case $name in
	express) set -- "$@" node "$dir/app.js" ;;
	fastapi) set -- "$@" /usr/bin/gunicorn --workers "$cores" \
	    --worker-class uvicorn.workers.UvicornWorker \
	    --bind "127.0.0.1:${peer_port[$name]}" --chdir "$dir" app:app ;;
	esac
	(
		cd "$dir" || exit 1
		PGDATABASE=$(gh_db_for payment)
		export PEER_PORT="${peer_port[$name]}" \
		    PEER_KEYS_DIR="$GH_STATE/keys-public" \
		    PGHOST="$GH_STATE/pg/sock" PGPORT=5432 PGDATABASE \
		    PGUSER="${peer_role[$name]}"
		exec "$@"
	) >>"$(peer_log "$name")" 2>&1 &
	printf '%s\n' "$!" >"$(peer_pidfile "$name")"
}

# The pool's first process and its workers.
peer_master() {
	case $1 in
	gatehouse) gh_pool_pid payment ;;
	*) cat "$(peer_pidfile "$1")" 2>/dev/null ;;
	esac
}

peer_workers() {
	local m
	m=$(peer_master "$1") || return 0
	[ -n "$m" ] && pgrep -P "$m" 2>/dev/null | sort -n
}

bench_peers_stop() {
	local name m w
	for name in express fastapi; do
		m=$(peer_master "$name") || continue
		[ -n "$m" ] || continue
		w=$(peer_workers "$name")
		gh_stop_pidfile "$(peer_pidfile "$name")"
		# shellcheck disable=SC2086  # a list of pids
		[ -z "$w" ] || kill -TERM $w 2>/dev/null
	done
	return 0
}

# ms from $2 (date +%s%N) to the first 200 of the authenticated read at
# path $1, asked again and again; fails after 60 s.
peer_first_answer() {
	local url deadline code
	url=$(bench_url "$1")
	deadline=$(( $(date +%s) + 60 ))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		code=$(curl -sk -o /dev/null -w '%{http_code}' \
		    -H "Authorization: Bearer $GH_BENCH_AT" "$url") || code=000
		if [ "$code" = 200 ]; then
			echo $(( ($(date +%s%N) - $2) / 1000000 ))
			return 0
		fi
	done
	return 1
}

# Cold start of a pool: gatehouse's payment pool stopped and started
# again, a peer started for the first time.
peer_cold_start() {
	local name=$1 t0
	if [ "$name" = gatehouse ]; then
		gh_pool_stop payment
		t0=$(date +%s%N)
		gh_pool_start payment
	else
		t0=$(date +%s%N)
		peer_start "$name"
	fi
	peer_cold[$name]=$(peer_first_answer "${peer_path[$name]}" "$t0") ||
	    gh_die "peers: $name gave no 200 within 60 s; see $(peer_log "$name")"
}

# ---------------------------------------------------------------- samples

# "pid ticks" (utime + stime) for each pid that still runs; the fields
# after the command name, which may hold spaces and parentheses.
peer_ticks() {
	local p
	for p in "$@"; do
		awk -v p="$p" '{ sub(/^.*\) /, ""); print p, $12 + $13 }' \
		    "/proc/$p/stat" 2>/dev/null
	done
}

# Ticks spent between two peer_ticks files: a pid missing before started
# in between, and counts whole.  (Not NR == FNR: the first file may be
# empty, when a pool had closed all its connections.)
peer_ticks_delta() {
	awk 'FILENAME == ARGV[1] { b[$1] = $2; next }
	    { d += $2 - (($1 in b) ? b[$1] : 0) } END { print d + 0 }' "$1" "$2"
}

peer_app_pids() {
	peer_master "$1"
	peer_workers "$1"
}

nginx_worker_pids() {
	pgrep -P "$(gh_nginx_pid)" 2>/dev/null
}

# Pss of a pool: sets PSS_W (KiB, the workers' mean), PSS_POOL (KiB, its
# first process and all workers) and USS_W (KiB, the workers' mean of
# their private pages: what one more worker costs, whatever else on the
# machine shares their libraries' pages and so lowers their Pss).
peer_pss() {
	local w p n=0 sw=0 su=0 m k
	w=$(peer_workers "$1")
	m=$(peer_master "$1")
	for p in $w; do
		k=$(rollup_kib "$p" Pss)
		sw=$((sw + ${k:-0}))
		k=$(rollup_kib "$p" Private_Clean)
		su=$((su + ${k:-0}))
		k=$(rollup_kib "$p" Private_Dirty)
		su=$((su + ${k:-0}))
		n=$((n + 1))
	done
	k=$(rollup_kib "$m" Pss)
	PSS_POOL=$((sw + ${k:-0}))
	PSS_W=$(( n > 0 ? sw / n : 0 ))
	USS_W=$(( n > 0 ? su / n : 0 ))
	PSS_N=$n
}

# ticks over requests, in microseconds per request.
peer_us() {
	awk -v t="$1" -v n="$2" -v hz="$peers_clk" \
	    'BEGIN { if (n > 0) printf "%.1f\n", t * 1e6 / hz / n; else print 0 }'
}

# ---------------------------------------------------------------- checks

# A token made as told, signed with the stack's key (tests/tools/jwt-forge).
peer_forge() { # header-json payload-json
	local key
	for key in "$GH_STATE"/keys/*.pem; do break; done
	"$GH_BUILDDIR/tests/tools/jwt-forge" es256 "$key" "$1" "$2"
}

b64url_json() {
	local s=$1
	s=$(printf '%s' "$s" | tr '_-' '/+')
	while [ $(( ${#s} % 4 )) != 0 ]; do s="$s="; done
	printf '%s' "$s" | openssl base64 -d -A
}

# The three must give the same answer to the same request, and refuse
# what gatehouse refuses: otherwise the comparison measures less work.
peer_checks() {
	local name want got hdr pay kid now tok code case url lib
	want=$(curl -sk -H "Authorization: Bearer $GH_BENCH_AT" \
	    "$(bench_url "${peer_path[gatehouse]}")" | jq -S .) ||
	    gh_die "peers: gatehouse's answer is not JSON"
	hdr=$(b64url_json "$(cut -d. -f1 <<<"$GH_BENCH_AT")")
	pay=$(b64url_json "$(cut -d. -f2 <<<"$GH_BENCH_AT")")
	kid=$(jq -r .kid <<<"$hdr")
	now=$(date +%s)
	[ -x "$GH_BUILDDIR/tests/tools/jwt-forge" ] ||
	    gh_die "peers: tests/tools/jwt-forge is not built (make tests/tools/jwt-forge)"
	# uvicorn's "auto" takes uvloop and httptools only when they import.
	if [ -z "${peer_skip[fastapi]-}" ]; then
		for lib in uvloop httptools; do
			grep -q "/$lib/" "/proc/$(peer_workers fastapi | head -n 1)/maps" ||
			    gh_die "peers: the FastAPI workers run without $lib"
		done
	fi
	for name in $peers_all; do
		[ -z "${peer_skip[$name]-}" ] || continue
		url=$(bench_url "${peer_path[$name]}")
		got=$(curl -sk -H "Authorization: Bearer $GH_BENCH_AT" "$url" | jq -S .) ||
		    gh_die "peers: $name's answer is not JSON"
		[ "$got" = "$want" ] ||
		    gh_die "peers: $name answers otherwise than gatehouse: $got against $want"
		# name:payload change:status
		while IFS='|' read -r case change code; do
			tok=$(peer_forge "$(jq -c --arg k "$kid" '{alg: "ES256", typ: "at+jwt", kid: $k}' <<<"{}")" \
			    "$(jq -c --argjson now "$now" "$change" <<<"$pay")")
			got=$(curl -sk -o /dev/null -w '%{http_code}' \
			    -H "Authorization: Bearer $tok" "$url")
			[ "$got" = "$code" ] ||
			    gh_die "peers: $name answers $got, not $code, to a token with $case"
		done <<-'CASES'
		the same claims|.|200
		another issuer|.iss = "evil"|401
		another audience|.aud = "other-api"|401
		expiry passed|.exp = $now - 120|401
		not yet valid|.nbf = $now + 600|401
		no subject|del(.sub)|401
		no jti|del(.jti)|401
		CASES
		# One character inside the signature (the last one holds
		# bits that a decoder may drop).
		tok=${GH_BENCH_AT:0:${#GH_BENCH_AT}-10}
		case ${GH_BENCH_AT:${#GH_BENCH_AT}-10:1} in A) tok="${tok}B" ;; *) tok="${tok}A" ;; esac
		tok="$tok${GH_BENCH_AT:${#GH_BENCH_AT}-9}"
		got=$(curl -sk -o /dev/null -w '%{http_code}' \
		    -H "Authorization: Bearer $tok" "$url")
		[ "$got" = 401 ] ||
		    gh_die "peers: $name answers $got, not 401, to a changed signature"
		got=$(curl -sk -o /dev/null -w '%{http_code}' \
		    -H "Authorization: Bearer $GH_BENCH_AT" "${url%/*}/pay_AAAAAAAAAAAAAAAAAAAAAA")
		[ "$got" = 404 ] ||
		    gh_die "peers: $name answers $got, not 404, to an unknown reference"
	done
}

# ---------------------------------------------------------------- runs

# One measured run of a target: wrk in the background, the pool's Pss
# halfway, CPU ticks of the pool, its backends and nginx's workers
# before and after.
peer_run() {
	local name=$1 round=$2 wrk_pid half d f
	local app_b="$WRK_OUT/ticks-app-b" app_a="$WRK_OUT/ticks-app-a"
	local pg_b="$WRK_OUT/ticks-pg-b" pg_a="$WRK_OUT/ticks-pg-a"
	local ng_b="$WRK_OUT/ticks-ng-b" ng_a="$WRK_OUT/ticks-ng-a"
	f="$WRK_OUT/peer-$name-$round.txt"
	# shellcheck disable=SC2046  # lists of pids
	{
		peer_ticks $(peer_app_pids "$name") >"$app_b"
		peer_ticks $(peer_pg_pids "${peer_role[$name]}") >"$pg_b"
		peer_ticks $(nginx_worker_pids) >"$ng_b"
	}
	GH_BENCH_PHASE=run wrk --latency -t "$threads" -c "$conns" -d "$duration" \
	    -s "$GH_SRCDIR/tests/bench/bearer.lua" "$(bench_url "${peer_path[$name]}")" \
	    >"$f" 2>&1 &
	wrk_pid=$!
	half=$(awk -v d="$(to_ms "$duration")" 'BEGIN { printf "%.3f\n", d / 2000 }')
	sleep "$half"
	peer_pss "$name"
	[ "$PSS_W" -gt "${peer_load_w[$name]:-0}" ] && peer_load_w[$name]=$PSS_W
	[ "$PSS_POOL" -gt "${peer_load_pool[$name]:-0}" ] && peer_load_pool[$name]=$PSS_POOL
	wait "$wrk_pid" || gh_die "wrk failed on $name: $(cat "$f")"
	# shellcheck disable=SC2046
	{
		peer_ticks $(peer_app_pids "$name") >"$app_a"
		peer_ticks $(peer_pg_pids "${peer_role[$name]}") >"$pg_a"
		peer_ticks $(nginx_worker_pids) >"$ng_a"
	}
	parse_wrk "$f"
	[ -n "${GH_BENCH_VERBOSE-}" ] && cat "$f" >&2
	peer_reqs[$name]=$(( ${peer_reqs[$name]:-0} + REQS ))
	peer_bad[$name]=$(( ${peer_bad[$name]:-0} + NON2XX + ERRS ))
	peer_rounds_rps[$name]="${peer_rounds_rps[$name]-}${peer_rounds_rps[$name]:+ }$(printf '%.0f' "$RPS")"
	# Sums over the rounds; divided by the rounds when printed.
	peer_rps[$name]=$(awk -v a="${peer_rps[$name]:-0}" -v b="$RPS" 'BEGIN { print a + b }')
	peer_p50[$name]=$(awk -v a="${peer_p50[$name]:-0}" -v b="$P50" 'BEGIN { print a + b }')
	peer_p99[$name]=$(awk -v a="${peer_p99[$name]:-0}" -v b="$P99" 'BEGIN { print a + b }')
	d=$(peer_ticks_delta "$app_b" "$app_a")
	peer_cpu_app[$name]=$(( ${peer_cpu_app[$name]:-0} + d ))
	d=$(peer_ticks_delta "$pg_b" "$pg_a")
	peer_cpu_pg[$name]=$(( ${peer_cpu_pg[$name]:-0} + d ))
	d=$(peer_ticks_delta "$ng_b" "$ng_a")
	peer_cpu_nginx[$name]=$(( ${peer_cpu_nginx[$name]:-0} + d ))
	if [ "$REQS" = 0 ]; then
		gh_say "peers: no request completed on $name"
		peer_bad[$name]=$(( ${peer_bad[$name]} + 1 ))
	fi
}

peer_mean() { # sum
	awk -v s="$1" -v n="$peers_rounds" 'BEGIN { printf "%.3f\n", s / n }'
}

# A goal that could not be judged: said, kept in the results, not missed.
peer_goal_skip() { # name message
	echo "SKIP $2"
	goal_json="$goal_json$(jq -nc --arg n "$1" --arg m "$2" \
	    '{name: $n, pass: null, detail: $m}')"$'\n'
}

bench_peers_main() {
	local name r ok
	peer_path[gatehouse]="/api/v1/payments/$ref"
	peer_role[gatehouse]=$(gh_app_role payment)
	mkdir -p "$GH_STATE/peers"
	for name in express fastapi; do
		peer_path[$name]="/peers/$name/api/v1/payments/$ref"
		peer_role[$name]="gatehouse_bench_$name"
		peer_port[$name]=$(gh_free_port)
		"peer_install_$name" || gh_say "peers: $name skipped: ${peer_skip[$name]}"
	done
	[ "${peer_port[express]}" != "${peer_port[fastapi]}" ] ||
	    peer_port[fastapi]=$(gh_free_port)
	for name in express fastapi; do
		[ -z "${peer_skip[$name]-}" ] && peer_role "${peer_role[$name]}"
	done
	peer_nginx
	# A token for the whole comparison (the first one may expire in a
	# long run).
	curl -sk -H 'Content-Type: application/json' \
	    --data-raw "{\"login\":\"bench\",\"password\":\"$bench_pw\"}" \
	    "$(bench_url /api/v1/auth/login)" >"$WRK_OUT/peers-login.json"
	GH_BENCH_AT=$(jq -r .access_token "$WRK_OUT/peers-login.json")
	[ -n "$GH_BENCH_AT" ] && [ "$GH_BENCH_AT" != null ] ||
	    gh_die "peers: could not sign in the bench user"
	export GH_BENCH_AT
	for name in $peers_all; do
		[ -z "${peer_skip[$name]-}" ] || continue
		gh_say "peers: cold start of $name"
		peer_cold_start "$name"
		peer_pss "$name"
		peer_nworkers[$name]=$PSS_N
	done
	peer_checks
	peers_load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	gh_say "peers: warming up ($warmup each)"
	for name in $peers_all; do
		[ -z "${peer_skip[$name]-}" ] || continue
		GH_BENCH_PHASE=warmup wrk -t "$threads" -c "$conns" -d "$warmup" \
		    -s "$GH_SRCDIR/tests/bench/bearer.lua" \
		    "$(bench_url "${peer_path[$name]}")" >"$WRK_OUT/peer-warmup-$name.txt" 2>&1 ||
		    gh_die "wrk failed on $name: $(cat "$WRK_OUT/peer-warmup-$name.txt")"
	done
	for r in $(seq "$peers_rounds"); do
		for name in $peers_all; do
			[ -z "${peer_skip[$name]-}" ] || continue
			gh_say "peers: round $r of $peers_rounds, $name: wrk ${peer_path[$name]} $duration"
			# Its pools as they are under load (pg closes a
			# connection idle for 10 s; the other two ran meanwhile).
			GH_BENCH_PHASE=warmup wrk -t "$threads" -c "$conns" -d "$warmup" \
			    -s "$GH_SRCDIR/tests/bench/bearer.lua" \
			    "$(bench_url "${peer_path[$name]}")" >/dev/null 2>&1
			sleep 1
			peer_run "$name" "$r"
		done
	done
	peers_load_after=$(cut -d' ' -f1-3 /proc/loadavg)
	# Idle: the load stopped, a moment to settle.
	sleep 2
	for name in $peers_all; do
		[ -z "${peer_skip[$name]-}" ] || continue
		peer_pss "$name"
		peer_idle_w[$name]=$PSS_W peer_idle_pool[$name]=$PSS_POOL
		peer_idle_uss[$name]=$USS_W
		total_bad=$((total_bad + peer_bad[$name]))
	done
	peers_table
	for name in express fastapi; do
		r=$(peers_goal_of "$name")
		if [ -n "${peer_skip[$name]-}" ] || [ -n "${peer_skip[gatehouse]-}" ]; then
			peer_goal_skip "peer-$name" "gatehouse / $name >= $r: not measured (${peer_skip[$name]})"
			continue
		fi
		ok=$(awk -v a="${peer_rps[gatehouse]}" -v b="${peer_rps[$name]}" -v g="$r" \
		    'BEGIN { print (b > 0 && a / b >= g) ? 1 : 0 }')
		goal "peer-$name" "$ok" "authenticated read, gatehouse / $name $(ratio_of "${peer_rps[gatehouse]}" "${peer_rps[$name]}") >= $r (same run, means of $peers_rounds alternating rounds)"
	done
}

peers_goal_of() {
	case $1 in
	express) echo "$goal_vs_express" ;;
	fastapi) echo "$goal_vs_fastapi" ;;
	esac
}

peers_table() {
	local name
	echo
	echo "the authenticated read GET /api/v1/payments/{reference}, three ways behind the same nginx:"
	echo "  rounds: $peers_rounds, each $peers_all in turn; wrk -t$threads -c$conns $duration each; the means of the rounds"
	echo "  load average before $peers_load_before, after $peers_load_after ($cores cores: anything else running shows here)"
	printf '  %-10s %7s %10s %8s %8s %20s %15s %15s %10s %7s\n' "" workers \
	    "requests/s" "p50 ms" "p99 ms" "CPU us/req app+pg" "idle Pss MiB" \
	    "loaded Pss MiB" "cold start" non-2xx
	printf '  %-10s %7s %10s %8s %8s %20s %15s %15s %10s %7s\n' target "" \
	    "" "" "" "(nginx)" "worker/pool" "worker/pool" "ms" ""
	for name in $peers_all; do
		if [ -n "${peer_skip[$name]-}" ]; then
			printf '  %-10s skipped: %s\n' "$name" "${peer_skip[$name]}"
			continue
		fi
		printf '  %-10s %7s %10.0f %8.3f %8.3f %20s %15s %15s %10s %7s\n' "$name" \
		    "${peer_nworkers[$name]}" "$(peer_mean "${peer_rps[$name]}")" \
		    "$(peer_mean "${peer_p50[$name]}")" "$(peer_mean "${peer_p99[$name]}")" \
		    "$(peer_us "${peer_cpu_app[$name]}" "${peer_reqs[$name]}")+$(peer_us "${peer_cpu_pg[$name]}" "${peer_reqs[$name]}") ($(peer_us "${peer_cpu_nginx[$name]}" "${peer_reqs[$name]}"))" \
		    "$(mib "${peer_idle_w[$name]}")/$(mib "${peer_idle_pool[$name]}")" \
		    "$(mib "${peer_load_w[$name]}")/$(mib "${peer_load_pool[$name]}")" \
		    "${peer_cold[$name]}" "${peer_bad[$name]}"
	done
	printf '  idle worker, private pages (USS):'
	for name in $peers_all; do
		[ -z "${peer_skip[$name]-}" ] && printf ' %s %s MiB;' "$name" "$(mib "${peer_idle_uss[$name]}")"
	done
	echo
	printf '  requests/s of each round:'
	for name in $peers_all; do
		[ -z "${peer_skip[$name]-}" ] && printf ' %s %s;' "$name" "${peer_rounds_rps[$name]}"
	done
	echo
	for name in express fastapi; do
		[ -z "${peer_skip[$name]-}" ] || continue
		printf '  gatehouse / %-7s requests/s %s; %s takes %s times the CPU per request (app + PostgreSQL) and %s times the idle pool Pss\n' \
		    "$name" "$(ratio_of "${peer_rps[gatehouse]}" "${peer_rps[$name]}")" \
		    "$name" "$(ratio_of "$(peer_us "$(( peer_cpu_app[$name] + peer_cpu_pg[$name] ))" "${peer_reqs[$name]}")" \
		    "$(peer_us "$(( peer_cpu_app[gatehouse] + peer_cpu_pg[gatehouse] ))" "${peer_reqs[gatehouse]}")")" \
		    "$(ratio_of "${peer_idle_pool[$name]}" "${peer_idle_pool[gatehouse]}")"
	done
	echo
}

# The peers' figures, added to the results JSON.
bench_peers_json() {
	local out=$1 name js=
	for name in $peers_all; do
		if [ -n "${peer_skip[$name]-}" ]; then
			js="$js$(jq -nc --arg n "$name" --arg why "${peer_skip[$name]}" \
			    '{target: $n, skipped: $why}')"$'\n'
			continue
		fi
		# shellcheck disable=SC2086  # the rounds, one word each
		js="$js$(jq -nc --arg n "$name" --arg p "${peer_path[$name]}" \
		    --argjson w "${peer_nworkers[$name]}" \
		    --argjson rps "$(peer_mean "${peer_rps[$name]}")" \
		    --argjson p50 "$(peer_mean "${peer_p50[$name]}")" \
		    --argjson p99 "$(peer_mean "${peer_p99[$name]}")" \
		    --argjson rounds "$(jq -nc '$ARGS.positional | map(tonumber)' \
		    --args ${peer_rounds_rps[$name]})" \
		    --argjson reqs "${peer_reqs[$name]}" --argjson bad "${peer_bad[$name]}" \
		    --argjson app "$(peer_us "${peer_cpu_app[$name]}" "${peer_reqs[$name]}")" \
		    --argjson pg "$(peer_us "${peer_cpu_pg[$name]}" "${peer_reqs[$name]}")" \
		    --argjson ng "$(peer_us "${peer_cpu_nginx[$name]}" "${peer_reqs[$name]}")" \
		    --argjson iw "${peer_idle_w[$name]}" --argjson ip "${peer_idle_pool[$name]}" \
		    --argjson lw "${peer_load_w[$name]}" --argjson lp "${peer_load_pool[$name]}" \
		    --argjson iu "${peer_idle_uss[$name]}" \
		    --argjson cold "${peer_cold[$name]}" \
		    '{target: $n, path: $p, workers: $w, requests_per_s: $rps,
		      requests_per_s_rounds: $rounds, p50_ms: $p50, p99_ms: $p99,
		      requests: $reqs, bad: $bad,
		      cpu_us_per_request: {app: $app, postgres: $pg, nginx: $ng},
		      pss_kib: {idle_worker: $iw, idle_pool: $ip,
		        loaded_worker: $lw, loaded_pool: $lp},
		      uss_kib: {idle_worker: $iu},
		      cold_start_ms: $cold}')"$'\n'
	done
	jq --argjson t "$(printf '%s' "$js" | jq -s .)" --argjson r "$peers_rounds" \
	    --arg lb "$peers_load_before" --arg la "$peers_load_after" \
	    '. + {peers: {rounds: $r, loadavg_before: $lb, loadavg_after: $la,
	      targets: $t,
	      ratios: ([$t[] | select(.skipped == null)] as $m
	        | ($m | map(select(.target == "gatehouse")) | .[0].requests_per_s) as $g
	        | [$m[] | select(.target != "gatehouse")
	          | {("gatehouse/" + .target): (if $g == null then null
	              else ($g / .requests_per_s * 100 | round / 100) end)}] | add)}}' \
	    "$out" >"$out.tmp" && mv "$out.tmp" "$out"
}
