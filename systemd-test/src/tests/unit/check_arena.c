/* The per-request arena: alignment, growth, reset, deferred cleanups. */
#include <stdint.h>

#include "unit.h"

static int	 freed;

static void
count_free(void *p)
{
	(void)p;
	freed++;
}

START_TEST(aligned_and_growing)
{
	struct gh_arena	 a;
	void		*p;
	int		 i;

	gh_arena_init(&a);
	for (i = 1; i < 2000; i += 7) {
		p = gh_alloc(&a, (size_t)i);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
		memset(p, 0xab, (size_t)i);
	}
	p = gh_alloc(&a, 1 << 20);		/* bigger than a chunk */
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 1 << 20);
	gh_arena_free(&a);
}
END_TEST

START_TEST(strings)
{
	struct gh_arena	 a;

	gh_arena_init(&a);
	ck_assert_str_eq(gh_strdup(&a, "abc"), "abc");
	ck_assert_str_eq(gh_strndup(&a, "abcdef", 2), "ab");
	ck_assert_str_eq(gh_printf(&a, "%s-%d", "x", 42), "x-42");
	ck_assert_ptr_null(gh_calloc(&a, SIZE_MAX / 2, 4));
	gh_arena_free(&a);
}
END_TEST

START_TEST(reset_runs_defers_and_keeps_working)
{
	struct gh_arena	 a;
	int		 i;

	gh_arena_init(&a);
	freed = 0;
	for (i = 0; i < 3; i++)
		gh_defer(&a, count_free, NULL);
	gh_alloc(&a, 100000);
	gh_arena_reset(&a);
	ck_assert_int_eq(freed, 3);
	ck_assert_ptr_nonnull(gh_alloc(&a, 10));
	gh_defer(&a, count_free, NULL);
	gh_arena_free(&a);
	ck_assert_int_eq(freed, 4);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("arena");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, aligned_and_growing);
	tcase_add_test(tc, strings);
	tcase_add_test(tc, reset_runs_defers_and_keeps_working);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
