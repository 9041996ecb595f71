/*
 * RFC 3339 times, as query parameters, body fields and cursor parts
 * carry them: gh_valid_time on the input as a C string.  What it accepts
 * must have the shape it promises, checked here character by character.
 */
#include <stdlib.h>

#include "gatehouse.h"
#include "fuzz.h"

static int
num(const char *s, size_t n, int lo, int hi)
{
	int	 v = 0;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + s[i] - '0';
	}
	return v >= lo && v <= hi;
}

/* Whether day d of month m of year y is on the calendar. */
static int
on_calendar(int y, int m, int d)
{
	int	 leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m == 2)
		return d <= 28 + leap;
	return d <= (m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31);
}

/*
 * YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM), T and Z in any case, on
 * a date that exists.
 */
static int
shape(const char *s)
{
	size_t	 len = strlen(s), n = 0;

	if (len < 20 || !num(s, 4, 1, 9999) || s[4] != '-' ||
	    !num(s + 5, 2, 1, 12) || s[7] != '-' || !num(s + 8, 2, 1, 31) ||
	    (s[10] != 'T' && s[10] != 't') || !num(s + 11, 2, 0, 23) ||
	    s[13] != ':' || !num(s + 14, 2, 0, 59) || s[16] != ':' ||
	    !num(s + 17, 2, 0, 60) || !on_calendar(atoi(s), atoi(s + 5),
	    atoi(s + 8)))
		return 0;
	s += 19;
	if (*s == '.') {
		while (s[1 + n] >= '0' && s[1 + n] <= '9')
			n++;
		if (n < 1 || n > 9)
			return 0;
		s += 1 + n;
	}
	if (strcmp(s, "Z") == 0 || strcmp(s, "z") == 0)
		return 1;
	return strlen(s) == 6 && (s[0] == '+' || s[0] == '-') &&
	    num(s + 1, 2, 0, 23) && s[3] == ':' && num(s + 4, 2, 0, 59);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*why;
	char		*s;

	s = fuzz_str(data, size);
	why = gh_valid_time(s);
	FUZZ_CHECK((why == NULL) == shape(s));
	FUZZ_CHECK(why == NULL || *why != '\0');
	free(s);
	return 0;
}
