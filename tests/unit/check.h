/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Named assertions for unit tests, in the style of the kernel's BPF
 * selftests: each prints what it checked and, on failure, both values.
 * Output is TAP-like: "ok - name" / "not ok - name"; tests/run.sh counts it.
 */
#ifndef BIMA_CHECK_H
#define BIMA_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond, name, fmt, ...)                                                             \
	({                                                                                      \
		int ok_ = !!(cond);                                                             \
		if (ok_)                                                                        \
			printf("ok - %s\n", name);                                              \
		else {                                                                          \
			printf("not ok - %s: " fmt " (%s:%d)\n", name, ##__VA_ARGS__, __FILE__, \
			       __LINE__);                                                       \
			check_failures++;                                                       \
		}                                                                               \
		ok_;                                                                            \
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

#define CHECK_DONE() (check_failures ? 1 : 0)

#endif
