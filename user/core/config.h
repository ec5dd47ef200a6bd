/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The configuration file (/etc/bima/bima.conf): one "key = value" a line,
 * '#' to the end of a line a comment, blank lines ignored. A key is a long
 * option of the bima commands (log-dir, tcti, pcr, ...), a value what the
 * option takes; an option without a value takes yes or no.
 */
#ifndef BIMA_CONFIG_H
#define BIMA_CONFIG_H

#define CONFIG_DEFAULT "/etc/bima/bima.conf"

/*
 * Call fn(key, value, line) for each setting of path. Returns 0, -ENOENT
 * if path does not exist, -EINVAL after naming path:line and the cause of
 * a malformed line, or fn's non-zero return.
 */
int config_read(const char *path,
		int (*fn)(const char *key, const char *value, unsigned int line, void *arg),
		void *arg);

#endif
