# shellcheck shell=bash
# The browser console at / (web/index.html, web/console/): how nginx
# serves it, its OAuth client, its QR encoder, and the console itself
# clicked end to end in Debian's Chromium (tests/console/console.mjs),
# whose every answer is checked here against the databases.

CS_PW='quiet-harbour-lantern-77'
CS_USER=cs_cora
CS_ADMIN=cs_admin

cs_psql() { # DB SQL
	gh_as_pg psql -h "$GH_STATE/pg/sock" -U postgres -d "$1" -tAc "$2"
}

cs_missing() {
	if [ "${GH_REQUIRE_INTEGRATION:-0}" = 1 ]; then
		fail "$1 is missing (script/bootstrap installs it)"
	else
		printf '    SKIP %s: no %s (script/bootstrap installs it)\n' "$T_NAME" "$1"
	fi
}

# cs_node_deps: tests/console's packages from the committed lock, installed
# when missing or older than the lock (copied to the build tree first when
# the source tree is read-only, as in make distcheck); sets CS_NODE_DIR.
cs_node_deps() {
	local d="$GH_SRCDIR/tests/console"
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		cs_missing node/npm
		return 1
	fi
	if [ ! -w "$d" ]; then
		mkdir -p "$GH_BUILDDIR/tests/console" &&
		    cp "$d"/package.json "$d"/package-lock.json "$d"/*.mjs \
		    "$GH_BUILDDIR/tests/console/" || { fail "copying tests/console"; return 1; }
		d="$GH_BUILDDIR/tests/console"
	fi
	CS_NODE_DIR=$d
	if [ ! -d "$d/node_modules" ] || [ "$d/package-lock.json" -nt "$d/node_modules" ]; then
		npm ci --prefix "$d" --no-audit --no-fund >"$T_OUT/cs-npm-ci.log" 2>&1 ||
		    { fail "npm ci: $(tail -n 5 "$T_OUT/cs-npm-ci.log")"; return 1; }
		touch "$d/node_modules"
	fi
}

t_19c_00_console_qr_encoder_unit() {
	local d
	cs_node_deps || return 0
	d=$CS_NODE_DIR
	# In a copied folder the test finds the encoder through GH_SRCDIR.
	[ "$d" = "$GH_SRCDIR/tests/console" ] ||
	    { mkdir -p "$GH_BUILDDIR/web" && cp -r "$GH_SRCDIR/web/console" "$GH_BUILDDIR/web/"; }
	node --test "$d/qr.test.mjs" >"$T_OUT/qr-test.log" 2>&1 ||
	    fail "qr.test.mjs: $(grep -E '^not ok|^# (pass|fail)' "$T_OUT/qr-test.log" | head -n 10)"
	grep -q '^# fail 0$' "$T_OUT/qr-test.log" || fail "the QR tests did not all pass"
	grep -q '^# pass [1-9]' "$T_OUT/qr-test.log" || fail "no QR test ran"
}

# The page and its files: the CSP on every one, no inline script or style
# that it would block, no eval, no HTML parsed from strings.
t_19c_01_console_served_under_a_strict_csp() {
	local csp p f
	for p in / /index.html /callback /console/app.js /console/console.css; do
		req GET "$p"
		expect_status 200
		csp=$(header content-security-policy)
		for d in "default-src 'self'" "script-src 'self'" "style-src 'self'" \
		    "connect-src 'self'" "object-src 'none'" "base-uri 'none'" \
		    "frame-ancestors 'none'"; do
			case "; $csp;" in *"; $d;"*) ;; *) fail "$p: CSP lacks $d: $csp" ;; esac
		done
		case $csp in *unsafe-inline*|*unsafe-eval*|*'*'*|*data:*) fail "$p: CSP too wide: $csp" ;; esac
		# The server's headers are still there (add_header inheritance).
		expect_header x-frame-options DENY
		expect_header x-content-type-options nosniff
		expect_header strict-transport-security
		expect_header x-request-id
		expect_header cache-control no-cache
	done
	req GET /callback
	printf '%s' "$BODY" | grep -q 'src="/console/app.js"' || fail "/callback is not the console's page"
	req GET /console/app.js
	expect_header content-type application/javascript
	# Nothing the CSP would refuse, in the page or any module.
	f="$GH_SRCDIR/web/index.html"
	grep -Eiq '<script( [^>]*)?>[^<]|<script>|<style|[[:space:]]style=|[[:space:]]on[a-z]+=' "$f" &&
	    fail "index.html has inline script, style or a handler attribute"
	grep -El '\beval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write|setAttribute\(.style' \
	    "$GH_SRCDIR"/web/console/*.js && fail "a module uses eval or parses HTML"
	# make install copies every module (Makefile.am lists them one by one).
	for f in "$GH_SRCDIR"/web/console/*; do
		grep -q "web/console/${f##*/}" "$GH_SRCDIR/Makefile.am" ||
		    fail "Makefile.am does not install web/console/${f##*/}"
	done
	# An unknown static path is still a 404 problem, not the page.
	req GET /console/nope.js
	expect_problem 404
	req GET /favicon.svg
	expect_status 200
}

cs_client_sql() { # ID: type, skip_consent, redirect and logout URIs
	cs_psql gatehouse_auth "SELECT type || ' ' || skip_consent || ' ' ||
	    array_to_string(redirect_uris, ',') || ' ' || array_to_string(post_logout_redirect_uris, ',')
	    FROM oauth_clients WHERE id = '$1'"
}

# script/server's registration (gh_console_client): a public first-party
# client for this origin, kept while it is good, made anew when the
# database lost it or the port changed.
t_19c_02_console_client_registered_once() {
	local f="$GH_STATE/console.json" id id2 n
	rm -f "$f"
	gh_console_client || { fail "gh_console_client"; return; }
	id=$(jq -r .client_id "$f")
	[ "$(cs_client_sql "$id")" = "public true $(gh_url /callback) $(gh_url /)" ] ||
	    fail "client: $(cs_client_sql "$id")"
	[ "$(stat -c %a "$f")" = 644 ] || fail "console.json mode $(stat -c %a "$f")"
	req GET /console.json
	expect_status 200
	expect_json .client_id "$id"
	expect_json .redirect_uri "$(gh_url /callback)"
	n=$(cs_psql gatehouse_auth "SELECT count(*) FROM oauth_clients")
	gh_console_client
	[ "$(jq -r .client_id "$f")" = "$id" ] || fail "registered again though nothing changed"
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM oauth_clients")" = "$n" ] || fail "a second client"
	# A client the database no longer has, or another origin: a new one.
	jq '.client_id = "nosuchclient123"' "$f" >"$f.x" && mv "$f.x" "$f"
	gh_console_client
	id2=$(jq -r .client_id "$f")
	[ "$id2" != nosuchclient123 ] && [ -n "$(cs_client_sql "$id2")" ] || fail "not made anew: $id2"
	cs_psql gatehouse_auth "UPDATE oauth_clients SET redirect_uris = '{https://localhost:1/callback}' WHERE id = '$id2'" >/dev/null
	gh_console_client
	[ "$(jq -r .client_id "$f")" != "$id2" ] || fail "kept a client of another origin"
	CS_CLIENT=$(jq -r .client_id "$f")
}

# gatehouse-first-run registers the console's client for GH_PUBLIC_URL,
# once; a URL that is not https://host[:port] registers nothing.
t_19c_03_first_run_registers_the_console() {
	local d out id u
	d="$GH_STATE/first-run-console"
	rm -rf "$d"
	cs_fr() {
		GH_ETC_DIR="$d/etc" GH_RUN_DIR="$d/run" GH_STATE_DIR="$d/lib" \
		    GH_BACKUP_DIR="$d/backups" GH_SQL_DIR="$GH_SRCDIR/sql" \
		    PATH="$GH_BUILDDIR/fcgi/auth:$PATH" \
		    "$GH_SRCDIR/admin/gatehouse-first-run" --no-user
	}
	for u in http://console.example.test https://console.example.test/app "https://a b"; do
		out=$(GH_PUBLIC_URL=$u cs_fr 2>&1) || fail "first run with $u failed: $out"
		printf '%s\n' "$out" | grep -q 'console: no OAuth client registered' ||
		    fail "$u: no word of the console: $out"
		[ ! -e "$d/etc/console.json" ] || fail "$u: console.json written"
	done
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM oauth_clients WHERE 'http://console.example.test/callback' = ANY(redirect_uris) OR 'https://console.example.test/app/callback' = ANY(redirect_uris)")" = 0 ] ||
	    fail "a client was registered for a bad URL"
	out=$(GH_PUBLIC_URL=https://console.example.test cs_fr 2>&1) || fail "first run failed: $out"
	id=$(jq -r .client_id "$d/etc/console.json" 2>/dev/null)
	[ "$(cs_client_sql "$id")" = "public true https://console.example.test/callback https://console.example.test/" ] ||
	    fail "client: '$(cs_client_sql "$id")' ($out)"
	[ "$(stat -c %a "$d/etc/console.json")" = 644 ] || fail "console.json mode"
	out=$(GH_PUBLIC_URL=https://console.example.test cs_fr 2>&1) || fail "second run failed: $out"
	printf '%s\n' "$out" | grep -q 'nothing changed: everything' || fail "second run changed something: $out"
	[ "$(jq -r .client_id "$d/etc/console.json")" = "$id" ] || fail "console.json changed"
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM oauth_clients WHERE 'https://console.example.test/callback' = ANY(redirect_uris)")" = 1 ] ||
	    fail "registered twice"
	unset -f cs_fr
	rm -rf "$d"
}

# cs_browser: the console clicked through once (tests/console/console.mjs),
# its JSON summary in CS_OUT for the cases below; 1 when it could not run.
cs_browser() {
	local shots="$GH_STATE/logs/console"
	[ -n "${CS_OUT-}" ] && return 0
	[ -n "${CS_RAN-}" ] && return 1
	CS_RAN=1
	[ -x /usr/bin/chromium ] || { cs_missing /usr/bin/chromium; return 1; }
	cs_node_deps || return 1
	[ -s "$GH_STATE/console.json" ] && [ -n "${CS_CLIENT-}" ] || {
		gh_console_client
		CS_CLIENT=$(jq -r .client_id "$GH_STATE/console.json")
	}
	cs_admin_setup
	cs_files
	CS_OUT=$(NODE_EXTRA_CA_CERTS="$GH_STATE/tls/cert.pem" \
	    CONSOLE_URL="$(gh_url '')" CONSOLE_SHOTS="$shots" \
	    CONSOLE_USER=$CS_USER CONSOLE_PASSWORD=$CS_PW \
	    CONSOLE_ADMIN=$CS_ADMIN CONSOLE_ADMIN_PASSWORD=$CS_PW \
	    CONSOLE_FILES="$GH_STATE/console-files" \
	    timeout 300 node "$CS_NODE_DIR/console.mjs" 2>"$T_OUT/console.err")
	printf '%s\n' "$CS_OUT" >"$GH_STATE/logs/console.json"
	if [ -n "${GH_TEST_SHOTS-}" ]; then
		mkdir -p "$GH_TEST_SHOTS" && cp "$shots"/*.png "$GH_TEST_SHOTS/" 2>/dev/null
	fi
	if ! printf '%s' "$CS_OUT" | jq -e .ok >/dev/null 2>&1; then
		fail "console.mjs: $(printf '%s' "$CS_OUT" | jq -c '{error, url, page}' 2>/dev/null || printf '%s' "$CS_OUT" | head -c 600) $(head -c 600 "$T_OUT/console.err")"
		return 0
	fi
}

# cs_json FILTER VALUE: expect_json on the browser's summary.
cs_json() {
	BODY=$CS_OUT
	expect_json "$@"
}

# An admin to sign in with, made as the README says (--make-admin).
cs_admin_setup() {
	req POST /api/v1/auth/register -H 'Content-Type: application/json' \
	    --data-raw "{\"username\":\"$CS_ADMIN\",\"email\":\"$CS_ADMIN@example.com\",\"password\":\"$CS_PW\"}"
	env "$(gh_pool_env auth | grep '^GH_DB=')" \
	    "$GH_STATE/bin/gatehouse-auth" --make-admin "$CS_ADMIN" >/dev/null 2>&1 ||
	    fail "make-admin $CS_ADMIN"
}

# The files the browser uploads: a real PNG (a thumbnail is made of it)
# and a PDF of some megabytes (its upload takes long enough, throttled, to
# see the bar move).
cs_files() {
	local d="$GH_STATE/console-files"
	mkdir -p "$d"
	vips black "$d/small.png" 48 32 --bands 3 >/dev/null 2>&1 ||
	    fail "vips could not make a PNG"
	{ printf '%%PDF-1.4\n'; head -c 6000000 /dev/urandom | base64 -w 76; printf '\n%%%%EOF\n'; } >"$d/big.pdf"
}

cs_uid() {
	cs_psql gatehouse_auth "SELECT id FROM users WHERE username = '$1'"
}

t_19c_10_console_signs_up_and_in_with_pkce() {
	local uid
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	cs_json '.health | join(",")' "auth:up,payment:up,media:up"
	# Bad sign-up fields named next to their inputs, nothing made.
	cs_json '.signup_errors | keys | join(",")' "email,password,username"
	cs_json '.signup_errors.password' "must be at least 12 characters"
	printf '%s' "$CS_OUT" | jq -r .signup_detail | grep -q '^username: ' || fail "no detail: $(printf '%s' "$CS_OUT" | jq -r .signup_detail)"
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM users WHERE username = 'x'")" = 0 ] || fail "a bad sign-up made a user"
	uid=$(cs_uid $CS_USER)
	[ -n "$uid" ] || fail "no user $CS_USER"
	cs_json .provider_login_prefilled "$CS_USER"
	cs_json .signed_in_as "$CS_USER"
	# Signed in through the console's client, with DPoP-bound sessions.
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM sessions WHERE user_id = '$uid' AND client_id = '$CS_CLIENT' AND dpop_jkt IS NOT NULL")" -ge 2 ] ||
	    fail "no DPoP-bound console session: $(cs_psql gatehouse_auth "SELECT client_id, dpop_jkt FROM sessions WHERE user_id = '$uid'")"
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM sessions WHERE user_id = '$uid' AND (client_id IS DISTINCT FROM '$CS_CLIENT')")" = 0 ] ||
	    fail "a session of another client"
	# Kept: the refresh and ID tokens in this tab only; the access token nowhere.
	cs_json '.storage.session | join(",")' "gh.console.idt,gh.console.rt"
	cs_json '.storage.local | length' 0
	cs_json .storage.hasAccess false
	cs_json .reload_token_status 200
	cs_json .reload_token_dpop true
	cs_json .reload_token_type DPoP
	cs_json .reload_signed_in true
	printf '%s' "$CS_OUT" | jq -r .csp | grep -q "script-src 'self'" || fail "CSP: $(printf '%s' "$CS_OUT" | jq -r .csp)"
}

t_19c_11_console_totp_enrolment_and_sign_out() {
	local uid
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	uid=$(cs_uid $CS_USER)
	cs_json .qr_decoded true
	cs_json .qr_uri_secret true
	cs_json '.totp_bad_errors | keys | join(",")' code
	cs_json '.recovery_codes | length' 10
	cs_json '[.recovery_codes[] | test("^[0-9a-f]{20}$")] | all' true
	cs_json .recovery_gone true
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM user_totp WHERE user_id = '$uid' AND confirmed_at IS NOT NULL")" = 1 ] ||
	    fail "TOTP not on: $(cs_psql gatehouse_auth "SELECT * FROM user_totp WHERE user_id = '$uid'")"
	# RP logout: the tab forgot everything, the provider asked for the
	# password and the code again.
	cs_json '.after_signout_storage | length' 0
	cs_json .second_signin true
	cs_json .totp_on_text true
	cs_json '.steps | index("provider-totp") != null' true
	# The first session ended with the sign-out; the second is bound to
	# a new key (the old one was deleted).
	[ "$(cs_psql gatehouse_auth "SELECT count(DISTINCT dpop_jkt) FROM sessions WHERE user_id = '$uid'")" = 2 ] ||
	    fail "the key was kept across the sign-out"
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM sessions WHERE user_id = '$uid' AND revoked_at IS NULL")" = 1 ] ||
	    fail "the signed-out session lives on: $(cs_psql gatehouse_auth "SELECT id, revoked_at FROM sessions WHERE user_id = '$uid'")"
}

# Nothing the page did broke its CSP or threw.
t_19c_19_console_no_csp_violation_or_script_error() {
	local f
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	for f in user admin phone; do
		BODY=$CS_OUT
		[ "$(printf '%s' "$CS_OUT" | jq -r ".${f}_log // empty")" = "" ] && continue
		expect_json ".${f}_log.csp | length" 0
		expect_json ".${f}_log.errors | length" 0
	done
	cs_json '.user_csp_events | length' 0
	for f in $(printf '%s' "$CS_OUT" | jq -r '.steps[]'); do
		[ -s "$GH_STATE/logs/console/$f.png" ] || fail "no screenshot $f"
	done
}
