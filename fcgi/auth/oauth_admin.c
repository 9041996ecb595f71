/*
 * Registered clients: the admin API and the sysadmin's command line;
 * and a user's view of the applications they allowed (me/apps).
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "oauth.h"
#include "oauth_handlers.h"

#define CLIENT_COLS	"k.id, k.name, k.type, " \
	"array_to_json(k.redirect_uris)::text, " \
	"array_to_json(k.post_logout_redirect_uris)::text, " \
	"array_to_json(k.scopes)::text, array_to_json(k.grant_types)::text, " \
	"k.skip_consent, k.require_par, k.disabled, " TS("k.created_at") ", " \
	GH_SQL_TS_KEY("k.created_at") ", k.dpop_bound_access_tokens"
enum { KC_ID, KC_NAME, KC_TYPE, KC_URIS, KC_LOGOUT, KC_SCOPES, KC_GRANTS,
    KC_SKIP, KC_PAR, KC_DISABLED, KC_CREATED, KC_KEY, KC_DPOP };

/* The arrays arrive as JSON text: ARRAY(...) turns them into text[]. */
#define JSON_ARRAY(n)	"ARRAY(SELECT json_array_elements_text($" #n "::json))"

GH_SQL(SQL_CLIENT_NEW) = {{
    "INSERT INTO oauth_clients AS k (id, name, type, secret_hash, "
    " redirect_uris, post_logout_redirect_uris, scopes, grant_types, "
    " skip_consent, require_par, dpop_bound_access_tokens) "
    "VALUES ($1, $2, $3, decode($4, 'hex'), " JSON_ARRAY(5) ", "
    " CASE WHEN $6::json IS NULL THEN '{}' ELSE " JSON_ARRAY(6) " END, "
    " CASE WHEN $7::json IS NULL THEN '{openid,profile,email,offline_access}' "
    "  ELSE " JSON_ARRAY(7) " END, "
    " CASE WHEN $8::json IS NULL THEN '{authorization_code,refresh_token}' "
    "  ELSE " JSON_ARRAY(8) " END, "
    " coalesce($9::boolean, false), coalesce($10::boolean, false), "
    " coalesce($11::boolean, false)) "
    "RETURNING " CLIENT_COLS }};

GH_SQL(SQL_CLIENT_LIST) = {{
    "SELECT " CLIENT_COLS " FROM oauth_clients k "
    "WHERE ($2::timestamptz IS NULL OR (k.created_at, k.id) < ($2, $3)) "
    "ORDER BY k.created_at DESC, k.id DESC LIMIT $1::int" }};

GH_SQL(SQL_CLIENT_ONE) = {{
    "SELECT " CLIENT_COLS " FROM oauth_clients k WHERE k.id = $1" }};

/* Absent fields ($n NULL) keep their value. */
GH_SQL(SQL_CLIENT_UPDATE) = {{
    "UPDATE oauth_clients k SET name = coalesce($2, k.name), "
    " redirect_uris = CASE WHEN $3::json IS NULL THEN k.redirect_uris "
    "  ELSE " JSON_ARRAY(3) " END, "
    " post_logout_redirect_uris = CASE WHEN $4::json IS NULL "
    "  THEN k.post_logout_redirect_uris ELSE " JSON_ARRAY(4) " END, "
    " scopes = CASE WHEN $5::json IS NULL THEN k.scopes "
    "  ELSE " JSON_ARRAY(5) " END, "
    " skip_consent = coalesce($6::boolean, k.skip_consent), "
    " require_par = coalesce($7::boolean, k.require_par), "
    " disabled = coalesce($8::boolean, k.disabled), "
    " dpop_bound_access_tokens = coalesce($9::boolean, "
    "  k.dpop_bound_access_tokens), updated_at = now() "
    "WHERE k.id = $1 RETURNING " CLIENT_COLS }};

/* A disabled client's tokens die with it. */
GH_SQL(SQL_CLIENT_SESSIONS_END) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = "
    " 'client_disabled' WHERE client_id = $1 AND revoked_at IS NULL" }};

GH_SQL(SQL_CLIENT_SECRET) = {{
    "UPDATE oauth_clients SET secret_hash = decode($2, 'hex'), "
    " updated_at = now() WHERE id = $1 AND type = 'confidential' "
    "RETURNING id" }};

GH_SQL(SQL_APPS) = {{
    "SELECT c.client_id, k.name, array_to_json(c.scopes)::text, "
    " " TS("c.created_at") " "
    "FROM oauth_consents c JOIN oauth_clients k ON k.id = c.client_id "
    "WHERE c.user_id = $1 ORDER BY c.created_at DESC LIMIT 200" }};
enum { AP_CLIENT, AP_NAME, AP_SCOPES, AP_CREATED };

GH_SQL(SQL_APP_REMOVE) = {{
    "DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2" }};

GH_SQL(SQL_APP_SESSIONS_END) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = "
    " 'consent_removed' WHERE user_id = $1 AND client_id = $2 "
    "AND revoked_at IS NULL" }};

static const char *const grant_names[] = {
	"authorization_code", "refresh_token", "client_credentials", NULL
};

/* Check gh_row_failed after. */
static json_t *
client_json(struct gh_row *r)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:b, "
	    "s:b, s:s}", "client_id", gh_row_str(r, KC_ID),
	    "name", gh_row_str(r, KC_NAME), "type", gh_row_str(r, KC_TYPE),
	    "redirect_uris", gh_row_json(r, KC_URIS),
	    "post_logout_redirect_uris", gh_row_json(r, KC_LOGOUT),
	    "scopes", gh_row_json(r, KC_SCOPES),
	    "grant_types", gh_row_json(r, KC_GRANTS),
	    "skip_consent", gh_row_bool(r, KC_SKIP),
	    "require_par", gh_row_bool(r, KC_PAR),
	    "disabled", gh_row_bool(r, KC_DISABLED),
	    "dpop_bound_access_tokens", gh_row_bool(r, KC_DPOP),
	    "created_at", gh_row_time(r, KC_CREATED));
}

/*
 * Checks a list of URIs (redirect or logout), naming each bad entry by
 * its index; returns its JSON text for the statement, or NULL when
 * absent.
 */
static const char *
uri_list(struct gh_req *req, const char *field, json_t *arr, size_t min)
{
	const char	*why, *s;
	json_t		*u;
	size_t		 i;
	char		*text;

	if (arr == NULL)
		return NULL;
	if (json_array_size(arr) < min || json_array_size(arr) > 20)
		gh_field_error(req, field, "must hold %zu to 20 URIs", min);
	json_array_foreach(arr, i, u) {
		s = json_string_value(u);
		why = s == NULL ? "must be a string" :
		    oauth_redirect_uri_invalid(s);
		if (why != NULL)
			gh_field_error(req, gh_printf(&req->arena, "%s/%zu",
			    field, i), "%s", why);
	}
	if ((text = json_dumps(arr, JSON_COMPACT)) == NULL ||
	    gh_defer(&req->arena, free, text) != 0)
		return NULL;
	return text;
}

/* Scopes or grant types: each a known name. */
static const char *
name_list(struct gh_req *req, const char *field, json_t *arr, int grants,
    unsigned *mask)
{
	const char	*s;
	json_t		*u;
	size_t		 i, k;
	unsigned	 bit;
	char		*text;

	if (arr == NULL)
		return NULL;
	if (json_array_size(arr) < 1 || json_array_size(arr) > 4)
		gh_field_error(req, field, "must hold 1 to 4 names");
	json_array_foreach(arr, i, u) {
		s = json_string_value(u);
		if (s != NULL && grants) {
			for (k = 0; grant_names[k] != NULL; k++)
				if (strcmp(s, grant_names[k]) == 0)
					break;
			if (grant_names[k] != NULL) {
				*mask |= 1u << k;
				continue;
			}
		} else if (s != NULL && strchr(s, ' ') == NULL &&
		    oauth_scope_parse(s, &bit) == 0 && bit != 0) {
			*mask |= bit;
			continue;
		}
		gh_field_error(req, gh_printf(&req->arena, "%s/%zu", field, i),
		    grants ? "must be authorization_code, refresh_token or "
		    "client_credentials" : "must be openid, profile, email or "
		    "offline_access");
	}
	if ((text = json_dumps(arr, JSON_COMPACT)) == NULL ||
	    gh_defer(&req->arena, free, text) != 0)
		return NULL;
	return text;
}

static const char *
bool_param(const struct gh_values *v, size_t i)
{
	if (!gh_vhas(v, i))
		return NULL;
	return gh_vbool(v, i, 0) ? "true" : "false";
}

enum { NC_NAME, NC_TYPE, NC_URIS, NC_LOGOUT, NC_SCOPES, NC_GRANTS, NC_SKIP,
    NC_PAR, NC_DPOP };
static const struct gh_field create_fields[] = {
	{ "name",		GH_STRING, .maxlen = 100 },
	{ "type",		GH_STRING, .choices = (const char *const[]){
	    "public", "confidential", NULL } },
	{ "redirect_uris",	GH_ARRAY, .maxlen = 50000 },
	{ "post_logout_redirect_uris", GH_ARRAY | GH_OPTIONAL,
	    .maxlen = 50000 },
	{ "scopes",		GH_ARRAY | GH_OPTIONAL, .maxlen = 200 },
	{ "grant_types",	GH_ARRAY | GH_OPTIONAL, .maxlen = 200 },
	{ "skip_consent",	GH_BOOL | GH_OPTIONAL },
	{ "require_par",	GH_BOOL | GH_OPTIONAL },
	{ "dpop_bound_access_tokens", GH_BOOL | GH_OPTIONAL },
	{ NULL }
};

void
oauth_admin_client_create(struct gh_req *req)
{
	struct gh_values v;
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[11], *secret = NULL, *id;
	unsigned	 scopes = 0, grants = 0;
	int		 conf;
	json_t		*out;

	if (auth_session(req, GH_ROLE_ADMIN) == NULL ||
	    gh_body_json(req, create_fields, &v) != 0)
		return;
	conf = strcmp(gh_vstr(&v, NC_TYPE), "confidential") == 0;
	p[4] = uri_list(req, "redirect_uris", gh_vjson(&v, NC_URIS), 1);
	p[5] = uri_list(req, "post_logout_redirect_uris",
	    gh_vjson(&v, NC_LOGOUT), 0);
	p[6] = name_list(req, "scopes", gh_vjson(&v, NC_SCOPES), 0, &scopes);
	p[7] = name_list(req, "grant_types", gh_vjson(&v, NC_GRANTS), 1,
	    &grants);
	if (!conf && (grants & 4))
		gh_field_error(req, "grant_types", "client_credentials needs a "
		    "confidential client");
	if (gh_errors_reply(req, 422) != 0)
		return;
	if ((id = gh_random_token(&req->arena, 16)) == NULL ||
	    (conf && ((secret = gh_random_token(&req->arena,
	    OAUTH_SECRET_BYTES)) == NULL))) {
		gh_problem(req, 500, "internal error");
		return;
	}
	p[0] = id;
	p[1] = gh_vstr(&v, NC_NAME);
	p[2] = gh_vstr(&v, NC_TYPE);
	p[3] = secret != NULL ? oauth_hash_hex(req, secret) : NULL;
	p[8] = bool_param(&v, NC_SKIP);
	p[9] = bool_param(&v, NC_PAR);
	p[10] = bool_param(&v, NC_DPOP);
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_CLIENT_NEW, 11, p)) == NULL ||
	    auth_audit(req, "oauth_client_created", gh_auth_user(req)->sub,
	    gh_printf(&req->arena, "{\"client_id\":\"%s\"}", id)) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	r = GH_ROW(res, 0);
	out = client_json(&r);
	if (gh_row_failed(req, &r)) {
		json_decref(out);
		return;
	}
	/* Shown this once: only its hash is kept. */
	if (out != NULL && secret != NULL)
		json_object_set_new(out, "client_secret", json_string(secret));
	gh_reply_json(req, 201, out);
}

enum { LQ_LIMIT, LQ_CURSOR };
static const struct gh_field list_params[] = {
	GH_PAGE_FIELDS,
	{ NULL }
};

void
oauth_admin_clients(struct gh_req *req)
{
	static const int keycols[] = { KC_KEY, KC_ID };
	struct gh_values q;
	struct gh_page	 pg;
	PGresult	*res;
	json_t		*data;

	if (auth_session(req, GH_ROLE_ADMIN) == NULL ||
	    gh_query_params(req, list_params, &q) != 0 ||
	    gh_page_init(req, &q, LQ_LIMIT, 20, "ts", &pg) != 0)
		return;
	if ((res = gh_db_query(req, SQL_CLIENT_LIST, 3, (const char *[]){
	    pg.fetch, pg.key[0], pg.key[1] })) == NULL)
		return;
	if ((data = gh_rows_json(req, res, gh_page_count(&pg, res),
	    client_json)) == NULL)
		return;
	gh_reply_json(req, 200, gh_page_json(&req->arena, &pg, data, res,
	    keycols));
}

static void
client_reply(struct gh_req *req, PGresult *res, int status)
{
	struct gh_row	 r;
	json_t		*out;

	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "no such client");
		return;
	}
	r = GH_ROW(res, 0);
	out = client_json(&r);
	if (gh_row_failed(req, &r)) {
		json_decref(out);
		return;
	}
	gh_reply_json(req, status, out);
}

void
oauth_admin_client_get(struct gh_req *req)
{
	PGresult	*res;
	const char	*id = gh_param(req, "id");

	if (auth_session(req, GH_ROLE_ADMIN) == NULL ||
	    (res = gh_db_query(req, SQL_CLIENT_ONE, 1, &id)) == NULL)
		return;
	client_reply(req, res, 200);
}

enum { UC_NAME_, UC_URIS, UC_LOGOUT, UC_SCOPES, UC_SKIP, UC_PAR,
    UC_DISABLED, UC_DPOP };
static const struct gh_field update_fields[] = {
	{ "name",		GH_STRING | GH_OPTIONAL, .maxlen = 100 },
	{ "redirect_uris",	GH_ARRAY | GH_OPTIONAL, .maxlen = 50000 },
	{ "post_logout_redirect_uris", GH_ARRAY | GH_OPTIONAL,
	    .maxlen = 50000 },
	{ "scopes",		GH_ARRAY | GH_OPTIONAL, .maxlen = 200 },
	{ "skip_consent",	GH_BOOL | GH_OPTIONAL },
	{ "require_par",	GH_BOOL | GH_OPTIONAL },
	{ "disabled",		GH_BOOL | GH_OPTIONAL },
	{ "dpop_bound_access_tokens", GH_BOOL | GH_OPTIONAL },
	{ NULL }
};

void
oauth_admin_client_update(struct gh_req *req)
{
	struct gh_values v;
	PGresult	*res;
	const char	*p[9];
	unsigned	 scopes = 0;

	if (auth_session(req, GH_ROLE_ADMIN) == NULL ||
	    gh_body_json(req, update_fields, &v) != 0)
		return;
	p[0] = gh_param(req, "id");
	p[1] = gh_vstr(&v, UC_NAME_);
	p[2] = uri_list(req, "redirect_uris", gh_vjson(&v, UC_URIS), 1);
	p[3] = uri_list(req, "post_logout_redirect_uris",
	    gh_vjson(&v, UC_LOGOUT), 0);
	p[4] = name_list(req, "scopes", gh_vjson(&v, UC_SCOPES), 0, &scopes);
	p[5] = bool_param(&v, UC_SKIP);
	p[6] = bool_param(&v, UC_PAR);
	p[7] = bool_param(&v, UC_DISABLED);
	p[8] = bool_param(&v, UC_DPOP);
	if (gh_errors_reply(req, 422) != 0)
		return;
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_CLIENT_UPDATE, 9, p)) == NULL)
		return;
	if (gh_rows(res) > 0 && gh_vbool(&v, UC_DISABLED, 0) &&
	    gh_db_query(req, SQL_CLIENT_SESSIONS_END, 1, p) == NULL)
		return;
	if (gh_rows(res) > 0 && (auth_audit(req, "oauth_client_updated",
	    gh_auth_user(req)->sub, NULL) != 0 || gh_db_commit(req) != 0))
		return;
	client_reply(req, res, 200);
}

/* A new secret, shown once; the old one stops working at once. */
void
oauth_admin_client_secret(struct gh_req *req)
{
	PGresult	*res;
	const char	*p[2], *secret;

	if (auth_session(req, GH_ROLE_ADMIN) == NULL)
		return;
	if ((secret = gh_random_token(&req->arena,
	    OAUTH_SECRET_BYTES)) == NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	p[0] = gh_param(req, "id");
	p[1] = oauth_hash_hex(req, secret);
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_CLIENT_SECRET, 2, p)) == NULL)
		return;
	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "no such confidential client");
		return;
	}
	if (auth_audit(req, "oauth_client_secret", gh_auth_user(req)->sub,
	    NULL) != 0 || gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 200, json_pack("{s:s, s:s}", "client_id", p[0],
	    "client_secret", secret));
}

/* The applications I allowed, so that I can take any of them back. */
static json_t *
app_json(struct gh_row *r)
{
	return json_pack("{s:s, s:s, s:o, s:s}",
	    "client_id", gh_row_str(r, AP_CLIENT),
	    "name", gh_row_str(r, AP_NAME),
	    "scopes", gh_row_json(r, AP_SCOPES),
	    "granted_at", gh_row_time(r, AP_CREATED));
}

void
oauth_me_apps(struct gh_req *req)
{
	PGresult	*res;
	json_t		*data;

	if (auth_session(req, NULL) == NULL ||
	    (res = gh_db_query(req, SQL_APPS, 1, (const char *[]){
	    gh_auth_user(req)->sub })) == NULL)
		return;
	if ((data = gh_rows_json(req, res, gh_rows(res), app_json)) == NULL)
		return;
	gh_reply_json(req, 200, json_pack("{s:o}", "data", data));
}

/* Takes a consent back; the application's tokens die with it. */
void
oauth_me_app_remove(struct gh_req *req)
{
	PGresult	*res;
	const char	*p[2];

	if (auth_session(req, NULL) == NULL)
		return;
	p[0] = gh_auth_user(req)->sub;
	p[1] = gh_param(req, "client_id");
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_APP_REMOVE, 2, p)) == NULL ||
	    gh_db_query(req, SQL_APP_SESSIONS_END, 2, p) == NULL)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		gh_problem(req, 404, "no such application");
		return;
	}
	if (auth_audit(req, "oauth_consent_removed", p[0], NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply(req, 204, NULL, NULL, 0);
}

static int
cli_usage(void)
{
	fprintf(stderr, "usage: gatehouse-auth --add-client NAME --type "
	    "public|confidential --redirect-uri URI... [--post-logout-uri "
	    "URI...] [--scopes \"openid profile\"] [--skip-consent] "
	    "[--dpop-bound-access-tokens]\n");
	return 2;
}

/* One more URI for a list, after the registration rules. */
static int
cli_uri(json_t *arr, const char *uri)
{
	const char	*why;

	if ((why = oauth_redirect_uri_invalid(uri)) != NULL) {
		fprintf(stderr, "gatehouse-auth: %s: %s\n", uri, why);
		return -1;
	}
	return json_array_append_new(arr, json_string(uri));
}

/*
 * `gatehouse-auth --add-client NAME ...`: registers a client without
 * the API (the first one, before any admin exists).  Prints the
 * client_id and, for a confidential client, its secret, once.
 */
int
oauth_cli_add_client(int argc, char *argv[])
{
	struct gh_arena	 arena;
	struct gh_row	 r;
	PGresult	*res;
	json_t		*uris, *logout, *scopes;
	const char	*p[11], *type = NULL, *secret = NULL, *s;
	char		*u = NULL, *l = NULL, *sc = NULL, *ws;
	unsigned	 mask;
	int		 i, rc = 1, skip = 0, dpop = 0;

	gh_log_setup("auth", GH_LOG_WARN);
	gh_arena_init(&arena);
	uris = json_array();
	logout = json_array();
	scopes = json_array();
	if (uris == NULL || logout == NULL || scopes == NULL)
		goto done;
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			type = argv[++i];
		else if (strcmp(argv[i], "--redirect-uri") == 0 &&
		    i + 1 < argc) {
			if (cli_uri(uris, argv[++i]) != 0)
				goto done;
		} else if (strcmp(argv[i], "--post-logout-uri") == 0 &&
		    i + 1 < argc) {
			if (cli_uri(logout, argv[++i]) != 0)
				goto done;
		} else if (strcmp(argv[i], "--scopes") == 0 && i + 1 < argc) {
			s = argv[++i];
			if (oauth_scope_parse(s, &mask) != 0 || mask == 0) {
				fprintf(stderr, "gatehouse-auth: scopes: "
				    "openid, profile, email, offline_access\n");
				goto done;
			}
			ws = gh_strdup(&arena, s);
			for (s = strtok(ws, " "); s != NULL;
			    s = strtok(NULL, " "))
				json_array_append_new(scopes, json_string(s));
		} else if (strcmp(argv[i], "--skip-consent") == 0)
			skip = 1;
		else if (strcmp(argv[i], "--dpop-bound-access-tokens") == 0)
			dpop = 1;
		else {
			rc = cli_usage();
			goto done;
		}
	}
	if (type == NULL || (strcmp(type, "public") != 0 &&
	    strcmp(type, "confidential") != 0) || json_array_size(uris) == 0) {
		rc = cli_usage();
		goto done;
	}
	if ((p[0] = gh_random_token(&arena, 16)) == NULL ||
	    (strcmp(type, "confidential") == 0 &&
	    (secret = gh_random_token(&arena, OAUTH_SECRET_BYTES)) == NULL))
		goto done;
	u = json_dumps(uris, JSON_COMPACT);
	l = json_dumps(logout, JSON_COMPACT);
	sc = json_array_size(scopes) > 0 ? json_dumps(scopes, JSON_COMPACT) :
	    NULL;
	p[1] = argv[2];
	p[2] = type;
	p[3] = secret != NULL ? gh_sha256_hex(&arena, secret,
	    strlen(secret)) : NULL;
	p[4] = u;
	p[5] = l;
	p[6] = sc;
	p[7] = NULL;
	p[8] = skip ? "true" : "false";
	p[9] = "false";
	p[10] = dpop ? "true" : "false";
	if (u == NULL || l == NULL || gh_db_setup("gatehouse-auth-cli") != 0)
		goto done;
	res = gh_db_run(&arena, SQL_CLIENT_NEW, 11, p);
	if (!gh_db_ok(res)) {
		fprintf(stderr, "gatehouse-auth: %s", res != NULL ?
		    PQresultErrorMessage(res) : "no database connection\n");
		goto done;
	}
	r = GH_ROW(res, 0);
	printf("client_id: %s\n", gh_row_str(&r, KC_ID));
	if (secret != NULL)
		printf("client_secret: %s\n(shown once: keep it now)\n",
		    secret);
	rc = 0;
done:
	free(u);
	free(l);
	free(sc);
	json_decref(uris);
	json_decref(logout);
	json_decref(scopes);
	gh_arena_free(&arena);
	gh_db_close();
	return rc;
}
