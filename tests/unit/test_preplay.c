// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay whose banks run on threads of their own (preplay.h) ends where
 * the serial replay ends, in every bank and both ways, whatever the
 * entries: across batches, with syncs in between, with violations, with
 * template data larger than a batch holds, in several PCRs. after() is
 * called once per entry and bank, in order, with the bank's value after
 * that entry and the bytes pushed with it; a PCR past 23 is refused.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "preplay.h"

#define ENTRIES 10000	 /* batches of 4096 */
#define BIG (600u << 10) /* more than a batch holds (512 KiB) */

static const char *const names[] = { "sha1", "sha256", "sha384", "sha512" };

/* What after() saw: per bank, the entries in order and the value after the last one. */
struct seen {
	struct replay *r;
	unsigned int count[TPM_BANKS_MAX];
	unsigned int out_of_order[TPM_BANKS_MAX];
	uint8_t last[TPM_BANKS_MAX][HASHALG_MAX_SIZE];
};

static void after(void *ctx, size_t b, const struct template_entry *e, const void *user)
{
	struct seen *s = ctx;
	unsigned int n;

	memcpy(&n, user, sizeof(n));
	s->out_of_order[b] += n != s->count[b];
	s->count[b]++;
	memcpy(s->last[b], s->r->pcr[e->pcr][b], s->r->banks[b]->size);
}

/* Entry n: a made-up SHA-1 template hash (zero: a violation), data of n's own. */
static void entry_of(unsigned int n, uint8_t *data, struct template_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->pcr = n % 3 ? 11 : 10;
	e->data = data;
	e->data_len = n == 4000 ? BIG : 40 + n % 200;
	memset(data, n & 0xff, e->data_len);
	memcpy(data, &n, sizeof(n));
	if (n % 97)
		hashalg_digest(hashalg_by_name("sha1", 4), e->data, e->data_len, e->digest);
	strcpy(e->name, "ima-ng");
}

static void init_banks(struct replay *r)
{
	const struct hashalg *banks[TPM_BANKS_MAX];

	for (size_t b = 0; b < 4; b++)
		banks[b] = hashalg_by_name(names[b], strlen(names[b]));
	replay_init(r, banks, 4);
}

/* 5000 entries replayed serially and on threads, synced on the way. */
static void test_same(void)
{
	static struct replay serial, parallel;
	struct template_entry e;
	struct seen seen = { .r = &parallel };
	struct preplay *p = NULL;
	uint8_t *data = malloc(BIG);
	bool same = true;
	int err = 0;

	init_banks(&serial);
	init_banks(&parallel);
	CHECK_EQ(preplay__new(&parallel, after, &seen, &p), 0,
		 "the threads start (three: the SHA-1 bank has none)");
	for (unsigned int n = 0; !err && n < ENTRIES; n++) {
		entry_of(n, data, &e);
		err = replay_entry_checked(&serial, &e) ?: preplay_push(p, &e, &n, sizeof(n));
		if (n == 1500 || n == 4000) {
			err = err ?: preplay_sync(p);
			same &= !memcmp(serial.pcr, parallel.pcr, sizeof(serial.pcr));
			same &= !memcmp(serial.pcr_padded, parallel.pcr_padded,
					sizeof(serial.pcr_padded));
			same &= !memcmp(seen.last[3], serial.pcr[e.pcr][3], 64);
			same &= !memcmp(seen.last[0], serial.pcr[e.pcr][0], 20);
		}
	}
	CHECK_EQ(err, 0, "5000 entries pushed, and synced twice on the way");
	CHECK_EQ(preplay_sync(p), 0, "the last sync");
	CHECK(same, "at each sync, every bank, both ways, is the serial replay's", "differs");
	CHECK_MEM(parallel.pcr, serial.pcr, sizeof(serial.pcr), "at the end too");
	CHECK_MEM(parallel.pcr_padded, serial.pcr_padded, sizeof(serial.pcr_padded),
		  "and the zero-padded SHA-1 way");
	CHECK_EQ(parallel.used, serial.used, "the same PCRs are marked used");
	for (size_t b = 0; b < 4; b++) {
		CHECK_EQ(seen.count[b], ENTRIES, "after() is called once per entry in each bank");
		CHECK_EQ(seen.out_of_order[b], 0, "in order, with the bytes pushed with the entry");
	}
	CHECK_MEM(seen.last[2], serial.pcr[(ENTRIES - 1) % 3 ? 11 : 10][2], 48,
		  "and sees the bank's value after the entry");
	CHECK_MEM(seen.last[0], serial.pcr[(ENTRIES - 1) % 3 ? 11 : 10][0], 20,
		  "the SHA-1 bank too, which preplay_push extends itself");
	preplay__free(p);
	free(data);
}

static void test_range(void)
{
	static struct replay parallel;
	struct template_entry e = { .pcr = 24 };
	struct seen seen = { .r = &parallel };
	struct preplay *p = NULL;
	int err;

	init_banks(&parallel);
	err = preplay__new(&parallel, after, &seen, &p);
	CHECK_EQ(err ?: preplay_push(p, &e, NULL, 0), -ERANGE, "a PCR past 23 is refused");
	preplay__free(p);
}

TEST_MAIN(CASE(same), CASE(range))
