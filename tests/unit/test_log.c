// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segments on a real filesystem: append, durability calls, numbering of
 * new segments, reading back across segments, from a segment and byte
 * on (log_cursor_seek), and where a corrupt entry is reported.
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
	const uint8_t *raw;
	size_t first_len = 0, seg1_len;
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
	seg1_len = log_durable(l);
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

	/* From a segment and a byte on, as the daemon reads back its queue. */
	log_cursor__open(dir, 0, &c);
	log_cursor_next(c, &e);
	log_cursor_raw(c, &raw, &first_len);
	CHECK_EQ(log_cursor_seek(c, 1, first_len), 0, "seek to the second entry of segment 1");
	CHECK(log_cursor_next(c, &e) == 1 && !template_fields(&e, &f, why) &&
		      !strcmp(f.path, "/b") && log_cursor_offset(c) == seg1_len,
	      "the entry there comes next, and the offset is past it", "at %zu",
	      log_cursor_offset(c));
	CHECK(log_cursor_next(c, &e) == 1 && !template_fields(&e, &f, why) &&
		      !strcmp(f.path, "/c") && log_cursor_segment(c) == 2,
	      "then the next segment's", "segment %u", log_cursor_segment(c));
	CHECK_EQ(log_cursor_seek(c, 1, seg1_len), 0, "seek to the end of segment 1");
	CHECK(log_cursor_next(c, &e) == 1 && !template_fields(&e, &f, why) && !strcmp(f.path, "/c"),
	      "the next segment's first entry comes next", "%s", f.path);
	CHECK_EQ(log_cursor_seek(c, 1, seg1_len + 1), -EBADMSG, "past a segment's end: refused");
	CHECK(strstr(log_cursor_error(c), "no entry starts at byte"), "and named", "\"%s\"",
	      log_cursor_error(c));
	CHECK_EQ(log_cursor_seek(c, 7, 0), -EBADMSG, "a segment the log lacks: refused");
	CHECK(strstr(log_cursor_error(c), "segment 7 is missing"), "and named", "\"%s\"",
	      log_cursor_error(c));
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
	log_cursor__open(dir, 0, &c);
	CHECK(log_cursor_seek(c, 1, first_len) == 0 && log_cursor_next(c, &e) == 1 &&
		      !template_fields(&e, &f, why) && !strcmp(f.path, "/b"),
	      "a compressed segment is read up to the byte sought", "%s", log_cursor_error(c));
	CHECK_EQ(log_cursor_seek(c, 1, first_len - 1), -EBADMSG,
		 "where no entry of a compressed segment starts: refused");
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
