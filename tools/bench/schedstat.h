/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every CPU's busy time so far, for the benchmarks that count the kernel
 * work a syscall hands to a worker (a TPM command) as well as their own.
 */
#ifndef BIMA_BENCH_SCHEDSTAT_H
#define BIMA_BENCH_SCHEDSTAT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The sum of /proc/schedstat's rq_cpu_time (ns), 0 where there is none (no CONFIG_SCHEDSTATS). */
static inline uint64_t all_cpus_ns(void)
{
	FILE *f = fopen("/proc/schedstat", "r");
	unsigned long long v[7];
	char line[512];
	uint64_t t = 0;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu", 3) &&
		    sscanf(line, "%*s %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6]) == 7)
			t += v[6];
	if (f)
		fclose(f);
	return t;
}

#endif
