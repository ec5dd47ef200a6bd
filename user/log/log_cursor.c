// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading an epoch's log (log.h): its segments in order, plain or
 * compressed, from the start or from an anchor, entry by entry, with where
 * each is and what is wrong with the first that cannot be read.
 */
#define OPENSSL_API_COMPAT 10101 /* SHA256_Init and the rest, as in hashalg.c */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <zlib.h>

#include "log.h"
#include "log_files.h"
#include "msg.h"
#include "snapshot.h"
#include "tpm.h"

struct log_cursor {
	char dir[LOG_PATH_MAX];
	unsigned int *segs, nsegs, cur; /* cur: index into segs of the loaded segment */
	uint8_t *gz;			/* per segment: read from segment-N.bin.gz */
	uint8_t *map;			/* the segment's bytes: mapped, or a window (gz) */
	bool mapped;
	size_t size, off; /* the segment's size (SIZE_MAX until a gz's end), the next entry */
	gzFile z;	  /* a compressed segment, inflated through the window */
	size_t base, len; /* the window holds the segment's bytes base to base + len */
	/*
	 * The sha256 of the segment's bytes up to hashed. By SHA256_*, not
	 * EVP: an EVP digest's first use fills OpenSSL's table of names, 3.5
	 * million instructions that a verify of a quote bundle needs nowhere else.
	 */
	SHA256_CTX md;
	bool md_set; /* md is a segment's: one was opened */
	size_t hashed;
	unsigned int index;	   /* entries already returned from this segment */
	size_t last_off, last_len; /* the entry last returned */
	struct buf anchor;	   /* the anchor entry it starts from, if any */
	struct snapshot start;
	int state; /* 0: the anchor entry is next, 1: segments, -errno: fails so */
	char error[2 * LOG_PATH_MAX];
};

struct find_anchor {
	struct log_cursor *c;
	unsigned int segment;
};

static int anchor_closing(uint64_t id, void *arg)
{
	struct find_anchor *fa = arg;

	return !log_anchor_read(fa->c->dir, id, &fa->c->anchor, &fa->c->start) &&
	       fa->c->start.segment == fa->segment;
}

/* Where the cursor starts: at anchor since, or where the epoch's segments start. */
static int find_start(struct log_cursor *c, uint64_t since)
{
	struct find_anchor fa = { c, c->nsegs ? c->segs[0] - 1 : 0 };
	unsigned int first;
	int err;

	if (since) {
		err = log_anchor_read(c->dir, since, &c->anchor, &c->start);
		if (err == -ERANGE) {
			snprintf(c->error, sizeof(c->error),
				 "%s/" LOG_ANCHOR_FMT ": snapshot %llu names PCR %u, and a TPM "
				 "has PCRs 0 to %u",
				 c->dir, (unsigned long long)since, (unsigned long long)c->start.id,
				 c->start.pcr, TPM_PCR_COUNT - 1);
			return -EBADMSG;
		}
		if (err) {
			snprintf(c->error, sizeof(c->error), "%s/" LOG_ANCHOR_FMT ": %s", c->dir,
				 (unsigned long long)since,
				 err == -ENOENT	   ? "no such anchor (snapshot ID not taken, or "
						     "its anchor file removed)"
				 : err == -EBADMSG ? "not the snapshot_aggregate entry of that "
						     "snapshot"
						   : strerror(-err));
			return -EBADMSG;
		}
		first = c->start.segment + 1;
		while (c->nsegs && c->segs[0] < first) { /* the segments it summarises */
			memmove(c->segs, c->segs + 1, --c->nsegs * sizeof(*c->segs));
			memmove(c->gz, c->gz + 1, c->nsegs);
		}
		if (c->nsegs && c->segs[0] != first) {
			snprintf(c->error, sizeof(c->error),
				 "%s: segment %u, after the one anchor %llu closes, is missing",
				 c->dir, first, (unsigned long long)since);
			return -EBADMSG;
		}
		return 0;
	}
	if (!c->nsegs || c->segs[0] == 1) {
		c->state = 1;
		return 0;
	}
	if (each_anchor(c->dir, anchor_closing, &fa) == 1)
		return 0;
	snprintf(c->error, sizeof(c->error),
		 "%s: segments 1 to %u are missing and no anchor file holds the snapshot that "
		 "closed segment %u: the log cannot be replayed",
		 c->dir, fa.segment, fa.segment);
	return -EBADMSG;
}

int log_cursor__open(const char *epoch_dir, uint64_t since, struct log_cursor **out)
{
	struct log_cursor *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	snprintf(c->dir, sizeof(c->dir), "%s", epoch_dir);
	err = list_segments(epoch_dir, &c->segs, &c->nsegs, &c->gz);
	err = err ?: find_start(c, since);
	if (err == -ENOENT || err == -ENOMEM || err == -ENOTDIR) {
		log_cursor__free(c);
		return err;
	}
	c->state = err ?: c->state; /* a bad start is told by the first log_cursor_next() */
	c->cur = (unsigned int)-1;
	*out = c;
	return 0;
}

static void unmap(struct log_cursor *c)
{
	if (c->map && c->mapped)
		munmap(c->map, c->size);
	else
		free(c->map);
	if (c->z)
		gzclose(c->z);
	c->z = NULL;
	c->map = NULL;
	c->size = c->off = c->base = c->len = c->hashed = 0;
}

void log_cursor__free(struct log_cursor *c)
{
	if (!c)
		return;
	unmap(c);
	free(c->segs);
	free(c->gz);
	buf_free(&c->anchor);
	free(c);
}

/*
 * A compressed segment is inflated through a window, never whole: a small
 * file can inflate to any size. The window holds at least the largest
 * entry template_decode() accepts (header, name, TEMPLATE_DATA_MAX of
 * data) past the next entry, unless the segment ends first, so an entry
 * never straddles its end; twice that, so that it is refilled in large
 * reads. A segment of any size is read in 2 MiB and zlib's state.
 */
#define ENTRY_MAX (4 + TEMPLATE_DIGEST_SIZE + 4 + TEMPLATE_NAME_MAX + 4 + TEMPLATE_DATA_MAX)
#define WINDOW (2 * ENTRY_MAX)

static int gz_open(struct log_cursor *c, const char *path)
{
	c->z = gzopen(path, "rb");
	if (!c->z)
		return -errno ?: -ENOMEM;
	c->map = malloc(WINDOW);
	if (!c->map)
		return -ENOMEM;
	c->mapped = false;
	c->size = SIZE_MAX; /* until its end is read */
	return 0;
}

/* Keep ENTRY_MAX bytes (or the rest of the segment) in the window from c->off on. */
static int gz_fill(struct log_cursor *c)
{
	size_t keep = c->base + c->len - c->off;
	int n = 1;

	if (!c->z || keep >= ENTRY_MAX)
		return 0;
	memmove(c->map, c->map + (c->off - c->base), keep);
	c->base = c->off;
	c->len = keep;
	while (c->len < WINDOW && (n = gzread(c->z, c->map + c->len, WINDOW - c->len)) > 0)
		c->len += n;
	if (n > 0)
		return 0;
	/* The end: a read error, or a stream cut before its end (gzclose says). */
	n = gzclose(c->z) != Z_OK || n < 0 ? Z_DATA_ERROR : Z_OK;
	c->z = NULL;
	c->size = c->base + c->len;
	return n == Z_OK ? 0 : -EBADMSG;
}

static int map_segment(struct log_cursor *c)
{
	char path[LOG_PATH_MAX + 32];
	struct stat st;
	int fd = -1, err = 0;

	c->off = 0;
	c->index = 0;
	snprintf(path, sizeof(path), "%s/" SEGMENT_FMT "%s", c->dir, c->segs[c->cur],
		 c->gz[c->cur] ? ".gz" : "");
	SHA256_Init(&c->md);
	c->md_set = true;
	if (c->gz[c->cur]) {
		err = gz_open(c, path);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	c->size = st.st_size;
	if (c->size) {
		c->map = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, fd, 0);
		c->mapped = true;
		if (c->map == MAP_FAILED) {
			err = -errno;
			c->map = NULL;
			c->size = 0;
		}
	}
	c->len = c->size; /* the window is the whole file */
out:
	if (err)
		snprintf(c->error, sizeof(c->error), "%s: %s", path,
			 err == -EBADMSG ? "cannot be decompressed (cut or corrupt)"
					 : strerror(-err));
	if (fd >= 0)
		close(fd);
	return err;
}

/* Hash the segment's bytes up to offset end, which the window holds. */
static int hash_to(struct log_cursor *c, size_t end)
{
	if (c->hashed < end)
		SHA256_Update(&c->md, c->map + (c->hashed - c->base), end - c->hashed);
	c->hashed = end;
	return 0;
}

/*
 * Before the next entry: in a compressed segment, hash the entries before
 * it while the window still holds them, then keep the window filled; at
 * its end c->size becomes known. A segment that is not compressed is held
 * whole: it is hashed only when asked (log_cursor_segment_sha256), in one
 * piece, and not at all in a log that never asks.
 */
static int next_bytes(struct log_cursor *c)
{
	if (c->gz[c->cur] && hash_to(c, c->off))
		return -ENOMEM;
	if (!gz_fill(c))
		return 0;
	snprintf(c->error, sizeof(c->error),
		 "%s/" SEGMENT_FMT ".gz (segment %u): cannot be decompressed after byte %zu (cut "
		 "or corrupt)",
		 c->dir, c->segs[c->cur], c->segs[c->cur], c->base + c->len);
	return -EBADMSG;
}

int log_cursor_next(struct log_cursor *c, struct template_entry *e)
{
	char why[TEMPLATE_WHY_LEN];
	size_t used;
	int err;

	if (c->state < 0)
		return c->state;
	if (c->state == 0) { /* the anchor entry, read and checked at open */
		c->state = 1;
		template_decode(c->anchor.p, c->anchor.len, e, &used, why);
		return 1;
	}
	for (;;) {
		if (c->cur != (unsigned int)-1 && c->off < c->size) {
			err = next_bytes(c);
			if (err)
				return err;
			if (c->off < c->size)
				break;
		}
		unmap(c);
		if (++c->cur >= c->nsegs) {
			c->cur = c->nsegs;
			return 0;
		}
		if (c->cur && c->segs[c->cur] != c->segs[c->cur - 1] + 1) {
			snprintf(c->error, sizeof(c->error),
				 "%s: segment %u is missing (segments %u and %u are there): "
				 "a segment was removed",
				 c->dir, c->segs[c->cur - 1] + 1, c->segs[c->cur - 1],
				 c->segs[c->cur]);
			c->cur--;
			return c->state = -EBADMSG;
		}
		err = map_segment(c);
		if (err)
			return err;
	}
	err = template_decode(c->map + (c->off - c->base), c->base + c->len - c->off, e, &used,
			      why);
	if (err) {
		snprintf(c->error, sizeof(c->error),
			 "%s/" SEGMENT_FMT "%s (segment %u), entry %u at byte %zu: %s", c->dir,
			 c->segs[c->cur], c->gz[c->cur] ? ".gz" : "", c->segs[c->cur], c->index,
			 c->off, why);
		return err;
	}
	c->last_off = c->off;
	c->last_len = used;
	c->off += used;
	c->index++;
	return 1;
}

int log_cursor_seek(struct log_cursor *c, unsigned int seg, size_t off)
{
	struct template_entry e;
	unsigned int i = 0;
	int err = 0;

	while (i < c->nsegs && c->segs[i] != seg)
		i++;
	if (i == c->nsegs) {
		snprintf(c->error, sizeof(c->error), "%s: segment %u is missing", c->dir, seg);
		return -EBADMSG;
	}
	unmap(c);
	c->state = 1; /* past the anchor entry, if the cursor starts at one */
	c->cur = i;
	err = map_segment(c);
	if (err)
		return err;
	if (!c->gz[i] && off <= c->size) {
		c->off = off;
		return 0;
	}
	/* A compressed segment is read up to there: it is never held whole. */
	while (c->gz[i] && c->off < off && (err = log_cursor_next(c, &e)) > 0 && c->cur == i)
		;
	if (err >= 0 && c->cur == i && c->off == off)
		return 0;
	if (err >= 0)
		snprintf(c->error, sizeof(c->error),
			 "%s/" SEGMENT_FMT "%s (segment %u): no entry starts at byte %zu", c->dir,
			 seg, c->gz[i] ? ".gz" : "", seg, off);
	return err < 0 ? err : -EBADMSG;
}

const struct snapshot *log_cursor_start(const struct log_cursor *c)
{
	return c->anchor.len ? &c->start : NULL;
}

bool log_cursor_at_anchor(const struct log_cursor *c)
{
	return c->anchor.len && c->cur == (unsigned int)-1;
}

void log_cursor_raw(const struct log_cursor *c, const uint8_t **p, size_t *len)
{
	if (log_cursor_at_anchor(c)) {
		*p = c->anchor.p;
		*len = c->anchor.len;
		return;
	}
	*p = c->map + (c->last_off - c->base);
	*len = c->last_len;
}

int log_cursor_segment_sha256(struct log_cursor *c, uint8_t sha256[32])
{
	bool whole = !log_cursor_at_anchor(c) && c->cur < c->nsegs && !c->gz[c->cur];
	SHA256_CTX md;

	if (!c->md_set || (whole && hash_to(c, c->last_off)))
		return -ENOMEM;
	md = c->md;
	SHA256_Final(sha256, &md);
	return 0;
}

size_t log_cursor_offset(const struct log_cursor *c)
{
	return c->off;
}

void log_cursor_ahead(const struct log_cursor *c, const uint8_t **p, size_t *len)
{
	bool held = c->state == 1 && c->cur < c->nsegs && c->mapped && c->map && c->off < c->size;

	*p = held ? c->map + c->off : NULL;
	*len = held ? c->size - c->off : 0;
}

const char *log_cursor_error(const struct log_cursor *c)
{
	return c->error;
}

unsigned int log_cursor_segment(const struct log_cursor *c)
{
	if (log_cursor_at_anchor(c))
		return c->start.segment;
	return c->cur < c->nsegs ? c->segs[c->cur] : 0;
}

unsigned int log_cursor_index(const struct log_cursor *c)
{
	return c->index ? c->index - 1 : 0;
}

unsigned int log_cursor_segments(const struct log_cursor *c)
{
	return c->nsegs;
}

unsigned int log_cursor_last_segment(const struct log_cursor *c)
{
	return c->nsegs ? c->segs[c->nsegs - 1] : 0;
}
