// SPDX-License-Identifier: GPL-2.0-only
/*
 * The only file that speaks tpm2-tss. One wrapper per Esys call; each
 * failure is logged once as "Esys_X(0x...) - decoded" and mapped to -EIO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "msg.h"
#include "tpm.h"

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
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
	free(tpm);
}

int tpm_banks(struct tpm *tpm, uint32_t pcr, const struct hashalg **banks, size_t *n)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TPML_PCR_SELECTION *sel;
	size_t found = 0;
	TSS2_RC rc;

	rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS,
				0, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_GetCapability", rc);
	sel = &cap->data.assignedPCR;
	for (UINT32 i = 0; i < sel->count && found < TPM_BANKS_MAX; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		const struct hashalg *alg = hashalg_by_tpm_id(s->hash);

		if (alg && pcr / 8 < s->sizeofSelect && (s->pcrSelect[pcr / 8] & (1 << (pcr % 8))))
			banks[found++] = alg;
	}
	free(cap);
	*n = found;
	return 0;
}

int tpm_pcr_read(struct tpm *tpm, uint32_t pcr, const struct hashalg *bank, uint8_t *value)
{
	TPML_PCR_SELECTION in = { .count = 1 };
	TPML_PCR_SELECTION *sel_out = NULL;
	TPML_DIGEST *values = NULL;
	UINT32 update_counter;
	TSS2_RC rc;
	int err = 0;

	in.pcrSelections[0].hash = bank->tpm_id;
	in.pcrSelections[0].sizeofSelect = 3;
	in.pcrSelections[0].pcrSelect[pcr / 8] = 1 << (pcr % 8);
	rc = Esys_PCR_Read(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in,
			   &update_counter, &sel_out, &values);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_PCR_Read", rc);
	if (values->count != 1 || values->digests[0].size != bank->size) {
		pr_err("TPM returned no %s value for PCR %u", bank->name, pcr);
		err = -EIO;
	} else {
		memcpy(value, values->digests[0].buffer, bank->size);
	}
	free(sel_out);
	free(values);
	return err;
}

int tpm_pcr_extend(struct tpm *tpm, uint32_t pcr, const struct tpm_digest *d, size_t n)
{
	TPML_DIGEST_VALUES digests = { .count = n };
	TSS2_RC rc;

	if (pcr >= TPM_PCR_COUNT || n > TPM2_NUM_PCR_BANKS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		digests.digests[i].hashAlg = d[i].alg->tpm_id;
		memcpy(&digests.digests[i].digest, d[i].value, d[i].alg->size);
	}
	rc = Esys_PCR_Extend(tpm->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			     ESYS_TR_NONE, &digests);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_PCR_Extend", rc);
	return 0;
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
