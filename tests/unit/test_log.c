// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segments on a real filesystem: append, durability calls, numbering of
 * new segments, reading back across segments, and where a corrupt entry is
 * reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static void append_entry(struct log *l, const char *path)
{
	uint8_t digest[32] = { 1, 2, 3 };
	struct buf data = {}, entry = {};

	template_data_ng(&data, hashalg_by_name("sha256", 6), digest, path, NULL, 0);
	template_encode(&entry, 11, "ima-ng", data.p, data.len, false);
	log_append(l, entry.p, entry.len);
	buf_free(&data);
	buf_free(&entry);
}

int main(void)
{
	char tmpl[] = "/tmp/bima-test-log-XXXXXX", dir[LOG_PATH_MAX], latest[2 * LOG_PATH_MAX];
	const char *names[] = { "/a", "/b", "/c" };
	struct template_entry e;
	struct template_fields f;
	struct log_cursor *c;
	struct log *l;
	char why[TEMPLATE_WHY_LEN];
	int n = 0, err, fd;

	if (!mkdtemp(tmpl))
		return 1;
	CHECK_EQ(log_epoch_dir(dir, sizeof(dir), tmpl, 3, 1), 0, "epoch directory name");
	CHECK(strstr(dir, "/epoch-3-1"), "epoch directory is epoch-<reset>-<restart>", "%s", dir);

	CHECK_EQ(log__open(dir, &l), 0, "first segment created (with parents)");
	CHECK(strstr(log_path(l), "segment-000001.bin"), "first segment is number 1", "%s",
	      log_path(l));
	append_entry(l, names[0]);
	append_entry(l, names[1]);
	CHECK_EQ(log_sync(l), 0, "fdatasync of segment 1");
	log__close(l);

	CHECK_EQ(log__open(dir, &l), 0, "second segment created");
	CHECK(strstr(log_path(l), "segment-000002.bin"), "next segment is number 2", "%s",
	      log_path(l));
	append_entry(l, names[2]);
	log_sync(l);
	log__close(l);

	CHECK_EQ(log_latest_epoch(latest, sizeof(latest), tmpl), 0, "latest epoch found");
	CHECK_STR(latest, dir, "latest epoch is the only one");

	CHECK_EQ(log_cursor__open(dir, 0, &c), 0, "cursor opens");
	while ((err = log_cursor_next(c, &e)) > 0) {
		template_fields(&e, &f, why);
		if (n < 3)
			CHECK_STR(f.path, names[n], "entries come back in order across segments");
		n++;
	}
	CHECK_EQ(err, 0, "cursor ends cleanly");
	CHECK_EQ(n, 3, "three entries read");
	CHECK_EQ(log_cursor_segments(c), 2, "two segments");
	log_cursor__free(c);

	/* Cut the last byte of segment 2: a torn entry. */
	snprintf(latest, sizeof(latest), "%s/segment-000002.bin", dir);
	fd = open(latest, O_RDWR);
	CHECK_EQ(ftruncate(fd, lseek(fd, 0, SEEK_END) - 1), 0, "truncate segment 2");
	close(fd);
	log_cursor__open(dir, 0, &c);
	while ((err = log_cursor_next(c, &e)) > 0)
		;
	CHECK_EQ(err, -EPIPE, "torn entry is reported as torn (-EPIPE)");
	CHECK_EQ(log_cursor_offset(c), 0, "at byte 0 of segment 2");
	CHECK(strstr(log_cursor_error(c),
		     "(segment 2), entry 0 at byte 0: truncated template data"),
	      "error names segment, entry and reason", "\"%s\"", log_cursor_error(c));
	log_cursor__free(c);

	/* Segment 1 compressed, as retention leaves it: read the same. */
	snprintf(latest, sizeof(latest),
		 "cd '%s' && cp segment-000001.bin keep && gzip segment-000001.bin", dir);
	CHECK_EQ(system(latest), 0, "gzip segment 1");
	n = 0;
	log_cursor__open(dir, 0, &c);
	while ((err = log_cursor_next(c, &e)) > 0)
		n++;
	CHECK(n == 2 && log_cursor_segment(c) == 2, "a compressed segment is read as it was",
	      "%d entries, up to segment %u", n, log_cursor_segment(c));
	log_cursor__free(c);
	snprintf(latest, sizeof(latest), "%s/segment-000001.bin.gz", dir);
	fd = open(latest, O_RDWR);
	CHECK_EQ(ftruncate(fd, lseek(fd, 0, SEEK_END) - 9), 0, "cut the compressed segment");
	close(fd);
	log_cursor__open(dir, 0, &c);
	err = log_cursor_next(c, &e);
	CHECK(err == -EBADMSG && strstr(log_cursor_error(c), "cannot be decompressed"),
	      "a cut compressed segment is named", "%d \"%s\"", err, log_cursor_error(c));
	log_cursor__free(c);

	/* Segments 1 and 3 with 2 gone: the gap is an error, named. */
	snprintf(latest, sizeof(latest),
		 "cd '%s' && rm segment-000001.bin.gz && mv keep segment-000001.bin", dir);
	if (system(latest))
		return 1;
	CHECK_EQ(log__open(dir, &l), 0, "third segment created");
	log__close(l);
	snprintf(latest, sizeof(latest), "%s/segment-000002.bin", dir);
	unlink(latest);
	log_cursor__open(dir, 0, &c);
	while ((err = log_cursor_next(c, &e)) > 0)
		;
	CHECK(err == -EBADMSG && strstr(log_cursor_error(c), "segment 2 is missing"),
	      "a missing segment is named", "%d \"%s\"", err, log_cursor_error(c));
	log_cursor__free(c);

	/* No segment 1 and no anchor file: the start is missing, named. */
	snprintf(latest, sizeof(latest), "%s/segment-000001.bin", dir);
	unlink(latest);
	log_cursor__open(dir, 0, &c);
	err = log_cursor_next(c, &e);
	CHECK(err == -EBADMSG && strstr(log_cursor_error(c), "segments 1 to 2 are missing"),
	      "a log without its start or an anchor is named", "%d \"%s\"", err,
	      log_cursor_error(c));
	log_cursor__free(c);

	snprintf(latest, sizeof(latest), "rm -rf '%s'", tmpl);
	if (system(latest))
		return 1;
	return CHECK_DONE();
}
