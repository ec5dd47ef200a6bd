/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The template fields of IMA, for entries of any template the kernel can
 * boot with: the legacy "ima", "ima-ngv2", "ima-sigv2", "ima-modsig",
 * "evm-sig", and any ima_template_fmt= made of IMA's fields. template.c
 * decodes the templates bima writes itself (ima-ng, ima-sig, ima-buf,
 * bima-ct) on its own, and asks here for every other one.
 *
 * A template is its list of field ids, '|'-separated; a builtin template's
 * name stands for its format ("ima-sigv2" is "d-ngv2|n-ng|sig"), and an entry
 * of a custom ima_template_fmt= carries the format itself as its name, as
 * the kernel writes it. Each field is u32 length + bytes, but in the legacy
 * "ima" template (format "d|n"), where the kernel writes no template data
 * length, d as 20 raw bytes and n as u32 length + the name without its NUL;
 * its template hash is over d and n padded with NULs to 256 bytes.
 *
 *   field         bytes                          ASCII list
 *   d             SHA-1 (or MD5) digest          hex
 *   d-ng          "<algo>:" NUL digest           "<algo>:<hex>"
 *   d-ngv2        "<type>:<algo>:" NUL digest    "<type>:<algo>:<hex>", type ima|verity
 *   d-modsig      as d-ng, or empty              as d-ng
 *   n, n-ng       name NUL                       name
 *   xattrnames    names, '|'-separated, NUL      names
 *   sig, buf, modsig, evmsig, xattrlengths, xattrvalues
 *                 bytes                          hex
 *   iuid, igid, imode
 *                 1, 2, 4 or 8 bytes, LE         decimal
 *
 * An empty field is printed as nothing after its separating space, as the
 * kernel prints it. bima reads a template only if it has one digest field
 * (d, d-ng or d-ngv2) and one name field (n or n-ng): what every reader of
 * a list needs.
 */
#ifndef BIMA_IMA_FIELDS_H
#define BIMA_IMA_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "template.h"

#define IMA_LEGACY "ima"	/* the template whose entries have no data length */
#define IMA_LEGACY_NAME_MAX 255 /* IMA_EVENT_NAME_LEN_MAX: its n field */
#define IMA_FIELDS_MAX 15	/* IMA_TEMPLATE_NUM_FIELDS_MAX */

/* Whether name is the legacy "ima" template. */
static inline bool ima_fields_legacy(const char *name)
{
	return name[0] == 'i' && name[1] == 'm' && name[2] == 'a' && name[3] == '\0';
}

/*
 * The size of the template data of a legacy "ima" entry at p (len bytes
 * left): 20 + 4 + the name's length, or -EPIPE (truncated) / -EBADMSG.
 */
int ima_fields_legacy_size(const uint8_t *p, size_t len, uint32_t *size,
			   char why[TEMPLATE_WHY_LEN]);
/*
 * template_fields() for any template but those template.c knows. For the
 * legacy "ima" template, whose name has no NUL in the list, f->path points
 * to a copy held for the calling thread, valid until its next call here.
 */
int ima_fields_decode(const struct template_entry *e, struct template_fields *f,
		      char why[TEMPLATE_WHY_LEN]);
/* Append the fields of the entry's ASCII line: " field" for each. */
int ima_fields_ascii(struct buf *out, const struct template_entry *e, char why[TEMPLATE_WHY_LEN]);
/* The template hash of a legacy "ima" entry in bank: H(d || n padded to 256 bytes). */
int ima_fields_legacy_digest(const struct template_entry *e, const struct hashalg *bank,
			     uint8_t *out);

#endif
