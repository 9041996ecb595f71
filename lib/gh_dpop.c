#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "gh_arena.h"
#include "gh_crypto.h"
#include "gh_db.h"
#include "gh_dpop.h"
#include "gh_req.h"
#include "gh_token.h"

#define P256_BYTES	32
#define HTU_MAX		2048
#define WINDOW_MAX	3600
#define KEY_CACHE	32	/* parsed proof keys a worker keeps */

/*
 * The keys of recent proofs, parsed: making an EVP_PKEY from a JWK
 * (the point checked on the curve) costs more than the rest of a proof
 * but its signature, and a client signs every request with one key.
 * Found by the key's own bytes (x || y), so an entry is that very key;
 * the header, the signature and every claim are still checked each
 * time.  Bounded, replaced in turn; a worker serves one request at a
 * time, so no lock.
 */
static struct key_entry {
	unsigned char	 xy[2 * P256_BYTES];
	char		 jkt[GH_DPOP_JKT_LEN + 1];
	EVP_PKEY	*pkey;
} key_cache[KEY_CACHE];
static size_t	 key_cache_next;

/*
 * The replay cache: one row per proof until it could no longer be
 * accepted anyway.  Each insert also takes away a few rows that have
 * lapsed (rows another worker is already deleting are skipped), so the
 * table stays about as large as the traffic of one window.
 */
GH_SQL(SQL_DPOP_SEEN) = {{
    "WITH lapsed AS (DELETE FROM dpop_proofs WHERE replay_key IN ("
    " SELECT replay_key FROM dpop_proofs WHERE expires_at < now() "
    " LIMIT 16 FOR UPDATE SKIP LOCKED)) "
    "INSERT INTO dpop_proofs (replay_key, expires_at) "
    "VALUES (decode($1, 'hex'), to_timestamp($2::bigint)) "
    "ON CONFLICT (replay_key) DO NOTHING RETURNING 1" }};

/* Members of a JWK that only a private key has (RFC 7518 6.2.2, 6.3.2, 6.4). */
static const char *const private_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k", NULL
};

/* A base64url member of exactly n bytes, decoded into out. */
static int
b64_member(struct gh_arena *a, json_t *o, const char *name,
    unsigned char *out, size_t n)
{
	json_t		*v = json_object_get(o, name);
	unsigned char	*buf;
	size_t		 len;

	if (!json_is_string(v) || gh_b64url_decode(a, json_string_value(v),
	    json_string_length(v), &buf, &len) != 0 || len != n)
		return -1;
	memcpy(out, buf, n);
	return 0;
}

/* The P-256 public key (x, y) as OpenSSL's; NULL when not on the curve. */
static EVP_PKEY *
p256_public(const unsigned char x[P256_BYTES], const unsigned char y[P256_BYTES])
{
	unsigned char	 pt[1 + 2 * P256_BYTES];
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;

	pt[0] = 0x04;		/* uncompressed */
	memcpy(pt + 1, x, P256_BYTES);
	memcpy(pt + 1 + P256_BYTES, y, P256_BYTES);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, sizeof(pt)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	if (pkey == NULL)
		ERR_clear_error();
	return pkey;
}

/*
 * The key (x, y) and its thumbprint, from the cache or made and kept
 * there; NULL when not a point of P-256, or out of memory (*why says).
 * The cache owns the key.
 */
static EVP_PKEY *
key_of(struct gh_arena *a, const unsigned char x[P256_BYTES],
    const unsigned char y[P256_BYTES], char jkt[GH_DPOP_JKT_LEN + 1],
    const char **why)
{
	struct key_entry *e;
	unsigned char	 xy[2 * P256_BYTES], md[32];
	EVP_PKEY	*pkey;
	char		*x64, *y64, *tp, *s;
	size_t		 i;

	memcpy(xy, x, P256_BYTES);
	memcpy(xy + P256_BYTES, y, P256_BYTES);
	for (i = 0; i < KEY_CACHE; i++) {
		e = &key_cache[i];
		if (e->pkey != NULL && memcmp(e->xy, xy, sizeof(xy)) == 0) {
			memcpy(jkt, e->jkt, GH_DPOP_JKT_LEN + 1);
			return e->pkey;
		}
	}
	if ((pkey = p256_public(x, y)) == NULL) {
		*why = "the DPoP proof's jwk is not a P-256 public key";
		return NULL;
	}
	/*
	 * RFC 7638: the required members only, in lexical order, no
	 * spaces; x and y re-encoded, so one key has one thumbprint.
	 */
	if ((x64 = gh_b64url_encode(a, x, P256_BYTES)) == NULL ||
	    (y64 = gh_b64url_encode(a, y, P256_BYTES)) == NULL ||
	    (tp = gh_printf(a, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
	    "\"y\":\"%s\"}", x64, y64)) == NULL ||
	    gh_sha256(tp, strlen(tp), md) != 0 ||
	    (s = gh_b64url_encode(a, md, sizeof(md))) == NULL ||
	    strlen(s) != GH_DPOP_JKT_LEN) {
		EVP_PKEY_free(pkey);
		*why = "out of memory";
		return NULL;
	}
	e = &key_cache[key_cache_next];
	key_cache_next = (key_cache_next + 1) % KEY_CACHE;
	EVP_PKEY_free(e->pkey);
	memcpy(e->xy, xy, sizeof(xy));
	memcpy(e->jkt, s, GH_DPOP_JKT_LEN + 1);
	e->pkey = pkey;
	memcpy(jkt, s, GH_DPOP_JKT_LEN + 1);
	return pkey;
}

/* Lets the parsed keys go (tests, and a worker's end under valgrind). */
void
gh_dpop_cache_clear(void)
{
	size_t	 i;

	for (i = 0; i < KEY_CACHE; i++) {
		EVP_PKEY_free(key_cache[i].pkey);
		key_cache[i].pkey = NULL;
	}
	key_cache_next = 0;
}

/*
 * The header: typ dpop+jwt (so no other JWT passes for a proof), alg
 * ES256 (never none, never a MAC: the key is the client's own), no crit,
 * and a public P-256 jwk.  Returns the key (the cache's: not to be
 * freed) with its thumbprint in jkt.
 */
static EVP_PKEY *
proof_header(struct gh_arena *a, const unsigned char *buf, size_t len,
    char jkt[GH_DPOP_JKT_LEN + 1], const char **why)
{
	unsigned char	 x[P256_BYTES], y[P256_BYTES];
	const char *const *m;
	EVP_PKEY	*pkey = NULL;
	json_t		*h, *v, *jwk;

	if ((h = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(h)) {
		*why = "malformed DPoP proof header";
		goto done;
	}
	v = json_object_get(h, "typ");
	if (!json_is_string(v) || strcasecmp(json_string_value(v),
	    "dpop+jwt") != 0) {
		*why = "a DPoP proof has typ dpop+jwt";
		goto done;
	}
	v = json_object_get(h, "alg");
	if (!json_is_string(v) || strcmp(json_string_value(v), "ES256") != 0) {
		*why = "unsupported DPoP proof algorithm (ES256 only)";
		goto done;
	}
	if (json_object_get(h, "crit") != NULL) {
		*why = "unsupported critical header in the DPoP proof";
		goto done;
	}
	if (!json_is_object(jwk = json_object_get(h, "jwk"))) {
		*why = "the DPoP proof has no jwk";
		goto done;
	}
	for (m = private_members; *m != NULL; m++) {
		if (json_object_get(jwk, *m) != NULL) {
			*why = "the DPoP proof's jwk holds a private key";
			goto done;
		}
	}
	if (!json_is_string(v = json_object_get(jwk, "kty")) ||
	    strcmp(json_string_value(v), "EC") != 0 ||
	    !json_is_string(v = json_object_get(jwk, "crv")) ||
	    strcmp(json_string_value(v), "P-256") != 0 ||
	    b64_member(a, jwk, "x", x, sizeof(x)) != 0 ||
	    b64_member(a, jwk, "y", y, sizeof(y)) != 0) {
		*why = "the DPoP proof's jwk is not a P-256 public key";
		goto done;
	}
	pkey = key_of(a, x, y, jkt, why);
done:
	json_decref(h);
	return pkey;
}

/*
 * scheme://authority/path of an https (or http) URI, lower-cased where
 * case means nothing, without a default port, query or fragment.  No
 * userinfo: "https://good@evil/" names no server of ours.
 */
static int
htu_normal(const char *s, char *out, size_t outsz)
{
	const char	*auth, *path, *end;
	size_t		 n, alen, plen, i;
	int		 https;

	end = s + strcspn(s, "?#");
	if (strncasecmp(s, "https://", 8) == 0)
		https = 1;
	else if (strncasecmp(s, "http://", 7) == 0)
		https = 0;
	else
		return -1;
	auth = s + (https ? 8 : 7);
	path = auth + strcspn(auth, "/?#");
	if (path > end)
		path = end;
	alen = (size_t)(path - auth);
	if (alen == 0 || memchr(auth, '@', alen) != NULL)
		return -1;
	if (https && alen > 4 && memcmp(path - 4, ":443", 4) == 0)
		alen -= 4;
	else if (!https && alen > 3 && memcmp(path - 3, ":80", 3) == 0)
		alen -= 3;
	plen = (size_t)(end - path);
	n = (https ? 8 : 7) + alen + (plen == 0 ? 1 : plen);
	if (n >= outsz)
		return -1;
	memcpy(out, https ? "https://" : "http://", https ? 8 : 7);
	for (i = 0; i < alen; i++)
		out[(https ? 8 : 7) + i] = (char)tolower((unsigned char)auth[i]);
	if (plen == 0)
		memcpy(out + (https ? 8 : 7) + alen, "/", 1);
	else
		memcpy(out + (https ? 8 : 7) + alen, path, plen);
	out[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] <= ' ' || out[i] == 0x7f)
			return -1;
	return 0;
}

/* Whether a proof's htu names the URI want (RFC 9449 4.3, check 9). */
int
gh_dpop_htu_match(const char *claim, const char *want)
{
	char	 a[HTU_MAX], b[HTU_MAX];

	if (claim == NULL || want == NULL || htu_normal(claim, a,
	    sizeof(a)) != 0 || htu_normal(want, b, sizeof(b)) != 0)
		return 0;
	return strcmp(a, b) == 0;
}

/* ath: base64url of the SHA-256 of the access token (RFC 9449 4.2). */
char *
gh_dpop_ath(struct gh_arena *a, const char *access_token)
{
	unsigned char	 md[32];

	if (gh_sha256(access_token, strlen(access_token), md) != 0)
		return NULL;
	return gh_b64url_encode(a, md, sizeof(md));
}

/* RFC 9449 8.1's NQCHAR: visible ASCII but a quote or a backslash. */
static int
nqchars(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

static int
proof_claims(struct gh_arena *a, const unsigned char *buf, size_t len,
    const char *htm, const char *htu, const char *access_token, time_t now,
    long window, struct gh_dpop *out, const char **why)
{
	unsigned char	 md[32];
	json_t		*p, *v;
	const char	*ath, *jti;
	double		 iat;
	int		 rc = -1;

	if ((p = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(p)) {
		*why = "malformed DPoP proof payload";
		goto done;
	}
	v = json_object_get(p, "htm");
	if (!json_is_string(v) || strcmp(json_string_value(v), htm) != 0) {
		*why = "the DPoP proof is for another HTTP method (htm)";
		goto done;
	}
	v = json_object_get(p, "htu");
	if (!json_is_string(v) || !gh_dpop_htu_match(json_string_value(v),
	    htu)) {
		*why = "the DPoP proof is for another URI (htu)";
		goto done;
	}
	/* Bounded before any arithmetic: a double of any size may come. */
	v = json_object_get(p, "iat");
	iat = json_is_number(v) ? json_number_value(v) : -1;
	if (iat < (double)now - (double)window ||
	    iat > (double)now + (double)window) {
		*why = "the DPoP proof is too old or from the future (iat)";
		goto done;
	}
	v = json_object_get(p, "jti");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > GH_DPOP_JTI_MAX) {
		*why = "the DPoP proof has no valid jti";
		goto done;
	}
	jti = json_string_value(v);
	/* 1*NQCHAR (RFC 9449 8.1): what a DPoP-Nonce header can hold. */
	if ((v = json_object_get(p, "nonce")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > GH_DPOP_NONCE_MAX ||
		    !nqchars(json_string_value(v), json_string_length(v))) {
			*why = "the DPoP proof's nonce is malformed";
			goto done;
		}
		memcpy(out->nonce, json_string_value(v),
		    json_string_length(v) + 1);
	}
	if (access_token != NULL) {
		v = json_object_get(p, "ath");
		if (!json_is_string(v) ||
		    (ath = gh_dpop_ath(a, access_token)) == NULL ||
		    json_string_length(v) != strlen(ath) ||
		    !gh_ct_equal(json_string_value(v), ath, strlen(ath))) {
			*why = "the DPoP proof is not for this access token "
			    "(ath)";
			goto done;
		}
	}
	out->iat = (long long)iat;
	out->expires = out->iat + window;
	/* Seen once per key: another key's jti is no business of this one. */
	if ((jti = gh_printf(a, "%s.%s", out->jkt, jti)) == NULL ||
	    gh_sha256(jti, strlen(jti), md) != 0) {
		*why = "out of memory";
		goto done;
	}
	gh_hex(out->replay_key, md, sizeof(md));
	rc = 0;
done:
	json_decref(p);
	return rc;
}

int
gh_dpop_check(const char *proof, const char *htm, const char *htu,
    const char *access_token, time_t now, long window, struct gh_dpop *out,
    const char **why)
{
	struct gh_arena	 a;
	struct gh_jws	 jws;
	EVP_PKEY	*pkey;
	const char	*dummy;
	int		 rc = -1, n;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (window < 1)
		window = 1;
	if (window > WINDOW_MAX)
		window = WINDOW_MAX;
	if (proof == NULL || htm == NULL || htu == NULL) {
		*why = "missing DPoP proof";
		return -1;
	}
	gh_arena_init(&a);
	if ((n = gh_jws_split(&a, proof, GH_DPOP_MAX, &jws)) != 0) {
		*why = n == GH_JWS_TOO_LARGE ? "DPoP proof too large" :
		    "malformed DPoP proof";
		goto done;
	}
	if ((pkey = proof_header(&a, jws.hdr, jws.hlen, out->jkt,
	    why)) == NULL)
		goto done;
	if (!gh_es256_verify(pkey, proof, jws.signed_len, jws.sig,
	    jws.slen)) {
		*why = "bad DPoP proof signature";
		goto done;
	}
	if (proof_claims(&a, jws.pay, jws.plen, htm, htu, access_token, now,
	    window, out, why) != 0)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	gh_arena_free(&a);
	return rc;
}

/*
 * Whether the proof is new (RFC 9449 11.1): 1 new, and remembered now;
 * 0 seen before; -1 having answered (the database).  Kept in the
 * service's database rather than in the worker, since the next request
 * may go to any worker on any host.
 */
int
gh_dpop_fresh(struct gh_req *req, const struct gh_dpop *p)
{
	PGresult	*res;
	const char	*params[2];

	params[0] = p->replay_key;
	if ((params[1] = gh_printf(&req->arena, "%lld", p->expires)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if ((res = gh_db_query(req, SQL_DPOP_SEEN, 2, params)) == NULL)
		return -1;
	return gh_rows(res) == 1;
}
