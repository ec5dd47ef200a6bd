/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-container views of a log: which container each file entry came from
 * (bima-ct entries hold it; an ima-ng entry takes it from the last
 * bima_container mark before it in its segment), `bima log --container`,
 * `bima verify --by-container`, and their JSON.
 */
#ifndef BIMA_VIEWS_H
#define BIMA_VIEWS_H

#include <stdbool.h>
#include <stdio.h>

#include "container.h"
#include "template.h"

/* The attribution of the entries of a log read in order. */
struct attrib_reader {
	unsigned int segment; /* of the last entry */
	bool marked;	      /* a mark was read in this segment */
	struct attribution mark;
	struct buf store; /* the mark's cgroup path */
};

/*
 * Read entry e (fields f, in segment seg): 1 with a filled for a file
 * entry (ima-ng or bima-ct; a->cgroup_id 0 when nothing attributes it), 0
 * for any other entry, -EBADMSG for a mark that cannot be read. A
 * violation is 0, and changes no mark: the PCR does not cover its data.
 */
int attrib_next(struct attrib_reader *r, unsigned int seg, const struct template_entry *e,
		const struct template_fields *f, struct attribution *a);
void attrib_reader_free(struct attrib_reader *r);

/* The group an attribution is summarised in: "runtime:id", "host" or "unattributed". */
void attrib_group(const struct attribution *a, char *out, size_t size);

/* One entry as a line of JSON (JSON Lines); a NULL for an entry that is not a file's. */
int view_print_json(FILE *out, unsigned int seg, unsigned int index, const struct template_entry *e,
		    const struct template_fields *f, const struct attribution *a);

/* `bima verify --by-container`: entries, unique files and digests not allowed, per container. */
struct summary;

/*
 * allowlist (or NULL): a Keylime runtime policy (JSON; its digests) or
 * lines "HEX [PATH]" as sha256sum prints them; a file digest in it is
 * allowed whatever its path.
 */
int summary__new(const char *allowlist, struct summary **out);
void summary__free(struct summary *s);
int summary_add(struct summary *s, const struct template_fields *f, const struct attribution *a);
void summary_print(const struct summary *s, FILE *out);
void summary_print_json(const struct summary *s, FILE *out, int verdict);

#endif
