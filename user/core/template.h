/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IMA measurement-list entries: the binary layout of
 * binary_runtime_measurements, the template data of the templates bima
 * writes and reads, and their ASCII rendering.
 *
 * One entry, all integers little-endian (IMA's canonical format, and the
 * native one on x86 and arm64):
 *
 *   u32  pcr                 PCR the entry was extended into
 *   u8   digest[20]          SHA-1 of the template data; all zero for a
 *                            violation, which is extended as all 0xff
 *   u32  name_len            1..127 (IMA's names are 15 at most; an entry of a
 *                            custom ima_template_fmt= is named by its format)
 *   char name[name_len]      template name, no NUL: "ima-ng", "ima-sig", "ima-buf",
 *                            "bima-ct", or any other IMA template (ima_fields.h)
 *   u32  data_len            bytes of template data that follow; absent in the
 *                            legacy "ima" template (ima_fields.h)
 *   u8   data[data_len]      the fields, each as u32 length + bytes:
 *        d-ng  "<algo>:" NUL digest      e.g. "sha256:\0" + 32 bytes
 *        n-ng  path NUL
 *        sig   signature (ima-sig; usually empty)
 *        buf   buffer (ima-buf)
 *
 * bima-ct, bima's authenticated attribution, is ima-ng's d-ng and n-ng
 * followed by five fields, so that the template hash, and so the TPM,
 * covers who measured the file (container.h):
 *        cgid    8 bytes: the task's cgroup v2 id, u64 little-endian
 *        mntns   8 bytes: the inode number of its mount namespace, u64 LE
 *        ctrt    container runtime NUL: "docker", "containerd", "cri",
 *                "cri-o", "podman", "nspawn"; just the NUL on the host
 *        ctid    container id NUL; just the NUL on the host
 *        cgpath  the cgroup's path below the cgroup2 root NUL, escaped as
 *                n-ng; just the NUL when the daemon could not learn it
 *
 * A bank's template digest (what is extended into that bank) is the bank's
 * hash over data[0..data_len), for every bank, as IMA computes it (but for
 * the legacy "ima" template: ima_fields.h).
 *
 * bima writes only ima-ng, ima-buf and bima-ct (and reads ima-sig); it
 * reads every template the kernel can boot with, and any ima_template_fmt=
 * made of IMA's fields, which ima_fields.c decodes: ima, ima-ngv2,
 * ima-sigv2, ima-modsig, evm-sig, ... Their struct template_fields gives the
 * first digest field (d, d-ng or d-ngv2) and name field (n or n-ng), and as
 * extra the sig (or buf) field; the ASCII line renders every field as the
 * kernel's ascii_runtime_measurements does.
 */
#ifndef BIMA_TEMPLATE_H
#define BIMA_TEMPLATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "hashalg.h"

#define TEMPLATE_NAME_MAX 127	     /* a custom ima_template_fmt= is its own name */
#define TEMPLATE_DATA_MAX (1u << 20) /* bima's bound on one entry's template data */
#define TEMPLATE_DIGEST_SIZE 20	     /* SHA-1 template hash kept in the list */
#define TEMPLATE_WHY_LEN 160	     /* room for a decoding error's reason */
#define TEMPLATE_CT "bima-ct"	     /* ima-ng with the attribution fields */

/* One entry, decoded in place: data points into the buffer it came from. */
struct template_entry {
	uint32_t pcr;
	uint8_t digest[TEMPLATE_DIGEST_SIZE];
	char name[TEMPLATE_NAME_MAX + 1];
	const uint8_t *data;
	uint32_t data_len;
};

/* The fields of an entry (the legacy "ima" template's path: ima_fields_decode()). */
struct template_fields {
	const struct hashalg *alg; /* algorithm of the d-ng digest */
	const uint8_t *digest;	   /* alg->size bytes */
	const char *path;	   /* n-ng, NUL-terminated */
	uint32_t path_len;	   /* with the NUL */
	const uint8_t *extra;	   /* sig (ima-sig) or buf (ima-buf); NULL for ima-ng */
	uint32_t extra_len;
	bool covered;	 /* false for a violation: the PCR does not cover its data */
	bool verity;	 /* d-ngv2 "verity:": an fs-verity digest, not the file's hash */
	bool attributed; /* bima-ct: the fields below */
	uint64_t cgroup_id, mnt_ns;
	const char *runtime, *container, *cgroup; /* "" when empty */
};

/*
 * Decode the entry at buf[0..len). Returns 0 and the entry's size in *used,
 * -ENODATA when len is 0, -EPIPE when buf ends inside the entry (what a torn
 * write leaves), or -EBADMSG for anything else; why says what and where.
 */
int template_decode(const uint8_t *buf, size_t len, struct template_entry *e, size_t *used,
		    char why[TEMPLATE_WHY_LEN]);
/* Split the template data into fields; -EBADMSG with the reason in why. */
int template_fields(const struct template_entry *e, struct template_fields *f,
		    char why[TEMPLATE_WHY_LEN]);

bool template_is_violation(const struct template_entry *e);
/*
 * Whether e is the record named name that bima or IMA keeps in an ima-buf
 * entry (bima_seq, bima_lost_events, snapshot_aggregate, bima_container,
 * ...). A violation never is one, whatever its data says: it is extended
 * as all 0xff, so the PCR does not cover its name, its digest or its
 * buffer, which anyone who can write the log can rewrite. Every reader of
 * such records asks here.
 */
bool template_record(const struct template_entry *e, const struct template_fields *f,
		     const char *name);
/* The digest extended into a bank: H(data), or all 0xff for a violation. */
int template_bank_digest(const struct template_entry *e, const struct hashalg *bank, uint8_t *out);
/* Whether template_bank_digest(e) is H(e's data), which a caller may take itself. */
bool template_digest_is_data_hash(const struct template_entry *e);

/*
 * Append a name as the n-ng field holds it, with its NUL: as the kernel
 * stores it, a space becomes '_'; the bytes the kernel would leave raw and
 * that break IMA's ASCII list or its readers (a control byte such as a
 * newline, DEL, a byte that is not part of valid UTF-8) become "\ooo",
 * octal. Any other byte, '\' included, stays as it is.
 */
int template_name(struct buf *out, const char *path);
/* Append ima-ng template data (d-ng, n-ng: the name by template_name()), or ima-buf's when buf is
 * not NULL. */
int template_data_ng(struct buf *out, const struct hashalg *alg, const uint8_t *digest,
		     const char *path, const uint8_t *buf, uint32_t buf_len);
/* Append bima-ct template data: ima-ng's, then the attribution fields. */
struct attribution;
int template_data_ct(struct buf *out, const struct hashalg *alg, const uint8_t *digest,
		     const char *path, const struct attribution *a);
/*
 * Append one whole entry; its SHA-1 template hash is computed here, or left
 * zero when violation is true.
 */
int template_encode(struct buf *out, uint32_t pcr, const char *name, const uint8_t *data,
		    uint32_t data_len, bool violation);
/* The SHA-1 template hash of template data, as template_encode() computes it. */
int template_hash(const uint8_t *data, uint32_t len, uint8_t digest[TEMPLATE_DIGEST_SIZE]);
/* template_encode() with the template hash computed by template_hash(); NULL: a violation. */
int template_encode_hashed(struct buf *out, uint32_t pcr, const char *name, const uint8_t *data,
			   uint32_t data_len, const uint8_t *digest);

/*
 * Append an ima-buf entry named name whose buffer is data (bima's own
 * records: losses, recovery); its d-ng is the buffer's sha256, as IMA does.
 */
int template_encode_buf(struct buf *out, uint32_t pcr, const char *name, const void *data,
			uint32_t len);

/* Append len bytes as lowercase hex, as the ASCII list prints them. */
int template_put_hex(struct buf *out, const uint8_t *p, size_t len);
/* One line of IMA's ASCII list: "PCR template-hash name field...\n", appended to out. */
int template_format_ascii(struct buf *out, const struct template_entry *e,
			  char why[TEMPLATE_WHY_LEN]);
/* The same, written to f. */
int template_print_ascii(FILE *f, const struct template_entry *e, char why[TEMPLATE_WHY_LEN]);

#endif
