/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small harness for unit tests, in the style of the kernel's BPF
 * selftests (test__start_subtest): a test file is a list of cases, each a
 * function of its own that sets up what it needs, and each case makes named
 * checks that print what they checked and, on failure, both values.
 *
 *   static void test_mask(void) { CHECK_EQ(p.nrules, 1, "one rule"); }
 *   static void test_cgroup(void) { ... }
 *   TEST_MAIN(CASE(mask), CASE(cgroup))
 *
 * TEST_MAIN provides main(): with no argument it runs every case in the
 * order listed; with names (test_policy cgroup mask) only those, in that
 * order; --list prints the names. A name that is no case is an error (exit
 * 2) that lists the cases. Output is TAP-like, and tests/run.sh counts it:
 * "# case NAME" before each case, "ok - CHECK" for a check that holds,
 * "not ok - NAME: CHECK: detail (file:line)" for one that does not. The exit
 * status is 1 when any check failed; a case may exit(77) to skip the run.
 */
#ifndef BIMA_CHECK_H
#define BIMA_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static const char *check_case = "main"; /* the case running, for "not ok" lines */

#define CHECK(cond, name, fmt, ...)                                                    \
	({                                                                             \
		int ok_ = !!(cond);                                                    \
		if (ok_)                                                               \
			printf("ok - %s\n", name);                                     \
		else {                                                                 \
			printf("not ok - %s: %s: " fmt " (%s:%d)\n", check_case, name, \
			       ##__VA_ARGS__, __FILE__, __LINE__);                     \
			check_failures++;                                              \
		}                                                                      \
		ok_;                                                                   \
	})

#define CHECK_EQ(a, b, name)                                                            \
	({                                                                              \
		long long a_ = (long long)(a), b_ = (long long)(b);                     \
		CHECK(a_ == b_, name, "%s = %lld, expected %s = %lld", #a, a_, #b, b_); \
	})

#define CHECK_STR(a, b, name)                                                           \
	({                                                                              \
		const char *a_ = (a), *b_ = (b);                                        \
		CHECK((a_) && (b_) && !strcmp(a_, b_), name, "\"%s\", expected \"%s\"", \
		      a_ ? a_ : "(null)", b_ ? b_ : "(null)");                          \
	})

#define CHECK_MEM(a, b, len, name)                                                                 \
	CHECK(!memcmp((a), (b), (len)), name, "%zu bytes of %s differ from %s", (size_t)(len), #a, \
	      #b)

/* The exit status of a test that has a main() of its own. */
#define CHECK_DONE() (check_failures ? 1 : 0)

struct check_case {
	const char *name;
	void (*run)(void);
};

/* The case NAME is the function test_NAME. */
#define CASE(id)                              \
	{                                     \
		.name = #id, .run = test_##id \
	}

#define TEST_MAIN(...)                                                                          \
	static const struct check_case check_cases_[] = { __VA_ARGS__ };                        \
	int main(int argc, char **argv)                                                         \
	{                                                                                       \
		return check_main(check_cases_, sizeof(check_cases_) / sizeof(check_cases_[0]), \
				  argc, argv);                                                  \
	}

static __attribute__((unused)) const struct check_case *check_find(const struct check_case *cases,
								   size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

static __attribute__((unused)) void check_run(const struct check_case *c)
{
	check_case = c->name;
	printf("# case %s\n", c->name);
	fflush(stdout); /* before a case that forks */
	c->run();
	fflush(stdout);
}

static __attribute__((unused)) int check_main(const struct check_case *cases, size_t n, int argc,
					      char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	/* Every name first: an unknown one runs nothing. */
	for (int i = 1; i < argc; i++) {
		if (check_find(cases, n, argv[i]))
			continue;
		fprintf(stderr, "%s: no case \"%s\"; the cases:", argv[0], argv[i]);
		for (size_t j = 0; j < n; j++)
			fprintf(stderr, " %s", cases[j].name);
		fprintf(stderr, "\n");
		return 2;
	}
	if (argc < 2)
		for (size_t i = 0; i < n; i++)
			check_run(&cases[i]);
	for (int i = 1; i < argc; i++)
		check_run(check_find(cases, n, argv[i]));
	return CHECK_DONE();
}

#endif
