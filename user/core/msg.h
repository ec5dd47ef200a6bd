/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Messages on stderr. Under systemd (JOURNAL_STREAM set) each line starts
 * with a "<N>" syslog priority, which journald turns into the priority.
 */
#ifndef BIMA_MSG_H
#define BIMA_MSG_H

enum msg_level {
	MSG_ERR = 3,
	MSG_WARN = 4,
	MSG_NOTICE = 5,
	MSG_INFO = 6,
	MSG_DEBUG = 7,
};

/* Messages above this level are not shown; -v raises it. */
extern int msg_max_level;
/* How many times -v was given: 1 shows every measurement, 2 adds libbpf's detail. */
extern int msg_verbosity;

void msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A mistake in the command line or the configuration file, worded as the
 * usage text around it: "bima: TEXT", with no label, at MSG_ERR.
 */
void msg_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define pr_err(...) msg(MSG_ERR, __VA_ARGS__)
#define pr_warn(...) msg(MSG_WARN, __VA_ARGS__)
#define pr_notice(...) msg(MSG_NOTICE, __VA_ARGS__)
#define pr_info(...) msg(MSG_INFO, __VA_ARGS__)
#define pr_debug(...) msg(MSG_DEBUG, __VA_ARGS__)
#define pr_usage(...) msg_usage(__VA_ARGS__)

#endif
