# shellcheck shell=bash
# The browser console at / (web/index.html, web/console/): how nginx
# serves it, its OAuth client, its QR encoder, and the console itself
# clicked end to end in Debian's Chromium (tests/console/console.mjs),
# whose every answer is checked here against the databases.

CS_PW='quiet-harbour-lantern-77'
CS_USER=cs_cora
CS_ADMIN=cs_admin
CS_VICTIM=cs_erin
CS_DOOMED=cs_dora

cs_psql() { # DB SQL
	gh_as_pg psql -h "$GH_STATE/pg/sock" -U postgres -d "$1" -tAc "$2"
}

# cs_node_deps: tests/console's packages (gh_node_deps, lib.sh); sets
# CS_NODE_DIR.
cs_node_deps() {
	gh_node_deps console || return 1
	CS_NODE_DIR=$GH_NODE_DIR
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

# From 127.0.0.5, which the suite does not exempt: three loads' worth of
# the console's files (its own zone), and then the API still has its
# whole burst (20 by default); in the API's zone the files would have
# spent it.
t_19c_04_console_files_do_not_spend_the_api_allowance() {
	local args=() f i codes
	for i in 1 2 3; do
		for f in / /console/console.css /favicon.svg /console.json \
		    $(cd "$GH_SRCDIR/web" && printf '/%s\n' console/*.js); do
			args+=(-o /dev/null "https://127.0.0.1:$GH_HTTPS_PORT$f")
		done
	done
	[ "${#args[@]}" -ge 120 ] || fail "only $(( ${#args[@]} / 3 )) files"
	codes=$(curl -sk --interface 127.0.0.5 -w '%{http_code}\n' "${args[@]}" | sort | uniq -c | tr -s ' ')
	case $codes in *" 429"*) fail "the files were limited: $codes" ;; esac
	args=()
	for i in $(seq 15); do
		args+=(-o /dev/null "https://127.0.0.1:$GH_HTTPS_PORT/api/v1/auth/ping")
	done
	codes=$(curl -sk --interface 127.0.0.5 -w '%{http_code}\n' "${args[@]}" | sort | uniq -c | tr -s ' ')
	[ "$codes" = " 15 200" ] || fail "the API's burst was spent: $codes"
}

# cs_del_state UID: what an account has, in each database and on disk,
# as one line (the deletion cases compare it before and after).
cs_del_state() {
	local files
	files=$(cs_psql gatehouse_media "SELECT storage_path || ' ' || coalesce(thumb_path, '') FROM media WHERE owner = '$1'" |
	    tr ' ' '\n' | sed '/^$/d' | while read -r f; do
		[ -s "$GH_STATE/media/$f" ] && printf 'f'
	done)
	printf 'users=%s sessions=%s media=%s likes=%s comments=%s payments=%s ledger=%s files=%s' \
	    "$(cs_psql gatehouse_auth "SELECT count(*) FROM users WHERE id = '$1'")" \
	    "$(cs_psql gatehouse_auth "SELECT count(*) FROM sessions WHERE user_id = '$1' AND revoked_at IS NULL")" \
	    "$(cs_psql gatehouse_media "SELECT count(*) FROM media WHERE owner = '$1'")" \
	    "$(cs_psql gatehouse_media "SELECT count(*) FROM media_likes WHERE user_id = '$1'")" \
	    "$(cs_psql gatehouse_media "SELECT count(*) FROM media_comments WHERE user_id = '$1'")" \
	    "$(cs_psql gatehouse_payments "SELECT count(*) FROM payments WHERE user_id = '$1'")" \
	    "$(cs_psql gatehouse_payments "SELECT count(*) FROM transactions t JOIN payments p ON p.id = t.payment_id WHERE p.user_id = '$1'")" \
	    "${#files}"
}

# cs_del_account NAME: an account with a PNG (and its thumbnail on disk),
# a like and a comment on it, and a payment; sets CS_DEL_AT, CS_DEL_UID.
cs_del_account() {
	local png="$GH_STATE/cs-del.png" id
	req POST /api/v1/auth/register -H 'Content-Type: application/json' \
	    --data-raw "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$CS_PW\"}"
	expect_status 201
	CS_DEL_UID=$(printf '%s' "$BODY" | jq -r .user.id)
	req POST /api/v1/auth/login -H 'Content-Type: application/json' \
	    --data-raw "{\"login\":\"$1\",\"password\":\"$CS_PW\"}"
	expect_status 200
	CS_DEL_AT=$(printf '%s' "$BODY" | jq -r .access_token)
	[ -s "$png" ] || vips black "$png" 40 30 --bands 3 >/dev/null 2>&1 || fail "vips"
	req POST /api/v1/media -H "Authorization: Bearer $CS_DEL_AT" -F "file=@$png;type=image/png"
	expect_status 201
	id=$(printf '%s' "$BODY" | jq -r .id)
	req POST "/api/v1/media/$id/likes" -H "Authorization: Bearer $CS_DEL_AT"
	req POST "/api/v1/media/$id/comments" -H "Authorization: Bearer $CS_DEL_AT" \
	    -H 'Content-Type: application/json' --data-raw '{"body":"mine"}'
	expect_status 201
	req POST /api/v1/payments -H "Authorization: Bearer $CS_DEL_AT" \
	    -H "Idempotency-Key: cs-del-$RANDOM$RANDOM" -H 'Content-Type: application/json' \
	    --data-raw '{"amount":500,"currency":"EUR","description":"kept"}'
	expect_status 201
}

cs_verify() { # TOKEN BODY
	req POST /api/v1/auth/me/password/verify -H "Authorization: Bearer $1" \
	    -H 'Content-Type: application/json' --data-raw "$2"
}

# The password checked alone (POST /api/v1/auth/me/password/verify): every
# bad request is refused naming its field and leaves the account, its
# media and files, its payments as they were; a wrong password counts
# as a failed sign-in.  The right one changes nothing either.
t_19c_05_password_verify_changes_nothing() {
	local before fails body
	cs_del_account cs_vera
	before=$(cs_del_state "$CS_DEL_UID")
	case $before in "users=1 sessions=1 media=1 likes=1 comments=1 payments=1 ledger=1 files=2") ;;
	*) fail "set-up: $before" ;; esac
	fails() { cs_psql gatehouse_auth "SELECT coalesce(sum(failures), 0) FROM login_throttle WHERE key = 'user:$CS_DEL_UID'"; }
	cs_verify "$CS_DEL_AT" '{"password":"not the password at all"}'
	expect_problem 403
	expect_json '.errors | map(.field) | join(",")' password
	expect_json '.detail | test("password")' true
	[ "$(fails)" = 1 ] || fail "the wrong password was not counted: $(fails)"
	for body in '{}' '{"password":12}' '{"password":null}' '[]' 'not json' \
	    '{"password":"x","extra":1}' \
	    "{\"password\":\"$(head -c 1100 /dev/zero | tr '\0' a)\"}"; do
		cs_verify "$CS_DEL_AT" "$body"
		case $STATUS in 400|422) ;; *) fail "$body: status $STATUS" ;; esac
		expect_header content-type application/problem+json
		case $body in '['*|not*) ;;
		*'extra'*) expect_json '.errors | map(.field) | join(",")' extra ;;
		*) expect_json '.errors | map(.field) | join(",")' password ;;
		esac
	done
	cs_verify "" "{\"password\":\"$CS_PW\"}"
	expect_problem 401
	cs_verify "$CS_DEL_AT.x" "{\"password\":\"$CS_PW\"}"
	expect_problem 401
	req POST /api/v1/auth/me/password/verify -H "Authorization: Bearer $CS_DEL_AT" \
	    -H 'Content-Type: text/plain' --data-raw "{\"password\":\"$CS_PW\"}"
	case $STATUS in 400|415) ;; *) fail "text/plain: status $STATUS" ;; esac
	[ "$(cs_del_state "$CS_DEL_UID")" = "$before" ] || fail "a refused check changed: $(cs_del_state "$CS_DEL_UID")"
	cs_verify "$CS_DEL_AT" "{\"password\":\"$CS_PW\"}"
	expect_status 200
	expect_json .purpose delete_media
	expect_json '.grant | split(".") | length' 3
	expect_json '.expires_in > 0' true
	[ "$(cs_del_state "$CS_DEL_UID")" = "$before" ] || fail "the check changed: $(cs_del_state "$CS_DEL_UID")"
	cs_verify "$CS_DEL_AT" "{\"password\":\"$CS_PW\",\"purpose\":\"everything\"}"
	expect_problem 422
	expect_json '.errors | map(.field) | join(",")' purpose
	# Throttled like sign-in: an account held back is 429 here too,
	# whatever the password.
	cs_psql gatehouse_auth "UPDATE login_throttle SET locked_until = now() + interval '10 minutes' WHERE key = 'user:$CS_DEL_UID'" >/dev/null
	cs_verify "$CS_DEL_AT" "{\"password\":\"$CS_PW\"}"
	expect_problem 429
	expect_header retry-after
	cs_psql gatehouse_auth "DELETE FROM login_throttle WHERE key = 'user:$CS_DEL_UID'" >/dev/null
	# A disabled account is refused whatever the password.
	cs_psql gatehouse_auth "UPDATE users SET disabled = true WHERE id = '$CS_DEL_UID'" >/dev/null
	cs_verify "$CS_DEL_AT" "{\"password\":\"$CS_PW\"}"
	expect_problem 401
	cs_psql gatehouse_auth "UPDATE users SET disabled = false WHERE id = '$CS_DEL_UID'" >/dev/null
	[ "$(cs_del_state "$CS_DEL_UID")" = "$before" ] || fail "changed: $(cs_del_state "$CS_DEL_UID")"
	unset -f fails
}

# The deletion as the console makes it (docs/console.md): the password
# checked, the media, then the account.  What the docs promise goes: the
# account, its sessions, its items with their files and thumbnails, its
# likes and comments; the payments stay (a ledger is not deleted).
t_19c_06_account_deletion_in_order() {
	local before paths f
	cs_del_account cs_vic
	before=$(cs_del_state "$CS_DEL_UID")
	paths=$(cs_psql gatehouse_media "SELECT storage_path || ' ' || thumb_path FROM media WHERE owner = '$CS_DEL_UID'")
	[ "$(printf '%s' "$paths" | wc -w)" = 2 ] || fail "no file and thumbnail: $paths"
	cs_verify "$CS_DEL_AT" "{\"password\":\"$CS_PW\"}"
	expect_status 200
	req DELETE /api/v1/media/users/me -H "Authorization: Bearer $CS_DEL_AT" \
	    -H "Gatehouse-Grant: $(printf '%s' "$BODY" | jq -r .grant)"
	expect_status 200
	expect_json .items 1
	expect_json .likes 1
	expect_json .comments 1
	req DELETE /api/v1/auth/me -H "Authorization: Bearer $CS_DEL_AT" \
	    -H 'Content-Type: application/json' --data-raw "{\"password\":\"$CS_PW\"}"
	expect_status 204
	[ "$(cs_del_state "$CS_DEL_UID")" = "users=0 sessions=0 media=0 likes=0 comments=0 payments=1 ledger=1 files=0" ] ||
	    fail "after: $(cs_del_state "$CS_DEL_UID") (before: $before)"
	for f in $paths; do
		[ ! -e "$GH_STATE/media/$f" ] || fail "$f is still on disk"
	done
	# The token is refused now (its session went with the account).
	cs_verify "$CS_DEL_AT" "{\"password\":\"$CS_PW\"}"
	expect_problem 401
}

# Every browser script launches Chromium through tests/oidc/chromium.mjs,
# none on its own (a second way to launch it would drift from the first).
t_19c_07_browser_scripts_share_one_launch() {
	local f n=0
	for f in "$GH_SRCDIR"/tests/oidc/*.mjs "$GH_SRCDIR"/tests/console/*.mjs; do
		[ "${f##*/}" = chromium.mjs ] && continue
		grep -q "from 'playwright-core'" "$f" || continue
		n=$((n + 1))
		grep -q 'chromium\.launch(' "$f" && fail "${f#"$GH_SRCDIR"/} launches Chromium itself"
		grep -Eq "import \{ launch \} from '(\./|\.\./oidc/)chromium\.mjs'" "$f" ||
		    fail "${f#"$GH_SRCDIR"/} does not use tests/oidc/chromium.mjs"
	done
	[ "$n" -ge 5 ] || fail "only $n browser scripts found"
	grep -q 'tests/oidc/chromium.mjs' "$GH_SRCDIR/Makefile.am" || fail "chromium.mjs is not distributed"
}

# /docs without its slash is sent to /docs/, its query kept, by a relative
# Location that no Host or query can point elsewhere.
t_19c_08_docs_without_slash_redirects() {
	local q loc
	req GET /docs
	expect_status 301
	expect_header location /docs/
	expect_header x-request-id
	expect_header strict-transport-security
	expect_header x-content-type-options nosniff
	req HEAD /docs
	expect_status 301
	expect_header location /docs/
	for q in 'a=1&b=two' 'x=%2F%2Fevil.example' '//evil.example/' '@evil.example' \
	    'u=https://evil.example/&v=%0d%0aSet-Cookie:x=1'; do
		req GET "/docs?$q"
		expect_status 301
		loc=$(header location)
		[ "$loc" = "/docs/?$q" ] || fail "/docs?$q went to '$loc'"
		[ -z "$(header set-cookie)" ] || fail "/docs?$q set a cookie"
	done
	# The Host a client sends is not the target (absolute_redirect off).
	req GET /docs -H 'Host: evil.example' -H 'X-Forwarded-Host: evil.example'
	case $(header location) in /docs/) ;; *) fail "a Host made the Location '$(header location)'" ;; esac
	# Followed, it is the reference; the rest is as it was.
	req GET /docs -L
	expect_status 200
	printf '%s' "$BODY" | grep -qi 'swagger\|openapi' || fail "/docs does not lead to the reference"
	req GET '/docs?x=1' -L
	expect_status 200
	req GET /docs/
	expect_status 200
	[ -z "$(header location)" ] || fail "/docs/ redirects"
	req GET /docsx
	expect_problem 404
	req GET /docs.yaml
	expect_problem 404
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
	[ -x /usr/bin/chromium ] || { gh_missing /usr/bin/chromium; return 1; }
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
	    CONSOLE_VICTIM=$CS_VICTIM CONSOLE_DOOMED=$CS_DOOMED \
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
	req POST /api/v1/auth/register -H 'Content-Type: application/json' \
	    --data-raw "{\"username\":\"$CS_VICTIM\",\"email\":\"$CS_VICTIM@example.com\",\"password\":\"$CS_PW\"}"
	expect_status 201
}

# The files the browser uploads: a real PNG (a thumbnail is made of it)
# and a PDF of some megabytes (its upload takes long enough, throttled, to
# see the bar move), a second of video and three of sound.
cs_files() {
	local d="$GH_STATE/console-files"
	mkdir -p "$d"
	vips black "$d/small.png" 48 32 --bands 3 >/dev/null 2>&1 ||
	    fail "vips could not make a PNG"
	{ printf '%%PDF-1.4\n'; head -c 6000000 /dev/urandom | base64 -w 76; printf '\n%%%%EOF\n'; } >"$d/big.pdf"
	ffmpeg -v error -f lavfi -i testsrc=size=64x48:rate=10 -t 1 -c:v libvpx \
	    -b:v 100k -y "$d/clip.webm" || fail "ffmpeg could not make a WebM"
	ffmpeg -v error -f lavfi -i sine=frequency=440:duration=3 -c:a libvorbis \
	    -y "$d/tone.ogg" || fail "ffmpeg could not make an Ogg"
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
	cs_json '.steps | index("provider-totp-1") != null' true
	# The first session ended with the sign-out; the second is bound to
	# a new key (the old one was deleted).
	[ "$(cs_psql gatehouse_auth "SELECT count(DISTINCT dpop_jkt) FROM (SELECT dpop_jkt FROM sessions WHERE user_id = '$uid' ORDER BY created_at LIMIT 2) s")" = 2 ] ||
	    fail "the key was kept across the sign-out"
	[ "$(cs_psql gatehouse_auth "SELECT revoked_at IS NOT NULL FROM sessions WHERE user_id = '$uid' ORDER BY created_at LIMIT 1")" = t ] ||
	    fail "the signed-out session lives on: $(cs_psql gatehouse_auth "SELECT id, revoked_at FROM sessions WHERE user_id = '$uid'")"
}

t_19c_12_console_profile_password_sessions() {
	local uid
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	uid=$(cs_uid $CS_USER)
	cs_json '.profile_bad_errors | keys | join(",")' email
	cs_json .renamed true
	[ -n "$uid" ] || fail "$CS_USER was not renamed back"
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM audit_log WHERE user_id = '$uid' AND event = 'profile_change'")" = 2 ] ||
	    fail "profile changes: $(cs_psql gatehouse_auth "SELECT count(*) FROM audit_log WHERE user_id = '$uid' AND event = 'profile_change'")"
	printf '%s' "$CS_OUT" | jq -r .password_wrong_detail | grep -q 'current_password' ||
	    fail "wrong password: $(printf '%s' "$CS_OUT" | jq -r .password_wrong_detail)"
	cs_json '.password_short_errors | keys | join(",")' new_password
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM audit_log WHERE user_id = '$uid' AND event = 'password_change'")" = 1 ] ||
	    fail "the refused changes changed the password, or the good one did not"
	# The second browser (signed in with a recovery code, used up) was
	# listed, ended from here, and signed out there.
	cs_json .sessions_listed 2
	cs_json .sessions_current 1
	[ "$(cs_psql gatehouse_auth "SELECT revoked_at IS NOT NULL FROM sessions WHERE id = '$(printf '%s' "$CS_OUT" | jq -r .ended_session)'")" = t ] ||
	    fail "the ended session lives"
	printf '%s' "$CS_OUT" | jq -r .other_signed_out | grep -q 'ended' || fail "the other browser was not told"
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM recovery_codes WHERE user_id = '$uid' AND used_at IS NOT NULL")" = 1 ] ||
	    fail "recovery codes used: $(cs_psql gatehouse_auth "SELECT count(*) FROM recovery_codes WHERE user_id = '$uid' AND used_at IS NOT NULL")"
	# Every session ended, then one new with the new password.
	cs_json .password_changed true
	cs_json '.logout_all_storage | length' 0
	cs_json .signed_in_new_password true
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM audit_log WHERE user_id = '$uid' AND event = 'logout_all'")" = 1 ] ||
	    fail "no logout_all"
}

cs_media_sql() {
	cs_psql gatehouse_media "$1"
}

t_19c_13_console_media_upload_gallery_item() {
	local uid id url
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	uid=$(cs_uid $CS_USER)
	# Picked, throttled with the bar moving, dropped; the text file refused.
	cs_json .upload_png.done true
	cs_json .upload_big.done true
	cs_json .upload_drop.done true
	cs_json .upload_bad.done false
	printf '%s' "$CS_OUT" | jq -r .upload_bad_detail | grep -q 'none of the allowed types' ||
	    fail "the refusal's detail: $(printf '%s' "$CS_OUT" | jq -r .upload_bad_detail)"
	[ "$(printf '%s' "$CS_OUT" | jq -r .progress_steps)" -ge 3 ] ||
	    fail "the bar did not move: $(printf '%s' "$CS_OUT" | jq -c '[.progress_steps, .progress_last]')"
	cs_json '.progress_last[0] == .progress_last[1]' true
	[ "$(cs_media_sql "SELECT count(*) FROM media WHERE owner = '$uid' AND filename = 'notes.txt'")" = 0 ] ||
	    fail "the refused file was stored"
	[ "$(cs_media_sql "SELECT string_agg(mime_type, ',' ORDER BY mime_type) FROM media WHERE owner = '$uid'")" = "application/pdf,audio/ogg,image/png,video/webm" ] ||
	    fail "stored: $(cs_media_sql "SELECT string_agg(filename || ' ' || mime_type, ', ') FROM media WHERE owner = '$uid'")"
	[ "$(cs_media_sql "SELECT size FROM media WHERE owner = '$uid' AND filename = 'big.pdf'")" = "$(stat -c %s "$GH_STATE/console-files/big.pdf")" ] ||
	    fail "big.pdf arrived cut"
	# The thumbnail, fetched with the token, shown as a blob.
	cs_json .thumb.blob true
	cs_json .thumb.w 48
	cs_json .thumb.h 32
	# The item: like, rating, comment, tags, edit, all in the database.
	id=$(printf '%s' "$CS_OUT" | jq -r .item_id)
	cs_json .preview_src_signed true
	cs_json .like_count 1
	# Unliked (the button, the count and the API agree), then liked again.
	cs_json .unlike_count 0
	cs_json '.unlike_text | test("♡ Like")' true
	cs_json .unlike_api.count 0
	cs_json .unlike_api.mine false
	cs_json .like_again_count 1
	cs_json .rating_text "4.0 from 1"
	[ "$(cs_media_sql "SELECT count(*) FROM media_likes WHERE media_id = '$id' AND user_id = '$uid'")" = 1 ] || fail "no like"
	[ "$(cs_media_sql "SELECT stars FROM media_ratings WHERE media_id = '$id' AND user_id = '$uid'")" = 4 ] || fail "no rating"
	cs_json '.comment_bad_errors | keys | join(",")' body
	cs_json '.comments | join("|")' "What a nice one!"
	cs_json .comment_count "1 in all"
	printf '%s' "$CS_OUT" | jq -r .comment_edited | grep -q '(edited)' || fail "the edit is not marked"
	[ "$(cs_media_sql "SELECT count(*) FROM media_comments WHERE media_id = '$id'")" = 1 ] || fail "the deleted comment is there"
	[ "$(cs_media_sql "SELECT count(*) FROM media_item_tags WHERE media_id = '$id'")" = 1 ] || fail "the removed tag is there"
	[ "$(cs_media_sql "SELECT body FROM media_comments WHERE media_id = '$id'")" = "What a nice one!" ] || fail "comments stored"
	cs_json '.tag_bad_errors | keys | join(",")' tag
	cs_json '.tags | join(",")' Summer
	cs_json '.edit_bad_errors | keys | join(",")' title
	cs_json .visibility public
	[ "$(cs_media_sql "SELECT title || ' ' || visibility FROM media WHERE id = '$id'")" = "Holiday public" ] ||
	    fail "edit: $(cs_media_sql "SELECT title, visibility FROM media WHERE id = '$id'")"
	cs_json .download_name small.png
	cs_json .download_size "$(stat -c %s "$GH_STATE/console-files/small.png")"
	# The share link works without a token, and a forged one does not.
	url=$(printf '%s' "$CS_OUT" | jq -r .share_url)
	case $url in "$(gh_url "/api/v1/media/$id/file?exp=")"*) ;; *) fail "share link: $url" ;; esac
	req GET "${url#"$(gh_url '')"}"
	expect_status 200
	cmp -s "$REQ_B" "$GH_STATE/console-files/small.png" || fail "the link gave other bytes"
	[ "$(printf '%s' "$BODY" | wc -c)" -gt 0 ] || fail "the link gave nothing"
	url=${url#"$(gh_url '')"}
	if [ "${url: -1}" = A ]; then req GET "${url%?}B"; else req GET "${url%?}A"; fi
	expect_status 403
	# The video played through a signed link, in ranges.
	cs_json .video_duration 1
	cs_json .video_range_status 206
	# The sound played (muted) from its signed link, read in ranges: the
	# browser's own, and one of eight bytes asked for by the page.
	cs_json .upload_audio.done true
	cs_json .audio_src_signed true
	cs_json .audio_duration 3
	cs_json .audio_range_status 206
	cs_json .audio_played.advanced true
	cs_json .audio_played.error null
	cs_json .audio_part.status 206
	cs_json .audio_part.length 8
	cs_json .audio_part.type audio/ogg
	cs_json .audio_part.range "bytes 4-11/$(stat -c %s "$GH_STATE/console-files/tone.ogg")"
	[ "$(cs_media_sql "SELECT size FROM media WHERE id = '$(printf '%s' "$CS_OUT" | jq -r .audio_id)'")" = "$(stat -c %s "$GH_STATE/console-files/tone.ogg")" ] ||
	    fail "tone.ogg arrived cut"
	# Stats as charts: three types, one day; a bad day count named.
	cs_json '.stats_bars | join(",")' 4,1
	cs_json '.stats_labels | sort | join(",")' "application/pdf,audio/ogg,image/png,video/webm"
	cs_json '.stats_bad_errors | keys | join(",")' days
	# Deleted from its page: row and file gone.
	cs_json .deleted_gone true
	[ "$(cs_media_sql "SELECT count(*) FROM media WHERE id = '$(printf '%s' "$CS_OUT" | jq -r .deleted_id)'")" = 0 ] ||
	    fail "the deleted item is still there"
}

cs_pay_sql() {
	cs_psql gatehouse_payments "$1"
}

t_19c_14_console_payments_idempotent_paged_canceled() {
	local uid one two
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	uid=$(cs_uid $CS_USER)
	# Bad amounts named at the field, by the page and by the API; nothing made.
	cs_json '.pay_bad_text_errors | keys | join(",")' amount
	cs_json .pay_zero_errors.amount "must be at least 1"
	[ "$(cs_pay_sql "SELECT count(*) FROM payments WHERE user_id = '$uid' AND description IN ('bad', 'zero')")" = 0 ] ||
	    fail "a refused payment was made"
	# The lost answer: the server made it, the page kept the key, the
	# retry was the first answer again; one payment, one key.
	cs_json .lost_status 201
	printf '%s' "$CS_OUT" | jq -r .lost_detail | grep -q 'same key' || fail "the page did not say why to retry"
	cs_json '.retry_keys | length' 2
	cs_json '.retry_keys[0] == .retry_keys[1] and .retry_keys[0] == .kept_key' true
	cs_json .key_after ""
	cs_json .two_listed 1
	[ "$(cs_pay_sql "SELECT count(*) FROM payments WHERE user_id = '$uid' AND description = 'order two'")" = 1 ] ||
	    fail "the retry made a second payment"
	# Pages of ten by cursor, and back.
	cs_json .page1 10
	cs_json '.page2 | length' 2
	cs_json .page1_again 10
	one=$(printf '%s' "$CS_OUT" | jq -r .pay_one_ref)
	two=$(printf '%s' "$CS_OUT" | jq -r .pay_two_ref)
	cs_json '.page2 | sort | join(",")' "$(printf '%s\n%s\n' "$one" "$two" | sort | paste -sd, -)"
	# Canceled from its page, with the reason in the ledger.
	cs_json '.cancel_ledger | join(",")' created,status_change
	[ "$(cs_pay_sql "SELECT status FROM payments WHERE reference = '$one'")" = canceled ] || fail "not canceled"
	[ "$(cs_pay_sql "SELECT reason FROM transactions t JOIN payments p ON p.id = t.payment_id WHERE p.reference = '$one' AND t.to_status = 'canceled'")" = "changed my mind" ] ||
	    fail "the reason is not in the ledger"
	cs_json '.filtered | unique | join(",")' canceled
	cs_json .user_admin_page "this needs the admin role"
}

t_19c_15_console_admin_refunds_and_users() {
	local two victim
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	two=$(printf '%s' "$CS_OUT" | jq -r .pay_two_ref)
	cs_json .admin_nav true
	cs_json .admin_sees_all true
	cs_json .admin_ref "$two"
	printf '%s' "$CS_OUT" | jq -r .refund_too_much | grep -q 'left to refund' || fail "the 409's detail was not shown"
	cs_json '.refund_too_much_errors | keys | join(",")' amount
	cs_json '.admin_ledger | join(",")' created,status_change,status_change,refund,refund
	cs_json .refunded_text "42.00 EUR"
	cs_json '.ledger_amounts | join(",")' "42.00 EUR,2.50 EUR,39.50 EUR"
	[ "$(cs_pay_sql "SELECT status || ' ' || refunded_amount FROM payments WHERE reference = '$two'")" = "refunded 4200" ] ||
	    fail "payment: $(cs_pay_sql "SELECT status, refunded_amount FROM payments WHERE reference = '$two'")"
	[ "$(cs_pay_sql "SELECT string_agg(t.amount::text, ',' ORDER BY t.id) FROM transactions t JOIN payments p ON p.id = t.payment_id WHERE p.reference = '$two' AND t.kind = 'refund'")" = 250,3950 ] ||
	    fail "refunds: $(cs_pay_sql "SELECT t.kind, t.amount FROM transactions t JOIN payments p ON p.id = t.payment_id WHERE p.reference = '$two'")"
	# Users: found, made admin and back, disabled.
	cs_json .users_found 1
	victim=$(cs_uid $CS_VICTIM)
	[ "$(cs_psql gatehouse_auth "SELECT role || ' ' || disabled FROM users WHERE id = '$victim'")" = "user true" ] ||
	    fail "victim: $(cs_psql gatehouse_auth "SELECT role, disabled FROM users WHERE id = '$victim'")"
	req POST /api/v1/auth/login -H 'Content-Type: application/json' \
	    --data-raw "{\"login\":\"$CS_VICTIM\",\"password\":\"$CS_PW\"}"
	expect_status 403
}

t_19c_16_console_deletes_an_account() {
	local uid
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	cs_json .doomed_upload.done true
	cs_json '.delete_bad_errors | keys | join(",")' confirm
	# A wrong password: named at its field; nothing was deleted, no
	# DELETE even sent; then the right one deleted media, then account.
	cs_json '.delete_wrong_pw_errors | keys | join(",")' password
	cs_json .delete_wrong_pw_errors.password "is wrong"
	cs_json '.delete_wrong_pw | test("password")' true
	cs_json '.delete_wrong_pw_deletes | length' 0
	cs_json .delete_wrong_pw_left.media 1
	cs_json .delete_wrong_pw_left.user "$CS_DOOMED"
	cs_json '.delete_deletes | join(",")' "/api/v1/media/users/me,/api/v1/auth/me"
	cs_json '.deleted_storage | length' 0
	[ -z "$(cs_uid $CS_DOOMED)" ] || fail "$CS_DOOMED is still there"
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM audit_log WHERE event = 'account_deleted'")" -ge 1 ] || fail "no audit line"
	uid=$(printf '%s' "$CS_OUT" | jq -r .doomed_uid)
	[ -n "$uid" ] && [ "$(cs_psql gatehouse_auth "SELECT count(*) FROM users WHERE id = '$uid'")" = 0 ] ||
	    fail "user $uid is still there"
	[ "$(cs_media_sql "SELECT count(*) FROM media WHERE owner = '$uid'")" = 0 ] ||
	    fail "the deleted user's media are left"
}

t_19c_17_console_fits_a_phone() {
	local f
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	cs_json '.phone_viewport | "\(.width)x\(.height)"' 390x844
	cs_json '.phone_pages | join(",")' home,media,item,stats,payments,payment,account,admin
	cs_json '.phone_overflow | join("; ")' ""
	cs_json '.phone_signin_error | test("wrong|incorrect|not")' true
	for f in phone-01-signed-out phone-01a-signin phone-03-media phone-06-payments; do
		[ "$(vipsheader -f width "$GH_STATE/logs/console/$f.png" 2>/dev/null)" = 780 ] ||
		    fail "$f.png is not 390 px wide at 2x: $(vipsheader "$GH_STATE/logs/console/$f.png" 2>&1)"
	done
}

# Two-step sign-in turned off from the Account page (by the account
# deleted afterwards, t_19c_16): a wrong code and a wrong password named
# at their fields and refused, then off; the JSON sign-in asked for a
# code before and not after.  Then the payments filtered by the days of
# a browser at UTC+14.
t_19c_18_console_totp_off_and_payment_dates() {
	local uid doomed n day t0
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	uid=$(cs_uid $CS_USER)
	doomed=$(printf '%s' "$CS_OUT" | jq -r .doomed_uid)
	cs_json '.totp_off_bad_code_errors | keys | join(",")' code
	cs_json .totp_off_bad_code_errors.code "is wrong"
	cs_json '.totp_off_bad_pw_errors | keys | join(",")' password
	cs_json .totp_off_bad_pw_errors.password "is wrong"
	cs_json '.totp_off_short_errors | keys | join(",")' code
	cs_json '.totp_off_text | test("is off")' true
	cs_json .totp_off_start_again true
	cs_json .totp_on_login "401 mfa_required"
	cs_json .totp_off_login "200 token"
	[ "$(cs_psql gatehouse_auth "SELECT string_agg(event, ',' ORDER BY id) FROM audit_log WHERE user_id = '$doomed' AND event LIKE 'totp%'")" = totp_on,totp_off ] ||
	    fail "audit: $(cs_psql gatehouse_auth "SELECT string_agg(event, ',' ORDER BY id) FROM audit_log WHERE user_id = '$doomed'")"
	# The browser's own days: today there began at 10:00 UTC the day
	# before (UTC+14), and "To" takes the whole of its day.
	n=$(cs_pay_sql "SELECT count(*) FROM payments WHERE user_id = '$uid'")
	day=$(printf '%s' "$CS_OUT" | jq -r .dates_today_day)
	[ "$day" = "$(TZ=Pacific/Kiritimati date +%F)" ] || fail "the browser's today: $day"
	t0=$(date -d "$day 00:00 +1400" +%s) || fail "no day"
	cs_json .dates_today.gte "$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%S.000Z)"
	cs_json .dates_today.lt "$(date -u -d "@$((t0 + 86400))" +%Y-%m-%dT%H:%M:%S.000Z)"
	[ "$n" -gt 10 ] || fail "only $n payments"
	cs_json .dates_today.shown 10
	cs_json .dates_today.next true
	cs_json .dates_week.shown 10
	cs_json .dates_tomorrow.shown 0
	cs_json .dates_tomorrow.empty true
	cs_json .dates_tomorrow.lt null
	cs_json .dates_yesterday.shown 0
	cs_json .dates_yesterday.gte null
	cs_json '.dates_backwards_errors | keys | join(",")' created_lt
	cs_json '.dates_backwards | test("ends before")' true
	# The admin's filter by a user id that is not one: the API's 422,
	# named at the field.
	cs_json '.admin_filter_bad_errors | keys | join(",")' user_id
	cs_json '.admin_filter_bad | test("user_id")' true
}

# Nothing the page did broke its CSP or threw.
t_19c_19_console_no_csp_violation_or_script_error() {
	local f
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	for f in user admin phone dates delete second; do
		BODY=$CS_OUT
		[ "$(printf '%s' "$CS_OUT" | jq -r ".${f}_log // empty")" = "" ] && continue
		expect_json ".${f}_log.csp | join(\" | \")" ""
		expect_json ".${f}_log.errors | join(\" | \")" ""
	done
	cs_json '.user_csp_events | length' 0
	# What the browser got from the API is in the spec check's records
	# (tests/oidc/chromium.mjs), under the case that ran it.
	if [ -n "$T_EXCHANGES" ]; then
		[ "$(grep -c '/browser\.[0-9]*\.[0-9]*$' "$T_EXCHANGES/index")" -ge 100 ] ||
		    fail "the browser's answers were not recorded for the spec check"
	fi
	for f in $(printf '%s' "$CS_OUT" | jq -r '.steps[]'); do
		[ -s "$GH_STATE/logs/console/$f.png" ] || fail "no screenshot $f"
	done
}

# The console with the servers asking for DPoP nonces (GH_DPOP_NONCE=on,
# the pools restarted by t_oauth.sh's oa_nonce_pools): each of the token
# endpoint, auth, payments and media refuses its first proof without a
# nonce, and the console sends again with the nonce it was given, so the
# sign-in, a read, a payment and an upload all work; no other error.
t_19c_20_console_with_dpop_nonces() {
	local res s
	cs_browser || return 0
	[ -n "$CS_OUT" ] || return 0
	oa_nonce_pools on
	res=$(NODE_EXTRA_CA_CERTS="$GH_STATE/tls/cert.pem" \
	    CONSOLE_URL="$(gh_url '')" CONSOLE_SHOTS="$GH_STATE/logs/console" \
	    CONSOLE_USER=$CS_USER CONSOLE_PASSWORD=$CS_PW \
	    CONSOLE_ADMIN=$CS_ADMIN CONSOLE_ADMIN_PASSWORD=$CS_PW \
	    CONSOLE_FILES="$GH_STATE/console-files" CONSOLE_PARTS=nonce \
	    timeout 120 node "$CS_NODE_DIR/console.mjs" 2>"$T_OUT/console-nonce.err")
	oa_nonce_pools off
	printf '%s\n' "$res" >"$GH_STATE/logs/console-nonce.json"
	BODY=$res
	expect_json .ok true
	expect_json '.nonce.failed | join(" ")' ""
	for s in token auth payments media; do
		expect_json "(.nonce.challenges.$s // 0) >= 1" true
	done
	expect_json '.nonce.proofs_with_nonce > 0' true
	expect_json .nonce.payment true
	expect_json .nonce.upload.done true
	expect_json '.nonce_log.errors | join(" | ")' ""
	[ "$(cs_psql gatehouse_payments "SELECT count(*) FROM payments WHERE description = 'with nonces'")" = 1 ] ||
	    fail "the payment made with nonces is not there once"
}

# The clients these cases registered go (their sessions with them): the
# OAuth cases count the clients they make.
t_19c_99_console_clients_removed() {
	cs_psql gatehouse_auth "DELETE FROM oauth_clients WHERE name = 'gatehouse console'" >/dev/null
	[ "$(cs_psql gatehouse_auth "SELECT count(*) FROM oauth_clients WHERE name = 'gatehouse console'")" = 0 ] ||
	    fail "console clients left"
	rm -f "$GH_STATE/console.json"
	unset CS_CLIENT
}
