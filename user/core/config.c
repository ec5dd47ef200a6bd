// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* strchrnul */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "msg.h"

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int config_read(const char *path,
		int (*fn)(const char *key, const char *value, unsigned int line, void *arg),
		void *arg)
{
	FILE *f = fopen(path, "r");
	char text[4096], *key, *value, *eq;
	unsigned int line = 0;
	int err = 0;

	if (!f) {
		err = -errno;
		if (err != -ENOENT)
			pr_err("%s: %s", path, strerror(-err));
		return err;
	}
	while (!err && fgets(text, sizeof(text), f)) {
		line++;
		if (!strchr(text, '\n') && !feof(f)) {
			pr_err("%s:%u: a line of more than %zu bytes", path, line,
			       sizeof(text) - 2);
			err = -EINVAL;
			break;
		}
		*strchrnul(text, '#') = '\0';
		key = trim(text);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			pr_err("%s:%u: \"%s\" is not \"key = value\"", path, line, key);
			err = -EINVAL;
			break;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		if (!*key || strspn(key, "abcdefghijklmnopqrstuvwxyz-") != strlen(key) || !*value) {
			pr_err("%s:%u: \"%s = %s\": a key is a bima option's long name, and takes "
			       "a "
			       "value",
			       path, line, key, value);
			err = -EINVAL;
			break;
		}
		err = fn(key, value, line, arg);
	}
	fclose(f);
	return err;
}
