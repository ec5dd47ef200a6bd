// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ak.h"
#include "bundle.h"
#include "log.h"
#include "msg.h"

int bundle_write_quote(const char *out_dir, const struct tpm_quote *q)
{
	uint8_t der[80];
	int n = ak_signature_der(q, der, sizeof(der)), err;

	if (mkdir(out_dir, 0755) && errno != EEXIST) {
		pr_err("%s: %s", out_dir, strerror(errno));
		return -errno;
	}
	err = n < 0 ? n : log_write_file(out_dir, "quote.attest", q->attest, q->attest_len);
	err = err ?: log_write_file(out_dir, "quote.sig", der, n);
	if (err)
		pr_err("%s/quote.attest, quote.sig: %s", out_dir, strerror(-err));
	return err;
}

/* The bytes of whole entries at the start of p: a segment still being written. */
static size_t whole_entries(const uint8_t *p, size_t len)
{
	char why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	size_t off = 0, used;

	while (off < len && !template_decode(p + off, len - off, &e, &used, why))
		off += used;
	return off;
}

int bundle_write_log(const char *epoch_dir, uint64_t since, const char *out_dir)
{
	char out[LOG_PATH_MAX], path[LOG_PATH_MAX + 300];
	const char *base = strrchr(epoch_dir, '/');
	unsigned int seg, first = 1, last = 0;
	unsigned long long id;
	struct buf data = {};
	struct snapshot s;
	struct dirent *de;
	DIR *d;
	char tail;
	int err = 0;

	snprintf(out, sizeof(out), "%s/%s", out_dir, base ? base + 1 : epoch_dir);
	if (mkdir(out, 0755) && errno != EEXIST) {
		pr_err("%s: %s", out, strerror(errno));
		return -errno;
	}
	if (since) {
		err = log_anchor_read(epoch_dir, since, &data, &s);
		if (err) {
			pr_err("%s/" LOG_ANCHOR_FMT ": %s", epoch_dir, (unsigned long long)since,
			       err == -ENOENT ? "no such anchor" : "not a snapshot's entry");
			goto out;
		}
		first = s.segment + 1;
	}
	d = opendir(epoch_dir);
	if (!d) {
		err = -errno;
		pr_err("%s: %s", epoch_dir, strerror(-err));
		goto out;
	}
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "segment-%u.bi%c", &seg, &tail) == 2 && seg > last)
			last = seg;
	rewinddir(d);
	while (!err && (de = readdir(d))) {
		bool want = false, plain_last = false;

		if (sscanf(de->d_name, "segment-%u.bi%c", &seg, &tail) == 2 && tail == 'n') {
			want = seg >= first;
			plain_last = seg == last && !strstr(de->d_name, ".gz");
		} else if (sscanf(de->d_name, "anchor-%llu.bi%c", &id, &tail) == 2 ||
			   sscanf(de->d_name, "quote-%llu.%c", &id, &tail) == 2) {
			want = id >= since;
		}
		if (!want || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", epoch_dir, de->d_name);
		err = log_read_file(path, &data);
		if (!err && plain_last)
			data.len = whole_entries(data.p, data.len);
		err = err ?: log_write_file(out, de->d_name, data.p, data.len);
		if (err)
			pr_err("%s: cannot copy into %s: %s", path, out, strerror(-err));
	}
	closedir(d);
out:
	buf_free(&data);
	return err;
}
