// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "msg.h"

int msg_max_level = MSG_INFO;
int msg_verbosity;

static void vmsg(int level, const char *label, const char *fmt, va_list ap)
{
	if (level > msg_max_level)
		return;
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>", level);
	else
		fprintf(stderr, "bima: %s", label);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void msg(int level, const char *fmt, ...)
{
	static const char *const label[] = {
		[MSG_ERR] = "error: ", [MSG_WARN] = "warning: ", [MSG_NOTICE] = "",
		[MSG_INFO] = "",       [MSG_DEBUG] = "debug: ",
	};
	va_list ap;

	va_start(ap, fmt);
	vmsg(level, label[level], fmt, ap);
	va_end(ap);
}

void msg_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(MSG_ERR, "", fmt, ap);
	va_end(ap);
}
