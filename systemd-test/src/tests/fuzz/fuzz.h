/*
 * Shared by the libFuzzer targets: copies of the input sized exactly, so
 * that a read one byte past what a parser was given shows under ASan, and
 * a check that stops the run when a parser's documented promise is broken
 * (a wrong answer is a finding as much as a crash is).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s: broken promise: %s\n",	\
		    __FILE__, __LINE__, __func__, #cond);		\
		abort();						\
	}								\
} while (0)

/* size bytes, in a heap block of exactly that size (1 when empty). */
static inline unsigned char *
fuzz_bytes(const uint8_t *data, size_t size)
{
	unsigned char	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	if (size > 0)
		memcpy(p, data, size);
	return p;
}

/*
 * The input as a C string in a block of size + 1: what a FastCGI param
 * or a jansson string would hand a parser.  An embedded NUL ends the
 * string there, as it would in transit.
 */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Splits s in place at the first n - 1 newlines into parts[0..n-1];
 * parts not in the input are "".  Lets one input carry several fields.
 */
static inline void
fuzz_split(char *s, char **parts, size_t n)
{
	char	*nl;
	size_t	 i;

	for (i = 0; i < n; i++) {
		parts[i] = s;
		if (s == NULL)
			continue;
		if (i + 1 < n && (nl = strchr(s, '\n')) != NULL) {
			*nl = '\0';
			s = nl + 1;
		} else
			s = NULL;
	}
	for (i = 0; i < n; i++)
		if (parts[i] == NULL)
			parts[i] = (char *)"";
}

#endif
