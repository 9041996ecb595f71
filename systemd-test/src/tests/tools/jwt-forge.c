/*
 * jwt-forge: builds JSON Web Tokens exactly as told, good or bad, for the
 * integration suite's attacks on token verification.
 *
 *   jwt-forge es256 KEY.pem HEADER PAYLOAD   signed with an EC P-256 key
 *   jwt-forge hs256 SECRET-FILE HEADER PAYLOAD   HMAC'd with a file's bytes
 *   jwt-forge none - HEADER PAYLOAD          no signature at all
 *
 * HEADER and PAYLOAD are JSON texts, used byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

static void
b64url(const unsigned char *in, size_t len)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t	 i;
	unsigned v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		printf("%c%c%c%c", a[v >> 18], a[(v >> 12) & 63],
		    a[(v >> 6) & 63], a[v & 63]);
	}
	if (len - i == 1) {
		v = (unsigned)in[i] << 16;
		printf("%c%c", a[v >> 18], a[(v >> 12) & 63]);
	} else if (len - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		printf("%c%c%c", a[v >> 18], a[(v >> 12) & 63],
		    a[(v >> 6) & 63]);
	}
}

static char *
signing_input(const char *h, const char *p)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f, *saved = stdout;

	/* Reuse b64url's printf by pointing stdout at a memory stream. */
	if ((f = open_memstream(&buf, &len)) == NULL)
		exit(1);
	stdout = f;
	b64url((const unsigned char *)h, strlen(h));
	printf(".");
	b64url((const unsigned char *)p, strlen(p));
	fclose(f);
	stdout = saved;
	return buf;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE		*f;
	unsigned char	*buf;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int
main(int argc, char *argv[])
{
	unsigned char	 sig[72], raw[64], *der, *key;
	const unsigned char *dp;
	size_t		 siglen = sizeof(sig), keylen;
	unsigned int	 maclen;
	char		*in;
	EVP_MD_CTX	*ctx;
	EVP_PKEY	*pkey;
	ECDSA_SIG	*es;
	FILE		*f;

	if (argc != 5) {
		fprintf(stderr, "usage: jwt-forge es256|hs256|none KEY "
		    "HEADER PAYLOAD\n");
		return 2;
	}
	in = signing_input(argv[3], argv[4]);
	printf("%s.", in);
	if (strcmp(argv[1], "none") == 0) {
		printf("\n");
		free(in);
		return 0;
	}
	if (strcmp(argv[1], "hs256") == 0) {
		key = slurp(argv[2], &keylen);
		HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)in,
		    strlen(in), sig, &maclen);
		b64url(sig, maclen);
		printf("\n");
		free(key);
		free(in);
		return 0;
	}
	if ((f = fopen(argv[2], "r")) == NULL ||
	    (pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "jwt-forge: cannot read %s\n", argv[2]);
		return 1;
	}
	ctx = EVP_MD_CTX_new();
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)in,
	    strlen(in)) != 1)
		return 1;
	/* JWS wants r||s, 32 bytes each; OpenSSL gives DER. */
	der = sig;
	dp = der;
	if ((es = d2i_ECDSA_SIG(NULL, &dp, (long)siglen)) == NULL)
		return 1;
	BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
	b64url(raw, 64);
	printf("\n");
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	free(in);
	return 0;
}
