// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segments on a real filesystem: append, durability calls, numbering of
 * new segments, reading back across segments, from a segment and byte
 * on (log_cursor_seek), and where a corrupt entry is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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

static const char *const names[] = { "/a", "/b", "/c" };

/* A scratch directory made from tmpl, a mkdtemp template; a test that cannot make one stops. */
static void scratch(char *tmpl)
{
	if (!mkdtemp(tmpl)) {
		perror(tmpl);
		exit(1);
	}
}

static void scratch_remove(const char *dir)
{
	char cmd[2 * LOG_PATH_MAX];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		exit(1);
}

/* In tmpl, epoch 3-1 (its path in dir) with segment 1 = /a /b, segment 2 = /c. */
static void build(char *tmpl, char *dir)
{
	struct log *l;

	scratch(tmpl);
	if (log_epoch_dir(dir, LOG_PATH_MAX, tmpl, 3, 1) || log__open(dir, &l))
		exit(1);
	append_entry(l, names[0]);
	append_entry(l, names[1]);
	log_sync(l);
	log__close(l);
	if (log__open(dir, &l))
		exit(1);
	append_entry(l, names[2]);
	log_sync(l);
	log__close(l);
}

/* Cut the last byte of segment NUMBER of dir: a torn entry. */
static int tear(const char *dir, int number)
{
	char path[2 * LOG_PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/segment-%06d.bin", dir, number);
	fd = open(path, O_RDWR);
	err = ftruncate(fd, lseek(fd, 0, SEEK_END) - 1);
	close(fd);
	return err;
}

/* Open segment 3 of dir (after build), as a daemon that starts again does. */
static int add_segment(const char *dir)
{
	struct log *l;
	int err = log__open(dir, &l);

	if (!err)
		log__close(l);
	return err;
}

/* Read dir with a new cursor *c, up to where it stops; returns how, and the entries in *n. */
static int read_to_end(const char *dir, struct log_cursor **c, int *n)
{
	struct template_entry e;
	int err;

	*n = 0;
	log_cursor__open(dir, 0, c);
	while ((err = log_cursor_next(*c, &e)) > 0)
		(*n)++;
	return err;
}

/* Run a shell command in dir. */
static int in_dir(const char *dir, const char *cmd)
{
	char line[3 * LOG_PATH_MAX];

	snprintf(line, sizeof(line), "cd '%s' && %s", dir, cmd);
	return system(line);
}

/* Segments numbered as they are made, read back in order across them. */
static void test_segments(void)
{
	char tmpl[] = "/tmp/bima-test-log-XXXXXX", dir[LOG_PATH_MAX], latest[2 * LOG_PATH_MAX];
	struct template_entry e;
	struct template_fields f;
	struct log_cursor *c;
	struct log *l;
	char why[TEMPLATE_WHY_LEN];
	int n = 0, err;

	scratch(tmpl);
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
	scratch_remove(tmpl);
}

/* A torn last entry is reported where it is. */
static void test_torn(void)
{
	char tmpl[] = "/tmp/bima-test-log-XXXXXX", dir[LOG_PATH_MAX];
	struct log_cursor *c;
	int n, err;

	build(tmpl, dir);
	CHECK_EQ(tear(dir, 2), 0, "truncate segment 2");
	err = read_to_end(dir, &c, &n);
	CHECK_EQ(err, -EPIPE, "torn entry is reported as torn (-EPIPE)");
	CHECK_EQ(log_cursor_offset(c), 0, "at byte 0 of segment 2");
	CHECK(strstr(log_cursor_error(c),
		     "(segment 2), entry 0 at byte 0: truncated template data"),
	      "error names segment, entry and reason", "\"%s\"", log_cursor_error(c));
	log_cursor__free(c);
	scratch_remove(tmpl);
}

/* Segment 1 compressed, as retention leaves it (segment 2 torn): read the same. */
static void test_gzip(void)
{
	char tmpl[] = "/tmp/bima-test-log-XXXXXX", dir[LOG_PATH_MAX], path[2 * LOG_PATH_MAX];
	struct template_entry e;
	struct log_cursor *c;
	int n = 0, err, fd;

	build(tmpl, dir);
	tear(dir, 2);
	CHECK_EQ(in_dir(dir, "gzip segment-000001.bin"), 0, "gzip segment 1");
	read_to_end(dir, &c, &n);
	CHECK(n == 2 && log_cursor_segment(c) == 2, "a compressed segment is read as it was",
	      "%d entries, up to segment %u", n, log_cursor_segment(c));
	log_cursor__free(c);
	snprintf(path, sizeof(path), "%s/segment-000001.bin.gz", dir);
	fd = open(path, O_RDWR);
	CHECK_EQ(ftruncate(fd, lseek(fd, 0, SEEK_END) - 9), 0, "cut the compressed segment");
	close(fd);
	log_cursor__open(dir, 0, &c);
	err = log_cursor_next(c, &e);
	CHECK(err == -EBADMSG && strstr(log_cursor_error(c), "cannot be decompressed"),
	      "a cut compressed segment is named", "%d \"%s\"", err, log_cursor_error(c));
	log_cursor__free(c);
	scratch_remove(tmpl);
}

/* From a segment and a byte on, as the daemon reads back its queue. */
static void test_seek(void)
{
	char tmpl[] = "/tmp/bima-test-log-XXXXXX", dir[LOG_PATH_MAX], path[2 * LOG_PATH_MAX];
	char why[TEMPLATE_WHY_LEN];
	struct template_fields f;
	struct template_entry e;
	struct log_cursor *c;
	size_t first_len = 0, seg1_len;
	const uint8_t *raw;
	struct stat st;

	build(tmpl, dir);
	snprintf(path, sizeof(path), "%s/segment-000001.bin", dir);
	seg1_len = stat(path, &st) ? 0 : (size_t)st.st_size;
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

	CHECK_EQ(in_dir(dir, "gzip segment-000001.bin"), 0, "gzip segment 1");
	log_cursor__open(dir, 0, &c);
	CHECK(log_cursor_seek(c, 1, first_len) == 0 && log_cursor_next(c, &e) == 1 &&
		      !template_fields(&e, &f, why) && !strcmp(f.path, "/b"),
	      "a compressed segment is read up to the byte sought", "%s", log_cursor_error(c));
	CHECK_EQ(log_cursor_seek(c, 1, first_len - 1), -EBADMSG,
		 "where no entry of a compressed segment starts: refused");
	log_cursor__free(c);
	scratch_remove(tmpl);
}

/* Segments 1 and 3 with 2 gone: the gap is an error, named. */
static void test_gap(void)
{
	char tmpl[] = "/tmp/bima-test-log-XXXXXX", dir[LOG_PATH_MAX];
	struct log_cursor *c;
	int n, err;

	build(tmpl, dir);
	CHECK_EQ(add_segment(dir), 0, "third segment created");
	if (in_dir(dir, "rm segment-000002.bin"))
		exit(1);
	err = read_to_end(dir, &c, &n);
	CHECK(err == -EBADMSG && strstr(log_cursor_error(c), "segment 2 is missing"),
	      "a missing segment is named", "%d \"%s\"", err, log_cursor_error(c));
	log_cursor__free(c);
	scratch_remove(tmpl);
}

/* Segment 3 alone, with no anchor file: the start is missing, named. */
static void test_start(void)
{
	char tmpl[] = "/tmp/bima-test-log-XXXXXX", dir[LOG_PATH_MAX];
	struct log_cursor *c;
	int n, err;

	build(tmpl, dir);
	if (add_segment(dir) || in_dir(dir, "rm segment-000001.bin segment-000002.bin"))
		exit(1);
	err = read_to_end(dir, &c, &n);
	CHECK(err == -EBADMSG && strstr(log_cursor_error(c), "segments 1 to 2 are missing"),
	      "a log without its start or an anchor is named", "%d \"%s\"", err,
	      log_cursor_error(c));
	log_cursor__free(c);
	scratch_remove(tmpl);
}

TEST_MAIN(CASE(segments), CASE(torn), CASE(gzip), CASE(seek), CASE(gap), CASE(start))
