// SPDX-License-Identifier: GPL-2.0-only
/*
 * What one TPM2_PCR_Extend costs: COUNT extends of a PCR in every bank the
 * TPM has for it, through Esys_PCR_Extend and the TCTI (as bima did
 * before), then through tpm_pcr_extend() (as the daemon does now: for a
 * device, a blocking descriptor of its own), after COUNT extends that warm
 * up the path and are not counted. For each way, an extend's
 * wall time, the process's CPU time, and every CPU's busy time (the sum
 * of /proc/schedstat's rq_cpu_time, "-" without it), which counts the
 * kernel worker that runs a command for the device TCTI too. In a guest
 * under QEMU -icount a nanosecond is an instruction:
 *
 *   tools/vmtest/vmtest.sh --icount .output/bench/extend device:/dev/tpmrm0
 *
 *   extend [--pcr N] [--count N] TCTI      (PCR 16, 400 extends)
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "schedstat.h"
#include "tpm.h"

/* The clocks at a point: wall, the process's CPU, every CPU's busy time (ns). */
struct clocks {
	double wall, cpu, all;
};

static void clocks_now(struct clocks *c)
{
	struct timespec ts;
	struct rusage ru;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	getrusage(RUSAGE_SELF, &ru);
	c->wall = ts.tv_sec * 1e9 + ts.tv_nsec;
	c->cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
		 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
	c->all = all_cpus_ns();
}

static void report(const char *way, unsigned int count, const struct clocks *a,
		   const struct clocks *z)
{
	char all[32] = "-";

	if (a->all)
		snprintf(all, sizeof(all), "%.0f", (z->all - a->all) / count);
	printf("%-40s %10.0f %10.0f %10s\n", way, (z->wall - a->wall) / count,
	       (z->cpu - a->cpu) / count, all);
}

static int esys_way(const char *tcti, uint32_t pcr, const struct tpm_digest *d, size_t n,
		    unsigned int count)
{
	TPML_DIGEST_VALUES digests = { .count = n };
	TSS2_TCTI_CONTEXT *t = NULL;
	ESYS_CONTEXT *e = NULL;
	struct clocks a, z;
	TSS2_RC rc;

	for (size_t i = 0; i < n; i++) {
		digests.digests[i].hashAlg = d[i].alg->tpm_id;
		memcpy(&digests.digests[i].digest, d[i].value, d[i].alg->size);
	}
	rc = Tss2_TctiLdr_Initialize(tcti, &t);
	rc = rc ?: Esys_Initialize(&e, t, NULL);
	clocks_now(&a);
	for (unsigned int i = 0; !rc && i < count; i++)
		rc = Esys_PCR_Extend(e, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				     ESYS_TR_NONE, &digests);
	clocks_now(&z);
	if (!rc)
		report("Esys_PCR_Extend, through the TCTI", count, &a, &z);
	else
		fprintf(stderr, "extend: Esys_PCR_Extend: 0x%x\n", rc);
	Esys_Finalize(&e);
	Tss2_TctiLdr_Finalize(&t);
	return rc ? 1 : 0;
}

/* tpm_pcr_extend() count times; reported unless warm (the first commands cost more). */
static int bima_way(struct tpm *tpm, uint32_t pcr, const struct tpm_digest *d, size_t n,
		    unsigned int count, bool warm)
{
	struct clocks a, z;
	int err = 0;

	clocks_now(&a);
	for (unsigned int i = 0; !err && i < count; i++)
		err = tpm_pcr_extend(tpm, pcr, d, n);
	clocks_now(&z);
	if (!err && !warm)
		report("tpm_pcr_extend(), as the daemon", count, &a, &z);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "pcr", required_argument, NULL, 'p' },
					      { "count", required_argument, NULL, 'n' },
					      {} };
	const struct hashalg *banks[TPM_BANKS_MAX];
	struct tpm_digest d[TPM_BANKS_MAX];
	unsigned int count = 400;
	uint32_t pcr = 16;
	struct tpm *tpm;
	size_t n;
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			pcr = strtoul(optarg, NULL, 0);
		else if (c == 'n')
			count = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (optind != argc - 1 || !count || pcr >= TPM_PCR_COUNT) {
		fprintf(stderr, "usage: extend [--pcr N] [--count N] TCTI\n");
		return 2;
	}
	err = tpm__open(argv[optind], &tpm);
	err = err ?: tpm_banks(tpm, pcr, banks, &n);
	if (err) {
		fprintf(stderr, "extend: %s: cannot open the TPM or read its banks\n",
			argv[optind]);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		d[i].alg = banks[i];
		memset(d[i].value, 0x5a, sizeof(d[i].value));
	}
	printf("%u extends of PCR %u in %zu bank(s) through %s, each way; ns an extend\n", count,
	       pcr, n, argv[optind]);
	printf("%-40s %10s %10s %10s\n", "way", "wall_ns", "cpu_ns", "all_ns");
	err = bima_way(tpm, pcr, d, n, count, true);
	err = err ?: esys_way(argv[optind], pcr, d, n, count);
	err = err ?: bima_way(tpm, pcr, d, n, count, false);
	tpm__free(tpm);
	return err;
}
