# shellcheck shell=bash
# The OAuth 2.1 / OpenID Connect provider, driven as a browser would be
# (curl and a cookie jar) and as clients are; each attack its own case,
# refused with nothing issued.

OA=/api/v1/auth/oauth
OA_PW='tall-lamp-quiet-river-42'
OA_SPA_URI=https://spa.example.test/cb
OA_WEB_URI=https://web.example.test/callback
OA_WEB_LOGOUT=https://web.example.test/bye

oa_psql() {
	gh_as_pg psql -h "$GH_STATE/pg/sock" -U postgres -d gatehouse_auth -tAc "$1"
}

oa_json() {
	local path=$1 body=$2
	shift 2
	req POST "$path" -H 'Content-Type: application/json' --data-raw "$body" "$@"
}

oa_b64url() {
	openssl base64 -A | tr '+/' '-_' | tr -d '='
}

# oa_part N JWT: the Nth part, decoded.
oa_part() {
	local s
	s=$(printf '%s' "$2" | cut -d. -f"$1" | tr '_-' '/+')
	while [ $(( ${#s} % 4 )) != 0 ]; do s="$s="; done
	printf '%s' "$s" | base64 -d 2>/dev/null
}

# oa_pkce: sets VERIFIER and CHALLENGE (S256).
oa_pkce() {
	VERIFIER=$(openssl rand 32 | oa_b64url)
	CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary | oa_b64url)
}

# One admin, three clients and a user, made once for every case.
oa_setup() {
	[ -n "${OA_READY-}" ] && return 0
	oa_json /api/v1/auth/register "{\"username\":\"oadmin\",\"email\":\"oadmin@example.com\",\"password\":\"$OA_PW\"}"
	env "$(gh_pool_env auth | grep '^GH_DB=')" \
	    "$GH_STATE/bin/gatehouse-auth" --make-admin oadmin >/dev/null 2>&1 ||
	    fail "make-admin"
	oa_json /api/v1/auth/login "{\"login\":\"oadmin\",\"password\":\"$OA_PW\"}"
	OA_ADMIN=$(printf '%s' "$BODY" | jq -r .access_token)
	oa_json /api/v1/auth/admin/clients "{\"name\":\"Single-page <app>\",\"type\":\"public\",\"redirect_uris\":[\"$OA_SPA_URI\",\"http://127.0.0.1/cb\"]}" \
	    -H "Authorization: Bearer $OA_ADMIN"
	OA_SPA=$(printf '%s' "$BODY" | jq -r .client_id)
	oa_json /api/v1/auth/admin/clients "{\"name\":\"Server app\",\"type\":\"confidential\",\"redirect_uris\":[\"$OA_WEB_URI\"],\"post_logout_redirect_uris\":[\"$OA_WEB_LOGOUT\"]}" \
	    -H "Authorization: Bearer $OA_ADMIN"
	OA_WEB=$(printf '%s' "$BODY" | jq -r .client_id)
	OA_WEB_SECRET=$(printf '%s' "$BODY" | jq -r .client_secret)
	oa_json /api/v1/auth/admin/clients "{\"name\":\"First party\",\"type\":\"public\",\"skip_consent\":true,\"redirect_uris\":[\"https://first.example.test/cb\"]}" \
	    -H "Authorization: Bearer $OA_ADMIN"
	OA_FIRST=$(printf '%s' "$BODY" | jq -r .client_id)
	oa_json /api/v1/auth/register "{\"username\":\"olive\",\"email\":\"olive@example.com\",\"password\":\"$OA_PW\"}"
	OA_UID=$(printf '%s' "$BODY" | jq -r .user.id)
	OA_ORIGIN=$(gh_url '')
	OA_READY=1
}

# oa_url CLIENT REDIRECT SCOPE [extra]: sets URL, with a fresh PKCE pair.
oa_url() {
	oa_pkce
	URL=$(printf '%s?response_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=st-1&nonce=n-1&code_challenge=%s&code_challenge_method=S256%s' \
	    "$OA/authorize" "$1" "$(jq -rn --arg v "$2" '$v|@uri')" \
	    "$(jq -rn --arg v "$3" '$v|@uri')" "$CHALLENGE" "${4-}")
}

# oa_form_fields: HANDLE and CSRF from the page in BODY.
oa_form_fields() {
	HANDLE=$(printf '%s' "$BODY" | sed -n 's/.*name="handle" value="\([^"]*\)".*/\1/p' | head -n 1)
	CSRF=$(printf '%s' "$BODY" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
}

# oa_browser JAR URL [LOGIN]: the browser's way to a code: the sign-in
# page (when shown), the consent page (when shown), allow.  Sets CODE
# (empty when none) and LOC.
oa_browser() {
	local jar=$1 url=$2 login=${3:-olive}
	CODE=
	req GET "$url" -b "$jar" -c "$jar"
	if [ "$STATUS" = 200 ] && printf '%s' "$BODY" | grep -q 'name="password"'; then
		oa_form_fields
		req POST "$OA/login" -b "$jar" -c "$jar" -H "Origin: $OA_ORIGIN" \
		    --data-urlencode "handle=$HANDLE" --data-urlencode "csrf=$CSRF" \
		    --data-urlencode "login=$login" --data-urlencode "password=$OA_PW"
	fi
	if [ "$STATUS" = 200 ] && printf '%s' "$BODY" | grep -q 'name="decision"'; then
		oa_form_fields
		req POST "$OA/consent" -b "$jar" -c "$jar" -H "Origin: $OA_ORIGIN" \
		    --data-urlencode "handle=$HANDLE" --data-urlencode "csrf=$CSRF" \
		    --data-urlencode "decision=allow"
	fi
	LOC=$(header location)
	CODE=$(printf '%s' "$LOC" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
}

# oa_token CLIENT FORM...: the token endpoint, as a public client.
oa_token() {
	local client=$1
	shift
	req POST "$OA/token" --data-urlencode "client_id=$client" "$@"
}

oa_exchange() {
	oa_token "$1" --data-urlencode grant_type=authorization_code \
	    --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$2" \
	    --data-urlencode "code_verifier=${3:-$VERIFIER}"
}

oa_no_location() {
	[ -z "$(header location)" ] || fail "redirected to $(header location)"
}

oa_codes() {
	oa_psql "SELECT count(*) FROM oauth_codes"
}

t_6o01_discovery() {
	local iss
	iss=$(gh_url '')
	req GET /.well-known/openid-configuration
	expect_status 200
	expect_json .issuer "$iss"
	expect_json .authorization_endpoint "$iss$OA/authorize"
	expect_json .token_endpoint "$iss$OA/token"
	expect_json .jwks_uri "$iss/.well-known/jwks.json"
	expect_json '.code_challenge_methods_supported | join(",")' S256
	expect_json '.response_types_supported | join(",")' code
	expect_json '.id_token_signing_alg_values_supported | join(",")' ES256
	expect_json .authorization_response_iss_parameter_supported true
	req GET /.well-known/oauth-authorization-server
	expect_status 200
	expect_json .issuer "$iss"
}

t_6o02_clients_admin_api_and_cli() {
	local out id
	oa_setup
	[ -n "$OA_SPA" ] && [ "$OA_SPA" != null ] || fail "no SPA client"
	[ ${#OA_WEB_SECRET} = 43 ] || fail "secret '$OA_WEB_SECRET'"
	oa_json /api/v1/auth/admin/clients '{"name":"x","type":"public","redirect_uris":["https://ok.example/cb","http://evil.example/cb","https://a@b/cb"],"scopes":["openid","admin"]}' \
	    -H "Authorization: Bearer $OA_ADMIN"
	expect_problem 422
	expect_json '[.errors[].field] | sort | join(",")' "redirect_uris/1,redirect_uris/2,scopes/1"
	oa_json /api/v1/auth/admin/clients '{"name":"x","type":"public","redirect_uris":["https://ok.example/cb"],"grant_types":["client_credentials"]}' \
	    -H "Authorization: Bearer $OA_ADMIN"
	expect_problem 422
	oa_json /api/v1/auth/login "{\"login\":\"olive\",\"password\":\"$OA_PW\"}"
	req GET /api/v1/auth/admin/clients -H "Authorization: Bearer $(printf '%s' "$BODY" | jq -r .access_token)"
	expect_problem 403
	req GET '/api/v1/auth/admin/clients?limit=2' -H "Authorization: Bearer $OA_ADMIN"
	expect_status 200
	expect_json '.data | length' 2
	expect_json .has_more true
	req GET "/api/v1/auth/admin/clients?limit=2&cursor=$(printf '%s' "$BODY" | jq -r .next_cursor)" -H "Authorization: Bearer $OA_ADMIN"
	expect_json '.data | length' 1
	req GET "/api/v1/auth/admin/clients/$OA_WEB" -H "Authorization: Bearer $OA_ADMIN"
	expect_status 200
	expect_json .type confidential
	printf '%s' "$BODY" | grep -q secret && fail "a secret in the client's answer"
	out=$(env "$(gh_pool_env auth | grep '^GH_DB=')" "$GH_STATE/bin/gatehouse-auth" \
	    --add-client "CLI app" --type confidential --redirect-uri https://cli.example.test/cb \
	    --scopes "openid profile" 2>&1) || fail "add-client: $out"
	id=$(printf '%s' "$out" | sed -n 's/^client_id: //p')
	printf '%s' "$out" | grep -q '^client_secret: ' || fail "no secret printed: $out"
	req GET "/api/v1/auth/admin/clients/$id" -H "Authorization: Bearer $OA_ADMIN"
	expect_json '.scopes | join(" ")' "openid profile"
	env "$(gh_pool_env auth | grep '^GH_DB=')" "$GH_STATE/bin/gatehouse-auth" \
	    --add-client bad --type public --redirect-uri http://evil.example/cb >/dev/null 2>&1 &&
	    fail "add-client took a plain-http redirect URI"
	req POST "/api/v1/auth/admin/clients/$id/secret" -H "Authorization: Bearer $OA_ADMIN"
	expect_status 200
	[ "$(printf '%s' "$BODY" | jq -r '.client_secret | length')" = 43 ] || fail "rotated secret"
}

t_6o03_code_flow_id_token_userinfo_refresh() {
	local jar="$T_OUT/jar3" at rt idt h p
	oa_setup
	rm -f "$jar"
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid profile email offline_access"
	oa_browser "$jar" "$URL"
	expect_status 303
	case "$LOC" in
	"$OA_SPA_URI?code="*"&state=st-1&iss="*) ;;
	*) fail "location '$LOC'" ;;
	esac
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_status 200
	expect_json .token_type Bearer
	expect_json .scope "openid profile email offline_access"
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	rt=$(printf '%s' "$BODY" | jq -r .refresh_token)
	idt=$(printf '%s' "$BODY" | jq -r .id_token)
	h=$(oa_part 1 "$idt")
	p=$(oa_part 2 "$idt")
	[ "$(printf '%s' "$h" | jq -r '.typ + " " + .alg')" = "JWT ES256" ] || fail "id token header $h"
	[ "$(printf '%s' "$p" | jq -r .iss)" = "$(gh_url '')" ] || fail "iss in $p"
	[ "$(printf '%s' "$p" | jq -r .aud)" = "$OA_SPA" ] || fail "aud in $p"
	[ "$(printf '%s' "$p" | jq -r .sub)" = "$OA_UID" ] || fail "sub in $p"
	[ "$(printf '%s' "$p" | jq -r .nonce)" = n-1 ] || fail "nonce in $p"
	[ "$(printf '%s' "$p" | jq -r '.amr | join(",")')" = pwd ] || fail "amr in $p"
	[ "$(printf '%s' "$p" | jq -r .preferred_username)" = olive ] || fail "username in $p"
	[ "$(printf '%s' "$p" | jq -r .email_verified)" = false ] || fail "email_verified in $p"
	[ "$(printf '%s' "$p" | jq -r .at_hash)" = "$(printf '%s' "$at" | openssl dgst -sha256 -binary | head -c 16 | oa_b64url)" ] ||
	    fail "at_hash in $p"
	# An ID token is no access token.
	req GET /api/v1/auth/me -H "Authorization: Bearer $idt"
	expect_status 401
	req GET "$OA/userinfo" -H "Authorization: Bearer $at"
	expect_status 200
	expect_json .sub "$OA_UID"
	expect_json .email olive@example.com
	oa_token "$OA_SPA" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt"
	expect_status 200
	[ "$(printf '%s' "$BODY" | jq -r .refresh_token)" != "$rt" ] || fail "refresh token not rotated"
	# The JSON refresh refuses a client's session.
	oa_json /api/v1/auth/refresh "{\"refresh_token\":\"$(printf '%s' "$BODY" | jq -r .refresh_token)\"}"
	expect_problem 401
	# Remembered consent and the provider session: straight to the code.
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid profile"
	oa_browser "$jar" "$URL"
	expect_status 303
	[ -n "$CODE" ] || fail "no code on the second visit: $LOC"
}

t_6o04_redirect_uri_attacks_get_an_error_page() {
	local before u
	oa_setup
	before=$(oa_codes)
	for u in "$OA_SPA_URI/" "$OA_SPA_URI?x=1" "http://spa.example.test/cb" \
	    "https://spa.example.test:444/cb" "https://spa.example.test@evil.example/cb" \
	    "https://evil.example/cb" "HTTPS://spa.example.test/cb"; do
		oa_url "$OA_SPA" "$u" openid
		req GET "$URL"
		expect_status 400
		oa_no_location
		expect_header content-type "text/html; charset=utf-8"
	done
	# The loopback rule: any port for 127.0.0.1.
	oa_url "$OA_SPA" "http://127.0.0.1:49152/cb" openid
	req GET "$URL"
	expect_status 200
	req GET "$OA/authorize?response_type=code&client_id=$OA_SPA&scope=openid"
	expect_status 400
	oa_no_location
	oa_url no-such-client-x "$OA_SPA_URI" openid
	req GET "$URL"
	expect_status 400
	oa_no_location
	[ "$(oa_codes)" = "$before" ] || fail "a code was issued"
}

t_6o05_pkce_is_required_and_s256_only() {
	local jar="$T_OUT/jar5" url
	oa_setup
	req GET "$OA/authorize?response_type=code&client_id=$OA_SPA&redirect_uri=$OA_SPA_URI&scope=openid&state=s5"
	expect_status 303
	case "$(header location)" in
	"$OA_SPA_URI?error=invalid_request&"*"state=s5&iss="*) ;;
	*) fail "no PKCE: $(header location)" ;;
	esac
	req GET "$OA/authorize?response_type=code&client_id=$OA_SPA&redirect_uri=$OA_SPA_URI&scope=openid&code_challenge=$(openssl rand 32 | oa_b64url)&code_challenge_method=plain"
	expect_status 303
	header location | grep -q 'error=invalid_request' || fail "plain PKCE: $(header location)"
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid admin"
	req GET "$URL"
	header location | grep -q 'error=invalid_scope' || fail "unknown scope: $(header location)"
	rm -f "$jar"
	oa_url "$OA_SPA" "$OA_SPA_URI" openid
	oa_browser "$jar" "$URL"
	oa_exchange "$OA_SPA" "$OA_SPA_URI" "$(openssl rand 32 | oa_b64url)"
	expect_status 400
	expect_json .error invalid_grant
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_status 200
}

t_6o06_code_replay_revokes_what_it_issued() {
	local jar="$T_OUT/jar6" at rt
	oa_setup
	rm -f "$jar"
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid offline_access"
	oa_browser "$jar" "$URL"
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_status 200
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	rt=$(printf '%s' "$BODY" | jq -r .refresh_token)
	req GET /api/v1/auth/me -H "Authorization: Bearer $at"
	expect_status 200
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_status 400
	expect_json .error invalid_grant
	printf '%s' "$BODY" | jq -e 'has("access_token")' >/dev/null && fail "tokens on replay"
	req GET /api/v1/auth/me -H "Authorization: Bearer $at"
	expect_status 401
	oa_token "$OA_SPA" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt"
	expect_status 400
	expect_json .error invalid_grant
}

t_6o07_code_bound_to_client_redirect_and_time() {
	local jar="$T_OUT/jar7"
	oa_setup
	rm -f "$jar"
	oa_url "$OA_SPA" "http://127.0.0.1/cb" openid
	oa_browser "$jar" "$URL"
	[ -n "$CODE" ] || fail "no code: $LOC"
	oa_exchange "$OA_FIRST" "http://127.0.0.1/cb"
	expect_json .error invalid_grant
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_json .error invalid_grant
	oa_psql "UPDATE oauth_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL" >/dev/null
	oa_exchange "$OA_SPA" "http://127.0.0.1/cb"
	expect_status 400
	expect_json .error invalid_grant
}

t_6o08_cross_site_posts_are_refused() {
	local jar="$T_OUT/jar8" evil="$T_OUT/jar8e" before
	oa_setup
	rm -f "$jar" "$evil"
	before=$(oa_psql "SELECT count(*) FROM idp_sessions")
	oa_url "$OA_SPA" "$OA_SPA_URI" openid
	req GET "$URL" -b "$jar" -c "$jar"
	expect_status 200
	expect_header x-frame-options DENY
	header content-security-policy | grep -q "frame-ancestors 'none'" || fail "no frame-ancestors"
	# A browser applies form-action to the 303 after the post: the
	# client's origin is allowed, nothing else.
	header content-security-policy | grep -q "form-action 'self' https://spa.example.test;" ||
	    fail "form-action: $(header content-security-policy)"
	# same-origin, not no-referrer: under no-referrer Chromium posts the
	# form with "Origin: null" (t_6o21), which is refused as cross-site.
	expect_header referrer-policy same-origin
	oa_form_fields
	# No CSRF cookie (another site's form).
	req POST "$OA/login" --data-urlencode "handle=$HANDLE" --data-urlencode "csrf=$CSRF" \
	    --data-urlencode login=olive --data-urlencode "password=$OA_PW"
	expect_status 403
	# Another browser's cookie.
	oa_url "$OA_SPA" "$OA_SPA_URI" openid
	req GET "$URL" -b "$evil" -c "$evil"
	req POST "$OA/login" -b "$evil" --data-urlencode "handle=$HANDLE" --data-urlencode "csrf=$CSRF" \
	    --data-urlencode login=olive --data-urlencode "password=$OA_PW"
	expect_status 403
	# The right cookie, posted from a foreign origin.
	req POST "$OA/login" -b "$jar" -H 'Origin: https://evil.example' \
	    --data-urlencode "handle=$HANDLE" --data-urlencode "csrf=$CSRF" \
	    --data-urlencode login=olive --data-urlencode "password=$OA_PW"
	expect_status 403
	[ "$(oa_psql "SELECT count(*) FROM idp_sessions")" = "$before" ] || fail "signed in anyway"
	# A wrong password: the page again, with the same answer as a stranger's.
	req POST "$OA/login" -b "$jar" -H "Origin: $OA_ORIGIN" \
	    --data-urlencode "handle=$HANDLE" --data-urlencode "csrf=$CSRF" \
	    --data-urlencode login=olive --data-urlencode "password=wrong-$OA_PW"
	expect_status 200
	printf '%s' "$BODY" | grep -q 'The login or the password is wrong' || fail "no error shown"
	[ "$(oa_psql "SELECT count(*) FROM audit_log WHERE event = 'login_failed' AND user_id = '$OA_UID'")" -ge 1 ] ||
	    fail "the failure was not counted"
	# The page keeps the login typed, never the password.
	printf '%s' "$BODY" | grep -q 'name="login" value="olive"' || fail "the login was not kept"
	printf '%s' "$BODY" | grep -q "wrong-$OA_PW" && fail "the password came back in the page"
	# ... escaped: a login is text, never markup.
	req POST "$OA/login" -b "$jar" -H "Origin: $OA_ORIGIN" \
	    --data-urlencode "handle=$HANDLE" --data-urlencode "csrf=$CSRF" \
	    --data-urlencode 'login="><script>x()</script>&' --data-urlencode "password=wrong-$OA_PW"
	expect_status 200
	printf '%s' "$BODY" | grep -qF 'value="&quot;&gt;&lt;script&gt;x()&lt;/script&gt;&amp;"' ||
	    fail "the login was not kept escaped"
	printf '%s' "$BODY" | grep -q '<script>x' && fail "the login came back as markup"
	oa_psql "DELETE FROM login_throttle" >/dev/null
}

t_6o09_confidential_client_secrets() {
	local jar="$T_OUT/jar9" at rt
	oa_setup
	rm -f "$jar"
	oa_url "$OA_WEB" "$OA_WEB_URI" "openid email offline_access"
	oa_browser "$jar" "$URL"
	[ -n "$CODE" ] || fail "no code: $LOC"
	req POST "$OA/token" -u "$OA_WEB:wrong-secret" --data-urlencode grant_type=authorization_code \
	    --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$OA_WEB_URI" \
	    --data-urlencode "code_verifier=$VERIFIER"
	expect_status 401
	expect_json .error invalid_client
	expect_header www-authenticate 'Basic realm="gatehouse"'
	oa_exchange "$OA_WEB" "$OA_WEB_URI"
	expect_status 401
	expect_json .error invalid_client
	req POST "$OA/token" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode grant_type=authorization_code \
	    --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$OA_WEB_URI" \
	    --data-urlencode "code_verifier=$VERIFIER"
	expect_status 200
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	rt=$(printf '%s' "$BODY" | jq -r .refresh_token)
	req POST "$OA/introspect" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode "token=$at"
	expect_status 200
	expect_json .active true
	expect_json .client_id "$OA_WEB"
	expect_json .username olive
	req POST "$OA/introspect" --data-urlencode "client_id=$OA_SPA" --data-urlencode "token=$at"
	expect_status 401
	req POST "$OA/revoke" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode "token=$rt"
	expect_status 200
	req POST "$OA/introspect" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode "token=$at"
	expect_json .active false
	req POST "$OA/revoke" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode "token=nonsense"
	expect_status 200
}

t_6o10_refresh_cannot_widen_the_scope() {
	local jar="$T_OUT/jar10" rt
	oa_setup
	rm -f "$jar"
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid offline_access"
	oa_browser "$jar" "$URL"
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	rt=$(printf '%s' "$BODY" | jq -r .refresh_token)
	oa_token "$OA_SPA" --data-urlencode grant_type=refresh_token \
	    --data-urlencode "refresh_token=$rt" --data-urlencode "scope=openid email"
	expect_status 400
	expect_json .error invalid_scope
	oa_token "$OA_FIRST" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt"
	expect_json .error invalid_grant
	oa_token "$OA_SPA" --data-urlencode grant_type=refresh_token \
	    --data-urlencode "refresh_token=$rt" --data-urlencode "scope=openid"
	expect_status 200
	expect_json .scope openid
}

t_6o11_prompt_none_and_the_provider_session() {
	local jar="$T_OUT/jar11"
	oa_setup
	rm -f "$jar"
	oa_url "$OA_FIRST" https://first.example.test/cb openid "&prompt=none"
	req GET "$URL"
	expect_status 303
	header location | grep -q 'error=login_required' || fail "prompt=none: $(header location)"
	header location | grep -q 'state=st-1' || fail "no state: $(header location)"
	oa_url "$OA_SPA" "$OA_SPA_URI" openid
	oa_browser "$jar" "$URL"
	[ -n "$CODE" ] || fail "no code: $LOC"
	# A second client: no password asked, no consent (first party).
	oa_url "$OA_FIRST" https://first.example.test/cb openid "&prompt=none"
	req GET "$URL" -b "$jar"
	expect_status 303
	header location | grep -q '[?&]code=' || fail "second client: $(header location)"
	# A third-party client the user has not allowed: consent_required.
	oa_url "$OA_WEB" "$OA_WEB_URI" "openid profile" "&prompt=none"
	req GET "$URL" -b "$jar"
	header location | grep -q 'error=consent_required' || fail "consent: $(header location)"
	oa_url "$OA_FIRST" https://first.example.test/cb openid "&prompt=none%20login"
	req GET "$URL" -b "$jar"
	header location | grep -q 'error=invalid_request' || fail "none+login: $(header location)"
}

t_6o12_my_apps_and_taking_one_back() {
	local jar="$T_OUT/jar12" at uat
	oa_setup
	rm -f "$jar"
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid profile"
	oa_browser "$jar" "$URL"
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	oa_json /api/v1/auth/login "{\"login\":\"olive\",\"password\":\"$OA_PW\"}"
	uat=$(printf '%s' "$BODY" | jq -r .access_token)
	req GET /api/v1/auth/me/apps -H "Authorization: Bearer $uat"
	expect_status 200
	expect_json "[.data[] | select(.client_id == \"$OA_SPA\")][0].name" "Single-page <app>"
	req DELETE "/api/v1/auth/me/apps/$OA_SPA" -H "Authorization: Bearer $uat"
	expect_status 204
	req GET "$OA/userinfo" -H "Authorization: Bearer $at"
	expect_status 401
	req DELETE "/api/v1/auth/me/apps/$OA_SPA" -H "Authorization: Bearer $uat"
	expect_problem 404
	# The name is escaped on the consent page.
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid"
	oa_browser "$jar" "$URL" >/dev/null
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid" "&prompt=consent"
	req GET "$URL" -b "$jar"
	printf '%s' "$BODY" | grep -q 'Single-page &lt;app&gt;' || fail "name not escaped"
}

t_6o13_disabled_client_and_its_tokens() {
	local jar="$T_OUT/jar13" at
	oa_setup
	rm -f "$jar"
	oa_json /api/v1/auth/admin/clients '{"name":"Soon gone","type":"public","skip_consent":true,"redirect_uris":["https://gone.example.test/cb"]}' \
	    -H "Authorization: Bearer $OA_ADMIN"
	local id
	id=$(printf '%s' "$BODY" | jq -r .client_id)
	oa_url "$id" https://gone.example.test/cb openid
	oa_browser "$jar" "$URL"
	oa_exchange "$id" https://gone.example.test/cb
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	req PATCH "/api/v1/auth/admin/clients/$id" -H "Authorization: Bearer $OA_ADMIN" \
	    -H 'Content-Type: application/json' --data-raw '{"disabled":true}'
	expect_status 200
	expect_json .disabled true
	req GET "$OA/userinfo" -H "Authorization: Bearer $at"
	expect_status 401
	oa_url "$id" https://gone.example.test/cb openid
	req GET "$URL"
	expect_status 400
	oa_no_location
}

# oa_node_deps: tests/oidc's packages (gh_node_deps, lib.sh); sets
# OA_NODE_DIR.  Skips (returns 1) without node.
oa_missing() {
	gh_missing "$@"
}

oa_node_deps() {
	gh_node_deps oidc || return 1
	OA_NODE_DIR=$GH_NODE_DIR
}

# oa_rp_clients: the two clients docs/oidc.md describes, made fresh with
# the admin API: OA_RP_SPA (public) and OA_RP_WEB/OA_RP_SECRET.
oa_rp_clients() {
	oa_json /api/v1/auth/admin/clients "{\"name\":\"RP single-page app\",\"type\":\"public\",\"redirect_uris\":[\"https://rp-spa.example.test/cb\"],\"post_logout_redirect_uris\":[\"https://rp-spa.example.test/\"],\"scopes\":[\"openid\",\"profile\",\"email\",\"offline_access\"]}" \
	    -H "Authorization: Bearer $OA_ADMIN"
	expect_status 201
	OA_RP_SPA=$(printf '%s' "$BODY" | jq -r .client_id)
	oa_json /api/v1/auth/admin/clients "{\"name\":\"RP server app\",\"type\":\"confidential\",\"redirect_uris\":[\"https://rp-web.example.test/callback\"],\"post_logout_redirect_uris\":[\"https://rp-web.example.test/signed-out\"],\"scopes\":[\"openid\",\"profile\",\"email\",\"offline_access\"]}" \
	    -H "Authorization: Bearer $OA_ADMIN"
	expect_status 201
	OA_RP_WEB=$(printf '%s' "$BODY" | jq -r .client_id)
	OA_RP_SECRET=$(printf '%s' "$BODY" | jq -r .client_secret)
}

t_6o20_openid_client_library() {
	local out
	oa_setup
	oa_node_deps || return 0
	oa_rp_clients
	oa_psql "DELETE FROM login_throttle" >/dev/null
	out=$(NODE_EXTRA_CA_CERTS="$GH_STATE/tls/cert.pem" \
	    OIDC_ISSUER="$(gh_url '')" \
	    OIDC_SPA_ID="$OA_RP_SPA" OIDC_SPA_REDIRECT=https://rp-spa.example.test/cb \
	    OIDC_WEB_ID="$OA_RP_WEB" OIDC_WEB_SECRET="$OA_RP_SECRET" \
	    OIDC_WEB_REDIRECT=https://rp-web.example.test/callback \
	    OIDC_LOGIN=olive OIDC_PASSWORD="$OA_PW" \
	    timeout 60 node "$OA_NODE_DIR/rp.mjs" 2>"$T_OUT/rp.err") ||
	    { fail "rp.mjs: $out $(head -c 500 "$T_OUT/rp.err")"; return; }
	BODY=$out
	expect_json .issuer "$(gh_url '')"
	expect_json '.spa.pages | join(",")' signin,consent
	expect_json .spa.sub "$OA_UID"
	expect_json .spa.aud "$OA_RP_SPA"
	expect_json .spa.nonce_ok true
	expect_json '.spa.amr | join(",")' pwd
	expect_json .spa.username olive
	expect_json .spa.userinfo_sub "$OA_UID"
	expect_json .spa.userinfo_email olive@example.com
	expect_json .spa.scope "openid profile email offline_access"
	expect_json .spa.refreshed true
	expect_json .spa.idp_cookie true
	expect_json .spa.after_revoke invalid_grant
	# The provider session: the second app asks for consent only.
	expect_json '.web.pages | join(",")' consent
	expect_json .web.sub "$OA_UID"
	expect_json .web.aud "$OA_RP_WEB"
	expect_json .web.userinfo_sub "$OA_UID"
	expect_json .web.introspect_active true
	expect_json .web.introspect_client "$OA_RP_WEB"
	expect_json .web.introspect_username olive
	expect_json .web.after_revoke_active false
	printf '%s' "$out" | jq -r .wrong_nonce | grep -q 'nonce mismatch' ||
	    fail "wrong nonce: $(printf '%s' "$out" | jq -r .wrong_nonce)"
	printf '%s' "$out" | jq -r .tampered_id_token | grep -q 'signature' ||
	    fail "tampered: $(printf '%s' "$out" | jq -r .tampered_id_token)"
	printf '%s' "$out" | jq -r .other_audience | grep -q 'aud' ||
	    fail "audience: $(printf '%s' "$out" | jq -r .other_audience)"
}

# oa_totp_user NAME: a user with TOTP on; sets OA_TOTP_B32 (the otpauth
# URI's base32 secret).
oa_totp_user() {
	local at key uid
	oa_json /api/v1/auth/register "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$OA_PW\"}"
	uid=$(printf '%s' "$BODY" | jq -r .user.id)
	oa_json /api/v1/auth/login "{\"login\":\"$1\",\"password\":\"$OA_PW\"}"
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	req POST /api/v1/auth/me/totp -H "Authorization: Bearer $at"
	expect_status 201
	OA_TOTP_B32=$(printf '%s' "$BODY" | jq -r .otpauth_uri | sed -n 's/.*[?&]secret=\([A-Z2-7=]*\).*/\1/p')
	key=$(oa_psql "SELECT encode(secret, 'hex') FROM user_totp WHERE user_id = '$uid'")
	# The previous period's code: the browser's (this period's) is then new.
	oa_json /api/v1/auth/me/totp/confirm "{\"code\":\"$(totp_code "$key" -1)\",\"password\":\"$OA_PW\"}" \
	    -H "Authorization: Bearer $at"
	expect_status 200
}

t_6o21_browser_signs_in_with_totp_and_consents() {
	local out f shots="$GH_STATE/logs/browser"
	oa_setup
	[ -x /usr/bin/chromium ] || { oa_missing /usr/bin/chromium; return 0; }
	oa_node_deps || return 0
	[ -n "${OA_RP_SPA-}" ] || oa_rp_clients
	oa_totp_user tessa
	[ -n "$OA_TOTP_B32" ] || fail "no TOTP secret"
	out=$(NODE_EXTRA_CA_CERTS="$GH_STATE/tls/cert.pem" \
	    OIDC_ISSUER="$(gh_url '')" OIDC_SHOTS="$shots" \
	    OIDC_SPA_ID="$OA_RP_SPA" OIDC_SPA_REDIRECT=https://rp-spa.example.test/cb \
	    OIDC_WEB_ID="$OA_RP_WEB" OIDC_WEB_REDIRECT=https://rp-web.example.test/callback \
	    OIDC_LOGIN=tessa OIDC_PASSWORD="$OA_PW" OIDC_TOTP_SECRET="$OA_TOTP_B32" \
	    timeout 90 node "$OA_NODE_DIR/browser.mjs" 2>"$T_OUT/browser.err") ||
	    { fail "browser.mjs: $out $(head -c 500 "$T_OUT/browser.err")"; return; }
	BODY=$out
	printf '%s' "$out" | jq -r .signin_csp | grep -q "frame-ancestors 'none'" ||
	    fail "sign-in CSP: $(printf '%s' "$out" | jq -r .signin_csp)"
	expect_json .consent_title "Allow access?"
	expect_json '.consent_scopes | join("|")' "confirm who you are|see your username|see your e-mail address"
	expect_json .first.code true
	expect_json .first.state_ok true
	expect_json .first.iss "$(gh_url '')"
	expect_json .first.token_status 200
	expect_json '.first.amr | join(",")' pwd,otp
	expect_json .second_password_asked false
	expect_json .second.code true
	expect_json .second.state_ok true
	printf '%s' "$out" | jq -r .frame_csp | grep -q "frame-ancestors 'none'" ||
	    fail "framed CSP: $(printf '%s' "$out" | jq -r .frame_csp)"
	expect_json .frame_xfo DENY
	expect_json .frame_rendered false
	for f in 1-signin 2-totp 3-consent 4-redirect 5-second-consent 6-framed; do
		[ -s "$shots/$f.png" ] || fail "no screenshot $f"
	done
	if [ -n "${GH_TEST_SHOTS-}" ]; then
		mkdir -p "$GH_TEST_SHOTS" && cp "$shots"/*.png "$GH_TEST_SHOTS/"
	fi
}

# oa_logout_ready JAR: OA_WEB signed in through JAR: LO_AT, LO_RT, LO_IDT.
oa_logout_ready() {
	rm -f "$1"
	oa_url "$OA_WEB" "$OA_WEB_URI" "openid offline_access"
	oa_browser "$1" "$URL"
	req POST "$OA/token" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode grant_type=authorization_code \
	    --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$OA_WEB_URI" \
	    --data-urlencode "code_verifier=$VERIFIER"
	expect_status 200
	LO_AT=$(printf '%s' "$BODY" | jq -r .access_token)
	LO_RT=$(printf '%s' "$BODY" | jq -r .refresh_token)
	LO_IDT=$(printf '%s' "$BODY" | jq -r .id_token)
}

oa_q() {
	jq -rn --arg v "$1" '$v|@uri'
}

t_6o22_logout_redirects_only_to_registered_uris() {
	local jar="$T_OUT/jar22" u h p forged spa_idt
	oa_setup
	req GET /.well-known/openid-configuration
	expect_json .end_session_endpoint "$(gh_url "$OA/logout")"
	oa_logout_ready "$jar"
	# Open redirects: nothing ends, no Location.
	for u in https://evil.example/ "$OA_WEB_LOGOUT/" "$OA_WEB_LOGOUT?x=1" \
	    "$OA_WEB_URI" "https://web.example.test@evil.example/bye" \
	    "//evil.example/bye" "$OA_SPA_URI"; do
		req GET "$OA/logout?id_token_hint=$LO_IDT&post_logout_redirect_uri=$(oa_q "$u")&state=s22" -b "$jar"
		expect_status 400
		oa_no_location
		expect_header content-type "text/html; charset=utf-8"
	done
	# No ID token: no client to check the URI against; refused too.
	req GET "$OA/logout?post_logout_redirect_uri=$(oa_q "$OA_WEB_LOGOUT")" -b "$jar"
	expect_status 400
	oa_no_location
	# A forged ID token (another sub, the same signature).
	h=$(printf '%s' "$LO_IDT" | cut -d. -f1)
	p=$(oa_part 2 "$LO_IDT" | jq -c '.sub = "00000000-0000-0000-0000-000000000000"' | oa_b64url)
	forged="$h.$p.$(printf '%s' "$LO_IDT" | cut -d. -f3)"
	req GET "$OA/logout?id_token_hint=$forged&post_logout_redirect_uri=$(oa_q "$OA_WEB_LOGOUT")" -b "$jar"
	expect_status 400
	oa_no_location
	# An access token is no ID token.
	req GET "$OA/logout?id_token_hint=$LO_AT&post_logout_redirect_uri=$(oa_q "$OA_WEB_LOGOUT")" -b "$jar"
	expect_status 400
	# Another client's ID token with this client's URI.
	oa_url "$OA_SPA" "$OA_SPA_URI" openid
	oa_browser "$jar" "$URL"
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	spa_idt=$(printf '%s' "$BODY" | jq -r .id_token)
	req GET "$OA/logout?id_token_hint=$spa_idt&post_logout_redirect_uri=$(oa_q "$OA_WEB_LOGOUT")" -b "$jar"
	expect_status 400
	oa_no_location
	req GET "$OA/logout?id_token_hint=$spa_idt&client_id=$OA_WEB" -b "$jar"
	expect_status 400
	# Still signed in everywhere.
	req GET "$OA/userinfo" -H "Authorization: Bearer $LO_AT"
	expect_status 200
	oa_url "$OA_WEB" "$OA_WEB_URI" openid "&prompt=none"
	req GET "$URL" -b "$jar"
	header location | grep -q '[?&]code=' || fail "session gone early: $(header location)"
	cp "$jar" "$T_OUT/jar22.bak"
	# The registered URI, exactly: back there with the state.
	req GET "$OA/logout?id_token_hint=$LO_IDT&post_logout_redirect_uri=$(oa_q "$OA_WEB_LOGOUT")&state=s%2022" \
	    -b "$jar" -c "$jar"
	expect_status 303
	expect_header location "$OA_WEB_LOGOUT?state=s%2022"
	header set-cookie | grep -q '^gh_idp=; .*Max-Age=0' || fail "cookie not cleared: $(header set-cookie)"
	# That client's tokens die; the provider session is over.
	req GET "$OA/userinfo" -H "Authorization: Bearer $LO_AT"
	expect_status 401
	req POST "$OA/token" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode grant_type=refresh_token \
	    --data-urlencode "refresh_token=$LO_RT"
	expect_json .error invalid_grant
	req POST "$OA/introspect" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode "token=$LO_AT"
	expect_json .active false
	oa_url "$OA_WEB" "$OA_WEB_URI" openid "&prompt=none"
	req GET "$URL" -b "$jar"
	header location | grep -q 'error=login_required' || fail "after logout: $(header location)"
	# Even with the old cookie (a copy kept by someone): the row is ended.
	oa_url "$OA_FIRST" https://first.example.test/cb openid "&prompt=none"
	req GET "$URL" -H "Cookie: $(awk '$6 == "gh_idp" {print "gh_idp=" $7}' "$T_OUT/jar22.bak" 2>/dev/null)"
	header location | grep -q 'error=login_required' || fail "old cookie: $(header location)"
}

t_6o23_logout_without_id_token_asks_first() {
	local jar="$T_OUT/jar23" csrf
	oa_setup
	oa_logout_ready "$jar"
	req GET "$OA/logout?client_id=$OA_WEB&post_logout_redirect_uri=$(oa_q "$OA_WEB_LOGOUT")&state=s23" \
	    -b "$jar" -c "$jar"
	expect_status 200
	oa_no_location
	header content-security-policy | grep -q "frame-ancestors 'none'" || fail "no frame-ancestors"
	printf '%s' "$BODY" | grep -q 'Server app</strong> asks to sign you out' || fail "page: ${BODY:0:300}"
	csrf=$(printf '%s' "$BODY" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
	# A link or another site's form signs nobody out.
	req POST "$OA/logout" --data-urlencode "csrf=$csrf" --data-urlencode "client_id=$OA_WEB" \
	    --data-urlencode "post_logout_redirect_uri=$OA_WEB_LOGOUT"
	expect_status 403
	req POST "$OA/logout" -b "$jar" -H 'Origin: https://evil.example' --data-urlencode "csrf=$csrf" \
	    --data-urlencode "client_id=$OA_WEB"
	expect_status 403
	# The form may not carry an unregistered URI either.
	req POST "$OA/logout" -b "$jar" -H "Origin: $OA_ORIGIN" --data-urlencode "csrf=$csrf" \
	    --data-urlencode "client_id=$OA_WEB" --data-urlencode "post_logout_redirect_uri=https://evil.example/"
	expect_status 400
	oa_no_location
	req GET "$OA/userinfo" -H "Authorization: Bearer $LO_AT"
	expect_status 200
	req POST "$OA/logout" -b "$jar" -c "$jar" -H "Origin: $OA_ORIGIN" --data-urlencode "csrf=$csrf" \
	    --data-urlencode "client_id=$OA_WEB" --data-urlencode "post_logout_redirect_uri=$OA_WEB_LOGOUT" \
	    --data-urlencode state=s23
	expect_status 303
	expect_header location "$OA_WEB_LOGOUT?state=s23"
	req GET "$OA/userinfo" -H "Authorization: Bearer $LO_AT"
	expect_status 401
	oa_url "$OA_WEB" "$OA_WEB_URI" openid "&prompt=none"
	req GET "$URL" -b "$jar"
	header location | grep -q 'error=login_required' || fail "after logout: $(header location)"
	# No client named: a signed-out page.
	req GET "$OA/logout" -b "$jar" -c "$jar"
	expect_status 200
	csrf=$(printf '%s' "$BODY" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
	req POST "$OA/logout" -b "$jar" -H "Origin: $OA_ORIGIN" --data-urlencode "csrf=$csrf"
	expect_status 200
	printf '%s' "$BODY" | grep -q 'You are signed out' || fail "page: ${BODY:0:200}"
}

t_6o24_client_credentials_names_no_user() {
	local id secret at p
	oa_setup
	req GET /.well-known/openid-configuration
	expect_json '.grant_types_supported | index("client_credentials") != null' true
	oa_json /api/v1/auth/admin/clients '{"name":"Batch job","type":"confidential","redirect_uris":["https://batch.example.test/cb"],"grant_types":["client_credentials"]}' \
	    -H "Authorization: Bearer $OA_ADMIN"
	expect_status 201
	id=$(printf '%s' "$BODY" | jq -r .client_id)
	secret=$(printf '%s' "$BODY" | jq -r .client_secret)
	req POST "$OA/token" -u "$id:wrong-$secret" --data-urlencode grant_type=client_credentials
	expect_status 401
	expect_json .error invalid_client
	req POST "$OA/token" -u "$id:$secret" --data-urlencode grant_type=client_credentials \
	    --data-urlencode scope=openid
	expect_json .error invalid_scope
	# A client without the grant, and a public one.
	req POST "$OA/token" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode grant_type=client_credentials
	expect_json .error unauthorized_client
	oa_token "$OA_SPA" --data-urlencode grant_type=client_credentials
	expect_json .error unauthorized_client
	req POST "$OA/token" -u "$id:$secret" --data-urlencode grant_type=client_credentials
	expect_status 200
	expect_json .token_type Bearer
	expect_json 'has("refresh_token") or has("id_token")' false
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	p=$(oa_part 2 "$at")
	[ "$(printf '%s' "$p" | jq -r '.sub + " " + .role')" = "client:$id client" ] || fail "claims $p"
	[ "$(printf '%s' "$p" | jq -r '.sid // ""')" = "" ] || fail "a session in $p"
	# Wherever a user is needed, a client's own token is refused.
	req GET /api/v1/auth/me -H "Authorization: Bearer $at"
	[ "$STATUS" = 401 ] || [ "$STATUS" = 403 ] || fail "auth/me answered $STATUS"
	req GET /api/v1/payments -H "Authorization: Bearer $at"
	expect_problem 403
	req GET /api/v1/media -H "Authorization: Bearer $at"
	[ "$STATUS" = 403 ] || [ "$STATUS" = 200 ] || fail "media answered $STATUS"
	req POST /api/v1/media -H "Authorization: Bearer $at"
	expect_problem 403
	# UserInfo has no user to describe: the token is not good there
	# (RFC 6750 3.1, OIDC Core 5.3.3), so 401, not 403; and so by POST.
	req GET "$OA/userinfo" -H "Authorization: Bearer $at"
	expect_problem 401
	header www-authenticate | grep -q '^Bearer realm="gatehouse", error="invalid_token"' ||
	    fail "userinfo WWW-Authenticate: $(header www-authenticate)"
	req POST "$OA/userinfo" -H "Authorization: Bearer $at"
	expect_problem 401
	header www-authenticate | grep -q 'error="invalid_token"' ||
	    fail "userinfo POST WWW-Authenticate: $(header www-authenticate)"
}

# oa_par CLIENT REDIRECT [curl args]: pushes a request (PKCE pair fresh);
# sets RURI.
oa_par() {
	local client=$1 redirect=$2
	shift 2
	oa_pkce
	req POST "$OA/par" --data-urlencode response_type=code --data-urlencode "redirect_uri=$redirect" \
	    --data-urlencode "scope=openid" --data-urlencode state=st-par --data-urlencode nonce=n-par \
	    --data-urlencode "code_challenge=$CHALLENGE" --data-urlencode code_challenge_method=S256 "$@"
	RURI=$(printf '%s' "$BODY" | jq -r '.request_uri // empty' 2>/dev/null)
}

t_6o25_pushed_authorization_requests() {
	local jar="$T_OUT/jar25" id
	oa_setup
	rm -f "$jar"
	req GET /.well-known/openid-configuration
	expect_json .pushed_authorization_request_endpoint "$(gh_url "$OA/par")"
	# Validated as the authorization endpoint would, answered in JSON.
	oa_par "$OA_SPA" https://evil.example/cb --data-urlencode "client_id=$OA_SPA"
	expect_status 400
	expect_json .error invalid_request
	req POST "$OA/par" --data-urlencode "client_id=$OA_SPA" --data-urlencode response_type=code \
	    --data-urlencode "redirect_uri=$OA_SPA_URI" --data-urlencode scope=openid
	expect_status 400
	expect_json .error invalid_request
	oa_par "$OA_WEB" "$OA_WEB_URI" -u "$OA_WEB:wrong"
	expect_status 401
	expect_json .error invalid_client
	oa_par "$OA_WEB" "$OA_WEB_URI" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode "client_id=$OA_SPA"
	expect_json .error invalid_client
	# A confidential client pushes; the browser carries only the reference.
	oa_par "$OA_WEB" "$OA_WEB_URI" -u "$OA_WEB:$OA_WEB_SECRET"
	expect_status 201
	expect_json .expires_in 60
	case "$RURI" in urn:ietf:params:oauth:request_uri:*) ;; *) fail "request_uri '$RURI'" ;; esac
	# Another client cannot use it.
	req GET "$OA/authorize?client_id=$OA_SPA&request_uri=$(oa_q "$RURI")"
	expect_status 400
	oa_no_location
	oa_browser "$jar" "$OA/authorize?client_id=$OA_WEB&request_uri=$(oa_q "$RURI")"
	expect_status 303
	case "$LOC" in "$OA_WEB_URI?code="*"&state=st-par&iss="*) ;; *) fail "location '$LOC'" ;; esac
	req POST "$OA/token" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode grant_type=authorization_code \
	    --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$OA_WEB_URI" \
	    --data-urlencode "code_verifier=$VERIFIER"
	expect_status 200
	[ "$(oa_part 2 "$(printf '%s' "$BODY" | jq -r .id_token)" | jq -r .nonce)" = n-par ] || fail "nonce"
	# One use.
	req GET "$OA/authorize?client_id=$OA_WEB&request_uri=$(oa_q "$RURI")" -b "$jar"
	expect_status 400
	oa_no_location
	# Sixty seconds.
	oa_par "$OA_SPA" "$OA_SPA_URI" --data-urlencode "client_id=$OA_SPA"
	expect_status 201
	oa_psql "UPDATE oauth_par SET expires_at = now() - interval '1 second' WHERE used_at IS NULL" >/dev/null
	req GET "$OA/authorize?client_id=$OA_SPA&request_uri=$(oa_q "$RURI")" -b "$jar"
	expect_status 400
	oa_no_location
	# require_par: the front channel alone is refused; pushed, it works.
	oa_json /api/v1/auth/admin/clients '{"name":"Pushes only","type":"public","skip_consent":true,"require_par":true,"redirect_uris":["https://par.example.test/cb"]}' \
	    -H "Authorization: Bearer $OA_ADMIN"
	expect_status 201
	id=$(printf '%s' "$BODY" | jq -r .client_id)
	oa_url "$id" https://par.example.test/cb openid
	req GET "$URL" -b "$jar"
	expect_status 303
	header location | grep -q 'error=invalid_request' || fail "require_par: $(header location)"
	oa_par "$id" https://par.example.test/cb --data-urlencode "client_id=$id"
	expect_status 201
	oa_browser "$jar" "$OA/authorize?client_id=$id&request_uri=$(oa_q "$RURI")"
	[ -n "$CODE" ] || fail "no code through PAR: $LOC"
	oa_exchange "$id" https://par.example.test/cb
	expect_status 200
}

# DPoP (RFC 9449).  oa_dpop_proof KEY HTM PATH [TOKEN] [BENT]: a proof
# made with node's crypto (tests/oidc/dpop.mjs), for the stack's URL of
# PATH; sets PROOF.
oa_dpop_proof() {
	PROOF=$(node "$OA_NODE_DIR/dpop.mjs" proof "$1" "$2" "$(gh_url "$3")" "${4-}" "${5-}") ||
	    fail "dpop.mjs proof"
}

# oa_dpop_code: a fresh code of the SPA client (sign-in and consent done
# before, so straight through), with VERIFIER.
oa_dpop_code() {
	oa_url "$OA_SPA" "$OA_SPA_URI" "openid profile offline_access"
	oa_browser "$T_OUT/jar-dpop" "$URL"
	[ -n "$CODE" ] || fail "no code: $LOC"
}

# oa_dpop_exchange CLIENT REDIRECT PROOF: the code exchange with a proof.
oa_dpop_exchange() {
	oa_token "$1" --data-urlencode grant_type=authorization_code \
	    --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$2" \
	    --data-urlencode "code_verifier=$VERIFIER" -H "DPoP: $3"
}

oa_dpop_sessions() {
	oa_psql "SELECT count(*) FROM sessions WHERE client_id = '$OA_SPA'"
}

# oa_dpop_ready: node, a key, and a bound SPA session: DPOP_KEY,
# DPOP_AT (bound access token), DPOP_RT.
oa_dpop_ready() {
	oa_setup
	oa_node_deps || return 1
	[ -n "${DPOP_AT-}" ] && return 0
	DPOP_KEY="$GH_STATE/dpop-key.pem"
	rm -f "$DPOP_KEY" "$T_OUT/jar-dpop"
	oa_dpop_code
	oa_dpop_proof "$DPOP_KEY" POST "$OA/token"
	oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
	expect_status 200
	expect_json .token_type DPoP
	DPOP_AT=$(printf '%s' "$BODY" | jq -r .access_token)
	DPOP_RT=$(printf '%s' "$BODY" | jq -r .refresh_token)
}

t_6o26_dpop_with_openid_client() {
	local out
	oa_setup
	oa_node_deps || return 0
	req GET /.well-known/openid-configuration
	expect_json '.dpop_signing_alg_values_supported | join(",")' ES256
	rm -f "$T_OUT/jar-dpop" "$T_OUT/rp-key.pem"
	oa_dpop_code
	out=$(NODE_EXTRA_CA_CERTS="$GH_STATE/tls/cert.pem" OIDC_ISSUER="$(gh_url '')" \
	    OIDC_SPA_ID="$OA_SPA" OIDC_SPA_REDIRECT="$OA_SPA_URI" OIDC_VERIFIER="$VERIFIER" \
	    OIDC_STATE=st-1 OIDC_NONCE=n-1 \
	    timeout 60 node "$OA_NODE_DIR/dpop.mjs" rp "$T_OUT/rp-key.pem" "$CODE" 2>"$T_OUT/dpop.err") ||
	    { fail "dpop.mjs rp: $out $(head -c 500 "$T_OUT/dpop.err")"; return; }
	BODY=$out
	expect_json '.algs | join(",")' ES256
	expect_json .token_type DPoP
	# The token is bound to the library's key: cnf.jkt is its thumbprint.
	[ "$(printf '%s' "$out" | jq -r .cnf_jkt)" = "$(printf '%s' "$out" | jq -r .jkt)" ] ||
	    fail "cnf.jkt is not the key's thumbprint: $out"
	expect_json .userinfo_sub "$OA_UID"
	expect_json .userinfo_post_sub "$OA_UID"
	expect_json .userinfo_as_bearer invalid_token
	expect_json .payments_status 200
	expect_json .media_status 200
	expect_json .payments_as_bearer 401
	expect_json .media_as_bearer 401
	printf '%s' "$out" | jq -r .payments_as_bearer_challenge | grep -q '^DPoP .*error="invalid_token"' ||
	    fail "payment's challenge: $(printf '%s' "$out" | jq -r .payments_as_bearer_challenge)"
	expect_json .refresh_other_key invalid_grant
	expect_json .refresh_no_key invalid_dpop_proof
	expect_json .refreshed_type DPoP
	[ "$(printf '%s' "$out" | jq -r .refreshed_jkt)" = "$(printf '%s' "$out" | jq -r .jkt)" ] ||
	    fail "the refreshed token is bound to another key: $out"
	expect_json .refreshed_userinfo_sub "$OA_UID"
}

t_6o27_dpop_token_endpoint_refuses_bad_proofs() {
	local key="$T_OUT/k27.pem" thief="$T_OUT/k27-thief.pem" n bent
	oa_setup
	oa_node_deps || return 0
	rm -f "$T_OUT/jar-dpop" "$key" "$thief"
	oa_dpop_code
	n=$(oa_dpop_sessions)
	# Each refused with invalid_dpop_proof before the code is looked at:
	# nothing issued, and the code still good for the right proof.
	for bent in '{"typ":"JWT"}' '{"typ":"at+jwt"}' '{"alg":"none"}' '{"alg":"HS256"}' \
	    '{"alg":"ES384"}' '{"private_jwk":true}' '{"htm":"GET"}' \
	    "{\"htu\":\"$(gh_url "$OA/userinfo")\"}" '{"htu":"https://evil.example/api/v1/auth/oauth/token"}' \
	    "{\"htu\":\"http://localhost:$GH_HTTPS_PORT$OA/token\"}" \
	    '{"iat":-600}' '{"iat":600}' '{"no_jti":true}' "{\"signer\":\"$thief\"}"; do
		oa_dpop_proof "$key" POST "$OA/token" "" "$bent"
		oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
		expect_status 400
		[ "$(printf '%s' "$BODY" | jq -r .error)" = invalid_dpop_proof ] ||
		    fail "$bent: $BODY"
	done
	oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "not.a.proof"
	expect_json .error invalid_dpop_proof
	[ "$(oa_dpop_sessions)" = "$n" ] || fail "a session was made by a bad proof"
	# The query of htu is not compared (RFC 9449 4.3).
	oa_dpop_proof "$key" POST "$OA/token" "" "{\"htu\":\"$(gh_url "$OA/token")?x=1\"}"
	oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
	expect_status 200
	expect_json .token_type DPoP
	# A proof works once: replayed, even on another grant, it is refused.
	oa_token "$OA_SPA" --data-urlencode grant_type=refresh_token \
	    --data-urlencode "refresh_token=$(printf '%s' "$BODY" | jq -r .refresh_token)" -H "DPoP: $PROOF"
	expect_status 400
	expect_json .error invalid_dpop_proof
	expect_json .error_description "the DPoP proof was used before"
	# Without a proof, the same client still gets bearer tokens.
	oa_dpop_code
	oa_exchange "$OA_SPA" "$OA_SPA_URI"
	expect_json .token_type Bearer
	[ "$(oa_part 2 "$(printf '%s' "$BODY" | jq -r .access_token)" | jq -r 'has("cnf")')" = false ] ||
	    fail "a bearer token with cnf"
}

t_6o28_dpop_bound_token_at_resources() {
	local thief="$T_OUT/k28-thief.pem" bearer p
	oa_dpop_ready || return 0
	# Bound tokens are worth nothing as bearer tokens, in every service.
	for p in "$OA/userinfo" /api/v1/auth/me /api/v1/payments /api/v1/media; do
		req GET "$p" -H "Authorization: Bearer $DPOP_AT"
		expect_status 401
		header www-authenticate | grep -q '^DPoP realm="gatehouse", error="invalid_token"' ||
		    fail "$p as Bearer: $(header www-authenticate)"
	done
	# DPoP with no proof, and with proofs bent one way each.
	req GET "$OA/userinfo" -H "Authorization: DPoP $DPOP_AT"
	expect_status 401
	header www-authenticate | grep -q 'error="invalid_dpop_proof"' || fail "no proof: $(header www-authenticate)"
	oa_dpop_proof "$DPOP_KEY" GET /api/v1/payments "$DPOP_AT"
	req GET "$OA/userinfo" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
	expect_status 401
	header www-authenticate | grep -q 'invalid_dpop_proof' || fail "other htu"
	oa_dpop_proof "$DPOP_KEY" POST "$OA/userinfo" "$DPOP_AT"
	req GET "$OA/userinfo" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
	expect_status 401
	oa_dpop_proof "$DPOP_KEY" GET "$OA/userinfo" "someone-elses-token"
	req GET "$OA/userinfo" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
	expect_status 401
	expect_json .detail "the DPoP proof is not for this access token (ath)"
	oa_dpop_proof "$DPOP_KEY" GET "$OA/userinfo"
	req GET "$OA/userinfo" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
	expect_status 401
	# The thief's own key: a valid proof, but not of the token's key.
	oa_dpop_proof "$thief" GET "$OA/userinfo" "$DPOP_AT"
	req GET "$OA/userinfo" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
	expect_status 401
	expect_json .detail "the DPoP proof is signed by another key than the token's"
	oa_dpop_proof "$DPOP_KEY" GET "$OA/userinfo" "$DPOP_AT" '{"iat":-300}'
	req GET "$OA/userinfo" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
	expect_status 401
	oa_dpop_proof "$DPOP_KEY" GET "$OA/userinfo" "$DPOP_AT" '{"private_jwk":true}'
	req GET "$OA/userinfo" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
	expect_status 401
	# Right, once: each service keeps the proofs it has seen.
	for p in "$OA/userinfo" /api/v1/payments /api/v1/media; do
		oa_dpop_proof "$DPOP_KEY" GET "$p" "$DPOP_AT"
		req GET "$p" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
		expect_status 200
		req GET "$p" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
		expect_status 401
		expect_json .detail "the DPoP proof was used before"
	done
	# The query is not part of htu.
	oa_dpop_proof "$DPOP_KEY" GET /api/v1/payments "$DPOP_AT"
	req GET "/api/v1/payments?limit=1" -H "Authorization: DPoP $DPOP_AT" -H "DPoP: $PROOF"
	expect_status 200
	# A bearer token under the DPoP scheme is refused too.
	oa_json /api/v1/auth/login "{\"login\":\"olive\",\"password\":\"$OA_PW\"}"
	bearer=$(printf '%s' "$BODY" | jq -r .access_token)
	oa_dpop_proof "$DPOP_KEY" GET /api/v1/payments "$bearer"
	req GET /api/v1/payments -H "Authorization: DPoP $bearer" -H "DPoP: $PROOF"
	expect_status 401
	# No credentials: both challenges.
	req GET "$OA/userinfo"
	expect_status 401
	grep -qi '^www-authenticate: DPoP realm="gatehouse", algs="ES256"' "$REQ_H" ||
	    fail "no DPoP challenge: $(grep -i www-authenticate "$REQ_H")"
}

t_6o29_dpop_refresh_binding() {
	local rt key="$T_OUT/k29.pem" thief="$T_OUT/k29-thief.pem"
	oa_dpop_ready || return 0
	rt=$DPOP_RT
	# A public client's refresh token needs its key; failures rotate nothing.
	oa_token "$OA_SPA" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt"
	expect_json .error invalid_dpop_proof
	oa_dpop_proof "$thief" POST "$OA/token"
	oa_token "$OA_SPA" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt" \
	    -H "DPoP: $PROOF"
	expect_json .error invalid_grant
	oa_dpop_proof "$DPOP_KEY" POST "$OA/token"
	oa_token "$OA_SPA" --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt" \
	    -H "DPoP: $PROOF"
	expect_status 200
	expect_json .token_type DPoP
	DPOP_RT=$(printf '%s' "$BODY" | jq -r .refresh_token)
	DPOP_AT=$(printf '%s' "$BODY" | jq -r .access_token)
	[ -n "$(oa_psql "SELECT dpop_jkt FROM sessions WHERE client_id = '$OA_SPA' AND dpop_jkt IS NOT NULL LIMIT 1")" ] ||
	    fail "no bound session"
	# A confidential client's refresh is held by its secret: not bound.
	rm -f "$T_OUT/jar29"
	oa_url "$OA_WEB" "$OA_WEB_URI" "openid offline_access"
	oa_browser "$T_OUT/jar29" "$URL"
	oa_dpop_proof "$key" POST "$OA/token"
	req POST "$OA/token" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode grant_type=authorization_code \
	    --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$OA_WEB_URI" \
	    --data-urlencode "code_verifier=$VERIFIER" -H "DPoP: $PROOF"
	expect_status 200
	expect_json .token_type DPoP
	rt=$(printf '%s' "$BODY" | jq -r .refresh_token)
	[ "$(oa_psql "SELECT count(*) FROM sessions WHERE client_id = '$OA_WEB' AND dpop_jkt IS NOT NULL")" = 0 ] ||
	    fail "a confidential client's session is bound"
	# Introspection tells a resource the binding (RFC 9449 6.2).
	req POST "$OA/introspect" -u "$OA_WEB:$OA_WEB_SECRET" \
	    --data-urlencode "token=$(printf '%s' "$BODY" | jq -r .access_token)"
	expect_json .token_type DPoP
	[ "$(printf '%s' "$BODY" | jq -r .cnf.jkt | wc -c)" = 44 ] || fail "introspection cnf: $BODY"
	req POST "$OA/token" -u "$OA_WEB:$OA_WEB_SECRET" --data-urlencode grant_type=refresh_token \
	    --data-urlencode "refresh_token=$rt"
	expect_status 200
	expect_json .token_type Bearer
}

t_6o30_dpop_required_by_a_client() {
	local id n
	oa_dpop_ready || return 0
	oa_json /api/v1/auth/admin/clients '{"name":"DPoP only","type":"public","skip_consent":true,"dpop_bound_access_tokens":"yes","redirect_uris":["https://dpop.example.test/cb"]}' \
	    -H "Authorization: Bearer $OA_ADMIN"
	expect_problem 422
	printf '%s' "$BODY" | jq -r '.errors[].field' | grep -qx dpop_bound_access_tokens ||
	    fail "the bad field is not named: $BODY"
	oa_json /api/v1/auth/admin/clients '{"name":"DPoP only","type":"public","skip_consent":true,"dpop_bound_access_tokens":true,"redirect_uris":["https://dpop.example.test/cb"]}' \
	    -H "Authorization: Bearer $OA_ADMIN"
	expect_status 201
	expect_json .dpop_bound_access_tokens true
	id=$(printf '%s' "$BODY" | jq -r .client_id)
	oa_url "$id" https://dpop.example.test/cb openid
	oa_browser "$T_OUT/jar-dpop" "$URL"
	[ -n "$CODE" ] || fail "no code: $LOC"
	n=$(oa_psql "SELECT count(*) FROM sessions WHERE client_id = '$id'")
	oa_exchange "$id" https://dpop.example.test/cb
	expect_status 400
	expect_json .error invalid_dpop_proof
	[ "$(oa_psql "SELECT count(*) FROM sessions WHERE client_id = '$id'")" = "$n" ] || fail "issued without a proof"
	oa_dpop_proof "$DPOP_KEY" POST "$OA/token"
	oa_dpop_exchange "$id" https://dpop.example.test/cb "$PROOF"
	expect_status 200
	expect_json .token_type DPoP
	req PATCH "/api/v1/auth/admin/clients/$id" -H 'Content-Type: application/json' \
	    --data-raw '{"dpop_bound_access_tokens":false}' -H "Authorization: Bearer $OA_ADMIN"
	expect_status 200
	expect_json .dpop_bound_access_tokens false
}

# Server-provided DPoP nonces (RFC 9449 8, 9), GH_DPOP_NONCE=on: the
# three pools restarted with one key file of two lines (the current key,
# then the previous one), and back to no nonces after the case.
OA_NONCE_SECRET=4f1c0be0c8a54e6f9d2a7b3c1e0f5a6b-current-nonce-key
OA_NONCE_OLD=9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d-previous-nonce-key
oa_nonce_pools() {
	local svc key="$GH_STATE/secrets/dpop-nonce.key"
	mkdir -p "$GH_STATE/secrets"
	(umask 077 && printf '%s\n%s\n' "$OA_NONCE_SECRET" "$OA_NONCE_OLD" >"$key")
	gh_is_root && chown -R "$(gh_worker_user)": "$GH_STATE/secrets"
	for svc in auth payment media; do
		gh_pool_stop "$svc"
		if [ "$1" = on ]; then
			GH_DPOP_NONCE=on GH_DPOP_NONCE_KEY_FILE="$key" gh_pool_start "$svc"
		else
			gh_pool_start "$svc"
		fi
		pool_wait "$svc"
	done
}

# oa_nonce SECRET SCOPE SLOT_OFFSET: the nonce of SCOPE for now's slot
# (300 s) plus the offset, made with the line SECRET of a key file.
oa_nonce() {
	node "$OA_NODE_DIR/dpop.mjs" nonce "$1" "$2" $(( $(date +%s) / 300 + $3 ))
}

# oa_nonce_refused WHAT: a 400 use_dpop_nonce with a fresh nonce.
oa_nonce_refused() {
	expect_status 400
	[ "$(printf '%s' "$BODY" | jq -r .error)" = use_dpop_nonce ] || fail "$1: $BODY"
	header dpop-nonce | grep -Eq '^[0-9]+\.[A-Za-z0-9_-]{24}$' ||
	    fail "$1: DPoP-Nonce '$(header dpop-nonce)'"
	[ "$(grep -ci '^dpop-nonce:' "$REQ_H")" = 1 ] || fail "$1: not one DPoP-Nonce"
}

# oa_nonce_401 WHAT: a 401 DPoP use_dpop_nonce challenge with a nonce.
oa_nonce_401() {
	expect_status 401
	header www-authenticate | grep -q '^DPoP realm="gatehouse", error="use_dpop_nonce"' ||
	    fail "$1: $(header www-authenticate)"
	header dpop-nonce | grep -Eq '^[0-9]+\.[A-Za-z0-9_-]{24}$' ||
	    fail "$1: DPoP-Nonce '$(header dpop-nonce)'"
}

t_6o31_dpop_nonces_with_openid_client() {
	local out
	oa_setup
	oa_node_deps || return 0
	oa_nonce_pools on
	rm -f "$T_OUT/jar-dpop" "$T_OUT/rp-key.pem"
	oa_dpop_code
	# openid-client retries each use_dpop_nonce once by itself: the
	# exchange, UserInfo, payment, media and the refresh all go through.
	out=$(NODE_EXTRA_CA_CERTS="$GH_STATE/tls/cert.pem" OIDC_ISSUER="$(gh_url '')" \
	    OIDC_SPA_ID="$OA_SPA" OIDC_SPA_REDIRECT="$OA_SPA_URI" OIDC_VERIFIER="$VERIFIER" \
	    OIDC_STATE=st-1 OIDC_NONCE=n-1 OIDC_DPOP_NONCE=1 \
	    timeout 60 node "$OA_NODE_DIR/dpop.mjs" rp "$T_OUT/rp-key.pem" "$CODE" 2>"$T_OUT/dpop.err") ||
	    fail "dpop.mjs rp: $out $(head -c 500 "$T_OUT/dpop.err")"
	BODY=$out
	expect_json .ok true
	expect_json .token_type DPoP
	expect_json .userinfo_sub "$OA_UID"
	expect_json .userinfo_post_sub "$OA_UID"
	expect_json .payments_status 200
	expect_json .media_status 200
	expect_json .refresh_other_key invalid_grant
	expect_json .refreshed_type DPoP
	expect_json .refreshed_userinfo_sub "$OA_UID"
	# The library had to: a proof without the nonce is refused.
	expect_json .userinfo_without_nonce 401
	printf '%s' "$out" | jq -r .userinfo_without_nonce_challenge | grep -q '^DPoP .*error="use_dpop_nonce"' ||
	    fail "the challenge: $(printf '%s' "$out" | jq -r .userinfo_without_nonce_challenge)"
	[ "$(printf '%s' "$out" | jq -r .userinfo_without_nonce_nonce)" != null ] || fail "no DPoP-Nonce"
	# Discovery says nothing of nonces (RFC 9449 has no metadata for it).
	oa_nonce_pools off
	# Off again: a proof without a nonce is fine, and none is handed out.
	oa_dpop_code
	oa_dpop_proof "$T_OUT/rp-key.pem" POST "$OA/token"
	oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
	expect_status 200
	[ -z "$(header dpop-nonce)" ] || fail "a nonce with nonces off"
}

t_6o32_dpop_nonce_attacks_issue_nothing() {
	local key="$T_OUT/k32.pem" n bad at p nonce tok_nonce pay_nonce media_nonce seen
	oa_setup
	oa_node_deps || return 0
	oa_nonce_pools on
	rm -f "$T_OUT/jar-dpop" "$key"
	oa_dpop_code
	n=$(oa_dpop_sessions)
	# The token endpoint: no nonce, then one bent each way; the code is
	# not looked at, so it still works for the right proof after.
	oa_dpop_proof "$key" POST "$OA/token"
	oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
	oa_nonce_refused "no nonce"
	expect_json .error_description "a nonce is required in the DPoP proof (DPoP-Nonce)"
	tok_nonce=$(header dpop-nonce)
	# The same proof again is not "used before": a refusal for the nonce
	# spends nothing.
	oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
	oa_nonce_refused "no nonce, again"
	for bad in "$(oa_nonce "$OA_NONCE_SECRET" token -2)" \
	    "$(oa_nonce "$OA_NONCE_SECRET" token 2)" \
	    "$(oa_nonce "$OA_NONCE_SECRET" payment 0)" \
	    "$(oa_nonce "$OA_NONCE_SECRET" auth 0)" \
	    "$(oa_nonce another-key-nobody-has-0123456789abcdef token 0)" \
	    "${tok_nonce%%.*}.AAAAAAAAAAAAAAAAAAAAAAAA" \
	    "${tok_nonce%%.*}.${tok_nonce#*.}x" "$((${tok_nonce%%.*} - 1)).${tok_nonce#*.}" \
	    "${tok_nonce}${tok_nonce}" "x${tok_nonce}" "99999999999999999999.${tok_nonce#*.}"; do
		oa_dpop_proof "$key" POST "$OA/token" "" "{\"nonce\":\"$bad\"}"
		oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
		oa_nonce_refused "nonce $bad"
	done
	# Not a nonce at all (RFC 9449 8.1): a bad proof.
	for bad in 'a b' '' 'q"uote'; do
		oa_dpop_proof "$key" POST "$OA/token" "" "$(jq -cn --arg n "$bad" '{nonce: $n}')"
		oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
		expect_status 400
		expect_json .error invalid_dpop_proof
	done
	[ "$(oa_dpop_sessions)" = "$n" ] || fail "a session was made without a good nonce"
	# The previous key (the file's second line) still checks: a host not
	# yet restarted with the new key gives out nonces the others accept.
	oa_dpop_proof "$key" POST "$OA/token" "" "{\"nonce\":\"$(oa_nonce "$OA_NONCE_OLD" token 0)\"}"
	oa_dpop_exchange "$OA_SPA" "$OA_SPA_URI" "$PROOF"
	expect_status 200
	expect_json .token_type DPoP
	header dpop-nonce | grep -Eq '^[0-9]+\.' || fail "no fresh nonce with the tokens"
	at=$(printf '%s' "$BODY" | jq -r .access_token)
	[ "$(oa_dpop_sessions)" = $((n + 1)) ] || fail "sessions: $(oa_dpop_sessions), wanted $((n + 1))"
	# Resources: each service asks for its own nonce.
	oa_dpop_proof "$key" GET "$OA/userinfo" "$at"
	seen=$(oa_psql "SELECT count(*) FROM dpop_proofs")
	req GET "$OA/userinfo" -H "Authorization: DPoP $at" -H "DPoP: $PROOF"
	oa_nonce_401 "userinfo without a nonce"
	[ "$(oa_psql "SELECT count(*) FROM dpop_proofs")" = "$seen" ] || fail "a refused proof was spent"
	for p in /api/v1/payments /api/v1/media; do
		oa_dpop_proof "$key" GET "$p" "$at"
		req GET "$p" -H "Authorization: DPoP $at" -H "DPoP: $PROOF"
		oa_nonce_401 "$p without a nonce"
		expect_json .detail "a nonce is required in the DPoP proof (DPoP-Nonce)"
		case $p in */payments) pay_nonce=$(header dpop-nonce) ;; *) media_nonce=$(header dpop-nonce) ;; esac
	done
	# Another server's nonce, an old one, a forged one: refused.
	for bad in "payments $media_nonce" "media $pay_nonce" "payments $tok_nonce" \
	    "media $(oa_nonce "$OA_NONCE_SECRET" media -2)" \
	    "payments ${pay_nonce%%.*}.AAAAAAAAAAAAAAAAAAAAAAAA" \
	    "media $(oa_nonce another-key-nobody-has-0123456789abcdef media 0)"; do
		p=/api/v1/${bad%% *}
		nonce=${bad#* }
		oa_dpop_proof "$key" GET "$p" "$at" "{\"nonce\":\"$nonce\"}"
		req GET "$p" -H "Authorization: DPoP $at" -H "DPoP: $PROOF"
		oa_nonce_401 "$bad"
		expect_json .detail "the DPoP proof's nonce is not a current one of this server: use the one in DPoP-Nonce"
	done
	# Its own: fine, once, and a fresh nonce comes with the answer.
	oa_dpop_proof "$key" GET /api/v1/payments "$at" "{\"nonce\":\"$pay_nonce\"}"
	req GET /api/v1/payments -H "Authorization: DPoP $at" -H "DPoP: $PROOF"
	expect_status 200
	header dpop-nonce | grep -Eq '^[0-9]+\.' || fail "no fresh nonce with the answer"
	req GET /api/v1/payments -H "Authorization: DPoP $at" -H "DPoP: $PROOF"
	expect_status 401
	expect_json .detail "the DPoP proof was used before"
	oa_dpop_proof "$key" GET "$OA/userinfo" "$at" "{\"nonce\":\"$(oa_nonce "$OA_NONCE_SECRET" auth 0)\"}"
	req GET "$OA/userinfo" -H "Authorization: DPoP $at" -H "DPoP: $PROOF"
	expect_status 200
	expect_json .sub "$OA_UID"
	# Bearer tokens know nothing of nonces.
	oa_json /api/v1/auth/login "{\"login\":\"olive\",\"password\":\"$OA_PW\"}"
	req GET /api/v1/media -H "Authorization: Bearer $(printf '%s' "$BODY" | jq -r .access_token)"
	expect_status 200
	[ -z "$(header dpop-nonce)" ] || fail "a nonce for a bearer token"
	oa_nonce_pools off
}

# The sysadmin's command line sets dpop_bound_access_tokens too.
oa_cli() {
	env "$(gh_pool_env auth | grep '^GH_DB=')" "$GH_STATE/bin/gatehouse-auth" "$@"
}

t_6o33_dpop_required_by_the_command_line() {
	local out id plain n bad
	oa_dpop_ready || return 0
	out=$(oa_cli --add-client "CLI DPoP app" --type public --skip-consent \
	    --redirect-uri https://cli-dpop.example.test/cb --dpop-bound-access-tokens 2>&1) ||
	    fail "add-client: $out"
	id=$(printf '%s' "$out" | sed -n 's/^client_id: //p')
	req GET "/api/v1/auth/admin/clients/$id" -H "Authorization: Bearer $OA_ADMIN"
	expect_status 200
	expect_json .dpop_bound_access_tokens true
	# Without the flag: not required, as before.
	out=$(oa_cli --add-client "CLI plain app" --type public \
	    --redirect-uri https://cli-plain.example.test/cb 2>&1) || fail "add-client: $out"
	plain=$(printf '%s' "$out" | sed -n 's/^client_id: //p')
	req GET "/api/v1/auth/admin/clients/$plain" -H "Authorization: Bearer $OA_ADMIN"
	expect_json .dpop_bound_access_tokens false
	# The flag takes no value, and nothing else like it passes: usage,
	# exit 2, no client.
	n=$(oa_psql "SELECT count(*) FROM oauth_clients")
	for bad in "--dpop-bound-access-tokens yes" --dpop-bound-access-tokens=true \
	    --dpop-bound-access-token --DPOP-BOUND-ACCESS-TOKENS; do
		# shellcheck disable=SC2086  # a flag and its value, split
		out=$(oa_cli --add-client "CLI bad app" --type public \
		    --redirect-uri https://cli-bad.example.test/cb $bad 2>&1)
		[ $? = 2 ] || fail "$bad: exit status not 2: $out"
		printf '%s' "$out" | grep -q -- '--dpop-bound-access-tokens]' || fail "$bad: no usage: $out"
	done
	[ "$(oa_psql "SELECT count(*) FROM oauth_clients")" = "$n" ] || fail "a refused command made a client"
	# The client it made refuses a token request without a proof.
	oa_url "$id" https://cli-dpop.example.test/cb openid
	oa_browser "$T_OUT/jar-dpop" "$URL"
	[ -n "$CODE" ] || fail "no code: $LOC"
	n=$(oa_psql "SELECT count(*) FROM sessions WHERE client_id = '$id'")
	oa_exchange "$id" https://cli-dpop.example.test/cb
	expect_status 400
	expect_json .error invalid_dpop_proof
	[ "$(oa_psql "SELECT count(*) FROM sessions WHERE client_id = '$id'")" = "$n" ] || fail "issued without a proof"
	oa_dpop_proof "$DPOP_KEY" POST "$OA/token"
	oa_dpop_exchange "$id" https://cli-dpop.example.test/cb "$PROOF"
	expect_status 200
	expect_json .token_type DPoP
}
