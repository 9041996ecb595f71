/*
 * The webhook-signature header: space-separated "v1,<base64>" entries,
 * each an HMAC-SHA256 of "id.timestamp.body".  Entries of another
 * version, or that do not decode to 32 bytes, are skipped, not refused,
 * so that a provider may add schemes; at most PAY_SIGS_MAX are read.
 */
#include <string.h>

#include "gatehouse.h"
#include "signature.h"

/* Standard base64, padded or not, decoded with the base64url decoder. */
int
pay_b64_decode(struct gh_arena *a, const char *s, size_t len,
    unsigned char **out, size_t *outlen)
{
	char	*t;
	size_t	 i;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if ((t = gh_strndup(a, s, len)) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		if (t[i] == '+')
			t[i] = '-';
		else if (t[i] == '/')
			t[i] = '_';
		else if (t[i] == '-' || t[i] == '_')
			return -1;
	}
	return gh_b64url_decode(a, t, len, out, outlen);
}

/*
 * Whether one of the signatures is an HMAC of msg under one of nsec (at
 * most 2) secrets.  Every MAC is compared in constant time.
 */
int
pay_signed_by(struct gh_arena *a, const char *sigs,
    const struct pay_secret *sec, int nsec, const char *msg, size_t msglen)
{
	unsigned char	 mac[2][32], *got;
	const char	*p, *e;
	size_t		 gotlen;
	int		 i, n, ok = 0;

	if (nsec < 0 || nsec > 2)
		return 0;
	for (i = 0; i < nsec; i++)
		if (gh_hmac_sha256(sec[i].key, sec[i].len, msg, msglen,
		    mac[i]) != 0)
			return 0;
	for (p = sigs, n = 0; *p != '\0' && n < PAY_SIGS_MAX; p = e, n++) {
		while (*p == ' ')
			p++;
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		if (e - p < 4 || strncmp(p, "v1,", 3) != 0)
			continue;
		if (pay_b64_decode(a, p + 3, (size_t)(e - p - 3), &got,
		    &gotlen) != 0 || gotlen != 32)
			continue;
		for (i = 0; i < nsec; i++)
			ok |= gh_ct_equal(got, mac[i], 32);
	}
	gh_wipe(mac, sizeof(mac));
	return ok;
}
