#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gh_arena.h"
#include "gh_config.h"
#include "gh_crypto.h"
#include "gh_token.h"

#define GH_P256_BYTES	32
#define GH_ES256_SIG	64
#define GH_DER_SIG_MAX	80	/* 72 for P-256, with room to spare */
#define GH_LEEWAY_MAX	86400

struct gh_key {
	char		 kid[GH_KID_MAX + 1];
	EVP_PKEY	*pkey;
	int		 private;
	unsigned char	 x[GH_P256_BYTES];
	unsigned char	 y[GH_P256_BYTES];
};

struct gh_keyset {
	struct gh_key	*keys;		/* sorted by kid */
	size_t		 nkeys;
	struct gh_key	*signer;	/* greatest private kid, or NULL */
	EVP_MD		*sha256;	/* fetched once, not per call */
};

/* The order n of P-256, big-endian: r and s must lie in [1, n - 1]. */
static const unsigned char p256_order[GH_P256_BYTES] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
kid_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > GH_KID_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	}
	return 1;
}

/* A key file may be encrypted; a worker has no one to ask for a phrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static EVP_PKEY *
read_private(const char *path, char *err, size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bio = NULL;
	const char	*errstr;
	char		*pem;
	size_t		 len;

	if ((pem = gh_secret_read(path, &len, &errstr)) == NULL) {
		seterr(err, errlen, "%s: %s", path, errstr);
		return NULL;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) != NULL)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL)
		seterr(err, errlen, "%s: not an unencrypted PEM private key",
		    path);
	BIO_free(bio);
	gh_wipe(pem, len);
	free(pem);
	return pkey;
}

static EVP_PKEY *
read_public(const char *path, char *err, size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bio;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL)) ==
	    NULL)
		seterr(err, errlen, "%s: not a PEM public key "
		    "(SubjectPublicKeyInfo)", path);
	BIO_free(bio);
	return pkey;
}

/* ES256 is P-256 and nothing else; its point is kept for the JWKS. */
static int
key_setup(struct gh_key *k, const char *path, char *err, size_t errlen)
{
	BIGNUM	*x = NULL, *y = NULL;
	char	 group[32];
	size_t	 glen;
	int	 rc = -1;

	if (!EVP_PKEY_is_a(k->pkey, "EC") ||
	    EVP_PKEY_get_group_name(k->pkey, group, sizeof(group),
	    &glen) != 1 || strcmp(group, "prime256v1") != 0) {
		seterr(err, errlen, "%s: not an EC P-256 key (ES256 needs "
		    "P-256; make keys with gatehouse-keygen)", path);
		return -1;
	}
	if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
	    BN_bn2binpad(x, k->x, GH_P256_BYTES) != GH_P256_BYTES ||
	    BN_bn2binpad(y, k->y, GH_P256_BYTES) != GH_P256_BYTES) {
		seterr(err, errlen, "%s: cannot read the public point", path);
		goto fail;
	}
	rc = 0;
fail:
	BN_free(x);
	BN_free(y);
	return rc;
}

/*
 * Classifies a directory entry: 1 private key, 0 public key, -1 not a
 * key file (skipped).  The kid is the name without its suffix.
 */
static int
key_name(const char *name, char *kid, size_t kidsz, size_t *kidlen)
{
	static const char	 pub[] = ".pub.pem", priv[] = ".pem";
	size_t			 len = strlen(name);
	int			 private;

	if (name[0] == '.')
		return -1;	/* hidden, or a temp of gatehouse-keygen */
	if (len > sizeof(pub) - 1 &&
	    strcmp(name + len - (sizeof(pub) - 1), pub) == 0) {
		*kidlen = len - (sizeof(pub) - 1);
		private = 0;
	} else if (len > sizeof(priv) - 1 &&
	    strcmp(name + len - (sizeof(priv) - 1), priv) == 0) {
		*kidlen = len - (sizeof(priv) - 1);
		private = 1;
	} else
		return -1;
	if (*kidlen < kidsz) {
		memcpy(kid, name, *kidlen);
		kid[*kidlen] = '\0';
	} else
		kid[0] = '\0';
	return private;
}

static int
key_load(struct gh_keyset *ks, const char *dir, const char *name,
    char *err, size_t errlen)
{
	struct gh_key	*k, *keys;
	struct stat	 st;
	char		 path[4096], kid[GH_KID_MAX + 1];
	size_t		 kidlen;
	int		 private, n;

	if ((private = key_name(name, kid, sizeof(kid), &kidlen)) == -1)
		return 0;
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		seterr(err, errlen, "%s/%s: path too long", dir, name);
		return -1;
	}
	if (!kid_valid(kid, kidlen)) {
		seterr(err, errlen, "%s: the name before .pem must be 1 to %d "
		    "of A-Z a-z 0-9 - _ (it is the kid)", path, GH_KID_MAX);
		return -1;
	}
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;		/* dangling link, folder: not a key */
	if ((keys = reallocarray(ks->keys, ks->nkeys + 1,
	    sizeof(*keys))) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	ks->keys = keys;
	k = &keys[ks->nkeys];
	memset(k, 0, sizeof(*k));
	memcpy(k->kid, kid, kidlen + 1);
	k->private = private;
	k->pkey = private ? read_private(path, err, errlen) :
	    read_public(path, err, errlen);
	if (k->pkey == NULL)
		return -1;
	ks->nkeys++;		/* owned from here: freed with the set */
	return key_setup(k, path, err, errlen);
}

static int
key_cmp(const void *a, const void *b)
{
	const struct gh_key	*ka = a, *kb = b;
	int			 c;

	if ((c = strcmp(ka->kid, kb->kid)) != 0)
		return c;
	return kb->private - ka->private;	/* private first */
}

/*
 * A kid may be there twice only as a private key and its own public
 * key (gatehouse-keygen --public into the same folder); the public copy
 * then goes.  Two different keys under one kid would make tokens verify
 * or not by chance.
 */
static int
keys_dedup(struct gh_keyset *ks, const char *dir, char *err, size_t errlen)
{
	size_t	 i;

	qsort(ks->keys, ks->nkeys, sizeof(*ks->keys), key_cmp);
	for (i = 1; i < ks->nkeys; i++) {
		if (strcmp(ks->keys[i - 1].kid, ks->keys[i].kid) != 0)
			continue;
		if (!ks->keys[i - 1].private || ks->keys[i].private ||
		    EVP_PKEY_eq(ks->keys[i - 1].pkey, ks->keys[i].pkey) != 1) {
			seterr(err, errlen, "%s: kid %s names two different "
			    "keys", dir, ks->keys[i].kid);
			return -1;
		}
		EVP_PKEY_free(ks->keys[i].pkey);
		memmove(&ks->keys[i], &ks->keys[i + 1],
		    (ks->nkeys - i - 1) * sizeof(*ks->keys));
		ks->nkeys--;
		i--;
	}
	return 0;
}

int
gh_keyset_load(const char *dir, struct gh_keyset **out, char *err,
    size_t errlen)
{
	struct gh_keyset	*ks;
	struct dirent		*de;
	DIR			*d = NULL;
	size_t			 i;

	*out = NULL;
	seterr(err, errlen, "%s", "");
	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if ((ks->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		seterr(err, errlen, "OpenSSL has no SHA256");
		goto fail;
	}
	if ((d = opendir(dir)) == NULL) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (key_load(ks, dir, de->d_name, err, errlen) != 0)
			goto fail;
	}
	if (ks->nkeys == 0) {
		seterr(err, errlen, "%s: no <kid>.pem or <kid>.pub.pem key "
		    "(make one with gatehouse-keygen %s)", dir, dir);
		goto fail;
	}
	if (keys_dedup(ks, dir, err, errlen) != 0)
		goto fail;
	for (i = 0; i < ks->nkeys; i++)
		if (ks->keys[i].private)
			ks->signer = &ks->keys[i];
	closedir(d);
	*out = ks;
	return 0;
fail:
	if (d != NULL)
		closedir(d);
	gh_keyset_free(ks);
	ERR_clear_error();
	return -1;
}

void
gh_keyset_free(struct gh_keyset *ks)
{
	size_t	 i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->nkeys; i++)
		EVP_PKEY_free(ks->keys[i].pkey);
	free(ks->keys);
	EVP_MD_free(ks->sha256);
	free(ks);
}

const char *
gh_keyset_signing_kid(const struct gh_keyset *ks)
{
	return ks->signer == NULL ? NULL : ks->signer->kid;
}

static const struct gh_key *
key_find(const struct gh_keyset *ks, const char *kid)
{
	size_t	 lo = 0, hi = ks->nkeys, mid;
	int	 c;

	/* Kids are unique once loaded (keys_dedup) and sorted. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(kid, ks->keys[mid].kid)) == 0)
			return &ks->keys[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

json_t *
gh_keyset_jwks(const struct gh_keyset *ks)
{
	struct gh_arena		 a;
	const struct gh_key	*k;
	json_t			*keys, *jwk;
	char			*x, *y;
	size_t			 i;

	gh_arena_init(&a);
	if ((keys = json_array()) == NULL)
		goto fail;
	for (i = 0; i < ks->nkeys; i++) {
		k = &ks->keys[i];
		x = gh_b64url_encode(&a, k->x, sizeof(k->x));
		y = gh_b64url_encode(&a, k->y, sizeof(k->y));
		if (x == NULL || y == NULL)
			goto fail;
		jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "kty", "EC", "crv", "P-256", "x", x, "y", y,
		    "kid", k->kid, "use", "sig", "alg", "ES256");
		if (json_array_append_new(keys, jwk) != 0)
			goto fail;
	}
	gh_arena_free(&a);
	return json_pack("{s:o}", "keys", keys);
fail:
	gh_arena_free(&a);
	json_decref(keys);
	return NULL;
}

/* Writes <kid>.pub.pem for every key, each under a temporary name first. */
int
gh_keyset_write_public(const struct gh_keyset *ks, const char *dir,
    char *err, size_t errlen)
{
	char	 tmp[4096], path[4096];
	FILE	*fp = NULL;
	size_t	 i;
	int	 fd, n;

	for (i = 0; i < ks->nkeys; i++) {
		n = snprintf(tmp, sizeof(tmp), "%s/.%s.pub.pem.XXXXXX", dir,
		    ks->keys[i].kid);
		if (n < 0 || (size_t)n >= sizeof(tmp) ||
		    (n = snprintf(path, sizeof(path), "%s/%s.pub.pem", dir,
		    ks->keys[i].kid)) < 0 || (size_t)n >= sizeof(path)) {
			seterr(err, errlen, "%s: path too long", dir);
			return -1;
		}
		if ((fd = mkstemp(tmp)) == -1) {
			seterr(err, errlen, "%s: %s", tmp, strerror(errno));
			return -1;
		}
		if (fchmod(fd, 0644) == -1 || (fp = fdopen(fd, "w")) == NULL) {
			seterr(err, errlen, "%s: %s", tmp, strerror(errno));
			close(fd);
			goto fail;
		}
		if (PEM_write_PUBKEY(fp, ks->keys[i].pkey) != 1 ||
		    fflush(fp) != 0 || fsync(fileno(fp)) == -1) {
			seterr(err, errlen, "%s: write failed", tmp);
			goto fail;
		}
		if (fclose(fp) != 0) {
			fp = NULL;
			seterr(err, errlen, "%s: %s", tmp, strerror(errno));
			goto fail;
		}
		fp = NULL;
		if (rename(tmp, path) == -1) {
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	if (fp != NULL)
		fclose(fp);
	unlink(tmp);
	ERR_clear_error();
	return -1;
}

/* The JWS form of ECDSA is r || s, 32 bytes each; OpenSSL speaks DER. */
static int
der_to_raw(const unsigned char *der, size_t derlen,
    unsigned char raw[GH_ES256_SIG])
{
	const unsigned char	*p = der;
	const BIGNUM		*r, *s;
	ECDSA_SIG		*sig;
	int			 rc = -1;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, GH_P256_BYTES) == GH_P256_BYTES &&
	    BN_bn2binpad(s, raw + GH_P256_BYTES, GH_P256_BYTES) ==
	    GH_P256_BYTES)
		rc = 0;
	ECDSA_SIG_free(sig);
	return rc;
}

static int
raw_to_der(const unsigned char raw[GH_ES256_SIG], unsigned char *der,
    size_t dersz, size_t *derlen)
{
	ECDSA_SIG	*sig;
	BIGNUM		*r, *s;
	unsigned char	*p = der;
	int		 n, rc = -1;

	r = BN_bin2bn(raw, GH_P256_BYTES, NULL);
	s = BN_bin2bn(raw + GH_P256_BYTES, GH_P256_BYTES, NULL);
	if (r == NULL || s == NULL || (sig = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return -1;
	}
	ECDSA_SIG_set0(sig, r, s);	/* sig owns r and s now */
	if ((n = i2d_ECDSA_SIG(sig, NULL)) > 0 && (size_t)n <= dersz &&
	    i2d_ECDSA_SIG(sig, &p) == n) {
		*derlen = (size_t)n;
		rc = 0;
	}
	ECDSA_SIG_free(sig);
	return rc;
}

/* 1 when 0 < v < n, for a 32-byte big-endian v; no secret here to hide. */
static int
scalar_in_range(const unsigned char v[GH_P256_BYTES])
{
	size_t	 i;
	int	 nonzero = 0;

	for (i = 0; i < GH_P256_BYTES; i++)
		nonzero |= v[i];
	return nonzero && memcmp(v, p256_order, GH_P256_BYTES) < 0;
}

/* An RFC 7638 SHA-256 thumbprint: 43 characters of base64url. */
static int
jkt_valid(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return i == 43;
}

static json_t *
claims_json(const char *iss, const char *aud, const struct gh_claims *c)
{
	json_t	*o;

	if (strnlen(c->sub, sizeof(c->sub)) == 0 ||
	    strnlen(c->sub, sizeof(c->sub)) == sizeof(c->sub) ||
	    strnlen(c->role, sizeof(c->role)) == 0 ||
	    strnlen(c->role, sizeof(c->role)) == sizeof(c->role) ||
	    strnlen(c->jti, sizeof(c->jti)) == 0 ||
	    strnlen(c->jti, sizeof(c->jti)) == sizeof(c->jti) ||
	    strnlen(c->sid, sizeof(c->sid)) == sizeof(c->sid) ||
	    (c->jkt[0] != '\0' && !jkt_valid(c->jkt)) ||
	    c->exp <= 0)
		return NULL;
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}",
	    "iss", iss, "aud", aud, "sub", c->sub, "role", c->role,
	    "iat", (json_int_t)c->iat, "exp", (json_int_t)c->exp,
	    "jti", c->jti);
	if (o == NULL)
		return NULL;
	if ((c->nbf != 0 &&
	    json_object_set_new(o, "nbf", json_integer(c->nbf)) != 0) ||
	    (c->sid[0] != '\0' &&
	    json_object_set_new(o, "sid", json_string(c->sid)) != 0) ||
	    (c->jkt[0] != '\0' && json_object_set_new(o, "cnf",
	    json_pack("{s:s}", "jkt", c->jkt)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * Signs any claims set as an ES256 JWS with the set's signing key; typ
 * names what the token is for ("at+jwt" access tokens, "JWT" ID tokens),
 * so one kind cannot be passed off as another.
 */
int
gh_jws_sign(const struct gh_keyset *ks, const char *typ, const json_t *claims,
    struct gh_arena *a, char **jwt)
{
	unsigned char	 der[GH_DER_SIG_MAX], raw[GH_ES256_SIG];
	EVP_MD_CTX	*md = NULL;
	char		 hdr[160], *payload = NULL;
	char		*h64, *p64, *s64, *input;
	size_t		 derlen = sizeof(der), i;
	int		 n, rc = -1;

	*jwt = NULL;
	if (ks->signer == NULL || typ == NULL)
		return -1;
	/* The kid is [A-Za-z0-9_-] and typ one of ours: no JSON escapes. */
	for (i = 0; typ[i] != '\0'; i++)
		if (typ[i] == '"' || typ[i] == '\\' || (unsigned char)typ[i] < ' ')
			return -1;
	n = snprintf(hdr, sizeof(hdr),
	    "{\"alg\":\"ES256\",\"typ\":\"%s\",\"kid\":\"%s\"}", typ,
	    ks->signer->kid);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -1;
	if ((payload = json_dumps(claims, JSON_COMPACT)) == NULL)
		goto fail;
	if ((h64 = gh_b64url_encode(a, hdr, (size_t)n)) == NULL ||
	    (p64 = gh_b64url_encode(a, payload, strlen(payload))) == NULL ||
	    (input = gh_printf(a, "%s.%s", h64, p64)) == NULL)
		goto fail;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, ks->sha256, NULL,
	    ks->signer->pkey) != 1 ||
	    EVP_DigestSign(md, der, &derlen, (const unsigned char *)input,
	    strlen(input)) != 1 ||
	    der_to_raw(der, derlen, raw) != 0)
		goto fail;
	if ((s64 = gh_b64url_encode(a, raw, sizeof(raw))) == NULL ||
	    (*jwt = gh_printf(a, "%s.%s", input, s64)) == NULL)
		goto fail;
	rc = 0;
fail:
	if (rc != 0)
		ERR_clear_error();
	EVP_MD_CTX_free(md);
	free(payload);
	return rc;
}

int
gh_token_sign(const struct gh_keyset *ks, const char *iss, const char *aud,
    const struct gh_claims *c, struct gh_arena *a, char **jwt)
{
	json_t	*claims;
	int	 rc;

	*jwt = NULL;
	if (ks->signer == NULL || iss == NULL || aud == NULL ||
	    (claims = claims_json(iss, aud, c)) == NULL)
		return -1;
	rc = gh_jws_sign(ks, "at+jwt", claims, a, jwt);
	json_decref(claims);
	return rc;
}

/*
 * The header decides nothing: alg must be the one algorithm we sign
 * with, and the key comes from our set by kid, never from the token
 * (jku, x5u, jwk and x5c are ignored; crit is refused since we honour
 * no extension).
 */
static const struct gh_key *
check_header(const struct gh_keyset *ks, const unsigned char *buf,
    size_t len, const char **why)
{
	const struct gh_key	*k;
	json_t			*h, *v;

	k = NULL;
	if ((h = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(h)) {
		*why = "malformed token header";
		goto done;
	}
	v = json_object_get(h, "alg");
	if (!json_is_string(v) || strcmp(json_string_value(v), "ES256") != 0) {
		*why = "unsupported token algorithm";
		goto done;
	}
	if (json_object_get(h, "crit") != NULL) {
		*why = "unsupported critical header";
		goto done;
	}
	if ((v = json_object_get(h, "typ")) != NULL && (!json_is_string(v) ||
	    (strcasecmp(json_string_value(v), "at+jwt") != 0 &&
	    strcasecmp(json_string_value(v), "application/at+jwt") != 0))) {
		*why = "wrong token type";
		goto done;
	}
	v = json_object_get(h, "kid");
	if (!json_is_string(v)) {
		*why = "missing key id";
		goto done;
	}
	if ((k = key_find(ks, json_string_value(v))) == NULL)
		*why = "unknown key id";
done:
	json_decref(h);
	return k;
}

/* The JWS signature r || s, each scalar in [1, n - 1], over input. */
static int
es256_verify(const EVP_MD *sha256, EVP_PKEY *pkey, const char *input,
    size_t inputlen, const unsigned char *sig, size_t siglen)
{
	unsigned char	 der[GH_DER_SIG_MAX];
	EVP_MD_CTX	*md;
	size_t		 derlen;
	int		 ok = 0;

	if (siglen != GH_ES256_SIG || !scalar_in_range(sig) ||
	    !scalar_in_range(sig + GH_P256_BYTES) ||
	    raw_to_der(sig, der, sizeof(der), &derlen) != 0)
		return 0;
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, sha256, NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, der, derlen, (const unsigned char *)input,
	    inputlen) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		ERR_clear_error();
	return ok;
}

static int
check_signature(const struct gh_keyset *ks, const struct gh_key *k,
    const char *input, size_t inputlen, const unsigned char *sig,
    size_t siglen)
{
	return es256_verify(ks->sha256, k->pkey, input, inputlen, sig, siglen);
}

/*
 * ES256 with a key that is not one of ours: a DPoP proof's, which
 * brings its own (the caller has checked it is P-256).  1 when valid.
 * SHA-256 is fetched once per worker, as a keyset's is, not per proof.
 */
int
gh_es256_verify(EVP_PKEY *pkey, const char *input, size_t inputlen,
    const unsigned char *sig, size_t siglen)
{
	static EVP_MD	*sha256;

	if (sha256 == NULL && (sha256 = EVP_MD_fetch(NULL, "SHA256",
	    NULL)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	return es256_verify(sha256, pkey, input, inputlen, sig, siglen);
}

/*
 * A compact JWS (RFC 7515 7.1), a token or a DPoP proof: at most max
 * bytes, exactly three base64url parts, each decoded into the arena.
 * 0, GH_JWS_TOO_LARGE or GH_JWS_MALFORMED; out is filled on 0 only.
 */
int
gh_jws_split(struct gh_arena *a, const char *jws, size_t max,
    struct gh_jws *out)
{
	const char	*d1, *d2, *end;
	size_t		 len;

	if ((len = strnlen(jws, max + 1)) > max)
		return GH_JWS_TOO_LARGE;
	end = jws + len;
	if ((d1 = memchr(jws, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1))) == NULL ||
	    memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
		return GH_JWS_MALFORMED;
	if (gh_b64url_decode(a, jws, (size_t)(d1 - jws), &out->hdr,
	    &out->hlen) != 0 ||
	    gh_b64url_decode(a, d1 + 1, (size_t)(d2 - d1 - 1), &out->pay,
	    &out->plen) != 0 ||
	    gh_b64url_decode(a, d2 + 1, (size_t)(end - d2 - 1), &out->sig,
	    &out->slen) != 0)
		return GH_JWS_MALFORMED;
	out->signed_len = (size_t)(d2 - jws);
	return 0;
}

/* A string claim of 1 to size - 1 bytes, copied into buf. */
static int
claim_str(json_t *o, const char *name, char *buf, size_t size)
{
	json_t	*v;
	size_t	 len;

	if (!json_is_string(v = json_object_get(o, name)))
		return -1;
	len = json_string_length(v);
	if (len == 0 || len >= size || strlen(json_string_value(v)) != len)
		return -1;
	memcpy(buf, json_string_value(v), len + 1);
	return 0;
}

static int
aud_has(json_t *v, const char *aud)
{
	json_t	*e;
	size_t	 i;

	if (json_is_string(v))
		return strcmp(json_string_value(v), aud) == 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (json_is_string(e) &&
			    strcmp(json_string_value(e), aud) == 0)
				return 1;
		}
	}
	return 0;
}

static int
check_claims(const unsigned char *buf, size_t len, const char *iss,
    const char *aud, time_t now, long leeway, struct gh_claims *c,
    const char **why)
{
	json_t		*p, *v;
	long long	 t = (long long)now;
	int		 rc = -1;

	if ((p = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(p)) {
		*why = "malformed token payload";
		goto done;
	}
	v = json_object_get(p, "iss");
	if (!json_is_string(v) || strcmp(json_string_value(v), iss) != 0) {
		*why = "wrong token issuer";
		goto done;
	}
	if (!aud_has(json_object_get(p, "aud"), aud)) {
		*why = "wrong token audience";
		goto done;
	}
	if (!json_is_integer(v = json_object_get(p, "exp"))) {
		*why = "invalid exp claim";
		goto done;
	}
	if ((c->exp = json_integer_value(v)) <= t - leeway) {
		*why = "token expired";
		goto done;
	}
	if ((v = json_object_get(p, "nbf")) != NULL) {
		if (!json_is_integer(v)) {
			*why = "invalid nbf claim";
			goto done;
		}
		if ((c->nbf = json_integer_value(v)) > t + leeway) {
			*why = "token not yet valid";
			goto done;
		}
	}
	if ((v = json_object_get(p, "iat")) != NULL) {
		if (!json_is_integer(v)) {
			*why = "invalid iat claim";
			goto done;
		}
		if ((c->iat = json_integer_value(v)) > t + leeway) {
			*why = "token issued in the future";
			goto done;
		}
	}
	if (claim_str(p, "sub", c->sub, sizeof(c->sub)) != 0) {
		*why = "invalid sub claim";
		goto done;
	}
	if (claim_str(p, "role", c->role, sizeof(c->role)) != 0) {
		*why = "invalid role claim";
		goto done;
	}
	if (claim_str(p, "jti", c->jti, sizeof(c->jti)) != 0) {
		*why = "invalid jti claim";
		goto done;
	}
	if (json_object_get(p, "sid") != NULL &&
	    claim_str(p, "sid", c->sid, sizeof(c->sid)) != 0) {
		*why = "invalid sid claim";
		goto done;
	}
	/*
	 * A confirmation we cannot check must not pass for a bearer token:
	 * cnf is either a DPoP key binding alone, or the token is refused.
	 */
	if ((v = json_object_get(p, "cnf")) != NULL &&
	    (!json_is_object(v) || json_object_size(v) != 1 ||
	    claim_str(v, "jkt", c->jkt, sizeof(c->jkt)) != 0 ||
	    !jkt_valid(c->jkt))) {
		*why = "unsupported cnf claim";
		goto done;
	}
	rc = 0;
done:
	json_decref(p);
	return rc;
}

int
gh_token_verify(const struct gh_keyset *ks, const char *jwt,
    const char *iss, const char *aud, time_t now, long leeway_s,
    struct gh_claims *out, const char **why)
{
	struct gh_arena		 a;
	struct gh_jws		 jws;
	const struct gh_key	*k;
	const char		*dummy;
	int			 rc = -1, n;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	/* Bounded so that now + leeway cannot overflow. */
	if (leeway_s < 0)
		leeway_s = 0;
	if (leeway_s > GH_LEEWAY_MAX)
		leeway_s = GH_LEEWAY_MAX;
	if (jwt == NULL || iss == NULL || aud == NULL) {
		*why = "missing token";
		return -1;
	}
	gh_arena_init(&a);
	if ((n = gh_jws_split(&a, jwt, GH_TOKEN_MAX, &jws)) != 0) {
		*why = n == GH_JWS_TOO_LARGE ? "token too large" :
		    "malformed token";
		goto done;
	}
	if ((k = check_header(ks, jws.hdr, jws.hlen, why)) == NULL)
		goto done;
	if (!check_signature(ks, k, jwt, jws.signed_len, jws.sig,
	    jws.slen)) {
		*why = "bad token signature";
		goto done;
	}
	if (check_claims(jws.pay, jws.plen, iss, aud, now, leeway_s, out,
	    why) != 0)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	gh_arena_free(&a);
	return rc;
}
