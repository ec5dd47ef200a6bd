// SPDX-License-Identifier: GPL-2.0-only
/*
 * The only file that speaks tpm2-tss. One wrapper per Esys call; each
 * failure is logged once as "Esys_X(0x...) - decoded" and mapped to -EIO.
 * TPM2_PCR_Extend, which the daemon sends for every entry, is marshaled
 * here instead (tpm_pcr_extend()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

#include "msg.h"
#include "tpm.h"

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	int fd; /* the TCTI's device opened again, blocking, for extends; -1: none */
};

static int tpm_fail(const char *call, TSS2_RC rc)
{
	pr_err("%s(0x%x) - %s", call, rc, Tss2_RC_Decode(rc));
	return -EIO;
}

int tpm__open(const char *tcti, struct tpm **out)
{
	struct tpm *tpm = calloc(1, sizeof(*tpm));
	TSS2_RC rc;

	if (!tpm)
		return -ENOMEM;
	tpm->fd = -1;
	rc = Tss2_TctiLdr_Initialize(tcti, &tpm->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		pr_err("cannot open TPM through TCTI \"%s\": %s", tcti, Tss2_RC_Decode(rc));
		free(tpm);
		return -ENODEV;
	}
	rc = Esys_Initialize(&tpm->esys, tpm->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		tpm__free(tpm);
		return tpm_fail("Esys_Initialize", rc);
	}
	/*
	 * The device TCTI opens its device non-blocking: the kernel then runs
	 * each command in a worker and the caller waits for it in poll(), two
	 * more context switches a command. A blocking descriptor of its own
	 * runs an extend in the daemon's write(). /dev/tpm0 takes one opener
	 * only, the TCTI: extends then go through it.
	 */
	if (!strncmp(tcti, "device:", 7) && tcti[7])
		tpm->fd = open(tcti + 7, O_RDWR | O_CLOEXEC);
	*out = tpm;
	return 0;
}

void tpm__free(struct tpm *tpm)
{
	if (!tpm)
		return;
	if (tpm->esys)
		Esys_Finalize(&tpm->esys);
	if (tpm->tcti)
		Tss2_TctiLdr_Finalize(&tpm->tcti);
	if (tpm->fd >= 0)
		close(tpm->fd);
	free(tpm);
}

int tpm_allocation(struct tpm *tpm, struct tpm_allocation *a)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TPML_PCR_SELECTION *sel;
	TSS2_RC rc;

	rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS,
				0, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_GetCapability", rc);
	sel = &cap->data.assignedPCR;
	a->nbanks = 0;
	for (UINT32 i = 0; i < sel->count && a->nbanks < TPM_BANKS_MAX; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		const struct hashalg *alg = hashalg_by_tpm_id(s->hash);
		uint32_t mask = 0;

		for (UINT8 b = 0; b < s->sizeofSelect && b < 3; b++)
			mask |= (uint32_t)s->pcrSelect[b] << (8 * b);
		/* a PCR past 23 counts as some PCR allocated, as before, but as none of 0-23 */
		for (UINT8 b = 3; b < s->sizeofSelect && b < sizeof(s->pcrSelect); b++)
			if (s->pcrSelect[b])
				mask |= TPM_ALLOC_HIGH;
		if (alg && mask) {
			a->banks[a->nbanks] = alg;
			a->pcrs[a->nbanks++] = mask;
		}
	}
	free(cap);
	return 0;
}

void tpm_allocated(const struct tpm_allocation *a, int pcr, const struct hashalg **banks, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < a->nbanks; i++)
		if (pcr < 0 ? a->pcrs[i] != 0 : pcr < TPM_PCR_COUNT && (a->pcrs[i] & (1u << pcr)))
			banks[(*n)++] = a->banks[i];
}

/* tpm_allocated() of the allocation the TPM has now. */
static int allocated_now(struct tpm *tpm, int pcr, const struct hashalg **banks, size_t *n)
{
	struct tpm_allocation a;
	int err = tpm_allocation(tpm, &a);

	if (!err)
		tpm_allocated(&a, pcr, banks, n);
	return err;
}

int tpm_banks(struct tpm *tpm, uint32_t pcr, const struct hashalg **banks, size_t *n)
{
	return allocated_now(tpm, (int)pcr, banks, n);
}

int tpm_banks_any(struct tpm *tpm, const struct hashalg **banks, size_t *n)
{
	return allocated_now(tpm, -1, banks, n);
}

int tpm_pcr_read(struct tpm *tpm, uint32_t pcr, const struct hashalg *bank, uint8_t *value)
{
	return tpm_pcr_read_banks(tpm, pcr, &bank, 1, &value);
}

/*
 * One TPM2_PCR_Read for every bank asked; those the TPM leaves out of its
 * response (it may return fewer than asked) are asked again, in another.
 */
int tpm_pcr_read_banks(struct tpm *tpm, uint32_t pcr, const struct hashalg *const *banks, size_t n,
		       uint8_t *const *values)
{
	bool done[TPM_BANKS_MAX] = {};
	size_t left = n;

	if (pcr >= TPM_PCR_COUNT || n > TPM_BANKS_MAX)
		return -EINVAL;
	while (left) {
		TPML_PCR_SELECTION in = {}, *sel_out = NULL;
		TPML_DIGEST *got = NULL;
		UINT32 update_counter, k = 0;
		size_t before = left;
		TSS2_RC rc;

		for (size_t b = 0; b < n; b++) {
			TPMS_PCR_SELECTION *s = &in.pcrSelections[in.count];

			if (done[b])
				continue;
			s->hash = banks[b]->tpm_id;
			s->sizeofSelect = 3;
			s->pcrSelect[pcr / 8] = 1 << (pcr % 8);
			in.count++;
		}
		rc = Esys_PCR_Read(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in,
				   &update_counter, &sel_out, &got);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail("Esys_PCR_Read", rc);
		/* The digests come in the order of the selection returned, a PCR at a time. */
		for (UINT32 i = 0; i < sel_out->count && k < got->count; i++) {
			const TPMS_PCR_SELECTION *s = &sel_out->pcrSelections[i];

			if (s->sizeofSelect <= pcr / 8 ||
			    !(s->pcrSelect[pcr / 8] & (1 << (pcr % 8))))
				continue;
			for (size_t b = 0; b < n; b++) {
				if (done[b] || banks[b]->tpm_id != s->hash ||
				    got->digests[k].size != banks[b]->size)
					continue;
				memcpy(values[b], got->digests[k].buffer, banks[b]->size);
				done[b] = true;
				left--;
				break;
			}
			k++;
		}
		free(sel_out);
		free(got);
		if (left == before) {
			for (size_t b = 0; b < n; b++)
				if (!done[b])
					pr_err("TPM returned no %s value for PCR %u",
					       banks[b]->name, pcr);
			return -EIO;
		}
	}
	return 0;
}

static size_t put16(uint8_t *p, size_t at, uint16_t v)
{
	p[at] = v >> 8;
	p[at + 1] = v;
	return at + 2;
}

static size_t put32(uint8_t *p, size_t at, uint32_t v)
{
	return put16(p, put16(p, at, v >> 16), v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Send a marshaled command and take its response, through the blocking descriptor or the TCTI. */
static int tpm_transmit(struct tpm *tpm, const uint8_t *cmd, size_t len, uint8_t *resp,
			size_t *resp_len)
{
	ssize_t n;
	TSS2_RC rc;

	if (tpm->fd < 0) {
		rc = Tss2_Tcti_Transmit(tpm->tcti, len, cmd);
		rc = rc ?: Tss2_Tcti_Receive(tpm->tcti, resp_len, resp, TSS2_TCTI_TIMEOUT_BLOCK);
		return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("Tss2_Tcti_Transmit/Receive", rc);
	}
	/* The device takes a command in one write() and gives its response in one read(). */
	n = write(tpm->fd, cmd, len);
	if (n >= 0 && n != (ssize_t)len) {
		pr_err("TPM2_PCR_Extend: the TPM device took %zd of the command's %zu bytes", n,
		       len);
		return -EIO;
	}
	if (n >= 0)
		n = read(tpm->fd, resp, *resp_len);
	if (n < 0) {
		pr_err("TPM2_PCR_Extend: the TPM device: %s", strerror(errno));
		return -EIO;
	}
	*resp_len = n;
	return 0;
}

/*
 * TPM2_PCR_Extend, every bank in one command, marshaled here and sent
 * with a password session (TPM_RS_PW, empty: a PCR's auth value), as
 * Esys_PCR_Extend sends it but without ESYS's work for each command: with
 * the blocking descriptor, an extend took 38 µs of a guest's CPU instead
 * of 58 (docs/performance.md).
 * A TPM that asks for a retry gets the command again, as ESYS does.
 */
int tpm_pcr_extend(struct tpm *tpm, uint32_t pcr, const struct tpm_digest *d, size_t n)
{
	uint8_t cmd[32 + TPM_BANKS_MAX * (2 + HASHALG_MAX_SIZE)], resp[64];
	size_t len, resp_len;
	uint32_t rc = 0;
	int err;

	if (pcr >= TPM_PCR_COUNT || n > TPM_BANKS_MAX)
		return -EINVAL;
	len = put32(cmd, put16(cmd, 0, TPM2_ST_SESSIONS), 0); /* the size, below */
	len = put32(cmd, put32(cmd, len, TPM2_CC_PCR_Extend), pcr);
	/* The authorization area: its size, TPM_RS_PW, no nonce, no attributes, no password. */
	len = put32(cmd, put32(cmd, len, 9), TPM2_RS_PW);
	len = put16(cmd, len, 0);
	cmd[len++] = 0;
	len = put32(cmd, put16(cmd, len, 0), n);
	for (size_t i = 0; i < n; i++) {
		len = put16(cmd, len, d[i].alg->tpm_id);
		memcpy(cmd + len, d[i].value, d[i].alg->size);
		len += d[i].alg->size;
	}
	put32(cmd, 2, len);
	for (int tries = 0; tries < 5; tries++) {
		resp_len = sizeof(resp);
		err = tpm_transmit(tpm, cmd, len, resp, &resp_len);
		if (err)
			return err;
		if (resp_len < 10 || get32(resp + 2) != resp_len) {
			pr_err("TPM2_PCR_Extend: a response of %zu bytes is not one", resp_len);
			return -EIO;
		}
		rc = get32(resp + 6);
		if (rc != TPM2_RC_RETRY && rc != TPM2_RC_YIELDED && rc != TPM2_RC_TESTING)
			break;
	}
	return rc == TPM2_RC_SUCCESS ? 0 : tpm_fail("TPM2_PCR_Extend", rc);
}

int tpm_epoch(struct tpm *tpm, uint32_t *reset_count, uint32_t *restart_count)
{
	TPMS_TIME_INFO *t = NULL;
	TSS2_RC rc;

	rc = Esys_ReadClock(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &t);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_ReadClock", rc);
	*reset_count = t->clockInfo.resetCount;
	*restart_count = t->clockInfo.restartCount;
	free(t);
	return 0;
}

static const TPM2B_PUBLIC srk_template = {
	.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
				    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
				    TPMA_OBJECT_NODA,
		.parameters.eccDetail = {
			.symmetric = { .algorithm = TPM2_ALG_AES,
				       .keyBits.aes = 128,
				       .mode.aes = TPM2_ALG_CFB },
			.scheme.scheme = TPM2_ALG_NULL,
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		},
	},
};

static const TPM2B_PUBLIC ak_template = {
	.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
				    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
				    TPMA_OBJECT_NODA,
		.parameters.eccDetail = {
			.symmetric.algorithm = TPM2_ALG_NULL,
			.scheme = { .scheme = TPM2_ALG_ECDSA,
				    .details.ecdsa.hashAlg = TPM2_ALG_SHA256 },
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		},
	},
};

/*
 * The AK's parent: a storage primary in the endorsement hierarchy, not the
 * owner's, because a TPM obfuscates the reset and restart counts in what
 * keys of the owner hierarchy sign, and a verifier needs them in the clear.
 * A transient object, the same key each time; flush it after use.
 */
static int srk(struct tpm *tpm, ESYS_TR *handle)
{
	const TPM2B_SENSITIVE_CREATE sensitive = {};
	const TPM2B_DATA outside = {};
	const TPML_PCR_SELECTION creation_pcr = {};
	TSS2_RC rc;

	rc = Esys_CreatePrimary(tpm->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sensitive, &srk_template, &outside, &creation_pcr,
				handle, NULL, NULL, NULL, NULL);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("Esys_CreatePrimary", rc);
}

int tpm_ak_create(struct tpm *tpm, struct tpm_ak *ak)
{
	const TPM2B_SENSITIVE_CREATE sensitive = {};
	const TPM2B_DATA outside = {};
	const TPML_PCR_SELECTION creation_pcr = {};
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR parent;
	TSS2_RC rc;
	int err;

	err = srk(tpm, &parent);
	if (err)
		return err;
	rc = Esys_Create(tpm->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			 &sensitive, &ak_template, &outside, &creation_pcr, &priv, &pub, NULL, NULL,
			 NULL);
	Esys_FlushContext(tpm->esys, parent);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_Create", rc);
	ak->pub_len = ak->priv_len = 0;
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, ak->pub, sizeof(ak->pub), &ak->pub_len) ||
	    Tss2_MU_TPM2B_PRIVATE_Marshal(priv, ak->priv, sizeof(ak->priv), &ak->priv_len))
		err = -EOVERFLOW;
	free(pub);
	free(priv);
	return err;
}

static int ak_unmarshal(const struct tpm_ak *ak, TPM2B_PUBLIC *pub, TPM2B_PRIVATE *priv)
{
	size_t off = 0;

	memset(pub, 0, sizeof(*pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(ak->pub, ak->pub_len, &off, pub))
		return -EBADMSG;
	off = 0;
	if (priv && Tss2_MU_TPM2B_PRIVATE_Unmarshal(ak->priv, ak->priv_len, &off, priv))
		return -EBADMSG;
	return 0;
}

int tpm_ak_point(const struct tpm_ak *ak, uint8_t x[32], uint8_t y[32])
{
	TPM2B_PUBLIC pub;
	const TPMS_ECC_POINT *p = &pub.publicArea.unique.ecc;

	if (ak_unmarshal(ak, &pub, NULL) || pub.publicArea.type != TPM2_ALG_ECC ||
	    p->x.size != 32 || p->y.size != 32)
		return -EBADMSG;
	memcpy(x, p->x.buffer, 32);
	memcpy(y, p->y.buffer, 32);
	return 0;
}

int tpm_quote(struct tpm *tpm, const struct tpm_ak *ak, const uint8_t *nonce, size_t nonce_len,
	      uint32_t pcr, const struct hashalg *const *banks, size_t nbanks, struct tpm_quote *q)
{
	const TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPML_PCR_SELECTION sel = { .count = nbanks };
	TPMT_SIGNATURE *sig = NULL;
	TPM2B_ATTEST *quoted = NULL;
	TPM2B_DATA qualifying = { .size = nonce_len };
	TPM2B_PRIVATE priv;
	TPM2B_PUBLIC pub;
	ESYS_TR parent, key;
	TSS2_RC rc;
	int err;

	if (nonce_len > sizeof(qualifying.buffer) || nbanks > TPM2_NUM_PCR_BANKS ||
	    pcr >= TPM_PCR_COUNT)
		return -EINVAL;
	memcpy(qualifying.buffer, nonce, nonce_len);
	for (size_t b = 0; b < nbanks; b++) {
		sel.pcrSelections[b].hash = banks[b]->tpm_id;
		sel.pcrSelections[b].sizeofSelect = 3;
		sel.pcrSelections[b].pcrSelect[pcr / 8] = 1 << (pcr % 8);
	}
	err = ak_unmarshal(ak, &pub, &priv) ?: srk(tpm, &parent);
	if (err)
		return err;
	rc = Esys_Load(tpm->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub,
		       &key);
	Esys_FlushContext(tpm->esys, parent);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_Load", rc);
	rc = Esys_Quote(tpm->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying,
			&scheme, &sel, &quoted, &sig);
	Esys_FlushContext(tpm->esys, key);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_Quote", rc);
	if (quoted->size > sizeof(q->attest) || sig->sigAlg != TPM2_ALG_ECDSA ||
	    sig->signature.ecdsa.signatureR.size > 32 ||
	    sig->signature.ecdsa.signatureS.size > 32) {
		err = -EBADMSG;
	} else {
		const TPMS_SIGNATURE_ECC *e = &sig->signature.ecdsa;

		memcpy(q->attest, quoted->attestationData, quoted->size);
		q->attest_len = quoted->size;
		memset(q->r, 0, 32);
		memset(q->s, 0, 32);
		memcpy(q->r + 32 - e->signatureR.size, e->signatureR.buffer, e->signatureR.size);
		memcpy(q->s + 32 - e->signatureS.size, e->signatureS.buffer, e->signatureS.size);
	}
	free(quoted);
	free(sig);
	return err;
}

int tpm_quote_info(const uint8_t *attest, size_t len, struct tpm_quote_info *qi)
{
	const TPML_PCR_SELECTION *sel;
	TPMS_ATTEST a;
	size_t off = 0;

	memset(qi, 0, sizeof(*qi));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(attest, len, &off, &a) || off != len ||
	    a.magic != TPM2_GENERATED_VALUE || a.type != TPM2_ST_ATTEST_QUOTE ||
	    a.extraData.size > sizeof(qi->extra) ||
	    a.attested.quote.pcrDigest.size > sizeof(qi->pcr_digest))
		return -EBADMSG;
	memcpy(qi->extra, a.extraData.buffer, a.extraData.size);
	qi->extra_len = a.extraData.size;
	qi->reset = a.clockInfo.resetCount;
	qi->restart = a.clockInfo.restartCount;
	qi->clock = a.clockInfo.clock;
	sel = &a.attested.quote.pcrSelect;
	for (UINT32 i = 0; i < sel->count && qi->nbanks < TPM_BANKS_MAX; i++) {
		uint32_t mask = 0;

		for (int b = 0; b < sel->pcrSelections[i].sizeofSelect && b < 3; b++)
			mask |= (uint32_t)sel->pcrSelections[i].pcrSelect[b] << (8 * b);
		if (qi->nbanks && mask != qi->pcr_mask)
			return -EBADMSG; /* bima quotes the same PCRs in every bank */
		qi->pcr_mask = mask;
		qi->bank_alg[qi->nbanks++] = sel->pcrSelections[i].hash;
	}
	memcpy(qi->pcr_digest, a.attested.quote.pcrDigest.buffer, a.attested.quote.pcrDigest.size);
	qi->pcr_digest_len = a.attested.quote.pcrDigest.size;
	return 0;
}
