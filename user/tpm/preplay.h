/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A replay whose banks are extended in parallel, one thread per bank: the
 * SHA-384 and SHA-512 banks cost most of a replay, and no bank depends on
 * another. The caller pushes entries in log order; they are copied into a
 * batch, so the buffer an entry came from may be reused at once. Each
 * bank's thread extends the entries of a batch in order while the caller
 * fills the next one. The SHA-1 bank has no thread: it extends the
 * template hash the caller checked, one compression, which costs less
 * than a thread to wake and feed, so preplay_push() extends it at once, in
 * the caller's thread. After preplay_sync() every entry pushed is extended
 * in every bank, and the struct replay may be read (and only then).
 *
 * For what must be looked at after each entry, while the threads run,
 * after(ctx, bank, entry, user) is called by bank's thread (for the SHA-1
 * bank, by preplay_push) once that bank holds the entry: it may read and
 * write what belongs to that bank only. user is a copy of the bytes given
 * with the entry (for the SHA-1 bank, the bytes given).
 */
#ifndef BIMA_PREPLAY_H
#define BIMA_PREPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "replay.h"

struct preplay;

typedef void (*preplay_after_fn)(void *ctx, size_t bank, const struct template_entry *e,
				 const void *user);

/* Threads for r's banks; after may be NULL. -errno if a thread cannot start. */
int preplay__new(struct replay *r, preplay_after_fn after, void *ctx, struct preplay **out);
/* Stop the threads (after a sync, or dropping what was pushed) and free p; NULL is fine. */
void preplay__free(struct preplay *p);
/*
 * Push e, with user_len bytes of user (at most PREPLAY_USER_MAX), to be
 * extended in every bank, its template hash checked by the caller
 * (replay_entry_checked). -ERANGE for a PCR number past 23, -ENOMEM.
 */
#define PREPLAY_USER_MAX 64
int preplay_push(struct preplay *p, const struct template_entry *e, const void *user,
		 size_t user_len);
/* Wait until every entry pushed is extended; the first error of a bank's thread, or 0. */
int preplay_sync(struct preplay *p);

#endif
