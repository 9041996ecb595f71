# shellcheck shell=bash
# Functions that start and stop the local stack: a private PostgreSQL
# cluster, the three worker pools and nginx, all under one state folder.
# Sourced by script/server, tests/integration/run and tests/bench/run.
#
# Inputs (set before calling gh_stack_start):
#   GH_SRCDIR    the source tree           GH_BUILDDIR  the build tree
#   GH_STATE     the state folder (kept between runs by script/server)
#   GH_HTTPS_PORT, GH_HTTP_PORT            GH_WORKERS   workers per pool
# As root, PostgreSQL runs as `postgres`, workers as `gatehouse` (made by
# script/bootstrap) and nginx workers as www-data, as in production.

# The services, their databases and roles: what the installed tools use.
# shellcheck source=../admin/gatehouse-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../admin/gatehouse-common.sh" ||
    { echo "gatehouse: cannot read admin/gatehouse-common.sh" >&2; exit 1; }
GH_SERVICES="${GH_ALL_SERVICES[*]}"

gh_die() {
	printf 'gatehouse: %s\n' "$*" >&2
	exit 1
}

gh_say() {
	printf '==> %s\n' "$*" >&2
}

gh_is_root() {
	[ "$(id -u)" -eq 0 ]
}

# Runs a command as the PostgreSQL owner: `postgres` under root, else us.
gh_as_pg() {
	if gh_is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

gh_pg_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] || gh_die "PostgreSQL server binaries not found (run script/bootstrap)"
	printf '%s\n' "$d"
}

gh_worker_user() {
	if gh_is_root; then
		id gatehouse >/dev/null 2>&1 ||
		    gh_die "user gatehouse is missing (run script/bootstrap)"
		printf 'gatehouse\n'
	fi
}

# Two different free ports for nginx, when the caller set none.
gh_pick_ports() {
	GH_HTTPS_PORT=$(gh_free_port)
	GH_HTTP_PORT=$(gh_free_port)
	while [ "$GH_HTTP_PORT" = "$GH_HTTPS_PORT" ]; do
		GH_HTTP_PORT=$(gh_free_port)
	done
	export GH_HTTPS_PORT GH_HTTP_PORT
}

# A port nobody listens on, from a range unlikely to be in use.
# Below the kernel's ephemeral range: a port that is only some outgoing
# connection's local end (curl's, say) looks free to a connect() yet
# cannot be bound, and a server started on it fails at random.
gh_free_port() {
	local p tries=0 low=32768
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	[ "$low" -gt 12000 ] 2>/dev/null || low=32768
	while [ $tries -lt 100 ]; do
		p=$(( 10000 + RANDOM % (low - 10000) ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s\n' "$p"
			return 0
		fi
		tries=$((tries + 1))
	done
	gh_die "no free port found"
}

gh_state_init() {
	mkdir -p "$GH_STATE"/{pg,run,logs,tls,conf,bin,media}
	# Other users (postgres, gatehouse, www-data) reach into the folder.
	chmod 755 "$GH_STATE"
	chmod 755 "$GH_STATE"/{pg,logs,conf,bin}
	if gh_is_root; then
		chown postgres: "$GH_STATE/pg"
		chown "$(gh_worker_user)":www-data "$GH_STATE/run" "$GH_STATE/media"
		chmod 750 "$GH_STATE/run" "$GH_STATE/media"
	fi
}

# A self-signed certificate for localhost, made once.
gh_cert() {
	local dir="$GH_STATE/tls"
	[ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ] && return 0
	gh_say "making a self-signed certificate for localhost"
	(umask 077 && openssl req -x509 -newkey ec \
	    -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
	    -subj /CN=localhost \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
	    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null) ||
	    gh_die "openssl could not make a certificate"
}

# Token signing keys, made once: private ones for auth, public ones for
# the services that only verify.
gh_keys() {
	local keys="$GH_STATE/keys" pub="$GH_STATE/keys-public"
	mkdir -p "$keys" "$pub"
	chmod 700 "$keys"
	if ! ls "$keys"/*.pem >/dev/null 2>&1; then
		gh_say "making a token signing key"
		"$GH_SRCDIR/admin/gatehouse-keygen" "$keys" >/dev/null ||
		    gh_die "could not make a signing key"
	fi
	"$GH_SRCDIR/admin/gatehouse-keygen" --no-new --public "$pub" \
	    "$keys" >/dev/null || gh_die "could not export the public keys"
	chmod 755 "$pub"
	if gh_is_root; then
		chown -R "$(gh_worker_user)": "$keys"
	fi
	# The payment provider's webhook secret (script/payment-sim signs with it).
	if [ ! -s "$GH_STATE/webhook/secret" ]; then
		mkdir -p "$GH_STATE/webhook"
		"$GH_SRCDIR/script/payment-sim" keygen "$GH_STATE/webhook/secret" \
		    >/dev/null || gh_die "could not make the webhook secret"
	fi
	chmod 700 "$GH_STATE/webhook"
	gh_is_root && chown -R "$(gh_worker_user)": "$GH_STATE/webhook"
	# Data the workers read, where the worker user can reach it.
	mkdir -p "$GH_STATE/share"
	install -m 644 "$GH_SRCDIR/fcgi/auth/common-passwords.txt" \
	    "$GH_STATE/share/common-passwords.txt"
	chmod 755 "$GH_STATE/share"
}

gh_pg_env() {
	export PGHOST="$GH_STATE/pg/sock" PGPORT=5432 PGUSER=postgres
}

# PostgreSQL listens only on a unix socket inside the state folder, so
# its port never collides with anything.
gh_pg_start() {
	local bin data="$GH_STATE/pg/data"
	bin=$(gh_pg_bin)
	mkdir -p "$GH_STATE/pg/sock"
	gh_is_root && chown postgres: "$GH_STATE/pg/sock"
	if [ ! -s "$data/PG_VERSION" ]; then
		gh_say "creating a PostgreSQL cluster in $data"
		gh_as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust \
		    -E UTF8 --locale=C.UTF-8 >"$GH_STATE/logs/initdb.log" 2>&1 ||
		    gh_die "initdb failed; see $GH_STATE/logs/initdb.log"
	fi
	gh_is_root && touch "$GH_STATE/logs/postgres.log" &&
	    chown postgres: "$GH_STATE/logs/postgres.log"
	gh_as_pg "$bin/pg_ctl" -D "$data" -l "$GH_STATE/logs/postgres.log" \
	    -w -t 60 -o "-c listen_addresses='' -c unix_socket_directories='$GH_STATE/pg/sock' -p 5432 -c fsync=${GH_PG_FSYNC:-on}" \
	    start >/dev/null || gh_die "PostgreSQL did not start; see $GH_STATE/logs/postgres.log"
	gh_pg_env
}

gh_pg_stop() {
	local data="$GH_STATE/pg/data"
	[ -f "$data/postmaster.pid" ] || return 0
	gh_as_pg "$(gh_pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1
}

gh_db_setup() {
	gh_pg_env
	GH_SQL_DIR="$GH_SRCDIR/sql" "$GH_SRCDIR/sql/gatehouse-db-setup" \
	    >"$GH_STATE/logs/db-setup.log" 2>&1 ||
	    { cat "$GH_STATE/logs/db-setup.log" >&2; gh_die "database setup failed"; }
}

# What nginx serves at /docs/: the spec and the API reference's files, as
# make install puts them side by side, linked from the source tree (edits
# to the spec show at the next reload).  Without the built reference
# (tools/docs-viewer/site, made by make) /docs/ answers the spec alone.
gh_docs_root() {
	local d="$GH_STATE/docs" v="$GH_SRCDIR/tools/docs-viewer" f
	rm -rf "$d" && mkdir -p "$d" &&
	    ln -s "$GH_SRCDIR/docs/openapi.yaml" "$d/" || return 1
	[ -f "$v/site/.stamp" ] || return 0
	for f in "$v/index.html" "$v/gatehouse-docs.js" "$v"/site/*; do
		ln -s "$f" "$d/" || return 1
	done
}

gh_nginx_conf() {
	local exempt="${GH_RATE_EXEMPT-}"
	gh_docs_root || gh_die "could not link the docs into $GH_STATE/docs"
	"$GH_SRCDIR/nginx/gatehouse-nginx-render" --mode local \
	    --out "$GH_STATE/conf" --state-dir "$GH_STATE" \
	    --https-port "$GH_HTTPS_PORT" --http-port "$GH_HTTP_PORT" \
	    --socket-dir "$GH_STATE/run" --rate-exempt "$exempt" \
	    --docs-root "$GH_STATE/docs" --web-root "${GH_WEB_ROOT:-$GH_SRCDIR/web}" \
	    --media-root "$GH_STATE/media" >/dev/null ||
	    gh_die "could not render the nginx configuration"
}

gh_nginx_start() {
	gh_nginx_conf
	nginx -t -q -c "$GH_STATE/conf/nginx.conf" -p "$GH_STATE" \
	    2>"$GH_STATE/logs/nginx-test.log" ||
	    { cat "$GH_STATE/logs/nginx-test.log" >&2; gh_die "nginx -t failed"; }
	nginx -c "$GH_STATE/conf/nginx.conf" -p "$GH_STATE" 2>>"$GH_STATE/logs/nginx-start.log"
}

gh_nginx_pid() {
	cat "$GH_STATE/nginx.pid" 2>/dev/null
}

gh_nginx_stop() {
	local pid
	pid=$(gh_nginx_pid) || return 0
	[ -n "$pid" ] || return 0
	kill -QUIT "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
}

# The worker's environment: which database, as which role.
# GH_PG_CONN, when set, names the server(s) instead of the state's socket:
# libpq's host=, port= and target_session_attrs= (a multi-host string).
gh_pool_env() {
	local svc=$1
	printf 'GH_DB=%s dbname=%s user=%s\n' \
	    "${GH_PG_CONN:-host=$GH_STATE/pg/sock port=5432}" \
	    "$(gh_db_for "$svc")" "$(gh_app_role "$svc")"
	printf 'GH_LOG_LEVEL=%s\n' "${GH_LOG_LEVEL:-info}"
	# What clients reach: the htu of a DPoP proof names it.
	printf 'GH_PUBLIC_URL=https://localhost:%s\n' "$GH_HTTPS_PORT"
	[ -z "${GH_DPOP_WINDOW-}" ] || printf 'GH_DPOP_WINDOW=%s\n' "$GH_DPOP_WINDOW"
	# Server-provided DPoP nonces: one key file for every service.
	[ -z "${GH_DPOP_NONCE-}" ] || printf 'GH_DPOP_NONCE=%s\n' "$GH_DPOP_NONCE"
	[ -z "${GH_DPOP_NONCE_SLOT-}" ] || printf 'GH_DPOP_NONCE_SLOT=%s\n' "$GH_DPOP_NONCE_SLOT"
	[ -z "${GH_DPOP_NONCE_KEY_FILE-}" ] ||
	    printf 'GH_DPOP_NONCE_KEY_FILE=%s\n' "$GH_DPOP_NONCE_KEY_FILE"
	# Auth reads its own sessions and users; the others follow the feed.
	[ "$svc" = auth ] ||
	    printf 'GH_REVOKED_FILE=%s\n' "$GH_STATE/run/revoked"
	if [ "$svc" = auth ]; then
		printf 'GH_JWT_KEYS_DIR=%s\n' "$GH_STATE/keys"
		printf 'GH_COMMON_PASSWORDS=%s\n' "$GH_STATE/share/common-passwords.txt"
		printf 'GH_REFRESH_GRACE=%s\n' "${GH_REFRESH_GRACE:-10}"
		# The suite and the bench sign many users up from one address.
		printf 'GH_REGISTER_LIMIT=%s\n' "${GH_REGISTER_LIMIT:-100000}"
		# The OpenID provider's name: what the tests reach it at.
		printf 'GH_OIDC_ISSUER=https://localhost:%s\n' "$GH_HTTPS_PORT"
	else
		printf 'GH_JWT_PUBLIC_KEYS_DIR=%s\n' "$GH_STATE/keys-public"
	fi
	# Read per event (made by script/payment-sim keygen), so they rotate live.
	if [ "$svc" = payment ]; then
		printf 'GH_WEBHOOK_SECRET_FILE=%s\n' "$GH_STATE/webhook/secret"
		printf 'GH_WEBHOOK_SECRET_PREVIOUS_FILE=%s\n' "$GH_STATE/webhook/secret.previous"
	fi
	# Media: the files' root, limits, and the link-signing key, made once
	# and readable by the workers only.
	if [ "$svc" = media ]; then
		local key="$GH_STATE/secrets/media-link.key"
		if [ ! -s "$key" ]; then
			mkdir -p "$GH_STATE/secrets"
			chmod 700 "$GH_STATE/secrets"
			(umask 077 && openssl rand -hex 32 | tr -d '\n' >"$key")
			gh_is_root && chown -R "$(gh_worker_user)": "$GH_STATE/secrets"
		fi
		printf 'GH_MEDIA_DIR=%s\n' "$GH_STATE/media"
		printf 'GH_MEDIA_LINK_SECRET_FILE=%s\n' "$key"
		printf 'GH_MEDIA_MAX=%s\n' "${GH_MEDIA_MAX:-100m}"
		printf 'GH_MEDIA_QUOTA=%s\n' "${GH_MEDIA_QUOTA:-1g}"
		printf 'GH_MEDIA_MAX_PIXELS=%s\n' "${GH_MEDIA_MAX_PIXELS:-100000000}"
		printf 'GH_MEDIA_THUMB_PROGRAM=%s\n' \
		    "${GH_MEDIA_THUMB_PROGRAM:-$GH_STATE/bin/gatehouse-media-thumb}"
		printf 'GH_MEDIA_THUMB_SECONDS=%s\n' "${GH_MEDIA_THUMB_SECONDS:-5}"
	fi
}

# One pool, as the units run it: gatehouse-pool (the build's, with the
# spawn-fcgi and multiwatch that configure found), which becomes
# multiwatch, keeping GH_WORKERS workers on a socket of mode 0660, group
# www-data under root.
# GH_<SVC>_LISTEN (tcp:ADDR:PORT, with FCGI_WEB_SERVER_ADDRS) puts the
# pool on TCP instead, as the units do.  A second pool of a service (the
# cluster tests run two) is gh_pool_start SVC NAME: NAME's pid and log.
gh_pool_start() {
	local svc=$1 name=${2:-$1} user sock bin log listen
	listen="GH_${svc^^}_LISTEN"
	sock=${!listen:-$GH_STATE/run/$svc.sock}
	bin="$GH_STATE/bin/gatehouse-$svc"
	log="$GH_STATE/logs/$name.log"
	# A copy the worker user can reach, whatever the build tree's modes.
	install -m 755 "$GH_BUILDDIR/fcgi/$svc/gatehouse-$svc" "$bin"
	[ "$svc" != media ] || install -m 755 \
	    "$GH_BUILDDIR/fcgi/media/gatehouse-media-thumb" "$GH_STATE/bin"
	case $sock in tcp:*) ;; *) rm -f "$sock" ;; esac
	set --
	if gh_is_root; then
		user=$(gh_worker_user)
		set -- -u "$user" -g "$user" -U "$user" -G www-data
	fi
	(
		while IFS= read -r kv; do export "${kv?}"; done <<-EOF
		$(gh_pool_env "$svc")
		EOF
		export GH_WORKERS="${GH_WORKERS:-2}" \
		    GH_POOL_RETRIES="${GH_POOL_RETRIES:-1000}"
		exec "$GH_BUILDDIR/admin/gatehouse-pool" "$@" "$sock" "$bin"
	) >>"$log" 2>&1 &
	printf '%s\n' "$!" >"$GH_STATE/run/$name.pid"
}

# The revocation feed of this host (gatehouse-revoked), as its unit runs
# it: auth's database, the file every worker reads.  Started before the
# pools, so that their first request finds the list.
gh_revoked_start() {
	local bin="$GH_STATE/bin/gatehouse-revoked" user
	install -m 755 "$GH_BUILDDIR/fcgi/revoked/gatehouse-revoked" "$bin"
	set --
	gh_is_root && user=$(gh_worker_user) && set -- runuser -u "$user" --
	(
		export "$(gh_pool_env auth | grep '^GH_DB=')" \
		    GH_REVOKED_FILE="$GH_STATE/run/revoked" \
		    GH_REVOKED_INTERVAL="${GH_REVOKED_INTERVAL:-30}"
		exec "$@" "$bin"
	) >>"$GH_STATE/logs/revoked.log" 2>&1 &
	printf '%s\n' "$!" >"$GH_STATE/run/revoked.pid"
	for _ in $(seq 50); do
		[ -s "$GH_STATE/run/revoked" ] && return 0
		sleep 0.1
	done
	gh_say "warning: gatehouse-revoked wrote no list yet; see $GH_STATE/logs/revoked.log"
}

# gh_stop_pidfile FILE: TERM to the process FILE names, five seconds to
# finish, then KILL; the file goes either way.
gh_stop_pidfile() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$1"
}

gh_revoked_stop() {
	gh_stop_pidfile "$GH_STATE/run/revoked.pid"
}

# gh_mail_relay_start PORT USER: script/server's local relay, with its
# certificate, login and password made once in $GH_STATE/devmail (the
# mailer's copy of the password owned by USER, when given); 0 once it
# listens.
gh_mail_relay_start() {
	local port=$1 user=$2 dir="$GH_STATE/devmail" pid
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || {
		gh_say "mailer: python3-aiosmtpd is missing (script/bootstrap installs it): no local relay, not started"
		return 1
	}
	mkdir -p "$dir"
	chmod 755 "$dir"
	if [ ! -s "$dir/cert.pem" ]; then
		(umask 077 && openssl req -x509 -newkey ec \
		    -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
		    -subj /CN=localhost -addext "subjectAltName=DNS:localhost" \
		    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null) ||
		    { gh_say "mailer: openssl could not make the relay's certificate"; return 1; }
		chmod 644 "$dir/cert.pem"
	fi
	if [ ! -s "$dir/password" ]; then
		printf 'dev\n' >"$dir/user"
		(umask 077 && openssl rand -hex 16 >"$dir/password" &&
		    cp "$dir/password" "$dir/client-password")
	fi
	[ -z "$user" ] || chown "$user": "$dir/client-password"
	rm -f "$dir/ready"
	/usr/bin/python3 "$GH_SRCDIR/tests/integration/smtp-server.py" serve \
	    "$dir" "$port" "$dir/cert.pem" "$dir/key.pem" --text \
	    >>"$GH_STATE/logs/smtp-dev.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$GH_STATE/run/smtp-dev.pid"
	for _ in $(seq 100); do
		[ -e "$dir/ready" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	gh_say "mailer: the local relay did not start on port $port (GH_SMTP_DEV_PORT); see $GH_STATE/logs/smtp-dev.log"
	gh_stop_pidfile "$GH_STATE/run/smtp-dev.pid"
	return 1
}

# gatehouse-mailer for script/server, as its unit runs it (the role
# gatehouse_mailer), and the relay it sends to, by GH_MAILER:
#   local (default)  a relay of our own on 127.0.0.1:GH_SMTP_DEV_PORT (2525),
#                    tests/integration/smtp-server.py, with STARTTLS, AUTH
#                    and a certificate the mailer checks, as a real relay
#                    has; it keeps each mail in $GH_STATE/devmail/mail/
#                    (<name>.eml as sent, <name>.txt to read and click)
#                    and sends nothing on
#   relay            the relay of GH_SMTP_URL, with GH_MAIL_FROM and
#                    GH_SMTP_USER, GH_SMTP_PASSWORD_FILE, GH_SMTP_CA_FILE
#                    as the environment has them
#   off              no mailer: mail waits in the outbox
# The API works without a mailer: a failure here is said, and returns 1.
gh_mail_start() {
	local mode="${GH_MAILER:-local}" user=
	local port="${GH_SMTP_DEV_PORT:-2525}" bin="$GH_STATE/bin/gatehouse-mailer"
	local tpl="${GH_MAIL_TEMPLATES:-$GH_STATE/share/mail}" menv i pid
	case $mode in
	off)	gh_say "mailer: off (GH_MAILER=off); mail waits in the outbox"
		return 0 ;;
	local|relay) ;;
	*)	gh_say "mailer: GH_MAILER=$mode is not local, relay or off; not started"
		return 1 ;;
	esac
	gh_is_root && user=$(gh_worker_user)
	menv=("GH_DB=host=$GH_STATE/pg/sock port=5432 dbname=$(gh_db_for auth) user=$(gh_mailer_role)"
	    "GH_LOG_LEVEL=${GH_LOG_LEVEL:-info}"
	    "GH_MAIL_FROM=${GH_MAIL_FROM:-gatehouse (dev) <no-reply@gatehouse.test>}"
	    "GH_PUBLIC_URL=${GH_PUBLIC_URL:-https://localhost:$GH_HTTPS_PORT}"
	    "GH_PRODUCT_NAME=${GH_PRODUCT_NAME:-gatehouse}"
	    "GH_MAIL_TEMPLATES=$tpl")
	if [ "$mode" = relay ]; then
		if [ -z "${GH_SMTP_URL-}" ] || [ -z "${GH_MAIL_FROM-}" ]; then
			gh_say "mailer: GH_MAILER=relay needs GH_SMTP_URL and GH_MAIL_FROM (and GH_SMTP_USER, GH_SMTP_PASSWORD_FILE for a login); not started"
			return 1
		fi
	else
		gh_mail_relay_start "$port" "$user" || return 1
		menv+=("GH_SMTP_URL=smtp://localhost:$port" GH_SMTP_USER=dev
		    "GH_SMTP_PASSWORD_FILE=$GH_STATE/devmail/client-password"
		    "GH_SMTP_CA_FILE=$GH_STATE/devmail/cert.pem" GH_SMTP_TLS_VERIFY=yes)
	fi
	# Copies the worker user can reach, whatever the tree's modes.
	install -m 755 "$GH_BUILDDIR/fcgi/mailer/gatehouse-mailer" "$bin"
	if [ -z "${GH_MAIL_TEMPLATES-}" ]; then
		mkdir -p "$tpl"
		install -m 644 "$GH_SRCDIR"/fcgi/mailer/templates/* "$tpl"
		chmod 755 "$tpl"
	fi
	: >>"$GH_STATE/logs/mailer.log"
	i=$(wc -l <"$GH_STATE/logs/mailer.log")
	set --
	[ -z "$user" ] || set -- runuser -u "$user" --
	(
		for kv in "${menv[@]}"; do export "${kv?}"; done
		exec "$@" "$bin"
	) >>"$GH_STATE/logs/mailer.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$GH_STATE/run/mailer.pid"
	# Started, or stopped at once by a setting it cannot use.
	for _ in $(seq 100); do
		tail -n +"$((i + 1))" "$GH_STATE/logs/mailer.log" |
		    grep -q '"event":"start"' && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$pid" 2>/dev/null; then
		gh_say "mailer: did not start: $(tail -n +"$((i + 1))" "$GH_STATE/logs/mailer.log" |
		    jq -r 'select(.level == "error") | .msg' 2>/dev/null | head -n 3)"
		gh_mail_stop
		return 1
	fi
	if [ "$mode" = local ]; then
		gh_say "mailer: mail goes to a local relay (127.0.0.1:$port) and no further; read it in $GH_STATE/devmail/mail/*.txt"
	else
		gh_say "mailer: sending through $GH_SMTP_URL"
	fi
}

gh_mail_stop() {
	gh_stop_pidfile "$GH_STATE/run/mailer.pid"
	gh_stop_pidfile "$GH_STATE/run/smtp-dev.pid"
}

gh_pool_pid() {
	cat "$GH_STATE/run/$1.pid" 2>/dev/null
}

# The workers of a pool: multiwatch's children.
gh_pool_workers() {
	local pid
	pid=$(gh_pool_pid "$1") || return 0
	# Not the zombies: a dead worker that multiwatch has not reaped yet
	# (or never will, once it is stopped) serves nothing.
	pgrep -P "$pid" -r D,I,R,S,T,t,W 2>/dev/null | sort -n
}

gh_pool_stop() {
	gh_stop_pidfile "$GH_STATE/run/$1.pid"
}

# gh_sanitizer_clean: 0 when no worker built with sanitizers reported
# anything (they report at exit, into their logs); else names the logs,
# prints the reports and returns 1.
# (pay-a and pay-b: the second payment pools of t_cluster.sh.)
gh_sanitizer_clean() {
	local pat='ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:'
	grep -l "$pat" "$GH_STATE"/logs/{auth,payment,media,pay-a,pay-b}.log \
	    2>/dev/null || return 0
	grep -h -A 20 "$pat" "$GH_STATE"/logs/{auth,payment,media,pay-a,pay-b}.log \
	    2>/dev/null | head -n 80
	return 1
}

gh_url() {
	printf 'https://localhost:%s%s\n' "$GH_HTTPS_PORT" "$1"
}

# Waits until each service answers its ping through nginx.
gh_wait_ready() {
	local svc code
	for svc in $GH_SERVICES; do
		for _ in $(seq 100); do
			code=$(curl -sk -o /dev/null -w '%{http_code}' \
			    "$(gh_url "/api/v1/$svc/ping")") || true
			[ "$code" = 200 ] && break
			sleep 0.1
		done
		[ "$code" = 200 ] || gh_die "$svc did not answer its ping (last status $code); see $GH_STATE/logs/$svc.log"
	done
}

gh_stack_start() {
	local svc tries
	: "${GH_SRCDIR:?}" "${GH_BUILDDIR:?}" "${GH_STATE:?}"
	: "${GH_HTTPS_PORT:=8443}" "${GH_HTTP_PORT:=8080}"
	export GH_HTTPS_PORT GH_HTTP_PORT
	gh_state_init
	gh_cert
	gh_keys
	gh_pg_start
	gh_db_setup
	gh_revoked_start
	for svc in $GH_SERVICES; do gh_pool_start "$svc"; done
	# A free port can be taken between the look and the bind (tests run
	# side by side): with ports picked for us, pick again and retry.
	tries=0
	until gh_nginx_start; do
		tries=$((tries + 1))
		if [ "${GH_PORTS_AUTO:-0}" != 1 ] || [ "$tries" -ge 5 ]; then
			cat "$GH_STATE/logs/nginx-start.log" >&2
			gh_die "nginx did not start; see $GH_STATE/logs/nginx-error.log"
		fi
		gh_pick_ports
	done
	gh_wait_ready
}

# gh_console_client: the browser console's OAuth client (a public,
# first-party one; web/console/auth.js) for https://localhost:PORT, and
# $GH_STATE/console.json naming it, which nginx serves at /console.json.
# Registered again only when the file is missing, or names a client the
# database no longer has (a wiped cluster) or another origin (a new port).
gh_console_client() {
	local f="$GH_STATE/console.json" origin id have out
	origin=$(gh_url '')
	if [ -s "$f" ]; then
		id=$(jq -r '.client_id // empty' "$f" 2>/dev/null) || id=
		have=$(printf '%s\n' "SELECT array_to_string(redirect_uris, ' ') FROM oauth_clients WHERE id = :'id' AND NOT disabled" |
		    psql -d "$(gh_db_for auth)" -XAt -v id="$id" 2>/dev/null) || have=
		[ -n "$id" ] && [ "$have" = "$origin/callback" ] && return 0
	fi
	out=$(env "$(gh_pool_env auth | grep '^GH_DB=')" \
	    "$GH_STATE/bin/gatehouse-auth" --add-client "gatehouse console" \
	    --type public --skip-consent --redirect-uri "$origin/callback" \
	    --post-logout-uri "$origin/" \
	    --scopes "openid profile email offline_access" 2>&1) ||
	    { printf '%s\n' "$out" >&2; gh_die "could not register the console's OAuth client"; }
	id=$(printf '%s\n' "$out" | sed -n 's/^client_id: //p')
	[ -n "$id" ] || gh_die "gatehouse-auth --add-client printed no client_id"
	jq -n --arg id "$id" --arg o "$origin" \
	    '{client_id: $id, redirect_uri: ($o + "/callback"), post_logout_redirect_uri: ($o + "/")}' \
	    >"$f.tmp" && chmod 644 "$f.tmp" && mv "$f.tmp" "$f" ||
	    gh_die "could not write $f"
}

gh_stack_stop() {
	local svc
	gh_nginx_stop
	for svc in $GH_SERVICES; do gh_pool_stop "$svc"; done
	gh_revoked_stop
	gh_mail_stop
	gh_pg_stop
}
