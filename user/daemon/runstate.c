// SPDX-License-Identifier: GPL-2.0-only
/* The running daemon's settings, for the other commands (runstate.h). */
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "msg.h"
#include "runstate.h"
#include "template.h"

/* A value on one line of the file: no newline, no leading or trailing blank, no '#'. */
static bool writable_value(const char *v)
{
	size_t n = strlen(v);

	return n && !strpbrk(v, "\n#") && v[0] != ' ' && v[0] != '\t' && v[n - 1] != ' ' &&
	       v[n - 1] != '\t';
}

int runstate_write(const char *path, const struct runstate *s)
{
	const char *ascii = s->ascii_link ?: "none", *control = s->control ?: "none";
	char text[8192], dir[PATH_MAX];
	int n, err;

	if (!writable_value(s->log_dir) || !writable_value(s->tcti) || !writable_value(ascii) ||
	    !writable_value(control)) {
		pr_warn("%s: not written: a setting does not fit on a line of it, so the other "
			"commands take theirs from the configuration file and the command line",
			path);
		return -EINVAL;
	}
	n = snprintf(text, sizeof(text),
		     "# the running bima daemon's settings (bima run); the other commands\n"
		     "# take them as defaults. Written by bima, not to be edited.\n"
		     "log-dir = %s\ntcti = %s\npcr = %u\ntemplate = %s\nascii = %s\n"
		     "control = %s\n",
		     s->log_dir, s->tcti, s->pcr, s->ct_template ? TEMPLATE_CT : "ima-ng", ascii,
		     control);
	snprintf(dir, sizeof(dir), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(text))
		err = -ENAMETOOLONG;
	else if (mkdir(dirname(dir), 0755) && errno != EEXIST)
		err = -errno;
	else
		err = file_replace(path, text, n, 0644);
	if (err)
		pr_warn("%s: cannot write the daemon's settings for the other commands: %s", path,
			strerror(-err));
	return err;
}

void runstate_remove(const char *path)
{
	if (unlink(path) && errno != ENOENT)
		pr_warn("%s: cannot remove: %s", path, strerror(errno));
}

int runstate_check(const char *path)
{
	char dir[PATH_MAX];
	struct stat st, dst;

	if (lstat(path, &st))
		return -errno;
	snprintf(dir, sizeof(dir), "%s", path);
	if (!S_ISREG(st.st_mode) || !file_root_only(&st) || file_root_dir(dirname(dir), &dst)) {
		pr_warn("%s: ignored: it is not a file that root alone may write, in a directory "
			"that root alone may write, so another user may have written it",
			path);
		return -EPERM;
	}
	return 0;
}
