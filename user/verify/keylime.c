// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ascii.h"
#include "kernel_ima.h"
#include "keylime.h"
#include "loader.h"
#include "log.h"
#include "tpm.h"

/* The first line of a file, with its newline, into line (size bytes); 0 if none. */
static size_t first_line(const char *path, char *line, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f && fgets(line, size, f))
		n = strlen(line);
	if (f)
		fclose(f);
	return n;
}

/* The link leads to the list of the TPM's epoch; 1 if not. */
static int check_link(const char *link, const char *want, uint32_t reset, uint32_t restart)
{
	char real[PATH_MAX], ours[PATH_MAX];

	if (!realpath(link, real) || access(real, R_OK)) {
		printf("FAIL: %s: %s (is bima running on PCR 10, or with --ascii?)\n", link,
		       strerror(errno));
		return 1;
	}
	if (!realpath(want, ours) || strcmp(real, ours)) {
		printf("FAIL: %s leads to %s, not to the list of the TPM's epoch, %s\n", link, real,
		       want);
		return 1;
	}
	printf("ok: %s is the ASCII list of the TPM's epoch %u-%u (%s)\n", link, reset, restart,
	       want);
	return 0;
}

/* The pinned programs extend PCR 10, the one Keylime reads; 1 if not. */
static int check_pcr(void)
{
	struct bima_config cfg;

	if (loader_pinned_config(&cfg)) {
		printf("FAIL: no bima programs are pinned in %s: start `bima run`\n",
		       LOADER_PIN_DIR);
		return 1;
	}
	if (cfg.pcr != 10) {
		printf("FAIL: bima extends PCR %u; Keylime's verifier reads PCR 10 (bima run --pcr "
		       "10)\n",
		       cfg.pcr);
		return 1;
	}
	printf("ok: bima extends PCR 10\n");
	return 0;
}

/* Kernel IMA holds its boot_aggregate alone, the list's first line; 1 if not. */
static int check_kernel_ima(const char *want)
{
	char ours[1024], theirs[1024];
	uint64_t count;
	int err;

	err = kernel_ima_count(&count);
	if (err) {
		printf("FAIL: the kernel has no IMA (%s): there is no boot_aggregate for the list "
		       "to "
		       "begin with\n",
		       strerror(-err));
		return 1;
	}
	if (count != 1) {
		printf("FAIL: kernel IMA holds %llu entries in PCR 10, not only boot_aggregate: an "
		       "IMA measure policy is loaded, and its entries would be in PCR 10 but not "
		       "in the list\n",
		       (unsigned long long)count);
		return 1;
	}
	if (!first_line(want, ours, sizeof(ours)) ||
	    !first_line(KERNEL_IMA_DIR "/ascii_runtime_measurements", theirs, sizeof(theirs)) ||
	    strcmp(ours, theirs)) {
		printf("FAIL: the list's first line is not the kernel's boot_aggregate line\n");
		return 1;
	}
	printf("ok: kernel IMA adds nothing after its boot_aggregate, which is the list's "
	       "first line, byte for byte\n");
	return 0;
}

/* bima extends every bank of PCR 10 the TPM has; 1 if it has none bima can. */
static int check_banks(const struct hashalg *const *banks, size_t nbanks)
{
	if (!nbanks) {
		printf("FAIL: the TPM has no bank for PCR 10 that bima can extend\n");
		return 1;
	}
	printf("ok: bima extends every bank the TPM has for PCR 10:");
	for (size_t b = 0; b < nbanks; b++)
		printf(" %s", banks[b]->name);
	printf(" (Keylime replays them all)\n");
	return 0;
}

int keylime_check(const char *log_dir, const char *tcti, const char *link)
{
	const struct hashalg *banks[TPM_BANKS_MAX];
	char dir[LOG_PATH_MAX], want[LOG_PATH_MAX + 64];
	struct tpm *tpm = NULL;
	uint32_t reset, restart;
	size_t nbanks;
	int bad = 0, err;

	err = tpm__open(tcti, &tpm);
	err = err ?: tpm_epoch(tpm, &reset, &restart) ?: tpm_banks(tpm, 10, banks, &nbanks);
	tpm__free(tpm);
	if (err || log_epoch_dir(dir, sizeof(dir), log_dir, reset, restart))
		return 2;
	snprintf(want, sizeof(want), "%s/" ASCII_NAME, dir);
	bad += check_link(link, want, reset, restart);
	bad += check_pcr();
	bad += check_kernel_ima(want);
	bad += check_banks(banks, nbanks);
	printf("\nIn the Keylime agent's configuration, [agent] section:\n"
	       "    ima_ml_path = \"%s\"\n"
	       "or in its environment: KEYLIME_AGENT_IMA_ML_PATH=%s\n",
	       link, link);
	return bad ? 1 : 0;
}
